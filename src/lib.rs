//! portal-auth: the account system of a citizen-services portal.
#![forbid(unsafe_code)]

mod clock;
pub mod identity;
mod lang;
pub mod otp;
pub mod password;
pub(crate) mod random;
mod secret;

pub use clock::{Clock, ManualClock, SystemClock};
pub use identity::*;
pub use lang::Lang;
pub use secret::{Answer, LinkToken, OneTimeCode, Password};
