//! Multi-factor authentication for a signed-in user, one Lambda function (`mfa`) for the
//! family, because every route authorizes Cognito's call with the caller's access token and
//! shares what Cognito's MFA errors become (all behind the authorizer):
//!
//! - `POST /auth/mfa/totp/setup` → 200 `{secretCode, otpauthUri}` (AssociateSoftwareToken):
//!   a new authenticator secret, not in use until verified;
//! - `POST /auth/mfa/totp/verify` `{code, friendlyDeviceName?}` → 200 `{status: "SUCCESS"}`
//!   (VerifySoftwareToken): the app's first code proves the secret was saved; a wrong code is
//!   400 `CodeMismatch`;
//! - `PUT /auth/mfa` `{totp?, sms?}`, each `"preferred"`, `"enabled"` or `"disabled"` → 204
//!   (SetUserMFAPreference). A verified token is used at sign-in only once enabled here.
//!
//! Each needs a recent sign-in (`RECENT_AUTH_SECONDS`, 401 `RecentAuthenticationRequired`): with
//! a stolen access token alone, nobody sets up, swaps or turns off the second factor.

use http_kit::ApiError;
use http_kit::body::{JsonFields, bearer_token, json_object, route};
use http_kit::inputs::{AccessToken, ConfirmationCode};
use http_kit::respond;
use http_kit::response::{json, no_content};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::ExposeSecret;
use serde::Serialize;
use tracing::instrument;

use auth_contract::token::{ClaimNames, read_unverified};

use crate::cognito::{IdentityProvider, MfaPreference, TokenAuth};
use crate::errors::{Exceptions, answer};
use crate::{AccountApi, HandlerResult, token_rejected};

/// Cognito's answers that mean something else here (see [`crate::errors`]).
const COGNITO_EXCEPTIONS: Exceptions =
    token_rejected!("The access token is not valid, has expired or has been revoked.");

/// Longest device name Cognito stores.
const MAX_DEVICE_NAME_CHARS: usize = 131;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SetupBody<'a> {
    secret_code: &'a str,
    otpauth_uri: String,
}

#[derive(Serialize)]
struct VerifyBody<'a> {
    status: &'a str,
}

/// The Lambda handler: one function for the family, dispatching on the route.
#[instrument(name = "mfa", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(mfa(api, &request).await))
}

async fn mfa<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let (method, resource) = route(request).ok_or_else(|| ApiError::internal("no route in the request"))?;
    let access_token = bearer_token(request.headers())?;
    match (method.as_str(), resource.as_str()) {
        ("POST", "/auth/mfa/totp/setup") => {
            api.require_recent_auth(request)?;
            setup(api, &access_token).await
        }
        ("POST", "/auth/mfa/totp/verify") => verify(api, &access_token, request).await,
        ("PUT", "/auth/mfa") => preferences(api, &access_token, request).await,
        _ => Err(ApiError::internal(format!(
            "mfa is wired to a route it does not serve: {method} {resource}"
        ))),
    }
}

async fn setup<P: IdentityProvider>(
    api: &AccountApi<P>,
    access_token: &AccessToken,
) -> Result<Response<Body>, ApiError> {
    let token = api
        .idp
        .associate_software_token(TokenAuth::AccessToken(access_token))
        .await
        .map_err(answer(COGNITO_EXCEPTIONS))?;
    // The account label authenticator apps show: the token's username, which Cognito has
    // just accepted along with the token.
    let account = read_unverified(access_token.expose_secret(), ClaimNames::default(), |claims| {
        claims.username.as_ref().map(|u| u.as_str().to_owned())
    })
    .ok()
    .flatten()
    .unwrap_or_default();
    let secret = token.secret_code.expose_secret();
    json(
        StatusCode::OK,
        &SetupBody {
            secret_code: secret,
            otpauth_uri: api.totp_issuer.otpauth_uri(&account, secret),
        },
    )
}

async fn verify<P: IdentityProvider>(
    api: &AccountApi<P>,
    access_token: &AccessToken,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let mut fields = json_object(request)?;
    let code = fields.required::<ConfirmationCode>("code");
    let device = fields.optional::<DeviceName>("friendlyDeviceName");
    let code = fields.finish(|| code)?;
    api.require_recent_auth(request)?;
    let verified = api
        .idp
        .verify_software_token(
            TokenAuth::AccessToken(access_token),
            &code,
            device.as_ref().map(|d| d.0.as_str()),
        )
        .await
        .map_err(answer(COGNITO_EXCEPTIONS))?;
    if verified.status != "SUCCESS" {
        return Err(ApiError::CodeMismatch);
    }
    json(
        StatusCode::OK,
        &VerifyBody {
            status: &verified.status,
        },
    )
}

async fn preferences<P: IdentityProvider>(
    api: &AccountApi<P>,
    access_token: &AccessToken,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let mut fields = json_object(request)?;
    let totp = fields.optional::<MfaPreference>("totp");
    let sms = fields.optional::<MfaPreference>("sms");
    check_preferences(&mut fields, totp, sms);
    let (totp, sms) = fields.finish(|| Some((totp, sms)))?;
    api.require_recent_auth(request)?;
    api.idp
        .set_mfa_preference(access_token, totp, sms)
        .await
        .map_err(answer(COGNITO_EXCEPTIONS))?;
    Ok(no_content())
}

/// At least one factor, and at most one preferred.
fn check_preferences(fields: &mut JsonFields, totp: Option<MfaPreference>, sms: Option<MfaPreference>) {
    if fields.has_errors() {
        return;
    }
    match (totp, sms) {
        (None, None) => fields.reject("body", "must set totp, sms or both"),
        (Some(MfaPreference::Preferred), Some(MfaPreference::Preferred)) => {
            fields.reject("sms", "only one factor can be preferred")
        }
        _ => {}
    }
}

/// A name for the authenticator, shown in the user's devices: 1 to 131 printable characters.
struct DeviceName(String);

impl TryFrom<String> for DeviceName {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        let n = value.chars().count();
        if n == 0 || n > MAX_DEVICE_NAME_CHARS || value.chars().any(char::is_control) {
            return Err(format!("must be 1 to {MAX_DEVICE_NAME_CHARS} printable characters"));
        }
        Ok(Self(value))
    }
}

impl TryFrom<String> for MfaPreference {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        match value.as_str() {
            "preferred" => Ok(MfaPreference::Preferred),
            "enabled" => Ok(MfaPreference::Enabled),
            "disabled" => Ok(MfaPreference::Disabled),
            _ => Err("must be preferred, enabled or disabled".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use aws_sdk_cognitoidentityprovider::Client;
    use aws_sdk_cognitoidentityprovider::operation::associate_software_token::AssociateSoftwareTokenOutput;
    use aws_sdk_cognitoidentityprovider::operation::set_user_mfa_preference::SetUserMfaPreferenceOutput;
    use aws_sdk_cognitoidentityprovider::operation::verify_software_token::VerifySoftwareTokenOutput;
    use aws_sdk_cognitoidentityprovider::types::VerifySoftwareTokenResponseType;
    use aws_smithy_mocks::mock;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn token_for(username: &str) -> String {
        let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"s-1","username":"{username}"}}"#));
        format!("h.{payload}.sig")
    }

    fn put(body: &str) -> Request {
        let mut request = post_json("/auth/mfa", body);
        *request.method_mut() = lambda_http::http::Method::PUT;
        with_caller(with_bearer(request, "a.b.c"), "sub-ada", "o-1")
    }

    #[tokio::test]
    async fn setup_answers_the_secret_and_a_uri_labelled_with_the_username() {
        let token = token_for("ada@example.com");
        let expected = token.clone();
        let rule = mock!(Client::associate_software_token)
            .match_requests(move |req| req.access_token() == Some(expected.as_str()) && req.session().is_none())
            .then_output(|| {
                AssociateSoftwareTokenOutput::builder()
                    .secret_code("JBSWY3DPEHPK3PXP")
                    .build()
            });
        let subject = api(&[&rule], None);
        let request = with_caller(
            with_bearer(post_json("/auth/mfa/totp/setup", ""), &token),
            "sub-ada",
            "o-1",
        );
        let response = handler(&subject, request).await.unwrap();
        assert_eq!(response.headers()["cache-control"], "no-store");
        let (status, body) = read(response);
        assert_eq!(status, 200);
        assert_eq!(body["secretCode"], "JBSWY3DPEHPK3PXP");
        assert_eq!(
            body["otpauthUri"],
            "otpauth://totp/Cognito:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Cognito&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[tokio::test]
    async fn verify_sends_the_code_and_device_name_and_a_wrong_code_is_a_mismatch() {
        let rule = mock!(Client::verify_software_token)
            .match_requests(|req| {
                req.access_token() == Some("a.b.c")
                    && req.user_code() == Some("123456")
                    && req.friendly_device_name() == Some("Ada's phone")
            })
            .then_output(|| {
                VerifySoftwareTokenOutput::builder()
                    .status(VerifySoftwareTokenResponseType::Success)
                    .build()
            });
        let subject = api(&[&rule], None);
        let request = with_caller(
            with_bearer(
                post_json(
                    "/auth/mfa/totp/verify",
                    r#"{"code":"123456","friendlyDeviceName":"Ada's phone"}"#,
                ),
                "a.b.c",
            ),
            "sub-ada",
            "o-1",
        );
        assert_eq!(
            read(handler(&subject, request).await.unwrap()),
            (200, serde_json::json!({"status": "SUCCESS"}))
        );
        for (code, status, problem) in [
            ("EnableSoftwareTokenMFAException", 400, "CodeMismatch"),
            ("CodeMismatchException", 400, "CodeMismatch"),
            ("SoftwareTokenMFANotFoundException", 400, "InvalidParameter"),
            ("NotAuthorizedException", 401, "Unauthorized"),
        ] {
            let rule = fails_with(mock!(Client::verify_software_token), code, "x");
            let subject = api(&[&rule], None);
            let request = with_caller(
                with_bearer(post_json("/auth/mfa/totp/verify", r#"{"code":"123456"}"#), "a.b.c"),
                "sub-ada",
                "o-1",
            );
            let (got, body) = read(handler(&subject, request).await.unwrap());
            assert_eq!((got, body["code"].as_str().unwrap()), (status, problem), "{code}");
        }
    }

    #[tokio::test]
    async fn preferences_map_to_cognitos_enabled_and_preferred_flags() {
        let rule = mock!(Client::set_user_mfa_preference)
            .match_requests(|req| {
                let totp = req.software_token_mfa_settings();
                let sms = req.sms_mfa_settings();
                totp.map(|t| (t.enabled(), t.preferred_mfa())) == Some((true, true))
                    && sms.map(|s| (s.enabled(), s.preferred_mfa())) == Some((false, false))
            })
            .then_output(|| SetUserMfaPreferenceOutput::builder().build());
        let subject = api(&[&rule], None);
        let (status, _) = read(
            handler(&subject, put(r#"{"totp":"preferred","sms":"disabled"}"#))
                .await
                .unwrap(),
        );
        assert_eq!(status, 204);
        let only_totp = mock!(Client::set_user_mfa_preference)
            .match_requests(|req| {
                req.sms_mfa_settings().is_none()
                    && req
                        .software_token_mfa_settings()
                        .map(|t| (t.enabled(), t.preferred_mfa()))
                        == Some((true, false))
            })
            .then_output(|| SetUserMfaPreferenceOutput::builder().build());
        let subject = api(&[&only_totp], None);
        assert_eq!(
            read(handler(&subject, put(r#"{"totp":"enabled"}"#)).await.unwrap()).0,
            204
        );
    }

    #[tokio::test]
    async fn bad_preferences_are_refused_before_cognito() {
        let subject = api(&[], None);
        for (body, source) in [
            (r#"{}"#, "body"),
            (r#"{"totp":"on"}"#, "totp"),
            (r#"{"totp":"preferred","sms":"preferred"}"#, "sms"),
            (r#"{"totp":true}"#, "totp"),
            (r#"{"totp":"enabled","email":"enabled"}"#, "email"),
        ] {
            let (status, problem) = read(handler(&subject, put(body)).await.unwrap());
            assert_eq!(
                (status, problem["errors"][0]["source"].as_str()),
                (400, Some(source)),
                "{body}"
            );
        }
        let no_token = post_json("/auth/mfa/totp/setup", "");
        assert_eq!(read(handler(&subject, no_token).await.unwrap()).0, 401);
    }

    /// A stolen access token alone (an old sign-in) changes no factor, and Cognito is not
    /// asked; the body is checked first, and a fresh sign-in passes.
    #[tokio::test]
    async fn every_factor_change_needs_a_recent_sign_in() {
        let associate = mock!(Client::associate_software_token).then_output(|| {
            aws_sdk_cognitoidentityprovider::operation::associate_software_token::AssociateSoftwareTokenOutput::builder(
            )
            .secret_code("JBSWY3DPEHPK3PXP")
            .build()
        });
        let verify = mock!(Client::verify_software_token).then_output(|| {
            VerifySoftwareTokenOutput::builder()
                .status(VerifySoftwareTokenResponseType::Success)
                .build()
        });
        let prefer = mock!(Client::set_user_mfa_preference).then_output(|| {
            aws_sdk_cognitoidentityprovider::operation::set_user_mfa_preference::SetUserMfaPreferenceOutput::builder().build()
        });
        let subject = api(&[&associate, &verify, &prefer], None);
        let requests = || {
            [
                with_caller(
                    with_bearer(post_json("/auth/mfa/totp/setup", ""), "a.b.c"),
                    "sub-ada",
                    "o-1",
                ),
                with_caller(
                    with_bearer(post_json("/auth/mfa/totp/verify", r#"{"code":"123456"}"#), "a.b.c"),
                    "sub-ada",
                    "o-1",
                ),
                put(r#"{"totp":"disabled"}"#),
            ]
        };
        for request in requests() {
            let response = handler(&subject, signed_in_ago(request, 301)).await.unwrap();
            let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
            let (status, problem) = read(response);
            assert_eq!(
                (status, problem["code"].as_str()),
                (401, Some("RecentAuthenticationRequired"))
            );
            assert!(
                challenge.contains(r#"error="insufficient_user_authentication""#)
                    && challenge.contains(r#"max_age="300""#)
            );
        }
        assert_eq!(
            (associate.num_calls(), verify.num_calls(), prefer.num_calls()),
            (0, 0, 0)
        );
        let bad_body = signed_in_ago(put(r#"{"totp":"sometimes"}"#), 301);
        assert_eq!(
            read(handler(&subject, bad_body).await.unwrap()).0,
            400,
            "the body first"
        );
        for request in requests() {
            let status = read(handler(&subject, signed_in_ago(request, 299)).await.unwrap()).0;
            assert!(status == 200 || status == 204, "{status}");
        }
        assert_eq!(
            (associate.num_calls(), verify.num_calls(), prefer.num_calls()),
            (1, 1, 1)
        );
    }
}
