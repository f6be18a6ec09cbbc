//! The IAM policy an authorizer answers with, and API Gateway's reading of it.

use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::glob::glob_match;

/// The IAM policy language version.
const POLICY_VERSION: &str = "2012-10-17";
/// The action every statement names.
const INVOKE_ACTION: &str = "execute-api:Invoke";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
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

/// One statement: its effect on `execute-api:Invoke` for these resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Allow or Deny.
    pub effect: Effect,
    /// The resource ARNs (IAM globs).
    pub resources: Vec<String>,
}

/// A policy: what the authorizer returns and what API Gateway evaluates (and caches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    /// The statements, in order.
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// API Gateway's evaluation: an explicit Deny wins, then an Allow, else an implicit Deny.
    pub fn evaluate(&self, resource_arn: &str) -> Effect {
        let mut allowed = false;
        for s in &self.statements {
            if !s.resources.iter().any(|r| glob_match(r, resource_arn)) {
                continue;
            }
            match s.effect {
                Effect::Deny => return Effect::Deny,
                Effect::Allow => allowed = true,
            }
        }
        if allowed { Effect::Allow } else { Effect::Deny }
    }
}

/// The `policyDocument` JSON, written straight from the statements. Keys in sorted order, as a
/// `serde_json::Value` would print them, so the text matches the earlier output.
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
        let mut m = serializer.serialize_map(Some(3))?;
        m.serialize_entry("Action", &[INVOKE_ACTION])?;
        m.serialize_entry("Effect", self.effect.as_str())?;
        m.serialize_entry("Resource", &self.resources)?;
        m.end()
    }
}

/// Reads back a `policyDocument` (the handler's, or any authorizer's, as the local gateway
/// does), keeping the statements whose `Action` covers `execute-api:Invoke`. Never more
/// permissive than API Gateway: a conditional Allow is dropped (its condition cannot be
/// checked here), a conditional Deny kept as if its condition held, and a field this reader
/// does not know (`NotResource`, `NotAction`...) refuses the whole document.
impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let read = DocumentJson::deserialize(deserializer)?;
        let statements = read
            .statement
            .into_vec()
            .into_iter()
            .filter(|s| s.action.as_slice().iter().any(|a| glob_match(a, INVOKE_ACTION)))
            .filter(|s| s.condition.is_none() || s.effect == Effect::Deny)
            .map(|s| Statement {
                effect: s.effect,
                resources: s.resource.into_vec(),
            })
            .collect();
        Ok(Self { statements })
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentJson {
    #[serde(rename = "Version")]
    _version: Option<IgnoredAny>,
    #[serde(rename = "Statement")]
    statement: OneOrMany<StatementJson>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StatementJson {
    #[serde(rename = "Sid")]
    _sid: Option<IgnoredAny>,
    #[serde(rename = "Action")]
    action: OneOrMany<String>,
    #[serde(rename = "Effect")]
    effect: Effect,
    #[serde(rename = "Resource")]
    resource: OneOrMany<String>,
    #[serde(rename = "Condition")]
    condition: Option<IgnoredAny>,
}

/// IAM lets `Statement`, `Action` and `Resource` be one value or a list.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(one) => std::slice::from_ref(one),
            OneOrMany::Many(many) => many,
        }
    }

    fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const P: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod";

    fn doc(statements: &[(Effect, &str)]) -> PolicyDocument {
        PolicyDocument {
            statements: statements
                .iter()
                .map(|(effect, resource)| Statement {
                    effect: *effect,
                    resources: vec![format!("{P}/{resource}")],
                })
                .collect(),
        }
    }

    #[test]
    fn evaluation_follows_iam_precedence() {
        let d = doc(&[(Effect::Allow, "*/items/*"), (Effect::Deny, "DELETE/items/*")]);
        assert_eq!(d.evaluate(&format!("{P}/GET/items/1")), Effect::Allow);
        assert_eq!(d.evaluate(&format!("{P}/DELETE/items/1")), Effect::Deny);
        assert_eq!(d.evaluate(&format!("{P}/GET/other")), Effect::Deny, "nothing matches");
        assert_eq!(
            d.evaluate("arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/items/1"),
            Effect::Deny,
            "another stage"
        );
        let deny_first = doc(&[(Effect::Deny, "GET/items/*"), (Effect::Allow, "GET/items/*")]);
        assert_eq!(deny_first.evaluate(&format!("{P}/GET/items/1")), Effect::Deny);
    }

    #[test]
    fn writes_the_policy_json_and_reads_it_back() {
        let d = doc(&[(Effect::Allow, "GET/auth/me"), (Effect::Deny, "GET/admin/users")]);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(
            json,
            json!({"Version": "2012-10-17", "Statement": [
                {"Action": ["execute-api:Invoke"], "Effect": "Allow", "Resource": [format!("{P}/GET/auth/me")]},
                {"Action": ["execute-api:Invoke"], "Effect": "Deny", "Resource": [format!("{P}/GET/admin/users")]},
            ]})
        );
        assert_eq!(serde_json::from_value::<PolicyDocument>(json).unwrap(), d, "round trip");
    }

    #[test]
    fn reads_iam_single_values_and_keeps_only_invoke_statements() {
        let read: PolicyDocument = serde_json::from_value(json!({"Statement": {
            "Action": "execute-api:*", "Effect": "Allow", "Resource": format!("{P}/GET/x")
        }}))
        .unwrap();
        assert_eq!(read, doc(&[(Effect::Allow, "GET/x")]));
        let other_action: PolicyDocument = serde_json::from_value(json!({"Statement": [
            {"Action": "s3:GetObject", "Effect": "Allow", "Resource": "*"}
        ]}))
        .unwrap();
        assert_eq!(other_action.evaluate(&format!("{P}/GET/x")), Effect::Deny);
    }

    #[test]
    fn reading_is_never_more_permissive_than_api_gateway() {
        let conditional: PolicyDocument = serde_json::from_value(json!({"Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*",
             "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}},
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": format!("{P}/GET/*")},
            {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": format!("{P}/GET/secret"),
             "Condition": {"Bool": {"k": "true"}}}
        ]}))
        .unwrap();
        assert_eq!(
            conditional.evaluate(&format!("{P}/POST/x")),
            Effect::Deny,
            "conditional allow"
        );
        assert_eq!(conditional.evaluate(&format!("{P}/GET/x")), Effect::Allow);
        assert_eq!(
            conditional.evaluate(&format!("{P}/GET/secret")),
            Effect::Deny,
            "conditional deny"
        );

        for unreadable in [
            json!({"Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny", "NotResource": "x", "Resource": "*"}]}),
            json!({"Statement": [{"Action": "execute-api:Invoke", "Effect": "allow", "Resource": "*"}]}),
            json!({"Statement": []  , "Extra": 1}),
            json!({"Version": "2012-10-17"}),
        ] {
            assert!(
                serde_json::from_value::<PolicyDocument>(unreadable.clone()).is_err(),
                "{unreadable}"
            );
        }
    }
}
