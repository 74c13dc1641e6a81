//! Registration and login in a few lines, over the in-memory store.
//!
//! Run with `cargo run --example register_and_login`. Messages are recorded, not sent;
//! the code is read back from the recorder, as a person reads it on their phone.

#![expect(clippy::print_stdout, reason = "an example talks to its reader")]

use portal_auth::notify::{Recipient, RecordingSender};
use portal_auth::otp::CodeKey;
use portal_auth::{
    AlwaysPass, LoginOutcome, LoginRequest, MemoryStore, Password, Portal, PortalConfig,
    Registered, RegistrationRequest, SystemClock,
};
use rand::rngs::SysRng;
use rand_core::UnwrapErr;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A host loads this key from its secret store; a fresh one suits a demo.
    let config = PortalConfig::new(CodeKey::generate(&mut UnwrapErr(SysRng)));
    let store = MemoryStore::new();
    let sms = RecordingSender::new();
    let portal = Portal::new(config, store, sms.clone(), AlwaysPass, SystemClock)?;

    // Register: name and phone, the code from the SMS, a password typed twice.
    let form = RegistrationRequest {
        surname: "Петров".into(),
        given_name: "Иван".into(),
        phone: Some("8 (912) 345-67-89".into()),
        ..RegistrationRequest::default()
    };
    let started = portal.start_registration(&form).await?;
    println!("code sent to {}", started.sent_to);

    let phone = Recipient::Phone("+79123456789".parse()?);
    let message = sms.last_to(&phone).ok_or("no SMS")?;
    let code = message.code().ok_or("the SMS carries no code")?;
    portal.confirm_registration(started.flow, code).await?;

    let password = Password::new("Zvezda-Severa-2026!");
    let Registered { account, .. } = portal
        .complete_registration(started.flow, &password, &password)
        .await?;
    println!("Registration completed successfully: account {account}");

    // Log in with the same number typed another way.
    let login = LoginRequest {
        login: "+7 912 345-67-89".into(),
        password,
        client: Some("127.0.0.1".into()),
        captcha: None,
    };
    let LoginOutcome::Authenticated(session) = portal.login(&login).await? else {
        return Err("two-factor login is off for a new account".into());
    };
    println!("logged in: tier {}, stamp {}", session.tier, session.stamp);
    Ok(())
}
