//! The context the authorizer hands to the function behind it: written by the authorizer,
//! carried by API Gateway (and the local gateway) as `requestContext.authorizer.<key>` (REST)
//! or `requestContext.authorizer.lambda.<key>` (HTTP API), read back by the in-function guards.
//!
//! API Gateway only carries flat strings, numbers and booleans, so lists travel joined: groups,
//! roles and teams with commas, scopes with spaces (as in the `scope` claim). These keys and
//! formats are a contract with users' own functions; they are documented in `docs/authorizer.md#the-context`.
//! `originJti` names the token's sign-in session (logout of one session uses it); `issuer` is
//! the pool's canonical issuer, `authTime` the token's `auth_time` (Unix seconds, the sign-in
//! the token descends from) and `principalType` who the caller is (`user`).

use std::collections::HashMap;
use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// The context keys, as they appear in the request context.
pub mod keys {
    /// The user's `sub`.
    pub const SUB: &str = "sub";
    /// `username` (access token) or `cognito:username` (id token).
    pub const USERNAME: &str = "username";
    /// `cognito:groups`, comma-joined.
    pub const GROUPS: &str = "groups";
    /// The role claim's values, comma-joined.
    pub const ROLE: &str = "role";
    /// The team claim's values, comma-joined.
    pub const TEAM: &str = "team";
    /// The `scope` claim, space-joined.
    pub const SCOPE: &str = "scope";
    /// `access` or `id`.
    pub const TOKEN_USE: &str = "tokenUse";
    /// The app client the token was issued to.
    pub const CLIENT_ID: &str = "clientId";
    /// The token's `origin_jti`: its sign-in session (empty without one).
    pub const ORIGIN_JTI: &str = "originJti";
    /// The pool's canonical issuer (`https://cognito-idp.<region>.amazonaws.com/<pool>`).
    pub const ISSUER: &str = "issuer";
    /// The token's `auth_time`, Unix seconds as decimal digits (empty without one).
    pub const AUTH_TIME: &str = "authTime";
    /// Who the caller is: `user`.
    pub const PRINCIPAL_TYPE: &str = "principalType";
    /// Every key, in the order they are written.
    pub const ALL: [&str; 12] = [
        AUTH_TIME,
        CLIENT_ID,
        GROUPS,
        ISSUER,
        ORIGIN_JTI,
        PRINCIPAL_TYPE,
        ROLE,
        SCOPE,
        SUB,
        TEAM,
        TOKEN_USE,
        USERNAME,
    ];
}

/// Who a caller is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PrincipalType {
    /// A person signed in to the pool.
    #[default]
    User,
}

impl PrincipalType {
    /// The context's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "user",
        }
    }

    /// Reads the context's spelling; an empty value (a context without the key) is a user.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "user" | "" => Some(PrincipalType::User),
            _ => None,
        }
    }
}

/// Who is calling, as the authorizer established it from a verified token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizerContext {
    /// The user's `sub`: never empty in a context the authorizer wrote.
    pub sub: String,
    /// The user's name in the pool.
    pub username: String,
    /// `cognito:groups`.
    pub groups: Vec<String>,
    /// The role claim (`cognito:groups` by default, so the same as `groups`).
    pub roles: Vec<String>,
    /// The team claim (`custom:team` by default).
    pub teams: Vec<String>,
    /// The `scope` claim.
    pub scopes: Vec<String>,
    /// `access` or `id`.
    pub token_use: String,
    /// The app client the token was issued to.
    pub client_id: String,
    /// The token's `origin_jti`, the same for every token of one sign-in session (empty when
    /// the app client has token revocation off).
    pub origin_jti: String,
    /// The pool's canonical issuer, whatever form the token's `iss` had.
    pub issuer: String,
    /// The token's `auth_time`: when the user last signed in with a credential (a refresh
    /// keeps it).
    pub auth_time: Option<u64>,
    /// Who the caller is.
    pub principal_type: PrincipalType,
}

impl AuthorizerContext {
    /// Reads a context back from the request context's authorizer map. `None` without a
    /// `sub` (no authorizer ran, or not this one) or with a principal type this version does
    /// not know. A value that is not a string is read as its JSON text, and a key that is
    /// absent as empty; an `authTime` that is not a number as none.
    pub fn from_fields(fields: &HashMap<String, Value>) -> Option<Self> {
        let text = |k: &str| match fields.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let sub = text(keys::SUB);
        if sub.is_empty() {
            return None;
        }
        let listed = |k: &str| split_list(&text(k), ',');
        Some(Self {
            sub,
            username: text(keys::USERNAME),
            groups: listed(keys::GROUPS),
            roles: listed(keys::ROLE),
            teams: listed(keys::TEAM),
            scopes: split_list(&text(keys::SCOPE), ' '),
            token_use: text(keys::TOKEN_USE),
            client_id: text(keys::CLIENT_ID),
            origin_jti: text(keys::ORIGIN_JTI),
            issuer: text(keys::ISSUER),
            auth_time: text(keys::AUTH_TIME).parse().ok(),
            principal_type: PrincipalType::parse(&text(keys::PRINCIPAL_TYPE))?,
        })
    }

    /// The flat map API Gateway carries.
    pub fn to_fields(&self) -> HashMap<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map.into_iter().collect(),
            // A map of strings always serializes to an object.
            _ => HashMap::new(),
        }
    }
}

/// Whether a group, role or team name survives the comma-joined context unchanged: not empty,
/// no comma, no white space at either end. The authorizer leaves any other name out of the
/// context (and out of its rules): `ops,admin` read back would be `ops` and `admin`.
pub fn listable(name: &str) -> bool {
    !name.is_empty() && !name.contains(',') && name.trim() == name
}

fn split_list(joined: &str, separator: char) -> Vec<String> {
    joined
        .split(separator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Flat strings, keys sorted, lists joined without building the joined string first.
impl Serialize for AuthorizerContext {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(keys::ALL.len()))?;
        m.serialize_entry(keys::AUTH_TIME, &Seconds(self.auth_time))?;
        m.serialize_entry(keys::CLIENT_ID, &self.client_id)?;
        m.serialize_entry(keys::GROUPS, &Joined(&self.groups, ","))?;
        m.serialize_entry(keys::ISSUER, &self.issuer)?;
        m.serialize_entry(keys::ORIGIN_JTI, &self.origin_jti)?;
        m.serialize_entry(keys::PRINCIPAL_TYPE, self.principal_type.as_str())?;
        m.serialize_entry(keys::ROLE, &Joined(&self.roles, ","))?;
        m.serialize_entry(keys::SCOPE, &Joined(&self.scopes, " "))?;
        m.serialize_entry(keys::SUB, &self.sub)?;
        m.serialize_entry(keys::TEAM, &Joined(&self.teams, ","))?;
        m.serialize_entry(keys::TOKEN_USE, &self.token_use)?;
        m.serialize_entry(keys::USERNAME, &self.username)?;
        m.end()
    }
}

/// Unix seconds written as a string of digits, empty when absent (API Gateway carries strings).
struct Seconds(Option<u64>);

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(seconds) => serializer.collect_str(&seconds),
            None => serializer.serialize_str(""),
        }
    }
}

/// A list written as one joined string.
struct Joined<'a>(&'a [String], &'static str);

impl Serialize for Joined<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            [] => serializer.serialize_str(""),
            [one] => serializer.serialize_str(one),
            _ => serializer.collect_str(self),
        }
    }
}

impl fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(self.1)?;
            }
            f.write_str(item)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alice() -> AuthorizerContext {
        AuthorizerContext {
            sub: "u-1".into(),
            username: "alice".into(),
            groups: vec!["admin".into(), "staff".into()],
            roles: vec!["admin".into(), "staff".into()],
            teams: vec!["blue".into()],
            scopes: vec!["a".into(), "b".into()],
            token_use: "access".into(),
            client_id: "c".into(),
            origin_jti: "o-1".into(),
            issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123".into(),
            auth_time: Some(1_700_000_000),
            principal_type: PrincipalType::User,
        }
    }

    #[test]
    fn only_names_the_joined_form_carries_are_listable() {
        for name in ["admin", "team a", "réseau"] {
            assert!(listable(name), "{name}");
        }
        for name in ["", "ops,admin", " admin", "admin ", ","] {
            assert!(!listable(name), "{name:?}");
        }
        let c = AuthorizerContext {
            sub: "u".into(),
            groups: vec!["team a".into(), "b".into()],
            ..AuthorizerContext::default()
        };
        let back = AuthorizerContext::from_fields(&c.to_fields()).expect("a context");
        assert_eq!(back.groups, c.groups, "listable names come back as they went");
    }

    #[test]
    fn writes_the_documented_flat_strings() {
        assert_eq!(
            serde_json::to_value(alice()).unwrap(),
            json!({"sub": "u-1", "username": "alice", "groups": "admin,staff", "role": "admin,staff",
                   "team": "blue", "scope": "a b", "tokenUse": "access", "clientId": "c", "originJti": "o-1",
                   "issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
                   "authTime": "1700000000", "principalType": "user"})
        );
        let empty = AuthorizerContext {
            sub: "u".into(),
            ..AuthorizerContext::default()
        };
        let written = serde_json::to_value(&empty).unwrap();
        assert_eq!(written["groups"], "");
        assert_eq!(written["authTime"], "");
        assert_eq!(
            written.as_object().unwrap().keys().collect::<Vec<_>>(),
            keys::ALL.iter().collect::<Vec<_>>(),
            "every key, in the documented order"
        );
    }

    #[test]
    fn reads_back_what_it_writes() {
        let fields = alice().to_fields();
        assert_eq!(AuthorizerContext::from_fields(&fields), Some(alice()));
    }

    #[test]
    fn reads_contexts_with_extra_or_odd_values() {
        let fields: HashMap<String, Value> = serde_json::from_value(json!({
            "sub": "u-9", "role": "editor", "team": " red , ", "principalId": "u-9", "scope": 7
        }))
        .unwrap();
        let c = AuthorizerContext::from_fields(&fields).unwrap();
        assert_eq!(c.roles, ["editor"]);
        assert_eq!(c.teams, ["red"]);
        assert_eq!(c.scopes, ["7"]);
        assert!(c.groups.is_empty());
        assert_eq!((c.auth_time, c.principal_type), (None, PrincipalType::User));
        let no_sub: HashMap<String, Value> = serde_json::from_value(json!({"username": "x"})).unwrap();
        assert_eq!(AuthorizerContext::from_fields(&no_sub), None, "no sub, no caller");
        let numbers: HashMap<String, Value> =
            serde_json::from_value(json!({"sub": "u", "authTime": 1_700_000_000, "principalType": "user"})).unwrap();
        assert_eq!(
            AuthorizerContext::from_fields(&numbers).unwrap().auth_time,
            Some(1_700_000_000),
            "API Gateway may hand a number back as one"
        );
        let unknown: HashMap<String, Value> =
            serde_json::from_value(json!({"sub": "u", "principalType": "robot"})).unwrap();
        assert_eq!(
            AuthorizerContext::from_fields(&unknown),
            None,
            "a caller of an unknown kind is no caller"
        );
    }
}
