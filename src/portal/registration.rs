//! Registration through the portal.

use super::{Portal, rng};
use crate::clock::Clock;
use crate::error::Error;
use crate::flow::FlowId;
use crate::flow::registration::{self, Registered, RegistrationRequest, RegistrationStarted};
use crate::human::HumanCheck;
use crate::notify::MessageSender;
use crate::secret::{OneTimeCode, Password};
use crate::store::{CounterKey, Store};

impl<S: Store, M: MessageSender, H: HumanCheck, C: Clock> Portal<S, M, H, C> {
    /// Step 1: validates the form and sends a confirmation code to the phone (or, when
    /// no phone is given, the e-mail).
    ///
    /// A contact already confirmed on another account gets the same reply, but no code
    /// is sent to it; its owner is notified instead, so an outsider cannot test which
    /// numbers have accounts.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] naming the first bad field (nothing is written);
    /// [`Error::Throttled`] after too many registrations for one contact within an
    /// hour; [`Error::Delivery`] when the code could not be sent.
    pub async fn start_registration(
        &self,
        request: &RegistrationRequest,
    ) -> Result<RegistrationStarted, Error> {
        let now = self.now();
        let valid = registration::validate(request, &self.config)?;
        let starts = CounterKey::new("registration:contact", &valid.target.key().value());
        if let Some(counter) = self.store.counter(&starts, now).await?
            && counter.count >= u32::from(self.config.max_sends)
        {
            return Err(Error::Throttled {
                retry_after: counter.expires_at - now,
            });
        }
        let owner = self.store.account_by_key(&valid.target.key()).await?;

        let mut step = registration::start(&self.config, valid, owner.as_ref(), now, &mut rng());
        step.changes.count(starts, now, time::Duration::hours(1));

        let flow = step.reply.flow;
        self.commit(step, Some(flow)).await
    }

    /// Sends a new code in a registration flow, after the cooldown; the tries left
    /// carry over.
    ///
    /// # Errors
    ///
    /// [`Error::ResendTooSoon`], [`Error::ResendLimit`], [`Error::CodeExhausted`],
    /// and the flow errors ([`Error::FlowNotFound`], [`Error::FlowExpired`],
    /// [`Error::FlowOver`], [`Error::WrongStep`]).
    pub async fn resend_registration_code(
        &self,
        flow: FlowId,
    ) -> Result<RegistrationStarted, Error> {
        let now = self.now();
        let loaded = self.load_flow(flow).await?;
        let step = registration::resend(&self.config, loaded, now, &mut rng())?;
        self.commit(step, Some(flow)).await
    }

    /// Step 2: checks the code.
    ///
    /// # Errors
    ///
    /// [`Error::WrongCode`] with the tries left (the try is spent),
    /// [`Error::CodeExpired`], [`Error::CodeExhausted`], and the flow errors.
    pub async fn confirm_registration(
        &self,
        flow: FlowId,
        code: &OneTimeCode,
    ) -> Result<(), Error> {
        let now = self.now();
        let loaded = self.load_flow(flow).await?;
        let step = registration::confirm(&self.config, loaded, code, now)?;
        self.commit(step, Some(flow)).await?
    }

    /// Step 3: sets the password (typed twice) and creates the simplified account:
    /// "Registration completed successfully".
    ///
    /// # Errors
    ///
    /// [`Error::Policy`] with every violation at once (nothing is written);
    /// [`Error::WrongStep`] before the code is confirmed; [`Error::Taken`] when
    /// another registration confirmed the same contact first; the flow errors.
    pub async fn complete_registration(
        &self,
        flow: FlowId,
        password: &Password,
        confirmation: &Password,
    ) -> Result<Registered, Error> {
        let now = self.now();
        let mut loaded = self.load_flow(flow).await?;
        let personal = registration::personal_data(&mut loaded, now)?;
        self.config
            .password_policy
            .check_new(password, confirmation, &personal)?;

        let hash = self.hasher.hash(password).await?;
        let step = registration::complete(loaded, hash, now, &mut rng())?;

        self.commit(step, None).await
    }
}
