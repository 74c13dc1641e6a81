//! Russian mobile phone numbers.

use std::fmt;
use std::str::FromStr;

use super::serde_as_canonical_string;

/// A Russian mobile phone number, kept in E.164 form (`+79123456789`).
///
/// # What is accepted
///
/// The ways people type a Russian mobile number, with any mix of spaces, dashes,
/// parentheses and dots between the digits:
///
/// | typed | read as |
/// |---|---|
/// | `+7 912 345-67-89` | country code 7, then the 10-digit national number |
/// | `8 (912) 345 67 89` | trunk prefix 8, then the national number |
/// | `79123456789` | 11 digits starting with 7: country code, then the national number |
/// | `9123456789` | 10 digits: the national number alone |
///
/// The national number must then be a mobile one: `9XX XXX XX XX`.
///
/// # What is refused, and why
///
/// - `+7 3XX…`, `+7 4XX…`, `+7 8XX…` and the unassigned `0`, `1`, `2`, `5` ranges are
///   landlines, toll-free or other non-mobile numbers: [`PhoneError::NotMobile`]. Codes are
///   sent by SMS, so only a mobile number is useful to the portal.
/// - `+7 6XX…` and `+7 7XX…` belong to Kazakhstan, which shares country code 7;
///   any `+` other than `+7` (`+1…`, `+380…`) is another country;
///   and 11 or more digits without `+` that do not start with 7 or 8 cannot be a Russian
///   number: all [`PhoneError::Foreign`].
/// - Fewer or more digits than one of the forms above: [`PhoneError::TooShort`],
///   [`PhoneError::TooLong`]; letters and other symbols: [`PhoneError::InvalidCharacter`].
///
/// # Why hand-rolled
///
/// The `phonenumber` crate carries the metadata of every country and a regex engine;
/// the portal needs only the handful of Russian rules above, which are easier to audit
/// written out than configured.
///
/// ```
/// use portal_auth::Phone;
///
/// let phone: Phone = "8 (912) 345-67-89".parse()?;
/// assert_eq!(phone.as_e164(), "+79123456789");
/// assert_eq!(phone.masked(), "+7 *** ***-**-89");
/// # Ok::<(), portal_auth::PhoneError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    /// `+7` and ten ASCII digits, the first of them `9`.
    e164: String,
}

/// Why a string is not a Russian mobile phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// Nothing but whitespace was given.
    #[error("phone is empty")]
    Empty,
    /// A letter or symbol other than a digit, space, dash, parenthesis, dot or leading `+`.
    ///
    /// The character is kept for a form to point at, but stays out of the message: a
    /// person who types a password into the one login field would otherwise put a
    /// piece of it into the host's logs.
    #[error("phone contains an invalid character")]
    InvalidCharacter(char),
    /// Fewer digits than any accepted form has.
    #[error("phone has too few digits")]
    TooShort,
    /// More digits than any accepted form has.
    #[error("phone has too many digits")]
    TooLong,
    /// A Russian number, but a landline, toll-free or otherwise not a mobile one.
    #[error("phone is not a mobile number")]
    NotMobile,
    /// A number of another country (Kazakhstan's +7 6XX and +7 7XX included).
    #[error("phone is not a russian number")]
    Foreign,
}

/// Digits in a Russian national (significant) number.
const NATIONAL_LEN: usize = 10;

impl Phone {
    /// The number in E.164 form: `+79123456789`.
    pub fn as_e164(&self) -> &str {
        &self.e164
    }

    /// The 11 digits of the E.164 form without the `+`: `79123456789`.
    pub fn digits(&self) -> &str {
        self.e164.strip_prefix('+').unwrap_or(&self.e164)
    }

    /// The number with all but its last two digits hidden: `+7 *** ***-**-89`.
    ///
    /// For telling a person where a code went without disclosing the number.
    pub fn masked(&self) -> String {
        let digits = self.digits();
        let last_two = digits.get(digits.len().saturating_sub(2)..).unwrap_or("");
        format!("+7 *** ***-**-{last_two}")
    }

    /// Reads a 10-digit national number, refusing anything but a mobile one.
    fn from_national(national: &str) -> Result<Self, PhoneError> {
        match national.bytes().next() {
            Some(b'9') => Ok(Self {
                e164: format!("+7{national}"),
            }),
            // +7 6XX and +7 7XX are Kazakhstan's share of country code 7.
            Some(b'6' | b'7') => Err(PhoneError::Foreign),
            _ => Err(PhoneError::NotMobile),
        }
    }
}

impl FromStr for Phone {
    type Err = PhoneError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let input = input.trim();
        if input.is_empty() {
            return Err(PhoneError::Empty);
        }

        let (international, rest) = match input.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        let mut digits = String::with_capacity(rest.len().min(16));
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '\t' | '\u{a0}' | '-' | '(' | ')' | '.' => {}
                other => return Err(PhoneError::InvalidCharacter(other)),
            }
        }

        if digits.is_empty() {
            return Err(PhoneError::TooShort);
        }
        let national = if international {
            international_national(&digits)?
        } else {
            domestic_national(&digits)?
        };
        Self::from_national(national)
    }
}

/// The national number of `+<digits>`: only `+7` and 10 more digits is Russian.
fn international_national(digits: &str) -> Result<&str, PhoneError> {
    let Some(national) = digits.strip_prefix('7') else {
        return Err(PhoneError::Foreign);
    };
    match national.len() {
        NATIONAL_LEN => Ok(national),
        n if n < NATIONAL_LEN => Err(PhoneError::TooShort),
        _ => Err(PhoneError::TooLong),
    }
}

/// The national number of digits typed without `+`: 10 digits alone, or 11 behind 7 or 8.
fn domestic_national(digits: &str) -> Result<&str, PhoneError> {
    let prefixed = digits.starts_with('7') || digits.starts_with('8');
    match digits.len() {
        n if n < NATIONAL_LEN => Err(PhoneError::TooShort),
        NATIONAL_LEN => Ok(digits),
        // The prefix is one ASCII digit, so slicing after it cannot split a character.
        11 if prefixed => Ok(digits.get(1..).unwrap_or_default()),
        _ if prefixed => Err(PhoneError::TooLong),
        _ => Err(PhoneError::Foreign),
    }
}

impl fmt::Display for Phone {
    /// The E.164 form, `+79123456789`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

serde_as_canonical_string!(Phone, "a russian mobile phone number");

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Result<Phone, PhoneError> {
        input.parse()
    }

    #[test]
    fn common_ways_of_typing_normalise_to_e164() {
        for typed in [
            "+7 912 345-67-89",
            "+7 (912) 345-67-89",
            "8 (912) 345 67 89",
            "8-912-345-67-89",
            "8.912.345.67.89",
            "79123456789",
            "89123456789",
            "9123456789",
            "(912) 345-67-89",
            "  +79123456789\t",
            "+7\u{a0}912\u{a0}345\u{a0}67\u{a0}89",
        ] {
            assert_eq!(parse(typed).unwrap().as_e164(), "+79123456789", "{typed}");
        }
    }

    #[test]
    fn digits_are_the_e164_form_without_plus() {
        assert_eq!(parse("89123456789").unwrap().digits(), "79123456789");
    }

    #[test]
    fn masked_shows_only_last_two_digits() {
        assert_eq!(parse("+79123456789").unwrap().masked(), "+7 *** ***-**-89");
        assert_eq!(parse("+79001112201").unwrap().masked(), "+7 *** ***-**-01");
    }

    #[test]
    fn display_is_e164_and_parses_back() {
        let phone = parse("8 912 345 67 89").unwrap();
        assert_eq!(phone.to_string(), "+79123456789");
        assert_eq!(parse(&phone.to_string()).unwrap(), phone);
    }

    #[test]
    fn landline_toll_free_and_unassigned_ranges_are_not_mobile() {
        for typed in [
            "+7 495 123-45-67",
            "8 (343) 123-45-67",
            "+7 800 555-35-35",
            "4951234567",
            "+7 012 345 67 89",
            "+7 512 345 67 89",
        ] {
            assert_eq!(parse(typed), Err(PhoneError::NotMobile), "{typed}");
        }
    }

    #[test]
    fn kazakhstan_and_other_countries_are_foreign() {
        for typed in [
            "+7 701 234 56 78",
            "+7 600 234 56 78",
            "87012345678",
            "+1 212 555 01 23",
            "+380 50 123 45 67",
            "+44 20 7946 0958",
            "380501234567",
            "12125550123",
        ] {
            assert_eq!(parse(typed), Err(PhoneError::Foreign), "{typed}");
        }
    }

    #[test]
    fn too_few_digits_are_refused() {
        for typed in ["912345678", "+7 912 345 67 8", "+", "+ ( )", "8", "-"] {
            assert_eq!(parse(typed), Err(PhoneError::TooShort), "{typed}");
        }
    }

    #[test]
    fn too_many_digits_are_refused() {
        for typed in ["+7 912 345 67 890", "891234567890", "791234567890"] {
            assert_eq!(parse(typed), Err(PhoneError::TooLong), "{typed}");
        }
    }

    #[test]
    fn letters_and_symbols_are_refused_with_the_character() {
        assert_eq!(parse("8912345678x"), Err(PhoneError::InvalidCharacter('x')));
        assert_eq!(
            parse("+7 912 345+67"),
            Err(PhoneError::InvalidCharacter('+'))
        );
        assert_eq!(
            parse("++79123456789"),
            Err(PhoneError::InvalidCharacter('+'))
        );
        assert_eq!(
            parse("８9123456789"),
            Err(PhoneError::InvalidCharacter('８'))
        );
        assert_eq!(
            parse("тел. 89123456789"),
            Err(PhoneError::InvalidCharacter('т'))
        );
    }

    #[test]
    fn blank_input_is_empty() {
        assert_eq!(parse(""), Err(PhoneError::Empty));
        assert_eq!(parse(" \t "), Err(PhoneError::Empty));
    }

    #[test]
    fn serde_uses_e164_and_refuses_invalid_numbers() {
        let phone = parse("8 912 345 67 89").unwrap();
        let json = serde_json::to_string(&phone).unwrap();
        assert_eq!(json, "\"+79123456789\"");
        assert_eq!(serde_json::from_str::<Phone>(&json).unwrap(), phone);
        assert!(serde_json::from_str::<Phone>("\"+74951234567\"").is_err());
        assert!(serde_json::from_str::<Phone>("79123456789").is_err());
    }

    #[test]
    fn error_messages_are_short_and_lowercase() {
        assert_eq!(
            PhoneError::NotMobile.to_string(),
            "phone is not a mobile number"
        );
        assert_eq!(
            PhoneError::InvalidCharacter('x').to_string(),
            "phone contains an invalid character",
            "the character stays out of the message"
        );
    }
}
