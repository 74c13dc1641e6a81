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

/// Registers by phone and turns on two-factor login by SMS; returns the new session
/// and the backup codes.
async fn with_sms(world: &World) -> (Authenticated, Vec<OneTimeCode>) {
    world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    let issued = world
        .portal
        .enable_sms_two_factor(&session, &password(PASSWORD), None)
        .await
        .unwrap();
    (issued.session, issued.codes)
}

async fn flow_version(world: &World, flow: portal_auth::FlowId) -> u64 {
    world.store.flow(flow).await.unwrap().unwrap().version()
}

#[tokio::test]
async fn sms_login_code_works_until_the_last_second_of_its_five_minutes() {
    let world = world();
    with_sms(&world).await;
    let first = second_step(&world).await;
    let first_code = world.last_code(&to_phone(PHONE));
    let second = second_step(&world).await;
    let second_code = world.last_code(&to_phone(PHONE));

    world.clock.advance(Duration::seconds(299));
    world
        .portal
        .login_second_factor(first.flow, &first_code)
        .await
        .unwrap();
    world.clock.advance(Duration::seconds(1));
    let late = world
        .portal
        .login_second_factor(second.flow, &second_code)
        .await;
    assert!(matches!(late, Err(Error::CodeExpired)), "{late:?}");
}

#[tokio::test]
async fn sms_login_code_dies_after_three_wrong_tries_and_only_a_backup_code_is_left() {
    let world = world();
    let (_, backup) = with_sms(&world).await;
    let challenge = second_step(&world).await;
    let code = world.last_code(&to_phone(PHONE));
    for tries_left in [2, 1, 0] {
        let reply = world
            .portal
            .login_second_factor(challenge.flow, &wrong_code(&code))
            .await;
        assert!(
            matches!(reply, Err(Error::WrongCode { tries_left: left }) if left == tries_left),
            "{reply:?}"
        );
    }
    let dead = world
        .portal
        .login_second_factor(challenge.flow, &code)
        .await;
    assert!(matches!(dead, Err(Error::CodeExhausted)), "{dead:?}");

    world.clock.advance(Duration::seconds(60));
    let before = world.stats();
    let resend = world.portal.resend_login_code(challenge.flow).await;
    assert!(matches!(resend, Err(Error::CodeExhausted)), "{resend:?}");
    assert_eq!(world.stats(), before, "a refused resend writes nothing");

    world
        .portal
        .login_second_factor(challenge.flow, &backup[0])
        .await
        .unwrap();
}

#[tokio::test]
async fn sms_login_code_resend_waits_for_the_cooldown_and_keeps_the_tries() {
    let world = world();
    with_sms(&world).await;
    let challenge = second_step(&world).await;
    let first_code = world.last_code(&to_phone(PHONE));
    world
        .portal
        .login_second_factor(challenge.flow, &wrong_code(&first_code))
        .await
        .unwrap_err();

    let before = world.stats();
    let version = flow_version(&world, challenge.flow).await;
    world.clock.advance(Duration::seconds(59));
    let early = world.portal.resend_login_code(challenge.flow).await;
    let Err(Error::ResendTooSoon { retry_after }) = early else {
        panic!("{early:?}")
    };
    assert_eq!(retry_after, Duration::seconds(1));
    assert_eq!(world.stats(), before);
    assert_eq!(flow_version(&world, challenge.flow).await, version);

    world.clock.advance(Duration::seconds(1));
    world
        .portal
        .resend_login_code(challenge.flow)
        .await
        .unwrap();
    let second_code = world.last_code(&to_phone(PHONE));
    if first_code.expose_secret() != second_code.expose_secret() {
        // Two tries were left before the resend; a reset would have left two after.
        let old = world
            .portal
            .login_second_factor(challenge.flow, &first_code)
            .await;
        assert!(
            matches!(old, Err(Error::WrongCode { tries_left: 1 })),
            "the old code is void and the tries carried over: {old:?}"
        );
    }
    world
        .portal
        .login_second_factor(challenge.flow, &second_code)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_login_flow_sends_at_most_five_sms_codes() {
    let world = world();
    with_sms(&world).await;
    world.sender.clear();
    let challenge = second_step(&world).await;
    for _ in 0..4 {
        world.clock.advance(Duration::seconds(60));
        world
            .portal
            .resend_login_code(challenge.flow)
            .await
            .unwrap();
    }
    world.clock.advance(Duration::seconds(60));
    let before = world.stats();
    let refused = world.portal.resend_login_code(challenge.flow).await;
    assert!(matches!(refused, Err(Error::ResendLimit)), "{refused:?}");
    assert_eq!(world.stats(), before);
    assert_eq!(world.sender.messages_to(&to_phone(PHONE)).len(), 5);
}

#[tokio::test]
async fn a_totp_login_has_no_code_to_resend() {
    let world = world();
    with_totp(&world).await;
    let challenge = second_step(&world).await;
    world.clock.advance(Duration::seconds(60));
    let before = world.stats();
    let refused = world.portal.resend_login_code(challenge.flow).await;
    assert!(matches!(refused, Err(Error::NotPossible(_))), "{refused:?}");
    assert_eq!(world.stats(), before);
}

#[tokio::test]
async fn totp_accepts_one_step_either_side_and_no_more() {
    let world = world();
    let (_, uri, _) = with_totp(&world).await;
    world.clock.advance(Duration::minutes(5));
    let now = world.clock_now();
    let window: Vec<String> = [-30, 0, 30]
        .map(|offset| totp_code(&uri, now + Duration::seconds(offset)))
        .iter()
        .map(|code| code.expose_secret().to_owned())
        .collect();
    for (offset, accepted) in [(-60, false), (60, false), (-30, true), (30, true)] {
        let code = totp_code(&uri, now + Duration::seconds(offset));
        if !accepted && window.iter().any(|c| c == code.expose_secret()) {
            continue; // two steps drew the same six digits: nothing to learn
        }
        let challenge = second_step(&world).await;
        let reply = world
            .portal
            .login_second_factor(challenge.flow, &code)
            .await;
        assert_eq!(reply.is_ok(), accepted, "{offset} s: {reply:?}");
    }
}

/// A refused settings proof wrote nothing but one counted second-factor failure (a
/// counter and its audit event), so that guessing runs into the lockout.
async fn assert_only_a_failure_was_counted(
    world: &World,
    before: portal_auth::store::MemoryStats,
    reason: LoginFailure,
) {
    let after = world.stats();
    assert_eq!(
        (after.accounts, after.flows, after.commits),
        (before.accounts, before.flows, before.commits + 1),
        "one commit, no account or flow written"
    );
    let events = world.store.recent_audit_events(1).await.unwrap();
    assert_eq!(events[0].kind, AuditKind::LoginFailed { reason });
    assert_eq!(after.audit_events, before.audit_events + 1);
}

#[tokio::test]
async fn a_totp_code_used_at_login_cannot_prove_a_settings_change() {
    let world = world();
    let (session, uri, _) = with_totp(&world).await;
    world.clock.advance(Duration::seconds(30));
    let code = totp_code(&uri, world.clock_now());
    let challenge = second_step(&world).await;
    world
        .portal
        .login_second_factor(challenge.flow, &code)
        .await
        .unwrap();

    let before = world.stats();
    let replayed = world
        .portal
        .disable_two_factor(
            &session,
            &password(PASSWORD),
            &SecondFactorProof::Totp(code),
        )
        .await;
    assert!(matches!(replayed, Err(Error::CodeReplayed)), "{replayed:?}");
    assert_only_a_failure_was_counted(&world, before, LoginFailure::ReplayedSecondFactor).await;
    let account = world.store.account(session.account).await.unwrap().unwrap();
    assert!(account.two_factor().is_some(), "still on");
}

#[tokio::test]
async fn a_backup_code_spent_at_login_cannot_prove_a_settings_change() {
    let world = world();
    let (session, backup) = with_sms(&world).await;
    let challenge = second_step(&world).await;
    world
        .portal
        .login_second_factor(challenge.flow, &backup[0])
        .await
        .unwrap();

    let before = world.stats();
    let reused = world
        .portal
        .disable_two_factor(
            &session,
            &password(PASSWORD),
            &SecondFactorProof::Backup(backup[0].clone()),
        )
        .await;
    assert!(matches!(reused, Err(Error::WrongCode { .. })), "{reused:?}");
    assert_only_a_failure_was_counted(&world, before, LoginFailure::WrongSecondFactor).await;

    // A backup code spent on a settings change is gone for the login too.
    world
        .portal
        .disable_two_factor(
            &session,
            &password(PASSWORD),
            &SecondFactorProof::Backup(backup[1].clone()),
        )
        .await
        .unwrap();
    let account = world.store.account(session.account).await.unwrap().unwrap();
    assert!(account.two_factor().is_none());
}

#[tokio::test]
async fn the_second_step_of_a_locked_account_is_refused_without_writing() {
    let mut config = config();
    config.throttle.lock_after = 4;
    config.throttle.delay_after = 10;
    let world = world_with(config);
    let (_, backup) = with_sms(&world).await;
    let challenge = second_step(&world).await;
    let code = world.last_code(&to_phone(PHONE));
    for _ in 0..3 {
        world
            .portal
            .login_second_factor(challenge.flow, &wrong_code(&code))
            .await
            .unwrap_err();
    }
    // The fourth failure reaches the lock, and the owner is told.
    let fourth = world
        .portal
        .login_second_factor(challenge.flow, &OneTimeCode::new("ABCDEFGHJK"))
        .await;
    assert!(fourth.is_err(), "{fourth:?}");
    let notices = world.sender.messages_to(&to_phone(PHONE));
    assert_eq!(
        notices
            .iter()
            .filter(|m| m.kind() == MessageKind::LockedOut)
            .count(),
        1
    );

    let before = world.stats();
    let version = flow_version(&world, challenge.flow).await;
    let locked = world
        .portal
        .login_second_factor(challenge.flow, &backup[0])
        .await;
    assert!(matches!(locked, Err(Error::Locked)), "{locked:?}");
    assert_eq!(world.stats(), before);
    assert_eq!(flow_version(&world, challenge.flow).await, version);
}

#[tokio::test]
async fn settings_code_expires_after_five_minutes() {
    let world = world();
    let (session, _) = with_sms(&world).await;
    let first = world.portal.send_settings_code(&session).await.unwrap();
    let first_code = world.last_code(&to_phone(PHONE));
    let second = world.portal.send_settings_code(&session).await.unwrap();
    let second_code = world.last_code(&to_phone(PHONE));

    // Beginning an enrolment spends the proof but keeps the stamp, so the second
    // code stays usable but for its age.
    world.clock.advance(Duration::seconds(299));
    let proof = SecondFactorProof::Sms {
        flow: first,
        code: first_code,
    };
    world
        .portal
        .begin_totp_enrolment(&session, &password(PASSWORD), Some(&proof))
        .await
        .unwrap();

    world.clock.advance(Duration::seconds(1));
    let before = world.stats();
    let proof = SecondFactorProof::Sms {
        flow: second,
        code: second_code,
    };
    let late = world
        .portal
        .disable_two_factor(&session, &password(PASSWORD), &proof)
        .await;
    assert!(matches!(late, Err(Error::FlowExpired)), "{late:?}");
    assert_eq!(world.stats(), before);
}

#[tokio::test]
async fn settings_code_dies_after_three_wrong_tries() {
    let world = world();
    let (session, _) = with_sms(&world).await;
    let flow = world.portal.send_settings_code(&session).await.unwrap();
    let code = world.last_code(&to_phone(PHONE));
    let disable = |code: OneTimeCode| {
        let proof = SecondFactorProof::Sms { flow, code };
        let portal = &world.portal;
        async move {
            portal
                .disable_two_factor(&session, &password(PASSWORD), &proof)
                .await
        }
    };
    for tries_left in [2, 1, 0] {
        let reply = disable(wrong_code(&code)).await;
        assert!(
            matches!(reply, Err(Error::WrongCode { tries_left: left }) if left == tries_left),
            "{reply:?}"
        );
    }
    let before = world.stats();
    let version = flow_version(&world, flow).await;
    let dead = disable(code).await;
    assert!(matches!(dead, Err(Error::FlowOver)), "{dead:?}");
    assert_eq!(world.stats(), before);
    assert_eq!(flow_version(&world, flow).await, version);
}

/// Regression: a malformed settings code used to rewrite its flow unchanged, so the
/// refusal committed a new version.
#[tokio::test]
async fn a_malformed_settings_code_spends_no_try_and_writes_nothing() {
    let world = world();
    let (session, _) = with_sms(&world).await;
    let flow = world.portal.send_settings_code(&session).await.unwrap();
    let code = world.last_code(&to_phone(PHONE));
    let before = world.stats();
    let version = flow_version(&world, flow).await;

    let proof = SecondFactorProof::Sms {
        flow,
        code: OneTimeCode::new("12ab"),
    };
    let malformed = world
        .portal
        .disable_two_factor(&session, &password(PASSWORD), &proof)
        .await;
    assert!(
        matches!(malformed, Err(Error::MalformedCode)),
        "{malformed:?}"
    );
    assert_eq!(world.stats(), before);
    assert_eq!(
        flow_version(&world, flow).await,
        version,
        "no try was spent"
    );

    let proof = SecondFactorProof::Sms { flow, code };
    world
        .portal
        .disable_two_factor(&session, &password(PASSWORD), &proof)
        .await
        .expect("every try is left");
}

/// Regression: a resend in a second-step flow did not check the credential stamp, so a
/// flow that a password or two-factor change had ended (its code refused with
/// `FlowOver`) still sent fresh SMS codes to the owner's phone.
#[tokio::test]
async fn a_login_flow_ended_by_a_credential_change_sends_no_more_codes() {
    let world = world();
    let (session, _) = with_sms(&world).await;
    let challenge = second_step(&world).await;
    let code = world.last_code(&to_phone(PHONE));

    let new = password("Zima-Holodnaya-2026!");
    world
        .portal
        .change_password(&session, &password(PASSWORD), &new, &new)
        .await
        .unwrap();
    let over = world
        .portal
        .login_second_factor(challenge.flow, &code)
        .await;
    assert!(matches!(over, Err(Error::FlowOver)), "{over:?}");

    world.clock.advance(Duration::seconds(60));
    let before = world.stats();
    let sent = world.sender.messages().len();
    let resend = world.portal.resend_login_code(challenge.flow).await;
    assert!(matches!(resend, Err(Error::FlowOver)), "{resend:?}");
    assert_eq!(world.stats(), before);
    assert_eq!(
        world.sender.messages().len(),
        sent,
        "no SMS for a dead flow"
    );
}
