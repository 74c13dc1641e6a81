//! One-time codes: what is sent by SMS, e-mail or post, what an authenticator app
//! shows, and the backup codes a person keeps on paper.
//!
//! Everything here is pure: time comes in as a [`time::OffsetDateTime`], randomness as
//! a `&mut impl rand::CryptoRng`, and nothing is read from a clock, a disk or a network.
//! The caller persists what comes back.
//!
//! # What each code is for
//!
//! - **SMS code** ([`CodePolicy::sms`]): proves a phone number during registration,
//!   login with SMS as second factor, recovery and contact change.
//! - **E-mail link** ([`CodePolicy::email_link`]): a 128-bit token in a link that proves
//!   an e-mail address with one click.
//! - **E-mail code** ([`CodePolicy::email_code`]): the same proof, typed by hand, for a
//!   person reading mail on another device.
//! - **Postal activation code** ([`CodePolicy::postal`]): sent by registered mail to the
//!   address in the person's documents; typing it raises the account to the confirmed
//!   tier.
//! - **TOTP** ([`TotpSecret`], [`verify_totp`]): the second factor from an authenticator
//!   app (RFC 6238).
//! - **Backup codes** ([`BackupCodes`], [`consume_backup_code`]): ten single-use codes
//!   for when the phone or the app is lost.
//!
//! # Defaults
//!
//! | code | looks like | lives | tries |
//! |---|---|---|---|
//! | SMS | 6 digits | 5 minutes | 3, then the code dies |
//! | e-mail link | 22 base64url characters (128 bits) | 1 hour | 1 (single use) |
//! | e-mail code | 6 digits | 15 minutes | 3 |
//! | postal | 10 characters, unambiguous alphabet | 30 days | 3 |
//! | TOTP | 6 digits, SHA1, 30 s steps, 160-bit secret | current step ± 1 | each step once |
//! | backup | 10 × `XXXXX-XXXXX`, unambiguous alphabet | until used or replaced | each once |
//!
//! A resend does not reset the try count: [`issue_keeping_tries`] carries it over.
//!
//! # How codes are kept
//!
//! Codes sent to a person are never stored in plain text. [`issue`] returns the code
//! once, to be put in the message, and a [`StoredCode`] holding its HMAC-SHA256 under
//! the server's [`CodeKey`], bound to a *purpose* (say, the flow id and step) so a code
//! from one flow never works in another. [`StoredCode::verify`] compares digests in
//! constant time, counts tries and makes the code single use. A database leak without
//! the key therefore reveals no live code. TOTP secrets are the exception: they must be
//! kept as they are, and the host should encrypt them at rest.
//!
//! ```
//! use portal_auth::otp::{CodeError, CodeKey, CodePolicy, issue};
//! use time::{Duration, macros::datetime};
//!
//! let key = CodeKey::generate(&mut rand::rng());
//! let noon = datetime!(2025-03-01 12:00 UTC);
//! let issued = issue(&key, &CodePolicy::sms(), b"flow-7/phone", noon, &mut rand::rng());
//! let code = issued.code.expose_secret().to_owned(); // goes into the SMS
//!
//! let mut stored = issued.stored; // goes into the store
//! let late = noon + Duration::minutes(5);
//! assert_eq!(stored.verify(&key, b"flow-7/phone", &code, late), Err(CodeError::Expired));
//! ```
//!
//! The copy of a TOTP secret that `totp-rs` holds while generating or checking a code
//! is wiped when dropped too: the crate is built with `totp-rs`'s `zeroize` feature.

mod alphabet;
mod backup;
mod code;
mod key;
mod totp;

pub use backup::{BackupCodes, consume_backup_code};
pub use code::{
    CodeError, CodeKind, CodePolicy, CodePolicyError, IssuedCode, MAX_DIGITS, MIN_DIGITS,
    POSTAL_CODE_LEN, StoredCode, issue, issue_keeping_tries,
};
pub use key::{CODE_KEY_LEN, CodeDigest, CodeDigestError, CodeKey, CodeKeyError};
pub use totp::{
    OtpauthError, TOTP_SECRET_LEN, TotpError, TotpSecret, TotpSecretError, verify_totp,
};
