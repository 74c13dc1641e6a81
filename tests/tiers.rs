//! Account tiers over the Portal API: the ladder by each path, the registry's answers,
//! the postal code's limits, downgrades and the refusals.

mod common;

use common::{PHONE, World, to_phone, world};
use portal_auth::notify::{MessageKind, Recipient};
use portal_auth::registry::{
    DocumentRegistry, FakeRegistry, RegistryAnswer, RegistryError, RegistryTicket,
};
use portal_auth::store::MemoryStats;
use portal_auth::{
    AccountId, AuditKind, Authenticated, DocumentRequest, DocumentSubmission, Error, Field, FlowId,
    FlowKind, ManualClock, OneTimeCode, Operator, OperatorPermissions, ProofingMethod, Store, Tier,
    TierChangeReason, UpgradePath, VerificationStatus,
};
use time::Duration;

const SNILS: &str = "112-233-445 95";
const OTHER_SNILS: &str = "123-456-789 64";
const PASSPORT: &str = "4506 123456";
const OTHER_PASSPORT: &str = "4507 654321";
type Spoil = fn(&mut DocumentRequest);

const ADDRESS: &str = "Moscow, Tverskaya 1, apt. 2";

fn documents(snils: &str, passport: &str) -> DocumentRequest {
    DocumentRequest {
        snils: snils.into(),
        passport: passport.into(),
        issued_on: "15.03.2011".into(),
        authority_code: "770-001".into(),
        birth_date: "01.02.1990".into(),
        birth_place: "Moscow".into(),
        inn: None,
    }
}

fn registry(world: &World) -> FakeRegistry<ManualClock> {
    FakeRegistry::new(world.clock.clone())
}

fn operator(own_account: Option<AccountId>, permissions: OperatorPermissions) -> Operator {
    Operator {
        id: "op-17".into(),
        centre_id: "post-101000".into(),
        own_account,
        permissions,
    }
}

fn postal() -> Recipient {
    Recipient::Postal(ADDRESS.into())
}

/// A code of the right shape that is not `real`.
fn wrong_code(real: &OneTimeCode) -> OneTimeCode {
    let candidate = if real.expose_secret() == "ZZZZZZZZZZ" {
        "YYYYYYYYYY"
    } else {
        "ZZZZZZZZZZ"
    };
    OneTimeCode::new(candidate)
}

/// A simplified account logged in with a phone.
async fn simplified(world: &World) -> (AccountId, Authenticated) {
    let id = world.register(Some(PHONE), None).await;
    (id, world.login(PHONE).await)
}

/// A standard account: documents verified by the fake registry.
async fn standard(world: &World) -> (AccountId, Authenticated) {
    let (id, session) = simplified(world).await;
    let reply = world
        .portal
        .submit_documents(&session, &documents(SNILS, PASSPORT), &registry(world))
        .await
        .unwrap();
    assert_eq!(reply.status, VerificationStatus::Verified);
    (id, reply.session)
}

async fn tier_changes(world: &World, id: AccountId) -> Vec<(Tier, Tier, TierChangeReason)> {
    world
        .portal
        .audit_events(id)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|event| match event.kind {
            AuditKind::TierChanged { from, to, reason } => Some((from, to, reason)),
            _ => None,
        })
        .collect()
}

async fn tier_of(world: &World, id: AccountId) -> Tier {
    world.store.account(id).await.unwrap().unwrap().tier()
}

/// Everything a refused call could have written about an account: the record counts,
/// the account's version and the versions of its flows (an update leaves the counts
/// alone, so they alone cannot prove that nothing was written).
async fn snapshot(world: &World, id: AccountId) -> (MemoryStats, u64, Vec<(FlowId, u64)>) {
    let account = world.store.account(id).await.unwrap().unwrap();
    let flows = world.store.flows_of_account(id).await.unwrap();
    (
        world.stats(),
        account.version(),
        flows.iter().map(|f| (f.id(), f.version())).collect(),
    )
}

async fn activation_flows(world: &World, id: AccountId) -> Vec<FlowId> {
    let flows = world.store.flows_of_account(id).await.unwrap();
    flows
        .iter()
        .filter(|f| f.kind() == FlowKind::ActivationCode)
        .map(portal_auth::flow::Flow::id)
        .collect()
}

/// A standard account raised to confirmed by an operator.
async fn confirmed(world: &World) -> (AccountId, Authenticated) {
    let (id, _) = standard(world).await;
    world
        .portal
        .confirm_identity_in_person(
            &operator(None, OperatorPermissions::all()),
            id,
            &PASSPORT.parse().unwrap(),
        )
        .await
        .unwrap();
    (id, world.login(PHONE).await)
}

#[tokio::test]
async fn verified_documents_make_the_account_standard_and_notify_the_person() {
    let world = world();
    let (id, session) = simplified(&world).await;

    let reply = world
        .portal
        .submit_documents(&session, &documents(SNILS, PASSPORT), &registry(&world))
        .await
        .unwrap();

    assert_eq!(reply.session.tier, Tier::Standard);
    assert!(reply.session.stamp > session.stamp);
    assert_eq!(
        tier_changes(&world, id).await,
        [(
            Tier::Simplified,
            Tier::Standard,
            TierChangeReason::DocumentsVerified
        )]
    );
    let notice = world.sender.last_to(&to_phone(PHONE)).unwrap();
    assert_eq!(notice.kind(), MessageKind::DocumentsVerified);
    let account = world.store.account(id).await.unwrap().unwrap();
    assert_eq!(
        account.documents().snils.as_ref().unwrap().to_string(),
        SNILS
    );
    assert_eq!(account.birth_date().unwrap().to_string(), "1990-02-01");
}

#[tokio::test]
async fn full_ladder_by_postal_code() {
    let world = world();
    let (id, session) = standard(&world).await;

    world
        .portal
        .request_activation_code(&session, ADDRESS)
        .await
        .unwrap();
    let letter = world.sender.last_to(&postal()).unwrap();
    assert_eq!(letter.kind(), MessageKind::ActivationCode);
    let code = letter.code().unwrap().clone();
    assert_eq!(code.expose_secret().len(), 10);
    let confirmed = world
        .portal
        .enter_activation_code(&session, &code)
        .await
        .unwrap();

    assert_eq!(confirmed.tier, Tier::Confirmed);
    assert!(confirmed.stamp > session.stamp);
    assert_eq!(
        tier_changes(&world, id).await.last().unwrap().2,
        TierChangeReason::PostalCode
    );
    world
        .portal
        .require_tier(&confirmed, Tier::Confirmed)
        .await
        .unwrap();
}

#[tokio::test]
async fn full_ladder_in_person_records_the_operator_and_centre() {
    let world = world();
    let (id, _) = standard(&world).await;
    let clerk = operator(None, OperatorPermissions::all());

    world
        .portal
        .confirm_identity_in_person(&clerk, id, &PASSPORT.parse().unwrap())
        .await
        .unwrap();

    assert_eq!(tier_of(&world, id).await, Tier::Confirmed);
    let events = world.portal.audit_events(id).await.unwrap();
    let change = events.last().unwrap();
    assert_eq!(change.operator, Some(clerk.audit_ref()));
    assert!(matches!(
        change.kind,
        AuditKind::TierChanged {
            from: Tier::Standard,
            to: Tier::Confirmed,
            reason: TierChangeReason::InPerson
        }
    ));
}

#[tokio::test]
async fn full_ladder_by_a_host_method_is_audited_with_its_reference() {
    let world = world();
    let (id, _) = standard(&world).await;
    let method = ProofingMethod {
        name: "bank".into(),
        reference: "tx-42".into(),
    };

    world.portal.confirm_identity_by(id, method).await.unwrap();

    assert_eq!(tier_of(&world, id).await, Tier::Confirmed);
    assert_eq!(
        tier_changes(&world, id).await.last().unwrap().2,
        TierChangeReason::Method {
            name: "bank".into(),
            reference: "tx-42".into()
        }
    );
}

#[tokio::test]
async fn confirmation_needs_a_standard_account() {
    let world = world();
    let (id, session) = simplified(&world).await;

    let by_post = world
        .portal
        .request_activation_code(&session, ADDRESS)
        .await;
    let in_person = world
        .portal
        .confirm_identity_in_person(
            &operator(None, OperatorPermissions::all()),
            id,
            &PASSPORT.parse().unwrap(),
        )
        .await;

    assert!(matches!(by_post, Err(Error::InsufficientTier { .. })));
    assert!(matches!(in_person, Err(Error::NotPossible(_))));
    assert_eq!(tier_of(&world, id).await, Tier::Simplified);
}

#[tokio::test]
async fn registry_rejection_is_kept_and_a_corrected_form_verifies() {
    let world = world();
    let (id, session) = simplified(&world).await;
    let registry = registry(&world).reject(SNILS.parse().unwrap(), "SNILS does not match the name");

    let first = world
        .portal
        .submit_documents(&session, &documents(SNILS, PASSPORT), &registry)
        .await
        .unwrap();
    let shown = world
        .portal
        .verification_status(&session, &registry)
        .await
        .unwrap();
    let corrected = world
        .portal
        .submit_documents(&session, &documents(OTHER_SNILS, PASSPORT), &registry)
        .await
        .unwrap();

    let rejected = VerificationStatus::Rejected {
        reason: "SNILS does not match the name".into(),
    };
    assert_eq!(first.status, rejected);
    assert_eq!(first.session, session);
    assert_eq!(shown.status, rejected);
    assert_eq!(corrected.status, VerificationStatus::Verified);
    assert_eq!(tier_of(&world, id).await, Tier::Standard);
}

#[tokio::test]
async fn pending_verification_is_answered_later_by_the_host_poll() {
    let world = world();
    let (id, session) = simplified(&world).await;
    let registry = registry(&world).pending_for(Duration::minutes(5));

    let reply = world
        .portal
        .submit_documents(&session, &documents(SNILS, PASSPORT), &registry)
        .await
        .unwrap();
    world.clock.advance(Duration::minutes(4));
    let early = world.portal.poll_verifications(&registry).await.unwrap();
    world.clock.advance(Duration::minutes(1));
    let late = world.portal.poll_verifications(&registry).await.unwrap();

    assert_eq!(reply.status, VerificationStatus::Pending);
    assert_eq!((early.pending, early.verified), (1, 0));
    assert_eq!((late.pending, late.verified), (0, 1));
    assert_eq!(tier_of(&world, id).await, Tier::Standard);
    let again = world.portal.poll_verifications(&registry).await.unwrap();
    assert_eq!(again, portal_auth::PollReport::default());
}

#[tokio::test]
async fn pending_verification_is_answered_through_the_status_query() {
    let world = world();
    let (_, session) = simplified(&world).await;
    let registry = registry(&world).pending_for(Duration::minutes(5));
    world
        .portal
        .submit_documents(&session, &documents(SNILS, PASSPORT), &registry)
        .await
        .unwrap();

    let before = world
        .portal
        .verification_status(&session, &registry)
        .await
        .unwrap();
    world.clock.advance(Duration::minutes(5));
    let after = world
        .portal
        .verification_status(&session, &registry)
        .await
        .unwrap();

    assert_eq!(before.status, VerificationStatus::Pending);
    assert_eq!(after.status, VerificationStatus::Verified);
    assert_eq!(after.session.tier, Tier::Standard);
}

#[tokio::test]
async fn postal_code_works_one_second_before_thirty_days() {
    let world = world();
    let (_, session) = standard(&world).await;
    world
        .portal
        .request_activation_code(&session, ADDRESS)
        .await
        .unwrap();
    let code = world.last_code(&postal());

    world.clock.advance(Duration::days(30) - Duration::SECOND);
    let confirmed = world.portal.enter_activation_code(&session, &code).await;

    assert_eq!(confirmed.unwrap().tier, Tier::Confirmed);
}

#[tokio::test]
async fn postal_code_fails_at_exactly_thirty_days() {
    let world = world();
    let (id, session) = standard(&world).await;
    world
        .portal
        .request_activation_code(&session, ADDRESS)
        .await
        .unwrap();
    let code = world.last_code(&postal());

    world.clock.advance(Duration::days(30));
    let before = snapshot(&world, id).await;
    let result = world.portal.enter_activation_code(&session, &code).await;

    assert!(matches!(result, Err(Error::CodeExpired)), "{result:?}");
    assert_eq!(tier_of(&world, id).await, Tier::Standard);
    assert_eq!(
        snapshot(&world, id).await,
        before,
        "the refusal wrote nothing"
    );
}

#[tokio::test]
async fn three_wrong_postal_codes_exhaust_it() {
    let world = world();
    let (id, session) = standard(&world).await;
    world
        .portal
        .request_activation_code(&session, ADDRESS)
        .await
        .unwrap();
    let code = world.last_code(&postal());
    let wrong = wrong_code(&code);

    let mut left = Vec::new();
    for _ in 0..3 {
        match world.portal.enter_activation_code(&session, &wrong).await {
            Err(Error::WrongCode { tries_left }) => left.push(tries_left),
            other => panic!("expected a wrong code, got {other:?}"),
        }
    }
    let before = snapshot(&world, id).await;
    let right_too_late = world.portal.enter_activation_code(&session, &code).await;

    assert_eq!(left, [2, 1, 0]);
    assert!(matches!(right_too_late, Err(Error::CodeExhausted)));
    assert_eq!(tier_of(&world, id).await, Tier::Standard);
    assert_eq!(
        snapshot(&world, id).await,
        before,
        "the refusal wrote nothing"
    );
    let audited = world.portal.audit_events(id).await.unwrap();
    let rejections = audited
        .iter()
        .filter(|e| e.kind == AuditKind::ActivationCodeRejected)
        .count();
    assert_eq!(rejections, 3, "each wrong try is audited");
}

#[tokio::test]
async fn a_replacement_code_voids_the_old_one() {
    let world = world();
    let (id, session) = standard(&world).await;
    let portal = &world.portal;
    portal
        .request_activation_code(&session, ADDRESS)
        .await
        .unwrap();
    let old = world.last_code(&postal());
    let first = activation_flows(&world, id).await;
    portal
        .request_activation_code(&session, ADDRESS)
        .await
        .unwrap();
    let new = world.last_code(&postal());
    let second = activation_flows(&world, id).await;

    // Only the newest letter's flow is left: the old code has nothing to match.
    assert_eq!((first.len(), second.len()), (1, 1));
    assert_ne!(first, second);
    let with_old = portal.enter_activation_code(&session, &old).await;
    let with_new = portal.enter_activation_code(&session, &new).await;

    assert!(matches!(with_old, Err(Error::WrongCode { tries_left: 2 })));
    assert_eq!(with_new.unwrap().tier, Tier::Confirmed);
    assert!(activation_flows(&world, id).await.is_empty());
}

#[tokio::test]
async fn a_document_on_another_account_is_refused_and_nothing_is_written() {
    let world = world();
    standard(&world).await;
    let other = world.register(Some("+79001112233"), None).await;
    let session = world.login("+79001112233").await;
    let before = snapshot(&world, other).await;

    let same_passport = world
        .portal
        .submit_documents(
            &session,
            &documents(OTHER_SNILS, PASSPORT),
            &registry(&world),
        )
        .await;
    let same_snils = world
        .portal
        .submit_documents(
            &session,
            &documents(SNILS, OTHER_PASSPORT),
            &registry(&world),
        )
        .await;

    assert!(matches!(same_passport, Err(Error::Taken)));
    assert!(matches!(same_snils, Err(Error::Taken)));
    assert_eq!(snapshot(&world, other).await, before);
    assert_eq!(tier_of(&world, other).await, Tier::Simplified);
}

#[tokio::test]
async fn a_verification_pending_while_another_account_took_the_documents_is_rejected() {
    let world = world();
    let slow = registry(&world).pending_for(Duration::minutes(5));
    let (late_id, late) = simplified(&world).await;
    world
        .portal
        .submit_documents(&late, &documents(SNILS, PASSPORT), &slow)
        .await
        .unwrap();
    world.register(Some("+79001112233"), None).await;
    let quick = world.login("+79001112233").await;
    world
        .portal
        .submit_documents(&quick, &documents(SNILS, PASSPORT), &registry(&world))
        .await
        .unwrap();

    world.clock.advance(Duration::minutes(5));
    let report = world.portal.poll_verifications(&slow).await.unwrap();

    assert_eq!(report.rejected, 1);
    assert_eq!(tier_of(&world, late_id).await, Tier::Simplified);
}

#[tokio::test]
async fn a_new_passport_lowers_a_confirmed_account_to_simplified_until_verified() {
    let world = world();
    let slow = registry(&world).pending_for(Duration::minutes(5));
    let (id, _) = standard(&world).await;
    world
        .portal
        .confirm_identity_in_person(
            &operator(None, OperatorPermissions::all()),
            id,
            &PASSPORT.parse().unwrap(),
        )
        .await
        .unwrap();
    let session = world.login(PHONE).await;
    assert_eq!(session.tier, Tier::Confirmed);

    let reply = world
        .portal
        .submit_documents(&session, &documents(SNILS, OTHER_PASSPORT), &slow)
        .await
        .unwrap();

    assert_eq!(reply.status, VerificationStatus::Pending);
    assert_eq!(reply.session.tier, Tier::Simplified);
    assert!(reply.session.stamp > session.stamp);
    assert_eq!(
        tier_changes(&world, id).await.last().unwrap(),
        &(
            Tier::Confirmed,
            Tier::Simplified,
            TierChangeReason::DocumentsChanged
        )
    );
    assert!(matches!(
        world.portal.require_tier(&session, Tier::Standard).await,
        Err(Error::StaleSession)
    ));

    world.clock.advance(Duration::minutes(5));
    world.portal.poll_verifications(&slow).await.unwrap();
    assert_eq!(tier_of(&world, id).await, Tier::Standard);
}

#[tokio::test]
async fn resubmitting_the_verified_documents_changes_nothing() {
    let world = world();
    let (id, session) = standard(&world).await;

    let again = world
        .portal
        .submit_documents(&session, &documents(SNILS, PASSPORT), &registry(&world))
        .await;

    assert!(matches!(again, Err(Error::NotPossible(_))));
    assert_eq!(tier_of(&world, id).await, Tier::Standard);
}

#[tokio::test]
async fn insufficient_tier_reply_says_how_to_upgrade() {
    let world = world();
    let (_, session) = simplified(&world).await;

    let refused = world.portal.require_tier(&session, Tier::Confirmed).await;

    match refused {
        Err(Error::InsufficientTier {
            required,
            actual,
            upgrade,
        }) => {
            assert_eq!((required, actual), (Tier::Confirmed, Tier::Simplified));
            assert_eq!(
                upgrade,
                [
                    UpgradePath::SubmitDocuments,
                    UpgradePath::ConfirmInPerson,
                    UpgradePath::ActivationCodeByPost
                ]
            );
        }
        other => panic!("expected insufficient tier, got {other:?}"),
    }
    world
        .portal
        .require_tier(&session, Tier::Simplified)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_operator_cannot_confirm_their_own_account() {
    let world = world();
    let (id, _) = standard(&world).await;

    let result = world
        .portal
        .confirm_identity_in_person(
            &operator(Some(id), OperatorPermissions::all()),
            id,
            &PASSPORT.parse().unwrap(),
        )
        .await;

    assert!(matches!(result, Err(Error::OperatorNotAllowed(_))));
    assert_eq!(tier_of(&world, id).await, Tier::Standard);
}

#[tokio::test]
async fn an_operator_without_the_permission_is_refused() {
    let world = world();
    let (id, _) = standard(&world).await;

    let result = world
        .portal
        .confirm_identity_in_person(
            &operator(None, OperatorPermissions::default()),
            id,
            &PASSPORT.parse().unwrap(),
        )
        .await;

    assert!(matches!(result, Err(Error::OperatorNotAllowed(_))));
    assert_eq!(tier_of(&world, id).await, Tier::Standard);
}

#[tokio::test]
async fn an_operator_must_check_the_verified_passport() {
    let world = world();
    let (id, _) = standard(&world).await;

    let result = world
        .portal
        .confirm_identity_in_person(
            &operator(None, OperatorPermissions::all()),
            id,
            &OTHER_PASSPORT.parse().unwrap(),
        )
        .await;

    assert!(matches!(result, Err(Error::NotPossible(_))));
    assert_eq!(tier_of(&world, id).await, Tier::Standard);
}

#[tokio::test]
async fn bad_fields_are_named_and_nothing_is_written() {
    let world = world();
    let (_, session) = simplified(&world).await;
    let before = world.stats();
    let spoilers: [(Spoil, Field); 6] = [
        (|r| r.snils = "123".into(), Field::Snils),
        (|r| r.passport = "ABCD".into(), Field::Passport),
        (
            |r| r.issued_on = "2011/03/15".into(),
            Field::PassportIssueDate,
        ),
        (|r| r.authority_code = "770".into(), Field::IssuingAuthority),
        (|r| r.birth_date = "32.01.1990".into(), Field::BirthDate),
        (|r| r.birth_place = "   ".into(), Field::BirthPlace),
    ];

    for (spoil, expected) in spoilers {
        let mut form = documents(SNILS, PASSPORT);
        spoil(&mut form);
        let result = world
            .portal
            .submit_documents(&session, &form, &registry(&world))
            .await;
        match result {
            Err(Error::InvalidField { field, .. }) => assert_eq!(field, expected),
            other => panic!("expected {expected} to be refused, got {other:?}"),
        }
    }

    let address = world.portal.request_activation_code(&session, " ").await;
    assert!(matches!(
        address,
        Err(Error::InvalidField {
            field: Field::PostalAddress,
            ..
        })
    ));
    assert_eq!(world.stats(), before);
}

#[tokio::test]
async fn submissions_are_limited_per_day() {
    let world = world();
    let (_, session) = simplified(&world).await;
    let registry = registry(&world).reject(SNILS.parse().unwrap(), "no match");

    for _ in 0..5 {
        world
            .portal
            .submit_documents(&session, &documents(SNILS, PASSPORT), &registry)
            .await
            .unwrap();
    }
    let sixth = world
        .portal
        .submit_documents(&session, &documents(SNILS, PASSPORT), &registry)
        .await;
    world.clock.advance(Duration::days(1));
    let next_day = world
        .portal
        .submit_documents(&session, &documents(SNILS, PASSPORT), &registry)
        .await;

    assert!(matches!(sixth, Err(Error::Throttled { .. })));
    assert!(next_day.is_ok());
}

#[tokio::test]
async fn a_registry_failure_writes_nothing() {
    let world = world();
    let (_, session) = simplified(&world).await;
    let registry = registry(&world).unavailable_for(SNILS.parse().unwrap());
    let before = world.stats();

    let result = world
        .portal
        .submit_documents(&session, &documents(SNILS, PASSPORT), &registry)
        .await;

    assert!(matches!(result, Err(Error::Registry(_))));
    assert_eq!(world.stats(), before);
}

/// Asserts that `old` no longer opens anything and that the account's stamp moved on.
async fn assert_stale(world: &World, id: AccountId, old: &Authenticated) {
    let refused = world.portal.require_tier(old, Tier::Simplified).await;
    assert!(matches!(refused, Err(Error::StaleSession)), "{refused:?}");
    let stored = world.store.account(id).await.unwrap().unwrap();
    assert!(stored.credential_stamp() > old.stamp);
}

#[tokio::test]
async fn every_tier_change_bumps_the_credential_stamp() {
    // Raised by a later registry answer, found by the host's poll.
    let world = world();
    let slow = registry(&world).pending_for(Duration::minutes(5));
    let (id, session) = simplified(&world).await;
    let pending = world
        .portal
        .submit_documents(&session, &documents(SNILS, PASSPORT), &slow)
        .await
        .unwrap();
    assert_eq!(pending.session, session, "no tier change yet, same session");
    world.clock.advance(Duration::minutes(5));
    world.portal.poll_verifications(&slow).await.unwrap();
    assert_stale(&world, id, &session).await;
    assert_eq!(world.login(PHONE).await.tier, Tier::Standard);

    // Confirmed in person.
    let before = world.login(PHONE).await;
    world
        .portal
        .confirm_identity_in_person(
            &operator(None, OperatorPermissions::all()),
            id,
            &PASSPORT.parse().unwrap(),
        )
        .await
        .unwrap();
    assert_stale(&world, id, &before).await;
    assert_eq!(world.login(PHONE).await.tier, Tier::Confirmed);

    // Confirmed by a host's method.
    let world = self::world();
    let (id, before) = standard(&world).await;
    let method = ProofingMethod {
        name: "qualified-e-signature".into(),
        reference: "sig-7".into(),
    };
    world.portal.confirm_identity_by(id, method).await.unwrap();
    assert_stale(&world, id, &before).await;
    assert_eq!(world.login(PHONE).await.tier, Tier::Confirmed);
}

#[tokio::test]
async fn a_pending_verification_rejected_later_keeps_the_reason_and_a_correction_verifies() {
    let world = world();
    let registry = registry(&world)
        .pending_for(Duration::minutes(5))
        .reject(SNILS.parse().unwrap(), "SNILS does not match the name");
    let (id, session) = simplified(&world).await;
    world
        .portal
        .submit_documents(&session, &documents(SNILS, PASSPORT), &registry)
        .await
        .unwrap();

    world.clock.advance(Duration::minutes(5));
    let report = world.portal.poll_verifications(&registry).await.unwrap();
    let shown = world
        .portal
        .verification_status(&session, &registry)
        .await
        .unwrap();

    assert_eq!((report.rejected, report.verified), (1, 0));
    assert_eq!(
        shown.status,
        VerificationStatus::Rejected {
            reason: "SNILS does not match the name".into()
        }
    );
    assert_eq!(shown.session, session, "a rejection changes no tier");
    let notice = world.sender.last_to(&to_phone(PHONE)).unwrap();
    assert_eq!(notice.kind(), MessageKind::DocumentsRejected);
    assert_eq!(tier_of(&world, id).await, Tier::Simplified);

    let corrected = world
        .portal
        .submit_documents(&session, &documents(OTHER_SNILS, PASSPORT), &registry)
        .await
        .unwrap();
    assert_eq!(corrected.status, VerificationStatus::Pending);
    world.clock.advance(Duration::minutes(5));
    let report = world.portal.poll_verifications(&registry).await.unwrap();
    assert_eq!((report.rejected, report.verified), (0, 1));
    assert_eq!(tier_of(&world, id).await, Tier::Standard);
}

#[tokio::test]
async fn a_changed_snils_lowers_a_standard_account_until_a_registry_verifies_it() {
    let world = world();
    let registry = registry(&world).reject(OTHER_SNILS.parse().unwrap(), "no match");
    let (id, session) = standard(&world).await;

    let reply = world
        .portal
        .submit_documents(&session, &documents(OTHER_SNILS, PASSPORT), &registry)
        .await
        .unwrap();

    assert_eq!(
        reply.status,
        VerificationStatus::Rejected {
            reason: "no match".into()
        }
    );
    assert_eq!(reply.session.tier, Tier::Simplified);
    assert!(reply.session.stamp > session.stamp);
    assert_eq!(
        tier_changes(&world, id).await.last().unwrap(),
        &(
            Tier::Standard,
            Tier::Simplified,
            TierChangeReason::DocumentsChanged
        )
    );
    let told = world.sender.messages_to(&to_phone(PHONE));
    assert!(told.iter().any(|m| m.kind() == MessageKind::TierLowered));
    match world
        .portal
        .require_tier(&reply.session, Tier::Standard)
        .await
    {
        Err(Error::InsufficientTier { upgrade, .. }) => {
            assert_eq!(upgrade, [UpgradePath::SubmitDocuments]);
        }
        other => panic!("expected insufficient tier, got {other:?}"),
    }
}

#[tokio::test]
async fn an_inn_on_another_account_is_refused_and_nothing_is_written() {
    let world = world();
    let (_, first) = simplified(&world).await;
    let mut with_inn = documents(SNILS, PASSPORT);
    with_inn.inn = Some(common::INN.into());
    world
        .portal
        .submit_documents(&first, &with_inn, &registry(&world))
        .await
        .unwrap();
    let other = world.register(Some("+79001112233"), None).await;
    let session = world.login("+79001112233").await;
    let before = snapshot(&world, other).await;

    let mut same_inn = documents(OTHER_SNILS, OTHER_PASSPORT);
    same_inn.inn = Some(common::INN.into());
    let refused = world
        .portal
        .submit_documents(&session, &same_inn, &registry(&world))
        .await;

    assert!(matches!(refused, Err(Error::Taken)), "{refused:?}");
    assert_eq!(snapshot(&world, other).await, before);
}

#[tokio::test]
async fn confirming_a_confirmed_account_again_is_refused_and_writes_nothing() {
    let world = world();
    let (id, session) = confirmed(&world).await;
    let before = snapshot(&world, id).await;

    let by_post = world
        .portal
        .request_activation_code(&session, ADDRESS)
        .await;
    let by_code = world
        .portal
        .enter_activation_code(&session, &OneTimeCode::new("ZZZZZZZZZZ"))
        .await;
    let in_person = world
        .portal
        .confirm_identity_in_person(
            &operator(None, OperatorPermissions::all()),
            id,
            &PASSPORT.parse().unwrap(),
        )
        .await;
    let by_method = world
        .portal
        .confirm_identity_by(
            id,
            ProofingMethod {
                name: "bank".into(),
                reference: "tx-1".into(),
            },
        )
        .await;

    for refused in [by_post.map(drop), by_code.map(drop), in_person, by_method] {
        assert!(matches!(refused, Err(Error::NotPossible(_))), "{refused:?}");
    }
    assert_eq!(snapshot(&world, id).await, before);
    assert!(
        world.sender.last_to(&postal()).is_none(),
        "no letter was sent"
    );
}

#[tokio::test]
async fn a_standard_account_is_told_both_ways_to_confirmed() {
    let world = world();
    let (_, session) = standard(&world).await;

    let refused = world.portal.require_tier(&session, Tier::Confirmed).await;

    match refused {
        Err(Error::InsufficientTier {
            required,
            actual,
            upgrade,
        }) => {
            assert_eq!((required, actual), (Tier::Confirmed, Tier::Standard));
            assert_eq!(
                upgrade,
                [
                    UpgradePath::ConfirmInPerson,
                    UpgradePath::ActivationCodeByPost
                ]
            );
        }
        other => panic!("expected insufficient tier, got {other:?}"),
    }
    world
        .portal
        .require_tier(&session, Tier::Standard)
        .await
        .unwrap();
}

/// A registry that hands out a new ticket with every "pending" and forgets the old one,
/// as some queue-based gateways do; the second poll verifies.
#[derive(Debug, Default)]
struct RenewingRegistry {
    polls: std::sync::Mutex<u32>,
}

impl DocumentRegistry for RenewingRegistry {
    async fn verify(&self, _: &DocumentSubmission) -> Result<RegistryAnswer, RegistryError> {
        Ok(RegistryAnswer::Pending {
            ticket: RegistryTicket::new("ticket-0"),
        })
    }

    async fn poll(&self, ticket: &RegistryTicket) -> Result<RegistryAnswer, RegistryError> {
        let mut polls = self.polls.lock().unwrap();
        if ticket.as_str() != format!("ticket-{polls}") {
            return Err(RegistryError::UnknownTicket);
        }
        *polls += 1;
        Ok(if *polls < 2 {
            RegistryAnswer::Pending {
                ticket: RegistryTicket::new(format!("ticket-{polls}")),
            }
        } else {
            RegistryAnswer::Verified
        })
    }
}

/// Regression: a renewed ticket in a "pending" answer was dropped, so the next poll
/// asked about the old ticket and failed for ever.
#[tokio::test]
async fn a_renewed_registry_ticket_is_kept_for_the_next_poll() {
    let world = world();
    let registry = RenewingRegistry::default();
    let (id, session) = simplified(&world).await;
    world
        .portal
        .submit_documents(&session, &documents(SNILS, PASSPORT), &registry)
        .await
        .unwrap();

    let first = world.portal.poll_verifications(&registry).await.unwrap();
    let second = world.portal.poll_verifications(&registry).await.unwrap();

    assert_eq!((first.pending, first.failed), (1, 0));
    assert_eq!((second.verified, second.failed), (1, 0), "{second:?}");
    assert_eq!(tier_of(&world, id).await, Tier::Standard);
}

#[tokio::test]
async fn a_pending_answer_with_the_same_ticket_writes_nothing() {
    let world = world();
    let slow = registry(&world).pending_for(Duration::minutes(5));
    let (id, session) = simplified(&world).await;
    world
        .portal
        .submit_documents(&session, &documents(SNILS, PASSPORT), &slow)
        .await
        .unwrap();
    let before = snapshot(&world, id).await;

    let report = world.portal.poll_verifications(&slow).await.unwrap();
    let status = world
        .portal
        .verification_status(&session, &slow)
        .await
        .unwrap();

    assert_eq!(report.pending, 1);
    assert_eq!(status.status, VerificationStatus::Pending);
    assert_eq!(snapshot(&world, id).await, before);
}

#[tokio::test]
async fn at_most_three_activation_letters_in_thirty_days() {
    let world = world();
    let (id, session) = standard(&world).await;
    let portal = &world.portal;
    for _ in 0..3 {
        world.clock.advance(Duration::days(1));
        portal
            .request_activation_code(&session, ADDRESS)
            .await
            .unwrap();
    }
    let before = snapshot(&world, id).await;
    let letters = world.sender.messages_to(&postal()).len();
    let fourth = portal.request_activation_code(&session, ADDRESS).await;
    // The window opened with the first letter, 28 days before its end.
    assert!(
        matches!(fourth, Err(Error::Throttled { retry_after }) if retry_after == Duration::days(28)),
        "{fourth:?}"
    );
    assert_eq!(snapshot(&world, id).await, before, "nothing written");
    assert_eq!(world.sender.messages_to(&postal()).len(), letters);

    world.clock.advance(Duration::days(28));
    portal
        .request_activation_code(&session, ADDRESS)
        .await
        .unwrap();
}
