//! User administration, one Lambda function (`admin_users`) for the route family, because
//! every route takes the same inputs (the target user from the path), runs the same checks (the
//! caller is an administrator, never locking themselves out) and logs the same way:
//!
//! - `POST /admin/users` `{username, email, temporaryPassword?, groups?, team?}` → 201
//!   `{username, sub, status}`;
//! - `GET /admin/users/{username}` → 200 `{username, sub, status, enabled, email, groups, team}`;
//! - `PUT` / `DELETE /admin/users/{username}/groups/{group}` → 204;
//! - `PUT /admin/users/{username}/team` `{team}` (`null` clears it) → 200 `{username, team}`;
//! - `POST /admin/users/{username}/disable`, `/enable`, `/sign-out`, `/delete` → 204;
//! - `POST /admin/users/{username}/mfa/reset` → 204: every MFA factor off, for a user who lost
//!   their authenticator (they set one up again after signing in).
//!
//! With a revocation table, signing out, disabling, deleting, removing from a group and
//! changing the team record that the user's tokens issued until now are revoked (so the
//! authorizer refuses them, not only Cognito) before and after asking Cognito, and answer once
//! a new sign-in is sure to pass ([`crate::Revoker::end_sessions`]). Enabling and adding to a
//! group record nothing: old tokens stay refused or lack only the new group, new ones pass.
//! (Deletion is `POST .../delete` rather than `DELETE /admin/users/{username}`: under the exact
//! route rules a `DELETE` on the `{username}` itself would make cached policies refuse `DELETE
//! .../groups/{group}`.)
//!
//! Before anything else, the pool and this API's client are checked once
//! ([`crate::pool_check`]): while users could set what the rules trust, every route answers 503.
//!
//! The target is named by the path, percent-decoded, and resolved with AdminGetUser: self
//! lockout is judged on the resolved `sub`, whatever alias or case the path uses. Every change
//! is logged once with who did it to whom.

use http_kit::body::{json_object, path_parameter, route};
use http_kit::guard;
use http_kit::inputs::{Email, GroupName, Password, Team, Username};
use http_kit::response::{json, no_content};
use http_kit::{ApiError, respond};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::instrument;

use crate::cognito::{AdminUser, IdentityProvider, NewUser};
use crate::errors::{Exceptions, answer};
use crate::{AccountApi, HandlerResult};

/// The group whose members administer users (the rule document says the same).
pub const ADMIN_GROUP: &str = "admin";

/// Cognito's answers that mean something else here (see [`crate::errors`]).
const COGNITO_EXCEPTIONS: Exceptions = &[("ResourceNotFoundException", || ApiError::GroupNotFound)];

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedBody<'a> {
    username: &'a str,
    sub: &'a str,
    status: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserBody<'a> {
    username: &'a str,
    sub: &'a str,
    status: Option<&'a str>,
    enabled: bool,
    email: Option<&'a str>,
    groups: &'a [String],
    team: Option<&'a str>,
}

#[derive(Serialize)]
struct TeamBody<'a> {
    username: &'a str,
    team: Option<&'a str>,
}

/// The Lambda handler: one function for the whole family, dispatching on the route.
#[instrument(name = "admin_users", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(admin(api, &request).await))
}

async fn admin<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = guard::caller(request)?;
    guard::require_pool(&caller, &api.idp.pool_issuer())?;
    guard::require_roles(&caller, &[ADMIN_GROUP])?;
    if let Some(check) = &api.pool_check {
        check.ensure(&api.idp).await?;
    }
    let (method, resource) = route(request).ok_or_else(|| ApiError::internal("no route in the request context"))?;
    let admin = Admin { api, caller: &caller };
    match (method.as_str(), resource.as_str()) {
        ("POST", "/admin/users") => admin.create(request).await,
        ("GET", "/admin/users/{username}") => admin.get(request).await,
        ("PUT", "/admin/users/{username}/groups/{group}") => admin.add_to_group(request).await,
        ("DELETE", "/admin/users/{username}/groups/{group}") => admin.remove_from_group(request).await,
        ("PUT", "/admin/users/{username}/team") => admin.set_team(request).await,
        ("POST", "/admin/users/{username}/disable") => admin.set_enabled(request, false).await,
        ("POST", "/admin/users/{username}/enable") => admin.set_enabled(request, true).await,
        ("POST", "/admin/users/{username}/sign-out") => admin.sign_out(request).await,
        ("POST", "/admin/users/{username}/delete") => admin.delete(request).await,
        ("POST", "/admin/users/{username}/mfa/reset") => admin.reset_mfa(request).await,
        _ => Err(ApiError::internal(format!(
            "admin_users is wired to a route it does not serve: {method} {resource}"
        ))),
    }
}

struct Admin<'a, P> {
    api: &'a AccountApi<P>,
    caller: &'a auth_contract::AuthorizerContext,
}

impl<P: IdentityProvider> Admin<'_, P> {
    /// The user named by the path, resolved.
    async fn target(&self, request: &Request) -> Result<(Username, AdminUser), ApiError> {
        let username: Username = path_parameter(request, "username")?;
        let user = self.api.idp.admin_get_user(&username).await?;
        Ok((username, user))
    }

    fn refuse_self(&self, target: &AdminUser) -> Result<(), ApiError> {
        if !target.sub.is_empty() && target.sub == self.caller.sub {
            return Err(ApiError::SelfLockout);
        }
        Ok(())
    }

    fn log_change(&self, action: &str, target: &AdminUser, detail: Option<&str>) {
        tracing::info!(
            action,
            detail,
            actor = %self.caller.username,
            actor_sub = %self.caller.sub,
            target = %target.username,
            target_sub = %target.sub,
            "user administration"
        );
    }

    async fn create(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let mut fields = json_object(request)?;
        let username = fields.required::<Username>("username");
        let email = fields.required::<Email>("email");
        let temporary_password = fields.optional::<Password>("temporaryPassword");
        let groups = fields.optional_list::<GroupName>("groups").unwrap_or_default();
        let team = fields.optional::<Team>("team");
        let user = fields.finish(|| {
            Some(NewUser {
                username: username?,
                email: email?,
                temporary_password,
                team,
            })
        })?;
        // Every group must exist before the user is created: a typo creates nothing.
        for group in &groups {
            if !self.api.idp.group_exists(group).await? {
                return Err(ApiError::GroupNotFound);
            }
        }
        let created = self.api.idp.admin_create_user(&user).await?;
        for group in &groups {
            self.api
                .idp
                .admin_add_to_group(&user.username, group)
                .await
                .map_err(answer(COGNITO_EXCEPTIONS))?;
        }
        let names: Vec<&str> = groups.iter().map(GroupName::as_str).collect();
        self.log_change("create", &created, Some(&names.join(",")));
        json(
            StatusCode::CREATED,
            &CreatedBody {
                username: &created.username,
                sub: &created.sub,
                status: created.status.as_deref(),
            },
        )
    }

    async fn get(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let (username, user) = self.target(request).await?;
        let groups = self.api.idp.admin_groups(&username).await?;
        json(
            StatusCode::OK,
            &UserBody {
                username: &user.username,
                sub: &user.sub,
                status: user.status.as_deref(),
                enabled: user.enabled,
                email: user.email.as_deref(),
                groups: &groups,
                team: user.team.as_deref(),
            },
        )
    }

    async fn add_to_group(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let group: GroupName = path_parameter(request, "group")?;
        let (username, target) = self.target(request).await?;
        self.api
            .idp
            .admin_add_to_group(&username, &group)
            .await
            .map_err(answer(COGNITO_EXCEPTIONS))?;
        self.log_change("add_to_group", &target, Some(group.as_str()));
        Ok(no_content())
    }

    async fn remove_from_group(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let group: GroupName = path_parameter(request, "group")?;
        let (username, target) = self.target(request).await?;
        if group.as_str() == ADMIN_GROUP {
            self.refuse_self(&target)?;
        }
        self.api
            .end_sessions(
                &target.sub,
                Box::pin(async {
                    self.api
                        .idp
                        .admin_remove_from_group(&username, &group)
                        .await
                        .map_err(answer(COGNITO_EXCEPTIONS))
                }),
            )
            .await?;
        self.log_change("remove_from_group", &target, Some(group.as_str()));
        Ok(no_content())
    }

    async fn set_team(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let mut fields = json_object(request)?;
        let team = fields.required_nullable::<Team>("team");
        let team = fields.finish(|| team)?;
        let (username, target) = self.target(request).await?;
        self.api
            .end_sessions(
                &target.sub,
                Box::pin(async { Ok(self.api.idp.admin_set_team(&username, team.as_ref()).await?) }),
            )
            .await?;
        self.log_change("set_team", &target, team.as_ref().map(Team::as_str));
        json(
            StatusCode::OK,
            &TeamBody {
                username: &target.username,
                team: team.as_ref().map(Team::as_str),
            },
        )
    }

    async fn set_enabled(&self, request: &Request, enabled: bool) -> Result<Response<Body>, ApiError> {
        let (username, target) = self.target(request).await?;
        let change = Box::pin(async { Ok(self.api.idp.admin_set_enabled(&username, enabled).await?) });
        if enabled {
            change.await?;
        } else {
            self.refuse_self(&target)?;
            self.api.end_sessions(&target.sub, change).await?;
        }
        self.log_change(if enabled { "enable" } else { "disable" }, &target, None);
        Ok(no_content())
    }

    async fn sign_out(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let (username, target) = self.target(request).await?;
        self.refuse_self(&target)?;
        self.api
            .end_sessions(
                &target.sub,
                Box::pin(async { Ok(self.api.idp.admin_sign_out(&username).await?) }),
            )
            .await?;
        self.log_change("sign_out", &target, None);
        Ok(no_content())
    }

    /// The user's factors off, and their sessions ended: whoever held a session when the
    /// authenticator was lost keeps nothing.
    async fn reset_mfa(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let (username, target) = self.target(request).await?;
        self.api
            .end_sessions(
                &target.sub,
                Box::pin(async { Ok(self.api.idp.admin_reset_mfa(&username).await?) }),
            )
            .await?;
        self.log_change("reset_mfa", &target, None);
        Ok(no_content())
    }

    async fn delete(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let (username, target) = self.target(request).await?;
        self.refuse_self(&target)?;
        self.api
            .end_sessions(
                &target.sub,
                Box::pin(async { Ok(self.api.idp.admin_delete_user(&username).await?) }),
            )
            .await?;
        self.log_change("delete", &target, None);
        Ok(no_content())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use aws_sdk_cognitoidentityprovider::Client;
    use aws_sdk_cognitoidentityprovider::operation::admin_create_user::AdminCreateUserOutput;
    use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput;
    use aws_sdk_cognitoidentityprovider::operation::admin_list_groups_for_user::AdminListGroupsForUserOutput;
    use aws_sdk_cognitoidentityprovider::operation::get_group::GetGroupOutput;
    use aws_sdk_cognitoidentityprovider::types::{
        AttributeType, GroupType, MessageActionType, UserStatusType, UserType,
    };
    use aws_smithy_mocks::{Rule, mock};

    const ROOT: &str = "sub-root";

    fn attr(name: &str, value: &str) -> AttributeType {
        AttributeType::builder()
            .name(name)
            .value(value)
            .build()
            .expect("attribute")
    }

    /// AdminGetUser for `bob` (sub-bob) and for the caller under another spelling (`ROOT`).
    fn get_user() -> Rule {
        mock!(Client::admin_get_user).then_compute_output(|req| {
            let (name, sub) = match req.username() {
                Some("Root") | Some("root") => ("root", ROOT),
                _ => ("bob", "sub-bob"),
            };
            AdminGetUserOutput::builder()
                .username(name)
                .enabled(true)
                .user_status(UserStatusType::Confirmed)
                .user_attributes(attr("sub", sub))
                .user_attributes(attr("email", "bob@example.com"))
                .user_attributes(attr("custom:team", "blue"))
                .build()
                .expect("output")
        })
    }

    fn call(api: &AccountApi<crate::cognito::CognitoIdentityProvider>, request: Request) -> (u16, serde_json::Value) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        read(runtime.block_on(handler(api, request)).unwrap())
    }

    #[test]
    fn creates_a_user_with_a_temporary_password_groups_and_a_team() {
        let group = mock!(Client::get_group).then_output(|| {
            GetGroupOutput::builder()
                .group(GroupType::builder().group_name("member").build())
                .build()
        });
        let create = mock!(Client::admin_create_user)
            .match_requests(|req| {
                let attrs: Vec<(&str, Option<&str>)> =
                    req.user_attributes().iter().map(|a| (a.name(), a.value())).collect();
                req.username() == Some("carol")
                    && req.temporary_password() == Some("Temp-Passw0rd!")
                    && req.message_action() == Some(&MessageActionType::Suppress)
                    && attrs.contains(&("custom:team", Some("red")))
                    && attrs.contains(&("email_verified", Some("true")))
            })
            .then_output(|| {
                AdminCreateUserOutput::builder()
                    .user(
                        UserType::builder()
                            .username("carol")
                            .enabled(true)
                            .user_status(UserStatusType::ForceChangePassword)
                            .attributes(attr("sub", "sub-carol"))
                            .build(),
                    )
                    .build()
            });
        let add = mock!(Client::admin_add_user_to_group)
            .match_requests(|req| req.username() == Some("carol") && req.group_name() == Some("member"))
            .then_output(|| {
                aws_sdk_cognitoidentityprovider::operation::admin_add_user_to_group::AdminAddUserToGroupOutput::builder(
                )
                .build()
            });
        let api = api(&[&group, &create, &add], None);
        let body = r#"{"username":"carol","email":"carol@example.com","temporaryPassword":"Temp-Passw0rd!","groups":["member"],"team":"red"}"#;
        let (status, out) = call(&api, routed("POST", "/admin/users", &[], Some(body), ROOT, "admin"));
        assert_eq!(status, 201, "{out}");
        assert_eq!(
            out,
            serde_json::json!({"username": "carol", "sub": "sub-carol", "status": "FORCE_CHANGE_PASSWORD"})
        );
        assert_eq!((create.num_calls(), add.num_calls()), (1, 1));
    }

    #[test]
    fn an_unknown_group_creates_nothing() {
        let group = fails_with(
            mock!(Client::get_group),
            "ResourceNotFoundException",
            "Group not found.",
        );
        let create = mock!(Client::admin_create_user).then_output(|| AdminCreateUserOutput::builder().build());
        let api = api(&[&group, &create], None);
        let body = r#"{"username":"carol","email":"carol@example.com","groups":["nope"]}"#;
        let (status, out) = call(&api, routed("POST", "/admin/users", &[], Some(body), ROOT, "admin"));
        assert_eq!((status, out["code"].as_str()), (404, Some("GroupNotFound")));
        assert_eq!(create.num_calls(), 0);
    }

    #[test]
    fn reads_a_user_with_groups_and_team() {
        let groups = mock!(Client::admin_list_groups_for_user).then_output(|| {
            AdminListGroupsForUserOutput::builder()
                .groups(GroupType::builder().group_name("member").build())
                .build()
        });
        let api = api(&[&get_user(), &groups], None);
        let (status, out) = call(
            &api,
            routed(
                "GET",
                "/admin/users/{username}",
                &[("username", "bob")],
                None,
                ROOT,
                "admin",
            ),
        );
        assert_eq!(status, 200, "{out}");
        assert_eq!(
            out,
            serde_json::json!({"username": "bob", "sub": "sub-bob", "status": "CONFIRMED", "enabled": true,
                               "email": "bob@example.com", "groups": ["member"], "team": "blue"})
        );
    }

    #[test]
    fn administrators_cannot_lock_themselves_out_under_any_spelling() {
        let disable = mock!(Client::admin_disable_user).then_output(|| {
            aws_sdk_cognitoidentityprovider::operation::admin_disable_user::AdminDisableUserOutput::builder().build()
        });
        let sign_out = mock!(Client::admin_user_global_sign_out).then_output(|| aws_sdk_cognitoidentityprovider::operation::admin_user_global_sign_out::AdminUserGlobalSignOutOutput::builder().build());
        let remove = mock!(Client::admin_remove_user_from_group).then_output(|| aws_sdk_cognitoidentityprovider::operation::admin_remove_user_from_group::AdminRemoveUserFromGroupOutput::builder().build());
        let api = api(&[&get_user(), &disable, &sign_out, &remove], None);
        for (method, resource, params) in [
            ("POST", "/admin/users/{username}/disable", vec![("username", "Root")]),
            ("POST", "/admin/users/{username}/sign-out", vec![("username", "root")]),
            (
                "DELETE",
                "/admin/users/{username}/groups/{group}",
                vec![("username", "Root"), ("group", "admin")],
            ),
        ] {
            let (status, out) = call(&api, routed(method, resource, &params, None, ROOT, "admin"));
            assert_eq!((status, out["code"].as_str()), (409, Some("SelfLockout")), "{resource}");
        }
        assert_eq!(
            (disable.num_calls(), sign_out.num_calls(), remove.num_calls()),
            (0, 0, 0)
        );
        // The same on another user, and leaving another group, are fine.
        let (status, _) = call(
            &api,
            routed(
                "POST",
                "/admin/users/{username}/disable",
                &[("username", "bob")],
                None,
                ROOT,
                "admin",
            ),
        );
        assert_eq!(status, 204);
        let (status, _) = call(
            &api,
            routed(
                "DELETE",
                "/admin/users/{username}/groups/{group}",
                &[("username", "root"), ("group", "member")],
                None,
                ROOT,
                "admin",
            ),
        );
        assert_eq!(status, 204);
        assert_eq!((disable.num_calls(), remove.num_calls()), (1, 1));
    }

    #[test]
    fn teams_are_validated_and_null_clears_them() {
        let clear = mock!(Client::admin_delete_user_attributes)
            .match_requests(|req| req.user_attribute_names() == ["custom:team"])
            .then_output(|| aws_sdk_cognitoidentityprovider::operation::admin_delete_user_attributes::AdminDeleteUserAttributesOutput::builder().build());
        let api = api(&[&get_user(), &clear], None);
        let team = |body: &str| {
            routed(
                "PUT",
                "/admin/users/{username}/team",
                &[("username", "bob")],
                Some(body),
                ROOT,
                "admin",
            )
        };
        let (status, out) = call(&api, team(r#"{"team":null}"#));
        assert_eq!(
            (status, out),
            (200, serde_json::json!({"username": "bob", "team": null}))
        );
        assert_eq!(clear.num_calls(), 1);
        for bad in [r#"{"team":"red team"}"#, r#"{"team":""}"#, r#"{}"#, r#"{"team":7}"#] {
            let (status, out) = call(&api, team(bad));
            assert_eq!(
                (status, out["errors"][0]["source"].as_str()),
                (400, Some("team")),
                "{bad}"
            );
        }
    }

    #[test]
    fn non_admins_and_unknown_users_get_documented_answers() {
        let unknown = fails_with(
            mock!(Client::admin_get_user),
            "UserNotFoundException",
            "User does not exist.",
        );
        let api = api(&[&unknown], None);
        let (status, out) = call(
            &api,
            routed(
                "GET",
                "/admin/users/{username}",
                &[("username", "ghost")],
                None,
                ROOT,
                "admin",
            ),
        );
        assert_eq!((status, out["code"].as_str()), (404, Some("UserNotFound")));
        let (status, out) = call(
            &api,
            routed(
                "GET",
                "/admin/users/{username}",
                &[("username", "bob")],
                None,
                ROOT,
                "member",
            ),
        );
        assert_eq!((status, out["errors"][0]["source"].as_str()), (403, Some("roleCheck")));
        let (status, out) = call(
            &api,
            routed(
                "GET",
                "/admin/users/{username}",
                &[("username", "a%20b")],
                None,
                ROOT,
                "admin",
            ),
        );
        assert_eq!((status, out["errors"][0]["source"].as_str()), (400, Some("username")));
        let unknown_group = fails_with(
            mock!(Client::admin_add_user_to_group),
            "ResourceNotFoundException",
            "Group not found.",
        );
        let api = crate::test_support::api(&[&get_user(), &unknown_group], None);
        let (status, out) = call(
            &api,
            routed(
                "PUT",
                "/admin/users/{username}/groups/{group}",
                &[("username", "bob"), ("group", "nope")],
                None,
                ROOT,
                "admin",
            ),
        );
        assert_eq!((status, out["code"].as_str()), (404, Some("GroupNotFound")));
    }

    #[test]
    fn ending_a_users_sessions_records_the_revocation_first_and_enable_records_nothing() {
        let disable = mock!(Client::admin_disable_user).then_output(|| {
            aws_sdk_cognitoidentityprovider::operation::admin_disable_user::AdminDisableUserOutput::builder().build()
        });
        let enable = mock!(Client::admin_enable_user).then_output(|| {
            aws_sdk_cognitoidentityprovider::operation::admin_enable_user::AdminEnableUserOutput::builder().build()
        });
        let delete = mock!(Client::admin_delete_user).then_output(|| {
            aws_sdk_cognitoidentityprovider::operation::admin_delete_user::AdminDeleteUserOutput::builder().build()
        });
        let (store, revoker) = memory_revoker();
        let api = api(&[&get_user(), &disable, &enable, &delete], None).with_revoker(revoker);
        let (status, _) = call(
            &api,
            routed(
                "POST",
                "/admin/users/{username}/enable",
                &[("username", "bob")],
                None,
                ROOT,
                "admin",
            ),
        );
        assert_eq!(status, 204);
        assert!(store.get(&user_key("sub-bob")).is_none(), "enable records nothing");
        for action in ["disable", "delete"] {
            let resource = format!("/admin/users/{{username}}/{action}");
            let (status, _) = call(
                &api,
                routed("POST", &resource, &[("username", "bob")], None, ROOT, "admin"),
            );
            assert_eq!(status, 204, "{action}");
        }
        assert!(store.get(&user_key("sub-bob")).is_some());
        // A store that cannot be written changes nothing.
        store.set_failing(true);
        let (status, out) = call(
            &api,
            routed(
                "POST",
                "/admin/users/{username}/disable",
                &[("username", "bob")],
                None,
                ROOT,
                "admin",
            ),
        );
        assert_eq!((status, out["code"].as_str()), (503, Some("RevocationUnavailable")));
        assert_eq!((disable.num_calls(), delete.num_calls()), (1, 1));
    }

    /// A demoted user refreshing in a loop while the change runs: every token Cognito issued
    /// before its answer is refused (the record after the change), and the answer waits until
    /// a new sign-in passes.
    #[test]
    fn a_change_that_ends_sessions_is_recorded_before_and_after_cognito() {
        use crate::revocations::Clock;
        let (store, revoker, clock) = memory_revoker_with_clock();
        let seen_before = std::sync::Arc::new(std::sync::Mutex::new(None));
        let probe = std::sync::Arc::clone(&seen_before);
        let probed_store = store.clone();
        let remove = mock!(Client::admin_remove_user_from_group).then_compute_output(move |_| {
            // What the store holds while Cognito makes the change.
            *probe.lock().unwrap() = probed_store.get(&user_key("sub-bob"));
            aws_sdk_cognitoidentityprovider::operation::admin_remove_user_from_group::AdminRemoveUserFromGroupOutput::builder().build()
        });
        let api = api(&[&get_user(), &remove], None).with_revoker(revoker);
        let (status, _) = call(
            &api,
            routed(
                "DELETE",
                "/admin/users/{username}/groups/{group}",
                &[("username", "bob"), ("group", "admin")],
                None,
                ROOT,
                "admin",
            ),
        );
        assert_eq!(status, 204);
        let before = seen_before
            .lock()
            .unwrap()
            .clone()
            .expect("written before Cognito was asked");
        assert_eq!(before.revoked_at, START.as_secs());
        let after = store.get(&user_key("sub-bob")).unwrap();
        assert_eq!(
            after.revoked_at,
            START.as_secs() + auth_contract::revocation::ASSUMED_CLOCK_SKEW_SECONDS
        );
        assert_eq!(
            clock.now().as_secs(),
            after.revoked_at + 1 + auth_contract::revocation::ASSUMED_CLOCK_SKEW_SECONDS
        );
    }

    #[test]
    fn an_admin_of_another_pool_administers_nothing_here() {
        let api = api(&[&get_user()], None);
        let mut request = routed(
            "GET",
            "/admin/users/{username}",
            &[("username", "bob")],
            None,
            ROOT,
            "admin",
        );
        {
            use lambda_http::RequestExt;
            use lambda_http::request::RequestContext;
            let Some(RequestContext::ApiGatewayV1(mut context)) = request.request_context_ref().cloned() else {
                panic!("a REST context")
            };
            let mut caller = auth_contract::AuthorizerContext::from_fields(&context.authorizer.fields).unwrap();
            caller.issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other".into();
            context.authorizer.fields = caller.to_fields();
            request = request.with_request_context(RequestContext::ApiGatewayV1(context));
        }
        let (status, out) = call(&api, request);
        assert_eq!((status, out["errors"][0]["source"].as_str()), (403, Some("roleCheck")));
    }

    #[test]
    fn an_admin_turns_a_users_mfa_off_and_ends_their_sessions() {
        let reset = mock!(Client::admin_set_user_mfa_preference)
            .match_requests(|req| {
                req.username() == Some("bob")
                    && req.user_pool_id() == Some(POOL_ID)
                    && req.software_token_mfa_settings().is_some_and(|t| !t.enabled())
                    && req.sms_mfa_settings().is_some_and(|s| !s.enabled())
            })
            .then_output(|| {
                aws_sdk_cognitoidentityprovider::operation::admin_set_user_mfa_preference::AdminSetUserMfaPreferenceOutput::builder()
                    .build()
            });
        let (store, revoker) = memory_revoker();
        let api = api(&[&get_user(), &reset], None).with_revoker(revoker);
        let request = || {
            routed(
                "POST",
                "/admin/users/{username}/mfa/reset",
                &[("username", "bob")],
                None,
                ROOT,
                "admin",
            )
        };
        let (status, _) = call(&api, request());
        assert_eq!(status, 204);
        assert_eq!(reset.num_calls(), 1);
        assert!(store.get(&user_key("sub-bob")).is_some(), "the user's sessions end");
        let not_admin = routed(
            "POST",
            "/admin/users/{username}/mfa/reset",
            &[("username", "bob")],
            None,
            ROOT,
            "member",
        );
        assert_eq!(call(&api, not_admin).0, 403);
        assert_eq!(reset.num_calls(), 1);
    }

    /// An existing pool whose client lets users write `custom:team`: no administration until
    /// it is fixed, and the check passes (once) when it is.
    #[test]
    fn administration_waits_while_the_client_lets_users_write_a_trusted_attribute() {
        use aws_sdk_cognitoidentityprovider::operation::describe_user_pool::DescribeUserPoolOutput;
        use aws_sdk_cognitoidentityprovider::operation::describe_user_pool_client::DescribeUserPoolClientOutput;
        use aws_sdk_cognitoidentityprovider::types::{
            UserAttributeUpdateSettingsType, UserPoolClientType, UserPoolType, VerifiedAttributeType,
        };
        let pool = mock!(Client::describe_user_pool).then_output(|| {
            DescribeUserPoolOutput::builder()
                .user_pool(
                    UserPoolType::builder()
                        .user_attribute_update_settings(
                            UserAttributeUpdateSettingsType::builder()
                                .attributes_require_verification_before_update(VerifiedAttributeType::Email)
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        let client_with = |attributes: &'static [&'static str]| {
            mock!(Client::describe_user_pool_client)
                .match_requests(|req| req.client_id() == Some(CLIENT_ID))
                .then_output(move || {
                    let mut client = UserPoolClientType::builder();
                    for a in attributes {
                        client = client.write_attributes(*a);
                    }
                    DescribeUserPoolClientOutput::builder()
                        .user_pool_client(client.build())
                        .build()
                })
        };
        let read_bob = || {
            routed(
                "GET",
                "/admin/users/{username}",
                &[("username", "bob")],
                None,
                ROOT,
                "admin",
            )
        };
        let groups =
            mock!(Client::admin_list_groups_for_user).then_output(|| AdminListGroupsForUserOutput::builder().build());

        let console_client = client_with(&["email", "name", "custom:team"]);
        let mut unsafe_api = api(&[&pool, &console_client, &get_user(), &groups], None);
        unsafe_api.pool_check = Some(crate::pool_check::PoolCheck::new(vec!["custom:team".into()]));
        let (status, problem) = call(&unsafe_api, read_bob());
        assert_eq!(
            (status, problem["code"].as_str()),
            (503, Some("PoolConfigurationUnsafe"))
        );
        assert!(
            !problem["detail"].as_str().unwrap().contains("custom:team"),
            "the cause is logged, not told"
        );
        let (status, _) = call(&unsafe_api, read_bob());
        assert_eq!(
            (status, console_client.num_calls()),
            (503, 2),
            "checked again until it passes"
        );

        let safe_client = client_with(&["email", "name"]);
        let mut safe_api = api(&[&pool, &safe_client, &get_user(), &groups], None);
        safe_api.pool_check = Some(crate::pool_check::PoolCheck::new(vec!["custom:team".into()]));
        assert_eq!(call(&safe_api, read_bob()).0, 200);
        assert_eq!(call(&safe_api, read_bob()).0, 200);
        assert_eq!(safe_client.num_calls(), 1, "checked once it passed");
    }
}
