//! Access recovery through the portal.

use super::{Portal, rng};
use crate::clock::Clock;
use crate::error::Error;
use crate::flow::recovery::{self, Recovered, RecoveryStart, RecoveryStep};
use crate::flow::settings::normalize_answer;
use crate::flow::{Flow, FlowId};
use crate::human::HumanCheck;
use crate::notify::MessageSender;
use crate::secret::{Answer, LinkToken, OneTimeCode, Password};
use crate::store::Store;

/// What a person submits to start a recovery.
#[derive(Debug, Clone)]
pub struct RecoveryRequest {
    /// The contact or document the person typed.
    pub start: RecoveryStart,
    /// The captcha token; recovery always asks for one.
    pub captcha: String,
    /// The host's key for the client (IP address or device key).
    pub client: Option<String>,
}

impl<S: Store, M: MessageSender, H: HumanCheck, C: Clock> Portal<S, M, H, C> {
    /// Starts a recovery with a phone or e-mail, or with a SNILS, INN or passport
    /// number.
    ///
    /// The reply is the same whether or not an account has the identifier: a contact
    /// start always says a code was sent, a document start always offers channels. See
    /// [`flow::recovery`](crate::flow::recovery) for what an outsider can and cannot
    /// learn.
    ///
    /// # Errors
    ///
    /// [`Error::HumanCheckRequired`] when the captcha fails, [`Error::InvalidField`]
    /// for an unreadable identifier (nothing written), [`Error::Throttled`] after five
    /// starts for one identifier within an hour, [`Error::Delivery`].
    pub async fn start_recovery(&self, request: &RecoveryRequest) -> Result<RecoveryStep, Error> {
        let now = self.now();
        let parsed = recovery::parse(&request.start)?;
        if !self.human.verify(&request.captcha).await {
            return Err(Error::HumanCheckRequired);
        }
        let starts = parsed.counter(&self.config);
        if let Some(counter) = self.store.counter(&starts, now).await?
            && counter.count >= u32::from(self.config.max_sends)
        {
            return Err(Error::Throttled {
                retry_after: counter.expires_at - now,
            });
        }
        let account = self.store.account_by_key(&parsed.key()).await?;

        let mut step = recovery::start(
            &self.config,
            &parsed,
            account.as_ref(),
            request.client.clone(),
            now,
            &mut rng(),
        );
        step.changes.count(starts, now, time::Duration::hours(1));

        let flow = match &step.reply {
            RecoveryStep::ChooseChannel { flow, .. } | RecoveryStep::ProofSent { flow, .. } => {
                Some(*flow)
            }
            _ => None,
        };
        self.commit(step, flow).await
    }

    /// Picks the delivery channel offered after a document start.
    ///
    /// # Errors
    ///
    /// [`Error::NotPossible`] for an index not offered, [`Error::WrongStep`], the flow
    /// errors, [`Error::Delivery`].
    pub async fn choose_recovery_channel(
        &self,
        flow: FlowId,
        index: usize,
    ) -> Result<RecoveryStep, Error> {
        let now = self.now();
        let loaded = self.load_flow(flow).await?;
        let step = recovery::choose_channel(&self.config, loaded, index, now, &mut rng())?;
        self.commit(step, Some(flow)).await
    }

    /// Sends a new code or link, after the cooldown; the tries left carry over.
    ///
    /// # Errors
    ///
    /// [`Error::ResendTooSoon`], [`Error::ResendLimit`], [`Error::CodeExhausted`],
    /// [`Error::WrongStep`], the flow errors.
    pub async fn resend_recovery_proof(&self, flow: FlowId) -> Result<RecoveryStep, Error> {
        let now = self.now();
        let loaded = self.load_flow(flow).await?;
        let step = recovery::resend(&self.config, loaded, now, &mut rng())?;
        self.commit(step, Some(flow)).await
    }

    /// Checks the SMS code.
    ///
    /// # Errors
    ///
    /// [`Error::WrongCode`] (a try is spent; the last one ends the flow),
    /// [`Error::CodeExpired`], [`Error::WrongStep`], the flow errors. Two requests
    /// racing with the same right code: one wins, the other gets [`Error::Conflict`]
    /// and, on retry, [`Error::WrongStep`].
    pub async fn submit_recovery_code(
        &self,
        flow: FlowId,
        code: &OneTimeCode,
    ) -> Result<RecoveryStep, Error> {
        let now = self.now();
        let loaded = self.load_flow(flow).await?;
        let account = self.recovery_account(&loaded).await?;
        let step = recovery::prove(&self.config, loaded, account.as_ref(), code, now)?;
        self.commit(step, Some(flow)).await?
    }

    /// Checks the token of an e-mail link (single use).
    ///
    /// # Errors
    ///
    /// As [`Portal::submit_recovery_code`]; a used link answers [`Error::WrongStep`].
    pub async fn open_recovery_link(
        &self,
        flow: FlowId,
        token: &LinkToken,
    ) -> Result<RecoveryStep, Error> {
        self.submit_recovery_code(flow, &OneTimeCode::new(token.expose_secret()))
            .await
    }

    /// Gives a document number on file, when the tier demands one after a contact
    /// start.
    ///
    /// # Errors
    ///
    /// [`Error::WrongDocument`] with the tries left (the last one ends the flow),
    /// [`Error::WrongStep`], the flow errors.
    pub async fn submit_recovery_document(
        &self,
        flow: FlowId,
        document: &str,
    ) -> Result<RecoveryStep, Error> {
        let now = self.now();
        let mut loaded = self.load_flow(flow).await?;
        recovery::expect_document(&mut loaded, now)?;
        let account = self
            .recovery_account(&loaded)
            .await?
            .ok_or(Error::WrongStep)?;
        let step = recovery::give_document(&self.config, loaded, &account, document, now)?;
        self.commit(step, Some(flow)).await?
    }

    /// Answers the security question.
    ///
    /// # Errors
    ///
    /// [`Error::WrongAnswer`] with the tries left (the last one ends the flow),
    /// [`Error::WrongStep`], the flow errors.
    pub async fn answer_security_question(
        &self,
        flow: FlowId,
        answer: &Answer,
    ) -> Result<RecoveryStep, Error> {
        let now = self.now();
        let mut loaded = self.load_flow(flow).await?;
        recovery::expect_answer(&mut loaded, now)?;
        let account = self
            .recovery_account(&loaded)
            .await?
            .ok_or(Error::WrongStep)?;
        let stored = account.security_question().ok_or(Error::WrongStep)?;

        let normalized = normalize_answer(answer);
        let correct = self
            .hasher
            .verify(
                &Password::new(normalized.expose_secret()),
                &stored.answer_hash,
            )
            .await?
            .matches;
        let step = recovery::answer(&self.config, loaded, &account, correct, now)?;
        self.commit(step, Some(flow)).await?
    }

    /// Sets the new password (typed twice) and ends the recovery: every session ends,
    /// the lockout is lifted, every confirmed contact is told. The person then logs in;
    /// a second factor, when on, is still asked.
    ///
    /// # Errors
    ///
    /// [`Error::Policy`] with every violation (nothing written), [`Error::WrongStep`],
    /// [`Error::FlowOver`] when the account's password, contacts or tier changed since
    /// the recovery started (nothing written), the flow errors, [`Error::Conflict`]
    /// when the account changed meanwhile.
    pub async fn complete_recovery(
        &self,
        flow: FlowId,
        password: &Password,
        confirmation: &Password,
    ) -> Result<Recovered, Error> {
        let now = self.now();
        let mut loaded = self.load_flow(flow).await?;
        recovery::expect_password(&mut loaded, now)?;
        let account = self
            .recovery_account(&loaded)
            .await?
            .ok_or(Error::WrongStep)?;
        let personal = crate::flow::registration::personal_data_of(
            account.name(),
            account.confirmed_phone(),
            account.confirmed_email(),
        );
        self.config
            .password_policy
            .check_new(password, confirmation, &personal)?;

        let hash = self.hasher.hash(password).await?;
        let step = recovery::complete(&self.config, loaded, account, hash, now)?;
        self.commit(step, None).await
    }

    /// Cancels a recovery; every later step on it is refused.
    ///
    /// # Errors
    ///
    /// The flow errors.
    pub async fn cancel_recovery(&self, flow: FlowId) -> Result<(), Error> {
        let now = self.now();
        let loaded = self.load_flow(flow).await?;
        let step = recovery::cancel(loaded, now)?;
        self.commit(step, None).await
    }

    async fn recovery_account(
        &self,
        flow: &Flow,
    ) -> Result<Option<crate::account::Account>, Error> {
        match flow.account() {
            Some(id) => Ok(self.store.account(id).await?),
            None => Ok(None),
        }
    }
}
