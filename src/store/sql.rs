//! What the SQL stores share: JSON columns, integer conversions, error mapping and the
//! migration list type. Nothing here touches a particular database.
//!
//! `sqlite.rs` and `postgres.rs` walk a changeset the same way but stay two modules:
//! their SQL differs (placeholders, `BEGIN IMMEDIATE`, `jsonb` and `timestamptz`
//! against integer microseconds), and sqlx's generic `Database` API has no common
//! `rows_affected`, which every version check needs. The conformance suite
//! (`store::testkit`) is what holds the two to one behaviour.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;
use crate::account::Account;
use crate::audit::AuditEvent;
use crate::flow::Flow;

/// One schema step, applied once, in order of `version`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) sql: &'static str,
}

/// When a fresh counter window that opens at `at` ends.
pub(crate) fn window_end(
    at: time::OffsetDateTime,
    window: time::Duration,
) -> Result<time::OffsetDateTime, StoreError> {
    at.checked_add(window)
        .ok_or_else(|| StoreError::Backend("counter window out of range".into()))
}

/// A record as the JSON text of its `data` column.
///
/// The error names the record kind only: serde messages may quote field values, and
/// accounts hold password hashes and TOTP secrets.
pub(crate) fn to_json<T: Serialize>(value: &T, what: &'static str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|_| StoreError::Backend(format!("{what} not encodable")))
}

fn from_json<T: DeserializeOwned>(data: &str, what: &'static str) -> Result<T, StoreError> {
    serde_json::from_str(data).map_err(|_| StoreError::Backend(format!("corrupt {what} row")))
}

/// An account from its `version` and `data` columns; the column's version wins.
pub(crate) fn account_from_row((version, data): (i64, String)) -> Result<Account, StoreError> {
    let mut account: Account = from_json(&data, "account")?;
    account.set_version(version_from_db(version)?);
    Ok(account)
}

/// A flow from its `version` and `data` columns; the column's version wins.
pub(crate) fn flow_from_row((version, data): (i64, String)) -> Result<Flow, StoreError> {
    let mut flow: Flow = from_json(&data, "flow")?;
    flow.set_version(version_from_db(version)?);
    Ok(flow)
}

/// An audit event from its `data` column.
pub(crate) fn event_from_row((data,): (String,)) -> Result<AuditEvent, StoreError> {
    from_json(&data, "audit event")
}

/// A version for a signed 64-bit column.
pub(crate) fn version_to_db(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(|_| StoreError::Backend("version out of range".into()))
}

fn version_from_db(version: i64) -> Result<u64, StoreError> {
    u64::try_from(version).map_err(|_| StoreError::Backend("negative version in row".into()))
}

/// A count read back; a value past `u32` (impossible through `apply`) saturates.
pub(crate) fn count_from_db(count: i64) -> u32 {
    u32::try_from(count.max(0)).unwrap_or(u32::MAX)
}

/// A `LIMIT` for a signed 64-bit parameter; anything larger means "no limit".
pub(crate) fn limit_to_db(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Maps a driver error to a [`StoreError`], naming the operation that failed.
///
/// `PostgreSQL`'s serialization failure (40001) and deadlock (40P01) mean a concurrent
/// transaction won: they become [`StoreError::Conflict`], which callers retry. The
/// driver's message is kept; database messages name constraints and tables, while
/// the values involved live in the error's detail, which is not shown.
pub(crate) fn backend(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| {
        if let sqlx::Error::Database(db) = &error
            && matches!(db.code().as_deref(), Some("40001" | "40P01"))
        {
            return StoreError::Conflict;
        }
        StoreError::Backend(format!("{context}: {error}"))
    }
}

/// Refuses a database migrated by a newer release of the crate.
pub(crate) fn check_not_newer(current: i64, migrations: &[Migration]) -> Result<(), StoreError> {
    let known = migrations.last().map_or(0, |m| m.version);
    if current > known {
        return Err(StoreError::Backend(format!(
            "schema version {current} is newer than this release knows ({known})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_schema_is_refused() {
        let migrations = [Migration {
            version: 1,
            sql: "",
        }];
        assert!(check_not_newer(1, &migrations).is_ok());
        assert!(matches!(
            check_not_newer(2, &migrations),
            Err(StoreError::Backend(_))
        ));
    }

    #[test]
    fn corrupt_rows_name_the_record_not_the_content() {
        let error = account_from_row((1, "{\"secret\": \"hunter2\"".into())).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("corrupt account row"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn versions_and_limits_convert_without_wrapping() {
        assert!(version_to_db(u64::MAX).is_err());
        assert_eq!(version_to_db(7).ok(), Some(7));
        assert_eq!(limit_to_db(usize::MAX), i64::MAX);
        assert_eq!(count_from_db(-3), 0);
        assert_eq!(count_from_db(i64::MAX), u32::MAX);
    }
}
