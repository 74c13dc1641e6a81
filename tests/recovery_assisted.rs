//! The rest of "I changed my phone but still have my e-mail" and of the service centre:
//! the e-mail side of a contact change, a contact taken while a change was pending, and
//! what a temporary password does to open sessions.

mod common;

use common::*;
use portal_auth::audit::CheckedDocument;
use portal_auth::notify::MessageKind;
use portal_auth::{Error, LoginOutcome, Operator, OperatorPermissions, Store, Tier};
use time::Duration;

const NEW_PHONE: &str = "+79995554433";
const NEW_EMAIL: &str = "i.petrov@yandex.ru";
const BOTH: [CheckedDocument; 2] = [CheckedDocument::Passport, CheckedDocument::Snils];

fn operator() -> Operator {
    Operator {
        id: "op-17".into(),
        centre_id: "mfc-moscow-3".into(),
        own_account: None,
        permissions: OperatorPermissions::all(),
    }
}

#[tokio::test]
async fn changing_the_email_sends_the_code_to_the_new_address_and_tells_the_old_contacts() {
    let world = world();
    let account = world.register_with_both().await;
    let session = world.login(PHONE).await;
    world.sender.clear();

    let started = world
        .portal
        .start_contact_change(&session, NEW_EMAIL)
        .await
        .unwrap();
    assert_eq!(started.sent_to, "i***@yandex.ru");
    let code_mail = world.sender.last_to(&to_email(NEW_EMAIL)).unwrap();
    assert_eq!(code_mail.kind(), MessageKind::ContactCode);
    assert!(
        world.sender.messages_to(&to_email(EMAIL)).is_empty(),
        "the code goes to the new address only"
    );
    let code = world.last_code(&to_email(NEW_EMAIL));
    let renewed = world
        .portal
        .confirm_contact_change(&session, started.flow, &code)
        .await
        .unwrap();

    assert!(renewed.stamp > session.stamp);
    let stored = world.store.account(account).await.unwrap().unwrap();
    assert_eq!(stored.confirmed_email(), Some(&email(NEW_EMAIL)));
    for old in [to_email(EMAIL), to_phone(PHONE)] {
        let told = world.sender.messages_to(&old);
        assert!(
            told.iter().any(|m| m.kind() == MessageKind::ContactChanged),
            "{old:?} was told"
        );
    }
    let to_new = world.sender.messages_to(&to_email(NEW_EMAIL));
    assert!(
        to_new
            .iter()
            .all(|m| m.kind() != MessageKind::ContactChanged),
        "the new address got its code, not a notice"
    );
    let stale = world.portal.start_contact_change(&session, NEW_PHONE).await;
    assert!(matches!(stale, Err(Error::StaleSession)), "{stale:?}");
}

#[tokio::test]
async fn a_contact_another_account_confirmed_meanwhile_is_refused_and_nothing_is_written() {
    let world = world();
    let first = world.register(None, Some(EMAIL)).await;
    let second = world.register(None, Some(NEW_EMAIL)).await;
    let first_session = world.login(EMAIL).await;
    let second_session = world.login(NEW_EMAIL).await;

    // Both ask for the same new phone while no account has it confirmed.
    let first_change = world
        .portal
        .start_contact_change(&first_session, NEW_PHONE)
        .await
        .unwrap();
    let first_code = world.last_code(&to_phone(NEW_PHONE));
    let second_change = world
        .portal
        .start_contact_change(&second_session, NEW_PHONE)
        .await
        .unwrap();
    let second_code = world.last_code(&to_phone(NEW_PHONE));
    world
        .portal
        .confirm_contact_change(&second_session, second_change.flow, &second_code)
        .await
        .unwrap();
    let stored = world.store.account(first).await.unwrap().unwrap();
    let flow_version = world
        .store
        .flow(first_change.flow)
        .await
        .unwrap()
        .map(|f| f.version());
    let before = world.stats();

    let late = world
        .portal
        .confirm_contact_change(&first_session, first_change.flow, &first_code)
        .await;

    assert!(matches!(late, Err(Error::Taken)), "{late:?}");
    assert_eq!(world.stats(), before);
    let after = world.store.account(first).await.unwrap().unwrap();
    assert_eq!(after.version(), stored.version());
    assert!(after.phone().is_none());
    let flow_after = world
        .store
        .flow(first_change.flow)
        .await
        .unwrap()
        .map(|f| f.version());
    assert_eq!(flow_after, flow_version);
    let owner = world
        .store
        .account_by_key(&portal_auth::LookupKey::Phone(phone(NEW_PHONE)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.id(), second);
}

#[tokio::test]
async fn a_temporary_password_ends_every_session_and_works_until_just_before_twenty_four_hours() {
    let world = world();
    let account = world.register_with_both().await;
    world.promote(account, Tier::Standard).await;
    let session = world.login(PHONE).await;
    let clerk = operator();
    let case = world
        .portal
        .operator_open_case(&clerk, PASSPORT, &BOTH)
        .await
        .unwrap();
    world.sender.clear();

    let issued = world
        .portal
        .operator_issue_temporary_password(&clerk, &case)
        .await
        .unwrap();

    let stale = world.portal.send_settings_code(&session).await;
    assert!(matches!(stale, Err(Error::StaleSession)), "{stale:?}");
    for old in [to_phone(PHONE), to_email(EMAIL)] {
        let told = world.sender.messages_to(&old);
        assert!(
            told.iter()
                .any(|m| m.kind() == MessageKind::AccessRestoredByOperator),
            "{old:?} was told"
        );
    }
    world.clock.advance(Duration::hours(24) - Duration::SECOND);
    let outcome = world
        .portal
        .login(&login_request(EMAIL, issued.password.expose_secret()))
        .await
        .unwrap();
    let LoginOutcome::Authenticated(temporary) = outcome else {
        panic!("a session: {outcome:?}")
    };
    assert!(temporary.must_change_password);
    let events = world.portal.audit_events(account).await.unwrap();
    let issued_event = events
        .iter()
        .find(|e| e.kind == portal_auth::AuditKind::OperatorTemporaryPassword)
        .unwrap();
    let by = issued_event.operator.as_ref().unwrap();
    assert_eq!(
        (by.operator_id.as_str(), by.centre_id.as_str()),
        ("op-17", "mfc-moscow-3")
    );
}

#[tokio::test]
async fn an_operator_case_for_an_unknown_identifier_is_refused_and_writes_nothing() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let before = world.stats();

    let unknown = world
        .portal
        .operator_open_case(&operator(), "123-456-789 64", &BOTH)
        .await;
    let unreadable = world
        .portal
        .operator_open_case(&operator(), "not a document", &BOTH)
        .await;

    assert!(matches!(unknown, Err(Error::NotPossible(_))), "{unknown:?}");
    assert!(
        matches!(unreadable, Err(Error::InvalidField { .. })),
        "{unreadable:?}"
    );
    assert_eq!(world.stats(), before);
}
