//! No account takeover from one stolen token: what hands an account over needs a recent
//! sign-in, end to end against the local stack with `RECENT_AUTH_SECONDS` shortened to 2 s.
//! (The emulator stamps a refreshed token's `auth_time` with the refresh, which Cognito does
//! not: a refresh is no way to freshness in the cloud, so the test never refreshes.)

use std::time::Duration;

use auth_contract::freshness::RecentAuth;
use http::Method;
use integration_tests::{TestApp, spawn_app_with, token};
use local_gateway::LocalStackOptions;
use serde_json::json;

const PASSWORD: &str = "Member-Passw0rd1";

async fn signed_in(app: &TestApp, name: &str) -> String {
    token(&app.sign_in(name, PASSWORD).await, "accessToken")
}

#[tokio::test]
async fn a_stale_sign_in_changes_no_factor_and_a_fresh_one_does() {
    let app = spawn_app_with(LocalStackOptions {
        recent_auth: RecentAuth::new(2).expect("2 s"),
        ..LocalStackOptions::default()
    })
    .await;
    let admin = app.admin_token().await;
    app.create_user(&admin, "tess", "Temp-Passw0rd!").await;
    app.set_permanent_password("tess", PASSWORD).await;

    let stolen = signed_in(&app, "tess").await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let attempts = [
        (
            Method::PATCH,
            "/auth/me",
            Some(json!({"attributes": {"email": "thief@example.com"}})),
        ),
        (Method::POST, "/auth/mfa/totp/setup", None),
        (Method::POST, "/auth/mfa/totp/verify", Some(json!({"code": "123456"}))),
        (Method::PUT, "/auth/mfa", Some(json!({"totp": "disabled"}))),
        (Method::DELETE, "/auth/me", None),
    ];
    for (method, path, body) in &attempts {
        let refused = app.call(method.clone(), path, &stolen, body.as_ref()).await;
        assert_eq!(
            (refused.status.as_u16(), refused.code()),
            (401, "RecentAuthenticationRequired"),
            "{method} {path}: {}",
            refused.raw
        );
        let challenge = refused.headers["www-authenticate"].to_str().expect("ASCII");
        assert!(challenge.contains(r#"max_age="2""#), "{challenge}");
    }
    // The stale token still reads the profile and changes what hands nothing over.
    assert_eq!(app.get_with_token("/auth/me", &stolen).await.status, 200);
    let renamed = app
        .call(
            Method::PATCH,
            "/auth/me",
            &stolen,
            Some(&json!({"attributes": {"name": "Tess"}})),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.raw);

    // Signed in again: the owner changes the email and sets up an authenticator.
    let fresh = signed_in(&app, "tess").await;
    let email = app
        .call(
            Method::PATCH,
            "/auth/me",
            &fresh,
            Some(&json!({"attributes": {"email": "tess@example.org"}})),
        )
        .await;
    assert_eq!(email.status, 200, "{}", email.raw);
    let setup = app.call(Method::POST, "/auth/mfa/totp/setup", &fresh, None).await;
    assert_eq!(setup.status, 200, "{}", setup.raw);
    app.stop().await;
}
