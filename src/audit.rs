//! The audit trail: every security-relevant fact, committed with the state it
//! describes.
//!
//! An [`AuditEvent`] is written in the same [`Changeset`](crate::store::Changeset) as the
//! change it records, so the log and the accounts can never disagree. Events carry
//! kinds, identifiers and reasons, never a secret: no password, code, token, answer or
//! hash appears in one.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::account::{AccountId, SecondFactorKind, Tier};

/// One security-relevant fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The account concerned, when one is known. Events about unknown identifiers
    /// carry none, so the log does not become a list of probed numbers.
    pub account: Option<AccountId>,
    /// The host's client key (an IP address or device key), when it passed one.
    pub client: Option<String>,
    /// The service-centre operator who acted, for operator actions.
    pub operator: Option<OperatorRef>,
    /// What happened.
    pub kind: AuditKind,
}

/// The operator behind an audited action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorRef {
    /// The operator's identifier in the host's staff directory.
    pub operator_id: String,
    /// The service centre they work at.
    pub centre_id: String,
}

/// Why a login attempt failed.
///
/// An attempt refused by the growing delay or by a lock is not among them: it is
/// refused before anything is read or verified and writes nothing, not even an event,
/// so a flood against a locked account costs the store nothing. The lock itself is
/// audited once, as [`AuditKind::LockedOut`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LoginFailure {
    /// No account has this login id (recorded without an account id).
    UnknownAccount,
    /// The password did not match.
    WrongPassword,
    /// A captcha was required and missing or wrong.
    HumanCheckFailed,
    /// The second-factor code was wrong.
    WrongSecondFactor,
    /// The second-factor code was a TOTP step already used.
    ReplayedSecondFactor,
    /// The password was right but was a temporary one past its expiry.
    PasswordExpired,
}

/// How a recovery started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecoveryRoute {
    /// With a phone or e-mail.
    Contact,
    /// With a SNILS, INN or passport number.
    Document,
}

/// What an audit event records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditKind {
    /// A registration finished and the account exists.
    Registered,
    /// Someone tried to register a contact already confirmed on this account.
    RegistrationAttemptOnTakenContact,
    /// A login succeeded.
    LoginSucceeded {
        /// Whether a second factor was passed.
        second_factor: bool,
    },
    /// A login attempt failed.
    LoginFailed {
        /// Why.
        reason: LoginFailure,
    },
    /// The account reached the failure limit and is locked.
    LockedOut,
    /// The stored password hash was upgraded to the configured parameters.
    PasswordRehashed,
    /// Two-factor login was turned on or its method changed.
    SecondFactorEnabled {
        /// The method now in use.
        method: SecondFactorKind,
    },
    /// Two-factor login was turned off.
    SecondFactorDisabled,
    /// A backup code was used (and is now spent).
    BackupCodeUsed {
        /// How many backup codes remain.
        remaining: usize,
    },
    /// The password was changed by its owner.
    PasswordChanged,
    /// A security question was set or changed.
    SecurityQuestionSet,
    /// A recovery started for this account (unknown identifiers are not recorded).
    RecoveryStarted {
        /// How it started.
        route: RecoveryRoute,
    },
    /// A recovery set a new password.
    RecoveryCompleted {
        /// How it started.
        route: RecoveryRoute,
    },
    /// A confirmed contact was replaced or confirmed (by an operator when the event
    /// names one).
    ContactChanged {
        /// `phone` or `email`.
        channel: crate::notify::Channel,
    },
    /// A service-centre operator checked the person's documents.
    OperatorDocumentsChecked {
        /// Which documents were shown.
        documents: Vec<CheckedDocument>,
    },
    /// A service-centre operator issued a temporary password.
    OperatorTemporaryPassword,
    /// SNILS and passport details were submitted for verification.
    DocumentsSubmitted,
    /// The registry has not answered yet; the verification waits for a poll.
    DocumentsPending,
    /// The registry rejected the submitted documents.
    DocumentsRejected {
        /// The registry's reason.
        reason: String,
    },
    /// The account's tier changed.
    TierChanged {
        /// The tier before.
        from: Tier,
        /// The tier after.
        to: Tier,
        /// Why.
        reason: TierChangeReason,
    },
    /// A postal activation code was generated and handed to the postal sender.
    ActivationCodeSent,
    /// A wrong postal activation code was entered.
    ActivationCodeRejected,
}

/// A document an operator checked in person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckedDocument {
    /// The passport.
    Passport,
    /// The SNILS card or notice.
    Snils,
}

/// Why an account's tier changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TierChangeReason {
    /// The registry verified SNILS and passport.
    DocumentsVerified,
    /// A document different from the verified one was submitted; the account waits
    /// for re-verification.
    DocumentsChanged,
    /// An operator checked the passport in person (the event names the operator).
    InPerson,
    /// The postal activation code was entered.
    PostalCode,
    /// A proofing method of the host (a bank, a qualified e-signature).
    Method {
        /// The method's name.
        name: String,
        /// The host's reference for this proofing (a transaction or certificate id).
        reference: String,
    },
}
