//! Account tiers: the ladder from simplified to confirmed, and the forms that climb it.
//!
//! # The ladder
//!
//! | from → to | how | [`Portal`](crate::Portal) calls |
//! |---|---|---|
//! | simplified → standard | SNILS and passport details verified by a [`DocumentRegistry`](crate::registry::DocumentRegistry) | [`submit_documents`](crate::Portal::submit_documents), then [`verification_status`](crate::Portal::verification_status) or the host's [`poll_verifications`](crate::Portal::poll_verifications) while the registry answers "pending" |
//! | standard → confirmed | in person: an [`Operator`](crate::Operator) with the `confirm_identity` permission checks the passport | [`confirm_identity_in_person`](crate::Portal::confirm_identity_in_person) |
//! | standard → confirmed | by registered post: a 10-character activation code, 30 days, 3 tries | [`request_activation_code`](crate::Portal::request_activation_code), [`enter_activation_code`](crate::Portal::enter_activation_code) |
//! | standard → confirmed | a proofing method of the host (a bank, a qualified e-signature) | [`confirm_identity_by`](crate::Portal::confirm_identity_by) |
//! | standard or confirmed → simplified | a passport or SNILS different from the verified one is submitted | [`submit_documents`](crate::Portal::submit_documents) |
//!
//! Every tier change is audited as [`AuditKind::TierChanged`](crate::AuditKind::TierChanged)
//! with the old tier, the new one and the reason, and bumps the account's credential
//! stamp: a host that keeps the stamp in its sessions re-reads the tier (the calls that
//! change the tier of the caller's own account reply with the new session). A change of
//! phone or e-mail never changes the tier.
//!
//! A service states the tier it needs with [`Portal::require_tier`](crate::Portal::require_tier);
//! a refusal is [`Error::InsufficientTier`] listing the [`UpgradePath`]s that lead there.
//!
//! Only one verification and one postal code are live per account: a new submission
//! replaces the previous verification, and a new code request voids the previous code.
//! Submissions are limited per day (see
//! [`PortalConfig::document_submissions_per_day`](crate::PortalConfig::document_submissions_per_day)).
//!
//! # Example: the whole ladder
//!
//! ```
//! use portal_auth::notify::{Recipient, RecordingSender};
//! use portal_auth::otp::CodeKey;
//! use portal_auth::password::HasherConfig;
//! use portal_auth::registry::FakeRegistry;
//! use portal_auth::{
//!     AlwaysPass, DocumentRequest, LoginOutcome, LoginRequest, ManualClock, MemoryStore,
//!     Password, Portal, PortalConfig, RegistrationRequest, Tier, VerificationStatus,
//! };
//! use time::macros::datetime;
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let clock = ManualClock::new(datetime!(2026-06-01 09:00 UTC));
//! let mut config = PortalConfig::new(CodeKey::from_bytes([7; 32]));
//! config.hasher = HasherConfig::danger_fast_insecure(); // tests only
//! let sender = RecordingSender::new();
//! let portal = Portal::new(config, MemoryStore::new(), sender.clone(), AlwaysPass, clock.clone())?;
//!
//! // A simplified account, registered with a phone.
//! let phone = "+79123456789";
//! let started = portal
//!     .start_registration(&RegistrationRequest {
//!         surname: "Petrov".into(),
//!         given_name: "Ivan".into(),
//!         patronymic: None,
//!         phone: Some(phone.into()),
//!         email: None,
//!         lang: None,
//!     })
//!     .await?;
//! let code = sender.last_to(&Recipient::Phone(phone.parse()?)).and_then(|m| m.code().cloned());
//! portal.confirm_registration(started.flow, &code.ok_or("no code")?).await?;
//! let password = Password::new("Kor0leva-Snezhnaya!");
//! portal.complete_registration(started.flow, &password, &password).await?;
//! let login = LoginRequest { login: phone.into(), password, client: None, captcha: None };
//! let LoginOutcome::Authenticated(session) = portal.login(&login).await? else {
//!     return Err("expected a session".into());
//! };
//! assert_eq!(session.tier, Tier::Simplified);
//!
//! // Simplified → standard: the registry verifies SNILS and passport.
//! let registry = FakeRegistry::new(clock.clone());
//! let documents = DocumentRequest {
//!     snils: "112-233-445 95".into(),
//!     passport: "4506 123456".into(),
//!     issued_on: "15.03.2011".into(),
//!     authority_code: "770-001".into(),
//!     birth_date: "01.02.1990".into(),
//!     birth_place: "Moscow".into(),
//!     inn: None,
//! };
//! let reply = portal.submit_documents(&session, &documents, &registry).await?;
//! assert_eq!(reply.status, VerificationStatus::Verified);
//! assert_eq!(reply.session.tier, Tier::Standard);
//!
//! // Standard → confirmed by registered post: the letter carries the code.
//! let address = "Moscow, Tverskaya 1, apt. 2";
//! portal.request_activation_code(&reply.session, address).await?;
//! let letter = sender.last_to(&Recipient::Postal(address.into())).and_then(|m| m.code().cloned());
//! let session = portal.enter_activation_code(&reply.session, &letter.ok_or("no letter")?).await?;
//! assert_eq!(session.tier, Tier::Confirmed);
//! portal.require_tier(&session, Tier::Confirmed).await?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;

use crate::account::Tier;
use crate::error::{Error, Field};
use crate::flow::login::Authenticated;
use crate::identity::{Inn, Passport, Snils};

/// One step up the ladder, as [`Error::InsufficientTier`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UpgradePath {
    /// Submit SNILS and passport details for verification (simplified → standard).
    SubmitDocuments,
    /// Visit a service centre with the passport (standard → confirmed).
    ConfirmInPerson,
    /// Ask for a postal activation code and enter it (standard → confirmed).
    ActivationCodeByPost,
}

/// The steps from `from` up to `to`, in order; empty when `from` already meets `to`.
///
/// This is the one table of how tiers are reached; the error of
/// [`Portal::require_tier`](crate::Portal::require_tier) carries its answer.
pub fn upgrade_paths(from: Tier, to: Tier) -> Vec<UpgradePath> {
    let mut paths = Vec::new();
    if from < Tier::Standard && to >= Tier::Standard {
        paths.push(UpgradePath::SubmitDocuments);
    }
    if from < Tier::Confirmed && to >= Tier::Confirmed {
        paths.push(UpgradePath::ConfirmInPerson);
        paths.push(UpgradePath::ActivationCodeByPost);
    }
    paths
}

/// The code of the passport's issuing authority (код подразделения): `770-001`.
///
/// Accepted with or without the dash; shown with it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuthorityCode {
    digits: String,
}

/// Why a string is not an issuing authority code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("issuing authority code must be six digits, XXX-XXX")]
pub struct AuthorityCodeError;

impl FromStr for AuthorityCode {
    type Err = AuthorityCodeError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let input = input.trim();
        let digits: String = input.chars().filter(|c| *c != '-').collect();
        let dashes = input.len() - digits.len();
        let dash_in_place = dashes == 0 || input.get(3..4) == Some("-");
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) || dashes > 1 {
            return Err(AuthorityCodeError);
        }
        if !dash_in_place {
            return Err(AuthorityCodeError);
        }
        Ok(Self { digits })
    }
}

impl fmt::Display for AuthorityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (head, tail) = self.digits.split_at(3);
        write!(f, "{head}-{tail}")
    }
}

impl Serialize for AuthorityCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AuthorityCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The documents form as a person filled it in: raw strings, so that a bad field can
/// be named.
///
/// Dates are accepted as `DD.MM.YYYY` or `YYYY-MM-DD`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentRequest {
    /// SNILS, `112-233-445 95` or eleven digits.
    pub snils: String,
    /// Passport series and number, `4506 123456`.
    pub passport: String,
    /// The passport's issue date.
    pub issued_on: String,
    /// The issuing authority's code, `770-001`.
    pub authority_code: String,
    /// The birth date, as on the passport.
    pub birth_date: String,
    /// The birth place, as on the passport.
    pub birth_place: String,
    /// INN, when the person gives it.
    pub inn: Option<String>,
}

/// Validated documents, ready for a registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentSubmission {
    snils: Snils,
    passport: Passport,
    issued_on: Date,
    authority_code: AuthorityCode,
    birth_date: Date,
    birth_place: String,
    inn: Option<Inn>,
}

fn invalid(field: Field, reason: &str) -> Error {
    Error::InvalidField {
        field,
        reason: reason.to_owned(),
    }
}

fn parse_date(input: &str, field: Field) -> Result<Date, Error> {
    let input = input.trim();
    let russian = format_description!("[day].[month].[year]");
    let iso = format_description!("[year]-[month]-[day]");
    Date::parse(input, russian)
        .or_else(|_| Date::parse(input, iso))
        .map_err(|_| invalid(field, "expected DD.MM.YYYY"))
}

impl DocumentRequest {
    /// Checks every field, in form order, against `today`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] naming the first bad field: a malformed SNILS, passport,
    /// authority code or INN; a date that does not parse; a birth date not before the
    /// issue date; an issue date after `today` or before the holder turned 14; a birth
    /// place empty, longer than 200 characters or with control characters.
    pub fn validate(&self, today: Date) -> Result<DocumentSubmission, Error> {
        let snils: Snils = self
            .snils
            .parse()
            .map_err(|e: crate::identity::SnilsError| invalid(Field::Snils, &e.to_string()))?;
        let passport: Passport =
            self.passport
                .parse()
                .map_err(|e: crate::identity::PassportError| {
                    invalid(Field::Passport, &e.to_string())
                })?;
        let issued_on = parse_date(&self.issued_on, Field::PassportIssueDate)?;
        let authority_code: AuthorityCode = self
            .authority_code
            .parse()
            .map_err(|e: AuthorityCodeError| invalid(Field::IssuingAuthority, &e.to_string()))?;
        let birth_date = parse_date(&self.birth_date, Field::BirthDate)?;
        if birth_date >= today {
            return Err(invalid(Field::BirthDate, "must be in the past"));
        }
        if issued_on > today {
            return Err(invalid(
                Field::PassportIssueDate,
                "must not be in the future",
            ));
        }
        // A Russian internal passport is first issued at 14.
        let fourteenth = birth_date
            .replace_year(birth_date.year() + 14)
            .or_else(|_| Date::from_calendar_date(birth_date.year() + 14, time::Month::March, 1));
        if fourteenth.map_or(true, |at_fourteen| issued_on < at_fourteen) {
            return Err(invalid(
                Field::PassportIssueDate,
                "must be on or after the 14th birthday",
            ));
        }
        let birth_place = self
            .birth_place
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let length = birth_place.chars().count();
        if length == 0 || length > 200 || birth_place.chars().any(char::is_control) {
            return Err(invalid(Field::BirthPlace, "between 1 and 200 characters"));
        }
        let inn = match self.inn.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(
                text.parse::<Inn>()
                    .map_err(|e| invalid(Field::Inn, &e.to_string()))?,
            ),
        };

        Ok(DocumentSubmission {
            snils,
            passport,
            issued_on,
            authority_code,
            birth_date,
            birth_place,
            inn,
        })
    }
}

impl DocumentSubmission {
    /// SNILS.
    pub fn snils(&self) -> &Snils {
        &self.snils
    }

    /// Passport series and number.
    pub fn passport(&self) -> &Passport {
        &self.passport
    }

    /// The passport's issue date.
    pub fn issued_on(&self) -> Date {
        self.issued_on
    }

    /// The issuing authority's code.
    pub fn authority_code(&self) -> &AuthorityCode {
        &self.authority_code
    }

    /// The birth date.
    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    /// The birth place, spaces collapsed.
    pub fn birth_place(&self) -> &str {
        &self.birth_place
    }

    /// INN, when given.
    pub fn inn(&self) -> Option<&Inn> {
        self.inn.as_ref()
    }
}

/// A host's own way of proving identity, recorded by
/// [`Portal::confirm_identity_by`](crate::Portal::confirm_identity_by).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofingMethod {
    /// What proved it: `bank`, `qualified-e-signature`.
    pub name: String,
    /// The host's reference for this proofing, for the audit trail.
    pub reference: String,
}

/// Where an account's document verification stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationStatus {
    /// No documents were submitted (or a verified account's documents were changed
    /// and nothing is pending).
    NotSubmitted,
    /// The registry has not answered yet.
    Pending,
    /// The documents on the account are verified.
    Verified,
    /// The registry rejected the last submission; correct it and submit again.
    Rejected {
        /// The registry's reason, to show to the person.
        reason: String,
    },
}

/// The reply to a documents call: the status and the caller's current session (its
/// stamp changes when the tier does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationReply {
    /// Where the verification stands.
    pub status: VerificationStatus,
    /// The session to keep from now on.
    pub session: Authenticated,
}

/// What one [`Portal::poll_verifications`](crate::Portal::poll_verifications) pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Verifications the registry verified now.
    pub verified: usize,
    /// Verifications it rejected now.
    pub rejected: usize,
    /// Verifications still pending.
    pub pending: usize,
    /// Verifications whose poll or commit failed (retried on the next pass).
    pub failed: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 06 - 01);

    fn good() -> DocumentRequest {
        DocumentRequest {
            snils: "112-233-445 95".into(),
            passport: "4506 123456".into(),
            issued_on: "15.03.2011".into(),
            authority_code: "770-001".into(),
            birth_date: "1990-02-01".into(),
            birth_place: "  Moscow  ".into(),
            inn: Some(String::new()),
        }
    }

    fn field_of(request: &DocumentRequest) -> Option<Field> {
        match request.validate(TODAY) {
            Err(Error::InvalidField { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn a_good_form_validates_in_both_date_formats() {
        let submission = good().validate(TODAY).unwrap();
        assert_eq!(submission.birth_date(), date!(1990 - 02 - 01));
        assert_eq!(submission.issued_on(), date!(2011 - 03 - 15));
        assert_eq!(submission.birth_place(), "Moscow");
        assert_eq!(submission.inn(), None);
        assert_eq!(submission.authority_code().to_string(), "770-001");
    }

    #[test]
    fn each_bad_field_is_named() {
        type Spoil = fn(&mut DocumentRequest);
        let cases: [(Spoil, Field); 9] = [
            (|r| r.snils = "112-233-445 96".into(), Field::Snils),
            (|r| r.passport = "45 06".into(), Field::Passport),
            (
                |r| r.issued_on = "31.02.2011".into(),
                Field::PassportIssueDate,
            ),
            (
                |r| r.authority_code = "77-0001".into(),
                Field::IssuingAuthority,
            ),
            (|r| r.birth_date = "yesterday".into(), Field::BirthDate),
            (|r| r.birth_place = "\u{7}".into(), Field::BirthPlace),
            (|r| r.inn = Some("123".into()), Field::Inn),
            (
                |r| r.issued_on = "2030-01-01".into(),
                Field::PassportIssueDate,
            ),
            (
                |r| r.issued_on = "01.01.2000".into(),
                Field::PassportIssueDate,
            ),
        ];
        for (spoil, field) in cases {
            let mut request = good();
            spoil(&mut request);
            assert_eq!(field_of(&request), Some(field), "{request:?}");
        }
    }

    #[test]
    fn birth_date_in_the_future_is_refused() {
        let mut request = good();
        request.birth_date = "02.06.2026".into();
        assert_eq!(field_of(&request), Some(Field::BirthDate));
    }

    #[test]
    fn authority_code_needs_six_digits_with_an_optional_middle_dash() {
        assert!("770001".parse::<AuthorityCode>().is_ok());
        assert!("770-001".parse::<AuthorityCode>().is_ok());
        assert!("7700-01".parse::<AuthorityCode>().is_err());
        assert!("770--001".parse::<AuthorityCode>().is_err());
        assert!("77a-001".parse::<AuthorityCode>().is_err());
        assert!("".parse::<AuthorityCode>().is_err());
    }

    #[test]
    fn a_submission_survives_a_store_round_trip() {
        let mut request = good();
        request.inn = Some("500100732259".into());
        let submission = request.validate(TODAY).unwrap();
        let json = serde_json::to_string(&submission).unwrap();
        let back: DocumentSubmission = serde_json::from_str(&json).unwrap();
        assert_eq!(back, submission);
        let tampered = json.replace("770-001", "77-0001");
        assert!(serde_json::from_str::<DocumentSubmission>(&tampered).is_err());
    }

    #[test]
    fn upgrade_paths_list_every_missing_step() {
        assert_eq!(
            upgrade_paths(Tier::Simplified, Tier::Confirmed),
            [
                UpgradePath::SubmitDocuments,
                UpgradePath::ConfirmInPerson,
                UpgradePath::ActivationCodeByPost
            ]
        );
        assert_eq!(
            upgrade_paths(Tier::Simplified, Tier::Standard),
            [UpgradePath::SubmitDocuments]
        );
        assert!(upgrade_paths(Tier::Confirmed, Tier::Standard).is_empty());
    }
}
