//! Messages to people: what the crate sends, in which language, over which channel,
//! and the [`MessageSender`] trait that delivers them.
//!
//! The crate renders every message itself ([`templates`]) in Russian and English, so a
//! sender only delivers text. Messages are sent after the step that produced them is
//! committed; a failed send never leaves a half-written flow, and the person can ask
//! for a resend.

mod senders;
pub mod templates;

use std::fmt;
use std::future::Future;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::identity::{Email, Phone};
use crate::lang::Lang;
use crate::secret::OneTimeCode;

pub use senders::{ConsoleSender, RecordingSender};

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Channel {
    /// A text message to a mobile phone.
    Sms,
    /// An e-mail.
    Email,
    /// A registered letter.
    Post,
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Recipient {
    /// A mobile phone.
    Phone(Phone),
    /// An e-mail address.
    Email(Email),
    /// A postal address, as the person wrote it.
    Postal(String),
}

impl Recipient {
    /// The channel that reaches this recipient.
    pub fn channel(&self) -> Channel {
        match self {
            Self::Phone(_) => Channel::Sms,
            Self::Email(_) => Channel::Email,
            Self::Postal(_) => Channel::Post,
        }
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Phone(phone) => phone.fmt(f),
            Self::Email(email) => email.fmt(f),
            Self::Postal(address) => f.write_str(address),
        }
    }
}

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessageKind {
    /// The code that confirms a contact during registration.
    RegistrationCode,
    /// Someone tried to register a contact that already belongs to this account.
    RegistrationAttempt,
    /// The second-factor code of a login.
    LoginCode,
    /// The second-factor code that confirms a settings change.
    SettingsCode,
    /// The password was changed.
    PasswordChanged,
    /// Two-factor login was turned on or changed.
    SecondFactorEnabled,
    /// Two-factor login was turned off.
    SecondFactorDisabled,
    /// The account was locked after too many failed logins.
    LockedOut,
    /// The SMS code of an access recovery.
    RecoveryCode,
    /// The e-mail link of an access recovery.
    RecoveryLink,
    /// The code that confirms a new phone or e-mail.
    ContactCode,
    /// A phone or e-mail of the account was replaced (sent to the old one and the
    /// others).
    ContactChanged,
    /// A service-centre operator restored access (sent to every old contact).
    AccessRestoredByOperator,
    /// The registry verified the documents; the account is now standard.
    DocumentsVerified,
    /// The registry rejected the documents.
    DocumentsRejected,
    /// The registered letter with the postal activation code.
    ActivationCode,
    /// The identity was confirmed; the account is now confirmed.
    IdentityConfirmed,
    /// A changed document lowered the account to simplified until it is verified.
    TierLowered,
}

/// A rendered message ready to deliver.
///
/// Its text may carry a one-time code, so `Debug` shows only the kind and the channel;
/// [`Message::expose_text`] is the one way to read the body.
#[derive(Clone)]
pub struct Message {
    kind: MessageKind,
    recipient: Recipient,
    lang: Lang,
    subject: String,
    text: Zeroizing<String>,
    code: Option<OneTimeCode>,
}

impl Message {
    pub(crate) fn new(
        kind: MessageKind,
        recipient: Recipient,
        lang: Lang,
        code: Option<OneTimeCode>,
    ) -> Self {
        let rendered = templates::render(kind, lang, code.as_ref(), None);
        Self {
            kind,
            recipient,
            lang,
            subject: rendered.subject,
            text: rendered.body,
            code,
        }
    }

    /// A message carrying `code`, whose text says it lasts `valid`.
    pub(crate) fn lasting(
        kind: MessageKind,
        recipient: Recipient,
        lang: Lang,
        code: OneTimeCode,
        valid: time::Duration,
    ) -> Self {
        let rendered = templates::render(kind, lang, Some(&code), Some(valid));
        Self {
            kind,
            recipient,
            lang,
            subject: rendered.subject,
            text: rendered.body,
            code: Some(code),
        }
    }

    /// A message whose text carries a link built around `token`, lasting `valid`;
    /// [`Message::code`] returns the token.
    pub(crate) fn with_link(
        kind: MessageKind,
        recipient: Recipient,
        lang: Lang,
        token: OneTimeCode,
        link: &str,
        valid: time::Duration,
    ) -> Self {
        let rendered = templates::render(kind, lang, Some(&OneTimeCode::new(link)), Some(valid));
        Self {
            kind,
            recipient,
            lang,
            subject: rendered.subject,
            text: rendered.body,
            code: Some(token),
        }
    }

    /// What the message is about.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The channel it travels by.
    pub fn channel(&self) -> Channel {
        self.recipient.channel()
    }

    /// Where it goes.
    pub fn recipient(&self) -> &Recipient {
        &self.recipient
    }

    /// The language it is written in.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The subject line (for e-mail and post), never secret.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The body, which may contain a one-time code: pass it to the gateway and
    /// nowhere else.
    pub fn expose_text(&self) -> &str {
        &self.text
    }

    /// The one-time code the message carries, if any (tests and hosts that render
    /// their own templates use it).
    pub fn code(&self) -> Option<&OneTimeCode> {
        self.code.as_ref()
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("kind", &self.kind)
            .field("channel", &self.channel())
            .field("lang", &self.lang)
            .finish_non_exhaustive()
    }
}

/// A gateway failed to take a message.
#[derive(Debug, thiserror::Error)]
#[error("message not sent: {reason}")]
pub struct SendError {
    reason: String,
}

impl SendError {
    /// A failure with a reason that must not contain the message text.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// Delivers rendered messages: an SMS gateway, a mail server, a postal service.
///
/// # Contract
///
/// A message body can hold a live one-time code. An implementation hands the body to
/// its gateway and to nothing else: it never logs it, never puts it in an error, and
/// drops it when done.
pub trait MessageSender: Send + Sync {
    /// Delivers one message.
    fn send(&self, message: &Message) -> impl Future<Output = Result<(), SendError>> + Send;

    /// Stands in for a code that an identifier with no account would have been sent.
    ///
    /// A recovery started with an unknown phone or e-mail, or a registration on a
    /// contact that already has an account, walks the same steps as a real one; where
    /// the real one sends a code, this one calls `discard` once instead, so every path
    /// makes the same number of calls to the sender. There is nobody to deliver to.
    ///
    /// The default does nothing and returns at once, so a sender that delivers inline
    /// makes real contacts measurably slower. A host that cares makes `send` enqueue,
    /// and `discard` do the same amount of work (enqueue a message its worker drops).
    /// An error here is reported to the caller exactly as a failed code delivery is.
    fn discard(&self, decoy: &Decoy) -> impl Future<Output = Result<(), SendError>> + Send {
        let _ = decoy;
        std::future::ready(Ok(()))
    }
}

/// A code message that was not sent because nobody stands behind its recipient: what
/// [`MessageSender::discard`] is given. It holds no recipient and no code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoy {
    kind: MessageKind,
    channel: Channel,
}

impl Decoy {
    pub(crate) fn new(kind: MessageKind, channel: Channel) -> Self {
        Self { kind, channel }
    }

    /// What the real message would have been about.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The channel it would have travelled by.
    pub fn channel(&self) -> Channel {
        self.channel
    }
}

/// A code message for a real recipient, or the stand-in for one nobody receives.
pub(crate) enum Outgoing {
    Message(Message),
    Decoy(Decoy),
}
