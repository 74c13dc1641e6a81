//! NFKC normalisation of passwords, into memory that is zeroized when dropped.

use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::Password;

/// The longest password, in UTF-8 bytes, that the crate normalises, checks or hashes.
///
/// NFKC can make text more than ten times longer (one `ﷺ` becomes 18 characters), and
/// a login form takes whatever it is sent: without a bound, a burst of logins with
/// megabyte passwords would allocate and hash without limit, outside the hasher's
/// memory pool. 4 KiB is far above any policy's maximum (128 code points by default,
/// at most 4 bytes each). Longer input is refused whole, never truncated: the policy
/// reports it too long, a hash of it is an error, and a verify of it spends one dummy
/// verification and does not match.
pub const MAX_PASSWORD_BYTES: usize = 4096;

/// Whether a password is longer than [`MAX_PASSWORD_BYTES`] as typed.
pub(crate) fn is_oversized(password: &Password) -> bool {
    password.expose_secret().len() > MAX_PASSWORD_BYTES
}

/// The password in Unicode normalisation form NFKC, as checked and hashed.
///
/// NFKC makes the same password typed on two keyboards the same string: a full-width
/// `Ａ` becomes `A`, a precomposed `й` and `и` followed by a combining breve become one
/// character (NIST SP 800-63B, 5.1.1.2). Nothing is trimmed or truncated: every character
/// the person typed counts.
///
/// The result lives in a [`Zeroizing`] string, and it is built so that no partial copy is
/// left behind in a reallocated buffer.
pub fn normalize(password: &Password) -> Zeroizing<String> {
    let raw = password.expose_secret();
    collect_zeroizing(raw.nfkc(), raw.len())
}

/// The lowercase form of an already normalised string, zeroized on drop.
pub(crate) fn lowercase(text: &str) -> Zeroizing<String> {
    collect_zeroizing(text.chars().flat_map(char::to_lowercase), text.len())
}

/// Collects characters into a zeroizing string.
///
/// `String` grows by reallocating and frees the old buffer without wiping it, so a
/// password collected with `collect()` can leave copies of its prefix on the heap. Here
/// the buffer is grown by hand: a larger zeroizing buffer is made, the text copied, and
/// the old buffer dropped, which wipes it.
pub(crate) fn collect_zeroizing(
    chars: impl Iterator<Item = char>,
    capacity_hint: usize,
) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(capacity_hint.max(16)));
    for c in chars {
        push_str(&mut out, c.encode_utf8(&mut [0; 4]));
    }
    out
}

/// Appends to a zeroizing string, growing it without leaving the old buffer unwiped.
pub(crate) fn push_str(out: &mut Zeroizing<String>, text: &str) {
    if out.len() + text.len() > out.capacity() {
        let needed = out.len() + text.len();
        let mut grown = Zeroizing::new(String::with_capacity(needed.max(out.capacity() * 2)));
        grown.push_str(out);
        *out = grown;
    }
    out.push_str(text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_letters_normalise_to_ascii() {
        let normalized = normalize(&Password::new("Ｐａｓｓ１"));
        assert_eq!(normalized.as_str(), "Pass1");
    }

    #[test]
    fn combining_breve_composes_into_short_i() {
        let normalized = normalize(&Password::new("и\u{306}"));
        assert_eq!(normalized.as_str(), "й");
    }

    #[test]
    fn normalisation_never_trims_or_truncates() {
        let long = " ".repeat(3) + &"ж".repeat(1000) + " ";
        let normalized = normalize(&Password::new(long.clone()));
        assert_eq!(normalized.as_str(), long);
    }

    #[test]
    fn expanding_characters_grow_the_buffer() {
        // U+FDFA expands to 18 characters under NFKC.
        let normalized = normalize(&Password::new("\u{FDFA}".repeat(20)));
        assert_eq!(normalized.chars().count(), 18 * 20);
    }

    #[test]
    fn lowercase_handles_cyrillic() {
        assert_eq!(lowercase("ИвАнОв").as_str(), "иванов");
    }
}
