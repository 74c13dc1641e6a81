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
    let (first, first_code) = world.start_registration_by_phone().await;
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
    let (started, code) = world.start_registration_by_phone().await;
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
    let (started, first_code) = world.start_registration_by_phone().await;
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
    let (started, code) = world.start_registration_by_phone().await;
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
    let (started, code) = world.start_registration_by_phone().await;
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
    let (first, first_code) = world.start_registration_by_phone().await;
    let (second, second_code) = world.start_registration_by_phone().await;
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

async fn flow_version(world: &World, flow: portal_auth::FlowId) -> u64 {
    world.store.flow(flow).await.unwrap().unwrap().version()
}

/// Asserts that the store holds as many records as `before` and the flow is still at
/// `version`: the step wrote nothing.
async fn unchanged(
    world: &World,
    flow: portal_auth::FlowId,
    before: portal_auth::store::MemoryStats,
    version: u64,
) {
    assert_eq!(world.stats(), before);
    assert_eq!(flow_version(world, flow).await, version);
}

#[tokio::test]
async fn email_registration_code_expires_after_fifteen_minutes() {
    let world = world();
    let on_time = world
        .portal
        .start_registration(&request(None, Some(EMAIL)))
        .await
        .unwrap();
    let on_time_code = world.last_code(&to_email(EMAIL));
    let late = world
        .portal
        .start_registration(&request(None, Some("anna@mail.ru")))
        .await
        .unwrap();
    let late_code = world.last_code(&to_email("anna@mail.ru"));

    world.clock.advance(Duration::seconds(899));
    world
        .portal
        .confirm_registration(on_time.flow, &on_time_code)
        .await
        .unwrap();
    world.clock.advance(Duration::seconds(1));
    let refused = world
        .portal
        .confirm_registration(late.flow, &late_code)
        .await;
    assert!(matches!(refused, Err(Error::CodeExpired)), "{refused:?}");
}

/// Regression: an expired or malformed code used to rewrite the flow unchanged (a new
/// version for no change), so a refused step committed, and a garbage request could
/// make a concurrent good one fail with a conflict.
#[tokio::test]
async fn an_expired_or_malformed_code_writes_nothing_and_spends_no_try() {
    let world = world();
    let (started, code) = world.start_registration_by_phone().await;
    let before = world.stats();
    let version = flow_version(&world, started.flow).await;

    for malformed in ["12345", "1234567", "12ab56", ""] {
        let refused = world
            .portal
            .confirm_registration(started.flow, &OneTimeCode::new(malformed))
            .await;
        assert!(
            matches!(refused, Err(Error::MalformedCode)),
            "{malformed:?}: {refused:?}"
        );
    }
    assert_eq!(world.stats(), before);
    assert_eq!(flow_version(&world, started.flow).await, version);

    world.clock.advance(Duration::minutes(5));
    let expired = world.portal.confirm_registration(started.flow, &code).await;
    assert!(matches!(expired, Err(Error::CodeExpired)), "{expired:?}");
    assert_eq!(world.stats(), before);
    assert_eq!(flow_version(&world, started.flow).await, version);

    // A fresh code still has every try: nothing was spent above.
    world.clock.advance(Duration::seconds(60));
    world
        .portal
        .resend_registration_code(started.flow)
        .await
        .unwrap();
    let fresh = world.last_code(&to_phone(PHONE));
    let wrong = wrong_code(&fresh);
    let first = world
        .portal
        .confirm_registration(started.flow, &wrong)
        .await;
    assert!(
        matches!(first, Err(Error::WrongCode { tries_left: 2 })),
        "{first:?}"
    );
}

#[tokio::test]
async fn every_refused_step_of_a_flow_writes_nothing() {
    let world = world();
    let (started, code) = world.start_registration_by_phone().await;
    let (before, version) = (world.stats(), flow_version(&world, started.flow).await);

    let early = world.portal.resend_registration_code(started.flow).await;
    assert!(
        matches!(early, Err(Error::ResendTooSoon { .. })),
        "{early:?}"
    );
    unchanged(&world, started.flow, before, version).await;
    let too_soon = world
        .portal
        .complete_registration(started.flow, &password(PASSWORD), &password(PASSWORD))
        .await;
    assert!(matches!(too_soon, Err(Error::WrongStep)), "{too_soon:?}");
    unchanged(&world, started.flow, before, version).await;

    world
        .portal
        .confirm_registration(started.flow, &code)
        .await
        .unwrap();
    let (before, version) = (world.stats(), flow_version(&world, started.flow).await);
    let again = world.portal.confirm_registration(started.flow, &code).await;
    assert!(matches!(again, Err(Error::WrongStep)), "{again:?}");
    unchanged(&world, started.flow, before, version).await;
    world.clock.advance(Duration::seconds(60));
    let resend = world.portal.resend_registration_code(started.flow).await;
    assert!(matches!(resend, Err(Error::WrongStep)), "{resend:?}");
    unchanged(&world, started.flow, before, version).await;

    let unknown = world
        .portal
        .confirm_registration(portal_auth::FlowId::from_bytes([0; 16]), &code)
        .await;
    assert!(matches!(unknown, Err(Error::FlowNotFound)), "{unknown:?}");
    unchanged(&world, started.flow, before, version).await;
}

#[tokio::test]
async fn a_bad_patronymic_a_long_name_or_a_bad_extra_email_is_refused_and_writes_nothing() {
    let world = world();
    let mut bad_patronymic = request(Some(PHONE), None);
    bad_patronymic.patronymic = Some("Sergeevich2".into());
    let long = "Ф".repeat(61);
    let cases = [
        (bad_patronymic, Field::Patronymic),
        (
            request(Some(PHONE), None).with_surname(&long),
            Field::Surname,
        ),
        (
            request(Some(PHONE), None).with_given_name("-Ivan"),
            Field::GivenName,
        ),
        (request(Some(PHONE), Some("ivan@localhost")), Field::Email),
        (request(Some("not a phone"), Some(EMAIL)), Field::Phone),
    ];
    for (bad, field) in cases {
        let refused = world.portal.start_registration(&bad).await;
        assert!(
            matches!(&refused, Err(Error::InvalidField { field: f, .. }) if *f == field),
            "{field:?}: {refused:?}"
        );
    }
    let stats = world.stats();
    assert_eq!(
        (
            stats.accounts,
            stats.flows,
            stats.counters,
            stats.audit_events
        ),
        (0, 0, 0, 0)
    );
    assert!(world.sender.messages().is_empty());

    // The limits themselves are allowed: sixty letters is a name.
    let sixty = "Ф".repeat(60);
    world
        .portal
        .start_registration(&request(Some(PHONE), None).with_surname(&sixty))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_throttled_start_and_a_lost_race_write_nothing() {
    let world = world();
    let mut flows = Vec::new();
    for _ in 0..5 {
        let started = world
            .portal
            .start_registration(&request(Some(PHONE), None))
            .await
            .unwrap();
        flows.push((started.flow, world.last_code(&to_phone(PHONE))));
    }
    let before = world.stats();
    let messages = world.sender.messages().len();
    let throttled = world
        .portal
        .start_registration(&request(Some(PHONE), None))
        .await;
    let Err(Error::Throttled { retry_after }) = throttled else {
        panic!("{throttled:?}")
    };
    assert_eq!(retry_after, Duration::hours(1));
    assert_eq!(world.stats(), before);
    assert_eq!(world.sender.messages().len(), messages);

    for (flow, code) in &flows[..2] {
        world
            .portal
            .confirm_registration(*flow, code)
            .await
            .unwrap();
    }
    world
        .portal
        .complete_registration(flows[0].0, &password(PASSWORD), &password(PASSWORD))
        .await
        .unwrap();
    let before = world.stats();
    let version = flow_version(&world, flows[1].0).await;
    let lost = world
        .portal
        .complete_registration(flows[1].0, &password(PASSWORD), &password(PASSWORD))
        .await;
    assert!(matches!(lost, Err(Error::Taken)), "{lost:?}");
    assert_eq!(world.stats(), before);
    assert_eq!(flow_version(&world, flows[1].0).await, version);
}

/// Each code a free contact is sent, a taken one costs the sender a `discard` for
/// nobody: the owner's one notice stands for the first code, a stand-in for each resend.
#[tokio::test]
async fn a_taken_contact_calls_the_sender_as_often_as_a_free_one() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let mut counts = Vec::new();
    for phone in [PHONE, "+79990001189"] {
        world.sender.clear();
        let started = world
            .portal
            .start_registration(&request(Some(phone), None))
            .await
            .unwrap();
        world.clock.advance(Duration::seconds(60));
        world
            .portal
            .resend_registration_code(started.flow)
            .await
            .unwrap();
        counts.push(world.sender.attempts());
        if phone == PHONE {
            let decoys = world.sender.decoys();
            assert_eq!(decoys.len(), 1, "the resend to a taken contact");
            assert_eq!(decoys[0].kind(), MessageKind::RegistrationCode);
        }
    }
    assert_eq!(counts, [2, 2]);
}
