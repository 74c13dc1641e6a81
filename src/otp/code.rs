//! One-time codes sent by SMS, e-mail or post: issue, store as a digest, verify.

use std::fmt;

use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use super::alphabet;
use super::key::{CodeDigest, CodeKey};
use crate::OneTimeCode;

/// Length of a postal activation code.
pub const POSTAL_CODE_LEN: usize = 10;

/// The fewest digits a numeric code may have.
pub const MIN_DIGITS: u8 = 4;

/// The most digits a numeric code may have.
pub const MAX_DIGITS: u8 = 10;

/// What a code looks like, which also says how a typed candidate is read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CodeKind {
    /// Decimal digits, leading zeros kept (`"042917"`). Typed candidates may contain
    /// spaces (`"042 917"`).
    Numeric {
        /// How many digits, 4 to 10.
        digits: u8,
    },
    /// 128 random bits as 22 base64url characters, carried in an e-mail link.
    LinkToken,
    /// Ten characters of an unambiguous alphabet (uppercase Latin and digits without
    /// 0/O, 1/I/L, U), printed in a registered letter. Typed candidates may be lowercase,
    /// contain spaces or dashes, or use Cyrillic look-alike letters.
    Postal,
}

impl CodeKind {
    /// A fresh random code of this kind.
    fn draw(self, rng: &mut impl CryptoRng) -> Zeroizing<String> {
        match self {
            Self::Numeric { digits } => alphabet::numeric(digits, rng),
            Self::LinkToken => alphabet::link_token(rng),
            Self::Postal => alphabet::draw(alphabet::UNAMBIGUOUS, POSTAL_CODE_LEN, rng),
        }
    }

    /// A typed candidate in the canonical form codes are digested in, or `None` if it
    /// cannot be a code of this kind.
    fn read(self, candidate: &str) -> Option<Zeroizing<String>> {
        match self {
            // A digit count outside the policy range can only come from a tampered
            // or corrupt store: nothing reads as such a code.
            Self::Numeric { digits } if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits) => None,
            Self::Numeric { digits } => alphabet::read_numeric(candidate, digits),
            Self::LinkToken => alphabet::read_link_token(candidate),
            Self::Postal => alphabet::read_unambiguous(candidate, POSTAL_CODE_LEN),
        }
    }
}

/// How codes of one use are made: their kind, lifetime and number of tries.
///
/// The presets follow the portal's rules; [`CodePolicy::new`] builds any other policy
/// and refuses the ones that would be unsafe (too few digits, no tries, no lifetime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodePolicy {
    kind: CodeKind,
    ttl: Duration,
    max_tries: u8,
}

impl CodePolicy {
    /// A policy of one's own.
    ///
    /// # Errors
    ///
    /// - [`CodePolicyError::DigitsOutOfRange`] if a numeric code has fewer than 4 or
    ///   more than 10 digits;
    /// - [`CodePolicyError::TtlNotPositive`] if `ttl` is zero or negative;
    /// - [`CodePolicyError::NoTries`] if `max_tries` is zero.
    pub fn new(kind: CodeKind, ttl: Duration, max_tries: u8) -> Result<Self, CodePolicyError> {
        if let CodeKind::Numeric { digits } = kind
            && !(MIN_DIGITS..=MAX_DIGITS).contains(&digits)
        {
            return Err(CodePolicyError::DigitsOutOfRange { digits });
        }
        if !ttl.is_positive() {
            return Err(CodePolicyError::TtlNotPositive);
        }
        if max_tries == 0 {
            return Err(CodePolicyError::NoTries);
        }
        Ok(Self {
            kind,
            ttl,
            max_tries,
        })
    }

    /// SMS code: 6 digits, 5 minutes, 3 tries (the portal's rule; NIST SP 800-63B
    /// 5.1.3.2 asks for at most 10 minutes).
    pub const fn sms() -> Self {
        Self {
            kind: CodeKind::Numeric { digits: 6 },
            ttl: Duration::minutes(5),
            max_tries: 3,
        }
    }

    /// E-mail link: a 128-bit token, 1 hour, single use (1 try). NIST allows up to 24
    /// hours; an hour covers a slow mailbox and keeps the window short.
    pub const fn email_link() -> Self {
        Self {
            kind: CodeKind::LinkToken,
            ttl: Duration::hours(1),
            max_tries: 1,
        }
    }

    /// E-mail code typed by hand: 6 digits, 15 minutes, 3 tries.
    pub const fn email_code() -> Self {
        Self {
            kind: CodeKind::Numeric { digits: 6 },
            ttl: Duration::minutes(15),
            max_tries: 3,
        }
    }

    /// Postal activation code: 10 unambiguous characters, 30 days (registered mail
    /// takes days), 3 tries.
    pub const fn postal() -> Self {
        Self {
            kind: CodeKind::Postal,
            ttl: Duration::days(30),
            max_tries: 3,
        }
    }

    /// What the codes look like.
    pub const fn kind(&self) -> CodeKind {
        self.kind
    }

    /// How long a code lives after it is issued.
    pub const fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How many candidates may be tried against one code.
    pub const fn max_tries(&self) -> u8 {
        self.max_tries
    }
}

/// A [`CodePolicy`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodePolicyError {
    /// A numeric code must have 4 to 10 digits.
    #[error("code digits out of range: {digits}, expected 4 to 10")]
    DigitsOutOfRange {
        /// The number of digits asked for.
        digits: u8,
    },
    /// A code must live for some time.
    #[error("code lifetime is not positive")]
    TtlNotPositive,
    /// A code must allow at least one try.
    #[error("code allows no tries")]
    NoTries,
}

/// A code just issued: the plaintext to send, and what to store.
///
/// The plaintext exists only here: put it in the message, then drop it. `Debug` shows
/// neither the code nor its digest.
#[derive(Debug)]
pub struct IssuedCode {
    /// The code itself, for the SMS, e-mail or letter.
    pub code: OneTimeCode,
    /// What the store keeps: a digest, the expiry and the tries left.
    pub stored: StoredCode,
}

/// A code as the store keeps it: its digest under the [`CodeKey`], its kind, when it
/// expires and how many tries it has left.
///
/// A code is valid strictly before its expiry instant: a 5-minute code issued at
/// 12:00:00 works at 12:04:59 and fails at 12:05:00.
///
/// `Debug` shows the expiry and the tries left only.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredCode {
    kind: CodeKind,
    digest: CodeDigest,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    tries_left: u8,
}

/// Issues a new code under `policy` for `purpose`.
///
/// `purpose` binds the code to its use: pass something like the flow id and the step
/// (`b"login/5f3c.../sms"`). A code, or a stored digest, from one purpose never
/// verifies under another.
///
/// The expiry is `now + policy.ttl()`. Should that pass the end of the representable
/// calendar (year 9999), the code is issued already expired: failing closed.
///
/// ```
/// use portal_auth::otp::{CodeKey, CodePolicy, issue};
/// use time::macros::datetime;
///
/// let key = CodeKey::generate(&mut rand::rng());
/// let now = datetime!(2025-03-01 12:00 UTC);
/// let issued = issue(&key, &CodePolicy::sms(), b"flow-42/phone", now, &mut rand::rng());
///
/// // Send `issued.code` by SMS; store `issued.stored`. Later, when the code is typed:
/// let mut stored = issued.stored;
/// let typed = issued.code.expose_secret().to_owned();
/// assert!(stored.verify(&key, b"flow-42/phone", &typed, now).is_ok());
/// ```
#[must_use]
pub fn issue(
    key: &CodeKey,
    policy: &CodePolicy,
    purpose: &[u8],
    now: OffsetDateTime,
    rng: &mut impl CryptoRng,
) -> IssuedCode {
    let mut code = policy.kind.draw(rng);
    let stored = StoredCode {
        kind: policy.kind,
        digest: key.digest(purpose, code.as_bytes()),
        expires_at: now.checked_add(policy.ttl).unwrap_or(now),
        tries_left: policy.max_tries,
    };
    IssuedCode {
        // Moves the string out; the emptied `Zeroizing` shell has nothing left to wipe.
        code: OneTimeCode::new(std::mem::take(&mut *code)),
        stored,
    }
}

/// Issues a new code that replaces `previous` (a resend) without resetting the try
/// count: the new code gets the fewer of `previous`'s tries left and the policy's
/// `max_tries`.
///
/// This is the portal's rule that a new code does not reset the try count, so asking
/// for a fresh code after each wrong guess buys no extra guesses. A replacement for an
/// exhausted code is therefore issued dead (`tries_left == 0`): the flow has to start
/// over, under its own rate limits. Everything else is as in [`issue`]; `previous` is
/// only read, so the caller overwrites it with the new `stored`.
#[must_use]
pub fn issue_keeping_tries(
    previous: &StoredCode,
    key: &CodeKey,
    policy: &CodePolicy,
    purpose: &[u8],
    now: OffsetDateTime,
    rng: &mut impl CryptoRng,
) -> IssuedCode {
    let mut issued = issue(key, policy, purpose, now, rng);
    issued.stored.tries_left = issued.stored.tries_left.min(previous.tries_left);
    issued
}

impl StoredCode {
    /// Checks a typed or clicked `candidate` against this code, and counts the try.
    ///
    /// In order:
    ///
    /// 1. `now >= expires_at` → [`CodeError::Expired`]; a code is valid strictly
    ///    before its expiry instant.
    /// 2. No tries left (all used up, or the code was already used) →
    ///    [`CodeError::Exhausted`].
    /// 3. The candidate cannot be a code of this kind (wrong length, a letter in a
    ///    numeric code) → [`CodeError::Malformed`]. No try is counted: such a
    ///    candidate can never match, so refusing it teaches a guesser nothing, and a
    ///    slip of the finger does not cost the person a try.
    /// 4. The digests are compared in constant time. On a mismatch one try is used
    ///    and [`CodeError::Wrong`] says how many are left; `Wrong { tries_left: 0 }`
    ///    means that was the last one and the code is now dead (the next call answers
    ///    `Exhausted`). On a match the tries left drop to zero, so the same stored
    ///    code never verifies twice, and `Ok(())` is returned.
    ///
    /// `self` changes on every counted try: the caller must persist it whatever the
    /// result (and the store must do so atomically, so that two racing requests cannot
    /// both use the same try or the same code).
    ///
    /// # Errors
    ///
    /// [`CodeError::Expired`], [`CodeError::Exhausted`], [`CodeError::Malformed`] or
    /// [`CodeError::Wrong`], as above.
    pub fn verify(
        &mut self,
        key: &CodeKey,
        purpose: &[u8],
        candidate: &str,
        now: OffsetDateTime,
    ) -> Result<(), CodeError> {
        if now >= self.expires_at {
            return Err(CodeError::Expired);
        }
        if self.tries_left == 0 {
            return Err(CodeError::Exhausted);
        }
        let Some(candidate) = self.kind.read(candidate) else {
            return Err(CodeError::Malformed);
        };

        let matches = key.digest(purpose, candidate.as_bytes()) == self.digest;

        if matches {
            self.tries_left = 0;
            Ok(())
        } else {
            self.tries_left -= 1;
            Err(CodeError::Wrong {
                tries_left: self.tries_left,
            })
        }
    }

    /// Whether the code can still be verified at `now`: not expired and with a try
    /// left.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at && self.tries_left > 0
    }

    /// What the code looks like.
    pub fn kind(&self) -> CodeKind {
        self.kind
    }

    /// The first instant at which the code no longer works.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// How many candidates may still be tried; zero once the code was used.
    pub fn tries_left(&self) -> u8 {
        self.tries_left
    }
}

impl fmt::Debug for StoredCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCode")
            .field("expires_at", &self.expires_at)
            .field("tries_left", &self.tries_left)
            .finish_non_exhaustive()
    }
}

/// A candidate code was refused.
///
/// The host may show the precise cause to the person holding the flow (they already
/// know a code was sent): "wrong code, 2 tries left", "the code has expired". To an
/// anonymous caller who does not hold the flow, collapse all of them into one "code
/// not accepted".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodeError {
    /// The candidate did not match; one try was used. `tries_left: 0` means that was
    /// the last try and the code is now dead.
    #[error("code is wrong, {tries_left} tries left")]
    Wrong {
        /// Tries left after this one.
        tries_left: u8,
    },
    /// The code's lifetime is over.
    #[error("code has expired")]
    Expired,
    /// The code has no tries left: all were used on wrong candidates, or it was
    /// already used successfully.
    #[error("code has no tries left")]
    Exhausted,
    /// The candidate cannot be a code of this kind; no try was used.
    #[error("code is malformed")]
    Malformed,
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use time::macros::datetime;

    use super::*;

    const PURPOSE: &[u8] = b"flow-1/sms";
    const NOON: OffsetDateTime = datetime!(2025-03-01 12:00:00 UTC);

    fn key() -> CodeKey {
        CodeKey::from_bytes([42; 32])
    }

    fn issue_at_noon(policy: &CodePolicy) -> IssuedCode {
        issue(&key(), policy, PURPOSE, NOON, &mut crate::random::os_rng())
    }

    fn code_of(issued: &IssuedCode) -> String {
        issued.code.expose_secret().to_owned()
    }

    /// A candidate of the right shape that is not the issued code.
    fn wrong_for(issued: &IssuedCode) -> String {
        let code = code_of(issued);
        let first = code.chars().next().unwrap();
        let replacement = match issued.stored.kind {
            CodeKind::Numeric { .. } => {
                if first == '1' {
                    '2'
                } else {
                    '1'
                }
            }
            CodeKind::LinkToken | CodeKind::Postal => {
                if first == 'A' {
                    'B'
                } else {
                    'A'
                }
            }
        };
        format!("{replacement}{}", &code[1..])
    }

    fn assert_works_until_just_before(policy: &CodePolicy, ttl: Duration) {
        let issued = issue_at_noon(policy);
        let code = code_of(&issued);
        assert_eq!(issued.stored.expires_at(), NOON + ttl);

        let mut last_second = issued.stored.clone();
        let at_last_second = NOON + ttl - Duration::SECOND;
        assert!(last_second.is_live(at_last_second));
        assert_eq!(
            last_second.verify(&key(), PURPOSE, &code, at_last_second),
            Ok(())
        );

        let mut at_expiry = issued.stored;
        assert!(!at_expiry.is_live(NOON + ttl));
        assert_eq!(
            at_expiry.verify(&key(), PURPOSE, &code, NOON + ttl),
            Err(CodeError::Expired)
        );
    }

    #[test]
    fn sms_code_expires_after_five_minutes() {
        assert_works_until_just_before(&CodePolicy::sms(), Duration::minutes(5));
    }

    #[test]
    fn email_link_expires_after_one_hour() {
        assert_works_until_just_before(&CodePolicy::email_link(), Duration::hours(1));
    }

    #[test]
    fn email_code_expires_after_fifteen_minutes() {
        assert_works_until_just_before(&CodePolicy::email_code(), Duration::minutes(15));
    }

    #[test]
    fn postal_code_expires_after_thirty_days() {
        assert_works_until_just_before(&CodePolicy::postal(), Duration::days(30));
    }

    #[test]
    fn presets_have_the_portal_values() {
        assert_eq!(CodePolicy::sms().kind(), CodeKind::Numeric { digits: 6 });
        assert_eq!(CodePolicy::sms().max_tries(), 3);
        assert_eq!(CodePolicy::email_link().kind(), CodeKind::LinkToken);
        assert_eq!(CodePolicy::email_link().max_tries(), 1);
        assert_eq!(
            CodePolicy::email_code().kind(),
            CodeKind::Numeric { digits: 6 }
        );
        assert_eq!(CodePolicy::email_code().max_tries(), 3);
        assert_eq!(CodePolicy::postal().kind(), CodeKind::Postal);
        assert_eq!(CodePolicy::postal().max_tries(), 3);
        for preset in [
            CodePolicy::sms(),
            CodePolicy::email_link(),
            CodePolicy::email_code(),
            CodePolicy::postal(),
        ] {
            assert_eq!(
                CodePolicy::new(preset.kind(), preset.ttl(), preset.max_tries()),
                Ok(preset)
            );
        }
    }

    #[test]
    fn sms_code_dies_after_three_wrong_tries() {
        let issued = issue_at_noon(&CodePolicy::sms());
        let (right, wrong) = (code_of(&issued), wrong_for(&issued));
        let mut stored = issued.stored;

        for left in [2, 1, 0] {
            assert_eq!(
                stored.verify(&key(), PURPOSE, &wrong, NOON),
                Err(CodeError::Wrong { tries_left: left })
            );
        }
        assert!(!stored.is_live(NOON));
        assert_eq!(
            stored.verify(&key(), PURPOSE, &right, NOON),
            Err(CodeError::Exhausted)
        );
    }

    #[test]
    fn right_code_after_a_wrong_one_still_works() {
        let issued = issue_at_noon(&CodePolicy::sms());
        let (right, wrong) = (code_of(&issued), wrong_for(&issued));
        let mut stored = issued.stored;
        assert!(stored.verify(&key(), PURPOSE, &wrong, NOON).is_err());
        assert_eq!(stored.verify(&key(), PURPOSE, &right, NOON), Ok(()));
    }

    #[test]
    fn code_verifies_only_once() {
        for policy in [
            CodePolicy::sms(),
            CodePolicy::email_link(),
            CodePolicy::postal(),
        ] {
            let issued = issue_at_noon(&policy);
            let code = code_of(&issued);
            let mut stored = issued.stored;
            assert_eq!(stored.verify(&key(), PURPOSE, &code, NOON), Ok(()));
            assert_eq!(stored.tries_left(), 0);
            assert_eq!(
                stored.verify(&key(), PURPOSE, &code, NOON),
                Err(CodeError::Exhausted)
            );
        }
    }

    #[test]
    fn email_link_dies_after_one_wrong_try() {
        let issued = issue_at_noon(&CodePolicy::email_link());
        let (right, wrong) = (code_of(&issued), wrong_for(&issued));
        let mut stored = issued.stored;
        assert_eq!(
            stored.verify(&key(), PURPOSE, &wrong, NOON),
            Err(CodeError::Wrong { tries_left: 0 })
        );
        assert_eq!(
            stored.verify(&key(), PURPOSE, &right, NOON),
            Err(CodeError::Exhausted)
        );
    }

    #[test]
    fn code_from_another_purpose_is_refused() {
        let issued = issue_at_noon(&CodePolicy::sms());
        let code = code_of(&issued);
        let mut stored = issued.stored;
        assert_eq!(
            stored.verify(&key(), b"flow-2/sms", &code, NOON),
            Err(CodeError::Wrong { tries_left: 2 })
        );
    }

    #[test]
    fn code_under_another_key_is_refused() {
        let issued = issue_at_noon(&CodePolicy::sms());
        let code = code_of(&issued);
        let mut stored = issued.stored;
        let other = CodeKey::from_bytes([1; 32]);
        assert!(matches!(
            stored.verify(&other, PURPOSE, &code, NOON),
            Err(CodeError::Wrong { .. })
        ));
    }

    #[test]
    fn malformed_candidate_uses_no_try() {
        let issued = issue_at_noon(&CodePolicy::sms());
        let mut stored = issued.stored;
        for bad in ["", "12345", "1234567", "12a456", "123\u{0}56"] {
            assert_eq!(
                stored.verify(&key(), PURPOSE, bad, NOON),
                Err(CodeError::Malformed),
                "{bad:?}"
            );
        }
        assert_eq!(stored.tries_left(), 3);
    }

    #[test]
    fn expired_is_reported_before_exhausted() {
        let issued = issue_at_noon(&CodePolicy::sms());
        let code = code_of(&issued);
        let mut stored = issued.stored;
        assert_eq!(stored.verify(&key(), PURPOSE, &code, NOON), Ok(()));
        assert_eq!(
            stored.verify(&key(), PURPOSE, &code, NOON + Duration::HOUR),
            Err(CodeError::Expired)
        );
    }

    #[test]
    fn numeric_codes_have_the_asked_number_of_digits() {
        for digits in MIN_DIGITS..=MAX_DIGITS {
            let policy =
                CodePolicy::new(CodeKind::Numeric { digits }, Duration::MINUTE, 1).unwrap();
            for _ in 0..20 {
                let issued = issue_at_noon(&policy);
                let code = code_of(&issued);
                assert_eq!(code.len(), usize::from(digits));
                assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
            }
        }
    }

    #[test]
    fn numeric_code_is_accepted_with_spaces() {
        let issued = issue_at_noon(&CodePolicy::sms());
        let code = code_of(&issued);
        let spaced = format!(" {} {} ", &code[..3], &code[3..]);
        let mut stored = issued.stored;
        assert_eq!(stored.verify(&key(), PURPOSE, &spaced, NOON), Ok(()));
    }

    #[test]
    fn link_tokens_are_22_url_safe_characters_and_distinct() {
        let mut seen = HashSet::new();
        for _ in 0..200 {
            let token = code_of(&issue_at_noon(&CodePolicy::email_link()));
            assert_eq!(token.len(), 22);
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{token}"
            );
            assert!(seen.insert(token));
        }
    }

    #[test]
    fn postal_codes_use_the_unambiguous_alphabet() {
        for _ in 0..50 {
            let code = code_of(&issue_at_noon(&CodePolicy::postal()));
            assert_eq!(code.len(), POSTAL_CODE_LEN);
            assert!(
                code.bytes().all(|b| alphabet::UNAMBIGUOUS.contains(&b)),
                "{code}"
            );
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
        }
    }

    #[test]
    fn postal_code_is_accepted_lowercase_with_dashes() {
        let issued = issue_at_noon(&CodePolicy::postal());
        let code = code_of(&issued).to_lowercase();
        let typed = format!("{}-{} ", &code[..5], &code[5..]);
        let mut stored = issued.stored;
        assert_eq!(stored.verify(&key(), PURPOSE, &typed, NOON), Ok(()));
    }

    #[test]
    fn resend_keeps_the_tries_already_used() {
        let first = issue_at_noon(&CodePolicy::sms());
        let wrong = wrong_for(&first);
        let mut stored = first.stored;
        stored.verify(&key(), PURPOSE, &wrong, NOON).unwrap_err();

        let later = NOON + Duration::MINUTE;
        let second = issue_keeping_tries(
            &stored,
            &key(),
            &CodePolicy::sms(),
            PURPOSE,
            later,
            &mut crate::random::os_rng(),
        );
        assert_eq!(second.stored.tries_left(), 2);
        assert_eq!(second.stored.expires_at(), later + Duration::minutes(5));

        let code = code_of(&second);
        let mut stored = second.stored;
        assert_eq!(stored.verify(&key(), PURPOSE, &code, later), Ok(()));
    }

    #[test]
    fn resend_of_an_exhausted_code_is_dead() {
        let first = issue_at_noon(&CodePolicy::sms());
        let wrong = wrong_for(&first);
        let mut stored = first.stored;
        for _ in 0..3 {
            stored.verify(&key(), PURPOSE, &wrong, NOON).unwrap_err();
        }
        let second = issue_keeping_tries(
            &stored,
            &key(),
            &CodePolicy::sms(),
            PURPOSE,
            NOON,
            &mut crate::random::os_rng(),
        );
        let code = code_of(&second);
        let mut stored = second.stored;
        assert_eq!(
            stored.verify(&key(), PURPOSE, &code, NOON),
            Err(CodeError::Exhausted)
        );
    }

    #[test]
    fn resend_never_raises_tries_above_the_policy() {
        let first = issue_at_noon(&CodePolicy::postal());
        let second = issue_keeping_tries(
            &first.stored,
            &key(),
            &CodePolicy::email_link(),
            PURPOSE,
            NOON,
            &mut crate::random::os_rng(),
        );
        assert_eq!(second.stored.tries_left(), 1);
    }

    #[test]
    fn policy_refuses_unsafe_values() {
        let minute = Duration::MINUTE;
        assert_eq!(
            CodePolicy::new(CodeKind::Numeric { digits: 3 }, minute, 3),
            Err(CodePolicyError::DigitsOutOfRange { digits: 3 })
        );
        assert_eq!(
            CodePolicy::new(CodeKind::Numeric { digits: 11 }, minute, 3),
            Err(CodePolicyError::DigitsOutOfRange { digits: 11 })
        );
        assert_eq!(
            CodePolicy::new(CodeKind::Postal, Duration::ZERO, 3),
            Err(CodePolicyError::TtlNotPositive)
        );
        assert_eq!(
            CodePolicy::new(CodeKind::Postal, -minute, 3),
            Err(CodePolicyError::TtlNotPositive)
        );
        assert_eq!(
            CodePolicy::new(CodeKind::LinkToken, minute, 0),
            Err(CodePolicyError::NoTries)
        );
    }

    #[test]
    fn expiry_past_the_calendar_end_fails_closed() {
        let end = datetime!(9999-12-31 23:59:59 UTC);
        let issued = issue(
            &key(),
            &CodePolicy::postal(),
            PURPOSE,
            end,
            &mut crate::random::os_rng(),
        );
        let code = code_of(&issued);
        let mut stored = issued.stored;
        assert_eq!(
            stored.verify(&key(), PURPOSE, &code, end),
            Err(CodeError::Expired)
        );
    }

    #[test]
    fn stored_code_survives_a_serde_round_trip() {
        let issued = issue_at_noon(&CodePolicy::postal());
        let code = code_of(&issued);
        let json = serde_json::to_string(&issued.stored).unwrap();
        assert!(
            json.contains("\"expires_at\":\"2025-03-31T12:00:00Z\""),
            "{json}"
        );
        assert!(!json.contains(&code));
        let mut back: StoredCode = serde_json::from_str(&json).unwrap();
        assert_eq!(back.kind(), CodeKind::Postal);
        assert_eq!(back.verify(&key(), PURPOSE, &code, NOON), Ok(()));
    }

    #[test]
    fn stored_code_with_bad_digits_verifies_nothing_and_does_not_panic() {
        let issued = issue_at_noon(&CodePolicy::sms());
        let json = serde_json::to_string(&issued.stored)
            .unwrap()
            .replace("\"digits\":6", "\"digits\":0");
        let mut back: StoredCode = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.verify(&key(), PURPOSE, "", NOON),
            Err(CodeError::Malformed)
        );
    }

    #[test]
    fn debug_never_shows_the_code_or_digest() {
        for policy in [
            CodePolicy::sms(),
            CodePolicy::email_link(),
            CodePolicy::postal(),
        ] {
            let issued = issue_at_noon(&policy);
            let shown = format!("{issued:?}");
            assert!(!shown.contains(issued.code.expose_secret()), "{shown}");
            assert!(
                !shown.contains(&issued.stored.digest.to_base64url()),
                "{shown}"
            );
            assert!(shown.contains("tries_left: "), "{shown}");
            assert!(shown.contains("expires_at: "), "{shown}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_candidate_costs_at_most_one_try_and_never_panics(candidate in "\\PC{0,30}") {
            for policy in [CodePolicy::sms(), CodePolicy::email_link(), CodePolicy::postal()] {
                let issued = issue_at_noon(&policy);
                let mut stored = issued.stored;
                let result = stored.verify(&key(), PURPOSE, &candidate, NOON);
                match result {
                    Ok(()) => proptest::prop_assert_eq!(stored.tries_left(), 0),
                    Err(CodeError::Malformed) => {
                        proptest::prop_assert_eq!(stored.tries_left(), policy.max_tries());
                    }
                    Err(CodeError::Wrong { tries_left }) => {
                        proptest::prop_assert_eq!(tries_left, policy.max_tries() - 1);
                        proptest::prop_assert_eq!(stored.tries_left(), tries_left);
                    }
                    Err(other) => proptest::prop_assert!(false, "unexpected {other:?}"),
                }
            }
        }
    }
}
