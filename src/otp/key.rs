//! The server key under which codes are stored, and the digest it produces.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::digest::Key;
use hmac::{Hmac, KeyInit, Mac};
use rand::CryptoRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

type HmacSha256 = Hmac<Sha256>;

/// The block size of SHA-256, which is the key size `Hmac<Sha256>` is keyed with.
const HMAC_BLOCK_LEN: usize = 64;

/// Length in bytes of a [`CodeKey`] (256 bits, the output size of SHA-256).
pub const CODE_KEY_LEN: usize = 32;

/// The server key under which one-time codes are stored as HMAC-SHA256 digests.
///
/// With the key kept out of the database (a secrets store, an environment variable), a
/// leaked database reveals no live code: a 6-digit digest cannot be brute-forced
/// without the key. The key is zeroized on drop and `Debug` never prints it.
///
/// Rotating the key invalidates every live code and every stored backup code; keep the
/// old key until those have expired or been regenerated.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct CodeKey([u8; CODE_KEY_LEN]);

impl CodeKey {
    /// A fresh random key from a cryptographically secure generator.
    ///
    /// ```
    /// let key = portal_auth::otp::CodeKey::generate(&mut rand::rng());
    /// # let _ = key;
    /// ```
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut bytes = [0_u8; CODE_KEY_LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// A key from its 32 bytes (as loaded from the host's secrets store).
    ///
    /// The array is moved in by copy: zeroize the caller's copy if it lives on.
    pub fn from_bytes(bytes: [u8; CODE_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// A key from a slice that must be exactly 32 bytes long.
    ///
    /// # Errors
    ///
    /// [`CodeKeyError::WrongLength`] if the slice is not 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CodeKeyError> {
        let array: [u8; CODE_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| CodeKeyError::WrongLength { len: bytes.len() })?;
        Ok(Self(array))
    }

    /// HMAC-SHA256 under this key of `purpose || 0x00 || code`.
    ///
    /// Callers pass a normalised code that never contains a NUL byte, so the NUL
    /// separator splits the input unambiguously and a digest made for one purpose can
    /// never equal the digest of any code under another purpose.
    pub(crate) fn digest(&self, purpose: &[u8], code: &[u8]) -> CodeDigest {
        // HMAC pads a key shorter than the hash block with zeros (RFC 2104 section 2), so
        // keying with the zero-padded 64-byte block is the same MAC as keying with the 32
        // bytes. Doing the padding here gives the infallible `KeyInit::new` and spares an
        // `InvalidLength` branch that HMAC can never take.
        let mut block = Zeroizing::new([0_u8; HMAC_BLOCK_LEN]);
        for (to, from) in block.iter_mut().zip(self.0) {
            *to = from;
        }

        let mut mac = <HmacSha256 as KeyInit>::new(<&Key<HmacSha256>>::from(&*block));
        mac.update(purpose);
        mac.update(&[0]);
        mac.update(code);
        CodeDigest(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeKey(<redacted>)")
    }
}

/// A [`CodeKey`] could not be made from the bytes given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodeKeyError {
    /// The key material is not 32 bytes long.
    #[error("code key has wrong length: {len} bytes, expected 32")]
    WrongLength {
        /// The length that was given.
        len: usize,
    },
}

/// The stored form of a one-time code: HMAC-SHA256 under the [`CodeKey`] of the
/// purpose and the code.
///
/// Equality is constant time ([`subtle::ConstantTimeEq`]): `==` compares all 32 bytes
/// whatever they hold, so the time a comparison takes says nothing about how many
/// leading bytes matched. `Debug` does not print the bytes. Serialised as a base64url
/// string without padding (43 characters).
#[derive(Clone)]
pub struct CodeDigest([u8; 32]);

impl CodeDigest {
    /// The digest as a base64url string without padding.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// A digest from its base64url form (without padding).
    ///
    /// # Errors
    ///
    /// [`CodeDigestError`] if the text is not base64url or does not hold 32 bytes.
    pub fn from_base64url(text: &str) -> Result<Self, CodeDigestError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| CodeDigestError::NotBase64url)?;
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|bytes: Vec<u8>| CodeDigestError::WrongLength { len: bytes.len() })?;
        Ok(Self(array))
    }
}

impl ConstantTimeEq for CodeDigest {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for CodeDigest {
    /// Constant time: every byte is compared, whatever the earlier bytes were.
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for CodeDigest {}

impl fmt::Debug for CodeDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not secret without the key, but a digest next to a leaked key lets anyone
        // brute-force a short code: keep it out of logs.
        f.write_str("CodeDigest(<redacted>)")
    }
}

impl Serialize for CodeDigest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64url())
    }
}

impl<'de> Deserialize<'de> for CodeDigest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::from_base64url(&text).map_err(serde::de::Error::custom)
    }
}

/// A stored [`CodeDigest`] could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodeDigestError {
    /// The text is not base64url without padding.
    #[error("code digest is not base64url")]
    NotBase64url,
    /// The decoded digest is not 32 bytes long.
    #[error("code digest has wrong length: {len} bytes, expected 32")]
    WrongLength {
        /// The decoded length.
        len: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CodeKey {
        CodeKey::from_bytes([7; CODE_KEY_LEN])
    }

    #[test]
    fn padded_key_gives_the_same_mac_as_the_plain_key() {
        let plain = <HmacSha256 as KeyInit>::new_from_slice(&[7; CODE_KEY_LEN])
            .unwrap()
            .chain_update(b"purpose\x00123456")
            .finalize()
            .into_bytes();
        assert_eq!(key().digest(b"purpose", b"123456").0, plain.as_slice());
    }

    #[test]
    fn digest_matches_a_known_answer() {
        // HMAC-SHA256(key = 32 bytes of 0x07, "purpose" || 0x00 || "123456"), computed
        // independently with Python's hmac module.
        assert_eq!(
            key().digest(b"purpose", b"123456").to_base64url(),
            "L70lp2i7NBGHYK_AAPhw4T2043Jonn48Rw8zCqIQKHU"
        );
    }

    #[test]
    fn purpose_changes_the_digest() {
        assert_ne!(
            key().digest(b"flow-1", b"123456"),
            key().digest(b"flow-2", b"123456")
        );
    }

    #[test]
    fn key_changes_the_digest() {
        let other = CodeKey::from_bytes([8; CODE_KEY_LEN]);
        assert_ne!(key().digest(b"p", b"123456"), other.digest(b"p", b"123456"));
    }

    #[test]
    fn from_slice_refuses_other_lengths() {
        assert_eq!(
            CodeKey::from_slice(&[0; 31]).unwrap_err(),
            CodeKeyError::WrongLength { len: 31 }
        );
        assert!(CodeKey::from_slice(&[0; 33]).is_err());
        assert!(CodeKey::from_slice(&[]).is_err());
        let from_slice = CodeKey::from_slice(&[7; 32]).unwrap();
        assert_eq!(from_slice.digest(b"p", b"c"), key().digest(b"p", b"c"));
    }

    #[test]
    fn generated_keys_differ() {
        let mut rng = crate::random::os_rng();
        let a = CodeKey::generate(&mut rng);
        let b = CodeKey::generate(&mut rng);
        assert_ne!(a.digest(b"p", b"c"), b.digest(b"p", b"c"));
    }

    #[test]
    fn debug_hides_key_and_digest_bytes() {
        let shown = format!("{:?} {:?}", key(), key().digest(b"p", b"c"));
        assert_eq!(shown, "CodeKey(<redacted>) CodeDigest(<redacted>)");
    }

    #[test]
    fn digest_serializes_as_unpadded_base64url() {
        let digest = key().digest(b"p", b"c");
        let json = serde_json::to_string(&digest).unwrap();
        assert_eq!(json.len(), 43 + 2);
        assert!(!json.contains('=') && !json.contains('+') && !json.contains('/'));
        let back: CodeDigest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, digest);
    }

    #[test]
    fn digest_deserialization_refuses_bad_text() {
        assert!(serde_json::from_str::<CodeDigest>("\"not base64!\"").is_err());
        assert_eq!(
            CodeDigest::from_base64url("AAAA").unwrap_err(),
            CodeDigestError::WrongLength { len: 3 }
        );
        assert_eq!(
            CodeDigest::from_base64url("A+").unwrap_err(),
            CodeDigestError::NotBase64url
        );
    }
}
