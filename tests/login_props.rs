//! Random walks of login attempts against the failure counters and the lockout.
//!
//! The thresholds are drawn per walk, small enough that the captcha, the delay, the
//! lock and the end of each counting window are all reached in a few dozen steps. A
//! model of the counters predicts every reply and every password verification, for
//! known accounts and unknown login ids alike; after every step the walk checks that
//! the store holds what the model says (a refusal before the verify writes nothing),
//! and that a lock, once reached, holds past the failure count's window: only a
//! recovery or an operator lifts it, and neither happens here. A second walk runs one
//! history twice, against a real account and an unknown id, and checks that nothing an
//! attacker sees tells them apart.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::*;
use portal_auth::notify::{MessageKind, RecordingSender};
use portal_auth::store::MemoryStats;
use portal_auth::throttle::ThrottlePolicy;
use portal_auth::{
    AccountId, Error, HumanCheck, LoginOutcome, LoginRequest, ManualClock, MemoryStore, Portal,
};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

/// Passes only the token a person would have typed.
#[derive(Debug, Clone, Copy)]
struct Captcha;

impl HumanCheck for Captcha {
    async fn verify(&self, token: &str) -> bool {
        token == "human"
    }
}

type LoginPortal = Portal<Arc<MemoryStore>, RecordingSender, Captcha, ManualClock>;

/// Who an attempt names: two accounts (one of them under two spellings of its phone)
/// and two login ids no account holds.
const SUBJECTS: [&[&str]; 4] = [
    &[PHONE, "8 (912) 345-67-89"],
    &[EMAIL],
    &["+79990001100"],
    &["nobody@mail.ru"],
];
const CLIENTS: [Option<&str>; 3] = [None, Some("203.0.113.7"), Some("198.51.100.1")];
const TOKENS: [Option<&str>; 3] = [None, Some("human"), Some("robot")];

#[derive(Debug, Clone, Copy)]
struct Rules {
    captcha_after: u32,
    delay_after: u32,
    lock_after: u32,
    base_delay: i64,
    max_delay: i64,
}

fn rules() -> impl Strategy<Value = Rules> {
    (1u32..=4, 0u32..=3, 1u32..=5, 1i64..=2, 2i64..=8).prop_map(
        |(captcha_after, delay_gap, lock_gap, base_delay, max_delay)| Rules {
            captcha_after,
            delay_after: captcha_after + delay_gap,
            lock_after: captcha_after + delay_gap + lock_gap,
            base_delay,
            max_delay: max_delay.max(base_delay),
        },
    )
}

impl Rules {
    /// Short windows, so that walks outlive them.
    const ACCOUNT_WINDOW: Duration = Duration::days(1);
    const CLIENT_WINDOW: Duration = Duration::minutes(10);

    fn throttle(self) -> ThrottlePolicy {
        ThrottlePolicy {
            captcha_after: self.captcha_after,
            delay_after: self.delay_after,
            base_delay: Duration::seconds(self.base_delay),
            max_delay: Duration::seconds(self.max_delay),
            lock_after: self.lock_after,
            account_window: Self::ACCOUNT_WINDOW,
            client_window: Self::CLIENT_WINDOW,
        }
    }

    /// The delay owed after `failures`, restated from the policy's documentation: none
    /// below `delay_after`, then the base delay doubling with each failure, capped.
    fn delay(self, failures: u32) -> Duration {
        if failures < self.delay_after {
            return Duration::ZERO;
        }
        let doubled = (0..failures - self.delay_after)
            .fold(self.base_delay, |delay, _| (delay * 2).min(self.max_delay));
        Duration::seconds(doubled.min(self.max_delay))
    }
}

#[derive(Debug, Clone)]
enum Op {
    Attempt {
        subject: usize,
        spelling: usize,
        right: bool,
        client: usize,
        token: usize,
    },
    Malformed(usize),
    Wait(i64),
    /// Until the delay of a subject's counter has passed, exactly.
    WaitOutDelay(usize),
}

const MALFORMED: [&str; 4] = ["", "hello", "12", "+1 202 555 0100"];

fn wait() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => 0i64..=3,
        1 => Just(Rules::CLIENT_WINDOW.whole_seconds()),
        1 => Just(Rules::ACCOUNT_WINDOW.whole_seconds()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    // Mostly wrong passwords, so that known accounts reach their lock too.
    let right = prop::bool::weighted(0.2);
    let attempt = (0..SUBJECTS.len(), 0usize..2, right, 0..CLIENTS.len()).prop_flat_map(
        |(subject, spelling, right, client)| {
            // A captcha token most of the time, so that walks get past the captcha.
            let token = prop_oneof![1 => Just(0usize), 3 => Just(1usize), 1 => Just(2usize)];
            token.prop_map(move |token| Op::Attempt {
                subject,
                spelling,
                right,
                client,
                token,
            })
        },
    );
    prop_oneof![
        10 => attempt,
        1 => (0..MALFORMED.len()).prop_map(Op::Malformed),
        3 => wait().prop_map(Op::Wait),
        2 => (0..SUBJECTS.len()).prop_map(Op::WaitOutDelay),
    ]
}

/// A reply reduced to what the model predicts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Authenticated(AccountId),
    InvalidCredentials,
    HumanCheckRequired,
    Throttled(Duration),
    Locked,
    InvalidField,
    Other(String),
}

fn reply(result: &Result<LoginOutcome, Error>) -> Reply {
    match result {
        Ok(LoginOutcome::Authenticated(session)) => Reply::Authenticated(session.account),
        Ok(other) => Reply::Other(format!("{other:?}")),
        Err(Error::InvalidCredentials) => Reply::InvalidCredentials,
        Err(Error::HumanCheckRequired) => Reply::HumanCheckRequired,
        Err(Error::Throttled { retry_after }) => Reply::Throttled(*retry_after),
        Err(Error::Locked) => Reply::Locked,
        Err(Error::InvalidField { .. }) => Reply::InvalidField,
        Err(other) => Reply::Other(other.to_string()),
    }
}

/// A counter as the memory store keeps it: present until reset, live until its window
/// ends.
#[derive(Debug, Clone, Copy)]
struct Counter {
    count: u32,
    last_at: OffsetDateTime,
    expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Subject(usize),
    Client(usize),
    /// The lock a subject's failures set; nothing in these walks lifts it.
    Lock(usize),
}

struct Walk {
    rules: Rules,
    portal: LoginPortal,
    store: Arc<MemoryStore>,
    sender: RecordingSender,
    clock: ManualClock,
    accounts: [AccountId; 2],
    counters: HashMap<Key, Counter>,
    /// Records the setup left: its registration counters, events and commits.
    base: MemoryStats,
    audit_events: usize,
    commits: u64,
    lock_notices: usize,
    /// The subjects whose last reply was `Locked`.
    locked: Vec<usize>,
}

impl Walk {
    async fn new(rules: Rules) -> Self {
        let mut config = config();
        config.throttle = rules.throttle();
        let store = Arc::new(MemoryStore::new());
        let clock = ManualClock::new(START);
        // The accounts are made through the usual world, over the same store.
        let setup = world_on(config.clone(), Arc::clone(&store), clock.clone());
        let accounts = [
            setup.register(Some(PHONE), None).await,
            setup.register(None, Some(EMAIL)).await,
        ];
        let sender = RecordingSender::new();
        let portal = Portal::new(
            config,
            Arc::clone(&store),
            sender.clone(),
            Captcha,
            clock.clone(),
        )
        .unwrap();
        let base = store.stats();
        Self {
            rules,
            portal,
            store,
            sender,
            clock,
            accounts,
            counters: HashMap::new(),
            base,
            audit_events: 0,
            commits: 0,
            lock_notices: 0,
            locked: Vec::new(),
        }
    }

    fn now(&self) -> OffsetDateTime {
        use portal_auth::Clock;
        self.clock.now()
    }

    fn live(&self, key: Key, now: OffsetDateTime) -> Option<Counter> {
        self.counters
            .get(&key)
            .copied()
            .filter(|c| c.expires_at > now)
    }

    fn count(&mut self, key: Key, window: Duration, now: OffsetDateTime) -> u32 {
        let counter = self.counters.entry(key).or_insert(Counter {
            count: 0,
            last_at: now,
            expires_at: now,
        });
        if counter.expires_at <= now {
            *counter = Counter {
                count: 0,
                last_at: now,
                expires_at: now + window,
            };
        }
        counter.count += 1;
        counter.last_at = now;
        counter.count
    }

    /// What an attempt must get, and whether it spends a verify; updates the model as
    /// the portal must have updated the store.
    fn expect(&mut self, subject: usize, right: bool, client: usize, token: usize) -> Reply {
        let now = self.now();
        let subject_count = self.live(Key::Subject(subject), now);
        let client_count = CLIENTS[client].and_then(|_| self.live(Key::Client(client), now));

        let lock_held = self.live(Key::Lock(subject), now).is_some();
        if lock_held || subject_count.is_some_and(|c| c.count >= self.rules.lock_after) {
            return Reply::Locked;
        }
        let retry_after = [subject_count, client_count]
            .into_iter()
            .flatten()
            .map(|c| c.last_at + self.rules.delay(c.count) - now)
            .fold(Duration::ZERO, Duration::max);
        if retry_after > Duration::ZERO {
            return Reply::Throttled(retry_after);
        }
        let most = [subject_count, client_count]
            .into_iter()
            .flatten()
            .map(|c| c.count)
            .max()
            .unwrap_or(0);
        if most >= self.rules.captcha_after && TOKENS[token] != Some("human") {
            // The failed captcha is audited, not counted.
            self.audit_events += 1;
            self.commits += 1;
            return Reply::HumanCheckRequired;
        }

        self.commits += 1;
        self.audit_events += 1;
        let account = self.accounts.get(subject).copied();
        if let (Some(account), true) = (account, right) {
            self.counters.remove(&Key::Subject(subject));
            return Reply::Authenticated(account);
        }
        let failures = self.count(Key::Subject(subject), Rules::ACCOUNT_WINDOW, now);
        if CLIENTS[client].is_some() {
            self.count(Key::Client(client), Rules::CLIENT_WINDOW, now);
        }
        if failures >= self.rules.lock_after {
            // Known or not, the subject's lock is set, and held past the count's window.
            self.count(Key::Lock(subject), Duration::days(36_525), now);
        }
        if account.is_some() && failures == self.rules.lock_after {
            // The lock is audited and its owner told, once.
            self.audit_events += 1;
            self.lock_notices += 1;
        }
        Reply::InvalidCredentials
    }

    fn expected_stats(&self) -> MemoryStats {
        MemoryStats {
            counters: self.base.counters + self.counters.len(),
            audit_events: self.base.audit_events + self.audit_events,
            commits: self.base.commits + self.commits,
            ..self.base
        }
    }

    async fn step(&mut self, op: &Op) {
        let before = self.store.stats();
        let verifies = self.portal.hasher().verifications();
        let now = self.now();
        match *op {
            Op::Attempt {
                subject,
                spelling,
                right,
                client,
                token,
            } => {
                let names = SUBJECTS[subject];
                let request = LoginRequest {
                    login: names[spelling % names.len()].into(),
                    password: password(if right { PASSWORD } else { "Wrong-Passw0rd!" }),
                    client: CLIENTS[client].map(Into::into),
                    captcha: TOKENS[token].map(Into::into),
                };
                let was_locked = self.locked.contains(&subject);
                let got = reply(&self.portal.login(&request).await);
                let expected = self.expect(subject, right, client, token);
                assert_eq!(got, expected, "{op:?} at {now}");

                let past_throttle =
                    matches!(got, Reply::Authenticated(_) | Reply::InvalidCredentials);
                assert_eq!(
                    self.portal.hasher().verifications() - verifies,
                    u64::from(past_throttle),
                    "one verify exactly when past the throttle, known or not: {op:?}"
                );
                if matches!(got, Reply::Throttled(_) | Reply::Locked) {
                    assert_eq!(self.store.stats(), before, "{op:?} refused but wrote");
                }
                if was_locked {
                    assert_eq!(got, Reply::Locked, "a lock let go, with nothing to lift it");
                }
                self.locked.retain(|&s| s != subject);
                if got == Reply::Locked {
                    self.locked.push(subject);
                }
            }
            Op::Malformed(index) => {
                let got = reply(
                    &self
                        .portal
                        .login(&login_request(MALFORMED[index], PASSWORD))
                        .await,
                );
                assert_eq!(got, Reply::InvalidField);
                assert_eq!(self.store.stats(), before, "a malformed login id wrote");
                assert_eq!(self.portal.hasher().verifications(), verifies);
            }
            Op::Wait(seconds) => self.clock.advance(Duration::seconds(seconds)),
            Op::WaitOutDelay(subject) => {
                if let Some(counter) = self.live(Key::Subject(subject), now) {
                    let ready_at = counter.last_at + self.rules.delay(counter.count);
                    if ready_at > now {
                        self.clock.set(ready_at);
                    }
                }
            }
        }
        assert_eq!(self.store.stats(), self.expected_stats(), "after {op:?}");
        let notices = self
            .sender
            .messages()
            .iter()
            .filter(|m| m.kind() == MessageKind::LockedOut)
            .count();
        assert_eq!(notices, self.lock_notices, "lock notices after {op:?}");
        assert_eq!(
            self.sender.messages().len(),
            notices,
            "only lock notices are sent"
        );
    }
}

async fn walk(rules: Rules, ops: Vec<Op>) {
    let mut walk = Walk::new(rules).await;
    for op in &ops {
        walk.step(op).await;
    }
}

/// One failed attempt of the lockstep walk: which client, which captcha token, and how
/// long to wait before it.
type Probe = (usize, usize, i64);

/// Runs the same wrong-password history against a known login id and an unknown one:
/// the replies, their messages and the verifies spent must be the same at every step.
async fn lockstep(rules: Rules, probes: Vec<Probe>) {
    let known = Walk::new(rules).await;
    let unknown = Walk::new(rules).await;
    for (step, &(client, token, wait)) in probes.iter().enumerate() {
        let mut seen = Vec::new();
        for (walk, login) in [(&known, PHONE), (&unknown, "+79990001100")] {
            walk.clock.advance(Duration::seconds(wait));
            let request = LoginRequest {
                login: login.into(),
                password: password("Wrong-Passw0rd!"),
                client: CLIENTS[client].map(Into::into),
                captcha: TOKENS[token].map(Into::into),
            };
            let verifies = walk.portal.hasher().verifications();
            let got = walk.portal.login(&request).await;
            let spent = walk.portal.hasher().verifications() - verifies;
            let shown = got.as_ref().map_err(ToString::to_string).err();
            seen.push((reply(&got), shown, spent));
        }
        assert_eq!(seen[0], seen[1], "step {step} told the two apart");
    }
}

fn probe() -> impl Strategy<Value = Probe> {
    (
        0..CLIENTS.len(),
        prop_oneof![1 => Just(0usize), 4 => Just(1usize)],
        prop_oneof![3 => 0i64..=2, 1 => 2i64..=9, 1 => Just(Rules::CLIENT_WINDOW.whole_seconds())],
    )
}

fn block_on(future: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn login_walks_follow_the_counters_and_a_lock_holds(
        rules in rules(),
        ops in proptest::collection::vec(op(), 1..96),
    ) {
        block_on(walk(rules, ops));
    }

    #[test]
    fn an_unknown_login_id_walks_the_same_path_as_a_wrong_password(
        rules in rules(),
        probes in proptest::collection::vec(probe(), 1..32),
    ) {
        block_on(lockstep(rules, probes));
    }
}
