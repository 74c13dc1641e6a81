//! An in-process store: for tests, examples and single-process hosts that can afford
//! to lose their data on restart.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;

use super::{
    AccountWrite, Changeset, Counter, CounterKey, CounterWrite, FlowWrite, PurgeReport, Store,
    StoreError,
};
use crate::account::{Account, AccountId, LookupKey};
use crate::audit::AuditEvent;
use crate::flow::{Flow, FlowId, FlowKind};

/// A [`Store`] held in memory behind one mutex; it keeps the whole contract.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

/// Record counts of a [`MemoryStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryStats {
    /// Accounts.
    pub accounts: usize,
    /// Flows, live or not yet purged.
    pub flows: usize,
    /// Counters, live or not yet purged.
    pub counters: usize,
    /// Audit events.
    pub audit_events: usize,
    /// Changesets committed, empty ones included; refused ones do not count.
    pub commits: u64,
}

#[derive(Debug, Default)]
struct Inner {
    accounts: HashMap<AccountId, Account>,
    index: HashMap<LookupKey, AccountId>,
    flows: HashMap<FlowId, Flow>,
    counters: HashMap<CounterKey, Counter>,
    audit: Vec<AuditEvent>,
    commits: u64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many records of each kind the store holds: for tests that prove a refused
    /// step wrote nothing.
    pub fn stats(&self) -> MemoryStats {
        let inner = self.lock();
        MemoryStats {
            accounts: inner.accounts.len(),
            flows: inner.flows.len(),
            counters: inner.counters.len(),
            audit_events: inner.audit.len(),
            commits: inner.commits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied changeset: `apply`
        // validates everything before its first write, and writes cannot panic.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    /// Checks every version and uniqueness rule before anything is written.
    fn validate(&self, changes: &Changeset) -> Result<(), StoreError> {
        let mut claimed: HashMap<LookupKey, AccountId> = HashMap::new();
        for write in &changes.accounts {
            let account = match write {
                AccountWrite::Insert(account) => {
                    if self.accounts.contains_key(&account.id()) {
                        return Err(StoreError::Conflict);
                    }
                    account
                }
                AccountWrite::Update(account) => {
                    let stored = self
                        .accounts
                        .get(&account.id())
                        .ok_or(StoreError::Conflict)?;
                    if stored.version() != account.version() {
                        return Err(StoreError::Conflict);
                    }
                    account
                }
            };
            for key in account.lookup_keys() {
                let owner = self.index.get(&key).copied();
                if owner.is_some_and(|owner| owner != account.id()) {
                    return Err(StoreError::Duplicate { kind: key.kind() });
                }
                let kind = key.kind();
                if *claimed.entry(key).or_insert(account.id()) != account.id() {
                    return Err(StoreError::Duplicate { kind });
                }
            }
        }
        for write in &changes.flows {
            match write {
                FlowWrite::Insert(flow) => {
                    if self.flows.contains_key(&flow.id()) {
                        return Err(StoreError::Conflict);
                    }
                }
                FlowWrite::Update(flow) => {
                    let stored = self.flows.get(&flow.id()).ok_or(StoreError::Conflict)?;
                    if stored.version() != flow.version() {
                        return Err(StoreError::Conflict);
                    }
                }
                FlowWrite::Delete { id, version } => {
                    let stored = self.flows.get(id).ok_or(StoreError::Conflict)?;
                    if stored.version() != *version {
                        return Err(StoreError::Conflict);
                    }
                }
            }
        }
        Ok(())
    }

    fn write_account(&mut self, mut account: Account, version: u64) {
        if let Some(previous) = self.accounts.get(&account.id()) {
            for key in previous.lookup_keys() {
                self.index.remove(&key);
            }
        }
        for key in account.lookup_keys() {
            self.index.insert(key, account.id());
        }
        account.set_version(version);
        self.accounts.insert(account.id(), account);
    }

    fn count(&mut self, key: CounterKey, at: OffsetDateTime, window: time::Duration) {
        let counter = self.counters.entry(key).or_insert(Counter {
            count: 0,
            last_at: at,
            expires_at: at,
        });
        if counter.expires_at <= at {
            *counter = Counter {
                count: 0,
                last_at: at,
                expires_at: at + window,
            };
        }
        counter.count = counter.count.saturating_add(1);
        counter.last_at = at;
    }
}

impl Store for MemoryStore {
    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        Ok(self.lock().accounts.get(&id).cloned())
    }

    async fn account_by_key(&self, key: &LookupKey) -> Result<Option<Account>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .index
            .get(key)
            .and_then(|id| inner.accounts.get(id))
            .cloned())
    }

    async fn flow(&self, id: FlowId) -> Result<Option<Flow>, StoreError> {
        Ok(self.lock().flows.get(&id).cloned())
    }

    async fn flows_by_kind(&self, kind: FlowKind, limit: usize) -> Result<Vec<Flow>, StoreError> {
        let inner = self.lock();
        let mut flows: Vec<Flow> = inner
            .flows
            .values()
            .filter(|flow| flow.kind() == kind)
            .cloned()
            .collect();
        flows.sort_by_key(|flow| (flow.created_at(), flow.id()));
        flows.truncate(limit);
        Ok(flows)
    }

    async fn flows_of_account(&self, account: AccountId) -> Result<Vec<Flow>, StoreError> {
        let inner = self.lock();
        let mut flows: Vec<Flow> = inner
            .flows
            .values()
            .filter(|flow| flow.account() == Some(account))
            .cloned()
            .collect();
        flows.sort_by_key(|flow| (flow.created_at(), flow.id()));
        Ok(flows)
    }

    async fn counter(
        &self,
        key: &CounterKey,
        now: OffsetDateTime,
    ) -> Result<Option<Counter>, StoreError> {
        Ok(self
            .lock()
            .counters
            .get(key)
            .copied()
            .filter(|c| c.expires_at > now))
    }

    async fn audit_events(&self, account: AccountId) -> Result<Vec<AuditEvent>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .audit
            .iter()
            .filter(|e| e.account == Some(account))
            .cloned()
            .collect())
    }

    async fn recent_audit_events(&self, limit: usize) -> Result<Vec<AuditEvent>, StoreError> {
        let inner = self.lock();
        let start = inner.audit.len().saturating_sub(limit);
        Ok(inner.audit[start..].to_vec())
    }

    async fn apply(&self, changes: Changeset) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.validate(&changes)?;

        for write in changes.accounts {
            match write {
                AccountWrite::Insert(account) => inner.write_account(account, 1),
                AccountWrite::Update(account) => {
                    let next = account.version() + 1;
                    inner.write_account(account, next);
                }
            }
        }
        for write in changes.flows {
            match write {
                FlowWrite::Insert(mut flow) => {
                    flow.set_version(1);
                    inner.flows.insert(flow.id(), flow);
                }
                FlowWrite::Update(mut flow) => {
                    flow.set_version(flow.version() + 1);
                    inner.flows.insert(flow.id(), flow);
                }
                FlowWrite::Delete { id, .. } => {
                    inner.flows.remove(&id);
                }
            }
        }
        for write in changes.counters {
            match write {
                CounterWrite::Increment { key, at, window } => inner.count(key, at, window),
                CounterWrite::Reset { key } => {
                    inner.counters.remove(&key);
                }
            }
        }
        inner.audit.extend(changes.audit);
        inner.commits += 1;
        Ok(())
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<PurgeReport, StoreError> {
        let mut inner = self.lock();
        let (flows, counters) = (inner.flows.len(), inner.counters.len());
        inner.flows.retain(|_, flow| flow.expires_at() > now);
        inner.counters.retain(|_, counter| counter.expires_at > now);
        Ok(PurgeReport {
            flows: (flows - inner.flows.len()) as u64,
            counters: (counters - inner.counters.len()) as u64,
        })
    }
}
