//! Registration: name and contact → code → password → a simplified account.
//!
//! A contact already confirmed on another account is never told apart from a free
//! one: the flow starts the same way and replies the same, but no code is sent to it;
//! the owner gets a notice instead ("someone tried to register with your number"),
//! and no code exists that could confirm the flow.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::code::{SentCode, counted_try};
use super::{Address, Flow, FlowId, FlowState, Step, event};
use crate::account::{Account, AccountId, Contact, CredentialStamp, Documents, PersonName, Tier};
use crate::audit::AuditKind;
use crate::config::PortalConfig;
use crate::error::{Error, Field};
use crate::identity::{Email, Phone};
use crate::lang::Lang;
use crate::notify::{Decoy, Message, MessageKind, Outgoing};
use crate::password::{PasswordHash, PersonalData};
use crate::secret::OneTimeCode;
use crate::store::Changeset;

const STEP: &str = "registration";
/// The purpose a taken contact's code is digested under. `confirm` checks every
/// candidate under [`STEP`], so no candidate can match it: each guess spends a try
/// exactly as a wrong code on a free contact does, and none confirms the flow.
const TAKEN_STEP: &str = "registration:taken";

/// The purpose this flow's codes are digested under.
fn code_step(taken: bool) -> &'static str {
    if taken { TAKEN_STEP } else { STEP }
}

/// What a person types into the registration form.
#[derive(Debug, Clone, Default)]
pub struct RegistrationRequest {
    /// Surname (required).
    pub surname: String,
    /// Given name (required).
    pub given_name: String,
    /// Patronymic, where the person has one.
    pub patronymic: Option<String>,
    /// Mobile phone, in any usual spelling; the code goes here when given.
    pub phone: Option<String>,
    /// E-mail; the code goes here when no phone is given.
    pub email: Option<String>,
    /// The language of the messages; the portal's default when `None`.
    pub lang: Option<Lang>,
}

/// The reply to a registration start or resend: where the code went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationStarted {
    /// The flow to carry to the next steps.
    pub flow: FlowId,
    /// The contact the code went to, masked (`+7 *** ***-**-89`).
    pub sent_to: String,
}

/// The reply to a finished registration: "Registration completed successfully".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The new account.
    pub account: AccountId,
    /// Its tier, always [`Tier::Simplified`].
    pub tier: Tier,
}

/// A registration request whose every field passed validation.
#[derive(Debug, Clone)]
pub(crate) struct ValidRegistration {
    name: PersonName,
    /// The contact the code goes to: the phone when there is one.
    pub(crate) target: Address,
    /// An e-mail given beside the phone; it stays unconfirmed.
    extra_email: Option<Email>,
    lang: Lang,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RegistrationState {
    name: PersonName,
    target: Address,
    extra_email: Option<Email>,
    lang: Lang,
    code: SentCode,
    /// The target contact belongs to another account: nothing is ever sent to it.
    taken: bool,
    confirmed: bool,
}

/// Checks every field before anything else happens.
pub(crate) fn validate(
    request: &RegistrationRequest,
    config: &PortalConfig,
) -> Result<ValidRegistration, Error> {
    let surname = name_part(Field::Surname, &request.surname)?;
    let given_name = name_part(Field::GivenName, &request.given_name)?;
    let patronymic = match non_blank(request.patronymic.as_deref()) {
        Some(text) => Some(name_part(Field::Patronymic, text)?),
        None => None,
    };
    let phone = non_blank(request.phone.as_deref())
        .map(str::parse::<Phone>)
        .transpose()
        .map_err(|e| Error::InvalidField {
            field: Field::Phone,
            reason: e.to_string(),
        })?;
    let email = non_blank(request.email.as_deref())
        .map(str::parse::<Email>)
        .transpose()
        .map_err(|e| Error::InvalidField {
            field: Field::Email,
            reason: e.to_string(),
        })?;
    let (target, extra_email) = match (phone, email) {
        (Some(phone), email) => (Address::Phone(phone), email),
        (None, Some(email)) => (Address::Email(email), None),
        (None, None) => {
            return Err(Error::InvalidField {
                field: Field::Phone,
                reason: "give a mobile phone or an e-mail".to_owned(),
            });
        }
    };
    Ok(ValidRegistration {
        name: PersonName {
            surname,
            given_name,
            patronymic,
        },
        target,
        extra_email,
        lang: request.lang.unwrap_or(config.lang),
    })
}

fn non_blank(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|text| !text.is_empty())
}

/// A surname, given name or patronymic: letters of any script, with inner spaces,
/// hyphens and apostrophes, at most 60 characters.
fn name_part(field: Field, text: &str) -> Result<String, Error> {
    let invalid = |reason: &str| Error::InvalidField {
        field,
        reason: reason.to_owned(),
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid("required"));
    }
    if text.chars().count() > 60 {
        return Err(invalid("longer than 60 characters"));
    }
    if !text
        .chars()
        .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '’' | '.'))
    {
        return Err(invalid(
            "only letters, spaces, hyphens and apostrophes are allowed",
        ));
    }
    if !text.chars().next().is_some_and(char::is_alphabetic) {
        return Err(invalid("must start with a letter"));
    }
    Ok(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Starts a registration. `owner` is the account already holding the target contact.
pub(crate) fn start(
    config: &PortalConfig,
    request: ValidRegistration,
    owner: Option<&Account>,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Step<RegistrationStarted> {
    let id = FlowId::random(rng);
    let target = request.target.recipient();
    let policy = request.target.code_policy(config);
    let step = code_step(owner.is_some());
    let (code, plain) = SentCode::issue(&config.code_key, policy, id, step, now, rng);
    let mut changes = Changeset::default();
    let message = match owner {
        None => Message::new(
            MessageKind::RegistrationCode,
            target.clone(),
            request.lang,
            Some(plain),
        ),
        Some(owner) => {
            changes.audit(event(
                now,
                Some(owner.id()),
                None,
                AuditKind::RegistrationAttemptOnTakenContact,
            ));
            Message::new(
                MessageKind::RegistrationAttempt,
                target.clone(),
                request.lang,
                None,
            )
        }
    };
    let sent_to = request.target.masked();
    let state = RegistrationState {
        name: request.name,
        target: request.target,
        extra_email: request.extra_email,
        lang: request.lang,
        code,
        taken: owner.is_some(),
        confirmed: false,
    };
    changes.insert_flow(Flow::start(
        id,
        None,
        now,
        config.registration_ttl,
        FlowState::Registration(state),
    ));
    let reply = RegistrationStarted { flow: id, sent_to };
    Step::new(changes, reply).with_messages(vec![message])
}

/// Sends a fresh code, keeping the tries left.
pub(crate) fn resend(
    config: &PortalConfig,
    mut flow: Flow,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Result<Step<RegistrationStarted>, Error> {
    let id = flow.id;
    let state = registration_state(&mut flow, now)?;
    if state.confirmed {
        return Err(Error::WrongStep);
    }
    let policy = state.target.code_policy(config);
    let step = code_step(state.taken);
    let plain = state.code.resend(config, policy, id, step, now, rng)?;
    // A taken contact already had its owner notified; it gets nothing more, and the
    // sender is handed the stand-in of the code a free contact would get.
    let outgoing = if state.taken {
        Outgoing::Decoy(Decoy::new(
            MessageKind::RegistrationCode,
            state.target.recipient().channel(),
        ))
    } else {
        Outgoing::Message(Message::new(
            MessageKind::RegistrationCode,
            state.target.recipient(),
            state.lang,
            Some(plain),
        ))
    };
    let reply = RegistrationStarted {
        flow: id,
        sent_to: state.target.masked(),
    };
    let mut changes = Changeset::default();
    changes.update_flow(flow);
    Ok(Step::new(changes, reply).with_outgoing(outgoing))
}

/// Checks the code. A wrong code still commits the spent try; a code refused without
/// a try (expired, malformed) writes nothing.
pub(crate) fn confirm(
    config: &PortalConfig,
    mut flow: Flow,
    code: &OneTimeCode,
    now: OffsetDateTime,
) -> Result<Step<Result<(), Error>>, Error> {
    let id = flow.id;
    let state = registration_state(&mut flow, now)?;
    if state.confirmed {
        return Err(Error::WrongStep);
    }
    let outcome = counted_try(state.code.verify(&config.code_key, id, STEP, code, now))?;
    if outcome.is_ok() {
        state.confirmed = true;
    }
    let mut changes = Changeset::default();
    changes.update_flow(flow);
    Ok(Step::new(changes, outcome))
}

/// The personal data the new password must not contain, for a confirmed flow.
pub(crate) fn personal_data(flow: &mut Flow, now: OffsetDateTime) -> Result<PersonalData, Error> {
    let state = registration_state(flow, now)?;
    if !state.confirmed {
        return Err(Error::WrongStep);
    }
    Ok(personal_data_of(&state.name, state.phone(), state.email()))
}

/// The personal data of a person, for the password policy.
pub(crate) fn personal_data_of(
    name: &PersonName,
    phone: Option<&Phone>,
    email: Option<&Email>,
) -> PersonalData {
    PersonalData::new()
        .surname(name.surname.as_str())
        .given_name(name.given_name.as_str())
        .patronymic(name.patronymic.as_deref())
        .phone(phone.map(Phone::digits))
        .email(email.map(Email::local_part))
}

/// Creates the account from a confirmed flow and the hash of its checked password.
pub(crate) fn complete(
    mut flow: Flow,
    password_hash: PasswordHash,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Result<Step<Registered>, Error> {
    let state = registration_state(&mut flow, now)?;
    if !state.confirmed {
        return Err(Error::WrongStep);
    }
    let account = Account {
        id: AccountId::random(rng),
        version: 0,
        name: state.name.clone(),
        birth_date: None,
        tier: Tier::Simplified,
        phone: state.phone().cloned().map(|value| Contact {
            value,
            confirmed: true,
        }),
        email: state.email().cloned().map(|value| Contact {
            value,
            confirmed: matches!(state.target, Address::Email(_)),
        }),
        documents: Documents::default(),
        password_hash,
        must_change_password: false,
        password_expires_at: None,
        credential_stamp: CredentialStamp::INITIAL,
        two_factor: None,
        security_question: None,
        created_at: now,
    };
    let reply = Registered {
        account: account.id,
        tier: Tier::Simplified,
    };
    let mut changes = Changeset::default();
    changes
        .audit(event(now, Some(account.id), None, AuditKind::Registered))
        .insert_account(account)
        .delete_flow(&flow);
    Ok(Step::new(changes, reply))
}

fn registration_state(
    flow: &mut Flow,
    now: OffsetDateTime,
) -> Result<&mut RegistrationState, Error> {
    flow.ensure_live(now)?;
    match &mut flow.state {
        FlowState::Registration(state) => {
            if state.code.is_spent() && !state.confirmed {
                return Err(Error::FlowOver);
            }
            Ok(state)
        }
        _ => Err(Error::FlowNotFound),
    }
}

impl RegistrationState {
    fn phone(&self) -> Option<&Phone> {
        match &self.target {
            Address::Phone(phone) => Some(phone),
            Address::Email(_) => None,
        }
    }

    fn email(&self) -> Option<&Email> {
        match &self.target {
            Address::Email(email) => Some(email),
            Address::Phone(_) => self.extra_email.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use time::macros::datetime;

    use super::*;
    use crate::otp::CodeKey;

    fn config() -> PortalConfig {
        PortalConfig::new(CodeKey::from_bytes([7; 32]))
    }

    fn form() -> ValidRegistration {
        let request = RegistrationRequest {
            surname: "Petrova".into(),
            given_name: "Anna".into(),
            phone: Some("+79123456789".into()),
            ..RegistrationRequest::default()
        };
        validate(&request, &config()).unwrap()
    }

    fn owner() -> Account {
        let now = datetime!(2026-01-01 00:00 UTC);
        let hash = PasswordHash::parse(
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
             AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        )
        .unwrap();
        let flow = Flow::start(
            FlowId::from_bytes([1; 16]),
            None,
            now,
            time::Duration::hours(1),
            FlowState::Registration(RegistrationState {
                name: form().name,
                target: form().target,
                extra_email: None,
                lang: Lang::Ru,
                code: SentCode::issue(
                    &config().code_key,
                    &config().sms_code,
                    FlowId::from_bytes([1; 16]),
                    STEP,
                    now,
                    &mut StdRng::seed_from_u64(1),
                )
                .0,
                taken: false,
                confirmed: true,
            }),
        );
        let step = complete(flow, hash, now, &mut StdRng::seed_from_u64(2)).unwrap();
        match step.changes.accounts.into_iter().next() {
            Some(crate::store::AccountWrite::Insert(account)) => account,
            other => panic!("completing inserts the account, not {other:?}"),
        }
    }

    /// Regression: a taken contact's flow held a live code, so a lucky guess of the
    /// code nobody received confirmed it. The very code a free contact would have
    /// been sent (same flow id, same random bytes) now only spends a try.
    #[test]
    fn no_code_confirms_a_registration_on_a_taken_contact() {
        let (config, now) = (config(), datetime!(2026-06-01 09:00 UTC));
        let free = start(&config, form(), None, now, &mut StdRng::seed_from_u64(9));
        let sent = free.messages[0].code().cloned().unwrap();
        let taken = start(
            &config,
            form(),
            Some(&owner()),
            now,
            &mut StdRng::seed_from_u64(9),
        );
        assert_eq!(taken.reply, free.reply, "both starts reply alike");
        assert!(
            taken.messages[0].code().is_none(),
            "the taken contact gets no code"
        );

        let [crate::store::FlowWrite::Insert(flow)] = &taken.changes.flows[..] else {
            panic!("the start inserts one flow");
        };
        let step = confirm(&config, flow.clone(), &sent, now).unwrap();
        assert!(
            matches!(step.reply, Err(Error::WrongCode { tries_left: 2 })),
            "{:?}",
            step.reply
        );

        let [crate::store::FlowWrite::Insert(flow)] = &free.changes.flows[..] else {
            panic!("the start inserts one flow");
        };
        let step = confirm(&config, flow.clone(), &sent, now).unwrap();
        assert!(step.reply.is_ok(), "the same code confirms a free contact");
    }
}
