//! Security settings: password change, security question, two-factor login.
//!
//! Every step here acts for a logged-in person and re-proves what it changes: the
//! current password always, and a current second factor for turning two-factor login
//! off or changing its method.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::code::{SentCode, counted_try};
use super::{Flow, FlowId, FlowState, Step, event, notify_all};
use crate::account::{
    Account, AccountId, CredentialStamp, SecondFactorMethod, SecurityQuestion, TwoFactor,
};
use crate::audit::AuditKind;
use crate::config::PortalConfig;
use crate::error::{Error, Field};
use crate::notify::{Message, MessageKind, Recipient};
use crate::otp::{self, BackupCodes, TotpError, TotpSecret};
use crate::password::PasswordHash;
use crate::secret::{Answer, OneTimeCode};
use crate::store::{Changeset, CounterKey};

use super::login::Authenticated;

const SETTINGS_STEP: &str = "settings";

/// A current second factor, proving a change to two-factor settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SecondFactorProof {
    /// A code from the enrolled authenticator app.
    Totp(OneTimeCode),
    /// The SMS code sent by [`Portal::send_settings_code`](crate::Portal::send_settings_code).
    Sms {
        /// The flow the code was sent in.
        flow: FlowId,
        /// The code.
        code: OneTimeCode,
    },
    /// One of the backup codes (it is spent).
    Backup(OneTimeCode),
}

/// Backup codes, shown once when two-factor login is turned on.
#[derive(Debug)]
pub struct BackupCodesIssued {
    /// The ten single-use codes. Show them once; only their digests are kept.
    pub codes: Vec<OneTimeCode>,
    /// The session's new credential stamp.
    pub session: Authenticated,
}

/// An authenticator enrolment in progress.
#[derive(Debug)]
pub struct TotpEnrolment {
    /// The flow to finish with one valid code.
    pub flow: FlowId,
    otpauth_uri: Zeroizing<String>,
}

impl TotpEnrolment {
    /// The `otpauth://` URI to show as a QR code. It contains the secret: show it to
    /// the person and nowhere else.
    pub fn expose_otpauth_uri(&self) -> &str {
        &self.otpauth_uri
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TotpEnrolmentState {
    stamp: CredentialStamp,
    secret: TotpSecret,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SettingsCodeState {
    stamp: CredentialStamp,
    code: SentCode,
}

/// Refuses a session whose stamp is no longer the account's.
pub(crate) fn check_session(account: &Account, session: &Authenticated) -> Result<(), Error> {
    if account.id() != session.account || account.credential_stamp() != session.stamp {
        return Err(Error::StaleSession);
    }
    Ok(())
}

/// Replaces the password with `hash` (already checked against the policy and the
/// current password) and ends every other session.
pub(crate) fn change_password(
    config: &PortalConfig,
    mut account: Account,
    hash: PasswordHash,
    now: OffsetDateTime,
) -> Step<Authenticated> {
    account.password_hash = hash;
    account.must_change_password = false;
    account.bump_stamp();
    let messages = notify_all(&account, MessageKind::PasswordChanged, config);
    let reply = Authenticated::of(&account);
    let mut changes = Changeset::default();
    changes
        .audit(event(
            now,
            Some(account.id()),
            None,
            AuditKind::PasswordChanged,
        ))
        .update_account(account);
    Step::new(changes, reply).with_messages(messages)
}

/// Checks a security question and returns the answer normalised for hashing.
pub(crate) fn normalize_question(
    question: &str,
    answer: &Answer,
) -> Result<(String, Answer), Error> {
    let question = question.split_whitespace().collect::<Vec<_>>().join(" ");
    if question.chars().count() < 5 || question.chars().count() > 200 {
        return Err(Error::InvalidField {
            field: Field::SecurityQuestion,
            reason: "between 5 and 200 characters".to_owned(),
        });
    }
    let answer = normalize_answer(answer);
    if answer.expose_secret().chars().count() < 2 {
        return Err(Error::InvalidField {
            field: Field::SecurityAnswer,
            reason: "too short".to_owned(),
        });
    }
    Ok((question, answer))
}

/// Answers compare after NFKC, lowercasing, `ё` → `е` and collapsing spaces, so that
/// "Барсик", " барсик " and "БАРСИК" are one answer.
pub(crate) fn normalize_answer(answer: &Answer) -> Answer {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = answer
        .expose_secret()
        .nfkc()
        .collect::<String>()
        .to_lowercase()
        .replace('ё', "е");
    Answer::new(folded.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Sets the security question.
pub(crate) fn set_security_question(
    mut account: Account,
    question: String,
    answer_hash: PasswordHash,
    now: OffsetDateTime,
) -> Step<()> {
    account.security_question = Some(SecurityQuestion {
        question,
        answer_hash,
    });
    let mut changes = Changeset::default();
    changes
        .audit(event(
            now,
            Some(account.id()),
            None,
            AuditKind::SecurityQuestionSet,
        ))
        .update_account(account);
    Step::new(changes, ())
}

/// Sends an SMS code that proves the second factor for a settings change.
/// The counter of settings codes an account was sent.
pub(crate) fn settings_codes_key(account: AccountId) -> CounterKey {
    CounterKey::new("settings-codes", &account.to_string())
}

pub(crate) fn send_settings_code(
    config: &PortalConfig,
    account: &Account,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Result<Step<FlowId>, Error> {
    let Some(phone) = account.confirmed_phone() else {
        return Err(Error::NotPossible("no confirmed phone"));
    };
    let id = FlowId::random(rng);
    let (code, plain) = SentCode::issue(
        &config.code_key,
        &config.sms_code,
        id,
        SETTINGS_STEP,
        now,
        rng,
    );
    let message = Message::new(
        MessageKind::SettingsCode,
        Recipient::Phone(phone.clone()),
        config.lang,
        Some(plain),
    );
    let mut changes = Changeset::default();
    changes.count(
        settings_codes_key(account.id()),
        now,
        config.settings_codes.window,
    );
    changes.insert_flow(Flow::start(
        id,
        Some(account.id()),
        now,
        config.sms_code.ttl(),
        FlowState::SettingsCode(SettingsCodeState {
            stamp: account.credential_stamp(),
            code,
        }),
    ));
    Ok(Step::new(changes, id).with_messages(vec![message]))
}

/// Checks a proof of the current second factor, recording what it spends (a TOTP
/// step, a backup code, an SMS flow) in `account` and `changes`.
///
/// An account without two-factor login needs no proof.
pub(crate) fn check_proof(
    config: &PortalConfig,
    account: &mut Account,
    proof: Option<&SecondFactorProof>,
    sms_flow: Option<Flow>,
    changes: &mut Changeset,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let Some(two_factor) = account.two_factor.as_mut() else {
        return Ok(());
    };
    match (proof, &mut two_factor.method) {
        (None, _) => Err(Error::NotPossible("a current second factor is required")),
        (Some(SecondFactorProof::Backup(code)), _) => {
            if otp::consume_backup_code(
                &mut two_factor.backup_codes,
                &config.code_key,
                code.expose_secret(),
            ) {
                Ok(())
            } else {
                Err(Error::WrongCode { tries_left: 0 })
            }
        }
        (Some(SecondFactorProof::Totp(code)), SecondFactorMethod::Totp { secret, last_step }) => {
            match otp::verify_totp(secret, code.expose_secret(), now, *last_step) {
                Ok(step) => {
                    *last_step = Some(step);
                    Ok(())
                }
                Err(TotpError::Replayed) => Err(Error::CodeReplayed),
                Err(_) => Err(Error::WrongCode { tries_left: 0 }),
            }
        }
        (
            Some(SecondFactorProof::Sms {
                flow: flow_id,
                code,
            }),
            SecondFactorMethod::Sms,
        ) => {
            let mut flow = sms_flow
                .filter(|f| f.id == *flow_id && f.account == Some(account.id))
                .ok_or(Error::FlowNotFound)?;
            flow.ensure_live(now)?;
            let FlowState::SettingsCode(state) = &mut flow.state else {
                return Err(Error::FlowNotFound);
            };
            if state.stamp != account.credential_stamp {
                return Err(Error::FlowOver);
            }
            if state.code.is_spent() {
                return Err(Error::FlowOver);
            }
            let outcome = counted_try(state.code.verify(
                &config.code_key,
                flow.id,
                SETTINGS_STEP,
                code,
                now,
            ))?;
            if outcome.is_ok() {
                changes.delete_flow(&flow);
            } else {
                changes.update_flow(flow);
            }
            outcome
        }
        (Some(_), _) => Err(Error::NotPossible(
            "the proof does not match the second-factor method",
        )),
    }
}

/// Turns two-factor login on with `method`, with fresh backup codes.
pub(crate) fn enable_two_factor(
    config: &PortalConfig,
    mut account: Account,
    method: SecondFactorMethod,
    mut changes: Changeset,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Step<BackupCodesIssued> {
    let kind = method.kind();
    let (codes, digests) = BackupCodes::generate(&config.code_key, rng);
    account.two_factor = Some(TwoFactor {
        method,
        backup_codes: digests,
    });
    account.bump_stamp();
    let messages = notify_all(&account, MessageKind::SecondFactorEnabled, config);
    let reply = BackupCodesIssued {
        codes,
        session: Authenticated::of(&account),
    };
    changes
        .audit(event(
            now,
            Some(account.id()),
            None,
            AuditKind::SecondFactorEnabled { method: kind },
        ))
        .update_account(account);
    Step::new(changes, reply).with_messages(messages)
}

/// Turns two-factor login off (the proof was checked into `changes`).
pub(crate) fn disable_two_factor(
    config: &PortalConfig,
    mut account: Account,
    mut changes: Changeset,
    now: OffsetDateTime,
) -> Step<Authenticated> {
    account.two_factor = None;
    account.bump_stamp();
    let messages = notify_all(&account, MessageKind::SecondFactorDisabled, config);
    let reply = Authenticated::of(&account);
    changes
        .audit(event(
            now,
            Some(account.id()),
            None,
            AuditKind::SecondFactorDisabled,
        ))
        .update_account(account);
    Step::new(changes, reply).with_messages(messages)
}

/// Starts an authenticator enrolment: a new secret, shown once as a URI.
pub(crate) fn begin_totp_enrolment(
    config: &PortalConfig,
    account: &Account,
    mut changes: Changeset,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Result<Step<TotpEnrolment>, Error> {
    let secret = TotpSecret::generate(rng);
    let label = account
        .confirmed_email()
        .map(ToString::to_string)
        .or_else(|| account.confirmed_phone().map(ToString::to_string))
        .unwrap_or_else(|| account.id().to_string());
    let uri = secret
        .otpauth_uri(&config.totp_issuer, &label)
        .map_err(|_| Error::NotPossible("the TOTP issuer name must not contain ':'"))?;
    let id = FlowId::random(rng);
    changes.insert_flow(Flow::start(
        id,
        Some(account.id()),
        now,
        config.enrolment_ttl,
        FlowState::TotpEnrolment(TotpEnrolmentState {
            stamp: account.credential_stamp(),
            secret,
        }),
    ));
    Ok(Step::new(
        changes,
        TotpEnrolment {
            flow: id,
            otpauth_uri: uri,
        },
    ))
}

/// Finishes an enrolment with one valid code from the app.
pub(crate) fn finish_totp_enrolment(
    config: &PortalConfig,
    flow: &Flow,
    account: Account,
    code: &OneTimeCode,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Result<Step<BackupCodesIssued>, Error> {
    flow.ensure_live(now)?;
    let FlowState::TotpEnrolment(state) = &flow.state else {
        return Err(Error::FlowNotFound);
    };
    if flow.account != Some(account.id()) || state.stamp != account.credential_stamp() {
        return Err(Error::FlowOver);
    }
    let Ok(step) = otp::verify_totp(&state.secret, code.expose_secret(), now, None) else {
        return Err(Error::WrongCode { tries_left: 0 });
    };
    let method = SecondFactorMethod::Totp {
        secret: state.secret.clone(),
        last_step: Some(step),
    };
    let mut changes = Changeset::default();
    changes.delete_flow(flow);
    Ok(enable_two_factor(
        config, account, method, changes, now, rng,
    ))
}
