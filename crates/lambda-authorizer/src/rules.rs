//! The authorization rule document, shared by the authorizer and by in-function guards.
//!
//! ```json
//! {
//!   "version": 1,
//!   "roleClaim": "cognito:groups",
//!   "teamClaim": "custom:team",
//!   "routes": [
//!     { "route": "GET /auth/me", "allow": "authenticated" },
//!     { "route": "GET /admin/users", "groups": ["admin"] },
//!     { "route": "ANY /teams/{team}/reports/*", "teams": ["blue"], "scopes": ["reports/read"] }
//!   ]
//! }
//! ```
//!
//! - `route` is `METHOD /path`. METHOD is one of GET POST PUT PATCH DELETE HEAD OPTIONS, or `ANY`
//!   / `*` for all seven. A path segment is a literal or a parameter: `{name}` matches exactly one
//!   segment; `{name+}`, or `*`, only as the last segment, matches one or more.
//! - Who may call it: `"allow": "authenticated"` (any valid token), or one or more of the lists
//!   `groups` (`cognito:groups`), `roles` (the role claim), `teams` (the team claim) and `scopes`
//!   (the `scope` claim). Each list is "any of"; every list given must hold. Exactly one of the
//!   two forms; an optional `description` is ignored.
//! - A request path that is not canonical (an empty, `.` or `..` segment, a percent-encoded
//!   `/`, `\` or `.`, a control character) is denied before any rule. When several routes match
//!   a request every one of them must permit the caller (the most restrictive wins). Unlisted
//!   routes are denied.
//! - Claim values that are strings are read as comma-separated lists, so names may not contain
//!   commas or whitespace.
//!
//! Unknown fields, bad patterns, duplicates and empty lists are rejected at load with a message
//! naming the route.

use auth_contract::AuthorizerContext;
use auth_contract::context::{PrincipalType, listable};
use auth_contract::token::GROUPS_CLAIM;
use cognito_jwt::VerifiedToken;
use serde::Deserialize;
use serde_json::Value;

use crate::arn::Verb;
pub use crate::path::PathPattern;
use crate::path::is_canonical;

/// The project's default document: `infra/auth-rules.json`, which the template inlines too.
pub(crate) const DEFAULT_RULES_JSON: &str = include_str!("../../../infra/auth-rules.json");

/// The role claim when the document names none.
pub(crate) const DEFAULT_ROLE_CLAIM: &str = "cognito:groups";
/// The team claim when the document names none.
pub(crate) const DEFAULT_TEAM_CLAIM: &str = "custom:team";

/// Claims the verifier reads itself; a role or team claim may not reuse them.
const RESERVED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "token_use",
    "client_id",
    "username",
    "cognito:username",
    "scope",
    "auth_time",
    "origin_jti",
    "event_id",
];

/// A rule document that cannot be used, with what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid authorization rules: {0}")]
pub struct RulesError(pub String);

fn err(message: impl Into<String>) -> RulesError {
    RulesError(message.into())
}

/// The method part of a route: one verb, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MethodPattern {
    /// `ANY` (or `*`): every verb.
    Any,
    /// One verb.
    One(Verb),
}

impl MethodPattern {
    /// Whether `verb` is covered.
    pub fn matches(self, verb: Verb) -> bool {
        match self {
            MethodPattern::Any => true,
            MethodPattern::One(v) => v == verb,
        }
    }

    /// The verbs an IAM policy must list for this pattern. `ANY` is spelled out because an IAM
    /// `*` in the verb position would also match across `/` into the path.
    pub fn verbs(self) -> &'static [Verb] {
        match self {
            MethodPattern::Any => &Verb::ALL,
            MethodPattern::One(v) => match v {
                Verb::Get => &[Verb::Get],
                Verb::Post => &[Verb::Post],
                Verb::Put => &[Verb::Put],
                Verb::Patch => &[Verb::Patch],
                Verb::Delete => &[Verb::Delete],
                Verb::Head => &[Verb::Head],
                Verb::Options => &[Verb::Options],
            },
        }
    }
}

/// Which kind of condition failed, so a guard can name its check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionKind {
    /// The `groups` list (`cognito:groups`).
    Groups,
    /// The `roles` list (the role claim).
    Roles,
    /// The `teams` list (the team claim).
    Teams,
    /// The `scopes` list (the `scope` claim).
    Scopes,
}

impl ConditionKind {
    /// The list's name in the document.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionKind::Groups => "groups",
            ConditionKind::Roles => "roles",
            ConditionKind::Teams => "teams",
            ConditionKind::Scopes => "scopes",
        }
    }
}

/// "Any of" lists; every non-empty list must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// Any of these groups.
    pub groups: Vec<String>,
    /// Any of these roles.
    pub roles: Vec<String>,
    /// Any of these teams.
    pub teams: Vec<String>,
    /// Any of these scopes.
    pub scopes: Vec<String>,
}

impl Conditions {
    fn lists(&self) -> [(ConditionKind, &[String]); 4] {
        [
            (ConditionKind::Groups, &self.groups),
            (ConditionKind::Roles, &self.roles),
            (ConditionKind::Teams, &self.teams),
            (ConditionKind::Scopes, &self.scopes),
        ]
    }

    /// `Err` names the first condition the caller does not meet.
    pub fn check(&self, identity: &AuthorizerContext) -> Result<(), ConditionKind> {
        for (kind, wanted) in self.lists() {
            if wanted.is_empty() {
                continue;
            }
            let have = match kind {
                ConditionKind::Groups => &identity.groups,
                ConditionKind::Roles => &identity.roles,
                ConditionKind::Teams => &identity.teams,
                ConditionKind::Scopes => &identity.scopes,
            };
            if !wanted.iter().any(|w| have.iter().any(|h| h == w)) {
                return Err(kind);
            }
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), String> {
        for (kind, list) in self.lists() {
            for name in list {
                if name.is_empty() {
                    return Err(format!("`{}` contains an empty name", kind.as_str()));
                }
                if name.chars().any(char::is_whitespace) {
                    return Err(format!("`{}` entry `{name}` contains whitespace", kind.as_str()));
                }
                if kind != ConditionKind::Scopes && name.contains(',') {
                    return Err(format!("`{}` entry `{name}` contains a comma", kind.as_str()));
                }
            }
        }
        Ok(())
    }
}

/// Who may call a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Any valid token.
    Authenticated,
    /// Every non-empty list must hold.
    Require(Conditions),
}

impl Access {
    /// `Err` names the first condition the caller does not meet.
    pub fn check(&self, identity: &AuthorizerContext) -> Result<(), ConditionKind> {
        match self {
            Access::Authenticated => Ok(()),
            Access::Require(c) => c.check(identity),
        }
    }
}

/// One route of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRule {
    /// The method part.
    pub method: MethodPattern,
    /// The path part.
    pub path: PathPattern,
    /// Who may call it.
    pub access: Access,
    /// `METHOD /path` as written, for messages.
    pub route: String,
}

impl RouteRule {
    /// Whether the route covers this request.
    pub fn matches(&self, verb: Verb, path: &str) -> bool {
        self.method.matches(verb) && self.path.matches(path)
    }
}

/// The outcome of the rules for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteDecision {
    /// Some route matches and every matching route permits the caller.
    Permitted,
    /// The path is not canonical: denied before any rule.
    NotCanonical,
    /// A matching route's conditions are not met (`rule` indexes [`Rules::routes`]).
    NotPermitted {
        /// Index of the first matching route that refuses.
        rule: usize,
        /// Which of its conditions failed.
        failed: ConditionKind,
    },
    /// No route matches: denied.
    Unlisted,
}

/// A validated rule document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    role_claim: String,
    team_claim: String,
    routes: Vec<RouteRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawDocument {
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    role_claim: Option<String>,
    #[serde(default)]
    team_claim: Option<String>,
    routes: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    route: String,
    #[serde(default)]
    allow: Option<Value>,
    #[serde(default)]
    groups: Option<Vec<String>>,
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    teams: Option<Vec<String>>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    #[allow(dead_code)] // for readers of the document only
    description: Option<String>,
}

impl Rules {
    /// Parses and validates a document.
    pub fn from_json(text: &str) -> Result<Self, RulesError> {
        let doc: RawDocument = serde_json::from_str(text).map_err(|e| err(e.to_string()))?;
        if let Some(v) = doc.version
            && v != 1
        {
            return Err(err(format!("unsupported version {v} (expected 1)")));
        }
        let role_claim = claim_name("roleClaim", doc.role_claim, DEFAULT_ROLE_CLAIM)?;
        let team_claim = claim_name("teamClaim", doc.team_claim, DEFAULT_TEAM_CLAIM)?;
        if doc.routes.is_empty() {
            return Err(err("`routes` is empty; every request would be denied"));
        }
        let mut routes: Vec<RouteRule> = Vec::with_capacity(doc.routes.len());
        for (i, raw) in doc.routes.into_iter().enumerate() {
            let rule = parse_route(raw).map_err(|m| err(format!("routes[{i}]: {m}")))?;
            if let Some(other) = routes
                .iter()
                .find(|r| r.method == rule.method && r.path.same_shape(&rule.path))
            {
                return Err(err(format!(
                    "routes[{i}]: `{}` duplicates `{}`",
                    rule.route, other.route
                )));
            }
            routes.push(rule);
        }
        Ok(Self {
            role_claim,
            team_claim,
            routes,
        })
    }

    /// The project's default document (`infra/auth-rules.json`).
    pub fn project_default() -> Result<Self, RulesError> {
        Self::from_json(DEFAULT_RULES_JSON)
    }

    /// The claim roles are read from.
    pub fn role_claim(&self) -> &str {
        &self.role_claim
    }

    /// The claim teams are read from.
    pub fn team_claim(&self) -> &str {
        &self.team_claim
    }

    /// The routes, in document order.
    pub fn routes(&self) -> &[RouteRule] {
        &self.routes
    }

    /// The decision for one request: permitted only if some route matches and every matching
    /// route permits the caller.
    pub fn decide(&self, identity: &AuthorizerContext, verb: Verb, path: &str) -> RouteDecision {
        if !is_canonical(path) {
            return RouteDecision::NotCanonical;
        }
        let mut matched = false;
        for (i, rule) in self.routes.iter().enumerate() {
            if rule.matches(verb, path) {
                matched = true;
                if let Err(failed) = rule.access.check(identity) {
                    return RouteDecision::NotPermitted { rule: i, failed };
                }
            }
        }
        if matched {
            RouteDecision::Permitted
        } else {
            RouteDecision::Unlisted
        }
    }

    /// For each route, whether the caller meets its conditions (same order as [`Self::routes`]).
    pub fn permissions<'a>(
        &'a self,
        identity: &'a AuthorizerContext,
    ) -> impl Iterator<Item = (&'a RouteRule, bool)> + 'a {
        self.routes.iter().map(move |r| (r, r.access.check(identity).is_ok()))
    }

    /// The claims the verifier must read for these rules besides the standard ones: the team
    /// claim, then the role claim unless it is `cognito:groups`. [`Self::context`] reads them
    /// back in this order.
    pub fn extra_claims(&self) -> Vec<String> {
        let mut claims = vec![self.team_claim.clone()];
        if self.role_claim != GROUPS_CLAIM {
            claims.push(self.role_claim.clone());
        }
        claims
    }

    /// What a verified token says about its caller, under these rules' claim names: the
    /// context the authorizer hands on, and what [`Self::decide`] judges. The verifier must
    /// have read [`Self::extra_claims`]. Groups, roles and teams are read from the primary
    /// pool's tokens only (the first configured): another pool's `admin` group is another
    /// pool's business, and never passes a rule of this one. A name the comma-joined context
    /// cannot carry ([`auth_contract::context::listable`]) is left out: a function behind the
    /// authorizer would read `ops,admin` as `admin`.
    pub fn context(&self, token: &VerifiedToken) -> AuthorizerContext {
        let [teams, roles, ..] = &token.extra_claims;
        let primary = token.pool == 0;
        let membership = |list: &Vec<String>| {
            if primary {
                list.iter().filter(|name| listable(name)).cloned().collect()
            } else {
                Vec::new()
            }
        };
        AuthorizerContext {
            sub: token.sub.clone(),
            username: token.username.clone().unwrap_or_default(),
            groups: membership(&token.groups),
            roles: if self.role_claim == GROUPS_CLAIM {
                membership(&token.groups)
            } else {
                membership(roles)
            },
            teams: membership(teams),
            scopes: token.scopes.clone(),
            token_use: token.token_use.as_str().to_owned(),
            client_id: token.client_id.to_string(),
            origin_jti: token.origin_jti.clone().unwrap_or_default(),
            issuer: token.issuer.to_string(),
            auth_time: token.auth_time,
            principal_type: PrincipalType::User,
        }
    }
}

fn claim_name(field: &str, value: Option<String>, default: &str) -> Result<String, RulesError> {
    let Some(name) = value else {
        return Ok(default.to_owned());
    };
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return Err(err(format!("`{field}` must be a claim name without whitespace")));
    }
    if RESERVED_CLAIMS.contains(&name.as_str()) {
        return Err(err(format!(
            "`{field}` cannot be `{name}`: the verifier reads that claim itself"
        )));
    }
    Ok(name)
}

fn parse_route(raw: Value) -> Result<RouteRule, String> {
    let raw: RawRoute = serde_json::from_value(raw).map_err(|e| e.to_string())?;
    let route = raw.route;
    let Some((method, path)) = route.split_once(' ') else {
        return Err(format!("route `{route}` must be `METHOD /path`"));
    };
    let method = match method {
        "ANY" | "*" => MethodPattern::Any,
        m => match Verb::ALL.into_iter().find(|v| v.as_str() == m) {
            Some(v) => MethodPattern::One(v),
            None => {
                return Err(format!(
                    "route `{route}`: unknown method `{m}` (use GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY or *)"
                ));
            }
        },
    };
    let path = PathPattern::parse(path).map_err(|m| format!("route `{route}`: {m}"))?;
    let lists = [&raw.groups, &raw.roles, &raw.teams, &raw.scopes];
    if let Some((name, _)) = ["groups", "roles", "teams", "scopes"]
        .iter()
        .zip(lists)
        .find(|(_, l)| l.as_ref().is_some_and(Vec::is_empty))
    {
        return Err(format!("route `{route}`: `{name}` is empty"));
    }
    let has_conditions = lists.iter().any(|l| l.is_some());
    let allow = match raw.allow {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            return Err(format!(
                "route `{route}`: `allow` must be the string \"authenticated\"; put groups/roles/teams/scopes on the route itself"
            ));
        }
    };
    let access = match (allow.as_deref(), has_conditions) {
        (Some("authenticated"), false) => Access::Authenticated,
        (Some("authenticated"), true) => {
            return Err(format!(
                "route `{route}`: give either \"allow\": \"authenticated\" or groups/roles/teams/scopes, not both"
            ));
        }
        (Some(other), _) => {
            return Err(format!(
                "route `{route}`: `allow` must be \"authenticated\", not \"{other}\""
            ));
        }
        (None, false) => {
            return Err(format!(
                "route `{route}`: say who may call it: \"allow\": \"authenticated\" or groups/roles/teams/scopes"
            ));
        }
        (None, true) => {
            let c = Conditions {
                groups: raw.groups.unwrap_or_default(),
                roles: raw.roles.unwrap_or_default(),
                teams: raw.teams.unwrap_or_default(),
                scopes: raw.scopes.unwrap_or_default(),
            };
            c.validate().map_err(|m| format!("route `{route}`: {m}"))?;
            Access::Require(c)
        }
    };
    Ok(RouteRule {
        method,
        path,
        access,
        route,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ident(groups: &[&str], teams: &[&str], scopes: &[&str]) -> AuthorizerContext {
        AuthorizerContext {
            sub: "u".into(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
            roles: groups.iter().map(|s| s.to_string()).collect(),
            teams: teams.iter().map(|s| s.to_string()).collect(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            ..AuthorizerContext::default()
        }
    }

    #[test]
    fn default_document_parses_and_matches_the_shipped_file() {
        let rules = Rules::project_default().unwrap();
        assert_eq!(rules.role_claim(), "cognito:groups");
        assert_eq!(rules.team_claim(), "custom:team");
        let nobody = AuthorizerContext::default();
        assert_eq!(rules.decide(&nobody, Verb::Get, "/auth/me"), RouteDecision::Permitted);
        assert!(matches!(
            rules.decide(&nobody, Verb::Get, "/admin/users"),
            RouteDecision::NotPermitted {
                failed: ConditionKind::Groups,
                ..
            }
        ));
        let admin = ident(&["admin"], &[], &[]);
        assert_eq!(
            rules.decide(&admin, Verb::Get, "/admin/users"),
            RouteDecision::Permitted
        );
        assert_eq!(
            rules.decide(&admin, Verb::Patch, "/admin/users"),
            RouteDecision::Unlisted
        );
        assert_eq!(
            rules.decide(&admin, Verb::Get, "/admin/users/x"),
            RouteDecision::Permitted
        );
        assert_eq!(
            rules.decide(&admin, Verb::Get, "/admin/users/x/y"),
            RouteDecision::Unlisted
        );
    }

    fn verified(groups: &[&str], extra: [&[&str]; 2]) -> VerifiedToken {
        let owned = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        VerifiedToken {
            sub: "u-1".into(),
            username: Some("ada".into()),
            token_use: cognito_jwt::TokenUse::Access,
            client_id: "c".into(),
            issuer: "i".into(),
            pool: 0,
            expires_at: 10,
            issued_at: Some(1),
            auth_time: Some(1),
            origin_jti: None,
            groups: owned(groups),
            scopes: vec!["s".into()],
            extra_claims: [owned(extra[0]), owned(extra[1]), Vec::new(), Vec::new()],
        }
    }

    #[test]
    fn a_group_or_team_the_joined_context_cannot_carry_is_left_out() {
        let rules = Rules::project_default().unwrap();
        let token = verified(&["ops,admin", " admin", "", "member"], [&["red,blue", "green "], &[]]);
        let c = rules.context(&token);
        assert_eq!(
            (c.groups.as_slice(), c.roles.as_slice()),
            (&["member".to_owned()][..], &["member".to_owned()][..])
        );
        assert!(c.teams.is_empty(), "{:?}", c.teams);
        // A function behind the authorizer reads the joined strings back: no `admin`, no `blue`.
        let back = AuthorizerContext::from_fields(&c.to_fields()).expect("a context");
        assert_eq!(back.roles, ["member"]);
        assert!(back.teams.is_empty());
        assert!(matches!(
            rules.decide(&c, Verb::Get, "/admin/users"),
            RouteDecision::NotPermitted { .. }
        ));
    }

    #[test]
    fn the_context_reads_roles_and_teams_from_the_configured_claims() {
        let default = Rules::project_default().unwrap();
        assert_eq!(default.extra_claims(), ["custom:team"]);
        let c = default.context(&verified(&["admin"], [&["blue"], &[]]));
        assert_eq!(
            (c.groups.clone(), c.roles.clone()),
            (vec!["admin".to_owned()], vec!["admin".to_owned()])
        );
        assert_eq!(c.teams, ["blue"]);
        assert_eq!(
            (c.sub.as_str(), c.username.as_str(), c.token_use.as_str()),
            ("u-1", "ada", "access")
        );
        assert_eq!(
            (c.issuer.as_str(), c.auth_time, c.principal_type),
            ("i", Some(1), auth_contract::context::PrincipalType::User)
        );

        let custom = Rules::from_json(
            r#"{"roleClaim":"custom:role","teamClaim":"custom:squad","routes":[{"route":"GET /a","allow":"authenticated"}]}"#,
        )
        .unwrap();
        assert_eq!(custom.extra_claims(), ["custom:squad", "custom:role"]);
        let c = custom.context(&verified(&["admin"], [&["red"], &["editor", "viewer"]]));
        assert_eq!(c.groups, ["admin"]);
        assert_eq!(c.roles, ["editor", "viewer"], "roles no longer follow the groups");
        assert_eq!(c.teams, ["red"]);
    }

    #[test]
    fn another_pools_groups_roles_and_teams_never_pass_a_rule() {
        let rules = Rules::from_json(
            r#"{"routes":[{"route":"GET /admin","groups":["admin"]},{"route":"GET /team","teams":["blue"]},{"route":"GET /me","allow":"authenticated"}]}"#,
        )
        .unwrap();
        let primary = verified(&["admin"], [&["blue"], &[]]);
        let secondary = VerifiedToken {
            pool: 1,
            ..primary.clone()
        };
        let c = rules.context(&secondary);
        assert!(c.groups.is_empty() && c.roles.is_empty() && c.teams.is_empty(), "{c:?}");
        assert_eq!(c.scopes, ["s"], "scopes are the token's, whichever pool");
        for path in ["/admin", "/team"] {
            assert_eq!(
                rules.decide(&rules.context(&primary), Verb::Get, path),
                RouteDecision::Permitted
            );
            assert!(
                matches!(rules.decide(&c, Verb::Get, path), RouteDecision::NotPermitted { .. }),
                "{path}"
            );
        }
        assert_eq!(rules.decide(&c, Verb::Get, "/me"), RouteDecision::Permitted);
    }

    #[test]
    fn every_condition_on_a_route_must_hold() {
        let rules = Rules::from_json(
            r#"{"routes":[{"route":"GET /r","groups":["a","b"],"teams":["blue"],"scopes":["r/read"]}]}"#,
        )
        .unwrap();
        let ok = ident(&["b"], &["blue"], &["r/read"]);
        assert_eq!(rules.decide(&ok, Verb::Get, "/r"), RouteDecision::Permitted);
        let no_team = ident(&["b"], &["red"], &["r/read"]);
        assert_eq!(
            rules.decide(&no_team, Verb::Get, "/r"),
            RouteDecision::NotPermitted {
                rule: 0,
                failed: ConditionKind::Teams
            }
        );
        let no_scope = ident(&["a"], &["blue"], &[]);
        assert_eq!(
            rules.decide(&no_scope, Verb::Get, "/r"),
            RouteDecision::NotPermitted {
                rule: 0,
                failed: ConditionKind::Scopes
            }
        );
        let no_group = ident(&["c"], &["blue"], &["r/read"]);
        assert_eq!(
            rules.decide(&no_group, Verb::Get, "/r"),
            RouteDecision::NotPermitted {
                rule: 0,
                failed: ConditionKind::Groups
            }
        );
    }

    #[test]
    fn roles_come_from_their_own_list() {
        let rules =
            Rules::from_json(r#"{"roleClaim":"custom:role","routes":[{"route":"DELETE /x","roles":["owner"]}]}"#)
                .unwrap();
        assert_eq!(rules.role_claim(), "custom:role");
        let mut id = ident(&["owner"], &[], &[]);
        id.roles = vec![];
        assert!(matches!(
            rules.decide(&id, Verb::Delete, "/x"),
            RouteDecision::NotPermitted {
                failed: ConditionKind::Roles,
                ..
            }
        ));
        id.roles = vec!["owner".into()];
        assert_eq!(rules.decide(&id, Verb::Delete, "/x"), RouteDecision::Permitted);
    }

    #[test]
    fn methods_params_and_wildcards_match() {
        let rules = Rules::from_json(
            r#"{"routes":[
                {"route":"ANY /items/{id}","allow":"authenticated"},
                {"route":"* /files/{path+}","allow":"authenticated"},
                {"route":"GET /","allow":"authenticated"},
                {"route":"POST /a/{b}/c","allow":"authenticated"}
            ]}"#,
        )
        .unwrap();
        let id = AuthorizerContext::default();
        for verb in Verb::ALL {
            assert_eq!(rules.decide(&id, verb, "/items/42"), RouteDecision::Permitted, "{verb}");
        }
        assert_eq!(
            rules.decide(&id, Verb::Get, "/files/a/b/c.txt"),
            RouteDecision::Permitted
        );
        assert_eq!(rules.decide(&id, Verb::Get, "/"), RouteDecision::Permitted);
        assert_eq!(rules.decide(&id, Verb::Get, ""), RouteDecision::Permitted);
        assert_eq!(rules.decide(&id, Verb::Post, "/a/b/c"), RouteDecision::Permitted);
        assert_eq!(
            rules.decide(&id, Verb::Post, "/a/b/x/c"),
            RouteDecision::Unlisted,
            "one segment"
        );
        assert_eq!(rules.decide(&id, Verb::Get, "/a/b/c"), RouteDecision::Unlisted);
        assert_eq!(rules.decide(&id, Verb::Get, "/items/42/"), RouteDecision::NotCanonical);
        assert_eq!(rules.decide(&id, Verb::Get, "/files/a//b"), RouteDecision::NotCanonical);
        assert_eq!(rules.decide(&id, Verb::Get, "/items"), RouteDecision::Unlisted);
        assert_eq!(rules.decide(&id, Verb::Get, "/other"), RouteDecision::Unlisted);
        // Case matters in paths, as in IAM resource ARNs.
        assert_eq!(rules.decide(&id, Verb::Get, "/ITEMS/1"), RouteDecision::Unlisted);
    }

    #[test]
    fn most_restrictive_matching_route_wins() {
        let rules = Rules::from_json(
            r#"{"routes":[
                {"route":"GET /users/{id}","allow":"authenticated"},
                {"route":"GET /users/{id}/secrets","groups":["admin"]}
            ]}"#,
        )
        .unwrap();
        let user = AuthorizerContext::default();
        assert_eq!(rules.decide(&user, Verb::Get, "/users/7"), RouteDecision::Permitted);
        assert_eq!(
            rules.decide(&user, Verb::Get, "/users/7/secrets"),
            RouteDecision::NotPermitted {
                rule: 1,
                failed: ConditionKind::Groups
            }
        );
        let admin = ident(&["admin"], &[], &[]);
        assert_eq!(
            rules.decide(&admin, Verb::Get, "/users/7/secrets"),
            RouteDecision::Permitted
        );
    }

    #[test]
    fn invalid_documents_are_rejected_with_a_clear_reason() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"routes":[{"route":"GET /a","allow":"authenticated","extra":1}]}"#,
                "unknown field `extra`",
            ),
            (r#"{"routes":[],"colour":"red"}"#, "unknown field `colour`"),
            (r#"{"routes":[]}"#, "`routes` is empty"),
            (
                r#"{"version":2,"routes":[{"route":"GET /a","allow":"authenticated"}]}"#,
                "unsupported version 2",
            ),
            (
                r#"{"routes":[{"route":"FETCH /a","allow":"authenticated"}]}"#,
                "unknown method `FETCH`",
            ),
            (
                r#"{"routes":[{"route":"get /a","allow":"authenticated"}]}"#,
                "unknown method `get`",
            ),
            (
                r#"{"routes":[{"route":"GET a","allow":"authenticated"}]}"#,
                "must start with `/`",
            ),
            (
                r#"{"routes":[{"route":"GET /a//b","allow":"authenticated"}]}"#,
                "empty segment",
            ),
            (
                r#"{"routes":[{"route":"GET /a/","allow":"authenticated"}]}"#,
                "empty segment",
            ),
            (
                r#"{"routes":[{"route":"GET /a/{b","allow":"authenticated"}]}"#,
                "without closing",
            ),
            (
                r#"{"routes":[{"route":"GET /a/{1b}","allow":"authenticated"}]}"#,
                "not a valid parameter name",
            ),
            (
                r#"{"routes":[{"route":"GET /a/b*","allow":"authenticated"}]}"#,
                "`*` may only be the whole last segment",
            ),
            (
                r#"{"routes":[{"route":"GET /a/*/b","allow":"authenticated"}]}"#,
                "`*` may only be the whole last segment",
            ),
            (
                r#"{"routes":[{"route":"GET /a/{rest+}/b","allow":"authenticated"}]}"#,
                "may only be the last segment",
            ),
            (
                r#"{"routes":[{"route":"GET /a?x=1","allow":"authenticated"}]}"#,
                "character `?` is not allowed",
            ),
            (
                r#"{"routes":[{"route":"GET/a","allow":"authenticated"}]}"#,
                "must be `METHOD /path`",
            ),
            (
                r#"{"routes":[{"route":"GET /a","allow":"everyone"}]}"#,
                "not \"everyone\"",
            ),
            (r#"{"routes":[{"route":"GET /a"}]}"#, "say who may call it"),
            (
                r#"{"routes":[{"route":"GET /a","allow":"authenticated","groups":["x"]}]}"#,
                "not both",
            ),
            (r#"{"routes":[{"route":"GET /a","groups":[]}]}"#, "`groups` is empty"),
            (
                r#"{"routes":[{"route":"GET /a","grups":["x"]}]}"#,
                "unknown field `grups`",
            ),
            (r#"{"routes":[{"route":"GET /a","groups":[""]}]}"#, "empty name"),
            (
                r#"{"routes":[{"route":"GET /a","scopes":["a b"]}]}"#,
                "contains whitespace",
            ),
            (r#"{"routes":[{"route":"GET /a","teams":["a,b"]}]}"#, "contains a comma"),
            (r#"{"routes":[{"route":"GET /a","allow":true}]}"#, "must be the string"),
            (
                r#"{"routes":[{"route":"GET /a","allow":{"groups":["x"]}}]}"#,
                "on the route itself",
            ),
            (
                r#"{"routes":[{"route":"GET /a","groups":"admin"}]}"#,
                "expected a sequence",
            ),
            (
                r#"{"routes":[{"route":"GET /a","allow":"authenticated"},{"route":"GET /a","groups":["x"]}]}"#,
                "routes[1]: `GET /a` duplicates `GET /a`",
            ),
            (
                r#"{"routes":[{"route":"GET /a/{x}","allow":"authenticated"},{"route":"GET /a/{y}","allow":"authenticated"}]}"#,
                "duplicates",
            ),
            (
                r#"{"routes":[{"route":"GET /a/{x+}","allow":"authenticated"},{"route":"GET /a/*","allow":"authenticated"}]}"#,
                "duplicates",
            ),
            (
                r#"{"roleClaim":"sub","routes":[{"route":"GET /a","allow":"authenticated"}]}"#,
                "`roleClaim` cannot be `sub`",
            ),
            (
                r#"{"teamClaim":"","routes":[{"route":"GET /a","allow":"authenticated"}]}"#,
                "`teamClaim` must be a claim name",
            ),
            (r#"{"routes":[{"allow":"authenticated"}]}"#, "missing field `route`"),
            ("not json", "expected ident"),
        ];
        for (doc, expected) in cases {
            let e = Rules::from_json(doc).unwrap_err();
            assert!(
                e.to_string().contains(expected),
                "{doc}: got `{e}`, expected `{expected}`"
            );
        }
    }

    #[test]
    fn route_errors_name_the_route_index() {
        let e = Rules::from_json(
            r#"{"routes":[{"route":"GET /ok","allow":"authenticated"},{"route":"GET /bad/{","allow":"authenticated"}]}"#,
        )
        .unwrap_err();
        assert!(e.0.starts_with("routes[1]: route `GET /bad/{`"), "{e}");
    }

    proptest! {
        /// A literal path always matches itself and nothing longer or shorter.
        #[test]
        fn literal_paths_match_exactly(segs in proptest::collection::vec("[a-z0-9_-][a-z0-9_.-]{0,7}", 1..5), extra in "[a-z]{1,4}") {
            let path = format!("/{}", segs.join("/"));
            let p = PathPattern::parse(&path).unwrap();
            prop_assert!(p.matches(&path));
            let longer = format!("{path}/{extra}");
            prop_assert!(!p.matches(&longer));
            let longer_segment = format!("{path}{extra}");
            prop_assert!(!p.matches(&longer_segment));
        }

        /// A parameter segment matches any non-empty value in its place.
        #[test]
        fn params_match_any_value(prefix in "[a-z]{1,6}", value in "[A-Za-z0-9._~-]{1,20}", suffix in "[a-z]{1,6}") {
            let p = PathPattern::parse(&format!("/{prefix}/{{id}}/{suffix}")).unwrap();
            let path = format!("/{prefix}/{value}/{suffix}");
            prop_assert!(p.matches(&path));
            let wrong_suffix = format!("/{prefix}/{value}/{suffix}x");
            prop_assert!(!p.matches(&wrong_suffix));
        }
    }
}
