//! Login through the portal.

use super::{Portal, rng};
use crate::account::{Account, AccountId, LookupKey};
use crate::audit::LoginFailure;
use crate::clock::Clock;
use crate::error::{Error, Field};
use crate::flow::login::{self, Authenticated, FailureKeys, LoginOutcome, LoginRequest};
use crate::flow::{FlowId, Step};
use crate::human::HumanCheck;
use crate::identity::LoginId;
use crate::log;
use crate::notify::MessageSender;
use crate::secret::OneTimeCode;
use crate::store::{Changeset, Store};
use crate::throttle::{Failures, Gate};

impl<S: Store, M: MessageSender, H: HumanCheck, C: Clock> Portal<S, M, H, C> {
    /// Logs in with the one login field (phone, e-mail or SNILS) and a password.
    ///
    /// An unknown login id and a wrong password give the same reply and cost the same:
    /// one password verification (against a dummy hash when there is no account), the
    /// same counters, the same captcha, delay and lock thresholds.
    ///
    /// # Errors
    ///
    /// Show [`Error::InvalidCredentials`] and [`Error::InvalidField`] as they are; the
    /// others as their docs say: [`Error::HumanCheckRequired`] (show a captcha and
    /// retry with its token), [`Error::Throttled`], [`Error::Locked`] (offer recovery),
    /// [`Error::Delivery`] (the SMS code of the second step was not sent).
    pub async fn login(&self, request: &LoginRequest) -> Result<LoginOutcome, Error> {
        let now = self.now();
        let login_id: LoginId =
            request
                .login
                .parse()
                .map_err(|e: crate::identity::LoginIdError| Error::InvalidField {
                    field: Field::Login,
                    reason: e.to_string(),
                })?;
        let client = request.client.as_deref();
        let account = self
            .store
            .account_by_key(&LookupKey::from(login_id.clone()))
            .await?;
        let keys = match &account {
            Some(account) => FailureKeys::for_account(account.id(), client),
            None => FailureKeys::for_unknown(&self.config, &login_id.to_string(), client),
        };
        let failures = self.failures(&keys, now).await?;

        let account_id = account.as_ref().map(Account::id);
        self.pass_gate(
            &keys,
            account_id,
            &failures,
            request.captcha.as_deref(),
            now,
        )
        .await?;
        let subject_count = failures.subject;

        let (matched, rehash) = if let Some(account) = &account {
            let verification = self
                .hasher
                .verify(&request.password, account.password_hash())
                .await?;
            let rehash = if verification.matches && verification.needs_rehash {
                Some(self.hasher.hash(&request.password).await?)
            } else {
                None
            };
            (verification.matches, rehash)
        } else {
            // The same cost as a real verify; the outcome is known.
            let _dummy = self.hasher.verify_dummy(&request.password).await;
            (false, None)
        };

        let step = login::after_password(
            &self.config,
            account,
            &keys,
            subject_count,
            matched,
            rehash,
            now,
            &mut rng(),
        );
        log::info!(matched, "login attempt");
        let flow = step.reply.as_ref().ok().and_then(|outcome| match outcome {
            LoginOutcome::SecondFactorRequired(challenge) => Some(challenge.flow),
            _ => None,
        });
        self.commit(step, flow).await?
    }

    /// The second step of a login: the code from the SMS or the authenticator app, or a
    /// backup code.
    ///
    /// Wrong codes count toward the account's lockout like wrong passwords.
    ///
    /// # Errors
    ///
    /// [`Error::WrongCode`], [`Error::CodeReplayed`] (a TOTP code already used),
    /// [`Error::CodeExpired`], [`Error::CodeExhausted`], [`Error::Throttled`],
    /// [`Error::Locked`], and the flow errors.
    pub async fn login_second_factor(
        &self,
        flow: FlowId,
        code: &OneTimeCode,
    ) -> Result<Authenticated, Error> {
        let now = self.now();
        let loaded = self.load_flow(flow).await?;
        let (account_id, client) = login::second_factor_subject(&loaded, now)?;
        let account = self.load_account(account_id).await?;
        let keys = FailureKeys::for_account(account_id, client.as_deref());
        let failures = self.failures(&keys, now).await?;

        self.delay_or_lock(&failures, now)?;

        let step = login::second_factor(
            &self.config,
            loaded,
            account,
            &keys,
            failures.subject,
            code,
            now,
        )?;
        self.commit(step, Some(flow)).await?
    }

    /// Sends a new SMS code for the second step of a login.
    ///
    /// # Errors
    ///
    /// [`Error::ResendTooSoon`], [`Error::ResendLimit`], [`Error::NotPossible`] for a
    /// TOTP login, [`Error::FlowOver`] once a change of credentials ended the login, and
    /// the flow errors.
    pub async fn resend_login_code(&self, flow: FlowId) -> Result<(), Error> {
        let now = self.now();
        let loaded = self.load_flow(flow).await?;
        let (account_id, _) = login::second_factor_subject(&loaded, now)?;
        let account = self.load_account(account_id).await?;
        let step = login::resend_second_factor(&self.config, loaded, &account, now, &mut rng())?;
        self.commit(step, Some(flow)).await
    }

    /// Reads the counters an attempt is gated by.
    pub(super) async fn failures(
        &self,
        keys: &FailureKeys,
        now: time::OffsetDateTime,
    ) -> Result<Failures, Error> {
        let subject = self.store.counter(&keys.subject, now).await?;
        let client = match &keys.client {
            Some(key) => self.store.counter(key, now).await?,
            None => None,
        };
        let locked = self.store.counter(&keys.lock, now).await?.is_some();
        Ok(Failures {
            subject,
            client,
            locked,
        })
    }

    /// Applies the delay and the lock to an attempt that carries no captcha (a second
    /// factor, a password re-proved in a settings call): a waiting or locked account is
    /// refused before anything is verified, and the refusal writes nothing.
    pub(super) fn delay_or_lock(
        &self,
        failures: &Failures,
        now: time::OffsetDateTime,
    ) -> Result<(), Error> {
        match self.config.throttle.gate(failures, now) {
            Gate::Locked => Err(Error::Locked),
            Gate::Wait { retry_after } => Err(Error::Throttled { retry_after }),
            Gate::Open { .. } => Ok(()),
        }
    }

    /// Applies the throttle: a locked or waiting subject is refused without a verify
    /// (the same for a known and an unknown login id), and a required captcha is
    /// checked. A failed captcha is audited but not counted as a password failure.
    async fn pass_gate(
        &self,
        keys: &FailureKeys,
        account: Option<AccountId>,
        failures: &Failures,
        captcha: Option<&str>,
        now: time::OffsetDateTime,
    ) -> Result<(), Error> {
        match self.config.throttle.gate(failures, now) {
            Gate::Locked => Err(Error::Locked),
            Gate::Wait { retry_after } => Err(Error::Throttled { retry_after }),
            Gate::Open { captcha: false } => Ok(()),
            Gate::Open { captcha: true } => {
                let passed = match captcha {
                    Some(token) => self.human.verify(token).await,
                    None => false,
                };
                if passed {
                    return Ok(());
                }
                let mut changes = Changeset::default();
                let client_key = keys.client.as_ref().map(|key| key.as_str().to_owned());
                // The trail is the host's, not the caller's: a known account's failed
                // captcha is filed under it, like its wrong passwords.
                changes.audit(crate::flow::event(
                    now,
                    account,
                    client_key,
                    crate::audit::AuditKind::LoginFailed {
                        reason: LoginFailure::HumanCheckFailed,
                    },
                ));
                self.commit(Step::new(changes, ()), None).await?;
                Err(Error::HumanCheckRequired)
            }
        }
    }
}
