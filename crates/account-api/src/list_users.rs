//! `GET /admin/users?limit=&nextToken=` → 200 `{users: [{username, status, enabled, email,
//! groups}], nextToken?}`. Admin only: the authorizer's rules let only the `admin` group call
//! it, and the handler checks again (defence in depth).

use crate::cognito::IdentityProvider;
use http_kit::guard;
use http_kit::respond;
use http_kit::response::json;
use http_kit::{ApiError, FieldError};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use tracing::instrument;

use crate::{AccountApi, HandlerResult};

/// Users per page when `limit` is absent.
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

/// The Lambda handler.
#[instrument(name = "list_users", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(list_users(api, &request).await))
}

/// Who may list users, checked again here whatever the authorizer decided.
pub const REQUIRED_ROLES: &[&str] = &["admin"];

async fn list_users<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = guard::caller(request)?;
    guard::require_roles(&caller, REQUIRED_ROLES)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use aws_sdk_cognitoidentityprovider::Client;
    use aws_sdk_cognitoidentityprovider::operation::admin_list_groups_for_user::AdminListGroupsForUserOutput;
    use aws_sdk_cognitoidentityprovider::operation::list_users::ListUsersOutput;
    use aws_sdk_cognitoidentityprovider::types::{AttributeType, GroupType, UserStatusType, UserType};
    use aws_smithy_mocks::mock;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
    use lambda_http::request::RequestContext;

    fn get(query: &str, groups: Option<&str>) -> Request {
        let request = lambda_http::http::Request::builder()
            .method("GET")
            .uri(format!("/admin/users{query}"))
            .body(Body::Empty)
            .expect("request");
        let pairs: Vec<(String, String)> = form_pairs(query);
        let mut request = request.with_query_string_parameters(pairs.into_iter().fold(
            std::collections::HashMap::<String, Vec<String>>::new(),
            |mut m, (k, v)| {
                m.entry(k).or_default().push(v);
                m
            },
        ));
        if let Some(groups) = groups {
            let mut context = ApiGatewayProxyRequestContext::default();
            for (k, v) in [
                ("sub", "sub-1"),
                ("username", "ada"),
                ("groups", groups),
                ("role", groups),
            ] {
                context
                    .authorizer
                    .fields
                    .insert(k.into(), serde_json::Value::String(v.into()));
            }
            request = request.with_request_context(RequestContext::ApiGatewayV1(context));
        }
        request
    }

    fn form_pairs(query: &str) -> Vec<(String, String)> {
        query
            .trim_start_matches('?')
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[tokio::test]
    async fn admins_get_a_page_of_users_with_their_groups() {
        let list = mock!(Client::list_users)
            .match_requests(|req| {
                req.user_pool_id() == Some(POOL_ID) && req.limit() == Some(2) && req.pagination_token() == Some("p1")
            })
            .then_output(|| {
                let user = |name: &str, email: &str| {
                    UserType::builder()
                        .username(name)
                        .enabled(true)
                        .user_status(UserStatusType::Confirmed)
                        .attributes(
                            AttributeType::builder()
                                .name("email")
                                .value(email)
                                .build()
                                .expect("attribute"),
                        )
                        .build()
                };
                ListUsersOutput::builder()
                    .users(user("ada", "ada@example.com"))
                    .users(user("bob", "bob@example.com"))
                    .pagination_token("p2")
                    .build()
            });
        let groups = mock!(Client::admin_list_groups_for_user).then_compute_output(|req| {
            let builder = AdminListGroupsForUserOutput::builder();
            if req.username() == Some("ada") {
                builder.groups(GroupType::builder().group_name("admin").build()).build()
            } else {
                builder.build()
            }
        });
        let api = api(&[&list, &groups], None);
        let (status, body) = read(
            handler(&api, get("?limit=2&nextToken=p1", Some("admin")))
                .await
                .unwrap(),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            serde_json::json!({
                "users": [
                    {"username": "ada", "status": "CONFIRMED", "enabled": true, "email": "ada@example.com", "groups": ["admin"]},
                    {"username": "bob", "status": "CONFIRMED", "enabled": true, "email": "bob@example.com", "groups": []}
                ],
                "nextToken": "p2"
            })
        );
        assert_eq!(groups.num_calls(), 2);
    }

    #[tokio::test]
    async fn the_in_function_guard_refuses_non_admins_before_any_call() {
        let api = api(&[], None);
        let (status, problem) = read(handler(&api, get("", Some("member"))).await.unwrap());
        assert_eq!((status, problem["code"].as_str().unwrap()), (403, "Forbidden"));
        assert_eq!(problem["errors"][0]["source"], "roleCheck");
        let (status, _) = read(handler(&api, get("", None)).await.unwrap());
        assert_eq!(status, 401, "no authorizer context at all");
    }

    #[tokio::test]
    async fn bad_page_parameters_are_400() {
        let api = api(&[], None);
        for query in ["?limit=0", "?limit=61", "?limit=ten", "?nextToken="] {
            let (status, problem) = read(handler(&api, get(query, Some("admin"))).await.unwrap());
            assert_eq!(status, 400, "{query}");
            assert_eq!(problem["code"], "ValidationFailed", "{query}");
        }
    }
}
