//! A portal over a memory store, a recording sender and a manual clock.
#![allow(dead_code, unreachable_pub, clippy::missing_panics_doc)]

use std::sync::Arc;

use portal_auth::notify::{Recipient, RecordingSender};
use portal_auth::otp::CodeKey;
use portal_auth::password::HasherConfig;
use portal_auth::store::MemoryStats;
use portal_auth::{
    AccountId, AlwaysPass, Authenticated, Email, LoginOutcome, LoginRequest, ManualClock,
    MemoryStore, OneTimeCode, Password, Phone, Portal, PortalConfig, RegistrationRequest,
};
use time::OffsetDateTime;
use time::macros::datetime;

pub const START: OffsetDateTime = datetime!(2026-06-01 09:00 UTC);
pub const PASSWORD: &str = "Kor0leva-Snezhnaya!";
pub const PHONE: &str = "+79123456789";
pub const EMAIL: &str = "ivan.petrov@mail.ru";

pub type TestPortal = Portal<Arc<MemoryStore>, RecordingSender, AlwaysPass, ManualClock>;

pub struct World {
    pub portal: TestPortal,
    pub store: Arc<MemoryStore>,
    pub sender: RecordingSender,
    pub clock: ManualClock,
}

/// The portal's default settings, except a fast hasher.
pub fn config() -> PortalConfig {
    let mut config = PortalConfig::new(CodeKey::from_bytes([7; 32]));
    config.hasher = HasherConfig::danger_fast_insecure();
    config
}

pub fn world() -> World {
    world_with(config())
}

pub fn world_with(config: PortalConfig) -> World {
    world_on(
        config,
        Arc::new(MemoryStore::new()),
        ManualClock::new(START),
    )
}

pub fn world_on(config: PortalConfig, store: Arc<MemoryStore>, clock: ManualClock) -> World {
    let sender = RecordingSender::new();
    let portal = Portal::new(
        config,
        Arc::clone(&store),
        sender.clone(),
        AlwaysPass,
        clock.clone(),
    )
    .unwrap();
    World {
        portal,
        store,
        sender,
        clock,
    }
}

pub fn phone(text: &str) -> Phone {
    text.parse().unwrap()
}

pub fn email(text: &str) -> Email {
    text.parse().unwrap()
}

pub fn to_phone(text: &str) -> Recipient {
    Recipient::Phone(phone(text))
}

pub fn to_email(text: &str) -> Recipient {
    Recipient::Email(email(text))
}

pub fn password(text: &str) -> Password {
    Password::new(text)
}

pub fn request(phone: Option<&str>, email: Option<&str>) -> RegistrationRequest {
    RegistrationRequest {
        surname: "Petrov".into(),
        given_name: "Ivan".into(),
        patronymic: Some("Sergeevich".into()),
        phone: phone.map(Into::into),
        email: email.map(Into::into),
        lang: None,
    }
}

/// A six-digit code that is not `code`.
pub fn wrong_code(code: &OneTimeCode) -> OneTimeCode {
    OneTimeCode::new(if code.expose_secret() == "000000" {
        "111111"
    } else {
        "000000"
    })
}

/// A recovery started with the one contact field (a captcha passed).
pub fn by_contact(text: &str) -> portal_auth::RecoveryRequest {
    portal_auth::RecoveryRequest {
        start: portal_auth::RecoveryStart::Contact(text.into()),
        captcha: "token".into(),
        client: None,
    }
}

/// A recovery started with a document number (a captcha passed).
pub fn by_document(text: &str) -> portal_auth::RecoveryRequest {
    portal_auth::RecoveryRequest {
        start: portal_auth::RecoveryStart::Document(text.into()),
        captcha: "token".into(),
        client: None,
    }
}

/// The flow of a recovery step that has one.
pub fn flow_of(step: &portal_auth::RecoveryStep) -> portal_auth::FlowId {
    step.flow().unwrap_or_else(|| panic!("no flow in {step:?}"))
}

pub fn login_request(login: &str, secret: &str) -> LoginRequest {
    LoginRequest {
        login: login.into(),
        password: password(secret),
        client: Some("203.0.113.7".into()),
        captcha: None,
    }
}

pub trait RequestExt {
    fn with_surname(self, surname: &str) -> Self;
    fn with_given_name(self, given_name: &str) -> Self;
}

impl RequestExt for RegistrationRequest {
    fn with_surname(mut self, surname: &str) -> Self {
        self.surname = surname.into();
        self
    }

    fn with_given_name(mut self, given_name: &str) -> Self {
        self.given_name = given_name.into();
        self
    }
}

impl World {
    pub fn clock_now(&self) -> OffsetDateTime {
        use portal_auth::Clock;
        self.clock.now()
    }

    /// The code in the newest message to `recipient`.
    pub fn last_code(&self, recipient: &Recipient) -> OneTimeCode {
        self.sender
            .last_to(recipient)
            .and_then(|m| m.code().cloned())
            .expect("a code was sent")
    }

    pub fn stats(&self) -> MemoryStats {
        self.store.stats()
    }

    /// Registers an account with this phone and/or e-mail and the common password.
    pub async fn register(&self, phone: Option<&str>, email: Option<&str>) -> AccountId {
        let started = self
            .portal
            .start_registration(&request(phone, email))
            .await
            .unwrap();
        let target = match phone {
            Some(phone) => to_phone(phone),
            None => to_email(email.unwrap()),
        };
        let code = self.last_code(&target);
        self.portal
            .confirm_registration(started.flow, &code)
            .await
            .unwrap();
        let registered = self
            .portal
            .complete_registration(started.flow, &password(PASSWORD), &password(PASSWORD))
            .await
            .unwrap();
        registered.account
    }

    /// Starts a registration with the phone alone and reads the code it sent.
    pub async fn start_registration_by_phone(
        &self,
    ) -> (portal_auth::RegistrationStarted, OneTimeCode) {
        let started = self
            .portal
            .start_registration(&request(Some(PHONE), None))
            .await
            .unwrap();
        (started, self.last_code(&to_phone(PHONE)))
    }

    /// Logs in with the common password and expects no second step.
    pub async fn login(&self, login: &str) -> Authenticated {
        match self
            .portal
            .login(&login_request(login, PASSWORD))
            .await
            .unwrap()
        {
            LoginOutcome::Authenticated(session) => session,
            other => panic!("expected a session, got {other:?}"),
        }
    }
}

pub const SNILS: &str = "112-233-445 95";
pub const INN: &str = "500100732259";
pub const PASSPORT: &str = "4506 123456";

impl World {
    /// Rewrites an account as if its documents had been verified at `tier`: the tier
    /// ladder has its own tests; recovery only needs the result.
    pub async fn promote(&self, account: AccountId, tier: portal_auth::Tier) {
        use portal_auth::Store;
        use portal_auth::store::{AccountWrite, Changeset};
        let stored = self.store.account(account).await.unwrap().unwrap();
        let mut json = serde_json::to_value(&stored).unwrap();
        json["tier"] = serde_json::to_value(tier).unwrap();
        json["documents"] = serde_json::json!({ "snils": SNILS, "inn": INN, "passport": PASSPORT });
        let promoted: portal_auth::Account = serde_json::from_value(json).unwrap();
        let mut changes = Changeset::default();
        changes.accounts.push(AccountWrite::Update(promoted));
        self.store.apply(changes).await.unwrap();
    }

    /// Starts a recovery with the phone (a captcha passed) and reads the code it sent.
    pub async fn recover_by_phone(&self) -> (portal_auth::FlowId, OneTimeCode) {
        let step = self
            .portal
            .start_recovery(&by_contact(PHONE))
            .await
            .unwrap();
        (flow_of(&step), self.last_code(&to_phone(PHONE)))
    }

    /// Registers by phone, then confirms the e-mail through a contact change.
    pub async fn register_with_both(&self) -> AccountId {
        let account = self.register(Some(PHONE), None).await;
        let session = self.login(PHONE).await;
        let started = self
            .portal
            .start_contact_change(&session, EMAIL)
            .await
            .unwrap();
        let code = self.last_code(&to_email(EMAIL));
        self.portal
            .confirm_contact_change(&session, started.flow, &code)
            .await
            .unwrap();
        account
    }
}
