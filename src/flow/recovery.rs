//! Access recovery: a person who lost the password gets back in by the strongest
//! route available to them, and an attacker does not.
//!
//! # The paths
//!
//! | start with | then | proof |
//! |---|---|---|
//! | a phone or e-mail (one field) | — | SMS code to the phone, or a link to the e-mail |
//! | SNILS, INN or passport number | choose a confirmed contact, shown masked | SMS code or e-mail link |
//!
//! After the proof, the flow asks what the account's tier demands
//! ([`RecoveryPolicy`]): a document number on file when the person started with a
//! contact and the tier requires one, then the security question where the person set
//! one (an extra step with its own tries, never a replacement for the code), then the
//! new password, typed twice.
//!
//! A recovery flow lives [`PortalConfig::recovery_ttl`](crate::PortalConfig::recovery_ttl)
//! from its start (30 minutes by default), and never less than the code or link it last
//! sent: an e-mail link keeps its flow alive for the whole hour the link lives.
//!
//! # What an outsider learns
//!
//! Nothing about whether an identifier has an account, before the proof:
//!
//! - a contact start always answers "code sent to `<masked input>`"; an unknown
//!   contact never receives it (the sender gets a
//!   [`discard`](crate::notify::MessageSender::discard) call instead of a `send`), and
//!   every code typed is wrong;
//! - a document start always offers delivery channels; for an unknown document they
//!   are plausible masked channels derived from a keyed digest of the document (the
//!   same every time): a phone, an e-mail or both, as a real account may have, and
//!   choosing one sends nothing (again a `discard`). Decoy e-mails use a few common
//!   mail domains, so a real e-mail at an uncommon domain still stands out;
//! - the tier, the security question and whether 2FA is on are revealed only after
//!   the code proved the person holds a confirmed contact of the account.
//!
//! The exception the portal asks for: an account found by document that has no
//! confirmed contact is told to visit a service centre.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::code::{SentCode, counted_try};
use super::{Flow, FlowId, FlowState, Step, event, notify_all};
use crate::account::{Account, CredentialStamp, LookupKey, Tier};
use crate::audit::{AuditKind, RecoveryRoute};
use crate::config::PortalConfig;
use crate::error::Error;
use crate::identity::{DocumentId, Email, Phone};
use crate::lang::Lang;
use crate::notify::{Channel, Decoy, Message, MessageKind, Outgoing, Recipient};
use crate::otp::CodePolicy;
use crate::password::PasswordHash;
use crate::secret::OneTimeCode;
use crate::store::{Changeset, CounterKey};

const STEP: &str = "recovery";

/// What each tier must prove to recover access: the eligibility matrix.
///
/// This is the one table the crate reads; the defaults follow the portal: a simplified
/// account may recover with a confirmed contact alone, standard and confirmed accounts
/// must also give a document number on file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryPolicy {
    /// Tiers whose recovery needs a document number on file besides the contact.
    pub document_required_from: Tier,
    /// Whether a recovery of a confirmed-tier account by document and code turns
    /// two-factor login off (every contact is told). Off by default: the person passes
    /// the second factor, or a backup code, at the next login.
    pub reset_two_factor_for_confirmed_by_document: bool,
    /// Tries for the document number after a contact start (default 3).
    pub document_tries: u8,
    /// Tries for the security answer (default 3).
    pub answer_tries: u8,
}

impl Default for RecoveryPolicy {
    fn default() -> Self {
        Self {
            document_required_from: Tier::Standard,
            reset_two_factor_for_confirmed_by_document: false,
            document_tries: 3,
            answer_tries: 3,
        }
    }
}

impl RecoveryPolicy {
    /// Whether an account of `tier` must give a document number on file.
    pub fn requires_document(&self, tier: Tier) -> bool {
        tier >= self.document_required_from
    }

    /// Whether a recovery of an account of `tier`, started by document (`by_document`)
    /// or by contact, turns two-factor login off when it completes.
    ///
    /// With [`requires_document`](Self::requires_document), this is every rule of
    /// recovery that depends on the tier: the engine reads the tier nowhere else.
    pub fn resets_two_factor(&self, tier: Tier, by_document: bool) -> bool {
        self.reset_two_factor_for_confirmed_by_document && by_document && tier == Tier::Confirmed
    }
}

/// How a recovery starts: the one contact field, or a document number.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RecoveryStart {
    /// A phone or e-mail, typed in the one common field.
    Contact(String),
    /// A SNILS, INN or passport number.
    Document(String),
}

/// A delivery channel offered after a document start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelChoice {
    /// The index to pass to [`Portal::choose_recovery_channel`](crate::Portal::choose_recovery_channel).
    pub index: usize,
    /// SMS or e-mail.
    pub channel: Channel,
    /// The contact, masked (`+7 *** ***-**-89`, `i***@mail.ru`).
    pub masked: String,
}

/// What the person must do next in a recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecoveryStep {
    /// Pick one of these channels.
    ChooseChannel {
        /// The flow.
        flow: FlowId,
        /// The account's confirmed contacts, masked.
        channels: Vec<ChannelChoice>,
    },
    /// A code (SMS) or a link (e-mail) was sent; enter the code or open the link.
    ProofSent {
        /// The flow.
        flow: FlowId,
        /// SMS code or e-mail link.
        channel: Channel,
        /// Where it went, masked.
        sent_to: String,
    },
    /// Give a document number on file (SNILS, INN or passport).
    DocumentRequired {
        /// The flow.
        flow: FlowId,
    },
    /// Answer the security question.
    SecurityQuestion {
        /// The flow.
        flow: FlowId,
        /// The question the person set.
        question: String,
    },
    /// Set the new password, typed twice.
    NewPassword {
        /// The flow.
        flow: FlowId,
    },
    /// The account has no confirmed contact: only a service centre can restore it.
    VisitServiceCentre,
}

impl RecoveryStep {
    /// The flow the next step goes to; none for [`RecoveryStep::VisitServiceCentre`].
    pub fn flow(&self) -> Option<FlowId> {
        match self {
            Self::ChooseChannel { flow, .. }
            | Self::ProofSent { flow, .. }
            | Self::DocumentRequired { flow }
            | Self::SecurityQuestion { flow, .. }
            | Self::NewPassword { flow } => Some(*flow),
            Self::VisitServiceCentre => None,
        }
    }
}

/// The reply to a finished recovery: the password is set; log in with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Whether two-factor login stays on (pass it, or a backup code, at login).
    pub second_factor_kept: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Stage {
    ChooseChannel { channels: Vec<Target> },
    Proof { code: SentCode, target: Target },
    Document { tries_left: u8 },
    Answer { tries_left: u8 },
    Password,
    Over,
}

/// A contact a proof can go to; `None` inside marks a decoy for an unknown identifier.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Target {
    channel: Channel,
    masked: String,
    phone: Option<Phone>,
    email: Option<Email>,
}

impl Target {
    fn recipient(&self) -> Option<Recipient> {
        match (&self.phone, &self.email) {
            (Some(phone), _) => Some(Recipient::Phone(phone.clone())),
            (None, Some(email)) => Some(Recipient::Email(email.clone())),
            (None, None) => None,
        }
    }

    fn phone(phone: &Phone, real: bool) -> Self {
        Self {
            channel: Channel::Sms,
            masked: phone.masked(),
            phone: real.then(|| phone.clone()),
            email: None,
        }
    }

    fn email(email: &Email, real: bool) -> Self {
        Self {
            channel: Channel::Email,
            masked: email.masked(),
            phone: None,
            email: real.then(|| email.clone()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RecoveryState {
    route: RecoveryRoute,
    stage: Stage,
    document_proven: bool,
    answer_proven: bool,
    lang: Lang,
    client: Option<String>,
    /// The account's credential stamp when the recovery started (none for a decoy).
    /// A password, contact or tier change meanwhile ends the recovery: a code proved
    /// by a phone the account has since let go (a recycled number) sets nothing.
    #[serde(default)]
    stamp: Option<CredentialStamp>,
}

/// The parsed start of a recovery.
#[derive(Debug, Clone)]
pub(crate) enum Parsed {
    Phone(Phone),
    Email(Email),
    Document(DocumentId),
}

impl Parsed {
    pub(crate) fn key(&self) -> LookupKey {
        match self {
            Self::Phone(phone) => LookupKey::Phone(phone.clone()),
            Self::Email(email) => LookupKey::Email(email.clone()),
            Self::Document(document) => LookupKey::from(document.clone()),
        }
    }

    /// The rate-limit counter of starts for this identifier, keyed by a digest so the
    /// store keeps no list of probed numbers.
    pub(crate) fn counter(&self, config: &PortalConfig) -> CounterKey {
        let key = self.key();
        let digest = config
            .code_key
            .digest(b"recovery-start", key.value().as_bytes());
        CounterKey::new("recovery:subject", &digest.to_base64url())
    }
}

/// Reads the start field.
pub(crate) fn parse(start: &RecoveryStart) -> Result<Parsed, Error> {
    use crate::error::Field;
    match start {
        RecoveryStart::Contact(text) => {
            let text = text.trim();
            if text.contains('@') {
                text.parse::<Email>()
                    .map(Parsed::Email)
                    .map_err(|e| Error::InvalidField {
                        field: Field::Login,
                        reason: e.to_string(),
                    })
            } else {
                text.parse::<Phone>()
                    .map(Parsed::Phone)
                    .map_err(|e| Error::InvalidField {
                        field: Field::Login,
                        reason: e.to_string(),
                    })
            }
        }
        RecoveryStart::Document(text) => {
            text.parse::<DocumentId>()
                .map(Parsed::Document)
                .map_err(|e| Error::InvalidField {
                    field: Field::Document,
                    reason: e.to_string(),
                })
        }
    }
}

/// Starts a recovery. `account` is the account the identifier finds, if any.
pub(crate) fn start(
    config: &PortalConfig,
    parsed: &Parsed,
    account: Option<&Account>,
    client: Option<String>,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Step<RecoveryStep> {
    let id = FlowId::random(rng);
    let mut changes = Changeset::default();
    let mut outgoing = None;
    let contact = match parsed {
        Parsed::Phone(phone) => Some(Target::phone(phone, account.is_some())),
        Parsed::Email(email) => Some(Target::email(email, account.is_some())),
        Parsed::Document(_) => None,
    };
    let proof_channel = contact.as_ref().map(|target| target.channel);
    let (route, first_stage, reply) = if let Some(target) = contact {
        let (code, proof) = send_proof(config, id, &target, config.lang, now, rng);
        outgoing = Some(proof);
        let reply = RecoveryStep::ProofSent {
            flow: id,
            channel: target.channel,
            sent_to: target.masked.clone(),
        };
        (RecoveryRoute::Contact, Stage::Proof { code, target }, reply)
    } else {
        let channels = match account {
            Some(account) => real_channels(account),
            None => decoy_channels(config, parsed),
        };
        if channels.is_empty() {
            return Step::new(changes, RecoveryStep::VisitServiceCentre);
        }
        let reply = RecoveryStep::ChooseChannel {
            flow: id,
            channels: choices(&channels),
        };
        (
            RecoveryRoute::Document,
            Stage::ChooseChannel { channels },
            reply,
        )
    };
    if let Some(account) = account {
        changes.audit(event(
            now,
            Some(account.id()),
            client.clone(),
            AuditKind::RecoveryStarted { route },
        ));
    }
    let state = RecoveryState {
        route,
        stage: first_stage,
        document_proven: route == RecoveryRoute::Document,
        answer_proven: false,
        lang: config.lang,
        client,
        stamp: account.map(Account::credential_stamp),
    };
    let mut flow = Flow::start(
        id,
        account.map(Account::id),
        now,
        config.recovery_ttl,
        FlowState::Recovery(state),
    );
    if let Some(channel) = proof_channel {
        outlive_proof(&mut flow, config, channel, now);
    }
    changes.insert_flow(flow);
    let step = Step::new(changes, reply);
    match outgoing {
        Some(proof) => step.with_outgoing(proof),
        None => step,
    }
}

/// Keeps the flow alive at least as long as the proof it has just sent.
///
/// A recovery takes `recovery_ttl` (30 minutes by default) but an e-mail link lives an
/// hour: a flow that died first would cut the link short, and a code resent near the
/// end would die with the flow. So the flow lasts until the later of the two.
fn outlive_proof(flow: &mut Flow, config: &PortalConfig, channel: Channel, now: OffsetDateTime) {
    let ttl = proof_policy(config, channel).ttl();
    // Past the end of the calendar the code is issued dead anyway (`otp::issue`).
    if let Some(proof_ends) = now.checked_add(ttl) {
        flow.expires_at = flow.expires_at.max(proof_ends);
    }
}

fn real_channels(account: &Account) -> Vec<Target> {
    let phone = account
        .confirmed_phone()
        .map(|phone| Target::phone(phone, true));
    let email = account
        .confirmed_email()
        .map(|email| Target::email(email, true));
    phone.into_iter().chain(email).collect()
}

/// Plausible channels for a document no account holds, stable for the same document.
///
/// A real account offers a phone, an e-mail or both, so a decoy takes any of the three
/// shapes: were an e-mail alone never a decoy, every account with only an e-mail would
/// be told apart from an unknown document by the shape of the reply.
fn decoy_channels(config: &PortalConfig, parsed: &Parsed) -> Vec<Target> {
    const DOMAINS: [&str; 4] = ["mail.ru", "yandex.ru", "gmail.com", "bk.ru"];
    let digest = config
        .code_key
        .digest(b"recovery-decoy", parsed.key().value().as_bytes());
    // Base64url characters of the digest: letters, digits, `-` and `_`.
    let bytes = digest.to_base64url().into_bytes();
    let byte = |i: usize| bytes.get(i).copied().unwrap_or(b'a');
    let digit = |i: usize| char::from(b'0' + byte(i) % 10);
    let sms = Target {
        channel: Channel::Sms,
        masked: format!("+7 *** ***-**-{}{}", digit(0), digit(1)),
        phone: None,
        email: None,
    };
    // The first character of a local part: a letter mostly, sometimes a digit.
    let first = char::from(byte(2)).to_ascii_lowercase();
    let first = if first.is_ascii_alphanumeric() {
        first
    } else {
        'm'
    };
    let domain = DOMAINS[usize::from(byte(3)) % DOMAINS.len()];
    let email = Target {
        channel: Channel::Email,
        masked: format!("{first}***@{domain}"),
        phone: None,
        email: None,
    };
    match byte(4) % 3 {
        0 => vec![sms],
        1 => vec![email],
        _ => vec![sms, email],
    }
}

fn choices(channels: &[Target]) -> Vec<ChannelChoice> {
    channels
        .iter()
        .enumerate()
        .map(|(index, target)| ChannelChoice {
            index,
            channel: target.channel,
            masked: target.masked.clone(),
        })
        .collect()
}

/// Issues the proof for `target`: an SMS code or an e-mail link. A decoy target gets a
/// code nobody receives.
fn send_proof(
    config: &PortalConfig,
    flow: FlowId,
    target: &Target,
    lang: Lang,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> (SentCode, Outgoing) {
    let policy = proof_policy(config, target.channel);
    let (code, plain) = SentCode::issue(&config.code_key, policy, flow, STEP, now, rng);
    (code, proof_message(config, flow, target, lang, plain))
}

/// The code or link for `target`; for a target nobody stands behind (an unknown
/// identifier's), its stand-in, so both paths call the sender once.
fn proof_message(
    config: &PortalConfig,
    flow: FlowId,
    target: &Target,
    lang: Lang,
    plain: OneTimeCode,
) -> Outgoing {
    let kind = match target.channel {
        Channel::Email => MessageKind::RecoveryLink,
        _ => MessageKind::RecoveryCode,
    };
    let Some(recipient) = target.recipient() else {
        return Outgoing::Decoy(Decoy::new(kind, target.channel));
    };
    let valid = proof_policy(config, target.channel).ttl();
    Outgoing::Message(if kind == MessageKind::RecoveryLink {
        let link = format!(
            "{}?flow={flow}&token={}",
            config.recovery_link_base,
            plain.expose_secret()
        );
        Message::with_link(kind, recipient, lang, plain, &link, valid)
    } else {
        Message::lasting(kind, recipient, lang, plain, valid)
    })
}

fn proof_policy(config: &PortalConfig, channel: Channel) -> &CodePolicy {
    match channel {
        Channel::Email => &config.recovery_link,
        _ => &config.sms_code,
    }
}

fn state_of(flow: &mut Flow, now: OffsetDateTime) -> Result<&mut RecoveryState, Error> {
    flow.ensure_live(now)?;
    match &mut flow.state {
        FlowState::Recovery(state) if matches!(state.stage, Stage::Over) => Err(Error::FlowOver),
        FlowState::Recovery(state) => Ok(state),
        _ => Err(Error::FlowNotFound),
    }
}

/// Picks the delivery channel after a document start.
pub(crate) fn choose_channel(
    config: &PortalConfig,
    mut flow: Flow,
    index: usize,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Result<Step<RecoveryStep>, Error> {
    let id = flow.id;
    let state = state_of(&mut flow, now)?;
    let Stage::ChooseChannel { channels } = &state.stage else {
        return Err(Error::WrongStep);
    };
    let target = channels
        .get(index)
        .cloned()
        .ok_or(Error::NotPossible("no such channel"))?;
    let (code, proof) = send_proof(config, id, &target, state.lang, now, rng);
    let channel = target.channel;
    let reply = RecoveryStep::ProofSent {
        flow: id,
        channel,
        sent_to: target.masked.clone(),
    };
    state.stage = Stage::Proof { code, target };
    outlive_proof(&mut flow, config, channel, now);
    let mut changes = Changeset::default();
    changes.update_flow(flow);
    Ok(Step::new(changes, reply).with_outgoing(proof))
}

/// Sends a fresh proof, after the cooldown; the tries left carry over.
pub(crate) fn resend(
    config: &PortalConfig,
    mut flow: Flow,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Result<Step<RecoveryStep>, Error> {
    let id = flow.id;
    let state = state_of(&mut flow, now)?;
    let lang = state.lang;
    let Stage::Proof { code, target } = &mut state.stage else {
        return Err(Error::WrongStep);
    };
    let plain = code.resend(
        config,
        proof_policy(config, target.channel),
        id,
        STEP,
        now,
        rng,
    )?;
    let proof = proof_message(config, id, target, lang, plain);
    let channel = target.channel;
    let reply = RecoveryStep::ProofSent {
        flow: id,
        channel,
        sent_to: target.masked.clone(),
    };
    outlive_proof(&mut flow, config, channel, now);
    let mut changes = Changeset::default();
    changes.update_flow(flow);
    Ok(Step::new(changes, reply).with_outgoing(proof))
}

/// Checks the SMS code or the link token. A wrong one spends a try; an exhausted code
/// ends the flow.
pub(crate) fn prove(
    config: &PortalConfig,
    mut flow: Flow,
    account: Option<&Account>,
    candidate: &OneTimeCode,
    now: OffsetDateTime,
) -> Result<Step<Result<RecoveryStep, Error>>, Error> {
    let id = flow.id;
    let state = state_of(&mut flow, now)?;
    let Stage::Proof { code, .. } = &mut state.stage else {
        return Err(Error::WrongStep);
    };
    let outcome = match counted_try(code.verify(&config.code_key, id, STEP, candidate, now)) {
        Ok(outcome) => outcome,
        // A code with no try left ends the flow below; any other uncounted refusal
        // leaves the flow as it was read.
        Err(error) if !code.is_spent() => return Err(error),
        Err(error) => Err(error),
    };
    let reply = match (outcome, account) {
        (Ok(()), Some(account)) => Ok(advance(config, state, account, id)),
        // Only a decoy flow can verify without an account, and it never has the code.
        (Ok(()), None) => Err(Error::WrongCode { tries_left: 0 }),
        (Err(error), _) => {
            if code.is_spent() {
                state.stage = Stage::Over;
            }
            Err(error)
        }
    };
    let mut changes = Changeset::default();
    changes.update_flow(flow);
    Ok(Step::new(changes, reply))
}

/// The next stage after a proof, a document or an answer.
fn advance(
    config: &PortalConfig,
    state: &mut RecoveryState,
    account: &Account,
    flow: FlowId,
) -> RecoveryStep {
    if !state.document_proven && config.recovery.requires_document(account.tier()) {
        state.stage = Stage::Document {
            tries_left: config.recovery.document_tries,
        };
        return RecoveryStep::DocumentRequired { flow };
    }
    if let (Some(question), false) = (account.security_question(), state.answer_proven) {
        state.stage = Stage::Answer {
            tries_left: config.recovery.answer_tries,
        };
        return RecoveryStep::SecurityQuestion {
            flow,
            question: question.question.clone(),
        };
    }
    state.stage = Stage::Password;
    RecoveryStep::NewPassword { flow }
}

/// Checks a document number against those on file.
pub(crate) fn give_document(
    config: &PortalConfig,
    mut flow: Flow,
    account: &Account,
    document: &str,
    now: OffsetDateTime,
) -> Result<Step<Result<RecoveryStep, Error>>, Error> {
    let id = flow.id;
    let state = state_of(&mut flow, now)?;
    let Stage::Document { tries_left } = &mut state.stage else {
        return Err(Error::WrongStep);
    };
    let on_file = account.lookup_keys();
    // Documents on file are not secrets the person proves knowledge of in the
    // cryptographic sense (they appear on paper); a plain comparison is enough.
    let matches = document
        .parse::<DocumentId>()
        .is_ok_and(|parsed| on_file.contains(&LookupKey::from(parsed)));
    let reply = if matches {
        state.document_proven = true;
        Ok(advance(config, state, account, id))
    } else {
        *tries_left = tries_left.saturating_sub(1);
        let left = *tries_left;
        if left == 0 {
            state.stage = Stage::Over;
        }
        Err(Error::WrongDocument { tries_left: left })
    };
    let mut changes = Changeset::default();
    changes.update_flow(flow);
    Ok(Step::new(changes, reply))
}

/// The stage the flow waits in for an answer, checked before the answer is hashed.
/// Refuses a document given to a flow that is not waiting for one, before anything
/// about the account is read: a decoy flow and a real one answer alike.
pub(crate) fn expect_document(flow: &mut Flow, now: OffsetDateTime) -> Result<(), Error> {
    let state = state_of(flow, now)?;
    match state.stage {
        Stage::Document { .. } => Ok(()),
        _ => Err(Error::WrongStep),
    }
}

pub(crate) fn expect_answer(flow: &mut Flow, now: OffsetDateTime) -> Result<(), Error> {
    let state = state_of(flow, now)?;
    match state.stage {
        Stage::Answer { .. } => Ok(()),
        _ => Err(Error::WrongStep),
    }
}

/// Records the outcome of the security answer (checked by the portal's hasher).
pub(crate) fn answer(
    config: &PortalConfig,
    mut flow: Flow,
    account: &Account,
    correct: bool,
    now: OffsetDateTime,
) -> Result<Step<Result<RecoveryStep, Error>>, Error> {
    let id = flow.id;
    let state = state_of(&mut flow, now)?;
    let Stage::Answer { tries_left } = &mut state.stage else {
        return Err(Error::WrongStep);
    };
    let reply = if correct {
        state.answer_proven = true;
        Ok(advance(config, state, account, id))
    } else {
        *tries_left = tries_left.saturating_sub(1);
        let left = *tries_left;
        if left == 0 {
            state.stage = Stage::Over;
        }
        Err(Error::WrongAnswer { tries_left: left })
    };
    let mut changes = Changeset::default();
    changes.update_flow(flow);
    Ok(Step::new(changes, reply))
}

/// The flow waits for the new password.
pub(crate) fn expect_password(flow: &mut Flow, now: OffsetDateTime) -> Result<(), Error> {
    let state = state_of(flow, now)?;
    match state.stage {
        Stage::Password => Ok(()),
        _ => Err(Error::WrongStep),
    }
}

/// Sets the new password: the stamp is bumped (every session ends), the lockout is
/// lifted, every confirmed contact is told.
pub(crate) fn complete(
    config: &PortalConfig,
    mut flow: Flow,
    mut account: Account,
    hash: PasswordHash,
    now: OffsetDateTime,
) -> Result<Step<Recovered>, Error> {
    let state = state_of(&mut flow, now)?;
    if !matches!(state.stage, Stage::Password) {
        return Err(Error::WrongStep);
    }
    if state
        .stamp
        .is_some_and(|stamp| stamp != account.credential_stamp())
    {
        return Err(Error::FlowOver);
    }
    let route = state.route;
    let client = state.client.clone();
    account.password_hash = hash;
    account.must_change_password = false;
    account.password_expires_at = None;
    account.bump_stamp();

    let mut messages = notify_all(&account, MessageKind::PasswordChanged, config);
    let reset_two_factor = config
        .recovery
        .resets_two_factor(account.tier(), route == RecoveryRoute::Document)
        && account.two_factor().is_some();
    let mut changes = Changeset::default();
    if reset_two_factor {
        account.two_factor = None;
        messages.extend(notify_all(
            &account,
            MessageKind::SecondFactorDisabled,
            config,
        ));
        changes.audit(event(
            now,
            Some(account.id()),
            client.clone(),
            AuditKind::SecondFactorDisabled,
        ));
    }
    let reply = Recovered {
        second_factor_kept: account.two_factor().is_some(),
    };
    super::login::lift_lock(&mut changes, account.id());
    changes
        .audit(event(
            now,
            Some(account.id()),
            client,
            AuditKind::RecoveryCompleted { route },
        ))
        .update_account(account)
        .delete_flow(&flow);
    Ok(Step::new(changes, reply).with_messages(messages))
}

/// Cancels a recovery; every later step is refused.
pub(crate) fn cancel(mut flow: Flow, now: OffsetDateTime) -> Result<Step<()>, Error> {
    let state = state_of(&mut flow, now)?;
    state.stage = Stage::Over;
    let mut changes = Changeset::default();
    changes.update_flow(flow);
    Ok(Step::new(changes, ()))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::otp::CodeKey;

    #[test]
    fn the_eligibility_matrix_reads_every_tier_from_the_policy() {
        let tiers = [Tier::Simplified, Tier::Standard, Tier::Confirmed];
        let default = RecoveryPolicy::default();
        let documents: Vec<bool> = tiers.map(|t| default.requires_document(t)).to_vec();
        assert_eq!(documents, [false, true, true]);
        for tier in tiers {
            assert!(!default.resets_two_factor(tier, true), "off by default");
        }

        let lenient = RecoveryPolicy {
            document_required_from: Tier::Confirmed,
            reset_two_factor_for_confirmed_by_document: true,
            ..RecoveryPolicy::default()
        };
        let documents: Vec<bool> = tiers.map(|t| lenient.requires_document(t)).to_vec();
        assert_eq!(documents, [false, false, true]);
        let resets: Vec<(bool, bool)> = tiers
            .map(|t| {
                (
                    lenient.resets_two_factor(t, true),
                    lenient.resets_two_factor(t, false),
                )
            })
            .to_vec();
        assert_eq!(resets, [(false, false), (false, false), (true, false)]);
    }

    /// Regression: decoys always offered an SMS channel first, so a document whose
    /// account has only an e-mail answered with a shape no decoy had.
    #[test]
    fn decoy_channels_take_every_shape_a_real_account_has() {
        let config = PortalConfig::new(CodeKey::from_bytes([3; 32]));
        let mut shapes = HashSet::new();
        for number in 1..=300 {
            let document: DocumentId = format!("4506 {number:06}").parse().unwrap();
            let parsed = Parsed::Document(document);
            let decoys = decoy_channels(&config, &parsed);
            let again = choices(&decoy_channels(&config, &parsed));
            assert_eq!(choices(&decoys), again, "stable for one document");
            assert!(
                decoys.iter().all(|t| t.recipient().is_none()),
                "sends nothing"
            );
            for target in &decoys {
                match target.channel {
                    Channel::Sms => assert!(target.masked.starts_with("+7 *** ***-**-")),
                    _ => assert!(target.masked.contains("***@"), "{}", target.masked),
                }
            }
            shapes.insert(decoys.iter().map(|t| t.channel).collect::<Vec<_>>());
        }
        let expected: HashSet<Vec<Channel>> = [
            vec![Channel::Sms],
            vec![Channel::Email],
            vec![Channel::Sms, Channel::Email],
        ]
        .into_iter()
        .collect();
        assert_eq!(shapes, expected);
    }
}
