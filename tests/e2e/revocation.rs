//! Logout reaches the authorizer: the revocation store (DynamoDB, on the emulator) makes the
//! authorizer refuse tokens that Cognito has revoked, on every route, not only where a function
//! asks Cognito.

use std::sync::Arc;

use account_api::cognito::{CognitoIdentityProvider, CognitoSettings};
use account_api::{AccountApi, AttributeAllowList, Revoker};
use auth_contract::testkit::MemoryStore;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::operation::revoke_token::RevokeTokenOutput;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use cognito_jwt::testkit::{self, CLIENT, FakeFetcher, ISSUER, JWKS_URL, key, mint};
use cognito_jwt::unix_now;
use http::Method;
use integration_tests::{TestApp, spawn_app, token};
use lambda_authorizer::{AuthorizerConfig, AuthorizerDeps, AuthorizerError, handler};
use lambda_http::{Body, RequestExt};
use serde_json::{Value, json};

/// The answer API Gateway gives itself when the authorizer says Unauthorized.
const AUTHORIZER_REFUSAL: &str = "A valid bearer token is required.";

async fn member(app: &TestApp, admin: &str, name: &str) {
    app.create_user(admin, name, "Temp-Passw0rd!").await;
    app.set_permanent_password(name, "Member-Passw0rd1").await;
}

fn access(session: &Value) -> String {
    token(session, "accessToken")
}

#[tokio::test]
async fn a_logout_reaches_sessions_the_authorizer_has_never_seen() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    member(&app, &admin, "ruth").await;

    let first = access(&app.sign_in("ruth", "Member-Passw0rd1").await);
    let second = access(&app.sign_in("ruth", "Member-Passw0rd1").await);
    assert_eq!(app.get_with_token("/auth/me", &first).await.status, 200);
    let out = app.post_json_with_token("/auth/logout", &first, &json!({})).await;
    assert_eq!(out.status, 204, "{}", out.raw);
    // The other session's token, never used: refused by the authorizer itself.
    let refused = app.get_with_token("/auth/me", &second).await;
    assert_eq!(refused.status, 401, "{}", refused.raw);
    assert_eq!(refused.body["detail"], AUTHORIZER_REFUSAL);
    // A sign-in as soon as the logout answered works.
    let again = access(&app.sign_in("ruth", "Member-Passw0rd1").await);
    assert_eq!(app.get_with_token("/auth/me", &again).await.status, 200);

    // An administrator's sign-out and a disable reach the authorizer the same way.
    let fresh = access(&app.sign_in("ruth", "Member-Passw0rd1").await);
    assert_eq!(
        app.call(Method::POST, "/admin/users/ruth/sign-out", &admin, None)
            .await
            .status,
        204
    );
    let refused = app.get_with_token("/auth/me", &fresh).await;
    assert_eq!(
        (refused.status.as_u16(), refused.body["detail"].clone()),
        (401, json!(AUTHORIZER_REFUSAL))
    );
    let fresh = access(&app.sign_in("ruth", "Member-Passw0rd1").await);
    assert_eq!(
        app.call(Method::POST, "/admin/users/ruth/disable", &admin, None)
            .await
            .status,
        204
    );
    let refused = app.get_with_token("/auth/me", &fresh).await;
    assert_eq!(
        (refused.status.as_u16(), refused.body["detail"].clone()),
        (401, json!(AUTHORIZER_REFUSAL))
    );
    // Enabling records nothing: old tokens stay refused, new ones pass.
    assert_eq!(
        app.call(Method::POST, "/admin/users/ruth/enable", &admin, None)
            .await
            .status,
        204
    );
    assert_eq!(app.get_with_token("/auth/me", &fresh).await.status, 401);
    let renewed = access(&app.sign_in("ruth", "Member-Passw0rd1").await);
    assert_eq!(app.get_with_token("/auth/me", &renewed).await.status, 200);
    // The admin's own session was never touched.
    assert_eq!(app.get_with_token("/admin/users", &admin).await.status, 200);
    app.stop().await;
}

/// The emulator has no RevokeToken, so the session scope is shown with the mocked SDK client
/// behind the logout handler and the authorizer reading the same (in-memory) store.
#[tokio::test]
async fn a_session_logout_refuses_that_session_and_no_other() {
    let store = Arc::new(MemoryStore::new());
    let revoke = mock!(Client::revoke_token)
        .match_requests(|req| req.token() == Some("refresh-of-a"))
        .then_output(|| RevokeTokenOutput::builder().build());
    let client = mock_client!(aws_sdk_cognitoidentityprovider, RuleMode::MatchAny, [&revoke]);
    let settings = CognitoSettings {
        region: "eu-west-1".into(),
        user_pool_id: "eu-west-1_TestPool".into(),
        client_id: CLIENT.into(),
        client_secret: None,
        team_attribute: "custom:team".into(),
    };
    let api = AccountApi::new(
        CognitoIdentityProvider::new(client, settings),
        AttributeAllowList::default(),
    )
    .with_revoker(Revoker::new(store.clone(), ISSUER));

    let config = AuthorizerConfig::from_env(&auth_contract::config::Env::from_pairs(&[
        ("COGNITO_USER_POOL_ID", "eu-west-1_TestPool"),
        ("COGNITO_CLIENT_ID", CLIENT),
        ("COGNITO_JWKS_URL", JWKS_URL),
    ]))
    .expect("config");
    let deps = AuthorizerDeps::new(config, FakeFetcher::serving(JWKS_URL, testkit::jwks_of(&[key(0)])))
        .with_revocation(store.clone());
    deps.hydrate().await.expect("JWKS");

    let now = unix_now();
    let session = |jti: &str| {
        let mut claims = testkit::access_claims();
        claims["iat"] = json!(now - 5);
        claims["exp"] = json!(now + 3600);
        claims["origin_jti"] = json!(jti);
        mint(key(0), &claims)
    };
    let (a, b) = (session("session-a"), session("session-b"));
    let authorize = |token: &str| {
        json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"),
               "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:api/prod/GET/auth/me"})
    };
    assert!(handler(&deps, authorize(&a)).await.is_ok());

    // Log out session A: the authorizer's context (from the verified token) names it.
    let answer = handler(&deps, authorize(&a)).await.expect("allowed");
    let fields = serde_json::from_value(answer["context"].clone()).expect("context");
    let mut context = lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext::default();
    context.authorizer.fields = fields;
    let request = http::Request::builder()
        .method("POST")
        .uri("/auth/logout")
        .header("authorization", format!("Bearer {a}"))
        .header("content-type", "application/json")
        .body(Body::Text(
            json!({"refreshToken": "refresh-of-a", "scope": "session"}).to_string(),
        ))
        .expect("request")
        .with_request_context(lambda_http::request::RequestContext::ApiGatewayV1(context));
    let response = account_api::logout::handler(&api, request).await.expect("infallible");
    assert_eq!(response.status(), 204);
    assert_eq!(revoke.num_calls(), 1);

    // A fresh authorizer (the first remembers its answers for a few seconds).
    let config = AuthorizerConfig::from_env(&auth_contract::config::Env::from_pairs(&[
        ("COGNITO_USER_POOL_ID", "eu-west-1_TestPool"),
        ("COGNITO_CLIENT_ID", CLIENT),
        ("COGNITO_JWKS_URL", JWKS_URL),
    ]))
    .expect("config");
    let deps =
        AuthorizerDeps::new(config, FakeFetcher::serving(JWKS_URL, testkit::jwks_of(&[key(0)]))).with_revocation(store);
    deps.hydrate().await.expect("JWKS");
    assert_eq!(
        handler(&deps, authorize(&a)).await.err(),
        Some(AuthorizerError::Unauthorized)
    );
    assert!(
        handler(&deps, authorize(&b)).await.is_ok(),
        "the user's other session goes on"
    );
}
