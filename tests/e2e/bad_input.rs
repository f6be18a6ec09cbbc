//! No request body can make a function answer 500: every bad input is a documented 4xx
//! problem+json.

use http::Method;
use integration_tests::{TestApp, TestResponse, spawn_app};
use serde_json::json;

const PUBLIC_POSTS: [&str; 4] = [
    "/auth/sign-up",
    "/auth/verify-account",
    "/auth/sign-in",
    "/auth/refresh",
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

async fn post_raw(app: &TestApp, path: &str, content_type: Option<&str>, body: Vec<u8>) -> TestResponse {
    let headers: Vec<(&str, &str)> = content_type.map(|ct| vec![("content-type", ct)]).unwrap_or_default();
    app.send(Method::POST, path, &headers, body).await
}

#[tokio::test]
async fn malformed_bodies_are_400_on_every_public_route() {
    let app = spawn_app().await;
    let bodies: [&[u8]; 8] = [
        b"{",
        b"[]",
        b"\"text\"",
        b"42",
        b"null",
        b"{\"a\":1,}",
        b"",
        &[0xff, 0xfe, 0x00, 0x7b],
    ];
    for path in PUBLIC_POSTS {
        for body in bodies {
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
    ];
    for (path, body, expected) in cases {
        let response = app.post_json(path, &body).await;
        assert_problem(&response, 400, "ValidationFailed", path);
        let mut sources: Vec<String> = response.body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["source"].as_str().unwrap_or_default().to_owned())
            .collect();
        sources.sort();
        assert_eq!(sources, expected, "{path} {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn oversized_and_non_json_bodies_are_413_and_415() {
    let app = spawn_app().await;
    let big = format!("{{\"username\":\"{}\"}}", "a".repeat(16 * 1024));
    for path in PUBLIC_POSTS {
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
async fn protected_routes_without_a_usable_token_are_401() {
    let app = spawn_app().await;
    for (method, path) in [(Method::GET, "/auth/me"), (Method::POST, "/auth/logout")] {
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
