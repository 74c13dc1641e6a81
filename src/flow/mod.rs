//! Flows: the multi-step interactions, each a state machine with an id, an expiry and
//! attempt counters.
//!
//! The step functions in the submodules are the engine: pure functions of the stored
//! state, the input, the current time and random bytes. They return a step: the
//! changes to commit, the messages to send after the commit, and the reply. They never
//! touch a store, a sender or a clock; the [`Portal`](crate::Portal) does that.

pub(crate) mod code;
pub mod contact_change;
pub(crate) mod login;
pub mod operator;
pub mod recovery;
pub(crate) mod registration;
pub(crate) mod settings;
pub(crate) mod tiers;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::account::{Account, AccountId, LookupKey};
use crate::audit::{AuditEvent, AuditKind};
use crate::config::PortalConfig;
use crate::error::{Error, Field};
use crate::identity::{Email, Phone};
use crate::ids::random_id;
use crate::notify::{Decoy, Message, MessageKind, Outgoing, Recipient};
use crate::otp::CodePolicy;
use crate::store::Changeset;

random_id! {
    /// The identifier of one flow; hosts carry it between the steps (a hidden form
    /// field, a URL).
    FlowId, "flow"
}

/// One multi-step interaction in progress.
///
/// Stores persist it whole (it is `Serialize`); its state is the engine's business.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flow {
    pub(crate) id: FlowId,
    pub(crate) version: u64,
    pub(crate) account: Option<AccountId>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) expires_at: OffsetDateTime,
    pub(crate) state: FlowState,
}

impl Flow {
    /// A new flow, live from `now` for `ttl`.
    pub(crate) fn start(
        id: FlowId,
        account: Option<AccountId>,
        now: OffsetDateTime,
        ttl: time::Duration,
        state: FlowState,
    ) -> Self {
        Self {
            id,
            version: 0,
            account,
            created_at: now,
            expires_at: now + ttl,
            state,
        }
    }

    /// The flow's identifier.
    pub fn id(&self) -> FlowId {
        self.id
    }

    /// The optimistic-concurrency version the store last wrote.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Sets the version; for stores reading a flow back.
    pub fn set_version(&mut self, version: u64) {
        self.version = version;
    }

    /// The account the flow acts on, once known.
    pub fn account(&self) -> Option<AccountId> {
        self.account
    }

    /// When the flow started.
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// When the flow stops accepting steps.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// Refuses a step on a flow past its expiry: a flow is live strictly before
    /// `expires_at`.
    pub(crate) fn ensure_live(&self, now: OffsetDateTime) -> Result<(), Error> {
        if now >= self.expires_at {
            return Err(Error::FlowExpired);
        }
        Ok(())
    }

    /// What kind of interaction this is.
    pub fn kind(&self) -> FlowKind {
        match &self.state {
            FlowState::Registration(_) => FlowKind::Registration,
            FlowState::SecondFactorLogin(_) => FlowKind::SecondFactorLogin,
            FlowState::TotpEnrolment(_) => FlowKind::TotpEnrolment,
            FlowState::SettingsCode(_) => FlowKind::SettingsCode,
            FlowState::Recovery(_) => FlowKind::Recovery,
            FlowState::ContactChange(_) => FlowKind::ContactChange,
            FlowState::DocumentVerification(_) => FlowKind::DocumentVerification,
            FlowState::ActivationCode(_) => FlowKind::ActivationCode,
        }
    }
}

/// The kinds of flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FlowKind {
    /// Registration of a new account.
    Registration,
    /// The second step of a login with two-factor login on.
    SecondFactorLogin,
    /// Enrolment of an authenticator app.
    TotpEnrolment,
    /// An SMS code proving the second factor for a settings change.
    SettingsCode,
    /// Access recovery.
    Recovery,
    /// Replacement or confirmation of a phone or e-mail (by the person or an operator).
    ContactChange,
    /// SNILS and passport details awaiting the registry, or rejected by it.
    DocumentVerification,
    /// A postal activation code awaiting entry.
    ActivationCode,
}

impl FlowKind {
    /// A short lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::SecondFactorLogin => "second_factor_login",
            Self::TotpEnrolment => "totp_enrolment",
            Self::SettingsCode => "settings_code",
            Self::Recovery => "recovery",
            Self::ContactChange => "contact_change",
            Self::DocumentVerification => "document_verification",
            Self::ActivationCode => "activation_code",
        }
    }
}

/// A phone or e-mail: where a code can go, and what finds an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Address {
    Phone(Phone),
    Email(Email),
}

impl Address {
    /// Reads a phone or an e-mail from one field.
    pub(crate) fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        if text.contains('@') {
            text.parse()
                .map(Self::Email)
                .map_err(|e: crate::identity::EmailError| Error::InvalidField {
                    field: Field::Email,
                    reason: e.to_string(),
                })
        } else {
            text.parse()
                .map(Self::Phone)
                .map_err(|e: crate::identity::PhoneError| Error::InvalidField {
                    field: Field::Phone,
                    reason: e.to_string(),
                })
        }
    }

    pub(crate) fn key(&self) -> LookupKey {
        match self {
            Self::Phone(phone) => LookupKey::Phone(phone.clone()),
            Self::Email(email) => LookupKey::Email(email.clone()),
        }
    }

    pub(crate) fn recipient(&self) -> Recipient {
        match self {
            Self::Phone(phone) => Recipient::Phone(phone.clone()),
            Self::Email(email) => Recipient::Email(email.clone()),
        }
    }

    pub(crate) fn masked(&self) -> String {
        match self {
            Self::Phone(phone) => phone.masked(),
            Self::Email(email) => email.masked(),
        }
    }

    /// The code policy of the channel that reaches this address.
    pub(crate) fn code_policy<'c>(&self, config: &'c PortalConfig) -> &'c CodePolicy {
        match self {
            Self::Phone(_) => &config.sms_code,
            Self::Email(_) => &config.email_code,
        }
    }
}

/// The engine's state of a flow.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum FlowState {
    Registration(registration::RegistrationState),
    SecondFactorLogin(login::SecondFactorState),
    TotpEnrolment(settings::TotpEnrolmentState),
    SettingsCode(settings::SettingsCodeState),
    Recovery(recovery::RecoveryState),
    ContactChange(contact_change::ContactChangeState),
    DocumentVerification(tiers::VerificationState),
    ActivationCode(tiers::ActivationState),
}

/// What one engine step decided.
#[derive(Debug)]
pub(crate) struct Step<R> {
    pub(crate) changes: Changeset,
    pub(crate) messages: Vec<Message>,
    /// Stand-ins for the codes an unknown identifier would have been sent.
    pub(crate) decoys: Vec<Decoy>,
    pub(crate) reply: R,
}

impl<R> Step<R> {
    pub(crate) fn new(changes: Changeset, reply: R) -> Self {
        Self {
            changes,
            messages: Vec::new(),
            decoys: Vec::new(),
            reply,
        }
    }

    pub(crate) fn with_messages(mut self, messages: Vec<Message>) -> Self {
        self.messages = messages;
        self
    }

    /// Adds a code message, or its stand-in when nobody receives it.
    pub(crate) fn with_outgoing(mut self, outgoing: Outgoing) -> Self {
        match outgoing {
            Outgoing::Message(message) => self.messages.push(message),
            Outgoing::Decoy(decoy) => self.decoys.push(decoy),
        }
        self
    }

    /// The same messages and stand-ins with another reply.
    pub(crate) fn map_reply<T>(self, f: impl FnOnce(R) -> T) -> Step<T> {
        Step {
            changes: self.changes,
            messages: self.messages,
            decoys: self.decoys,
            reply: f(self.reply),
        }
    }
}

/// A notice of `kind` to every confirmed contact of the account.
pub(crate) fn notify_all(
    account: &Account,
    kind: MessageKind,
    config: &PortalConfig,
) -> Vec<Message> {
    let phone = account.confirmed_phone().cloned().map(Recipient::Phone);
    let email = account.confirmed_email().cloned().map(Recipient::Email);
    phone
        .into_iter()
        .chain(email)
        .map(|recipient| Message::new(kind, recipient, config.lang, None))
        .collect()
}

/// An audit event without an operator.
pub(crate) fn event(
    at: OffsetDateTime,
    account: Option<AccountId>,
    client: Option<String>,
    kind: AuditKind,
) -> AuditEvent {
    AuditEvent {
        at,
        account,
        client,
        operator: None,
        kind,
    }
}
