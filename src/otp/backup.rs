//! Backup codes: ten single-use codes a person keeps on paper for when the phone or the
//! authenticator app is gone.

use rand::CryptoRng;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use super::alphabet;
use super::key::{CodeDigest, CodeKey};
use crate::OneTimeCode;

/// Characters in one backup code (about 49 bits from the unambiguous alphabet).
const BACKUP_CODE_LEN: usize = 10;

/// Characters before the dash in the displayed form `XXXXX-XXXXX`.
const GROUP_LEN: usize = 5;

/// The purpose every backup code is digested under. Backup codes belong to an account,
/// not to a flow, so the purpose is fixed; it still keeps their digests apart from
/// those of any flow's codes.
const PURPOSE: &[u8] = b"portal-auth/backup-code";

/// A set of backup codes for second-factor login.
///
/// [`BackupCodes::generate`] makes [`BackupCodes::COUNT`] codes of ten characters from
/// the unambiguous alphabet (uppercase Latin and digits without 0/O, 1/I/L, U), shown
/// as `XXXXX-XXXXX`, and their digests under the [`CodeKey`]. Show the codes once;
/// store only the digests. [`consume_backup_code`] accepts each code once.
///
/// ```
/// use portal_auth::otp::{BackupCodes, CodeKey, consume_backup_code};
///
/// let key = CodeKey::generate(&mut rand::rng());
/// let (codes, mut stored) = BackupCodes::generate(&key, &mut rand::rng());
/// assert_eq!(codes.len(), 10);
///
/// let first = codes[0].expose_secret();
/// assert!(consume_backup_code(&mut stored, &key, first));
/// assert!(!consume_backup_code(&mut stored, &key, first));
/// assert_eq!(stored.len(), 9);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BackupCodes;

impl BackupCodes {
    /// How many codes one set holds.
    pub const COUNT: usize = 10;

    /// A fresh set: the codes to show the person, and the digests to store in the same
    /// order. A new set replaces the old one entirely.
    ///
    /// Codes are drawn independently; two codes of one set coincide with probability
    /// about 45 / 30^10 (below 10^-13), and even then each still works once.
    #[must_use]
    pub fn generate(
        key: &CodeKey,
        rng: &mut impl CryptoRng,
    ) -> (Vec<OneTimeCode>, Vec<CodeDigest>) {
        (0..Self::COUNT)
            .map(|_| {
                let code = alphabet::draw(alphabet::UNAMBIGUOUS, BACKUP_CODE_LEN, rng);
                let digest = key.digest(PURPOSE, code.as_bytes());
                let (head, tail) = code.split_at(GROUP_LEN.min(code.len()));
                (OneTimeCode::new(format!("{head}-{tail}")), digest)
            })
            .unzip()
    }
}

/// Uses up a backup code: if `candidate` matches one of `stored`, that digest is
/// removed and `true` returned; otherwise `stored` is left alone and `false` returned.
///
/// The candidate is read leniently (any case, with or without the dash or spaces,
/// Cyrillic look-alike letters accepted). One digest is computed and compared against
/// every stored entry in constant time, and the scan never stops early, so the time
/// taken does not tell which entry matched or whether one did. The removal that follows
/// a match shifts the later entries, which takes time depending on the position; that
/// reveals only where a code the caller already proved to know was stored.
///
/// The caller persists `stored` whatever the result; the store must make the removal
/// atomic so that one code cannot be used by two racing logins.
pub fn consume_backup_code(stored: &mut Vec<CodeDigest>, key: &CodeKey, candidate: &str) -> bool {
    let Some(code) = alphabet::read_unambiguous(candidate, BACKUP_CODE_LEN) else {
        // Cannot be a backup code; its shape is no secret to whoever typed it.
        return false;
    };
    let digest = key.digest(PURPOSE, code.as_bytes());

    let mut found = Choice::from(0);
    let mut index = 0_u64;
    for (i, entry) in (0_u64..).zip(stored.iter()) {
        let matches = entry.ct_eq(&digest);
        index.conditional_assign(&i, matches & !found);
        found |= matches;
    }

    if !bool::from(found) {
        return false;
    }
    match usize::try_from(index) {
        Ok(index) if index < stored.len() => {
            stored.remove(index);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn key() -> CodeKey {
        CodeKey::from_bytes([9; 32])
    }

    fn generate() -> (Vec<OneTimeCode>, Vec<CodeDigest>) {
        BackupCodes::generate(&key(), &mut crate::random::os_rng())
    }

    #[test]
    fn ten_codes_grouped_five_dash_five() {
        let (codes, stored) = generate();
        assert_eq!(codes.len(), 10);
        assert_eq!(stored.len(), 10);
        let distinct: HashSet<_> = codes.iter().map(OneTimeCode::expose_secret).collect();
        assert_eq!(distinct.len(), 10);
        for code in &codes {
            let code = code.expose_secret();
            assert_eq!(code.len(), 11, "{code}");
            assert_eq!(code.as_bytes()[5], b'-', "{code}");
            assert!(
                code.bytes()
                    .filter(|&b| b != b'-')
                    .all(|b| alphabet::UNAMBIGUOUS.contains(&b)),
                "{code}"
            );
        }
    }

    #[test]
    fn backup_code_is_accepted_once_then_refused() {
        let (codes, mut stored) = generate();
        let third = codes[2].expose_secret();
        assert!(consume_backup_code(&mut stored, &key(), third));
        assert_eq!(stored.len(), 9);
        assert!(!consume_backup_code(&mut stored, &key(), third));
        assert_eq!(stored.len(), 9);
    }

    #[test]
    fn every_backup_code_works_in_any_order() {
        let (codes, mut stored) = generate();
        for code in codes.iter().rev() {
            assert!(consume_backup_code(
                &mut stored,
                &key(),
                code.expose_secret()
            ));
        }
        assert!(stored.is_empty());
    }

    #[test]
    fn consuming_one_code_removes_only_its_digest() {
        let (codes, mut stored) = generate();
        let expected: Vec<CodeDigest> = stored
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != 4)
            .map(|(_, d)| d.clone())
            .collect();
        assert!(consume_backup_code(
            &mut stored,
            &key(),
            codes[4].expose_secret()
        ));
        assert_eq!(stored, expected);
    }

    #[test]
    fn backup_code_is_read_leniently() {
        let (codes, mut stored) = generate();
        let typed = format!(
            " {} ",
            codes[0].expose_secret().replace('-', "").to_lowercase()
        );
        assert!(consume_backup_code(&mut stored, &key(), &typed));
    }

    #[test]
    fn unknown_or_malformed_backup_code_changes_nothing() {
        let (_, mut stored) = generate();
        let before = stored.clone();
        for bad in [
            "",
            "AAAAA-AAAAA",
            "AAAAA-AAAA",
            "00000-00000",
            "AAAAA-AAAAA-A",
        ] {
            assert!(!consume_backup_code(&mut stored, &key(), bad), "{bad}");
        }
        assert_eq!(stored, before);
    }

    #[test]
    fn backup_code_under_another_key_is_refused() {
        let (codes, mut stored) = generate();
        let other = CodeKey::from_bytes([1; 32]);
        assert!(!consume_backup_code(
            &mut stored,
            &other,
            codes[0].expose_secret()
        ));
    }

    #[test]
    fn backup_digest_differs_from_a_flow_code_digest() {
        assert_ne!(
            key().digest(PURPOSE, b"ABCDEFGHJK"),
            key().digest(b"flow", b"ABCDEFGHJK")
        );
    }

    proptest::proptest! {
        #[test]
        fn any_candidate_leaves_a_full_set_alone(candidate in "\\PC{0,30}") {
            let (_, mut stored) = BackupCodes::generate(&key(), &mut crate::random::os_rng());
            let before = stored.clone();
            // A random string is a valid code with negligible probability.
            proptest::prop_assert!(!consume_backup_code(&mut stored, &key(), &candidate));
            proptest::prop_assert_eq!(stored, before);
        }
    }
}
