//! Tier upgrades: document verification (simplified → standard) and identity
//! confirmation (standard → confirmed), and the downgrade when a verified document
//! changes.
//!
//! One verification flow and one activation-code flow at most per account: each new
//! submission or code request deletes the previous flow of its kind in the same
//! commit, so an old ticket or an old letter never counts again.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::code::SentCode;
use super::{Flow, FlowId, FlowKind, FlowState, Step, event, notify_all};
use crate::account::{Account, AccountId, Tier};
use crate::audit::{AuditEvent, AuditKind, OperatorRef, TierChangeReason};
use crate::config::PortalConfig;
use crate::error::Error;
use crate::flow::login::Authenticated;
use crate::identity::Passport;
use crate::notify::{Message, MessageKind, Recipient};
use crate::operator::Operator;
use crate::registry::{RegistryAnswer, RegistryTicket};
use crate::secret::OneTimeCode;
use crate::store::{Changeset, Counter, CounterKey};
use crate::throttle::Limit;
use crate::tiers::{DocumentSubmission, VerificationReply, VerificationStatus, upgrade_paths};

const ACTIVATION_STEP: &str = "activation";

/// A submission and where the registry left it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct VerificationState {
    submission: DocumentSubmission,
    outcome: Outcome,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum Outcome {
    Pending { ticket: RegistryTicket },
    Rejected { reason: String },
}

/// A postal activation code awaiting entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ActivationState {
    code: SentCode,
}

/// The counter of an account's document submissions.
pub(crate) fn submissions_key(account: AccountId) -> CounterKey {
    CounterKey::new("documents", &account.to_string())
}

/// Refuses a submission past the daily limit.
pub(crate) fn check_submission_limit(
    config: &PortalConfig,
    counter: Option<Counter>,
    now: OffsetDateTime,
) -> Result<(), Error> {
    Limit::new(config.document_submissions_per_day, Duration::days(1)).check(counter, now)
}

/// The counter of postal activation letters an account asked for.
pub(crate) fn letters_key(account: AccountId) -> CounterKey {
    CounterKey::new("activation-letters", &account.to_string())
}

/// Refuses resubmitting the very documents an account already has verified.
pub(crate) fn check_resubmission(
    account: &Account,
    submission: &DocumentSubmission,
) -> Result<(), Error> {
    if account.tier() >= Tier::Standard && !changes_documents(account, submission) {
        return Err(Error::NotPossible("these documents are already verified"));
    }
    Ok(())
}

/// Refuses an operator without the permission or acting on their own account.
pub(crate) fn check_operator(operator: &Operator, account: AccountId) -> Result<(), Error> {
    if !operator.permissions.confirm_identity {
        return Err(Error::OperatorNotAllowed(
            "the confirm_identity permission is missing",
        ));
    }
    if operator.own_account == Some(account) {
        return Err(Error::OperatorNotAllowed(
            "an operator cannot act on their own account",
        ));
    }
    Ok(())
}

/// The account's verification flow, if it has a live one.
pub(crate) fn verification_flow(flows: &[Flow], now: OffsetDateTime) -> Option<&Flow> {
    flows
        .iter()
        .rev()
        .find(|f| f.kind() == FlowKind::DocumentVerification && now < f.expires_at)
}

/// Where the account's verification stands.
pub(crate) fn status(account: &Account, flows: &[Flow], now: OffsetDateTime) -> VerificationStatus {
    match verification_flow(flows, now).map(|f| &f.state) {
        Some(FlowState::DocumentVerification(state)) => match &state.outcome {
            Outcome::Pending { .. } => VerificationStatus::Pending,
            Outcome::Rejected { reason } => VerificationStatus::Rejected {
                reason: reason.clone(),
            },
        },
        _ if account.tier() >= Tier::Standard => VerificationStatus::Verified,
        _ => VerificationStatus::NotSubmitted,
    }
}

/// The ticket of a pending verification flow.
pub(crate) fn pending_ticket(flow: &Flow) -> Option<&RegistryTicket> {
    match &flow.state {
        FlowState::DocumentVerification(VerificationState {
            outcome: Outcome::Pending { ticket },
            ..
        }) => Some(ticket),
        _ => None,
    }
}

/// The submission a verification flow holds.
pub(crate) fn submission_of(flow: &Flow) -> Option<&DocumentSubmission> {
    match &flow.state {
        FlowState::DocumentVerification(state) => Some(&state.submission),
        _ => None,
    }
}

/// Whether the submission differs from the documents on the account.
fn changes_documents(account: &Account, submission: &DocumentSubmission) -> bool {
    let documents = account.documents();
    documents.passport.as_ref() != Some(submission.passport())
        || documents.snils.as_ref() != Some(submission.snils())
}

/// Moves the account to `to`, bumps its stamp and returns the audit event.
fn change_tier(
    account: &mut Account,
    to: Tier,
    reason: TierChangeReason,
    operator: Option<OperatorRef>,
    now: OffsetDateTime,
) -> AuditEvent {
    let from = account.tier;
    account.tier = to;
    account.bump_stamp();
    let mut event = event(
        now,
        Some(account.id()),
        None,
        AuditKind::TierChanged { from, to, reason },
    );
    event.operator = operator;
    event
}

/// Deletes every flow of `kind` in `flows`.
fn delete_all(changes: &mut Changeset, flows: &[Flow], kind: FlowKind) {
    for flow in flows.iter().filter(|f| f.kind() == kind) {
        changes.delete_flow(flow);
    }
}

/// Puts verified documents on the account and raises it to standard.
fn verified(
    config: &PortalConfig,
    account: &mut Account,
    submission: &DocumentSubmission,
    changes: &mut Changeset,
    now: OffsetDateTime,
) -> Vec<Message> {
    account.documents.snils = Some(submission.snils().clone());
    account.documents.passport = Some(submission.passport().clone());
    if let Some(inn) = submission.inn() {
        account.documents.inn = Some(inn.clone());
    }
    account.birth_date = Some(submission.birth_date());
    if account.tier() >= Tier::Standard {
        return Vec::new();
    }
    changes.audit(change_tier(
        account,
        Tier::Standard,
        TierChangeReason::DocumentsVerified,
        None,
        now,
    ));
    notify_all(account, MessageKind::DocumentsVerified, config)
}

fn rejected_event(account: AccountId, reason: &str, now: OffsetDateTime) -> AuditEvent {
    event(
        now,
        Some(account),
        None,
        AuditKind::DocumentsRejected {
            reason: reason.to_owned(),
        },
    )
}

/// Records a submission and the registry's first answer.
///
/// `flows` are the account's flows: its previous verification is replaced, and a
/// document change on a standard or confirmed account lowers it to simplified and
/// voids its live activation code.
pub(crate) fn submit(
    config: &PortalConfig,
    mut account: Account,
    flows: &[Flow],
    submission: DocumentSubmission,
    answer: RegistryAnswer,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Step<VerificationReply> {
    let mut changes = Changeset::default();
    let mut messages = Vec::new();
    changes
        .count(submissions_key(account.id()), now, Duration::days(1))
        .audit(event(
            now,
            Some(account.id()),
            None,
            AuditKind::DocumentsSubmitted,
        ));
    delete_all(&mut changes, flows, FlowKind::DocumentVerification);

    let mut account_changed = false;
    if account.tier() >= Tier::Standard && changes_documents(&account, &submission) {
        changes.audit(change_tier(
            &mut account,
            Tier::Simplified,
            TierChangeReason::DocumentsChanged,
            None,
            now,
        ));
        delete_all(&mut changes, flows, FlowKind::ActivationCode);
        messages.extend(notify_all(&account, MessageKind::TierLowered, config));
        account_changed = true;
    }

    let outcome = match answer {
        RegistryAnswer::Verified => {
            messages.extend(verified(
                config,
                &mut account,
                &submission,
                &mut changes,
                now,
            ));
            account_changed = true;
            None
        }
        RegistryAnswer::Rejected { reason } => {
            changes.audit(rejected_event(account.id(), &reason, now));
            messages.extend(notify_all(&account, MessageKind::DocumentsRejected, config));
            Some(Outcome::Rejected { reason })
        }
        RegistryAnswer::Pending { ticket } => {
            changes.audit(event(
                now,
                Some(account.id()),
                None,
                AuditKind::DocumentsPending,
            ));
            Some(Outcome::Pending { ticket })
        }
    };

    let status = match &outcome {
        None => VerificationStatus::Verified,
        Some(Outcome::Pending { .. }) => VerificationStatus::Pending,
        Some(Outcome::Rejected { reason }) => VerificationStatus::Rejected {
            reason: reason.clone(),
        },
    };
    if let Some(outcome) = outcome {
        let state = FlowState::DocumentVerification(VerificationState {
            submission,
            outcome,
        });
        let id = FlowId::random(rng);
        changes.insert_flow(Flow::start(
            id,
            Some(account.id()),
            now,
            config.verification_ttl,
            state,
        ));
    }
    let reply = VerificationReply {
        status,
        session: Authenticated::of(&account),
    };
    if account_changed {
        changes.update_account(account);
    }
    Step::new(changes, reply).with_messages(messages)
}

/// Records a later answer to a pending verification.
pub(crate) fn answered(
    config: &PortalConfig,
    mut account: Account,
    mut flow: Flow,
    answer: RegistryAnswer,
    now: OffsetDateTime,
) -> Step<VerificationReply> {
    let mut changes = Changeset::default();
    let FlowState::DocumentVerification(state) = &mut flow.state else {
        let reply = VerificationReply {
            status: VerificationStatus::NotSubmitted,
            session: Authenticated::of(&account),
        };
        return Step::new(changes, reply);
    };
    let (status, messages) = match answer {
        RegistryAnswer::Pending { ticket } => {
            // A registry may hand out a new ticket with each "pending": keep the
            // newest, or every later poll would ask about one it has forgotten. The
            // same ticket again changes nothing and writes nothing.
            let renewed =
                !matches!(&state.outcome, Outcome::Pending { ticket: old } if *old == ticket);
            if renewed {
                state.outcome = Outcome::Pending { ticket };
                changes.update_flow(flow);
            }
            (VerificationStatus::Pending, Vec::new())
        }
        RegistryAnswer::Verified => {
            let submission = state.submission.clone();
            changes.delete_flow(&flow);
            let messages = verified(config, &mut account, &submission, &mut changes, now);
            (VerificationStatus::Verified, messages)
        }
        RegistryAnswer::Rejected { reason } => {
            changes.audit(rejected_event(account.id(), &reason, now));
            state.outcome = Outcome::Rejected {
                reason: reason.clone(),
            };
            changes.update_flow(flow);
            let messages = notify_all(&account, MessageKind::DocumentsRejected, config);
            (VerificationStatus::Rejected { reason }, messages)
        }
    };
    let reply = VerificationReply {
        status,
        session: Authenticated::of(&account),
    };
    if reply.status == VerificationStatus::Verified {
        changes.update_account(account);
    }
    Step::new(changes, reply).with_messages(messages)
}

/// Refuses a confirmation for an account that is not exactly standard.
fn ensure_standard(account: &Account) -> Result<(), Error> {
    match account.tier() {
        Tier::Standard => Ok(()),
        Tier::Confirmed => Err(Error::NotPossible("the identity is already confirmed")),
        actual => Err(Error::InsufficientTier {
            required: Tier::Standard,
            actual,
            upgrade: upgrade_paths(actual, Tier::Standard),
        }),
    }
}

/// Raises a standard account to confirmed; `flows` are its flows (a live activation
/// code is voided).
pub(crate) fn confirm(
    config: &PortalConfig,
    mut account: Account,
    flows: &[Flow],
    reason: TierChangeReason,
    operator: Option<OperatorRef>,
    now: OffsetDateTime,
) -> Result<Step<Authenticated>, Error> {
    ensure_standard(&account)?;
    let mut changes = Changeset::default();
    delete_all(&mut changes, flows, FlowKind::ActivationCode);
    changes.audit(change_tier(
        &mut account,
        Tier::Confirmed,
        reason,
        operator,
        now,
    ));
    let messages = notify_all(&account, MessageKind::IdentityConfirmed, config);
    let reply = Authenticated::of(&account);
    changes.update_account(account);
    Ok(Step::new(changes, reply).with_messages(messages))
}

/// The passport the operator checked must be the verified one on file.
pub(crate) fn check_passport(account: &Account, checked: &Passport) -> Result<(), Error> {
    // Not a secret: a plain comparison is fine.
    if account.documents().passport.as_ref() != Some(checked) {
        return Err(Error::NotPossible(
            "the passport checked is not the verified one on file",
        ));
    }
    Ok(())
}

/// Generates a postal activation code, replacing any live one.
pub(crate) fn request_activation_code(
    config: &PortalConfig,
    account: &Account,
    flows: &[Flow],
    address: String,
    now: OffsetDateTime,
    rng: &mut impl rand::CryptoRng,
) -> Result<Step<FlowId>, Error> {
    ensure_standard(account)?;
    let mut changes = Changeset::default();
    delete_all(&mut changes, flows, FlowKind::ActivationCode);
    changes.count(
        letters_key(account.id()),
        now,
        config.activation_letters.window,
    );

    let id = FlowId::random(rng);
    let policy = &config.activation_code;
    let (code, plain) = SentCode::issue(&config.code_key, policy, id, ACTIVATION_STEP, now, rng);
    let message = Message::lasting(
        MessageKind::ActivationCode,
        Recipient::Postal(address),
        config.lang,
        plain,
        policy.ttl(),
    );
    changes
        .insert_flow(Flow::start(
            id,
            Some(account.id()),
            now,
            policy.ttl(),
            FlowState::ActivationCode(ActivationState { code }),
        ))
        .audit(event(
            now,
            Some(account.id()),
            None,
            AuditKind::ActivationCodeSent,
        ));
    Ok(Step::new(changes, id).with_messages(vec![message]))
}

/// Checks an activation code; a correct one confirms the account. A wrong one spends
/// a try, which the step commits with the error as its reply.
pub(crate) fn enter_activation_code(
    config: &PortalConfig,
    account: Account,
    flows: &[Flow],
    code: &OneTimeCode,
    now: OffsetDateTime,
) -> Result<Step<Result<Authenticated, Error>>, Error> {
    ensure_standard(&account)?;
    let Some(mut flow) = flows
        .iter()
        .rev()
        .find(|f| f.kind() == FlowKind::ActivationCode)
        .cloned()
    else {
        return Err(Error::FlowNotFound);
    };
    let FlowState::ActivationCode(state) = &mut flow.state else {
        return Err(Error::FlowNotFound);
    };

    // The code's own expiry (30 days from the request) decides, so the reply at the
    // deadline is `CodeExpired` rather than a generic expired flow.
    match state
        .code
        .verify(&config.code_key, flow.id, ACTIVATION_STEP, code, now)
    {
        Ok(()) => {
            let others: Vec<Flow> = flows.iter().filter(|f| f.id != flow.id).cloned().collect();
            let mut step = confirm(
                config,
                account,
                &others,
                TierChangeReason::PostalCode,
                None,
                now,
            )?;
            step.changes.delete_flow(&flow);
            Ok(step.map_reply(Ok))
        }
        Err(error @ Error::WrongCode { .. }) => {
            let mut changes = Changeset::default();
            changes
                .audit(event(
                    now,
                    Some(account.id()),
                    None,
                    AuditKind::ActivationCodeRejected,
                ))
                .update_flow(flow);
            Ok(Step::new(changes, Err(error)))
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::OperatorPermissions;
    use crate::otp::CodeKey;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-01 09:00 UTC);

    fn counter(count: u32) -> Counter {
        Counter {
            count,
            last_at: NOW,
            expires_at: NOW + Duration::hours(20),
        }
    }

    fn operator(permissions: OperatorPermissions, own: Option<AccountId>) -> Operator {
        Operator {
            id: "op".into(),
            centre_id: "centre".into(),
            own_account: own,
            permissions,
        }
    }

    #[test]
    fn the_sixth_submission_of_a_day_waits_for_the_window_to_end() {
        let config = PortalConfig::new(CodeKey::from_bytes([1; 32]));
        assert!(check_submission_limit(&config, None, NOW).is_ok());
        assert!(check_submission_limit(&config, Some(counter(4)), NOW).is_ok());
        match check_submission_limit(&config, Some(counter(5)), NOW) {
            Err(Error::Throttled { retry_after }) => assert_eq!(retry_after, Duration::hours(20)),
            other => panic!("expected throttled, got {other:?}"),
        }
    }

    #[test]
    fn an_operator_needs_the_permission_and_another_persons_account() {
        let mut rng = crate::random::os_rng();
        let person = AccountId::random(&mut rng);
        let own = AccountId::random(&mut rng);
        let allowed = OperatorPermissions::all();

        assert!(check_operator(&operator(allowed, Some(own)), person).is_ok());
        assert!(matches!(
            check_operator(&operator(allowed, Some(person)), person),
            Err(Error::OperatorNotAllowed(_))
        ));
        assert!(matches!(
            check_operator(&operator(OperatorPermissions::default(), None), person),
            Err(Error::OperatorNotAllowed(_))
        ));
    }
}
