//! Feeds arbitrary UTF-8 to the documents form (the tier upgrade's only free-text input,
//! whose dates do calendar arithmetic): validation never panics, whatever validates
//! holds dates in the past, and an authority code reads back from its display.
//!
//! The input is split at NUL characters into the form's fields, in form order.
//!
//! Run with `cargo +nightly fuzz run documents_form` from the crate root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portal_auth::{AuthorityCode, DocumentRequest};
use time::macros::date;

fuzz_target!(|input: &str| {
    let mut fields = input.split('\0').map(str::to_owned);
    let mut next = || fields.next().unwrap_or_default();
    let request = DocumentRequest {
        snils: next(),
        passport: next(),
        issued_on: next(),
        authority_code: next(),
        birth_date: next(),
        birth_place: next(),
        inn: Some(next()).filter(|inn| !inn.is_empty()),
    };
    let today = date!(2026 - 06 - 01);
    if let Ok(submission) = request.validate(today) {
        assert!(submission.birth_date() < today);
        assert!(submission.issued_on() <= today);
        let shown = submission.authority_code().to_string();
        assert_eq!(
            shown.parse::<AuthorityCode>().ok().as_ref(),
            Some(submission.authority_code())
        );
    }
    // The authority code's parser alone, on the whole input.
    if let Ok(code) = input.parse::<AuthorityCode>() {
        assert_eq!(code.to_string().parse::<AuthorityCode>().ok(), Some(code));
    }
});
