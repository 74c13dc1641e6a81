//! Security settings through the portal.

use super::{Portal, rng};
use crate::account::{Account, SecondFactorMethod};
use crate::audit::LoginFailure;
use crate::clock::Clock;
use crate::error::Error;
use crate::flow::login::{self, Authenticated, FailureKeys, record_failure};
use crate::flow::registration::personal_data_of;
use crate::flow::settings::{self, BackupCodesIssued, SecondFactorProof, TotpEnrolment};
use crate::flow::{FlowId, Step};
use crate::human::HumanCheck;
use crate::notify::MessageSender;
use crate::secret::{Answer, OneTimeCode, Password};
use crate::store::{Changeset, Store};

impl<S: Store, M: MessageSender, H: HumanCheck, C: Clock> Portal<S, M, H, C> {
    /// Changes the password: the current one is required, the new one must pass the
    /// policy and differ from the current one. Every other session ends (the stamp is
    /// bumped; the reply carries the new one) and every confirmed contact is notified.
    ///
    /// # Errors
    ///
    /// [`Error::StaleSession`], [`Error::InvalidCredentials`] for a wrong current
    /// password (counted toward the lockout), [`Error::Throttled`] and
    /// [`Error::Locked`] as at login, [`Error::Policy`] with every violation,
    /// [`Error::NotPossible`] when the new password equals the current one.
    pub async fn change_password(
        &self,
        session: &Authenticated,
        current: &Password,
        new: &Password,
        confirmation: &Password,
    ) -> Result<Authenticated, Error> {
        let now = self.now();
        let account = self.reauthenticate(session, current, true).await?;
        let personal = personal_data_of(
            account.name(),
            account.confirmed_phone(),
            account.confirmed_email(),
        );
        self.config
            .password_policy
            .check_new(new, confirmation, &personal)?;
        if self
            .hasher
            .verify(new, account.password_hash())
            .await?
            .matches
        {
            return Err(Error::NotPossible(
                "the new password must differ from the current one",
            ));
        }

        let hash = self.hasher.hash(new).await?;
        let step = settings::change_password(&self.config, account, hash, now);
        self.commit(step, None).await
    }

    /// Sets or replaces the security question; the answer is normalised (case, `ё`,
    /// spaces) and hashed like a password.
    ///
    /// # Errors
    ///
    /// [`Error::StaleSession`], [`Error::InvalidCredentials`], [`Error::Throttled`],
    /// [`Error::Locked`], [`Error::InvalidField`] for a question or answer of the wrong
    /// size.
    pub async fn set_security_question(
        &self,
        session: &Authenticated,
        password: &Password,
        question: &str,
        answer: &Answer,
    ) -> Result<(), Error> {
        let now = self.now();
        let (question, answer) = settings::normalize_question(question, answer)?;
        let account = self.reauthenticate(session, password, false).await?;

        let hash = self
            .hasher
            .hash(&Password::new(answer.expose_secret()))
            .await?;
        let step = settings::set_security_question(account, question, hash, now);
        self.commit(step, None).await
    }

    /// Sends an SMS code proving the second factor for a settings change, for accounts
    /// whose method is SMS. Use its flow in [`SecondFactorProof::Sms`].
    ///
    /// # Errors
    ///
    /// [`Error::StaleSession`], [`Error::NotPossible`] without a confirmed phone,
    /// [`Error::Throttled`] past [`PortalConfig::settings_codes`](crate::PortalConfig::settings_codes)
    /// (5 an hour by default; nothing is sent or written), [`Error::Delivery`].
    pub async fn send_settings_code(&self, session: &Authenticated) -> Result<FlowId, Error> {
        let now = self.now();
        let account = self.session_account(session).await?;
        let sent = self
            .store
            .counter(&settings::settings_codes_key(account.id()), now)
            .await?;
        self.config.settings_codes.check(sent, now)?;

        let step = settings::send_settings_code(&self.config, &account, now, &mut rng())?;
        let flow = step.reply;
        self.commit(step, Some(flow)).await
    }

    /// Turns on two-factor login by SMS code to the confirmed phone (or switches to it),
    /// and returns ten backup codes to show once.
    ///
    /// # Errors
    ///
    /// [`Error::StaleSession`], [`Error::InvalidCredentials`], [`Error::Throttled`],
    /// [`Error::Locked`], [`Error::NotPossible`] without a confirmed phone or when
    /// switching without a current second factor, and the proof's code errors.
    pub async fn enable_sms_two_factor(
        &self,
        session: &Authenticated,
        password: &Password,
        proof: Option<&SecondFactorProof>,
    ) -> Result<BackupCodesIssued, Error> {
        let now = self.now();
        let mut account = self.reauthenticate(session, password, false).await?;
        if account.confirmed_phone().is_none() {
            return Err(Error::NotPossible(
                "two-factor login by SMS needs a confirmed phone",
            ));
        }

        let changes = self.check_proof(&mut account, proof, now).await?;
        let step = settings::enable_two_factor(
            &self.config,
            account,
            SecondFactorMethod::Sms,
            changes,
            now,
            &mut rng(),
        );
        self.commit(step, None).await
    }

    /// Starts enrolling an authenticator app: returns the `otpauth://` URI to show.
    /// When two-factor login is already on, a current second factor is required.
    ///
    /// # Errors
    ///
    /// [`Error::StaleSession`], [`Error::InvalidCredentials`], [`Error::Throttled`],
    /// [`Error::Locked`], [`Error::NotPossible`] without the proof, and the proof's code
    /// errors.
    pub async fn begin_totp_enrolment(
        &self,
        session: &Authenticated,
        password: &Password,
        proof: Option<&SecondFactorProof>,
    ) -> Result<TotpEnrolment, Error> {
        let now = self.now();
        let mut account = self.reauthenticate(session, password, false).await?;

        let changes = self.check_proof(&mut account, proof, now).await?;
        let mut step =
            settings::begin_totp_enrolment(&self.config, &account, changes, now, &mut rng())?;
        if account.two_factor().is_some() {
            // The proof spent a TOTP step or a backup code.
            step.changes.update_account(account);
        }
        self.commit(step, None).await
    }

    /// Finishes the enrolment with one valid code from the app; returns ten backup
    /// codes to show once.
    ///
    /// # Errors
    ///
    /// [`Error::StaleSession`], [`Error::WrongCode`], and the flow errors.
    pub async fn finish_totp_enrolment(
        &self,
        session: &Authenticated,
        flow: FlowId,
        code: &OneTimeCode,
    ) -> Result<BackupCodesIssued, Error> {
        let now = self.now();
        let account = self.session_account(session).await?;
        let loaded = self.load_flow(flow).await?;

        let step =
            settings::finish_totp_enrolment(&self.config, &loaded, account, code, now, &mut rng())?;
        self.commit(step, None).await
    }

    /// Turns two-factor login off; needs the password and a current second factor.
    ///
    /// # Errors
    ///
    /// [`Error::StaleSession`], [`Error::InvalidCredentials`], [`Error::Throttled`],
    /// [`Error::Locked`], [`Error::NotPossible`] when it is already off or without a
    /// proof, and the proof's code errors.
    pub async fn disable_two_factor(
        &self,
        session: &Authenticated,
        password: &Password,
        proof: &SecondFactorProof,
    ) -> Result<Authenticated, Error> {
        let now = self.now();
        let mut account = self.reauthenticate(session, password, false).await?;
        if account.two_factor().is_none() {
            return Err(Error::NotPossible("two-factor login is off"));
        }

        let changes = self.check_proof(&mut account, Some(proof), now).await?;
        let step = settings::disable_two_factor(&self.config, account, changes, now);
        self.commit(step, None).await
    }

    /// The session's account. An account whose password an operator issued must
    /// replace it first: every other settings call is refused until then.
    pub(super) async fn session_account(&self, session: &Authenticated) -> Result<Account, Error> {
        let account = self.load_account(session.account).await?;
        settings::check_session(&account, session)?;
        if account.must_change_password() {
            return Err(Error::NotPossible("replace the temporary password first"));
        }
        Ok(account)
    }

    /// The session's account, after the password is proved again. A wrong password
    /// counts toward the lockout, and a waiting or locked account is refused before
    /// the verify, as at login. Only a password change may go ahead while a
    /// temporary password waits to be replaced.
    async fn reauthenticate(
        &self,
        session: &Authenticated,
        password: &Password,
        password_change: bool,
    ) -> Result<Account, Error> {
        let now = self.now();
        let account = self.load_account(session.account).await?;
        settings::check_session(&account, session)?;
        if account.must_change_password() && !password_change {
            return Err(Error::NotPossible("replace the temporary password first"));
        }
        // A session is no licence to guess the password: the login's delay and lock
        // apply before the verify (there is no captcha to ask for here).
        let keys = FailureKeys::for_account(account.id(), None);
        let failures = self.failures(&keys, now).await?;
        self.delay_or_lock(&failures, now)?;

        if self
            .hasher
            .verify(password, account.password_hash())
            .await?
            .matches
        {
            return Ok(account);
        }
        let mut changes = Changeset::default();
        let messages = record_failure(
            &mut changes,
            &self.config,
            Some(&account),
            &keys,
            failures.subject,
            LoginFailure::WrongPassword,
            now,
        );
        self.commit(Step::new(changes, ()).with_messages(messages), None)
            .await?;
        Err(Error::InvalidCredentials)
    }

    /// Checks a second-factor proof; a wrong one still commits what it spent.
    ///
    /// A wrong or replayed code also counts toward the lockout, as at the second step
    /// of a login: a session and the password are no licence to guess TOTP or backup
    /// codes, and the delay and lock in `reauthenticate` then bound the guesses.
    async fn check_proof(
        &self,
        account: &mut Account,
        proof: Option<&SecondFactorProof>,
        now: time::OffsetDateTime,
    ) -> Result<Changeset, Error> {
        let sms_flow = match proof {
            Some(SecondFactorProof::Sms { flow, .. }) => self.store.flow(*flow).await?,
            _ => None,
        };
        let mut changes = Changeset::default();
        let error = match settings::check_proof(
            &self.config,
            account,
            proof,
            sms_flow,
            &mut changes,
            now,
        ) {
            Ok(()) => return Ok(changes),
            Err(error) => error,
        };

        let mut messages = Vec::new();
        if matches!(error, Error::WrongCode { .. } | Error::CodeReplayed) {
            let keys = FailureKeys::for_account(account.id(), None);
            let count = self.store.counter(&keys.subject, now).await?;
            let reason = login::second_factor_failure(&error);
            messages = record_failure(
                &mut changes,
                &self.config,
                Some(account),
                &keys,
                count,
                reason,
                now,
            );
        }
        if !changes.is_empty() {
            self.commit(Step::new(changes, ()).with_messages(messages), None)
                .await?;
        }
        Err(error)
    }
}
