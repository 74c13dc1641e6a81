//! Argon2id hashing through a bounded pool of reusable memory blocks.

use std::fmt;
use std::pin::pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use argon2::password_hash::phc::{self, Output, ParamsString, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
use rand::Rng;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;
use zeroize::{Zeroize, Zeroizing};

use super::normalize::{is_oversized, normalize};
use crate::Password;

/// Salt length in bytes (the PHC format's recommendation).
const SALT_LEN: usize = 16;

/// Hash output length in bytes.
const OUTPUT_LEN: usize = 32;

/// Argon2 cost parameters.
///
/// The default is OWASP's first Argon2id choice: 19 MiB of memory, two passes, one lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HashParams {
    /// Memory in KiB (one Argon2 block per KiB); at least `8 × p`.
    pub m_kib: u32,
    /// Passes over the memory; at least 1.
    pub t: u32,
    /// Lanes (degree of parallelism); at least 1. Lanes are computed one after the
    /// other on the calling worker: the pool, not a single hash, uses the cores.
    pub p: u32,
}

impl HashParams {
    /// Parameters with the given memory (KiB), passes and lanes.
    pub const fn new(m_kib: u32, t: u32, p: u32) -> Self {
        Self { m_kib, t, p }
    }

    /// Whether any of these parameters exceeds the same one in `ceiling`.
    fn exceeds(self, ceiling: Self) -> bool {
        self.m_kib > ceiling.m_kib || self.t > ceiling.t || self.p > ceiling.p
    }

    /// The argon2 crate's parameters, with a 32-byte output.
    fn to_argon2(self) -> Result<Params, HashError> {
        Params::new(self.m_kib, self.t, self.p, Some(OUTPUT_LEN))
            .map_err(|_| HashError::InvalidParams)
    }

    fn of(params: &Params) -> Self {
        Self::new(params.m_cost(), params.t_cost(), params.p_cost())
    }
}

impl Default for HashParams {
    fn default() -> Self {
        Self::new(19_456, 2, 1)
    }
}

/// What went wrong while hashing or verifying.
///
/// None of these says anything about whether the password was right: a wrong password
/// is `Ok(Verification { matches: false, .. })`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// The stored string is not an Argon2id PHC string with a salt and a hash.
    #[error("password hash is malformed")]
    MalformedHash,
    /// The stored hash asks for more memory, passes or lanes than the configured ceiling;
    /// it is refused before any memory is allocated.
    #[error("password hash parameters exceed the configured ceiling")]
    ParamsAboveCeiling,
    /// The configured parameters are not valid Argon2 parameters (for example memory
    /// below `8 × p`), or exceed the configured ceiling.
    #[error("hasher parameters are invalid")]
    InvalidParams,
    /// The memory for the hash could not be allocated.
    #[error("memory for the password hash could not be allocated")]
    OutOfMemory,
    /// The Argon2 computation itself failed.
    #[error("argon2 computation failed: {reason}")]
    Argon2 {
        /// The argon2 crate's description of the failure.
        reason: String,
    },
    /// The hashing worker stopped before finishing (the runtime is shutting down).
    #[error("password hasher is unavailable")]
    Unavailable,
    /// The password to hash is longer than [`MAX_PASSWORD_BYTES`](crate::password::MAX_PASSWORD_BYTES); a policy check
    /// refuses it first.
    #[error("password is too long to hash")]
    PasswordTooLong,
}

impl From<argon2::Error> for HashError {
    fn from(error: argon2::Error) -> Self {
        Self::Argon2 {
            reason: error.to_string(),
        }
    }
}

/// A stored Argon2id password hash in the PHC string format:
/// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`.
///
/// Only valid Argon2id PHC strings with a salt and a hash can be made, whether parsed
/// or deserialised. It serialises as the plain string. `Debug` shows the algorithm and
/// the parameters, never the salt or the hash.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PasswordHash {
    phc: String,
    /// Taken from the string when it was validated, for `params()` and `Debug`.
    params: HashParams,
    version: u32,
}

/// A stored hash taken apart.
#[derive(Clone)]
struct Parsed {
    version: Version,
    params: Params,
    salt: Salt,
    output: Output,
}

impl PasswordHash {
    /// Parses and validates a PHC string.
    ///
    /// # Errors
    ///
    /// [`HashError::MalformedHash`] when it is not an Argon2id PHC string with valid
    /// parameters, a salt and a hash.
    pub fn parse(phc: &str) -> Result<Self, HashError> {
        Self::try_from(phc.to_owned())
    }

    /// The PHC string, to store.
    pub fn as_str(&self) -> &str {
        &self.phc
    }

    /// The cost parameters the hash was made with.
    pub fn params(&self) -> HashParams {
        self.params
    }

    fn parsed(&self) -> Result<Parsed, HashError> {
        parse_phc(&self.phc)
    }
}

fn parse_phc(text: &str) -> Result<Parsed, HashError> {
    let phc = phc::PasswordHash::new(text).map_err(|_| HashError::MalformedHash)?;
    if phc.algorithm != ARGON2ID_IDENT {
        return Err(HashError::MalformedHash);
    }
    // The PHC format for Argon2 says a missing version means 0x10.
    let version = match phc.version {
        None => Version::V0x10,
        Some(number) => Version::try_from(number).map_err(|_| HashError::MalformedHash)?,
    };
    let params = Params::try_from(&phc).map_err(|_| HashError::MalformedHash)?;
    let (Some(salt), Some(output)) = (phc.salt, phc.hash) else {
        return Err(HashError::MalformedHash);
    };
    Ok(Parsed {
        version,
        params,
        salt,
        output,
    })
}

impl FromStr for PasswordHash {
    type Err = HashError;

    fn from_str(phc: &str) -> Result<Self, HashError> {
        Self::parse(phc)
    }
}

impl TryFrom<String> for PasswordHash {
    type Error = HashError;

    fn try_from(phc: String) -> Result<Self, HashError> {
        let parsed = parse_phc(&phc)?;
        Ok(Self {
            params: HashParams::of(&parsed.params),
            version: u32::from(parsed.version),
            phc,
        })
    }
}

impl From<PasswordHash> for String {
    fn from(hash: PasswordHash) -> Self {
        hash.phc
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHash")
            .field("algorithm", &"argon2id")
            .field("version", &self.version)
            .field("m_kib", &self.params.m_kib)
            .field("t", &self.params.t)
            .field("p", &self.params.p)
            .finish_non_exhaustive()
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Verification {
    /// Whether the password is the one the hash was made from.
    pub matches: bool,
    /// Whether the hash was made with other parameters than the configured ones; when
    /// the password matches, hash it again and store the new hash.
    pub needs_rehash: bool,
}

/// How to build a [`PasswordHasher`].
#[derive(Clone)]
pub struct HasherConfig {
    params: HashParams,
    ceiling: HashParams,
    permits: usize,
    pepper: Option<Zeroizing<Vec<u8>>>,
}

impl Default for HasherConfig {
    /// Default parameters (m=19456 KiB, t=2, p=1), a ceiling of m=65536 KiB, t=4, p=4,
    /// one permit per available core, and no pepper.
    fn default() -> Self {
        Self {
            params: HashParams::default(),
            ceiling: HashParams::new(65_536, 4, 4),
            permits: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            pepper: None,
        }
    }
}

impl HasherConfig {
    /// The default configuration.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// **For tests only.** Parameters so weak (64 KiB, one pass) that a hash costs well
    /// under a millisecond, so test suites that register and log in many times stay fast.
    /// Never use this for real passwords: such hashes are cheap to brute-force.
    #[must_use]
    pub fn danger_fast_insecure() -> Self {
        Self::default().with_params(HashParams::new(64, 1, 1))
    }

    /// Sets the parameters new hashes are made with.
    #[must_use]
    pub fn with_params(mut self, params: HashParams) -> Self {
        self.params = params;
        self
    }

    /// Sets the ceiling: stored hashes whose memory, passes or lanes exceed it are refused
    /// without computing anything, so a tampered row cannot make a login allocate
    /// gigabytes.
    #[must_use]
    pub fn with_ceiling(mut self, ceiling: HashParams) -> Self {
        self.ceiling = ceiling;
        self
    }

    /// Sets how many hashes may run at once (at least 1). Peak memory is about
    /// `permits × m_kib` KiB.
    #[must_use]
    pub fn with_permits(mut self, permits: usize) -> Self {
        self.permits = permits;
        self
    }

    /// Sets a pepper: a server-side secret fed to Argon2 as its secret input, kept outside
    /// the database so a stolen table alone cannot be attacked. Every hash then needs
    /// it to verify; changing it invalidates all stored hashes.
    #[must_use]
    pub fn with_pepper(mut self, pepper: impl Into<Vec<u8>>) -> Self {
        self.pepper = Some(Zeroizing::new(pepper.into()));
        self
    }

    /// The parameters new hashes are made with.
    pub fn params(&self) -> HashParams {
        self.params
    }

    /// The ceiling for stored hashes.
    pub fn ceiling(&self) -> HashParams {
        self.ceiling
    }

    /// How many hashes may run at once.
    pub fn permits(&self) -> usize {
        self.permits
    }
}

impl fmt::Debug for HasherConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HasherConfig")
            .field("params", &self.params)
            .field("ceiling", &self.ceiling)
            .field("permits", &self.permits)
            .field("pepper", &self.pepper.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Hashes and verifies passwords with Argon2id, at most `permits` at a time, each in a
/// reused memory block.
///
/// Cloning is cheap: clones share the pool, the permits and the counters.
///
/// # The pool
///
/// A hash needs `m_kib` KiB of working memory. Rather than allocate and fault in 19 MiB
/// per login, the hasher keeps up to `permits` blocks of that size and hands one to each
/// running hash; a block is wiped (zeroized) after every use and returned. Blocks are
/// allocated lazily, the first time they are needed, and kept. At most `permits` hashes
/// run at once (a semaphore); the others wait their turn, so peak memory stays at
/// `permits × m_kib` however many logins arrive.
///
/// A stored hash made with less memory than configured uses a pooled block. One made
/// with more (older, stronger parameters, still within the ceiling) gets a block of its
/// own size for that call, freed afterwards: such hashes are rare and rehashed at the
/// next successful login.
///
/// # Async and blocking callers
///
/// [`hash`](Self::hash) and [`verify`](Self::verify) wait for a permit asynchronously
/// and run Argon2 on tokio's blocking threads (`spawn_blocking`); outside a tokio
/// runtime they compute on the polling thread. [`hash_blocking`](Self::hash_blocking)
/// and [`verify_blocking`](Self::verify_blocking) take a permit from the same semaphore
/// by parking the calling thread, so both kinds of caller share one bound. Do not call
/// the blocking variants on an async executor's worker thread.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: HashParams,
    ceiling: HashParams,
    pepper: Option<Zeroizing<Vec<u8>>>,
    permits: Arc<Semaphore>,
    permit_count: usize,
    pool: MemoryPool,
    dummy: PasswordHash,
    verifications: AtomicU64,
}

impl PasswordHasher {
    /// Builds a hasher. Cheap: no memory block is allocated and nothing is hashed yet.
    ///
    /// # Errors
    ///
    /// [`HashError::InvalidParams`] when the parameters are not valid Argon2 parameters
    /// or exceed the ceiling.
    pub fn new(config: HasherConfig) -> Result<Self, HashError> {
        let HasherConfig {
            params,
            ceiling,
            permits,
            pepper,
        } = config;
        let argon2_params = params.to_argon2()?;
        if params.exceeds(ceiling) {
            return Err(HashError::InvalidParams);
        }
        let permit_count = permits.clamp(1, Semaphore::MAX_PERMITS);

        // The dummy hash for unknown accounts: configured parameters, random salt and a
        // random "output" that no password produces (with overwhelming probability).
        // Verifying against it costs exactly what a real verify costs.
        let mut rng = crate::random::os_rng();
        let mut salt = [0u8; SALT_LEN];
        let mut output = [0u8; OUTPUT_LEN];
        rng.fill_bytes(&mut salt);
        rng.fill_bytes(&mut output);
        let dummy = encode_phc(&argon2_params, &salt, &output)?;

        Ok(Self {
            inner: Arc::new(Inner {
                params,
                ceiling,
                pepper,
                permits: Arc::new(Semaphore::new(permit_count)),
                permit_count,
                pool: MemoryPool::new(argon2_params.block_count()),
                dummy,
                verifications: AtomicU64::new(0),
            }),
        })
    }

    /// Hashes a password (NFKC-normalised first) with a fresh 16-byte salt.
    ///
    /// # Errors
    ///
    /// [`HashError::OutOfMemory`], [`HashError::Argon2`] or [`HashError::Unavailable`].
    pub async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let job = self.hash_job(password)?;
        self.run(job.needed_blocks(), move |inner, blocks| {
            job.run(inner, blocks)
        })
        .await
    }

    /// Checks a password against a stored hash.
    ///
    /// # Errors
    ///
    /// [`HashError::ParamsAboveCeiling`] (before allocating anything),
    /// [`HashError::OutOfMemory`], [`HashError::Argon2`] or [`HashError::Unavailable`].
    /// A wrong password is not an error, and neither is one over
    /// [`MAX_PASSWORD_BYTES`](crate::password::MAX_PASSWORD_BYTES): it costs one dummy verification and does not match.
    pub async fn verify(
        &self,
        password: &Password,
        hash: &PasswordHash,
    ) -> Result<Verification, HashError> {
        if is_oversized(password) {
            // The time of one verification, and no match.
            let _ = self
                .verify_checked(&Password::new(""), &self.inner.dummy)
                .await;
            return Ok(Verification {
                matches: false,
                needs_rehash: false,
            });
        }
        self.verify_checked(password, hash).await
    }

    async fn verify_checked(
        &self,
        password: &Password,
        hash: &PasswordHash,
    ) -> Result<Verification, HashError> {
        let job = self.verify_job(password, hash)?;
        self.run(job.needed_blocks(), move |inner, blocks| {
            job.run(inner, blocks)
        })
        .await
    }

    /// Spends one full verification on a password for an account that does not exist,
    /// so that "no such account" takes as long as "wrong password". Always answers
    /// "does not match".
    pub async fn verify_dummy(&self, password: &Password) -> Verification {
        // The outcome is discarded: whatever happened, there is no account to match.
        let _ = self.verify(password, &self.inner.dummy).await;
        Verification {
            matches: false,
            needs_rehash: false,
        }
    }

    /// [`hash`](Self::hash) for synchronous callers: parks the thread until a permit is
    /// free, then computes on it.
    ///
    /// # Errors
    ///
    /// As [`hash`](Self::hash).
    pub fn hash_blocking(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let job = self.hash_job(password)?;
        self.run_blocking(job.needed_blocks(), |inner, blocks| job.run(inner, blocks))
    }

    /// [`verify`](Self::verify) for synchronous callers: parks the thread until a permit
    /// is free, then computes on it.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify).
    pub fn verify_blocking(
        &self,
        password: &Password,
        hash: &PasswordHash,
    ) -> Result<Verification, HashError> {
        if is_oversized(password) {
            // As in `verify`: the time of one verification, and no match.
            let _ = self.verify_blocking(&Password::new(""), &self.inner.dummy);
            return Ok(Verification {
                matches: false,
                needs_rehash: false,
            });
        }
        let job = self.verify_job(password, hash)?;
        self.run_blocking(job.needed_blocks(), |inner, blocks| job.run(inner, blocks))
    }

    /// Whether a stored hash was made with other parameters, another Argon2 version,
    /// another output or salt length than this hasher uses now (a malformed hash always
    /// needs replacing).
    pub fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        hash.parsed()
            .map_or(true, |parsed| self.inner.needs_rehash(&parsed))
    }

    /// How many verifications (real and dummy) this hasher, and its clones, completed.
    pub fn verifications(&self) -> u64 {
        self.inner.verifications.load(Ordering::Relaxed)
    }

    /// The parameters new hashes are made with.
    pub fn params(&self) -> HashParams {
        self.inner.params
    }

    fn hash_job(&self, password: &Password) -> Result<HashJob, HashError> {
        if is_oversized(password) {
            return Err(HashError::PasswordTooLong);
        }
        let mut salt = [0u8; SALT_LEN];
        crate::random::os_rng().fill_bytes(&mut salt);
        let params = self.inner.params.to_argon2()?;
        Ok(HashJob {
            password: normalize(password),
            params,
            salt,
        })
    }

    /// Parses the stored hash and checks it against the ceiling: nothing is allocated
    /// for a hash that is refused.
    fn verify_job(&self, password: &Password, hash: &PasswordHash) -> Result<VerifyJob, HashError> {
        let stored = hash.parsed()?;
        if HashParams::of(&stored.params).exceeds(self.inner.ceiling) {
            return Err(HashError::ParamsAboveCeiling);
        }
        Ok(VerifyJob {
            password: normalize(password),
            stored,
        })
    }

    /// Runs `work` with a permit and a memory block, on a blocking thread when there is
    /// a tokio runtime.
    async fn run<T, F>(&self, needed_blocks: usize, work: F) -> Result<T, HashError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, &mut [Block]) -> Result<T, HashError> + Send + 'static,
    {
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| HashError::Unavailable)?;
        let inner = Arc::clone(&self.inner);
        // The permit moves into the task: should the caller's future be dropped, the
        // permit is still held until the hash finishes and its memory is back.
        let task = move || {
            let _permit = permit;
            inner.with_memory(needed_blocks, |blocks| work(&inner, blocks))
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime
                .spawn_blocking(task)
                .await
                .map_err(|_| HashError::Unavailable)?,
            Err(_) => task(),
        }
    }

    fn run_blocking<T>(
        &self,
        needed_blocks: usize,
        work: impl FnOnce(&Inner, &mut [Block]) -> Result<T, HashError>,
    ) -> Result<T, HashError> {
        let _permit = block_on(self.inner.permits.acquire()).map_err(|_| HashError::Unavailable)?;
        self.inner
            .with_memory(needed_blocks, |blocks| work(&self.inner, blocks))
    }

    /// How many pooled memory blocks were ever allocated (never more than `permits`).
    #[cfg(test)]
    pub(crate) fn pooled_blocks_allocated(&self) -> usize {
        self.inner.pool.pooled_allocations.load(Ordering::Relaxed)
    }

    /// How many one-off blocks were allocated for stored hashes needing more memory.
    #[cfg(test)]
    pub(crate) fn oversized_blocks_allocated(&self) -> usize {
        self.inner
            .pool
            .oversized_allocations
            .load(Ordering::Relaxed)
    }

    /// The most hashes that ever ran at once.
    #[cfg(test)]
    pub(crate) fn peak_concurrency(&self) -> usize {
        self.inner.pool.peak_in_use.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.inner.params)
            .field("ceiling", &self.inner.ceiling)
            .field("permits", &self.inner.permit_count)
            .field("pepper", &self.inner.pepper.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// Making a new hash, with everything it needs moved in.
struct HashJob {
    password: Zeroizing<String>,
    params: Params,
    salt: [u8; SALT_LEN],
}

impl HashJob {
    fn needed_blocks(&self) -> usize {
        self.params.block_count()
    }

    fn run(self, inner: &Inner, blocks: &mut [Block]) -> Result<PasswordHash, HashError> {
        let mut output = Zeroizing::new([0u8; OUTPUT_LEN]);
        let password = self.password.as_bytes();
        inner.compute(
            &self.params,
            Version::V0x13,
            password,
            &self.salt,
            &mut *output,
            blocks,
        )?;
        encode_phc(&self.params, &self.salt, &*output)
    }
}

/// Checking a password against a stored hash, with everything it needs moved in.
struct VerifyJob {
    password: Zeroizing<String>,
    stored: Parsed,
}

impl VerifyJob {
    fn needed_blocks(&self) -> usize {
        self.stored.params.block_count()
    }

    fn run(self, inner: &Inner, blocks: &mut [Block]) -> Result<Verification, HashError> {
        let stored = &self.stored;
        let expected = stored.output.as_bytes();
        let mut buffer = Zeroizing::new([0u8; Output::MAX_LENGTH]);
        let output = buffer
            .get_mut(..expected.len())
            .ok_or(HashError::MalformedHash)?;
        let salt: &[u8] = stored.salt.as_ref();
        let password = self.password.as_bytes();
        inner.compute(
            &stored.params,
            stored.version,
            password,
            salt,
            output,
            blocks,
        )?;
        inner.verifications.fetch_add(1, Ordering::Relaxed);

        Ok(Verification {
            matches: bool::from(output.ct_eq(expected)),
            needs_rehash: inner.needs_rehash(stored),
        })
    }
}

impl Inner {
    /// Argon2id over `blocks` (at least `params.block_count()` of them).
    fn compute(
        &self,
        params: &Params,
        version: Version,
        password: &[u8],
        salt: &[u8],
        output: &mut [u8],
        blocks: &mut [Block],
    ) -> Result<(), HashError> {
        let argon2 = match &self.pepper {
            Some(pepper) => {
                Argon2::new_with_secret(pepper, Algorithm::Argon2id, version, params.clone())?
            }
            None => Argon2::new(Algorithm::Argon2id, version, params.clone()),
        };
        argon2.hash_password_into_with_memory(password, salt, output, blocks)?;
        Ok(())
    }

    fn needs_rehash(&self, stored: &Parsed) -> bool {
        HashParams::of(&stored.params) != self.params
            || stored.version != Version::V0x13
            || stored.output.len() != OUTPUT_LEN
            || stored.salt.as_ref().len() < SALT_LEN
            || !stored.params.keyid().is_empty()
            || !stored.params.data().is_empty()
    }

    /// Runs `work` on a memory block of at least `needed` Argon2 blocks.
    fn with_memory<T>(
        &self,
        needed: usize,
        work: impl FnOnce(&mut [Block]) -> Result<T, HashError>,
    ) -> Result<T, HashError> {
        let pool = &self.pool;
        let in_use = pool.in_use.fetch_add(1, Ordering::Relaxed) + 1;
        pool.peak_in_use.fetch_max(in_use, Ordering::Relaxed);
        let result = if needed <= pool.blocks_per_set {
            pool.take().and_then(|mut blocks| {
                let result = work(&mut blocks);
                wipe(&mut blocks);
                pool.give_back(blocks);
                result
            })
        } else {
            allocate(needed).and_then(|mut blocks| {
                pool.oversized_allocations.fetch_add(1, Ordering::Relaxed);
                let result = work(&mut blocks);
                wipe(&mut blocks);
                result
            })
        };
        pool.in_use.fetch_sub(1, Ordering::Relaxed);
        result
    }
}

/// The reusable memory blocks. The semaphore, not this pool, bounds how many are out at
/// once, so the pool never holds more than `permits` blocks.
struct MemoryPool {
    free: Mutex<Vec<Vec<Block>>>,
    blocks_per_set: usize,
    pooled_allocations: AtomicUsize,
    oversized_allocations: AtomicUsize,
    in_use: AtomicUsize,
    peak_in_use: AtomicUsize,
}

impl MemoryPool {
    fn new(blocks_per_set: usize) -> Self {
        Self {
            free: Mutex::new(Vec::new()),
            blocks_per_set,
            pooled_allocations: AtomicUsize::new(0),
            oversized_allocations: AtomicUsize::new(0),
            in_use: AtomicUsize::new(0),
            peak_in_use: AtomicUsize::new(0),
        }
    }

    /// A free block, or a new one when none is free yet.
    fn take(&self) -> Result<Vec<Block>, HashError> {
        // A poisoned lock only means a thread panicked while pushing or popping; the
        // list of blocks itself is still sound.
        let reused = self
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        if let Some(blocks) = reused {
            return Ok(blocks);
        }
        let blocks = allocate(self.blocks_per_set)?;
        self.pooled_allocations.fetch_add(1, Ordering::Relaxed);
        Ok(blocks)
    }

    fn give_back(&self, blocks: Vec<Block>) {
        self.free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(blocks);
    }
}

/// Allocates `count` zeroed blocks, reporting failure instead of aborting.
fn allocate(count: usize) -> Result<Vec<Block>, HashError> {
    let mut blocks = Vec::new();
    blocks
        .try_reserve_exact(count)
        .map_err(|_| HashError::OutOfMemory)?;
    blocks.resize(count, Block::new());
    Ok(blocks)
}

/// Zeroizes the working memory: it holds values derived from the password that would
/// make guessing it far cheaper than Argon2 is meant to allow.
fn wipe(blocks: &mut [Block]) {
    blocks.iter_mut().for_each(Zeroize::zeroize);
}

fn encode_phc(params: &Params, salt: &[u8], output: &[u8]) -> Result<PasswordHash, HashError> {
    let phc = phc::PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|_| HashError::InvalidParams)?,
        salt: Some(Salt::new(salt).map_err(|_| HashError::MalformedHash)?),
        hash: Some(Output::new(output).map_err(|_| HashError::MalformedHash)?),
    };
    PasswordHash::try_from(phc.to_string())
}

/// Waits for a future on the current thread by parking it between polls.
///
/// Hand-rolled rather than a dependency: it only ever waits for a semaphore permit, and
/// `std::task::Wake` makes it a dozen safe lines.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unparker(std::thread::Thread);

    impl Wake for Unparker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    let waker = Waker::from(Arc::new(Unparker(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use argon2::{AssociatedData, ParamsBuilder};

    use super::*;
    use crate::password::MAX_PASSWORD_BYTES;

    fn fast() -> PasswordHasher {
        PasswordHasher::new(HasherConfig::danger_fast_insecure().with_permits(2)).unwrap()
    }

    fn with_params(m_kib: u32, t: u32) -> PasswordHasher {
        let config = HasherConfig::new().with_params(HashParams::new(m_kib, t, 1));
        PasswordHasher::new(config.with_permits(1)).unwrap()
    }

    /// RFC 9106, section 5.3: the Argon2id test vector, as a PHC string (the associated
    /// data goes in the `data` parameter, the secret is the pepper).
    const RFC_9106_PHC: &str = "$argon2id$v=19$m=32,t=3,p=4,data=BAQEBAQEBAQEBAQE\
                                $AgICAgICAgICAgICAgICAg$DWQN9Y14dmwIwDejSotTydAe8EUtdbZetSUg6WsB5lk";
    const RFC_9106_TAG: [u8; 32] = [
        0x0d, 0x64, 0x0d, 0xf5, 0x8d, 0x78, 0x76, 0x6c, 0x08, 0xc0, 0x37, 0xa3, 0x4a, 0x8b, 0x53,
        0xc9, 0xd0, 0x1e, 0xf0, 0x45, 0x2d, 0x75, 0xb6, 0x5e, 0xb5, 0x25, 0x20, 0xe9, 0x6b, 0x01,
        0xe6, 0x59,
    ];

    fn rfc_hasher() -> PasswordHasher {
        let config = HasherConfig::new()
            .with_params(HashParams::new(32, 3, 4))
            .with_pepper(vec![0x03; 8])
            .with_permits(1);
        PasswordHasher::new(config).unwrap()
    }

    #[test]
    fn rfc_9106_vector_holds_with_reused_memory() {
        let hasher = rfc_hasher();
        let params = ParamsBuilder::new()
            .m_cost(32)
            .t_cost(3)
            .p_cost(4)
            .data(AssociatedData::new(&[0x04; 12]).unwrap())
            .output_len(32)
            .build()
            .unwrap();

        // Twice through the pool: the second run gets the block the first one used.
        for _ in 0..2 {
            let mut tag = [0u8; 32];
            hasher
                .inner
                .with_memory(params.block_count(), |blocks| {
                    hasher.inner.compute(
                        &params,
                        Version::V0x13,
                        &[1; 32],
                        &[2; 16],
                        &mut tag,
                        blocks,
                    )
                })
                .unwrap();
            assert_eq!(tag, RFC_9106_TAG);
        }
        assert_eq!(hasher.pooled_blocks_allocated(), 1);
    }

    #[test]
    fn rfc_9106_vector_verifies_through_the_public_api() {
        let hasher = rfc_hasher();
        let hash = PasswordHash::parse(RFC_9106_PHC).unwrap();
        let password = Password::new("\u{1}".repeat(32));

        let verification = hasher.verify_blocking(&password, &hash).unwrap();
        assert!(verification.matches);
        assert!(
            verification.needs_rehash,
            "associated data is not what this hasher writes"
        );

        let wrong = Password::new("\u{1}".repeat(31));
        assert!(!hasher.verify_blocking(&wrong, &hash).unwrap().matches);
    }

    #[test]
    fn rfc_9106_vector_needs_the_pepper() {
        let config = HasherConfig::new().with_params(HashParams::new(32, 3, 4));
        let hasher = PasswordHasher::new(config).unwrap();
        let hash = PasswordHash::parse(RFC_9106_PHC).unwrap();
        let password = Password::new("\u{1}".repeat(32));
        assert!(!hasher.verify_blocking(&password, &hash).unwrap().matches);
    }

    #[tokio::test]
    async fn default_params_produce_the_expected_phc_string() {
        let hasher = PasswordHasher::new(HasherConfig::new().with_permits(1)).unwrap();
        let hash = hasher.hash(&Password::new("Ледокол-7z!Q")).await.unwrap();

        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_str()
        );
        let parts: Vec<&str> = hash.as_str().split('$').collect();
        assert_eq!(parts.len(), 6);
        assert_eq!(parts[4].len(), 22, "16-byte salt");
        assert_eq!(parts[5].len(), 43, "32-byte output");
        assert_eq!(hash.params(), HashParams::default());
        assert!(
            hasher
                .verify(&Password::new("Ледокол-7z!Q"), &hash)
                .await
                .unwrap()
                .matches
        );
    }

    #[tokio::test]
    async fn an_oversized_password_costs_one_verify_never_matches_and_is_never_hashed() {
        let hasher = fast();
        let typed = "Ledokol-7z!Q".repeat(400);
        let hash = hasher
            .hash_blocking(&Password::new(&typed[..4092]))
            .unwrap();
        let oversized = Password::new(typed);
        assert!(MAX_PASSWORD_BYTES < oversized.expose_secret().len());

        let before = hasher.verifications();
        let verification = hasher.verify(&oversized, &hash).await.unwrap();
        assert!(!verification.matches);
        assert_eq!(hasher.verifications(), before + 1, "one verification spent");
        let blocking = hasher.verify_blocking(&oversized, &hash).unwrap();
        assert!(!blocking.matches);
        assert_eq!(hasher.verifications(), before + 2);

        assert_eq!(
            hasher.hash(&oversized).await.unwrap_err(),
            HashError::PasswordTooLong
        );
    }

    #[tokio::test]
    async fn hash_then_verify_matches() {
        let hasher = fast();
        let hash = hasher.hash(&Password::new("correct horse")).await.unwrap();
        let verification = hasher
            .verify(&Password::new("correct horse"), &hash)
            .await
            .unwrap();
        assert_eq!(
            verification,
            Verification {
                matches: true,
                needs_rehash: false
            }
        );
    }

    #[tokio::test]
    async fn wrong_password_does_not_match() {
        let hasher = fast();
        let hash = hasher.hash(&Password::new("correct horse")).await.unwrap();
        let verification = hasher
            .verify(&Password::new("correct horsE"), &hash)
            .await
            .unwrap();
        assert!(!verification.matches);
    }

    #[tokio::test]
    async fn two_hashes_of_one_password_differ_by_salt() {
        let hasher = fast();
        let first = hasher.hash(&Password::new("same")).await.unwrap();
        let second = hasher.hash(&Password::new("same")).await.unwrap();
        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn password_is_normalised_before_hashing() {
        let hasher = fast();
        let hash = hasher.hash(&Password::new("Ｐａｓｓ１")).await.unwrap();
        assert!(
            hasher
                .verify(&Password::new("Pass1"), &hash)
                .await
                .unwrap()
                .matches
        );
    }

    #[test]
    fn blocking_and_async_hashes_verify_each_other() {
        let hasher = fast();
        let hash = hasher
            .hash_blocking(&Password::new("сквозь туман"))
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let verified = runtime.block_on(hasher.verify(&Password::new("сквозь туман"), &hash));
        assert!(verified.unwrap().matches);
    }

    #[test]
    fn async_api_works_without_a_tokio_runtime() {
        let hasher = fast();
        let hash = block_on(hasher.hash(&Password::new("no runtime"))).unwrap();
        assert!(
            hasher
                .verify_blocking(&Password::new("no runtime"), &hash)
                .unwrap()
                .matches
        );
    }

    #[test]
    fn needs_rehash_when_params_differ() {
        let old = with_params(64, 1);
        let new = with_params(128, 1);
        let hash = old.hash_blocking(&Password::new("pw")).unwrap();

        assert!(!old.needs_rehash(&hash));
        assert!(new.needs_rehash(&hash));
        let verification = new.verify_blocking(&Password::new("pw"), &hash).unwrap();
        assert_eq!(
            verification,
            Verification {
                matches: true,
                needs_rehash: true
            }
        );
    }

    #[test]
    fn needs_rehash_when_version_is_old() {
        let hasher = fast();
        let hash = hasher.hash_blocking(&Password::new("pw")).unwrap();
        let old_version = PasswordHash::parse(&hash.as_str().replace("$v=19$", "$v=16$")).unwrap();
        assert!(hasher.needs_rehash(&old_version));
        assert!(
            !hasher
                .verify_blocking(&Password::new("pw"), &old_version)
                .unwrap()
                .matches
        );
    }

    #[test]
    fn hash_above_ceiling_is_refused_before_allocating() {
        let hasher = fast();
        let huge = PasswordHash::parse(
            "$argon2id$v=19$m=4194304,t=2,p=1$AgICAgICAgICAgICAgICAg$DWQN9Y14dmwIwDejSotTydAe8EUtdbZetSUg6WsB5lk",
        )
        .unwrap();
        assert_eq!(
            hasher.verify_blocking(&Password::new("pw"), &huge),
            Err(HashError::ParamsAboveCeiling)
        );
        assert_eq!(hasher.pooled_blocks_allocated(), 0);
        assert_eq!(hasher.oversized_blocks_allocated(), 0);
        assert_eq!(hasher.verifications(), 0);

        let many_passes = huge.as_str().replace("m=4194304,t=2", "m=64,t=5");
        let many_passes = PasswordHash::parse(&many_passes).unwrap();
        assert_eq!(
            hasher.verify_blocking(&Password::new("pw"), &many_passes),
            Err(HashError::ParamsAboveCeiling)
        );
    }

    #[test]
    fn configured_params_above_ceiling_are_invalid() {
        let config = HasherConfig::new().with_ceiling(HashParams::new(1024, 2, 1));
        assert_eq!(
            PasswordHasher::new(config).unwrap_err(),
            HashError::InvalidParams
        );
        let too_little_memory = HasherConfig::new().with_params(HashParams::new(4, 1, 1));
        assert_eq!(
            PasswordHasher::new(too_little_memory).unwrap_err(),
            HashError::InvalidParams
        );
    }

    #[test]
    fn hash_with_more_memory_gets_a_one_off_block() {
        let small = with_params(64, 1);
        let hash = with_params(256, 1)
            .hash_blocking(&Password::new("pw"))
            .unwrap();

        assert!(
            small
                .verify_blocking(&Password::new("pw"), &hash)
                .unwrap()
                .matches
        );
        assert_eq!(small.oversized_blocks_allocated(), 1);
        assert_eq!(small.pooled_blocks_allocated(), 0);

        let smaller = with_params(32, 1)
            .hash_blocking(&Password::new("pw"))
            .unwrap();
        assert!(
            small
                .verify_blocking(&Password::new("pw"), &smaller)
                .unwrap()
                .matches
        );
        assert_eq!(
            small.pooled_blocks_allocated(),
            1,
            "smaller hashes use the pooled block"
        );
    }

    #[test]
    fn pepper_changes_the_hash_and_is_needed_to_verify() {
        let peppered = PasswordHasher::new(
            HasherConfig::danger_fast_insecure().with_pepper(b"server-side secret".to_vec()),
        )
        .unwrap();
        let plain = fast();
        let hash = peppered.hash_blocking(&Password::new("pw")).unwrap();

        assert!(
            peppered
                .verify_blocking(&Password::new("pw"), &hash)
                .unwrap()
                .matches
        );
        assert!(
            !plain
                .verify_blocking(&Password::new("pw"), &hash)
                .unwrap()
                .matches
        );
        let other = PasswordHasher::new(
            HasherConfig::danger_fast_insecure().with_pepper(b"another secret".to_vec()),
        )
        .unwrap();
        assert!(
            !other
                .verify_blocking(&Password::new("pw"), &hash)
                .unwrap()
                .matches
        );
    }

    #[tokio::test]
    async fn unknown_account_and_wrong_password_cost_one_verify_each() {
        let hasher = fast();
        let hash = hasher.hash(&Password::new("right")).await.unwrap();
        assert_eq!(hasher.verifications(), 0);

        let wrong = hasher.verify(&Password::new("wrong"), &hash).await.unwrap();
        assert_eq!(hasher.verifications(), 1);
        let unknown = hasher.verify_dummy(&Password::new("wrong")).await;
        assert_eq!(hasher.verifications(), 2);

        assert!(!wrong.matches);
        assert!(!unknown.matches);
    }

    #[test]
    fn dummy_hash_uses_the_configured_params() {
        let hasher = with_params(128, 2);
        assert_eq!(hasher.inner.dummy.params(), HashParams::new(128, 2, 1));
        assert!(!hasher.needs_rehash(&hasher.inner.dummy));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn more_calls_than_permits_all_succeed_within_the_bound() {
        let config = HasherConfig::new()
            .with_params(HashParams::new(2048, 1, 1))
            .with_permits(2);
        let hasher = PasswordHasher::new(config).unwrap();
        let hash = hasher.hash(&Password::new("pw")).await.unwrap();

        let mut tasks = Vec::new();
        for i in 0..12 {
            let hasher = hasher.clone();
            let hash = hash.clone();
            tasks.push(tokio::spawn(async move {
                if i % 2 == 0 {
                    hasher
                        .hash(&Password::new(format!("pw{i}")))
                        .await
                        .map(|_| true)
                } else {
                    hasher
                        .verify(&Password::new("pw"), &hash)
                        .await
                        .map(|v| v.matches)
                }
            }));
        }
        let blocking: Vec<_> = (0..4)
            .map(|_| {
                let hasher = hasher.clone();
                let hash = hash.clone();
                std::thread::spawn(move || hasher.verify_blocking(&Password::new("pw"), &hash))
            })
            .collect();

        for task in tasks {
            assert!(task.await.unwrap().unwrap());
        }
        for thread in blocking {
            assert!(thread.join().unwrap().unwrap().matches);
        }
        assert!(
            hasher.pooled_blocks_allocated() <= 2,
            "{}",
            hasher.pooled_blocks_allocated()
        );
        assert!(
            hasher.peak_concurrency() <= 2,
            "{}",
            hasher.peak_concurrency()
        );
        assert_eq!(hasher.verifications(), 6 + 4);
    }

    #[test]
    fn malformed_hashes_are_refused() {
        for text in [
            "",
            "not a hash",
            "$argon2i$v=19$m=64,t=1,p=1$AgICAgICAgICAgICAgICAg$DWQN9Y14dmwIwDejSotTydAe8EUtdbZetSUg6WsB5lk",
            "$argon2id$v=19$m=64,t=1,p=1$AgICAgICAgICAgICAgICAg",
            "$argon2id$v=19$m=4,t=1,p=1$AgICAgICAgICAgICAgICAg$DWQN9Y14dmwIwDejSotTydAe8EUtdbZetSUg6WsB5lk",
            "$argon2id$v=20$m=64,t=1,p=1$AgICAgICAgICAgICAgICAg$DWQN9Y14dmwIwDejSotTydAe8EUtdbZetSUg6WsB5lk",
            "$argon2id$v=19$m=64,t=1,p=1,x=1$AgICAgICAgICAgICAgICAg$DWQN9Y14dmwIwDejSotTydAe8EUtdbZetSUg6WsB5lk",
            "$pbkdf2$i=1000$AgICAgICAgICAgICAgICAg$DWQN9Y14dmwIwDejSotTydAe8EUtdbZetSUg6WsB5lk",
        ] {
            assert_eq!(
                PasswordHash::parse(text),
                Err(HashError::MalformedHash),
                "{text}"
            );
            assert!(text.parse::<PasswordHash>().is_err());
        }
    }

    #[test]
    fn hash_serialises_as_its_string_and_validates_on_the_way_in() {
        let hash = fast().hash_blocking(&Password::new("pw")).unwrap();
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(json, format!("\"{}\"", hash.as_str()));
        assert_eq!(serde_json::from_str::<PasswordHash>(&json).unwrap(), hash);
        assert!(serde_json::from_str::<PasswordHash>("\"$md5$abc\"").is_err());
    }

    #[test]
    fn debug_shows_params_but_never_salt_or_hash() {
        let hash = fast().hash_blocking(&Password::new("pw")).unwrap();
        let shown = format!("{hash:?}");
        let parts: Vec<&str> = hash.as_str().split('$').collect();
        assert!(
            !shown.contains(parts[4]) && !shown.contains(parts[5]),
            "{shown}"
        );
        assert!(
            shown.contains("argon2id") && shown.contains("m_kib: 64"),
            "{shown}"
        );
    }

    #[test]
    fn config_debug_never_shows_the_pepper() {
        let config = HasherConfig::danger_fast_insecure().with_pepper(b"pepper-value".to_vec());
        let hasher = PasswordHasher::new(config.clone()).unwrap();
        for shown in [format!("{config:?}"), format!("{hasher:?}")] {
            assert!(
                !shown.contains("pepper-value") && !shown.contains("112, 101"),
                "{shown}"
            );
            assert!(shown.contains("<redacted>"), "{shown}");
        }
    }
}
