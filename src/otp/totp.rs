//! Time-based one-time passwords (RFC 6238) for authenticator apps, through `totp-rs`.
//!
//! Parameters are the ones every authenticator app understands: HMAC-SHA1, 6 digits,
//! 30-second steps, a 160-bit secret (the length RFC 4226 section 4 recommends). A code
//! is accepted for the current step and one step either side (RFC 6238 section 5.2),
//! and a step once accepted is never accepted again.

use std::fmt;

use rand::CryptoRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use totp_rs::{Builder, Secret, Totp};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::alphabet;
use crate::OneTimeCode;

/// Length in bytes of a [`TotpSecret`]: 160 bits.
pub const TOTP_SECRET_LEN: usize = 20;

/// Digits of a TOTP code.
const DIGITS: u8 = 6;

/// Seconds per TOTP step.
const STEP_SECONDS: u64 = 30;

/// Steps accepted either side of the current one.
const SKEW_STEPS: u64 = 1;

/// The secret shared with a person's authenticator app: 160 random bits.
///
/// Zeroized on drop; `Debug` never prints it. It serialises as its RFC 4648 base32 form
/// (32 characters, no padding), the same text the app is given: store it encrypted or
/// in a column the host treats as secret, since unlike a code digest it is the
/// credential itself.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TotpSecret([u8; TOTP_SECRET_LEN]);

impl TotpSecret {
    /// A fresh secret from a cryptographically secure generator.
    ///
    /// ```
    /// let secret = portal_auth::otp::TotpSecret::generate(&mut rand::rng());
    /// let uri = secret.otpauth_uri("Portal", "ivanov@example.ru").unwrap();
    /// assert!(uri.starts_with("otpauth://totp/Portal:ivanov%40example.ru?secret="));
    /// ```
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut bytes = [0_u8; TOTP_SECRET_LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// A secret from its 20 bytes.
    pub fn from_bytes(bytes: [u8; TOTP_SECRET_LEN]) -> Self {
        Self(bytes)
    }

    /// A secret from its base32 form (RFC 4648 alphabet, uppercase, no padding).
    ///
    /// # Errors
    ///
    /// [`TotpSecretError::NotBase32`] if the text is not base32;
    /// [`TotpSecretError::WrongLength`] if it does not hold exactly 20 bytes.
    pub fn from_base32(text: &str) -> Result<Self, TotpSecretError> {
        let secret = Secret::try_from_base32(text).map_err(|_| TotpSecretError::NotBase32)?;
        let bytes: [u8; TOTP_SECRET_LEN] =
            secret
                .as_bytes()
                .try_into()
                .map_err(|_| TotpSecretError::WrongLength {
                    len: secret.as_bytes().len(),
                })?;
        Ok(Self(bytes))
    }

    /// The secret in base32, for a person who types it into the app instead of
    /// scanning the QR code. Named so that every place that reveals it is easy to find.
    pub fn expose_secret_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(self.totp().secret().to_base32())
    }

    /// The `otpauth://totp/...` URI an authenticator app reads from a QR code:
    /// issuer and account name as its label, SHA1, 6 digits, 30 seconds (those three
    /// are the URI format's defaults, so they are not spelled out). It contains the
    /// secret.
    ///
    /// # Errors
    ///
    /// [`OtpauthError::InvalidIssuer`] if `issuer` is empty or contains a colon;
    /// [`OtpauthError::InvalidAccountName`] if `account_name` is empty or contains a
    /// colon (the colon separates the two in the label).
    pub fn otpauth_uri(
        &self,
        issuer: &str,
        account_name: &str,
    ) -> Result<Zeroizing<String>, OtpauthError> {
        if issuer.is_empty() || issuer.contains(':') {
            return Err(OtpauthError::InvalidIssuer);
        }
        if account_name.is_empty() || account_name.contains(':') {
            return Err(OtpauthError::InvalidAccountName);
        }
        let totp = self
            .builder()
            .with_issuer(Some(issuer))
            .with_account_name(account_name)
            .build_noncompliant();
        totp.to_url()
            .map(Zeroizing::new)
            .map_err(|_| OtpauthError::InvalidAccountName)
    }

    /// The code an authenticator app shows at `now` (for tests, examples and the
    /// host's own tooling; verification goes through [`verify_totp`]).
    pub fn code_at(&self, now: OffsetDateTime) -> OneTimeCode {
        OneTimeCode::new(self.totp().generate(unix_seconds(now)).to_string())
    }

    /// A `totp-rs` builder with this secret and the fixed parameters. They are
    /// RFC-compliant (checked by a test through `Builder::build`), so callers use the
    /// infallible `build_noncompliant`.
    fn builder(&self) -> Builder {
        // totp-rs is built with its `zeroize` feature (Cargo.toml), so the `Secret` and
        // the `TOTP` made from this builder wipe their copy of the secret on drop.
        Builder::new()
            .with_secret(Secret::new_stack(self.0))
            .with_digits(DIGITS)
            .with_step_duration(STEP_SECONDS)
            .with_skew(0)
    }

    /// A `totp-rs` generator with skew 0: each `check` tests exactly one step, so the
    /// window and replay rules stay here where they can be read.
    fn totp(&self) -> Totp {
        self.builder().build_noncompliant()
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl Serialize for TotpSecret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.expose_secret_base32())
    }
}

impl<'de> Deserialize<'de> for TotpSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(deserializer)?);
        Self::from_base32(&text).map_err(serde::de::Error::custom)
    }
}

/// Checks a TOTP `code` at `now`, refusing steps at or before `last_used_step`.
///
/// The code is compared against the step `now` falls in and the steps just before and
/// after it (clock drift and typing time). All three are computed and compared, whether
/// or not an earlier one matched. On success the matched step number is returned: the
/// caller stores it as the account's new `last_used_step`, which makes acceptance
/// monotonic — once a code from step `s + 1` is accepted, codes from `s` and `s + 1`
/// are refused. When one code matches several steps (a one-in-a-million collision),
/// the earliest step after `last_used_step` wins, so no later code is burned needlessly.
///
/// Spaces in the code are ignored (`"123 456"`, as apps show it). A `now` before 1970
/// counts as 1970.
///
/// ```
/// use portal_auth::otp::{TotpError, TotpSecret, verify_totp};
/// use time::macros::datetime;
///
/// let secret = TotpSecret::generate(&mut rand::rng());
/// let now = datetime!(2025-03-01 12:00:10 UTC);
/// let code = secret.code_at(now);
///
/// let step = verify_totp(&secret, code.expose_secret(), now, None).unwrap();
/// // Store `step`; the same code is now refused.
/// assert_eq!(
///     verify_totp(&secret, code.expose_secret(), now, Some(step)),
///     Err(TotpError::Replayed)
/// );
/// ```
///
/// # Errors
///
/// - [`TotpError::Malformed`] if the code is not six digits;
/// - [`TotpError::Replayed`] if it matches only steps at or before `last_used_step`;
/// - [`TotpError::Wrong`] if it matches no step of the window.
pub fn verify_totp(
    secret: &TotpSecret,
    code: &str,
    now: OffsetDateTime,
    last_used_step: Option<u64>,
) -> Result<u64, TotpError> {
    let code = alphabet::read_numeric(code, DIGITS).ok_or(TotpError::Malformed)?;
    let totp = secret.totp();
    let current = unix_seconds(now) / STEP_SECONDS;

    let mut accepted = None;
    let mut replayed = false;
    for step in current.saturating_sub(SKEW_STEPS)..=current.saturating_add(SKEW_STEPS) {
        // `check` compares tokens in constant time; with skew 0 it tests this step only.
        let Some(first_second) = step.checked_mul(STEP_SECONDS) else {
            continue;
        };
        if totp.check(&code, first_second).is_none() {
            continue;
        }
        if last_used_step.is_some_and(|last| step <= last) {
            replayed = true;
        } else if accepted.is_none() {
            accepted = Some(step);
        }
    }

    match accepted {
        Some(step) => Ok(step),
        None if replayed => Err(TotpError::Replayed),
        None => Err(TotpError::Wrong),
    }
}

/// Seconds since 1970 at `now`, with instants before 1970 read as 1970.
fn unix_seconds(now: OffsetDateTime) -> u64 {
    u64::try_from(now.unix_timestamp()).unwrap_or(0)
}

/// A TOTP code was refused.
///
/// `Replayed` is worth an audit event (someone reused a code that was just accepted,
/// maybe one read over a shoulder) but the person should see the same message as for
/// `Wrong`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TotpError {
    /// The code matches none of the accepted steps.
    #[error("totp code is wrong")]
    Wrong,
    /// The code matches a step that was already used.
    #[error("totp code was already used")]
    Replayed,
    /// The code is not six digits.
    #[error("totp code is malformed")]
    Malformed,
}

/// A stored [`TotpSecret`] could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TotpSecretError {
    /// The text is not RFC 4648 base32.
    #[error("totp secret is not base32")]
    NotBase32,
    /// The decoded secret is not 20 bytes long.
    #[error("totp secret has wrong length: {len} bytes, expected 20")]
    WrongLength {
        /// The decoded length.
        len: usize,
    },
}

/// An `otpauth://` URI could not be made from the label given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OtpauthError {
    /// The issuer is empty or contains a colon.
    #[error("otpauth issuer is empty or contains a colon")]
    InvalidIssuer,
    /// The account name is empty or contains a colon.
    #[error("otpauth account name is empty or contains a colon")]
    InvalidAccountName,
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    /// The shared secret of RFC 4226 Appendix D and RFC 6238 Appendix B (SHA1).
    const RFC_SECRET: &[u8; 20] = b"12345678901234567890";

    const NOW: OffsetDateTime = datetime!(2025-03-01 12:00:10 UTC);

    fn rfc_totp(digits: u8, step: u64) -> Totp {
        Builder::new()
            .with_secret(RFC_SECRET.as_slice())
            .with_digits(digits)
            .with_step_duration(step)
            .with_skew(0)
            .build()
            .unwrap()
    }

    fn secret() -> TotpSecret {
        TotpSecret::from_bytes(*RFC_SECRET)
    }

    fn code(secret: &TotpSecret, at: OffsetDateTime) -> String {
        secret.code_at(at).expose_secret().to_owned()
    }

    #[test]
    fn rfc4226_appendix_d_hotp_vectors() {
        // With 1-second steps, the TOTP at time t is the HOTP at counter t.
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        let hotp = rfc_totp(6, 1);
        for (counter, want) in (0_u64..).zip(expected) {
            assert_eq!(
                hotp.generate(counter).to_string(),
                want,
                "counter {counter}"
            );
        }
    }

    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        let expected = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        let totp = rfc_totp(8, 30);
        for (time, want) in expected {
            assert_eq!(totp.generate(time).to_string(), want, "time {time}");
        }
    }

    #[test]
    fn our_generator_and_verifier_match_every_rfc6238_sha1_vector() {
        // A 6-digit code is the 8-digit one's last six digits (the same truncated
        // value, reduced mod 10^6); RFC 6238 time 59 is RFC 4226's counter 1.
        let expected = [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ];
        for (time, want) in expected {
            let at = OffsetDateTime::from_unix_timestamp(time).unwrap();
            assert_eq!(code(&secret(), at), want, "time {time}");
            let step = u64::try_from(time / 30).unwrap();
            assert_eq!(
                verify_totp(&secret(), want, at, None),
                Ok(step),
                "time {time}"
            );
        }
    }

    #[test]
    fn fixed_parameters_pass_totp_rs_rfc_checks() {
        let secret = TotpSecret::generate(&mut crate::random::os_rng());
        let totp = secret.builder().build().unwrap();
        assert_eq!((totp.digits(), totp.step()), (6, 30));
        assert_eq!(totp.algorithm(), totp_rs::Algorithm::SHA1);
    }

    #[test]
    fn totp_accepts_the_previous_current_and_next_step() {
        let secret = secret();
        let current = unix_seconds(NOW) / 30;
        for offset in [-30, 0, 30] {
            let at = NOW + Duration::seconds(offset);
            let step = verify_totp(&secret, &code(&secret, at), NOW, None).unwrap();
            assert_eq!(
                i64::try_from(step).unwrap() - i64::try_from(current).unwrap(),
                offset / 30
            );
        }
    }

    #[test]
    fn totp_refuses_codes_two_steps_away() {
        let secret = secret();
        for offset in [-60, 60, 3_600] {
            let at = NOW + Duration::seconds(offset);
            assert_eq!(
                verify_totp(&secret, &code(&secret, at), NOW, None),
                Err(TotpError::Wrong)
            );
        }
    }

    #[test]
    fn totp_code_cannot_be_replayed() {
        let secret = secret();
        let now_code = code(&secret, NOW);
        let step = verify_totp(&secret, &now_code, NOW, None).unwrap();
        assert_eq!(
            verify_totp(&secret, &now_code, NOW, Some(step)),
            Err(TotpError::Replayed)
        );
        assert_eq!(
            verify_totp(&secret, &now_code, NOW + Duration::seconds(25), Some(step)),
            Err(TotpError::Replayed)
        );
    }

    #[test]
    fn totp_steps_are_monotonic() {
        let secret = secret();
        let next = code(&secret, NOW + Duration::seconds(30));
        let step = verify_totp(&secret, &next, NOW, None).unwrap();

        // The code of the current step is older than the one accepted: refused.
        let current = code(&secret, NOW);
        assert_eq!(
            verify_totp(&secret, &current, NOW, Some(step)),
            Err(TotpError::Replayed)
        );
        // The code of the step after that is fine.
        let after = code(&secret, NOW + Duration::seconds(60));
        let later = NOW + Duration::seconds(30);
        assert_eq!(
            verify_totp(&secret, &after, later, Some(step)),
            Ok(step + 1)
        );
    }

    #[test]
    fn totp_wrong_code_is_refused() {
        let secret = secret();
        let window: Vec<String> = [-30, 0, 30]
            .into_iter()
            .map(|offset| code(&secret, NOW + Duration::seconds(offset)))
            .collect();
        let wrong = (0..4)
            .map(|n| format!("{n:06}"))
            .find(|candidate| !window.contains(candidate))
            .unwrap();
        assert_eq!(
            verify_totp(&secret, &wrong, NOW, None),
            Err(TotpError::Wrong)
        );
    }

    #[test]
    fn totp_malformed_code_is_refused() {
        for bad in ["", "12345", "1234567", "12a456", "+12345", "１２３４５６"] {
            assert_eq!(
                verify_totp(&secret(), bad, NOW, None),
                Err(TotpError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn totp_code_with_a_space_is_accepted() {
        let right = code(&secret(), NOW);
        let spaced = format!("{} {}", &right[..3], &right[3..]);
        assert!(verify_totp(&secret(), &spaced, NOW, None).is_ok());
    }

    #[test]
    fn totp_before_1970_is_read_as_1970_without_panicking() {
        let past = datetime!(1960-01-01 0:00 UTC);
        let epoch = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(code(&secret(), past), code(&secret(), epoch));
        assert_eq!(verify_totp(&secret(), "755224", past, None), Ok(0));
    }

    #[test]
    fn generated_secrets_are_distinct_and_160_bits() {
        let mut rng = crate::random::os_rng();
        let a = TotpSecret::generate(&mut rng);
        let b = TotpSecret::generate(&mut rng);
        assert_ne!(a.0, b.0);
        assert_eq!(a.expose_secret_base32().len(), 32);
    }

    #[test]
    fn otpauth_uri_carries_label_secret_and_default_parameters() {
        let secret = secret();
        let uri = secret
            .otpauth_uri("Госуслуги", "ivanov@example.ru")
            .unwrap();
        assert!(uri.starts_with("otpauth://totp/"), "{}", *uri);
        assert!(uri.contains("ivanov%40example.ru"), "{}", *uri);
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{}",
            *uri
        );

        let parsed = Totp::from_url(uri.as_str()).unwrap();
        assert_eq!(parsed.secret().as_bytes(), RFC_SECRET);
        assert_eq!(parsed.issuer(), Some("Госуслуги"));
        assert_eq!(parsed.account_name(), "ivanov@example.ru");
        assert_eq!((parsed.digits(), parsed.step()), (6, 30));
        assert_eq!(parsed.algorithm(), totp_rs::Algorithm::SHA1);
    }

    #[test]
    fn otpauth_uri_refuses_colons_and_empty_labels() {
        let secret = secret();
        assert_eq!(
            secret.otpauth_uri("A:B", "x").unwrap_err(),
            OtpauthError::InvalidIssuer
        );
        assert_eq!(
            secret.otpauth_uri("", "x").unwrap_err(),
            OtpauthError::InvalidIssuer
        );
        assert_eq!(
            secret.otpauth_uri("Portal", "a:b").unwrap_err(),
            OtpauthError::InvalidAccountName
        );
        assert_eq!(
            secret.otpauth_uri("Portal", "").unwrap_err(),
            OtpauthError::InvalidAccountName
        );
    }

    #[test]
    fn secret_serializes_as_base32() {
        let json = serde_json::to_string(&secret()).unwrap();
        assert_eq!(json, "\"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\"");
        let back: TotpSecret = serde_json::from_str(&json).unwrap();
        assert_eq!(back.0, *RFC_SECRET);
    }

    #[test]
    fn secret_deserialization_refuses_bad_text() {
        assert!(serde_json::from_str::<TotpSecret>("\"not base32!\"").is_err());
        assert_eq!(
            TotpSecret::from_base32("GEZDGNBVGY3TQOJQ").unwrap_err(),
            TotpSecretError::WrongLength { len: 10 }
        );
        assert_eq!(
            TotpSecret::from_base32("1!").unwrap_err(),
            TotpSecretError::NotBase32
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = secret();
        let shown = format!("{secret:?}");
        assert_eq!(shown, "TotpSecret(<redacted>)");
        assert!(!shown.contains(secret.expose_secret_base32().as_str()));
    }
}
