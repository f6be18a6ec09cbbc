//! The local API Gateway: each HTTP request becomes the REST API proxy event the deployed
//! function receives, parsed by `lambda_http` exactly as in Lambda, then handed to the same
//! handler function.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use account_api::AccountApi;
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyRequestContext};
use aws_lambda_events::query_map::QueryMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, Method, Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use http_kit::{ApiError, Problem};
use hyper::body::{Bytes, Incoming};
use lambda_http::Body;
use oauth_flow::OAuthApi;
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::authorizer::{GatewayRequest, LocalAuthorizer};
use crate::emulated_cognito::{EmulatedCognito, noting_gaps};
use crate::outbox::Outbox;
use crate::problems;
use crate::routes::{Route, RouteMatch, find};
use crate::template::{GatewayResponse, TemplateError};

/// API Gateway's own payload limit; bigger requests never reach a function.
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;
/// The stage of the local API.
pub const STAGE: &str = "local";
use crate::authorizer::{ACCOUNT_ID, API_ID};

/// The function the OAuth routes' crate (`oauth-flow`) serves; every other function is one of
/// [`account_api::FUNCTIONS`].
const OAUTH_FUNCTION: &str = "oauth";

/// The first route whose function (a crate under `functions/`) the gateway has no handler for.
pub fn unserved(routes: &[Route]) -> Option<&Route> {
    routes
        .iter()
        .find(|r| r.function != OAUTH_FUNCTION && !account_api::FUNCTIONS.contains(&r.function.as_str()))
}

/// The local API Gateway.
pub struct Gateway {
    routes: Vec<Route>,
    gateway_responses: Vec<GatewayResponse>,
    api: AccountApi<EmulatedCognito>,
    oauth: OAuthApi,
    authorizer: LocalAuthorizer,
    requests: AtomicU64,
    openapi: Option<Bytes>,
    outbox: Option<Outbox>,
}

impl Gateway {
    /// A gateway for `routes`, answering refusals with `gateway_responses` (the template's);
    /// refused when a route's function has no handler here.
    pub fn new(
        routes: Vec<Route>,
        gateway_responses: Vec<GatewayResponse>,
        api: AccountApi<EmulatedCognito>,
        oauth: OAuthApi,
        authorizer: LocalAuthorizer,
    ) -> Result<Self, TemplateError> {
        if let Some(route) = unserved(&routes) {
            return Err(TemplateError::Invalid(format!(
                "{} {}: no handler for the function `{}` (not in account_api::FUNCTIONS)",
                route.method,
                route.path.as_str(),
                route.function
            )));
        }
        Ok(Self {
            routes,
            gateway_responses,
            api,
            oauth,
            authorizer,
            requests: AtomicU64::new(0),
            openapi: None,
            outbox: None,
        })
    }

    /// Serves `document` (the OpenAPI document, as JSON) at `GET /openapi.json`: the local
    /// stack's own route, not the deployed API's.
    pub fn with_openapi(mut self, document: String) -> Self {
        self.openapi = Some(Bytes::from(document));
        self
    }

    /// Serves the codes the Cognito stand-in has sent at `GET /_local/outbox[?to=<address>]`,
    /// newest first: the local stack's own route, where the cloud sends email and SMS.
    pub fn with_outbox(mut self, outbox: Outbox) -> Self {
        self.outbox = Some(outbox);
        self
    }

    /// The routes served.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The authorizer in front of the protected routes.
    pub fn authorizer(&self) -> &LocalAuthorizer {
        &self.authorizer
    }

    /// Answers one HTTP request.
    /// Every log line of the request, the functions' included, carries its request id, as the
    /// Lambda runtime's span does in the cloud.
    pub async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let request_id = self.next_request_id();
        let span = tracing::info_span!("request", request_id = %request_id);
        self.route(request, &request_id).instrument(span).await
    }

    /// The local stack's own routes, `GET /openapi.json` and `GET /_local/outbox`: their JSON,
    /// 405 to another method (as on the API's routes), or `None` for every other path.
    fn local_route(&self, parts: &http::request::Parts) -> Option<Response<Full<Bytes>>> {
        let path = parts.uri.path();
        let served = match path {
            "/openapi.json" => self.openapi.is_some(),
            "/_local/outbox" => self.outbox.is_some(),
            _ => false,
        };
        if !served {
            return None;
        }
        if parts.method != Method::GET {
            let mut response = problems::method_not_allowed().into_response();
            response
                .headers_mut()
                .insert(http::header::ALLOW, http::HeaderValue::from_static("GET"));
            return Some(to_hyper(response));
        }
        let body = if path == "/openapi.json" {
            self.openapi.clone()?
        } else {
            let to = parts.uri.query().and_then(|query| {
                form_urlencoded::parse(query.as_bytes())
                    .find(|(name, _)| name == "to")
                    .map(|(_, value)| value.into_owned())
            });
            let messages = self.outbox.as_ref()?.messages(to.as_deref());
            Bytes::from(serde_json::to_vec(&messages).unwrap_or_else(|_| b"[]".to_vec()))
        };
        let mut response = Response::new(Full::new(body));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        Some(response)
    }

    async fn route(&self, request: Request<Incoming>, request_id: &str) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let path = parts.uri.path().to_owned();
        if let Some(response) = self.local_route(&parts) {
            return response;
        }
        let (route, path_parameters) = match find(&self.routes, &parts.method, &path) {
            RouteMatch::Found { route, path_parameters } => (route.clone(), path_parameters),
            RouteMatch::WrongMethod { allowed } => {
                let mut response = problems::method_not_allowed().into_response();
                let allow: Vec<&str> = allowed.iter().map(Method::as_str).collect();
                if let Ok(value) = http::HeaderValue::from_str(&allow.join(", ")) {
                    response.headers_mut().insert(http::header::ALLOW, value);
                }
                return to_hyper(response);
            }
            RouteMatch::NotFound => return to_hyper(self.refused("MISSING_AUTHENTICATION_TOKEN")),
        };
        let body = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return to_hyper(
                    ApiError::PayloadTooLarge {
                        limit: MAX_REQUEST_BYTES,
                    }
                    .into_response(),
                );
            }
            // The client closed before sending the length it announced: API Gateway answers
            // 400 itself, the function never runs.
            Err(_) => {
                return to_hyper(
                    ApiError::validation("body", "was cut short: fewer bytes than Content-Length").into_response(),
                );
            }
        };
        let mut event = proxy_event(
            &route,
            &parts.method,
            &parts.uri,
            &parts.headers,
            &body,
            path_parameters,
            request_id,
        );
        let response = if route.protected {
            match self
                .authorizer
                .authorize(&GatewayRequest {
                    method: &parts.method,
                    path: &path,
                    resource: route.path.as_str(),
                    headers: &parts.headers,
                    stage: STAGE,
                    request_id,
                })
                .await
            {
                Ok(context) => {
                    event.request_context.authorizer.fields = context;
                    self.invoke(&route.function, &event).await
                }
                Err(refusal) => self.refused(refusal.gateway_response()),
            }
        } else {
            self.invoke(&route.function, &event).await
        };
        tracing::info!(
            method = %parts.method,
            path = %path,
            function = route.function.as_str(),
            status = response.status().as_u16(),
            "request"
        );
        to_hyper(response)
    }

    /// The template's gateway response `name`, as API Gateway answers it.
    fn refused(&self, name: &str) -> Response<Body> {
        let Some(configured) = self.gateway_responses.iter().find(|r| r.name == name) else {
            return Problem::new(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "Internal error",
                format!("the template has no {name} gateway response"),
            )
            .into_response();
        };
        let mut response = Response::new(Body::Text(configured.body.clone()));
        *response.status_mut() = http::StatusCode::from_u16(configured.status).unwrap_or_default();
        for (header, value) in &configured.headers {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(header.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }

    /// Serialises the event and parses it back with `lambda_http`, as the runtime does.
    async fn invoke(&self, function: &str, event: &ApiGatewayProxyRequest) -> Response<Body> {
        let request = match serde_json::to_string(event).map(|json| lambda_http::request::from_str(&json)) {
            Ok(Ok(request)) => request,
            Ok(Err(e)) => return ApiError::internal(format!("event not readable by lambda_http: {e}")).into_response(),
            Err(e) => return ApiError::internal(format!("event not serialisable: {e}")).into_response(),
        };
        self.call(function, request).await
    }

    /// Calls a function's handler with a request parsed from its event.
    /// A function that failed on a Cognito call the emulator lacks answers 501 `NotEmulated`
    /// naming it, rather than its 503.
    pub async fn call(&self, function: &str, request: lambda_http::Request) -> Response<Body> {
        let (response, gap) = noting_gaps(async {
            if function == OAUTH_FUNCTION {
                match Box::pin(oauth_flow::handler(&self.oauth, request)).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            } else {
                account_api::call(function, &self.api, request)
                    .await
                    .unwrap_or_else(|| ApiError::internal(format!("no function named {function}")).into_response())
            }
        })
        .await;
        match gap {
            Some(operation) if response.status() == http::StatusCode::SERVICE_UNAVAILABLE => {
                problems::not_emulated(operation).into_response()
            }
            _ => response,
        }
    }

    fn next_request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!("local-{nanos:x}-{n}")
    }
}

/// The REST API (v1) proxy event for one request.
pub fn proxy_event(
    route: &Route,
    method: &Method,
    uri: &http::Uri,
    headers: &HeaderMap,
    body: &[u8],
    path_parameters: HashMap<String, String>,
    request_id: &str,
) -> ApiGatewayProxyRequest {
    let mut query: HashMap<String, Vec<String>> = HashMap::new();
    if let Some(raw) = uri.query() {
        for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
            query.entry(key.into_owned()).or_default().push(value.into_owned());
        }
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();

    let mut context = ApiGatewayProxyRequestContext::default();
    context.account_id = Some(ACCOUNT_ID.into());
    context.apiid = Some(API_ID.into());
    context.stage = Some(STAGE.into());
    context.request_id = Some(request_id.into());
    context.resource_path = Some(route.path.as_str().to_owned());
    context.path = Some(format!("/{STAGE}{}", uri.path()));
    context.http_method = method.clone();
    context.protocol = Some("HTTP/1.1".into());
    context.request_time_epoch = i64::try_from(now.as_millis()).unwrap_or_default();
    context.identity.source_ip = Some("127.0.0.1".into());

    let mut event = ApiGatewayProxyRequest::default();
    event.resource = Some(route.path.as_str().to_owned());
    event.path = Some(uri.path().to_owned());
    event.http_method = method.clone();
    event.headers = headers.clone();
    event.multi_value_headers = headers.clone();
    event.query_string_parameters = QueryMap::from(query.clone());
    event.multi_value_query_string_parameters = QueryMap::from(query);
    event.path_parameters = path_parameters;
    event.request_context = context;
    if !body.is_empty() {
        // API Gateway passes text as is and anything else base64-encoded.
        match std::str::from_utf8(body) {
            Ok(text) => event.body = Some(text.to_owned()),
            Err(_) => {
                event.body = Some(STANDARD.encode(body));
                event.is_base64_encoded = true;
            }
        }
    }
    event
}

fn to_hyper(response: Response<Body>) -> Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    Response::from_parts(parts, Full::new(bytes))
}

/// Serves until `shutdown` completes.
pub async fn serve(listener: TcpListener, gateway: Arc<Gateway>, shutdown: impl Future<Output = ()>) {
    crate::serve::serve(
        listener,
        move |request| {
            let gateway = Arc::clone(&gateway);
            async move { gateway.handle(request).await }
        },
        shutdown,
    )
    .await;
}
