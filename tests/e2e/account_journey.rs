use http::Method;
use integration_tests::{captured_logs, spawn_app};
use serde_json::json;

#[tokio::test]
async fn sign_up_verify_sign_in_me_refresh_logout() {
    let app = spawn_app().await;
    let password = "Journey-Passw0rd";

    let signed_up = app
        .post_json(
            "/auth/sign-up",
            &json!({"username": "grace", "password": password, "email": "grace@example.com", "attributes": {"name": "Grace"}}),
        )
        .await;
    assert_eq!(signed_up.status, 201, "{}", signed_up.raw);
    assert_eq!(signed_up.body["userConfirmed"], false);
    let sub = signed_up.body["userSub"].as_str().expect("userSub").to_owned();

    // Not verified yet: sign-in is refused with a documented 403.
    let early = app
        .post_json("/auth/sign-in", &json!({"username": "grace", "password": password}))
        .await;
    assert_eq!(
        (early.status.as_u16(), early.code()),
        (403, "UserNotConfirmed"),
        "{}",
        early.raw
    );

    // The local Cognito accepts any code (real Cognito checks it: see the unit tests).
    let verified = app
        .post_json("/auth/verify-account", &json!({"username": "grace", "code": "123456"}))
        .await;
    assert_eq!(verified.status, 200, "{}", verified.raw);
    assert_eq!(verified.body, json!({"username": "grace", "confirmed": true}));

    let tokens = app.sign_in("grace", password).await;
    assert_eq!(tokens["tokenType"], "Bearer");
    assert!(tokens["expiresIn"].as_i64().is_some_and(|s| s > 0));
    let access = tokens["accessToken"].as_str().expect("accessToken").to_owned();
    let refresh = tokens["refreshToken"].as_str().expect("refreshToken").to_owned();

    let me = app.get_with_token("/auth/me", &access).await;
    assert_eq!(me.status, 200, "{}", me.raw);
    assert_eq!(me.body["username"], "grace");
    assert_eq!(me.body["sub"], sub.as_str());
    assert_eq!(me.body["attributes"]["email"], "grace@example.com");
    assert_eq!(me.body["attributes"]["name"], "Grace");
    assert_eq!(me.body["groups"], json!([]));
    let methods = app.get_with_token("/auth/me/sign-in-methods", &access).await;
    assert_eq!(methods.status, 200, "{}", methods.raw);
    assert_eq!(
        methods.body,
        json!({"signInMethods": ["password", "email-otp"], "mfa": [], "preferredMfa": null})
    );

    let refreshed = app
        .post_json("/auth/refresh", &json!({"refreshToken": refresh, "username": sub}))
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.raw);
    assert!(refreshed.body["accessToken"].as_str().is_some_and(|t| !t.is_empty()));
    // The local Cognito rotates refresh tokens, as the template's client does.
    let rotated = refreshed.body["refreshToken"]
        .as_str()
        .expect("the next refresh token")
        .to_owned();
    assert_ne!(rotated, refresh);

    let logout = app
        .post_json_with_token("/auth/logout", &access, &json!({"refreshToken": refresh}))
        .await;
    assert_eq!(logout.status, 204, "{}", logout.raw);
    assert!(logout.raw.is_empty());

    let after = app.get_with_token("/auth/me", &access).await;
    assert_eq!(
        (after.status.as_u16(), after.code()),
        (401, "Unauthorized"),
        "{}",
        after.raw
    );
    // The logout ends the whole chain: the rotated token as well as the first.
    for token in [&refresh, &rotated] {
        let stale = app.post_json("/auth/refresh", &json!({"refreshToken": token})).await;
        assert_eq!(
            (stale.status.as_u16(), stale.code()),
            (401, "Unauthorized"),
            "{}",
            stale.raw
        );
    }

    // Nothing secret reached a log line, at debug level, SDK included.
    let logs = captured_logs();
    assert!(logs.contains(r#"function="sign_in""#), "the log capture saw no request");
    for secret in [password, access.as_str(), refresh.as_str(), rotated.as_str()] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
    app.stop().await;
}

#[tokio::test]
async fn demo_admin_is_seeded_confirmed_with_group_and_team() {
    let app = spawn_app().await;
    let demo = app.stack.pool.demo.clone();
    let tokens = app.sign_in(&demo.username, &demo.password).await;
    let me = app
        .get_with_token("/auth/me", tokens["accessToken"].as_str().expect("token"))
        .await;
    assert_eq!(me.status, 200, "{}", me.raw);
    assert_eq!(me.body["groups"], json!(["admin"]));
    assert_eq!(me.body["attributes"]["custom:team"], demo.team.as_str());
    app.stop().await;
}

#[tokio::test]
async fn sign_in_never_reveals_whether_a_user_exists() {
    let app = spawn_app().await;
    let demo = app.stack.pool.demo.clone();
    let wrong_password = app
        .post_json(
            "/auth/sign-in",
            &json!({"username": demo.username, "password": "Wrong-Passw0rd"}),
        )
        .await;
    let unknown_user = app
        .post_json(
            "/auth/sign-in",
            &json!({"username": "nobody-here", "password": "Wrong-Passw0rd"}),
        )
        .await;
    assert_eq!(
        (wrong_password.status.as_u16(), wrong_password.code()),
        (401, "InvalidCredentials")
    );
    assert_eq!(wrong_password.raw, unknown_user.raw);
    app.stop().await;
}

#[tokio::test]
async fn taken_usernames_and_weak_passwords_get_documented_answers() {
    let app = spawn_app().await;
    let demo = app.stack.pool.demo.clone();
    let taken = app
        .post_json(
            "/auth/sign-up",
            &json!({"username": demo.username, "password": "Another-Passw0rd", "email": "x@example.com"}),
        )
        .await;
    assert_eq!(
        (taken.status.as_u16(), taken.code()),
        (409, "UsernameExists"),
        "{}",
        taken.raw
    );

    let weak = app
        .post_json(
            "/auth/sign-up",
            &json!({"username": "weakling", "password": "alllowercase", "email": "w@example.com"}),
        )
        .await;
    assert_eq!(
        (weak.status.as_u16(), weak.code()),
        (400, "InvalidPassword"),
        "{}",
        weak.raw
    );
    assert_eq!(weak.content_type(), "application/problem+json");
    app.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    let missing = app.send(Method::GET, "/nope", &[], "").await;
    assert_eq!((missing.status.as_u16(), missing.code()), (404, "RouteNotFound"));
    let wrong = app.send(Method::GET, "/auth/sign-in", &[], "").await;
    assert_eq!((wrong.status.as_u16(), wrong.code()), (405, "MethodNotAllowed"));
    assert_eq!(wrong.headers["allow"], "POST", "RFC 9110: a 405 names the methods");
    let profile = app.send(Method::PUT, "/auth/me", &[], "").await;
    assert_eq!(profile.status.as_u16(), 405, "{}", profile.raw);
    assert_eq!(profile.headers["allow"], "GET, PATCH, DELETE");
    app.stop().await;
}
