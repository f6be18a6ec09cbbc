//! The account lifecycle end to end against the local stack: challenges, TOTP (the emulator
//! checks the RFC 6238 codes these tests compute), password reset and change, profile updates,
//! and the routes whose Cognito call the emulator lacks.

use http::Method;
use integration_tests::{TestApp, current_totp, spawn_app, token, totp_code};
use serde_json::{Value, json};

const TEMPORARY: &str = "Temp-Passw0rd1";
const CHOSEN: &str = "Chosen-Passw0rd1";

/// A user with a permanent password, signed in.
async fn signed_in_user(app: &TestApp, admin: &str, username: &str, password: &str) -> Value {
    app.create_user(admin, username, TEMPORARY).await;
    app.set_permanent_password(username, password).await;
    app.sign_in(username, password).await
}

#[tokio::test]
async fn an_admin_created_user_chooses_a_password_at_first_sign_in_and_gets_tokens() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, "nina", TEMPORARY).await;

    let first = app
        .post_json("/auth/sign-in", &json!({"username": "nina", "password": TEMPORARY}))
        .await;
    assert_eq!(first.status, 200, "{}", first.raw);
    assert_eq!(first.body["challengeName"], "NEW_PASSWORD_REQUIRED");
    assert!(first.body.get("accessToken").is_none());
    let session = token(&first.body, "session");

    let weak = app
        .respond_to_challenge(
            "NEW_PASSWORD_REQUIRED",
            &session,
            "nina",
            json!({"NEW_PASSWORD": "alllowercase"}),
        )
        .await;
    assert_eq!(
        (weak.status.as_u16(), weak.code()),
        (400, "InvalidPassword"),
        "{}",
        weak.raw
    );
    let answered = app
        .respond_to_challenge(
            "NEW_PASSWORD_REQUIRED",
            &session,
            "nina",
            json!({"NEW_PASSWORD": CHOSEN}),
        )
        .await;
    assert_eq!(answered.status, 200, "{}", answered.raw);
    let access = token(&answered.body, "accessToken");
    assert!(answered.body["refreshToken"].is_string());
    let me = app.get_with_token("/auth/me", &access).await;
    assert_eq!(
        (me.status.as_u16(), me.body["username"].as_str()),
        (200, Some("nina")),
        "{}",
        me.raw
    );

    // The session is spent, and an unknown one is just as dead: sign in again.
    for dead in [session.as_str(), "f0e1d2c3-b4a5-4697-8879-6a5b4c3d2e1f"] {
        let again = app
            .respond_to_challenge("NEW_PASSWORD_REQUIRED", dead, "nina", json!({"NEW_PASSWORD": CHOSEN}))
            .await;
        assert_eq!(
            (again.status.as_u16(), again.code()),
            (401, "SessionExpired"),
            "{}",
            again.raw
        );
    }
    // The chosen password is the password now; the temporary one is not.
    app.sign_in("nina", CHOSEN).await;
    let old = app
        .post_json("/auth/sign-in", &json!({"username": "nina", "password": TEMPORARY}))
        .await;
    assert_eq!((old.status.as_u16(), old.code()), (401, "InvalidCredentials"));
    app.stop().await;
}

#[tokio::test]
async fn a_user_sets_up_an_authenticator_prefers_it_and_answers_its_code_at_sign_in() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let tara = signed_in_user(&app, &admin, "tara", CHOSEN).await;
    let access = token(&tara, "accessToken");

    let setup = app.call(Method::POST, "/auth/mfa/totp/setup", &access, None).await;
    assert_eq!(setup.status, 200, "{}", setup.raw);
    let secret = token(&setup.body, "secretCode");
    let uri = token(&setup.body, "otpauthUri");
    assert!(uri.starts_with("otpauth://totp/local-auth:tara?secret="), "{uri}");
    assert!(uri.contains("&issuer=local-auth"), "{uri}");

    // A code from the wrong step is refused; the current one verifies the app.
    let stale = totp_code(&secret, 1_000_000_000);
    let wrong = app
        .call(
            Method::POST,
            "/auth/mfa/totp/verify",
            &access,
            Some(&json!({"code": stale})),
        )
        .await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.code()),
        (400, "CodeMismatch"),
        "{}",
        wrong.raw
    );
    let code = current_totp(&secret).await;
    let verified = app
        .call(
            Method::POST,
            "/auth/mfa/totp/verify",
            &access,
            Some(&json!({"code": code, "friendlyDeviceName": "Tara's phone"})),
        )
        .await;
    assert_eq!(
        (verified.status.as_u16(), verified.body.clone()),
        (200, json!({"status": "SUCCESS"})),
        "{}",
        verified.raw
    );
    let preferred = app
        .call(Method::PUT, "/auth/mfa", &access, Some(&json!({"totp": "preferred"})))
        .await;
    assert_eq!(preferred.status, 204, "{}", preferred.raw);
    let methods = app.get_with_token("/auth/me/sign-in-methods", &access).await;
    assert_eq!(methods.status, 200, "{}", methods.raw);
    assert_eq!(
        methods.body,
        json!({"signInMethods": ["password", "email-otp"], "mfa": ["totp"], "preferredMfa": "totp"})
    );

    let challenged = app
        .post_json("/auth/sign-in", &json!({"username": "tara", "password": CHOSEN}))
        .await;
    assert_eq!(
        challenged.body["challengeName"], "SOFTWARE_TOKEN_MFA",
        "{}",
        challenged.raw
    );
    let session = token(&challenged.body, "session");
    let wrong = app
        .respond_to_challenge(
            "SOFTWARE_TOKEN_MFA",
            &session,
            "tara",
            json!({"SOFTWARE_TOKEN_MFA_CODE": stale}),
        )
        .await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.code()),
        (400, "CodeMismatch"),
        "{}",
        wrong.raw
    );
    let code = current_totp(&secret).await;
    let signed_in = app
        .respond_to_challenge(
            "SOFTWARE_TOKEN_MFA",
            &session,
            "tara",
            json!({"SOFTWARE_TOKEN_MFA_CODE": code}),
        )
        .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.raw);
    let me = app
        .get_with_token("/auth/me", &token(&signed_in.body, "accessToken"))
        .await;
    assert_eq!(me.status, 200, "{}", me.raw);

    // Turned off, sign-in asks for the password alone again.
    let off = app
        .call(Method::PUT, "/auth/mfa", &access, Some(&json!({"totp": "disabled"})))
        .await;
    assert_eq!(off.status, 204, "{}", off.raw);
    let plain = app.sign_in("tara", CHOSEN).await;
    assert!(plain["accessToken"].is_string(), "{plain}");

    // Preferred again, then the authenticator is lost: an administrator turns MFA off.
    let fresh = token(&plain, "accessToken");
    let again = app
        .call(Method::PUT, "/auth/mfa", &fresh, Some(&json!({"totp": "preferred"})))
        .await;
    assert_eq!(again.status, 204, "{}", again.raw);
    let challenged = app
        .post_json("/auth/sign-in", &json!({"username": "tara", "password": CHOSEN}))
        .await;
    assert_eq!(
        challenged.body["challengeName"], "SOFTWARE_TOKEN_MFA",
        "{}",
        challenged.raw
    );
    let reset = app
        .call(Method::POST, "/admin/users/tara/mfa/reset", &admin, None)
        .await;
    assert_eq!(reset.status, 204, "{}", reset.raw);
    let without_code = app.sign_in("tara", CHOSEN).await;
    assert!(without_code["accessToken"].is_string(), "{without_code}");
    app.stop().await;
}

#[tokio::test]
async fn a_pool_that_requires_mfa_has_a_new_user_set_up_an_authenticator_before_tokens() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    // This stack's pool only: MFA required, as `MfaConfiguration: ON` would make it.
    app.cognito()
        .set_user_pool_mfa_config()
        .user_pool_id(&app.stack.pool.user_pool_id)
        .software_token_mfa_configuration(
            aws_sdk_cognitoidentityprovider::types::SoftwareTokenMfaConfigType::builder()
                .enabled(true)
                .build(),
        )
        .mfa_configuration(aws_sdk_cognitoidentityprovider::types::UserPoolMfaType::On)
        .send()
        .await
        .expect("SetUserPoolMfaConfig");
    app.create_user(&admin, "omar", TEMPORARY).await;
    let first = app
        .post_json("/auth/sign-in", &json!({"username": "omar", "password": TEMPORARY}))
        .await;
    let session = token(&first.body, "session");
    let next = app
        .respond_to_challenge(
            "NEW_PASSWORD_REQUIRED",
            &session,
            "omar",
            json!({"NEW_PASSWORD": CHOSEN}),
        )
        .await;
    assert_eq!(next.status, 200, "{}", next.raw);
    assert_eq!(next.body["challengeName"], "MFA_SETUP", "{}", next.raw);
    let session = token(&next.body, "session");

    let setup = app.respond_to_challenge("MFA_SETUP", &session, "omar", json!({})).await;
    assert_eq!(setup.status, 200, "{}", setup.raw);
    assert_eq!(setup.body["challengeName"], "MFA_SETUP");
    let secret = token(&setup.body, "secretCode");
    assert!(token(&setup.body, "otpauthUri").contains(&format!("secret={}", secret.to_ascii_uppercase())));
    let session = token(&setup.body, "session");
    let code = current_totp(&secret).await;
    let done = app
        .respond_to_challenge("MFA_SETUP", &session, "omar", json!({"SOFTWARE_TOKEN_MFA_CODE": code}))
        .await;
    assert_eq!(done.status, 200, "{}", done.raw);
    assert!(done.body["accessToken"].is_string(), "{}", done.raw);
    app.stop().await;
}

#[tokio::test]
async fn a_forgotten_password_is_reset_with_the_code_and_earlier_tokens_stop_working() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    // Not used before the reset: API Gateway would serve a policy it cached for it.
    let rita = signed_in_user(&app, &admin, "rita", CHOSEN).await;
    let earlier = token(&rita, "accessToken");

    let known = app
        .post_json("/auth/forgot-password", &json!({"username": "rita"}))
        .await;
    let unknown = app
        .post_json("/auth/forgot-password", &json!({"username": "nobody-here"}))
        .await;
    assert_eq!(known.status, 202, "{}", known.raw);
    assert_eq!(
        (unknown.status, unknown.body.clone()),
        (known.status, known.body.clone()),
        "no enumeration"
    );

    // An unknown user looks like a wrong code (no enumeration).
    let stranger = app
        .post_json(
            "/auth/confirm-forgot-password",
            &json!({"username": "nobody-here", "code": "123456", "newPassword": "Reset-Passw0rd1"}),
        )
        .await;
    assert_eq!(
        (stranger.status.as_u16(), stranger.code()),
        (400, "CodeMismatch"),
        "{}",
        stranger.raw
    );
    let weak = app
        .post_json(
            "/auth/confirm-forgot-password",
            &json!({"username": "rita", "code": "123456", "newPassword": "shrt"}),
        )
        .await;
    assert_eq!(weak.status, 400, "{}", weak.raw);
    let reset = app
        .post_json(
            "/auth/confirm-forgot-password",
            &json!({"username": "rita", "code": "123456", "newPassword": "Reset-Passw0rd1"}),
        )
        .await;
    assert_eq!(reset.status, 204, "{}", reset.raw);

    // Refused by the authorizer itself (the emulator would still accept the token).
    let refused = app.get_with_token("/auth/me", &earlier).await;
    assert_eq!(
        (refused.status.as_u16(), refused.body["detail"].as_str()),
        (401, Some("A valid bearer token is required.")),
        "a reset ends earlier sessions: {}",
        refused.raw
    );
    let old = app
        .post_json("/auth/sign-in", &json!({"username": "rita", "password": CHOSEN}))
        .await;
    assert_eq!((old.status.as_u16(), old.code()), (401, "InvalidCredentials"));
    let fresh = app.sign_in("rita", "Reset-Passw0rd1").await;
    assert_eq!(
        app.get_with_token("/auth/me", &token(&fresh, "accessToken"))
            .await
            .status,
        200
    );
    app.stop().await;
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_the_old_one_stops_signing_in() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let carl = signed_in_user(&app, &admin, "carl", CHOSEN).await;
    let access = token(&carl, "accessToken");

    let wrong = app
        .call(
            Method::POST,
            "/auth/change-password",
            &access,
            Some(&json!({"previousPassword": "Not-The-Passw0rd", "proposedPassword": "Changed-Passw0rd1"})),
        )
        .await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.code()),
        (401, "InvalidCredentials"),
        "{}",
        wrong.raw
    );
    let changed = app
        .call(
            Method::POST,
            "/auth/change-password",
            &access,
            Some(&json!({"previousPassword": CHOSEN, "proposedPassword": "Changed-Passw0rd1"})),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.raw);
    let old = app
        .post_json("/auth/sign-in", &json!({"username": "carl", "password": CHOSEN}))
        .await;
    assert_eq!((old.status.as_u16(), old.code()), (401, "InvalidCredentials"));
    app.sign_in("carl", "Changed-Passw0rd1").await;
    app.stop().await;
}

#[tokio::test]
async fn a_profile_change_shows_in_me_and_attributes_that_grant_access_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let pia = signed_in_user(&app, &admin, "pia", CHOSEN).await;
    let access = token(&pia, "accessToken");

    let updated = app
        .call(
            Method::PATCH,
            "/auth/me",
            &access,
            Some(&json!({"attributes": {"name": "Pia Larsen"}})),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.raw);
    assert_eq!(updated.body["attributes"]["name"], "Pia Larsen");
    assert_eq!(updated.body["username"], "pia");
    let me = app.get_with_token("/auth/me", &access).await;
    assert_eq!(me.body["attributes"]["name"], "Pia Larsen", "{}", me.raw);

    let refused = app
        .call(
            Method::PATCH,
            "/auth/me",
            &access,
            Some(&json!({"attributes": {"custom:team": "red"}})),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.raw);
    let me = app.get_with_token("/auth/me", &access).await;
    assert!(me.body["attributes"].get("custom:team").is_none(), "{}", me.raw);
    app.stop().await;
}

#[tokio::test]
async fn routes_whose_cognito_call_the_emulator_lacks_answer_501_naming_it() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let vera = signed_in_user(&app, &admin, "vera", CHOSEN).await;
    let access = token(&vera, "accessToken");

    let resend = app.post_json("/auth/resend-code", &json!({"username": "vera"})).await;
    let verify = app
        .call(
            Method::POST,
            "/auth/me/verify-attribute",
            &access,
            Some(&json!({"attribute": "email", "code": "123456"})),
        )
        .await;
    let delete = app.call(Method::DELETE, "/auth/me", &access, None).await;
    for (response, call) in [
        (resend, "ResendConfirmationCode"),
        (verify, "VerifyUserAttribute"),
        (delete, "DeleteUser"),
    ] {
        assert_eq!(
            (response.status.as_u16(), response.code()),
            (501, "NotEmulated"),
            "{}",
            response.raw
        );
        assert_eq!(response.content_type(), "application/problem+json");
        assert!(
            response.body["detail"].as_str().is_some_and(|d| d.contains(call)),
            "{}",
            response.raw
        );
    }
    // Bad input is still answered first, as in the cloud.
    let bad = app.post_json("/auth/resend-code", &json!({"username": ""})).await;
    assert_eq!(bad.status, 400, "{}", bad.raw);
    app.stop().await;
}
