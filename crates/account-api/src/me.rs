//! `GET /auth/me` with `Authorization: Bearer <access token>` → 200
//! `{username, sub, groups, attributes}` from GetUser.
//!
//! Groups are not part of GetUser's answer: they come from the access token's
//! `cognito:groups` claim, read only after Cognito has accepted that very token.

use std::collections::BTreeMap;

use crate::cognito::IdentityProvider;
use auth_contract::token::{ClaimNames, StrList, read_unverified};
use http_kit::ApiError;
use http_kit::body::bearer_token;
use http_kit::respond;
use http_kit::response::json;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::ExposeSecret;
use serde::Serialize;
use tracing::instrument;

use crate::errors::{Exceptions, answer};
use crate::{AccountApi, HandlerResult, token_rejected};

#[derive(Serialize)]
struct MeBody<'a> {
    username: &'a str,
    sub: &'a str,
    groups: Vec<String>,
    attributes: &'a BTreeMap<String, String>,
}

/// Cognito's answers that mean something else here (see [`crate::errors`]).
const COGNITO_EXCEPTIONS: Exceptions =
    token_rejected!("The access token is not valid, has expired or has been revoked.");

/// The Lambda handler.
#[instrument(name = "me", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(me(api, &request).await))
}

async fn me<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let access_token = bearer_token(request.headers())?;
    let profile = api
        .idp
        .get_user(&access_token)
        .await
        .map_err(answer(COGNITO_EXCEPTIONS))?;
    let groups = token_groups(access_token.expose_secret());
    let sub = profile.attributes.get("sub").map(String::as_str).unwrap_or_default();
    json(
        StatusCode::OK,
        &MeBody {
            username: &profile.username,
            sub,
            groups,
            attributes: &profile.attributes,
        },
    )
}

/// The `cognito:groups` claim of a token Cognito has just accepted; empty when absent or
/// unreadable.
fn token_groups(token: &str) -> Vec<String> {
    read_unverified(token, ClaimNames::default(), |claims| {
        claims.groups.as_ref().map(StrList::to_vec).unwrap_or_default()
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn groups_come_from_the_payload_claim() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"1","cognito:groups":["admin","member"]}"#);
        assert_eq!(token_groups(&format!("h.{payload}.s")), ["admin", "member"]);
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"1"}"#);
        assert!(token_groups(&format!("h.{payload}.s")).is_empty());
        assert!(token_groups("not-a-jwt").is_empty());
        assert!(token_groups("a.!!!.c").is_empty());
    }
}

#[cfg(test)]
mod handler_tests {
    use super::*;
    use crate::test_support::*;
    use aws_sdk_cognitoidentityprovider::Client;
    use aws_sdk_cognitoidentityprovider::operation::get_user::GetUserOutput;
    use aws_sdk_cognitoidentityprovider::types::AttributeType;
    use aws_smithy_mocks::mock;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn get(token: Option<&str>) -> Request {
        let request = lambda_http::http::Request::builder()
            .method("GET")
            .uri("/auth/me")
            .body(Body::Empty)
            .expect("request");
        match token {
            Some(token) => with_bearer(request, token),
            None => request,
        }
    }

    #[tokio::test]
    async fn answers_the_profile_with_groups_from_the_accepted_token() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"sub-1","cognito:groups":["admin"]}"#);
        let token = format!("h.{payload}.sig");
        let expected = token.clone();
        let rule = mock!(Client::get_user)
            .match_requests(move |req| req.access_token() == Some(expected.as_str()))
            .then_output(|| {
                let attr = |n: &str, v: &str| AttributeType::builder().name(n).value(v).build().expect("attribute");
                GetUserOutput::builder()
                    .username("ada")
                    .user_attributes(attr("sub", "sub-1"))
                    .user_attributes(attr("email", "ada@example.com"))
                    .build()
                    .expect("output")
            });
        let api = api(&[&rule], None);
        let (status, body) = read(handler(&api, get(Some(&token))).await.unwrap());
        assert_eq!(status, 200);
        assert_eq!(
            body,
            serde_json::json!({"username": "ada", "sub": "sub-1", "groups": ["admin"], "attributes": {"sub": "sub-1", "email": "ada@example.com"}})
        );
    }

    #[tokio::test]
    async fn missing_or_revoked_tokens_are_401() {
        let api_without_rules = api(&[], None);
        assert_eq!(read(handler(&api_without_rules, get(None)).await.unwrap()).0, 401);
        let rule = fails_with(
            mock!(Client::get_user),
            "NotAuthorizedException",
            "Access Token has been revoked",
        );
        let api = api(&[&rule], None);
        let (status, problem) = read(handler(&api, get(Some("a.b.c"))).await.unwrap());
        assert_eq!((status, problem["code"].as_str().unwrap()), (401, "Unauthorized"));
    }
}
