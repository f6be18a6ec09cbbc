//! [`IdentityProvider`] on Amazon Cognito, through `aws-sdk-cognitoidentityprovider`.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, AuthenticationResultType, ChallengeNameType, CodeDeliveryDetailsType,
    MessageActionType, SmsMfaSettingsType, SoftwareTokenMfaSettingsType,
};
use http_kit::inputs::{AccessToken, ConfirmationCode, Password, RefreshToken, Username};
use http_kit::inputs::{GroupName, Team};
use secrecy::{ExposeSecret, SecretString};
use tracing::instrument;

use super::{
    AdminUser, AuthFactors, CodeDelivery, CognitoSettings, IdentityProvider, IdpError, MfaPreference, NewUser,
    SignInOutcome, SignUpInput, SignUpOutcome, SoftwareToken, TokenAuth, Tokens, UserAuth, UserPage, UserProfile,
    UserSummary, VerifiedSoftwareToken, secret_hash,
};

/// Bounds on every Cognito call, so a slow or unreachable endpoint ends in a 503 well before
/// API Gateway's own 29 s limit.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(7);
const MAX_ATTEMPTS: u32 = 2;

/// [`IdentityProvider`] on the AWS SDK.
#[derive(Clone)]
pub struct CognitoIdentityProvider {
    client: Client,
    settings: CognitoSettings,
}

impl CognitoIdentityProvider {
    /// Builds the SDK client with bounded time-outs and retries. The endpoint comes from the
    /// SDK's standard `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER` / `AWS_ENDPOINT_URL` when set.
    pub async fn connect(settings: CognitoSettings) -> Self {
        Self::connect_with(settings, |loader| loader).await
    }

    /// [`Self::connect`] with changes to the SDK configuration (the local stack sets the
    /// emulator's endpoint and fixed credentials this way).
    pub async fn connect_with(
        settings: CognitoSettings,
        configure: impl FnOnce(aws_config::ConfigLoader) -> aws_config::ConfigLoader,
    ) -> Self {
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(settings.region.clone()))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            // Answers are small JSON documents and every call is bounded by the time-outs
            // above: watching each body's throughput adds a timer per poll for nothing.
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
        let sdk_config = configure(loader).load().await;
        Self::new(Client::new(&sdk_config), settings)
    }

    /// Wraps a ready client (tests pass one answering from mocks).
    pub fn new(client: Client, settings: CognitoSettings) -> Self {
        Self { client, settings }
    }

    fn secret_hash_for(&self, username: &str) -> Option<String> {
        self.settings
            .client_secret
            .as_ref()
            .map(|secret| secret_hash(username, &self.settings.client_id, secret.expose_secret()))
    }
}

fn tokens_from(result: &AuthenticationResultType) -> Result<Tokens, IdpError> {
    let (Some(access), Some(id)) = (result.access_token(), result.id_token()) else {
        return Err(IdpError::Unexpected("authentication result without tokens".into()));
    };
    Ok(Tokens {
        access_token: SecretString::from(access.to_owned()),
        id_token: SecretString::from(id.to_owned()),
        refresh_token: result.refresh_token().map(|t| SecretString::from(t.to_owned())),
        expires_in: result.expires_in(),
        token_type: result.token_type().unwrap_or("Bearer").to_owned(),
    })
}

fn delivery(d: &CodeDeliveryDetailsType) -> CodeDelivery {
    CodeDelivery {
        destination: d.destination().map(str::to_owned),
        delivery_medium: d.delivery_medium().map(|m| m.as_str().to_owned()),
        attribute_name: d.attribute_name().map(str::to_owned),
    }
}

/// Tokens, or the next challenge, from an authentication answer.
fn outcome(
    result: Option<&AuthenticationResultType>,
    challenge: Option<&ChallengeNameType>,
    session: Option<&str>,
    parameters: Option<&std::collections::HashMap<String, String>>,
) -> Result<SignInOutcome, IdpError> {
    if let Some(result) = result {
        return tokens_from(result).map(SignInOutcome::Tokens);
    }
    match challenge {
        Some(name) => Ok(SignInOutcome::Challenge {
            name: name.as_str().to_owned(),
            session: session.map(|s| SecretString::from(s.to_owned())),
            parameters: parameters
                .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            available: Vec::new(),
        }),
        None => Err(IdpError::Unexpected("answered neither tokens nor a challenge".into())),
    }
}

fn mfa_flags(preference: MfaPreference) -> (bool, bool) {
    match preference {
        MfaPreference::Preferred => (true, true),
        MfaPreference::Enabled => (true, false),
        MfaPreference::Disabled => (false, false),
    }
}

fn attribute(name: &str, value: &str) -> Result<AttributeType, IdpError> {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .map_err(|e| IdpError::Unexpected(e.to_string()))
}

fn attributes_map(attributes: &[AttributeType]) -> BTreeMap<String, String> {
    attributes
        .iter()
        .map(|a| (a.name().to_owned(), a.value().unwrap_or_default().to_owned()))
        .collect()
}

impl IdentityProvider for CognitoIdentityProvider {
    #[instrument(skip_all, fields(username = input.username.as_str()))]
    async fn sign_up(&self, input: SignUpInput) -> Result<SignUpOutcome, IdpError> {
        let mut request = self
            .client
            .sign_up()
            .client_id(&self.settings.client_id)
            .username(input.username.as_str())
            .set_password(input.password.as_ref().map(|p| p.expose_secret().to_owned()))
            .user_attributes(attribute("email", input.email.as_str())?)
            .set_secret_hash(self.secret_hash_for(input.username.as_str()));
        if let Some(phone_number) = &input.phone_number {
            request = request.user_attributes(attribute("phone_number", phone_number.as_str())?);
        }
        for (name, value) in &input.attributes {
            request = request.user_attributes(attribute(name, value)?);
        }
        let output = request.send().await.map_err(IdpError::from_sdk)?;
        Ok(SignUpOutcome {
            user_sub: output.user_sub().to_owned(),
            user_confirmed: output.user_confirmed(),
            code_delivery: output.code_delivery_details().map(delivery),
            session: output.session().map(|s| SecretString::from(s.to_owned())),
        })
    }

    #[instrument(skip_all, fields(username = username.as_str()))]
    async fn confirm_sign_up(
        &self,
        username: &Username,
        code: &ConfirmationCode,
        session: Option<&SecretString>,
    ) -> Result<Option<SecretString>, IdpError> {
        let output = self
            .client
            .confirm_sign_up()
            .client_id(&self.settings.client_id)
            .username(username.as_str())
            .confirmation_code(code.expose_secret())
            .set_session(session.map(|s| s.expose_secret().to_owned()))
            .set_secret_hash(self.secret_hash_for(username.as_str()))
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(output.session().map(|s| SecretString::from(s.to_owned())))
    }

    #[instrument(skip_all, fields(username = request.username.as_str(), preferred = request.preferred))]
    async fn user_auth(&self, request: UserAuth<'_>) -> Result<SignInOutcome, IdpError> {
        let username = request.username.as_str();
        let mut call = self
            .client
            .initiate_auth()
            .auth_flow(AuthFlowType::UserAuth)
            .client_id(&self.settings.client_id)
            .auth_parameters("USERNAME", username)
            .set_session(request.session.map(|s| s.expose_secret().to_owned()));
        if let Some(preferred) = request.preferred {
            call = call.auth_parameters("PREFERRED_CHALLENGE", preferred);
        }
        if let Some(password) = request.password {
            call = call.auth_parameters("PASSWORD", password.expose_secret());
        }
        if let Some(acr) = request.acr {
            call = call.auth_parameters("TARGET_ACR_VALUES", acr);
        }
        if let Some(hash) = self.secret_hash_for(username) {
            call = call.auth_parameters("SECRET_HASH", hash);
        }
        let output = call.send().await.map_err(IdpError::from_sdk)?;
        let mut answer = outcome(
            output.authentication_result(),
            output.challenge_name(),
            output.session(),
            output.challenge_parameters(),
        )?;
        if let SignInOutcome::Challenge { available, .. } = &mut answer {
            *available = output
                .available_challenges()
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect();
        }
        Ok(answer)
    }

    #[instrument(skip_all, fields(username = username.as_str()))]
    async fn sign_in(&self, username: &Username, password: &Password) -> Result<SignInOutcome, IdpError> {
        let mut request = self
            .client
            .initiate_auth()
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .client_id(&self.settings.client_id)
            .auth_parameters("USERNAME", username.as_str())
            .auth_parameters("PASSWORD", password.expose_secret());
        if let Some(hash) = self.secret_hash_for(username.as_str()) {
            request = request.auth_parameters("SECRET_HASH", hash);
        }
        let output = request.send().await.map_err(IdpError::from_sdk)?;
        outcome(
            output.authentication_result(),
            output.challenge_name(),
            output.session(),
            output.challenge_parameters(),
        )
    }

    #[instrument(skip_all)]
    async fn refresh(&self, refresh_token: &RefreshToken) -> Result<Tokens, IdpError> {
        // One call whether the client rotates refresh tokens or not: REFRESH_TOKEN_AUTH is
        // refused on a rotating client, GetTokensFromRefreshToken works on both. It takes the
        // client secret itself, not a SECRET_HASH.
        let output = self
            .client
            .get_tokens_from_refresh_token()
            .client_id(&self.settings.client_id)
            .refresh_token(refresh_token.expose_secret())
            .set_client_secret(
                self.settings
                    .client_secret
                    .as_ref()
                    .map(|secret| secret.expose_secret().to_owned()),
            )
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        let result = output
            .authentication_result()
            .ok_or_else(|| IdpError::Unexpected("refresh answered without tokens".into()))?;
        tokens_from(result)
    }

    #[instrument(skip_all)]
    async fn global_sign_out(&self, access_token: &AccessToken) -> Result<(), IdpError> {
        self.client
            .global_sign_out()
            .access_token(access_token.expose_secret())
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn revoke_refresh_token(&self, refresh_token: &RefreshToken) -> Result<(), IdpError> {
        self.client
            .revoke_token()
            .token(refresh_token.expose_secret())
            .client_id(&self.settings.client_id)
            .set_client_secret(
                self.settings
                    .client_secret
                    .as_ref()
                    .map(|s| s.expose_secret().to_owned()),
            )
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn get_user(&self, access_token: &AccessToken) -> Result<UserProfile, IdpError> {
        let output = self
            .client
            .get_user()
            .access_token(access_token.expose_secret())
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(UserProfile {
            username: output.username().to_owned(),
            attributes: attributes_map(output.user_attributes()),
        })
    }

    #[instrument(skip_all)]
    async fn auth_factors(&self, access_token: &AccessToken) -> Result<AuthFactors, IdpError> {
        let output = self
            .client
            .get_user_auth_factors()
            .access_token(access_token.expose_secret())
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(AuthFactors {
            sign_in: output
                .configured_user_auth_factors()
                .iter()
                .map(|f| f.as_str().to_owned())
                .collect(),
            mfa: output.user_mfa_setting_list().to_vec(),
            preferred_mfa: output.preferred_mfa_setting().map(str::to_owned),
        })
    }

    #[instrument(skip(self, next_token))]
    async fn list_users(&self, limit: i32, next_token: Option<String>) -> Result<UserPage, IdpError> {
        let output = self
            .client
            .list_users()
            .user_pool_id(&self.settings.user_pool_id)
            .limit(limit)
            .set_pagination_token(next_token)
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        // ListUsers has no groups: ask for each listed user's, concurrently (a page is small).
        let mut lookups = tokio::task::JoinSet::new();
        for (index, user) in output.users().iter().enumerate() {
            let request = self
                .client
                .admin_list_groups_for_user()
                .user_pool_id(&self.settings.user_pool_id)
                .username(user.username().unwrap_or_default());
            lookups.spawn(async move { (index, request.send().await) });
        }
        let mut groups = vec![Vec::new(); output.users().len()];
        while let Some(joined) = lookups.join_next().await {
            let (index, result) = joined.map_err(|e| IdpError::Unexpected(e.to_string()))?;
            let names = group_names(result.map_err(IdpError::from_sdk)?.groups());
            if let Some(slot) = groups.get_mut(index) {
                *slot = names;
            }
        }
        let users = output
            .users()
            .iter()
            .zip(groups)
            .map(|(user, groups)| UserSummary {
                username: user.username().unwrap_or_default().to_owned(),
                status: user.user_status().map(|s| s.as_str().to_owned()),
                enabled: user.enabled(),
                email: user
                    .attributes()
                    .iter()
                    .find(|a| a.name() == "email")
                    .and_then(|a| a.value().map(str::to_owned)),
                groups,
            })
            .collect();
        Ok(UserPage {
            users,
            next_token: output.pagination_token().map(str::to_owned),
        })
    }

    fn pool_issuer(&self) -> String {
        auth_contract::config::PoolLocation::derived_issuer(&self.settings.region, &self.settings.user_pool_id)
    }

    #[instrument(skip_all, fields(username = user.username.as_str()))]
    async fn admin_create_user(&self, user: &NewUser) -> Result<AdminUser, IdpError> {
        let mut request = self
            .client
            .admin_create_user()
            .user_pool_id(&self.settings.user_pool_id)
            .username(user.username.as_str())
            .user_attributes(attribute("email", user.email.as_str())?)
            .user_attributes(attribute("email_verified", "true")?);
        if let Some(team) = &user.team {
            request = request.user_attributes(attribute(&self.settings.team_attribute, team.as_str())?);
        }
        if let Some(password) = &user.temporary_password {
            // The administrator hands the password over: no invitation.
            request = request
                .temporary_password(password.expose_secret())
                .message_action(MessageActionType::Suppress);
        }
        let output = request.send().await.map_err(IdpError::from_sdk)?;
        let created = output
            .user()
            .ok_or_else(|| IdpError::Unexpected("AdminCreateUser answered without a user".into()))?;
        let attributes = attributes_map(created.attributes());
        Ok(self.admin_user(
            created.username().unwrap_or(user.username.as_str()),
            created.user_status().map(|s| s.as_str()),
            created.enabled(),
            &attributes,
        ))
    }

    #[instrument(skip_all, fields(username = username.as_str()))]
    async fn admin_get_user(&self, username: &Username) -> Result<AdminUser, IdpError> {
        let output = self
            .client
            .admin_get_user()
            .user_pool_id(&self.settings.user_pool_id)
            .username(username.as_str())
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        let attributes = attributes_map(output.user_attributes());
        Ok(self.admin_user(
            output.username(),
            output.user_status().map(|s| s.as_str()),
            output.enabled(),
            &attributes,
        ))
    }

    #[instrument(skip_all, fields(username = username.as_str()))]
    async fn admin_groups(&self, username: &Username) -> Result<Vec<String>, IdpError> {
        let output = self
            .client
            .admin_list_groups_for_user()
            .user_pool_id(&self.settings.user_pool_id)
            .username(username.as_str())
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(group_names(output.groups()))
    }

    #[instrument(skip_all)]
    async fn describe_pool(&self) -> Result<crate::pool_check::PoolFacts, IdpError> {
        let pool = self
            .client
            .describe_user_pool()
            .user_pool_id(&self.settings.user_pool_id)
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        let verified_before_update = pool
            .user_pool()
            .and_then(|p| p.user_attribute_update_settings())
            .map(|s| {
                s.attributes_require_verification_before_update()
                    .iter()
                    .map(|a| a.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        let client = self
            .client
            .describe_user_pool_client()
            .user_pool_id(&self.settings.user_pool_id)
            .client_id(&self.settings.client_id)
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        // An empty list is an unset one: Cognito then lets users write the standard attributes.
        let client_write_attributes = client
            .user_pool_client()
            .map(|c| c.write_attributes().to_vec())
            .filter(|list| !list.is_empty());
        Ok(crate::pool_check::PoolFacts {
            client_write_attributes,
            verified_before_update,
        })
    }

    #[instrument(skip_all, fields(group = group.as_str()))]
    async fn group_exists(&self, group: &GroupName) -> Result<bool, IdpError> {
        let result = self
            .client
            .get_group()
            .user_pool_id(&self.settings.user_pool_id)
            .group_name(group.as_str())
            .send()
            .await
            .map_err(IdpError::from_sdk);
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(false),
            Err(e) => Err(e),
        }
    }

    #[instrument(skip_all, fields(username = username.as_str(), group = group.as_str()))]
    async fn admin_add_to_group(&self, username: &Username, group: &GroupName) -> Result<(), IdpError> {
        self.client
            .admin_add_user_to_group()
            .user_pool_id(&self.settings.user_pool_id)
            .username(username.as_str())
            .group_name(group.as_str())
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(())
    }

    #[instrument(skip_all, fields(username = username.as_str(), group = group.as_str()))]
    async fn admin_remove_from_group(&self, username: &Username, group: &GroupName) -> Result<(), IdpError> {
        self.client
            .admin_remove_user_from_group()
            .user_pool_id(&self.settings.user_pool_id)
            .username(username.as_str())
            .group_name(group.as_str())
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(())
    }

    #[instrument(skip_all, fields(username = username.as_str()))]
    async fn admin_set_team(&self, username: &Username, team: Option<&Team>) -> Result<(), IdpError> {
        let attribute_name = &self.settings.team_attribute;
        match team {
            Some(team) => {
                self.client
                    .admin_update_user_attributes()
                    .user_pool_id(&self.settings.user_pool_id)
                    .username(username.as_str())
                    .user_attributes(attribute(attribute_name, team.as_str())?)
                    .send()
                    .await
                    .map_err(IdpError::from_sdk)?;
            }
            None => {
                self.client
                    .admin_delete_user_attributes()
                    .user_pool_id(&self.settings.user_pool_id)
                    .username(username.as_str())
                    .user_attribute_names(attribute_name)
                    .send()
                    .await
                    .map_err(IdpError::from_sdk)?;
            }
        }
        Ok(())
    }

    #[instrument(skip_all, fields(username = username.as_str(), enabled))]
    async fn admin_set_enabled(&self, username: &Username, enabled: bool) -> Result<(), IdpError> {
        let pool = &self.settings.user_pool_id;
        if enabled {
            self.client
                .admin_enable_user()
                .user_pool_id(pool)
                .username(username.as_str())
                .send()
                .await
                .map(|_| ())
                .map_err(IdpError::from_sdk)
        } else {
            self.client
                .admin_disable_user()
                .user_pool_id(pool)
                .username(username.as_str())
                .send()
                .await
                .map(|_| ())
                .map_err(IdpError::from_sdk)
        }
    }

    #[instrument(skip_all, fields(username = username.as_str()))]
    async fn admin_sign_out(&self, username: &Username) -> Result<(), IdpError> {
        self.client
            .admin_user_global_sign_out()
            .user_pool_id(&self.settings.user_pool_id)
            .username(username.as_str())
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(())
    }

    #[instrument(skip_all, fields(username = username.as_str()))]
    async fn admin_reset_mfa(&self, username: &Username) -> Result<(), IdpError> {
        // The factors `PUT /auth/mfa` manages: an authenticator app and SMS.
        self.client
            .admin_set_user_mfa_preference()
            .user_pool_id(&self.settings.user_pool_id)
            .username(username.as_str())
            .software_token_mfa_settings(
                SoftwareTokenMfaSettingsType::builder()
                    .enabled(false)
                    .preferred_mfa(false)
                    .build(),
            )
            .sms_mfa_settings(
                SmsMfaSettingsType::builder()
                    .enabled(false)
                    .preferred_mfa(false)
                    .build(),
            )
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(())
    }

    #[instrument(skip_all, fields(username = username.as_str()))]
    async fn admin_delete_user(&self, username: &Username) -> Result<(), IdpError> {
        self.client
            .admin_delete_user()
            .user_pool_id(&self.settings.user_pool_id)
            .username(username.as_str())
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(())
    }

    #[instrument(skip_all, fields(username = username.as_str()))]
    async fn resend_confirmation_code(&self, username: &Username) -> Result<Option<CodeDelivery>, IdpError> {
        let output = self
            .client
            .resend_confirmation_code()
            .client_id(&self.settings.client_id)
            .username(username.as_str())
            .set_secret_hash(self.secret_hash_for(username.as_str()))
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(output.code_delivery_details().map(delivery))
    }

    #[instrument(skip_all, fields(username = username.as_str()))]
    async fn forgot_password(&self, username: &Username) -> Result<Option<CodeDelivery>, IdpError> {
        let output = self
            .client
            .forgot_password()
            .client_id(&self.settings.client_id)
            .username(username.as_str())
            .set_secret_hash(self.secret_hash_for(username.as_str()))
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(output.code_delivery_details().map(delivery))
    }

    #[instrument(skip_all, fields(username = username.as_str()))]
    async fn confirm_forgot_password(
        &self,
        username: &Username,
        code: &ConfirmationCode,
        new_password: &Password,
    ) -> Result<(), IdpError> {
        self.client
            .confirm_forgot_password()
            .client_id(&self.settings.client_id)
            .username(username.as_str())
            .confirmation_code(code.expose_secret())
            .password(new_password.expose_secret())
            .set_secret_hash(self.secret_hash_for(username.as_str()))
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn change_password(
        &self,
        access_token: &AccessToken,
        previous: &Password,
        proposed: &Password,
    ) -> Result<(), IdpError> {
        self.client
            .change_password()
            .access_token(access_token.expose_secret())
            .previous_password(previous.expose_secret())
            .proposed_password(proposed.expose_secret())
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(())
    }

    #[instrument(skip_all, fields(challenge, username = username.as_str()))]
    async fn respond_to_challenge(
        &self,
        challenge: &str,
        session: &SecretString,
        username: &Username,
        responses: &BTreeMap<String, SecretString>,
    ) -> Result<SignInOutcome, IdpError> {
        let mut request = self
            .client
            .respond_to_auth_challenge()
            .client_id(&self.settings.client_id)
            .challenge_name(ChallengeNameType::from(challenge))
            .session(session.expose_secret())
            .challenge_responses("USERNAME", username.as_str());
        for (name, value) in responses {
            request = request.challenge_responses(name, value.expose_secret());
        }
        if let Some(hash) = self.secret_hash_for(username.as_str()) {
            request = request.challenge_responses("SECRET_HASH", hash);
        }
        let output = request.send().await.map_err(IdpError::from_sdk)?;
        outcome(
            output.authentication_result(),
            output.challenge_name(),
            output.session(),
            output.challenge_parameters(),
        )
    }

    #[instrument(skip_all)]
    async fn associate_software_token(&self, auth: TokenAuth<'_>) -> Result<SoftwareToken, IdpError> {
        let request = self.client.associate_software_token();
        let request = match auth {
            TokenAuth::AccessToken(token) => request.access_token(token.expose_secret()),
            TokenAuth::Session(session) => request.session(session.expose_secret()),
        };
        let output = request.send().await.map_err(IdpError::from_sdk)?;
        let secret_code = output
            .secret_code()
            .ok_or_else(|| IdpError::Unexpected("AssociateSoftwareToken answered without a secret".into()))?;
        Ok(SoftwareToken {
            secret_code: SecretString::from(secret_code.to_owned()),
            session: output.session().map(|s| SecretString::from(s.to_owned())),
        })
    }

    #[instrument(skip_all)]
    async fn verify_software_token(
        &self,
        auth: TokenAuth<'_>,
        code: &ConfirmationCode,
        friendly_device_name: Option<&str>,
    ) -> Result<VerifiedSoftwareToken, IdpError> {
        let request = self
            .client
            .verify_software_token()
            .user_code(code.expose_secret())
            .set_friendly_device_name(friendly_device_name.map(str::to_owned));
        let request = match auth {
            TokenAuth::AccessToken(token) => request.access_token(token.expose_secret()),
            TokenAuth::Session(session) => request.session(session.expose_secret()),
        };
        let output = request.send().await.map_err(IdpError::from_sdk)?;
        Ok(VerifiedSoftwareToken {
            status: output.status().map_or("SUCCESS", |s| s.as_str()).to_owned(),
            session: output.session().map(|s| SecretString::from(s.to_owned())),
        })
    }

    #[instrument(skip_all)]
    async fn set_mfa_preference(
        &self,
        access_token: &AccessToken,
        totp: Option<MfaPreference>,
        sms: Option<MfaPreference>,
    ) -> Result<(), IdpError> {
        let totp = totp.map(|p| {
            let (enabled, preferred) = mfa_flags(p);
            SoftwareTokenMfaSettingsType::builder()
                .enabled(enabled)
                .preferred_mfa(preferred)
                .build()
        });
        let sms = sms.map(|p| {
            let (enabled, preferred) = mfa_flags(p);
            SmsMfaSettingsType::builder()
                .enabled(enabled)
                .preferred_mfa(preferred)
                .build()
        });
        self.client
            .set_user_mfa_preference()
            .access_token(access_token.expose_secret())
            .set_software_token_mfa_settings(totp)
            .set_sms_mfa_settings(sms)
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn update_user_attributes(
        &self,
        access_token: &AccessToken,
        attributes: &BTreeMap<String, String>,
    ) -> Result<Vec<CodeDelivery>, IdpError> {
        let mut request = self
            .client
            .update_user_attributes()
            .access_token(access_token.expose_secret());
        for (name, value) in attributes {
            request = request.user_attributes(attribute(name, value)?);
        }
        let output = request.send().await.map_err(IdpError::from_sdk)?;
        Ok(output.code_delivery_details_list().iter().map(delivery).collect())
    }

    #[instrument(skip_all, fields(attribute))]
    async fn verify_user_attribute(
        &self,
        access_token: &AccessToken,
        attribute: &str,
        code: &ConfirmationCode,
    ) -> Result<(), IdpError> {
        self.client
            .verify_user_attribute()
            .access_token(access_token.expose_secret())
            .attribute_name(attribute)
            .code(code.expose_secret())
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn delete_user(&self, access_token: &AccessToken) -> Result<(), IdpError> {
        self.client
            .delete_user()
            .access_token(access_token.expose_secret())
            .send()
            .await
            .map_err(IdpError::from_sdk)?;
        Ok(())
    }
}

impl CognitoIdentityProvider {
    fn admin_user(
        &self,
        username: &str,
        status: Option<&str>,
        enabled: bool,
        attributes: &BTreeMap<String, String>,
    ) -> AdminUser {
        AdminUser {
            username: username.to_owned(),
            sub: attributes.get("sub").cloned().unwrap_or_default(),
            status: status.map(str::to_owned),
            enabled,
            email: attributes.get("email").cloned(),
            team: attributes.get(&self.settings.team_attribute).cloned(),
        }
    }
}

fn group_names(groups: &[aws_sdk_cognitoidentityprovider::types::GroupType]) -> Vec<String> {
    groups
        .iter()
        .filter_map(|g| g.group_name().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cognitoidentityprovider::config::Credentials;
    use http_kit::ApiError;

    fn settings() -> CognitoSettings {
        CognitoSettings {
            region: "eu-west-1".into(),
            user_pool_id: "eu-west-1_x".into(),
            client_id: "client".into(),
            client_secret: None,
            team_attribute: "custom:team".into(),
        }
    }

    async fn provider_at(endpoint: String) -> CognitoIdentityProvider {
        CognitoIdentityProvider::connect_with(settings(), move |loader| {
            loader
                .endpoint_url(endpoint)
                .credentials_provider(Credentials::new("a", "b", None, None, "test"))
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(Duration::from_millis(300))
                        .operation_attempt_timeout(Duration::from_millis(300))
                        .operation_timeout(Duration::from_millis(800))
                        .build(),
                )
        })
        .await
    }

    async fn sign_in_status(provider: &CognitoIdentityProvider) -> (u16, Option<String>) {
        let username = Username::try_from("ada".to_owned()).unwrap();
        let password = Password::try_from("Correct-Horse-1".to_owned()).unwrap();
        let err = provider.sign_in(&username, &password).await.unwrap_err();
        assert!(matches!(err, IdpError::Unavailable(_)), "{err:?}");
        let response = ApiError::from(err).into_response();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (response.status().as_u16(), retry_after)
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_503_with_retry_after() {
        // Bind then drop: nothing listens on this port any more.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let provider = provider_at(format!("http://127.0.0.1:{port}")).await;
        assert_eq!(sign_in_status(&provider).await, (503, Some("1".to_owned())));
    }

    #[tokio::test]
    async fn an_endpoint_that_never_answers_times_out_as_503() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // Accept and hold connections without ever answering.
        let holder = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                open.push(stream);
            }
        });
        let provider = provider_at(format!("http://127.0.0.1:{port}")).await;
        assert_eq!(sign_in_status(&provider).await.0, 503);
        holder.abort();
    }
}
