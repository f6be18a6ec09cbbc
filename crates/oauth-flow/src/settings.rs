//! What the OAuth routes are configured with, read once at cold start; an error names the
//! variable.

use auth_contract::config::{ConfigError, Env, PoolLocation, check_http_url};

/// The scopes asked for without `OAUTH_SCOPES`: the OpenID ones, and
/// `aws.cognito.signin.user.admin`, without which Cognito refuses the token at GlobalSignOut,
/// GetUser, UpdateUserAttributes, ChangePassword, DeleteUser and the MFA calls.
pub const DEFAULT_SCOPES: &str = "openid email profile aws.cognito.signin.user.admin";
use secrecy::SecretString;

/// The OAuth routes' settings.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// `COGNITO_DOMAIN`: the pool domain's URL (`https://<prefix>.auth.<region>.amazoncognito.com`).
    pub domain: String,
    /// `COGNITO_CLIENT_ID`.
    pub client_id: String,
    /// `COGNITO_CLIENT_SECRET`, when the client has one.
    pub client_secret: Option<SecretString>,
    /// Where the pool's tokens come from (`COGNITO_USER_POOL_ID`, overrides as the authorizer's).
    pub pool: PoolLocation,
    /// `OAUTH_CALLBACK_URL`: this API's `/auth/oauth/callback` as browsers reach it.
    pub callback_url: String,
    /// `OAUTH_SIGN_OUT_URL`: where Cognito sends the browser after its logout.
    pub sign_out_url: String,
    /// `OAUTH_APP_REDIRECT_URIS`: the redirect URIs apps that run PKCE themselves may name.
    pub app_redirect_uris: Vec<String>,
    /// `OAUTH_SCOPES`, space-separated (default `openid email profile
    /// aws.cognito.signin.user.admin`, so code-flow tokens can sign out and use the account
    /// routes; `openid` required).
    pub scopes: String,
    /// `OAUTH_COOKIE_SECURE` (default `true`; `false` only for a plain-HTTP loopback callback).
    pub cookie_secure: bool,
    /// `OAUTH_ALLOWED_ORIGINS`: origins allowed to call `POST /auth/oauth/token` from a browser.
    pub allowed_origins: Vec<String>,
    /// `OAUTH_COOKIE_KEY_SECRET_ARN`: the Secrets Manager secret the cookie key comes from.
    pub cookie_key_secret_arn: String,
}

fn invalid(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        reason: reason.into(),
    }
}

/// `https://...`, or `http://` on loopback (a local stand-in).
fn check_endpoint(name: &'static str, url: &str) -> Result<(), ConfigError> {
    check_http_url(url).map_err(|r| invalid(name, r))?;
    if url.starts_with("http://") && !is_loopback(url) {
        return Err(invalid(
            name,
            "must be https:// (http:// only on localhost or 127.0.0.1)",
        ));
    }
    Ok(())
}

fn is_loopback(url: &str) -> bool {
    let rest = url.trim_start_matches("http://").trim_start_matches("https://");
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// The path part of an absolute URL (`/prod/auth/oauth/callback`).
pub fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

impl OAuthSettings {
    /// Reads the settings.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let domain = env.required("COGNITO_DOMAIN")?;
        check_endpoint("COGNITO_DOMAIN", &domain)?;
        let client_id = auth_contract::config::client_id(env)?;
        let client_secret = auth_contract::config::client_secret(env);
        let pool_id = auth_contract::config::required_user_pool_id(env)?;
        let pool = PoolLocation::from_env(env, &pool_id)?;
        let callback_url = env.required("OAUTH_CALLBACK_URL")?;
        check_endpoint("OAUTH_CALLBACK_URL", &callback_url)?;
        let sign_out_url = env.required("OAUTH_SIGN_OUT_URL")?;
        check_endpoint("OAUTH_SIGN_OUT_URL", &sign_out_url)?;
        let app_redirect_uris = env.list("OAUTH_APP_REDIRECT_URIS").unwrap_or_default();
        for uri in &app_redirect_uris {
            if uri.chars().any(|c| c.is_whitespace() || c.is_control()) || !uri.contains(':') || uri.contains('#') {
                return Err(invalid(
                    "OAUTH_APP_REDIRECT_URIS",
                    format!("`{uri}` is not an absolute URI without a fragment"),
                ));
            }
        }
        let scopes = env
            .optional("OAUTH_SCOPES")
            .unwrap_or_else(|| DEFAULT_SCOPES.to_owned());
        let scopes = scopes.split_whitespace().collect::<Vec<_>>().join(" ");
        if !scopes.split(' ').any(|s| s == "openid") {
            return Err(invalid(
                "OAUTH_SCOPES",
                "must include openid: the callback verifies the ID token",
            ));
        }
        let cookie_secure = env.parsed("OAUTH_COOKIE_SECURE", true)?;
        let loopback_http = callback_url.starts_with("http://") && is_loopback(&callback_url);
        if !cookie_secure && !loopback_http {
            return Err(invalid(
                "OAUTH_COOKIE_SECURE",
                "may be false only with a plain-http loopback OAUTH_CALLBACK_URL",
            ));
        }
        if cookie_secure && callback_url.starts_with("http://") {
            return Err(invalid(
                "OAUTH_COOKIE_SECURE",
                "a Secure cookie never reaches an http:// callback: set it to false for loopback development",
            ));
        }
        let allowed_origins = env.list("OAUTH_ALLOWED_ORIGINS").unwrap_or_default();
        for origin in &allowed_origins {
            check_http_url(origin).map_err(|r| invalid("OAUTH_ALLOWED_ORIGINS", r))?;
            if path_of(origin) != "/" || origin.ends_with('/') {
                return Err(invalid(
                    "OAUTH_ALLOWED_ORIGINS",
                    format!("`{origin}` is not an origin (scheme://host[:port])"),
                ));
            }
        }
        let cookie_key_secret_arn = env.required("OAUTH_COOKIE_KEY_SECRET_ARN")?;
        Ok(Self {
            domain,
            client_id,
            client_secret,
            pool,
            callback_url,
            sign_out_url,
            app_redirect_uris,
            scopes,
            cookie_secure,
            allowed_origins,
            cookie_key_secret_arn,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &[(&str, &str)] = &[
        ("COGNITO_DOMAIN", "https://acme.auth.eu-west-1.amazoncognito.com"),
        ("COGNITO_CLIENT_ID", "client-1"),
        ("COGNITO_USER_POOL_ID", "eu-west-1_AbC123"),
        ("OAUTH_CALLBACK_URL", "https://api.example.com/prod/auth/oauth/callback"),
        (
            "OAUTH_SIGN_OUT_URL",
            "https://api.example.com/prod/auth/oauth/signed-out",
        ),
        (
            "OAUTH_COOKIE_KEY_SECRET_ARN",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cookie",
        ),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Env {
        let mut pairs: Vec<(&str, &str)> = BASE
            .iter()
            .copied()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .collect();
        pairs.extend(extra.iter().copied().filter(|(_, v)| !v.is_empty()));
        Env::from_pairs(&pairs)
    }

    #[test]
    fn defaults_are_secure() {
        let settings = OAuthSettings::from_env(&with(&[])).unwrap();
        assert!(settings.cookie_secure);
        assert_eq!(
            settings.scopes, "openid email profile aws.cognito.signin.user.admin",
            "code-flow tokens must be able to sign out"
        );
        assert_eq!(
            settings.pool.issuer,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
        );
        assert_eq!(path_of(&settings.callback_url), "/prod/auth/oauth/callback");
    }

    #[test]
    fn unsafe_settings_are_refused_naming_the_variable() {
        for (extra, name) in [
            (&[("COGNITO_DOMAIN", "http://acme.example.com")][..], "COGNITO_DOMAIN"),
            (
                &[("OAUTH_CALLBACK_URL", "http://api.example.com/cb")][..],
                "OAUTH_CALLBACK_URL",
            ),
            (&[("OAUTH_COOKIE_SECURE", "false")][..], "OAUTH_COOKIE_SECURE"),
            (
                &[("OAUTH_CALLBACK_URL", "http://127.0.0.1:3000/auth/oauth/callback")][..],
                "OAUTH_COOKIE_SECURE",
            ),
            (&[("OAUTH_SCOPES", "email profile")][..], "OAUTH_SCOPES"),
            (
                &[("OAUTH_ALLOWED_ORIGINS", "https://app.example.com/path")][..],
                "OAUTH_ALLOWED_ORIGINS",
            ),
            (
                &[("OAUTH_APP_REDIRECT_URIS", "https://app.example.com/cb#frag")][..],
                "OAUTH_APP_REDIRECT_URIS",
            ),
            (&[("COGNITO_USER_POOL_ID", "bad pool")][..], "COGNITO_USER_POOL_ID"),
        ] {
            match OAuthSettings::from_env(&with(extra)) {
                Err(ConfigError::Invalid { name: got, .. }) => assert_eq!(got, name, "{extra:?}"),
                other => panic!("{extra:?}: {other:?}"),
            }
        }
        assert_eq!(
            OAuthSettings::from_env(&with(&[("OAUTH_COOKIE_KEY_SECRET_ARN", "")])).unwrap_err(),
            ConfigError::Missing("OAUTH_COOKIE_KEY_SECRET_ARN")
        );
    }

    #[test]
    fn plain_http_is_accepted_on_loopback_only_with_the_cookie_not_secure() {
        let settings = OAuthSettings::from_env(&with(&[
            ("COGNITO_DOMAIN", "http://localhost:3001"),
            ("OAUTH_CALLBACK_URL", "http://127.0.0.1:3000/auth/oauth/callback"),
            ("OAUTH_SIGN_OUT_URL", "http://127.0.0.1:3000/auth/oauth/signed-out"),
            ("OAUTH_COOKIE_SECURE", "false"),
        ]))
        .unwrap();
        assert!(!settings.cookie_secure);
        assert!(is_loopback("http://[::1]:80/x") && !is_loopback("http://localhost.evil.example/"));
    }
}
