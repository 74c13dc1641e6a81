//! The account system of a national citizen-services portal: registration, login by
//! phone, e-mail or SNILS, a strict password policy, access recovery by every route the
//! portal knows, identity tiers, and two-factor login.
//!
//! # How it fits together
//!
//! A [`Portal`] is an async service over four things the host chooses: a [`Store`]
//! (accounts, flows, counters, audit events), a [`MessageSender`] (SMS, e-mail, post),
//! a [`HumanCheck`] (captcha) and a [`Clock`]. Every call **loads** what it needs,
//! **decides** with a pure engine ([`flow`]: no I/O, no clock, no randomness of its
//! own), **applies** everything it changed in one atomic [`Store::apply`], then
//! **sends** the messages and **replies**. Sessions stay with the host: a login returns
//! an [`Authenticated`] value carrying the account's [`CredentialStamp`]; every change
//! of credentials, contacts or tier bumps the stamp, and the host drops sessions whose
//! stamp is stale.
//!
//! ```
//! use portal_auth::notify::{Recipient, RecordingSender};
//! use portal_auth::otp::CodeKey;
//! use portal_auth::password::HasherConfig;
//! use portal_auth::{
//!     AlwaysPass, LoginOutcome, LoginRequest, ManualClock, MemoryStore, Password, Portal,
//!     PortalConfig, RegistrationRequest, Tier,
//! };
//! use time::macros::datetime;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut config = PortalConfig::new(CodeKey::from_bytes([7; 32]));
//! config.hasher = HasherConfig::danger_fast_insecure(); // a doctest; keep the default
//! let sms = RecordingSender::new();
//! let clock = ManualClock::new(datetime!(2026-06-01 09:00 UTC));
//! let portal = Portal::new(config, MemoryStore::new(), sms.clone(), AlwaysPass, clock)?;
//!
//! // Register: name and phone, the code from the SMS, a password typed twice.
//! let form = RegistrationRequest {
//!     surname: "Петрова".into(),
//!     given_name: "Анна".into(),
//!     phone: Some("8 (912) 345-67-89".into()),
//!     ..RegistrationRequest::default()
//! };
//! let started = portal.start_registration(&form).await?;
//! let phone = Recipient::Phone("+79123456789".parse()?);
//! let code = sms.last_to(&phone).and_then(|m| m.code().cloned()).expect("an SMS");
//! portal.confirm_registration(started.flow, &code).await?;
//! let password = Password::new("Zvezda-Severa-2026!");
//! let registered = portal.complete_registration(started.flow, &password, &password).await?;
//! assert_eq!(registered.tier, Tier::Simplified);
//!
//! // Log in with the same number typed another way.
//! let login = LoginRequest {
//!     login: "+7 912 345-67-89".into(),
//!     password,
//!     client: Some("203.0.113.7".into()),
//!     captcha: None,
//! };
//! let LoginOutcome::Authenticated(session) = portal.login(&login).await? else {
//!     unreachable!("two-factor login is off")
//! };
//! assert_eq!(session.account, registered.account);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Where to look
//!
//! | you want | see |
//! |---|---|
//! | the identifiers people type | [`identity`]: [`Phone`], [`Email`], [`Snils`], [`Inn`], [`Passport`], [`LoginId`] |
//! | the password rules and hashing | [`password`]: [`PasswordPolicy`](password::PasswordPolicy), [`PasswordHasher`](password::PasswordHasher) |
//! | one-time codes, TOTP, backup codes | [`otp`] |
//! | every flow's rules | [`flow`], and [`flow::recovery`] for recovery's paths and what an outsider learns |
//! | the tier ladder and how each step is climbed | [`tiers`], with [`registry`] for document verification |
//! | thresholds for captcha, delay and lockout | [`throttle`] |
//! | persistence, its contract and the stores shipped | [`store`] |
//! | messages and their templates | [`notify`] |
//! | what is recorded | [`audit`] |
//!
//! # Security promises
//!
//! - Secrets ([`Password`], [`OneTimeCode`], [`LinkToken`], [`Answer`], keys, TOTP
//!   secrets) have a redacted `Debug`, no `Display`, are zeroized on drop, and never
//!   appear in errors, audit events or logs; `expose_secret` is the one way to read one.
//! - Codes are stored as HMAC-SHA256 digests under a server key and compared in
//!   constant time; randomness comes from the operating system.
//! - Login, registration and recovery answer the same for unknown identifiers.
//! - Logs (feature `tracing`) carry kinds and ids, never a secret or a message body.
//!
//! # Feature flags
//!
//! - `tracing` (default): structured logs through `tracing`.
//! - `sqlite` (default): [`store::SqliteStore`], the embedded store: one database
//!   file per host, WAL journaling, one durable commit per step.
//! - `postgres`: [`store::PostgresStore`], for several app instances sharing one
//!   `PostgreSQL` database.
//! - `testkit`: [`store::testkit`], the conformance suite every store passes; run it
//!   on a store of your own.
#![forbid(unsafe_code)]
// Library code never unwraps: a panic on input is a bug. Tests may.
#![warn(clippy::unwrap_used, clippy::expect_used)]

mod account;
pub mod audit;
mod clock;
mod config;
mod error;
pub mod flow;
mod human;
pub mod identity;
mod ids;
mod lang;
pub(crate) mod log;
pub mod notify;
mod operator;
pub mod otp;
pub mod password;
mod portal;
pub(crate) mod random;
pub mod registry;
mod secret;
pub mod store;
pub mod throttle;
pub mod tiers;

pub use account::{
    Account, AccountId, Contact, CredentialStamp, Documents, LookupKey, PersonName,
    SecondFactorKind, SecondFactorMethod, SecurityQuestion, Tier, TwoFactor,
};
pub use audit::TierChangeReason;
pub use audit::{AuditEvent, AuditKind};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::PortalConfig;
pub use error::{Error, Field};
pub use flow::contact_change::ContactChangeStarted;
pub use flow::login::{Authenticated, LoginOutcome, LoginRequest, SecondFactorChallenge};
pub use flow::operator::{OperatorCase, TemporaryPassword};
pub use flow::recovery::{ChannelChoice, Recovered, RecoveryPolicy, RecoveryStart, RecoveryStep};
pub use flow::registration::{Registered, RegistrationRequest, RegistrationStarted};
pub use flow::settings::{BackupCodesIssued, SecondFactorProof, TotpEnrolment};
pub use flow::{FlowId, FlowKind};
pub use human::{AlwaysFail, AlwaysPass, HumanCheck};
pub use identity::*;
pub use ids::IdParseError;
pub use lang::Lang;
pub use notify::{Message, MessageSender};
pub use operator::{Operator, OperatorPermissions};
pub use portal::{Portal, RecoveryRequest};
pub use registry::{DocumentRegistry, FakeRegistry, RegistryAnswer, RegistryError, RegistryTicket};
pub use secret::{Answer, LinkToken, OneTimeCode, Password};
pub use store::{MemoryStore, Store};
pub use tiers::{
    AuthorityCode, DocumentRequest, DocumentSubmission, PollReport, ProofingMethod, UpgradePath,
    VerificationReply, VerificationStatus,
};

/// The README's examples, compiled as doctests so that they cannot go stale.
#[cfg(all(doctest, feature = "sqlite", feature = "postgres"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
