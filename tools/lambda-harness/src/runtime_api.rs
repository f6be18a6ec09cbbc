//! A local Lambda Runtime API (the `2018-06-01` HTTP interface a custom runtime polls), serving
//! one function process. It hands out the events the harness queues and reports, with the
//! instant each happened, every request the runtime makes.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Mutex, mpsc};
use tokio::task::{JoinHandle, JoinSet};

/// The function's time-out in the template; the deadline header is derived from it.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);
const PREFIX: &str = "/2018-06-01/runtime/";

/// One event for the function.
pub struct Invocation {
    /// The request id.
    pub request_id: String,
    /// The X-Ray trace header.
    pub trace_id: String,
    /// The event.
    pub payload: Vec<u8>,
}

/// What the runtime did, and when the server saw it.
#[derive(Debug)]
pub enum Report {
    /// `GET invocation/next` arrived: the runtime is idle and waiting.
    NextRequested(Instant),
    /// An event was handed out as the answer to `next`; its latency starts here.
    HandedOut(Instant),
    /// The function posted its response.
    Response {
        /// When.
        at: Instant,
        /// The response.
        body: Bytes,
    },
    /// The function posted an invocation error.
    Error {
        /// The error document.
        body: Bytes,
    },
    /// The function posted an init error.
    InitError {
        /// The error document.
        body: Bytes,
    },
    /// A request this API does not know (a sign that the runtime and the harness disagree).
    Unknown {
        /// The method.
        method: Method,
        /// The path.
        path: String,
    },
}

struct Shared {
    function_arn: String,
    invocations: Mutex<mpsc::Receiver<Invocation>>,
    reports: mpsc::UnboundedSender<Report>,
}

/// The server for one function process; stopped when dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    invocations: mpsc::Sender<Invocation>,
    reports: mpsc::UnboundedReceiver<Report>,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    /// Serves on a free loopback port.
    pub async fn start(function_arn: String) -> std::io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (invocations, queue) = mpsc::channel(1);
        let (report_tx, reports) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            function_arn,
            invocations: Mutex::new(queue),
            reports: report_tx,
        });
        let server = tokio::spawn(serve(listener, shared));
        Ok(Self {
            addr,
            invocations,
            reports,
            server,
        })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API`: host and port, no scheme.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an event; the pending (or next) `next` request answers with it.
    pub async fn invoke(&self, invocation: Invocation) -> bool {
        self.invocations.send(invocation).await.is_ok()
    }

    /// The next thing the runtime did, as it happens.
    pub async fn report(&mut self) -> Option<Report> {
        self.reports.recv().await
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection task.
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        // The runtime's requests and our answers are small; Nagle's delay would show up as
        // tens of milliseconds of false latency.
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| handle(shared.clone(), request));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

type Answer = Response<Full<Bytes>>;

fn answer(status: StatusCode, body: &'static str) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn accepted() -> Answer {
    answer(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Answer, Infallible> {
    let at = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = path.strip_prefix(PREFIX).unwrap_or_default();
    let is_post = method == Method::POST;
    let answer = if method == Method::GET && route == "invocation/next" {
        next(&shared, at).await
    } else if is_post && route == "init/error" {
        let body = read_body(request).await;
        let _ = shared.reports.send(Report::InitError { body });
        accepted()
    } else if is_post && route.starts_with("invocation/") && route.ends_with("/response") {
        let body = read_body(request).await;
        let _ = shared.reports.send(Report::Response { at, body });
        accepted()
    } else if is_post && route.starts_with("invocation/") && route.ends_with("/error") {
        let body = read_body(request).await;
        let _ = shared.reports.send(Report::Error { body });
        accepted()
    } else {
        let _ = shared.reports.send(Report::Unknown { method, path });
        answer(StatusCode::NOT_FOUND, r#"{"errorType":"NotFound"}"#)
    };
    Ok(answer)
}

async fn read_body(request: Request<Incoming>) -> Bytes {
    match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => Bytes::new(),
    }
}

/// The long poll: waits until the harness queues an event, then answers with it and the
/// headers the real Runtime API sends.
async fn next(shared: &Shared, at: Instant) -> Answer {
    let _ = shared.reports.send(Report::NextRequested(at));
    let invocation = shared.invocations.lock().await.recv().await;
    let Some(invocation) = invocation else {
        return answer(StatusCode::INTERNAL_SERVER_ERROR, r#"{"errorType":"ShuttingDown"}"#);
    };
    let deadline = SystemTime::now()
        .checked_add(FUNCTION_TIMEOUT)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let headers = [
        ("lambda-runtime-aws-request-id", invocation.request_id),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        ("lambda-runtime-invoked-function-arn", shared.function_arn.clone()),
        ("lambda-runtime-trace-id", invocation.trace_id),
    ];
    let mut response = answer(StatusCode::OK, "");
    *response.body_mut() = Full::new(Bytes::from(invocation.payload));
    for (name, value) in headers {
        let Ok(value) = HeaderValue::try_from(value) else {
            return answer(StatusCode::INTERNAL_SERVER_ERROR, r#"{"errorType":"BadHeader"}"#);
        };
        response.headers_mut().insert(HeaderName::from_static(name), value);
    }
    let _ = shared.reports.send(Report::HandedOut(Instant::now()));
    response
}
