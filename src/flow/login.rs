//! Login: one login field and a password, then a second factor when it is on.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::code::SentCode;
use super::{Flow, FlowId, FlowState, Step, event, notify_all};
use crate::account::{
    Account, AccountId, CredentialStamp, SecondFactorKind, SecondFactorMethod, Tier,
};
use crate::audit::{AuditKind, LoginFailure};
use crate::config::PortalConfig;
use crate::error::Error;
use crate::notify::{Message, MessageKind, Recipient};
use crate::otp::{self, TotpError};
use crate::password::PasswordHash;
use crate::secret::{OneTimeCode, Password};
use crate::store::{Changeset, Counter, CounterKey};

const STEP: &str = "second-factor";

/// What a person types into the login form, and what the host knows of the client.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    /// The one login field: phone, e-mail or SNILS.
    pub login: String,
    /// The password.
    pub password: Password,
    /// The host's key for the client (an IP address or a device key); failures are
    /// counted against it too.
    pub client: Option<String>,
    /// A captcha token, when the host showed one.
    pub captcha: Option<String>,
}

/// Proof that a person logged in: what a host keeps in its session.
///
/// The host hands it back to the settings calls; a call whose stamp is no longer the
/// account's fails with [`Error::StaleSession`], and the host ends the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    /// The account.
    pub account: AccountId,
    /// Its tier at login.
    pub tier: Tier,
    /// Its credential stamp at login.
    pub stamp: CredentialStamp,
    /// The password was issued by an operator and must be replaced before anything
    /// else.
    pub must_change_password: bool,
}

impl Authenticated {
    pub(crate) fn of(account: &Account) -> Self {
        Self {
            account: account.id(),
            tier: account.tier(),
            stamp: account.credential_stamp(),
            must_change_password: account.must_change_password(),
        }
    }
}

/// The reply to a correct password.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginOutcome {
    /// Logged in.
    Authenticated(Authenticated),
    /// Two-factor login is on: pass the second factor in this flow.
    SecondFactorRequired(SecondFactorChallenge),
}

/// The second step a login must pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactorChallenge {
    /// The flow to carry to [`Portal::login_second_factor`](crate::Portal::login_second_factor).
    pub flow: FlowId,
    /// The method the account uses; a backup code is accepted in either case.
    pub method: SecondFactorKind,
    /// Where the SMS code went, masked, for the SMS method.
    pub sent_to: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SecondFactorState {
    stamp: CredentialStamp,
    client: Option<String>,
    sms: Option<SentCode>,
}

/// The failure counters a login attempt reads and writes.
#[derive(Debug, Clone)]
pub(crate) struct FailureKeys {
    pub(crate) subject: CounterKey,
    pub(crate) client: Option<CounterKey>,
    /// Set when the subject's failures reach the lock, and held until a recovery or an
    /// operator lifts it: the failure count alone would let go when its window ends.
    pub(crate) lock: CounterKey,
}

/// How long a lock is held: a century stands for "until a recovery or an operator
/// lifts it", since a store keeps a counter only until it expires.
const LOCK_HELD: time::Duration = time::Duration::days(36_525);

impl FailureKeys {
    /// The counters of an account.
    pub(crate) fn for_account(account: AccountId, client: Option<&str>) -> Self {
        let account = account.to_string();
        Self {
            subject: CounterKey::new("login-fail:account", &account),
            client: client.map(|client| CounterKey::new("login-fail:client", client)),
            lock: CounterKey::new("login-lock:account", &account),
        }
    }

    /// The counters of a login id no account holds, keyed by a digest of the id so
    /// the store does not keep a list of probed numbers in clear. Such an id locks
    /// like an account, so the lock tells nothing either.
    pub(crate) fn for_unknown(config: &PortalConfig, login: &str, client: Option<&str>) -> Self {
        let digest = config
            .code_key
            .digest(b"unknown-login", login.as_bytes())
            .to_base64url();
        Self {
            subject: CounterKey::new("login-fail:unknown", &digest),
            client: client.map(|client| CounterKey::new("login-fail:client", client)),
            lock: CounterKey::new("login-lock:unknown", &digest),
        }
    }
}

/// Clears an account's failure count and lifts its lock: a finished recovery, an
/// operator's temporary password.
pub(crate) fn lift_lock(changes: &mut Changeset, account: AccountId) {
    let keys = FailureKeys::for_account(account, None);
    changes.reset(keys.subject).reset(keys.lock);
}

/// Records one failed attempt: counters, audit, and the lock notice when this failure
/// reaches the limit.
pub(crate) fn record_failure(
    changes: &mut Changeset,
    config: &PortalConfig,
    account: Option<&Account>,
    keys: &FailureKeys,
    subject_count: Option<Counter>,
    reason: LoginFailure,
    now: OffsetDateTime,
) -> Vec<Message> {
    let throttle = &config.throttle;
    changes.count(keys.subject.clone(), now, throttle.account_window);
    if let Some(client) = &keys.client {
        changes.count(client.clone(), now, throttle.client_window);
    }
    let client = keys.client.as_ref().map(|key| key.as_str().to_owned());
    let account_id = account.map(Account::id);
    changes.audit(event(
        now,
        account_id,
        client.clone(),
        AuditKind::LoginFailed { reason },
    ));
    let failures = subject_count.map_or(0, |c| c.count) + 1;
    // At or past the threshold (two attempts in flight may both pass it) the lock is
    // set; counting it again changes nothing that is read.
    if failures >= throttle.lock_after {
        changes.count(keys.lock.clone(), now, LOCK_HELD);
    }
    match account {
        Some(account) if failures == throttle.lock_after => {
            changes.audit(event(now, account_id, client, AuditKind::LockedOut));
            notify_all(account, MessageKind::LockedOut, config)
        }
        _ => Vec::new(),
    }
}

/// How a refused second-factor code is recorded among the login failures.
pub(crate) fn second_factor_failure(error: &Error) -> LoginFailure {
    if matches!(error, Error::CodeReplayed) {
        LoginFailure::ReplayedSecondFactor
    } else {
        LoginFailure::WrongSecondFactor
    }
}

/// Decides a login after the password was checked. `rehash` is the new hash when the
/// password matched and the stored parameters are outdated.
#[expect(
    clippy::too_many_arguments,
    reason = "one engine step, every input named"
)]
pub(crate) fn after_password(
    config: &PortalConfig,
    account: Option<Account>,
    keys: &FailureKeys,
    subject_count: Option<Counter>,
    matched: bool,
    rehash: Option<PasswordHash>,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Step<Result<LoginOutcome, Error>> {
    let mut changes = Changeset::default();
    let client = keys.client.as_ref().map(|key| key.as_str().to_owned());
    let expired = account
        .as_ref()
        .and_then(|account| account.password_expires_at)
        .is_some_and(|expires_at| now >= expires_at);
    let mut account = match account {
        Some(account) if matched && !expired => account,
        account => {
            let reason = match &account {
                Some(_) if matched => LoginFailure::PasswordExpired,
                Some(_) => LoginFailure::WrongPassword,
                None => LoginFailure::UnknownAccount,
            };
            let messages = record_failure(
                &mut changes,
                config,
                account.as_ref(),
                keys,
                subject_count,
                reason,
                now,
            );
            return Step::new(changes, Err(Error::InvalidCredentials)).with_messages(messages);
        }
    };

    let rehashed = rehash.is_some();
    if let Some(hash) = rehash {
        account.password_hash = hash;
        changes.audit(event(
            now,
            Some(account.id),
            client.clone(),
            AuditKind::PasswordRehashed,
        ));
    }
    let Some(two_factor) = &account.two_factor else {
        changes.reset(keys.subject.clone()).audit(event(
            now,
            Some(account.id),
            client,
            AuditKind::LoginSucceeded {
                second_factor: false,
            },
        ));
        let reply = LoginOutcome::Authenticated(Authenticated::of(&account));
        if rehashed {
            changes.update_account(account);
        }
        return Step::new(changes, Ok(reply));
    };

    let method = two_factor.method.kind();
    let id = FlowId::random(rng);
    let mut messages = Vec::new();
    let mut sent_to = None;
    let sms = match (method, account.confirmed_phone()) {
        (SecondFactorKind::Sms, Some(phone)) => {
            let (sent, plain) =
                SentCode::issue(&config.code_key, &config.sms_code, id, STEP, now, rng);
            let recipient = Recipient::Phone(phone.clone());
            sent_to = Some(phone.masked());
            messages.push(Message::new(
                MessageKind::LoginCode,
                recipient,
                config.lang,
                Some(plain),
            ));
            Some(sent)
        }
        _ => None,
    };
    let state = SecondFactorState {
        stamp: account.credential_stamp,
        client,
        sms,
    };
    changes.insert_flow(Flow::start(
        id,
        Some(account.id),
        now,
        config.second_factor_ttl,
        FlowState::SecondFactorLogin(state),
    ));
    if rehashed {
        changes.update_account(account);
    }
    let reply = LoginOutcome::SecondFactorRequired(SecondFactorChallenge {
        flow: id,
        method,
        sent_to,
    });
    Step::new(changes, Ok(reply)).with_messages(messages)
}

/// The account and client a second-factor flow belongs to.
pub(crate) fn second_factor_subject(
    flow: &Flow,
    now: OffsetDateTime,
) -> Result<(AccountId, Option<String>), Error> {
    flow.ensure_live(now)?;
    match (&flow.state, flow.account) {
        (FlowState::SecondFactorLogin(state), Some(account)) => Ok((account, state.client.clone())),
        _ => Err(Error::FlowNotFound),
    }
}

/// Checks the second factor: the method's code, or a backup code.
pub(crate) fn second_factor(
    config: &PortalConfig,
    mut flow: Flow,
    mut account: Account,
    keys: &FailureKeys,
    subject_count: Option<Counter>,
    code: &OneTimeCode,
    now: OffsetDateTime,
) -> Result<Step<Result<Authenticated, Error>>, Error> {
    flow.ensure_live(now)?;
    let FlowState::SecondFactorLogin(state) = &mut flow.state else {
        return Err(Error::FlowNotFound);
    };
    if state.stamp != account.credential_stamp {
        return Err(Error::FlowOver);
    }
    let client = state.client.clone();
    let Some(two_factor) = account.two_factor.as_mut() else {
        return Err(Error::FlowOver);
    };

    let outcome = match (&mut two_factor.method, state.sms.as_mut()) {
        (SecondFactorMethod::Totp { secret, last_step }, _) => {
            match otp::verify_totp(secret, code.expose_secret(), now, *last_step) {
                Ok(step) => {
                    *last_step = Some(step);
                    Ok(false)
                }
                Err(TotpError::Replayed) => Err(Error::CodeReplayed),
                Err(_) => Err(Error::WrongCode { tries_left: 0 }),
            }
        }
        (SecondFactorMethod::Sms, Some(sms)) => sms
            .verify(&config.code_key, flow.id, STEP, code, now)
            .map(|()| false),
        (SecondFactorMethod::Sms, None) => {
            Err(Error::NotPossible("no confirmed phone for the SMS code"))
        }
    };
    // A backup code works whatever the method, and whatever the method's code did.
    let outcome = match outcome {
        Ok(used_backup) => Ok(used_backup),
        Err(error) => {
            if otp::consume_backup_code(
                &mut two_factor.backup_codes,
                &config.code_key,
                code.expose_secret(),
            ) {
                Ok(true)
            } else {
                Err(error)
            }
        }
    };

    let mut changes = Changeset::default();
    match outcome {
        Ok(used_backup) => {
            let remaining = two_factor.backup_codes.len();
            changes.reset(keys.subject.clone()).audit(event(
                now,
                Some(account.id),
                client.clone(),
                AuditKind::LoginSucceeded {
                    second_factor: true,
                },
            ));
            if used_backup {
                changes.audit(event(
                    now,
                    Some(account.id),
                    client,
                    AuditKind::BackupCodeUsed { remaining },
                ));
            }
            let reply = Authenticated::of(&account);
            changes.update_account(account).delete_flow(&flow);
            Ok(Step::new(changes, Ok(reply)))
        }
        Err(error) => {
            let reason = second_factor_failure(&error);
            let messages = record_failure(
                &mut changes,
                config,
                Some(&account),
                keys,
                subject_count,
                reason,
                now,
            );
            changes.update_flow(flow);
            Ok(Step::new(changes, Err(error)).with_messages(messages))
        }
    }
}

/// Sends a fresh SMS code in a second-factor flow that no credential change ended.
pub(crate) fn resend_second_factor(
    config: &PortalConfig,
    mut flow: Flow,
    account: &Account,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Result<Step<()>, Error> {
    flow.ensure_live(now)?;
    let id = flow.id;
    let FlowState::SecondFactorLogin(state) = &mut flow.state else {
        return Err(Error::FlowNotFound);
    };
    // A flow a credential change ended takes no code, so it gets none sent either.
    if state.stamp != account.credential_stamp {
        return Err(Error::FlowOver);
    }
    let (Some(sms), Some(phone)) = (state.sms.as_mut(), account.confirmed_phone()) else {
        return Err(Error::NotPossible("this second factor is not sent by SMS"));
    };
    let plain = sms.resend(config, &config.sms_code, id, STEP, now, rng)?;
    let message = Message::new(
        MessageKind::LoginCode,
        Recipient::Phone(phone.clone()),
        config.lang,
        Some(plain),
    );
    let mut changes = Changeset::default();
    changes.update_flow(flow);
    Ok(Step::new(changes, ()).with_messages(vec![message]))
}
