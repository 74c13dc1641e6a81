//! The Russian internal passport's series and number.

use std::fmt;
use std::str::FromStr;

use super::serde_as_canonical_string;

/// A Russian internal passport: a 4-digit series and a 6-digit number, shown `4506 123456`.
///
/// Accepted as `45 06 123456`, `4506 123456`, `4506123456`, with dashes or the `№` sign
/// between the parts (`4506 № 123456`), as on printed forms. The passport has no check
/// digit; a number of all zeros is never issued and is refused.
///
/// ```
/// use portal_auth::Passport;
///
/// let passport: Passport = "45 06 123456".parse()?;
/// assert_eq!((passport.series(), passport.number()), ("4506", "123456"));
/// assert_eq!(passport.to_string(), "4506 123456");
/// # Ok::<(), portal_auth::PassportError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Passport {
    /// Ten ASCII digits: the series, then the number.
    digits: String,
}

/// Why a string is not a passport series and number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PassportError {
    /// Something other than digits, spaces, dashes and `№`.
    #[error("passport contains characters other than digits")]
    NotDigits,
    /// Not 4 + 6 = 10 digits.
    #[error("passport must have a 4-digit series and a 6-digit number")]
    WrongLength,
    /// The 6-digit number is `000000`.
    #[error("passport number is all zeros")]
    ZeroNumber,
}

impl Passport {
    /// The 4-digit series: `4506`.
    pub fn series(&self) -> &str {
        self.digits.get(..4).unwrap_or_default()
    }

    /// The 6-digit number: `123456`.
    pub fn number(&self) -> &str {
        self.digits.get(4..).unwrap_or_default()
    }
}

impl FromStr for Passport {
    type Err = PassportError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let mut digits = String::with_capacity(10);
        for c in input.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '\t' | '\u{a0}' | '-' | '№' => {}
                _ => return Err(PassportError::NotDigits),
            }
        }
        if digits.len() != 10 {
            return Err(PassportError::WrongLength);
        }

        let passport = Self { digits };
        if passport.number().bytes().all(|b| b == b'0') {
            return Err(PassportError::ZeroNumber);
        }
        Ok(passport)
    }
}

impl fmt::Display for Passport {
    /// Series, a space, number: `4506 123456`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.series(), self.number())
    }
}

serde_as_canonical_string!(Passport, "a passport series and number");

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Result<Passport, PassportError> {
        input.parse()
    }

    #[test]
    fn common_spellings_give_series_and_number() {
        for typed in [
            "45 06 123456",
            "4506 123456",
            "4506123456",
            "4506-123456",
            "4506 № 123456",
            " 45 06  №123456 ",
        ] {
            let passport = parse(typed).unwrap();
            assert_eq!(passport.series(), "4506", "{typed}");
            assert_eq!(passport.number(), "123456", "{typed}");
        }
    }

    #[test]
    fn display_separates_series_and_number_and_parses_back() {
        let passport = parse("4506123456").unwrap();
        assert_eq!(passport.to_string(), "4506 123456");
        assert_eq!(parse(&passport.to_string()).unwrap(), passport);
    }

    #[test]
    fn all_zero_number_is_refused() {
        assert_eq!(parse("4506 000000"), Err(PassportError::ZeroNumber));
        assert_eq!(parse("0000 000000"), Err(PassportError::ZeroNumber));
    }

    #[test]
    fn number_with_one_nonzero_digit_is_accepted() {
        assert_eq!(parse("4506 000001").unwrap().number(), "000001");
    }

    #[test]
    fn wrong_number_of_digits_is_refused() {
        for typed in ["", "4506 12345", "4506 1234567", "450 123456"] {
            assert_eq!(parse(typed), Err(PassportError::WrongLength), "{typed}");
        }
    }

    #[test]
    fn letters_and_other_symbols_are_refused() {
        for typed in ["45O6 123456", "4506/123456", "серия 4506"] {
            assert_eq!(parse(typed), Err(PassportError::NotDigits), "{typed}");
        }
    }

    #[test]
    fn serde_uses_the_display_form_and_refuses_zero_numbers() {
        let passport = parse("4506123456").unwrap();
        let json = serde_json::to_string(&passport).unwrap();
        assert_eq!(json, "\"4506 123456\"");
        assert_eq!(serde_json::from_str::<Passport>(&json).unwrap(), passport);
        assert!(serde_json::from_str::<Passport>("\"4506 000000\"").is_err());
    }
}
