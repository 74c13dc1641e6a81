//! INN, the taxpayer number issued by the Federal Tax Service (FNS).

use std::fmt;
use std::str::FromStr;

use super::{digit_values, serde_as_canonical_string};

/// A taxpayer number (INN): 12 digits for a person, 10 for a legal entity.
///
/// Spaces anywhere are ignored. The check digits follow the FNS rule: each is the sum of
/// the preceding digits times fixed weights, modulo 11, modulo 10.
///
/// | kind | digits | weights |
/// |---|---|---|
/// | legal entity | 10, check digit 10th | 2 4 10 3 5 9 4 6 8 |
/// | person | 12, check digit 11th | 7 2 4 10 3 5 9 4 6 8 |
/// | person | 12, check digit 12th | 3 7 2 4 10 3 5 9 4 6 8 |
///
/// All zeros satisfies the arithmetic but is no one's number, so it is refused.
///
/// ```
/// use portal_auth::{Inn, InnKind};
///
/// let inn: Inn = "7707083893".parse()?;
/// assert_eq!(inn.kind(), InnKind::LegalEntity);
/// # Ok::<(), portal_auth::InnError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Inn {
    /// 10 or 12 ASCII digits with valid check digits.
    digits: String,
}

/// Whose taxpayer number an [`Inn`] is, told by its length.
///
/// Exhaustive on purpose: the tax code knows exactly these two lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InnKind {
    /// A person's INN: 12 digits, two check digits.
    Personal,
    /// An organisation's INN: 10 digits, one check digit.
    LegalEntity,
}

/// Why a string is not a valid INN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InnError {
    /// Something other than digits and spaces.
    #[error("inn contains characters other than digits")]
    NotDigits,
    /// Neither 10 nor 12 digits.
    #[error("inn must have 10 or 12 digits")]
    WrongLength,
    /// Every digit is zero.
    #[error("inn is all zeros")]
    AllZeros,
    /// A check digit does not match the digits before it.
    #[error("inn check digit is wrong")]
    BadChecksum,
}

const LEGAL_WEIGHTS: [u32; 9] = [2, 4, 10, 3, 5, 9, 4, 6, 8];
const PERSONAL_WEIGHTS_11: [u32; 10] = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const PERSONAL_WEIGHTS_12: [u32; 11] = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];

impl Inn {
    /// Whether this is a person's or a legal entity's number.
    pub fn kind(&self) -> InnKind {
        if self.digits.len() == 12 {
            InnKind::Personal
        } else {
            InnKind::LegalEntity
        }
    }

    /// The digits, 12 or 10 of them.
    pub fn digits(&self) -> &str {
        &self.digits
    }
}

/// The check digit of the digits before it, weighted by `weights`.
fn check_digit(digits: &str, weights: &[u32]) -> u32 {
    let sum: u32 = digit_values(digits)
        .zip(weights)
        .map(|(digit, weight)| digit * weight)
        .sum();
    sum % 11 % 10
}

/// Whether the digit at `position` is the check digit of those before it.
fn check_holds(digits: &str, position: usize, weights: &[u32]) -> bool {
    let (Some(before), Some(check)) = (digits.get(..position), digits.get(position..=position))
    else {
        return false;
    };
    check.parse::<u32>().ok() == Some(check_digit(before, weights))
}

impl FromStr for Inn {
    type Err = InnError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let mut digits = String::with_capacity(12);
        for c in input.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '\t' | '\u{a0}' => {}
                _ => return Err(InnError::NotDigits),
            }
        }

        let checks_hold = match digits.len() {
            10 => check_holds(&digits, 9, &LEGAL_WEIGHTS),
            12 => {
                check_holds(&digits, 10, &PERSONAL_WEIGHTS_11)
                    && check_holds(&digits, 11, &PERSONAL_WEIGHTS_12)
            }
            _ => return Err(InnError::WrongLength),
        };
        if digits.bytes().all(|b| b == b'0') {
            return Err(InnError::AllZeros);
        }
        if !checks_hold {
            return Err(InnError::BadChecksum);
        }

        Ok(Self { digits })
    }
}

impl fmt::Display for Inn {
    /// The digits alone, as the tax service writes them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.digits)
    }
}

serde_as_canonical_string!(Inn, "an inn");

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Result<Inn, InnError> {
        input.parse()
    }

    /// Completes 9 digits into a valid legal-entity INN.
    fn legal(nine: &str) -> String {
        format!("{nine}{}", check_digit(nine, &LEGAL_WEIGHTS))
    }

    /// Completes 10 digits into a valid personal INN.
    fn personal(ten: &str) -> String {
        let eleven = format!("{ten}{}", check_digit(ten, &PERSONAL_WEIGHTS_11));
        format!("{eleven}{}", check_digit(&eleven, &PERSONAL_WEIGHTS_12))
    }

    #[test]
    fn computed_check_digits_match_published_numbers() {
        // Numbers printed on public registry extracts.
        assert_eq!(legal("770708389"), "7707083893");
        assert_eq!(personal("5001007322"), "500100732259");
    }

    #[test]
    fn valid_legal_entity_inn_is_accepted() {
        let inn = parse("7707083893").unwrap();
        assert_eq!(inn.kind(), InnKind::LegalEntity);
        assert_eq!(inn.digits(), "7707083893");
    }

    #[test]
    fn valid_personal_inn_is_accepted() {
        for number in [
            "500100732259",
            &personal("7730123456"),
            &personal("0101020304"),
        ] {
            let inn = parse(number).unwrap();
            assert_eq!(inn.kind(), InnKind::Personal, "{number}");
            assert_eq!(inn.digits(), number);
        }
    }

    #[test]
    fn spaces_are_ignored() {
        assert_eq!(parse(" 7707 083 893 ").unwrap().digits(), "7707083893");
    }

    /// Every number with one digit replaced by another.
    fn single_digit_corruptions(valid: &str) -> Vec<String> {
        let mut corrupted = Vec::new();
        for position in 0..valid.len() {
            for replacement in b'0'..=b'9' {
                let mut bytes = valid.as_bytes().to_vec();
                if bytes[position] != replacement {
                    bytes[position] = replacement;
                    corrupted.push(String::from_utf8(bytes).unwrap());
                }
            }
        }
        corrupted
    }

    #[test]
    fn every_single_digit_corruption_of_a_legal_entity_inn_fails() {
        for valid in ["7707083893", &legal("123456789"), &legal("500000001")] {
            for corrupted in single_digit_corruptions(valid) {
                assert_eq!(parse(&corrupted), Err(InnError::BadChecksum), "{corrupted}");
            }
        }
    }

    #[test]
    fn every_single_digit_corruption_of_a_personal_inn_fails() {
        for valid in [
            "500100732259",
            &personal("7730123456"),
            &personal("1111111111"),
        ] {
            for corrupted in single_digit_corruptions(valid) {
                assert_eq!(parse(&corrupted), Err(InnError::BadChecksum), "{corrupted}");
            }
        }
    }

    #[test]
    fn all_zeros_are_refused_though_the_checks_hold() {
        assert_eq!(parse("0000000000"), Err(InnError::AllZeros));
        assert_eq!(parse("000000000000"), Err(InnError::AllZeros));
    }

    #[test]
    fn lengths_other_than_10_and_12_are_refused() {
        for typed in ["", "770708389", "77070838931", "5001007322590"] {
            assert_eq!(parse(typed), Err(InnError::WrongLength), "{typed}");
        }
    }

    #[test]
    fn letters_and_dashes_are_refused() {
        for typed in ["770708389x", "7707-083-893", "ИНН 7707083893"] {
            assert_eq!(parse(typed), Err(InnError::NotDigits), "{typed}");
        }
    }

    #[test]
    fn display_is_the_digits_and_parses_back() {
        let inn = parse("5001 0073 2259").unwrap();
        assert_eq!(inn.to_string(), "500100732259");
        assert_eq!(parse(&inn.to_string()).unwrap(), inn);
    }

    #[test]
    fn serde_uses_the_digits_and_refuses_bad_check_digits() {
        let inn = parse("7707083893").unwrap();
        let json = serde_json::to_string(&inn).unwrap();
        assert_eq!(json, "\"7707083893\"");
        assert_eq!(serde_json::from_str::<Inn>(&json).unwrap(), inn);
        assert!(serde_json::from_str::<Inn>("\"7707083894\"").is_err());
    }
}
