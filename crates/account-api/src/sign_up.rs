//! `POST /auth/sign-up` `{username, password, email, phoneNumber?, attributes?}` → 201
//! `{userSub, userConfirmed, codeDelivery?, session?}`. `phoneNumber` (E.164) is a recovery and
//! MFA channel, so it is a named, checked field, never one of the free-form `attributes`.
//!
//! Where the pool offers a one-time code sign-in (`SIGN_IN_METHODS` holds `EMAIL_OTP` or
//! `SMS_OTP`), `password` may be left out: the account signs in with codes, and `phoneNumber`
//! is then required when SMS is the only code channel. Cognito then answers a `session`, which
//! `POST /auth/verify-account` takes with the code, and whose answer signs in with
//! `POST /auth/sign-in {username, session}`.

use std::collections::BTreeMap;

use crate::cognito::{IdentityProvider, SignUpInput};
use crate::sign_in_methods::SignInMethod;
use http_kit::ApiError;
use http_kit::body::json_object;
use http_kit::inputs::PhoneNumber;
use http_kit::respond;
use http_kit::response::json;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::ExposeSecret;
use serde::Serialize;
use tracing::instrument;

use crate::{AccountApi, HandlerResult};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeDeliveryBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delivery_medium: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attribute_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignUpBody {
    user_sub: String,
    user_confirmed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_delivery: Option<CodeDeliveryBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<String>,
}

/// The Lambda handler.
#[instrument(name = "sign_up", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(sign_up(api, &request).await))
}

async fn sign_up<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let input = parse(api, request)?;
    let outcome = api.idp.sign_up(input).await?;
    json(
        StatusCode::CREATED,
        &SignUpBody {
            user_sub: outcome.user_sub,
            user_confirmed: outcome.user_confirmed,
            code_delivery: outcome.code_delivery.map(|d| CodeDeliveryBody {
                destination: d.destination,
                delivery_medium: d.delivery_medium,
                attribute_name: d.attribute_name,
            }),
            session: outcome.session.map(|s| s.expose_secret().to_owned()),
        },
    )
}

fn parse<P>(api: &AccountApi<P>, request: &Request) -> Result<SignUpInput, ApiError> {
    let mut fields = json_object(request)?;
    let username = fields.required("username");
    let methods = api.sign_in_methods;
    let password = if methods.passwordless_sign_up() {
        fields.optional("password")
    } else {
        fields.required("password")
    };
    let email = fields.required("email");
    let phone_number: Option<PhoneNumber> = fields.optional("phoneNumber");
    let sms_only = methods.offers(SignInMethod::SmsOtp) && !methods.offers(SignInMethod::EmailOtp);
    let unreported = !fields.rejected("password") && !fields.rejected("phoneNumber");
    if password.is_none() && sms_only && phone_number.is_none() && unreported {
        fields.reject("phoneNumber", "is required without a password: sign-in codes go by SMS");
    }
    let mut attributes = BTreeMap::new();
    for (name, value) in fields.optional_string_map("attributes").unwrap_or_default() {
        match api.sign_up_attributes.check(&name, &value, &[]) {
            Ok(()) => {
                attributes.insert(name, value);
            }
            Err(message) => fields.reject(&format!("attributes.{name}"), message),
        }
    }
    fields.finish(|| {
        Some(SignUpInput {
            username: username?,
            password,
            email: email?,
            phone_number,
            attributes,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cognito::secret_hash;
    use crate::sign_in_methods::SignInMethods;
    use crate::test_support::*;
    use aws_sdk_cognitoidentityprovider::Client;
    use aws_sdk_cognitoidentityprovider::operation::sign_up::SignUpOutput;
    use aws_sdk_cognitoidentityprovider::types::{CodeDeliveryDetailsType, DeliveryMediumType};
    use aws_smithy_mocks::mock;

    const VALID: &str =
        r#"{"username":"ada","password":"Correct-Horse-1","email":"ada@example.com","attributes":{"name":"Ada"}}"#;

    #[tokio::test]
    async fn creates_the_user_with_secret_hash_and_allowed_attributes() {
        let rule = mock!(Client::sign_up)
            .match_requests(|req| {
                let attrs: Vec<(&str, Option<&str>)> =
                    req.user_attributes().iter().map(|a| (a.name(), a.value())).collect();
                req.username() == Some("ada")
                    && req.password() == Some("Correct-Horse-1")
                    && req.client_id() == Some(CLIENT_ID)
                    && req.secret_hash() == Some(secret_hash("ada", CLIENT_ID, CLIENT_SECRET).as_str())
                    && attrs == [("email", Some("ada@example.com")), ("name", Some("Ada"))]
            })
            .then_output(|| {
                SignUpOutput::builder()
                    .user_sub("sub-123")
                    .user_confirmed(false)
                    .code_delivery_details(
                        CodeDeliveryDetailsType::builder()
                            .destination("a***@e***")
                            .delivery_medium(DeliveryMediumType::Email)
                            .attribute_name("email")
                            .build(),
                    )
                    .build()
                    .expect("output")
            });
        let api = api(&[&rule], Some(CLIENT_SECRET));
        let (status, body) = read(handler(&api, post_json("/auth/sign-up", VALID)).await.unwrap());
        assert_eq!(status, 201);
        assert_eq!(body["userSub"], "sub-123");
        assert_eq!(body["userConfirmed"], false);
        assert_eq!(body["codeDelivery"]["deliveryMedium"], "EMAIL");
        assert_eq!(body["codeDelivery"]["destination"], "a***@e***");
        assert_eq!(rule.num_calls(), 1);
    }

    fn confirmed_user() -> SignUpOutput {
        SignUpOutput::builder()
            .user_sub("s")
            .user_confirmed(true)
            .build()
            .expect("output")
    }

    #[tokio::test]
    async fn without_a_client_secret_no_secret_hash_is_sent() {
        let rule = mock!(Client::sign_up)
            .match_requests(|req| req.secret_hash().is_none())
            .then_output(confirmed_user);
        let api = api(&[&rule], None);
        let (status, body) = read(handler(&api, post_json("/auth/sign-up", VALID)).await.unwrap());
        assert_eq!((status, &body["userConfirmed"]), (201, &serde_json::json!(true)));
        assert!(body.get("codeDelivery").is_none());
    }

    #[tokio::test]
    async fn every_bad_field_is_reported_and_cognito_is_not_called() {
        let rule = mock!(Client::sign_up).then_output(confirmed_user);
        let api = api(&[&rule], None);
        let body = r#"{"username":"a b","password":"short","email":"nope","attributes":{"custom:team":"red","name":"x"},"admin":true}"#;
        let (status, problem) = read(handler(&api, post_json("/auth/sign-up", body)).await.unwrap());
        assert_eq!(status, 400);
        assert_eq!(problem["code"], "ValidationFailed");
        let mut sources: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["source"].as_str().unwrap())
            .collect();
        sources.sort();
        assert_eq!(
            sources,
            ["admin", "attributes.custom:team", "email", "password", "username"]
        );
        assert_eq!(rule.num_calls(), 0);
    }

    #[tokio::test]
    async fn role_team_and_group_attributes_can_never_be_set() {
        let api = api(&[], None);
        for attr in ["custom:role", "custom:team", "cognito:groups", "email_verified"] {
            let body = format!(
                r#"{{"username":"ada","password":"Correct-Horse-1","email":"ada@example.com","attributes":{{"{attr}":"admin"}}}}"#
            );
            let (status, problem) = read(handler(&api, post_json("/auth/sign-up", &body)).await.unwrap());
            assert_eq!(status, 400, "{attr}");
            assert_eq!(problem["errors"][0]["source"], format!("attributes.{attr}"));
        }
    }

    #[tokio::test]
    async fn cognito_failures_map_to_documented_answers() {
        let cases = [
            ("UsernameExistsException", 409, "UsernameExists"),
            ("AliasExistsException", 409, "AliasExists"),
            ("InvalidPasswordException", 400, "InvalidPassword"),
            ("InvalidParameterException", 400, "InvalidParameter"),
            ("CodeDeliveryFailureException", 502, "CodeDeliveryFailed"),
            ("UserLambdaValidationException", 502, "TriggerFailed"),
            ("TooManyRequestsException", 429, "TooManyRequests"),
            ("LimitExceededException", 429, "TooManyRequests"),
            ("InternalErrorException", 503, "IdentityProviderUnavailable"),
            ("ResourceNotFoundException", 500, "InternalError"),
        ];
        for (code, status, api_code) in cases {
            let rule = fails_with(
                mock!(Client::sign_up),
                code,
                "Password did not conform with policy: Password must have numeric characters; pool eu-west-1_TestPool",
            );
            let api = api(&[&rule], None);
            let response = handler(&api, post_json("/auth/sign-up", VALID)).await.unwrap();
            let retry_after = response.headers().get("retry-after").is_some();
            let (got_status, problem) = read(response);
            assert_eq!(
                (got_status, problem["code"].as_str().unwrap()),
                (status, api_code),
                "{code}"
            );
            assert_eq!(retry_after, status == 429 || status == 503, "{code}");
            assert!(!problem.to_string().contains("eu-west-1_TestPool"), "{code}: {problem}");
        }
    }

    #[tokio::test]
    async fn invalid_password_tells_which_rule_failed() {
        let rule = fails_with(
            mock!(Client::sign_up),
            "InvalidPasswordException",
            "Password did not conform with policy: Password must have uppercase characters",
        );
        let api = api(&[&rule], None);
        let (_, problem) = read(handler(&api, post_json("/auth/sign-up", VALID)).await.unwrap());
        assert_eq!(
            problem["detail"],
            "The password does not meet the policy: Password must have uppercase characters"
        );
    }

    #[tokio::test]
    async fn a_phone_number_is_sent_as_phone_number_and_checked_for_its_shape() {
        let rule = mock!(Client::sign_up)
            .match_requests(|req| {
                req.user_attributes()
                    .iter()
                    .any(|a| a.name() == "phone_number" && a.value() == Some("+14155550100"))
            })
            .then_output(|| {
                SignUpOutput::builder()
                    .user_sub("sub-1")
                    .user_confirmed(false)
                    .build()
                    .unwrap()
            });
        let subject = api(&[&rule], None);
        let body =
            r#"{"username":"ada","password":"Correct-Horse-1","email":"ada@example.com","phoneNumber":"+14155550100"}"#;
        assert_eq!(
            read(handler(&subject, post_json("/auth/sign-up", body)).await.unwrap()).0,
            201
        );
        assert_eq!(rule.num_calls(), 1);
        for (body, source) in [
            (
                r#"{"username":"ada","password":"Correct-Horse-1","email":"ada@example.com","phoneNumber":"555-0100"}"#,
                "phoneNumber",
            ),
            (
                r#"{"username":"ada","password":"Correct-Horse-1","email":"ada@example.com","attributes":{"phone_number":"+14155550100"}}"#,
                "attributes.phone_number",
            ),
        ] {
            let (status, problem) = read(handler(&subject, post_json("/auth/sign-up", body)).await.unwrap());
            assert_eq!(
                (status, error_sources(&problem)),
                (400, vec![source.to_owned()]),
                "{body}"
            );
        }
        assert_eq!(rule.num_calls(), 1);
    }

    const PASSWORDLESS: &str = r#"{"username":"ada","email":"ada@example.com"}"#;

    #[tokio::test]
    async fn a_pool_with_sign_in_codes_signs_up_without_a_password_and_answers_the_session() {
        let rule = mock!(Client::sign_up)
            .match_requests(|req| req.username() == Some("ada") && req.password().is_none())
            .then_output(|| {
                SignUpOutput::builder()
                    .user_sub("sub-123")
                    .user_confirmed(false)
                    .session("session-from-sign-up-0123456789")
                    .build()
                    .expect("a complete output")
            });
        let mut subject = api(&[&rule], None);
        subject.sign_in_methods = SignInMethods::of(&[SignInMethod::EmailOtp]);
        let (status, body) = read(
            handler(&subject, post_json("/auth/sign-up", PASSWORDLESS))
                .await
                .unwrap(),
        );
        assert_eq!(status, 201);
        assert_eq!(body["session"], "session-from-sign-up-0123456789");
    }

    #[tokio::test]
    async fn the_password_stays_required_where_no_code_signs_in() {
        for offered in [
            SignInMethods::default(),
            SignInMethods::of(&[SignInMethod::Password, SignInMethod::Passkey]),
        ] {
            let mut subject = api(&[], None);
            subject.sign_in_methods = offered;
            let (status, problem) = read(
                handler(&subject, post_json("/auth/sign-up", PASSWORDLESS))
                    .await
                    .unwrap(),
            );
            assert_eq!(
                (status, error_sources(&problem)),
                (400, vec!["password".to_owned()]),
                "{offered:?}"
            );
        }
    }

    #[tokio::test]
    async fn sms_codes_alone_need_the_phone_number_reported_with_every_other_bad_field() {
        let mut subject = api(&[], None);
        subject.sign_in_methods = SignInMethods::of(&[SignInMethod::SmsOtp]);
        let body = r#"{"username":"ada","email":"not-an-email"}"#;
        let (status, problem) = read(handler(&subject, post_json("/auth/sign-up", body)).await.unwrap());
        assert_eq!(status, 400);
        assert_eq!(error_sources(&problem), ["email", "phoneNumber"]);
    }
}
