//! Rate limits and lockout over failure counters.
//!
//! Failures are counted per account (across all its login ids) and per client key.
//! For a login id with no account the count is kept under a keyed digest of the id,
//! so an unknown account walks the same captcha, delay and lock thresholds as a real
//! one and the replies cannot tell them apart.

use time::{Duration, OffsetDateTime};

use crate::error::Error;
use crate::store::Counter;

/// The thresholds applied to consecutive failures (NIST SP 800-63B 5.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures after which a captcha is required (default 3).
    pub captcha_after: u32,
    /// Failures after which each attempt must wait a growing delay (default 5).
    pub delay_after: u32,
    /// The first delay; it doubles with each further failure (default 1 s).
    pub base_delay: Duration,
    /// The longest delay (default 15 minutes).
    pub max_delay: Duration,
    /// Consecutive failures that lock the account until it is recovered (default 100).
    ///
    /// The lock outlives the failure count's window: it is held until a recovery or a
    /// service-centre operator lifts it. An unknown login id locks the same way.
    pub lock_after: u32,
    /// How long an account's failure count lives without a success (default 30 days).
    pub account_window: Duration,
    /// How long a client key's failure count lives (default 1 hour).
    pub client_window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            captcha_after: 3,
            delay_after: 5,
            base_delay: Duration::seconds(1),
            max_delay: Duration::minutes(15),
            lock_after: 100,
            account_window: Duration::days(30),
            client_window: Duration::hours(1),
        }
    }
}

/// At most `max` of something costly per account in each `window` (an SMS, a
/// registered letter, a registry request). The window starts with the first one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// How many the window allows.
    pub max: u32,
    /// How long the window lasts from its first use.
    pub window: Duration,
}

impl Limit {
    /// `max` in each `window`.
    pub const fn new(max: u32, window: Duration) -> Self {
        Self { max, window }
    }

    /// Refuses one more past the limit, with the time until the window ends.
    pub(crate) fn check(&self, counter: Option<Counter>, now: OffsetDateTime) -> Result<(), Error> {
        match counter {
            Some(counter) if counter.count >= self.max => Err(Error::Throttled {
                retry_after: counter.expires_at - now,
            }),
            _ => Ok(()),
        }
    }
}

/// The live counters of one attempt: the subject's (an account or an unknown login
/// id) failures, the client key's, and whether the subject's lock is held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Failures {
    pub(crate) subject: Option<Counter>,
    pub(crate) client: Option<Counter>,
    pub(crate) locked: bool,
}

/// What the counters allow for the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// The attempt may proceed; a captcha must come with it when `captcha` is set.
    Open { captcha: bool },
    /// Too soon after the last failure.
    Wait { retry_after: Duration },
    /// The account is locked.
    Locked,
}

impl ThrottlePolicy {
    /// The delay owed after `failures` consecutive failures.
    pub fn delay_for(&self, failures: u32) -> Duration {
        if failures < self.delay_after {
            return Duration::ZERO;
        }
        let doublings = (failures - self.delay_after).min(30);
        let delay = self.base_delay * 2_i32.saturating_pow(doublings);
        delay.min(self.max_delay)
    }

    /// Decides whether an attempt may go ahead given the account's and the client's
    /// live failure counters, and whether a lock is held.
    pub(crate) fn gate(&self, failures: &Failures, now: OffsetDateTime) -> Gate {
        let Failures {
            subject: account,
            client,
            locked,
        } = *failures;
        let account_failures = account.map_or(0, |c| c.count);
        if locked || account_failures >= self.lock_after {
            return Gate::Locked;
        }
        let mut retry_after = Duration::ZERO;
        for counter in [account, client].into_iter().flatten() {
            let ready_at = counter.last_at + self.delay_for(counter.count);
            retry_after = retry_after.max(ready_at - now);
        }
        if retry_after > Duration::ZERO {
            return Gate::Wait { retry_after };
        }
        let most = account_failures.max(client.map_or(0, |c| c.count));
        Gate::Open {
            captcha: most >= self.captcha_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-05-01 10:00 UTC);

    fn failures(count: u32, seconds_ago: i64) -> Option<Counter> {
        let counter = Counter {
            count,
            last_at: NOW - Duration::seconds(seconds_ago),
            expires_at: NOW + Duration::days(1),
        };
        Some(counter).filter(|c| c.count > 0)
    }

    fn seen(subject: Option<Counter>, client: Option<Counter>) -> Failures {
        Failures {
            subject,
            client,
            locked: false,
        }
    }

    #[test]
    fn captcha_is_required_from_the_third_failure() {
        let policy = ThrottlePolicy::default();
        assert_eq!(
            policy.gate(&seen(failures(2, 0), None), NOW),
            Gate::Open { captcha: false }
        );
        assert_eq!(
            policy.gate(&seen(failures(3, 0), None), NOW),
            Gate::Open { captcha: true }
        );
        assert_eq!(
            policy.gate(&seen(None, failures(3, 0)), NOW),
            Gate::Open { captcha: true }
        );
    }

    #[test]
    fn delay_starts_at_five_failures_and_doubles_up_to_the_cap() {
        let policy = ThrottlePolicy::default();
        assert_eq!(policy.delay_for(4), Duration::ZERO);
        assert_eq!(policy.delay_for(5), Duration::seconds(1));
        assert_eq!(policy.delay_for(6), Duration::seconds(2));
        assert_eq!(policy.delay_for(9), Duration::seconds(16));
        assert_eq!(policy.delay_for(99), Duration::minutes(15));
        assert_eq!(
            policy.gate(&seen(failures(6, 1), None), NOW),
            Gate::Wait {
                retry_after: Duration::seconds(1)
            }
        );
        assert_eq!(
            policy.gate(&seen(failures(6, 2), None), NOW),
            Gate::Open { captcha: true }
        );
    }

    #[test]
    fn account_locks_at_one_hundred_failures_but_a_client_count_never_locks() {
        let policy = ThrottlePolicy::default();
        assert_eq!(
            policy.gate(&seen(failures(100, 3600), None), NOW),
            Gate::Locked
        );
        assert!(matches!(
            policy.gate(&seen(failures(99, 3600), None), NOW),
            Gate::Open { .. }
        ));
        assert!(matches!(
            policy.gate(&seen(None, failures(500, 3600)), NOW),
            Gate::Open { .. }
        ));
    }

    #[test]
    fn a_held_lock_refuses_whatever_the_counts_say() {
        let policy = ThrottlePolicy::default();
        let locked = Failures {
            locked: true,
            ..Failures::default()
        };
        assert_eq!(policy.gate(&locked, NOW), Gate::Locked);
    }
}
