//! Random identifiers for accounts and flows.
//!
//! Identifiers are 128 random bits from the OS CSPRNG, written as 32 lowercase hex
//! digits. Random rather than sequential ids reveal nothing about how many accounts or
//! flows exist, and several app instances can mint them without coordinating.

macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 16]);

        impl $name {
            /// A fresh identifier drawn from `rng`.
            pub fn random(rng: &mut impl rand::CryptoRng) -> Self {
                let mut bytes = [0u8; 16];
                rng.fill_bytes(&mut bytes);
                Self(bytes)
            }

            /// The identifier's 16 bytes.
            pub fn to_bytes(self) -> [u8; 16] {
                self.0
            }

            /// The identifier made of these 16 bytes.
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                for byte in self.0 {
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::ids::IdParseError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                let text = text.as_bytes();
                if text.len() != 32 {
                    return Err(crate::ids::IdParseError { what: $what });
                }
                let mut bytes = [0u8; 16];
                for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
                    let high = crate::ids::hex_value(pair[0]);
                    let low = crate::ids::hex_value(pair[1]);
                    match (high, low) {
                        (Some(high), Some(low)) => *byte = high << 4 | low,
                        _ => return Err(crate::ids::IdParseError { what: $what }),
                    }
                }
                Ok(Self(bytes))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use random_id;

/// An identifier that is not 32 hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {what} id: expected 32 hex digits")]
pub struct IdParseError {
    pub(crate) what: &'static str,
}

pub(crate) fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}
