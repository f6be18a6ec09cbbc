//! An API Gateway Lambda authorizer for Amazon Cognito tokens: verifies the bearer token
//! (`cognito-jwt`), applies the rule document ([`Rules`]) and answers the IAM policy API Gateway
//! caches ([`caller_policy`]) or an HTTP API simple response. No HTTP framework and no AWS SDK
//! in it, so the Lambda binary stays small and starts fast.
//!
//! - [`Rules`], [`RouteDecision`]: the rule document (who may call which route) and its
//!   decisions; [`MethodArn`] and [`Verb`]: the request as API Gateway names it.
//! - [`caller_policy`], [`PolicyDocument`]: the policy a caller gets, and API Gateway's
//!   evaluation of a policy.
//! - [`AuthorizerDeps`], [`handle_event`], [`handler`]: the Lambda handler on REST TOKEN,
//!   REST REQUEST and HTTP API payload 2.0 events.
//! - [`AuthorizerConfig`]: the settings, from the environment.
//!
//! ```
//! use auth_contract::AuthorizerContext;
//! use lambda_authorizer::{RouteDecision, Rules, Verb};
//!
//! let rules = Rules::from_json(r#"{"routes": [
//!     {"route": "GET /auth/me", "allow": "authenticated"},
//!     {"route": "GET /admin/users", "groups": ["admin"]}
//! ]}"#)
//! .unwrap();
//! let member = AuthorizerContext { sub: "u-1".into(), groups: vec!["member".into()], ..Default::default() };
//! assert_eq!(rules.decide(&member, Verb::Get, "/auth/me"), RouteDecision::Permitted);
//! assert!(matches!(rules.decide(&member, Verb::Get, "/admin/users"), RouteDecision::NotPermitted { .. }));
//! assert_eq!(rules.decide(&member, Verb::Delete, "/auth/me"), RouteDecision::Unlisted);
//! ```
//!
//! Verifying a token and deciding its route together, as the handler does:
//!
//! ```
//! use lambda_authorizer::{AuthorizerConfig, AuthorizerDeps, handler};
//! use auth_contract::config::Env;
//! use cognito_jwt::testkit::{CLIENT, FakeFetcher, JWKS_URL, access_claims, jwks_of, key, mint, with};
//! use cognito_jwt::unix_now;
//! use serde_json::json;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let config = AuthorizerConfig::from_env(&Env::from_pairs(&[
//!     ("COGNITO_USER_POOL_ID", "eu-west-1_TestPool"),
//!     ("COGNITO_CLIENT_ID", CLIENT),
//!     ("COGNITO_JWKS_URL", JWKS_URL),
//!     ("AUTH_RULES", r#"{"routes": [{"route": "GET /admin/users", "groups": ["admin"]}]}"#),
//! ]))
//! .unwrap();
//! // A static JWKS behind a fake fetcher; the Lambda binary fetches the pool's over HTTPS.
//! let deps = AuthorizerDeps::new(config, FakeFetcher::serving(JWKS_URL, jwks_of(&[key(0)])));
//! deps.hydrate().await.unwrap();
//!
//! let now = unix_now();
//! let claims = with(with(access_claims(), "iat", json!(now)), "exp", json!(now + 3600));
//! let token = mint(key(0), &claims); // an admin, valid for an hour
//! let event = json!({
//!     "type": "TOKEN",
//!     "authorizationToken": format!("Bearer {token}"),
//!     "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:api/prod/GET/admin/users",
//! });
//! let answer = handler(&deps, event).await.unwrap();
//! assert_eq!(answer["policyDocument"]["Statement"][0]["Effect"], "Allow");
//! assert_eq!(answer["context"]["groups"], "admin,staff");
//! # });
//! ```

mod arn;
mod check;
mod config;
mod event;
mod glob;
mod handler;
mod path;
mod policy;
mod response;
mod revocation;
mod rules;

pub use arn::{ArnError, MethodArn, Verb};
pub use config::{AuthorizerConfig, ResponseMode};
pub use event::{AuthorizerEvent, BorrowedEvent};
pub use handler::{AuthorizerDeps, AuthorizerError, InitError, handle_event, handler};
pub use policy::{Effect, PolicyDocument, PolicyError, RenderedPolicy, Statement, caller_policy, overlap_warnings};
pub use response::AuthorizerResponse;
pub use revocation::RevocationSettings;
pub use rules::{
    Access, ConditionKind, Conditions, MethodPattern, PathPattern, RouteDecision, RouteRule, Rules, RulesError,
};
