//! `GET /admin/users?limit=&nextToken=` → 200 `{users: [{username, status, enabled, email,
//! groups}], nextToken?}`. Admin only: the authorizer's rules let only the `admin` group call
//! it, and the handler checks again (defence in depth).

use auth_cognito::IdentityProvider;
use auth_core::error::respond;
use auth_core::response::json;
use auth_core::{ApiError, FieldError};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use tracing::instrument;

use crate::{AccountApi, HandlerResult};

pub const DEFAULT_LIMIT: i32 = 20;
/// Cognito's ListUsers answers at most 60 users a page.
pub const MAX_LIMIT: i32 = 60;
const MAX_NEXT_TOKEN_BYTES: usize = 4096;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserBody {
    username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    groups: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageBody {
    users: Vec<UserBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[instrument(name = "list_users", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(list_users(api, &request).await))
}

async fn list_users<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let (limit, next_token) = page_parameters(request)?;
    let page = api.idp.list_users(limit, next_token).await?;
    json(
        StatusCode::OK,
        &PageBody {
            users: page
                .users
                .into_iter()
                .map(|u| UserBody {
                    username: u.username,
                    status: u.status,
                    enabled: u.enabled,
                    email: u.email,
                    groups: u.groups,
                })
                .collect(),
            next_token: page.next_token,
        },
    )
}

fn page_parameters(request: &Request) -> Result<(i32, Option<String>), ApiError> {
    let query = request.query_string_parameters();
    let mut errors = Vec::new();
    let limit = match query.first("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<i32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_LIMIT}"),
                ));
                DEFAULT_LIMIT
            }
        },
    };
    let next_token = query.first("nextToken").map(str::to_owned);
    if next_token
        .as_ref()
        .is_some_and(|t| t.is_empty() || t.len() > MAX_NEXT_TOKEN_BYTES)
    {
        errors.push(FieldError::new("nextToken", "is not a valid page token"));
    }
    if errors.is_empty() {
        Ok((limit, next_token))
    } else {
        Err(ApiError::Validation(errors))
    }
}
