//! portal-auth: the account system of a citizen-services portal.
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
pub use flow::login::{Authenticated, LoginOutcome, LoginRequest, SecondFactorChallenge};
pub use flow::registration::{Registered, RegistrationRequest, RegistrationStarted};
pub use flow::settings::{BackupCodesIssued, SecondFactorProof, TotpEnrolment};
pub use flow::{FlowId, FlowKind};
pub use human::{AlwaysFail, AlwaysPass, HumanCheck};
pub use identity::*;
pub use ids::IdParseError;
pub use lang::Lang;
pub use notify::{Message, MessageSender};
pub use operator::{Operator, OperatorPermissions};
pub use portal::Portal;
pub use registry::{DocumentRegistry, FakeRegistry, RegistryAnswer, RegistryError, RegistryTicket};
pub use secret::{Answer, LinkToken, OneTimeCode, Password};
pub use store::{MemoryStore, Store};
pub use tiers::{
    AuthorityCode, DocumentRequest, DocumentSubmission, PollReport, ProofingMethod, UpgradePath,
    VerificationReply, VerificationStatus,
};
