//! [`PostgresStore`]: several app instances sharing one `PostgreSQL` database (feature
//! `postgres`).

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
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

/// The schema steps, in order; [`PostgresStore::migrate`] applies the missing ones.
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sql: include_str!("../../migrations/postgres/0001_initial.sql"),
}];

/// The advisory lock that serialises `migrate` across instances ("portal-a" in ASCII).
const MIGRATION_LOCK: i64 = 0x706f_7274_616c_2d61;

/// A [`Store`] in a `PostgreSQL` database, shared safely by any number of app
/// instances.
///
/// Every [`apply`](Store::apply) is one transaction at `READ COMMITTED`: versioned
/// `UPDATE … WHERE version = $n` statements make concurrent steps on the same record
/// conflict (the second waits for the first's row lock, then finds the version moved),
/// a primary key on lookup keys enforces uniqueness, and counters are single-statement
/// upserts. A deadlock or serialization failure reported by the server becomes
/// [`StoreError::Conflict`], which the caller retries like any lost race.
///
/// Tables live in the connection's `search_path` (normally `public`); to keep them in
/// a schema of their own, put `options=-c search_path=portal_auth` in the URL or set
/// it on the pool's connect options. Call [`migrate`](Self::migrate) once at start-up.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at a `postgres://` URL with a pool of default size.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the URL is malformed or the server unreachable.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(backend("postgres url"))?;
        let pool = PgPoolOptions::new()
            .connect_with(options)
            .await
            .map_err(backend("postgres connect"))?;
        Ok(Self { pool })
    }

    /// A store over the host's own pool.
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The pool, for hosts that keep their own tables in the same database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Applies the schema migrations this release ships that the database lacks, and
    /// returns the schema version it is at.
    ///
    /// Safe to call from every instance at start-up: the steps run in one transaction
    /// holding an advisory lock, so concurrent callers wait and then find nothing to
    /// do. Migrations only ever add; a rolling upgrade migrates first, then replaces
    /// instances.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when a step fails (nothing of it is kept) or when the
    /// database was migrated by a newer release of this crate.
    pub async fn migrate(&self) -> Result<i64, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(backend("postgres migrate"))?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(backend("postgres migrate"))?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS portal_auth_schema (
                version bigint NOT NULL PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )",
        )
        .execute(&mut *tx)
        .await
        .map_err(backend("postgres migrate"))?;
        let (mut current,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(version), 0)::bigint FROM portal_auth_schema")
                .fetch_one(&mut *tx)
                .await
                .map_err(backend("postgres migrate"))?;
        sql::check_not_newer(current, MIGRATIONS)?;

        let start = current;
        for migration in MIGRATIONS.iter().filter(|m| m.version > start) {
            sqlx::raw_sql(migration.sql)
                .execute(&mut *tx)
                .await
                .map_err(backend("postgres migration"))?;
            sqlx::query("INSERT INTO portal_auth_schema (version) VALUES ($1)")
                .bind(migration.version)
                .execute(&mut *tx)
                .await
                .map_err(backend("postgres migrate"))?;
            current = migration.version;
        }

        tx.commit().await.map_err(backend("postgres migrate"))?;
        Ok(current)
    }
}

impl Store for PostgresStore {
    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query_as("SELECT version, data::text FROM accounts WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend("postgres account"))?;
        row.map(account_from_row).transpose()
    }

    async fn account_by_key(&self, key: &LookupKey) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query_as(
            "SELECT a.version, a.data::text FROM lookup_keys k JOIN accounts a ON a.id = k.account_id
             WHERE k.kind = $1 AND k.value = $2",
        )
        .bind(key.kind())
        .bind(key.value())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend("postgres account by key"))?;
        row.map(account_from_row).transpose()
    }

    async fn flow(&self, id: FlowId) -> Result<Option<Flow>, StoreError> {
        let row = sqlx::query_as("SELECT version, data::text FROM flows WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend("postgres flow"))?;
        row.map(flow_from_row).transpose()
    }

    async fn flows_by_kind(&self, kind: FlowKind, limit: usize) -> Result<Vec<Flow>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT version, data::text FROM flows WHERE kind = $1 ORDER BY created_at, id LIMIT $2",
        )
        .bind(kind.as_str())
        .bind(sql::limit_to_db(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend("postgres flows by kind"))?;
        rows.into_iter().map(flow_from_row).collect()
    }

    async fn flows_of_account(&self, account: AccountId) -> Result<Vec<Flow>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT version, data::text FROM flows WHERE account_id = $1 ORDER BY created_at, id",
        )
        .bind(account.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(backend("postgres flows of account"))?;
        rows.into_iter().map(flow_from_row).collect()
    }

    async fn counter(
        &self,
        key: &CounterKey,
        now: OffsetDateTime,
    ) -> Result<Option<Counter>, StoreError> {
        let row: Option<(i64, OffsetDateTime, OffsetDateTime)> = sqlx::query_as(
            "SELECT count, last_at, expires_at FROM counters WHERE key = $1 AND expires_at > $2",
        )
        .bind(key.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend("postgres counter"))?;
        Ok(row.map(|(count, last_at, expires_at)| Counter {
            count: sql::count_from_db(count),
            last_at,
            expires_at,
        }))
    }

    async fn audit_events(&self, account: AccountId) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT data::text FROM audit_events WHERE account_id = $1 ORDER BY seq",
        )
        .bind(account.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(backend("postgres audit events"))?;
        rows.into_iter().map(event_from_row).collect()
    }

    async fn recent_audit_events(&self, limit: usize) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT data::text FROM (SELECT seq, data FROM audit_events ORDER BY seq DESC LIMIT $1) AS recent
             ORDER BY seq",
        )
        .bind(sql::limit_to_db(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend("postgres recent audit events"))?;
        rows.into_iter().map(event_from_row).collect()
    }

    async fn apply(&self, changes: Changeset) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(backend("postgres begin"))?;

        match write_changeset(&mut tx, changes).await {
            Ok(()) => tx.commit().await.map_err(backend("postgres commit")),
            Err(error) => {
                // Roll back now rather than on drop, so the connection goes back to
                // the pool clean; the refusal is what the caller needs to see.
                let _ = tx.rollback().await;
                Err(error)
            }
        }
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<PurgeReport, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend("postgres purge"))?;
        let flows = sqlx::query("DELETE FROM flows WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend("postgres purge"))?
            .rows_affected();
        let counters = sqlx::query("DELETE FROM counters WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend("postgres purge"))?
            .rows_affected();
        tx.commit().await.map_err(backend("postgres purge"))?;
        Ok(PurgeReport { flows, counters })
    }
}

/// Every statement of one changeset, inside the caller's transaction.
async fn write_changeset(conn: &mut PgConnection, changes: Changeset) -> Result<(), StoreError> {
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
        sqlx::query("INSERT INTO audit_events (at, account_id, data) VALUES ($1, $2, $3::jsonb)")
            .bind(event.at)
            .bind(event.account.map(|id| id.to_string()))
            .bind(to_json(&event, "audit event")?)
            .execute(&mut *conn)
            .await
            .map_err(backend("postgres audit insert"))?;
    }
    Ok(())
}

async fn write_account(conn: &mut PgConnection, write: AccountWrite) -> Result<(), StoreError> {
    let account = match write {
        AccountWrite::Insert(mut account) => {
            account.set_version(1);
            let done = sqlx::query(
                "INSERT INTO accounts (id, version, created_at, data) VALUES ($1, 1, $2, $3::jsonb)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(account.id().to_string())
            .bind(account.created_at())
            .bind(to_json(&account, "account")?)
            .execute(&mut *conn)
            .await
            .map_err(backend("postgres account insert"))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict);
            }
            account
        }
        AccountWrite::Update(mut account) => {
            let read_at = version_to_db(account.version())?;
            account.set_version(account.version().saturating_add(1));
            let done = sqlx::query(
                "UPDATE accounts SET version = version + 1, data = $1::jsonb WHERE id = $2 AND version = $3",
            )
            .bind(to_json(&account, "account")?)
            .bind(account.id().to_string())
            .bind(read_at)
            .execute(&mut *conn)
            .await
            .map_err(backend("postgres account update"))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict);
            }
            sqlx::query("DELETE FROM lookup_keys WHERE account_id = $1")
                .bind(account.id().to_string())
                .execute(&mut *conn)
                .await
                .map_err(backend("postgres lookup keys"))?;
            account
        }
    };
    write_keys(conn, &account).await
}

/// Claims every lookup key of `account`; one held by another account refuses the
/// changeset with [`StoreError::Duplicate`].
async fn write_keys(conn: &mut PgConnection, account: &Account) -> Result<(), StoreError> {
    for key in account.lookup_keys() {
        let done = sqlx::query(
            "INSERT INTO lookup_keys (kind, value, account_id) VALUES ($1, $2, $3)
             ON CONFLICT (kind, value) DO NOTHING",
        )
        .bind(key.kind())
        .bind(key.value())
        .bind(account.id().to_string())
        .execute(&mut *conn)
        .await
        .map_err(backend("postgres lookup keys"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Duplicate { kind: key.kind() });
        }
    }
    Ok(())
}

async fn write_flow(conn: &mut PgConnection, write: FlowWrite) -> Result<(), StoreError> {
    let done = match write {
        FlowWrite::Insert(mut flow) => {
            flow.set_version(1);
            sqlx::query(
                "INSERT INTO flows (id, version, kind, account_id, created_at, expires_at, data)
                 VALUES ($1, 1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (id) DO NOTHING",
            )
            .bind(flow.id().to_string())
            .bind(flow.kind().as_str())
            .bind(flow.account().map(|id| id.to_string()))
            .bind(flow.created_at())
            .bind(flow.expires_at())
            .bind(to_json(&flow, "flow")?)
            .execute(&mut *conn)
            .await
        }
        FlowWrite::Update(mut flow) => {
            let read_at = version_to_db(flow.version())?;
            flow.set_version(flow.version().saturating_add(1));
            sqlx::query(
                "UPDATE flows SET version = version + 1, kind = $1, account_id = $2,
                 expires_at = $3, data = $4::jsonb WHERE id = $5 AND version = $6",
            )
            .bind(flow.kind().as_str())
            .bind(flow.account().map(|id| id.to_string()))
            .bind(flow.expires_at())
            .bind(to_json(&flow, "flow")?)
            .bind(flow.id().to_string())
            .bind(read_at)
            .execute(&mut *conn)
            .await
        }
        FlowWrite::Delete { id, version } => {
            sqlx::query("DELETE FROM flows WHERE id = $1 AND version = $2")
                .bind(id.to_string())
                .bind(version_to_db(version)?)
                .execute(&mut *conn)
                .await
        }
    };
    if done
        .map_err(backend("postgres flow write"))?
        .rows_affected()
        == 0
    {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

async fn write_counter(conn: &mut PgConnection, write: CounterWrite) -> Result<(), StoreError> {
    match write {
        CounterWrite::Increment { key, at, window } => {
            // One atomic upsert: a window that ended at or before `at` starts over.
            sqlx::query(
                "INSERT INTO counters (key, count, last_at, expires_at) VALUES ($1, 1, $2, $3)
                 ON CONFLICT (key) DO UPDATE SET
                   count = CASE WHEN counters.expires_at <= excluded.last_at THEN 1
                                ELSE LEAST(counters.count + 1, 4294967295) END,
                   expires_at = CASE WHEN counters.expires_at <= excluded.last_at
                                THEN excluded.expires_at ELSE counters.expires_at END,
                   last_at = excluded.last_at",
            )
            .bind(key.as_str())
            .bind(at)
            .bind(sql::window_end(at, window)?)
            .execute(&mut *conn)
            .await
            .map_err(backend("postgres counter"))?;
        }
        CounterWrite::Reset { key } => {
            sqlx::query("DELETE FROM counters WHERE key = $1")
                .bind(key.as_str())
                .execute(&mut *conn)
                .await
                .map_err(backend("postgres counter"))?;
        }
    }
    Ok(())
}
