//! The whole local stack: emulator, seeded pool and gateway, started and stopped together.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use account_api::cognito::{CognitoIdentityProvider, CognitoSettings};
use account_api::{AccountApi, AttributeAllowList, Revoker, TotpIssuer};
use auth_contract::config::Env;
use auth_contract::freshness::RecentAuth;
use auth_contract::revocation::RevocationStore;
use lambda_authorizer::AuthorizerDeps;
use revocation_store::DynamoStore;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::authorizer::LocalAuthorizer;
use crate::cognito_standin::{self, RotatingClient, RunningStandIn};
use crate::emulated_cognito::EmulatedCognito;
use crate::emulator::{self, Emulator, EmulatorError};
use crate::gateway::{self, Gateway};
use crate::oauth_standin::{self, OAuthStandIn, RegisteredClient};
use crate::outbox::Outbox;
use crate::seed::{self, DemoUser, SeedError, SeededPool};
use crate::template::{self, ApiDefinition, TemplateError};
use oauth_flow::{OAuthApi, OAuthSettings};

/// The name authenticator apps show for the local stack's codes.
pub const TOTP_ISSUER: &str = "local-auth";
/// The sign-in methods the local stack offers (the template's `SignInMethods`): all of them,
/// whatever the template's default. No passkey can be registered locally yet, so a passkey
/// sign-in gets its challenge and every assertion is refused.
pub const SIGN_IN_METHODS: &str = "PASSWORD,EMAIL_OTP,SMS_OTP,WEB_AUTHN";

#[derive(Debug, Clone)]
/// How to start a local stack.
pub struct LocalStackOptions {
    /// The gateway's address.
    pub host: IpAddr,
    /// Gateway port; 0 picks a free one.
    pub port: u16,
    /// Emulator port; 0 picks a free one.
    pub emulator_port: u16,
    /// The `moto_server` executable.
    pub emulator_command: PathBuf,
    /// The SAM template the routes come from.
    pub template: PathBuf,
    /// The seeded administrator.
    pub demo: DemoUser,
    /// How long the authorizer's policies are cached; the template's `AuthorizerCacheSeconds`
    /// when `None`.
    pub authorizer_cache: Option<Duration>,
    /// The OAuth stand-in's port (served as `http://localhost:<port>`, another site than the
    /// gateway's `127.0.0.1`, as the pool domain is); 0 picks a free one.
    pub oauth_port: u16,
    /// Settings for the authorizer on top of the template's (`COGNITO_JWKS_URL`,
    /// `JWKS_BACKOFF_SECONDS`, `REVOCATION_FAIL_OPEN`...): fault tests point it elsewhere.
    pub authorizer_env: Vec<(String, String)>,
    /// Where the revocation store is, instead of the emulator (fault tests: a closed port).
    pub revocation_endpoint: Option<String>,
    /// How recent a sign-in must be for what hands an account over (`RECENT_AUTH_SECONDS`;
    /// tests shorten it).
    pub recent_auth: RecentAuth,
    /// How long a rotated-out refresh token still refreshes; the template's
    /// `RefreshTokenGracePeriodSeconds` default when `None` (tests shorten it).
    pub refresh_token_grace: Option<Duration>,
}

impl Default for LocalStackOptions {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            emulator_port: 0,
            emulator_command: emulator::default_command(),
            template: template::default_path(),
            demo: DemoUser::default(),
            authorizer_cache: None,
            oauth_port: 0,
            authorizer_env: Vec::new(),
            revocation_endpoint: None,
            recent_auth: RecentAuth::default(),
            refresh_token_grace: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
/// Why the local stack did not start.
pub enum LocalStackError {
    #[error(transparent)]
    /// The emulator.
    Emulator(#[from] EmulatorError),
    #[error(transparent)]
    /// Seeding the pool.
    Seed(#[from] SeedError),
    #[error(transparent)]
    /// Reading the template.
    Template(#[from] TemplateError),
    #[error("authorizer configuration: {0}")]
    /// The authorizer's configuration.
    Authorizer(#[from] lambda_authorizer::InitError),
    #[error("authorizer could not load the JWKS: {0}")]
    /// The authorizer's first JWKS load.
    Jwks(#[from] cognito_jwt::JwksError),
    #[error("OAuth routes: {0}")]
    /// The OAuth routes' set-up.
    OAuth(#[from] oauth_flow::InitError),
    #[error("configuration: {0}")]
    /// A setting of the local stack itself.
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    /// Binding the gateway's port.
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A running local stack: emulator, seeded pool and gateway.
pub struct LocalStack {
    /// `http://host:port` of the gateway.
    pub base_url: String,
    /// `http://127.0.0.1:port` of the emulator.
    pub emulator_url: String,
    /// `http://127.0.0.1:port` of the Cognito stand-in in front of it: the functions' Cognito.
    pub cognito_url: String,
    /// `http://localhost:port` of the OAuth stand-in (the pool domain).
    pub oauth_url: String,
    /// The pool, client and demo user.
    pub pool: SeededPool,
    /// What the template says.
    pub api: ApiDefinition,
    /// The gateway, to call functions directly.
    pub gateway: Arc<Gateway>,
    /// The codes the Cognito stand-in has sent (also at `GET /_local/outbox`).
    pub outbox: Outbox,
    emulator: Option<Emulator>,
    cognito: RunningStandIn,
    emulator_command: PathBuf,
    demo: DemoUser,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<()>,
    oauth_shutdown: oneshot::Sender<()>,
    oauth_server: JoinHandle<()>,
}

impl LocalStack {
    /// Starts the emulator, seeds it and serves the gateway.
    pub async fn start(options: LocalStackOptions) -> Result<Self, LocalStackError> {
        let api_definition = template::load(&options.template)?;
        let openapi = template::load_openapi(&options.template)?;
        let emulator = Emulator::start(&options.emulator_command, options.emulator_port).await?;
        let emulator_url = emulator.endpoint();
        let pool = seed::seed(&seed::emulator_client(&emulator_url), options.demo.clone()).await?;

        let settings = CognitoSettings {
            region: seed::REGION.into(),
            user_pool_id: pool.user_pool_id.clone(),
            client_id: pool.client_id.clone(),
            client_secret: None,
            team_attribute: "custom:team".into(),
        };
        // The functions' Cognito is the stand-in in front of the emulator; it always rotates
        // refresh tokens, whatever the template's default.
        let outbox = Outbox::default();
        let cognito = cognito_standin::spawn(
            emulator_url.clone(),
            RotatingClient {
                client_id: pool.client_id.clone(),
                client_secret: None,
                grace: options
                    .refresh_token_grace
                    .unwrap_or(Duration::from_secs(api_definition.refresh_token_grace_seconds)),
            },
            Some(cognito_standin::ChoiceConfig {
                user_pool_id: pool.user_pool_id.clone(),
                outbox: outbox.clone(),
            }),
        )
        .await
        .map_err(|e| LocalStackError::Config(format!("the Cognito stand-in: {e}")))?;
        let endpoint = cognito.url.clone();
        let idp = CognitoIdentityProvider::connect_with(settings, move |loader| {
            loader
                .endpoint_url(endpoint)
                .credentials_provider(seed::emulator_credentials())
        })
        .await;
        let dynamodb = seed::emulator_dynamodb(&emulator_url);
        seed::create_revocation_table(&dynamodb).await?;
        let connection = revocation_store::Connection {
            endpoint: options
                .revocation_endpoint
                .clone()
                .unwrap_or_else(|| emulator_url.clone()),
            region: seed::REGION.into(),
            credentials: seed::emulator_credentials(),
        };
        let store: Arc<dyn RevocationStore> =
            Arc::new(DynamoStore::new(connection, seed::REVOCATION_TABLE).map_err(LocalStackError::Config)?);
        let issuer = issuer_of(&pool);
        let revoker = Revoker::new(Arc::clone(&store), &issuer);
        let cache = options
            .authorizer_cache
            .unwrap_or(Duration::from_secs(api_definition.authorizer_cache_seconds));
        let authorizer = local_authorizer(
            &emulator_url,
            &pool,
            &api_definition,
            store,
            cache,
            &options.authorizer_env,
        )
        .await?;

        let addr = SocketAddr::new(options.host, options.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| LocalStackError::Listen { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| LocalStackError::Listen { addr, source })?;
        let base_url = format!("http://{bound}");
        let oauth_addr = SocketAddr::new(options.host, options.oauth_port);
        let oauth_listener = TcpListener::bind(oauth_addr)
            .await
            .map_err(|source| LocalStackError::Listen {
                addr: oauth_addr,
                source,
            })?;
        let oauth_port = oauth_listener
            .local_addr()
            .map_err(|source| LocalStackError::Listen {
                addr: oauth_addr,
                source,
            })?
            .port();
        let oauth_url = format!("http://localhost:{oauth_port}");
        let oauth = local_oauth(&emulator_url, &pool, &base_url, &oauth_url).await?;
        let standin = Arc::new(OAuthStandIn::new(
            seed::emulator_client(&emulator_url),
            RegisteredClient {
                client_id: pool.client_id.clone(),
                callback_urls: vec![format!("{base_url}/auth/oauth/callback"), APP_REDIRECT_URI.to_owned()],
                logout_urls: vec![format!("{base_url}/auth/oauth/signed-out")],
            },
        ));
        let mut api = AccountApi::new(EmulatedCognito(idp), AttributeAllowList::default()).with_revoker(revoker);
        api.totp_issuer = TotpIssuer::new(TOTP_ISSUER).map_err(LocalStackError::Config)?;
        api.recent_auth = options.recent_auth;
        api.sign_in_methods = account_api::sign_in_methods::SignInMethods::from_env(&Env::from_pairs(&[(
            "SIGN_IN_METHODS",
            SIGN_IN_METHODS,
        )]))
        .map_err(|e| LocalStackError::Config(e.to_string()))?;
        // The check `admin_users` makes of a pool, against the seeded one (the template's settings).
        api.pool_check = Some(account_api::pool_check::PoolCheck::new(
            account_api::pool_check::DEFAULT_TRUSTED_ATTRIBUTES
                .iter()
                .map(|a| (*a).to_owned())
                .collect(),
        ));
        let gateway = Arc::new(
            Gateway::new(
                api_definition.routes.clone(),
                api_definition.gateway_responses.clone(),
                api,
                oauth,
                authorizer,
            )?
            .with_openapi(openapi)
            .with_outbox(outbox.clone()),
        );

        let (shutdown, stopped) = oneshot::channel();
        let server = tokio::spawn(gateway::serve(listener, Arc::clone(&gateway), async {
            let _ = stopped.await;
        }));
        let (oauth_shutdown, oauth_stopped) = oneshot::channel();
        let oauth_server = tokio::spawn(oauth_standin::serve(
            oauth_listener,
            standin,
            pool.user_pool_id.clone(),
            async {
                let _ = oauth_stopped.await;
            },
        ));
        Ok(Self {
            base_url,
            oauth_url,
            cognito_url: cognito.url.clone(),
            cognito,
            emulator_url,
            pool,
            api: api_definition,
            gateway,
            outbox,
            emulator: Some(emulator),
            emulator_command: options.emulator_command.clone(),
            demo: options.demo.clone(),
            shutdown,
            server,
            oauth_shutdown,
            oauth_server,
        })
    }

    /// Kills the emulator (a fault test: Cognito and DynamoDB gone) and leaves the gateway
    /// serving.
    pub async fn kill_emulator(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            emulator.stop().await;
        }
    }

    /// Starts a new emulator on the same port and seeds it again. Pool and client ids are
    /// derived from the seeding requests, so they are the ones the running functions know.
    pub async fn restart_emulator(&mut self) -> Result<(), LocalStackError> {
        self.kill_emulator().await;
        let port = self
            .emulator_url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_default();
        let emulator = Emulator::start(&self.emulator_command, port).await?;
        let pool = seed::seed(&seed::emulator_client(&self.emulator_url), self.demo.clone()).await?;
        if pool.user_pool_id != self.pool.user_pool_id || pool.client_id != self.pool.client_id {
            return Err(LocalStackError::Config(format!(
                "the new emulator seeded pool {} (client {}), not {} ({})",
                pool.user_pool_id, pool.client_id, self.pool.user_pool_id, self.pool.client_id
            )));
        }
        seed::create_revocation_table(&seed::emulator_dynamodb(&self.emulator_url)).await?;
        self.emulator = Some(emulator);
        Ok(())
    }

    /// Stops the gateway, the stand-ins and the emulator.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.server.await;
        let _ = self.oauth_shutdown.send(());
        let _ = self.oauth_server.await;
        drop(self.cognito);
        if let Some(emulator) = self.emulator {
            emulator.stop().await;
        }
    }
}

/// The authorizer configured as the template configures it, pointed at the emulator's JWKS.
/// The emulator signs tokens with the issuer of the real service, so the issuer is set apart.
async fn local_authorizer(
    emulator_url: &str,
    pool: &SeededPool,
    api: &ApiDefinition,
    store: Arc<dyn RevocationStore>,
    cache: Duration,
    overrides: &[(String, String)],
) -> Result<LocalAuthorizer, LocalStackError> {
    let issuer = issuer_of(pool);
    let jwks_url = format!("{emulator_url}/{}/.well-known/jwks.json", pool.user_pool_id);
    let mut settings = vec![
        ("AWS_REGION", seed::REGION),
        ("COGNITO_USER_POOL_ID", pool.user_pool_id.as_str()),
        ("COGNITO_CLIENT_ID", pool.client_id.as_str()),
        ("COGNITO_ISSUER", issuer.as_str()),
        ("COGNITO_JWKS_URL", jwks_url.as_str()),
        ("TOKEN_USE", "access"),
    ];
    if let Some(rules) = &api.auth_rules {
        settings.push(("AUTH_RULES", rules.as_str()));
    }
    settings.retain(|(name, _)| !overrides.iter().any(|(o, _)| o == name));
    settings.extend(overrides.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let deps = AuthorizerDeps::from_env(&Env::from_pairs(&settings))?.with_revocation(store);
    if let Err(e) = deps.hydrate().await {
        // As in the Lambda binary: not fatal; verification retries after the back-off.
        tracing::error!(error = %e, "JWKS not loaded at start");
    }
    Ok(LocalAuthorizer::new(deps, cache))
}

/// The redirect URI of an app that runs PKCE itself (a single-page app on Vite's port), and
/// its origin, registered in the local stack.
pub const APP_REDIRECT_URI: &str = "http://localhost:5173/callback";
/// The origin allowed to call `POST /auth/oauth/token` locally.
pub const APP_ORIGIN: &str = "http://localhost:5173";

/// The OAuth routes configured as the template configures them, pointed at the stand-in, with
/// the cookie key in the emulator's Secrets Manager.
async fn local_oauth(
    emulator_url: &str,
    pool: &SeededPool,
    base_url: &str,
    oauth_url: &str,
) -> Result<OAuthApi, LocalStackError> {
    let secrets = seed::emulator_secrets(emulator_url);
    let arn = seed::create_cookie_key_secret(&secrets).await?;
    let issuer = issuer_of(pool);
    let jwks_url = format!("{emulator_url}/{}/.well-known/jwks.json", pool.user_pool_id);
    let callback = format!("{base_url}/auth/oauth/callback");
    let signed_out = format!("{base_url}/auth/oauth/signed-out");
    let env = Env::from_pairs(&[
        ("COGNITO_DOMAIN", oauth_url),
        ("COGNITO_CLIENT_ID", pool.client_id.as_str()),
        ("COGNITO_USER_POOL_ID", pool.user_pool_id.as_str()),
        ("COGNITO_ISSUER", issuer.as_str()),
        ("COGNITO_JWKS_URL", jwks_url.as_str()),
        ("OAUTH_CALLBACK_URL", callback.as_str()),
        ("OAUTH_SIGN_OUT_URL", signed_out.as_str()),
        ("OAUTH_APP_REDIRECT_URIS", APP_REDIRECT_URI),
        ("OAUTH_ALLOWED_ORIGINS", APP_ORIGIN),
        // Plain HTTP on loopback: a Secure cookie would never come back.
        ("OAUTH_COOKIE_SECURE", "false"),
        ("OAUTH_COOKIE_KEY_SECRET_ARN", arn.as_str()),
    ]);
    let settings = OAuthSettings::from_env(&env).map_err(oauth_flow::InitError::from)?;
    let key = oauth_flow::cookie_key_from_secrets_manager(&secrets, &arn).await?;
    let jwks = cognito_jwt::HttpJwksFetcher::new().map_err(|e| oauth_flow::InitError::Http(e.to_string()))?;
    Ok(OAuthApi::new(settings, key, Arc::new(jwks))?)
}

/// The emulator signs with the real service's issuer.
fn issuer_of(pool: &SeededPool) -> String {
    auth_contract::config::PoolLocation::derived_issuer(seed::REGION, &pool.user_pool_id)
}
