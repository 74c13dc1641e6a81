//! A change of phone or e-mail never changes the tier, whoever makes it: the person in
//! their settings, or an operator at a service centre. Each change still bumps the
//! credential stamp.

mod common;

use common::{EMAIL, PHONE, World, to_email, to_phone, world};
use portal_auth::audit::CheckedDocument;
use portal_auth::registry::FakeRegistry;
use portal_auth::{
    AccountId, AuditKind, Authenticated, DocumentRequest, Operator, OperatorPermissions, Store,
    Tier, VerificationStatus,
};

const NEW_PHONE: &str = "+79995554433";
const NEW_EMAIL: &str = "i.petrov@yandex.ru";

fn operator() -> Operator {
    Operator {
        id: "op-17".into(),
        centre_id: "mfc-moscow-3".into(),
        own_account: None,
        permissions: OperatorPermissions::all(),
    }
}

/// An account with a phone, raised to confirmed the real way: the registry verifies
/// its documents, an operator checks the passport.
async fn confirmed(world: &World) -> (AccountId, Authenticated) {
    let id = world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    let documents = DocumentRequest {
        snils: common::SNILS.into(),
        passport: common::PASSPORT.into(),
        issued_on: "15.03.2011".into(),
        authority_code: "770-001".into(),
        birth_date: "01.02.1990".into(),
        birth_place: "Moscow".into(),
        inn: None,
    };
    let reply = world
        .portal
        .submit_documents(
            &session,
            &documents,
            &FakeRegistry::new(world.clock.clone()),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, VerificationStatus::Verified);
    world
        .portal
        .confirm_identity_in_person(&operator(), id, &common::PASSPORT.parse().unwrap())
        .await
        .unwrap();
    let session = world.login(PHONE).await;
    assert_eq!(session.tier, Tier::Confirmed);
    (id, session)
}

/// Changes the session's contact to `new` with the code sent there.
async fn change(world: &World, session: &Authenticated, new: &str) -> Authenticated {
    let started = world
        .portal
        .start_contact_change(session, new)
        .await
        .unwrap();
    let target = if new.contains('@') {
        to_email(new)
    } else {
        to_phone(new)
    };
    let code = world.last_code(&target);
    world
        .portal
        .confirm_contact_change(session, started.flow, &code)
        .await
        .unwrap()
}

async fn tier_changes(world: &World, id: AccountId) -> usize {
    let events = world.portal.audit_events(id).await.unwrap();
    events
        .iter()
        .filter(|e| matches!(e.kind, AuditKind::TierChanged { .. }))
        .count()
}

#[tokio::test]
async fn a_contact_change_never_changes_the_tier() {
    let world = world();
    let (id, mut session) = confirmed(&world).await;
    let ladder = tier_changes(&world, id).await;

    // Add an e-mail, replace it, then replace the phone.
    for new in [EMAIL, NEW_EMAIL, NEW_PHONE] {
        let renewed = change(&world, &session, new).await;
        assert!(renewed.stamp > session.stamp, "{new}: the stamp moved on");
        assert_eq!(renewed.tier, Tier::Confirmed, "{new}");
        session = renewed;
    }

    let stored = world.store.account(id).await.unwrap().unwrap();
    assert_eq!(stored.tier(), Tier::Confirmed);
    assert_eq!(stored.confirmed_phone().unwrap().to_string(), NEW_PHONE);
    assert_eq!(stored.confirmed_email().unwrap().to_string(), NEW_EMAIL);
    assert_eq!(
        tier_changes(&world, id).await,
        ladder,
        "no tier change audited"
    );
}

#[tokio::test]
async fn a_phone_set_by_an_operator_never_changes_the_tier() {
    let world = world();
    let (id, session) = confirmed(&world).await;
    let ladder = tier_changes(&world, id).await;
    let clerk = operator();
    let case = world
        .portal
        .operator_open_case(
            &clerk,
            common::SNILS,
            &[CheckedDocument::Passport, CheckedDocument::Snils],
        )
        .await
        .unwrap();

    let started = world
        .portal
        .operator_start_phone_change(&clerk, &case, NEW_PHONE)
        .await
        .unwrap();
    let code = world.last_code(&to_phone(NEW_PHONE));
    world
        .portal
        .operator_confirm_phone_change(&clerk, &case, started.flow, &code)
        .await
        .unwrap();

    let stored = world.store.account(id).await.unwrap().unwrap();
    assert_eq!(stored.tier(), Tier::Confirmed);
    assert!(stored.credential_stamp() > session.stamp);
    assert_eq!(tier_changes(&world, id).await, ladder);
    assert_eq!(world.login(NEW_PHONE).await.tier, Tier::Confirmed);
}
