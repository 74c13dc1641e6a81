//! Operator-assisted recovery through the portal: the service centre.

use super::{Portal, rng};
use crate::account::LookupKey;
use crate::audit::CheckedDocument;
use crate::clock::Clock;
use crate::error::{Error, Field};
use crate::flow::contact_change::{self, ContactChangeStarted};
use crate::flow::operator::{self, OperatorCase, TemporaryPassword};
use crate::flow::{Address, FlowId};
use crate::human::HumanCheck;
use crate::identity::{DocumentId, LoginId};
use crate::notify::MessageSender;
use crate::operator::Operator;
use crate::secret::OneTimeCode;
use crate::store::Store;

impl<S: Store, M: MessageSender, H: HumanCheck, C: Clock> Portal<S, M, H, C> {
    /// Finds the account of a person present at a service centre, by a document number
    /// or a login id, after the operator checked their passport and SNILS; records the
    /// check in the audit trail.
    ///
    /// # Errors
    ///
    /// [`Error::OperatorNotAllowed`] unless both passport and SNILS were checked, or on
    /// the operator's own account; [`Error::InvalidField`] for an unreadable
    /// identifier; [`Error::NotPossible`] when no account has it.
    pub async fn operator_open_case(
        &self,
        operator: &Operator,
        identifier: &str,
        checked: &[CheckedDocument],
    ) -> Result<OperatorCase, Error> {
        let now = self.now();
        let key = match (
            identifier.parse::<DocumentId>(),
            identifier.parse::<LoginId>(),
        ) {
            (Ok(document), _) => LookupKey::from(document),
            (_, Ok(login)) => LookupKey::from(login),
            (Err(error), Err(_)) => {
                return Err(Error::InvalidField {
                    field: Field::Document,
                    reason: error.to_string(),
                });
            }
        };
        let account = self
            .store
            .account_by_key(&key)
            .await?
            .ok_or(Error::NotPossible("no account has this identifier"))?;

        let step = operator::open_case(operator, &account, checked, now)?;
        self.commit(step, None).await
    }

    /// Issues a temporary password (valid 24 hours by default) that must be replaced
    /// at first login; lifts the lockout, ends every session, tells every old contact.
    ///
    /// # Errors
    ///
    /// [`Error::OperatorNotAllowed`] without the `restore_access` permission, on the
    /// operator's own account, or on another operator's case or one past
    /// [`PortalConfig::operator_case_ttl`](crate::PortalConfig::operator_case_ttl).
    pub async fn operator_issue_temporary_password(
        &self,
        operator: &Operator,
        case: &OperatorCase,
    ) -> Result<TemporaryPassword, Error> {
        let now = self.now();
        operator::check_case(&self.config, operator, case, now)?;
        operator::authorize(operator, case.account(), |p| p.restore_access)?;
        let account = self.load_account(case.account()).await?;

        let password = operator::generate_temporary_password(&mut rng());
        let hash = self.hasher.hash(&password).await?;
        let step = operator::issue_temporary_password(&self.config, operator, account, hash, now);
        let expires_at = self.commit(step, None).await?;
        Ok(TemporaryPassword {
            password,
            expires_at,
        })
    }

    /// Starts setting a new phone for the person present: a code goes to the new
    /// phone, which the person reads out to the operator.
    ///
    /// # Errors
    ///
    /// [`Error::OperatorNotAllowed`] without the `change_phone` permission, on the
    /// operator's own account, or on a case that is another operator's or expired,
    /// [`Error::InvalidField`], [`Error::Taken`], [`Error::Delivery`].
    pub async fn operator_start_phone_change(
        &self,
        operator: &Operator,
        case: &OperatorCase,
        new_phone: &str,
    ) -> Result<ContactChangeStarted, Error> {
        let now = self.now();
        operator::check_case(&self.config, operator, case, now)?;
        operator::authorize(operator, case.account(), |p| p.change_phone)?;
        let new =
            new_phone
                .parse()
                .map(Address::Phone)
                .map_err(|e: crate::identity::PhoneError| Error::InvalidField {
                    field: Field::Phone,
                    reason: e.to_string(),
                })?;
        let account = self.load_account(case.account()).await?;
        self.ensure_free(&new, &account).await?;

        let step = contact_change::start(
            &self.config,
            &account,
            new,
            Some(operator.audit_ref()),
            now,
            &mut rng(),
        )?;
        let flow = step.reply.flow;
        self.commit(step, Some(flow)).await
    }

    /// Confirms the new phone with the code the person received.
    ///
    /// # Errors
    ///
    /// [`Error::WrongCode`], [`Error::CodeExpired`], [`Error::OperatorNotAllowed`] (as
    /// when starting it, the case expiring meanwhile included), the flow errors.
    pub async fn operator_confirm_phone_change(
        &self,
        operator: &Operator,
        case: &OperatorCase,
        flow: FlowId,
        code: &OneTimeCode,
    ) -> Result<(), Error> {
        let now = self.now();
        operator::check_case(&self.config, operator, case, now)?;
        operator::authorize(operator, case.account(), |p| p.change_phone)?;
        let account = self.load_account(case.account()).await?;
        let loaded = self.load_flow(flow).await?;

        let step = contact_change::confirm(&self.config, loaded, account, code, now)?;
        self.commit(step, Some(flow)).await??;
        Ok(())
    }
}
