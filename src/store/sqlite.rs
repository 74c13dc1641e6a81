//! [`SqliteStore`]: the embedded default, one database file per host (feature `sqlite`).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration as StdDuration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use time::OffsetDateTime;

use super::sql::{
    self, Migration, account_from_row, backend, event_from_row, flow_from_row, to_json,
    version_to_db,
};
use super::{
    AccountWrite, Changeset, Counter, CounterKey, CounterWrite, FlowWrite, PurgeReport, Store,
    StoreError,
};
use crate::account::{Account, AccountId, LookupKey};
use crate::audit::AuditEvent;
use crate::flow::{Flow, FlowId, FlowKind};

/// The schema steps, in order; [`SqliteStore::migrate`] applies the missing ones.
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sql: include_str!("../../migrations/sqlite/0001_initial.sql"),
}];

/// How long a writer waits for another connection's write lock before failing.
const BUSY_TIMEOUT: StdDuration = StdDuration::from_secs(10);

/// A [`Store`] in one `SQLite` database: a file, or `:memory:` for tests.
///
/// Connections opened by [`connect`](Self::connect) and [`open`](Self::open) use WAL
/// journaling, a busy timeout, foreign keys and `synchronous = FULL`, so every
/// [`apply`](Store::apply) is one durable commit. Every write transaction starts with
/// `BEGIN IMMEDIATE`: writers queue on `SQLite`'s write lock at the start instead of
/// failing when a read lock cannot be upgraded.
///
/// Call [`migrate`](Self::migrate) once at start-up before using the store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens the database at a sqlx `SQLite` URL (`sqlite://portal.db?mode=rwc`,
    /// `sqlite::memory:`) or a bare `:memory:`.
    ///
    /// An in-memory database lives in one connection that the pool never closes, so
    /// every call sees the same data; it is gone when the store is dropped.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the URL is malformed or the database cannot be
    /// opened.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url).map_err(backend("sqlite url"))?;
        let bare = url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        let in_memory = bare.starts_with(":memory:") || url.contains("mode=memory");
        Self::connect_with(options, in_memory).await
    }

    /// Opens (creating if missing) the database file at `path`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the file cannot be opened or created.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::connect_with(options, false).await
    }

    /// A fresh, private in-memory database.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when `SQLite` cannot open it.
    pub async fn in_memory() -> Result<Self, StoreError> {
        Self::connect(":memory:").await
    }

    /// A store over the host's own pool.
    ///
    /// The host chooses the connection settings; this crate's guarantees assume
    /// foreign keys on and a busy timeout, as [`connect`](Self::connect) sets them.
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// The pool, for hosts that keep their own tables in the same database.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection; an in-memory database is gone after this.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Applies the schema migrations this release ships that the database lacks, and
    /// returns the schema version it is at.
    ///
    /// Safe to call at every start-up and from several processes at once: the check
    /// and the steps run in one `BEGIN IMMEDIATE` transaction.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when a step fails (nothing of it is kept) or when the
    /// database was migrated by a newer release of this crate.
    pub async fn migrate(&self) -> Result<i64, StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend("sqlite migrate"))?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS portal_auth_schema (
                version INTEGER NOT NULL PRIMARY KEY,
                applied_at INTEGER NOT NULL
            ) STRICT",
        )
        .execute(&mut *tx)
        .await
        .map_err(backend("sqlite migrate"))?;
        let (mut current,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(version), 0) FROM portal_auth_schema")
                .fetch_one(&mut *tx)
                .await
                .map_err(backend("sqlite migrate"))?;
        sql::check_not_newer(current, MIGRATIONS)?;

        let start = current;
        for migration in MIGRATIONS.iter().filter(|m| m.version > start) {
            sqlx::raw_sql(migration.sql)
                .execute(&mut *tx)
                .await
                .map_err(backend("sqlite migration"))?;
            sqlx::query("INSERT INTO portal_auth_schema (version, applied_at) VALUES (?, ?)")
                .bind(migration.version)
                .bind(micros(OffsetDateTime::now_utc())?)
                .execute(&mut *tx)
                .await
                .map_err(backend("sqlite migrate"))?;
            current = migration.version;
        }

        tx.commit().await.map_err(backend("sqlite migrate"))?;
        Ok(current)
    }

    async fn connect_with(
        options: SqliteConnectOptions,
        in_memory: bool,
    ) -> Result<Self, StoreError> {
        let options = options
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Full);
        let pool = if in_memory {
            // One connection kept forever: a second connection, or a reopened one,
            // would see a different (empty) database.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
        } else {
            SqlitePoolOptions::new()
                .connect_with(options.journal_mode(SqliteJournalMode::Wal))
                .await
        };
        Ok(Self {
            pool: pool.map_err(backend("sqlite open"))?,
        })
    }
}

/// A time as stored: UTC microseconds since the Unix epoch.
fn micros(at: OffsetDateTime) -> Result<i64, StoreError> {
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1000))
        .map_err(|_| StoreError::Backend("time out of range".into()))
}

fn from_micros(micros: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .map_err(|_| StoreError::Backend("corrupt time in row".into()))
}

impl Store for SqliteStore {
    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query_as("SELECT version, data FROM accounts WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend("sqlite account"))?;
        row.map(account_from_row).transpose()
    }

    async fn account_by_key(&self, key: &LookupKey) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query_as(
            "SELECT a.version, a.data FROM lookup_keys k JOIN accounts a ON a.id = k.account_id
             WHERE k.kind = ? AND k.value = ?",
        )
        .bind(key.kind())
        .bind(key.value())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend("sqlite account by key"))?;
        row.map(account_from_row).transpose()
    }

    async fn flow(&self, id: FlowId) -> Result<Option<Flow>, StoreError> {
        let row = sqlx::query_as("SELECT version, data FROM flows WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend("sqlite flow"))?;
        row.map(flow_from_row).transpose()
    }

    async fn flows_by_kind(&self, kind: FlowKind, limit: usize) -> Result<Vec<Flow>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT version, data FROM flows WHERE kind = ? ORDER BY created_at, id LIMIT ?",
        )
        .bind(kind.as_str())
        .bind(sql::limit_to_db(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend("sqlite flows by kind"))?;
        rows.into_iter().map(flow_from_row).collect()
    }

    async fn flows_of_account(&self, account: AccountId) -> Result<Vec<Flow>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT version, data FROM flows WHERE account_id = ? ORDER BY created_at, id",
        )
        .bind(account.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(backend("sqlite flows of account"))?;
        rows.into_iter().map(flow_from_row).collect()
    }

    async fn counter(
        &self,
        key: &CounterKey,
        now: OffsetDateTime,
    ) -> Result<Option<Counter>, StoreError> {
        let row: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT count, last_at, expires_at FROM counters WHERE key = ? AND expires_at > ?",
        )
        .bind(key.as_str())
        .bind(micros(now)?)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend("sqlite counter"))?;
        row.map(|(count, last_at, expires_at)| {
            Ok(Counter {
                count: sql::count_from_db(count),
                last_at: from_micros(last_at)?,
                expires_at: from_micros(expires_at)?,
            })
        })
        .transpose()
    }

    async fn audit_events(&self, account: AccountId) -> Result<Vec<AuditEvent>, StoreError> {
        let rows =
            sqlx::query_as("SELECT data FROM audit_events WHERE account_id = ? ORDER BY seq")
                .bind(account.to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(backend("sqlite audit events"))?;
        rows.into_iter().map(event_from_row).collect()
    }

    async fn recent_audit_events(&self, limit: usize) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT data FROM (SELECT seq, data FROM audit_events ORDER BY seq DESC LIMIT ?)
             ORDER BY seq",
        )
        .bind(sql::limit_to_db(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend("sqlite recent audit events"))?;
        rows.into_iter().map(event_from_row).collect()
    }

    async fn apply(&self, changes: Changeset) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend("sqlite begin"))?;

        match write_changeset(&mut tx, changes).await {
            Ok(()) => tx.commit().await.map_err(backend("sqlite commit")),
            Err(error) => {
                // Roll back now rather than on drop, so the connection goes back to
                // the pool clean; the refusal is what the caller needs to see.
                let _ = tx.rollback().await;
                Err(error)
            }
        }
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<PurgeReport, StoreError> {
        let now = micros(now)?;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend("sqlite purge"))?;
        let flows = sqlx::query("DELETE FROM flows WHERE expires_at <= ?")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend("sqlite purge"))?
            .rows_affected();
        let counters = sqlx::query("DELETE FROM counters WHERE expires_at <= ?")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend("sqlite purge"))?
            .rows_affected();
        tx.commit().await.map_err(backend("sqlite purge"))?;
        Ok(PurgeReport { flows, counters })
    }
}

/// Every statement of one changeset, inside the caller's transaction.
async fn write_changeset(
    conn: &mut SqliteConnection,
    changes: Changeset,
) -> Result<(), StoreError> {
    for write in changes.accounts {
        write_account(conn, write).await?;
    }
    for write in changes.flows {
        write_flow(conn, write).await?;
    }
    for write in changes.counters {
        write_counter(conn, write).await?;
    }
    for event in changes.audit {
        sqlx::query("INSERT INTO audit_events (at, account_id, data) VALUES (?, ?, ?)")
            .bind(micros(event.at)?)
            .bind(event.account.map(|id| id.to_string()))
            .bind(to_json(&event, "audit event")?)
            .execute(&mut *conn)
            .await
            .map_err(backend("sqlite audit insert"))?;
    }
    Ok(())
}

async fn write_account(conn: &mut SqliteConnection, write: AccountWrite) -> Result<(), StoreError> {
    let account = match write {
        AccountWrite::Insert(mut account) => {
            account.set_version(1);
            let done = sqlx::query(
                "INSERT INTO accounts (id, version, created_at, data) VALUES (?, 1, ?, ?)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(account.id().to_string())
            .bind(micros(account.created_at())?)
            .bind(to_json(&account, "account")?)
            .execute(&mut *conn)
            .await
            .map_err(backend("sqlite account insert"))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict);
            }
            account
        }
        AccountWrite::Update(mut account) => {
            let read_at = version_to_db(account.version())?;
            account.set_version(account.version().saturating_add(1));
            let done = sqlx::query(
                "UPDATE accounts SET version = version + 1, data = ? WHERE id = ? AND version = ?",
            )
            .bind(to_json(&account, "account")?)
            .bind(account.id().to_string())
            .bind(read_at)
            .execute(&mut *conn)
            .await
            .map_err(backend("sqlite account update"))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict);
            }
            sqlx::query("DELETE FROM lookup_keys WHERE account_id = ?")
                .bind(account.id().to_string())
                .execute(&mut *conn)
                .await
                .map_err(backend("sqlite lookup keys"))?;
            account
        }
    };
    write_keys(conn, &account).await
}

/// Claims every lookup key of `account`; one held by another account refuses the
/// changeset with [`StoreError::Duplicate`].
async fn write_keys(conn: &mut SqliteConnection, account: &Account) -> Result<(), StoreError> {
    for key in account.lookup_keys() {
        let done = sqlx::query(
            "INSERT INTO lookup_keys (kind, value, account_id) VALUES (?, ?, ?)
             ON CONFLICT (kind, value) DO NOTHING",
        )
        .bind(key.kind())
        .bind(key.value())
        .bind(account.id().to_string())
        .execute(&mut *conn)
        .await
        .map_err(backend("sqlite lookup keys"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Duplicate { kind: key.kind() });
        }
    }
    Ok(())
}

async fn write_flow(conn: &mut SqliteConnection, write: FlowWrite) -> Result<(), StoreError> {
    let done = match write {
        FlowWrite::Insert(mut flow) => {
            flow.set_version(1);
            sqlx::query(
                "INSERT INTO flows (id, version, kind, account_id, created_at, expires_at, data)
                 VALUES (?, 1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            )
            .bind(flow.id().to_string())
            .bind(flow.kind().as_str())
            .bind(flow.account().map(|id| id.to_string()))
            .bind(micros(flow.created_at())?)
            .bind(micros(flow.expires_at())?)
            .bind(to_json(&flow, "flow")?)
            .execute(&mut *conn)
            .await
        }
        FlowWrite::Update(mut flow) => {
            let read_at = version_to_db(flow.version())?;
            flow.set_version(flow.version().saturating_add(1));
            sqlx::query(
                "UPDATE flows SET version = version + 1, kind = ?, account_id = ?,
                 expires_at = ?, data = ? WHERE id = ? AND version = ?",
            )
            .bind(flow.kind().as_str())
            .bind(flow.account().map(|id| id.to_string()))
            .bind(micros(flow.expires_at())?)
            .bind(to_json(&flow, "flow")?)
            .bind(flow.id().to_string())
            .bind(read_at)
            .execute(&mut *conn)
            .await
        }
        FlowWrite::Delete { id, version } => {
            sqlx::query("DELETE FROM flows WHERE id = ? AND version = ?")
                .bind(id.to_string())
                .bind(version_to_db(version)?)
                .execute(&mut *conn)
                .await
        }
    };
    if done.map_err(backend("sqlite flow write"))?.rows_affected() == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

async fn write_counter(conn: &mut SqliteConnection, write: CounterWrite) -> Result<(), StoreError> {
    match write {
        CounterWrite::Increment { key, at, window } => {
            // One atomic upsert: a window that ended at or before `at` starts over.
            sqlx::query(
                "INSERT INTO counters (key, count, last_at, expires_at) VALUES (?, 1, ?, ?)
                 ON CONFLICT (key) DO UPDATE SET
                   count = CASE WHEN counters.expires_at <= excluded.last_at THEN 1
                                ELSE MIN(counters.count + 1, 4294967295) END,
                   expires_at = CASE WHEN counters.expires_at <= excluded.last_at
                                THEN excluded.expires_at ELSE counters.expires_at END,
                   last_at = excluded.last_at",
            )
            .bind(key.as_str())
            .bind(micros(at)?)
            .bind(micros(sql::window_end(at, window)?)?)
            .execute(&mut *conn)
            .await
            .map_err(backend("sqlite counter"))?;
        }
        CounterWrite::Reset { key } => {
            sqlx::query("DELETE FROM counters WHERE key = ?")
                .bind(key.as_str())
                .execute(&mut *conn)
                .await
                .map_err(backend("sqlite counter"))?;
        }
    }
    Ok(())
}
