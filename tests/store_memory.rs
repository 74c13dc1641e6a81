//! The conformance suite on the in-memory store, and the promise the stores' figures
//! rest on: every Portal step is one commit.
#![cfg(feature = "testkit")]

use portal_auth::notify::{Recipient, RecordingSender};
use portal_auth::otp::CodeKey;
use portal_auth::password::HasherConfig;
use portal_auth::store::{MemoryStore, testkit};
use portal_auth::{
    AlwaysPass, LoginOutcome, LoginRequest, ManualClock, Password, Portal, PortalConfig,
    RegistrationRequest,
};
use time::macros::datetime;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_passes_the_conformance_suite() {
    testkit::run_all(|| async { MemoryStore::new() }).await;
}

#[tokio::test]
async fn every_portal_step_is_one_commit() {
    let mut config = PortalConfig::new(CodeKey::from_bytes([3; 32]));
    config.hasher = HasherConfig::danger_fast_insecure();
    let (store, sms) = (
        std::sync::Arc::new(MemoryStore::new()),
        RecordingSender::new(),
    );
    let clock = ManualClock::new(datetime!(2026-06-01 09:00 UTC));
    let portal = Portal::new(config, store.clone(), sms.clone(), AlwaysPass, clock).unwrap();
    let commits = || store.stats().commits;
    let phone = Recipient::Phone("+79123456789".parse().unwrap());
    let login = |secret: &str| LoginRequest {
        login: "+79123456789".into(),
        password: Password::new(secret),
        client: Some("203.0.113.7".into()),
        captcha: None,
    };

    let form = RegistrationRequest {
        surname: "Petrova".into(),
        given_name: "Anna".into(),
        phone: Some("+79123456789".into()),
        ..RegistrationRequest::default()
    };
    let started = portal.start_registration(&form).await.unwrap();
    assert_eq!(commits(), 1, "sending a code is one commit");
    let code = sms.last_to(&phone).unwrap().code().cloned().unwrap();
    portal
        .confirm_registration(started.flow, &code)
        .await
        .unwrap();
    assert_eq!(commits(), 2, "verifying it is one commit");
    let password = Password::new("Zvezda-Severa-2026!");
    portal
        .complete_registration(started.flow, &password, &password)
        .await
        .unwrap();
    assert_eq!(commits(), 3, "creating the account is one commit");

    assert!(portal.login(&login("Wrong-Password-1!")).await.is_err());
    assert_eq!(commits(), 4, "a failed login is one commit");
    let outcome = portal.login(&login("Zvezda-Severa-2026!")).await.unwrap();
    assert!(matches!(outcome, LoginOutcome::Authenticated(_)));
    assert_eq!(commits(), 5, "a login is one commit");

    let wrong = portal.confirm_registration(started.flow, &code).await;
    assert!(wrong.is_err(), "a finished registration takes no code");
    assert_eq!(commits(), 5, "a refused step commits nothing");
}
