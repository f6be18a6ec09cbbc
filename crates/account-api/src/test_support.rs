//! Handlers against the real Cognito implementation whose SDK client answers from mocks, so
//! request building, SECRET_HASH and the SDK's own error parsing are all exercised.

use crate::cognito::{CognitoIdentityProvider, CognitoSettings};
use aws_sdk_cognitoidentityprovider as cognito;
use aws_smithy_mocks::{Rule, RuleMode, mock_client};
use lambda_http::http::header;
use lambda_http::{Body, Request, Response};
use secrecy::SecretString;

use crate::{AccountApi, AttributeAllowList};

pub(crate) const CLIENT_ID: &str = "test-client-id";
pub(crate) const CLIENT_SECRET: &str = "test-client-secret";
pub(crate) const POOL_ID: &str = "eu-west-1_TestPool";

pub(crate) fn api(rules: &[&Rule], client_secret: Option<&str>) -> AccountApi<CognitoIdentityProvider> {
    let client = mock_client!(cognito, RuleMode::MatchAny, rules);
    let settings = CognitoSettings {
        region: "eu-west-1".into(),
        user_pool_id: POOL_ID.into(),
        client_id: CLIENT_ID.into(),
        client_secret: client_secret.map(|s| SecretString::from(s.to_owned())),
        team_attribute: "custom:team".into(),
    };
    let attributes = AttributeAllowList::new(["name".to_owned()]).expect("allow-list");
    AccountApi::new(CognitoIdentityProvider::new(client, settings), attributes)
}

/// The body Cognito sends for a failed call (awsJson 1.1).
/// The tokens Cognito's sign-in calls answer with (InitiateAuth, RespondToAuthChallenge).
pub(crate) fn issued_tokens() -> cognito::types::AuthenticationResultType {
    cognito::types::AuthenticationResultType::builder()
        .access_token("access.jwt")
        .id_token("id.jwt")
        .refresh_token("refresh-token")
        .expires_in(3600)
        .token_type("Bearer")
        .build()
}

pub(crate) fn cognito_error(code: &str, message: &str) -> String {
    serde_json::json!({ "__type": code, "message": message }).to_string()
}

pub(crate) fn post_json(path: &str, body: &str) -> Request {
    lambda_http::http::Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body.to_owned()))
        .expect("request")
}

pub(crate) fn with_bearer(mut request: Request, token: &str) -> Request {
    request.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header value"),
    );
    request
}

/// Status and JSON body (Null when empty) of a response.
pub(crate) fn read(response: Response<Body>) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).expect("JSON body"),
        Body::Empty => serde_json::Value::Null,
        other => panic!("unexpected body {other:?}"),
    };
    (status, body)
}

/// A rule answering every call (retries included) with Cognito's error `code`.
pub(crate) fn fails_with<I, O, E>(builder: aws_smithy_mocks::RuleBuilder<I, O, E>, code: &str, message: &str) -> Rule
where
    I: std::fmt::Debug + Send + Sync + 'static,
    O: std::fmt::Debug + Send + Sync + 'static,
    E: std::fmt::Debug + Send + Sync + std::error::Error + 'static,
{
    builder
        .sequence()
        .http_status(400, Some(cognito_error(code, message)))
        .repeatedly()
        .build()
}

/// A request as API Gateway hands it to a function behind the authorizer: the route, the path
/// parameters and the caller's context.
pub(crate) fn routed(
    method: &str,
    resource: &str,
    path_parameters: &[(&str, &str)],
    body: Option<&str>,
    caller_sub: &str,
    groups: &str,
) -> Request {
    use lambda_http::RequestExt;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
    use lambda_http::request::RequestContext;
    let mut builder = lambda_http::http::Request::builder().method(method).uri(resource);
    if body.is_some() {
        builder = builder.header(header::CONTENT_TYPE, "application/json");
    }
    let request = builder
        .body(body.map_or(Body::Empty, |b| Body::Text(b.to_owned())))
        .expect("request");
    let mut context = ApiGatewayProxyRequestContext::default();
    context.http_method = method.parse().expect("method");
    context.resource_path = Some(resource.to_owned());
    let caller = auth_contract::AuthorizerContext {
        sub: caller_sub.to_owned(),
        username: "root".to_owned(),
        groups: groups.split(',').filter(|g| !g.is_empty()).map(str::to_owned).collect(),
        roles: groups.split(',').filter(|g| !g.is_empty()).map(str::to_owned).collect(),
        token_use: "access".to_owned(),
        issuer: ISSUER.to_owned(),
        auth_time: Some(crate::unix_now()),
        ..Default::default()
    };
    context.authorizer.fields = caller.to_fields();
    request
        .with_request_context(RequestContext::ApiGatewayV1(context))
        .with_path_parameters(
            path_parameters
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<std::collections::HashMap<_, _>>(),
        )
}

/// `request` with the context the authorizer writes for the caller `sub` of session
/// `origin_jti`, of this pool, signed in just now.
pub(crate) fn with_caller(request: Request, sub: &str, origin_jti: &str) -> Request {
    use lambda_http::RequestExt;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
    use lambda_http::request::RequestContext;
    let mut context = ApiGatewayProxyRequestContext::default();
    // The route as API Gateway names it: here the request's own method and path.
    context.http_method = request.method().clone();
    context.resource_path = Some(request.uri().path().to_owned());
    context.authorizer.fields = auth_contract::AuthorizerContext {
        sub: sub.into(),
        username: "ada".into(),
        origin_jti: origin_jti.into(),
        issuer: ISSUER.into(),
        auth_time: Some(crate::unix_now()),
        ..Default::default()
    }
    .to_fields();
    request.with_request_context(RequestContext::ApiGatewayV1(context))
}

/// `request` (with a caller's context) as if the caller had signed in `seconds_ago`.
pub(crate) fn signed_in_ago(request: Request, seconds_ago: u64) -> Request {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    let Some(RequestContext::ApiGatewayV1(mut context)) = request.request_context_ref().cloned() else {
        panic!("the request has no REST context")
    };
    let mut caller = auth_contract::AuthorizerContext::from_fields(&context.authorizer.fields).expect("a caller");
    caller.auth_time = Some(crate::unix_now() - seconds_ago);
    context.authorizer.fields = caller.to_fields();
    request.with_request_context(RequestContext::ApiGatewayV1(context))
}

/// The in-memory revocation store and a revoker over it, for the pool of [`api`], on a
/// [`TestClock`].
pub(crate) fn memory_revoker() -> (std::sync::Arc<auth_contract::testkit::MemoryStore>, crate::Revoker) {
    let (store, revoker, _) = memory_revoker_with_clock();
    (store, revoker)
}

/// [`memory_revoker`] and its clock.
pub(crate) fn memory_revoker_with_clock() -> (
    std::sync::Arc<auth_contract::testkit::MemoryStore>,
    crate::Revoker,
    std::sync::Arc<TestClock>,
) {
    let store = std::sync::Arc::new(auth_contract::testkit::MemoryStore::new());
    let clock = std::sync::Arc::new(TestClock::at(START));
    let revoker = crate::Revoker::new(store.clone(), ISSUER).with_clock(clock.clone());
    (store, revoker, clock)
}

/// When a [`TestClock`] of [`memory_revoker`] starts: 0.4 s into a second.
pub(crate) const START: std::time::Duration = std::time::Duration::from_millis(1_800_000_000_400);

/// A clock that moves only when the code under test sleeps (or a test advances it), so the
/// revoker's waits take no time and can be asserted.
#[derive(Debug)]
pub(crate) struct TestClock(std::sync::Mutex<std::time::Duration>);

impl TestClock {
    pub(crate) fn at(start: std::time::Duration) -> Self {
        Self(std::sync::Mutex::new(start))
    }
}

impl crate::revocations::Clock for TestClock {
    fn now(&self) -> std::time::Duration {
        *self.0.lock().unwrap()
    }

    fn sleep(&self, duration: std::time::Duration) -> auth_contract::revocation::BoxFuture<'_, ()> {
        *self.0.lock().unwrap() += duration;
        Box::pin(async {})
    }
}

/// The issuer of [`POOL_ID`].
pub(crate) const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool";

/// The partition key of the user record for `sub`.
pub(crate) fn user_key(sub: &str) -> String {
    auth_contract::revocation::RevocationKey::user(ISSUER, sub).partition_key()
}

/// The `source` of every error of a validation problem, sorted.
pub(crate) fn error_sources(problem: &serde_json::Value) -> Vec<String> {
    let mut sources: Vec<String> = problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["source"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    sources.sort();
    sources
}

/// Every log line written, at every level, while it is alive (on this thread: the tests'
/// runtime polls the handler here).
pub(crate) struct CapturedLogs {
    lines: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl CapturedLogs {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.lines.lock().unwrap_or_else(std::sync::PoisonError::into_inner)).into_owned()
    }
}

#[derive(Clone)]
struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures the logs as the Lambda binaries write them, at TRACE.
pub(crate) fn capture_logs() -> CapturedLogs {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Sink(std::sync::Arc::clone(&lines));
    let settings = lambda_logging::LogSettings {
        level: Some("TRACE".into()),
        json: true,
        directives: None,
    };
    let subscriber = lambda_logging::subscriber(&settings, move || sink.clone());
    CapturedLogs {
        lines,
        _guard: tracing::subscriber::set_default(subscriber),
    }
}
