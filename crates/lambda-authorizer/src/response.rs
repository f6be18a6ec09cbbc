//! The authorizer's answer as API Gateway reads it.

use auth_contract::AuthorizerContext;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::policy::RenderedPolicy;

/// A successful answer, serialized straight from the caller's context and the policy.
///
/// The JSON has the shapes of `ApiGatewayCustomAuthorizerResponse` (REST) and
/// `ApiGatewayV2CustomAuthorizerIamPolicyResponse` (HTTP API), which differ only in the
/// optional `usageIdentifierKey`, left out here, and of
/// `ApiGatewayV2CustomAuthorizerSimpleResponse` (tests check the JSON against those types).
/// Keys are written in sorted order, as a `serde_json::Value` prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizerResponse {
    /// `principalId` (the token's `sub`), `policyDocument` and `context`.
    Policy {
        /// Who is calling.
        context: AuthorizerContext,
        /// The IAM policy.
        policy: RenderedPolicy,
    },
    /// HTTP API simple response: `isAuthorized` and `context` (empty without a valid token).
    Simple {
        /// Whether API Gateway should call the function.
        authorized: bool,
        /// Who is calling, when the token was valid.
        context: Option<AuthorizerContext>,
    },
}

impl Serialize for AuthorizerResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AuthorizerResponse::Policy { context, policy } => {
                let mut m = serializer.serialize_map(Some(3))?;
                m.serialize_entry("context", context)?;
                m.serialize_entry("policyDocument", policy)?;
                m.serialize_entry("principalId", &context.sub)?;
                m.end()
            }
            AuthorizerResponse::Simple { authorized, context } => {
                let mut m = serializer.serialize_map(Some(2))?;
                match context {
                    Some(c) => m.serialize_entry("context", c)?,
                    None => m.serialize_entry("context", &Empty)?,
                }
                m.serialize_entry("isAuthorized", authorized)?;
                m.end()
            }
        }
    }
}

/// `{}`.
struct Empty;

impl Serialize for Empty {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_map(Some(0))?.end()
    }
}
