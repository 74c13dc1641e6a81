//! The conformance suite every [`Store`] must pass (feature `testkit`).
//!
//! Each check is an `async fn` named after the property it proves; it builds its own
//! records, works on the store it is given, and panics with a message naming the
//! property when the store breaks it. [`run_all`] runs every check, each on a fresh
//! store from the factory. A third-party store runs it from a test:
//!
//! ```no_run
//! # async fn demo() {
//! use portal_auth::store::{MemoryStore, testkit};
//!
//! testkit::run_all(|| async { MemoryStore::new() }).await;
//! # }
//! ```
//!
//! The concurrent checks spawn tasks, so they need a multi-threaded Tokio runtime
//! (`#[tokio::test(flavor = "multi_thread")]`) to mean anything.
//!
//! Records are compared through their JSON form, which holds every field.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;

use serde::Serialize;
use time::{Date, Duration, Month, OffsetDateTime, Time};

use super::{Changeset, CounterKey, Store, StoreError};
use crate::account::{
    Account, AccountId, Contact, CredentialStamp, Documents, LookupKey, PersonName,
    SecondFactorMethod, SecurityQuestion, Tier, TwoFactor,
};
use crate::audit::{AuditEvent, AuditKind, LoginFailure, OperatorRef};
use crate::flow::code::SentCode;
use crate::flow::{Flow, FlowId, FlowKind, FlowState};
use crate::identity::{Email, Inn, Passport, Phone, Snils};
use crate::lang::Lang;
use crate::otp::{CodeDigest, CodeKey, CodeKind, CodePolicy, TotpSecret};
use crate::password::PasswordHash;
use crate::random::os_rng;

mod journey;

pub use journey::portal_flows_run_on_the_store;

/// Runs every check of the suite, each on a fresh store from `make`.
///
/// # Panics
///
/// When the store breaks a property; the message names it.
pub async fn run_all<S, F, Fut>(make: F)
where
    S: Store + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    accounts_round_trip_every_field(&make().await).await;
    flows_round_trip_every_field(&make().await).await;
    flows_are_listed_by_kind_and_account_oldest_first(&make().await).await;
    accounts_are_found_by_every_login_id(&make().await).await;
    lookup_keys_follow_account_updates(&make().await).await;
    identifiers_of_another_account_are_refused(&make().await).await;
    stale_versions_conflict_and_write_nothing(&make().await).await;
    a_failing_part_rolls_back_the_whole_changeset(&make().await).await;
    counters_count_within_their_window_and_reset(&make().await).await;
    audit_events_keep_their_order(&make().await).await;
    purge_removes_only_expired_records(&make().await).await;
    concurrent_increments_lose_no_update(Arc::new(make().await), 8, 25).await;
    one_of_sixteen_racing_steps_wins(Arc::new(make().await)).await;
    portal_flows_run_on_the_store(Arc::new(make().await)).await;
}

/// Every field of an account comes back as it was written, and updates bump the
/// version by one.
///
/// # Panics
///
/// When the store breaks the property.
pub async fn accounts_round_trip_every_field<S: Store>(store: &S) {
    let mut account = sample_account(0);
    ok(
        store.apply(insert_account(account.clone())).await,
        "insert account",
    );
    account.set_version(1);
    let stored = ok(store.account(account.id()).await, "read account");
    assert_same(stored.as_ref(), Some(&account), "account round trip");

    account.must_change_password = true;
    account.two_factor = None;
    account.bump_stamp();
    let mut changes = Changeset::default();
    changes.update_account(account.clone());
    ok(store.apply(changes).await, "update account");
    account.set_version(2);
    let stored = ok(store.account(account.id()).await, "read updated account");
    assert_same(
        stored.as_ref(),
        Some(&account),
        "updated account round trip",
    );

    let missing = ok(
        store.account(AccountId::random(&mut os_rng())).await,
        "read",
    );
    assert!(missing.is_none(), "an unknown account id must find nothing");
}

/// Every kind of flow state comes back as it was written, with and without an
/// account, and updates bump the version by one.
///
/// # Panics
///
/// When the store breaks the property.
pub async fn flows_round_trip_every_field<S: Store>(store: &S) {
    let owner = Some(AccountId::random(&mut os_rng()));
    for (index, kind) in FLOW_KINDS.into_iter().enumerate() {
        let account = if index % 2 == 0 { owner } else { None };
        let mut flow = sample_flow(kind, account, base_time());
        let mut changes = Changeset::default();
        changes.insert_flow(flow.clone());
        ok(store.apply(changes).await, "insert flow");
        flow.set_version(1);
        let stored = ok(store.flow(flow.id()).await, "read flow");
        assert_same(stored.as_ref(), Some(&flow), "flow round trip");

        flow.expires_at += Duration::minutes(3);
        flow.account = owner;
        let mut changes = Changeset::default();
        changes.update_flow(flow.clone());
        ok(store.apply(changes).await, "update flow");
        flow.set_version(2);
        let stored = ok(store.flow(flow.id()).await, "read updated flow");
        assert_same(stored.as_ref(), Some(&flow), "updated flow round trip");
    }
}

/// `flows_by_kind` and `flows_of_account` list the right flows, oldest first, and
/// `flows_by_kind` honours its limit.
///
/// # Panics
///
/// When the store breaks the property.
pub async fn flows_are_listed_by_kind_and_account_oldest_first<S: Store>(store: &S) {
    let owner = AccountId::random(&mut os_rng());
    let mut changes = Changeset::default();
    let mut expected = Vec::new();
    for age in [3, 1, 2] {
        let created = base_time() - Duration::minutes(age);
        let flow = sample_flow(FlowKind::SettingsCode, Some(owner), created);
        expected.push((created, flow.id()));
        changes.insert_flow(flow);
    }
    changes.insert_flow(sample_flow(FlowKind::Registration, None, base_time()));
    ok(store.apply(changes).await, "insert flows");
    expected.sort();
    let expected: Vec<FlowId> = expected.into_iter().map(|(_, id)| id).collect();

    let by_kind = ok(
        store.flows_by_kind(FlowKind::SettingsCode, 10).await,
        "by kind",
    );
    assert_eq!(ids(&by_kind), expected, "flows_by_kind lists oldest first");
    let limited = ok(
        store.flows_by_kind(FlowKind::SettingsCode, 2).await,
        "limit",
    );
    assert_eq!(
        ids(&limited),
        expected[..2],
        "flows_by_kind honours its limit"
    );
    let of_account = ok(store.flows_of_account(owner).await, "of account");
    assert_eq!(
        ids(&of_account),
        expected,
        "flows_of_account lists oldest first"
    );
    let none = ok(
        store.flows_by_kind(FlowKind::TotpEnrolment, 10).await,
        "none",
    );
    assert!(none.is_empty(), "flows_by_kind lists only its kind");
}

/// An account is found by its confirmed phone, confirmed e-mail, SNILS, INN and
/// passport; an unconfirmed contact and an unknown identifier find nothing.
///
/// # Panics
///
/// When the store breaks the property.
pub async fn accounts_are_found_by_every_login_id<S: Store>(store: &S) {
    let account = sample_account(0);
    let mut other = sample_account(1);
    other.email = Some(Contact {
        value: parse::<Email>("unconfirmed@example.org"),
        confirmed: false,
    });
    let mut changes = insert_account(account.clone());
    changes.insert_account(other.clone());
    ok(store.apply(changes).await, "insert accounts");

    let keys = account.lookup_keys();
    assert_eq!(
        keys.len(),
        5,
        "the sample account has every kind of login id"
    );
    for key in keys {
        let found = ok(store.account_by_key(&key).await, "lookup");
        assert_eq!(
            found.map(|a| a.id()),
            Some(account.id()),
            "lookup by {} finds its account",
            key.kind()
        );
    }
    let unconfirmed = LookupKey::Email(parse("unconfirmed@example.org"));
    let found = ok(store.account_by_key(&unconfirmed).await, "lookup");
    assert!(found.is_none(), "an unconfirmed contact finds no account");
    let unknown = LookupKey::Phone(parse("+79990001122"));
    let found = ok(store.account_by_key(&unknown).await, "lookup");
    assert!(found.is_none(), "an unknown phone finds no account");
}

/// An update that drops or changes an identifier releases the old one and claims
/// the new one.
///
/// # Panics
///
/// When the store breaks the property.
pub async fn lookup_keys_follow_account_updates<S: Store>(store: &S) {
    let mut account = sample_account(0);
    ok(
        store.apply(insert_account(account.clone())).await,
        "insert account",
    );
    account.set_version(1);
    let old_phone = LookupKey::Phone(parse(PHONES[0]));
    let new_phone: Phone = parse("+79005554433");
    account.phone = Some(Contact {
        value: new_phone.clone(),
        confirmed: true,
    });
    account.documents.inn = None;
    let mut changes = Changeset::default();
    changes.update_account(account.clone());
    ok(store.apply(changes).await, "update account");

    let found = ok(store.account_by_key(&old_phone).await, "lookup");
    assert!(
        found.is_none(),
        "a replaced phone no longer finds the account"
    );
    let found = ok(
        store.account_by_key(&LookupKey::Inn(parse(INNS[0]))).await,
        "lookup",
    );
    assert!(found.is_none(), "a removed INN no longer finds the account");
    let found = ok(
        store.account_by_key(&LookupKey::Phone(new_phone)).await,
        "lookup",
    );
    assert_eq!(
        found.map(|a| a.id()),
        Some(account.id()),
        "the new phone finds it"
    );

    let mut newcomer = sample_account(1);
    newcomer.phone = Some(Contact {
        value: parse(PHONES[0]),
        confirmed: true,
    });
    ok(
        store.apply(insert_account(newcomer)).await,
        "a released phone is free",
    );
}

/// A second account may not claim a confirmed phone, confirmed e-mail, SNILS, INN or
/// passport another account holds; the refusal names the kind and writes nothing.
///
/// # Panics
///
/// When the store breaks the property.
pub async fn identifiers_of_another_account_are_refused<S: Store>(store: &S) {
    let holder = sample_account(0);
    ok(
        store.apply(insert_account(holder.clone())).await,
        "insert holder",
    );

    for kind in ["phone", "email", "snils", "inn", "passport"] {
        let mut rival = sample_account(1);
        match kind {
            "phone" => rival.phone.clone_from(&holder.phone),
            "email" => rival.email.clone_from(&holder.email),
            "snils" => rival.documents.snils.clone_from(&holder.documents.snils),
            "inn" => rival.documents.inn.clone_from(&holder.documents.inn),
            _ => rival
                .documents
                .passport
                .clone_from(&holder.documents.passport),
        }
        let mut changes = insert_account(rival.clone());
        changes.audit(sample_event(Some(rival.id()), 0));
        let result = store.apply(changes).await;
        assert!(
            matches!(result, Err(StoreError::Duplicate { kind: refused }) if refused == kind),
            "a second account with the same {kind} is refused as a duplicate {kind}: {result:?}"
        );
        let written = ok(store.account(rival.id()).await, "read");
        assert!(
            written.is_none(),
            "a refused account is not written ({kind})"
        );
        let events = ok(store.audit_events(rival.id()).await, "events");
        assert!(
            events.is_empty(),
            "a refused changeset appends no event ({kind})"
        );
    }

    let mut sharer = sample_account(1);
    sharer.phone = Some(Contact {
        value: parse(PHONES[0]),
        confirmed: false,
    });
    ok(
        store.apply(insert_account(sharer)).await,
        "an unconfirmed copy is allowed",
    );

    let mut holder_v1 = holder.clone();
    holder_v1.set_version(1);
    holder_v1.bump_stamp();
    let mut changes = Changeset::default();
    changes.update_account(holder_v1);
    ok(
        store.apply(changes).await,
        "an account may keep its own identifiers",
    );
}

/// An update or delete at a stale version, or an insert of an existing id, fails with
/// a conflict and writes nothing of its changeset.
///
/// # Panics
///
/// When the store breaks the property.
pub async fn stale_versions_conflict_and_write_nothing<S: Store>(store: &S) {
    let mut account = sample_account(0);
    let mut flow = sample_flow(FlowKind::SettingsCode, Some(account.id()), base_time());
    let mut changes = insert_account(account.clone());
    changes.insert_flow(flow.clone());
    ok(store.apply(changes).await, "insert");
    account.set_version(1);
    flow.set_version(1);

    let mut fresh = account.clone();
    fresh.bump_stamp();
    let mut changes = Changeset::default();
    changes.update_account(fresh);
    ok(store.apply(changes).await, "first update wins");

    let bystander = sample_flow(FlowKind::Registration, None, base_time());
    let key = counter_key("stale");
    let mut stale = Changeset::default();
    stale.update_account(account.clone());
    stale.insert_flow(bystander.clone());
    stale.count(key.clone(), base_time(), Duration::minutes(5));
    stale.audit(sample_event(Some(account.id()), 1));
    expect_conflict(
        &store.apply(stale).await,
        "an account update at a stale version",
    );
    assert_untouched(store, &bystander, &key, account.id(), 0).await;

    let mut once = flow.clone();
    once.expires_at += Duration::minutes(1);
    let mut changes = Changeset::default();
    changes.update_flow(once);
    ok(store.apply(changes).await, "flow update");
    let mut stale = Changeset::default();
    stale.update_flow(flow.clone());
    stale.insert_flow(bystander.clone());
    expect_conflict(
        &store.apply(stale).await,
        "a flow update at a stale version",
    );
    let mut stale = Changeset::default();
    stale.delete_flow(&flow);
    stale.insert_flow(bystander.clone());
    expect_conflict(
        &store.apply(stale).await,
        "a flow delete at a stale version",
    );
    let mut twice = Changeset::default();
    twice.insert_flow(flow.clone());
    expect_conflict(
        &store.apply(twice).await,
        "an insert of an existing flow id",
    );
    expect_conflict(
        &store.apply(insert_account(account.clone())).await,
        "an insert of an existing account id",
    );
    let mut ghost = sample_flow(FlowKind::Registration, None, base_time());
    ghost.set_version(1);
    let mut changes = Changeset::default();
    changes.update_flow(ghost);
    expect_conflict(&store.apply(changes).await, "an update of a missing flow");
    assert_untouched(store, &bystander, &key, account.id(), 0).await;

    let stored = ok(store.flow(flow.id()).await, "read").map(|f| f.version());
    assert_eq!(
        stored,
        Some(2),
        "the refused writes left the flow at its version"
    );
}

/// When the last part of a changeset fails, its accounts, flows, counters and audit
/// events are all absent afterwards.
///
/// # Panics
///
/// When the store breaks the property.
pub async fn a_failing_part_rolls_back_the_whole_changeset<S: Store>(store: &S) {
    let holder = sample_account(0);
    ok(
        store.apply(insert_account(holder.clone())).await,
        "insert holder",
    );

    let newcomer = sample_account(1);
    let flow = sample_flow(FlowKind::Registration, None, base_time());
    let key = counter_key("atomic");
    let mut changes = insert_account(newcomer.clone());
    changes.insert_flow(flow.clone());
    changes.count(key.clone(), base_time(), Duration::minutes(5));
    changes.audit(sample_event(Some(newcomer.id()), 2));
    let mut ghost = sample_flow(FlowKind::SettingsCode, None, base_time());
    ghost.set_version(4);
    changes.update_flow(ghost);
    expect_conflict(
        &store.apply(changes).await,
        "a changeset whose last part is stale",
    );
    assert_untouched(store, &flow, &key, newcomer.id(), 0).await;
    let written = ok(store.account(newcomer.id()).await, "read");
    assert!(
        written.is_none(),
        "the account of a failed changeset is not written"
    );

    let mut changes = insert_account(newcomer.clone());
    changes.insert_flow(flow.clone());
    changes.count(key.clone(), base_time(), Duration::minutes(5));
    let mut rival = sample_account(2);
    rival.documents.snils.clone_from(&holder.documents.snils);
    changes.insert_account(rival);
    let result = store.apply(changes).await;
    assert!(
        matches!(result, Err(StoreError::Duplicate { kind: "snils" })),
        "a duplicate in the last account refuses the changeset: {result:?}"
    );
    assert_untouched(store, &flow, &key, newcomer.id(), 0).await;
    let key_of_newcomer = LookupKey::Phone(parse(PHONES[1]));
    let found = ok(store.account_by_key(&key_of_newcomer).await, "lookup");
    assert!(found.is_none(), "no lookup key of a failed changeset stays");
}

/// Increments add one within the window and start over after it; a reset removes
/// the counter; a counter past its window reads as absent.
///
/// # Panics
///
/// When the store breaks the property.
pub async fn counters_count_within_their_window_and_reset<S: Store>(store: &S) {
    let key = counter_key("window");
    let window = Duration::minutes(10);
    let start = base_time();
    for minute in 0..3 {
        let mut changes = Changeset::default();
        changes.count(key.clone(), start + Duration::minutes(minute), window);
        ok(store.apply(changes).await, "increment");
    }
    let counter = ok(
        store.counter(&key, start + Duration::minutes(3)).await,
        "read",
    );
    let counter = counter.unwrap_or_else(|| panic!("a live counter reads back"));
    assert_eq!(
        counter.count, 3,
        "three increments in the window count three"
    );
    assert_eq!(
        counter.last_at,
        start + Duration::minutes(2),
        "last_at is the last one"
    );
    assert_eq!(
        counter.expires_at,
        start + window,
        "the window is kept, not extended"
    );

    let gone = ok(store.counter(&key, start + window).await, "read");
    assert!(
        gone.is_none(),
        "a counter reads as absent once its window ends"
    );

    let later = start + window + Duration::minutes(1);
    let mut changes = Changeset::default();
    changes.count(key.clone(), later, window);
    ok(store.apply(changes).await, "increment after the window");
    let counter = ok(store.counter(&key, later).await, "read");
    let counter = counter.unwrap_or_else(|| panic!("a restarted counter reads back"));
    assert_eq!(
        counter.count, 1,
        "an increment after the window starts over at one"
    );
    assert_eq!(
        counter.expires_at,
        later + window,
        "a restarted window is fresh"
    );

    let mut changes = Changeset::default();
    changes.reset(key.clone());
    ok(store.apply(changes).await, "reset");
    let reset = ok(store.counter(&key, later).await, "read");
    assert!(reset.is_none(), "a reset counter reads as absent");
}

/// Audit events of one account come back oldest first; the most recent events of
/// all come back newest last, at most the limit.
///
/// # Panics
///
/// When the store breaks the property.
pub async fn audit_events_keep_their_order<S: Store>(store: &S) {
    let account = AccountId::random(&mut os_rng());
    let other = AccountId::random(&mut os_rng());
    let events: Vec<AuditEvent> = (0..5)
        .map(|n| sample_event(Some(if n % 2 == 0 { account } else { other }), n))
        .collect();
    for event in &events {
        let mut changes = Changeset::default();
        changes.audit(event.clone());
        ok(store.apply(changes).await, "append event");
    }
    let anonymous = sample_event(None, 5);
    let mut changes = Changeset::default();
    changes.audit(anonymous.clone());
    ok(store.apply(changes).await, "append anonymous event");

    let mine = ok(store.audit_events(account).await, "events");
    let expected: Vec<AuditEvent> = events.iter().step_by(2).cloned().collect();
    assert_eq!(mine, expected, "an account's events come back oldest first");
    let recent = ok(store.recent_audit_events(3).await, "recent");
    let expected = vec![events[3].clone(), events[4].clone(), anonymous];
    assert_eq!(
        recent, expected,
        "recent events come back newest last, at most the limit"
    );
}

/// `purge_expired` removes flows and counters past their expiry and nothing else.
///
/// # Panics
///
/// When the store breaks the property.
pub async fn purge_removes_only_expired_records<S: Store>(store: &S) {
    let now = base_time();
    let mut old = sample_flow(FlowKind::Registration, None, now - Duration::hours(2));
    old.expires_at = now - Duration::seconds(1);
    let mut edge = sample_flow(FlowKind::SettingsCode, None, now - Duration::hours(1));
    edge.expires_at = now;
    let live = sample_flow(FlowKind::SettingsCode, None, now);
    let (stale_key, live_key) = (counter_key("stale"), counter_key("live"));
    let mut changes = Changeset::default();
    changes.insert_flow(old.clone());
    changes.insert_flow(edge.clone());
    changes.insert_flow(live.clone());
    changes.count(
        stale_key.clone(),
        now - Duration::hours(1),
        Duration::minutes(5),
    );
    changes.count(live_key.clone(), now, Duration::minutes(5));
    ok(store.apply(changes).await, "insert");

    let report = ok(store.purge_expired(now).await, "purge");
    assert_eq!(report.flows, 2, "flows expired at or before now are purged");
    assert_eq!(report.counters, 1, "counters whose window ended are purged");
    for gone in [&old, &edge] {
        assert!(
            ok(store.flow(gone.id()).await, "read").is_none(),
            "expired flow gone"
        );
    }
    assert!(
        ok(store.flow(live.id()).await, "read").is_some(),
        "a live flow stays"
    );
    let counter = ok(store.counter(&live_key, now).await, "read");
    assert!(counter.is_some(), "a live counter stays");
    let again = ok(store.purge_expired(now).await, "purge again");
    assert_eq!(
        (again.flows, again.counters),
        (0, 0),
        "a second purge finds nothing"
    );
}

/// `tasks` concurrent tasks each incrementing one counter `per_task` times leave it
/// at exactly `tasks × per_task`.
///
/// # Panics
///
/// When the store breaks the property, or a task panics.
pub async fn concurrent_increments_lose_no_update<S: Store + 'static>(
    store: Arc<S>,
    tasks: u32,
    per_task: u32,
) {
    let key = counter_key("concurrent");
    let at = base_time();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (store, key) = (Arc::clone(&store), key.clone());
            tokio::spawn(async move {
                for _ in 0..per_task {
                    let mut changes = Changeset::default();
                    changes.count(key.clone(), at, Duration::hours(1));
                    ok(store.apply(changes).await, "concurrent increment");
                }
            })
        })
        .collect();
    for handle in handles {
        ok(handle.await, "increment task");
    }
    let counter = ok(store.counter(&key, at).await, "read");
    assert_eq!(
        counter.map(|c| c.count),
        Some(tasks * per_task),
        "{tasks} tasks x {per_task} increments count exactly"
    );
}

/// Sixteen tasks that read the same flow and complete the same step at once: exactly
/// one commit wins, the fifteen others get a conflict, and only the winner's audit
/// event is written.
///
/// # Panics
///
/// When the store breaks the property, or a task panics.
pub async fn one_of_sixteen_racing_steps_wins<S: Store + 'static>(store: Arc<S>) {
    let account = AccountId::random(&mut os_rng());
    let flow = sample_flow(FlowKind::SettingsCode, Some(account), base_time());
    let mut changes = Changeset::default();
    changes.insert_flow(flow.clone());
    ok(store.apply(changes).await, "insert flow");

    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|n| {
            let (store, barrier, id) = (Arc::clone(&store), Arc::clone(&barrier), flow.id());
            tokio::spawn(async move {
                let read = ok(store.flow(id).await, "read flow");
                let mut read = read.unwrap_or_else(|| panic!("the raced flow exists"));
                barrier.wait().await;
                read.expires_at += Duration::seconds(1);
                let mut step = Changeset::default();
                step.update_flow(read);
                step.audit(sample_event(Some(account), n));
                store.apply(step).await
            })
        })
        .collect();
    let mut wins = 0;
    for handle in handles {
        match ok(handle.await, "racing task") {
            Ok(()) => wins += 1,
            Err(StoreError::Conflict) => {}
            Err(other) => panic!("a losing step fails with a conflict, not {other}"),
        }
    }
    assert_eq!(wins, 1, "exactly one of sixteen racing steps wins");
    let stored = ok(store.flow(flow.id()).await, "read").map(|f| f.version());
    assert_eq!(stored, Some(2), "the flow moved by exactly one step");
    let events = ok(store.audit_events(account).await, "events");
    assert_eq!(events.len(), 1, "only the winner's audit event is written");
}

/// What [`write_sample_records`] wrote, to compare after the store is reopened.
#[derive(Debug)]
pub struct SampleRecords {
    /// The account written.
    pub account: AccountId,
    /// The flow written.
    pub flow: FlowId,
    account_json: serde_json::Value,
    flow_json: serde_json::Value,
    events: Vec<AuditEvent>,
    counter: CounterKey,
}

/// Writes one account with every field set, one flow of it, a counter and two audit
/// events, for a persistence check: close the store, reopen it, then call
/// [`assert_sample_records`].
///
/// # Panics
///
/// When the store refuses the writes.
pub async fn write_sample_records<S: Store>(store: &S) -> SampleRecords {
    let mut account = sample_account(0);
    let mut flow = sample_flow(FlowKind::SecondFactorLogin, Some(account.id()), base_time());
    let events = vec![
        sample_event(Some(account.id()), 0),
        sample_event(Some(account.id()), 1),
    ];
    let counter = counter_key("persist");
    let mut changes = insert_account(account.clone());
    changes.insert_flow(flow.clone());
    changes.count(counter.clone(), base_time(), Duration::minutes(5));
    for event in &events {
        changes.audit(event.clone());
    }
    ok(store.apply(changes).await, "write sample records");
    account.set_version(1);
    flow.set_version(1);
    SampleRecords {
        account: account.id(),
        flow: flow.id(),
        account_json: json(&account),
        flow_json: json(&flow),
        events,
        counter,
    }
}

/// Checks that the store holds exactly what [`write_sample_records`] wrote.
///
/// # Panics
///
/// When a record is missing or differs.
pub async fn assert_sample_records<S: Store>(store: &S, written: &SampleRecords) {
    let account = ok(store.account(written.account).await, "read account");
    assert_eq!(
        account.map(|a| json(&a)),
        Some(written.account_json.clone()),
        "account kept"
    );
    let flow = ok(store.flow(written.flow).await, "read flow");
    assert_eq!(
        flow.map(|f| json(&f)),
        Some(written.flow_json.clone()),
        "flow kept"
    );
    let events = ok(store.audit_events(written.account).await, "read events");
    assert_eq!(events, written.events, "audit events kept in order");
    let counter = ok(
        store.counter(&written.counter, base_time()).await,
        "read counter",
    );
    assert_eq!(counter.map(|c| c.count), Some(1), "counter kept");
    let by_phone = LookupKey::Phone(parse(PHONES[0]));
    let found = ok(store.account_by_key(&by_phone).await, "lookup");
    assert_eq!(
        found.map(|a| a.id()),
        Some(written.account),
        "lookup keys kept"
    );
}

const PHONES: [&str; 3] = ["+79123456789", "+79123456780", "+79123456781"];
const EMAILS: [&str; 3] = ["anna@example.org", "boris@example.org", "vera@example.org"];
const SNILS: [&str; 3] = ["900-000-261 00", "900-000-262 00", "900-000-271 01"];
const INNS: [&str; 3] = ["7707083893", "500100732259", "7736050003"];
const PASSPORTS: [&str; 3] = ["4506 123456", "4506 654321", "4507 111111"];
const FLOW_KINDS: [FlowKind; 8] = [
    FlowKind::Registration,
    FlowKind::SecondFactorLogin,
    FlowKind::TotpEnrolment,
    FlowKind::SettingsCode,
    FlowKind::Recovery,
    FlowKind::ContactChange,
    FlowKind::DocumentVerification,
    FlowKind::ActivationCode,
];
/// An Argon2id PHC string at the portal's parameters (salt and output are filler).
const SAMPLE_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                           AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const SAMPLE_DIGEST: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

/// A fixed instant with a sub-second part, so stores must keep fractions.
fn base_time() -> OffsetDateTime {
    let date = Date::from_calendar_date(2030, Month::March, 14).unwrap_or(Date::MIN);
    let time = Time::from_hms_micro(9, 26, 53, 589_793).unwrap_or(Time::MIDNIGHT);
    date.with_time(time).assume_utc()
}

/// An account with every field set; `n` (0 to 2) picks identifiers no other sample
/// shares.
fn sample_account(n: usize) -> Account {
    let n = n % PHONES.len();
    Account {
        id: AccountId::random(&mut os_rng()),
        version: 0,
        name: PersonName {
            surname: "Иванова".into(),
            given_name: "Анна".into(),
            patronymic: Some("Сергеевна".into()),
        },
        birth_date: Date::from_calendar_date(1990, Month::May, 17).ok(),
        tier: Tier::Confirmed,
        phone: Some(Contact {
            value: parse(PHONES[n]),
            confirmed: true,
        }),
        email: Some(Contact {
            value: parse(EMAILS[n]),
            confirmed: true,
        }),
        documents: Documents {
            snils: Some(parse::<Snils>(SNILS[n])),
            inn: Some(parse::<Inn>(INNS[n])),
            passport: Some(parse::<Passport>(PASSPORTS[n])),
        },
        password_hash: ok(PasswordHash::parse(SAMPLE_HASH), "sample hash"),
        must_change_password: true,
        password_expires_at: Some(base_time() + Duration::hours(24)),
        credential_stamp: CredentialStamp::from_value(7),
        two_factor: Some(TwoFactor {
            method: SecondFactorMethod::Totp {
                secret: TotpSecret::from_bytes([42; crate::otp::TOTP_SECRET_LEN]),
                last_step: Some(63_000_000),
            },
            backup_codes: vec![ok(CodeDigest::from_base64url(SAMPLE_DIGEST), "digest")],
        }),
        security_question: Some(SecurityQuestion {
            question: "Девичья фамилия матери?".into(),
            answer_hash: ok(PasswordHash::parse(SAMPLE_HASH), "sample hash"),
        }),
        created_at: base_time() - Duration::days(30),
    }
}

/// A flow of `kind` with a real code digest and every field set.
fn sample_flow(kind: FlowKind, account: Option<AccountId>, created: OffsetDateTime) -> Flow {
    let id = FlowId::random(&mut os_rng());
    let key = CodeKey::from_bytes([9; crate::otp::CODE_KEY_LEN]);
    let policy = ok(
        CodePolicy::new(CodeKind::Numeric { digits: 6 }, Duration::minutes(5), 3),
        "code policy",
    );
    let (code, _) = SentCode::issue(&key, &policy, id, "sample", created, &mut os_rng());
    let code = json(&code);
    let state = match kind {
        FlowKind::Registration => serde_json::json!({
            "kind": "registration",
            "name": json(&sample_account(0).name),
            "target": { "Phone": json(&parse::<Phone>(PHONES[2])) },
            "extra_email": json(&parse::<Email>(EMAILS[2])),
            "lang": json(&Lang::En),
            "code": code,
            "taken": false,
            "confirmed": true,
        }),
        FlowKind::SecondFactorLogin => serde_json::json!({
            "kind": "second_factor_login",
            "stamp": 3,
            "client": "203.0.113.7",
            "sms": code,
        }),
        FlowKind::TotpEnrolment => serde_json::json!({
            "kind": "totp_enrolment",
            "stamp": 4,
            "secret": json(&TotpSecret::from_bytes([7; crate::otp::TOTP_SECRET_LEN])),
        }),
        FlowKind::SettingsCode => serde_json::json!({
            "kind": "settings_code",
            "stamp": 5,
            "code": code,
        }),
        FlowKind::Recovery => serde_json::json!({
            "kind": "recovery",
            "route": "document",
            "stage": { "Proof": {
                "code": code,
                "target": {
                    "channel": "email",
                    "masked": "a***@example.org",
                    "phone": null,
                    "email": json(&parse::<Email>(EMAILS[0])),
                },
            } },
            "document_proven": true,
            "answer_proven": false,
            "lang": json(&Lang::Ru),
            "client": "198.51.100.20",
        }),
        FlowKind::ContactChange => serde_json::json!({
            "kind": "contact_change",
            "stamp": 6,
            "new": { "Phone": json(&parse::<Phone>(PHONES[1])) },
            "code": code,
            "operator": { "operator_id": "op-1", "centre_id": "mfc-7" },
        }),
        FlowKind::DocumentVerification => serde_json::json!({
            "kind": "document_verification",
            "submission": json(&sample_submission()),
            "outcome": { "status": "pending", "ticket": "registry-ticket-42" },
        }),
        FlowKind::ActivationCode => serde_json::json!({
            "kind": "activation_code",
            "code": code,
        }),
    };
    let state: FlowState = ok(serde_json::from_value(state), "sample flow state");
    Flow {
        id,
        version: 0,
        account,
        created_at: created,
        expires_at: created + Duration::minutes(15),
        state,
    }
}

/// Documents as a registry receives them, with every field set.
fn sample_submission() -> crate::tiers::DocumentSubmission {
    let request = crate::tiers::DocumentRequest {
        snils: SNILS[0].into(),
        passport: PASSPORTS[0].into(),
        issued_on: "15.03.2011".into(),
        authority_code: "770-001".into(),
        birth_date: "17.05.1990".into(),
        birth_place: "г. Москва".into(),
        inn: Some(INNS[1].into()),
    };
    ok(request.validate(base_time().date()), "sample documents")
}

fn sample_event(account: Option<AccountId>, n: u32) -> AuditEvent {
    let kind = match n % 3 {
        0 => AuditKind::LoginFailed {
            reason: LoginFailure::WrongPassword,
        },
        1 => AuditKind::BackupCodeUsed {
            remaining: usize::try_from(n).unwrap_or(0),
        },
        _ => AuditKind::PasswordChanged,
    };
    AuditEvent {
        at: base_time() + Duration::seconds(i64::from(n)),
        account,
        client: Some(format!("198.51.100.{n}")),
        operator: (n % 2 == 1).then(|| OperatorRef {
            operator_id: format!("op-{n}"),
            centre_id: "mfc-7".into(),
        }),
        kind,
    }
}

fn insert_account(account: Account) -> Changeset {
    let mut changes = Changeset::default();
    changes.insert_account(account);
    changes
}

fn counter_key(subject: &str) -> CounterKey {
    CounterKey::new("testkit", subject)
}

fn ids(flows: &[Flow]) -> Vec<FlowId> {
    flows.iter().map(Flow::id).collect()
}

/// Nothing of a refused changeset is visible: the flow, the counter, the events.
async fn assert_untouched<S: Store>(
    store: &S,
    flow: &Flow,
    key: &CounterKey,
    account: AccountId,
    events: usize,
) {
    let written = ok(store.flow(flow.id()).await, "read flow");
    assert!(
        written.is_none(),
        "a flow of a refused changeset is not written"
    );
    let counter = ok(store.counter(key, base_time()).await, "read counter");
    assert!(
        counter.is_none(),
        "a counter of a refused changeset is not counted"
    );
    let written = ok(store.audit_events(account).await, "read events");
    assert_eq!(
        written.len(),
        events,
        "no event of a refused changeset is appended"
    );
}

fn expect_conflict(result: &Result<(), StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "{what} fails with a conflict: {result:?}"
    );
}

fn assert_same<T: Serialize>(stored: Option<&T>, expected: Option<&T>, what: &str) {
    assert_eq!(
        stored.map(json),
        expected.map(json),
        "{what} keeps every field"
    );
}

fn json<T: Serialize>(value: &T) -> serde_json::Value {
    ok(serde_json::to_value(value), "serialise")
}

fn parse<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: Display,
{
    text.parse()
        .unwrap_or_else(|error| panic!("sample value {text:?} is valid: {error}"))
}

fn ok<T, E: Display>(result: Result<T, E>, what: &str) -> T {
    result.unwrap_or_else(|error| panic!("{what} failed: {error}"))
}
