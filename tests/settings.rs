//! Security settings: password change and security question.

mod common;

use common::*;
use portal_auth::notify::MessageKind;
use portal_auth::{Answer, AuditKind, Error, Store};

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
