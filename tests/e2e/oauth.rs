//! Sign-in through the managed login page end to end against the local stack: a browser-like
//! client that follows redirects and keeps cookies goes from `/auth/oauth/authorize` through
//! the login page's stand-in to the callback, then to `/auth/userinfo`, `/auth/me` and the
//! logout redirect; then the attacks, each refused.

use http::Method;
use integration_tests::{Browser, Hop, TestApp, TestResponse, hidden_inputs, spawn_app};
use local_gateway::stack::{APP_ORIGIN, APP_REDIRECT_URI};
use serde_json::json;

/// The flow cookie's name locally (not `__Host-`: plain HTTP on loopback).
const FLOW_COOKIE: &str = "oauth_flow";

/// Starts a flow and answers the login page's hidden fields (client, redirect URI, state,
/// challenge), the login page URL, and the hops.
async fn open_login_page(app: &TestApp, browser: &Browser, redirect_to: &str) -> (Vec<(String, String)>, Vec<Hop>) {
    let start = app.url(&format!("/auth/oauth/authorize?redirectTo={redirect_to}"));
    let (hops, page) = browser.navigate(&start, None, |_| true).await;
    assert_eq!(page.status, 200, "{hops:?}");
    assert!(page.raw.contains("<form"), "{}", page.raw);
    (hidden_inputs(&page.raw), hops)
}

/// Signs in on the login page, stopping before the callback: its URL.
async fn sign_in_on_login_page(
    app: &TestApp,
    browser: &Browser,
    hidden: &[(String, String)],
    username: &str,
    password: &str,
) -> String {
    let mut form: Vec<(&str, &str)> = hidden.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    form.push(("username", username));
    form.push(("password", password));
    let login = format!("{}/oauth2/login", app.stack.oauth_url);
    let (hops, _) = browser.navigate(&login, Some(&form), |_| false).await;
    let callback = hops[0]
        .location
        .clone()
        .unwrap_or_else(|| panic!("no redirect after sign-in: {hops:?}"));
    assert!(callback.starts_with(&app.url("/auth/oauth/callback?")), "{callback}");
    callback
}

async fn follow(browser: &Browser, url: &str) -> TestResponse {
    browser.navigate(url, None, |_| false).await.1
}

#[tokio::test]
async fn a_browser_signs_in_through_the_login_page_and_out_again() {
    let app = spawn_app().await;
    let demo = app.stack.pool.demo.clone();
    let browser = Browser::new();
    let (hidden, hops) = open_login_page(&app, &browser, "/account").await;
    assert_eq!(hops[0].status, 302);
    assert!(
        hops[1]
            .url
            .starts_with(&format!("{}/oauth2/authorize?", app.stack.oauth_url)),
        "{hops:?}"
    );
    assert!(
        browser.cookie(&app.url("/"), FLOW_COOKIE).is_some(),
        "the flow cookie is kept for the API"
    );
    // Host-only with `Path=/` (the shape `__Host-` demands in the cloud): the API's host only.
    assert!(
        browser
            .cookie_header(&app.url("/auth/oauth/callback"))
            .contains(FLOW_COOKIE)
    );
    assert!(
        !browser
            .cookie_header(&format!("{}/oauth2/authorize", app.stack.oauth_url))
            .contains(FLOW_COOKIE),
        "never sent to the login page's host"
    );

    let callback = sign_in_on_login_page(&app, &browser, &hidden, &demo.username, &demo.password).await;
    let tokens = follow(&browser, &callback).await;
    assert_eq!(tokens.status, 200, "{}", tokens.raw);
    assert_eq!(tokens.body["redirectTo"], "/account");
    assert_eq!(tokens.body["tokenType"], "Bearer");
    assert!(tokens.body["refreshToken"].is_string() && tokens.body["idToken"].is_string());
    assert!(
        browser.cookie(&app.url("/"), FLOW_COOKIE).is_none(),
        "the callback clears the flow cookie"
    );
    let access = tokens.body["accessToken"].as_str().expect("access token").to_owned();

    let info = app.get_with_token("/auth/userinfo", &access).await;
    assert_eq!(info.status, 200, "{}", info.raw);
    assert_eq!(info.body["username"], demo.username.as_str());
    assert_eq!(info.body["email"], demo.email.as_str());
    assert_eq!(info.body["emailVerified"], true);
    let me = app.get_with_token("/auth/me", &access).await;
    assert_eq!(
        (me.status.as_u16(), me.body["sub"].clone()),
        (200, info.body["sub"].clone()),
        "{}",
        me.raw
    );

    // Logout: the login page's session ends, then back to the remembered path.
    let (hops, _) = browser
        .navigate(&app.url("/auth/oauth/logout?redirectTo=/bye"), None, |next| {
            !next.ends_with("/bye")
        })
        .await;
    let urls: Vec<&str> = hops.iter().map(|h| h.url.as_str()).collect();
    assert!(
        urls[1].starts_with(&format!("{}/logout?", app.stack.oauth_url)),
        "{urls:?}"
    );
    assert_eq!(urls[2], app.url("/auth/oauth/signed-out"), "{urls:?}");
    assert_eq!(hops[2].location.as_deref(), Some(app.url("/bye").as_str()), "{hops:?}");
    app.stop().await;
}

#[tokio::test]
async fn password_sign_in_tokens_get_insufficient_scope_at_userinfo() {
    let app = spawn_app().await;
    let access = app.admin_token().await;
    let info = app.get_with_token("/auth/userinfo", &access).await;
    assert_eq!(
        (info.status.as_u16(), info.code()),
        (403, "InsufficientScope"),
        "{}",
        info.raw
    );
    assert!(info.body["detail"].as_str().is_some_and(|d| d.contains("/auth/me")));
    let anonymous = app.send(Method::GET, "/auth/userinfo", &[], "").await;
    assert_eq!(anonymous.status, 401);
    app.stop().await;
}

#[tokio::test]
async fn callbacks_that_are_not_this_browsers_flow_are_refused() {
    let app = spawn_app().await;
    let demo = app.stack.pool.demo.clone();

    // A code obtained in one browser, delivered to another (login CSRF): no cookie.
    let victim = Browser::new();
    let attacker = Browser::new();
    let (hidden, _) = open_login_page(&app, &attacker, "/").await;
    let attackers_callback = sign_in_on_login_page(&app, &attacker, &hidden, &demo.username, &demo.password).await;
    let refused = follow(&victim, &attackers_callback).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (400, "InvalidOAuthState"),
        "{}",
        refused.raw
    );

    // The victim has a flow of their own: another flow's state still does not match it.
    let _ = open_login_page(&app, &victim, "/").await;
    let refused = follow(&victim, &attackers_callback).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (400, "InvalidOAuthState"),
        "{}",
        refused.raw
    );

    // A tampered cookie.
    let tampering = Browser::new();
    let (hidden, _) = open_login_page(&app, &tampering, "/").await;
    let callback = sign_in_on_login_page(&app, &tampering, &hidden, &demo.username, &demo.password).await;
    let sealed = tampering.cookie(&app.url("/"), FLOW_COOKIE).expect("flow cookie");
    let flipped: String = sealed
        .chars()
        .enumerate()
        .map(|(i, c)| if i == 20 { if c == 'A' { 'B' } else { 'A' } } else { c })
        .collect();
    tampering.set_cookie(&app.url("/"), FLOW_COOKIE, &flipped, "/auth/oauth/callback");
    let refused = follow(&tampering, &callback).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (400, "InvalidOAuthState"),
        "{}",
        refused.raw
    );

    // The legitimate browser's own callback works once; replaying its code with its (captured)
    // cookie is refused by the token endpoint.
    let owner = Browser::new();
    let (hidden, _) = open_login_page(&app, &owner, "/").await;
    let callback = sign_in_on_login_page(&app, &owner, &hidden, &demo.username, &demo.password).await;
    let captured = owner.cookie(&app.url("/"), FLOW_COOKIE).expect("flow cookie");
    assert_eq!(follow(&owner, &callback).await.status, 200);
    owner.set_cookie(&app.url("/"), FLOW_COOKIE, &captured, "/auth/oauth/callback");
    let replayed = follow(&owner, &callback).await;
    assert_eq!(
        (replayed.status.as_u16(), replayed.code()),
        (400, "InvalidGrant"),
        "{}",
        replayed.raw
    );
    app.stop().await;
}

#[tokio::test]
async fn a_refusal_on_the_login_page_is_oauth_denied() {
    let app = spawn_app().await;
    let browser = Browser::new();
    let (hidden, _) = open_login_page(&app, &browser, "/").await;
    let mut form: Vec<(&str, &str)> = hidden.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    form.push(("cancel", "1"));
    let (hops, answer) = browser
        .navigate(&format!("{}/oauth2/login", app.stack.oauth_url), Some(&form), |_| true)
        .await;
    assert!(hops[1].url.contains("error=access_denied"), "{hops:?}");
    assert_eq!(
        (answer.status.as_u16(), answer.code()),
        (401, "OAuthDenied"),
        "{}",
        answer.raw
    );
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("access_denied"))
    );
    app.stop().await;
}

#[tokio::test]
async fn redirect_targets_off_this_site_never_start_a_flow() {
    let app = spawn_app().await;
    for attack in [
        "https://evil.example",
        "//evil.example",
        "/%5Cevil.example",
        "/%252F%252Fevil.example",
        "%2F%2Fevil.example",
    ] {
        let response = app
            .send(
                Method::GET,
                &format!("/auth/oauth/authorize?redirectTo={attack}"),
                &[],
                "",
            )
            .await;
        assert_eq!(
            (response.status.as_u16(), response.code()),
            (400, "ValidationFailed"),
            "{attack}: {}",
            response.raw
        );
        assert_eq!(response.body["errors"][0]["source"], "redirectTo");
        assert!(response.headers.get(http::header::SET_COOKIE).is_none());
    }
    // `/\evil.example` as a browser sends it (the backslash percent-encoded by the client).
    let response = app
        .send(Method::GET, "/auth/oauth/authorize?redirectTo=/\\evil.example", &[], "")
        .await;
    assert_eq!(response.status, 400, "{}", response.raw);
    app.stop().await;
}

/// An app running PKCE itself: it sends the browser to the login page with its own challenge
/// and its own redirect URI; the code it gets back.
async fn app_code(app: &TestApp, browser: &Browser, challenge: &str) -> String {
    let demo = app.stack.pool.demo.clone();
    let authorize = format!(
        "{}/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid&state=app-state&code_challenge_method=S256&code_challenge={challenge}",
        app.stack.oauth_url, app.stack.pool.client_id, APP_REDIRECT_URI
    );
    let (_, page) = browser.navigate(&authorize, None, |_| false).await;
    let mut form = hidden_inputs(&page.raw);
    form.push(("username".into(), demo.username.clone()));
    form.push(("password".into(), demo.password.clone()));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (hops, _) = browser
        .navigate(&format!("{}/oauth2/login", app.stack.oauth_url), Some(&form), |_| false)
        .await;
    let location = hops[0].location.clone().expect("redirect to the app");
    assert!(location.starts_with(APP_REDIRECT_URI), "{location}");
    location
        .split_once("code=")
        .and_then(|(_, rest)| rest.split('&').next())
        .expect("code")
        .to_owned()
}

async fn exchange(app: &TestApp, body: serde_json::Value) -> TestResponse {
    app.send(
        Method::POST,
        "/auth/oauth/token",
        &[("content-type", "application/json"), ("origin", APP_ORIGIN)],
        body.to_string(),
    )
    .await
}

#[tokio::test]
async fn apps_exchange_their_code_with_their_verifier_and_a_registered_redirect_uri() {
    let app = spawn_app().await;
    let verifier = "app-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
    let challenge = {
        use base64::Engine;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    };
    let browser = Browser::new();

    let code = app_code(&app, &browser, &challenge).await;
    let wrong = exchange(
        &app,
        json!({"code": code, "redirectUri": APP_REDIRECT_URI, "codeVerifier": format!("{verifier}-not")}),
    )
    .await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.code()),
        (400, "InvalidGrant"),
        "{}",
        wrong.raw
    );

    let code = app_code(&app, &browser, &challenge).await;
    let unregistered = exchange(
        &app,
        json!({"code": code, "redirectUri": "https://evil.example/callback", "codeVerifier": verifier}),
    )
    .await;
    assert_eq!(
        (
            unregistered.status.as_u16(),
            unregistered.body["errors"][0]["source"].as_str()
        ),
        (400, Some("redirectUri"))
    );
    let exchanged = exchange(
        &app,
        json!({"code": code, "redirectUri": APP_REDIRECT_URI, "codeVerifier": verifier}),
    )
    .await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.raw);
    assert!(exchanged.body["accessToken"].is_string());
    assert_eq!(
        exchanged
            .headers
            .get(http::header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .and_then(|v| v.to_str().ok()),
        Some(APP_ORIGIN)
    );
    let again = exchange(
        &app,
        json!({"code": code, "redirectUri": APP_REDIRECT_URI, "codeVerifier": verifier}),
    )
    .await;
    assert_eq!(
        (again.status.as_u16(), again.code()),
        (400, "InvalidGrant"),
        "a code is single-use"
    );
    app.stop().await;
}
