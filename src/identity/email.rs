//! E-mail addresses.

use std::fmt;
use std::str::FromStr;

use email_address::EmailAddress;

use super::serde_as_canonical_string;

/// An e-mail address, checked for syntax, with its domain in lower case.
///
/// The syntax check is the `email_address` crate's (RFC 5322 `addr-spec`, as the HTML
/// standard narrows it), with these portal choices:
///
/// - surrounding whitespace is trimmed;
/// - a display name (`Ivan <ivan@mail.ru>`) and a domain literal (`ivan@[192.0.2.1]`)
///   are refused: the portal sends mail to plain addresses on named hosts;
/// - the domain must have at least two labels (`mail.ru`, not `localhost`), each made of
///   letters, digits and inner hyphens only: the host-name rule of RFC 1123 (letters of any
///   script, for internationalised domains). The crate accepts any `atext` there
///   (`mail_ru.ru`, `a!b.ru`), which no mail host can be named;
/// - the domain is lower-cased, since domains are case-insensitive; the local part is kept
///   exactly as typed, since RFC 5321 lets the receiving server treat its case as
///   significant;
/// - the whole address is at most 254 bytes (RFC 5321 path limit), the local part at most
///   64 bytes.
///
/// No mailbox is contacted: whether the address works is learnt by sending it a link.
///
/// ```
/// use portal_auth::Email;
///
/// let email: Email = "  Ivan.Petrov@Mail.RU ".parse()?;
/// assert_eq!(email.as_str(), "Ivan.Petrov@mail.ru");
/// assert_eq!(email.masked(), "I***@mail.ru");
/// # Ok::<(), portal_auth::EmailError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email {
    /// `local@domain`, the domain lower-cased, already checked.
    address: String,
    /// Byte offset of the `@` that separates local part and domain (the last one).
    at: usize,
}

/// Why a string is not an acceptable e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    /// Nothing but whitespace was given.
    #[error("e-mail is empty")]
    Empty,
    /// Longer than 254 bytes.
    #[error("e-mail is longer than 254 bytes")]
    TooLong,
    /// No `@` separates a local part from a domain.
    #[error("e-mail has no @")]
    MissingAt,
    /// The part before `@` is empty, too long or has characters not allowed there.
    #[error("e-mail local part is invalid")]
    InvalidLocalPart,
    /// The part after `@` is empty, too long, a literal address, a single label or has
    /// characters not allowed there.
    #[error("e-mail domain is invalid")]
    InvalidDomain,
    /// A display name (`Name <address>`) or other text around the address.
    #[error("e-mail must be a bare address")]
    NotBare,
}

/// RFC 5321's limit on a forward path, less the angle brackets.
const MAX_LEN: usize = 254;

impl Email {
    /// The part before the `@`, exactly as typed.
    pub fn local_part(&self) -> &str {
        self.address.get(..self.at).unwrap_or_default()
    }

    /// The part after the `@`, in lower case.
    pub fn domain(&self) -> &str {
        self.address.get(self.at + 1..).unwrap_or_default()
    }

    /// The whole address, `local@domain`.
    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The address with the local part hidden but its first character: `i***@mail.ru`.
    ///
    /// For telling a person where a link went without disclosing the address.
    pub fn masked(&self) -> String {
        let first = self.local_part().chars().next().unwrap_or('*');
        format!("{first}***@{}", self.domain())
    }
}

impl FromStr for Email {
    type Err = EmailError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let input = input.trim();
        if input.is_empty() {
            return Err(EmailError::Empty);
        }
        // `email_address` splits at the last `@`; so do we, so both agree on the domain.
        let Some((local, domain)) = input.rsplit_once('@') else {
            return Err(EmailError::MissingAt);
        };

        let address = format!("{local}@{}", domain.to_lowercase());
        if address.len() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        // The lower-cased form is the one checked, so that what is stored is what passed.
        EmailAddress::parse_with_options(&address, options())
            .map_err(|error| classify(&error, local))?;
        let host_name_labels = address
            .get(local.len() + 1..)
            .unwrap_or_default()
            .split('.')
            .all(|label| label.chars().all(|c| c.is_alphanumeric() || c == '-'));
        if !host_name_labels {
            return Err(EmailError::InvalidDomain);
        }

        Ok(Self {
            at: local.len(),
            address,
        })
    }
}

/// The portal's syntax options: bare addresses on named hosts with a dot.
fn options() -> email_address::Options {
    email_address::Options::default()
        .without_display_text()
        .without_domain_literal()
        .with_required_tld()
}

/// Turns the syntax checker's error into the part of the address that is wrong.
fn classify(error: &email_address::Error, local: &str) -> EmailError {
    use email_address::Error as E;

    match error {
        E::MissingSeparator => EmailError::MissingAt,
        E::LocalPartEmpty | E::LocalPartTooLong | E::UnbalancedQuotes => {
            EmailError::InvalidLocalPart
        }
        E::UnsupportedDisplayName | E::MissingDisplayName | E::MissingEndBracket => {
            EmailError::NotBare
        }
        // The checker does not say which side held the bad character: ask it about the
        // local part alone.
        E::InvalidCharacter | E::InvalidComment => {
            if EmailAddress::is_valid_local_part(local) {
                EmailError::InvalidDomain
            } else {
                EmailError::InvalidLocalPart
            }
        }
        _ => EmailError::InvalidDomain,
    }
}

impl fmt::Display for Email {
    /// The address, `local@domain`, domain in lower case.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)
    }
}

serde_as_canonical_string!(Email, "an e-mail address");

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Result<Email, EmailError> {
        input.parse()
    }

    #[test]
    fn domain_is_lowercased_and_local_part_kept() {
        let email = parse("Ivan.Petrov@Mail.RU").unwrap();
        assert_eq!(email.as_str(), "Ivan.Petrov@mail.ru");
        assert_eq!(email.local_part(), "Ivan.Petrov");
        assert_eq!(email.domain(), "mail.ru");
    }

    #[test]
    fn cyrillic_domain_is_lowercased() {
        let email = parse("почта@Почта.РФ").unwrap();
        assert_eq!(email.domain(), "почта.рф");
        assert_eq!(email.local_part(), "почта");
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        assert_eq!(
            parse(" \tivan@mail.ru \n").unwrap().as_str(),
            "ivan@mail.ru"
        );
    }

    #[test]
    fn masked_keeps_first_character_and_domain() {
        assert_eq!(parse("ivan@mail.ru").unwrap().masked(), "i***@mail.ru");
        assert_eq!(parse("я@yandex.ru").unwrap().masked(), "я***@yandex.ru");
    }

    #[test]
    fn quoted_local_part_with_at_sign_is_split_at_last_at() {
        let email = parse("\"a@b\"@example.com").unwrap();
        assert_eq!(email.local_part(), "\"a@b\"");
        assert_eq!(email.domain(), "example.com");
    }

    #[test]
    fn display_parses_back_to_same_value() {
        let email = parse("Ivan@Example.COM").unwrap();
        assert_eq!(parse(&email.to_string()).unwrap(), email);
    }

    #[test]
    fn blank_input_is_empty() {
        assert_eq!(parse("   "), Err(EmailError::Empty));
    }

    #[test]
    fn address_without_at_is_refused() {
        assert_eq!(parse("ivan.mail.ru"), Err(EmailError::MissingAt));
    }

    #[test]
    fn address_over_254_bytes_is_refused() {
        let domain = format!(
            "{}.{}.{}.ru",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63)
        );
        let fits = format!("{}@{domain}", "i".repeat(254 - 1 - domain.len()));
        assert!(parse(&fits).is_ok(), "{} bytes", fits.len());
        let over = format!("i{fits}");
        assert_eq!(parse(&over), Err(EmailError::TooLong));
    }

    #[test]
    fn bad_local_parts_are_refused() {
        for typed in [
            "@mail.ru",
            "iv an@mail.ru",
            "ivan..petrov@mail.ru",
            ".ivan@mail.ru",
        ] {
            assert_eq!(parse(typed), Err(EmailError::InvalidLocalPart), "{typed}");
        }
        let long = format!("{}@mail.ru", "i".repeat(65));
        assert_eq!(parse(&long), Err(EmailError::InvalidLocalPart));
    }

    #[test]
    fn bad_domains_are_refused() {
        for typed in [
            "ivan@",
            "ivan@localhost",
            "ivan@mail..ru",
            "ivan@-mail.ru",
            "ivan@mail_ru.ru",
            "ivan@mail!ru.ru",
            "ivan@ма+ил.ru",
            "ivan@[192.0.2.1]",
            "ivan@mail.ru.",
        ] {
            assert_eq!(parse(typed), Err(EmailError::InvalidDomain), "{typed}");
        }
    }

    #[test]
    fn display_names_are_refused() {
        assert_eq!(parse("Ivan <ivan@mail.ru>"), Err(EmailError::NotBare));
    }

    #[test]
    fn serde_uses_the_address_and_refuses_invalid_ones() {
        let email = parse("Ivan@Mail.ru").unwrap();
        let json = serde_json::to_string(&email).unwrap();
        assert_eq!(json, "\"Ivan@mail.ru\"");
        assert_eq!(serde_json::from_str::<Email>(&json).unwrap(), email);
        assert!(serde_json::from_str::<Email>("\"ivan\"").is_err());
    }
}
