//! Passwords: the policy a new password must meet, and Argon2id hashing.
//!
//! # Policy
//!
//! A [`PasswordPolicy`] is plain data: lengths, required character classes and switches
//! for the blocklist, personal data, keyboard runs and repeated characters.
//! [`PasswordPolicy::check`] reports **every** rule a password breaks at once, so a form
//! can show them all; each [`Violation`] has a message in Russian and English.
//!
//! Three presets ship:
//!
//! | preset | length | composition | blocklist, personal data, runs, repeats |
//! |---|---|---|---|
//! | [`PasswordPolicy::portal`] (the default) | 8–128 | capital and small Latin letter, digit, punctuation | yes |
//! | [`PasswordPolicy::nist`] | 15–128 | none | yes |
//! | [`PasswordPolicy::nist_with_second_factor`] | 8–128 | none | yes |
//!
//! The portal preset is the portal's historical rule, hardened with the checks NIST SP
//! 800-63B requires. The NIST presets follow SP 800-63B-4: length over composition, a
//! 15-character minimum for a password used alone and 8 when a second factor follows.
//!
//! Passwords are NFKC-[`normalize`]d before they are checked or hashed, and never
//! truncated; lengths count Unicode code points, and a maximum never refuses a
//! 64-character passphrase.
//!
//! # Hashing
//!
//! [`PasswordHasher`] computes Argon2id (m=19456 KiB, t=2, p=1 by default; 16-byte salt,
//! 32-byte output) and stores the result as a PHC string ([`PasswordHash`]). It keeps a
//! bounded pool: at most `permits` hashes run at once (one per core by default), each in
//! a memory block reused from earlier hashes and wiped after each use, so peak memory is
//! `permits × m` however many logins arrive, and no time goes to faulting in fresh
//! pages. Stored hashes with parameters above a ceiling are refused before anything is
//! allocated. [`PasswordHasher::verify_dummy`] spends one verification on an unknown
//! account, so it costs as much as a wrong password.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use portal_auth::Password;
//! use portal_auth::password::{HasherConfig, PasswordHasher};
//!
//! // Weak parameters keep the example fast; production uses `HasherConfig::new()`.
//! let hasher = PasswordHasher::new(HasherConfig::danger_fast_insecure())?;
//! let hash = hasher.hash(&Password::new("Ледокол-7z!Q")).await?;
//! let verification = hasher.verify(&Password::new("Ледокол-7z!Q"), &hash).await?;
//! assert!(verification.matches && !verification.needs_rehash);
//! # Ok::<(), portal_auth::password::HashError>(())
//! # }).unwrap();
//! ```

mod blocklist;
mod hasher;
mod normalize;
mod personal;
mod policy;

pub use hasher::{HashError, HashParams, HasherConfig, PasswordHash, PasswordHasher, Verification};
pub use normalize::{MAX_PASSWORD_BYTES, normalize};
pub use personal::{PersonalData, PersonalDataKind};
pub use policy::{CharClass, MIN_ACCEPTED_MAX_LENGTH, PasswordPolicy, PolicyViolations, Violation};
