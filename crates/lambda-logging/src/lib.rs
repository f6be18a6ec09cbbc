//! Logging for every Lambda binary of the workspace, in the Lambda convention: JSON when
//! `AWS_LAMBDA_LOG_FORMAT=JSON`, the level from `AWS_LAMBDA_LOG_LEVEL` (or `RUST_LOG`, which may
//! also hold per-target directives), lines on standard output. The runtime opens a span carrying
//! the request id around every invocation, so every line of a request names it.
//!
//! **No secret at any level.** At TRACE, `lambda_runtime` logs every raw event (Authorization
//! headers, passwords, refresh tokens, codes) and the AWS SDK logs request bodies (PASSWORD,
//! REFRESH_TOKEN, SECRET_HASH, the client secret). Whatever level an operator picks, those
//! loggers are capped ([`CAPS`]): the cap is applied after the operator's filter, so
//! `RUST_LOG=trace` cannot lift it.
//!
//! ```
//! use lambda_logging::{LogSettings, subscriber};
//!
//! let settings = LogSettings { level: Some("trace".into()), json: false, directives: None };
//! let _guard = tracing::subscriber::set_default(subscriber(&settings, std::io::sink));
//! // Written (the workspace's own code is not capped)...
//! tracing::trace!(target: "account_api::sign_in", "signing in");
//! // ...dropped (the SDK's request bodies hold passwords at TRACE).
//! tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", "request body");
//! ```

use std::str::FromStr;

use auth_contract::config::Env;
use tracing::Subscriber;
use tracing_subscriber::filter::{EnvFilter, FilterExt, LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, Registry};

/// The most each library's logger may say: TRACE on these targets writes raw events, request
/// bodies or headers. DEBUG on them carries no secret.
pub const CAPS: &[(&str, LevelFilter)] = &[
    ("lambda_runtime", LevelFilter::DEBUG),
    ("lambda_runtime_api_client", LevelFilter::DEBUG),
    ("lambda_http", LevelFilter::DEBUG),
    ("aws_smithy_runtime", LevelFilter::DEBUG),
    ("aws_smithy_runtime_api", LevelFilter::DEBUG),
    ("aws_smithy_http", LevelFilter::DEBUG),
    ("aws_smithy_http_client", LevelFilter::INFO),
    ("aws_smithy_types", LevelFilter::DEBUG),
    ("aws_runtime", LevelFilter::DEBUG),
    ("aws_config", LevelFilter::DEBUG),
    // The canonical request and the access key id: never needed in a function's logs.
    ("aws_sigv4", LevelFilter::INFO),
    ("aws_sdk_cognitoidentityprovider", LevelFilter::DEBUG),
    ("aws_sdk_dynamodb", LevelFilter::DEBUG),
    ("aws_sdk_secretsmanager", LevelFilter::DEBUG),
    ("aws_sdk_sts", LevelFilter::DEBUG),
    ("aws_sdk_sso", LevelFilter::DEBUG),
    ("aws_sdk_ssooidc", LevelFilter::DEBUG),
    ("hyper", LevelFilter::INFO),
    ("hyper_util", LevelFilter::INFO),
    ("h2", LevelFilter::INFO),
    ("rustls", LevelFilter::INFO),
    ("tower", LevelFilter::INFO),
];

const DEFAULT_LEVEL: LevelFilter = LevelFilter::INFO;

/// What the environment asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSettings {
    /// `AWS_LAMBDA_LOG_LEVEL`, else a plain level in `RUST_LOG` (default INFO).
    pub level: Option<String>,
    /// `AWS_LAMBDA_LOG_FORMAT=JSON`.
    pub json: bool,
    /// `RUST_LOG`, for per-target directives (`account_api=debug`).
    pub directives: Option<String>,
}

impl LogSettings {
    /// From the environment (blank values count as unset).
    pub fn from_env(env: &Env) -> Self {
        let rust_log = env.optional("RUST_LOG");
        Self {
            level: env.optional("AWS_LAMBDA_LOG_LEVEL").or_else(|| rust_log.clone()),
            json: env
                .optional("AWS_LAMBDA_LOG_FORMAT")
                .is_some_and(|f| f.eq_ignore_ascii_case("json")),
            directives: rust_log,
        }
    }
}

/// The subscriber: the operator's filter, then the caps, written to `writer`.
pub fn subscriber<W>(settings: &LogSettings, writer: W) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let level = settings
        .level
        .as_deref()
        .and_then(|l| LevelFilter::from_str(l.trim()).ok())
        .unwrap_or(DEFAULT_LEVEL);
    let operator = EnvFilter::builder()
        .with_default_directive(level.into())
        .parse_lossy(settings.directives.as_deref().unwrap_or_default());
    let caps = CAPS
        .iter()
        .fold(Targets::new().with_default(LevelFilter::TRACE), |t, (target, cap)| {
            t.with_target(*target, *cap)
        });
    let filter = operator.and(caps);
    let format = tracing_subscriber::fmt::layer()
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_writer(writer);
    let layer = if settings.json {
        format.json().with_filter(filter).boxed()
    } else {
        format.with_filter(filter).boxed()
    };
    Registry::default().with(layer)
}

/// Installs the subscriber for the process environment, writing to standard output; call
/// once, first thing in `main`.
pub fn init() {
    // A second call (tests) keeps the first subscriber.
    let _ =
        tracing::subscriber::set_global_default(subscriber(&LogSettings::from_env(&Env::process()), std::io::stdout));
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn settings_come_from_the_environment_blank_values_unset() {
        let env = Env::from_pairs(&[
            ("AWS_LAMBDA_LOG_LEVEL", " "),
            ("RUST_LOG", "account_api=debug"),
            ("AWS_LAMBDA_LOG_FORMAT", "json"),
        ]);
        let settings = LogSettings::from_env(&env);
        assert_eq!(
            settings.level.as_deref(),
            Some("account_api=debug"),
            "a blank level falls back"
        );
        assert_eq!(settings.directives.as_deref(), Some("account_api=debug"));
        assert!(settings.json);
        let lambda = LogSettings::from_env(&Env::from_pairs(&[("AWS_LAMBDA_LOG_LEVEL", "WARN")]));
        assert_eq!((lambda.level.as_deref(), lambda.json), (Some("WARN"), false));
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(settings: &LogSettings, emit: impl FnOnce()) -> String {
        let captured = Captured::default();
        let sink = captured.clone();
        let guard = tracing::subscriber::set_default(subscriber(settings, move || sink.clone()));
        tracing::callsite::rebuild_interest_cache();
        emit();
        drop(guard);
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn trace_everywhere_still_caps_the_runtime_and_the_sdk() {
        let settings = LogSettings {
            level: Some("TRACE".into()),
            json: true,
            directives: Some("trace,aws_smithy_runtime=trace,lambda_runtime=trace".into()),
        };
        let log = logged(&settings, || {
            tracing::trace!(target: "lambda_runtime::layers::api_response", "event hunter2-event");
            tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", "body hunter2-body");
            tracing::debug!(target: "aws_sigv4::http_request::sign", "canonical hunter2-sigv4");
            tracing::trace!(target: "account_api::sign_in", "own trace line");
            tracing::debug!(target: "aws_smithy_runtime::client::orchestrator", "sdk debug line");
        });
        assert!(!log.contains("hunter2"), "{log}");
        assert!(
            log.contains("own trace line") && log.contains("sdk debug line"),
            "{log}"
        );
        assert!(log.lines().all(serde_json_like), "{log}");
    }

    fn serde_json_like(line: &str) -> bool {
        line.starts_with('{') && line.ends_with('}')
    }

    #[test]
    fn the_level_comes_from_the_lambda_setting_and_defaults_to_info() {
        let info = logged(&LogSettings::default(), || {
            tracing::info!("kept");
            tracing::debug!("dropped");
        });
        assert!(info.contains("kept") && !info.contains("dropped"), "{info}");
        let warn = logged(
            &LogSettings {
                level: Some("warn".into()),
                ..LogSettings::default()
            },
            || {
                tracing::info!("dropped");
                tracing::warn!("kept");
            },
        );
        assert!(warn.contains("kept") && !warn.contains("dropped"), "{warn}");
    }
}
