//! The password policy: rules as data, every violation reported at once.

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::blocklist;
use super::normalize::{is_oversized, lowercase, normalize};
use super::personal::{PersonalData, PersonalDataKind};
use crate::{Lang, Password};

/// The longest limit a policy may put on length is never below this: NIST SP 800-63B
/// 5.1.1.2 says verifiers should accept passwords of at least 64 characters, so that
/// passphrases fit.
pub const MIN_ACCEPTED_MAX_LENGTH: usize = 64;

/// The shortest keyboard or alphabet run that can be refused: shorter runs (`ab`, `12`)
/// are in nearly every password.
const MIN_SEQUENCE_RUN: usize = 3;

/// Runs the sequence rule looks for, forward and backward: keyboard rows of the Latin
/// (QWERTY) and Russian (ЙЦУКЕН) layouts, the digit row and the digits in order, and
/// both alphabets (the Russian one with and without `ё`, which many people skip).
const SEQUENCES: &[&str] = &[
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "йцукенгшщзхъ",
    "фывапролджэ",
    "ячсмитьбю",
    "1234567890",
    "0123456789",
    "abcdefghijklmnopqrstuvwxyz",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "абвгдежзийклмнопрстуфхцчшщъыьэюя",
];

/// A class of characters a policy can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CharClass {
    /// A capital Latin letter, `A`–`Z`.
    UpperLatin,
    /// A small Latin letter, `a`–`z`.
    LowerLatin,
    /// A digit, `0`–`9` (full-width digits count once normalised).
    Digit,
    /// Anything that is not a letter, a digit or white space: `!`, `?`, `%`, `#`, `_`,
    /// `№`, `€` and the like.
    Punctuation,
}

impl CharClass {
    /// Whether `c` (an NFKC-normalised character) belongs to this class.
    pub fn contains(self, c: char) -> bool {
        match self {
            Self::UpperLatin => c.is_ascii_uppercase(),
            Self::LowerLatin => c.is_ascii_lowercase(),
            Self::Digit => c.is_ascii_digit(),
            Self::Punctuation => !c.is_alphanumeric() && !c.is_whitespace(),
        }
    }
}

/// The rules a new password must meet, as plain data.
///
/// Start from a preset ([`PasswordPolicy::portal`], the default, or
/// [`PasswordPolicy::nist`]) and adjust with the `with_*` methods or the public fields.
/// Lengths are counted in Unicode code points after NFKC normalisation.
///
/// ```
/// use portal_auth::Password;
/// use portal_auth::password::{PasswordPolicy, PersonalData, Violation};
///
/// let policy = PasswordPolicy::portal();
/// let refused = policy
///     .check(&Password::new("qwerty"), &PersonalData::new())
///     .unwrap_err();
/// assert!(refused.violations().contains(&Violation::Common));
/// assert!(policy.check(&Password::new("Ледокол-Крузенштерн-7z!Q"), &PersonalData::new()).is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PasswordPolicy {
    /// Fewest characters allowed.
    pub min_length: usize,
    /// Most characters allowed. Values below [`MIN_ACCEPTED_MAX_LENGTH`] act as 64.
    pub max_length: usize,
    /// Classes of which the password must hold at least one character each.
    pub required_classes: Vec<CharClass>,
    /// Refuse passwords from the list of common passwords (about 20,000 entries, also
    /// matched when typed with the Russian layout or decorated with leading or trailing
    /// digits and punctuation).
    pub blocklist: bool,
    /// Refuse passwords containing the person's names, birth date, phone, e-mail local
    /// part or SNILS.
    pub personal_data: bool,
    /// Refuse keyboard, digit and alphabet runs of [`min_sequence_run`] characters or
    /// more, forward or backward.
    ///
    /// [`min_sequence_run`]: Self::min_sequence_run
    pub sequences: bool,
    /// Shortest run the sequence rule refuses. Default 5: runs of four occur inside
    /// ordinary words (`liberty` holds `erty`, a QWERTY run); runs of five or more
    /// (`12345`, `qwert`, `йцуке`, `abcde`) practically never do. Values below 3 act as 3.
    pub min_sequence_run: usize,
    /// Most identical characters allowed in a row (compared case-insensitively); `None`
    /// turns the rule off. Default 3, so `aaaa` is refused. Values below 1 act as 1.
    pub max_repeated: Option<usize>,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self::portal()
    }
}

impl PasswordPolicy {
    /// The portal's own rule, made safer: at least 8 characters with a capital and a
    /// small Latin letter, a digit and a punctuation mark; plus the blocklist, personal
    /// data, runs of 5 and more than 3 repeated characters.
    #[must_use]
    pub fn portal() -> Self {
        Self {
            min_length: 8,
            max_length: 128,
            required_classes: vec![
                CharClass::UpperLatin,
                CharClass::LowerLatin,
                CharClass::Digit,
                CharClass::Punctuation,
            ],
            blocklist: true,
            personal_data: true,
            sequences: true,
            min_sequence_run: 5,
            max_repeated: Some(3),
        }
    }

    /// NIST SP 800-63B-4 for a password used alone: at least 15 characters and no
    /// composition rules; the blocklist, personal data, runs and repeats still apply.
    #[must_use]
    pub fn nist() -> Self {
        Self {
            min_length: 15,
            required_classes: Vec::new(),
            ..Self::portal()
        }
    }

    /// NIST SP 800-63B-4 for a password used with a second factor: at least 8
    /// characters, otherwise as [`PasswordPolicy::nist`].
    #[must_use]
    pub fn nist_with_second_factor() -> Self {
        Self {
            min_length: 8,
            ..Self::nist()
        }
    }

    /// Sets the fewest characters allowed.
    #[must_use]
    pub fn with_min_length(mut self, min_length: usize) -> Self {
        self.min_length = min_length;
        self
    }

    /// Sets the most characters allowed (never below 64, see
    /// [`MIN_ACCEPTED_MAX_LENGTH`]).
    #[must_use]
    pub fn with_max_length(mut self, max_length: usize) -> Self {
        self.max_length = max_length;
        self
    }

    /// Sets the required character classes.
    #[must_use]
    pub fn with_required_classes(mut self, classes: impl IntoIterator<Item = CharClass>) -> Self {
        self.required_classes = classes.into_iter().collect();
        self
    }

    /// Turns the common-password rule on or off.
    #[must_use]
    pub fn with_blocklist(mut self, on: bool) -> Self {
        self.blocklist = on;
        self
    }

    /// Turns the personal-data rule on or off.
    #[must_use]
    pub fn with_personal_data(mut self, on: bool) -> Self {
        self.personal_data = on;
        self
    }

    /// Turns the sequence rule on or off.
    #[must_use]
    pub fn with_sequences(mut self, on: bool) -> Self {
        self.sequences = on;
        self
    }

    /// Sets the shortest run the sequence rule refuses.
    #[must_use]
    pub fn with_min_sequence_run(mut self, run: usize) -> Self {
        self.min_sequence_run = run;
        self
    }

    /// Sets the most identical characters allowed in a row, or `None` for no limit.
    #[must_use]
    pub fn with_max_repeated(mut self, max: Option<usize>) -> Self {
        self.max_repeated = max;
        self
    }

    /// Checks a password against every rule.
    ///
    /// # Errors
    ///
    /// [`PolicyViolations`] listing every rule the password breaks, not just the first.
    pub fn check(
        &self,
        password: &Password,
        personal: &PersonalData,
    ) -> Result<(), PolicyViolations> {
        self.refuse_oversized(password)?;
        PolicyViolations::into_result(self.violations(&normalize(password), personal))
    }

    /// Refuses a password over [`MAX_PASSWORD_BYTES`](crate::password::MAX_PASSWORD_BYTES) before it is normalised: it is
    /// too long for any policy, and no other rule is worth reading it for.
    fn refuse_oversized(&self, password: &Password) -> Result<(), PolicyViolations> {
        if !is_oversized(password) {
            return Ok(());
        }
        PolicyViolations::into_result(vec![Violation::TooLong {
            max: self.max_length.max(MIN_ACCEPTED_MAX_LENGTH),
            actual: password.expose_secret().chars().count(),
        }])
    }

    /// Checks a new password and its confirmation (the second entry on a form).
    ///
    /// Both are normalised, then compared in constant time; a mismatch adds
    /// [`Violation::ConfirmationMismatch`] to whatever else the password breaks.
    ///
    /// # Errors
    ///
    /// [`PolicyViolations`] listing every rule broken, including the mismatch.
    pub fn check_new(
        &self,
        password: &Password,
        confirmation: &Password,
        personal: &PersonalData,
    ) -> Result<(), PolicyViolations> {
        self.refuse_oversized(password)?;
        let normalized = normalize(password);
        let mut violations = self.violations(&normalized, personal);

        // Constant time over the bytes; a difference in length shows, which tells an
        // observer nothing they could not see from the form anyway.
        let same = normalized
            .as_bytes()
            .ct_eq(normalize(confirmation).as_bytes());
        if !bool::from(same) {
            violations.push(Violation::ConfirmationMismatch);
        }
        PolicyViolations::into_result(violations)
    }

    /// Every rule `normalized` breaks, in a stable order.
    fn violations(&self, normalized: &str, personal: &PersonalData) -> Vec<Violation> {
        let mut violations = Vec::new();
        let length = normalized.chars().count();
        let max_length = self.max_length.max(MIN_ACCEPTED_MAX_LENGTH);

        if length < self.min_length {
            violations.push(Violation::TooShort {
                min: self.min_length,
                actual: length,
            });
        }
        if length > max_length {
            violations.push(Violation::TooLong {
                max: max_length,
                actual: length,
            });
        }

        let mut required = self.required_classes.clone();
        required.dedup();
        for class in required {
            if !normalized.chars().any(|c| class.contains(c)) {
                violations.push(Violation::MissingClass(class));
            }
        }

        let lowered = lowercase(normalized);
        if self.blocklist && blocklist::is_common(&lowered) {
            violations.push(Violation::Common);
        }
        if self.personal_data {
            let found = personal.found_in(&lowered);
            violations.extend(found.into_iter().map(Violation::ContainsPersonalData));
        }
        if self.sequences && contains_sequence(&lowered, self.min_sequence_run) {
            violations.push(Violation::Sequence);
        }
        if let Some(max) = self.max_repeated {
            let max = max.max(1);
            if longest_repeat(&lowered) > max {
                violations.push(Violation::RepeatedCharacters { max });
            }
        }
        violations
    }
}

/// Whether `lowered` holds a run of `run` (at least 3) characters from [`SEQUENCES`],
/// forward or backward.
fn contains_sequence(lowered: &str, run: usize) -> bool {
    let run = run.max(MIN_SEQUENCE_RUN);
    SEQUENCES.iter().any(|sequence| {
        let forward: Vec<char> = sequence.chars().collect();
        let backward: Vec<char> = forward.iter().rev().copied().collect();
        [forward, backward].iter().any(|chars| {
            chars
                .windows(run)
                .any(|window| lowered.contains(&window.iter().collect::<String>()))
        })
    })
}

/// The length of the longest run of one character.
fn longest_repeat(lowered: &str) -> usize {
    let mut longest = 0;
    let mut current = 0;
    let mut previous = None;
    for c in lowered.chars() {
        current = if previous == Some(c) { current + 1 } else { 1 };
        longest = longest.max(current);
        previous = Some(c);
    }
    longest
}

/// One rule a password breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Violation {
    /// Fewer characters than the policy's minimum.
    TooShort {
        /// The minimum.
        min: usize,
        /// The password's length, in code points after normalisation.
        actual: usize,
    },
    /// More characters than the policy's maximum.
    TooLong {
        /// The maximum.
        max: usize,
        /// The password's length, in code points after normalisation.
        actual: usize,
    },
    /// No character of a required class.
    MissingClass(CharClass),
    /// On the list of common passwords.
    Common,
    /// Contains the person's own data of this kind.
    ContainsPersonalData(PersonalDataKind),
    /// Contains a keyboard, digit or alphabet run.
    Sequence,
    /// More than `max` identical characters in a row.
    RepeatedCharacters {
        /// The most allowed in a row.
        max: usize,
    },
    /// The confirmation differs from the password.
    ConfirmationMismatch,
}

impl Violation {
    /// What to tell the person, in their language.
    pub fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Ru => self.message_ru(),
            Lang::En => self.message_en(),
        }
    }

    fn message_ru(&self) -> String {
        match *self {
            Self::TooShort { min, actual } => format!(
                "Пароль должен содержать не менее {min} {} (сейчас {actual})",
                ru_genitive(min, "символа", "символов")
            ),
            Self::TooLong { max, actual } => format!(
                "Пароль должен содержать не более {max} {} (сейчас {actual})",
                ru_genitive(max, "символа", "символов")
            ),
            Self::MissingClass(class) => {
                let what = match class {
                    CharClass::UpperLatin => "одну заглавную латинскую букву (A–Z)",
                    CharClass::LowerLatin => "одну строчную латинскую букву (a–z)",
                    CharClass::Digit => "одну цифру (0–9)",
                    CharClass::Punctuation => "один специальный символ, например ! ? % # _",
                };
                format!("Пароль должен содержать хотя бы {what}")
            }
            Self::Common => {
                "Этот пароль слишком распространён и легко подбирается — придумайте другой".into()
            }
            Self::ContainsPersonalData(kind) => {
                let what = match kind {
                    PersonalDataKind::Surname => "вашу фамилию",
                    PersonalDataKind::GivenName => "ваше имя",
                    PersonalDataKind::Patronymic => "ваше отчество",
                    PersonalDataKind::BirthDate => "вашу дату рождения",
                    PersonalDataKind::Phone => "ваш номер телефона",
                    PersonalDataKind::Email => "имя вашего почтового ящика",
                    PersonalDataKind::Snils => "номер вашего СНИЛС",
                };
                format!("Пароль не должен содержать {what}")
            }
            Self::Sequence => "Пароль не должен содержать последовательности символов, \
                               например 12345, abcde, qwerty или йцукен"
                .into(),
            Self::RepeatedCharacters { max } => format!(
                "Пароль не должен содержать более {max} {} подряд",
                ru_genitive(max, "одинакового символа", "одинаковых символов")
            ),
            Self::ConfirmationMismatch => "Пароль и его подтверждение не совпадают".into(),
        }
    }

    fn message_en(&self) -> String {
        let characters = |n: usize| if n == 1 { "character" } else { "characters" };
        match *self {
            Self::TooShort { min, actual } => format!(
                "The password must be at least {min} {} long (it has {actual})",
                characters(min)
            ),
            Self::TooLong { max, actual } => format!(
                "The password must be at most {max} {} long (it has {actual})",
                characters(max)
            ),
            Self::MissingClass(class) => {
                let what = match class {
                    CharClass::UpperLatin => "a capital Latin letter (A–Z)",
                    CharClass::LowerLatin => "a small Latin letter (a–z)",
                    CharClass::Digit => "a digit (0–9)",
                    CharClass::Punctuation => "a special character such as ! ? % # _",
                };
                format!("The password must contain {what}")
            }
            Self::Common => "This password is too common and easy to guess; choose another".into(),
            Self::ContainsPersonalData(kind) => {
                let what = match kind {
                    PersonalDataKind::Surname => "your surname",
                    PersonalDataKind::GivenName => "your given name",
                    PersonalDataKind::Patronymic => "your patronymic",
                    PersonalDataKind::BirthDate => "your date of birth",
                    PersonalDataKind::Phone => "your phone number",
                    PersonalDataKind::Email => "your e-mail user name",
                    PersonalDataKind::Snils => "your SNILS number",
                };
                format!("The password must not contain {what}")
            }
            Self::Sequence => "The password must not contain runs such as 12345, abcde, \
                               qwerty or йцукен"
                .into(),
            Self::RepeatedCharacters { max } => format!(
                "The password must not contain more than {max} identical {} in a row",
                characters(max)
            ),
            Self::ConfirmationMismatch => "The password and its confirmation differ".into(),
        }
    }
}

/// The genitive after a number ("не менее 21 символа", "не менее 8 символов").
fn ru_genitive(n: usize, singular: &'static str, plural: &'static str) -> &'static str {
    if n % 10 == 1 && n % 100 != 11 {
        singular
    } else {
        plural
    }
}

/// Every rule a password breaks. The message counts them and never shows the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password breaks {count} policy rule(s)", count = .violations.len())]
pub struct PolicyViolations {
    violations: Vec<Violation>,
}

impl PolicyViolations {
    fn into_result(violations: Vec<Violation>) -> Result<(), Self> {
        if violations.is_empty() {
            Ok(())
        } else {
            Err(Self { violations })
        }
    }

    /// The rules broken, in a stable order: length, classes, blocklist, personal data,
    /// runs, repeats, confirmation.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Iterates over the rules broken.
    pub fn iter(&self) -> std::slice::Iter<'_, Violation> {
        self.violations.iter()
    }

    /// The messages to show, one per rule broken.
    pub fn messages(&self, lang: Lang) -> Vec<String> {
        self.violations
            .iter()
            .map(|violation| violation.message(lang))
            .collect()
    }

    /// The rules broken, taken out.
    pub fn into_violations(self) -> Vec<Violation> {
        self.violations
    }
}

impl<'a> IntoIterator for &'a PolicyViolations {
    type Item = &'a Violation;
    type IntoIter = std::slice::Iter<'a, Violation>;

    fn into_iter(self) -> Self::IntoIter {
        self.violations.iter()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use time::macros::date;

    use super::*;
    use crate::password::MAX_PASSWORD_BYTES;

    const GOOD: &str = "Ледокол-Крузенштерн-7z!Q";

    fn violations(policy: &PasswordPolicy, password: &str) -> Vec<Violation> {
        policy
            .check(&Password::new(password), &PersonalData::new())
            .err()
            .map(PolicyViolations::into_violations)
            .unwrap_or_default()
    }

    fn all_violations() -> Vec<Violation> {
        let mut all = vec![
            Violation::TooShort { min: 8, actual: 3 },
            Violation::TooLong {
                max: 128,
                actual: 130,
            },
            Violation::Common,
            Violation::Sequence,
            Violation::RepeatedCharacters { max: 3 },
            Violation::ConfirmationMismatch,
        ];
        all.extend(
            [
                CharClass::UpperLatin,
                CharClass::LowerLatin,
                CharClass::Digit,
                CharClass::Punctuation,
            ]
            .map(Violation::MissingClass),
        );
        all.extend(
            [
                PersonalDataKind::Surname,
                PersonalDataKind::GivenName,
                PersonalDataKind::Patronymic,
                PersonalDataKind::BirthDate,
                PersonalDataKind::Phone,
                PersonalDataKind::Email,
                PersonalDataKind::Snils,
            ]
            .map(Violation::ContainsPersonalData),
        );
        all
    }

    #[test]
    fn good_password_passes_every_preset() {
        for policy in [
            PasswordPolicy::portal(),
            PasswordPolicy::nist(),
            PasswordPolicy::nist_with_second_factor(),
        ] {
            assert_eq!(violations(&policy, GOOD), [], "{policy:?}");
        }
    }

    #[test]
    fn default_is_the_portal_preset() {
        assert_eq!(PasswordPolicy::default(), PasswordPolicy::portal());
    }

    #[test]
    fn portal_refuses_seven_characters() {
        assert_eq!(
            violations(&PasswordPolicy::portal(), "Zx7!mQp"),
            [Violation::TooShort { min: 8, actual: 7 }]
        );
        assert_eq!(violations(&PasswordPolicy::portal(), "Zx7!mQpw"), []);
    }

    #[test]
    fn length_counts_code_points_not_bytes() {
        // Eight Cyrillic letters are sixteen bytes but eight characters.
        let policy = PasswordPolicy::nist_with_second_factor();
        assert_eq!(violations(&policy, "журавлик"), []);
        assert_eq!(
            violations(&policy, "журавль"),
            [Violation::TooShort { min: 8, actual: 7 }]
        );
    }

    #[test]
    fn portal_requires_each_character_class() {
        let policy = PasswordPolicy::portal();
        assert_eq!(
            violations(&policy, "zx7!mqpw"),
            [Violation::MissingClass(CharClass::UpperLatin)]
        );
        assert_eq!(
            violations(&policy, "ZX7!MQPW"),
            [Violation::MissingClass(CharClass::LowerLatin)]
        );
        assert_eq!(
            violations(&policy, "Zxj!mQpw"),
            [Violation::MissingClass(CharClass::Digit)]
        );
        assert_eq!(
            violations(&policy, "Zx7fmQpw"),
            [Violation::MissingClass(CharClass::Punctuation)]
        );
    }

    #[test]
    fn cyrillic_letters_do_not_count_as_latin_or_punctuation() {
        assert_eq!(
            violations(&PasswordPolicy::portal(), "Пароль7Мой"),
            [
                Violation::MissingClass(CharClass::UpperLatin),
                Violation::MissingClass(CharClass::LowerLatin),
                Violation::MissingClass(CharClass::Punctuation),
            ]
        );
    }

    #[test]
    fn nist_refuses_fourteen_characters_without_composition_rules() {
        let policy = PasswordPolicy::nist();
        assert_eq!(
            violations(&policy, "ледокол морозы"),
            [Violation::TooShort {
                min: 15,
                actual: 14
            }]
        );
        assert_eq!(violations(&policy, "ледокол морозец"), []);
    }

    #[test]
    fn nist_with_second_factor_accepts_eight_plain_letters() {
        assert_eq!(
            violations(&PasswordPolicy::nist_with_second_factor(), "журавлик"),
            []
        );
        assert!(!violations(&PasswordPolicy::nist(), "журавлик").is_empty());
    }

    #[test]
    fn passphrase_of_sixty_four_code_points_is_accepted() {
        let passphrase = "морозное утро над Невой, ледокол идёт к Кронштадту сквозь туман!";
        assert_eq!(passphrase.chars().count(), 64);
        assert_eq!(violations(&PasswordPolicy::nist(), passphrase), []);
    }

    #[test]
    fn max_length_below_sixty_four_acts_as_sixty_four() {
        let policy = PasswordPolicy::nist().with_max_length(20);
        let sixty_four = "ледокол ".repeat(8);
        assert_eq!(violations(&policy, &sixty_four), []);
        assert_eq!(
            violations(&policy, &format!("{sixty_four}!")),
            [Violation::TooLong {
                max: 64,
                actual: 65
            }]
        );
    }

    #[test]
    fn portal_refuses_more_than_one_hundred_twenty_eight() {
        let long = format!("Aa1!{}", "ледокол ".repeat(16));
        assert_eq!(
            violations(&PasswordPolicy::portal(), &long),
            [Violation::TooLong {
                max: 128,
                actual: 132
            }]
        );
    }

    #[test]
    fn input_over_four_kibibytes_is_refused_whole_before_normalising() {
        // 300 characters that NFKC would grow to 5,400: at the bound, they are read.
        let ligatures = "\u{fdfa}".repeat(300);
        assert!(
            violations(&PasswordPolicy::portal(), &ligatures).contains(&Violation::TooLong {
                max: 128,
                actual: 5400
            })
        );
        // One byte past the bound, only the length is reported, counted as typed.
        let oversized = "a".repeat(MAX_PASSWORD_BYTES + 1);
        let expected = [Violation::TooLong {
            max: 128,
            actual: MAX_PASSWORD_BYTES + 1,
        }];
        assert_eq!(violations(&PasswordPolicy::portal(), &oversized), expected);
        let refused = PasswordPolicy::portal()
            .check_new(
                &Password::new(oversized.clone()),
                &Password::new(oversized),
                &PersonalData::new(),
            )
            .unwrap_err();
        assert_eq!(refused.into_violations(), expected);
    }

    #[test]
    fn blocklisted_password_is_refused_in_any_case() {
        let policy = PasswordPolicy::nist_with_second_factor().with_sequences(false);
        assert_eq!(violations(&policy, "PassWord"), [Violation::Common]);
        assert_eq!(
            violations(&policy.clone().with_blocklist(false), "PassWord"),
            []
        );
    }

    #[test]
    fn decorated_common_password_fails_the_portal_preset() {
        assert_eq!(
            violations(&PasswordPolicy::portal(), "Password1!"),
            [Violation::Common]
        );
    }

    #[test]
    fn full_width_input_is_normalised_before_the_blocklist() {
        let policy = PasswordPolicy::nist_with_second_factor().with_sequences(false);
        assert_eq!(violations(&policy, "ｐａｓｓｗｏｒｄ"), [Violation::Common]);
    }

    #[test]
    fn latin_keyboard_runs_are_refused_both_ways() {
        let policy = PasswordPolicy::nist_with_second_factor().with_blocklist(false);
        for password in ["mQwErTy-Лето", "ytrewq-Лето", "Лето-asdfg", "Лето-bvcxz"]
        {
            assert_eq!(
                violations(&policy, password),
                [Violation::Sequence],
                "{password}"
            );
        }
    }

    #[test]
    fn russian_keyboard_runs_are_refused_both_ways() {
        let policy = PasswordPolicy::nist_with_second_factor().with_blocklist(false);
        for password in ["ЙЦУКЕН-лето7", "некуцй-лето7", "zz-фывап-zz", "zz-тимсч-zz"]
        {
            assert_eq!(
                violations(&policy, password),
                [Violation::Sequence],
                "{password}"
            );
        }
    }

    #[test]
    fn digit_and_alphabet_runs_are_refused() {
        let policy = PasswordPolicy::nist_with_second_factor().with_blocklist(false);
        for password in [
            "Лето-12345",
            "Лето-987654",
            "Лето-abcde",
            "zz-абвгд-zz",
            "zz-67890",
        ] {
            assert_eq!(
                violations(&policy, password),
                [Violation::Sequence],
                "{password}"
            );
        }
    }

    #[test]
    fn runs_shorter_than_the_minimum_pass() {
        let policy = PasswordPolicy::nist_with_second_factor();
        assert_eq!(violations(&policy, "Liberty-1234-Лес"), []);
        assert_eq!(
            violations(&policy.with_min_sequence_run(4), "Liberty-1234-Лес"),
            [Violation::Sequence]
        );
    }

    #[test]
    fn four_identical_characters_in_a_row_are_refused() {
        let policy = PasswordPolicy::nist_with_second_factor();
        assert_eq!(violations(&policy, "Ледокол-ooo-7"), []);
        assert_eq!(
            violations(&policy, "Ледокол-oOoo-7"),
            [Violation::RepeatedCharacters { max: 3 }]
        );
        assert_eq!(
            violations(&policy.with_max_repeated(None), "Ледокол-oOoo-7"),
            []
        );
    }

    #[test]
    fn personal_data_is_refused_by_every_preset() {
        let person = PersonalData::new()
            .surname("Кузнецов")
            .birth_date(date!(1985 - 07 - 02));
        for policy in [PasswordPolicy::portal(), PasswordPolicy::nist()] {
            let refused = policy
                .check(&Password::new("Kuznetsov!02.07.1985x"), &person)
                .unwrap_err();
            assert!(
                refused
                    .violations()
                    .contains(&Violation::ContainsPersonalData(PersonalDataKind::Surname))
            );
            assert!(
                refused
                    .violations()
                    .contains(&Violation::ContainsPersonalData(
                        PersonalDataKind::BirthDate
                    ))
            );
        }
        let relaxed = PasswordPolicy::portal().with_personal_data(false);
        assert!(
            relaxed
                .check(&Password::new("Kuznetsov!02.07.1985x"), &person)
                .is_ok()
        );
    }

    #[test]
    fn every_violation_is_reported_together() {
        let person = PersonalData::new().given_name("Анна");
        let refused = PasswordPolicy::portal()
            .check(&Password::new("анна1111"), &person)
            .unwrap_err();
        assert_eq!(
            refused.violations(),
            [
                Violation::MissingClass(CharClass::UpperLatin),
                Violation::MissingClass(CharClass::LowerLatin),
                Violation::MissingClass(CharClass::Punctuation),
                Violation::ContainsPersonalData(PersonalDataKind::GivenName),
                Violation::RepeatedCharacters { max: 3 },
            ]
        );
        assert_eq!(refused.to_string(), "password breaks 5 policy rule(s)");
    }

    #[test]
    fn error_message_never_shows_the_password() {
        let refused = PasswordPolicy::portal()
            .check(&Password::new("secretive"), &PersonalData::new())
            .unwrap_err();
        assert!(!refused.to_string().contains("secretive"));
        assert!(!format!("{refused:?}").contains("secretive"));
    }

    #[test]
    fn confirmation_mismatch_is_added_to_other_violations() {
        let policy = PasswordPolicy::portal();
        let refused = policy
            .check_new(
                &Password::new("short"),
                &Password::new("shorter"),
                &PersonalData::new(),
            )
            .unwrap_err();
        assert_eq!(
            refused.violations().first(),
            Some(&Violation::TooShort { min: 8, actual: 5 })
        );
        assert_eq!(
            refused.violations().last(),
            Some(&Violation::ConfirmationMismatch)
        );
    }

    #[test]
    fn confirmation_is_compared_after_normalisation() {
        let policy = PasswordPolicy::portal();
        let typed = Password::new("Ледокол-Крузенштерн-7z!Q");
        let full_width = Password::new("Ледокол-Крузенштерн-７ｚ！Ｑ");
        assert!(
            policy
                .check_new(&typed, &full_width, &PersonalData::new())
                .is_ok()
        );
        let refused = policy
            .check_new(
                &typed,
                &Password::new("Ледокол-Крузенштерн-7z!q"),
                &PersonalData::new(),
            )
            .unwrap_err();
        assert_eq!(refused.violations(), [Violation::ConfirmationMismatch]);
    }

    #[test]
    fn messages_are_non_empty_and_distinct_in_both_languages() {
        let all = all_violations();
        for lang in [Lang::Ru, Lang::En] {
            let messages: HashSet<String> = all.iter().map(|v| v.message(lang)).collect();
            assert_eq!(messages.len(), all.len(), "{lang:?}");
            assert!(messages.iter().all(|m| !m.trim().is_empty()));
        }
        for violation in &all {
            assert_ne!(violation.message(Lang::Ru), violation.message(Lang::En));
        }
    }

    #[test]
    fn russian_messages_use_the_right_number_forms() {
        assert_eq!(
            Violation::TooShort { min: 8, actual: 5 }.message(Lang::Ru),
            "Пароль должен содержать не менее 8 символов (сейчас 5)"
        );
        assert_eq!(
            Violation::TooShort { min: 21, actual: 5 }.message(Lang::Ru),
            "Пароль должен содержать не менее 21 символа (сейчас 5)"
        );
        assert_eq!(
            Violation::MissingClass(CharClass::Punctuation).message(Lang::Ru),
            "Пароль должен содержать хотя бы один специальный символ, например ! ? % # _"
        );
        assert_eq!(
            Violation::RepeatedCharacters { max: 3 }.message(Lang::Ru),
            "Пароль не должен содержать более 3 одинаковых символов подряд"
        );
    }

    #[test]
    fn messages_list_one_line_per_violation() {
        let refused = PasswordPolicy::portal()
            .check(&Password::new("a"), &PersonalData::new())
            .unwrap_err();
        assert_eq!(refused.messages(Lang::Ru).len(), refused.violations().len());
        assert_eq!((&refused).into_iter().count(), refused.iter().count());
    }

    #[test]
    fn policy_round_trips_through_serde_with_defaults() {
        let policy: PasswordPolicy = serde_json::from_str(r#"{"min_length": 12}"#).unwrap();
        assert_eq!(policy, PasswordPolicy::portal().with_min_length(12));
        let json = serde_json::to_string(&PasswordPolicy::nist()).unwrap();
        assert_eq!(
            serde_json::from_str::<PasswordPolicy>(&json).unwrap(),
            PasswordPolicy::nist()
        );
    }
}
