//! The signed-in user's own account, one Lambda function (`me`) for the family, because every
//! route calls Cognito with the caller's access token and answers the same profile (all
//! behind the authorizer):
//!
//! - `GET /auth/me` → 200 `{username, sub, groups, attributes}` (GetUser);
//! - `PATCH /auth/me` `{attributes?, phoneNumber?}` → 200, the same body (UpdateUserAttributes,
//!   then GetUser), with `pendingVerification` naming the attributes a code was sent for. The
//!   attributes a user may set at sign-up are allowed, and `email`; `phoneNumber` (E.164) sets
//!   `phone_number`. With the template's `AttributesRequireVerificationBeforeUpdate`, Cognito
//!   keeps the verified address until the code sent to the new one is confirmed;
//! - `POST /auth/me/verify-attribute` `{attribute, code}` → 204 (VerifyUserAttribute);
//! - `GET /auth/me/sign-in-methods` → 200 `{signInMethods, mfa, preferredMfa}`
//!   (GetUserAuthFactors): `signInMethods` in sign-in's `method` words (`password`,
//!   `email-otp`, `sms-otp`, `passkey`), `mfa` and `preferredMfa` in `PUT /auth/mfa`'s (`totp`,
//!   `sms`) and `email` for email codes as a second factor;
//! - `DELETE /auth/me` → 204 (DeleteUser): the user's tokens are revoked first (the
//!   revocation store's user record), so a deleted account's tokens stop at the authorizer
//!   at once; if that record cannot be written, nothing is deleted (503).
//!
//! Changing the email or the phone number and deleting the account need a recent sign-in
//! (`RECENT_AUTH_SECONDS`, 401 `RecentAuthenticationRequired`): with a stolen access token
//! alone, nobody moves the account's recovery address (then resets the password through it) or
//! deletes it.
//!
//! Groups are not part of GetUser's answer: they come from the access token's
//! `cognito:groups` claim, read only after Cognito has accepted that very token.

use std::collections::BTreeMap;

use crate::cognito::{IdentityProvider, UserProfile};
use auth_contract::token::{ClaimNames, StrList, read_unverified};
use http_kit::ApiError;
use http_kit::body::{bearer_token, json_object, route};
use http_kit::inputs::{AccessToken, ConfirmationCode, Email, PhoneNumber};
use http_kit::respond;
use http_kit::response::{json, no_content};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::ExposeSecret;
use serde::Serialize;
use tracing::instrument;

use crate::errors::{Exceptions, answer};
use crate::sign_in_methods::SignInMethod;
use crate::{AccountApi, HandlerResult, token_rejected};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MeBody<'a> {
    username: &'a str,
    sub: &'a str,
    groups: Vec<String>,
    attributes: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pending_verification: Vec<String>,
}

/// Cognito's answers that mean something else here (see [`crate::errors`]).
const COGNITO_EXCEPTIONS: Exceptions =
    token_rejected!("The access token is not valid, has expired or has been revoked.");

/// Attributes a user proves with a code.
const VERIFIABLE: &[&str] = &["email", "phone_number"];

/// The Lambda handler: one function for the family, dispatching on the route.
#[instrument(name = "me", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(me(api, &request).await))
}

async fn me<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let access_token = bearer_token(request.headers())?;
    let (method, resource) = route(request).ok_or_else(|| ApiError::internal("no route in the request"))?;
    match (method.as_str(), resource.as_str()) {
        ("PATCH", "/auth/me") => update(api, &access_token, request).await,
        ("POST", "/auth/me/verify-attribute") => verify_attribute(api, &access_token, request).await,
        ("DELETE", "/auth/me") => {
            api.require_recent_auth(request)?;
            delete(api, &access_token).await
        }
        ("GET", "/auth/me/sign-in-methods") => sign_in_methods(api, &access_token).await,
        ("GET", "/auth/me") => {
            let profile = profile(api, &access_token).await?;
            answer_profile(&access_token, &profile, Vec::new())
        }
        _ => Err(ApiError::internal(format!(
            "me is wired to a route it does not serve: {method} {resource}"
        ))),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignInMethodsBody {
    sign_in_methods: Vec<&'static str>,
    mfa: Vec<&'static str>,
    preferred_mfa: Option<&'static str>,
}

/// A first factor in sign-in's `method` words; `None` for one this API does not offer.
fn sign_in_method(factor: &str) -> Option<&'static str> {
    SignInMethod::from_challenge(factor).map(SignInMethod::word)
}

/// An MFA factor in `PUT /auth/mfa`'s words (and `email`).
fn mfa_factor(factor: &str) -> Option<&'static str> {
    match factor {
        "SOFTWARE_TOKEN_MFA" => Some("totp"),
        "SMS_MFA" => Some("sms"),
        "EMAIL_OTP" => Some("email"),
        _ => None,
    }
}

async fn sign_in_methods<P: IdentityProvider>(
    api: &AccountApi<P>,
    access_token: &AccessToken,
) -> Result<Response<Body>, ApiError> {
    let factors = api
        .idp
        .auth_factors(access_token)
        .await
        .map_err(answer(COGNITO_EXCEPTIONS))?;
    let known = |names: &[String], word: fn(&str) -> Option<&'static str>| -> Vec<&'static str> {
        names
            .iter()
            .filter_map(|name| {
                let found = word(name);
                if found.is_none() {
                    // A factor newer than this version: left out, not guessed at.
                    tracing::info!(factor = %name, "a factor this version does not name");
                }
                found
            })
            .collect()
    };
    json(
        StatusCode::OK,
        &SignInMethodsBody {
            sign_in_methods: known(&factors.sign_in, sign_in_method),
            mfa: known(&factors.mfa, mfa_factor),
            preferred_mfa: factors.preferred_mfa.as_deref().and_then(mfa_factor),
        },
    )
}

async fn profile<P: IdentityProvider>(
    api: &AccountApi<P>,
    access_token: &AccessToken,
) -> Result<UserProfile, ApiError> {
    api.idp.get_user(access_token).await.map_err(answer(COGNITO_EXCEPTIONS))
}

fn answer_profile(
    access_token: &AccessToken,
    profile: &UserProfile,
    pending_verification: Vec<String>,
) -> Result<Response<Body>, ApiError> {
    let groups = token_groups(access_token.expose_secret());
    let sub = profile.attributes.get("sub").map(String::as_str).unwrap_or_default();
    json(
        StatusCode::OK,
        &MeBody {
            username: &profile.username,
            sub,
            groups,
            attributes: &profile.attributes,
            pending_verification,
        },
    )
}

async fn update<P: IdentityProvider>(
    api: &AccountApi<P>,
    access_token: &AccessToken,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let mut fields = json_object(request)?;
    let raw = fields.optional_string_map("attributes");
    let phone_number = fields.optional::<PhoneNumber>("phoneNumber");
    let mut attributes = BTreeMap::new();
    if raw.as_ref().is_some_and(BTreeMap::is_empty) {
        fields.reject("attributes", "must name at least one attribute");
    } else if raw.is_none() && phone_number.is_none() && !fields.has_errors() {
        fields.reject("attributes", "is required (or `phoneNumber`)");
    }
    for (name, value) in raw.unwrap_or_default() {
        let source = format!("attributes.{name}");
        let checked = api.sign_up_attributes.check(&name, &value, &["email"]).and_then(|()| {
            if name == "email" {
                Email::try_from(value.clone()).map(|_| ())
            } else {
                Ok(())
            }
        });
        match checked {
            Ok(()) => {
                attributes.insert(name, value);
            }
            Err(message) => fields.reject(&source, message),
        }
    }
    fields.finish(|| Some(()))?;
    if let Some(phone_number) = phone_number {
        attributes.insert("phone_number".to_owned(), phone_number.as_str().to_owned());
    }
    if attributes.keys().any(|name| VERIFIABLE.contains(&name.as_str())) {
        api.require_recent_auth(request)?;
    }
    let deliveries = api
        .idp
        .update_user_attributes(access_token, &attributes)
        .await
        .map_err(answer(COGNITO_EXCEPTIONS))?;
    let pending = deliveries.into_iter().filter_map(|d| d.attribute_name).collect();
    let profile = profile(api, access_token).await?;
    answer_profile(access_token, &profile, pending)
}

async fn verify_attribute<P: IdentityProvider>(
    api: &AccountApi<P>,
    access_token: &AccessToken,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let mut fields = json_object(request)?;
    let attribute = fields.required::<VerifiableAttribute>("attribute");
    let code = fields.required::<ConfirmationCode>("code");
    let (attribute, code) = fields.finish(|| Some((attribute?, code?)))?;
    api.idp
        .verify_user_attribute(access_token, attribute.0, &code)
        .await
        .map_err(answer(COGNITO_EXCEPTIONS))?;
    Ok(no_content())
}

async fn delete<P: IdentityProvider>(
    api: &AccountApi<P>,
    access_token: &AccessToken,
) -> Result<Response<Body>, ApiError> {
    let delete = Box::pin(async {
        api.idp
            .delete_user(access_token)
            .await
            .map_err(answer(COGNITO_EXCEPTIONS))
    });
    if api.revoker.is_some() {
        // The `sub` from Cognito, not from the token's claims: only the token's owner can be
        // revoked, even if this route were ever reached without the authorizer.
        let profile = profile(api, access_token).await?;
        let sub = profile
            .attributes
            .get("sub")
            .ok_or_else(|| ApiError::internal("GetUser answered without a sub"))?;
        api.end_sessions(sub, delete).await?;
    } else {
        delete.await?;
    }
    Ok(no_content())
}

/// An attribute verified with a code: `email` or `phone_number`.
struct VerifiableAttribute(&'static str);

impl TryFrom<String> for VerifiableAttribute {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        VERIFIABLE
            .iter()
            .find(|name| **name == value)
            .map(|name| Self(name))
            .ok_or_else(|| format!("must be one of {}", VERIFIABLE.join(", ")))
    }
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

#[cfg(test)]
mod lifecycle_tests {
    use super::*;
    use crate::test_support::*;
    use aws_sdk_cognitoidentityprovider::Client;
    use aws_sdk_cognitoidentityprovider::operation::delete_user::DeleteUserOutput;
    use aws_sdk_cognitoidentityprovider::operation::get_user::GetUserOutput;
    use aws_sdk_cognitoidentityprovider::operation::update_user_attributes::UpdateUserAttributesOutput;
    use aws_sdk_cognitoidentityprovider::operation::verify_user_attribute::VerifyUserAttributeOutput;
    use aws_sdk_cognitoidentityprovider::types::{AttributeType, CodeDeliveryDetailsType, DeliveryMediumType};
    use aws_smithy_mocks::{Rule, mock};

    fn call(method: &str, path: &str, body: Option<&str>) -> Request {
        let mut request = post_json(path, body.unwrap_or_default());
        *request.method_mut() = method.parse().expect("method");
        if body.is_none() {
            *request.body_mut() = Body::Empty;
        }
        with_caller(with_bearer(request, "a.b.c"), "sub-ada", "o-1")
    }

    fn get_user(email: &'static str) -> Rule {
        mock!(Client::get_user)
            .match_requests(|req| req.access_token() == Some("a.b.c"))
            .then_output(move || {
                let attr = |n: &str, v: &str| AttributeType::builder().name(n).value(v).build().expect("attribute");
                GetUserOutput::builder()
                    .username("ada")
                    .user_attributes(attr("sub", "sub-ada"))
                    .user_attributes(attr("email", email))
                    .user_attributes(attr("name", "Ada Lovelace"))
                    .build()
                    .expect("output")
            })
    }

    #[tokio::test]
    async fn sign_in_methods_name_the_factors_in_the_apis_words() {
        use aws_sdk_cognitoidentityprovider::operation::get_user_auth_factors::GetUserAuthFactorsOutput;
        use aws_sdk_cognitoidentityprovider::types::AuthFactorType;
        let factors = mock!(Client::get_user_auth_factors)
            .match_requests(|req| req.access_token() == Some("a.b.c"))
            .then_output(|| {
                GetUserAuthFactorsOutput::builder()
                    .username("ada")
                    .configured_user_auth_factors(AuthFactorType::Password)
                    .configured_user_auth_factors(AuthFactorType::EmailOtp)
                    .configured_user_auth_factors(AuthFactorType::WebAuthn)
                    // Not a first factor of this API: left out.
                    .configured_user_auth_factors(AuthFactorType::SoftwareToken)
                    .user_mfa_setting_list("SOFTWARE_TOKEN_MFA")
                    .user_mfa_setting_list("EMAIL_OTP")
                    .preferred_mfa_setting("SOFTWARE_TOKEN_MFA")
                    .build()
                    .expect("output")
            });
        let api = api(&[&factors], None);
        let (status, body) = read(
            handler(&api, call("GET", "/auth/me/sign-in-methods", None))
                .await
                .unwrap(),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            serde_json::json!({"signInMethods": ["password", "email-otp", "passkey"], "mfa": ["totp", "email"],
                               "preferredMfa": "totp"})
        );
    }

    #[tokio::test]
    async fn sign_in_methods_of_a_refused_token_are_401() {
        let refused = fails_with(
            mock!(Client::get_user_auth_factors),
            "NotAuthorizedException",
            "Access Token has been revoked",
        );
        let api = api(&[&refused], None);
        let (status, problem) = read(
            handler(&api, call("GET", "/auth/me/sign-in-methods", None))
                .await
                .unwrap(),
        );
        assert_eq!((status, problem["code"].as_str()), (401, Some("Unauthorized")));
    }

    #[tokio::test]
    async fn a_profile_update_answers_the_new_profile_and_what_awaits_a_code() {
        let update = mock!(Client::update_user_attributes)
            .match_requests(|req| {
                let attrs: Vec<(&str, Option<&str>)> =
                    req.user_attributes().iter().map(|a| (a.name(), a.value())).collect();
                req.access_token() == Some("a.b.c")
                    && attrs == vec![("email", Some("new@example.com")), ("name", Some("Ada Lovelace"))]
            })
            .then_output(|| {
                UpdateUserAttributesOutput::builder()
                    .code_delivery_details_list(
                        CodeDeliveryDetailsType::builder()
                            .attribute_name("email")
                            .delivery_medium(DeliveryMediumType::Email)
                            .destination("n***@e***")
                            .build(),
                    )
                    .build()
            });
        let get = get_user("ada@example.com");
        let subject = api(&[&update, &get], None);
        let body = r#"{"attributes":{"name":"Ada Lovelace","email":"new@example.com"}}"#;
        let (status, answer) = read(handler(&subject, call("PATCH", "/auth/me", Some(body))).await.unwrap());
        assert_eq!(status, 200);
        // The verified address stays until the new one is confirmed.
        assert_eq!(answer["attributes"]["email"], "ada@example.com");
        assert_eq!(answer["attributes"]["name"], "Ada Lovelace");
        assert_eq!(answer["pendingVerification"], serde_json::json!(["email"]));
        assert_eq!(answer["username"], "ada");
    }

    #[tokio::test]
    async fn attributes_that_grant_access_or_are_malformed_never_reach_cognito() {
        let subject = api(&[], None);
        for (body, source) in [
            (r#"{"attributes":{"custom:team":"red"}}"#, "attributes.custom:team"),
            (
                r#"{"attributes":{"email_verified":"true"}}"#,
                "attributes.email_verified",
            ),
            (r#"{"attributes":{"email":"not-an-address"}}"#, "attributes.email"),
            (r#"{"attributes":{"name":7}}"#, "attributes.name"),
            (r#"{"attributes":{}}"#, "attributes"),
            (r#"{"attributes":"name"}"#, "attributes"),
            (r#"{}"#, "attributes"),
        ] {
            let (status, problem) = read(handler(&subject, call("PATCH", "/auth/me", Some(body))).await.unwrap());
            assert_eq!(
                (status, problem["errors"][0]["source"].as_str()),
                (400, Some(source)),
                "{body}"
            );
        }
    }

    #[tokio::test]
    async fn verifying_an_attribute_sends_its_code_and_wrong_codes_are_answered() {
        let ok = mock!(Client::verify_user_attribute)
            .match_requests(|req| req.attribute_name() == Some("email") && req.code() == Some("123456"))
            .then_output(|| VerifyUserAttributeOutput::builder().build());
        let subject = api(&[&ok], None);
        let body = r#"{"attribute":"email","code":"123456"}"#;
        assert_eq!(
            read(
                handler(&subject, call("POST", "/auth/me/verify-attribute", Some(body)))
                    .await
                    .unwrap()
            )
            .0,
            204
        );
        for (code, status, problem) in [
            ("CodeMismatchException", 400, "CodeMismatch"),
            ("ExpiredCodeException", 400, "ExpiredCode"),
            ("NotAuthorizedException", 401, "Unauthorized"),
        ] {
            let rule = fails_with(mock!(Client::verify_user_attribute), code, "x");
            let subject = api(&[&rule], None);
            let (got, answer) = read(
                handler(&subject, call("POST", "/auth/me/verify-attribute", Some(body)))
                    .await
                    .unwrap(),
            );
            assert_eq!((got, answer["code"].as_str().unwrap()), (status, problem), "{code}");
        }
        let subject = api(&[], None);
        let (status, problem) = read(
            handler(
                &subject,
                call(
                    "POST",
                    "/auth/me/verify-attribute",
                    Some(r#"{"attribute":"name","code":"1 2"}"#),
                ),
            )
            .await
            .unwrap(),
        );
        let sources = error_sources(&problem);
        assert_eq!(status, 400);
        assert_eq!(sources, ["attribute", "code"]);
    }

    #[tokio::test]
    async fn deleting_the_account_revokes_its_tokens_first_and_nothing_is_deleted_without_the_record() {
        let (store, revoker) = memory_revoker();
        let get = get_user("ada@example.com");
        let delete = mock!(Client::delete_user)
            .match_requests(|req| req.access_token() == Some("a.b.c"))
            .then_output(|| DeleteUserOutput::builder().build());
        store.set_failing(true);
        let subject = api(&[&get, &delete], None).with_revoker(revoker.clone());
        let (status, problem) = read(handler(&subject, call("DELETE", "/auth/me", None)).await.unwrap());
        assert_eq!(
            (status, problem["code"].as_str().unwrap()),
            (503, "RevocationUnavailable")
        );
        assert_eq!(delete.num_calls(), 0);
        store.set_failing(false);
        let (status, _) = read(handler(&subject, call("DELETE", "/auth/me", None)).await.unwrap());
        assert_eq!(status, 204);
        assert_eq!(delete.num_calls(), 1);
        assert!(store.get(&user_key("sub-ada")).is_some());
    }

    /// A stolen access token alone moves no recovery address and deletes no account; other
    /// profile changes need no fresh sign-in.
    #[tokio::test]
    async fn changing_the_email_or_deleting_the_account_needs_a_recent_sign_in() {
        let get = get_user("ada@example.com");
        let update =
            mock!(Client::update_user_attributes).then_output(|| UpdateUserAttributesOutput::builder().build());
        let delete = mock!(Client::delete_user).then_output(|| DeleteUserOutput::builder().build());
        let subject = api(&[&get, &update, &delete], None);
        for (method, body) in [
            ("PATCH", Some(r#"{"attributes":{"email":"thief@example.com"}}"#)),
            ("PATCH", Some(r#"{"phoneNumber":"+14155550100"}"#)),
            (
                "PATCH",
                Some(r#"{"attributes":{"name":"Ada","email":"thief@example.com"}}"#),
            ),
            ("DELETE", None),
        ] {
            let response = handler(&subject, signed_in_ago(call(method, "/auth/me", body), 3600))
                .await
                .unwrap();
            assert!(
                response.headers()["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .contains("insufficient_user_authentication")
            );
            let (status, problem) = read(response);
            assert_eq!(
                (status, problem["code"].as_str()),
                (401, Some("RecentAuthenticationRequired")),
                "{method} {body:?}"
            );
        }
        assert_eq!((update.num_calls(), delete.num_calls()), (0, 0));
        let name_only = signed_in_ago(
            call("PATCH", "/auth/me", Some(r#"{"attributes":{"name":"Ada"}}"#)),
            3600,
        );
        assert_eq!(
            read(handler(&subject, name_only).await.unwrap()).0,
            200,
            "a name is no takeover"
        );
        let bad = signed_in_ago(
            call("PATCH", "/auth/me", Some(r#"{"attributes":{"email":"not-an-email"}}"#)),
            3600,
        );
        assert_eq!(
            read(handler(&subject, bad).await.unwrap()).0,
            400,
            "the body is checked first"
        );
        let fresh = call(
            "PATCH",
            "/auth/me",
            Some(r#"{"attributes":{"email":"new@example.com"}}"#),
        );
        assert_eq!(read(handler(&subject, fresh).await.unwrap()).0, 200);
        assert_eq!(update.num_calls(), 2);
    }

    #[tokio::test]
    async fn a_phone_number_is_a_named_checked_field_never_a_free_form_attribute() {
        let get = get_user("ada@example.com");
        let update = mock!(Client::update_user_attributes)
            .match_requests(|req| {
                req.user_attributes()
                    .iter()
                    .map(|a| (a.name(), a.value()))
                    .eq([("phone_number", Some("+14155550100"))])
            })
            .then_output(|| UpdateUserAttributesOutput::builder().build());
        let subject = api(&[&get, &update], None);
        let named = call("PATCH", "/auth/me", Some(r#"{"phoneNumber":"+14155550100"}"#));
        assert_eq!(read(handler(&subject, named).await.unwrap()).0, 200);
        assert_eq!(update.num_calls(), 1);
        for (body, source) in [
            (
                r#"{"attributes":{"phone_number":"+14155550100"}}"#,
                "attributes.phone_number",
            ),
            (
                r#"{"attributes":{"phone_number_verified":"true"}}"#,
                "attributes.phone_number_verified",
            ),
            (r#"{"phoneNumber":"0123"}"#, "phoneNumber"),
            (r#"{}"#, "attributes"),
        ] {
            let (status, problem) = read(handler(&subject, call("PATCH", "/auth/me", Some(body))).await.unwrap());
            assert_eq!(
                (status, error_sources(&problem)),
                (400, vec![source.to_owned()]),
                "{body}"
            );
        }
        assert_eq!(update.num_calls(), 1);
    }
}
