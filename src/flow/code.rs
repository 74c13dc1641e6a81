//! A code sent within a flow: its digest, its tries, and the resend rules.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::config::PortalConfig;
use crate::error::Error;
use crate::otp::{self, CodeKey, CodePolicy, StoredCode};
use crate::secret::OneTimeCode;

use super::FlowId;

/// A live code of a flow and how many codes the flow has sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SentCode {
    stored: StoredCode,
    sends: u8,
    #[serde(with = "time::serde::rfc3339")]
    last_sent_at: OffsetDateTime,
}

/// Binds a code's digest to its flow and step, so it verifies nowhere else.
fn purpose(flow: FlowId, step: &str) -> Vec<u8> {
    let mut purpose = flow.to_bytes().to_vec();
    purpose.extend_from_slice(step.as_bytes());
    purpose
}

impl SentCode {
    /// The first code of a step.
    pub(crate) fn issue(
        key: &CodeKey,
        policy: &CodePolicy,
        flow: FlowId,
        step: &str,
        now: OffsetDateTime,
        rng: &mut impl rand::CryptoRng,
    ) -> (Self, OneTimeCode) {
        let issued = otp::issue(key, policy, &purpose(flow, step), now, rng);
        (
            Self {
                stored: issued.stored,
                sends: 1,
                last_sent_at: now,
            },
            issued.code,
        )
    }

    /// A replacement code, after the cooldown and within the send limit; it inherits
    /// the tries left, so resending never buys more guesses.
    pub(crate) fn resend(
        &mut self,
        config: &PortalConfig,
        policy: &CodePolicy,
        flow: FlowId,
        step: &str,
        now: OffsetDateTime,
        rng: &mut impl rand::CryptoRng,
    ) -> Result<OneTimeCode, Error> {
        if self.stored.tries_left() == 0 {
            return Err(Error::CodeExhausted);
        }
        let ready_at = self.last_sent_at + config.resend_cooldown;
        if now < ready_at {
            return Err(Error::ResendTooSoon {
                retry_after: ready_at - now,
            });
        }
        if self.sends >= config.max_sends {
            return Err(Error::ResendLimit);
        }
        let issued = otp::issue_keeping_tries(
            &self.stored,
            &config.code_key,
            policy,
            &purpose(flow, step),
            now,
            rng,
        );
        self.stored = issued.stored;
        self.sends += 1;
        self.last_sent_at = now;
        Ok(issued.code)
    }

    /// Checks a candidate, spending a try when it is wrong.
    pub(crate) fn verify(
        &mut self,
        key: &CodeKey,
        flow: FlowId,
        step: &str,
        candidate: &OneTimeCode,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        self.stored
            .verify(key, &purpose(flow, step), candidate.expose_secret(), now)
            .map_err(Error::from)
    }

    /// Whether no try is left (the code was used or exhausted).
    pub(crate) fn is_spent(&self) -> bool {
        self.stored.tries_left() == 0
    }
}

/// Sorts a [`SentCode::verify`] outcome by whether the try counted.
///
/// A match uses the code up and a wrong candidate spends a try: both changed the code,
/// and come back as `Ok(outcome)` for the step to write back with its flow. An
/// expired, exhausted or malformed candidate is refused before any comparison and
/// leaves the code as it was: it comes back as the outer `Err`, and the step writes
/// nothing (a rewrite would commit a refusal, and its new version would fail a
/// concurrent good step with a conflict).
pub(crate) fn counted_try(outcome: Result<(), Error>) -> Result<Result<(), Error>, Error> {
    match outcome {
        Ok(()) => Ok(Ok(())),
        Err(error @ Error::WrongCode { .. }) => Ok(Err(error)),
        Err(error) => Err(error),
    }
}
