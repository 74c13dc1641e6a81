//! Races on one recovery that really interleave: a store wrapper holds each racer at
//! its read of the flow until both have read it, so both decide on the same version and
//! only the store's optimistic check can keep the code single-use.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{PASSWORD, PHONE, START, config, password, to_phone};
use portal_auth::flow::Flow;
use portal_auth::notify::{MessageKind, RecordingSender};
use portal_auth::store::{Changeset, Counter, CounterKey, PurgeReport, StoreError};
use portal_auth::{
    Account, AccountId, AlwaysPass, AuditEvent, AuditKind, Error, FlowId, FlowKind, LookupKey,
    ManualClock, MemoryStore, OneTimeCode, Portal, RecoveryRequest, RecoveryStart, RecoveryStep,
    Store,
};
use time::OffsetDateTime;
use tokio::sync::Barrier;

/// A memory store whose next `armed` reads of a flow wait for each other.
struct RendezvousStore {
    inner: Arc<MemoryStore>,
    armed: AtomicUsize,
    barrier: Barrier,
}

impl RendezvousStore {
    fn new() -> Self {
        Self {
            inner: Arc::new(MemoryStore::new()),
            armed: AtomicUsize::new(0),
            barrier: Barrier::new(2),
        }
    }

    /// The next two flow reads wait until both have happened.
    fn arm(&self) {
        self.armed.store(2, Ordering::SeqCst);
    }
}

impl Store for RendezvousStore {
    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        self.inner.account(id).await
    }

    async fn account_by_key(&self, key: &LookupKey) -> Result<Option<Account>, StoreError> {
        self.inner.account_by_key(key).await
    }

    async fn flow(&self, id: FlowId) -> Result<Option<Flow>, StoreError> {
        let read = self.inner.flow(id).await;
        let armed = self
            .armed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if armed {
            self.barrier.wait().await;
        }
        read
    }

    async fn flows_by_kind(&self, kind: FlowKind, limit: usize) -> Result<Vec<Flow>, StoreError> {
        self.inner.flows_by_kind(kind, limit).await
    }

    async fn flows_of_account(&self, account: AccountId) -> Result<Vec<Flow>, StoreError> {
        self.inner.flows_of_account(account).await
    }

    async fn counter(
        &self,
        key: &CounterKey,
        now: OffsetDateTime,
    ) -> Result<Option<Counter>, StoreError> {
        self.inner.counter(key, now).await
    }

    async fn audit_events(&self, account: AccountId) -> Result<Vec<AuditEvent>, StoreError> {
        self.inner.audit_events(account).await
    }

    async fn recent_audit_events(&self, limit: usize) -> Result<Vec<AuditEvent>, StoreError> {
        self.inner.recent_audit_events(limit).await
    }

    async fn apply(&self, changes: Changeset) -> Result<(), StoreError> {
        self.inner.apply(changes).await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<PurgeReport, StoreError> {
        self.inner.purge_expired(now).await
    }
}

type RacePortal = Portal<Arc<RendezvousStore>, RecordingSender, AlwaysPass, ManualClock>;

struct Race {
    portal: Arc<RacePortal>,
    store: Arc<RendezvousStore>,
    sender: RecordingSender,
}

const NEW_PASSWORD: &str = "Novyj-Parol-2027!";

/// A registered account and a recovery of it started by phone; the reply carries the
/// flow.
async fn recovery_started() -> (Race, AccountId, FlowId) {
    let store = Arc::new(RendezvousStore::new());
    let sender = RecordingSender::new();
    let portal = Portal::new(
        config(),
        Arc::clone(&store),
        sender.clone(),
        AlwaysPass,
        ManualClock::new(START),
    )
    .unwrap();
    let race = Race {
        portal: Arc::new(portal),
        store,
        sender,
    };
    let started = race
        .portal
        .start_registration(&common::request(Some(PHONE), None))
        .await
        .unwrap();
    let code = race.code();
    race.portal
        .confirm_registration(started.flow, &code)
        .await
        .unwrap();
    let account = race
        .portal
        .complete_registration(started.flow, &password(PASSWORD), &password(PASSWORD))
        .await
        .unwrap()
        .account;
    let step = race
        .portal
        .start_recovery(&RecoveryRequest {
            start: RecoveryStart::Contact(PHONE.into()),
            captcha: "token".into(),
            client: None,
        })
        .await
        .unwrap();
    let RecoveryStep::ProofSent { flow, .. } = step else {
        panic!("{step:?}")
    };
    (race, account, flow)
}

impl Race {
    fn code(&self) -> OneTimeCode {
        self.sender
            .last_to(&to_phone(PHONE))
            .and_then(|m| m.code().cloned())
            .unwrap()
    }

    /// Runs `call` twice at once, both held at their flow read until both got there.
    async fn twice<F, T>(&self, call: F) -> [Result<T, Error>; 2]
    where
        F: Fn(Arc<RacePortal>) -> tokio::task::JoinHandle<Result<T, Error>>,
    {
        self.store.arm();
        let first = call(Arc::clone(&self.portal));
        let second = call(Arc::clone(&self.portal));
        [first.await.unwrap(), second.await.unwrap()]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_racers_with_the_same_right_code_on_the_same_read_let_exactly_one_through() {
    let (race, _, flow) = recovery_started().await;
    let code = race.code();

    let results = race
        .twice(|portal| {
            let code = code.clone();
            tokio::spawn(async move { portal.submit_recovery_code(flow, &code).await })
        })
        .await;

    let wins: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(wins.len(), 1, "{results:?}");
    assert!(
        matches!(wins[0], RecoveryStep::NewPassword { .. }),
        "{results:?}"
    );
    assert!(
        results.iter().any(|r| matches!(r, Err(Error::Conflict))),
        "the loser lost at the store: {results:?}"
    );
    let retry = race.portal.submit_recovery_code(flow, &code).await;
    assert!(matches!(retry, Err(Error::WrongStep)), "{retry:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_racing_completions_set_the_password_once() {
    let (race, account, flow) = recovery_started().await;
    let code = race.code();
    race.portal.submit_recovery_code(flow, &code).await.unwrap();
    race.sender.clear();

    let results = race
        .twice(|portal| {
            tokio::spawn(async move {
                let new = password(NEW_PASSWORD);
                portal.complete_recovery(flow, &new, &new).await
            })
        })
        .await;

    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results.iter().any(|r| matches!(r, Err(Error::Conflict))));
    let events = race.portal.audit_events(account).await.unwrap();
    let completed = events
        .iter()
        .filter(|e| matches!(e.kind, AuditKind::RecoveryCompleted { .. }))
        .count();
    assert_eq!(completed, 1);
    let notices = race
        .sender
        .messages_to(&to_phone(PHONE))
        .into_iter()
        .filter(|m| m.kind() == MessageKind::PasswordChanged)
        .count();
    assert_eq!(notices, 1, "only the committed completion sends its notice");
}
