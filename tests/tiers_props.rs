//! Property tests of the documents form: no input makes validation panic (its dates do
//! arithmetic on what a person typed), and whatever validates survives the store's
//! JSON round trip.

use portal_auth::{AuthorityCode, DocumentRequest, DocumentSubmission, Error};
use proptest::prelude::*;
use time::Date;
use time::macros::date;

const TODAY: Date = date!(2026 - 06 - 01);

/// Dates as people type them, including impossible and far-off ones.
fn date_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,6}",
        "-?[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}",
        any::<String>(),
    ]
}

fn form() -> impl Strategy<Value = DocumentRequest> {
    (
        prop_oneof!["[0-9 -]{0,16}", Just("112-233-445 95".to_owned())],
        prop_oneof!["[0-9 ]{0,12}", Just("4506 123456".to_owned())],
        date_like(),
        prop_oneof!["[0-9-]{0,8}", any::<String>()],
        date_like(),
        any::<String>(),
        proptest::option::of(any::<String>()),
    )
        .prop_map(
            |(snils, passport, issued_on, authority_code, birth_date, birth_place, inn)| {
                DocumentRequest {
                    snils,
                    passport,
                    issued_on,
                    authority_code,
                    birth_date,
                    birth_place,
                    inn,
                }
            },
        )
}

proptest! {
    #[test]
    fn document_form_validation_never_panics(request in form()) {
        match request.validate(TODAY) {
            Ok(submission) => {
                prop_assert!(submission.birth_date() < TODAY);
                prop_assert!(submission.issued_on() <= TODAY);
                prop_assert!(submission.issued_on() > submission.birth_date());
                let json = serde_json::to_string(&submission).unwrap();
                let back: DocumentSubmission = serde_json::from_str(&json).unwrap();
                prop_assert_eq!(back, submission);
            }
            Err(Error::InvalidField { reason, .. }) => prop_assert!(!reason.is_empty()),
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    #[test]
    fn authority_code_parses_only_six_digits_and_round_trips(input in "[0-9-]{0,9}|\\PC{0,9}") {
        if let Ok(code) = input.parse::<AuthorityCode>() {
            let shown = code.to_string();
            prop_assert_eq!(shown.len(), 7);
            prop_assert_eq!(shown.parse::<AuthorityCode>().unwrap(), code);
            let digits: String = input.trim().chars().filter(|c| *c != '-').collect();
            prop_assert_eq!(shown.replace('-', ""), digits);
        }
    }
}
