//! Two-factor login ("double authorization"): SMS code or authenticator app, and
//! backup codes.

mod common;

use common::*;
use portal_auth::audit::LoginFailure;
use portal_auth::notify::MessageKind;
use portal_auth::{
    AuditKind, Authenticated, Error, LoginOutcome, OneTimeCode, SecondFactorKind,
    SecondFactorProof, Store,
};
use time::{Duration, OffsetDateTime};

fn totp_code(uri: &str, at: OffsetDateTime) -> OneTimeCode {
    let totp = totp_rs::Totp::from_url(uri).unwrap();
    OneTimeCode::new(
        totp.generate(at.unix_timestamp().try_into().unwrap())
            .to_string(),
    )
}

async fn second_step(world: &World) -> portal_auth::SecondFactorChallenge {
    match world
        .portal
        .login(&login_request(PHONE, PASSWORD))
        .await
        .unwrap()
    {
        LoginOutcome::SecondFactorRequired(challenge) => challenge,
        other => panic!("expected a second step, got {other:?}"),
    }
}

/// Registers, logs in and enrols an authenticator; returns the URI and backup codes.
async fn with_totp(world: &World) -> (Authenticated, String, Vec<OneTimeCode>) {
    world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    let enrolment = world
        .portal
        .begin_totp_enrolment(&session, &password(PASSWORD), None)
        .await
        .unwrap();
    let uri = enrolment.expose_otpauth_uri().to_owned();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let code = totp_code(&uri, world.clock_now());
    let issued = world
        .portal
        .finish_totp_enrolment(&session, enrolment.flow, &code)
        .await
        .unwrap();
    assert_eq!(issued.codes.len(), 10);
    (issued.session, uri, issued.codes)
}

#[tokio::test]
async fn sms_second_factor_is_asked_at_every_login_and_completes_it() {
    let world = world();
    let account = world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    let issued = world
        .portal
        .enable_sms_two_factor(&session, &password(PASSWORD), None)
        .await
        .unwrap();
    assert_eq!(issued.codes.len(), 10);
    assert_ne!(
        issued.session.stamp, session.stamp,
        "turning 2FA on bumps the stamp"
    );

    for _ in 0..2 {
        let challenge = second_step(&world).await;
        assert_eq!(challenge.method, SecondFactorKind::Sms);
        assert_eq!(challenge.sent_to.as_deref(), Some("+7 *** ***-**-89"));
        let code = world.last_code(&to_phone(PHONE));
        let done = world
            .portal
            .login_second_factor(challenge.flow, &code)
            .await
            .unwrap();
        assert_eq!(done.account, account);
    }
    let events = world.portal.audit_events(account).await.unwrap();
    assert!(events.iter().any(|e| e.kind
        == AuditKind::SecondFactorEnabled {
            method: SecondFactorKind::Sms
        }));
    assert!(events.iter().any(|e| e.kind
        == AuditKind::LoginSucceeded {
            second_factor: true
        }));
}

#[tokio::test]
async fn sms_login_code_expires_after_five_minutes() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    world
        .portal
        .enable_sms_two_factor(&session, &password(PASSWORD), None)
        .await
        .unwrap();
    let challenge = second_step(&world).await;
    let code = world.last_code(&to_phone(PHONE));
    world.clock.advance(Duration::minutes(5));
    let late = world
        .portal
        .login_second_factor(challenge.flow, &code)
        .await;
    assert!(matches!(late, Err(Error::CodeExpired)), "{late:?}");
}

#[tokio::test]
async fn wrong_second_factor_codes_count_toward_the_lockout() {
    let world = world();
    let account = world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    world
        .portal
        .enable_sms_two_factor(&session, &password(PASSWORD), None)
        .await
        .unwrap();

    let challenge = second_step(&world).await;
    for _ in 0..3 {
        world
            .portal
            .login_second_factor(challenge.flow, &OneTimeCode::new("0000000"))
            .await
            .unwrap_err();
    }
    let events = world.portal.audit_events(account).await.unwrap();
    let wrong = AuditKind::LoginFailed {
        reason: LoginFailure::WrongSecondFactor,
    };
    assert_eq!(events.iter().filter(|e| e.kind == wrong).count(), 3);
    let next = world.portal.login(&login_request(PHONE, PASSWORD)).await;
    assert!(
        matches!(next, Err(Error::HumanCheckRequired)),
        "three failures ask for a captcha: {next:?}"
    );
}

#[tokio::test]
async fn totp_enrolment_then_login_with_an_app_code() {
    let world = world();
    let (_, uri, _) = with_totp(&world).await;
    world.clock.advance(Duration::seconds(30));
    let challenge = second_step(&world).await;
    assert_eq!(challenge.method, SecondFactorKind::Totp);
    assert_eq!(challenge.sent_to, None);
    world
        .portal
        .login_second_factor(challenge.flow, &totp_code(&uri, world.clock_now()))
        .await
        .unwrap();
}

#[tokio::test]
async fn enrolment_needs_one_valid_code() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    let enrolment = world
        .portal
        .begin_totp_enrolment(&session, &password(PASSWORD), None)
        .await
        .unwrap();
    let refused = world
        .portal
        .finish_totp_enrolment(&session, enrolment.flow, &OneTimeCode::new("000000"))
        .await;
    assert!(
        matches!(refused, Err(Error::WrongCode { .. })),
        "{refused:?}"
    );
    let account = world.store.account(session.account).await.unwrap().unwrap();
    assert!(account.two_factor().is_none());
}

#[tokio::test]
async fn a_used_totp_step_cannot_be_used_again() {
    let world = world();
    let (_, uri, _) = with_totp(&world).await;
    world.clock.advance(Duration::seconds(30));
    let code = totp_code(&uri, world.clock_now());
    let first = second_step(&world).await;
    world
        .portal
        .login_second_factor(first.flow, &code)
        .await
        .unwrap();

    let second = second_step(&world).await;
    let replayed = world.portal.login_second_factor(second.flow, &code).await;
    assert!(matches!(replayed, Err(Error::CodeReplayed)), "{replayed:?}");
}

#[tokio::test]
async fn a_backup_code_works_once() {
    let world = world();
    let (_, _, backup) = with_totp(&world).await;
    let first = second_step(&world).await;
    let session = world
        .portal
        .login_second_factor(first.flow, &backup[0])
        .await
        .unwrap();
    let events = world.portal.audit_events(session.account).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == AuditKind::BackupCodeUsed { remaining: 9 })
    );

    let second = second_step(&world).await;
    let reused = world
        .portal
        .login_second_factor(second.flow, &backup[0])
        .await;
    assert!(matches!(reused, Err(Error::WrongCode { .. })), "{reused:?}");
    world
        .portal
        .login_second_factor(second.flow, &backup[1])
        .await
        .unwrap();
}

#[tokio::test]
async fn turning_two_factor_off_needs_the_password_and_a_current_second_factor() {
    let world = world();
    let (session, uri, backup) = with_totp(&world).await;

    let wrong_password = world
        .portal
        .disable_two_factor(
            &session,
            &password("Wrong-Passw0rd!"),
            &SecondFactorProof::Backup(backup[0].clone()),
        )
        .await;
    assert!(
        matches!(wrong_password, Err(Error::InvalidCredentials)),
        "{wrong_password:?}"
    );
    let wrong_code = world
        .portal
        .disable_two_factor(
            &session,
            &password(PASSWORD),
            &SecondFactorProof::Totp(OneTimeCode::new("000000")),
        )
        .await;
    assert!(
        matches!(wrong_code, Err(Error::WrongCode { .. })),
        "{wrong_code:?}"
    );

    world.clock.advance(Duration::seconds(30));
    let proof = SecondFactorProof::Totp(totp_code(&uri, world.clock_now()));
    let session = world
        .portal
        .disable_two_factor(&session, &password(PASSWORD), &proof)
        .await
        .unwrap();
    world.login(PHONE).await;
    let notices = world.sender.messages_to(&to_phone(PHONE));
    assert!(
        notices
            .iter()
            .any(|m| m.kind() == MessageKind::SecondFactorDisabled)
    );
    let events = world.portal.audit_events(session.account).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == AuditKind::SecondFactorDisabled)
    );
}

#[tokio::test]
async fn changing_the_method_needs_a_current_second_factor() {
    let world = world();
    let (session, _, backup) = with_totp(&world).await;
    let refused = world
        .portal
        .enable_sms_two_factor(&session, &password(PASSWORD), None)
        .await;
    assert!(matches!(refused, Err(Error::NotPossible(_))), "{refused:?}");

    let proof = SecondFactorProof::Backup(backup[3].clone());
    world
        .portal
        .enable_sms_two_factor(&session, &password(PASSWORD), Some(&proof))
        .await
        .unwrap();
    assert_eq!(second_step(&world).await.method, SecondFactorKind::Sms);
}

#[tokio::test]
async fn an_sms_account_proves_its_factor_with_a_settings_code() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    let session = world
        .portal
        .enable_sms_two_factor(&session, &password(PASSWORD), None)
        .await
        .unwrap()
        .session;

    let flow = world.portal.send_settings_code(&session).await.unwrap();
    let code = world.last_code(&to_phone(PHONE));
    let proof = SecondFactorProof::Sms { flow, code };
    world
        .portal
        .disable_two_factor(&session, &password(PASSWORD), &proof)
        .await
        .unwrap();
    world.login(PHONE).await;
}

#[tokio::test]
async fn a_stale_session_cannot_change_settings() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    world
        .portal
        .enable_sms_two_factor(&session, &password(PASSWORD), None)
        .await
        .unwrap();
    let stale = world
        .portal
        .begin_totp_enrolment(&session, &password(PASSWORD), None)
        .await;
    assert!(matches!(stale, Err(Error::StaleSession)), "{stale:?}");
}
