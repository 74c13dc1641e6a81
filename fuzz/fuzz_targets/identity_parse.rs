//! Feeds arbitrary UTF-8 to every identifier parser; none may panic, and whatever parses
//! must display to a form that parses back to the same value.
//!
//! Run with `cargo +nightly fuzz run identity_parse` from the crate root.
#![no_main]

use std::fmt::{Debug, Display};
use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use portal_auth::{DocumentId, Email, Inn, LoginId, Passport, Phone, Snils};

/// Parses `input` as `T`; a value must display to a form that parses back to itself.
fn check<T>(input: &str)
where
    T: Display + FromStr + PartialEq + Debug,
    T::Err: Display,
{
    match input.parse::<T>() {
        Ok(value) => {
            let shown = value.to_string();
            let reparsed = shown.parse::<T>();
            assert!(
                reparsed.as_ref().is_ok_and(|again| *again == value),
                "{input:?} parsed to {value:?}, displayed as {shown:?}, reparsed as {:?}",
                reparsed.map_err(|e| e.to_string()),
            );
        }
        // Error messages must render for any input too.
        Err(error) => drop(error.to_string()),
    }
}

fuzz_target!(|input: &str| {
    check::<Phone>(input);
    check::<Email>(input);
    check::<Snils>(input);
    check::<Inn>(input);
    check::<Passport>(input);
    check::<LoginId>(input);
    check::<DocumentId>(input);
});
