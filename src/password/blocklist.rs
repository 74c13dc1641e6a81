//! The list of common passwords and the lookup against it.
//!
//! The list (see `common-passwords.README.md` beside this file for its provenance) is
//! embedded in the binary and turned into a hash set on first use.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::normalize::collect_zeroizing;

/// The embedded list: lowercased, one password a line.
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

/// Shortest decorated base that still counts as common: below four characters, bases such
/// as `abc` or `123` would refuse too many ordinary passwords for the little they add.
const MIN_DECORATED_BASE: usize = 4;

/// The lookup set, built once.
fn set() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect()
    })
}

/// How many passwords the list holds.
#[cfg(test)]
fn len() -> usize {
    set().len()
}

/// Whether `lowercased` (an NFKC-normalised, lowercased password) is common.
///
/// Three forms are looked up:
///
/// - the password itself;
/// - the password as the Latin keys under it, when it was typed with the Russian layout
///   active (`зфыыцщкв` is `password`);
/// - the password without leading and trailing digits, punctuation and spaces
///   (`Password1!` is `password` decorated to pass composition rules, and such
///   decorations are the first thing a guessing tool tries), when that base is at least
///   four characters long.
pub(crate) fn is_common(lowercased: &str) -> bool {
    // The password under another name: wiped on drop like every other copy of it.
    let shifted = collect_zeroizing(
        lowercased.chars().map(russian_key_to_latin),
        lowercased.len(),
    );

    [lowercased, shifted.as_str()].into_iter().any(|form| {
        let set = set();
        if set.contains(form) {
            return true;
        }
        let base = form.trim_matches(|c: char| !c.is_alphabetic());
        base.len() != form.len() && base.chars().count() >= MIN_DECORATED_BASE && set.contains(base)
    })
}

/// The Latin key under a letter of the Russian (ЙЦУКЕН) layout; any other character is
/// returned unchanged.
pub(crate) fn russian_key_to_latin(c: char) -> char {
    const RUSSIAN: &str = "йцукенгшщзхъфывапролджэячсмитьбюё";
    const LATIN: &str = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`";

    RUSSIAN
        .chars()
        .zip(LATIN.chars())
        .find_map(|(ru, la)| (ru == c).then_some(la))
        .unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocklist_holds_at_least_ten_thousand_entries() {
        assert!(len() >= 10_000, "{}", len());
    }

    #[test]
    fn listed_password_is_common() {
        assert!(is_common("password"));
        assert!(is_common("qwerty123"));
    }

    #[test]
    fn password_typed_in_russian_layout_is_common() {
        assert!(is_common("зфыыцщкв"));
    }

    #[test]
    fn decorated_common_password_is_common() {
        assert!(is_common("password2024!"));
        assert!(is_common("!!dragon77"));
    }

    #[test]
    fn short_decorated_base_is_not_refused() {
        assert!(!is_common("abc!7301"));
    }

    #[test]
    fn unusual_password_is_not_common() {
        assert!(!is_common("correct horse battery staple lilac"));
        assert!(!is_common("тундра-морошка-2024"));
    }
}
