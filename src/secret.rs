//! Secret values: passwords, one-time codes, link tokens and security answers.
//!
//! Each type wraps its value so that it cannot be printed by accident: there is no
//! `Display`, `Debug` prints only the type name, and the memory is zeroized on drop.
//! The one way to read the value is the method named `expose_secret`, easy to grep for
//! in a review.
//!
//! ```
//! use portal_auth::Password;
//!
//! let password = Password::new("Hunter2!x");
//! assert_eq!(format!("{password:?}"), "Password(<redacted>)");
//! assert_eq!(password.expose_secret(), "Hunter2!x");
//! ```
//!
//! Printing one with `{}` does not compile, for any of the four types:
//!
//! ```compile_fail,E0277
//! let password = portal_auth::Password::new("Hunter2!x");
//! let _ = format!("{password}");
//! ```
//!
//! ```compile_fail,E0277
//! let code = portal_auth::OneTimeCode::new("042042");
//! let _ = format!("{code}");
//! ```
//!
//! ```compile_fail,E0277
//! let token = portal_auth::LinkToken::new("tok-abc");
//! let _ = format!("{token}");
//! ```
//!
//! ```compile_fail,E0277
//! let answer = portal_auth::Answer::new("Barsik");
//! let _ = format!("{answer}");
//! ```

use std::fmt;

use serde::Deserialize;
use zeroize::Zeroizing;

macro_rules! secret_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// Wraps a value; the original `String` moves in and is zeroized with it.
            pub fn new(value: impl Into<String>) -> Self {
                Self(Zeroizing::new(value.into()))
            }

            /// The secret value itself. Call it only where the value must leave the
            /// crate's control (an SMS body, a hash input), never for logging.
            pub fn expose_secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }
    };
}

secret_string! {
    /// A password as typed, before normalisation.
    Password
}

secret_string! {
    /// A one-time code as typed or as generated: an SMS code, a backup code, a TOTP
    /// code, a postal activation code.
    OneTimeCode
}

secret_string! {
    /// The token carried by an e-mail link.
    LinkToken
}

secret_string! {
    /// The answer to a security question, before normalisation.
    Answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let shown = format!(
            "{:?} {:?} {:?} {:?}",
            Password::new("Hunter2!x"),
            OneTimeCode::new("123456"),
            LinkToken::new("tok-abc"),
            Answer::new("Barsik"),
        );
        for secret in ["Hunter2!x", "123456", "tok-abc", "Barsik"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("Password(<redacted>)"));
    }

    #[test]
    fn expose_secret_returns_the_value() {
        assert_eq!(Password::from("pa55").expose_secret(), "pa55");
        assert_eq!(Answer::from(String::from("x")).expose_secret(), "x");
    }

    #[test]
    fn deserializes_from_a_plain_string() {
        let code: OneTimeCode = serde_json::from_str("\"042042\"").unwrap();
        assert_eq!(code.expose_secret(), "042042");
    }
}
