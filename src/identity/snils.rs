//! SNILS, the individual insurance account number of the Russian Social Fund.

use std::fmt;
use std::str::FromStr;

use super::{digit_values, serde_as_canonical_string};

/// A SNILS: nine digits of number and a two-digit check number, shown `112-233-445 95`.
///
/// Spaces and dashes are accepted anywhere (`112-233-445 95`, `11223344595`).
///
/// # The check number
///
/// Each of the first nine digits is multiplied by its weight, 9 for the first down to 1
/// for the ninth, and the products are summed. A sum below 100 is the check number;
/// 100 and 101 give `00`; above 101 the sum is taken modulo 101, and a remainder of 100
/// again gives `00`. Numbers up to and including `001-001-998` were issued before the
/// check number existed, so any check digits are accepted for them.
///
/// ```
/// use portal_auth::Snils;
///
/// let snils: Snils = "11223344595".parse()?;
/// assert_eq!(snils.to_string(), "112-233-445 95");
/// # Ok::<(), portal_auth::SnilsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Snils {
    /// Eleven ASCII digits with a valid check number.
    digits: String,
}

/// Why a string is not a valid SNILS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnilsError {
    /// Something other than digits, spaces and dashes.
    #[error("snils contains characters other than digits")]
    NotDigits,
    /// Not exactly 11 digits.
    #[error("snils must have 11 digits")]
    WrongLength,
    /// The last two digits do not match the check number of the first nine.
    #[error("snils check number is wrong")]
    BadChecksum,
}

/// The last number issued without a check number.
const LAST_UNCHECKED: u32 = 1_001_998;

impl Snils {
    /// The 11 digits without separators: `11223344595`.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The check number of nine digits, by the Social Fund's rule above.
    fn check_number(number: &str) -> u32 {
        let sum: u32 = digit_values(number)
            .zip((1..=9).rev())
            .map(|(digit, weight)| digit * weight)
            .sum();
        match sum {
            0..100 => sum,
            100 | 101 => 0,
            _ => (sum % 101) % 100,
        }
    }
}

impl FromStr for Snils {
    type Err = SnilsError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let mut digits = String::with_capacity(11);
        for c in input.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '\t' | '\u{a0}' | '-' => {}
                _ => return Err(SnilsError::NotDigits),
            }
        }
        if digits.len() != 11 {
            return Err(SnilsError::WrongLength);
        }

        // The digits are ASCII, so these splits fall on character boundaries.
        let (number, check) = digits.split_at(9);
        let issued_unchecked = number.parse::<u32>().is_ok_and(|n| n <= LAST_UNCHECKED);
        let check_matches = check.parse::<u32>().ok() == Some(Self::check_number(number));
        if !issued_unchecked && !check_matches {
            return Err(SnilsError::BadChecksum);
        }

        Ok(Self { digits })
    }
}

impl fmt::Display for Snils {
    /// The official form, `112-233-445 95`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let part = |range: std::ops::Range<usize>| self.digits.get(range).unwrap_or_default();
        write!(
            f,
            "{}-{}-{} {}",
            part(0..3),
            part(3..6),
            part(6..9),
            part(9..11)
        )
    }
}

serde_as_canonical_string!(Snils, "a snils");

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Result<Snils, SnilsError> {
        input.parse()
    }

    #[test]
    fn known_valid_snils_is_accepted_in_all_spellings() {
        for typed in [
            "112-233-445 95",
            "11223344595",
            "112 233 445 95",
            " 1122-33-44595 ",
        ] {
            assert_eq!(parse(typed).unwrap().digits(), "11223344595", "{typed}");
        }
    }

    #[test]
    fn display_is_the_official_form_and_parses_back() {
        let snils = parse("11223344595").unwrap();
        assert_eq!(snils.to_string(), "112-233-445 95");
        assert_eq!(parse(&snils.to_string()).unwrap(), snils);
    }

    #[test]
    fn sum_below_100_is_the_check_number() {
        // 1*9 + 1*8 + 2*7 + 2*6 + 3*5 + 3*4 + 4*3 + 4*2 + 5*1 = 95
        assert_eq!(Snils::check_number("112233445"), 95);
    }

    #[test]
    fn sum_of_100_or_101_gives_00() {
        // 9*9 + 2*3 + 6*2 + 1*1 = 100
        assert_eq!(Snils::check_number("900000261"), 0);
        // 9*9 + 2*3 + 6*2 + 2*1 = 101
        assert_eq!(Snils::check_number("900000262"), 0);
        assert!(parse("900-000-261 00").is_ok());
        assert!(parse("900-000-262 00").is_ok());
        assert_eq!(parse("900-000-261 01"), Err(SnilsError::BadChecksum));
    }

    #[test]
    fn sum_above_101_is_taken_modulo_101() {
        // 9*9 + 2*3 + 7*2 + 1*1 = 102, and 102 mod 101 = 1
        assert_eq!(Snils::check_number("900000271"), 1);
        assert!(parse("900-000-271 01").is_ok());
        // 9 * (9 + 8 + ... + 1) = 405, and 405 mod 101 = 1
        assert_eq!(Snils::check_number("999999999"), 1);
    }

    #[test]
    fn remainder_of_100_gives_00() {
        // 9*9 + 9*8 + 3*7 + 3*6 + 2*3 + 1*2 + 1*1 = 201, and 201 mod 101 = 100
        assert_eq!(Snils::check_number("993300211"), 0);
        assert!(parse("993-300-211 00").is_ok());
        assert_eq!(parse("993-300-211 99"), Err(SnilsError::BadChecksum));
    }

    #[test]
    fn numbers_up_to_001_001_998_carry_no_check() {
        assert!(parse("001-001-998 00").is_ok());
        assert!(parse("001-001-998 77").is_ok());
        assert!(parse("000-000-001 42").is_ok());
        assert_eq!(parse("001-001-999 77"), Err(SnilsError::BadChecksum));
    }

    #[test]
    fn every_single_digit_corruption_of_the_check_number_fails() {
        let valid = "11223344595";
        for position in 9..11 {
            for replacement in b'0'..=b'9' {
                let mut bytes = valid.as_bytes().to_vec();
                if bytes[position] == replacement {
                    continue;
                }
                bytes[position] = replacement;
                let corrupted = String::from_utf8(bytes).unwrap();
                assert_eq!(
                    parse(&corrupted),
                    Err(SnilsError::BadChecksum),
                    "{corrupted}"
                );
            }
        }
    }

    #[test]
    fn corrupting_a_number_digit_fails() {
        assert_eq!(parse("112-233-446 95"), Err(SnilsError::BadChecksum));
        assert_eq!(parse("212-233-445 95"), Err(SnilsError::BadChecksum));
    }

    #[test]
    fn wrong_number_of_digits_is_refused() {
        for typed in ["", "1122334459", "112233445950", "112-233-445"] {
            assert_eq!(parse(typed), Err(SnilsError::WrongLength), "{typed}");
        }
    }

    #[test]
    fn letters_and_other_symbols_are_refused() {
        for typed in [
            "112-233-445 9a",
            "112.233.445 95",
            "+11223344595",
            "١١٢٢٣٣٤٤٥٩٥",
        ] {
            assert_eq!(parse(typed), Err(SnilsError::NotDigits), "{typed}");
        }
    }

    #[test]
    fn serde_uses_the_official_form_and_refuses_bad_checksums() {
        let snils = parse("11223344595").unwrap();
        let json = serde_json::to_string(&snils).unwrap();
        assert_eq!(json, "\"112-233-445 95\"");
        assert_eq!(serde_json::from_str::<Snils>(&json).unwrap(), snils);
        assert!(serde_json::from_str::<Snils>("\"112-233-445 96\"").is_err());
    }
}
