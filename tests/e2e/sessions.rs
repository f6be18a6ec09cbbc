//! Sessions end when they should, against the local stack: after a password reset, a password
//! change, an administrator's sign-out and a global logout, another session's refresh token is
//! refused (the emulator's AdminUserGlobalSignOut and GlobalSignOut invalidate its refresh
//! tokens as Cognito's do), and a sign-in made as soon as the call answers gets tokens every
//! route accepts, with no wait on the client's side (the same after an administrator's team or
//! group change).

use http::Method;
use integration_tests::{TestApp, spawn_app, token};
use serde_json::{Value, json};

const PASSWORD: &str = "Member-Passw0rd1";

/// A member signed in twice: two sessions, as on two devices.
async fn member_with_two_sessions(app: &TestApp, admin: &str, name: &str) -> (Value, Value) {
    app.create_user(admin, name, "Temp-Passw0rd!").await;
    app.set_permanent_password(name, PASSWORD).await;
    (app.sign_in(name, PASSWORD).await, app.sign_in(name, PASSWORD).await)
}

/// What `/auth/refresh` answers for a session's refresh token.
async fn refresh(app: &TestApp, session: &Value) -> u16 {
    let refreshed = app
        .post_json(
            "/auth/refresh",
            &json!({"refreshToken": token(session, "refreshToken")}),
        )
        .await;
    refreshed.status.as_u16()
}

/// A sign-in at once, and every kind of route accepting its tokens: a profile read, a profile
/// change and (for administrators) an admin route.
async fn signs_in_at_once_and_is_accepted(app: &TestApp, name: &str, password: &str) {
    let fresh = token(&app.sign_in(name, password).await, "accessToken");
    let me = app.get_with_token("/auth/me", &fresh).await;
    assert_eq!(me.status, 200, "{name}: /auth/me right after the answer: {}", me.raw);
    let patched = app
        .call(
            Method::PATCH,
            "/auth/me",
            &fresh,
            Some(&json!({"attributes": {"name": name}})),
        )
        .await;
    assert_eq!(patched.status, 200, "{name}: PATCH /auth/me: {}", patched.raw);
}

#[tokio::test]
async fn a_password_reset_ends_every_session_and_the_next_sign_in_works_at_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (first, second) = member_with_two_sessions(&app, &admin, "resa").await;
    assert_eq!(refresh(&app, &second).await, 200, "the session lives before the reset");
    let forgot = app
        .post_json("/auth/forgot-password", &json!({"username": "resa"}))
        .await;
    assert_eq!(forgot.status, 202, "{}", forgot.raw);
    let reset = app
        .post_json(
            "/auth/confirm-forgot-password",
            &json!({"username": "resa", "code": "123456", "newPassword": "Reset-Passw0rd1"}),
        )
        .await;
    assert_eq!(reset.status, 204, "{}", reset.raw);
    // The attacker's session, on another device, cannot come back through its refresh token.
    assert_eq!(
        refresh(&app, &second).await,
        401,
        "another session's refresh token after a reset"
    );
    assert_eq!(refresh(&app, &first).await, 401);
    signs_in_at_once_and_is_accepted(&app, "resa", "Reset-Passw0rd1").await;
    app.stop().await;
}

#[tokio::test]
async fn a_password_change_ends_every_session_the_callers_included() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (first, second) = member_with_two_sessions(&app, &admin, "chad").await;
    let changed = app
        .post_json_with_token(
            "/auth/change-password",
            &token(&first, "accessToken"),
            &json!({"previousPassword": PASSWORD, "proposedPassword": "Changed-Passw0rd1"}),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.raw);
    assert_eq!(
        refresh(&app, &second).await,
        401,
        "another session's refresh token after a change"
    );
    let other = app.get_with_token("/auth/me", &token(&second, "accessToken")).await;
    assert_eq!(other.status, 401, "another session's access token: {}", other.raw);
    let own = app.get_with_token("/auth/me", &token(&first, "accessToken")).await;
    assert_eq!(own.status, 401, "the caller signs in again: {}", own.raw);
    signs_in_at_once_and_is_accepted(&app, "chad", "Changed-Passw0rd1").await;

    // A mistyped previous password changes nothing and ends nothing.
    let fresh = app.sign_in("chad", "Changed-Passw0rd1").await;
    let wrong = app
        .post_json_with_token(
            "/auth/change-password",
            &token(&fresh, "accessToken"),
            &json!({"previousPassword": "Not-The-Passw0rd1", "proposedPassword": "Other-Passw0rd1"}),
        )
        .await;
    assert_eq!((wrong.status.as_u16(), wrong.code()), (401, "InvalidCredentials"));
    assert_eq!(refresh(&app, &fresh).await, 200, "the session goes on");
    app.stop().await;
}

#[tokio::test]
async fn an_admin_sign_out_and_a_global_logout_end_the_refresh_tokens_and_admit_the_next_sign_in() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, second) = member_with_two_sessions(&app, &admin, "sofi").await;
    let out = app.call(Method::POST, "/admin/users/sofi/sign-out", &admin, None).await;
    assert_eq!(out.status, 204, "{}", out.raw);
    assert_eq!(refresh(&app, &second).await, 401, "after an administrator's sign-out");
    signs_in_at_once_and_is_accepted(&app, "sofi", PASSWORD).await;

    let (first, second) = (app.sign_in("sofi", PASSWORD).await, app.sign_in("sofi", PASSWORD).await);
    let logout = app
        .post_json_with_token("/auth/logout", &token(&first, "accessToken"), &json!({}))
        .await;
    assert_eq!(logout.status, 204, "{}", logout.raw);
    assert_eq!(refresh(&app, &second).await, 401, "after a global logout");
    signs_in_at_once_and_is_accepted(&app, "sofi", PASSWORD).await;
    app.stop().await;
}

#[tokio::test]
async fn a_team_or_group_change_refuses_the_old_tokens_and_admits_the_next_sign_in_at_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (before, _) = member_with_two_sessions(&app, &admin, "gwen").await;
    let added = app
        .call(Method::PUT, "/admin/users/gwen/groups/admin", &admin, None)
        .await;
    assert_eq!(added.status, 204, "{}", added.raw);
    let promoted = token(&app.sign_in("gwen", PASSWORD).await, "accessToken");
    let listed = app.get_with_token("/admin/users", &promoted).await;
    assert_eq!(listed.status, 200, "an admin at once: {}", listed.raw);

    let team = app
        .call(
            Method::PUT,
            "/admin/users/gwen/team",
            &admin,
            Some(&json!({"team": "red"})),
        )
        .await;
    assert_eq!(team.status, 200, "{}", team.raw);
    let old = app.get_with_token("/auth/me", &token(&before, "accessToken")).await;
    assert_eq!(
        old.status, 401,
        "tokens from before the change carry the old team: {}",
        old.raw
    );
    signs_in_at_once_and_is_accepted(&app, "gwen", PASSWORD).await;

    // A token of the admin the authorizer has never seen (a seen one keeps its cached policy
    // for the authorizer cache's time, as `docs/sessions.md` says).
    let still_admin = token(&app.sign_in("gwen", PASSWORD).await, "accessToken");
    let removed = app
        .call(Method::DELETE, "/admin/users/gwen/groups/admin", &admin, None)
        .await;
    assert_eq!(removed.status, 204, "{}", removed.raw);
    let demoted = app.get_with_token("/admin/users", &still_admin).await;
    assert_eq!(demoted.status, 401, "the demoted admin's token: {}", demoted.raw);
    let again = token(&app.sign_in("gwen", PASSWORD).await, "accessToken");
    assert_eq!(app.get_with_token("/auth/me", &again).await.status, 200);
    assert_eq!(
        app.get_with_token("/admin/users", &again).await.status,
        403,
        "no longer an admin, and signed in at once"
    );
    app.stop().await;
}
