//! Contact change through the portal: "I changed my phone number but still have my
//! e-mail".

use super::{Portal, rng};
use crate::clock::Clock;
use crate::error::Error;
use crate::flow::contact_change::{self, ContactChangeStarted};
use crate::flow::login::Authenticated;
use crate::flow::{Address, FlowId};
use crate::human::HumanCheck;
use crate::notify::MessageSender;
use crate::secret::OneTimeCode;
use crate::store::{CounterKey, Store};

impl<S: Store, M: MessageSender, H: HumanCheck, C: Clock> Portal<S, M, H, C> {
    /// Starts replacing (or confirming) the phone or e-mail of the logged-in person:
    /// a code goes to the new contact.
    ///
    /// # Errors
    ///
    /// [`Error::StaleSession`], [`Error::InvalidField`] for an unreadable contact,
    /// [`Error::Taken`] when another account holds it, [`Error::NotPossible`] when it is
    /// already confirmed here, [`Error::Throttled`] after five starts in a day,
    /// [`Error::Delivery`].
    pub async fn start_contact_change(
        &self,
        session: &Authenticated,
        new_contact: &str,
    ) -> Result<ContactChangeStarted, Error> {
        let now = self.now();
        let new = Address::parse(new_contact)?;
        let account = self.session_account(session).await?;
        let starts = CounterKey::new("contact-change:account", &account.id().to_string());
        if let Some(counter) = self.store.counter(&starts, now).await?
            && counter.count >= u32::from(self.config.max_sends)
        {
            return Err(Error::Throttled {
                retry_after: counter.expires_at - now,
            });
        }
        self.ensure_free(&new, &account).await?;

        let mut step = contact_change::start(&self.config, &account, new, None, now, &mut rng())?;
        step.changes.count(starts, now, time::Duration::days(1));

        let flow = step.reply.flow;
        self.commit(step, Some(flow)).await
    }

    /// Sends a new code to the new contact.
    ///
    /// # Errors
    ///
    /// [`Error::ResendTooSoon`], [`Error::ResendLimit`], [`Error::StaleSession`], the
    /// flow errors.
    pub async fn resend_contact_code(
        &self,
        session: &Authenticated,
        flow: FlowId,
    ) -> Result<ContactChangeStarted, Error> {
        let now = self.now();
        let account = self.session_account(session).await?;
        let loaded = self.load_flow(flow).await?;
        let step = contact_change::resend(&self.config, loaded, &account, now, &mut rng())?;
        self.commit(step, Some(flow)).await
    }

    /// Confirms the new contact with its code. The old contact and every other
    /// confirmed contact are told; the stamp is bumped (the reply carries the new one);
    /// the tier does not change.
    ///
    /// # Errors
    ///
    /// [`Error::WrongCode`], [`Error::CodeExpired`], [`Error::Taken`] when another
    /// account confirmed the contact first, [`Error::StaleSession`], the flow errors.
    pub async fn confirm_contact_change(
        &self,
        session: &Authenticated,
        flow: FlowId,
        code: &OneTimeCode,
    ) -> Result<Authenticated, Error> {
        let now = self.now();
        let account = self.session_account(session).await?;
        let loaded = self.load_flow(flow).await?;
        let step = contact_change::confirm(&self.config, loaded, account, code, now)?;
        let account = self.commit(step, Some(flow)).await??;
        Ok(Authenticated::of(&account))
    }

    /// Refuses a contact another account holds.
    pub(super) async fn ensure_free(
        &self,
        new: &Address,
        account: &crate::account::Account,
    ) -> Result<(), Error> {
        match self.store.account_by_key(&new.key()).await? {
            Some(owner) if owner.id() != account.id() => Err(Error::Taken),
            _ => Ok(()),
        }
    }
}
