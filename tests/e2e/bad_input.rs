//! No request body can make a function answer 500: every bad input is a documented 4xx
//! problem+json.

use http::Method;
use integration_tests::{TestApp, TestResponse, spawn_app};
use local_gateway::routes::Route;
use serde_json::json;

/// Every public POST route of the account functions, from the template (the one list of
/// routes); the OAuth routes' own bad input is `oauth.rs`'s.
fn public_posts(app: &TestApp) -> Vec<String> {
    let posts: Vec<String> = app
        .stack
        .api
        .routes
        .iter()
        .filter(|r| !r.protected && r.method == Method::POST && account_api::FUNCTIONS.contains(&r.function.as_str()))
        .map(|r| r.path.as_str().to_owned())
        .collect();
    assert!(posts.iter().any(|p| p == "/auth/sign-in"), "{posts:?}");
    posts
}

/// The template's protected routes that `keep` keeps, a sample value in each path parameter.
fn protected_routes(app: &TestApp, keep: impl Fn(&Route) -> bool) -> Vec<(Method, String)> {
    app.stack
        .api
        .routes
        .iter()
        .filter(|r| r.protected && keep(r))
        .map(|r| (r.method.clone(), sampled(r.path.as_str())))
        .collect()
}

/// The protected routes that require a JSON body, as the OpenAPI document says.
fn protected_with_body(app: &TestApp) -> Vec<(Method, String)> {
    let document = integration_tests::contract::document();
    let routes = protected_routes(app, |r| {
        let operation = &document["paths"][r.path.as_str()][r.method.as_str().to_ascii_lowercase()];
        operation["requestBody"]["required"].as_bool() == Some(true)
    });
    assert!(
        routes.iter().any(|(m, p)| *m == Method::PUT && p == "/auth/mfa"),
        "{routes:?}"
    );
    routes
}

/// Every protected route of the template.
fn protected(app: &TestApp) -> Vec<(Method, String)> {
    let routes = protected_routes(app, |_| true);
    assert!(
        routes.iter().any(|(_, p)| p == "/admin/users/sample/groups/sample"),
        "{routes:?}"
    );
    routes
}

/// A route's path with a sample value in each parameter.
fn sampled(path: &str) -> String {
    path.split('/')
        .map(|segment| if segment.starts_with('{') { "sample" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

const MALFORMED: [&[u8]; 8] = [
    b"{",
    b"[]",
    b"\"text\"",
    b"42",
    b"null",
    b"{\"a\":1,}",
    b"",
    &[0xff, 0xfe, 0x00, 0x7b],
];

fn assert_problem(response: &TestResponse, status: u16, code: &str, what: &str) {
    assert_eq!(
        (response.status.as_u16(), response.code()),
        (status, code),
        "{what}: {}",
        response.raw
    );
    assert_eq!(response.content_type(), "application/problem+json", "{what}");
    assert_eq!(response.body["status"], status, "{what}");
    assert!(
        response.body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("/problems/")),
        "{what}"
    );
}

/// The `source` of every error of a validation problem, sorted.
fn error_sources(response: &TestResponse) -> Vec<String> {
    let mut sources: Vec<String> = response.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["source"].as_str().unwrap_or_default().to_owned())
        .collect();
    sources.sort();
    sources
}

async fn post_raw(app: &TestApp, path: &str, content_type: Option<&str>, body: Vec<u8>) -> TestResponse {
    let headers: Vec<(&str, &str)> = content_type.map(|ct| vec![("content-type", ct)]).unwrap_or_default();
    app.send(Method::POST, path, &headers, body).await
}

#[tokio::test]
async fn malformed_bodies_are_400_on_every_public_route() {
    let app = spawn_app().await;
    for path in public_posts(&app) {
        let path = path.as_str();
        for body in MALFORMED {
            let response = post_raw(&app, path, Some("application/json"), body.to_vec()).await;
            assert_problem(&response, 400, "ValidationFailed", &format!("{path} {body:?}"));
            assert_eq!(response.body["errors"][0]["source"], "body", "{path} {body:?}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn wrong_types_and_missing_fields_get_one_error_per_field() {
    let app = spawn_app().await;
    let cases = [
        (
            "/auth/sign-up",
            json!({"username": 1, "password": ["x"], "attributes": "name"}),
            vec!["attributes", "email", "password", "username"],
        ),
        (
            "/auth/sign-up",
            json!({"username": "ok", "password": "Correct-Horse-1", "email": "ok@example.com", "attributes": {"custom:team": "red", "name": 7}}),
            vec!["attributes.custom:team", "attributes.name"],
        ),
        (
            "/auth/verify-account",
            json!({"username": true}),
            vec!["code", "username"],
        ),
        (
            "/auth/sign-in",
            json!({"username": "x".repeat(129), "password": "x".repeat(257), "extra": 1}),
            vec!["extra", "password", "username"],
        ),
        (
            "/auth/refresh",
            json!({"refreshToken": "", "username": "a b"}),
            vec!["refreshToken", "username"],
        ),
        (
            "/auth/refresh",
            json!({"refreshToken": "x".repeat(8193)}),
            vec!["refreshToken"],
        ),
        (
            "/auth/resend-code",
            json!({"username": ["ada"], "email": "x"}),
            vec!["email", "username"],
        ),
        // An optional field sent as null is refused, not read as absent (the document types it).
        (
            "/auth/sign-in",
            json!({"username": "ada", "password": null, "method": null}),
            vec!["method", "password"],
        ),
        (
            "/auth/verify-account",
            json!({"username": "ada", "code": "123456", "session": null}),
            vec!["session"],
        ),
        ("/auth/forgot-password", json!({}), vec!["username"]),
        (
            "/auth/confirm-forgot-password",
            json!({"username": "ada", "code": "12 34", "newPassword": " padded "}),
            vec!["code", "newPassword"],
        ),
        (
            "/auth/respond-to-challenge",
            json!({"challengeName": "CUSTOM_CHALLENGE", "session": "short", "username": 7, "responses": []}),
            vec!["challengeName", "responses", "session", "username"],
        ),
        (
            "/auth/respond-to-challenge",
            json!({"challengeName": "SOFTWARE_TOKEN_MFA", "session": "s".repeat(40), "username": "ada",
                   "responses": {"SOFTWARE_TOKEN_MFA_CODE": 123456, "USERNAME": "eve", "SECRET_HASH": "x"}}),
            vec![
                "responses.SECRET_HASH",
                "responses.SOFTWARE_TOKEN_MFA_CODE",
                "responses.USERNAME",
            ],
        ),
        (
            "/auth/respond-to-challenge",
            json!({"challengeName": "NEW_PASSWORD_REQUIRED", "session": "s".repeat(40), "username": "ada",
                   "responses": {"userAttributes.custom:team": "red"}}),
            vec!["responses.NEW_PASSWORD", "responses.userAttributes.custom:team"],
        ),
    ];
    for (path, body, expected) in cases {
        let response = app.post_json(path, &body).await;
        assert_problem(&response, 400, "ValidationFailed", path);
        let sources = error_sources(&response);
        assert_eq!(sources, expected, "{path} {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn oversized_and_non_json_bodies_are_413_and_415() {
    let app = spawn_app().await;
    let big = format!("{{\"username\":\"{}\"}}", "a".repeat(16 * 1024));
    for path in public_posts(&app) {
        let path = path.as_str();
        let response = post_raw(&app, path, Some("application/json"), big.clone().into_bytes()).await;
        assert_problem(&response, 413, "PayloadTooLarge", path);
        for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
            let response = post_raw(&app, path, content_type, b"username=ada".to_vec()).await;
            assert_problem(
                &response,
                415,
                "UnsupportedMediaType",
                &format!("{path} {content_type:?}"),
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn protected_routes_answer_bad_bodies_with_every_bad_field_named() {
    let app = spawn_app().await;
    let demo = app.stack.pool.demo.clone();
    let tokens = app.sign_in(&demo.username, &demo.password).await;
    let access = tokens["accessToken"].as_str().expect("access token").to_owned();
    let auth = format!("Bearer {access}");
    for (method, path) in protected_with_body(&app) {
        let path = path.as_str();
        for body in MALFORMED {
            let headers = [("content-type", "application/json"), ("authorization", auth.as_str())];
            let response = app.send(method.clone(), path, &headers, body.to_vec()).await;
            assert_problem(&response, 400, "ValidationFailed", &format!("{method} {path} {body:?}"));
            assert_eq!(response.body["errors"][0]["source"], "body", "{method} {path} {body:?}");
        }
        let response = app
            .send(
                method.clone(),
                path,
                &[("content-type", "text/plain"), ("authorization", auth.as_str())],
                "x",
            )
            .await;
        assert_problem(&response, 415, "UnsupportedMediaType", &format!("{method} {path}"));
    }
    let cases = [
        (
            Method::POST,
            "/auth/change-password",
            json!({"previousPassword": 1, "proposedPassword": "short", "extra": true}),
            vec!["extra", "previousPassword", "proposedPassword"],
        ),
        (
            Method::POST,
            "/auth/mfa/totp/verify",
            json!({"code": "", "friendlyDeviceName": "x".repeat(200)}),
            vec!["code", "friendlyDeviceName"],
        ),
        (
            Method::PUT,
            "/auth/mfa",
            json!({"totp": "always", "sms": 1}),
            vec!["sms", "totp"],
        ),
        (
            Method::PUT,
            "/auth/mfa",
            json!({"totp": "preferred", "sms": "preferred"}),
            vec!["sms"],
        ),
        (Method::PUT, "/auth/mfa", json!({}), vec!["body"]),
        (
            Method::PATCH,
            "/auth/me",
            json!({"attributes": {"custom:team": "red", "email": "nope", "name": "x".repeat(3000)}}),
            vec!["attributes.custom:team", "attributes.email", "attributes.name"],
        ),
        (Method::PATCH, "/auth/me", json!({"attributes": {}}), vec!["attributes"]),
        (
            Method::POST,
            "/auth/me/verify-attribute",
            json!({"attribute": "custom:team", "code": 5}),
            vec!["attribute", "code"],
        ),
    ];
    for (method, path, body, expected) in cases {
        let response = app.call(method.clone(), path, &access, Some(&body)).await;
        assert_problem(&response, 400, "ValidationFailed", &format!("{method} {path}"));
        let sources = error_sources(&response);
        assert_eq!(sources, expected, "{method} {path} {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn protected_routes_without_a_usable_token_are_401() {
    let app = spawn_app().await;
    for (method, path) in protected(&app) {
        let path = path.as_str();
        for authorization in [
            None,
            Some("Bearer"),
            Some("Basic YTpi"),
            Some("Bearer not-a-token"),
            Some("Bearer a.b.c"),
        ] {
            let headers: Vec<(&str, &str)> = authorization.map(|a| vec![("authorization", a)]).unwrap_or_default();
            let response = app.send(method.clone(), path, &headers, "").await;
            assert_problem(
                &response,
                401,
                "Unauthorized",
                &format!("{method} {path} {authorization:?}"),
            );
        }
    }
    app.stop().await;
}
