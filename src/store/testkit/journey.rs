//! The crate's own flows, end to end through a [`Portal`] over the store under test:
//! what proves a store keeps every record the engine writes, not only the samples.

use std::sync::Arc;

use time::Duration;

use super::{base_time, ok};
use crate::account::{AccountId, Tier};
use crate::clock::ManualClock;
use crate::config::PortalConfig;
use crate::error::Error;
use crate::flow::login::{Authenticated, LoginOutcome, LoginRequest};
use crate::flow::recovery::RecoveryStep;
use crate::flow::registration::RegistrationRequest;
use crate::human::AlwaysPass;
use crate::notify::{Channel, Recipient, RecordingSender};
use crate::otp::CodeKey;
use crate::password::HasherConfig;
use crate::portal::{Portal, RecoveryRequest};
use crate::registry::FakeRegistry;
use crate::secret::{OneTimeCode, Password};
use crate::store::Store;
use crate::tiers::{DocumentRequest, VerificationStatus};
use crate::{AuditKind, RecoveryStart};

const PHONE: &str = "+79161234567";
const EMAIL: &str = "olga.smirnova@example.org";
const SNILS: &str = "112-233-445 95";
const FIRST_PASSWORD: &str = "Kor0leva-Snezhnaya!";
const NEW_PASSWORD: &str = "Ryabina-u-Okna-77?";
const POSTAL_ADDRESS: &str = "Moscow, Tverskaya 1, apt. 2";

struct Journey<S> {
    portal: Arc<Portal<Arc<S>, RecordingSender, AlwaysPass, ManualClock>>,
    sender: RecordingSender,
    clock: ManualClock,
}

impl<S: Store + 'static> Journey<S> {
    fn new(store: Arc<S>) -> Self {
        let mut config = PortalConfig::new(CodeKey::from_bytes([5; crate::otp::CODE_KEY_LEN]));
        // The journey is about storage; a full-strength hash would only slow it down.
        config.hasher = HasherConfig::danger_fast_insecure();
        let (sender, clock) = (RecordingSender::new(), ManualClock::new(base_time()));
        let portal = Portal::new(config, store, sender.clone(), AlwaysPass, clock.clone());
        Self {
            portal: Arc::new(ok(portal, "portal over the store")),
            sender,
            clock,
        }
    }

    fn last_code(&self, to: &Recipient) -> OneTimeCode {
        let message = self.sender.last_to(to);
        let code = message.and_then(|m| m.code().cloned());
        code.unwrap_or_else(|| panic!("a code was sent to {to}"))
    }

    async fn login(&self, password: &str) -> LoginOutcome {
        let request = LoginRequest {
            login: PHONE.into(),
            password: Password::new(password),
            client: Some("192.0.2.10".into()),
            captcha: None,
        };
        ok(self.portal.login(&request).await, "login")
    }

    async fn login_with_sms(&self, password: &str) -> Authenticated {
        match self.login(password).await {
            LoginOutcome::SecondFactorRequired(challenge) => {
                let code = self.last_code(&phone());
                let done = self.portal.login_second_factor(challenge.flow, &code).await;
                ok(done, "second factor")
            }
            other => panic!("two-factor login asks for the SMS code, not {other:?}"),
        }
    }
}

fn phone() -> Recipient {
    Recipient::Phone(super::parse(PHONE))
}

/// Registration, login, a contact change, document verification answered later, a
/// postal activation code, two-factor login by SMS and a recovery by document whose
/// code sixteen tasks submit at once: every step commits through the store, and the
/// account ends confirmed, with its new password, second factor and full audit trail.
///
/// # Panics
///
/// When a step fails on the store, or the race lets other than exactly one through.
pub async fn portal_flows_run_on_the_store<S: Store + 'static>(store: Arc<S>) {
    let journey = Journey::new(store);
    let portal = &journey.portal;

    let account = register_and_confirm_email(&journey).await;
    let session = climb_to_confirmed(&journey).await;
    let password = Password::new(FIRST_PASSWORD);
    ok(
        portal
            .enable_sms_two_factor(&session, &password, None)
            .await,
        "enable two-factor login",
    );
    let session = journey.login_with_sms(FIRST_PASSWORD).await;
    assert_eq!(
        session.account, account,
        "two-factor login finds the account"
    );
    recover_by_document_racing(&journey).await;

    let session = journey.login_with_sms(NEW_PASSWORD).await;
    assert_eq!(session.tier, Tier::Confirmed, "recovery keeps the tier");
    let events = ok(portal.audit_events(account).await, "audit trail");
    let recorded = |what: fn(&AuditKind) -> bool| events.iter().any(|e| what(&e.kind));
    assert!(
        recorded(|k| matches!(k, AuditKind::Registered))
            && recorded(|k| matches!(k, AuditKind::ContactChanged { .. }))
            && recorded(|k| matches!(k, AuditKind::TierChanged { .. }))
            && recorded(|k| matches!(k, AuditKind::SecondFactorEnabled { .. }))
            && recorded(|k| matches!(k, AuditKind::RecoveryCompleted { .. })),
        "the audit trail records every step: {events:?}"
    );
    assert!(
        events.windows(2).all(|pair| pair[0].at <= pair[1].at),
        "the audit trail comes back in order"
    );
}

/// Registers by phone, logs in, and confirms an e-mail through a contact change.
async fn register_and_confirm_email<S: Store + 'static>(journey: &Journey<S>) -> AccountId {
    let portal = &journey.portal;
    let form = RegistrationRequest {
        surname: "Смирнова".into(),
        given_name: "Ольга".into(),
        phone: Some(PHONE.into()),
        ..RegistrationRequest::default()
    };
    let started = ok(portal.start_registration(&form).await, "start registration");
    let code = journey.last_code(&phone());
    ok(
        portal.confirm_registration(started.flow, &code).await,
        "confirm registration",
    );
    let password = Password::new(FIRST_PASSWORD);
    let registered = ok(
        portal
            .complete_registration(started.flow, &password, &password)
            .await,
        "complete registration",
    );

    let LoginOutcome::Authenticated(session) = journey.login(FIRST_PASSWORD).await else {
        panic!("a registered account logs in with its password");
    };
    let change = ok(
        portal.start_contact_change(&session, EMAIL).await,
        "start contact change",
    );
    let code = journey.last_code(&Recipient::Email(super::parse(EMAIL)));
    ok(
        portal
            .confirm_contact_change(&session, change.flow, &code)
            .await,
        "confirm contact change",
    );
    registered.account
}

/// Submits documents the registry answers two minutes later, then confirms the
/// identity with a postal activation code; returns the confirmed session.
async fn climb_to_confirmed<S: Store + 'static>(journey: &Journey<S>) -> Authenticated {
    let portal = &journey.portal;
    let LoginOutcome::Authenticated(session) = journey.login(FIRST_PASSWORD).await else {
        panic!("a simplified account logs in with its password");
    };
    let registry = FakeRegistry::new(journey.clock.clone()).pending_for(Duration::minutes(2));
    let documents = DocumentRequest {
        snils: SNILS.into(),
        passport: "4506 123456".into(),
        issued_on: "15.03.2011".into(),
        authority_code: "770-001".into(),
        birth_date: "01.02.1990".into(),
        birth_place: "Moscow".into(),
        inn: None,
    };
    let reply = ok(
        portal
            .submit_documents(&session, &documents, &registry)
            .await,
        "submit documents",
    );
    assert_eq!(
        reply.status,
        VerificationStatus::Pending,
        "the registry waits"
    );
    journey.clock.advance(Duration::minutes(2));
    let report = ok(portal.poll_verifications(&registry).await, "poll");
    assert_eq!(report.verified, 1, "the pending verification is answered");

    let LoginOutcome::Authenticated(session) = journey.login(FIRST_PASSWORD).await else {
        panic!("a standard account logs in with its password");
    };
    assert_eq!(
        session.tier,
        Tier::Standard,
        "the verified account is standard"
    );
    ok(
        portal
            .request_activation_code(&session, POSTAL_ADDRESS)
            .await,
        "request activation code",
    );
    let letter = journey.last_code(&Recipient::Postal(POSTAL_ADDRESS.into()));
    let session = ok(
        portal.enter_activation_code(&session, &letter).await,
        "enter activation code",
    );
    assert_eq!(session.tier, Tier::Confirmed, "the postal code confirms");
    session
}

/// Starts a recovery with the SNILS, picks the SMS channel, lets sixteen tasks submit
/// the one right code at once, and sets the new password through the winner's step.
async fn recover_by_document_racing<S: Store + 'static>(journey: &Journey<S>) {
    let portal = &journey.portal;
    let request = RecoveryRequest {
        start: RecoveryStart::Document(SNILS.into()),
        captcha: "token".into(),
        client: Some("192.0.2.10".into()),
    };
    let step = ok(portal.start_recovery(&request).await, "start recovery");
    let RecoveryStep::ChooseChannel { flow, channels } = step else {
        panic!("a document start offers channels, not {step:?}");
    };
    let sms = channels.iter().find(|c| c.channel == Channel::Sms);
    let sms = sms.unwrap_or_else(|| panic!("the confirmed phone is offered: {channels:?}"));
    ok(
        portal.choose_recovery_channel(flow, sms.index).await,
        "choose channel",
    );
    let code = journey.last_code(&phone());

    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    let racers: Vec<_> = (0..16)
        .map(|_| {
            let (portal, barrier, code) = (Arc::clone(portal), Arc::clone(&barrier), code.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                portal.submit_recovery_code(flow, &code).await
            })
        })
        .collect();
    let mut winners = 0;
    for racer in racers {
        match ok(racer.await, "racing task") {
            Ok(RecoveryStep::NewPassword { .. }) => winners += 1,
            Ok(other) => panic!("a right code leads to the new password, not {other:?}"),
            // A loser either lost the commit or read the flow after the winner moved it.
            Err(Error::Conflict | Error::WrongStep) => {}
            Err(other) => panic!("a losing submission is a conflict, not {other}"),
        }
    }
    assert_eq!(winners, 1, "exactly one of sixteen racing submissions wins");

    let password = Password::new(NEW_PASSWORD);
    let recovered = ok(
        portal.complete_recovery(flow, &password, &password).await,
        "complete recovery",
    );
    assert!(
        recovered.second_factor_kept,
        "recovery keeps two-factor login"
    );
}
