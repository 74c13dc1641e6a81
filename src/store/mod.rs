//! Persistence: the [`Store`] contract and the stores the crate ships.
//!
//! A flow step reads what it needs, decides, and commits everything it changed in
//! one [`Changeset`] through [`Store::apply`]. That single atomic write is what makes a
//! step safe under races: two requests completing the same step read the same
//! versions, and the second commit fails with [`StoreError::Conflict`] (which the
//! [`Portal`](crate::Portal) reports as [`Error::Conflict`](crate::Error::Conflict):
//! nothing was written, and the call can be retried).
//!
//! # Choosing a store
//!
//! | store | feature | for |
//! |---|---|---|
//! | [`MemoryStore`] | always | tests, examples, a process that may lose its data |
//! | `SqliteStore` | `sqlite` (default) | one host: one database file, or `:memory:` |
//! | `PostgresStore` | `postgres` | several app instances sharing one database |
//! | your own | — | implement [`Store`] and run `testkit::run_all` (feature `testkit`) |
//!
//! The SQL stores keep each account and flow whole as JSON beside the columns they
//! are queried by, confirmed contacts and documents in a `lookup_keys` table whose
//! primary key is the uniqueness contract, counters as single-statement upserts,
//! and audit events in commit order. Their schema ships as versioned migrations
//! (`migrations/` in the crate) applied by an explicit `migrate()` call at start-up,
//! which is safe from several processes at once. Expired flows and ended counters
//! stay until [`Store::purge_expired`], which the host schedules (every few minutes
//! is plenty; an expired flow already refuses every step).

mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "testkit")]
pub mod testkit;

use std::future::Future;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::account::{Account, AccountId, LookupKey};
use crate::audit::AuditEvent;
use crate::flow::{Flow, FlowId, FlowKind};

pub use memory::{MemoryStats, MemoryStore};
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// The unit of work of one flow step: everything it writes, committed atomically.
#[derive(Debug, Default)]
#[must_use]
pub struct Changeset {
    /// Accounts to insert or update.
    pub accounts: Vec<AccountWrite>,
    /// Flows to insert, update or delete.
    pub flows: Vec<FlowWrite>,
    /// Counters to increment or reset.
    pub counters: Vec<CounterWrite>,
    /// Audit events to append.
    pub audit: Vec<AuditEvent>,
}

impl Changeset {
    /// Whether the changeset writes nothing.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
            && self.flows.is_empty()
            && self.counters.is_empty()
            && self.audit.is_empty()
    }

    pub(crate) fn insert_account(&mut self, account: Account) -> &mut Self {
        self.accounts.push(AccountWrite::Insert(account));
        self
    }

    pub(crate) fn update_account(&mut self, account: Account) -> &mut Self {
        self.accounts.push(AccountWrite::Update(account));
        self
    }

    pub(crate) fn insert_flow(&mut self, flow: Flow) -> &mut Self {
        self.flows.push(FlowWrite::Insert(flow));
        self
    }

    pub(crate) fn update_flow(&mut self, flow: Flow) -> &mut Self {
        self.flows.push(FlowWrite::Update(flow));
        self
    }

    pub(crate) fn delete_flow(&mut self, flow: &Flow) -> &mut Self {
        self.flows.push(FlowWrite::Delete {
            id: flow.id(),
            version: flow.version(),
        });
        self
    }

    pub(crate) fn count(
        &mut self,
        key: CounterKey,
        at: OffsetDateTime,
        window: Duration,
    ) -> &mut Self {
        self.counters
            .push(CounterWrite::Increment { key, at, window });
        self
    }

    pub(crate) fn reset(&mut self, key: CounterKey) -> &mut Self {
        self.counters.push(CounterWrite::Reset { key });
        self
    }

    pub(crate) fn audit(&mut self, event: AuditEvent) -> &mut Self {
        self.audit.push(event);
        self
    }
}

/// A write to an account.
#[derive(Debug)]
#[non_exhaustive]
pub enum AccountWrite {
    /// A new account, stored with version 1 whatever its `version` field says.
    Insert(Account),
    /// An update of an account read at `account.version()`: the store writes it only
    /// if the stored version is still that one, and stores it with the next version.
    Update(Account),
}

/// A write to a flow.
#[derive(Debug)]
#[non_exhaustive]
pub enum FlowWrite {
    /// A new flow, stored with version 1.
    Insert(Flow),
    /// An update of a flow read at `flow.version()`, as for accounts.
    Update(Flow),
    /// Removal of a flow read at `version`.
    Delete {
        /// The flow.
        id: FlowId,
        /// The version it was read at.
        version: u64,
    },
}

/// A write to a counter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CounterWrite {
    /// Adds one. A counter that is missing or whose window ended at or before `at`
    /// starts again at one with a window ending at `at + window`; a live one keeps its
    /// window. `last_at` becomes `at` either way.
    Increment {
        /// Which counter.
        key: CounterKey,
        /// When the counted event happened.
        at: OffsetDateTime,
        /// How long a fresh count lives.
        window: Duration,
    },
    /// Removes the counter.
    Reset {
        /// Which counter.
        key: CounterKey,
    },
}

/// The name of a counter: what is counted, and for whom.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CounterKey(String);

impl CounterKey {
    /// A key from its stored text (for stores).
    pub fn from_stored(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn new(scope: &str, subject: &str) -> Self {
        Self(format!("{scope}:{subject}"))
    }
}

/// A live counter's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// Events counted in the live window.
    pub count: u32,
    /// When the last one was counted.
    pub last_at: OffsetDateTime,
    /// When the window ends.
    pub expires_at: OffsetDateTime,
}

/// What a [`Store::purge_expired`] call removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Flows past their expiry.
    pub flows: u64,
    /// Counters past their window.
    pub counters: u64,
}

/// Why a store refused or failed a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An account or flow changed since it was read; nothing was written.
    #[error("conflict: the record changed since it was read")]
    Conflict,
    /// The changeset would give a second account an identifier another account
    /// already holds; nothing was written.
    #[error("duplicate {kind}: it belongs to another account")]
    Duplicate {
        /// The kind of identifier (`phone`, `email`, `snils`, `inn`, `passport`).
        kind: &'static str,
    },
    /// The backend failed (connection, I/O, corrupt row). The message never holds a
    /// secret.
    #[error("store backend failed: {0}")]
    Backend(String),
}

/// Where accounts, flows, counters and audit events live.
///
/// # Contract
///
/// Every implementation must guarantee, and the conformance suite
/// (`store::testkit`, feature `testkit`) checks:
///
/// 1. **Atomicity.** [`apply`](Store::apply) writes all of a changeset or none of it.
/// 2. **Optimistic versions.** An update or delete of an account or flow whose version
///    is not the stored one fails the whole changeset with [`StoreError::Conflict`].
///    Under any interleaving of concurrent `apply` calls built on the same read,
///    exactly one wins. This is what makes a one-time code single-use under races.
/// 3. **Uniqueness.** No two accounts share a [`LookupKey`] (confirmed phone, confirmed
///    e-mail, SNILS, INN, passport). A changeset that would break this fails with
///    [`StoreError::Duplicate`] and writes nothing.
/// 4. **Atomic counters.** Increments never lose an update under concurrency.
/// 5. **No secrets in logs.** Accounts and flows hold password hashes, code digests and
///    TOTP secrets; an implementation never logs record contents, and its error
///    messages name records, not values.
pub trait Store: Send + Sync {
    /// The account with this id.
    fn account(
        &self,
        id: AccountId,
    ) -> impl Future<Output = Result<Option<Account>, StoreError>> + Send;

    /// The account that holds this identifier, if any.
    fn account_by_key(
        &self,
        key: &LookupKey,
    ) -> impl Future<Output = Result<Option<Account>, StoreError>> + Send;

    /// The flow with this id, expired or not.
    fn flow(&self, id: FlowId) -> impl Future<Output = Result<Option<Flow>, StoreError>> + Send;

    /// The flows of one kind, expired or not, oldest first, at most `limit`: how a
    /// host finds work to poll (pending document verifications, for instance).
    fn flows_by_kind(
        &self,
        kind: FlowKind,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Flow>, StoreError>> + Send;

    /// The flows acting on one account, expired or not, oldest first.
    fn flows_of_account(
        &self,
        account: AccountId,
    ) -> impl Future<Output = Result<Vec<Flow>, StoreError>> + Send;

    /// The counter's live state at `now`; `None` when missing or its window ended.
    fn counter(
        &self,
        key: &CounterKey,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<Counter>, StoreError>> + Send;

    /// The audit events about one account, oldest first.
    fn audit_events(
        &self,
        account: AccountId,
    ) -> impl Future<Output = Result<Vec<AuditEvent>, StoreError>> + Send;

    /// The most recent audit events of every account (and of none), newest last, at
    /// most `limit`.
    fn recent_audit_events(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<AuditEvent>, StoreError>> + Send;

    /// Commits a changeset atomically; see the contract above.
    fn apply(&self, changes: Changeset) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes flows that expired before `now` and counters whose window ended.
    fn purge_expired(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<PurgeReport, StoreError>> + Send;
}

impl<T: Store + ?Sized> Store for std::sync::Arc<T> {
    fn account(
        &self,
        id: AccountId,
    ) -> impl Future<Output = Result<Option<Account>, StoreError>> + Send {
        (**self).account(id)
    }

    fn account_by_key(
        &self,
        key: &LookupKey,
    ) -> impl Future<Output = Result<Option<Account>, StoreError>> + Send {
        (**self).account_by_key(key)
    }

    fn flow(&self, id: FlowId) -> impl Future<Output = Result<Option<Flow>, StoreError>> + Send {
        (**self).flow(id)
    }

    fn flows_by_kind(
        &self,
        kind: FlowKind,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Flow>, StoreError>> + Send {
        (**self).flows_by_kind(kind, limit)
    }

    fn flows_of_account(
        &self,
        account: AccountId,
    ) -> impl Future<Output = Result<Vec<Flow>, StoreError>> + Send {
        (**self).flows_of_account(account)
    }

    fn counter(
        &self,
        key: &CounterKey,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<Counter>, StoreError>> + Send {
        (**self).counter(key, now)
    }

    fn audit_events(
        &self,
        account: AccountId,
    ) -> impl Future<Output = Result<Vec<AuditEvent>, StoreError>> + Send {
        (**self).audit_events(account)
    }

    fn recent_audit_events(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<AuditEvent>, StoreError>> + Send {
        (**self).recent_audit_events(limit)
    }

    fn apply(&self, changes: Changeset) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).apply(changes)
    }

    fn purge_expired(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<PurgeReport, StoreError>> + Send {
        (**self).purge_expired(now)
    }
}
