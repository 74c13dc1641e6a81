//! The conformance suite on the in-memory store.
#![cfg(feature = "testkit")]

use portal_auth::store::{MemoryStore, testkit};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_passes_the_conformance_suite() {
    testkit::run_all(|| async { MemoryStore::new() }).await;
}
