//! Every file in `events/` is a real API Gateway event; each is fed to its function's handler
//! (parsed by `lambda_http` as in Lambda) and must give its documented status.

use std::path::Path;

use integration_tests::spawn_app;

/// In order: `verify_account.json` confirms the user `sign_up.json` creates.
const ACCOUNT_EVENTS: &[(&str, u16)] = &[
    ("sign_up.json", 201),
    ("sign_up.invalid-fields.json", 400),
    ("verify_account.json", 200),
    ("sign_in.json", 200),
    ("sign_in.wrong-password.json", 401),
    ("sign_in.not-json.json", 415),
    // The emulator has no ResendConfirmationCode: the local stack says so (Cognito: 202).
    ("verify_account.resend-code.json", 501),
    ("password.json", 202),
    ("password.confirm.json", 204),
    ("password.change.json", 401),
    ("respond_to_challenge.json", 401),
    ("mfa.json", 401),
    ("mfa.verify.json", 401),
    ("mfa.preferences.json", 401),
    ("me.update.json", 401),
    // The emulator has no VerifyUserAttribute (Cognito: 401 for this placeholder token).
    ("me.verify-attribute.json", 501),
    ("me.delete.json", 401),
    ("oauth.json", 302),
    ("refresh_tokens.json", 401),
    ("logout.json", 401),
    ("me.json", 401),
    ("me.no-token.json", 401),
    ("list_users.json", 200),
    ("list_users.forbidden.json", 403),
    ("list_users.bad-limit.json", 400),
    ("admin_users.json", 200),
    ("admin_users.forbidden.json", 403),
];

fn events_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../events"))
}

/// `sign_up.invalid-fields.json` belongs to `sign_up`.
fn function_of(file: &str) -> Option<&str> {
    file.split('.').next()
}

#[tokio::test]
async fn every_account_event_file_gets_its_documented_status() {
    let app = spawn_app().await;
    for (file, expected) in ACCOUNT_EVENTS {
        let issuer = auth_contract::config::PoolLocation::derived_issuer(
            local_gateway::seed::REGION,
            &app.stack.pool.user_pool_id,
        );
        let json = std::fs::read_to_string(events_dir().join(file))
            .expect("event file")
            .replace("REPLACE_WITH_POOL_ISSUER", &issuer)
            .replace("REPLACE_WITH_AUTH_TIME", &cognito_jwt::unix_now().to_string());
        let request = lambda_http::request::from_str(&json).unwrap_or_else(|e| panic!("{file}: {e}"));
        let function = function_of(file).unwrap_or_else(|| panic!("{file}: no such function"));
        let response = app.stack.gateway.call(function, request).await;
        assert_eq!(response.status().as_u16(), *expected, "{file}: {:?}", response.body());
        // The answer is one the API contract documents.
        let event: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let body = match response.body() {
            lambda_http::Body::Text(text) => text.clone(),
            lambda_http::Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            _ => String::new(),
        };
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        integration_tests::contract::check(
            event["httpMethod"].as_str().unwrap_or_default(),
            event["path"].as_str().unwrap_or_default(),
            response.status().as_u16(),
            content_type,
            &body,
        )
        .unwrap_or_else(|problem| panic!("{file}: {problem}"));
    }
    app.stop().await;
}

#[test]
fn every_event_file_is_exercised() {
    let mut files: Vec<String> = std::fs::read_dir(events_dir())
        .expect("events/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    let exercised: Vec<&str> = ACCOUNT_EVENTS
        .iter()
        .map(|(f, _)| *f)
        .chain(crate::authorizer_events::AUTHORIZER_EVENTS.iter().map(|(f, _)| *f))
        .chain(crate::trigger_events::TRIGGER_EVENTS.iter().copied())
        .collect();
    for file in &files {
        assert!(exercised.contains(&file.as_str()), "{file} is not fed to any handler");
    }
}
