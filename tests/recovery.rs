//! Access recovery: every path, tier-aware, indistinguishable for unknown identifiers.

mod common;

use common::*;
use portal_auth::audit::RecoveryRoute;
use portal_auth::notify::{Channel, MessageKind};
use portal_auth::{
    Answer, AuditKind, Error, FlowId, LinkToken, LoginOutcome, OneTimeCode, Recovered,
    RecoveryStep, Store, Tier,
};
use time::Duration;

const NEW_PASSWORD: &str = "Novyj-Parol-2027!";

async fn finish(world: &World, flow: FlowId) -> Recovered {
    world
        .portal
        .complete_recovery(flow, &password(NEW_PASSWORD), &password(NEW_PASSWORD))
        .await
        .unwrap()
}

#[tokio::test]
async fn recovery_by_phone_code_sets_the_new_password_and_ends_every_session() {
    let world = world();
    let account = world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;

    let step = world
        .portal
        .start_recovery(&by_contact("8 912 345-67-89"))
        .await
        .unwrap();
    assert_eq!(
        step,
        RecoveryStep::ProofSent {
            flow: flow_of(&step),
            channel: Channel::Sms,
            sent_to: "+7 *** ***-**-89".into()
        }
    );
    let code = world.last_code(&to_phone(PHONE));
    let next = world
        .portal
        .submit_recovery_code(flow_of(&step), &code)
        .await
        .unwrap();
    assert!(matches!(next, RecoveryStep::NewPassword { .. }), "{next:?}");
    let done = finish(&world, flow_of(&next)).await;
    assert!(!done.second_factor_kept);

    assert!(matches!(
        world.portal.login(&login_request(PHONE, PASSWORD)).await,
        Err(Error::InvalidCredentials)
    ));
    world
        .portal
        .login(&login_request(PHONE, NEW_PASSWORD))
        .await
        .unwrap();
    let stale = world.portal.send_settings_code(&session).await;
    assert!(
        matches!(stale, Err(Error::StaleSession)),
        "the old session ended: {stale:?}"
    );
    let told = world.sender.messages_to(&to_phone(PHONE));
    assert!(
        told.iter()
            .any(|m| m.kind() == MessageKind::PasswordChanged)
    );
    let events = world.portal.audit_events(account).await.unwrap();
    assert!(events.iter().any(|e| e.kind
        == AuditKind::RecoveryCompleted {
            route: RecoveryRoute::Contact
        }));
    assert_eq!(world.stats().flows, 0);
}

#[tokio::test]
async fn recovery_by_email_link_works_once() {
    let world = world();
    world.register(None, Some(EMAIL)).await;
    let step = world
        .portal
        .start_recovery(&by_contact(EMAIL))
        .await
        .unwrap();
    let flow = flow_of(&step);
    assert!(
        matches!(
            step,
            RecoveryStep::ProofSent {
                channel: Channel::Email,
                ..
            }
        ),
        "{step:?}"
    );

    let mail = world.sender.last_to(&to_email(EMAIL)).unwrap();
    assert_eq!(mail.kind(), MessageKind::RecoveryLink);
    let token = LinkToken::new(mail.code().unwrap().expose_secret());
    assert!(
        mail.expose_text()
            .contains(&format!("?flow={flow}&token={}", token.expose_secret()))
    );
    assert!(
        mail.expose_text().contains("Ссылка действует 1 час "),
        "the link's configured hour"
    );

    world.portal.open_recovery_link(flow, &token).await.unwrap();
    let replay = world.portal.open_recovery_link(flow, &token).await;
    assert!(matches!(replay, Err(Error::WrongStep)), "{replay:?}");
    finish(&world, flow).await;
    let after = world.portal.open_recovery_link(flow, &token).await;
    assert!(matches!(after, Err(Error::FlowNotFound)), "{after:?}");
    world
        .portal
        .login(&login_request(EMAIL, NEW_PASSWORD))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_standard_account_is_refused_recovery_by_contact_alone() {
    let world = world();
    let account = world.register(Some(PHONE), None).await;
    world.promote(account, Tier::Standard).await;

    let step = world
        .portal
        .start_recovery(&by_contact(PHONE))
        .await
        .unwrap();
    let code = world.last_code(&to_phone(PHONE));
    let next = world
        .portal
        .submit_recovery_code(flow_of(&step), &code)
        .await
        .unwrap();
    assert!(
        matches!(next, RecoveryStep::DocumentRequired { .. }),
        "{next:?}"
    );
    let flow = flow_of(&next);
    let skipped = world
        .portal
        .complete_recovery(flow, &password(NEW_PASSWORD), &password(NEW_PASSWORD))
        .await;
    assert!(matches!(skipped, Err(Error::WrongStep)), "{skipped:?}");

    let mismatch = world
        .portal
        .submit_recovery_document(flow, "4506 654321")
        .await;
    assert!(
        matches!(mismatch, Err(Error::WrongDocument { tries_left: 2 })),
        "{mismatch:?}"
    );
    let next = world
        .portal
        .submit_recovery_document(flow, "11223344595")
        .await
        .unwrap();
    assert!(matches!(next, RecoveryStep::NewPassword { .. }), "{next:?}");
    finish(&world, flow).await;
}

#[tokio::test]
async fn three_wrong_documents_end_the_recovery() {
    let world = world();
    let account = world.register(Some(PHONE), None).await;
    world.promote(account, Tier::Confirmed).await;
    let step = world
        .portal
        .start_recovery(&by_contact(PHONE))
        .await
        .unwrap();
    let code = world.last_code(&to_phone(PHONE));
    let flow = flow_of(
        &world
            .portal
            .submit_recovery_code(flow_of(&step), &code)
            .await
            .unwrap(),
    );
    for left in [2, 1, 0] {
        let refused = world
            .portal
            .submit_recovery_document(flow, "4506 654321")
            .await;
        assert!(
            matches!(refused, Err(Error::WrongDocument { tries_left }) if tries_left == left),
            "{refused:?}"
        );
    }
    let over = world.portal.submit_recovery_document(flow, SNILS).await;
    assert!(matches!(over, Err(Error::FlowOver)), "{over:?}");
}

#[tokio::test]
async fn recovery_by_snils_inn_or_passport_offers_masked_channels_and_counts_as_the_document() {
    for document in [SNILS, INN, PASSPORT, "45 06 123456"] {
        let world = world();
        let account = world.register_with_both().await;
        world.promote(account, Tier::Standard).await;

        let step = world
            .portal
            .start_recovery(&by_document(document))
            .await
            .unwrap();
        let RecoveryStep::ChooseChannel { flow, channels } = step else {
            panic!("{document}: {step:?}")
        };
        let shown: Vec<_> = channels
            .iter()
            .map(|c| (c.channel, c.masked.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                (Channel::Sms, "+7 *** ***-**-89"),
                (Channel::Email, "i***@mail.ru")
            ],
            "{document}"
        );

        let sent = world.portal.choose_recovery_channel(flow, 0).await.unwrap();
        assert!(
            matches!(
                sent,
                RecoveryStep::ProofSent {
                    channel: Channel::Sms,
                    ..
                }
            ),
            "{sent:?}"
        );
        let code = world.last_code(&to_phone(PHONE));
        let next = world
            .portal
            .submit_recovery_code(flow, &code)
            .await
            .unwrap();
        assert!(
            matches!(next, RecoveryStep::NewPassword { .. }),
            "{document}: {next:?}"
        );
        finish(&world, flow).await;
        let events = world.portal.audit_events(account).await.unwrap();
        assert!(events.iter().any(|e| e.kind
            == AuditKind::RecoveryCompleted {
                route: RecoveryRoute::Document
            }));
    }
}

#[tokio::test]
async fn recovery_by_document_can_choose_the_email_link() {
    let world = world();
    let account = world.register_with_both().await;
    world.promote(account, Tier::Standard).await;
    let flow = flow_of(
        &world
            .portal
            .start_recovery(&by_document(SNILS))
            .await
            .unwrap(),
    );
    world.portal.choose_recovery_channel(flow, 1).await.unwrap();
    let token = world.last_code(&to_email(EMAIL));
    world
        .portal
        .open_recovery_link(flow, &LinkToken::new(token.expose_secret()))
        .await
        .unwrap();
    finish(&world, flow).await;
}

#[tokio::test]
async fn the_security_question_is_an_extra_step_with_its_own_tries() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    world
        .portal
        .set_security_question(
            &session,
            &password(PASSWORD),
            "Кличка первого кота?",
            &Answer::new("Барсик"),
        )
        .await
        .unwrap();

    let step = world
        .portal
        .start_recovery(&by_contact(PHONE))
        .await
        .unwrap();
    assert!(
        matches!(step, RecoveryStep::ProofSent { .. }),
        "the question never replaces the code: {step:?}"
    );
    let code = world.last_code(&to_phone(PHONE));
    let next = world
        .portal
        .submit_recovery_code(flow_of(&step), &code)
        .await
        .unwrap();
    let RecoveryStep::SecurityQuestion { flow, question } = next else {
        panic!("{next:?}")
    };
    assert_eq!(question, "Кличка первого кота?");

    let wrong_answer = world
        .portal
        .answer_security_question(flow, &Answer::new("Мурзик"))
        .await;
    assert!(
        matches!(wrong_answer, Err(Error::WrongAnswer { tries_left: 2 })),
        "{wrong_answer:?}"
    );
    let next = world
        .portal
        .answer_security_question(flow, &Answer::new(" БАРСИК "))
        .await
        .unwrap();
    assert!(matches!(next, RecoveryStep::NewPassword { .. }), "{next:?}");
    finish(&world, flow).await;
}

#[tokio::test]
async fn three_wrong_answers_end_the_recovery() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    world
        .portal
        .set_security_question(
            &session,
            &password(PASSWORD),
            "Кличка первого кота?",
            &Answer::new("Барсик"),
        )
        .await
        .unwrap();
    let step = world
        .portal
        .start_recovery(&by_contact(PHONE))
        .await
        .unwrap();
    let code = world.last_code(&to_phone(PHONE));
    let flow = flow_of(
        &world
            .portal
            .submit_recovery_code(flow_of(&step), &code)
            .await
            .unwrap(),
    );
    for _ in 0..3 {
        world
            .portal
            .answer_security_question(flow, &Answer::new("Мурзик"))
            .await
            .unwrap_err();
    }
    let over = world
        .portal
        .answer_security_question(flow, &Answer::new("Барсик"))
        .await;
    assert!(matches!(over, Err(Error::FlowOver)), "{over:?}");
}

#[tokio::test]
async fn recovery_code_expires_after_exactly_five_minutes() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let (first, first_code) = world.recover_by_phone().await;
    world.clock.advance(Duration::seconds(299));
    world
        .portal
        .submit_recovery_code(first, &first_code)
        .await
        .unwrap();

    let (second, second_code) = world.recover_by_phone().await;
    world.clock.advance(Duration::seconds(300));
    let late = world
        .portal
        .submit_recovery_code(second, &second_code)
        .await;
    assert!(matches!(late, Err(Error::CodeExpired)), "{late:?}");
}

#[tokio::test]
async fn three_wrong_codes_end_the_recovery_and_resend_keeps_the_count() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let (flow, code) = world.recover_by_phone().await;

    world
        .portal
        .submit_recovery_code(flow, &wrong_code(&code))
        .await
        .unwrap_err();
    let early = world.portal.resend_recovery_proof(flow).await;
    assert!(
        matches!(early, Err(Error::ResendTooSoon { .. })),
        "{early:?}"
    );
    world.clock.advance(Duration::seconds(60));
    world.portal.resend_recovery_proof(flow).await.unwrap();
    let fresh = world.last_code(&to_phone(PHONE));

    let second = world
        .portal
        .submit_recovery_code(flow, &wrong_code(&fresh))
        .await;
    assert!(
        matches!(second, Err(Error::WrongCode { tries_left: 1 })),
        "a new code keeps the count: {second:?}"
    );
    world
        .portal
        .submit_recovery_code(flow, &wrong_code(&fresh))
        .await
        .unwrap_err();
    let over = world.portal.submit_recovery_code(flow, &fresh).await;
    assert!(matches!(over, Err(Error::FlowOver)), "{over:?}");
}

#[tokio::test]
async fn an_unknown_contact_gets_the_same_replies_and_nobody_gets_a_message() {
    let world = world();
    world.register(Some(PHONE), None).await;
    world.sender.clear();

    let known = world
        .portal
        .start_recovery(&by_contact(PHONE))
        .await
        .unwrap();
    let after_known = world.sender.messages().len();
    let unknown = world
        .portal
        .start_recovery(&by_contact("+79990001189"))
        .await
        .unwrap();
    assert_eq!(
        world.sender.messages().len(),
        after_known,
        "nothing is sent for an unknown contact"
    );
    match (&known, &unknown) {
        (
            RecoveryStep::ProofSent {
                channel: a,
                sent_to: x,
                ..
            },
            RecoveryStep::ProofSent {
                channel: b,
                sent_to: y,
                ..
            },
        ) => {
            assert_eq!(a, b);
            assert_eq!(x, y, "both masks end in 89");
        }
        other => panic!("{other:?}"),
    }

    let code = OneTimeCode::new("123456");
    for (flow, _) in [(flow_of(&known), "known"), (flow_of(&unknown), "unknown")] {
        let replies: Vec<String> = futures_replies(&world, flow, &code).await;
        assert_eq!(
            replies,
            [
                "wrong code; 2 tries left",
                "wrong code; 1 tries left",
                "wrong code; 0 tries left",
                "the flow is over"
            ]
        );
    }
}

async fn futures_replies(world: &World, flow: FlowId, code: &OneTimeCode) -> Vec<String> {
    let mut replies = Vec::new();
    for _ in 0..4 {
        match world.portal.submit_recovery_code(flow, code).await {
            Ok(step) => replies.push(format!("{step:?}")),
            Err(error) => replies.push(error.to_string()),
        }
    }
    replies
}

#[tokio::test]
async fn an_unknown_document_offers_stable_decoy_channels_and_sends_nothing() {
    let world = world();
    world.sender.clear();
    let unknown_snils = "123-456-789 64";
    let first = world
        .portal
        .start_recovery(&by_document(unknown_snils))
        .await
        .unwrap();
    let second = world
        .portal
        .start_recovery(&by_document(unknown_snils))
        .await
        .unwrap();
    let (
        RecoveryStep::ChooseChannel { flow, channels: a },
        RecoveryStep::ChooseChannel { channels: b, .. },
    ) = (&first, &second)
    else {
        panic!("{first:?} {second:?}")
    };
    assert_eq!(a, b, "the same decoys every time");
    assert_eq!(a[0].channel, Channel::Sms);
    assert!(a[0].masked.starts_with("+7 *** ***-**-"));

    let sent = world
        .portal
        .choose_recovery_channel(*flow, 0)
        .await
        .unwrap();
    assert!(
        matches!(
            sent,
            RecoveryStep::ProofSent {
                channel: Channel::Sms,
                ..
            }
        ),
        "{sent:?}"
    );
    assert!(world.sender.messages().is_empty());
    assert_eq!(
        world.sender.decoys().len(),
        1,
        "the sender still takes one call, for nobody"
    );
    let guess = world
        .portal
        .submit_recovery_code(*flow, &OneTimeCode::new("123456"))
        .await;
    assert!(
        matches!(guess, Err(Error::WrongCode { tries_left: 2 })),
        "{guess:?}"
    );
}

#[tokio::test]
async fn an_account_without_a_confirmed_contact_is_sent_to_a_service_centre() {
    use portal_auth::store::{AccountWrite, Changeset};
    let world = world();
    let account = world.register(Some(PHONE), None).await;
    world.promote(account, Tier::Standard).await;
    let stored = world.store.account(account).await.unwrap().unwrap();
    let mut json = serde_json::to_value(&stored).unwrap();
    json["phone"]["confirmed"] = serde_json::Value::Bool(false);
    let mut changes = Changeset::default();
    changes
        .accounts
        .push(AccountWrite::Update(serde_json::from_value(json).unwrap()));
    world.store.apply(changes).await.unwrap();

    let step = world
        .portal
        .start_recovery(&by_document(SNILS))
        .await
        .unwrap();
    assert_eq!(step, RecoveryStep::VisitServiceCentre);
}

#[tokio::test]
async fn two_factor_login_stays_on_after_recovery_and_a_backup_code_passes_it() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    let issued = world
        .portal
        .enable_sms_two_factor(&session, &password(PASSWORD), None)
        .await
        .unwrap();

    let (flow, code) = world.recover_by_phone().await;
    world
        .portal
        .submit_recovery_code(flow, &code)
        .await
        .unwrap();
    assert!(finish(&world, flow).await.second_factor_kept);

    let LoginOutcome::SecondFactorRequired(challenge) = world
        .portal
        .login(&login_request(PHONE, NEW_PASSWORD))
        .await
        .unwrap()
    else {
        panic!("the second factor is still asked")
    };
    world
        .portal
        .login_second_factor(challenge.flow, &issued.codes[0])
        .await
        .unwrap();
}

#[tokio::test]
async fn a_confirmed_account_recovered_by_document_may_reset_two_factor_when_configured() {
    let mut config = config();
    config.recovery.reset_two_factor_for_confirmed_by_document = true;
    let world = world_with(config);
    let account = world.register(Some(PHONE), None).await;
    let session = world.login(PHONE).await;
    world
        .portal
        .enable_sms_two_factor(&session, &password(PASSWORD), None)
        .await
        .unwrap();
    world.promote(account, Tier::Confirmed).await;

    let flow = flow_of(
        &world
            .portal
            .start_recovery(&by_document(PASSPORT))
            .await
            .unwrap(),
    );
    world.portal.choose_recovery_channel(flow, 0).await.unwrap();
    let code = world.last_code(&to_phone(PHONE));
    world
        .portal
        .submit_recovery_code(flow, &code)
        .await
        .unwrap();
    assert!(!finish(&world, flow).await.second_factor_kept);
    let told = world.sender.messages_to(&to_phone(PHONE));
    assert!(
        told.iter()
            .any(|m| m.kind() == MessageKind::SecondFactorDisabled)
    );
    let outcome = world
        .portal
        .login(&login_request(PHONE, NEW_PASSWORD))
        .await
        .unwrap();
    assert!(
        matches!(outcome, LoginOutcome::Authenticated(_)),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_lockout_holds_past_the_failure_window_until_recovery_lifts_it() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let mut attempt = login_request(PHONE, "Wrong-Passw0rd!");
    attempt.captcha = Some("token".into());
    for _ in 0..100 {
        world.clock.advance(Duration::minutes(16));
        world.portal.login(&attempt).await.unwrap_err();
    }
    // Regression: the lock was the failure count alone, and let go when the count's
    // 30-day window ended.
    world.clock.advance(Duration::days(31));
    let mut owner = login_request(PHONE, PASSWORD);
    owner.captcha = Some("token".into());
    let locked = world.portal.login(&owner).await;
    assert!(matches!(locked, Err(Error::Locked)), "{locked:?}");
    let (flow, code) = world.recover_by_phone().await;
    world
        .portal
        .submit_recovery_code(flow, &code)
        .await
        .unwrap();
    finish(&world, flow).await;
    let mut right = login_request(PHONE, NEW_PASSWORD);
    right.captcha = Some("token".into());
    world
        .portal
        .login(&right)
        .await
        .expect("the account lock is gone; the client still owes a captcha");
}

#[tokio::test]
async fn a_cancelled_recovery_refuses_every_step_and_changes_nothing() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let (flow, code) = world.recover_by_phone().await;
    world.portal.cancel_recovery(flow).await.unwrap();
    let before = world.stats();
    assert!(matches!(
        world.portal.submit_recovery_code(flow, &code).await,
        Err(Error::FlowOver)
    ));
    assert!(matches!(
        world.portal.resend_recovery_proof(flow).await,
        Err(Error::FlowOver)
    ));
    assert!(matches!(
        world.portal.cancel_recovery(flow).await,
        Err(Error::FlowOver)
    ));
    assert_eq!(world.stats(), before);
}

#[tokio::test]
async fn recovery_needs_a_captcha_and_a_readable_identifier() {
    let world = world();
    let before = world.stats();
    let mut request = by_contact(PHONE);
    request.captcha = String::new();
    let strict = portal_auth::Portal::new(
        config(),
        std::sync::Arc::clone(&world.store),
        world.sender.clone(),
        portal_auth::AlwaysFail,
        world.clock.clone(),
    )
    .unwrap();
    assert!(matches!(
        strict.start_recovery(&request).await,
        Err(Error::HumanCheckRequired)
    ));
    let unreadable = world
        .portal
        .start_recovery(&by_contact("not a phone"))
        .await;
    assert!(
        matches!(unreadable, Err(Error::InvalidField { .. })),
        "{unreadable:?}"
    );
    let bad_document = world.portal.start_recovery(&by_document("123")).await;
    assert!(
        matches!(bad_document, Err(Error::InvalidField { .. })),
        "{bad_document:?}"
    );
    assert_eq!(world.stats(), before);
}

/// Regression: an expired or malformed recovery code used to rewrite the flow
/// unchanged, so a refusal committed a new version of it.
#[tokio::test]
async fn an_expired_or_malformed_recovery_code_writes_nothing() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let (flow, code) = world.recover_by_phone().await;
    let version = || async { world.store.flow(flow).await.unwrap().unwrap().version() };
    let (before, at) = (world.stats(), version().await);

    let malformed = world
        .portal
        .submit_recovery_code(flow, &OneTimeCode::new("12ab"))
        .await;
    assert!(
        matches!(malformed, Err(Error::MalformedCode)),
        "{malformed:?}"
    );
    world.clock.advance(Duration::minutes(5));
    let expired = world.portal.submit_recovery_code(flow, &code).await;
    assert!(matches!(expired, Err(Error::CodeExpired)), "{expired:?}");
    assert_eq!(world.stats(), before);
    assert_eq!(version().await, at);
}

/// Each code a known contact is sent, an unknown one costs the sender a `discard` for
/// nobody, and a failing gateway fails both alike.
#[tokio::test]
async fn an_unknown_contact_calls_the_sender_as_often_as_a_known_one() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let mut counts = Vec::new();
    for contact in [PHONE, "+79990001189"] {
        world.sender.clear();
        let flow = flow_of(
            &world
                .portal
                .start_recovery(&by_contact(contact))
                .await
                .unwrap(),
        );
        world.clock.advance(Duration::seconds(60));
        world.portal.resend_recovery_proof(flow).await.unwrap();
        let sender = &world.sender;
        counts.push((sender.messages().len(), sender.decoys().len()));
    }
    assert_eq!(counts, [(2, 0), (0, 2)]);
    assert!(
        world
            .sender
            .decoys()
            .iter()
            .all(|d| (d.kind(), d.channel()) == (MessageKind::RecoveryCode, Channel::Sms))
    );

    world.sender.set_failing(true);
    for contact in [PHONE, "+79990001189"] {
        let failed = world.portal.start_recovery(&by_contact(contact)).await;
        assert!(matches!(failed, Err(Error::Delivery { .. })), "{failed:?}");
    }
}

/// Regression: the document step looked for the account before the flow's state, so
/// a cancelled recovery of an unknown contact answered "wrong step" where a known
/// one answered "the flow is over".
#[tokio::test]
async fn a_document_given_to_an_ended_recovery_answers_alike_for_an_unknown_contact() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let mut replies = Vec::new();
    for contact in [PHONE, "+79990001189"] {
        let flow = flow_of(
            &world
                .portal
                .start_recovery(&by_contact(contact))
                .await
                .unwrap(),
        );
        let early = world.portal.submit_recovery_document(flow, SNILS).await;
        world.portal.cancel_recovery(flow).await.unwrap();
        let late = world.portal.submit_recovery_document(flow, SNILS).await;
        replies.push(format!("{early:?} / {late:?}"));
    }
    assert_eq!(replies[0], replies[1]);
    assert_eq!(replies[0], "Err(WrongStep) / Err(FlowOver)");
}

/// Regression: a recovery proved before a credential change still set the password
/// after it, so a code read on a phone the account had since replaced (a recycled
/// number) outlived the change.
#[tokio::test]
async fn a_credential_change_during_a_recovery_ends_it_without_writing() {
    let world = world();
    world.register(Some(PHONE), None).await;
    let (flow, code) = world.recover_by_phone().await;
    world
        .portal
        .submit_recovery_code(flow, &code)
        .await
        .unwrap();

    let session = world.login(PHONE).await;
    let owners = password("Svoj-Parol-2027!");
    world
        .portal
        .change_password(&session, &password(PASSWORD), &owners, &owners)
        .await
        .unwrap();
    let before = world.stats();
    let late = world
        .portal
        .complete_recovery(flow, &password(NEW_PASSWORD), &password(NEW_PASSWORD))
        .await;
    assert!(matches!(late, Err(Error::FlowOver)), "{late:?}");
    assert_eq!(world.stats(), before);
    world
        .portal
        .login(&login_request(PHONE, "Svoj-Parol-2027!"))
        .await
        .unwrap();
}
