//! The error every [`Portal`](crate::Portal) call can return.
//!
//! Variants are precise so the host can log and decide; some of them must be shown to
//! an anonymous caller as one message, and their docs say which. Messages are short,
//! lowercase and never contain a secret.

use time::Duration;

use crate::account::Tier;
use crate::flow::FlowId;
use crate::notify::SendError;
use crate::password::{HashError, PolicyViolations};
use crate::registry::RegistryError;
use crate::store::StoreError;
use crate::tiers::UpgradePath;

/// A form field a person filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// Surname.
    Surname,
    /// Given name.
    GivenName,
    /// Patronymic.
    Patronymic,
    /// Mobile phone.
    Phone,
    /// E-mail.
    Email,
    /// The one login field.
    Login,
    /// A security question.
    SecurityQuestion,
    /// A security answer.
    SecurityAnswer,
    /// A document number (SNILS, INN or passport).
    Document,
    /// SNILS, as given for document verification.
    Snils,
    /// Passport series and number.
    Passport,
    /// The passport's issue date.
    PassportIssueDate,
    /// The issuing authority's code (`XXX-XXX`).
    IssuingAuthority,
    /// The birth date as on the passport.
    BirthDate,
    /// The birth place as on the passport.
    BirthPlace,
    /// INN.
    Inn,
    /// The postal address an activation code is sent to.
    PostalAddress,
    /// The name or reference of a host's proofing method.
    ProofingMethod,
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Surname => "surname",
            Self::GivenName => "given name",
            Self::Patronymic => "patronymic",
            Self::Phone => "phone",
            Self::Email => "e-mail",
            Self::Login => "login",
            Self::SecurityQuestion => "security question",
            Self::SecurityAnswer => "security answer",
            Self::Document => "document",
            Self::Snils => "snils",
            Self::Passport => "passport",
            Self::PassportIssueDate => "passport issue date",
            Self::IssuingAuthority => "issuing authority code",
            Self::BirthDate => "birth date",
            Self::BirthPlace => "birth place",
            Self::Inn => "inn",
            Self::PostalAddress => "postal address",
            Self::ProofingMethod => "proofing method",
        })
    }
}

/// Why a portal call did not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A field is missing or malformed; nothing was written.
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// Which field.
        field: Field,
        /// What is wrong with it, in English; never the value.
        reason: String,
    },
    /// The new password breaks the policy; every violation is listed. Nothing was
    /// written.
    #[error(transparent)]
    Policy(#[from] PolicyViolations),
    /// The login id or the password is wrong, or no account has that login id.
    ///
    /// The two cases are deliberately one variant: show it as one message.
    #[error("wrong login or password")]
    InvalidCredentials,
    /// A captcha is required for this attempt and was missing or wrong.
    #[error("a human check is required")]
    HumanCheckRequired,
    /// Too many recent failures: retry after the delay.
    #[error("too many attempts; retry in {} s", retry_after.whole_seconds())]
    Throttled {
        /// How long to wait.
        retry_after: Duration,
    },
    /// Login is locked after too many failures; recovering access lifts the lock.
    ///
    /// An unknown login id gets the same reply after as many failures.
    #[error("login locked after too many failed attempts")]
    Locked,
    /// No flow has this id (or it was purged).
    #[error("no such flow")]
    FlowNotFound,
    /// The flow is past its expiry; start again.
    #[error("the flow expired")]
    FlowExpired,
    /// The flow already finished, failed or was cancelled; start again.
    #[error("the flow is over")]
    FlowOver,
    /// The flow is not at the step this call performs.
    #[error("this step is not expected now")]
    WrongStep,
    /// The code is wrong; `tries_left` more attempts remain for it.
    #[error("wrong code; {tries_left} tries left")]
    WrongCode {
        /// Attempts left before the code dies.
        tries_left: u8,
    },
    /// The code has the wrong length or characters; no try was spent.
    #[error("the code is not in the expected format")]
    MalformedCode,
    /// The code expired; ask for a new one.
    #[error("the code expired")]
    CodeExpired,
    /// The code was tried too many times and is dead.
    #[error("no tries left for this code")]
    CodeExhausted,
    /// The document number is not one on file; `tries_left` more attempts remain.
    #[error("the document does not match; {tries_left} tries left")]
    WrongDocument {
        /// Attempts left before the flow ends.
        tries_left: u8,
    },
    /// The security answer is wrong; `tries_left` more attempts remain.
    #[error("wrong answer; {tries_left} tries left")]
    WrongAnswer {
        /// Attempts left before the flow ends.
        tries_left: u8,
    },
    /// A new code was asked for too soon.
    #[error("a new code can be sent in {} s", retry_after.whole_seconds())]
    ResendTooSoon {
        /// How long to wait.
        retry_after: Duration,
    },
    /// The flow already sent as many codes as it may.
    #[error("no more codes can be sent in this flow")]
    ResendLimit,
    /// The TOTP code was already used; wait for the next one.
    #[error("this code was already used")]
    CodeReplayed,
    /// The session's credential stamp is stale (credentials changed since login): the
    /// host must end the session.
    #[error("the session is no longer valid")]
    StaleSession,
    /// The account needs something it does not have for this action (a confirmed
    /// phone, two-factor login on or off, ...).
    #[error("not possible: {0}")]
    NotPossible(&'static str),
    /// The operator may not do this (missing permission, own account, documents not
    /// checked).
    #[error("operator not allowed: {0}")]
    OperatorNotAllowed(&'static str),
    /// The contact or document belongs to another account.
    #[error("already used by another account")]
    Taken,
    /// The change was committed but the message could not be delivered; a resend in
    /// the flow retries it.
    #[error("committed, but the message was not delivered")]
    Delivery {
        /// The flow a resend can be asked for in, when there is one.
        flow: Option<FlowId>,
        /// The gateway's failure.
        #[source]
        source: SendError,
    },
    /// Another request changed the same record at the same time; nothing was
    /// written. Retrying the call is safe.
    #[error("conflicting concurrent request; retry")]
    Conflict,
    /// Password hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// The account's tier is below what the service requires; `upgrade` lists the
    /// steps that would raise it, in order.
    #[error("tier {actual} is below the required {required}")]
    InsufficientTier {
        /// The tier the service requires.
        required: Tier,
        /// The account's tier.
        actual: Tier,
        /// How to get from `actual` to `required`.
        upgrade: Vec<UpgradePath>,
    },
    /// The document registry failed to answer; nothing was written. Retrying later
    /// is safe.
    #[error("document registry failed")]
    Registry(#[source] RegistryError),
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict => Self::Conflict,
            StoreError::Duplicate { .. } => Self::Taken,
            other => Self::Store(other),
        }
    }
}

impl From<crate::otp::CodeError> for Error {
    fn from(error: crate::otp::CodeError) -> Self {
        use crate::otp::CodeError;
        match error {
            CodeError::Wrong { tries_left } => Self::WrongCode { tries_left },
            CodeError::Expired => Self::CodeExpired,
            CodeError::Malformed => Self::MalformedCode,
            _ => Self::CodeExhausted,
        }
    }
}
