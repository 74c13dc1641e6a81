//! The languages the crate speaks to people in.

use serde::{Deserialize, Serialize};

/// A language for messages and policy explanations shown to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Lang {
    /// Russian, the portal's language and the default.
    #[default]
    Ru,
    /// English.
    En,
}
