//! The events each function is invoked with: the project's `events/` files, made to do real
//! work against the seeded emulator. Tokens replace the placeholders, and the functions that
//! change state get a fresh subject each time (a new username to sign up, an unconfirmed user
//! to verify, a fresh session to log out), so every event takes the same path through Cognito.

use std::collections::HashMap;
use std::path::Path;

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType, MessageActionType};
use local_gateway::seed::SeededPool;
use serde_json::Value;

use crate::BoxError;

const ACCESS_PLACEHOLDER: &str = "REPLACE_WITH_ACCESS_TOKEN";
const REFRESH_PLACEHOLDER: &str = "REPLACE_WITH_REFRESH_TOKEN";
const SESSION_PLACEHOLDER: &str = "REPLACE_WITH_SESSION_FROM_SIGN_IN";
/// The `issuer` of an authorizer context: the seeded pool's canonical issuer.
pub const ISSUER_PLACEHOLDER: &str = "REPLACE_WITH_POOL_ISSUER";
/// The `authTime` of an authorizer context: now, a sign-in recent enough for every route.
pub const AUTH_TIME_PLACEHOLDER: &str = "REPLACE_WITH_AUTH_TIME";
const TEMPORARY_PASSWORD: &str = "Temporary-Passw0rd1";
const PASSWORD: &str = "Correct-Horse-1";
/// Its own user: logging out signs a user out everywhere, which would end the demo admin's
/// session that the other functions' events carry.
const LOGOUT_USER: &str = "coldstart-logout";

/// The event file of a function: `<name>.json`, and for the authorizer the REQUEST event the
/// template's authorizer receives.
pub fn file_name(function: &str) -> String {
    if function == "authorizer" {
        "authorizer.request.json".to_owned()
    } else {
        format!("{function}.json")
    }
}

struct Session {
    access: String,
    refresh: String,
}

/// Events for every function, with real tokens and fresh subjects.
pub struct EventSource {
    client: Client,
    pool: SeededPool,
    admin: Session,
    templates: HashMap<String, String>,
}

impl EventSource {
    /// Reads the event files and signs the demo admin in.
    pub async fn new(client: Client, pool: SeededPool, dir: &Path, functions: &[String]) -> Result<Self, BoxError> {
        let mut templates = HashMap::new();
        for function in functions {
            let path = dir.join(file_name(function));
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?
                .replace(
                    ISSUER_PLACEHOLDER,
                    &auth_contract::config::PoolLocation::derived_issuer(
                        local_gateway::seed::REGION,
                        &pool.user_pool_id,
                    ),
                );
            templates.insert(function.clone(), text);
        }
        let admin = sign_in(&client, &pool, &pool.demo.username, &pool.demo.password).await?;
        client
            .admin_create_user()
            .user_pool_id(&pool.user_pool_id)
            .username(LOGOUT_USER)
            .message_action(MessageActionType::Suppress)
            .user_attributes(attribute("email", "coldstart-logout@example.com")?)
            .send()
            .await
            .map_err(|e| format!("AdminCreateUser: {e:?}"))?;
        client
            .admin_set_user_password()
            .user_pool_id(&pool.user_pool_id)
            .username(LOGOUT_USER)
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await
            .map_err(|e| format!("AdminSetUserPassword: {e:?}"))?;
        Ok(Self {
            client,
            pool,
            admin,
            templates,
        })
    }

    /// Event `index` of cold start `run` of `function`.
    pub async fn event(&self, function: &str, run: usize, index: usize) -> Result<Vec<u8>, BoxError> {
        let template = self
            .templates
            .get(function)
            .ok_or_else(|| format!("no event for {function}"))?;
        let text = match function {
            "sign_up" => with_body_fields(template, &unique_sign_up(run, index))?,
            "verify_account" => {
                let username = format!("verify-{run}-{index}");
                self.sign_up(&username).await?;
                with_body_fields(template, &[("username", username)])?
            }
            "respond_to_challenge" => {
                // A new user with a temporary password: sign-in asks for a new one.
                let username = format!("challenge-{run}-{index}");
                let session = self.new_password_challenge(&username).await?;
                let text = template.replace(SESSION_PLACEHOLDER, &session);
                with_body_fields(&text, &[("username", username)])?
            }
            "logout" => {
                let session = sign_in(&self.client, &self.pool, LOGOUT_USER, PASSWORD).await?;
                // The emulator has no RevokeToken: it answers 500 and the SDK's retry back-off
                // (hundreds of ms) would be measured instead of the function. Without a refresh
                // token, logout is GlobalSignOut alone.
                without_body_field(&with_session(template, &session), "refreshToken")?
            }
            _ => with_session(template, &self.admin),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ok(text.replace(AUTH_TIME_PLACEHOLDER, &now.to_string()).into_bytes())
    }

    /// Creates `username` with a temporary password and answers the session of the
    /// NEW_PASSWORD_REQUIRED challenge its sign-in gets.
    async fn new_password_challenge(&self, username: &str) -> Result<String, BoxError> {
        self.client
            .admin_create_user()
            .user_pool_id(&self.pool.user_pool_id)
            .username(username)
            .temporary_password(TEMPORARY_PASSWORD)
            .message_action(MessageActionType::Suppress)
            .user_attributes(attribute("email", &format!("{username}@example.com"))?)
            .send()
            .await
            .map_err(|e| format!("AdminCreateUser {username}: {e:?}"))?;
        let output = self
            .client
            .initiate_auth()
            .client_id(&self.pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", TEMPORARY_PASSWORD)
            .send()
            .await
            .map_err(|e| format!("InitiateAuth {username}: {e:?}"))?;
        output
            .session()
            .map(str::to_owned)
            .ok_or_else(|| format!("InitiateAuth {username}: no challenge session").into())
    }

    async fn sign_up(&self, username: &str) -> Result<(), BoxError> {
        self.client
            .sign_up()
            .client_id(&self.pool.client_id)
            .username(username)
            .password(PASSWORD)
            .user_attributes(attribute("email", &format!("{username}@example.com"))?)
            .send()
            .await
            .map_err(|e| format!("SignUp {username}: {e:?}"))?;
        Ok(())
    }
}

fn unique_sign_up(run: usize, index: usize) -> [(&'static str, String); 2] {
    let username = format!("ada-{run}-{index}");
    let email = format!("{username}@example.com");
    [("username", username), ("email", email)]
}

fn attribute(name: &str, value: &str) -> Result<AttributeType, BoxError> {
    Ok(AttributeType::builder().name(name).value(value).build()?)
}

async fn sign_in(client: &Client, pool: &SeededPool, username: &str, password: &str) -> Result<Session, BoxError> {
    let output = client
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .map_err(|e| format!("InitiateAuth {username}: {e:?}"))?;
    let result = output
        .authentication_result()
        .ok_or_else(|| format!("InitiateAuth {username}: a challenge instead of tokens"))?;
    match (result.access_token(), result.refresh_token()) {
        (Some(access), Some(refresh)) => Ok(Session {
            access: access.to_owned(),
            refresh: refresh.to_owned(),
        }),
        _ => Err(format!("InitiateAuth {username}: no tokens").into()),
    }
}

/// Tokens are base64url and dots, so they go into the JSON text (and its JSON-in-a-string
/// body) without escaping.
fn with_session(template: &str, session: &Session) -> String {
    template
        .replace(ACCESS_PLACEHOLDER, &session.access)
        .replace(REFRESH_PLACEHOLDER, &session.refresh)
}

/// Sets fields of the JSON document carried as a string in the event's `body`.
fn with_body_fields(template: &str, fields: &[(&str, String)]) -> Result<String, BoxError> {
    edit_body(template, |body| {
        for (name, value) in fields {
            body.insert((*name).to_owned(), Value::String(value.clone()));
        }
    })
}

fn without_body_field(template: &str, name: &str) -> Result<String, BoxError> {
    edit_body(template, |body| {
        body.remove(name);
    })
}

fn edit_body(template: &str, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Result<String, BoxError> {
    let mut event: Value = serde_json::from_str(template)?;
    let body = event
        .get("body")
        .and_then(Value::as_str)
        .ok_or("the event has no string body")?;
    let mut body: Value = serde_json::from_str(body)?;
    edit(body.as_object_mut().ok_or("the event's body is not a JSON object")?);
    let body = Value::String(body.to_string());
    if let Some(slot) = event.get_mut("body") {
        *slot = body;
    }
    Ok(event.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"path":"/auth/logout","headers":{"Authorization":"Bearer REPLACE_WITH_ACCESS_TOKEN"},
        "body":"{\"refreshToken\": \"REPLACE_WITH_REFRESH_TOKEN\", \"keep\": 1}"}"#;

    fn body_of(event: &str) -> Value {
        let event: Value = serde_json::from_str(event).unwrap();
        serde_json::from_str(event["body"].as_str().unwrap()).unwrap()
    }

    #[test]
    fn placeholders_take_the_session_tokens() {
        let session = Session {
            access: "eyJ.access.sig".into(),
            refresh: "refresh-token".into(),
        };
        let event = with_session(EVENT, &session);
        let parsed: Value = serde_json::from_str(&event).unwrap();
        assert_eq!(parsed["headers"]["Authorization"], "Bearer eyJ.access.sig");
        assert_eq!(body_of(&event)["refreshToken"], "refresh-token");
    }

    #[test]
    fn body_fields_are_set_and_removed_inside_the_string_body() {
        let event = with_body_fields(EVENT, &[("username", "ada-1-2".to_owned())]).unwrap();
        let body = body_of(&event);
        assert_eq!(body["username"], "ada-1-2");
        assert_eq!(body["keep"], 1);
        let event = without_body_field(&event, "refreshToken").unwrap();
        assert!(body_of(&event).get("refreshToken").is_none());
        assert!(with_body_fields(r#"{"path":"/"}"#, &[]).is_err());
    }

    #[test]
    fn the_authorizer_gets_the_request_event() {
        assert_eq!(file_name("authorizer"), "authorizer.request.json");
        assert_eq!(file_name("me"), "me.json");
    }
}
