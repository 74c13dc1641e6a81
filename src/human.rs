//! Human checks ("I am not a robot"): the captcha a host shows when the crate asks
//! for one.

use std::future::Future;

/// Verifies a captcha token the host collected from the person.
pub trait HumanCheck: Send + Sync {
    /// Whether `token` proves a human is present. An error from the captcha service
    /// counts as a failed check.
    fn verify(&self, token: &str) -> impl Future<Output = bool> + Send;
}

/// Accepts every token, including an empty one: for tests and examples only.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysPass;

impl HumanCheck for AlwaysPass {
    async fn verify(&self, _token: &str) -> bool {
        true
    }
}

/// Refuses every token: for tests of the paths that demand a captcha.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysFail;

impl HumanCheck for AlwaysFail {
    async fn verify(&self, _token: &str) -> bool {
        false
    }
}
