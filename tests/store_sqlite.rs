//! The conformance suite on `SQLite`, in memory and on disk, and persistence across a
//! reopen.
#![cfg(all(feature = "sqlite", feature = "testkit"))]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use portal_auth::store::{SqliteStore, Store, testkit};

/// A database path no other test uses; the directory is removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("portal-auth-sqlite-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn db(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn migrated(store: SqliteStore) -> SqliteStore {
    assert_eq!(store.migrate().await.unwrap(), 1);
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_memory_sqlite_passes_the_conformance_suite() {
    testkit::run_all(|| async { migrated(SqliteStore::in_memory().await.unwrap()).await }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_sqlite_passes_the_conformance_suite() {
    let dir = TempDir::new();
    let next = AtomicU32::new(0);
    testkit::run_all(|| {
        let path = dir.db(&format!(
            "suite-{}.db",
            next.fetch_add(1, Ordering::Relaxed)
        ));
        async move { migrated(SqliteStore::open(path).await.unwrap()).await }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reopened_file_keeps_accounts_flows_and_events() {
    let dir = TempDir::new();
    let path = dir.db("persist.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());

    let store = migrated(SqliteStore::connect(&url).await.unwrap()).await;
    let written = testkit::write_sample_records(&store).await;
    store.close().await;

    let reopened = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        reopened.migrate().await.unwrap(),
        1,
        "migrating again is a no-op"
    );
    testkit::assert_sample_records(&reopened, &written).await;
}

#[tokio::test]
async fn an_in_memory_store_is_private_to_its_instance() {
    let first = migrated(SqliteStore::connect("sqlite::memory:").await.unwrap()).await;
    let second = migrated(SqliteStore::connect(":memory:").await.unwrap()).await;
    let written = testkit::write_sample_records(&first).await;
    testkit::assert_sample_records(&first, &written).await;
    assert!(second.account(written.account).await.unwrap().is_none());
}

#[tokio::test]
async fn an_unmigrated_database_fails_with_a_backend_error() {
    let store = SqliteStore::in_memory().await.unwrap();
    let account = portal_auth::AccountId::from_bytes([1; 16]);
    let error = store.account(account).await.unwrap_err();
    assert!(
        matches!(error, portal_auth::store::StoreError::Backend(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_malformed_url_is_refused() {
    let result = SqliteStore::connect("sqlite://missing-dir/x.db?mode=nonsense").await;
    assert!(result.is_err());
}
