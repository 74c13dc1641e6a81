//! Security settings: password change and security question.

mod common;

use common::*;
use portal_auth::audit::LoginFailure;
use portal_auth::notify::MessageKind;
use portal_auth::{Answer, AuditKind, Error, OneTimeCode, SecondFactorProof, Store};
use time::Duration;

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_notifies_every_contact() {
    let world = world();
    let account = world.register(Some(PHONE), Some(EMAIL)).await;
    let session = world.login(PHONE).await;
    let new = password("Zima-Holodnaya-2026!");

    let renewed = world
        .portal
        .change_password(&session, &password(PASSWORD), &new, &new)
        .await
        .unwrap();
    assert!(renewed.stamp > session.stamp);

    let stale = world
        .portal
        .change_password(&session, &new, &password(PASSWORD), &password(PASSWORD))
        .await;
    assert!(matches!(stale, Err(Error::StaleSession)), "{stale:?}");
    let old = world.portal.login(&login_request(PHONE, PASSWORD)).await;
    assert!(matches!(old, Err(Error::InvalidCredentials)));
    world
        .portal
        .login(&login_request(PHONE, "Zima-Holodnaya-2026!"))
        .await
        .unwrap();

    let notices: Vec<_> = world
        .sender
        .messages()
        .into_iter()
        .filter(|m| m.kind() == MessageKind::PasswordChanged)
        .collect();
    assert_eq!(
        notices.len(),
        1,
        "the e-mail is not confirmed: only the phone is told"
    );
    let events = world.portal.audit_events(account).await.unwrap();
    assert!(events.iter().any(|e| e.kind == AuditKind::PasswordChanged));
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_a_new_policy_compliant_one() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    let before = world.stats();

    let wrong = world
        .portal
        .change_password(
            &session,
            &password("Wrong-Passw0rd!"),
            &password("Zima-Holodnaya-2026!"),
            &password("Zima-Holodnaya-2026!"),
        )
        .await;
    assert!(matches!(wrong, Err(Error::InvalidCredentials)), "{wrong:?}");

    let weak = world
        .portal
        .change_password(
            &session,
            &password(PASSWORD),
            &password("qwerty"),
            &password("qwerty"),
        )
        .await;
    assert!(matches!(weak, Err(Error::Policy(_))), "{weak:?}");

    let same = world
        .portal
        .change_password(
            &session,
            &password(PASSWORD),
            &password(PASSWORD),
            &password(PASSWORD),
        )
        .await;
    assert!(matches!(same, Err(Error::NotPossible(_))), "{same:?}");

    let after = world.stats();
    assert_eq!(after.accounts, before.accounts);
    let account = world.store.account(session.account).await.unwrap().unwrap();
    assert_eq!(account.credential_stamp(), session.stamp, "nothing changed");
}

#[tokio::test]
async fn the_security_answer_is_stored_hashed_and_normalised() {
    let world = world();
    let account = world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    world
        .portal
        .set_security_question(
            &session,
            &password(PASSWORD),
            "Кличка первого кота?",
            &Answer::new("  Барсик Ёжиков "),
        )
        .await
        .unwrap();

    let stored = world.store.account(account).await.unwrap().unwrap();
    let question = stored.security_question().unwrap();
    assert_eq!(question.question, "Кличка первого кота?");
    let json = serde_json_string(&stored);
    assert!(
        !json.to_lowercase().contains("барсик"),
        "the answer is never stored in clear"
    );
    let verified = world
        .portal
        .hasher()
        .verify(&password("барсик ежиков"), &question.answer_hash)
        .await
        .unwrap();
    assert!(
        verified.matches,
        "case, ё and spaces are folded before hashing"
    );
    let events = world.portal.audit_events(account).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == AuditKind::SecurityQuestionSet)
    );
}

#[tokio::test]
async fn a_too_short_question_or_answer_is_refused() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    let short = world
        .portal
        .set_security_question(
            &session,
            &password(PASSWORD),
            "Кот?",
            &Answer::new("Барсик"),
        )
        .await;
    assert!(
        matches!(short, Err(Error::InvalidField { .. })),
        "{short:?}"
    );
    let empty = world
        .portal
        .set_security_question(
            &session,
            &password(PASSWORD),
            "Кличка кота?",
            &Answer::new(" "),
        )
        .await;
    assert!(
        matches!(empty, Err(Error::InvalidField { .. })),
        "{empty:?}"
    );
}

fn serde_json_string(account: &portal_auth::Account) -> String {
    serde_json::to_string(account).unwrap()
}

#[tokio::test]
async fn a_bad_question_or_answer_writes_nothing_and_costs_no_verify() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    let before = world.stats();
    let verifies = world.portal.hasher().verifications();
    let long = "Почему? ".repeat(30);
    for (question, answer) in [
        ("Кот?", "Барсик"),
        (long.as_str(), "Барсик"),
        ("Кличка кота?", "я"),
        ("Кличка кота?", "   "),
    ] {
        let refused = world
            .portal
            .set_security_question(
                &session,
                &password(PASSWORD),
                question,
                &Answer::new(answer),
            )
            .await;
        assert!(
            matches!(refused, Err(Error::InvalidField { .. })),
            "{question:?}: {refused:?}"
        );
    }
    assert_eq!(world.stats(), before);
    assert_eq!(world.portal.hasher().verifications(), verifies);
}

#[tokio::test]
async fn a_refused_new_password_writes_nothing_and_a_wrong_current_one_only_counts() {
    let world = world();
    let account = world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    let before = world.stats();
    for (new, confirmation) in [
        ("qwerty", "qwerty"),
        ("Zima-Holodnaya-2026!", "Zima-Holodnaya-2026?"),
        (PASSWORD, PASSWORD),
    ] {
        let refused = world
            .portal
            .change_password(
                &session,
                &password(PASSWORD),
                &password(new),
                &password(confirmation),
            )
            .await;
        assert!(
            matches!(refused, Err(Error::Policy(_) | Error::NotPossible(_))),
            "{new}: {refused:?}"
        );
    }
    assert_eq!(world.stats(), before);

    let wrong = world
        .portal
        .change_password(
            &session,
            &password("Wrong-Passw0rd!"),
            &password("Zima-Holodnaya-2026!"),
            &password("Zima-Holodnaya-2026!"),
        )
        .await;
    assert!(matches!(wrong, Err(Error::InvalidCredentials)), "{wrong:?}");
    let after = world.stats();
    assert_eq!(
        (
            after.accounts,
            after.flows,
            after.counters,
            after.audit_events
        ),
        (
            before.accounts,
            before.flows,
            before.counters + 1,
            before.audit_events + 1
        ),
        "one failure counted and audited, nothing else"
    );
    let stored = world.store.account(account).await.unwrap().unwrap();
    assert_eq!(stored.credential_stamp(), session.stamp);
}

/// Regression: re-proving the password in a settings call counted failures toward the
/// lockout but never applied it, so whoever held a session could guess the password
/// without delay and past the lock.
#[tokio::test]
async fn reauthentication_is_delayed_and_locked_like_a_login() {
    let mut config = config();
    config.throttle.delay_after = 3;
    config.throttle.lock_after = 6;
    let world = world_with(config);
    world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    let guess = |secret: &'static str| {
        let portal = &world.portal;
        async move {
            portal
                .set_security_question(
                    &session,
                    &password(secret),
                    "Кличка первого кота?",
                    &Answer::new("Барсик"),
                )
                .await
        }
    };

    for _ in 0..3 {
        let reply = guess("Wrong-Passw0rd!").await;
        assert!(matches!(reply, Err(Error::InvalidCredentials)), "{reply:?}");
    }
    let before = world.stats();
    let verifies = world.portal.hasher().verifications();
    let waiting = guess("Wrong-Passw0rd!").await;
    let Err(Error::Throttled { retry_after }) = waiting else {
        panic!("{waiting:?}")
    };
    assert_eq!(retry_after, Duration::seconds(1));
    assert_eq!(world.stats(), before);
    assert_eq!(world.portal.hasher().verifications(), verifies, "no verify");

    for _ in 0..3 {
        world.clock.advance(Duration::minutes(1));
        let reply = guess("Wrong-Passw0rd!").await;
        assert!(matches!(reply, Err(Error::InvalidCredentials)), "{reply:?}");
    }
    world.clock.advance(Duration::minutes(1));
    let before = world.stats();
    let verifies = world.portal.hasher().verifications();
    let locked = guess(PASSWORD).await;
    assert!(matches!(locked, Err(Error::Locked)), "{locked:?}");
    assert_eq!(world.stats(), before);
    assert_eq!(world.portal.hasher().verifications(), verifies, "no verify");
    let login = world.portal.login(&login_request(PHONE, PASSWORD)).await;
    assert!(matches!(login, Err(Error::Locked)), "{login:?}");
}

/// Regression: a wrong TOTP or backup code given to a settings call counted nowhere,
/// so whoever held a session and the password could guess second factors without
/// limit and turn two-factor login off. Each wrong proof now counts as a failed
/// second factor: the delay and then the lock stop the guessing.
#[tokio::test]
async fn wrong_second_factor_proofs_in_settings_count_toward_the_lockout() {
    let mut config = config();
    config.throttle.delay_after = 3;
    config.throttle.lock_after = 5;
    let world = world_with(config);
    let account = world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    let issued = world
        .portal
        .enable_sms_two_factor(&session, &password(PASSWORD), None)
        .await
        .unwrap();
    let session = issued.session;
    let guess = || {
        let portal = &world.portal;
        let session = &session;
        async move {
            let wrong = SecondFactorProof::Backup(OneTimeCode::new("0000-0000"));
            portal
                .disable_two_factor(session, &password(PASSWORD), &wrong)
                .await
        }
    };

    for _ in 0..3 {
        let reply = guess().await;
        assert!(matches!(reply, Err(Error::WrongCode { .. })), "{reply:?}");
    }
    let failures = world
        .portal
        .audit_events(account)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| {
            e.kind
                == AuditKind::LoginFailed {
                    reason: LoginFailure::WrongSecondFactor,
                }
        })
        .count();
    assert_eq!(
        failures, 3,
        "each wrong proof is audited as a failed second factor"
    );
    let waiting = guess().await;
    assert!(
        matches!(waiting, Err(Error::Throttled { .. })),
        "{waiting:?}"
    );

    for _ in 0..2 {
        world.clock.advance(Duration::minutes(1));
        let reply = guess().await;
        assert!(matches!(reply, Err(Error::WrongCode { .. })), "{reply:?}");
    }
    world.clock.advance(Duration::minutes(1));
    let proof = SecondFactorProof::Backup(issued.codes[0].clone());
    let locked = world
        .portal
        .disable_two_factor(&session, &password(PASSWORD), &proof)
        .await;
    assert!(matches!(locked, Err(Error::Locked)), "{locked:?}");
    let still_on = world.store.account(account).await.unwrap().unwrap();
    assert!(still_on.two_factor().is_some(), "two-factor login stays on");
}

#[tokio::test]
async fn a_password_change_is_announced_to_the_phone_and_the_email() {
    let world = world();
    world.register_with_both().await;
    let session = world.login(PHONE).await;
    world.sender.clear();
    let new = password("Zima-Holodnaya-2026!");
    world
        .portal
        .change_password(&session, &password(PASSWORD), &new, &new)
        .await
        .unwrap();
    for recipient in [to_phone(PHONE), to_email(EMAIL)] {
        let told: Vec<MessageKind> = world
            .sender
            .messages_to(&recipient)
            .iter()
            .map(portal_auth::Message::kind)
            .collect();
        assert_eq!(told, [MessageKind::PasswordChanged], "{recipient}");
    }
}

#[tokio::test]
async fn at_most_five_settings_codes_an_hour() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    for _ in 0..5 {
        world.portal.send_settings_code(&session).await.unwrap();
        world.clock.advance(Duration::minutes(1));
    }
    let before = world.stats();
    let sixth = world.portal.send_settings_code(&session).await;
    assert!(
        matches!(sixth, Err(Error::Throttled { retry_after }) if retry_after == Duration::minutes(55)),
        "{sixth:?}"
    );
    assert_eq!(world.stats(), before, "nothing written");
    world.clock.advance(Duration::minutes(55));
    world.portal.send_settings_code(&session).await.unwrap();
}
