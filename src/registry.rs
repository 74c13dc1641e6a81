//! Document registries: who answers whether SNILS and passport details match a person.
//!
//! The host implements [`DocumentRegistry`] over its registry gateway (the Social
//! Fund and Interior Ministry services behind an inter-agency exchange) and passes it
//! to each documents call of the [`Portal`](crate::Portal); the crate ships
//! [`FakeRegistry`] for tests and examples. See [`tiers`](crate::tiers) for where the
//! registry sits on the tier ladder.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::clock::Clock;
use crate::identity::Snils;
use crate::tiers::DocumentSubmission;

/// The registry's handle on a verification it has not finished; kept in the flow and
/// handed back to [`DocumentRegistry::poll`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RegistryTicket(String);

impl RegistryTicket {
    /// A ticket with the registry's text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The ticket's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a registry said about a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryAnswer {
    /// The details match a person.
    Verified,
    /// They do not; `reason` is shown to the person so they can correct the form.
    Rejected {
        /// Why, in words fit to show.
        reason: String,
    },
    /// No answer yet; poll again with the ticket.
    Pending {
        /// The registry's handle.
        ticket: RegistryTicket,
    },
}

/// Why a registry call failed (as opposed to answering "rejected").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The registry could not be reached or failed; try again later.
    #[error("registry unavailable: {0}")]
    Unavailable(String),
    /// The registry does not know the ticket.
    #[error("registry does not know the ticket")]
    UnknownTicket,
}

/// Answers whether SNILS and passport details match a person.
///
/// # Contract
///
/// A submission holds personal data: an implementation sends it to the registry and
/// nowhere else, and never puts it in a log or an error message.
pub trait DocumentRegistry: Send + Sync {
    /// Asks the registry about a submission.
    fn verify(
        &self,
        submission: &DocumentSubmission,
    ) -> impl Future<Output = Result<RegistryAnswer, RegistryError>> + Send;

    /// Asks again about a submission the registry answered "pending".
    fn poll(
        &self,
        ticket: &RegistryTicket,
    ) -> impl Future<Output = Result<RegistryAnswer, RegistryError>> + Send;
}

/// A deterministic registry for tests and examples.
///
/// Every submission is verified unless its SNILS is on the rejection list. With
/// [`FakeRegistry::pending_for`], answers are pending until that long after the
/// submission, measured with the injected clock, and [`DocumentRegistry::poll`] gives
/// the final answer from then on. Tickets are numbered `fake-1`, `fake-2`, ...
///
/// ```
/// use portal_auth::registry::{DocumentRegistry, FakeRegistry, RegistryAnswer};
/// use portal_auth::{DocumentRequest, ManualClock};
/// use time::{Duration, macros::{date, datetime}};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let clock = ManualClock::new(datetime!(2026-06-01 09:00 UTC));
/// let registry = FakeRegistry::new(clock.clone()).pending_for(Duration::minutes(5));
/// let submission = DocumentRequest {
///     snils: "112-233-445 95".into(),
///     passport: "4506 123456".into(),
///     issued_on: "15.03.2011".into(),
///     authority_code: "770-001".into(),
///     birth_date: "01.02.1990".into(),
///     birth_place: "Moscow".into(),
///     inn: None,
/// }
/// .validate(date!(2026 - 06 - 01))?;
///
/// let RegistryAnswer::Pending { ticket } = registry.verify(&submission).await? else {
///     return Err("expected pending".into());
/// };
/// clock.advance(Duration::minutes(5));
/// assert_eq!(registry.poll(&ticket).await?, RegistryAnswer::Verified);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FakeRegistry<C> {
    clock: C,
    rejected: HashMap<Snils, String>,
    unavailable: HashSet<Snils>,
    delay: Duration,
    tickets: Mutex<HashMap<RegistryTicket, Ticketed>>,
    issued: AtomicU64,
}

#[derive(Debug, Clone)]
struct Ticketed {
    ready_at: OffsetDateTime,
    answer: RegistryAnswer,
}

impl<C: Clock> FakeRegistry<C> {
    /// A registry that verifies everything at once.
    pub fn new(clock: C) -> Self {
        Self {
            clock,
            rejected: HashMap::new(),
            unavailable: HashSet::new(),
            delay: Duration::ZERO,
            tickets: Mutex::new(HashMap::new()),
            issued: AtomicU64::new(0),
        }
    }

    /// Rejects submissions with this SNILS, giving `reason`.
    #[must_use]
    pub fn reject(mut self, snils: Snils, reason: impl Into<String>) -> Self {
        self.rejected.insert(snils, reason.into());
        self
    }

    /// Fails with [`RegistryError::Unavailable`] for submissions with this SNILS.
    #[must_use]
    pub fn unavailable_for(mut self, snils: Snils) -> Self {
        self.unavailable.insert(snils);
        self
    }

    /// Answers "pending" for `delay` after each submission.
    #[must_use]
    pub fn pending_for(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    fn tickets(&self) -> std::sync::MutexGuard<'_, HashMap<RegistryTicket, Ticketed>> {
        // The map is only inserted into and read; a panic elsewhere cannot corrupt it.
        self.tickets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn decide(&self, submission: &DocumentSubmission) -> RegistryAnswer {
        match self.rejected.get(submission.snils()) {
            Some(reason) => RegistryAnswer::Rejected {
                reason: reason.clone(),
            },
            None => RegistryAnswer::Verified,
        }
    }
}

impl<C: Clock> DocumentRegistry for FakeRegistry<C> {
    async fn verify(
        &self,
        submission: &DocumentSubmission,
    ) -> Result<RegistryAnswer, RegistryError> {
        if self.unavailable.contains(submission.snils()) {
            return Err(RegistryError::Unavailable("fake outage".to_owned()));
        }
        let answer = self.decide(submission);
        if self.delay <= Duration::ZERO {
            return Ok(answer);
        }
        let number = self.issued.fetch_add(1, Ordering::Relaxed) + 1;
        let ticket = RegistryTicket::new(format!("fake-{number}"));
        let ready_at = self.clock.now() + self.delay;
        self.tickets()
            .insert(ticket.clone(), Ticketed { ready_at, answer });
        Ok(RegistryAnswer::Pending { ticket })
    }

    async fn poll(&self, ticket: &RegistryTicket) -> Result<RegistryAnswer, RegistryError> {
        let Some(ticketed) = self.tickets().get(ticket).cloned() else {
            return Err(RegistryError::UnknownTicket);
        };
        if self.clock.now() < ticketed.ready_at {
            return Ok(RegistryAnswer::Pending {
                ticket: ticket.clone(),
            });
        }
        Ok(ticketed.answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::tiers::DocumentRequest;
    use time::macros::{date, datetime};

    fn submission(snils: &str) -> DocumentSubmission {
        DocumentRequest {
            snils: snils.into(),
            passport: "4506 123456".into(),
            issued_on: "15.03.2011".into(),
            authority_code: "770-001".into(),
            birth_date: "01.02.1990".into(),
            birth_place: "Moscow".into(),
            inn: None,
        }
        .validate(date!(2026 - 06 - 01))
        .unwrap()
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn fake_rejects_only_listed_snils() {
        let clock = ManualClock::new(datetime!(2026-06-01 09:00 UTC));
        let registry = FakeRegistry::new(clock).reject("11223344595".parse().unwrap(), "no match");
        assert_eq!(
            block_on(registry.verify(&submission("11223344595"))),
            Ok(RegistryAnswer::Rejected {
                reason: "no match".into()
            })
        );
        assert_eq!(
            block_on(registry.verify(&submission("123-456-789 64"))),
            Ok(RegistryAnswer::Verified)
        );
    }

    #[test]
    fn fake_stays_pending_until_the_delay_has_passed() {
        let clock = ManualClock::new(datetime!(2026-06-01 09:00 UTC));
        let registry = FakeRegistry::new(clock.clone()).pending_for(Duration::minutes(3));
        let Ok(RegistryAnswer::Pending { ticket }) =
            block_on(registry.verify(&submission("11223344595")))
        else {
            panic!("expected pending");
        };
        clock.advance(Duration::minutes(3) - Duration::SECOND);
        assert!(matches!(
            block_on(registry.poll(&ticket)),
            Ok(RegistryAnswer::Pending { .. })
        ));
        clock.advance(Duration::SECOND);
        assert_eq!(
            block_on(registry.poll(&ticket)),
            Ok(RegistryAnswer::Verified)
        );
    }

    #[test]
    fn fake_refuses_an_unknown_ticket_and_fails_for_listed_outages() {
        let clock = ManualClock::new(datetime!(2026-06-01 09:00 UTC));
        let registry = FakeRegistry::new(clock).unavailable_for("11223344595".parse().unwrap());
        assert_eq!(
            block_on(registry.poll(&RegistryTicket::new("fake-9"))),
            Err(RegistryError::UnknownTicket)
        );
        assert!(matches!(
            block_on(registry.verify(&submission("11223344595"))),
            Err(RegistryError::Unavailable(_))
        ));
    }
}
