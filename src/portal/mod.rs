//! The [`Portal`] service: the async API hosts call.
//!
//! Every method follows the same shape: **load** what the step needs from the store,
//! **decide** with the pure engine in [`flow`](crate::flow), **apply** the changes in
//! one atomic commit, **send** the messages, **reply**.

mod contact;
mod login;
mod operator;
mod recovery;
mod registration;
mod settings;
mod tiers;

use time::OffsetDateTime;

pub use recovery::RecoveryRequest;

use crate::account::{Account, AccountId};
use crate::audit::AuditEvent;
use crate::clock::Clock;
use crate::config::PortalConfig;
use crate::error::Error;
use crate::flow::{Flow, FlowId, Step};
use crate::human::HumanCheck;
use crate::log;
use crate::notify::MessageSender;
use crate::password::PasswordHasher;
use crate::random::os_rng;
use crate::store::Store;

/// The account service of a portal, over a store, a message sender, a human check and
/// a clock.
///
/// Cheap to share: wrap it in an `Arc` and call it from any task.
#[derive(Debug)]
pub struct Portal<S, M, H, C> {
    config: PortalConfig,
    store: S,
    sender: M,
    human: H,
    clock: C,
    hasher: PasswordHasher,
}

impl<S: Store, M: MessageSender, H: HumanCheck, C: Clock> Portal<S, M, H, C> {
    /// A portal with these settings and collaborators.
    ///
    /// # Errors
    ///
    /// [`Error::Hash`] when the hasher settings are invalid (parameters above their
    /// own ceiling, a zero-sized pool).
    pub fn new(
        config: PortalConfig,
        store: S,
        sender: M,
        human: H,
        clock: C,
    ) -> Result<Self, Error> {
        let hasher = PasswordHasher::new(config.hasher.clone())?;
        Ok(Self {
            config,
            store,
            sender,
            human,
            clock,
            hasher,
        })
    }

    /// The settings in force.
    pub fn config(&self) -> &PortalConfig {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The password hasher (its pool and counters).
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The audit trail of one account, oldest first.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store fails.
    pub async fn audit_events(&self, account: AccountId) -> Result<Vec<AuditEvent>, Error> {
        Ok(self.store.audit_events(account).await?)
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    async fn load_flow(&self, id: FlowId) -> Result<Flow, Error> {
        self.store.flow(id).await?.ok_or(Error::FlowNotFound)
    }

    async fn load_account(&self, id: AccountId) -> Result<Account, Error> {
        // An account that vanished under a live flow or session is a stale reference.
        self.store.account(id).await?.ok_or(Error::StaleSession)
    }

    /// Applies a step's changes, then sends its messages, then returns its reply.
    ///
    /// A message carrying a code that cannot be delivered turns into
    /// [`Error::Delivery`] (the change stays committed, a resend retries it); a notice
    /// that cannot be delivered is logged and does not fail the call.
    async fn commit<R>(&self, step: Step<R>, flow: Option<FlowId>) -> Result<R, Error> {
        let Step {
            changes,
            messages,
            decoys,
            reply,
        } = step;
        if !changes.is_empty() {
            log::debug!(
                accounts = changes.accounts.len(),
                flows = changes.flows.len(),
                events = changes.audit.len(),
                "committing a step"
            );
            self.store.apply(changes).await?;
        }
        for message in &messages {
            if let Err(source) = self.sender.send(message).await {
                log::warning!(kind = ?message.kind(), channel = ?message.channel(), "message not delivered");
                if message.code().is_some() {
                    return Err(Error::Delivery { flow, source });
                }
            }
        }
        // A decoy stands in for a code, so its failure reads as a code's failure.
        for decoy in &decoys {
            if let Err(source) = self.sender.discard(decoy).await {
                log::warning!(kind = ?decoy.kind(), channel = ?decoy.channel(), "message not delivered");
                return Err(Error::Delivery { flow, source });
            }
        }
        Ok(reply)
    }
}

/// A fresh OS-seeded generator for one step.
fn rng() -> impl rand::CryptoRng {
    os_rng()
}
