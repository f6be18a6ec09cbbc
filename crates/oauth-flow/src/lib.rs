//! Sign-in through Cognito's managed login page: the OAuth 2.0 authorization code flow with
//! PKCE, done by the backend so that no client secret, code or verifier is ever in a browser's
//! script and every flow is bound to the browser that started it.
//!
//! - [`pkce`]: S256 code verifiers and challenges.
//! - [`cookie`]: the flow cookie, sealed with AES-256-GCM under a key from Secrets Manager.
//! - [`redirect`]: [`RelativePath`], the only kind of place a browser is sent back to.
//! - [`endpoints`]: the pool domain's `/oauth2/authorize`, `/oauth2/token`,
//!   `/oauth2/userInfo` and `/logout`.
//! - [`routes`]: the Lambda handler for the `/auth/oauth/*` routes and `/auth/userinfo`.
//!
//! ```
//! use oauth_flow::redirect::RelativePath;
//!
//! // Where the browser may be sent after sign-in: this site only, however it is encoded.
//! assert!(RelativePath::try_from("/account?tab=1".to_owned()).is_ok());
//! for attack in ["https://evil.example", "//evil.example", "/\\evil.example", "/%2F%2Fevil.example"] {
//!     assert!(RelativePath::try_from(attack.to_owned()).is_err(), "{attack}");
//! }
//! ```

use std::sync::Arc;

use auth_contract::config::{ConfigError, Env};
use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use cognito_jwt::{HttpJwksFetcher, JwksFetcher, TokenUse, Verifier, VerifierConfig};
use secrecy::ExposeSecret;

pub mod cookie;
pub mod endpoints;
pub mod pkce;
pub mod redirect;
pub mod routes;
pub mod settings;

#[cfg(test)]
mod test_double;

pub use cookie::CookieKey;
pub use redirect::RelativePath;
pub use routes::handler;
pub use settings::OAuthSettings;

use crate::cookie::CookieSettings;
use crate::endpoints::CognitoDomain;

/// Why the OAuth function could not start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// A setting.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The cookie key's secret.
    #[error("cookie key secret: {0}")]
    Secret(String),
    /// The HTTPS client.
    #[error("HTTP client: {0}")]
    Http(String),
}

/// What the OAuth routes share, built once at cold start.
pub struct OAuthApi {
    /// The settings.
    pub settings: OAuthSettings,
    domain: CognitoDomain,
    key: CookieKey,
    id_tokens: Verifier,
    flow_cookie: CookieSettings,
    sign_out_cookie: CookieSettings,
}

impl OAuthApi {
    /// The routes' dependencies, with the cookie key already fetched and `jwks` fetching the
    /// pool's keys for ID-token verification.
    pub fn new(settings: OAuthSettings, key: CookieKey, jwks: Arc<dyn JwksFetcher>) -> Result<Self, InitError> {
        let domain = CognitoDomain::new(&settings.domain, &settings.client_id, settings.client_secret.clone())
            .map_err(InitError::Http)?;
        let mut config =
            VerifierConfig::single_pool(&settings.pool.issuer, &settings.pool.jwks_url, &[&settings.client_id]);
        config.token_use = TokenUse::Id;
        // `__Host-`: Secure, no Domain, `Path=/`, so no other host (a sibling subdomain) can set
        // a cookie of that name for this one. Plain-HTTP loopback development has no prefix.
        let prefix = if settings.cookie_secure { "__Host-" } else { "" };
        let flow_cookie = CookieSettings {
            name: format!("{prefix}oauth_flow"),
            path: "/".to_owned(),
            secure: settings.cookie_secure,
        };
        let sign_out_cookie = CookieSettings {
            name: format!("{prefix}oauth_sign_out"),
            path: "/".to_owned(),
            secure: settings.cookie_secure,
        };
        Ok(Self {
            id_tokens: Verifier::new(config, jwks),
            settings,
            domain,
            key,
            flow_cookie,
            sign_out_cookie,
        })
    }

    /// Reads the settings, fetches the cookie key's secret from Secrets Manager (once: a
    /// rotated secret takes effect at the next cold start) and builds the HTTPS clients.
    pub async fn from_env(env: &Env) -> Result<Self, InitError> {
        let settings = OAuthSettings::from_env(env)?;
        let sdk_config = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(std::time::Duration::from_secs(2))
                    .operation_timeout(std::time::Duration::from_secs(5))
                    .build(),
            )
            .load()
            .await;
        let secrets = aws_sdk_secretsmanager::Client::new(&sdk_config);
        let key = cookie_key_from_secrets_manager(&secrets, &settings.cookie_key_secret_arn).await?;
        let jwks = HttpJwksFetcher::new().map_err(|e| InitError::Http(e.to_string()))?;
        Self::new(settings, key, Arc::new(jwks))
    }
}

/// The cookie key derived from the secret string `secret_id` names (its ARN or name).
pub async fn cookie_key_from_secrets_manager(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<CookieKey, InitError> {
    let output = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| {
            InitError::Secret(format!(
                "GetSecretValue failed: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            ))
        })?;
    let secret = output
        .secret_string()
        .map(|s| secrecy::SecretString::from(s.to_owned()))
        .ok_or_else(|| InitError::Secret("the secret has no string value".into()))?;
    CookieKey::derive(secret.expose_secret()).map_err(InitError::Secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    #[tokio::test]
    async fn the_cookie_key_comes_from_the_secret_string() {
        let secret = "s".repeat(64);
        let found = mock!(aws_sdk_secretsmanager::Client::get_secret_value)
            .match_requests(|req| req.secret_id() == Some("arn:cookie"))
            .then_output(move || GetSecretValueOutput::builder().secret_string(secret.clone()).build());
        let client = mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, &[&found]);
        let key = cookie_key_from_secrets_manager(&client, "arn:cookie").await.unwrap();
        let expected = CookieKey::derive(&"s".repeat(64)).unwrap();
        let sealed = key.seal("c", &1_u8).unwrap();
        assert_eq!(
            expected.open::<u8>("c", &sealed),
            Some(1),
            "the same secret derives the same key"
        );

        let short = mock!(aws_sdk_secretsmanager::Client::get_secret_value)
            .then_output(|| GetSecretValueOutput::builder().secret_string("short").build());
        let client = mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, &[&short]);
        let err = cookie_key_from_secrets_manager(&client, "arn:cookie")
            .await
            .unwrap_err();
        assert!(matches!(err, InitError::Secret(ref m) if !m.contains("short")), "{err}");

        let binary = mock!(aws_sdk_secretsmanager::Client::get_secret_value)
            .then_output(|| GetSecretValueOutput::builder().build());
        let client = mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, &[&binary]);
        assert!(cookie_key_from_secrets_manager(&client, "arn:cookie").await.is_err());
    }
}
