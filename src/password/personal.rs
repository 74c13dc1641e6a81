//! What the portal knows about a person, and where it shows up inside a password.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use super::blocklist::russian_key_to_latin;
use super::normalize::{collect_zeroizing, lowercase, push_str};

/// Names and e-mail local parts shorter than this are not looked for: `Ян` or `ли` occur
/// inside too many unrelated passwords.
const MIN_TEXT_LEN: usize = 3;

/// The trailing phone digits that count as "the phone number": seven is the subscriber
/// number without the area code.
const PHONE_TAIL: usize = 7;

/// The digits of a national phone number: the operator code and the subscriber number.
const NATIONAL_LEN: usize = 10;

/// The SNILS body: the first nine of its eleven digits (the last two are a checksum).
const SNILS_BODY: usize = 9;

/// Characters people put between the parts of a date, a phone number or a name; the rule
/// also looks at the password with them removed.
const SEPARATORS: &[char] = &[' ', '-', '.', '/', '_', '(', ')', '+', ',', '\\'];

/// Facts about a person that a password must not contain.
///
/// Every field is optional; the rule checks those that are set. Setters take `&str` (or
/// `None`) and normalise as they go: the phone and SNILS keep only their digits, the
/// e-mail keeps only its local part.
///
/// `Debug` shows which facts are set, never their values.
///
/// ```
/// use portal_auth::password::PersonalData;
/// use time::macros::date;
///
/// let person = PersonalData::new()
///     .surname("Иванова")
///     .given_name("Мария")
///     .birth_date(date!(1990 - 03 - 14))
///     .phone("+7 (912) 345-67-89")
///     .email("maria.ivanova@example.ru");
/// assert!(!person.is_empty());
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PersonalData {
    surname: String,
    given_name: String,
    patronymic: String,
    birth_date: Option<Date>,
    phone_digits: String,
    email_local_part: String,
    snils_digits: String,
}

/// Which kind of personal data a password contained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PersonalDataKind {
    /// The surname (фамилия).
    Surname,
    /// The given name (имя).
    GivenName,
    /// The patronymic (отчество).
    Patronymic,
    /// The date of birth, in any of the usual formats.
    BirthDate,
    /// The phone number: its last seven digits or more.
    Phone,
    /// The local part of the e-mail address (before `@`).
    Email,
    /// The SNILS number: its nine-digit body.
    Snils,
}

impl PersonalData {
    /// No facts: the rule has nothing to look for.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the surname.
    #[must_use]
    pub fn surname<'a>(mut self, value: impl Into<Option<&'a str>>) -> Self {
        value
            .into()
            .unwrap_or_default()
            .clone_into(&mut self.surname);
        self
    }

    /// Sets the given name.
    #[must_use]
    pub fn given_name<'a>(mut self, value: impl Into<Option<&'a str>>) -> Self {
        value
            .into()
            .unwrap_or_default()
            .clone_into(&mut self.given_name);
        self
    }

    /// Sets the patronymic.
    #[must_use]
    pub fn patronymic<'a>(mut self, value: impl Into<Option<&'a str>>) -> Self {
        value
            .into()
            .unwrap_or_default()
            .clone_into(&mut self.patronymic);
        self
    }

    /// Sets the date of birth.
    #[must_use]
    pub fn birth_date(mut self, value: impl Into<Option<Date>>) -> Self {
        self.birth_date = value.into();
        self
    }

    /// Sets the phone number in any format (`+7 912 345-67-89`, `79123456789`); only its
    /// digits are kept.
    #[must_use]
    pub fn phone<'a>(mut self, value: impl Into<Option<&'a str>>) -> Self {
        self.phone_digits = digits(value.into().unwrap_or_default());
        self
    }

    /// Sets the e-mail address or its local part; only the part before the last `@` is
    /// kept (the domain is shared by millions and says nothing about the person).
    #[must_use]
    pub fn email<'a>(mut self, value: impl Into<Option<&'a str>>) -> Self {
        let value = value.into().unwrap_or_default();
        let local = value.rsplit_once('@').map_or(value, |(local, _)| local);
        local.clone_into(&mut self.email_local_part);
        self
    }

    /// Sets the SNILS in any format (`112-233-445 95`); only its digits are kept.
    #[must_use]
    pub fn snils<'a>(mut self, value: impl Into<Option<&'a str>>) -> Self {
        self.snils_digits = digits(value.into().unwrap_or_default());
        self
    }

    /// Whether no fact is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The kinds of personal data found in `lowered` (an NFKC-normalised, lowercased
    /// password), each kind at most once, in declaration order.
    pub(crate) fn found_in(&self, lowered: &str) -> Vec<PersonalDataKind> {
        let compact = collect_zeroizing(
            lowered.chars().filter(|c| !SEPARATORS.contains(c)),
            lowered.len(),
        );
        let seen = |needle: &str| {
            !needle.is_empty() && (lowered.contains(needle) || compact.contains(needle))
        };

        let mut found = Vec::new();
        for (kind, name) in [
            (PersonalDataKind::Surname, &self.surname),
            (PersonalDataKind::GivenName, &self.given_name),
            (PersonalDataKind::Patronymic, &self.patronymic),
        ] {
            if text_forms(name).iter().any(|form| seen(form)) {
                found.push(kind);
            }
        }
        if let Some(date) = self.birth_date
            && date_forms(date).iter().any(|form| seen(form))
        {
            found.push(PersonalDataKind::BirthDate);
        }
        // The subscriber number, or the national number's first seven digits (the
        // operator code and the start of the subscriber number, as `8912345…`).
        let national = tail(&self.phone_digits, NATIONAL_LEN);
        let phone_parts = [
            tail(&self.phone_digits, PHONE_TAIL),
            national.and_then(|n| n.get(..PHONE_TAIL)),
        ];
        if phone_parts.into_iter().flatten().any(seen) {
            found.push(PersonalDataKind::Phone);
        }
        if text_forms(&self.email_local_part)
            .iter()
            .any(|form| seen(form))
        {
            found.push(PersonalDataKind::Email);
        }
        if let Some(body) = self.snils_digits.get(..SNILS_BODY)
            && self.snils_digits.len() >= SNILS_BODY
            && seen(body)
        {
            found.push(PersonalDataKind::Snils);
        }
        found
    }
}

impl fmt::Debug for PersonalData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |present: bool| if present { "<set>" } else { "<unset>" };
        f.debug_struct("PersonalData")
            .field("surname", &set(!self.surname.is_empty()))
            .field("given_name", &set(!self.given_name.is_empty()))
            .field("patronymic", &set(!self.patronymic.is_empty()))
            .field("birth_date", &set(self.birth_date.is_some()))
            .field("phone", &set(!self.phone_digits.is_empty()))
            .field("email", &set(!self.email_local_part.is_empty()))
            .field("snils", &set(!self.snils_digits.is_empty()))
            .finish()
    }
}

fn digits(value: &str) -> String {
    value.chars().filter(char::is_ascii_digit).collect()
}

/// The last `n` characters of an ASCII digit string, when it has that many.
fn tail(digits: &str, n: usize) -> Option<&str> {
    digits
        .len()
        .checked_sub(n)
        .and_then(|start| digits.get(start..))
}

/// The forms of a name or e-mail local part to look for: as written, without separators,
/// transliterated into Latin (passport ICAO style and the everyday style), and typed on
/// the Latin layout by someone who meant Cyrillic (`Иванов` becomes `bdfyjd`). Forms
/// shorter than three characters are dropped.
fn text_forms(value: &str) -> Vec<Zeroizing<String>> {
    let normalized = collect_zeroizing(value.trim().nfkc(), value.len());
    let lowered = lowercase(&normalized);
    if lowered.chars().count() < MIN_TEXT_LEN {
        return Vec::new();
    }

    let mut forms = vec![
        collect_zeroizing(
            lowered.chars().filter(|c| !SEPARATORS.contains(c)),
            lowered.len(),
        ),
        transliterate(&lowered, Style::Icao),
        transliterate(&lowered, Style::Everyday),
        collect_zeroizing(lowered.chars().map(russian_key_to_latin), lowered.len()),
    ];
    forms.push(lowered);
    forms.retain(|form| form.chars().count() >= MIN_TEXT_LEN);
    forms.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    forms.dedup();
    forms
}

/// The date of birth as people write it: `ddmmyyyy`, `dd.mm.yyyy`, `yyyymmdd`,
/// `yyyy-mm-dd`, `ddmmyy`, `dd/mm/yyyy`, and the day and month without their leading
/// zeros (`2.7.1985`, `2785`); through the separator-free view of the password also
/// `dd.mm.yy`, `dd-mm-yyyy` and `d.m.yy`.
fn date_forms(date: Date) -> Vec<String> {
    let (d, m) = (date.day(), u8::from(date.month()));
    let dd = format!("{d:02}");
    let mm = format!("{m:02}");
    let yyyy = format!("{:04}", date.year());
    let yy = format!("{:02}", date.year().rem_euclid(100));
    let mut forms = vec![
        format!("{dd}{mm}{yyyy}"),
        format!("{dd}.{mm}.{yyyy}"),
        format!("{yyyy}{mm}{dd}"),
        format!("{yyyy}-{mm}-{dd}"),
        format!("{dd}{mm}{yy}"),
        format!("{dd}/{mm}/{yyyy}"),
        format!("{d}{m}{yyyy}"),
        format!("{d}{m}{yy}"),
    ];
    forms.dedup();
    forms
}

/// Two transliteration styles: Russian passports since 2014 follow ICAO Doc 9303
/// (`Юлия` → `iuliia`), while people usually write `yuliya`.
#[derive(Clone, Copy)]
enum Style {
    Icao,
    Everyday,
}

// Hand-rolled rather than a crate: the table is 33 letters, and the crates found do one
// style only or pull in far more than this needs.
fn transliterate(text: &str, style: Style) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(text.len() * 2));
    for c in text.chars() {
        let latin = match (c, style) {
            ('а', _) => "a",
            ('б', _) => "b",
            ('в', _) => "v",
            ('г', _) => "g",
            ('д', _) => "d",
            ('е' | 'э', _) | ('ё', Style::Icao) => "e",
            ('ё', Style::Everyday) => "yo",
            ('ж', _) => "zh",
            ('з', _) => "z",
            ('и', _) | ('й', Style::Icao) => "i",
            ('й', Style::Everyday) | ('ы', _) => "y",
            ('к', _) => "k",
            ('л', _) => "l",
            ('м', _) => "m",
            ('н', _) => "n",
            ('о', _) => "o",
            ('п', _) => "p",
            ('р', _) => "r",
            ('с', _) => "s",
            ('т', _) => "t",
            ('у', _) => "u",
            ('ф', _) => "f",
            ('х', _) => "kh",
            ('ц', _) => "ts",
            ('ч', _) => "ch",
            ('ш', _) => "sh",
            ('щ', _) => "shch",
            ('ъ', Style::Icao) => "ie",
            ('ъ' | 'ь', _) => "",
            ('ю', Style::Icao) => "iu",
            ('ю', Style::Everyday) => "yu",
            ('я', Style::Icao) => "ia",
            ('я', Style::Everyday) => "ya",
            _ => {
                push_str(&mut out, c.encode_utf8(&mut [0; 4]));
                continue;
            }
        };
        push_str(&mut out, latin);
    }
    out
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn person() -> PersonalData {
        PersonalData::new()
            .surname("Иванова")
            .given_name("Мария")
            .patronymic("Петровна")
            .birth_date(date!(1990 - 03 - 14))
            .phone("+7 (912) 345-67-89")
            .email("m.ivanova@example.ru")
            .snils("112-233-445 95")
    }

    fn kinds(password: &str) -> Vec<PersonalDataKind> {
        person().found_in(&lowercase(password))
    }

    #[test]
    fn surname_is_found_case_insensitively() {
        assert_eq!(kinds("ИВАНОВА!2024x"), [PersonalDataKind::Surname]);
    }

    #[test]
    fn given_name_and_patronymic_are_found() {
        assert_eq!(
            kinds("мария_петровна"),
            [PersonalDataKind::GivenName, PersonalDataKind::Patronymic]
        );
    }

    #[test]
    fn transliterated_surname_is_found() {
        assert_eq!(kinds("Ivanova#77"), [PersonalDataKind::Surname]);
        assert_eq!(kinds("xMariya!"), [PersonalDataKind::GivenName]);
    }

    #[test]
    fn surname_typed_on_latin_layout_is_found() {
        // "Иванова" typed with the Latin layout active.
        assert_eq!(kinds("Bdfyjdf!1"), [PersonalDataKind::Surname]);
    }

    #[test]
    fn every_birth_date_format_is_found() {
        for password in [
            "a14031990z",
            "a14.03.1990z",
            "a19900314z",
            "a1990-03-14z",
            "a140390z",
            "a14/03/1990z",
            "a14-03-1990z",
            "a14.03.90z",
            "a14.3.1990z",
            "a1431990z",
            "a14.3.90z",
        ] {
            assert_eq!(kinds(password), [PersonalDataKind::BirthDate], "{password}");
        }
    }

    #[test]
    fn another_date_is_not_the_birth_date() {
        assert!(kinds("a15031990z").is_empty());
    }

    #[test]
    fn phone_tail_and_national_number_are_found() {
        assert_eq!(kinds("x3456789x"), [PersonalDataKind::Phone]);
        assert_eq!(kinds("x912-345-67-89x"), [PersonalDataKind::Phone]);
        assert!(kinds("x345678x").is_empty());
    }

    #[test]
    fn the_start_of_the_phone_number_is_found() {
        assert_eq!(kinds("Zz8(912)345-6!"), [PersonalDataKind::Phone]);
        assert_eq!(kinds("x9123456x"), [PersonalDataKind::Phone]);
        assert!(
            kinds("x912345x").is_empty(),
            "six digits are not the number"
        );
    }

    #[test]
    fn email_local_part_is_found_but_not_the_domain() {
        assert_eq!(
            kinds("M.Ivanova"),
            [PersonalDataKind::Surname, PersonalDataKind::Email]
        );
        assert!(kinds("example.ru!").is_empty());
    }

    #[test]
    fn snils_body_is_found_with_or_without_separators() {
        assert_eq!(kinds("s112233445"), [PersonalDataKind::Snils]);
        assert_eq!(kinds("s112-233-445"), [PersonalDataKind::Snils]);
    }

    #[test]
    fn short_names_are_not_looked_for() {
        let person = PersonalData::new().given_name("Ян");
        assert!(person.found_in("янтарь-море-77").is_empty());
    }

    #[test]
    fn unset_facts_match_nothing() {
        assert!(PersonalData::new().found_in("anything 14031990").is_empty());
        assert!(PersonalData::new().is_empty());
    }

    #[test]
    fn none_clears_a_fact() {
        let person = person().surname(None);
        assert!(person.found_in("иванова").is_empty());
    }

    #[test]
    fn debug_never_shows_the_values() {
        let shown = format!("{:?}", person());
        for value in ["Иванова", "Мария", "9123456789", "112233445", "1990"] {
            assert!(!shown.contains(value), "{shown}");
        }
        assert!(shown.contains("<set>"));
    }
}
