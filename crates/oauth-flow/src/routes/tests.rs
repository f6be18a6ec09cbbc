//! The routes against a local double of the pool domain's endpoints and ID tokens signed by a
//! test key, attacks included.

use std::collections::HashMap;

use cognito_jwt::testkit::{CLIENT, FakeFetcher, ISSUER, JWKS_URL, id_claims, jwks_of, key, mint, with};
use http::header::{CACHE_CONTROL, LOCATION};
use lambda_http::request::RequestContext;
use serde_json::{Value, json};

use super::*;
use crate::cookie::CookieKey;
use crate::settings::OAuthSettings;
use crate::test_double::{answer, double};

const SECRET: &str = "test-cookie-secret-0123456789abcdefghij";
const CALLBACK: &str = "https://api.example.com/prod/auth/oauth/callback";
const APP_REDIRECT: &str = "https://app.example.com/callback";

fn api_for(domain: &str) -> OAuthApi {
    let env = auth_contract::config::Env::from_pairs(&[
        ("COGNITO_DOMAIN", domain),
        ("COGNITO_CLIENT_ID", CLIENT),
        ("COGNITO_USER_POOL_ID", "eu-west-1_TestPool"),
        ("COGNITO_ISSUER", ISSUER),
        ("COGNITO_JWKS_URL", JWKS_URL),
        ("OAUTH_CALLBACK_URL", CALLBACK),
        (
            "OAUTH_SIGN_OUT_URL",
            "https://api.example.com/prod/auth/oauth/signed-out",
        ),
        ("OAUTH_APP_REDIRECT_URIS", APP_REDIRECT),
        ("OAUTH_ALLOWED_ORIGINS", "https://app.example.com"),
        (
            "OAUTH_COOKIE_KEY_SECRET_ARN",
            "arn:aws:secretsmanager:eu-west-1:1:secret:k",
        ),
    ]);
    let settings = OAuthSettings::from_env(&env).expect("settings");
    let jwks = FakeFetcher::serving(JWKS_URL, jwks_of(&[key(0)]));
    OAuthApi::new(settings, CookieKey::derive(SECRET).expect("key"), jwks).expect("api")
}

/// A request on `resource` as API Gateway hands it over (route in the context, query decoded).
fn request(method: &str, resource: &str, query: &[(&str, &str)], cookie: Option<&str>) -> Request {
    let mut builder = http::Request::builder().method(method).uri(resource);
    if let Some(cookie) = cookie {
        builder = builder.header(http::header::COOKIE, cookie);
    }
    let mut context = aws_lambda_events::apigw::ApiGatewayProxyRequestContext::default();
    context.http_method = method.parse().expect("method");
    context.resource_path = Some(resource.to_owned());
    builder
        .body(Body::Empty)
        .expect("request")
        .with_request_context(RequestContext::ApiGatewayV1(context))
        .with_query_string_parameters(
            query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<HashMap<_, _>>(),
        )
}

fn id_token() -> String {
    id_token_with(id_claims())
}

fn id_token_with(claims: Value) -> String {
    let now = unix_now();
    let claims = with(
        with(with(claims, "iat", json!(now - 5)), "auth_time", json!(now - 5)),
        "exp",
        json!(now + 3600),
    );
    mint(key(0), &claims)
}

fn tokens_answer(id_token: &str) -> String {
    let body = json!({"id_token": id_token, "access_token": "access.jwt", "refresh_token": "refresh-1", "expires_in": 3600, "token_type": "Bearer"});
    answer("200 OK", &["Content-Type: application/json"], &body.to_string())
}

fn body_of(response: &Response<Body>) -> Value {
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).expect("JSON"),
        _ => Value::Null,
    }
}

fn header(response: &Response<Body>, name: http::header::HeaderName) -> Vec<&str> {
    response
        .headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

/// Starts a flow: the login page URL's query and the `Cookie` header value to send back.
async fn start(api: &OAuthApi, redirect_to: Option<&str>) -> (HashMap<String, String>, String) {
    let query: Vec<(&str, &str)> = redirect_to.map(|r| vec![("redirectTo", r)]).unwrap_or_default();
    let response = handler(api, request("GET", "/auth/oauth/authorize", &query, None))
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = header(&response, LOCATION)[0];
    let params: HashMap<String, String> = form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
        .into_owned()
        .collect();
    let set_cookie = header(&response, SET_COOKIE)[0];
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    (params, cookie)
}

#[tokio::test]
async fn authorize_sends_the_browser_to_the_login_page_with_state_and_pkce() {
    let api = api_for("https://auth.example.com");
    let response = handler(
        &api,
        request("GET", "/auth/oauth/authorize", &[("redirectTo", "/account")], None),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(header(&response, CACHE_CONTROL), ["no-store"]);
    let location = header(&response, LOCATION)[0];
    assert!(
        location.starts_with("https://auth.example.com/oauth2/authorize?"),
        "{location}"
    );
    let params: HashMap<String, String> = form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["client_id"], CLIENT);
    assert_eq!(params["redirect_uri"], CALLBACK);
    assert_eq!(params["scope"], "openid email profile aws.cognito.signin.user.admin");
    assert_eq!(params["code_challenge_method"], "S256");
    assert!(params["state"].len() >= 32);

    let set_cookie = header(&response, SET_COOKIE)[0];
    for attribute in ["Path=/;", "Max-Age=600", "HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(set_cookie.starts_with("__Host-oauth_flow="));
    // The cookie holds this flow: its state, and the verifier of this challenge.
    let sealed = set_cookie.split(';').next().unwrap().split_once('=').unwrap().1;
    let flow: Flow = api.key.open("__Host-oauth_flow", sealed).expect("a sealed flow");
    assert_eq!(flow.state, params["state"]);
    assert_eq!(
        CodeVerifier::try_from(flow.verifier).unwrap().challenge(),
        params["code_challenge"]
    );
    assert_eq!(flow.redirect_to.as_str(), "/account");
    assert!(
        !set_cookie.contains(&params["state"]),
        "the state is not readable in the cookie"
    );
}

#[tokio::test]
async fn redirect_targets_off_this_site_are_refused_at_authorize_and_logout() {
    let api = api_for("https://auth.example.com");
    for attack in [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "/%2F%2Fevil.example",
        "/%5C%5Cevil.example",
        "javascript:alert(1)",
        "/..//evil.example",
        "/\r\nLocation: https://evil.example",
    ] {
        for route in ["/auth/oauth/authorize", "/auth/oauth/logout"] {
            let response = handler(&api, request("GET", route, &[("redirectTo", attack)], None))
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{route} {attack:?}");
            let body = body_of(&response);
            assert_eq!(
                (body["code"].as_str(), body["errors"][0]["source"].as_str()),
                (Some("ValidationFailed"), Some("redirectTo"))
            );
            assert!(header(&response, SET_COOKIE).is_empty());
        }
    }
}

#[tokio::test]
async fn the_callback_redeems_the_code_with_the_flows_verifier_and_answers_verified_tokens() {
    let (base, seen) = double(vec![tokens_answer(&id_token())]).await;
    let api = api_for(&base);
    let (params, cookie) = start(&api, Some("/account")).await;
    let callback = request(
        "GET",
        "/auth/oauth/callback",
        &[("code", "the-code"), ("state", &params["state"])],
        Some(&cookie),
    );
    let response = handler(&api, callback).await.unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.body());
    let body = body_of(&response);
    assert_eq!(body["accessToken"], "access.jwt");
    assert_eq!(body["refreshToken"], "refresh-1");
    assert_eq!(body["tokenType"], "Bearer");
    assert_eq!(body["redirectTo"], "/account");
    let cleared = header(&response, SET_COOKIE);
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("__Host-oauth_flow=;") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );

    let sent = seen.lock().unwrap()[0].form();
    let field = |name: &str| sent.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(field("code").as_deref(), Some("the-code"));
    assert_eq!(field("redirect_uri").as_deref(), Some(CALLBACK));
    let verifier = CodeVerifier::try_from(field("code_verifier").unwrap()).unwrap();
    assert_eq!(
        verifier.challenge(),
        params["code_challenge"],
        "the verifier of this flow's challenge"
    );
}

#[tokio::test]
async fn a_callback_without_this_browsers_flow_is_refused_before_any_exchange() {
    let (base, seen) = double(vec![]).await;
    let api = api_for(&base);
    let (params, cookie) = start(&api, None).await;
    let (other_params, other_cookie) = start(&api, None).await;
    let (name, sealed) = cookie.split_once('=').unwrap();
    let mut bytes = sealed.as_bytes().to_vec();
    let last = bytes.len() - 3;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{name}={}", String::from_utf8(bytes).unwrap());
    let expired = {
        let flow = Flow {
            state: params["state"].clone(),
            verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
            redirect_to: RelativePath::root(),
            expires_at: unix_now() - 1,
        };
        format!("{name}={}", api.key.seal(name, &flow).unwrap())
    };
    let foreign = {
        let other_key = CookieKey::derive("another-deployment-secret-0123456789abc").unwrap();
        let flow = Flow {
            state: params["state"].clone(),
            verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
            redirect_to: RelativePath::root(),
            expires_at: unix_now() + 60,
        };
        format!("{name}={}", other_key.seal(name, &flow).unwrap())
    };
    let cases: [(&str, Option<&str>, &str); 6] = [
        ("no cookie", None, &params["state"]),
        ("another flow's state", Some(&cookie), &other_params["state"]),
        ("another flow's cookie", Some(&other_cookie), &params["state"]),
        ("a tampered cookie", Some(&tampered), &params["state"]),
        ("an expired cookie", Some(&expired), &params["state"]),
        ("a cookie sealed under another key", Some(&foreign), &params["state"]),
    ];
    for (what, cookie, state) in cases {
        let callback = request(
            "GET",
            "/auth/oauth/callback",
            &[("code", "c"), ("state", state)],
            cookie,
        );
        let response = handler(&api, callback).await.unwrap();
        assert_eq!(response.status(), 400, "{what}");
        assert_eq!(body_of(&response)["code"], "InvalidOAuthState", "{what}");
    }
    let no_state = request("GET", "/auth/oauth/callback", &[("code", "c")], Some(&cookie));
    assert_eq!(
        body_of(&handler(&api, no_state).await.unwrap())["code"],
        "InvalidOAuthState"
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "no code was sent to the token endpoint"
    );
}

#[tokio::test]
async fn the_token_endpoints_answers_become_documented_problems() {
    let cases = [
        (
            answer("400 Bad Request", &[], r#"{"error":"invalid_grant"}"#),
            400,
            "InvalidGrant",
        ),
        (
            answer("400 Bad Request", &[], r#"{"error":"invalid_client"}"#),
            502,
            "IdentityProviderMisconfigured",
        ),
        (
            answer("400 Bad Request", &[], r#"{"error":"unauthorized_client"}"#),
            502,
            "IdentityProviderMisconfigured",
        ),
        (
            answer("503 Service Unavailable", &[], ""),
            503,
            "IdentityProviderUnavailable",
        ),
        (
            tokens_answer(&id_token_with(with(id_claims(), "aud", json!("another-client")))),
            502,
            "IdentityProviderMisconfigured",
        ),
        (
            tokens_answer(&id_token_with(with(id_claims(), "token_use", json!("access")))),
            502,
            "IdentityProviderMisconfigured",
        ),
    ];
    for (reply, status, code) in cases {
        let (base, _) = double(vec![reply]).await;
        let api = api_for(&base);
        let (params, cookie) = start(&api, None).await;
        let callback = request(
            "GET",
            "/auth/oauth/callback",
            &[("code", "c"), ("state", &params["state"])],
            Some(&cookie),
        );
        let response = handler(&api, callback).await.unwrap();
        assert_eq!(
            (response.status().as_u16(), body_of(&response)["code"].as_str()),
            (status, Some(code))
        );
        if status == 503 {
            assert_eq!(header(&response, http::header::RETRY_AFTER), ["1"]);
        }
        assert!(!format!("{:?}", response.body()).contains("access.jwt"));
    }
}

#[tokio::test]
async fn a_refusal_at_the_login_page_is_oauth_denied_with_only_a_plain_code() {
    let api = api_for("https://auth.example.com");
    let (params, cookie) = start(&api, None).await;
    for (error, shown) in [
        ("access_denied", "access_denied"),
        ("<script>alert(1)</script>", "an error"),
    ] {
        let callback = request(
            "GET",
            "/auth/oauth/callback",
            &[
                ("error", error),
                ("error_description", "User said no"),
                ("state", &params["state"]),
            ],
            Some(&cookie),
        );
        let response = handler(&api, callback).await.unwrap();
        let body = body_of(&response);
        assert_eq!(
            (response.status().as_u16(), body["code"].as_str()),
            (401, Some("OAuthDenied"))
        );
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains(shown) && !detail.contains("script") && !detail.contains("User said"),
            "{detail}"
        );
    }
}

fn token_request(body: Value, origin: Option<&str>) -> Request {
    let mut request = request("POST", "/auth/oauth/token", &[], None);
    request
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, "application/json".parse().unwrap());
    if let Some(origin) = origin {
        request.headers_mut().insert(ORIGIN, origin.parse().unwrap());
    }
    *request.body_mut() = Body::Text(body.to_string());
    request
}

#[tokio::test]
async fn apps_running_pkce_themselves_exchange_with_a_configured_redirect_uri_only() {
    let (base, seen) = double(vec![tokens_answer(&id_token())]).await;
    let api = api_for(&base);
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let good = json!({"code": "app-code", "redirectUri": APP_REDIRECT, "codeVerifier": verifier});
    let response = handler(&api, token_request(good.clone(), Some("https://app.example.com")))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(body_of(&response)["idToken"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(
        header(&response, ACCESS_CONTROL_ALLOW_ORIGIN),
        ["https://app.example.com"]
    );
    let sent = seen.lock().unwrap()[0].form();
    assert!(sent.contains(&("redirect_uri".to_owned(), APP_REDIRECT.to_owned())));
    assert!(sent.contains(&("code_verifier".to_owned(), verifier.to_owned())));

    for (body, source) in [
        (
            json!({"code": "c", "redirectUri": "https://evil.example/callback", "codeVerifier": verifier}),
            "redirectUri",
        ),
        (
            json!({"code": "c", "redirectUri": CALLBACK, "codeVerifier": verifier}),
            "redirectUri",
        ),
        (
            json!({"code": "c", "redirectUri": APP_REDIRECT, "codeVerifier": "short"}),
            "codeVerifier",
        ),
        (json!({"redirectUri": APP_REDIRECT, "codeVerifier": verifier}), "code"),
    ] {
        let response = handler(&api, token_request(body.clone(), None)).await.unwrap();
        let problem = body_of(&response);
        assert_eq!(
            (response.status().as_u16(), problem["errors"][0]["source"].as_str()),
            (400, Some(source)),
            "{body}"
        );
    }
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "refused requests never reach the token endpoint"
    );
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let api = api_for("https://auth.example.com");
    let mut preflight = request("OPTIONS", "/auth/oauth/token", &[], None);
    preflight
        .headers_mut()
        .insert(ORIGIN, "https://app.example.com".parse().unwrap());
    let response = handler(&api, preflight).await.unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        header(&response, ACCESS_CONTROL_ALLOW_ORIGIN),
        ["https://app.example.com"]
    );
    assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_METHODS), ["POST, OPTIONS"]);
    let mut evil = request("OPTIONS", "/auth/oauth/token", &[], None);
    evil.headers_mut()
        .insert(ORIGIN, "https://evil.example".parse().unwrap());
    let response = handler(&api, evil).await.unwrap();
    assert!(header(&response, ACCESS_CONTROL_ALLOW_ORIGIN).is_empty());
    assert!(header(&response, ACCESS_CONTROL_ALLOW_METHODS).is_empty());
    assert_eq!(header(&response, VARY), ["Origin"]);
}

fn access_token_with_scope(scope: &str) -> String {
    let payload = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        json!({"sub": "s-1", "scope": scope}).to_string(),
    );
    format!("eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln")
}

fn userinfo(token: &str) -> Request {
    let mut request = request("GET", "/auth/userinfo", &[], None);
    request
        .headers_mut()
        .insert(http::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    request
}

#[tokio::test]
async fn userinfo_answers_the_profile_and_explains_a_token_without_openid() {
    let (base, seen) = double(vec![
        answer(
            "200 OK",
            &[],
            r#"{"sub":"s-1","username":"ada","email":"ada@example.com","email_verified":"true","name":"Ada","custom:team":"blue"}"#,
        ),
        answer("401 Unauthorized", &[r#"WWW-Authenticate: Bearer error="invalid_token""#], ""),
        answer("401 Unauthorized", &[r#"WWW-Authenticate: Bearer error="invalid_token""#], ""),
    ])
    .await;
    let api = api_for(&base);
    let oauth_token = access_token_with_scope("openid email profile");
    let response = handler(&api, userinfo(&oauth_token)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        body_of(&response),
        json!({"sub": "s-1", "username": "ada", "email": "ada@example.com", "emailVerified": true,
               "attributes": {"name": "Ada", "custom:team": "blue"}})
    );
    assert_eq!(
        seen.lock().unwrap()[0].header("authorization"),
        Some(format!("Bearer {oauth_token}"))
    );

    let password_token = access_token_with_scope("aws.cognito.signin.user.admin");
    let response = handler(&api, userinfo(&password_token)).await.unwrap();
    let body = body_of(&response);
    assert_eq!(
        (response.status().as_u16(), body["code"].as_str()),
        (403, Some("InsufficientScope"))
    );
    assert!(body["detail"].as_str().unwrap().contains("/auth/me"));
    let response = handler(&api, userinfo(&oauth_token)).await.unwrap();
    assert_eq!(
        (response.status().as_u16(), body_of(&response)["code"].as_str()),
        (401, Some("Unauthorized"))
    );
}

#[tokio::test]
async fn logout_ends_the_login_page_session_and_comes_back_to_the_remembered_path() {
    let api = api_for("https://auth.example.com");
    let response = handler(
        &api,
        request("GET", "/auth/oauth/logout", &[("redirectTo", "/bye")], None),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        header(&response, LOCATION),
        [
            "https://auth.example.com/logout?client_id=client-one&logout_uri=https%3A%2F%2Fapi.example.com%2Fprod%2Fauth%2Foauth%2Fsigned-out"
        ]
    );
    let set_cookie = header(&response, SET_COOKIE)[0];
    assert!(set_cookie.contains("Path=/;") && set_cookie.contains("HttpOnly"));
    let cookie = set_cookie.split(';').next().unwrap();

    let back = handler(&api, request("GET", "/auth/oauth/signed-out", &[], Some(cookie)))
        .await
        .unwrap();
    assert_eq!(header(&back, LOCATION), ["/bye"]);
    assert!(header(&back, SET_COOKIE)[0].contains("Max-Age=0"));
    for cookie in [None, Some("__Host-oauth_sign_out=forged")] {
        let back = handler(&api, request("GET", "/auth/oauth/signed-out", &[], cookie))
            .await
            .unwrap();
        assert_eq!(header(&back, LOCATION), ["/"], "{cookie:?}");
    }
}
