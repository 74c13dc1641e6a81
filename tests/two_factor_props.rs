//! Random walks through two-factor login and the settings that change it.
//!
//! An account starts with SMS codes or an authenticator app; the walk logs in, types
//! right, wrong, stale, foreign, replayed and malformed codes and backup codes, asks for
//! resends, sends settings codes, turns two-factor login off and on again with every
//! kind of proof, and lets the clock run. A model of the rules predicts every reply and
//! every message. After every step the walk checks on the store that a TOTP step and a
//! backup code are each accepted at most once, that a flow which has ended never
//! answers again, that the failure count locks the account at its threshold, and that
//! a refused step writes nothing (a wrong code writes only what it spent and counts).

mod common;

use std::collections::HashSet;

use common::*;
use portal_auth::notify::MessageKind;
use portal_auth::store::MemoryStats;
use portal_auth::{
    Authenticated, Error, FlowId, LoginOutcome, LoginRequest, OneTimeCode, SecondFactorKind,
    SecondFactorMethod, SecondFactorProof, Store,
};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

const TOTP_STEP: i64 = 30;
const WRONG_BACKUP: &str = "ABCDE-FGHJK";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Sms,
    Totp,
}

/// What is typed into the second step or given as a proof.
#[derive(Debug, Clone, Copy)]
enum Code {
    /// The live SMS code of the flow.
    Sms,
    /// A well-formed code that is not the live one.
    SmsWrong,
    /// The code a resend replaced.
    SmsPrevious,
    /// The live code of another flow.
    SmsForeign,
    /// The app's code for the step this many steps from now.
    Totp(i64),
    /// The code last accepted from the app.
    TotpReplay,
    /// One of the backup codes, used or not.
    Backup(usize),
    /// A well-formed backup code that was never issued.
    BackupWrong,
    /// Five digits.
    Malformed,
}

#[derive(Debug, Clone, Copy)]
enum Proof {
    None,
    /// A settings code flow (by index) and what is typed into it.
    Sms(usize, Code),
    /// The second-step flow (by index) given as if it were a settings code flow.
    LoginFlow(usize),
    Code(Code),
}

#[derive(Debug, Clone)]
enum Op {
    Login {
        right: bool,
    },
    Submit(usize, Code),
    Resend(usize),
    SendSettingsCode,
    Disable(Proof),
    EnableSms(Proof),
    /// Turn two-factor login off with a session from before the last change.
    StaleDisable,
    Wait(i64),
}

fn code() -> impl Strategy<Value = Code> {
    prop_oneof![
        4 => Just(Code::Sms),
        1 => Just(Code::SmsWrong),
        1 => Just(Code::SmsPrevious),
        1 => Just(Code::SmsForeign),
        4 => (-2i64..=1).prop_map(Code::Totp),
        1 => Just(Code::TotpReplay),
        2 => (0usize..4).prop_map(Code::Backup),
        1 => Just(Code::BackupWrong),
        1 => Just(Code::Malformed),
    ]
}

fn proof() -> impl Strategy<Value = Proof> {
    prop_oneof![
        1 => Just(Proof::None),
        3 => (0usize..32, code()).prop_map(|(flow, code)| Proof::Sms(flow, code)),
        1 => (0usize..32).prop_map(Proof::LoginFlow),
        3 => code().prop_map(Proof::Code),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop::bool::weighted(0.8).prop_map(|right| Op::Login { right }),
        8 => (0usize..32, code()).prop_map(|(flow, code)| Op::Submit(flow, code)),
        2 => (0usize..32).prop_map(Op::Resend),
        2 => Just(Op::SendSettingsCode),
        1 => proof().prop_map(Op::Disable),
        1 => proof().prop_map(Op::EnableSms),
        1 => Just(Op::StaleDisable),
        4 => prop_oneof![
            4 => 0i64..=40,
            1 => Just(60i64),
            1 => Just(300i64),
            1 => Just(600i64),
        ]
        .prop_map(Op::Wait),
    ]
}

/// A reply reduced to what the model predicts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Ok,
    SecondStep(SecondFactorKind),
    InvalidCredentials,
    Locked,
    FlowNotFound,
    FlowExpired,
    FlowOver,
    WrongCode(u8),
    MalformedCode,
    CodeExpired,
    CodeExhausted,
    CodeReplayed,
    ResendTooSoon(Duration),
    ResendLimit,
    NotPossible,
    StaleSession,
    Throttled(Duration),
    Other(String),
}

fn reply<T>(result: &Result<T, Error>) -> Reply {
    match result {
        Ok(_) => Reply::Ok,
        Err(Error::InvalidCredentials) => Reply::InvalidCredentials,
        Err(Error::Locked) => Reply::Locked,
        Err(Error::FlowNotFound) => Reply::FlowNotFound,
        Err(Error::FlowExpired) => Reply::FlowExpired,
        Err(Error::FlowOver) => Reply::FlowOver,
        Err(Error::WrongCode { tries_left }) => Reply::WrongCode(*tries_left),
        Err(Error::MalformedCode) => Reply::MalformedCode,
        Err(Error::CodeExpired) => Reply::CodeExpired,
        Err(Error::CodeExhausted) => Reply::CodeExhausted,
        Err(Error::CodeReplayed) => Reply::CodeReplayed,
        Err(Error::ResendTooSoon { retry_after }) => Reply::ResendTooSoon(*retry_after),
        Err(Error::ResendLimit) => Reply::ResendLimit,
        Err(Error::NotPossible(_)) => Reply::NotPossible,
        Err(Error::StaleSession) => Reply::StaleSession,
        Err(Error::Throttled { retry_after }) => Reply::Throttled(*retry_after),
        Err(other) => Reply::Other(other.to_string()),
    }
}

/// A code sent by SMS within a flow, as the rules treat it.
#[derive(Debug)]
struct SentCode {
    code: OneTimeCode,
    previous: Option<OneTimeCode>,
    expires_at: OffsetDateTime,
    tries_left: u8,
    sends: u8,
    last_sent_at: OffsetDateTime,
}

impl SentCode {
    fn new(code: OneTimeCode, now: OffsetDateTime) -> Self {
        Self {
            code,
            previous: None,
            expires_at: now + Duration::minutes(5),
            tries_left: 3,
            sends: 1,
            last_sent_at: now,
        }
    }

    /// Checks a candidate as a stored code does, spending a try when it is wrong.
    fn verify(&mut self, candidate: &str, now: OffsetDateTime) -> Reply {
        if now >= self.expires_at {
            Reply::CodeExpired
        } else if self.tries_left == 0 {
            Reply::CodeExhausted
        } else if !is_six_digits(candidate) {
            Reply::MalformedCode
        } else if candidate == self.code.expose_secret() {
            self.tries_left = 0;
            Reply::Ok
        } else {
            self.tries_left -= 1;
            Reply::WrongCode(self.tries_left)
        }
    }
}

fn is_six_digits(candidate: &str) -> bool {
    candidate.len() == 6 && candidate.bytes().all(|b| b.is_ascii_digit())
}

/// A flow as the model sees it. `epoch` counts the credential changes before it.
#[derive(Debug)]
struct FlowModel {
    id: FlowId,
    epoch: u32,
    expires_at: OffsetDateTime,
    /// The SMS code, for second-step flows of the SMS method and settings flows.
    sms: Option<SentCode>,
    /// A second-step flow, not a settings code flow.
    login: bool,
    done: bool,
}

struct Walk {
    world: World,
    lock_after: u32,
    method: Option<Method>,
    totp: Option<totp_rs::Totp>,
    last_step: Option<u64>,
    last_totp_code: Option<OneTimeCode>,
    backups: Vec<(OneTimeCode, bool)>,
    epoch: u32,
    session: Authenticated,
    stale: Option<Authenticated>,
    failures: u32,
    lock_held: bool,
    /// Settings codes sent in the current hour's window, and when the window ends.
    settings_sends: Option<(u32, OffsetDateTime)>,
    flows: Vec<FlowModel>,
    /// Flows that answered that they are over: they never look at a code again.
    ended: HashSet<FlowId>,
    base: MemoryStats,
    audit_events: usize,
    commits: u64,
    /// The kinds of message the current step must send.
    messages: Vec<MessageKind>,
}

impl Walk {
    async fn new(method: Method, lock_after: u32) -> Self {
        let mut config = config();
        // Neither captcha nor delay before the lock: the lock is the threshold here.
        config.throttle.captcha_after = lock_after;
        config.throttle.delay_after = lock_after;
        config.throttle.lock_after = lock_after;
        let world = world_with(config);
        world.register(Some(PHONE), None).await;
        let session = world.login(PHONE).await;
        let (issued, totp, last_step) = match method {
            Method::Sms => {
                let issued = world
                    .portal
                    .enable_sms_two_factor(&session, &password(PASSWORD), None)
                    .await
                    .unwrap();
                (issued, None, None)
            }
            Method::Totp => {
                let enrolment = world
                    .portal
                    .begin_totp_enrolment(&session, &password(PASSWORD), None)
                    .await
                    .unwrap();
                let totp = totp_rs::Totp::from_url(enrolment.expose_otpauth_uri()).unwrap();
                let now = world.clock_now();
                let code = OneTimeCode::new(totp.generate(unix(now)).to_string());
                let issued = world
                    .portal
                    .finish_totp_enrolment(&session, enrolment.flow, &code)
                    .await
                    .unwrap();
                (issued, Some(totp), None)
            }
        };
        // The step the enrolment code was taken for, as stored.
        let stored = world.store.account(session.account).await.unwrap().unwrap();
        let last_step = match stored.two_factor().map(|t| &t.method) {
            Some(SecondFactorMethod::Totp { last_step, .. }) => *last_step,
            _ => last_step,
        };
        let base = world.stats();
        world.sender.clear();
        Self {
            lock_after,
            method: Some(method),
            totp,
            last_step,
            last_totp_code: None,
            backups: issued.codes.into_iter().map(|c| (c, false)).collect(),
            epoch: 0,
            session: issued.session,
            stale: Some(session),
            failures: 0,
            lock_held: false,
            settings_sends: None,
            flows: Vec::new(),
            ended: HashSet::new(),
            base,
            audit_events: 0,
            commits: 0,
            messages: Vec::new(),
            world,
        }
    }

    fn now(&self) -> OffsetDateTime {
        self.world.clock_now()
    }

    /// A flow of the given kind by a random index: one still in progress for most
    /// indices, any (finished, expired) for the rest.
    fn pick(&self, index: usize, login: bool) -> Option<usize> {
        let now = self.now();
        let of_kind = |in_progress: bool| -> Vec<usize> {
            (0..self.flows.len())
                .filter(|&i| self.flows[i].login == login)
                .filter(|&i| {
                    !in_progress || (!self.flows[i].done && now < self.flows[i].expires_at)
                })
                .collect()
        };
        let in_progress = of_kind(true);
        if !index.is_multiple_of(4) && !in_progress.is_empty() {
            return Some(in_progress[index % in_progress.len()]);
        }
        let any = of_kind(false);
        (!any.is_empty()).then(|| any[index % any.len()])
    }

    fn candidate(&self, flow: Option<usize>, code: Code) -> OneTimeCode {
        let live = flow.and_then(|i| self.flows[i].sms.as_ref());
        let wrong = || {
            let live = live.map_or("", |sent| sent.code.expose_secret());
            OneTimeCode::new(if live == "000000" { "111111" } else { "000000" })
        };
        match code {
            Code::Sms => live.map_or_else(wrong, |sent| sent.code.clone()),
            Code::SmsWrong => wrong(),
            Code::SmsPrevious => live
                .and_then(|sent| sent.previous.clone())
                .unwrap_or_else(wrong),
            Code::SmsForeign => self
                .flows
                .iter()
                .enumerate()
                .filter(|&(i, _)| Some(i) != flow)
                .find_map(|(_, other)| other.sms.as_ref().map(|sent| sent.code.clone()))
                .unwrap_or_else(wrong),
            Code::Totp(offset) => match &self.totp {
                Some(totp) => {
                    let at = self.now() + Duration::seconds(offset * TOTP_STEP);
                    OneTimeCode::new(totp.generate(unix(at)).to_string())
                }
                None => wrong(),
            },
            Code::TotpReplay => self.last_totp_code.clone().unwrap_or_else(wrong),
            Code::Backup(index) => self.backups[index % self.backups.len()].0.clone(),
            Code::BackupWrong => OneTimeCode::new(WRONG_BACKUP),
            Code::Malformed => OneTimeCode::new("12345"),
        }
    }

    /// Checks a code against the app as RFC 6238 with one step either side and no
    /// replay does; on success the step is used up.
    fn verify_totp(&mut self, candidate: &str) -> Reply {
        let Some(totp) = &self.totp else {
            return Reply::WrongCode(0);
        };
        if !is_six_digits(candidate) {
            return Reply::WrongCode(0);
        }
        let current = unix(self.now()) / 30;
        let (mut accepted, mut replayed) = (None, false);
        for step in current - 1..=current + 1 {
            if totp.generate(step * 30).to_string() != candidate {
                continue;
            }
            if self.last_step.is_some_and(|last| step <= last) {
                replayed = true;
            } else if accepted.is_none() {
                accepted = Some(step);
            }
        }
        match accepted {
            Some(step) => {
                self.last_step = Some(step);
                self.last_totp_code = Some(OneTimeCode::new(candidate));
                Reply::Ok
            }
            None if replayed => Reply::CodeReplayed,
            None => Reply::WrongCode(0),
        }
    }

    /// Uses up an unused backup code equal to `candidate`.
    fn consume_backup(&mut self, candidate: &str) -> bool {
        let unused = self
            .backups
            .iter_mut()
            .find(|(code, used)| !used && code.expose_secret() == candidate);
        unused.map(|(_, used)| *used = true).is_some()
    }

    /// One failure toward the lock: audited, and at the threshold the owner is told and
    /// the lock is set (a counter of its own, held until a recovery lifts it).
    fn fail(&mut self) {
        self.failures += 1;
        self.lock_held |= self.failures >= self.lock_after;
        self.audit_events += 1;
        if self.failures == self.lock_after {
            self.audit_events += 1;
            self.messages.push(MessageKind::LockedOut);
        }
    }

    fn login_request(right: bool) -> LoginRequest {
        LoginRequest {
            login: PHONE.into(),
            password: password(if right { PASSWORD } else { "Wrong-Passw0rd!" }),
            client: None,
            captcha: Some("token".into()),
        }
    }

    async fn login(&mut self, right: bool) -> Reply {
        let got = self.world.portal.login(&Self::login_request(right)).await;
        let now = self.now();
        let expected = if self.failures >= self.lock_after {
            Reply::Locked
        } else if !right {
            self.fail();
            Reply::InvalidCredentials
        } else if let Some(method) = self.method {
            Reply::SecondStep(match method {
                Method::Sms => SecondFactorKind::Sms,
                Method::Totp => SecondFactorKind::Totp,
            })
        } else {
            self.failures = 0;
            self.audit_events += 1;
            Reply::Ok
        };
        let got_reply = match &got {
            Ok(LoginOutcome::SecondFactorRequired(challenge)) => {
                Reply::SecondStep(challenge.method)
            }
            other => reply(other),
        };
        assert_eq!(got_reply, expected, "login (right: {right})");
        if expected != Reply::Locked {
            self.commits += 1;
        }
        if let Ok(LoginOutcome::SecondFactorRequired(challenge)) = got {
            let sms = (self.method == Some(Method::Sms)).then(|| {
                self.messages.push(MessageKind::LoginCode);
                SentCode::new(self.world.last_code(&to_phone(PHONE)), now)
            });
            self.flows.push(FlowModel {
                id: challenge.flow,
                epoch: self.epoch,
                expires_at: now + Duration::minutes(10),
                sms,
                login: true,
                done: false,
            });
        }
        expected
    }

    async fn submit(&mut self, index: usize, code: Code) -> Option<(FlowId, Reply)> {
        let index = self.pick(index, true)?;
        let candidate = self.candidate(Some(index), code);
        let id = self.flows[index].id;
        let got = reply(&self.world.portal.login_second_factor(id, &candidate).await);
        let now = self.now();
        let flow = &self.flows[index];
        let expected = if flow.done {
            Reply::FlowNotFound
        } else if now >= flow.expires_at {
            Reply::FlowExpired
        } else if self.failures >= self.lock_after {
            Reply::Locked
        } else if flow.epoch != self.epoch {
            Reply::FlowOver
        } else {
            let secret = candidate.expose_secret();
            let by_method = match self.flows[index].sms.as_mut() {
                Some(sms) => sms.verify(secret, now),
                None => self.verify_totp(secret),
            };
            let outcome = if by_method != Reply::Ok && self.consume_backup(secret) {
                // A backup code passes whatever the method said.
                self.audit_events += 1;
                Reply::Ok
            } else {
                by_method
            };
            self.commits += 1;
            if outcome == Reply::Ok {
                self.failures = 0;
                self.audit_events += 1;
                self.flows[index].done = true;
            } else {
                self.fail();
            }
            outcome
        };
        assert_eq!(
            got, expected,
            "second step with {code:?} in {:?}",
            self.flows[index]
        );
        Some((id, expected))
    }

    async fn resend(&mut self, index: usize) -> Option<(FlowId, Reply)> {
        let index = self.pick(index, true)?;
        let id = self.flows[index].id;
        let got = reply(&self.world.portal.resend_login_code(id).await);
        let now = self.now();
        let epoch = self.epoch;
        let flow = &mut self.flows[index];
        let expected = if flow.done {
            Reply::FlowNotFound
        } else if now >= flow.expires_at {
            Reply::FlowExpired
        } else if flow.epoch != epoch {
            Reply::FlowOver
        } else {
            match flow.sms.as_mut() {
                None => Reply::NotPossible,
                Some(sms) if sms.tries_left == 0 => Reply::CodeExhausted,
                Some(sms) if now < sms.last_sent_at + Duration::seconds(60) => {
                    Reply::ResendTooSoon(sms.last_sent_at + Duration::seconds(60) - now)
                }
                Some(sms) if sms.sends >= 5 => Reply::ResendLimit,
                Some(sms) => {
                    let fresh = self.world.last_code(&to_phone(PHONE));
                    sms.previous = Some(std::mem::replace(&mut sms.code, fresh));
                    sms.expires_at = now + Duration::minutes(5);
                    sms.sends += 1;
                    sms.last_sent_at = now;
                    self.messages.push(MessageKind::LoginCode);
                    self.commits += 1;
                    Reply::Ok
                }
            }
        };
        assert_eq!(got, expected, "resend in {:?}", self.flows[index]);
        Some((id, expected))
    }

    async fn send_settings_code(&mut self) -> Reply {
        let got = self.world.portal.send_settings_code(&self.session).await;
        let now = self.now();
        // Five settings codes an hour, counted from the first of the window.
        let window = self.settings_sends.filter(|&(_, ends)| now < ends);
        if let Some((5, ends)) = window {
            assert_eq!(reply(&got), Reply::Throttled(ends - now), "a sixth code");
            return Reply::Throttled(ends - now);
        }
        assert_eq!(reply(&got), Reply::Ok, "a settings code");
        self.settings_sends = Some(match window {
            Some((sent, ends)) => (sent + 1, ends),
            None => (1, now + Duration::hours(1)),
        });
        self.commits += 1;
        self.messages.push(MessageKind::SettingsCode);
        self.flows.push(FlowModel {
            id: got.unwrap(),
            epoch: self.epoch,
            expires_at: now + Duration::minutes(5),
            sms: Some(SentCode::new(self.world.last_code(&to_phone(PHONE)), now)),
            login: false,
            done: false,
        });
        Reply::Ok
    }

    /// Builds a proof, and what checking it must answer; the model spends what a
    /// successful check spends, and a wrong settings code's try. A wrong or replayed
    /// code counts toward the lock as at the second step of a login, in one commit
    /// with the try it spent.
    fn proof(&mut self, proof: Proof) -> (Option<SecondFactorProof>, Reply) {
        let (given, outcome) = self.check_proof(proof);
        if matches!(outcome, Reply::WrongCode(_) | Reply::CodeReplayed) {
            self.fail();
            self.commits += 1;
        }
        (given, outcome)
    }

    fn check_proof(&mut self, proof: Proof) -> (Option<SecondFactorProof>, Reply) {
        let now = self.now();
        let Some(method) = self.method else {
            // Without two-factor login no proof is asked for, and none is looked at.
            let given = match proof {
                Proof::Code(code) => Some(SecondFactorProof::Backup(self.candidate(None, code))),
                _ => None,
            };
            return (given, Reply::Ok);
        };
        match proof {
            Proof::None => (None, Reply::NotPossible),
            Proof::Code(code @ (Code::Backup(_) | Code::BackupWrong)) => {
                let candidate = self.candidate(None, code);
                let outcome = if self.consume_backup(candidate.expose_secret()) {
                    Reply::Ok
                } else {
                    Reply::WrongCode(0)
                };
                (Some(SecondFactorProof::Backup(candidate)), outcome)
            }
            Proof::Code(code) => {
                let candidate = self.candidate(None, code);
                let outcome = match method {
                    Method::Totp => self.verify_totp(candidate.expose_secret()),
                    Method::Sms => Reply::NotPossible,
                };
                (Some(SecondFactorProof::Totp(candidate)), outcome)
            }
            Proof::LoginFlow(index) => {
                let picked = self.pick(index, true).map(|i| &self.flows[i]);
                let flow = picked.map_or(FlowId::from_bytes([1; 16]), |f| f.id);
                let outcome = match (method, picked) {
                    (Method::Totp, _) => Reply::NotPossible,
                    // A live second-step flow is no settings code flow; an expired one is
                    // refused for its age first.
                    (Method::Sms, Some(f)) if !f.done && now >= f.expires_at => Reply::FlowExpired,
                    (Method::Sms, _) => Reply::FlowNotFound,
                };
                let code = OneTimeCode::new("000000");
                (Some(SecondFactorProof::Sms { flow, code }), outcome)
            }
            Proof::Sms(index, code) => {
                let Some(index) = self.pick(index, false) else {
                    // No settings code was sent: a flow id that finds nothing.
                    let flow = FlowId::from_bytes([2; 16]);
                    let code = OneTimeCode::new("000000");
                    let outcome = match method {
                        Method::Sms => Reply::FlowNotFound,
                        Method::Totp => Reply::NotPossible,
                    };
                    return (Some(SecondFactorProof::Sms { flow, code }), outcome);
                };
                let candidate = self.candidate(Some(index), code);
                let given = SecondFactorProof::Sms {
                    flow: self.flows[index].id,
                    code: candidate.clone(),
                };
                let epoch = self.epoch;
                let flow = &mut self.flows[index];
                let sms = flow.sms.as_mut().unwrap();
                let outcome = if method == Method::Totp {
                    Reply::NotPossible
                } else if flow.done {
                    Reply::FlowNotFound
                } else if now >= flow.expires_at {
                    Reply::FlowExpired
                } else if flow.epoch != epoch || sms.tries_left == 0 {
                    Reply::FlowOver
                } else {
                    let outcome = sms.verify(candidate.expose_secret(), now);
                    if outcome == Reply::Ok {
                        flow.done = true;
                    }
                    outcome
                };
                (Some(given), outcome)
            }
        }
    }

    async fn disable(&mut self, proof: Proof) -> Reply {
        // Turning two-factor login off always takes a proof: "none" is a wrong one.
        let proof = match proof {
            Proof::None => Proof::Code(Code::BackupWrong),
            other => other,
        };
        // A lock, then two-factor login being off, refuse before the proof is read.
        let (given, expected) = if self.failures >= self.lock_after {
            (None, Reply::Locked)
        } else if self.method.is_none() {
            (None, Reply::NotPossible)
        } else {
            self.proof(proof)
        };
        let given = given.unwrap_or(SecondFactorProof::Backup(OneTimeCode::new(WRONG_BACKUP)));
        let got = self
            .world
            .portal
            .disable_two_factor(&self.session, &password(PASSWORD), &given)
            .await;
        assert_eq!(reply(&got), expected, "disable with {proof:?}");
        if let Ok(session) = got {
            self.changed(session, None, MessageKind::SecondFactorDisabled);
        }
        expected
    }

    async fn enable_sms(&mut self, proof: Proof) -> Reply {
        let locked = self.failures >= self.lock_after;
        let (given, expected) = if locked {
            (None, Reply::Locked)
        } else {
            self.proof(proof)
        };
        let got = self
            .world
            .portal
            .enable_sms_two_factor(&self.session, &password(PASSWORD), given.as_ref())
            .await;
        assert_eq!(reply(&got), expected, "enable SMS with {proof:?}");
        if let Ok(issued) = got {
            self.backups = issued.codes.into_iter().map(|c| (c, false)).collect();
            self.changed(
                issued.session,
                Some(Method::Sms),
                MessageKind::SecondFactorEnabled,
            );
        }
        expected
    }

    /// A settings change went through: a new stamp ends every flow started before it.
    fn changed(&mut self, session: Authenticated, method: Option<Method>, notice: MessageKind) {
        assert!(
            session.stamp > self.session.stamp,
            "the stamp moves forward"
        );
        self.stale = Some(std::mem::replace(&mut self.session, session));
        self.epoch += 1;
        if method != Some(Method::Totp) {
            self.totp = None;
            self.last_step = None;
        }
        self.method = method;
        self.audit_events += 1;
        self.commits += 1;
        self.messages.push(notice);
    }

    async fn step(&mut self, op: &Op) -> Option<(Option<FlowId>, Reply)> {
        match *op {
            Op::Login { right } => Some((None, self.login(right).await)),
            Op::Submit(index, code) => self.submit(index, code).await.map(|(f, r)| (Some(f), r)),
            Op::Resend(index) => self.resend(index).await.map(|(f, r)| (Some(f), r)),
            Op::SendSettingsCode => Some((None, self.send_settings_code().await)),
            Op::Disable(proof) => Some((None, self.disable(proof).await)),
            Op::EnableSms(proof) => Some((None, self.enable_sms(proof).await)),
            Op::StaleDisable => {
                let stale = self.stale?;
                let proof = SecondFactorProof::Backup(self.backups[0].0.clone());
                let got = self
                    .world
                    .portal
                    .disable_two_factor(&stale, &password(PASSWORD), &proof)
                    .await;
                assert_eq!(reply(&got), Reply::StaleSession);
                Some((None, Reply::StaleSession))
            }
            Op::Wait(seconds) => {
                self.world.clock.advance(Duration::seconds(seconds));
                None
            }
        }
    }

    fn expected_stats(&self) -> MemoryStats {
        let live = self.flows.iter().filter(|f| !f.done).count();
        MemoryStats {
            flows: self.base.flows + live,
            counters: self.base.counters
                + usize::from(self.failures > 0)
                + usize::from(self.lock_held)
                + usize::from(self.settings_sends.is_some()),
            audit_events: self.base.audit_events + self.audit_events,
            commits: self.base.commits + self.commits,
            ..self.base
        }
    }

    /// The stored account agrees with the model: the method, the backup codes left,
    /// and the last TOTP step, which never moves back.
    async fn check_account(&self, last_step_before: Option<u64>) {
        let stored = self
            .world
            .store
            .account(self.session.account)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.credential_stamp(), self.session.stamp);
        let Some(two_factor) = stored.two_factor() else {
            assert_eq!(self.method, None, "two-factor login went off");
            return;
        };
        let unused = self.backups.iter().filter(|(_, used)| !used).count();
        assert_eq!(two_factor.backup_codes.len(), unused, "backup codes left");
        match &two_factor.method {
            SecondFactorMethod::Sms => assert_eq!(self.method, Some(Method::Sms)),
            SecondFactorMethod::Totp { last_step, .. } => {
                assert_eq!(self.method, Some(Method::Totp));
                assert_eq!(*last_step, self.last_step);
                assert!(*last_step >= last_step_before, "a TOTP step came back");
            }
            other => panic!("a method the walk never set: {other:?}"),
        }
    }
}

fn unix(at: OffsetDateTime) -> u64 {
    at.unix_timestamp().try_into().unwrap()
}

/// Refusals that must leave the store exactly as it was: the step was refused before
/// it looked at a code, or the code was refused before any comparison.
fn writes_nothing(reply: &Reply) -> bool {
    matches!(
        reply,
        Reply::Locked
            | Reply::FlowNotFound
            | Reply::FlowExpired
            | Reply::FlowOver
            | Reply::ResendTooSoon(_)
            | Reply::ResendLimit
            | Reply::NotPossible
            | Reply::StaleSession
            | Reply::Throttled(_)
    )
}

async fn walk(method: Method, lock_after: u32, ops: Vec<Op>) {
    let mut walk = Walk::new(method, lock_after).await;
    for op in &ops {
        let before = walk.world.stats();
        let sent = walk.world.sender.messages().len();
        let last_step = walk.last_step;
        walk.messages.clear();

        let outcome = walk.step(op).await;

        let kinds: Vec<MessageKind> = walk.world.sender.messages()[sent..]
            .iter()
            .map(portal_auth::Message::kind)
            .collect();
        assert_eq!(kinds, walk.messages, "messages of {op:?}");
        assert_eq!(walk.world.stats(), walk.expected_stats(), "after {op:?}");
        if let Some((flow, got)) = outcome {
            if writes_nothing(&got) {
                assert_eq!(
                    walk.world.stats(),
                    before,
                    "{op:?} refused with {got:?} but wrote"
                );
            }
            if let Some(flow) = flow {
                let over = matches!(
                    got,
                    Reply::FlowNotFound | Reply::FlowExpired | Reply::FlowOver
                );
                if over {
                    walk.ended.insert(flow);
                }
                // An ended flow looks at no code again: it may only say it is over, or
                // that the account is locked, which is checked first.
                assert!(
                    over || got == Reply::Locked || !walk.ended.contains(&flow),
                    "{op:?} answered {got:?} on an ended flow"
                );
            }
        }
        walk.check_account(last_step).await;
    }
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![Just(Method::Sms), Just(Method::Totp)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn two_factor_walks_accept_each_code_once_and_never_revive_a_flow(
        method in method(),
        lock_after in 4u32..=12,
        ops in proptest::collection::vec(op(), 1..80),
    ) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(walk(method, lock_after, ops));
    }
}
