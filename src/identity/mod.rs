//! The portal's domain identifiers: what a person types to name themselves or a document.
//!
//! Every type here is parsed once, at the edge, into a canonical form, and is impossible to
//! build otherwise: a [`Phone`] is always a Russian mobile number in E.164, a [`Snils`]
//! always carries a valid check number. Each type
//!
//! - parses with [`FromStr`](std::str::FromStr), accepting the ways people really type it,
//!   and refusing with a typed error that names the problem;
//! - displays its canonical form, which parses back to the same value;
//! - serialises with `serde` as that canonical string, and deserialises through `FromStr`,
//!   so stored or transmitted data that is invalid is refused rather than trusted.
//!
//! None of these values is a secret: they have a plain `Debug`. Where a value is shown to a
//! person who may not own it (a code was sent to…), use the `masked()` forms.
//!
//! [`LoginId`] reads the portal's single login field (phone, e-mail or SNILS);
//! [`DocumentId`] reads the document a person gives to start recovery (SNILS, INN or
//! passport).

mod email;
mod inn;
mod login;
mod passport;
mod phone;
mod snils;

pub use email::{Email, EmailError};
pub use inn::{Inn, InnError, InnKind};
pub use login::{DocumentId, DocumentIdError, LoginId, LoginIdError, LoginIdKind};
pub use passport::{Passport, PassportError};
pub use phone::{Phone, PhoneError};
pub use snils::{Snils, SnilsError};

/// Implements `Serialize` as the `Display` string and `Deserialize` through `FromStr`, so
/// that a value read from storage or the wire passes the same checks as typed input.
macro_rules! serde_as_canonical_string {
    ($ty:ty, $expecting:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct CanonicalVisitor;

                impl serde::de::Visitor<'_> for CanonicalVisitor {
                    type Value = $ty;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                }

                deserializer.deserialize_str(CanonicalVisitor)
            }
        }
    };
}

pub(crate) use serde_as_canonical_string;

/// Splits `input` into its runs of ASCII digits, ignoring everything between them.
///
/// Used to read the *shape* of a number as typed (`112-233-445 95` is 3, 3, 3, 2).
fn digit_groups(input: &str) -> Vec<&str> {
    input
        .split(|c: char| !c.is_ascii_digit())
        .filter(|group| !group.is_empty())
        .collect()
}

/// The lengths of the digit runs of `input`.
fn group_lengths(input: &str) -> Vec<usize> {
    digit_groups(input)
        .iter()
        .map(|group| group.len())
        .collect()
}

/// Turns ASCII digits into their values; the callers have checked that they are digits.
fn digit_values(digits: &str) -> impl Iterator<Item = u32> + '_ {
    digits.bytes().map(|b| u32::from(b.wrapping_sub(b'0')))
}
