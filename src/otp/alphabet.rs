//! Drawing code characters uniformly, and reading back what a person typed.
//!
//! Sampling is hand-rolled rejection sampling over single random bytes rather than
//! `rand::RngExt::random_range`: that single-sample path (Canon's method) is documented
//! by rand as slightly biased unless its `unbiased` feature is on, and `Uniform::new`
//! is fallible. Rejecting the top `256 % n` byte values is a few lines, total, and
//! exactly uniform.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::CryptoRng;
use zeroize::Zeroizing;

/// Characters of postal activation codes and backup codes: uppercase Latin letters and
/// digits without the look-alikes 0/O, 1/I/L and without U (Crockford's choice, which
/// keeps many accidental words out). 30 characters, about 4.9 bits each.
pub(crate) const UNAMBIGUOUS: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Decimal digits of numeric codes.
const DIGITS: &[u8; 10] = b"0123456789";

/// Random bytes behind an e-mail link token: 128 bits (NIST SP 800-63B 5.1.1.2 asks
/// for at least 64 bits for look-up secrets; link tokens are long-lived, so more).
pub(crate) const LINK_TOKEN_BYTES: usize = 16;

/// Length of a link token in base64url without padding.
pub(crate) const LINK_TOKEN_LEN: usize = 22;

/// `len` characters drawn independently and uniformly from `alphabet`.
pub(crate) fn draw(alphabet: &[u8], len: usize, rng: &mut impl CryptoRng) -> Zeroizing<String> {
    let mut code = Zeroizing::new(String::with_capacity(len));
    // An empty alphabet, or one longer than 256, cannot be sampled with one byte; the
    // alphabets here are constants of 10 and 30 characters.
    let Ok(n) = u8::try_from(alphabet.len()) else {
        return code;
    };
    if n == 0 {
        return code;
    }
    // The largest multiple of n that fits in 0..=256; bytes at or above it are redrawn.
    let limit = 256 - (256 % u16::from(n));
    let mut byte = [0_u8; 1];
    while code.len() < len {
        rng.fill_bytes(&mut byte);
        if u16::from(byte[0]) < limit {
            let index = usize::from(byte[0] % n);
            if let Some(&c) = alphabet.get(index) {
                code.push(char::from(c));
            }
        }
    }
    code
}

/// A numeric code of `digits` decimal digits, leading zeros kept.
pub(crate) fn numeric(digits: u8, rng: &mut impl CryptoRng) -> Zeroizing<String> {
    draw(DIGITS, usize::from(digits), rng)
}

/// A 128-bit link token as 22 base64url characters.
pub(crate) fn link_token(rng: &mut impl CryptoRng) -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0_u8; LINK_TOKEN_BYTES]);
    rng.fill_bytes(bytes.as_mut());
    Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()))
}

/// A numeric code as typed: trimmed, inner spaces dropped. `None` unless exactly
/// `digits` ASCII digits remain.
pub(crate) fn read_numeric(candidate: &str, digits: u8) -> Option<Zeroizing<String>> {
    let code: Zeroizing<String> =
        Zeroizing::new(candidate.chars().filter(|c| !c.is_whitespace()).collect());
    let well_formed = code.len() == usize::from(digits) && code.bytes().all(|b| b.is_ascii_digit());
    well_formed.then_some(code)
}

/// A link token as received: trimmed. `None` unless it is 22 base64url characters.
pub(crate) fn read_link_token(candidate: &str) -> Option<Zeroizing<String>> {
    let code = candidate.trim();
    let well_formed = code.len() == LINK_TOKEN_LEN
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then(|| Zeroizing::new(code.to_owned()))
}

/// A code from the unambiguous alphabet as typed: spaces and dashes dropped, letters
/// uppercased, Cyrillic letters that look like Latin ones (a Russian keyboard layout
/// left on) read as those Latin letters. `None` unless exactly `len` characters of the
/// alphabet remain.
pub(crate) fn read_unambiguous(candidate: &str, len: usize) -> Option<Zeroizing<String>> {
    let mut code = Zeroizing::new(String::with_capacity(len));
    for c in candidate.chars() {
        if c.is_whitespace() || is_dash(c) {
            continue;
        }
        let c = latin_look_alike(c).unwrap_or(c).to_ascii_uppercase();
        if !u8::try_from(c).is_ok_and(|b| UNAMBIGUOUS.contains(&b)) {
            return None;
        }
        code.push(c);
    }
    (code.len() == len).then_some(code)
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

/// The Latin capital that a Cyrillic letter looks like, for the letters that are in
/// [`UNAMBIGUOUS`] or look like one that is.
fn latin_look_alike(c: char) -> Option<char> {
    let latin = match c {
        'А' | 'а' => 'A',
        'В' | 'в' => 'B',
        'С' | 'с' => 'C',
        'Е' | 'е' => 'E',
        'Н' | 'н' => 'H',
        'К' | 'к' => 'K',
        'М' | 'м' => 'M',
        'Р' | 'р' => 'P',
        'Т' | 'т' => 'T',
        'Х' | 'х' => 'X',
        'У' | 'у' => 'Y',
        _ => return None,
    };
    Some(latin)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashSet;
    use std::convert::Infallible;

    use rand::{TryCryptoRng, TryRng};

    use super::*;

    /// A generator that replays a fixed script of bytes, to pin rejection sampling.
    pub(crate) struct Scripted {
        bytes: Vec<u8>,
        at: usize,
    }

    impl Scripted {
        pub(crate) fn new(bytes: &[u8]) -> Self {
            Self {
                bytes: bytes.to_vec(),
                at: 0,
            }
        }
    }

    impl TryRng for Scripted {
        type Error = Infallible;

        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            let mut b = [0; 4];
            self.try_fill_bytes(&mut b)?;
            Ok(u32::from_le_bytes(b))
        }

        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            let mut b = [0; 8];
            self.try_fill_bytes(&mut b)?;
            Ok(u64::from_le_bytes(b))
        }

        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            for d in dst {
                *d = self.bytes[self.at % self.bytes.len()];
                self.at += 1;
            }
            Ok(())
        }
    }

    impl TryCryptoRng for Scripted {}

    #[test]
    fn numeric_rejects_bytes_that_would_bias_the_digits() {
        // 250..=255 would make 0..=5 more likely than 6..=9; they must be skipped.
        let mut rng = Scripted::new(&[250, 255, 9, 253, 249, 0, 10, 125]);
        assert_eq!(numeric(5, &mut rng).as_str(), "99005");
    }

    #[test]
    fn unambiguous_rejects_bytes_that_would_bias_the_letters() {
        // 240..=255 are the tail beyond 8 * 30.
        let mut rng = Scripted::new(&[240, 0, 255, 29, 30]);
        assert_eq!(draw(UNAMBIGUOUS, 3, &mut rng).as_str(), "2Z2");
    }

    #[test]
    fn every_digit_value_is_reachable_and_roughly_even() {
        let mut rng = crate::random::os_rng();
        let mut counts = [0_u32; 10];
        for _ in 0..2_000 {
            for b in numeric(10, &mut rng).bytes() {
                counts[usize::from(b - b'0')] += 1;
            }
        }
        // 20 000 digits: each expected 2 000; 1 700..2 300 is over 6 sigma wide.
        for count in counts {
            assert!((1_700..2_300).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn unambiguous_alphabet_has_no_look_alikes() {
        for bad in b"01OILU" {
            assert!(!UNAMBIGUOUS.contains(bad));
        }
        let distinct: HashSet<_> = UNAMBIGUOUS.iter().collect();
        assert_eq!(distinct.len(), UNAMBIGUOUS.len());
    }

    #[test]
    fn link_tokens_are_22_url_safe_characters() {
        let mut rng = crate::random::os_rng();
        let token = link_token(&mut rng);
        assert_eq!(token.len(), LINK_TOKEN_LEN);
        assert!(read_link_token(&token).is_some());
    }

    #[test]
    fn read_numeric_drops_spaces_and_refuses_other_characters() {
        assert_eq!(read_numeric(" 123 456\n", 6).unwrap().as_str(), "123456");
        assert!(read_numeric("12345", 6).is_none());
        assert!(read_numeric("1234567", 6).is_none());
        assert!(read_numeric("12345a", 6).is_none());
        assert!(read_numeric("12345\0", 6).is_none());
        assert!(read_numeric("١٢٣٤٥٦", 6).is_none());
    }

    #[test]
    fn read_unambiguous_uppercases_and_drops_separators() {
        assert_eq!(
            read_unambiguous(" abcde-fghjk ", 10).unwrap().as_str(),
            "ABCDEFGHJK"
        );
        assert_eq!(read_unambiguous("AB CD", 4).unwrap().as_str(), "ABCD");
    }

    #[test]
    fn read_unambiguous_reads_cyrillic_look_alikes_as_latin() {
        assert_eq!(
            read_unambiguous("АВСЕН-кмртх", 10).unwrap().as_str(),
            "ABCEHKMPTX"
        );
    }

    #[test]
    fn read_unambiguous_refuses_excluded_and_foreign_characters() {
        assert!(read_unambiguous("ABCDEFGHJ0", 10).is_none());
        assert!(read_unambiguous("ABCDEFGHJO", 10).is_none());
        assert!(read_unambiguous("ABCDEFGHJ!", 10).is_none());
        assert!(read_unambiguous("ABCDEFGHJЖ", 10).is_none());
        assert!(read_unambiguous("ABCDEFGHJ", 10).is_none());
    }

    #[test]
    fn read_link_token_refuses_wrong_length_and_characters() {
        assert!(read_link_token("short").is_none());
        assert!(read_link_token("AAAAAAAAAAAAAAAAAAAAA+").is_none());
        assert_eq!(
            read_link_token(" AAAAAAAAAAAAAAAAAAAAA_ ")
                .unwrap()
                .as_str(),
            "AAAAAAAAAAAAAAAAAAAAA_"
        );
    }
}
