//! Account tiers through the portal: document verification, identity confirmation and
//! the tier check services make.

use super::{Portal, rng};
use crate::account::{Account, AccountId, LookupKey, Tier};
use crate::audit::TierChangeReason;
use crate::clock::Clock;
use crate::error::{Error, Field};
use crate::flow::login::Authenticated;
use crate::flow::tiers;
use crate::flow::{Flow, FlowKind};
use crate::human::HumanCheck;
use crate::identity::Passport;
use crate::log;
use crate::notify::MessageSender;
use crate::operator::Operator;
use crate::registry::{DocumentRegistry, RegistryAnswer};
use crate::secret::OneTimeCode;
use crate::store::Store;
use crate::tiers::{
    DocumentRequest, DocumentSubmission, PollReport, ProofingMethod, VerificationReply,
    VerificationStatus, upgrade_paths,
};

/// How many pending verifications one [`Portal::poll_verifications`] pass reads.
const POLL_BATCH: usize = 1000;

/// The longest postal address accepted, in characters.
const MAX_ADDRESS_CHARS: usize = 300;

impl<S: Store, M: MessageSender, H: HumanCheck, C: Clock> Portal<S, M, H, C> {
    /// Submits SNILS and passport details for verification (simplified → standard).
    ///
    /// Every field is validated first. The registry is asked at once: a verified
    /// answer raises the account to standard now, a rejection keeps its reason for
    /// [`verification_status`](Self::verification_status), a pending answer waits for
    /// a poll. A new submission replaces the previous verification. Submitting a
    /// passport or SNILS different from the verified ones lowers a standard or
    /// confirmed account to simplified until they are verified. The reply carries the
    /// caller's session, with a new stamp when the tier changed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] naming the bad field (nothing is written),
    /// [`Error::StaleSession`], [`Error::Throttled`] past the daily submissions,
    /// [`Error::Taken`] when the SNILS, passport or INN belongs to another account,
    /// [`Error::NotPossible`] when these very documents are already verified,
    /// [`Error::Registry`] when the registry fails (nothing is written).
    pub async fn submit_documents(
        &self,
        session: &Authenticated,
        request: &DocumentRequest,
        registry: &impl DocumentRegistry,
    ) -> Result<VerificationReply, Error> {
        let now = self.now();
        let submission = request.validate(now.date())?;
        let account = self.session_account(session).await?;
        let key = tiers::submissions_key(account.id());
        let counter = self.store.counter(&key, now).await?;
        tiers::check_submission_limit(&self.config, counter, now)?;
        tiers::check_resubmission(&account, &submission)?;
        if self.taken_by_other(account.id(), &submission).await? {
            return Err(Error::Taken);
        }
        let flows = self.store.flows_of_account(account.id()).await?;

        let answer = registry
            .verify(&submission)
            .await
            .map_err(Error::Registry)?;
        let step = tiers::submit(
            &self.config,
            account,
            &flows,
            submission,
            answer,
            now,
            &mut rng(),
        );
        self.commit(step, None).await
    }

    /// Where the caller's verification stands; a pending one is polled first, so the
    /// answer may raise the account to standard now (the reply then carries the new
    /// session).
    ///
    /// # Errors
    ///
    /// [`Error::StaleSession`], [`Error::Registry`] when the poll fails.
    pub async fn verification_status(
        &self,
        session: &Authenticated,
        registry: &impl DocumentRegistry,
    ) -> Result<VerificationReply, Error> {
        let now = self.now();
        let account = self.session_account(session).await?;
        let flows = self.store.flows_of_account(account.id()).await?;
        let pending = tiers::verification_flow(&flows, now)
            .filter(|flow| tiers::pending_ticket(flow).is_some())
            .cloned();
        let Some(flow) = pending else {
            return Ok(VerificationReply {
                status: tiers::status(&account, &flows, now),
                session: Authenticated::of(&account),
            });
        };

        let step = self.answer_pending(account, flow, registry).await?;
        self.commit(step, None).await
    }

    /// Polls the registry for every pending verification; for the host to run on a
    /// timer. One failed poll or commit does not stop the pass: it is counted in
    /// [`PollReport::failed`] and retried on the next pass.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the pending verifications cannot be listed.
    pub async fn poll_verifications(
        &self,
        registry: &impl DocumentRegistry,
    ) -> Result<PollReport, Error> {
        let now = self.now();
        let flows = self
            .store
            .flows_by_kind(FlowKind::DocumentVerification, POLL_BATCH)
            .await?;
        let mut report = PollReport::default();
        for flow in flows {
            if now >= flow.expires_at() || tiers::pending_ticket(&flow).is_none() {
                continue;
            }
            match self.poll_one(flow, registry).await {
                Ok(VerificationStatus::Verified) => report.verified += 1,
                Ok(VerificationStatus::Rejected { .. }) => report.rejected += 1,
                Ok(_) => report.pending += 1,
                Err(error) => {
                    log::warning!(%error, "verification poll failed");
                    // Read above only when logging is compiled in.
                    let _ = error;
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    /// Confirms a person's identity in person: an operator checked their passport at a
    /// service centre (standard → confirmed). The audit event names the operator and
    /// the centre.
    ///
    /// # Errors
    ///
    /// [`Error::OperatorNotAllowed`] without the `confirm_identity` permission or on
    /// the operator's own account, [`Error::StaleSession`] for an unknown account,
    /// [`Error::NotPossible`] when the passport checked is not the verified one or the
    /// account is already confirmed, [`Error::InsufficientTier`] when the account is
    /// not standard yet.
    pub async fn confirm_identity_in_person(
        &self,
        operator: &Operator,
        account: AccountId,
        documents_checked: &Passport,
    ) -> Result<(), Error> {
        let now = self.now();
        tiers::check_operator(operator, account)?;
        let account = self.load_account(account).await?;
        tiers::check_passport(&account, documents_checked)?;
        let flows = self.store.flows_of_account(account.id()).await?;

        let step = tiers::confirm(
            &self.config,
            account,
            &flows,
            TierChangeReason::InPerson,
            Some(operator.audit_ref()),
            now,
        )?;
        self.commit(step, None).await.map(drop)
    }

    /// Records that a proofing method of the host (a bank, a qualified e-signature)
    /// confirmed the person behind a standard account (standard → confirmed); the
    /// method's name and reference are audited.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] for an empty or over-long name or reference,
    /// [`Error::StaleSession`] for an unknown account, [`Error::NotPossible`] when it
    /// is already confirmed, [`Error::InsufficientTier`] when it is not standard yet.
    pub async fn confirm_identity_by(
        &self,
        account: AccountId,
        method: ProofingMethod,
    ) -> Result<(), Error> {
        let now = self.now();
        let (name, reference) = (method.name.trim(), method.reference.trim());
        let fits = |text: &str| (1..=200).contains(&text.chars().count());
        if !fits(name) || !fits(reference) {
            return Err(Error::InvalidField {
                field: Field::ProofingMethod,
                reason: "name and reference of 1 to 200 characters".to_owned(),
            });
        }
        let account = self.load_account(account).await?;
        let flows = self.store.flows_of_account(account.id()).await?;

        let reason = TierChangeReason::Method {
            name: name.to_owned(),
            reference: reference.to_owned(),
        };
        let step = tiers::confirm(&self.config, account, &flows, reason, None, now)?;
        self.commit(step, None).await.map(drop)
    }

    /// Sends a postal activation code by registered post to `postal_address`
    /// (10 characters, 30 days, 3 tries). A new request voids the previous code.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] for an empty or over-long address,
    /// [`Error::StaleSession`], [`Error::InsufficientTier`] before the documents are
    /// verified, [`Error::NotPossible`] when already confirmed, [`Error::Throttled`]
    /// past [`PortalConfig::activation_letters`](crate::PortalConfig::activation_letters)
    /// (3 in 30 days by default; nothing is sent or written), [`Error::Delivery`] when
    /// the postal sender fails (ask again).
    pub async fn request_activation_code(
        &self,
        session: &Authenticated,
        postal_address: &str,
    ) -> Result<(), Error> {
        let now = self.now();
        let address = postal_address
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let length = address.chars().count();
        if !(5..=MAX_ADDRESS_CHARS).contains(&length) {
            return Err(Error::InvalidField {
                field: Field::PostalAddress,
                reason: "between 5 and 300 characters".to_owned(),
            });
        }
        let account = self.session_account(session).await?;
        let letters = self
            .store
            .counter(&tiers::letters_key(account.id()), now)
            .await?;
        self.config.activation_letters.check(letters, now)?;
        let flows = self.store.flows_of_account(account.id()).await?;

        let step = tiers::request_activation_code(
            &self.config,
            &account,
            &flows,
            address,
            now,
            &mut rng(),
        )?;
        let flow = step.reply;
        self.commit(step, Some(flow)).await.map(drop)
    }

    /// Enters the postal activation code; a correct one confirms the account and the
    /// reply is the new session.
    ///
    /// # Errors
    ///
    /// [`Error::StaleSession`], [`Error::FlowNotFound`] when no code was requested (or
    /// it was replaced and purged), [`Error::WrongCode`] with the tries left,
    /// [`Error::CodeExhausted`] after three wrong tries, [`Error::CodeExpired`] from
    /// 30 days after the request, [`Error::InsufficientTier`] or
    /// [`Error::NotPossible`] when the account is no longer standard.
    pub async fn enter_activation_code(
        &self,
        session: &Authenticated,
        code: &OneTimeCode,
    ) -> Result<Authenticated, Error> {
        let now = self.now();
        let account = self.session_account(session).await?;
        let flows = self.store.flows_of_account(account.id()).await?;

        let step = tiers::enter_activation_code(&self.config, account, &flows, code, now)?;
        self.commit(step, None).await?
    }

    /// Checks that the session's account meets the tier a service requires.
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientTier`] with the steps that would raise the account,
    /// [`Error::StaleSession`], [`Error::NotPossible`] while a temporary password from
    /// a service centre waits to be replaced (no service is served on it).
    pub async fn require_tier(&self, session: &Authenticated, required: Tier) -> Result<(), Error> {
        let account = self.session_account(session).await?;
        if account.meets(required) {
            return Ok(());
        }
        Err(Error::InsufficientTier {
            required,
            actual: account.tier(),
            upgrade: upgrade_paths(account.tier(), required),
        })
    }

    /// Whether a document of the submission is on file for another account.
    async fn taken_by_other(
        &self,
        account: AccountId,
        submission: &DocumentSubmission,
    ) -> Result<bool, Error> {
        let mut keys = vec![
            LookupKey::Snils(submission.snils().clone()),
            LookupKey::Passport(submission.passport().clone()),
        ];
        keys.extend(submission.inn().cloned().map(LookupKey::Inn));
        for key in &keys {
            if let Some(owner) = self.store.account_by_key(key).await?
                && owner.id() != account
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Polls the registry for a pending flow and decides on its answer. A verified
    /// answer for documents another account took meanwhile becomes a rejection.
    async fn answer_pending(
        &self,
        account: Account,
        flow: Flow,
        registry: &impl DocumentRegistry,
    ) -> Result<crate::flow::Step<VerificationReply>, Error> {
        let now = self.now();
        let Some(ticket) = tiers::pending_ticket(&flow) else {
            return Err(Error::WrongStep);
        };
        let mut answer = registry.poll(ticket).await.map_err(Error::Registry)?;
        if answer == RegistryAnswer::Verified
            && let Some(submission) = tiers::submission_of(&flow)
            && self.taken_by_other(account.id(), submission).await?
        {
            answer = RegistryAnswer::Rejected {
                reason: "a document is already used by another account".to_owned(),
            };
        }
        Ok(tiers::answered(&self.config, account, flow, answer, now))
    }

    async fn poll_one(
        &self,
        flow: Flow,
        registry: &impl DocumentRegistry,
    ) -> Result<VerificationStatus, Error> {
        let Some(account) = flow.account() else {
            return Err(Error::FlowNotFound);
        };
        let account = self.load_account(account).await?;
        let step = self.answer_pending(account, flow, registry).await?;
        Ok(self.commit(step, None).await?.status)
    }
}
