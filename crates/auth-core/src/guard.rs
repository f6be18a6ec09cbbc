//! In-function guards on the context the authorizer passed along: the caller is already
//! authenticated, and a handler narrows further by role, team or the shared rule document.
//!
//! The context is read from `requestContext.authorizer.<key>` (REST) or
//! `requestContext.authorizer.lambda.<key>` (HTTP API). A failing check is a 403 problem+json
//! with `errors: [{source: "roleCheck" | "teamCheck", message}]`.

use std::collections::HashMap;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::Value;

use crate::error::{ApiError, FieldError};
use crate::rules::{ConditionKind, Identity, RouteDecision, Rules, Verb};

pub const ROLE_CHECK: &str = "roleCheck";
pub const TEAM_CHECK: &str = "teamCheck";

/// The authorizer context as a handler sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    pub sub: String,
    pub username: String,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
    pub teams: Vec<String>,
    pub scopes: Vec<String>,
    pub token_use: String,
    pub client_id: String,
}

impl Caller {
    /// From the authorizer fields of the request, if an authorizer ran.
    pub fn from_request(request: &Request) -> Option<Self> {
        let fields = match request.request_context_ref()? {
            RequestContext::ApiGatewayV1(ctx) => &ctx.authorizer.fields,
            RequestContext::ApiGatewayV2(ctx) => &ctx.authorizer.as_ref()?.fields,
            #[allow(unreachable_patterns)] // other variants exist when more lambda_http features are on
            _ => return None,
        };
        Self::from_fields(fields)
    }

    /// From a context map; `None` without a `sub` (no authorizer, or not ours).
    pub fn from_fields(fields: &HashMap<String, Value>) -> Option<Self> {
        let text = |k: &str| match fields.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let list = |k: &str| -> Vec<String> {
            text(k)
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let sub = text("sub");
        if sub.is_empty() {
            return None;
        }
        Some(Self {
            sub,
            username: text("username"),
            groups: list("groups"),
            roles: list("role"),
            teams: list("team"),
            scopes: text("scope").split_whitespace().map(str::to_owned).collect(),
            token_use: text("tokenUse"),
            client_id: text("clientId"),
        })
    }

    pub fn identity(&self) -> Identity {
        Identity {
            groups: self.groups.clone(),
            roles: self.roles.clone(),
            teams: self.teams.clone(),
            scopes: self.scopes.clone(),
        }
    }
}

/// The caller, or 401 when no authorizer context reached the function (a wiring mistake).
pub fn caller(request: &Request) -> Result<Caller, ApiError> {
    Caller::from_request(request).ok_or_else(|| ApiError::unauthorized("No authenticated caller."))
}

fn forbidden(source: &str, message: String) -> ApiError {
    ApiError::Forbidden(vec![FieldError::new(source, message)])
}

/// Passes if the caller has any of `roles` (the role claim, `cognito:groups` by default).
pub fn require_roles(caller: &Caller, roles: &[&str]) -> Result<(), ApiError> {
    if roles.iter().any(|r| caller.roles.iter().any(|c| c == r)) {
        return Ok(());
    }
    Err(forbidden(
        ROLE_CHECK,
        format!("Requires one of the roles: {}.", roles.join(", ")),
    ))
}

/// Passes if the caller belongs to any of `teams` (the team claim, `custom:team` by default).
pub fn require_teams(caller: &Caller, teams: &[&str]) -> Result<(), ApiError> {
    if teams.iter().any(|t| caller.teams.iter().any(|c| c == t)) {
        return Ok(());
    }
    Err(forbidden(
        TEAM_CHECK,
        format!("Requires one of the teams: {}.", teams.join(", ")),
    ))
}

/// Applies the shared rule document to this request, as the authorizer did. A failed team
/// condition is reported as `teamCheck`, any other as `roleCheck`.
pub fn require_route(rules: &Rules, caller: &Caller, method: &str, path: &str) -> Result<(), ApiError> {
    let decision = match Verb::parse(method) {
        Some(v) => rules.decide(&caller.identity(), v, path),
        None => RouteDecision::Unlisted,
    };
    match decision {
        RouteDecision::Permitted => Ok(()),
        RouteDecision::Unlisted => Err(forbidden(ROLE_CHECK, format!("No rule allows {method} {path}."))),
        RouteDecision::NotPermitted { rule, failed } => {
            let route = rules.routes().get(rule).map_or("this route", |r| r.route.as_str());
            let source = if failed == ConditionKind::Teams {
                TEAM_CHECK
            } else {
                ROLE_CHECK
            };
            Err(forbidden(
                source,
                format!("The caller lacks the {} that {route} requires.", failed.as_str()),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::apigw::{
        ApiGatewayProxyRequestContext, ApiGatewayRequestAuthorizer, ApiGatewayV2httpRequestContext,
    };
    use lambda_http::Body;
    use serde_json::json;

    fn fields(v: Value) -> HashMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    fn alice() -> Caller {
        Caller::from_fields(&fields(json!({
            "sub": "u-1", "username": "alice", "groups": "admin,staff", "role": "admin,staff",
            "team": "blue", "scope": "a b", "tokenUse": "access", "clientId": "c", "principalId": "u-1",
        })))
        .unwrap()
    }

    fn body(e: ApiError) -> (u16, Value) {
        let r = e.into_response();
        let Body::Text(t) = r.body() else { panic!("text body") };
        (r.status().as_u16(), serde_json::from_str(t).unwrap())
    }

    #[test]
    fn reads_the_flat_context() {
        let c = alice();
        assert_eq!(c.groups, ["admin", "staff"]);
        assert_eq!(c.teams, ["blue"]);
        assert_eq!(c.scopes, ["a", "b"]);
        assert!(
            Caller::from_fields(&fields(json!({"username": "x"}))).is_none(),
            "no sub, no caller"
        );
    }

    #[test]
    fn role_and_team_checks() {
        let c = alice();
        assert!(require_roles(&c, &["admin"]).is_ok());
        assert!(require_roles(&c, &["owner", "staff"]).is_ok());
        let (status, b) = body(require_roles(&c, &["owner"]).unwrap_err());
        assert_eq!(status, 403);
        assert_eq!(b["code"], "Forbidden");
        assert_eq!(
            b["errors"],
            json!([{"source": "roleCheck", "message": "Requires one of the roles: owner."}])
        );

        assert!(require_teams(&c, &["blue"]).is_ok());
        let (status, b) = body(require_teams(&c, &["red", "green"]).unwrap_err());
        assert_eq!(status, 403);
        assert_eq!(b["errors"][0]["source"], "teamCheck");
        assert_eq!(b["errors"][0]["message"], "Requires one of the teams: red, green.");
    }

    #[test]
    fn route_check_uses_the_shared_rules() {
        let rules = Rules::from_json(
            r#"{"routes":[
                {"route":"GET /admin/users","groups":["admin"]},
                {"route":"GET /reports","teams":["red"]}
            ]}"#,
        )
        .unwrap();
        let c = alice();
        assert!(require_route(&rules, &c, "get", "/admin/users").is_ok());
        let (_, b) = body(require_route(&rules, &c, "GET", "/reports").unwrap_err());
        assert_eq!(b["errors"][0]["source"], "teamCheck");
        assert!(b["errors"][0]["message"].as_str().unwrap().contains("GET /reports"));
        let mut bob = c.clone();
        bob.groups.clear();
        let (_, b) = body(require_route(&rules, &bob, "GET", "/admin/users").unwrap_err());
        assert_eq!(b["errors"][0]["source"], "roleCheck");
        let (status, _) = body(require_route(&rules, &c, "DELETE", "/admin/users").unwrap_err());
        assert_eq!(status, 403);
    }

    #[test]
    fn reads_rest_and_http_api_request_contexts() {
        let ctx_fields = fields(json!({"sub": "u-9", "role": "editor", "team": "red"}));

        let mut authorizer = ApiGatewayRequestAuthorizer::default();
        authorizer.fields = ctx_fields.clone();
        let mut v1 = ApiGatewayProxyRequestContext::default();
        v1.authorizer = authorizer.clone();
        let req = lambda_http::http::Request::new(Body::Empty).with_request_context(RequestContext::ApiGatewayV1(v1));
        let c = caller(&req).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.roles.clone(), c.teams.clone()),
            ("u-9", vec!["editor".to_owned()], vec!["red".to_owned()])
        );

        let mut v2 = ApiGatewayV2httpRequestContext::default();
        v2.authorizer = Some(authorizer);
        let req = lambda_http::http::Request::new(Body::Empty).with_request_context(RequestContext::ApiGatewayV2(v2));
        assert_eq!(caller(&req).unwrap().sub, "u-9");

        // The same through JSON, as API Gateway sends it.
        let v2_json = json!({"requestContext": {"http": {"method": "GET"}, "authorizer": {"lambda": {"sub": "u-7", "team": "blue"}}}});
        let ctx: ApiGatewayV2httpRequestContext = serde_json::from_value(v2_json["requestContext"].clone()).unwrap();
        let req = lambda_http::http::Request::new(Body::Empty).with_request_context(RequestContext::ApiGatewayV2(ctx));
        assert!(require_teams(&caller(&req).unwrap(), &["blue"]).is_ok());

        let bare = lambda_http::http::Request::new(Body::Empty);
        let (status, _) = body(caller(&bare).unwrap_err());
        assert_eq!(status, 401);
    }
}
