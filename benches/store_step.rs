//! One flow step on each store, through the `Portal`: issuing a registration code
//! (validate, look up the contact, one commit inserting the flow and counting the
//! start) and verifying it (read the flow, check the digest, one commit updating it).
//! Each step is one durable commit; the figures are what a store adds to a step.
//!
//! `cargo bench --features sqlite,postgres --bench store_step`
//!
//! `PostgreSQL` comes from `PORTAL_AUTH_TEST_PG_URL` or a throwaway cluster with `fsync`
//! on; without either its group is skipped with a note on standard error.

#[path = "../tests/support/pg.rs"]
mod pg;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use portal_auth::notify::{Recipient, RecordingSender};
use portal_auth::otp::CodeKey;
use portal_auth::store::{MemoryStore, PostgresStore, SqliteStore, Store};
use portal_auth::{
    AlwaysPass, OneTimeCode, Portal, PortalConfig, RegistrationRequest, SystemClock,
};
use tokio::runtime::Runtime;

type BenchPortal<S> = Portal<S, RecordingSender, AlwaysPass, SystemClock>;

/// A fresh mobile number for every registration, so no per-contact limit is hit.
fn next_phone() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("+7912{:07}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn portal<S: Store>(store: S) -> (BenchPortal<S>, RecordingSender) {
    let sms = RecordingSender::new();
    let config = PortalConfig::new(CodeKey::from_bytes([7; 32]));
    let portal = Portal::new(config, store, sms.clone(), AlwaysPass, SystemClock).unwrap();
    (portal, sms)
}

/// Step 1 of a registration; returns the flow and the code the SMS carried.
async fn issue<S: Store>(
    portal: &BenchPortal<S>,
    sms: &RecordingSender,
) -> (portal_auth::FlowId, OneTimeCode) {
    let phone = next_phone();
    let form = RegistrationRequest {
        surname: "Петров".into(),
        given_name: "Иван".into(),
        phone: Some(phone.clone()),
        ..RegistrationRequest::default()
    };
    let started = portal.start_registration(&form).await.unwrap();
    let recipient = Recipient::Phone(phone.parse().unwrap());
    let code = sms.last_to(&recipient).unwrap().code().cloned().unwrap();
    sms.clear();
    (started.flow, code)
}

fn bench_store<S: Store>(c: &mut Criterion, rt: &Runtime, name: &str, store: S) {
    let (portal, sms) = portal(store);
    c.bench_function(&format!("issue a code / {name}"), |b| {
        b.iter_custom(|iterations| {
            let start = Instant::now();
            for _ in 0..iterations {
                rt.block_on(issue(&portal, &sms));
            }
            start.elapsed()
        });
    });
    c.bench_function(&format!("verify a code / {name}"), |b| {
        b.iter_custom(|iterations| {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                let (flow, code) = rt.block_on(issue(&portal, &sms));
                let start = Instant::now();
                rt.block_on(portal.confirm_registration(flow, &code))
                    .unwrap();
                spent += start.elapsed();
            }
            spent
        });
    });
}

fn store_step(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();

    bench_store(c, &rt, "memory", MemoryStore::new());

    let dir = std::env::temp_dir().join(format!("portal-auth-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = rt.block_on(async {
        let store = SqliteStore::open(dir.join("bench.db")).await.unwrap();
        store.migrate().await.unwrap();
        store
    });
    bench_store(c, &rt, "sqlite file", sqlite.clone());
    rt.block_on(sqlite.close());
    let _ = std::fs::remove_dir_all(&dir);

    match pg::PgServer::start(true) {
        Ok(server) => {
            let store = rt.block_on(async {
                let store = PostgresStore::connect(&server.url).await.unwrap();
                store.migrate().await.unwrap();
                store
            });
            bench_store(c, &rt, "postgres", store.clone());
            rt.block_on(store.close());
            drop(server);
        }
        Err(why) => eprintln!("SKIPPED postgres: {why}"),
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = store_step
}
criterion_main!(benches);
