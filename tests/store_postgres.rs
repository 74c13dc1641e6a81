//! The conformance suite on `PostgreSQL`, each check in a schema of its own.
//!
//! Uses `PORTAL_AUTH_TEST_PG_URL` when set, else starts a throwaway cluster from the
//! installed server binaries. With neither it prints `SKIPPED: no PostgreSQL` and
//! passes, unless `PORTAL_AUTH_REQUIRE_PG=1` (as CI sets it), where it fails.
#![cfg(all(feature = "postgres", feature = "testkit"))]

#[path = "support/pg.rs"]
mod pg;

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use portal_auth::store::{PostgresStore, Store, testkit};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// A store whose tables live in a fresh schema `name` of the server's database.
async fn store_in_schema(url: &str, name: &str) -> PostgresStore {
    let admin = PostgresStore::connect(url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
    )))
    .execute(admin.pool())
    .await
    .unwrap();
    admin.close().await;
    let options = PgConnectOptions::from_str(url)
        .unwrap()
        .options([("search_path", name)]);
    // Sixteen racers each hold a connection, so all of them reach the server at once.
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect_with(options)
        .await
        .unwrap();
    PostgresStore::from_pool(pool)
}

// One test holds the server guard, so the cluster stops when it ends, even on panic;
// each check still gets a schema, and so a database state, of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_passes_the_conformance_suite() {
    let server = match pg::PgServer::start(false) {
        Ok(server) => server,
        Err(why) => {
            assert!(
                std::env::var("PORTAL_AUTH_REQUIRE_PG").as_deref() != Ok("1"),
                "PostgreSQL is required (PORTAL_AUTH_REQUIRE_PG=1) but unavailable: {why}"
            );
            println!("SKIPPED: no PostgreSQL ({why})");
            return;
        }
    };
    let url = server.url.clone();
    let prefix = format!("portal_auth_test_{}", std::process::id());

    let next = AtomicU32::new(0);
    testkit::run_all(|| {
        let name = format!("{prefix}_{}", next.fetch_add(1, Ordering::Relaxed));
        let url = url.clone();
        async move {
            let store = store_in_schema(&url, &name).await;
            assert_eq!(store.migrate().await.unwrap(), 1);
            store
        }
    })
    .await;

    migrating_from_many_instances_at_once_is_safe(&url, &format!("{prefix}_migrate")).await;
    a_reconnected_pool_sees_every_record(&url, &format!("{prefix}_persist")).await;

    let admin = PostgresStore::connect(&url).await.unwrap();
    for n in 0..next.load(Ordering::Relaxed) {
        drop_schema(&admin, &format!("{prefix}_{n}")).await;
    }
    drop_schema(&admin, &format!("{prefix}_migrate")).await;
    drop_schema(&admin, &format!("{prefix}_persist")).await;
    admin.close().await;
    drop(server);
}

async fn migrating_from_many_instances_at_once_is_safe(url: &str, schema: &str) {
    let first = store_in_schema(url, schema).await;
    let options = first.pool().connect_options();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let pool = PgPoolOptions::new().connect_lazy_with((*options).clone());
            let instance = PostgresStore::from_pool(pool);
            tokio::spawn(async move { instance.migrate().await })
        })
        .collect();
    for handle in handles {
        let version = handle.await.unwrap().unwrap();
        assert_eq!(version, 1, "every instance finds the schema at version 1");
    }
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM portal_auth_schema")
        .fetch_one(first.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1, "the migration ran once");
}

async fn a_reconnected_pool_sees_every_record(url: &str, schema: &str) {
    let store = store_in_schema(url, schema).await;
    store.migrate().await.unwrap();
    let written = testkit::write_sample_records(&store).await;
    store.close().await;

    let options = PgConnectOptions::from_str(url)
        .unwrap()
        .options([("search_path", schema)]);
    let reopened = PostgresStore::from_pool(PgPoolOptions::new().connect_lazy_with(options));
    testkit::assert_sample_records(&reopened, &written).await;
    assert!(reopened.account(written.account).await.unwrap().is_some());
}

async fn drop_schema(admin: &PostgresStore, name: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {name} CASCADE"
    )))
    .execute(admin.pool())
    .await
    .unwrap();
}
