//! Logging through `tracing` when the feature is on, and nothing when it is off.
//!
//! Log lines carry flow kinds, audit kinds, account ids and error kinds, never a
//! secret: no password, code, token, answer, hash or message body.

macro_rules! debug {
    ($($arg:tt)*) => {{
        #[cfg(feature = "tracing")]
        tracing::debug!($($arg)*);
    }};
}

macro_rules! info {
    ($($arg:tt)*) => {{
        #[cfg(feature = "tracing")]
        tracing::info!($($arg)*);
    }};
}

macro_rules! warning {
    ($($arg:tt)*) => {{
        #[cfg(feature = "tracing")]
        tracing::warn!($($arg)*);
    }};
}

pub(crate) use {debug, info, warning};
