//! A typed IAM policy builder for API Gateway Lambda authorizers, in the spirit of the AWS
//! `AuthPolicy` blueprint: allow or deny per verb and resource path, optionally with conditions,
//! rendered as `aws_lambda_events` types. Also parses method/route ARNs and evaluates a built
//! policy the way API Gateway does, so tests and the local gateway can check a decision.

use std::collections::BTreeMap;
use std::fmt;

use aws_lambda_events::event::apigw::ApiGatewayCustomAuthorizerPolicy;
use aws_lambda_events::event::iam::{IamPolicyEffect, IamPolicyStatement};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::glob::glob_match;
use crate::rules::{MethodPattern, Verb};

/// The IAM policy language version.
pub const POLICY_VERSION: &str = "2012-10-17";
/// The action every statement names.
pub const INVOKE_ACTION: &str = "execute-api:Invoke";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
/// Why an ARN or path cannot go into a policy.
pub enum PolicyError {
    #[error("not an execute-api method ARN")]
    /// Not an execute-api method ARN, or one with a wildcard in it.
    InvalidArn,
    #[error("resource path contains whitespace or control characters")]
    /// Whitespace or control characters in a path.
    InvalidPath,
}

/// The API a request went to: everything in a method ARN before the verb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiArn {
    /// `aws`, `aws-cn`...
    pub partition: String,
    /// The region.
    pub region: String,
    /// The account.
    pub account_id: String,
    /// The API id.
    pub api_id: String,
    /// The stage.
    pub stage: String,
}

impl ApiArn {
    /// `arn:<partition>:execute-api:<region>:<account>:<api>/<stage>`, the prefix of every resource.
    pub fn prefix(&self) -> String {
        format!(
            "arn:{}:execute-api:{}:{}:{}/{}",
            self.partition, self.region, self.account_id, self.api_id, self.stage
        )
    }
}

/// A parsed `arn:aws:execute-api:region:account:apiId/stage/METHOD/path` (REST `methodArn` or
/// HTTP API `routeArn`), borrowing from the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodArn<'a> {
    prefix: &'a str,
    /// `aws`, `aws-cn`...
    pub partition: &'a str,
    /// The region.
    pub region: &'a str,
    /// The account.
    pub account_id: &'a str,
    /// The API id.
    pub api_id: &'a str,
    /// The stage.
    pub stage: &'a str,
    /// As written in the ARN; see [`MethodArn::verb`].
    pub method: &'a str,
    /// The request path without its leading `/` (empty for the root).
    pub path: &'a str,
    request_path: &'a str,
}

impl<'a> MethodArn<'a> {
    /// Parses an ARN; wildcards, whitespace and empty parts are refused.
    pub fn parse(arn: &'a str) -> Result<Self, PolicyError> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("execute-api"), Some(region), Some(account_id), Some(resource)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(PolicyError::InvalidArn);
        };
        let mut res = resource.splitn(4, '/');
        let (Some(api_id), Some(stage), Some(method)) = (res.next(), res.next(), res.next()) else {
            return Err(PolicyError::InvalidArn);
        };
        let path = res.next().unwrap_or("");
        // The path as requested, with its leading `/` (the one that ends the method in the ARN):
        // `GET//x` is the path `//x`, not `/x`.
        let request_path = match arn.len().checked_sub(path.len() + 1).and_then(|start| arn.get(start..)) {
            Some(with_slash) if with_slash.starts_with('/') && !path.is_empty() => with_slash,
            _ => "/",
        };
        // These go verbatim into the policy's resources: no wildcard may sneak in from the event.
        let fields = [partition, region, account_id, api_id, stage, method];
        if fields.iter().any(|f| {
            f.is_empty()
                || f.bytes()
                    .any(|b| b == b'*' || b == b'?' || b.is_ascii_whitespace() || b.is_ascii_control())
        }) {
            return Err(PolicyError::InvalidArn);
        }
        let prefix_len = arn.len() - resource.len() + api_id.len() + 1 + stage.len();
        let prefix = arn.get(..prefix_len).ok_or(PolicyError::InvalidArn)?;
        Ok(Self {
            prefix,
            partition,
            region,
            account_id,
            api_id,
            stage,
            method,
            path,
            request_path,
        })
    }

    /// The request path with its leading `/` (`/` for the root), as the rules judge it.
    pub fn request_path(&self) -> &'a str {
        self.request_path
    }

    /// `None` for a method API Gateway never authorizes through a route (rules cannot name it).
    pub fn verb(&self) -> Option<Verb> {
        Verb::parse(self.method)
    }

    /// `arn:...:apiId/stage`.
    pub fn prefix(&self) -> &'a str {
        self.prefix
    }

    /// The API and stage, owned.
    pub fn api(&self) -> ApiArn {
        ApiArn {
            partition: self.partition.to_owned(),
            region: self.region.to_owned(),
            account_id: self.account_id.to_owned(),
            api_id: self.api_id.to_owned(),
            stage: self.stage.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// A statement's effect.
pub enum Effect {
    /// Allow.
    Allow,
    /// Deny (an explicit Deny wins).
    Deny,
}

impl Effect {
    /// `Allow` or `Deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An IAM `Condition` block: operator → key → values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Condition(BTreeMap<String, BTreeMap<String, Vec<String>>>);

impl Condition {
    /// No conditions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `operator: { key: values }`, e.g. `("IpAddress", "aws:SourceIp", ["203.0.113.0/24"])`.
    pub fn with<I, S>(mut self, operator: &str, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.0
            .entry(operator.to_owned())
            .or_default()
            .entry(key.to_owned())
            .or_default()
            .extend(values.into_iter().map(Into::into));
        self
    }

    /// Whether no condition was added.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One statement of a built policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Allow or Deny.
    pub effect: Effect,
    /// The resource ARNs (IAM globs).
    pub resources: Vec<String>,
    /// An IAM condition block, if any.
    pub condition: Option<Condition>,
}

/// A built policy: what the authorizer returns and what API Gateway evaluates (and caches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    /// The statements, in order.
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// API Gateway's evaluation: an explicit Deny wins, then an Allow, else an implicit Deny.
    /// Statements with conditions cannot be evaluated here: their Allows are ignored and their
    /// Denies applied, so the answer is never more permissive than API Gateway's.
    pub fn evaluate(&self, resource_arn: &str) -> Effect {
        let mut allowed = false;
        for s in &self.statements {
            if !s.resources.iter().any(|r| glob_match(r, resource_arn)) {
                continue;
            }
            match (s.effect, &s.condition) {
                (Effect::Deny, _) => return Effect::Deny,
                (Effect::Allow, None) => allowed = true,
                (Effect::Allow, Some(_)) => {}
            }
        }
        if allowed { Effect::Allow } else { Effect::Deny }
    }

    /// Reads back an authorizer response's policy (e.g. one returned by the handler), keeping
    /// the statements that cover `execute-api:Invoke`.
    pub fn from_apigw(policy: &ApiGatewayCustomAuthorizerPolicy) -> Self {
        let statements = policy
            .statement
            .iter()
            .filter(|s| s.action.iter().any(|a| glob_match(a, INVOKE_ACTION)))
            .map(|s| Statement {
                effect: match s.effect {
                    IamPolicyEffect::Allow => Effect::Allow,
                    _ => Effect::Deny,
                },
                resources: s.resource.clone(),
                condition: s.condition.as_ref().filter(|c| !c.is_empty()).map(|c| {
                    Condition(
                        c.iter()
                            .map(|(op, kv)| (op.clone(), kv.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
                            .collect(),
                    )
                }),
            })
            .collect();
        Self { statements }
    }

    /// The `policyDocument` of an authorizer response.
    pub fn to_apigw(&self) -> ApiGatewayCustomAuthorizerPolicy {
        let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
        policy.version = Some(POLICY_VERSION.to_owned());
        policy.statement = self
            .statements
            .iter()
            .map(|s| {
                let mut st = IamPolicyStatement::default();
                st.action = vec![INVOKE_ACTION.to_owned()];
                st.effect = match s.effect {
                    Effect::Allow => IamPolicyEffect::Allow,
                    Effect::Deny => IamPolicyEffect::Deny,
                };
                st.resource = s.resources.clone();
                st.condition = s.condition.as_ref().map(|c| {
                    c.0.iter()
                        .map(|(op, kv)| (op.clone(), kv.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
                        .collect()
                });
                st
            })
            .collect();
        policy
    }
}

/// The `policyDocument` JSON, written straight from the statements: the same JSON as
/// serializing [`PolicyDocument::to_apigw`] (tested) without copying a string. Keys in sorted
/// order, as a `serde_json::Value` would print them, so the text matches the earlier output.
impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut doc = serializer.serialize_map(Some(2))?;
        doc.serialize_entry("Statement", &self.statements)?;
        doc.serialize_entry("Version", POLICY_VERSION)?;
        doc.end()
    }
}

impl Serialize for Statement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(3 + usize::from(self.condition.is_some())))?;
        m.serialize_entry("Action", &[INVOKE_ACTION])?;
        if let Some(c) = &self.condition {
            m.serialize_entry("Condition", &c.0)?;
        }
        m.serialize_entry("Effect", self.effect.as_str())?;
        m.serialize_entry("Resource", &self.resources)?;
        m.end()
    }
}

/// Builds a policy for one API and stage. Unconditional allows and denies are grouped into one
/// statement each; every conditional entry gets its own statement.
#[derive(Debug, Clone)]
pub struct PolicyBuilder {
    prefix: String,
    allow: Vec<String>,
    deny: Vec<String>,
    conditional: Vec<Statement>,
}

impl PolicyBuilder {
    /// A builder for the API and stage of `api`.
    pub fn new(api: &ApiArn) -> Self {
        Self::with_prefix(api.prefix())
    }

    /// From a method ARN's `arn:...:apiId/stage` prefix, without re-formatting it.
    pub fn for_method_arn(arn: &MethodArn<'_>) -> Self {
        Self::with_prefix(arn.prefix().to_owned())
    }

    fn with_prefix(prefix: String) -> Self {
        Self {
            prefix,
            allow: Vec::new(),
            deny: Vec::new(),
            conditional: Vec::new(),
        }
    }

    /// The resource ARN for a verb (`*` for [`MethodPattern::Any`]) and a path (leading `/`
    /// optional; `*` is a wildcard).
    pub fn resource(&self, method: MethodPattern, path: &str) -> Result<String, PolicyError> {
        let path = path.strip_prefix('/').unwrap_or(path);
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(PolicyError::InvalidPath);
        }
        let verb = match method {
            MethodPattern::Any => "*",
            MethodPattern::One(v) => v.as_str(),
        };
        let mut r = String::with_capacity(self.prefix.len() + verb.len() + path.len() + 2);
        r.push_str(&self.prefix);
        r.push('/');
        r.push_str(verb);
        r.push('/');
        r.push_str(path);
        Ok(r)
    }

    /// Allows `method` on `path` (an IAM glob).
    pub fn allow_method(&mut self, method: MethodPattern, path: &str) -> Result<&mut Self, PolicyError> {
        let r = self.resource(method, path)?;
        self.allow.push(r);
        Ok(self)
    }

    /// Denies `method` on `path` (an IAM glob).
    pub fn deny_method(&mut self, method: MethodPattern, path: &str) -> Result<&mut Self, PolicyError> {
        let r = self.resource(method, path)?;
        self.deny.push(r);
        Ok(self)
    }

    /// Allows an already-formed resource ARN (e.g. the request's own method ARN).
    pub fn allow_resource(&mut self, resource_arn: &str) -> &mut Self {
        self.allow.push(resource_arn.to_owned());
        self
    }

    /// Denies an already-formed resource ARN (e.g. the request's own method ARN).
    pub fn deny_resource(&mut self, resource_arn: &str) -> &mut Self {
        self.deny.push(resource_arn.to_owned());
        self
    }

    /// Allows `method` on `path` when `condition` holds.
    pub fn allow_method_with_condition(
        &mut self,
        method: MethodPattern,
        path: &str,
        condition: Condition,
    ) -> Result<&mut Self, PolicyError> {
        self.conditional_entry(Effect::Allow, method, path, condition)
    }

    /// Denies `method` on `path` when `condition` holds.
    pub fn deny_method_with_condition(
        &mut self,
        method: MethodPattern,
        path: &str,
        condition: Condition,
    ) -> Result<&mut Self, PolicyError> {
        self.conditional_entry(Effect::Deny, method, path, condition)
    }

    fn conditional_entry(
        &mut self,
        effect: Effect,
        method: MethodPattern,
        path: &str,
        condition: Condition,
    ) -> Result<&mut Self, PolicyError> {
        let r = self.resource(method, path)?;
        let condition = (!condition.is_empty()).then_some(condition);
        self.conditional.push(Statement {
            effect,
            resources: vec![r],
            condition,
        });
        Ok(self)
    }

    /// Allows every method on every path of the API and stage.
    pub fn allow_all_methods(&mut self) -> &mut Self {
        let r = format!("{}/*/*", self.prefix);
        self.allow.push(r);
        self
    }

    /// Denies every method on every path of the API and stage.
    pub fn deny_all_methods(&mut self) -> &mut Self {
        let r = format!("{}/*/*", self.prefix);
        self.deny.push(r);
        self
    }

    /// Statements with no resource are left out; a policy that would be empty becomes an
    /// explicit deny of everything, since API Gateway rejects an empty policy.
    pub fn build(self) -> PolicyDocument {
        let mut statements = Vec::with_capacity(2 + self.conditional.len());
        if !self.allow.is_empty() {
            statements.push(Statement {
                effect: Effect::Allow,
                resources: self.allow,
                condition: None,
            });
        }
        if !self.deny.is_empty() {
            statements.push(Statement {
                effect: Effect::Deny,
                resources: self.deny,
                condition: None,
            });
        }
        statements.extend(self.conditional);
        if statements.is_empty() {
            statements.push(Statement {
                effect: Effect::Deny,
                resources: vec![format!("{}/*/*", self.prefix)],
                condition: None,
            });
        }
        PolicyDocument { statements }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/admin/users";

    fn api() -> ApiArn {
        MethodArn::parse(ARN).unwrap().api()
    }

    #[test]
    fn parses_method_arns() {
        let a = MethodArn::parse(ARN).unwrap();
        assert_eq!(
            (a.partition, a.region, a.account_id, a.api_id, a.stage, a.method, a.path),
            (
                "aws",
                "eu-west-1",
                "123456789012",
                "abc123",
                "prod",
                "GET",
                "admin/users"
            )
        );
        assert_eq!(a.prefix(), "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod");
        assert_eq!(a.request_path(), "/admin/users");
        let doubled = MethodArn::parse("arn:aws:execute-api:r:1:api/s/GET//admin").unwrap();
        assert_eq!((doubled.path, doubled.request_path()), ("/admin", "//admin"));
        assert_eq!(a.api().prefix(), a.prefix());
        assert_eq!(a.verb(), Some(Verb::Get));

        let root = MethodArn::parse("arn:aws-cn:execute-api:cn-north-1:1:api/$default/POST/").unwrap();
        assert_eq!((root.partition, root.stage, root.path), ("aws-cn", "$default", ""));
        assert_eq!(root.request_path(), "/");
        let no_path = MethodArn::parse("arn:aws:execute-api:r:1:api/s/GET").unwrap();
        assert_eq!((no_path.path, no_path.request_path()), ("", "/"));
        assert_eq!(
            MethodArn::parse("arn:aws:execute-api:r:1:api/s/FETCH/x")
                .unwrap()
                .verb(),
            None
        );
    }

    #[test]
    fn rejects_malformed_or_wildcard_arns() {
        for bad in [
            "",
            "arn:aws:lambda:r:1:function/x",
            "arn:aws:execute-api:r:1:api",
            "arn:aws:execute-api:r:1:api/stage",
            "arn:aws:execute-api:r:1:*/stage/GET/x",
            "arn:aws:execute-api:r:1:api/*/GET/x",
            "arn:aws:execute-api:r:*:api/s/GET/x",
            "arn:aws:execute-api::1:api/s/GET/x",
            "arn:aws:execute-api:r:1:api/s/*/x",
            "arn:aws:execute-api:r:1:api/s /GET/x",
            "not an arn",
        ] {
            assert_eq!(MethodArn::parse(bad), Err(PolicyError::InvalidArn), "{bad}");
        }
    }

    #[test]
    fn builder_groups_statements_and_renders_apigw_types() {
        let mut b = PolicyBuilder::new(&api());
        b.allow_method(MethodPattern::One(Verb::Get), "/auth/me").unwrap();
        b.allow_method(MethodPattern::One(Verb::Get), "users/*").unwrap();
        b.deny_method(MethodPattern::One(Verb::Get), "/admin/users").unwrap();
        b.allow_method_with_condition(
            MethodPattern::One(Verb::Post),
            "/reports",
            Condition::new().with("IpAddress", "aws:SourceIp", ["203.0.113.0/24"]),
        )
        .unwrap();
        let doc = b.build();
        assert_eq!(doc.statements.len(), 3);
        let p = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod";
        assert_eq!(
            doc.statements[0].resources,
            vec![format!("{p}/GET/auth/me"), format!("{p}/GET/users/*")]
        );
        assert_eq!(doc.statements[1].effect, Effect::Deny);

        assert_eq!(PolicyDocument::from_apigw(&doc.to_apigw()), doc, "round trip");
        let json = serde_json::to_value(doc.to_apigw()).unwrap();
        assert_eq!(
            serde_json::to_value(&doc).unwrap(),
            json,
            "the direct rendering is the typed one"
        );
        // Key order is not compared: a Value's depends on serde_json's `preserve_order`
        // feature, which other crates of the workspace switch on.
        let written: serde_json::Value = serde_json::from_str(&serde_json::to_string(&doc).unwrap()).unwrap();
        assert_eq!(
            written, json,
            "the text written directly reads back as the typed rendering"
        );
        assert_eq!(json["Version"], "2012-10-17");
        assert_eq!(json["Statement"][0]["Effect"], "Allow");
        assert_eq!(
            json["Statement"][0]["Action"],
            serde_json::json!(["execute-api:Invoke"])
        );
        assert_eq!(json["Statement"][1]["Effect"], "Deny");
        assert_eq!(json["Statement"][1]["Resource"][0], format!("{p}/GET/admin/users"));
        assert_eq!(
            json["Statement"][2]["Condition"]["IpAddress"]["aws:SourceIp"][0],
            "203.0.113.0/24"
        );
        assert!(json["Statement"][0].get("Condition").is_none());
    }

    #[test]
    fn evaluation_follows_iam_precedence() {
        let mut b = PolicyBuilder::new(&api());
        b.allow_method(MethodPattern::Any, "/items/*").unwrap();
        b.deny_method(MethodPattern::One(Verb::Delete), "/items/*").unwrap();
        b.allow_method_with_condition(
            MethodPattern::One(Verb::Get),
            "/cond",
            Condition::new().with("Bool", "k", ["true"]),
        )
        .unwrap();
        let doc = b.build();
        let p = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod";
        assert_eq!(doc.evaluate(&format!("{p}/GET/items/1")), Effect::Allow);
        assert_eq!(doc.evaluate(&format!("{p}/DELETE/items/1")), Effect::Deny);
        assert_eq!(doc.evaluate(&format!("{p}/GET/other")), Effect::Deny);
        assert_eq!(
            doc.evaluate(&format!("{p}/GET/cond")),
            Effect::Deny,
            "conditional allow is not assumed"
        );
        assert_eq!(
            doc.evaluate("arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/items/1"),
            Effect::Deny
        );
    }

    #[test]
    fn all_methods_and_empty_policies() {
        let mut b = PolicyBuilder::new(&api());
        b.allow_all_methods();
        let doc = b.build();
        assert_eq!(doc.evaluate(ARN), Effect::Allow);

        let doc = PolicyBuilder::new(&api()).build();
        assert_eq!(doc.statements.len(), 1);
        assert_eq!(doc.statements[0].effect, Effect::Deny);
        assert_eq!(doc.evaluate(ARN), Effect::Deny);

        let mut b = PolicyBuilder::new(&api());
        b.allow_all_methods().deny_all_methods();
        assert_eq!(b.build().evaluate(ARN), Effect::Deny);
    }

    #[test]
    fn builder_rejects_paths_with_whitespace() {
        let mut b = PolicyBuilder::new(&api());
        assert_eq!(
            b.allow_method(MethodPattern::Any, "/a b").err(),
            Some(PolicyError::InvalidPath)
        );
        assert_eq!(
            b.deny_method(MethodPattern::Any, "/a\nb").err(),
            Some(PolicyError::InvalidPath)
        );
    }

    proptest! {
        #[test]
        fn method_arn_round_trips(region in "[a-z]{2}-[a-z]{4,9}-[1-9]", account in "[0-9]{12}", api in "[a-z0-9]{10}",
                                  stage in "[A-Za-z0-9_$]{1,10}", path in "(/[A-Za-z0-9._-]{1,8}){0,4}") {
            let arn = format!("arn:aws:execute-api:{region}:{account}:{api}/{stage}/PUT{}", if path.is_empty() { "/".to_owned() } else { path.clone() });
            let m = MethodArn::parse(&arn).unwrap();
            prop_assert_eq!(m.verb(), Some(Verb::Put));
            prop_assert_eq!(m.path, path.strip_prefix('/').unwrap_or(""));
            let b = PolicyBuilder::for_method_arn(&m);
            let r = b.resource(MethodPattern::One(Verb::Put), &path).unwrap();
            let expected = if path.is_empty() { format!("{}/PUT/", m.prefix()) } else { arn.clone() };
            prop_assert_eq!(r, expected);
        }
    }
}
