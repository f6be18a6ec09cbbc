//! The pre token generation trigger on its event file, as Cognito would invoke it.

use aws_lambda_events::event::cognito::CognitoEventUserPoolsPreTokenGenV2;
use token_claims::TokenClaims;

/// The trigger's event files.
pub(crate) const TRIGGER_EVENTS: &[&str] = &["pre_token_generation.json"];

#[test]
fn the_trigger_adds_the_team_and_keeps_the_groups_of_its_event_file() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/pre_token_generation.json"
    ))
    .expect("event file");
    let mut event: CognitoEventUserPoolsPreTokenGenV2 = serde_json::from_str(&text).expect("a V2 event");
    TokenClaims::new(vec!["custom:team".into()], "{}")
        .expect("config")
        .apply(&mut event);
    let answer = serde_json::to_value(&event).expect("JSON");
    let details = &answer["response"]["claimsAndScopeOverrideDetails"];
    assert_eq!(
        details["accessTokenGeneration"]["claimsToAddOrOverride"]["custom:team"],
        "platform"
    );
    assert_eq!(
        details["groupOverrideDetails"]["groupsToOverride"],
        serde_json::json!(["admin"])
    );
}
