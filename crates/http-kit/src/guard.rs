//! In-function guards on the context the authorizer passed along: the caller is already
//! authenticated, and a handler narrows further by role or team (defence in depth).
//!
//! A failing check is a 403 problem+json with `errors: [{source: "roleCheck" | "teamCheck",
//! message}]`.

use auth_contract::AuthorizerContext;
use auth_contract::freshness::RecentAuth;
use lambda_http::{Request, RequestExt};

use crate::error::{ApiError, FieldError};

/// The `source` of a failed role check.
pub const ROLE_CHECK: &str = "roleCheck";
/// The `source` of a failed team check.
pub const TEAM_CHECK: &str = "teamCheck";

/// The caller the authorizer established, or 401 when no authorizer context reached the
/// function (a wiring mistake: the route is not behind the authorizer).
pub fn caller(request: &Request) -> Result<AuthorizerContext, ApiError> {
    request
        .request_context_ref()
        .and_then(|context| context.authorizer())
        .and_then(|authorizer| AuthorizerContext::from_fields(&authorizer.fields))
        .ok_or_else(|| ApiError::unauthorized("No authenticated caller."))
}

fn forbidden(source: &str, message: String) -> ApiError {
    ApiError::Forbidden(vec![FieldError::new(source, message)])
}

/// Passes if the caller has any of `roles` (the role claim, `cognito:groups` by default).
pub fn require_roles(caller: &AuthorizerContext, roles: &[&str]) -> Result<(), ApiError> {
    if roles.iter().any(|r| caller.roles.iter().any(|c| c == r)) {
        return Ok(());
    }
    Err(forbidden(
        ROLE_CHECK,
        format!("Requires one of the roles: {}.", roles.join(", ")),
    ))
}

/// Passes if the caller's token came from the pool whose canonical issuer is `issuer`: roles
/// and groups are a pool's own, and another pool's `admin` is nobody here.
pub fn require_pool(caller: &AuthorizerContext, issuer: &str) -> Result<(), ApiError> {
    if caller.issuer == issuer {
        return Ok(());
    }
    Err(forbidden(
        ROLE_CHECK,
        "Requires a user of this service's own pool.".to_owned(),
    ))
}

/// Passes if the caller's token descends from a sign-in recent enough for `recent` at `now`
/// (Unix seconds), else 401 `RecentAuthenticationRequired`: for what hands an account over.
pub fn require_recent_auth(caller: &AuthorizerContext, recent: RecentAuth, now: u64) -> Result<(), ApiError> {
    if recent.holds(caller.auth_time, now) {
        return Ok(());
    }
    Err(ApiError::RecentAuthenticationRequired {
        max_age: recent.max_age(),
    })
}

/// Passes if the caller belongs to any of `teams` (the team claim, `custom:team` by default).
pub fn require_teams(caller: &AuthorizerContext, teams: &[&str]) -> Result<(), ApiError> {
    if teams.iter().any(|t| caller.teams.iter().any(|c| c == t)) {
        return Ok(());
    }
    Err(forbidden(
        TEAM_CHECK,
        format!("Requires one of the teams: {}.", teams.join(", ")),
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use aws_lambda_events::event::apigw::{
        ApiGatewayProxyRequestContext, ApiGatewayRequestAuthorizer, ApiGatewayV2httpRequestContext,
    };
    use lambda_http::Body;
    use lambda_http::request::RequestContext;
    use serde_json::{Value, json};

    fn fields(v: Value) -> HashMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    fn alice() -> AuthorizerContext {
        AuthorizerContext::from_fields(&fields(json!({
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
