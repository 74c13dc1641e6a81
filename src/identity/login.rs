//! Reading the portal's single login field, and the document that starts recovery.

use std::fmt;
use std::str::FromStr;

use super::{
    Email, EmailError, Inn, InnError, Passport, PassportError, Phone, PhoneError, Snils,
    SnilsError, group_lengths, serde_as_canonical_string,
};

/// What a person typed in the one login field: a phone, an e-mail or a SNILS.
///
/// # How the field is read
///
/// 1. Anything containing `@` is an e-mail; nothing else is tried.
/// 2. Otherwise the input's *shape* decides between phone and SNILS:
///    - a leading `+`, or a lone trunk digit before the rest (`8 912…`, `7-912-…`), or
///      phone grouping with the trunk digit attached (`8912 345-67-89`,
///      `8912 345-6789`, `8912 3456789`) → **phone** only;
///    - SNILS grouping `XXX-XXX-XXX YY` (any separators) or `XXXXXXXXX YY` → **SNILS**
///      only;
///    - any other shape (bare digits, `(912) 345-67-89`…) → both are tried; if exactly one
///      is valid it is taken.
/// 3. Bare digits valid as both a mobile number and a SNILS (11 digits `79…` or `89…`
///    whose last two are the SNILS check number of the first nine) are refused as
///    [`LoginIdError::Ambiguous`], which carries both readings for the host to offer.
///
/// The canonical forms (`+79123456789`, `112-233-445 95`, `ivan@mail.ru`) are each read as
/// their own kind, so `Display` then `FromStr` gives back the same value.
///
/// ```
/// use portal_auth::{LoginId, LoginIdKind};
///
/// let login: LoginId = "8 (912) 345-67-89".parse()?;
/// assert_eq!(login.kind(), LoginIdKind::Phone);
/// let login: LoginId = "112-233-445 95".parse()?;
/// assert_eq!(login.kind(), LoginIdKind::Snils);
/// # Ok::<(), portal_auth::LoginIdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LoginId {
    /// A Russian mobile phone number.
    Phone(Phone),
    /// An e-mail address.
    Email(Email),
    /// A SNILS.
    Snils(Snils),
}

/// The kinds of [`LoginId`], for messages and for matching without the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LoginIdKind {
    /// A phone number.
    Phone,
    /// An e-mail address.
    Email,
    /// A SNILS.
    Snils,
}

/// Why the login field could not be read as a [`LoginId`].
///
/// The detail is for the host's log and for the person at the keyboard while they type;
/// it says nothing about whether an account exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginIdError {
    /// Nothing but whitespace was given.
    #[error("login is empty")]
    Empty,
    /// Bare digits valid both as a mobile number and as a SNILS.
    #[error("login fits both a phone and a snils")]
    Ambiguous {
        /// The input read as a phone.
        phone: Phone,
        /// The input read as a SNILS.
        snils: Snils,
    },
    /// No kind that the input's shape allows accepted it. Each field holds the reason a
    /// kind refused it, or `None` where that kind was not tried.
    #[error("{}", describe_failures(&[
        (LoginIdKind::Phone, phone.as_ref().map(|e| e as &dyn fmt::Display)),
        (LoginIdKind::Email, email.as_ref().map(|e| e as &dyn fmt::Display)),
        (LoginIdKind::Snils, snils.as_ref().map(|e| e as &dyn fmt::Display)),
    ], "login"))]
    Invalid {
        /// Why it is not a phone, if a phone was tried.
        phone: Option<PhoneError>,
        /// Why it is not an e-mail, if an e-mail was tried.
        email: Option<EmailError>,
        /// Why it is not a SNILS, if a SNILS was tried.
        snils: Option<SnilsError>,
    },
}

impl LoginId {
    /// Which kind of login this is.
    pub fn kind(&self) -> LoginIdKind {
        match self {
            Self::Phone(_) => LoginIdKind::Phone,
            Self::Email(_) => LoginIdKind::Email,
            Self::Snils(_) => LoginIdKind::Snils,
        }
    }
}

impl LoginIdError {
    /// The kinds that were tried and refused the input, in the order phone, e-mail, SNILS.
    /// For [`LoginIdError::Ambiguous`], the two kinds that both accepted it.
    pub fn tried(&self) -> Vec<LoginIdKind> {
        match self {
            Self::Empty => Vec::new(),
            Self::Ambiguous { .. } => vec![LoginIdKind::Phone, LoginIdKind::Snils],
            Self::Invalid {
                phone,
                email,
                snils,
            } => [
                phone.is_some().then_some(LoginIdKind::Phone),
                email.is_some().then_some(LoginIdKind::Email),
                snils.is_some().then_some(LoginIdKind::Snils),
            ]
            .into_iter()
            .flatten()
            .collect(),
        }
    }
}

/// What the shape of digits-and-punctuation input says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoginShape {
    Phone,
    Snils,
    Either,
}

/// Reads the shape of the login as typed; the rules are in [`LoginId`]'s docs.
fn login_shape(input: &str) -> LoginShape {
    if input.starts_with('+') {
        return LoginShape::Phone;
    }
    match group_lengths(input).as_slice() {
        [3, 3, 3, 2] | [9, 2] => LoginShape::Snils,
        [1, _, ..] | [4, 3, 2, 2] | [4, 3, 4] | [4, 7] => LoginShape::Phone,
        _ => LoginShape::Either,
    }
}

impl FromStr for LoginId {
    type Err = LoginIdError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let input = input.trim();
        if input.is_empty() {
            return Err(LoginIdError::Empty);
        }

        if input.contains('@') {
            return input
                .parse()
                .map(Self::Email)
                .map_err(|e| LoginIdError::Invalid {
                    phone: None,
                    email: Some(e),
                    snils: None,
                });
        }

        let shape = login_shape(input);
        let phone = (shape != LoginShape::Snils).then(|| input.parse::<Phone>());
        let snils = (shape != LoginShape::Phone).then(|| input.parse::<Snils>());
        match (phone, snils) {
            (Some(Ok(phone)), Some(Ok(snils))) => Err(LoginIdError::Ambiguous { phone, snils }),
            (Some(Ok(phone)), _) => Ok(Self::Phone(phone)),
            (_, Some(Ok(snils))) => Ok(Self::Snils(snils)),
            (phone, snils) => Err(LoginIdError::Invalid {
                phone: phone.and_then(Result::err),
                email: None,
                snils: snils.and_then(Result::err),
            }),
        }
    }
}

impl fmt::Display for LoginId {
    /// The canonical form of the identifier inside.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Phone(phone) => phone.fmt(f),
            Self::Email(email) => email.fmt(f),
            Self::Snils(snils) => snils.fmt(f),
        }
    }
}

impl fmt::Display for LoginIdKind {
    /// `phone`, `e-mail` or `snils`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Phone => "phone",
            Self::Email => "e-mail",
            Self::Snils => "snils",
        })
    }
}

impl From<Phone> for LoginId {
    fn from(phone: Phone) -> Self {
        Self::Phone(phone)
    }
}

impl From<Email> for LoginId {
    fn from(email: Email) -> Self {
        Self::Email(email)
    }
}

impl From<Snils> for LoginId {
    fn from(snils: Snils) -> Self {
        Self::Snils(snils)
    }
}

serde_as_canonical_string!(LoginId, "a phone, e-mail or snils");

/// A document number given to start account recovery: SNILS, INN or passport.
///
/// # How the input is read
///
/// By how many digits it has and how they are grouped:
///
/// - 11 digits → **SNILS** only;
/// - 12 digits → **INN** (a person's) only;
/// - 10 digits grouped as a passport (`4506 123456`, `45 06 123456`) → **passport** only;
/// - 10 digits otherwise (`4506123456`) → an **INN** (a legal entity's) if its check
///   digit holds, else a **passport**. Bare digits are the INN's canonical form, so this
///   keeps `Display` then `FromStr` stable; a host that asked specifically for a passport
///   should parse a [`Passport`] instead, and one in ten bare passport numbers would
///   otherwise pass for an INN;
/// - any other input → all three are tried, and the error says why each refused it.
///
/// ```
/// use portal_auth::DocumentId;
///
/// let document: DocumentId = "45 06 123456".parse()?;
/// assert!(matches!(document, DocumentId::Passport(_)));
/// # Ok::<(), portal_auth::DocumentIdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DocumentId {
    /// A SNILS.
    Snils(Snils),
    /// An INN, a person's or a legal entity's.
    Inn(Inn),
    /// A passport series and number.
    Passport(Passport),
}

/// Why the input could not be read as a [`DocumentId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentIdError {
    /// Nothing but whitespace was given.
    #[error("document is empty")]
    Empty,
    /// No kind that the input's shape allows accepted it. Each field holds the reason a
    /// kind refused it, or `None` where that kind was not tried.
    #[error("{}", describe_failures(&[
        ("snils", snils.as_ref().map(|e| e as &dyn fmt::Display)),
        ("inn", inn.as_ref().map(|e| e as &dyn fmt::Display)),
        ("passport", passport.as_ref().map(|e| e as &dyn fmt::Display)),
    ], "document"))]
    Invalid {
        /// Why it is not a SNILS, if a SNILS was tried.
        snils: Option<SnilsError>,
        /// Why it is not an INN, if an INN was tried.
        inn: Option<InnError>,
        /// Why it is not a passport, if a passport was tried.
        passport: Option<PassportError>,
    },
}

impl FromStr for DocumentId {
    type Err = DocumentIdError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let input = input.trim();
        if input.is_empty() {
            return Err(DocumentIdError::Empty);
        }

        let lengths = group_lengths(input);
        let digit_count: usize = lengths.iter().sum();
        let passport_grouped = matches!(lengths.as_slice(), [4, 6] | [2, 2, 6]);
        let (try_snils, try_inn, try_passport) = match digit_count {
            11 => (true, false, false),
            12 => (false, true, false),
            10 if passport_grouped => (false, false, true),
            10 => (false, true, true),
            _ => (true, true, true),
        };

        // Tried in this order; the first kind that accepts the input wins.
        let snils = try_snils.then(|| input.parse::<Snils>());
        let inn = try_inn.then(|| input.parse::<Inn>());
        let passport = try_passport.then(|| input.parse::<Passport>());
        match (snils, inn, passport) {
            (Some(Ok(snils)), _, _) => Ok(Self::Snils(snils)),
            (_, Some(Ok(inn)), _) => Ok(Self::Inn(inn)),
            (_, _, Some(Ok(passport))) => Ok(Self::Passport(passport)),
            (snils, inn, passport) => Err(DocumentIdError::Invalid {
                snils: snils.and_then(Result::err),
                inn: inn.and_then(Result::err),
                passport: passport.and_then(Result::err),
            }),
        }
    }
}

impl fmt::Display for DocumentId {
    /// The canonical form of the document inside.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Snils(snils) => snils.fmt(f),
            Self::Inn(inn) => inn.fmt(f),
            Self::Passport(passport) => passport.fmt(f),
        }
    }
}

impl From<Snils> for DocumentId {
    fn from(snils: Snils) -> Self {
        Self::Snils(snils)
    }
}

impl From<Inn> for DocumentId {
    fn from(inn: Inn) -> Self {
        Self::Inn(inn)
    }
}

impl From<Passport> for DocumentId {
    fn from(passport: Passport) -> Self {
        Self::Passport(passport)
    }
}

serde_as_canonical_string!(DocumentId, "a snils, inn or passport");

/// `"<what> is not a valid phone or snils (phone: …; snils: …)"` from the kinds tried.
fn describe_failures<K: fmt::Display>(
    failures: &[(K, Option<&dyn fmt::Display>)],
    what: &str,
) -> String {
    let tried: Vec<_> = failures
        .iter()
        .filter_map(|(kind, error)| error.map(|error| (kind, error)))
        .collect();
    let kinds: Vec<String> = tried.iter().map(|(kind, _)| kind.to_string()).collect();
    let reasons: Vec<String> = tried.iter().map(|(_, error)| error.to_string()).collect();
    format!(
        "{what} is not a valid {} ({})",
        kinds.join(" or "),
        reasons.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(input: &str) -> Result<LoginId, LoginIdError> {
        input.parse()
    }

    fn document(input: &str) -> Result<DocumentId, DocumentIdError> {
        input.parse()
    }

    /// Digits valid as both kinds: a mobile number, and a SNILS whose check number is
    /// 7*9 + 9*8 + 1*7 + 2*6 + 3*5 + 4*4 + 5*3 + 6*2 + 7*1 = 219, and 219 mod 101 = 17.
    const BOTH: &str = "79123456717";

    #[test]
    fn the_shared_example_is_valid_as_both_kinds() {
        assert!(BOTH.parse::<Phone>().is_ok());
        assert!(BOTH.parse::<Snils>().is_ok());
    }

    #[test]
    fn input_with_at_sign_is_an_email() {
        let id = login(" Ivan@Mail.RU ").unwrap();
        assert_eq!(id, LoginId::Email("Ivan@mail.ru".parse().unwrap()));
        assert_eq!(id.kind(), LoginIdKind::Email);
    }

    #[test]
    fn bad_email_reports_only_email_as_tried() {
        let error = login("ivan@localhost").unwrap_err();
        assert_eq!(
            error,
            LoginIdError::Invalid {
                phone: None,
                email: Some(EmailError::InvalidDomain),
                snils: None,
            }
        );
        assert_eq!(error.tried(), vec![LoginIdKind::Email]);
        assert_eq!(
            error.to_string(),
            "login is not a valid e-mail (e-mail domain is invalid)"
        );
    }

    #[test]
    fn phone_spellings_are_phones() {
        for typed in [
            "+7 912 345-67-89",
            "8 (912) 345 67 89",
            "9123456789",
            "79123456789",
        ] {
            assert_eq!(login(typed).unwrap().kind(), LoginIdKind::Phone, "{typed}");
        }
    }

    #[test]
    fn snils_spellings_are_snils() {
        for typed in [
            "112-233-445 95",
            "11223344595",
            "112 233 445 95",
            "112233445 95",
        ] {
            assert_eq!(login(typed).unwrap().kind(), LoginIdKind::Snils, "{typed}");
        }
    }

    #[test]
    fn bare_digits_valid_as_both_are_ambiguous() {
        let error = login(BOTH).unwrap_err();
        assert_eq!(
            error,
            LoginIdError::Ambiguous {
                phone: BOTH.parse().unwrap(),
                snils: BOTH.parse().unwrap(),
            }
        );
        assert_eq!(error.tried(), vec![LoginIdKind::Phone, LoginIdKind::Snils]);
        assert_eq!(error.to_string(), "login fits both a phone and a snils");
    }

    #[test]
    fn leading_plus_makes_digits_valid_as_both_a_phone() {
        assert_eq!(login("+79123456717").unwrap().kind(), LoginIdKind::Phone);
    }

    #[test]
    fn lone_trunk_digit_or_phone_grouping_makes_them_a_phone() {
        for typed in [
            "7 912 345 67 17",
            "7-912-345-67-17",
            "7 9123456717",
            "7912 345-67-17",
            "7912 345-6717",
            "7912 3456717",
        ] {
            assert_eq!(login(typed).unwrap().kind(), LoginIdKind::Phone, "{typed}");
        }
    }

    #[test]
    fn snils_grouping_makes_them_a_snils() {
        for typed in ["791-234-567 17", "791 234 567 17", "791234567 17"] {
            assert_eq!(login(typed).unwrap().kind(), LoginIdKind::Snils, "{typed}");
        }
    }

    #[test]
    fn snils_shaped_input_reports_the_snils_error_not_a_phone() {
        // 89123456789 is a valid mobile, but written as a SNILS its check number is wrong.
        let error = login("891-234-567 89").unwrap_err();
        assert_eq!(
            error,
            LoginIdError::Invalid {
                phone: None,
                email: None,
                snils: Some(SnilsError::BadChecksum),
            }
        );
    }

    #[test]
    fn phone_shaped_input_reports_the_phone_error_not_a_snils() {
        let error = login("+7 495 123-45-67").unwrap_err();
        assert_eq!(error.tried(), vec![LoginIdKind::Phone]);
        assert_eq!(
            error.to_string(),
            "login is not a valid phone (phone is not a mobile number)"
        );
    }

    #[test]
    fn unshaped_input_valid_as_neither_reports_both_reasons() {
        let error = login("12345").unwrap_err();
        assert_eq!(
            error,
            LoginIdError::Invalid {
                phone: Some(PhoneError::TooShort),
                email: None,
                snils: Some(SnilsError::WrongLength),
            }
        );
        assert_eq!(
            error.to_string(),
            "login is not a valid phone or snils (phone has too few digits; \
             snils must have 11 digits)"
        );
    }

    #[test]
    fn words_without_at_sign_are_tried_as_phone_and_snils() {
        let error = login("ivanov").unwrap_err();
        assert_eq!(error.tried(), vec![LoginIdKind::Phone, LoginIdKind::Snils]);
    }

    #[test]
    fn blank_login_is_empty() {
        assert_eq!(login("  "), Err(LoginIdError::Empty));
        assert!(LoginIdError::Empty.tried().is_empty());
    }

    #[test]
    fn login_display_is_canonical_and_parses_back_to_the_same_kind() {
        for typed in [
            "8 912 345 67 89",
            "11223344595",
            "Ivan@Mail.ru",
            "+79123456717",
        ] {
            let id = login(typed).unwrap();
            assert_eq!(login(&id.to_string()).unwrap(), id, "{typed}");
        }
        // The ambiguous digits, once resolved, display in a form that is not ambiguous.
        let snils = LoginId::from(BOTH.parse::<Snils>().unwrap());
        assert_eq!(login(&snils.to_string()).unwrap(), snils);
        let phone = LoginId::from(BOTH.parse::<Phone>().unwrap());
        assert_eq!(login(&phone.to_string()).unwrap(), phone);
    }

    #[test]
    fn login_kind_displays_lowercase_names() {
        assert_eq!(LoginIdKind::Phone.to_string(), "phone");
        assert_eq!(LoginIdKind::Email.to_string(), "e-mail");
        assert_eq!(LoginIdKind::Snils.to_string(), "snils");
    }

    #[test]
    fn login_serde_round_trips_and_refuses_ambiguous_digits() {
        let id = login("112-233-445 95").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"112-233-445 95\"");
        assert_eq!(serde_json::from_str::<LoginId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<LoginId>(&format!("\"{BOTH}\"")).is_err());
    }

    #[test]
    fn eleven_digits_are_a_snils_document() {
        let doc = document("112-233-445 95").unwrap();
        assert_eq!(doc, DocumentId::Snils("11223344595".parse().unwrap()));
    }

    #[test]
    fn twelve_digits_are_an_inn_document() {
        let doc = document("500100732259").unwrap();
        assert_eq!(doc, DocumentId::Inn("500100732259".parse().unwrap()));
    }

    #[test]
    fn passport_grouping_is_a_passport_even_when_the_digits_pass_as_inn() {
        // 7707083893 is a valid legal-entity INN.
        for typed in ["7707 083893", "77 07 083893", "77 07 № 083893"] {
            let doc = document(typed).unwrap();
            assert_eq!(
                doc,
                DocumentId::Passport("7707083893".parse().unwrap()),
                "{typed}"
            );
        }
    }

    #[test]
    fn bare_ten_digits_are_an_inn_when_its_check_digit_holds() {
        assert!(matches!(
            document("7707083893").unwrap(),
            DocumentId::Inn(_)
        ));
    }

    #[test]
    fn bare_ten_digits_failing_the_inn_check_are_a_passport() {
        let doc = document("7707083894").unwrap();
        assert_eq!(doc, DocumentId::Passport("7707 083894".parse().unwrap()));
    }

    #[test]
    fn ten_digits_valid_as_neither_report_inn_and_passport_reasons() {
        let error = document("7707000000").unwrap_err();
        assert_eq!(
            error,
            DocumentIdError::Invalid {
                snils: None,
                inn: Some(InnError::BadChecksum),
                passport: Some(PassportError::ZeroNumber),
            }
        );
        assert_eq!(
            error.to_string(),
            "document is not a valid inn or passport (inn check digit is wrong; \
             passport number is all zeros)"
        );
    }

    #[test]
    fn eleven_digits_with_a_bad_checksum_report_only_snils() {
        let error = document("112-233-445 96").unwrap_err();
        assert_eq!(
            error,
            DocumentIdError::Invalid {
                snils: Some(SnilsError::BadChecksum),
                inn: None,
                passport: None,
            }
        );
    }

    #[test]
    fn other_input_reports_all_three_reasons() {
        let error = document("abc").unwrap_err();
        assert_eq!(
            error,
            DocumentIdError::Invalid {
                snils: Some(SnilsError::NotDigits),
                inn: Some(InnError::NotDigits),
                passport: Some(PassportError::NotDigits),
            }
        );
    }

    #[test]
    fn blank_document_is_empty() {
        assert_eq!(document("\t"), Err(DocumentIdError::Empty));
    }

    #[test]
    fn document_display_parses_back_to_the_same_document() {
        for doc in [
            DocumentId::from("11223344595".parse::<Snils>().unwrap()),
            DocumentId::from("500100732259".parse::<Inn>().unwrap()),
            DocumentId::from("7707083893".parse::<Inn>().unwrap()),
            DocumentId::from("7707083893".parse::<Passport>().unwrap()),
        ] {
            assert_eq!(document(&doc.to_string()).unwrap(), doc, "{doc}");
            let json = serde_json::to_string(&doc).unwrap();
            assert_eq!(serde_json::from_str::<DocumentId>(&json).unwrap(), doc);
        }
    }
}
