//! Registration and login in a few lines, over the in-memory store.
//!
//! Run with `cargo run --example register_and_login`. Messages are printed instead of
//! sent; the code is read back from the recording sender, as a person would read it
//! from their phone.

#![expect(clippy::print_stdout, reason = "an example talks to its reader")]

use portal_auth::notify::{Recipient, RecordingSender};
use portal_auth::otp::CodeKey;
use portal_auth::{
    AlwaysPass, LoginOutcome, LoginRequest, MemoryStore, Password, Portal, PortalConfig,
    RegistrationRequest, SystemClock,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = PortalConfig::new(CodeKey::generate(&mut rand_core::UnwrapErr(
        rand::rngs::SysRng,
    )));
    let sms = RecordingSender::new();
    let portal = Portal::new(
        config,
        MemoryStore::new(),
        sms.clone(),
        AlwaysPass,
        SystemClock,
    )?;

    let form = RegistrationRequest {
        surname: "Петров".into(),
        given_name: "Иван".into(),
        phone: Some("8 (912) 345-67-89".into()),
        ..RegistrationRequest::default()
    };
    let started = portal.start_registration(&form).await?;
    println!("code sent to {}", started.sent_to);

    let phone = Recipient::Phone("+79123456789".parse()?);
    let code = sms
        .last_to(&phone)
        .and_then(|m| m.code().cloned())
        .ok_or("no SMS")?;
    portal.confirm_registration(started.flow, &code).await?;

    let password = Password::new("Zvezda-Severa-2026!");
    let registered = portal
        .complete_registration(started.flow, &password, &password)
        .await?;
    println!(
        "Registration completed successfully: account {}",
        registered.account
    );

    let login = LoginRequest {
        login: "+7 912 345-67-89".into(),
        password,
        client: Some("127.0.0.1".into()),
        captcha: None,
    };
    match portal.login(&login).await? {
        LoginOutcome::Authenticated(session) => {
            println!("logged in: tier {}, stamp {}", session.tier, session.stamp);
        }
        other => println!("another step is needed: {other:?}"),
    }
    Ok(())
}
