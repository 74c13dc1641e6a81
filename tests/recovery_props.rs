//! Random walks through the recovery machine: it never goes back, never lets a step
//! through out of order, and a refused step writes nothing it should not.

#![expect(
    clippy::struct_excessive_bools,
    reason = "the walk's model is a set of flags"
)]

mod common;

use common::*;
use portal_auth::{
    Answer, Error, FlowId, OneTimeCode, RecoveryRequest, RecoveryStart, RecoveryStep, Tier,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Start { known: bool, by_document: bool },
    Choose(usize),
    RightCode,
    WrongCode,
    Resend,
    Document { right: bool },
    Answer { right: bool },
    Complete { strong: bool },
    Cancel,
    Wait(i64),
}

/// Steps, weighted so that many walks reach the end of the machine.
fn op() -> impl Strategy<Value = Op> {
    let mostly = || prop::bool::weighted(0.8);
    prop_oneof![
        2 => (mostly(), any::<bool>()).prop_map(|(known, by_document)| Op::Start { known, by_document }),
        2 => (0usize..3).prop_map(Op::Choose),
        4 => Just(Op::RightCode),
        1 => Just(Op::WrongCode),
        1 => Just(Op::Resend),
        3 => mostly().prop_map(|right| Op::Document { right }),
        3 => mostly().prop_map(|right| Op::Answer { right }),
        3 => mostly().prop_map(|strong| Op::Complete { strong }),
        1 => Just(Op::Cancel),
        // Mostly short waits; sometimes past a code's five minutes or the flow's 30.
        1 => prop_oneof![4 => 0i64..200, 1 => 280i64..320, 1 => 1700i64..1900].prop_map(Op::Wait),
    ]
}

/// How far a flow got, as its replies showed; the order is the machine's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Seen {
    Channels,
    Proof,
    Document,
    Question,
    Password,
    Finished,
}

fn seen(step: &RecoveryStep) -> Seen {
    match step {
        RecoveryStep::ChooseChannel { .. } => Seen::Channels,
        RecoveryStep::ProofSent { .. } => Seen::Proof,
        RecoveryStep::DocumentRequired { .. } => Seen::Document,
        RecoveryStep::SecurityQuestion { .. } => Seen::Question,
        _ => Seen::Password,
    }
}

/// Refusals that must leave the store exactly as it was.
fn writes_nothing(error: &Error) -> bool {
    matches!(
        error,
        Error::WrongStep
            | Error::FlowNotFound
            | Error::FlowExpired
            | Error::FlowOver
            | Error::ResendTooSoon { .. }
            | Error::ResendLimit
            | Error::Policy(_)
            | Error::NotPossible(_)
            | Error::InvalidField { .. }
            | Error::CodeExpired
            | Error::CodeExhausted
            | Error::MalformedCode
    )
}

/// What a refused step could have written: record counts, and the versions of the
/// account and of the walk's flow (an update leaves the counts alone).
async fn snapshot(
    world: &World,
    account: portal_auth::AccountId,
    flow: Option<FlowId>,
) -> (portal_auth::store::MemoryStats, u64, Option<u64>) {
    use portal_auth::Store;
    let version = world
        .store
        .account(account)
        .await
        .unwrap()
        .unwrap()
        .version();
    let flow_version = match flow {
        Some(flow) => world.store.flow(flow).await.unwrap().map(|f| f.version()),
        None => None,
    };
    (world.stats(), version, flow_version)
}

struct Walk {
    flow: Option<FlowId>,
    known: bool,
    by_document: bool,
    saw: Vec<Seen>,
    furthest: Option<Seen>,
    over: bool,
    code_proven: bool,
}

#[expect(
    clippy::too_many_lines,
    reason = "one walk: drive a step, then check the model"
)]
async fn walk(standard: bool, question: bool, ops: Vec<Op>) {
    let world = world();
    let account = world.register_with_both().await;
    if standard {
        world.promote(account, Tier::Standard).await;
    }
    if question {
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
    }
    let mut state = Walk {
        flow: None,
        known: false,
        by_document: false,
        saw: Vec::new(),
        furthest: None,
        over: false,
        code_proven: false,
    };
    let mut passwords_set = 0;

    for op in ops {
        let before = snapshot(&world, account, state.flow).await;
        let reply: Result<Option<RecoveryStep>, Error> = match (&op, state.flow) {
            (Op::Start { known, by_document }, _) => {
                let start = match (known, by_document) {
                    (true, false) => RecoveryStart::Contact(PHONE.into()),
                    (false, false) => RecoveryStart::Contact("+79990001100".into()),
                    (true, true) => RecoveryStart::Document(SNILS.into()),
                    (false, true) => RecoveryStart::Document("123-456-789 64".into()),
                };
                let request = RecoveryRequest {
                    start,
                    captcha: "token".into(),
                    client: None,
                };
                let reply = world.portal.start_recovery(&request).await;
                if let Ok(step) = &reply {
                    state = Walk {
                        flow: RecoveryStep::flow(step),
                        known: *known,
                        by_document: *by_document,
                        saw: Vec::new(),
                        furthest: None,
                        over: false,
                        code_proven: false,
                    };
                    if *by_document && !standard && *known {
                        // A simplified account has no documents on file: the document is unknown.
                        state.known = false;
                    }
                }
                reply.map(Some)
            }
            (_, None) => continue,
            (Op::Choose(index), Some(flow)) => world
                .portal
                .choose_recovery_channel(flow, *index)
                .await
                .map(Some),
            (Op::RightCode | Op::WrongCode, Some(flow)) => {
                let sent = world
                    .sender
                    .last_to(&to_phone(PHONE))
                    .and_then(|m| m.code().cloned());
                let right = matches!(op, Op::RightCode);
                let code = match (right, sent) {
                    (true, Some(code)) => code,
                    _ => OneTimeCode::new("000000"),
                };
                let reply = world.portal.submit_recovery_code(flow, &code).await;
                if reply.is_ok() {
                    state.code_proven = true;
                }
                reply.map(Some)
            }
            (Op::Resend, Some(flow)) => world.portal.resend_recovery_proof(flow).await.map(Some),
            (Op::Document { right }, Some(flow)) => {
                let document = if *right { SNILS } else { "4506 654321" };
                world
                    .portal
                    .submit_recovery_document(flow, document)
                    .await
                    .map(Some)
            }
            (Op::Answer { right }, Some(flow)) => {
                let answer = Answer::new(if *right {
                    "барсик"
                } else {
                    "Мурзик"
                });
                world
                    .portal
                    .answer_security_question(flow, &answer)
                    .await
                    .map(Some)
            }
            (Op::Complete { strong }, Some(flow)) => {
                let new = password(if *strong {
                    "Novyj-Parol-2027!"
                } else {
                    "qwerty"
                });
                let reply = world.portal.complete_recovery(flow, &new, &new).await;
                if reply.is_ok() {
                    passwords_set += 1;
                    state.furthest = Some(Seen::Finished);
                }
                reply.map(|_| None)
            }
            (Op::Cancel, Some(flow)) => {
                let reply = world.portal.cancel_recovery(flow).await;
                if reply.is_ok() {
                    state.over = true;
                }
                reply.map(|()| None)
            }
            (Op::Wait(seconds), Some(_)) => {
                world.clock.advance(time::Duration::seconds(*seconds));
                continue;
            }
        };

        match &reply {
            Ok(Some(step)) => {
                let now = seen(step);
                if !matches!(op, Op::Start { .. }) {
                    assert!(
                        !state.over,
                        "a step went through on a finished flow: {op:?}"
                    );
                    if let Some(furthest) = state.furthest {
                        assert!(
                            now >= furthest,
                            "went back from {furthest:?} to {now:?} on {op:?}"
                        );
                    }
                }
                if !state.known {
                    assert!(
                        now <= Seen::Proof,
                        "an unknown identifier got past the code: {now:?}"
                    );
                }
                if now >= Seen::Document {
                    assert!(state.code_proven, "past the code without the code");
                }
                if now == Seen::Password {
                    if question {
                        assert!(
                            state.saw.contains(&Seen::Question),
                            "the question was skipped"
                        );
                    }
                    if standard && !state.by_document {
                        assert!(
                            state.saw.contains(&Seen::Document),
                            "the document was skipped"
                        );
                    }
                }
                state.saw.push(now);
                state.furthest = Some(now);
            }
            Ok(None) => {}
            Err(error) => {
                if matches!(error, Error::FlowOver) {
                    state.over = true;
                }
                // A refused start leaves `state.flow` as it was, so the same flow is read.
                if writes_nothing(error) {
                    assert_eq!(
                        snapshot(&world, account, state.flow).await,
                        before,
                        "{op:?} refused with {error:?} but wrote"
                    );
                }
            }
        }
        if state.furthest == Some(Seen::Finished) {
            state.over = true;
        }
    }
    if passwords_set > 0 {
        world
            .portal
            .login(&login_request(PHONE, "Novyj-Parol-2027!"))
            .await
            .expect("the new password works");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn recovery_never_goes_back_nor_skips_a_step(
        standard in any::<bool>(),
        question in any::<bool>(),
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(walk(standard, question, ops));
    }
}
