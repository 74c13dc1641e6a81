//! The portal demo: registration, login and two-factor login, step by step, with
//! every message printed as the person would receive it.
//!
//! Run with `cargo run --example portal`. It keeps its accounts in an embedded `SQLite`
//! file (the `sqlite` feature, on by default) in the temp directory, registers a person
//! by phone, logs in by three spellings of the number, shows the password policy
//! refusing a weak password with every reason, turns on two-factor login by SMS, logs
//! in with the code, and reopens the database to show that everything was kept.

#![expect(clippy::print_stdout, reason = "an example talks to its reader")]

use portal_auth::notify::{Recipient, RecordingSender};
use portal_auth::otp::CodeKey;
use portal_auth::password::PersonalData;
use portal_auth::store::SqliteStore;
use portal_auth::{
    AlwaysPass, Error, Lang, LoginId, LoginOutcome, LoginRequest, Password, Portal, PortalConfig,
    RegistrationRequest, Store, SystemClock,
};

#[tokio::main]
#[expect(
    clippy::too_many_lines,
    reason = "the demo reads top to bottom, as the person walks it"
)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = PortalConfig::new(CodeKey::generate(&mut rand_core::UnwrapErr(
        rand::rngs::SysRng,
    )));
    let path = std::env::temp_dir().join(format!("portal-demo-{}.db", std::process::id()));
    let store = SqliteStore::open(&path).await?;
    store.migrate().await?;
    println!("== Accounts live in {}", path.display());

    let phone_inbox = RecordingSender::new();
    let portal = Portal::new(
        config,
        store.clone(),
        phone_inbox.clone(),
        AlwaysPass,
        SystemClock,
    )?;
    let phone = Recipient::Phone("+79123456789".parse()?);
    let read_sms = || {
        let message = phone_inbox.last_to(&phone).ok_or("no SMS arrived")?;
        println!("  SMS: {}", message.expose_text());
        message.code().cloned().ok_or("the SMS carries no code")
    };

    println!("== What the login field understands");
    for typed in [
        "8 (912) 345-67-89",
        "Ivan.Petrov@Mail.RU",
        "112-233-445 95",
        "12345",
    ] {
        match typed.parse::<LoginId>() {
            Ok(id) => println!("  {typed:24} -> {:?} {id}", id.kind()),
            Err(error) => println!("  {typed:24} -> refused: {error}"),
        }
    }

    println!("\n== Registration");
    let form = RegistrationRequest {
        surname: "Петров".into(),
        given_name: "Иван".into(),
        phone: Some("8 (912) 345-67-89".into()),
        ..RegistrationRequest::default()
    };
    let started = portal.start_registration(&form).await?;
    println!("  a code went to {}", started.sent_to);
    portal
        .confirm_registration(started.flow, &read_sms()?)
        .await?;

    let weak = Password::new("ivan1990");
    match portal
        .complete_registration(started.flow, &weak, &weak)
        .await
    {
        Err(Error::Policy(violations)) => {
            println!("  the password 'ivan1990' is refused:");
            for message in violations.messages(Lang::Ru) {
                println!("    - {message}");
            }
        }
        other => println!("  unexpected: {other:?}"),
    }
    let password = Password::new("Zvezda-Severa-2026!");
    let person = PersonalData::new().surname("Петров").given_name("Иван");
    portal.config().password_policy.check(&password, &person)?;
    let registered = portal
        .complete_registration(started.flow, &password, &password)
        .await?;
    println!(
        "  Registration completed successfully: account {}",
        registered.account
    );

    println!("\n== Login");
    let mut session = None;
    for typed in ["+7 912 345-67-89", "89123456789", "9123456789"] {
        let request = LoginRequest {
            login: typed.into(),
            password: password.clone(),
            client: Some("127.0.0.1".into()),
            captcha: None,
        };
        if let LoginOutcome::Authenticated(done) = portal.login(&request).await? {
            println!("  {typed:18} -> logged in, tier {}", done.tier);
            session = Some(done);
        }
    }
    let session = session.ok_or("no login succeeded")?;
    let wrong = LoginRequest {
        login: "+79123456789".into(),
        password: Password::new("not-my-password"),
        client: Some("127.0.0.1".into()),
        captcha: None,
    };
    println!(
        "  a wrong password -> {}",
        portal.login(&wrong).await.unwrap_err()
    );

    println!("\n== Two-factor login by SMS");
    let backup = portal
        .enable_sms_two_factor(&session, &password, None)
        .await?;
    println!(
        "  turned on; {} backup codes to keep on paper",
        backup.codes.len()
    );
    let request = LoginRequest {
        login: "+79123456789".into(),
        password: password.clone(),
        client: Some("127.0.0.1".into()),
        captcha: None,
    };
    if let LoginOutcome::SecondFactorRequired(challenge) = portal.login(&request).await? {
        println!(
            "  password accepted; a code went to {:?}",
            challenge.sent_to
        );
        let done = portal
            .login_second_factor(challenge.flow, &read_sms()?)
            .await?;
        println!("  logged in with the second factor, stamp {}", done.stamp);
    }

    println!("\n== The audit trail");
    for event in portal.audit_events(registered.account).await? {
        println!("  {} {:?}", event.at, event.kind);
    }

    println!("\n== The database, closed and opened again");
    store.close().await;
    let reopened = SqliteStore::open(&path).await?;
    let kept = reopened.account(registered.account).await?.ok_or("lost")?;
    println!(
        "  account {} is still there, tier {}, {} audit events",
        kept.id(),
        kept.tier(),
        reopened.audit_events(kept.id()).await?.len()
    );
    reopened.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}
