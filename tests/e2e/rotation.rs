//! Rotating refresh tokens, through the local Cognito's stand-in (which rotates as a client
//! with `RefreshTokenRotation` enabled does): every refresh answers the next token, a token
//! rotated out is refused once its grace period is over, and a sign-out ends the whole chain.

use std::time::Duration;

use integration_tests::{TestApp, spawn_app_with, token};
use local_gateway::LocalStackOptions;
use serde_json::json;

const GRACE: Duration = Duration::from_secs(1);

async fn refresh(app: &TestApp, refresh_token: &str) -> integration_tests::TestResponse {
    app.post_json("/auth/refresh", &json!({"refreshToken": refresh_token}))
        .await
}

#[tokio::test]
async fn each_refresh_rotates_and_a_rotated_out_token_is_refused_after_its_grace_period() {
    let app = spawn_app_with(LocalStackOptions {
        refresh_token_grace: Some(GRACE),
        ..LocalStackOptions::default()
    })
    .await;
    let demo = app.stack.pool.demo.clone();
    let signed_in = app.sign_in(&demo.username, &demo.password).await;
    let first = token(&signed_in, "refreshToken");

    let answer = refresh(&app, &first).await;
    assert_eq!(answer.status, 200, "{}", answer.raw);
    let second = token(&answer.body, "refreshToken");
    assert_ne!(second, first);
    // The tokens of a rotated refresh are the pool's own: the authorizer and Cognito take them.
    let me = app
        .get_with_token("/auth/me", &token(&answer.body, "accessToken"))
        .await;
    assert_eq!(me.status, 200, "{}", me.raw);

    let answer = refresh(&app, &second).await;
    assert_eq!(answer.status, 200, "{}", answer.raw);
    let third = token(&answer.body, "refreshToken");
    assert!(third != first && third != second);

    tokio::time::sleep(GRACE + Duration::from_millis(500)).await;
    for reused in [&first, &second] {
        let refused = refresh(&app, reused).await;
        assert_eq!(
            (refused.status.as_u16(), refused.code()),
            (401, "RefreshTokenReused"),
            "{}",
            refused.raw
        );
    }
    // The newest token goes on.
    let answer = refresh(&app, &third).await;
    assert_eq!(answer.status, 200, "{}", answer.raw);
    let fourth = token(&answer.body, "refreshToken");

    // A global logout ends every token of the chain, whatever its place in it.
    let access = token(&answer.body, "accessToken");
    let logout = app.post_json_with_token("/auth/logout", &access, &json!({})).await;
    assert_eq!(logout.status, 204, "{}", logout.raw);
    let after = refresh(&app, &fourth).await;
    assert_eq!(
        (after.status.as_u16(), after.code()),
        (401, "Unauthorized"),
        "{}",
        after.raw
    );
    app.stop().await;
}

#[tokio::test]
async fn a_made_up_refresh_token_is_refused_and_the_old_refresh_flow_is_closed() {
    let app = spawn_app_with(LocalStackOptions::default()).await;
    let forged = format!("eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIn0.{}.x.y.z", "a".repeat(64));
    let refused = refresh(&app, &forged).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (401, "Unauthorized"),
        "{}",
        refused.raw
    );
    // A client with rotation on refuses REFRESH_TOKEN_AUTH, as Cognito does: what the
    // function calls instead is GetTokensFromRefreshToken.
    let demo = app.stack.pool.demo.clone();
    let signed_in = app.sign_in(&demo.username, &demo.password).await;
    let cognito = local_gateway::seed::emulator_client(&app.stack.cognito_url);
    let old_flow = cognito
        .initiate_auth()
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::RefreshTokenAuth)
        .client_id(&app.stack.pool.client_id)
        .auth_parameters("REFRESH_TOKEN", token(&signed_in, "refreshToken"))
        .send()
        .await;
    let error = old_flow.expect_err("refused");
    assert_eq!(
        aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata::code(&error),
        Some("NotAuthorizedException")
    );
    app.stop().await;
}
