//! Accounts: who a person is to the portal, how they prove it, and how far it is
//! verified.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::identity::{Email, Inn, Passport, Phone, Snils};
use crate::ids::random_id;
use crate::otp::{CodeDigest, TotpSecret};
use crate::password::PasswordHash;

random_id! {
    /// The permanent identifier of an account.
    AccountId, "account"
}

/// How far a person's identity is verified; services demand a minimum tier.
///
/// Tiers are ordered: `Simplified < Standard < Confirmed`.
///
/// | tier | how it is reached | NIST SP 800-63A |
/// |---|---|---|
/// | [`Tier::Simplified`] | registration with a confirmed phone or e-mail | IAL1 |
/// | [`Tier::Standard`] | SNILS and passport verified against a registry | partial IAL2 |
/// | [`Tier::Confirmed`] | identity checked in person, or a postal activation code | IAL2 |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Tier {
    /// Self-asserted name and a confirmed contact.
    Simplified,
    /// Documents verified against a registry.
    Standard,
    /// Identity confirmed in person or by registered post.
    Confirmed,
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Simplified => "simplified",
            Self::Standard => "standard",
            Self::Confirmed => "confirmed",
        })
    }
}

/// A counter bumped whenever an account's credentials, contacts or tier change.
///
/// Hosts keep the stamp in their sessions and drop a session whose stamp is no longer
/// the account's: that is how "every session ends after a password reset" works
/// without the crate owning sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CredentialStamp(u64);

impl CredentialStamp {
    /// The stamp of a new account.
    pub const INITIAL: Self = Self(1);

    /// The stamp's value.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The stamp with this value (for stores reading it back).
    pub fn from_value(value: u64) -> Self {
        Self(value)
    }

    pub(crate) fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

impl fmt::Display for CredentialStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A phone number or e-mail address on an account, confirmed or not.
///
/// Only a confirmed contact logs in, receives codes and notices, and is unique across
/// accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact<T> {
    /// The address itself.
    pub value: T,
    /// Whether the person proved they receive messages there.
    pub confirmed: bool,
}

/// A person's name as given at registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    /// Surname (фамилия).
    pub surname: String,
    /// Given name (имя).
    pub given_name: String,
    /// Patronymic (отчество), where the person has one.
    pub patronymic: Option<String>,
}

/// The second factor an account asks for at every login.
#[derive(Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SecondFactorMethod {
    /// A code sent by SMS to the confirmed phone.
    Sms,
    /// A code from an authenticator app (RFC 6238).
    Totp {
        /// The shared secret.
        secret: TotpSecret,
        /// The last time step a code was accepted for; it and earlier steps are refused.
        last_step: Option<u64>,
    },
}

impl fmt::Debug for SecondFactorMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind().as_str())
    }
}

impl SecondFactorMethod {
    /// Which kind of method this is, without its secret.
    pub fn kind(&self) -> SecondFactorKind {
        match self {
            Self::Sms => SecondFactorKind::Sms,
            Self::Totp { .. } => SecondFactorKind::Totp,
        }
    }
}

/// The kind of a second factor, without any secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SecondFactorKind {
    /// SMS code to the confirmed phone.
    Sms,
    /// Authenticator app.
    Totp,
}

impl SecondFactorKind {
    /// A short lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Totp => "totp",
        }
    }
}

/// Two-factor login settings: the method and the unused backup codes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwoFactor {
    /// The method asked for at every login.
    pub method: SecondFactorMethod,
    /// Digests of the backup codes not yet used.
    pub backup_codes: Vec<CodeDigest>,
}

/// A security question and the hash of its normalised answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecurityQuestion {
    /// The question, as the person wrote or chose it.
    pub question: String,
    /// Argon2id hash of the normalised answer.
    pub answer_hash: PasswordHash,
}

/// Documents on file: verified against a registry or checked by an operator.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Documents {
    /// Insurance number (СНИЛС).
    pub snils: Option<Snils>,
    /// Taxpayer number (ИНН).
    pub inn: Option<Inn>,
    /// Passport series and number.
    pub passport: Option<Passport>,
}

/// Everything the portal knows about one person's account.
///
/// Stores persist it whole (it is `Serialize`) and index it by [`Account::lookup_keys`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub(crate) id: AccountId,
    pub(crate) version: u64,
    pub(crate) name: PersonName,
    pub(crate) birth_date: Option<time::Date>,
    pub(crate) tier: Tier,
    pub(crate) phone: Option<Contact<Phone>>,
    pub(crate) email: Option<Contact<Email>>,
    pub(crate) documents: Documents,
    pub(crate) password_hash: PasswordHash,
    pub(crate) must_change_password: bool,
    /// When a password issued by an operator stops working.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) password_expires_at: Option<OffsetDateTime>,
    pub(crate) credential_stamp: CredentialStamp,
    pub(crate) two_factor: Option<TwoFactor>,
    pub(crate) security_question: Option<SecurityQuestion>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
}

impl Account {
    /// The account's identifier.
    pub fn id(&self) -> AccountId {
        self.id
    }

    /// The optimistic-concurrency version the store last wrote.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Sets the version; for stores reading an account back.
    pub fn set_version(&mut self, version: u64) {
        self.version = version;
    }

    /// The person's name.
    pub fn name(&self) -> &PersonName {
        &self.name
    }

    /// The birth date, once known from documents.
    pub fn birth_date(&self) -> Option<time::Date> {
        self.birth_date
    }

    /// The account's tier.
    pub fn tier(&self) -> Tier {
        self.tier
    }

    /// Whether the account's tier is at least `required`.
    pub fn meets(&self, required: Tier) -> bool {
        self.tier >= required
    }

    /// The phone on the account, confirmed or not.
    pub fn phone(&self) -> Option<&Contact<Phone>> {
        self.phone.as_ref()
    }

    /// The e-mail on the account, confirmed or not.
    pub fn email(&self) -> Option<&Contact<Email>> {
        self.email.as_ref()
    }

    /// The confirmed phone, if any.
    pub fn confirmed_phone(&self) -> Option<&Phone> {
        self.phone
            .as_ref()
            .filter(|c| c.confirmed)
            .map(|c| &c.value)
    }

    /// The confirmed e-mail, if any.
    pub fn confirmed_email(&self) -> Option<&Email> {
        self.email
            .as_ref()
            .filter(|c| c.confirmed)
            .map(|c| &c.value)
    }

    /// The documents on file.
    pub fn documents(&self) -> &Documents {
        &self.documents
    }

    /// The stored password hash.
    pub fn password_hash(&self) -> &PasswordHash {
        &self.password_hash
    }

    /// Whether the password was set by an operator and must be replaced at next login.
    pub fn must_change_password(&self) -> bool {
        self.must_change_password
    }

    /// When the current password (issued by an operator) stops working, if it does.
    pub fn password_expires_at(&self) -> Option<OffsetDateTime> {
        self.password_expires_at
    }

    /// The credential stamp.
    pub fn credential_stamp(&self) -> CredentialStamp {
        self.credential_stamp
    }

    /// Two-factor settings, when two-factor login is on.
    pub fn two_factor(&self) -> Option<&TwoFactor> {
        self.two_factor.as_ref()
    }

    /// The security question, when set.
    pub fn security_question(&self) -> Option<&SecurityQuestion> {
        self.security_question.as_ref()
    }

    /// When the account was created.
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// Every identifier that finds this account and must be unique across accounts:
    /// confirmed contacts and documents on file.
    pub fn lookup_keys(&self) -> Vec<LookupKey> {
        let mut keys = Vec::with_capacity(5);
        keys.extend(self.confirmed_phone().cloned().map(LookupKey::Phone));
        keys.extend(self.confirmed_email().cloned().map(LookupKey::Email));
        keys.extend(self.documents.snils.clone().map(LookupKey::Snils));
        keys.extend(self.documents.inn.clone().map(LookupKey::Inn));
        keys.extend(self.documents.passport.clone().map(LookupKey::Passport));
        keys
    }

    /// Marks a change to credentials, contacts or tier.
    pub(crate) fn bump_stamp(&mut self) {
        self.credential_stamp = self.credential_stamp.next();
    }
}

/// An identifier that finds at most one account: a confirmed contact or a document.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LookupKey {
    /// A confirmed phone.
    Phone(Phone),
    /// A confirmed e-mail.
    Email(Email),
    /// SNILS on file.
    Snils(Snils),
    /// INN on file.
    Inn(Inn),
    /// Passport on file.
    Passport(Passport),
}

impl LookupKey {
    /// The kind of identifier, as a short lowercase name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Phone(_) => "phone",
            Self::Email(_) => "email",
            Self::Snils(_) => "snils",
            Self::Inn(_) => "inn",
            Self::Passport(_) => "passport",
        }
    }

    /// The identifier's canonical text, for an index column.
    pub fn value(&self) -> String {
        match self {
            Self::Phone(phone) => phone.to_string(),
            Self::Email(email) => email.to_string(),
            Self::Snils(snils) => snils.to_string(),
            Self::Inn(inn) => inn.to_string(),
            Self::Passport(passport) => passport.to_string(),
        }
    }
}

impl From<crate::identity::LoginId> for LookupKey {
    fn from(id: crate::identity::LoginId) -> Self {
        use crate::identity::LoginId;
        match id {
            LoginId::Phone(phone) => Self::Phone(phone),
            LoginId::Email(email) => Self::Email(email),
            LoginId::Snils(snils) => Self::Snils(snils),
        }
    }
}

impl From<crate::identity::DocumentId> for LookupKey {
    fn from(id: crate::identity::DocumentId) -> Self {
        use crate::identity::DocumentId;
        match id {
            DocumentId::Snils(snils) => Self::Snils(snils),
            DocumentId::Inn(inn) => Self::Inn(inn),
            DocumentId::Passport(passport) => Self::Passport(passport),
        }
    }
}
