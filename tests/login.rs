//! Login: one field, a password, the throttle and the lockout.

mod common;

use std::sync::Arc;

use common::*;
use portal_auth::audit::LoginFailure;
use portal_auth::notify::MessageKind;
use portal_auth::password::{HashParams, HasherConfig};
use portal_auth::{AlwaysFail, AuditKind, Error, Field, LoginRequest, Portal, Store};
use time::Duration;

#[tokio::test]
async fn login_by_phone_in_any_spelling_and_by_email_returns_the_session() {
    let world = world();
    let account = world.register(Some(PHONE), None).await;
    for spelling in ["+7 912 345-67-89", "8 (912) 345 67 89", "9123456789"] {
        let session = world.login(spelling).await;
        assert_eq!(session.account, account);
        assert!(!session.must_change_password);
    }
    let by_mail = world.register(None, Some(EMAIL)).await;
    assert_eq!(world.login(EMAIL).await.account, by_mail);
}

#[tokio::test]
async fn unknown_account_and_wrong_password_are_indistinguishable() {
    let world = world();
    world.register(Some(PHONE), None).await;

    let verifies = world.portal.hasher().verifications();
    let wrong = world
        .portal
        .login(&login_request(PHONE, "Wrong-Passw0rd!"))
        .await;
    let after_wrong = world.portal.hasher().verifications();
    let unknown = world
        .portal
        .login(&login_request("+79990001122", "Wrong-Passw0rd!"))
        .await;
    let after_unknown = world.portal.hasher().verifications();

    assert!(matches!(wrong, Err(Error::InvalidCredentials)), "{wrong:?}");
    assert!(
        matches!(unknown, Err(Error::InvalidCredentials)),
        "{unknown:?}"
    );
    assert_eq!(
        wrong.unwrap_err().to_string(),
        unknown.unwrap_err().to_string()
    );
    assert_eq!(after_wrong - verifies, 1);
    assert_eq!(after_unknown - after_wrong, 1);

    // The thresholds apply the same way to both.
    for login in [PHONE, "+79990001122"] {
        let mut attempt = login_request(login, "Wrong-Passw0rd!");
        attempt.client = None;
        world.portal.login(&attempt).await.unwrap_err();
        world.portal.login(&attempt).await.unwrap_err();
        let fourth = world.portal.login(&attempt).await;
        assert!(
            matches!(fourth, Err(Error::HumanCheckRequired)),
            "{login}: {fourth:?}"
        );
    }
}

#[tokio::test]
async fn a_captcha_is_required_after_three_failures_and_a_failed_one_is_refused() {
    let world = world();
    let account = world.register(Some(PHONE), None).await;
    for _ in 0..3 {
        world
            .portal
            .login(&login_request(PHONE, "Wrong-Passw0rd!"))
            .await
            .unwrap_err();
    }
    let without = world.portal.login(&login_request(PHONE, PASSWORD)).await;
    assert!(
        matches!(without, Err(Error::HumanCheckRequired)),
        "{without:?}"
    );

    let mut with_captcha = login_request(PHONE, PASSWORD);
    with_captcha.captcha = Some("token".into());
    world.portal.login(&with_captcha).await.unwrap();

    let strict = Portal::new(
        config(),
        Arc::clone(&world.store),
        world.sender.clone(),
        AlwaysFail,
        world.clock.clone(),
    )
    .unwrap();
    for _ in 0..3 {
        strict
            .login(&login_request(PHONE, "Wrong-Passw0rd!"))
            .await
            .unwrap_err();
    }
    let failed = strict.login(&with_captcha).await;
    assert!(
        matches!(failed, Err(Error::HumanCheckRequired)),
        "{failed:?}"
    );
    // Every refused captcha is in the account's own trail, beside its wrong passwords:
    // the one sent without, then all four on the strict portal (the client's count,
    // which a success does not clear, still asks for a captcha).
    let refused = world
        .portal
        .audit_events(account)
        .await
        .unwrap()
        .iter()
        .filter(|e| {
            e.kind
                == AuditKind::LoginFailed {
                    reason: LoginFailure::HumanCheckFailed,
                }
        })
        .count();
    assert_eq!(refused, 5);
}

#[tokio::test]
async fn failures_beyond_five_impose_a_growing_delay() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let mut attempt = login_request(PHONE, "Wrong-Passw0rd!");
    attempt.captcha = Some("token".into());
    for _ in 0..5 {
        world.portal.login(&attempt).await.unwrap_err();
    }
    let sixth = world.portal.login(&attempt).await;
    assert!(
        matches!(sixth, Err(Error::Throttled { retry_after }) if retry_after == Duration::seconds(1)),
        "{sixth:?}"
    );
    world.clock.advance(Duration::seconds(1));
    world.portal.login(&attempt).await.unwrap_err();
    let seventh = world.portal.login(&attempt).await;
    assert!(
        matches!(seventh, Err(Error::Throttled { retry_after }) if retry_after == Duration::seconds(2)),
        "{seventh:?}"
    );
}

#[tokio::test]
async fn one_hundred_consecutive_failures_lock_the_account_even_for_the_right_password() {
    let world = world();
    let account = world.register(Some(PHONE), None).await;
    let mut attempt = login_request(PHONE, "Wrong-Passw0rd!");
    attempt.captcha = Some("token".into());
    for _ in 0..100 {
        world.clock.advance(Duration::minutes(16));
        world.portal.login(&attempt).await.unwrap_err();
    }
    world.clock.advance(Duration::minutes(16));
    let mut right = login_request(PHONE, PASSWORD);
    right.captcha = Some("token".into());
    let locked = world.portal.login(&right).await;
    assert!(matches!(locked, Err(Error::Locked)), "{locked:?}");

    let events = world.portal.audit_events(account).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == AuditKind::LockedOut)
            .count(),
        1
    );
    let notices = world.sender.messages_to(&to_phone(PHONE));
    assert_eq!(
        notices
            .iter()
            .filter(|m| m.kind() == MessageKind::LockedOut)
            .count(),
        1
    );
}

#[tokio::test]
async fn a_success_clears_the_account_failure_count() {
    let world = world();
    world.register(Some(PHONE), None).await;
    for _ in 0..2 {
        world
            .portal
            .login(&login_request(PHONE, "Wrong-Passw0rd!"))
            .await
            .unwrap_err();
    }
    world.login(PHONE).await;
    let mut fresh_client = login_request(PHONE, "Wrong-Passw0rd!");
    fresh_client.client = Some("198.51.100.1".into());
    for _ in 0..2 {
        world.portal.login(&fresh_client).await.unwrap_err();
    }
    fresh_client.password = password(PASSWORD);
    world
        .portal
        .login(&fresh_client)
        .await
        .expect("two failures since the success: no captcha yet");
}

#[tokio::test]
async fn failures_are_audited_with_their_reason_and_an_unknown_id_without_an_account() {
    let world = world();
    let account = world.register(Some(PHONE), None).await;
    world
        .portal
        .login(&login_request(PHONE, "Wrong-Passw0rd!"))
        .await
        .unwrap_err();
    world.login(PHONE).await;
    world
        .portal
        .login(&login_request("+79990001122", "Wrong-Passw0rd!"))
        .await
        .unwrap_err();

    let kinds: Vec<_> = world
        .portal
        .audit_events(account)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&AuditKind::LoginFailed {
        reason: LoginFailure::WrongPassword
    }));
    assert!(kinds.contains(&AuditKind::LoginSucceeded {
        second_factor: false
    }));
    let recent = world.store.recent_audit_events(1).await.unwrap();
    assert_eq!(
        recent[0].kind,
        AuditKind::LoginFailed {
            reason: LoginFailure::UnknownAccount
        }
    );
    assert_eq!(recent[0].account, None);
}

#[tokio::test]
async fn a_malformed_login_field_is_a_typed_error_and_writes_nothing() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let before = world.stats();
    for login in ["", "hello", "12", "+1 202 555 0100"] {
        let refused = world.portal.login(&login_request(login, PASSWORD)).await;
        assert!(
            matches!(
                refused,
                Err(Error::InvalidField {
                    field: Field::Login,
                    ..
                })
            ),
            "{login}: {refused:?}"
        );
    }
    assert_eq!(world.stats(), before);
}

#[tokio::test]
async fn a_hash_with_old_parameters_is_upgraded_at_login_in_the_same_commit() {
    let old = world();
    let account = old.register(Some(PHONE), None).await;
    let before = old
        .store
        .account(account)
        .await
        .unwrap()
        .unwrap()
        .password_hash()
        .clone();

    let mut config = config();
    config.hasher = HasherConfig::danger_fast_insecure().with_params(HashParams::new(128, 1, 1));
    let new = world_on(config, Arc::clone(&old.store), old.clock.clone());
    assert!(new.portal.hasher().needs_rehash(&before));
    let commits = new.stats().commits;
    new.login(PHONE).await;
    assert_eq!(
        new.stats().commits,
        commits + 1,
        "the new hash is written with the login's own commit"
    );

    let after = new
        .store
        .account(account)
        .await
        .unwrap()
        .unwrap()
        .password_hash()
        .clone();
    assert!(!new.portal.hasher().needs_rehash(&after));
    assert_ne!(before.as_str(), after.as_str());
    new.login(PHONE).await;
    let events = new.portal.audit_events(account).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == AuditKind::PasswordRehashed)
            .count(),
        1
    );
}

#[tokio::test]
async fn login_without_a_client_key_still_counts_account_failures() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let attempt = LoginRequest {
        login: PHONE.into(),
        password: password("Wrong-Passw0rd!"),
        client: None,
        captcha: None,
    };
    for _ in 0..3 {
        world.portal.login(&attempt).await.unwrap_err();
    }
    assert!(matches!(
        world.portal.login(&attempt).await,
        Err(Error::HumanCheckRequired)
    ));
}

/// A login attempt as an attacker sends it: no client key, a captcha token always.
fn probe(login: &str, secret: &str) -> LoginRequest {
    LoginRequest {
        login: login.into(),
        password: password(secret),
        client: None,
        captcha: Some("token".into()),
    }
}

#[tokio::test]
async fn each_threshold_holds_to_the_failure_captcha_at_three_delay_at_five() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let mut attempt = login_request(PHONE, "Wrong-Passw0rd!");

    // Two failures ask for nothing; the third is still a plain refusal.
    for failure in 1..=3 {
        let reply = world.portal.login(&attempt).await;
        assert!(
            matches!(reply, Err(Error::InvalidCredentials)),
            "failure {failure}: {reply:?}"
        );
    }
    let before = world.stats();
    let verifies = world.portal.hasher().verifications();
    let without = world.portal.login(&attempt).await;
    assert!(
        matches!(without, Err(Error::HumanCheckRequired)),
        "{without:?}"
    );
    assert_eq!(world.portal.hasher().verifications(), verifies, "no verify");
    assert_eq!(world.stats().counters, before.counters, "not a failure");

    // With a captcha, the fourth and fifth failures wait for nothing.
    attempt.captcha = Some("token".into());
    for failure in 4..=5 {
        let reply = world.portal.login(&attempt).await;
        assert!(
            matches!(reply, Err(Error::InvalidCredentials)),
            "failure {failure}: {reply:?}"
        );
    }
    let before = world.stats();
    let verifies = world.portal.hasher().verifications();
    let waiting = world.portal.login(&attempt).await;
    let Err(Error::Throttled { retry_after }) = waiting else {
        panic!("{waiting:?}")
    };
    assert_eq!(retry_after, Duration::seconds(1));
    assert_eq!(world.stats(), before, "a throttled attempt writes nothing");
    assert_eq!(world.portal.hasher().verifications(), verifies, "no verify");
}

#[tokio::test]
async fn ninety_nine_failures_do_not_lock_the_account() {
    let world = world();
    let account = world.register(Some(PHONE), None).await;
    for failure in 1..=99 {
        world.clock.advance(Duration::minutes(16));
        let reply = world.portal.login(&probe(PHONE, "Wrong-Passw0rd!")).await;
        assert!(
            matches!(reply, Err(Error::InvalidCredentials)),
            "failure {failure}: {reply:?}"
        );
    }
    world.clock.advance(Duration::minutes(16));
    let session = world.portal.login(&probe(PHONE, PASSWORD)).await.unwrap();
    assert!(matches!(session, portal_auth::LoginOutcome::Authenticated(s) if s.account == account));
    let events = world.portal.audit_events(account).await.unwrap();
    assert!(!events.iter().any(|e| e.kind == AuditKind::LockedOut));
}

#[tokio::test]
async fn a_locked_account_spends_no_verify_and_writes_nothing() {
    let world = world();
    world.register(Some(PHONE), None).await;
    for _ in 0..100 {
        world.clock.advance(Duration::minutes(16));
        world
            .portal
            .login(&probe(PHONE, "Wrong-Passw0rd!"))
            .await
            .unwrap_err();
    }
    world.clock.advance(Duration::minutes(16));
    let before = world.stats();
    let verifies = world.portal.hasher().verifications();
    for secret in [PASSWORD, "Wrong-Passw0rd!"] {
        let locked = world.portal.login(&probe(PHONE, secret)).await;
        assert!(matches!(locked, Err(Error::Locked)), "{locked:?}");
    }
    assert_eq!(world.stats(), before);
    assert_eq!(world.portal.hasher().verifications(), verifies);
}

#[tokio::test]
async fn an_unknown_login_id_is_delayed_and_locked_exactly_like_an_account() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let unknown = "+79990001122";

    // The same history for both: five quick failures, then one that must wait.
    let mut replies = Vec::new();
    for login in [PHONE, unknown] {
        let mut seen = Vec::new();
        for _ in 0..6 {
            let verifies = world.portal.hasher().verifications();
            let reply = world.portal.login(&probe(login, "Wrong-Passw0rd!")).await;
            let spent = world.portal.hasher().verifications() - verifies;
            seen.push((reply.unwrap_err().to_string(), spent));
        }
        replies.push(seen);
    }
    assert_eq!(replies[0], replies[1]);
    assert_eq!(replies[0][5], ("too many attempts; retry in 1 s".into(), 0));

    // Then on to the lock, which answers the same and costs no verify.
    for login in [PHONE, unknown] {
        for _ in 5..100 {
            world.clock.advance(Duration::minutes(16));
            let reply = world.portal.login(&probe(login, "Wrong-Passw0rd!")).await;
            assert!(
                matches!(reply, Err(Error::InvalidCredentials)),
                "{login}: {reply:?}"
            );
        }
    }
    world.clock.advance(Duration::minutes(16));
    let verifies = world.portal.hasher().verifications();
    let known = world.portal.login(&probe(PHONE, "Wrong-Passw0rd!")).await;
    let unknown = world.portal.login(&probe(unknown, "Wrong-Passw0rd!")).await;
    assert!(matches!(known, Err(Error::Locked)), "{known:?}");
    assert_eq!(
        known.unwrap_err().to_string(),
        unknown.unwrap_err().to_string()
    );
    assert_eq!(world.portal.hasher().verifications(), verifies);
}

#[tokio::test]
async fn failures_are_counted_per_account_across_all_its_login_ids() {
    let world = world();
    world.register_with_both().await;
    for _ in 0..3 {
        let refused = world
            .portal
            .login(&login_request(PHONE, "Wrong-Passw0rd!"))
            .await;
        assert!(
            matches!(refused, Err(Error::InvalidCredentials)),
            "{refused:?}"
        );
    }
    // The e-mail has failed nowhere, but its account has: a captcha is asked.
    let by_email = world.portal.login(&login_request(EMAIL, PASSWORD)).await;
    assert!(
        matches!(by_email, Err(Error::HumanCheckRequired)),
        "{by_email:?}"
    );
}

#[tokio::test]
async fn a_client_key_failing_against_many_accounts_is_asked_for_a_captcha() {
    let world = world();
    world.register(Some(PHONE), None).await;
    world.register(Some("+79990001122"), None).await;
    let from = |login: &str, secret: &str| LoginRequest {
        client: Some("198.51.100.9".into()),
        ..login_request(login, secret)
    };
    world
        .portal
        .login(&from(PHONE, "Wrong-Passw0rd!"))
        .await
        .unwrap_err();
    world
        .portal
        .login(&from("+79990001122", "Wrong-Passw0rd!"))
        .await
        .unwrap_err();
    world
        .portal
        .login(&from("+79990001133", "Wrong-Passw0rd!"))
        .await
        .unwrap_err();
    // No account has failed three times, but the client has.
    let fourth = world.portal.login(&from(PHONE, PASSWORD)).await;
    assert!(
        matches!(fourth, Err(Error::HumanCheckRequired)),
        "{fourth:?}"
    );
    let elsewhere = world.portal.login(&login_request(PHONE, PASSWORD)).await;
    assert!(
        elsewhere.is_ok(),
        "another client is not held: {elsewhere:?}"
    );
}
