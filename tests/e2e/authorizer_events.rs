//! The authorizer in front of the protected routes, end to end with real tokens from the local
//! Cognito, and every authorizer event file fed to the authorizer handler.

use integration_tests::spawn_app;
use lambda_authorizer::{AuthorizerError, handler};
use serde_json::{Value, json};

/// Each authorizer event file and what the handler answers for it as shipped (with its
/// placeholder token): `Unauthorized`, the error API Gateway turns into a 401.
pub(crate) const AUTHORIZER_EVENTS: &[(&str, &str)] = &[
    ("authorizer.token.json", "Unauthorized"),
    ("authorizer.request.json", "Unauthorized"),
    ("authorizer.request.no-token.json", "Unauthorized"),
    ("authorizer.http-v2.json", "Unauthorized"),
];

fn event(file: &str) -> String {
    std::fs::read_to_string(format!("{}/../events/{file}", env!("CARGO_MANIFEST_DIR"))).expect("event file")
}

#[tokio::test]
async fn authorizer_event_files_as_shipped_and_with_a_real_token() {
    let app = spawn_app().await;
    let deps = app.stack.gateway.authorizer().deps();
    for (file, expected) in AUTHORIZER_EVENTS {
        let value: Value = serde_json::from_str(&event(file)).expect("JSON");
        let answer = handler(deps, value).await;
        assert_eq!(
            answer.as_ref().err().map(ToString::to_string).as_deref(),
            Some(*expected),
            "{file}"
        );
    }

    // With the demo admin's real token each format allows GET /auth/me with its context.
    let demo = app.stack.pool.demo.clone();
    let tokens = app.sign_in(&demo.username, &demo.password).await;
    let token = tokens["accessToken"].as_str().expect("token");
    for file in [
        "authorizer.token.json",
        "authorizer.request.json",
        "authorizer.http-v2.json",
    ] {
        let text = event(file).replace("REPLACE_WITH_ACCESS_TOKEN", token);
        let answer = handler(deps, serde_json::from_str(&text).expect("JSON"))
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let statements = answer["policyDocument"]["Statement"].as_array().expect("statements");
        assert!(
            statements
                .iter()
                .any(|s| s["Effect"] == "Allow" && s["Resource"].to_string().contains("/GET/auth/me")),
            "{file}: {answer}"
        );
        assert_eq!(answer["context"]["username"], demo.username.as_str(), "{file}");
        assert_eq!(answer["context"]["groups"], "admin", "{file}");
        assert!(
            answer["context"]
                .as_object()
                .expect("context")
                .values()
                .all(|v| !v.is_object() && !v.is_array())
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn admins_list_users_and_members_are_denied_even_with_a_cached_policy() {
    let app = spawn_app().await;
    let demo = app.stack.pool.demo.clone();
    let admin = app.sign_in(&demo.username, &demo.password).await;
    let admin_token = admin["accessToken"].as_str().expect("token").to_owned();

    let users = app.get_with_token("/admin/users?limit=10", &admin_token).await;
    assert_eq!(users.status, 200, "{}", users.raw);
    let listed = users.body["users"].as_array().expect("users");
    let demo_entry = listed
        .iter()
        .find(|u| u["username"] == demo.username.as_str())
        .expect("demo user listed");
    assert_eq!(demo_entry["groups"], json!(["admin"]));
    assert_eq!(demo_entry["email"], demo.email.as_str());

    // A newly signed-up member: /auth/me is allowed, and the policy cached for that token
    // still denies /admin/users.
    let password = "Member-Passw0rd";
    let signed_up = app
        .post_json(
            "/auth/sign-up",
            &json!({"username": "mallory", "password": password, "email": "m@example.com"}),
        )
        .await;
    assert_eq!(signed_up.status, 201, "{}", signed_up.raw);
    let verified = app
        .post_json(
            "/auth/verify-account",
            &json!({"username": "mallory", "code": "000000"}),
        )
        .await;
    assert_eq!(verified.status, 200);
    let member = app.sign_in("mallory", password).await;
    let member_token = member["accessToken"].as_str().expect("token");
    let me = app.get_with_token("/auth/me", member_token).await;
    assert_eq!(me.status, 200, "{}", me.raw);
    let denied = app.get_with_token("/admin/users", member_token).await;
    assert_eq!(
        (denied.status.as_u16(), denied.code()),
        (403, "Forbidden"),
        "{}",
        denied.raw
    );
    assert_eq!(denied.content_type(), "application/problem+json");
    app.stop().await;
}

#[tokio::test]
async fn bad_tokens_are_stopped_by_the_authorizer() {
    let app = spawn_app().await;
    let demo = app.stack.pool.demo.clone();
    let tokens = app.sign_in(&demo.username, &demo.password).await;
    let token = tokens["accessToken"].as_str().expect("token");
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    // Flip the last signature character: same shape, wrong signature.
    let last = parts[2].pop().expect("signature");
    parts[2].push(if last == 'A' { 'B' } else { 'A' });
    let tampered = parts.join(".");
    let id_token = tokens["idToken"].as_str().expect("id token");
    for bad in [tampered.as_str(), id_token, "not.a.jwt", "x"] {
        let response = app.get_with_token("/admin/users", bad).await;
        assert_eq!(
            (response.status.as_u16(), response.code()),
            (401, "Unauthorized"),
            "{}",
            response.raw
        );
        assert_eq!(response.headers["www-authenticate"], "Bearer");
    }
    // The authorizer error is what the handler returns for the same token.
    let event = json!({"type": "TOKEN", "authorizationToken": format!("Bearer {tampered}"),
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:local/local/GET/admin/users"});
    let answer = handler(app.stack.gateway.authorizer().deps(), event).await;
    assert_eq!(answer.err(), Some(AuthorizerError::Unauthorized));
    app.stop().await;
}
