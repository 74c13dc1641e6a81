//! Operator-assisted recovery: a service-centre employee acts for a person present
//! with passport and SNILS.

use time::OffsetDateTime;

use super::{Step, notify_all};
use crate::account::{Account, AccountId, PersonName, Tier};
use crate::audit::{AuditEvent, AuditKind, CheckedDocument};
use crate::config::PortalConfig;
use crate::error::Error;
use crate::notify::MessageKind;
use crate::operator::{Operator, OperatorPermissions};
use crate::password::PasswordHash;
use crate::secret::Password;
use crate::store::Changeset;

/// An account an operator found for a person present with documents.
///
/// Only [`Portal::operator_open_case`](crate::Portal::operator_open_case) makes one, after
/// the documents were checked and recorded; every operator action takes it, so an
/// action without a document check does not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorCase {
    account: AccountId,
    operator_id: String,
    opened_at: OffsetDateTime,
    /// The person's name, to compare with the passport.
    pub name: PersonName,
    /// The account's tier.
    pub tier: Tier,
    /// The account's confirmed contacts, masked.
    pub contacts: Vec<String>,
}

impl OperatorCase {
    /// The account concerned.
    pub fn account(&self) -> AccountId {
        self.account
    }

    /// When the documents were checked and the case opened.
    pub fn opened_at(&self) -> OffsetDateTime {
        self.opened_at
    }
}

/// A password an operator issued: hand it to the person on paper. It must be replaced
/// at the first login and stops working at `expires_at`.
#[derive(Debug)]
pub struct TemporaryPassword {
    /// The password.
    pub password: Password,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// Refuses an operator without the permission, acting on their own account, or on a
/// case another operator opened.
pub(crate) fn authorize(
    operator: &Operator,
    account: AccountId,
    allowed: impl Fn(&OperatorPermissions) -> bool,
) -> Result<(), Error> {
    if !allowed(&operator.permissions) {
        return Err(Error::OperatorNotAllowed(
            "the operator lacks the permission",
        ));
    }
    if operator.own_account == Some(account) {
        return Err(Error::OperatorNotAllowed(
            "an operator cannot act on their own account",
        ));
    }
    Ok(())
}

/// Checks that a case belongs to this operator.
/// Refuses a case opened by another operator, or opened longer ago than
/// [`PortalConfig::operator_case_ttl`]: the person stands at the desk, and a case kept
/// past their visit is no check of anyone's papers.
pub(crate) fn check_case(
    config: &PortalConfig,
    operator: &Operator,
    case: &OperatorCase,
    now: OffsetDateTime,
) -> Result<(), Error> {
    if case.operator_id != operator.id {
        return Err(Error::OperatorNotAllowed(
            "the case was opened by another operator",
        ));
    }
    if now >= case.opened_at + config.operator_case_ttl {
        return Err(Error::OperatorNotAllowed(
            "the case has expired: check the documents again",
        ));
    }
    Ok(())
}

/// Opens a case after the documents were checked in person.
pub(crate) fn open_case(
    operator: &Operator,
    account: &Account,
    checked: &[CheckedDocument],
    now: OffsetDateTime,
) -> Result<Step<OperatorCase>, Error> {
    authorize(operator, account.id(), |_| true)?;
    if !(checked.contains(&CheckedDocument::Passport) && checked.contains(&CheckedDocument::Snils))
    {
        return Err(Error::OperatorNotAllowed(
            "the person must show both passport and SNILS",
        ));
    }
    let contacts = account
        .confirmed_phone()
        .map(crate::identity::Phone::masked)
        .into_iter()
        .chain(
            account
                .confirmed_email()
                .map(crate::identity::Email::masked),
        )
        .collect();
    let case = OperatorCase {
        account: account.id(),
        operator_id: operator.id.clone(),
        opened_at: now,
        name: account.name().clone(),
        tier: account.tier(),
        contacts,
    };
    let mut changes = Changeset::default();
    changes.audit(operator_event(
        operator,
        account.id(),
        now,
        AuditKind::OperatorDocumentsChecked {
            documents: checked.to_vec(),
        },
    ));
    Ok(Step::new(changes, case))
}

/// A password made for an operator to hand over: twelve characters from an
/// unambiguous mixed-case alphabet in groups of four, so it has every class the portal
/// policy asks for and reads aloud without confusion.
pub(crate) fn generate_temporary_password(rng: &mut impl rand::CryptoRng) -> Password {
    const UPPER: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghjkmnpqrstuvwxyz";
    const DIGITS: &[u8] = b"23456789";
    let pick = |set: &[u8], rng: &mut dyn rand::Rng| {
        // 256 is not a multiple of every set size; reject the tail to keep picks uniform.
        let limit = 256 - 256 % set.len();
        loop {
            let byte = usize::from(rng.next_u32().to_le_bytes()[0]);
            if byte < limit {
                return char::from(set[byte % set.len()]);
            }
        }
    };
    let mut text = String::with_capacity(14);
    for group in 0..3 {
        if group > 0 {
            text.push('-');
        }
        text.push(pick(UPPER, rng));
        text.push(pick(LOWER, rng));
        text.push(pick(DIGITS, rng));
        text.push(pick(LOWER, rng));
    }
    Password::new(text)
}

/// Replaces the password with a temporary one that must be changed at first login.
pub(crate) fn issue_temporary_password(
    config: &PortalConfig,
    operator: &Operator,
    mut account: Account,
    hash: PasswordHash,
    now: OffsetDateTime,
) -> Step<OffsetDateTime> {
    let expires_at = now + config.temporary_password_ttl;
    let messages = notify_all(&account, MessageKind::AccessRestoredByOperator, config);
    account.password_hash = hash;
    account.must_change_password = true;
    account.password_expires_at = Some(expires_at);
    account.bump_stamp();
    let mut changes = Changeset::default();
    super::login::lift_lock(&mut changes, account.id());
    changes
        .audit(operator_event(
            operator,
            account.id(),
            now,
            AuditKind::OperatorTemporaryPassword,
        ))
        .update_account(account);
    Step::new(changes, expires_at).with_messages(messages)
}

/// An audit event of an operator's action.
pub(crate) fn operator_event(
    operator: &Operator,
    account: AccountId,
    at: OffsetDateTime,
    kind: AuditKind,
) -> AuditEvent {
    AuditEvent {
        at,
        account: Some(account),
        client: None,
        operator: Some(operator.audit_ref()),
        kind,
    }
}
