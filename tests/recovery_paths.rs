//! Recovery paths by tier and by start, and the terminal flows: what each tier must
//! prove, in which order the extra steps come, and that an expired or exhausted flow
//! refuses every step without writing.

mod common;

use common::*;
use portal_auth::notify::{Channel, MessageKind};
use portal_auth::store::MemoryStats;
use portal_auth::{
    AccountId, Answer, Error, FlowId, LinkToken, RecoveryRequest, RecoveryStep, Store, Tier,
};
use time::Duration;

const NEW_PASSWORD: &str = "Novyj-Parol-2027!";
const QUESTION: &str = "Кличка первого кота?";

/// What a refused step could have written: record counts and the flow's version (an
/// update leaves the counts alone).
async fn snapshot(world: &World, flow: FlowId) -> (MemoryStats, Option<u64>) {
    let version = world.store.flow(flow).await.unwrap().map(|f| f.version());
    (world.stats(), version)
}

/// An account with a phone and an e-mail, at `tier` (with documents on file from
/// standard up).
async fn account_at(world: &World, tier: Tier) -> AccountId {
    let account = world.register_with_both().await;
    if tier > Tier::Simplified {
        world.promote(account, tier).await;
    }
    account
}

async fn set_question(world: &World) {
    let session = world.login(PHONE).await;
    world
        .portal
        .set_security_question(
            &session,
            &password(PASSWORD),
            QUESTION,
            &Answer::new("Барсик"),
        )
        .await
        .unwrap();
}

/// Starts by `request` and passes the SMS code; the reply is the step after the code.
async fn past_the_code(world: &World, request: &RecoveryRequest) -> RecoveryStep {
    let mut step = world.portal.start_recovery(request).await.unwrap();
    if let RecoveryStep::ChooseChannel { flow, .. } = step {
        step = world.portal.choose_recovery_channel(flow, 0).await.unwrap();
    }
    let code = world.last_code(&to_phone(PHONE));
    world
        .portal
        .submit_recovery_code(flow_of(&step), &code)
        .await
        .unwrap()
}

async fn finish(world: &World, flow: FlowId) {
    world
        .portal
        .complete_recovery(flow, &password(NEW_PASSWORD), &password(NEW_PASSWORD))
        .await
        .unwrap();
}

#[tokio::test]
async fn each_tier_gets_the_steps_the_eligibility_matrix_demands() {
    for tier in [Tier::Simplified, Tier::Standard, Tier::Confirmed] {
        let world = world();
        account_at(&world, tier).await;

        let after_contact = past_the_code(&world, &by_contact(PHONE)).await;
        let expected_document = tier >= Tier::Standard;
        assert_eq!(
            matches!(after_contact, RecoveryStep::DocumentRequired { .. }),
            expected_document,
            "{tier:?} by contact: {after_contact:?}"
        );
        if tier == Tier::Simplified {
            assert!(
                matches!(after_contact, RecoveryStep::NewPassword { .. }),
                "a confirmed contact alone is enough: {after_contact:?}"
            );
            continue;
        }
        let skipped = world
            .portal
            .complete_recovery(
                flow_of(&after_contact),
                &password(NEW_PASSWORD),
                &password(NEW_PASSWORD),
            )
            .await;
        assert!(matches!(skipped, Err(Error::WrongStep)), "{skipped:?}");

        // Started by a document on file, the document is already given.
        let after_document = past_the_code(&world, &by_document(PASSPORT)).await;
        assert!(
            matches!(after_document, RecoveryStep::NewPassword { .. }),
            "{tier:?} by document: {after_document:?}"
        );
        finish(&world, flow_of(&after_document)).await;
    }
}

#[tokio::test]
async fn the_eligibility_matrix_is_read_from_the_recovery_policy() {
    let mut config = config();
    config.recovery.document_required_from = Tier::Confirmed;

    let world = world_with(config.clone());
    account_at(&world, Tier::Standard).await;
    let standard = past_the_code(&world, &by_contact(PHONE)).await;
    assert!(
        matches!(standard, RecoveryStep::NewPassword { .. }),
        "standard needs no document under this policy: {standard:?}"
    );

    let world = world_with(config);
    account_at(&world, Tier::Confirmed).await;
    let confirmed = past_the_code(&world, &by_contact(PHONE)).await;
    assert!(
        matches!(confirmed, RecoveryStep::DocumentRequired { .. }),
        "{confirmed:?}"
    );
}

#[tokio::test]
async fn a_standard_account_gives_the_document_then_answers_the_question() {
    let world = world();
    account_at(&world, Tier::Standard).await;
    set_question(&world).await;

    let step = past_the_code(&world, &by_contact(PHONE)).await;
    let RecoveryStep::DocumentRequired { flow } = step else {
        panic!("the document comes first: {step:?}")
    };
    let early = world
        .portal
        .answer_security_question(flow, &Answer::new("Барсик"))
        .await;
    assert!(matches!(early, Err(Error::WrongStep)), "{early:?}");
    let step = world
        .portal
        .submit_recovery_document(flow, INN)
        .await
        .unwrap();
    assert_eq!(
        step,
        RecoveryStep::SecurityQuestion {
            flow,
            question: QUESTION.into()
        }
    );
    let step = world
        .portal
        .answer_security_question(flow, &Answer::new("барсик"))
        .await
        .unwrap();
    assert_eq!(step, RecoveryStep::NewPassword { flow });
    finish(&world, flow).await;
    world
        .portal
        .login(&login_request(PHONE, NEW_PASSWORD))
        .await
        .unwrap();
}

#[tokio::test]
async fn recovery_by_document_still_asks_the_security_question() {
    let world = world();
    account_at(&world, Tier::Confirmed).await;
    set_question(&world).await;

    let step = past_the_code(&world, &by_document(SNILS)).await;

    let RecoveryStep::SecurityQuestion { flow, question } = step else {
        panic!("the question is an extra step on every path: {step:?}")
    };
    assert_eq!(question, QUESTION);
    let skipped = world
        .portal
        .complete_recovery(flow, &password(NEW_PASSWORD), &password(NEW_PASSWORD))
        .await;
    assert!(matches!(skipped, Err(Error::WrongStep)), "{skipped:?}");
}

#[tokio::test]
async fn recovery_tells_every_confirmed_contact_and_audits_the_start() {
    let world = world();
    let account = account_at(&world, Tier::Simplified).await;
    world.sender.clear();

    let step = past_the_code(&world, &by_contact(PHONE)).await;
    assert!(matches!(step, RecoveryStep::NewPassword { .. }), "{step:?}");
    finish(&world, flow_of(&step)).await;

    for contact in [to_phone(PHONE), to_email(EMAIL)] {
        let told = world.sender.messages_to(&contact);
        assert!(
            told.iter()
                .any(|m| m.kind() == MessageKind::PasswordChanged),
            "{contact:?} was told"
        );
    }
    let events = world.portal.audit_events(account).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e.kind, portal_auth::AuditKind::RecoveryStarted { .. }))
    );
}

#[tokio::test]
async fn an_expired_recovery_refuses_every_step_and_writes_nothing() {
    let world = world();
    account_at(&world, Tier::Standard).await;
    set_question(&world).await;
    let (flow, code) = world.recover_by_phone().await;

    // The flow lives 30 minutes: a second before, it still answers for its code (which
    // died at five minutes) rather than for itself.
    world
        .clock
        .advance(Duration::minutes(30) - Duration::SECOND);
    let late_code = world.portal.submit_recovery_code(flow, &code).await;
    assert!(
        matches!(late_code, Err(Error::CodeExpired)),
        "{late_code:?}"
    );
    world.clock.advance(Duration::SECOND);
    let before = snapshot(&world, flow).await;

    let refusals = [
        world
            .portal
            .submit_recovery_code(flow, &code)
            .await
            .map(drop),
        world.portal.resend_recovery_proof(flow).await.map(drop),
        world
            .portal
            .choose_recovery_channel(flow, 0)
            .await
            .map(drop),
        world
            .portal
            .submit_recovery_document(flow, SNILS)
            .await
            .map(drop),
        world
            .portal
            .answer_security_question(flow, &Answer::new("Барсик"))
            .await
            .map(drop),
        world
            .portal
            .complete_recovery(flow, &password(NEW_PASSWORD), &password(NEW_PASSWORD))
            .await
            .map(drop),
        world.portal.cancel_recovery(flow).await,
    ];

    for refused in refusals {
        assert!(matches!(refused, Err(Error::FlowExpired)), "{refused:?}");
    }
    assert_eq!(snapshot(&world, flow).await, before);
}

#[tokio::test]
async fn an_exhausted_recovery_refuses_every_step_and_writes_nothing() {
    let world = world();
    account_at(&world, Tier::Simplified).await;
    let (flow, code) = world.recover_by_phone().await;
    for left in [2, 1, 0] {
        let refused = world
            .portal
            .submit_recovery_code(flow, &wrong_code(&code))
            .await;
        assert!(
            matches!(refused, Err(Error::WrongCode { tries_left }) if tries_left == left),
            "{refused:?}"
        );
    }
    world.clock.advance(Duration::minutes(1));
    let before = snapshot(&world, flow).await;

    let refusals = [
        world
            .portal
            .submit_recovery_code(flow, &code)
            .await
            .map(drop),
        world.portal.resend_recovery_proof(flow).await.map(drop),
        world
            .portal
            .submit_recovery_document(flow, SNILS)
            .await
            .map(drop),
        world
            .portal
            .complete_recovery(flow, &password(NEW_PASSWORD), &password(NEW_PASSWORD))
            .await
            .map(drop),
        world.portal.cancel_recovery(flow).await,
    ];

    for refused in refusals {
        assert!(matches!(refused, Err(Error::FlowOver)), "{refused:?}");
    }
    assert_eq!(snapshot(&world, flow).await, before);
    let codes = world
        .sender
        .messages_to(&to_phone(PHONE))
        .into_iter()
        .filter(|m| m.kind() == MessageKind::RecoveryCode)
        .count();
    assert_eq!(codes, 1, "the dead flow sent no other code");
}

#[tokio::test]
async fn a_recovery_sends_at_most_five_codes() {
    let world = world();
    account_at(&world, Tier::Simplified).await;
    let flow = flow_of(
        &world
            .portal
            .start_recovery(&by_contact(PHONE))
            .await
            .unwrap(),
    );

    for _ in 0..4 {
        world.clock.advance(Duration::seconds(60));
        world.portal.resend_recovery_proof(flow).await.unwrap();
    }
    world.clock.advance(Duration::seconds(60));
    let before = snapshot(&world, flow).await;
    let sixth = world.portal.resend_recovery_proof(flow).await;

    assert!(matches!(sixth, Err(Error::ResendLimit)), "{sixth:?}");
    assert_eq!(snapshot(&world, flow).await, before);
    let codes = world
        .sender
        .messages_to(&to_phone(PHONE))
        .into_iter()
        .filter(|m| m.kind() == MessageKind::RecoveryCode)
        .count();
    assert_eq!(codes, 5);
    // The newest code still works; the earlier ones were replaced.
    let code = world.last_code(&to_phone(PHONE));
    let next = world
        .portal
        .submit_recovery_code(flow, &code)
        .await
        .unwrap();
    assert!(matches!(next, RecoveryStep::NewPassword { .. }), "{next:?}");
}

/// Regression: the flow's 30 minutes ended a recovery link that should live an hour,
/// so a link opened after half an hour was refused as an expired flow.
#[tokio::test]
async fn a_recovery_link_works_for_exactly_one_hour() {
    let world = world();
    world.register(None, Some(EMAIL)).await;

    let first = flow_of(
        &world
            .portal
            .start_recovery(&by_contact(EMAIL))
            .await
            .unwrap(),
    );
    let token = LinkToken::new(world.last_code(&to_email(EMAIL)).expose_secret());
    world.clock.advance(Duration::hours(1) - Duration::SECOND);
    let in_time = world.portal.open_recovery_link(first, &token).await;
    assert!(
        matches!(in_time, Ok(RecoveryStep::NewPassword { .. })),
        "{in_time:?}"
    );
    finish(&world, first).await;

    let second = flow_of(
        &world
            .portal
            .start_recovery(&by_contact(EMAIL))
            .await
            .unwrap(),
    );
    let token = LinkToken::new(world.last_code(&to_email(EMAIL)).expose_secret());
    world.clock.advance(Duration::hours(1));
    let before = snapshot(&world, second).await;
    let late = world.portal.open_recovery_link(second, &token).await;
    assert!(matches!(late, Err(Error::FlowExpired)), "{late:?}");
    assert_eq!(snapshot(&world, second).await, before);
}

#[tokio::test]
async fn a_code_resent_near_the_end_of_a_recovery_lives_its_five_minutes() {
    let world = world();
    account_at(&world, Tier::Simplified).await;
    let flow = flow_of(
        &world
            .portal
            .start_recovery(&by_contact(PHONE))
            .await
            .unwrap(),
    );

    world.clock.advance(Duration::minutes(29));
    world.portal.resend_recovery_proof(flow).await.unwrap();
    let code = world.last_code(&to_phone(PHONE));
    world.clock.advance(Duration::minutes(5) - Duration::SECOND);
    let next = world
        .portal
        .submit_recovery_code(flow, &code)
        .await
        .unwrap();

    assert!(matches!(next, RecoveryStep::NewPassword { .. }), "{next:?}");
    finish(&world, flow).await;
}

#[tokio::test]
async fn an_unknown_document_walks_the_same_steps_as_a_known_one() {
    let world = world();
    account_at(&world, Tier::Standard).await;
    world.sender.clear();
    let unknown_passport = "4507 654321";

    let mut replies = Vec::new();
    for document in [PASSPORT, unknown_passport] {
        let mut seen = Vec::new();
        let RecoveryStep::ChooseChannel { flow, channels } = world
            .portal
            .start_recovery(&by_document(document))
            .await
            .unwrap()
        else {
            panic!("channels are offered for {document}")
        };
        let sms = channels
            .iter()
            .find(|c| c.channel == Channel::Sms)
            .map(|c| c.index);
        // Both offer an SMS channel for this key and these documents; an unknown
        // document's decoys take other shapes for other documents.
        let Some(index) = sms else {
            panic!("{document}: {channels:?}")
        };
        let sent = world
            .portal
            .choose_recovery_channel(flow, index)
            .await
            .unwrap();
        seen.push(
            matches!(
                sent,
                RecoveryStep::ProofSent {
                    channel: Channel::Sms,
                    ..
                }
            )
            .to_string(),
        );
        world.clock.advance(Duration::seconds(60));
        let resent = world.portal.resend_recovery_proof(flow).await.unwrap();
        seen.push(matches!(resent, RecoveryStep::ProofSent { .. }).to_string());
        // A guess that is not the known account's newest code; the same string for both.
        let guess = wrong_code(&world.last_code(&to_phone(PHONE)));
        for _ in 0..4 {
            let reply = world.portal.submit_recovery_code(flow, &guess).await;
            seen.push(reply.map_or_else(|e| e.to_string(), |s| format!("{s:?}")));
        }
        replies.push(seen);
    }

    assert_eq!(replies[0], replies[1]);
    assert_eq!(
        world.sender.messages().len(),
        2,
        "the known account got its two codes; the unknown document nothing"
    );
}

#[tokio::test]
async fn the_new_password_is_typed_twice_and_checked_against_the_policy() {
    use portal_auth::password::Violation;
    let world = world();
    account_at(&world, Tier::Simplified).await;
    let step = past_the_code(&world, &by_contact(PHONE)).await;
    let flow = flow_of(&step);
    let before = snapshot(&world, flow).await;

    let weak = world
        .portal
        .complete_recovery(flow, &password("qwerty"), &password("qwerty"))
        .await;
    let mismatched = world
        .portal
        .complete_recovery(
            flow,
            &password(NEW_PASSWORD),
            &password("Novyj-Parol-2028!"),
        )
        .await;
    // The person's surname ("Petrov") is personal data the policy refuses.
    let personal = world
        .portal
        .complete_recovery(
            flow,
            &password("Petrov-2027-Ok!"),
            &password("Petrov-2027-Ok!"),
        )
        .await;

    let Err(Error::Policy(weak)) = weak else {
        panic!("{weak:?}")
    };
    assert!(
        weak.violations().len() > 1,
        "every violation at once: {weak:?}"
    );
    let Err(Error::Policy(mismatched)) = mismatched else {
        panic!("{mismatched:?}")
    };
    assert_eq!(mismatched.violations(), [Violation::ConfirmationMismatch]);
    let Err(Error::Policy(personal)) = personal else {
        panic!("{personal:?}")
    };
    assert!(
        personal
            .iter()
            .any(|v| matches!(v, Violation::ContainsPersonalData(_))),
        "{personal:?}"
    );
    assert_eq!(
        snapshot(&world, flow).await,
        before,
        "refusals wrote nothing"
    );
    assert!(
        world
            .portal
            .login(&login_request(PHONE, PASSWORD))
            .await
            .is_ok(),
        "the old password still works until a new one is set"
    );

    finish(&world, flow).await;
    world
        .portal
        .login(&login_request(PHONE, NEW_PASSWORD))
        .await
        .unwrap();
}
