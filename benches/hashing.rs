//! Password hashing cost: hash and verify at the default parameters (m=19456 KiB, t=2,
//! p=1), and what the hasher's pool of reused memory blocks saves over allocating the
//! Argon2 memory afresh for every hash.
//!
//! Run with `cargo bench --bench hashing` (add `-- --quick` for a short run).

use std::hint::black_box;
use std::time::Duration;

use argon2::{Algorithm, Argon2, Block, Params, Version};
use criterion::{Criterion, criterion_group, criterion_main};
use portal_auth::Password;
use portal_auth::password::{HasherConfig, PasswordHasher};

fn hasher() -> PasswordHasher {
    PasswordHasher::new(HasherConfig::new().with_permits(1)).expect("default parameters are valid")
}

fn hash_and_verify(c: &mut Criterion) {
    let hasher = hasher();
    let password = Password::new("Ледокол-Крузенштерн-7z!Q");
    let hash = hasher.hash_blocking(&password).expect("hashing works");

    let mut group = c.benchmark_group("default_params");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("hash", |b| {
        b.iter(|| hasher.hash_blocking(black_box(&password)));
    });
    group.bench_function("verify", |b| {
        b.iter(|| hasher.verify_blocking(black_box(&password), black_box(&hash)));
    });
    group.finish();
}

fn allocation_vs_reuse(c: &mut Criterion) {
    let params = Params::new(19_456, 2, 1, Some(32)).expect("default parameters are valid");
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let password = b"correct horse battery staple";
    let salt = [7u8; 16];

    let mut group = c.benchmark_group("argon2_memory");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("allocate_per_call", |b| {
        let mut out = [0u8; 32];
        b.iter(|| argon2.hash_password_into(black_box(password), &salt, &mut out));
    });
    group.bench_function("reuse_block", |b| {
        let mut out = [0u8; 32];
        let mut blocks = vec![Block::new(); params.block_count()];
        b.iter(|| {
            argon2.hash_password_into_with_memory(black_box(password), &salt, &mut out, &mut blocks)
        });
    });
    group.finish();
}

criterion_group!(benches, hash_and_verify, allocation_vs_reuse);
criterion_main!(benches);
