//! Registration through the portal: name and contact, code, password.

mod common;

use common::*;
use portal_auth::notify::MessageKind;
use portal_auth::{AuditKind, Error, Field, OneTimeCode, Store, Tier};
use time::Duration;

#[tokio::test]
async fn registration_by_phone_creates_a_simplified_account_with_the_phone_confirmed() {
    let world = world();
    let started = world
        .portal
        .start_registration(&request(Some("8 (912) 345-67-89"), Some(EMAIL)))
        .await
        .unwrap();
    assert_eq!(started.sent_to, "+7 *** ***-**-89");

    let code = world.last_code(&to_phone(PHONE));
    world
        .portal
        .confirm_registration(started.flow, &code)
        .await
        .unwrap();
    let registered = world
        .portal
        .complete_registration(started.flow, &password(PASSWORD), &password(PASSWORD))
        .await
        .unwrap();

    assert_eq!(registered.tier, Tier::Simplified);
    let account = world
        .store
        .account(registered.account)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.confirmed_phone(), Some(&phone(PHONE)));
    assert_eq!(
        account.email().map(|c| c.confirmed),
        Some(false),
        "the e-mail got no code"
    );
    assert_eq!(account.name().surname, "Petrov");
    assert_eq!(world.stats().flows, 0, "the finished flow is gone");
    let events = world.portal.audit_events(registered.account).await.unwrap();
    assert_eq!(events.last().map(|e| &e.kind), Some(&AuditKind::Registered));
}

#[tokio::test]
async fn registration_by_email_alone_confirms_the_email() {
    let world = world();
    let account = world.register(None, Some("Ivan.Petrov@MAIL.RU")).await;
    let account = world.store.account(account).await.unwrap().unwrap();
    assert_eq!(
        account.confirmed_email(),
        Some(&email("Ivan.Petrov@mail.ru"))
    );
    assert!(account.phone().is_none());
}

#[tokio::test]
async fn registration_code_expires_after_five_minutes() {
    let world = world();
    let first = world
        .portal
        .start_registration(&request(Some(PHONE), None))
        .await
        .unwrap();
    let first_code = world.last_code(&to_phone(PHONE));
    world.clock.advance(Duration::seconds(299));
    world
        .portal
        .confirm_registration(first.flow, &first_code)
        .await
        .unwrap();

    let second = world
        .portal
        .start_registration(&request(Some("+79990001122"), None))
        .await
        .unwrap();
    let second_code = world.last_code(&to_phone("+79990001122"));
    world.clock.advance(Duration::seconds(300));
    let refused = world
        .portal
        .confirm_registration(second.flow, &second_code)
        .await;
    assert!(matches!(refused, Err(Error::CodeExpired)), "{refused:?}");
}

#[tokio::test]
async fn registration_code_dies_after_three_wrong_tries_even_when_the_right_one_follows() {
    let world = world();
    let started = world
        .portal
        .start_registration(&request(Some(PHONE), None))
        .await
        .unwrap();
    let code = world.last_code(&to_phone(PHONE));
    let wrong = wrong_code(&code);

    let first = world
        .portal
        .confirm_registration(started.flow, &wrong)
        .await;
    assert!(
        matches!(first, Err(Error::WrongCode { tries_left: 2 })),
        "{first:?}"
    );
    let second = world
        .portal
        .confirm_registration(started.flow, &wrong)
        .await;
    assert!(
        matches!(second, Err(Error::WrongCode { tries_left: 1 })),
        "{second:?}"
    );
    let third = world
        .portal
        .confirm_registration(started.flow, &wrong)
        .await;
    assert!(
        matches!(
            third,
            Err(Error::CodeExhausted | Error::WrongCode { tries_left: 0 })
        ),
        "{third:?}"
    );

    let after = world.portal.confirm_registration(started.flow, &code).await;
    assert!(matches!(after, Err(Error::FlowOver)), "{after:?}");
    let resend = world.portal.resend_registration_code(started.flow).await;
    assert!(resend.is_err(), "an exhausted flow sends no new code");
}

#[tokio::test]
async fn resend_waits_for_the_cooldown_and_does_not_reset_tries() {
    let world = world();
    let started = world
        .portal
        .start_registration(&request(Some(PHONE), None))
        .await
        .unwrap();
    let first_code = world.last_code(&to_phone(PHONE));
    let wrong = wrong_code(&first_code);

    let early = world.portal.resend_registration_code(started.flow).await;
    assert!(
        matches!(early, Err(Error::ResendTooSoon { retry_after }) if retry_after == Duration::seconds(60)),
        "{early:?}"
    );
    world
        .portal
        .confirm_registration(started.flow, &wrong)
        .await
        .unwrap_err();

    world.clock.advance(Duration::seconds(59));
    assert!(
        world
            .portal
            .resend_registration_code(started.flow)
            .await
            .is_err()
    );
    world.clock.advance(Duration::seconds(1));
    world
        .portal
        .resend_registration_code(started.flow)
        .await
        .unwrap();
    let second_code = world.last_code(&to_phone(PHONE));

    let old = world
        .portal
        .confirm_registration(started.flow, &first_code)
        .await;
    if first_code.expose_secret() != second_code.expose_secret() {
        assert!(
            matches!(old, Err(Error::WrongCode { tries_left: 1 })),
            "the old code is void: {old:?}"
        );
    }
    world
        .portal
        .confirm_registration(started.flow, &second_code)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_flow_sends_at_most_five_codes() {
    let world = world();
    let started = world
        .portal
        .start_registration(&request(Some(PHONE), None))
        .await
        .unwrap();
    for _ in 0..4 {
        world.clock.advance(Duration::seconds(60));
        world
            .portal
            .resend_registration_code(started.flow)
            .await
            .unwrap();
    }
    world.clock.advance(Duration::seconds(60));
    let refused = world.portal.resend_registration_code(started.flow).await;
    assert!(matches!(refused, Err(Error::ResendLimit)), "{refused:?}");
    assert_eq!(world.sender.messages_to(&to_phone(PHONE)).len(), 5);
}

#[tokio::test]
async fn a_taken_phone_gets_the_same_reply_but_no_code_and_its_owner_a_notice() {
    let world = world();
    let owner = world.register(Some(PHONE), None).await;
    world.sender.clear();

    let taken = world
        .portal
        .start_registration(&request(Some(PHONE), None))
        .await
        .unwrap();
    let free = world
        .portal
        .start_registration(&request(Some("+79990001122"), None))
        .await
        .unwrap();
    assert_eq!(taken.sent_to, "+7 *** ***-**-89");
    assert_eq!(free.sent_to, "+7 *** ***-**-22");

    let to_owner = world.sender.messages_to(&to_phone(PHONE));
    assert_eq!(to_owner.len(), 1);
    assert_eq!(to_owner[0].kind(), MessageKind::RegistrationAttempt);
    assert!(
        to_owner[0].code().is_none(),
        "no code ever reaches a taken contact"
    );
    let events = world.portal.audit_events(owner).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == AuditKind::RegistrationAttemptOnTakenContact)
    );

    // Confirming the taken flow fails like any wrong code.
    let guess = world
        .portal
        .confirm_registration(taken.flow, &OneTimeCode::new("123456"))
        .await;
    assert!(
        matches!(guess, Err(Error::WrongCode { tries_left: 2 })),
        "{guess:?}"
    );
}

#[tokio::test]
async fn every_bad_field_is_named_and_nothing_is_written() {
    let world = world();
    let before = world.stats();
    let cases = [
        (request(Some(PHONE), None).with_surname(""), Field::Surname),
        (
            request(Some(PHONE), None).with_surname("Petr0v"),
            Field::Surname,
        ),
        (
            request(Some(PHONE), None).with_given_name("   "),
            Field::GivenName,
        ),
        (request(Some("+1 202 555 0100"), None), Field::Phone),
        (request(Some("8 (495) 123-45-67"), None), Field::Phone),
        (request(None, Some("not-an-email")), Field::Email),
        (request(None, None), Field::Phone),
    ];
    for (bad, field) in cases {
        let refused = world.portal.start_registration(&bad).await;
        assert!(
            matches!(&refused, Err(Error::InvalidField { field: f, .. }) if *f == field),
            "{field:?}: {refused:?}"
        );
    }
    assert_eq!(world.stats(), before);
    assert!(world.sender.messages().is_empty());
}

#[tokio::test]
async fn a_weak_password_lists_every_violation_and_writes_nothing() {
    let world = world();
    let started = world
        .portal
        .start_registration(&request(Some(PHONE), None))
        .await
        .unwrap();
    let code = world.last_code(&to_phone(PHONE));
    world
        .portal
        .confirm_registration(started.flow, &code)
        .await
        .unwrap();
    let before = world.stats();

    let refused = world
        .portal
        .complete_registration(started.flow, &password("petrov"), &password("petrov"))
        .await;
    let Err(Error::Policy(violations)) = refused else {
        panic!("{refused:?}")
    };
    assert!(violations.violations().len() >= 3, "{violations:?}");

    let mismatch = world
        .portal
        .complete_registration(
            started.flow,
            &password(PASSWORD),
            &password("Kor0leva-Snezhnaya?"),
        )
        .await;
    assert!(matches!(mismatch, Err(Error::Policy(_))), "{mismatch:?}");
    assert_eq!(world.stats(), before);
}

#[tokio::test]
async fn the_password_step_needs_a_confirmed_code() {
    let world = world();
    let started = world
        .portal
        .start_registration(&request(Some(PHONE), None))
        .await
        .unwrap();
    let refused = world
        .portal
        .complete_registration(started.flow, &password(PASSWORD), &password(PASSWORD))
        .await;
    assert!(matches!(refused, Err(Error::WrongStep)), "{refused:?}");
    assert_eq!(world.stats().accounts, 0);
}

#[tokio::test]
async fn an_abandoned_registration_expires_and_leaves_nothing_behind() {
    let world = world();
    let started = world
        .portal
        .start_registration(&request(Some(PHONE), None))
        .await
        .unwrap();
    let code = world.last_code(&to_phone(PHONE));
    world
        .portal
        .confirm_registration(started.flow, &code)
        .await
        .unwrap();

    world.clock.advance(Duration::hours(1));
    let late = world
        .portal
        .complete_registration(started.flow, &password(PASSWORD), &password(PASSWORD))
        .await;
    assert!(matches!(late, Err(Error::FlowExpired)), "{late:?}");

    world.clock.advance(Duration::hours(1));
    world.store.purge_expired(world.clock_now()).await.unwrap();
    let stats = world.stats();
    assert_eq!((stats.accounts, stats.flows, stats.counters), (0, 0, 0));
}

#[tokio::test]
async fn two_registrations_of_one_phone_cannot_both_finish() {
    let world = world();
    let first = world
        .portal
        .start_registration(&request(Some(PHONE), None))
        .await
        .unwrap();
    let first_code = world.last_code(&to_phone(PHONE));
    let second = world
        .portal
        .start_registration(&request(Some(PHONE), None))
        .await
        .unwrap();
    let second_code = world.last_code(&to_phone(PHONE));
    world
        .portal
        .confirm_registration(first.flow, &first_code)
        .await
        .unwrap();
    world
        .portal
        .confirm_registration(second.flow, &second_code)
        .await
        .unwrap();

    world
        .portal
        .complete_registration(first.flow, &password(PASSWORD), &password(PASSWORD))
        .await
        .unwrap();
    let loser = world
        .portal
        .complete_registration(second.flow, &password(PASSWORD), &password(PASSWORD))
        .await;
    assert!(matches!(loser, Err(Error::Taken)), "{loser:?}");
    assert_eq!(world.stats().accounts, 1);
}

#[tokio::test]
async fn registration_starts_for_one_contact_are_rate_limited() {
    let world = world();
    for _ in 0..5 {
        world
            .portal
            .start_registration(&request(Some(PHONE), None))
            .await
            .unwrap();
    }
    let refused = world
        .portal
        .start_registration(&request(Some(PHONE), None))
        .await;
    assert!(
        matches!(refused, Err(Error::Throttled { .. })),
        "{refused:?}"
    );
    world.clock.advance(Duration::hours(1));
    world
        .portal
        .start_registration(&request(Some(PHONE), None))
        .await
        .unwrap();
}

/// A well-formed code that is not `code`.
fn wrong_code(code: &OneTimeCode) -> OneTimeCode {
    OneTimeCode::new(if code.expose_secret() == "000000" {
        "111111"
    } else {
        "000000"
    })
}
