//! The Cognito pre token generation trigger (event version V2_0): what the rules need in an
//! access token that Cognito does not put there. Cognito's access tokens carry no user
//! attributes, so a `teams` rule could never pass with `TOKEN_USE=access`; this trigger copies
//! the configured attributes (`custom:team` by default) into the access and ID tokens under the
//! same claim names, and adds OAuth scopes per group.
//!
//! The groups are always kept: Cognito replaces `cognito:groups` with whatever
//! `groupOverrideDetails` the trigger answers, and `aws_lambda_events`' V2 response always
//! writes one, so the request's group configuration is copied into it.
//!
//! ```
//! use aws_lambda_events::event::cognito::CognitoEventUserPoolsPreTokenGenV2;
//! use token_claims::TokenClaims;
//!
//! let claims = TokenClaims::new(vec!["custom:team".into()], r#"{"auditors": ["reports/read"]}"#).unwrap();
//! let mut event: CognitoEventUserPoolsPreTokenGenV2 = serde_json::from_str(r#"{
//!     "version": "2", "triggerSource": "TokenGeneration_Authentication", "callerContext": {},
//!     "request": {"userAttributes": {"sub": "u-1", "custom:team": "blue"},
//!                 "groupConfiguration": {"groupsToOverride": ["auditors"], "iamRolesToOverride": []},
//!                 "scopes": ["aws.cognito.signin.user.admin"]},
//!     "response": {}
//! }"#).unwrap();
//! claims.apply(&mut event);
//! let answer = serde_json::to_value(&event).unwrap();
//! let details = &answer["response"]["claimsAndScopeOverrideDetails"];
//! assert_eq!(details["accessTokenGeneration"]["claimsToAddOrOverride"]["custom:team"], "blue");
//! assert_eq!(details["accessTokenGeneration"]["scopesToAdd"][0], "reports/read");
//! assert_eq!(details["groupOverrideDetails"]["groupsToOverride"][0], "auditors");
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};

use auth_contract::config::{ConfigError, Env};
use aws_lambda_events::event::cognito::{
    ClaimsAndScopeOverrideDetailsV2, CognitoAccessTokenGenerationV2, CognitoEventUserPoolsPreTokenGenV2,
    CognitoIdTokenGenerationV2,
};
use serde_json::Value;

/// The attribute copied when `TOKEN_CLAIM_ATTRIBUTES` is unset: the rules' default team claim.
pub const DEFAULT_ATTRIBUTES: &[&str] = &["custom:team"];

/// Claims Cognito never lets a trigger add or change (its "claims and scopes reference").
const RESERVED: &[&str] = &[
    "sub",
    "username",
    "identities",
    "aud",
    "client_id",
    "event_id",
    "device_key",
    "version",
    "acr",
    "amr",
    "at_hash",
    "auth_time",
    "azp",
    "exp",
    "iat",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "origin_jti",
    "token_use",
    "scope",
];

/// What the trigger adds to every token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    attributes: Vec<String>,
    group_scopes: BTreeMap<String, Vec<String>>,
}

impl TokenClaims {
    /// `TOKEN_CLAIM_ATTRIBUTES` (comma-separated user attributes; default `custom:team`) and
    /// `GROUP_SCOPES` (a JSON object `{"group": ["scope", ...]}`; default none).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let attributes = env
            .list("TOKEN_CLAIM_ATTRIBUTES")
            .unwrap_or_else(|| DEFAULT_ATTRIBUTES.iter().map(|a| (*a).to_owned()).collect());
        let scopes = env.optional("GROUP_SCOPES").unwrap_or_else(|| "{}".to_owned());
        Self::new(attributes, &scopes).map_err(|reason| ConfigError::Invalid {
            name: if reason.starts_with("GROUP_SCOPES") {
                "GROUP_SCOPES"
            } else {
                "TOKEN_CLAIM_ATTRIBUTES"
            },
            reason,
        })
    }

    /// Checks the attribute names (only `custom:` attributes, none Cognito refuses) and the
    /// scope document.
    pub fn new(attributes: Vec<String>, group_scopes: &str) -> Result<Self, String> {
        for name in &attributes {
            let lower = name.to_ascii_lowercase();
            if RESERVED.contains(&lower.as_str()) || lower.starts_with("cognito:") || lower.starts_with("dev:") {
                return Err(format!("`{name}` is a claim Cognito does not let a trigger set"));
            }
            // Standard attributes (`name`, `locale`, `website`...) are the user's to write with
            // an app client's default WriteAttributes: a claim copied from one is the user's say,
            // and no rule may trust it. Custom attributes can be kept from the client.
            if !name.starts_with("custom:") || name.len() == "custom:".len() {
                return Err(format!(
                    "`{name}` is not a custom attribute: a standard one is writable by the user, so rules could not trust its claim"
                ));
            }
        }
        let group_scopes: BTreeMap<String, Vec<String>> = serde_json::from_str(group_scopes)
            .map_err(|e| format!("GROUP_SCOPES must be an object of scope lists: {e}"))?;
        for (group, scopes) in &group_scopes {
            if let Some(bad) = scopes.iter().find(|s| s.is_empty() || s.contains(char::is_whitespace)) {
                return Err(format!(
                    "GROUP_SCOPES: scope `{bad}` of group `{group}` is empty or has a space"
                ));
            }
        }
        Ok(Self {
            attributes,
            group_scopes,
        })
    }

    /// Fills the event's response: the attributes the user has as claims of both tokens, the
    /// scopes of the user's groups, and the groups themselves unchanged.
    pub fn apply(&self, event: &mut CognitoEventUserPoolsPreTokenGenV2) {
        let request = &event.request;
        let claims: HashMap<String, Value> = self
            .attributes
            .iter()
            .filter_map(|name| {
                let value = request.user_attributes.get(name)?;
                Some((name.clone(), Value::String(value.clone())))
            })
            .collect();
        let scopes: BTreeSet<&String> = request
            .group_configuration
            .groups_to_override
            .iter()
            .filter_map(|group| self.group_scopes.get(group))
            .flatten()
            .collect();

        let mut id = CognitoIdTokenGenerationV2::default();
        id.claims_to_add_or_override = claims.clone();
        let mut access = CognitoAccessTokenGenerationV2::default();
        access.claims_to_add_or_override = claims;
        access.scopes_to_add = scopes.into_iter().cloned().collect();
        let mut details = ClaimsAndScopeOverrideDetailsV2::default();
        // An empty override would strip `cognito:groups` from every token: keep the groups.
        details.group_override_details = request.group_configuration.clone();
        details.id_token_generation = Some(id);
        details.access_token_generation = Some(access);
        event.response.claims_and_scope_override_details = Some(details);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(groups: &[&str], attributes: Value) -> CognitoEventUserPoolsPreTokenGenV2 {
        serde_json::from_value(json!({
            "version": "2",
            "triggerSource": "TokenGeneration_RefreshTokens",
            "region": "eu-west-1",
            "userPoolId": "eu-west-1_AbC123",
            "userName": "bob",
            "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "client"},
            "request": {
                "userAttributes": attributes,
                "groupConfiguration": {"groupsToOverride": groups, "iamRolesToOverride": ["arn:aws:iam::1:role/r"], "preferredRole": "arn:aws:iam::1:role/r"},
                "clientMetadata": {},
                "scopes": ["aws.cognito.signin.user.admin"]
            },
            "response": {"claimsAndScopeOverrideDetails": null}
        }))
        .unwrap()
    }

    fn answer(claims: &TokenClaims, mut e: CognitoEventUserPoolsPreTokenGenV2) -> Value {
        claims.apply(&mut e);
        serde_json::to_value(&e).unwrap()["response"]["claimsAndScopeOverrideDetails"].clone()
    }

    #[test]
    fn the_serialized_answer_keeps_the_groups() {
        let claims = TokenClaims::new(vec!["custom:team".into()], "{}").unwrap();
        let out = answer(
            &claims,
            event(&["admin", "member"], json!({"sub": "u", "custom:team": "blue"})),
        );
        assert_eq!(
            out["groupOverrideDetails"]["groupsToOverride"],
            json!(["admin", "member"])
        );
        assert_eq!(
            out["groupOverrideDetails"]["iamRolesToOverride"],
            json!(["arn:aws:iam::1:role/r"])
        );
        assert_eq!(out["groupOverrideDetails"]["preferredRole"], "arn:aws:iam::1:role/r");
        assert_eq!(
            out["accessTokenGeneration"]["claimsToAddOrOverride"],
            json!({"custom:team": "blue"})
        );
        assert_eq!(
            out["idTokenGeneration"]["claimsToAddOrOverride"],
            json!({"custom:team": "blue"})
        );
        assert_eq!(out["accessTokenGeneration"]["claimsToSuppress"], json!([]));
        // With no groups at all, the (empty) configuration is still echoed, not invented.
        let out = answer(&claims, event(&[], json!({"sub": "u"})));
        assert_eq!(out["groupOverrideDetails"]["groupsToOverride"], json!([]));
        assert_eq!(
            out["accessTokenGeneration"]["claimsToAddOrOverride"],
            json!({}),
            "no team, no claim"
        );
    }

    #[test]
    fn scopes_come_from_the_users_groups() {
        let claims = TokenClaims::new(
            vec![],
            r#"{"auditors": ["reports/read", "reports/list"], "admin": ["reports/read", "users/admin"]}"#,
        )
        .unwrap();
        let out = answer(&claims, event(&["admin", "auditors", "other"], json!({})));
        assert_eq!(
            out["accessTokenGeneration"]["scopesToAdd"],
            json!(["reports/list", "reports/read", "users/admin"])
        );
        let out = answer(&claims, event(&["other"], json!({})));
        assert_eq!(out["accessTokenGeneration"]["scopesToAdd"], json!([]));
    }

    #[test]
    fn names_cognito_refuses_are_refused_at_cold_start() {
        for bad in [
            "sub",
            "cognito:groups",
            "Cognito:roles",
            "token_use",
            "scope",
            "dev:x",
            "origin_jti",
            // Standard attributes a user writes themselves.
            "name",
            "locale",
            "website",
            "email",
            "custom:",
            "Custom:team",
        ] {
            assert!(TokenClaims::new(vec![bad.into()], "{}").is_err(), "{bad}");
        }
        assert!(TokenClaims::new(vec!["custom:team".into(), "custom:tenant".into()], "{}").is_ok());
        for bad in [r#"{"g": ["a b"]}"#, r#"{"g": [""]}"#, r#"{"g": "a"}"#, "[]"] {
            assert!(TokenClaims::new(vec![], bad).is_err(), "{bad}");
        }
        let env = Env::from_pairs(&[("GROUP_SCOPES", "nope")]);
        assert!(matches!(
            TokenClaims::from_env(&env),
            Err(ConfigError::Invalid {
                name: "GROUP_SCOPES",
                ..
            })
        ));
        let defaults = TokenClaims::from_env(&Env::from_pairs(&[])).unwrap();
        assert_eq!(defaults.attributes, ["custom:team"]);
    }
}
