//! Property tests of the identifiers: every valid value survives `Display` → `FromStr` and
//! a JSON round trip unchanged, and no string whatever makes a parser panic.

use std::fmt::{Debug, Display};
use std::str::FromStr;

use portal_auth::{
    DocumentId, Email, Inn, InnKind, LoginId, LoginIdError, LoginIdKind, Passport, Phone, Snils,
};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Asserts that `value` displays to a string that parses and deserialises back to itself.
fn assert_round_trips<T>(value: &T)
where
    T: Display + FromStr + Serialize + DeserializeOwned + PartialEq + Debug,
    T::Err: Debug,
{
    let shown = value.to_string();
    let reparsed: T = shown.parse().expect("display form parses");
    assert_eq!(&reparsed, value, "display form {shown:?}");

    let json = serde_json::to_string(value).expect("serialises");
    assert_eq!(
        json,
        serde_json::to_string(&shown).expect("string serialises")
    );
    let deserialised: T = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(&deserialised, value, "json {json}");
}

/// The SNILS check number of nine digits, written out independently of the crate.
fn snils_check(nine: &[u32]) -> u32 {
    let sum: u32 = nine.iter().zip((1..=9).rev()).map(|(d, w)| d * w).sum();
    match sum {
        0..=99 => sum,
        100 | 101 => 0,
        _ => {
            let remainder = sum % 101;
            if remainder == 100 { 0 } else { remainder }
        }
    }
}

fn inn_check(digits: &[u32], weights: &[u32]) -> u32 {
    digits.iter().zip(weights).map(|(d, w)| d * w).sum::<u32>() % 11 % 10
}

fn joined(digits: &[u32]) -> String {
    digits.iter().map(u32::to_string).collect()
}

fn digits(n: usize) -> impl Strategy<Value = Vec<u32>> {
    proptest::collection::vec(0..10u32, n)
}

/// Valid SNILS above the unchecked range, with their check number computed.
fn valid_snils() -> impl Strategy<Value = String> {
    digits(9)
        .prop_filter("checked range", |nine| joined(nine).as_str() > "001001998")
        .prop_map(|nine| format!("{}{:02}", joined(&nine), snils_check(&nine)))
}

/// Valid INNs of both kinds, not all zeros.
fn valid_inn() -> impl Strategy<Value = String> {
    let legal = digits(9).prop_map(|nine| {
        let check = inn_check(&nine, &[2, 4, 10, 3, 5, 9, 4, 6, 8]);
        format!("{}{check}", joined(&nine))
    });
    let personal = digits(10).prop_map(|mut ten| {
        let first = inn_check(&ten, &[7, 2, 4, 10, 3, 5, 9, 4, 6, 8]);
        ten.push(first);
        let second = inn_check(&ten, &[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]);
        format!("{}{second}", joined(&ten))
    });
    prop_oneof![legal, personal].prop_filter("not all zeros", |s| s.bytes().any(|b| b != b'0'))
}

/// Russian mobile numbers, typed in one of the accepted ways.
fn typed_phone() -> impl Strategy<Value = (String, String)> {
    (digits(9), 0..5usize).prop_map(|(rest, style)| {
        let national = format!("9{}", joined(&rest));
        let (a, b, c, d) = (
            &national[..3],
            &national[3..6],
            &national[6..8],
            &national[8..],
        );
        let typed = match style {
            0 => format!("+7 {a} {b}-{c}-{d}"),
            1 => format!("8 ({a}) {b} {c} {d}"),
            2 => format!("7{national}"),
            3 => national.clone(),
            _ => format!("8.{a}.{b}.{c}.{d}"),
        };
        (typed, format!("+7{national}"))
    })
}

fn valid_email() -> impl Strategy<Value = String> {
    (
        "[A-Za-z0-9][A-Za-z0-9._%+-]{0,20}[A-Za-z0-9]",
        "[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?",
        "[A-Za-z]{2,6}",
    )
        .prop_filter("no double dots", |(local, _, _)| !local.contains(".."))
        .prop_map(|(local, host, tld)| format!("{local}@{host}.{tld}"))
}

fn valid_passport() -> impl Strategy<Value = String> {
    (digits(4), digits(6))
        .prop_filter("number not zero", |(_, number)| {
            number.iter().any(|&d| d != 0)
        })
        .prop_map(|(series, number)| format!("{}{}", joined(&series), joined(&number)))
}

proptest! {
    #[test]
    fn phone_parses_to_e164_and_round_trips((typed, e164) in typed_phone()) {
        let phone: Phone = typed.parse().unwrap();
        prop_assert_eq!(phone.as_e164(), e164.as_str());
        prop_assert_eq!(phone.digits(), &e164[1..]);
        assert_round_trips(&phone);
    }

    #[test]
    fn email_round_trips_with_lowercase_domain(typed in valid_email()) {
        let email: Email = typed.parse().unwrap();
        let (local, domain) = typed.rsplit_once('@').unwrap();
        prop_assert_eq!(email.local_part(), local);
        prop_assert_eq!(email.domain(), domain.to_lowercase());
        assert_round_trips(&email);
    }

    #[test]
    fn snils_with_computed_check_number_round_trips(number in valid_snils()) {
        let snils: Snils = number.parse().unwrap();
        prop_assert_eq!(snils.digits(), number.as_str());
        assert_round_trips(&snils);
    }

    #[test]
    fn snils_with_another_check_number_is_refused(number in valid_snils(), other in 0..100u32) {
        let (nine, check) = number.split_at(9);
        prop_assume!(check.parse::<u32>().unwrap() != other);
        let corrupted = format!("{nine}{other:02}");
        prop_assert!(corrupted.parse::<Snils>().is_err(), "{} accepted", corrupted);
    }

    #[test]
    fn inn_with_computed_check_digits_round_trips(number in valid_inn()) {
        let inn: Inn = number.parse().unwrap();
        let kind = if number.len() == 12 { InnKind::Personal } else { InnKind::LegalEntity };
        prop_assert_eq!(inn.kind(), kind);
        assert_round_trips(&inn);
    }

    #[test]
    fn passport_round_trips(number in valid_passport()) {
        let passport: Passport = number.parse().unwrap();
        prop_assert_eq!(format!("{}{}", passport.series(), passport.number()), number);
        assert_round_trips(&passport);
    }

    #[test]
    fn every_login_kind_round_trips(
        (typed, _) in typed_phone(),
        email in valid_email(),
        snils in valid_snils(),
    ) {
        let phone = LoginId::Phone(typed.parse().unwrap());
        let email = LoginId::Email(email.parse().unwrap());
        let snils = LoginId::Snils(snils.parse().unwrap());
        for id in [phone, email, snils] {
            assert_round_trips(&id);
        }
    }

    #[test]
    fn bare_digits_never_resolve_to_a_kind_they_are_not(number in valid_snils()) {
        match number.parse::<LoginId>() {
            Ok(id) => prop_assert_eq!(id.kind(), LoginIdKind::Snils),
            Err(LoginIdError::Ambiguous { snils, .. }) => {
                prop_assert_eq!(snils.digits(), number.as_str());
            }
            Err(other) => prop_assert!(false, "valid snils refused: {other}"),
        }
    }

    #[test]
    fn every_document_kind_round_trips(
        snils in valid_snils(),
        inn in valid_inn(),
        passport in valid_passport(),
    ) {
        for doc in [
            DocumentId::Snils(snils.parse().unwrap()),
            DocumentId::Inn(inn.parse().unwrap()),
            DocumentId::Passport(passport.parse().unwrap()),
        ] {
            assert_round_trips(&doc);
        }
    }

    #[test]
    fn arbitrary_strings_never_panic_any_parser(input in any::<String>()) {
        check_no_panic(&input);
    }

    #[test]
    fn number_like_strings_never_panic_any_parser(input in "[+0-9 ()@.\\-№]{0,30}") {
        check_no_panic(&input);
    }
}

/// Runs every parser on `input`; a parsed value must also be stable through `Display`.
fn check_no_panic(input: &str) {
    fn stable<T>(input: &str)
    where
        T: Display + FromStr + PartialEq + Debug,
        T::Err: Display,
    {
        if let Ok(value) = input.parse::<T>() {
            let again = value.to_string().parse::<T>().ok();
            assert_eq!(again.as_ref(), Some(&value), "unstable for {input:?}");
        } else if let Err(error) = input.parse::<T>() {
            // Messages render without panicking too.
            let _ = error.to_string();
        }
    }

    stable::<Phone>(input);
    stable::<Email>(input);
    stable::<Snils>(input);
    stable::<Inn>(input);
    stable::<Passport>(input);
    stable::<LoginId>(input);
    stable::<DocumentId>(input);
}
