//! No secret reaches a log line at any level. Every function runs as Lambda runs it (its own
//! binary, under a local Lambda Runtime API, with `AWS_LAMBDA_LOG_LEVEL=TRACE` and
//! `RUST_LOG=trace`), is fed events that carry passwords, tokens and codes, and everything it
//! writes is searched for them. The debug binaries are checked, and one release build of
//! `sign_in` (the runtime logs differently without `debug_assertions`). `make test` builds them
//! before the tests run.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use integration_tests::{TestApp, spawn_app};
use lambda_harness::deployment::{Deployment, SESSION_TOKEN, discover_functions, lambda_env, workspace_root};
use lambda_harness::runtime_api::{Invocation, Report, RuntimeApi};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

const NEW_PASSWORD: &str = "Trace-Secret-Passw0rd";
const TEMPORARY_PASSWORD: &str = "Temp-Secret-Passw0rd1";
const CODE: &str = "c0de-7g1x-secret";
const CHANGED_PASSWORD: &str = "Changed-Secret-Passw0rd2";
const VERIFIER: &str = "trace-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

fn binary(profile: &str, function: &str) -> PathBuf {
    let path = target_dir().join(profile).join(function);
    assert!(
        path.is_file(),
        "{} is missing: `make test` builds the function binaries before the tests",
        path.display()
    );
    path
}

/// The function's event file with this body (a JSON text) and bearer token.
fn event(function: &str, body: Option<Value>, bearer: Option<&str>) -> Vec<u8> {
    let path = workspace_root().join("events").join(format!("{function}.json"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("event file")).expect("JSON");
    if let Some(body) = body {
        event["body"] = Value::String(body.to_string());
    }
    if let Some(token) = bearer {
        let value = format!("Bearer {token}");
        event["headers"]["Authorization"] = json!(value);
        event["multiValueHeaders"]["Authorization"] = json!([value]);
    }
    serde_json::to_vec(&event).expect("JSON")
}

/// The function's event file sent to another route of the same function.
fn routed_event(function: &str, method: &str, resource: &str, body: Option<Value>, bearer: Option<&str>) -> Vec<u8> {
    let mut event: Value = serde_json::from_slice(&self::event(function, body.clone(), bearer)).expect("JSON");
    event["httpMethod"] = json!(method);
    event["resource"] = json!(resource);
    event["path"] = json!(resource);
    event["requestContext"]["resourcePath"] = json!(resource);
    event["requestContext"]["httpMethod"] = json!(method);
    if body.is_some() {
        event["headers"]["Content-Type"] = json!("application/json");
        event["multiValueHeaders"]["Content-Type"] = json!(["application/json"]);
    } else {
        event["body"] = Value::Null;
    }
    serde_json::to_vec(&event).expect("JSON")
}

/// A GET of another route of the function with a query and a `Cookie` header.
fn routed_query_event(function: &str, resource: &str, query: &[(&str, &str)], cookie: &str) -> Vec<u8> {
    let mut event: Value = serde_json::from_slice(&routed_event(function, "GET", resource, None, None)).expect("JSON");
    let single: serde_json::Map<String, Value> = query.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
    let multi: serde_json::Map<String, Value> = query.iter().map(|(k, v)| ((*k).to_owned(), json!([v]))).collect();
    event["queryStringParameters"] = Value::Object(single);
    event["multiValueQueryStringParameters"] = Value::Object(multi);
    event["headers"]["Cookie"] = json!(cookie);
    event["multiValueHeaders"]["Cookie"] = json!([cookie]);
    serde_json::to_vec(&event).expect("JSON")
}

/// Secrets in a function's answer (a Lambda proxy response whose body is JSON).
fn issued_secrets(answer: &str) -> Vec<String> {
    let Ok(response) = serde_json::from_str::<Value>(answer) else {
        return Vec::new();
    };
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap_or("{}")).unwrap_or_default();
    ["accessToken", "refreshToken", "idToken", "session", "secretCode"]
        .iter()
        .filter_map(|name| body[*name].as_str().map(str::to_owned))
        .collect()
}

/// Runs `binary` under a local Runtime API with `env`, feeds it `events`, and answers what it
/// wrote (standard output and error) and its answers.
async fn run(function: &str, binary: &Path, env: Vec<(String, String)>, events: Vec<Vec<u8>>) -> (String, Vec<String>) {
    let mut api = RuntimeApi::start(format!("arn:aws:lambda:us-east-1:123456789012:function:{function}"))
        .await
        .expect("runtime API");
    let mut child = Command::new(binary)
        .env_clear()
        .envs(env)
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text).await;
        text
    });
    let err = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut answers = Vec::new();
    for (i, payload) in events.into_iter().enumerate() {
        assert!(
            api.invoke(Invocation {
                request_id: format!("0000000{i}-0000-4000-8000-000000000000"),
                trace_id: "Root=1-00000000-000000000000000000000000;Sampled=0".into(),
                payload,
            })
            .await
        );
        let answer = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match api.report().await {
                    Some(Report::Response { body, .. }) => return String::from_utf8_lossy(&body).into_owned(),
                    Some(Report::Error { body }) | Some(Report::InitError { body }) => {
                        return format!("error {}", String::from_utf8_lossy(&body));
                    }
                    Some(_) => {}
                    None => return "runtime API stopped".to_owned(),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{function}: no answer within 60 s"));
        answers.push(answer);
    }
    let _ = child.start_kill();
    let _ = child.wait().await;
    let logs = format!("{}{}", out.await.unwrap_or_default(), err.await.unwrap_or_default());
    (logs, answers)
}

struct Secrets {
    values: Vec<String>,
}

impl Secrets {
    fn assert_absent(&self, function: &str, logs: &str) {
        for secret in &self.values {
            assert!(!logs.contains(secret.as_str()), "{function} logged a secret at TRACE");
        }
        assert!(!logs.contains(SESSION_TOKEN), "{function} logged the AWS session token");
        assert!(!logs.contains("Signature="), "{function} logged a request signature");
    }
}

async fn session(app: &TestApp, username: &str, password: &str) -> Value {
    app.sign_in(username, password).await
}

#[tokio::test]
async fn no_function_logs_a_secret_at_trace() {
    let app = spawn_app().await;
    let demo = app.stack.pool.demo.clone();
    let admin = session(&app, &demo.username, &demo.password).await;
    let access = admin["accessToken"].as_str().expect("token").to_owned();
    let refresh = admin["refreshToken"].as_str().expect("token").to_owned();
    let me = app.get_with_token("/auth/me", &access).await;
    let sub = me.body["sub"].as_str().expect("sub").to_owned();
    // A user of its own for logout, which ends every session of its user.
    let made = app
        .call(
            http::Method::POST,
            "/admin/users",
            &access,
            Some(
                &json!({"username": "leaver", "email": "leaver@example.com", "temporaryPassword": TEMPORARY_PASSWORD}),
            ),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.raw);
    app.set_permanent_password("leaver", NEW_PASSWORD).await;
    let leaver = session(&app, "leaver", NEW_PASSWORD).await;
    let leaver_access = leaver["accessToken"].as_str().expect("token").to_owned();
    let leaver_refresh = leaver["refreshToken"].as_str().expect("token").to_owned();

    // A user of its own for the password and MFA routes (a reset ends its sessions).
    let made = app
        .call(
            http::Method::POST,
            "/admin/users",
            &access,
            Some(&json!({"username": "resetter", "email": "resetter@example.com", "temporaryPassword": TEMPORARY_PASSWORD})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.raw);
    app.set_permanent_password("resetter", NEW_PASSWORD).await;
    let resetter = session(&app, "resetter", NEW_PASSWORD).await;
    let resetter_access = resetter["accessToken"].as_str().expect("token").to_owned();
    // A user whose first sign-in asks for a new password.
    let made = app
        .call(
            http::Method::POST,
            "/admin/users",
            &access,
            Some(&json!({"username": "newcomer", "email": "newcomer@example.com", "temporaryPassword": TEMPORARY_PASSWORD})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.raw);
    let challenge = app
        .post_json(
            "/auth/sign-in",
            &json!({"username": "newcomer", "password": TEMPORARY_PASSWORD}),
        )
        .await;
    let challenge_session = challenge.body["session"].as_str().expect("session").to_owned();
    let totp_secret = app
        .call(http::Method::POST, "/auth/mfa/totp/setup", &resetter_access, None)
        .await
        .body["secretCode"]
        .as_str()
        .expect("secret")
        .to_owned();
    let totp = integration_tests::current_totp(&totp_secret).await;
    // A sign-in code and its session, and a password-less sign-up's session.
    let otp_challenge = app
        .post_json("/auth/sign-in", &json!({"username": "leaver", "method": "email-otp"}))
        .await;
    let otp_session = otp_challenge.body["session"].as_str().expect("session").to_owned();
    let otp_code = app.stack.outbox.messages(Some("leaver@example.com"))[0].code.clone();
    let signed_up = app
        .post_json(
            "/auth/sign-up",
            &json!({"username": "trace-passwordless", "email": "trace-pl@example.com"}),
        )
        .await;
    let sign_up_session = signed_up.body["session"].as_str().expect("session").to_owned();

    let mut secrets = Secrets {
        values: vec![
            demo.password.clone(),
            access.clone(),
            refresh.clone(),
            admin["idToken"].as_str().expect("token").to_owned(),
            leaver_access.clone(),
            leaver_refresh.clone(),
            NEW_PASSWORD.to_owned(),
            TEMPORARY_PASSWORD.to_owned(),
            CODE.to_owned(),
            CHANGED_PASSWORD.to_owned(),
            resetter_access.clone(),
            challenge_session.clone(),
            totp_secret.clone(),
            totp.clone(),
            VERIFIER.to_owned(),
            otp_session.clone(),
            sign_up_session.clone(),
            // Six digits alone would match timestamps: the code as a value, quoted or after `=`.
            format!("\"{otp_code}"),
            format!("={otp_code}"),
        ],
    };
    // Tokens are long: a log line quoting part of one (a signature, a payload) is a leak too.
    let parts: Vec<String> = secrets
        .values
        .iter()
        .flat_map(|s| {
            s.split('.')
                .filter(|p| p.len() > 20)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    secrets.values.extend(parts);

    let deployment = Deployment {
        endpoint: app.stack.emulator_url.clone(),
        cognito_endpoint: app.stack.cognito_url.clone(),
        user_pool_id: app.stack.pool.user_pool_id.clone(),
        client_id: app.stack.pool.client_id.clone(),
        revocation_table: local_gateway::seed::REVOCATION_TABLE.into(),
        log_level: "TRACE".into(),
        oauth_domain: app.stack.oauth_url.clone(),
        cookie_key_secret: local_gateway::seed::COOKIE_KEY_SECRET.into(),
        template_env: app.stack.api.function_env.clone(),
    };
    let events_for = |function: &str| -> Vec<Vec<u8>> {
        let body = |v: Value| Some(v);
        match function {
            "sign_in" => vec![
                event(
                    function,
                    body(json!({"username": demo.username, "password": demo.password})),
                    None,
                ),
                event(
                    function,
                    body(json!({"username": "resetter", "method": "email-otp"})),
                    None,
                ),
            ],
            "sign_up" => vec![
                event(
                    function,
                    body(json!({"username": "trace-user", "password": NEW_PASSWORD, "email": "trace@example.com"})),
                    None,
                ),
                event(
                    function,
                    body(json!({"username": "trace-no-password", "email": "trace-np@example.com"})),
                    None,
                ),
            ],
            "verify_account" => vec![
                event(function, body(json!({"username": "trace-user", "code": CODE})), None),
                event(
                    function,
                    body(json!({"username": "trace-passwordless", "code": CODE, "session": sign_up_session})),
                    None,
                ),
            ],
            "refresh_tokens" => vec![event(
                function,
                body(json!({"refreshToken": refresh, "username": sub})),
                None,
            )],
            "logout" => vec![event(
                function,
                body(json!({"refreshToken": leaver_refresh})),
                Some(&leaver_access),
            )],
            "admin_users" => {
                let mut create: Value = serde_json::from_slice(&event(function, None, Some(&access))).expect("JSON");
                create["httpMethod"] = json!("POST");
                create["resource"] = json!("/admin/users");
                create["requestContext"]["resourcePath"] = json!("/admin/users");
                create["requestContext"]["httpMethod"] = json!("POST");
                create["headers"]["Content-Type"] = json!("application/json");
                create["body"] = json!(
                    json!({"username": "trace-made", "email": "made@example.com", "temporaryPassword": TEMPORARY_PASSWORD})
                        .to_string()
                );
                vec![
                    event(function, None, Some(&access)),
                    serde_json::to_vec(&create).expect("JSON"),
                ]
            }
            "authorizer" => {
                let text = std::fs::read_to_string(workspace_root().join("events/authorizer.request.json"))
                    .expect("event")
                    .replace("REPLACE_WITH_ACCESS_TOKEN", &access);
                vec![text.into_bytes()]
            }
            "pre_token_generation" => vec![event(function, None, None)],
            "password" => vec![
                routed_event(
                    function,
                    "POST",
                    "/auth/forgot-password",
                    Some(json!({"username": "resetter"})),
                    None,
                ),
                routed_event(
                    function,
                    "POST",
                    "/auth/confirm-forgot-password",
                    Some(json!({"username": "resetter", "code": CODE, "newPassword": NEW_PASSWORD})),
                    None,
                ),
                routed_event(
                    function,
                    "POST",
                    "/auth/change-password",
                    Some(json!({"previousPassword": NEW_PASSWORD, "proposedPassword": CHANGED_PASSWORD})),
                    Some(&resetter_access),
                ),
            ],
            "respond_to_challenge" => vec![
                event(
                    function,
                    body(
                        json!({"challengeName": "NEW_PASSWORD_REQUIRED", "session": challenge_session, "username": "newcomer",
                                "responses": {"NEW_PASSWORD": NEW_PASSWORD}}),
                    ),
                    None,
                ),
                event(
                    function,
                    body(
                        json!({"challengeName": "EMAIL_OTP", "session": otp_session, "username": "leaver",
                                "responses": {"EMAIL_OTP_CODE": otp_code}}),
                    ),
                    None,
                ),
            ],
            "mfa" => vec![
                routed_event(function, "POST", "/auth/mfa/totp/setup", None, Some(&resetter_access)),
                routed_event(
                    function,
                    "POST",
                    "/auth/mfa/totp/verify",
                    Some(json!({"code": totp, "friendlyDeviceName": "trace phone"})),
                    Some(&resetter_access),
                ),
                routed_event(
                    function,
                    "PUT",
                    "/auth/mfa",
                    Some(json!({"totp": "enabled"})),
                    Some(&resetter_access),
                ),
            ],
            "oauth" => vec![
                event(function, None, None),
                routed_query_event(
                    function,
                    "/auth/oauth/callback",
                    &[("code", CODE), ("state", "trace-state")],
                    &format!("oauth_flow={}", "A".repeat(80)),
                ),
                routed_event(
                    function,
                    "POST",
                    "/auth/oauth/token",
                    Some(
                        json!({"code": CODE, "redirectUri": "https://app.example/callback", "codeVerifier": VERIFIER}),
                    ),
                    None,
                ),
                routed_event(function, "GET", "/auth/userinfo", None, Some(&access)),
            ],
            "me" => vec![
                event(function, None, Some(&access)),
                routed_event(
                    function,
                    "PATCH",
                    "/auth/me",
                    Some(json!({"attributes": {"name": "Trace Name"}})),
                    Some(&access),
                ),
            ],
            _ => vec![event(function, None, Some(&access))],
        }
    };

    let mut saw_trace_or_debug = false;
    let mut invocation_lines = 0;
    for function in discover_functions(&workspace_root(), None).expect("functions") {
        let env: Vec<(String, String)> = lambda_env(&function, &deployment)
            .expect("environment")
            .into_iter()
            .chain([("RUST_LOG".to_owned(), "trace".to_owned())])
            .collect();
        let (logs, answers) = run(&function, &binary("debug", &function), env, events_for(&function)).await;
        assert!(
            answers
                .iter()
                .all(|a| !a.starts_with("error") && !a.contains("\"statusCode\":500")),
            "{function}: {answers:?}"
        );
        // The secret-bearing calls of choice-based sign-in went through, not refused early.
        if ["sign_up", "verify_account", "respond_to_challenge"].contains(&function.as_str()) {
            assert!(
                answers.iter().all(|a| a.contains("\"statusCode\":20")),
                "{function}: {answers:?}"
            );
        }
        secrets.assert_absent(&function, &logs);
        // What the function answered with (tokens, sessions, secrets) is secret too.
        for answer in &answers {
            for issued in issued_secrets(answer) {
                assert!(!logs.contains(&issued), "{function} logged a secret it answered with");
            }
        }
        saw_trace_or_debug |= logs.contains("\"level\":\"TRACE\"") || logs.contains("\"level\":\"DEBUG\"");
        // Every line of an invocation (it names the request) carries its X-Ray trace id too,
        // from the runtime's span, to join a log line to its trace.
        for line in logs.lines().filter(|l| l.contains("\"requestId\":")) {
            assert!(
                line.contains("\"xrayTraceId\":\"Root=1-00000000-000000000000000000000000;Sampled=0\""),
                "{function}: a line without the trace id: {line}"
            );
            invocation_lines += 1;
        }
    }
    assert!(invocation_lines > 0, "no function logged within an invocation");
    assert!(
        saw_trace_or_debug,
        "the functions did not log below INFO: the level was not applied"
    );

    // The release build of sign_in, as deployed.
    let env: Vec<(String, String)> = lambda_env("sign_in", &deployment)
        .expect("environment")
        .into_iter()
        .chain([("RUST_LOG".to_owned(), "trace".to_owned())])
        .collect();
    let (logs, answers) = run("sign_in", &binary("release", "sign_in"), env, events_for("sign_in")).await;
    assert!(answers[0].contains("accessToken"), "{answers:?}");
    for answer in &answers {
        // The tokens it answered with are secrets too.
        let issued: Value = serde_json::from_str(answer).expect("JSON");
        let body: Value = serde_json::from_str(issued["body"].as_str().unwrap_or("{}")).unwrap_or_default();
        for token in ["accessToken", "refreshToken", "idToken"] {
            if let Some(t) = body[token].as_str() {
                assert!(!logs.contains(t), "the release sign_in logged its {token}");
            }
        }
    }
    secrets.assert_absent("sign_in (release)", &logs);
    app.stop().await;
}
