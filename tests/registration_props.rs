//! Random walks through registration, several flows at once over the same contacts.
//!
//! A model of the rules (code lifetime, tries, resend cooldown and limit, the hourly
//! start limit, taken contacts) predicts every reply. After every step the walk also
//! checks the invariants directly on the store: no two accounts hold one confirmed
//! contact, no stored flow ever returns to an earlier state, and a refused step writes
//! nothing (a wrong code writes only its spent try).

mod common;

use std::collections::HashMap;

use common::*;
use portal_auth::notify::{Message, MessageKind, Recipient};
use portal_auth::otp::{CodeKind, CodePolicy};
use portal_auth::store::MemoryStats;
use portal_auth::{AccountId, Error, FlowId, LookupKey, OneTimeCode, RegistrationRequest, Store};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

/// The contacts the walks register: two phones and an e-mail, so that several flows
/// race for each.
const TARGETS: [&str; 3] = [PHONE, "+79990001122", EMAIL];

#[derive(Debug, Clone, Copy)]
enum Candidate {
    /// The flow's live code (a guess when its contact is taken and no code was sent).
    Right,
    /// A well-formed code that is not the live one.
    Wrong,
    /// The code a resend replaced.
    Previous,
    /// Another flow's live code: codes are bound to their flow.
    Foreign,
    /// Not six digits: refused before any comparison.
    Malformed,
}

#[derive(Debug, Clone, Copy)]
enum Secret {
    Strong,
    Weak,
    Mismatched,
}

#[derive(Debug, Clone)]
enum Op {
    Start(usize),
    BadStart(usize),
    Confirm(usize, Candidate),
    Resend(usize),
    Complete(usize, Secret),
    Wait(i64),
    /// To an instant of one flow's: see [`Moment`].
    WaitFor(usize, Moment),
}

/// The instants where a flow's rules change.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// The last second of the live code.
    CodeLastSecond,
    /// The instant the live code expires.
    CodeExpiry,
    /// The instant the resend cooldown ends.
    CooldownEnd,
}

/// The settings a walk runs under, drawn per walk so that every limit is reached.
#[derive(Debug, Clone, Copy)]
struct Rules {
    sms_ttl: Duration,
    email_ttl: Duration,
    tries: u8,
    cooldown: Duration,
    max_sends: u8,
}

fn rules() -> impl Strategy<Value = Rules> {
    (
        60i64..=300,
        1u8..=3,
        prop_oneof![Just(30i64), Just(60)],
        2u8..=5,
    )
        .prop_map(|(sms, tries, cooldown, max_sends)| Rules {
            sms_ttl: Duration::seconds(sms),
            email_ttl: Duration::seconds(sms * 3),
            tries,
            cooldown: Duration::seconds(cooldown),
            max_sends,
        })
}

impl Rules {
    fn config(self) -> portal_auth::PortalConfig {
        let code = |ttl| CodePolicy::new(CodeKind::Numeric { digits: 6 }, ttl, self.tries);
        let mut config = config();
        config.sms_code = code(self.sms_ttl).unwrap();
        config.email_code = code(self.email_ttl).unwrap();
        config.resend_cooldown = self.cooldown;
        config.max_sends = self.max_sends;
        config
    }

    fn ttl(self, target: usize) -> Duration {
        if target == 2 {
            self.email_ttl
        } else {
            self.sms_ttl
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let candidate = prop_oneof![
        2 => Just(Candidate::Right),
        1 => Just(Candidate::Wrong),
        1 => Just(Candidate::Previous),
        1 => Just(Candidate::Foreign),
        1 => Just(Candidate::Malformed),
    ];
    let secret = prop_oneof![
        4 => Just(Secret::Strong),
        1 => Just(Secret::Weak),
        1 => Just(Secret::Mismatched),
    ];
    // Mostly short waits, the resend cooldown exactly, and now and then an hour: the
    // flow's lifetime and the start limit's window.
    let wait = prop_oneof![
        4 => 0i64..=90,
        1 => Just(3600i64),
    ];
    let moment = prop_oneof![
        Just(Moment::CodeLastSecond),
        Just(Moment::CodeExpiry),
        Just(Moment::CooldownEnd),
    ];
    // The first phone most often, so that flows race for it.
    let target = prop_oneof![3 => Just(0usize), 1 => Just(1usize), 1 => Just(2usize)];
    prop_oneof![
        2 => target.prop_map(Op::Start),
        1 => (0..BAD_FORMS).prop_map(Op::BadStart),
        5 => (0usize..40, candidate).prop_map(|(flow, c)| Op::Confirm(flow, c)),
        4 => (0usize..40).prop_map(Op::Resend),
        3 => (0usize..40, secret).prop_map(|(flow, s)| Op::Complete(flow, s)),
        3 => wait.prop_map(Op::Wait),
        3 => (0usize..40, moment).prop_map(|(flow, at)| Op::WaitFor(flow, at)),
    ]
}

const BAD_FORMS: usize = 4;

fn bad_form(index: usize) -> RegistrationRequest {
    match index {
        0 => request(Some(PHONE), None).with_surname(" "),
        1 => request(Some("+1 202 555 0100"), None),
        2 => request(None, Some("ivan@localhost")),
        _ => request(None, None),
    }
}

fn form(target: usize) -> RegistrationRequest {
    if target == 2 {
        request(None, Some(TARGETS[target]))
    } else {
        request(Some(TARGETS[target]), None)
    }
}

fn recipient(target: usize) -> Recipient {
    if target == 2 {
        to_email(TARGETS[target])
    } else {
        to_phone(TARGETS[target])
    }
}

fn lookup_key(target: usize) -> LookupKey {
    if target == 2 {
        LookupKey::Email(email(TARGETS[target]))
    } else {
        LookupKey::Phone(phone(TARGETS[target]))
    }
}

/// A reply reduced to what the model predicts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Ok,
    InvalidField,
    Throttled(Duration),
    FlowNotFound,
    FlowExpired,
    FlowOver,
    WrongStep,
    WrongCode(u8),
    MalformedCode,
    CodeExpired,
    ResendTooSoon(Duration),
    ResendLimit,
    Policy,
    Taken,
    Other(String),
}

fn reply<T>(result: &Result<T, Error>) -> Reply {
    match result {
        Ok(_) => Reply::Ok,
        Err(Error::InvalidField { .. }) => Reply::InvalidField,
        Err(Error::Throttled { retry_after }) => Reply::Throttled(*retry_after),
        Err(Error::FlowNotFound) => Reply::FlowNotFound,
        Err(Error::FlowExpired) => Reply::FlowExpired,
        Err(Error::FlowOver) => Reply::FlowOver,
        Err(Error::WrongStep) => Reply::WrongStep,
        Err(Error::WrongCode { tries_left }) => Reply::WrongCode(*tries_left),
        Err(Error::MalformedCode) => Reply::MalformedCode,
        Err(Error::CodeExpired) => Reply::CodeExpired,
        Err(Error::ResendTooSoon { retry_after }) => Reply::ResendTooSoon(*retry_after),
        Err(Error::ResendLimit) => Reply::ResendLimit,
        Err(Error::Policy(_)) => Reply::Policy,
        Err(Error::Taken) => Reply::Taken,
        Err(other) => Reply::Other(other.to_string()),
    }
}

/// How far a flow got; the order is the machine's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Sent,
    Confirmed,
    Registered,
}

#[derive(Debug)]
struct FlowModel {
    id: FlowId,
    target: usize,
    /// The contact had an account at the start: no code was sent.
    taken: bool,
    code: Option<OneTimeCode>,
    previous: Option<OneTimeCode>,
    expires_at: OffsetDateTime,
    code_expires_at: OffsetDateTime,
    tries_left: u8,
    sends: u8,
    last_sent_at: OffsetDateTime,
    stage: Stage,
}

impl FlowModel {
    /// The refusal every step of this flow gives before looking at its input, if any.
    fn refusal(&self, now: OffsetDateTime) -> Option<Reply> {
        if self.stage == Stage::Registered {
            Some(Reply::FlowNotFound)
        } else if now >= self.expires_at {
            Some(Reply::FlowExpired)
        } else if self.tries_left == 0 && self.stage == Stage::Sent {
            Some(Reply::FlowOver)
        } else {
            None
        }
    }
}

/// What a stored registration flow shows of its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stored {
    confirmed: bool,
    tries_left: u64,
    sends: u64,
}

fn stored_progress(flow: &portal_auth::flow::Flow) -> Stored {
    let json = serde_json::to_value(flow).unwrap();
    let state = &json["state"];
    Stored {
        confirmed: state["confirmed"].as_bool().unwrap(),
        tries_left: state["code"]["stored"]["tries_left"].as_u64().unwrap(),
        sends: state["code"]["sends"].as_u64().unwrap(),
    }
}

struct Walk {
    world: World,
    rules: Rules,
    flows: Vec<FlowModel>,
    accounts: HashMap<usize, AccountId>,
    /// Registration starts per contact: the count and the end of its window.
    starts: HashMap<usize, (u32, OffsetDateTime)>,
    audit_events: usize,
    /// Steps that committed: every success, and a wrong code for its spent try.
    commits: u64,
    /// The last progress seen in the store, per flow.
    progress: HashMap<FlowId, (Stored, OffsetDateTime)>,
}

impl Walk {
    fn now(&self) -> OffsetDateTime {
        self.world.clock_now()
    }

    /// A flow by a random index: one still in progress for most indices, any flow
    /// (finished, expired) for the rest.
    fn pick(&self, index: usize) -> Option<usize> {
        let now = self.now();
        let in_progress: Vec<usize> = (0..self.flows.len())
            .filter(|&i| self.flows[i].stage != Stage::Registered && now < self.flows[i].expires_at)
            .collect();
        if !index.is_multiple_of(5) && !in_progress.is_empty() {
            return Some(in_progress[index % in_progress.len()]);
        }
        (!self.flows.is_empty()).then(|| index % self.flows.len())
    }

    fn candidate(&self, index: usize, kind: Candidate) -> OneTimeCode {
        let flow = &self.flows[index];
        let wrong = || {
            let live = flow.code.as_ref().map_or("", |c| c.expose_secret());
            OneTimeCode::new(if live == "000000" { "111111" } else { "000000" })
        };
        match kind {
            Candidate::Right => flow.code.clone().unwrap_or_else(wrong),
            Candidate::Wrong => wrong(),
            Candidate::Previous => flow.previous.clone().unwrap_or_else(wrong),
            Candidate::Foreign => self
                .flows
                .iter()
                .filter(|other| other.id != flow.id)
                .find_map(|other| other.code.clone())
                .unwrap_or_else(wrong),
            Candidate::Malformed => OneTimeCode::new("12345"),
        }
    }

    /// Runs one step, checks its reply against the model and updates the model.
    /// Returns the flow the step acted on, to check it wrote nothing when refused.
    async fn step(&mut self, op: &Op) -> Option<(Option<FlowId>, Reply)> {
        let now = self.now();
        match *op {
            Op::Start(target) => Some((None, self.start(target, now).await)),
            Op::BadStart(index) => {
                let got = reply(&self.world.portal.start_registration(&bad_form(index)).await);
                assert_eq!(got, Reply::InvalidField, "{op:?}");
                Some((None, got))
            }
            Op::Confirm(index, kind) => {
                let index = self.pick(index)?;
                let id = self.flows[index].id;
                Some((Some(id), self.confirm(index, kind, now).await))
            }
            Op::Resend(index) => {
                let index = self.pick(index)?;
                let id = self.flows[index].id;
                Some((Some(id), self.resend(index, now).await))
            }
            Op::Complete(index, secret) => {
                let index = self.pick(index)?;
                let id = self.flows[index].id;
                Some((Some(id), self.complete(index, secret, now).await))
            }
            Op::Wait(seconds) => {
                self.world.clock.advance(Duration::seconds(seconds));
                None
            }
            Op::WaitFor(index, moment) => {
                let flow = &self.flows[self.pick(index)?];
                let at = match moment {
                    Moment::CodeLastSecond => flow.code_expires_at - Duration::seconds(1),
                    Moment::CodeExpiry => flow.code_expires_at,
                    Moment::CooldownEnd => flow.last_sent_at + self.rules.cooldown,
                };
                if at > now {
                    self.world.clock.set(at);
                }
                None
            }
        }
    }

    async fn start(&mut self, target: usize, now: OffsetDateTime) -> Reply {
        let sent_before = self.world.sender.messages().len();
        let got = self.world.portal.start_registration(&form(target)).await;
        let expected = match self.starts.get(&target) {
            Some(&(count, ends)) if ends > now && count >= u32::from(self.rules.max_sends) => {
                Reply::Throttled(ends - now)
            }
            _ => Reply::Ok,
        };
        assert_eq!(reply(&got), expected, "start {target}");
        let Ok(started) = got else {
            return expected;
        };

        let counter = self.starts.entry(target).or_insert((0, now));
        if counter.1 <= now {
            *counter = (0, now + Duration::hours(1));
        }
        counter.0 += 1;
        let taken = self.accounts.contains_key(&target);
        let message = only_new_message(&self.world, sent_before);
        assert_eq!(message.recipient(), &recipient(target));
        if taken {
            // The owner hears of the attempt; no code ever reaches a taken contact.
            assert_eq!(message.kind(), MessageKind::RegistrationAttempt);
            assert!(message.code().is_none());
            self.audit_events += 1;
        } else {
            assert_eq!(message.kind(), MessageKind::RegistrationCode);
        }
        let ttl = self.rules.ttl(target);
        self.flows.push(FlowModel {
            id: started.flow,
            target,
            taken,
            code: message.code().cloned(),
            previous: None,
            expires_at: now + Duration::hours(1),
            code_expires_at: now + ttl,
            tries_left: self.rules.tries,
            sends: 1,
            last_sent_at: now,
            stage: Stage::Sent,
        });
        Reply::Ok
    }

    async fn confirm(&mut self, index: usize, kind: Candidate, now: OffsetDateTime) -> Reply {
        let candidate = self.candidate(index, kind);
        let flow = &mut self.flows[index];
        let got = reply(
            &self
                .world
                .portal
                .confirm_registration(flow.id, &candidate)
                .await,
        );
        // Against a known code the outcome is certain; a taken flow's code was never
        // sent, so a guess is wrong but for a one-in-a-million match.
        let matches = flow
            .code
            .as_ref()
            .map(|code| code.expose_secret() == candidate.expose_secret());
        let expected = if let Some(refusal) = flow.refusal(now) {
            refusal
        } else if flow.stage == Stage::Confirmed {
            Reply::WrongStep
        } else if now >= flow.code_expires_at {
            Reply::CodeExpired
        } else if matches!(kind, Candidate::Malformed) {
            Reply::MalformedCode
        } else if matches == Some(true) || (matches.is_none() && got == Reply::Ok) {
            flow.tries_left = 0;
            flow.stage = Stage::Confirmed;
            Reply::Ok
        } else {
            flow.tries_left -= 1;
            Reply::WrongCode(flow.tries_left)
        };
        assert_eq!(got, expected, "confirm {kind:?} of {flow:?}");
        expected
    }

    async fn resend(&mut self, index: usize, now: OffsetDateTime) -> Reply {
        let sent_before = self.world.sender.messages().len();
        let flow = &mut self.flows[index];
        let got = reply(&self.world.portal.resend_registration_code(flow.id).await);
        let ready_at = flow.last_sent_at + self.rules.cooldown;
        let expected = if let Some(refusal) = flow.refusal(now) {
            refusal
        } else if flow.stage == Stage::Confirmed {
            Reply::WrongStep
        } else if now < ready_at {
            Reply::ResendTooSoon(ready_at - now)
        } else if flow.sends >= self.rules.max_sends {
            Reply::ResendLimit
        } else {
            Reply::Ok
        };
        assert_eq!(got, expected, "resend of {flow:?}");
        if expected == Reply::Ok {
            flow.sends += 1;
            flow.last_sent_at = now;
            flow.code_expires_at = now + self.rules.ttl(flow.target);
            if flow.taken {
                // A taken contact's owner was told once; nothing more is sent.
                assert_eq!(self.world.sender.messages().len(), sent_before);
            } else {
                let message = only_new_message(&self.world, sent_before);
                assert_eq!(message.kind(), MessageKind::RegistrationCode);
                flow.previous = flow.code.replace(message.code().unwrap().clone());
            }
        }
        expected
    }

    async fn complete(&mut self, index: usize, secret: Secret, now: OffsetDateTime) -> Reply {
        let (new, confirmation) = match secret {
            Secret::Strong => (PASSWORD, PASSWORD),
            Secret::Weak => ("petrov", "petrov"),
            Secret::Mismatched => (PASSWORD, "Kor0leva-Snezhnaya?"),
        };
        let flow = &mut self.flows[index];
        let got = self
            .world
            .portal
            .complete_registration(flow.id, &password(new), &password(confirmation))
            .await;
        let expected = if let Some(refusal) = flow.refusal(now) {
            refusal
        } else if flow.stage == Stage::Sent {
            Reply::WrongStep
        } else if !matches!(secret, Secret::Strong) {
            Reply::Policy
        } else if self.accounts.contains_key(&flow.target) {
            // Another flow registered the contact first.
            Reply::Taken
        } else {
            Reply::Ok
        };
        assert_eq!(reply(&got), expected, "complete {secret:?} of {flow:?}");
        if let Ok(registered) = got {
            flow.stage = Stage::Registered;
            self.accounts.insert(flow.target, registered.account);
            self.audit_events += 1;
        }
        expected
    }

    fn expected_stats(&self) -> MemoryStats {
        MemoryStats {
            accounts: self.accounts.len(),
            flows: self
                .flows
                .iter()
                .filter(|f| f.stage != Stage::Registered)
                .count(),
            counters: self.starts.len(),
            audit_events: self.audit_events,
            commits: self.commits,
        }
    }

    /// No two accounts hold one confirmed contact, and each contact finds the account
    /// that registered it.
    async fn check_contacts_are_unique(&self) {
        let mut holders: HashMap<String, AccountId> = HashMap::new();
        for (&target, &id) in &self.accounts {
            let found = self.world.store.account_by_key(&lookup_key(target)).await;
            assert_eq!(found.unwrap().map(|a| a.id()), Some(id));
            let account = self.world.store.account(id).await.unwrap().unwrap();
            let contacts = [
                account.confirmed_phone().map(ToString::to_string),
                account.confirmed_email().map(ToString::to_string),
            ];
            for contact in contacts.into_iter().flatten() {
                let other = holders.insert(contact.clone(), id);
                assert!(other.is_none(), "{contact} is confirmed on two accounts");
            }
        }
    }

    /// No stored flow goes back: once confirmed it stays confirmed, its tries never
    /// grow back, its sends never shrink and its expiry never moves.
    async fn check_flows_never_go_back(&mut self) {
        for model in &self.flows {
            let Some(flow) = self.world.store.flow(model.id).await.unwrap() else {
                assert_eq!(model.stage, Stage::Registered, "{model:?} vanished");
                continue;
            };
            let now = (stored_progress(&flow), flow.expires_at());
            if let Some((before, expires_at)) = self.progress.insert(model.id, now) {
                let (after, _) = now;
                assert!(
                    after.confirmed || !before.confirmed,
                    "{model:?} unconfirmed"
                );
                assert!(
                    after.tries_left <= before.tries_left,
                    "{model:?} regained tries"
                );
                assert!(after.sends >= before.sends, "{model:?} lost sends");
                assert_eq!(flow.expires_at(), expires_at, "{model:?} moved its expiry");
            }
        }
    }
}

/// The one message sent since the sender held `before` messages.
fn only_new_message(world: &World, before: usize) -> Message {
    let messages = world.sender.messages();
    assert_eq!(messages.len(), before + 1, "exactly one message");
    messages.last().cloned().unwrap()
}

async fn walk(rules: Rules, ops: Vec<Op>) {
    let mut walk = Walk {
        world: world_with(rules.config()),
        rules,
        flows: Vec::new(),
        accounts: HashMap::new(),
        starts: HashMap::new(),
        audit_events: 0,
        commits: 0,
        progress: HashMap::new(),
    };
    for op in &ops {
        let before = walk.world.stats();
        let messages = walk.world.sender.messages().len();
        let versions: HashMap<FlowId, u64> = {
            let mut versions = HashMap::new();
            for flow in &walk.flows {
                if let Some(stored) = walk.world.store.flow(flow.id).await.unwrap() {
                    versions.insert(flow.id, stored.version());
                }
            }
            versions
        };

        let outcome = walk.step(op).await;
        if let Some((_, Reply::Ok | Reply::WrongCode(_))) = outcome {
            walk.commits += 1;
        }

        if let Some((flow, got)) = outcome
            && got != Reply::Ok
        {
            // A refusal writes nothing and sends nothing; a wrong code writes only the
            // try it spent, in its own flow.
            let after = MemoryStats {
                commits: before.commits,
                ..walk.world.stats()
            };
            assert_eq!(after, before, "{op:?} refused with {got:?} but wrote");
            assert_eq!(walk.world.sender.messages().len(), messages, "{op:?} sent");
            if let Some(id) = flow
                && !matches!(got, Reply::WrongCode(_))
                && let Some(version) = versions.get(&id)
            {
                let stored = walk.world.store.flow(id).await.unwrap().unwrap();
                assert_eq!(
                    stored.version(),
                    *version,
                    "{op:?} refused with {got:?} but wrote"
                );
            }
        }
        assert_eq!(walk.world.stats(), walk.expected_stats(), "after {op:?}");
        walk.check_contacts_are_unique().await;
        walk.check_flows_never_go_back().await;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn registration_walks_keep_contacts_unique_and_never_go_back(
        rules in rules(),
        ops in proptest::collection::vec(op(), 1..64),
    ) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(walk(rules, ops));
    }
}
