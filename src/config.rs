//! Everything a [`Portal`](crate::Portal) can be tuned with, and the defaults.

use time::Duration;

use crate::flow::recovery::RecoveryPolicy;
use crate::lang::Lang;
use crate::otp::{CodeKey, CodePolicy};
use crate::password::{HasherConfig, PasswordPolicy};
use crate::throttle::{Limit, ThrottlePolicy};

/// The portal's settings. [`PortalConfig::new`] gives the documented defaults; change
/// a field to tune it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PortalConfig {
    /// The server key under which one-time codes are stored (HMAC-SHA256). Keep it in
    /// the host's secret store; rotating it voids every live code.
    pub code_key: CodeKey,
    /// Argon2id parameters, ceiling, pool size and pepper.
    pub hasher: HasherConfig,
    /// The rules a new password must pass.
    pub password_policy: PasswordPolicy,
    /// Captcha, delay and lockout thresholds.
    pub throttle: ThrottlePolicy,
    /// Codes sent by SMS (default 6 digits, 5 minutes, 3 tries).
    pub sms_code: CodePolicy,
    /// Codes sent by e-mail (default 6 digits, 15 minutes, 3 tries).
    pub email_code: CodePolicy,
    /// The least time between two codes of one flow (default 60 s).
    pub resend_cooldown: Duration,
    /// The most codes one flow sends, the first included (default 5).
    pub max_sends: u8,
    /// How long a registration may take from start to password (default 1 hour).
    pub registration_ttl: Duration,
    /// How long the second step of a login may take (default 10 minutes).
    pub second_factor_ttl: Duration,
    /// How long an authenticator enrolment may take (default 10 minutes).
    pub enrolment_ttl: Duration,
    /// Recovery links sent by e-mail (default 128-bit token, 1 hour, single use).
    pub recovery_link: CodePolicy,
    /// The page recovery links open; the crate appends `?flow=…&token=…`. Set it to
    /// your host's page (default `https://portal.invalid/recover`).
    pub recovery_link_base: String,
    /// How long a recovery may take from start to new password (default 30 minutes).
    pub recovery_ttl: Duration,
    /// What each tier must prove to recover access.
    pub recovery: RecoveryPolicy,
    /// How long a contact change may take (default 15 minutes).
    pub contact_change_ttl: Duration,
    /// How long an operator's case stays open after the documents were checked
    /// (default 1 hour): the person is at the desk meanwhile.
    pub operator_case_ttl: Duration,
    /// How long a password issued by an operator stays valid (default 24 hours).
    pub temporary_password_ttl: Duration,
    /// The issuer name an authenticator app shows (default `portal-auth`).
    pub totp_issuer: String,
    /// The language of messages when the person chose none (default Russian).
    pub lang: Lang,
    /// Postal activation codes (default 10 characters, 30 days, 3 tries).
    pub activation_code: CodePolicy,
    /// The most document submissions one account makes in 24 hours (default 5): each
    /// is a registry request, and a rejected person corrects and resubmits.
    pub document_submissions_per_day: u32,
    /// The most postal activation letters one account asks for (default 3 in 30 days):
    /// each is a registered letter someone pays for.
    pub activation_letters: Limit,
    /// The most settings codes one account is sent by SMS (default 5 an hour): each is
    /// an SMS someone pays for, and a session alone can ask for one.
    pub settings_codes: Limit,
    /// How long a pending or rejected verification is kept for polling and for the
    /// status query (default 30 days).
    pub verification_ttl: Duration,
}

impl PortalConfig {
    /// The defaults, with the given server key for codes.
    pub fn new(code_key: CodeKey) -> Self {
        Self {
            code_key,
            hasher: HasherConfig::default(),
            password_policy: PasswordPolicy::portal(),
            throttle: ThrottlePolicy::default(),
            sms_code: CodePolicy::sms(),
            email_code: CodePolicy::email_code(),
            resend_cooldown: Duration::seconds(60),
            max_sends: 5,
            registration_ttl: Duration::hours(1),
            second_factor_ttl: Duration::minutes(10),
            enrolment_ttl: Duration::minutes(10),
            recovery_link: CodePolicy::email_link(),
            recovery_link_base: "https://portal.invalid/recover".to_owned(),
            recovery_ttl: Duration::minutes(30),
            recovery: RecoveryPolicy::default(),
            contact_change_ttl: Duration::minutes(15),
            operator_case_ttl: Duration::hours(1),
            temporary_password_ttl: Duration::hours(24),
            totp_issuer: "portal-auth".to_owned(),
            lang: Lang::Ru,
            activation_code: CodePolicy::postal(),
            document_submissions_per_day: 5,
            activation_letters: Limit::new(3, Duration::days(30)),
            settings_codes: Limit::new(5, Duration::hours(1)),
            verification_ttl: Duration::days(30),
        }
    }
}
