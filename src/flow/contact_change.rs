//! Contact change: a new phone or e-mail, confirmed by a code sent to it.
//!
//! The person (logged in) or a service-centre operator (for a person present with
//! documents) names the new contact; a code goes to the **new** contact; when it is
//! confirmed, the contact replaces the old one, the stamp is bumped, and the old
//! contact and every other confirmed contact are told. The tier never changes.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::code::{SentCode, counted_try};
use super::{Address, Flow, FlowId, FlowState, Step, event};
use crate::account::{Account, Contact, CredentialStamp};
use crate::audit::{AuditKind, OperatorRef};
use crate::config::PortalConfig;
use crate::error::Error;
use crate::notify::{Channel, Message, MessageKind, Recipient};
use crate::secret::OneTimeCode;
use crate::store::Changeset;

const STEP: &str = "contact-change";

/// The reply to a contact change start or resend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactChangeStarted {
    /// The flow to confirm the code in.
    pub flow: FlowId,
    /// Where the code went, masked.
    pub sent_to: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ContactChangeState {
    stamp: CredentialStamp,
    new: Address,
    code: SentCode,
    operator: Option<OperatorRef>,
}

/// Starts a change; the portal has checked that no other account holds `new`.
pub(crate) fn start(
    config: &PortalConfig,
    account: &Account,
    new: Address,
    operator: Option<OperatorRef>,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Result<Step<ContactChangeStarted>, Error> {
    let unchanged = match &new {
        Address::Phone(phone) => account.confirmed_phone() == Some(phone),
        Address::Email(email) => account.confirmed_email() == Some(email),
    };
    if unchanged {
        return Err(Error::NotPossible(
            "this contact is already confirmed on the account",
        ));
    }
    let id = FlowId::random(rng);
    let policy = new.code_policy(config);
    let (code, plain) = SentCode::issue(&config.code_key, policy, id, STEP, now, rng);
    let message = Message::new(
        MessageKind::ContactCode,
        new.recipient(),
        config.lang,
        Some(plain),
    );
    let reply = ContactChangeStarted {
        flow: id,
        sent_to: new.masked(),
    };
    let state = ContactChangeState {
        stamp: account.credential_stamp(),
        new,
        code,
        operator,
    };
    let mut changes = Changeset::default();
    changes.insert_flow(Flow::start(
        id,
        Some(account.id()),
        now,
        config.contact_change_ttl,
        FlowState::ContactChange(state),
    ));
    Ok(Step::new(changes, reply).with_messages(vec![message]))
}

fn state_of<'f>(
    flow: &'f mut Flow,
    account: &Account,
    now: OffsetDateTime,
) -> Result<&'f mut ContactChangeState, Error> {
    flow.ensure_live(now)?;
    if flow.account != Some(account.id()) {
        return Err(Error::FlowNotFound);
    }
    match &mut flow.state {
        FlowState::ContactChange(state) if state.stamp != account.credential_stamp() => {
            Err(Error::FlowOver)
        }
        FlowState::ContactChange(state) if state.code.is_spent() => Err(Error::FlowOver),
        FlowState::ContactChange(state) => Ok(state),
        _ => Err(Error::FlowNotFound),
    }
}

/// Sends a new code to the new contact.
pub(crate) fn resend(
    config: &PortalConfig,
    mut flow: Flow,
    account: &Account,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Result<Step<ContactChangeStarted>, Error> {
    let id = flow.id;
    let state = state_of(&mut flow, account, now)?;
    let policy = state.new.code_policy(config);
    let plain = state.code.resend(config, policy, id, STEP, now, rng)?;
    let message = Message::new(
        MessageKind::ContactCode,
        state.new.recipient(),
        config.lang,
        Some(plain),
    );
    let reply = ContactChangeStarted {
        flow: id,
        sent_to: state.new.masked(),
    };
    let mut changes = Changeset::default();
    changes.update_flow(flow);
    Ok(Step::new(changes, reply).with_messages(vec![message]))
}

/// Checks the code and, when right, puts the new contact on the account.
pub(crate) fn confirm(
    config: &PortalConfig,
    mut flow: Flow,
    mut account: Account,
    code: &OneTimeCode,
    now: OffsetDateTime,
) -> Result<Step<Result<Account, Error>>, Error> {
    let id = flow.id;
    let state = state_of(&mut flow, &account, now)?;
    let mut changes = Changeset::default();
    if let Err(error) = counted_try(state.code.verify(&config.code_key, id, STEP, code, now))? {
        changes.update_flow(flow);
        return Ok(Step::new(changes, Err(error)));
    }

    // Everyone who could read the account's messages before the change hears of it.
    let mut told: Vec<Recipient> = Vec::new();
    told.extend(account.confirmed_phone().cloned().map(Recipient::Phone));
    told.extend(account.confirmed_email().cloned().map(Recipient::Email));
    let channel = match &state.new {
        Address::Phone(phone) => {
            account.phone = Some(Contact {
                value: phone.clone(),
                confirmed: true,
            });
            Channel::Sms
        }
        Address::Email(email) => {
            account.email = Some(Contact {
                value: email.clone(),
                confirmed: true,
            });
            Channel::Email
        }
    };
    account.bump_stamp();
    let new_recipient = state.new.recipient();
    let messages = told
        .into_iter()
        .filter(|recipient| *recipient != new_recipient)
        .map(|recipient| Message::new(MessageKind::ContactChanged, recipient, config.lang, None))
        .collect();
    let mut audit = event(
        now,
        Some(account.id()),
        None,
        AuditKind::ContactChanged { channel },
    );
    audit.operator.clone_from(&state.operator);
    changes
        .audit(audit)
        .update_account(account.clone())
        .delete_flow(&flow);
    Ok(Step::new(changes, Ok(account)).with_messages(messages))
}
