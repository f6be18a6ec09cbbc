//! Creates what the deployed stack's template creates: a user pool with a password policy and
//! auto-verified email, an app client without a secret, the `admin` and `member` groups, and a
//! confirmed demo user in `admin`.

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, AttributeType, ExplicitAuthFlowsType, MessageActionType, PasswordPolicyType,
    PreventUserExistenceErrorTypes, SchemaAttributeType, SoftwareTokenMfaConfigType, UserAttributeUpdateSettingsType,
    UserPoolMfaType, UserPoolPolicyType, VerifiedAttributeType,
};

/// The region the emulator's pool lives in.
pub const REGION: &str = "us-east-1";

#[derive(Debug, Clone)]
/// The administrator the local stack creates.
pub struct DemoUser {
    /// Sign-in name.
    pub username: String,
    /// Password (permanent).
    pub password: String,
    /// Verified email.
    pub email: String,
    /// `custom:team`.
    pub team: String,
}

impl Default for DemoUser {
    fn default() -> Self {
        Self {
            username: "demo-admin".into(),
            password: "Demo-Passw0rd!".into(),
            email: "demo-admin@example.com".into(),
            team: "platform".into(),
        }
    }
}

#[derive(Debug, Clone)]
/// What seeding created.
pub struct SeededPool {
    /// The pool.
    pub user_pool_id: String,
    /// The app client (no secret).
    pub client_id: String,
    /// The administrator.
    pub demo: DemoUser,
}

#[derive(Debug, thiserror::Error)]
#[error("seeding the local user pool failed at {step}: {message}")]
/// A seeding call the emulator refused.
pub struct SeedError {
    step: &'static str,
    message: String,
}

fn failed<E: std::fmt::Debug>(step: &'static str) -> impl FnOnce(E) -> SeedError {
    move |e| SeedError {
        step,
        message: format!("{e:?}"),
    }
}

/// The credentials every client of the emulator signs with. moto accepts any; fixed ones keep
/// the SDK from searching the machine for real ones.
pub fn emulator_credentials() -> Credentials {
    Credentials::new("local", "local", None, None, "local-stack")
}

/// The SDK configuration of every client of the emulator.
fn emulator_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(emulator_credentials()))
        .build()
}

/// A Cognito client for the emulator.
pub fn emulator_client(endpoint: &str) -> Client {
    Client::new(&emulator_config(endpoint))
}

/// A Secrets Manager client for the emulator (the same server).
pub fn emulator_secrets(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&emulator_config(endpoint))
}

/// The name of the local stack's OAuth cookie key secret.
pub const COOKIE_KEY_SECRET: &str = "auth-local-oauth-cookie-key";

/// Creates the OAuth cookie key's secret as the template does (64 random letters and digits)
/// and answers its ARN.
pub async fn create_cookie_key_secret(client: &aws_sdk_secretsmanager::Client) -> Result<String, SeedError> {
    let mut bytes = [0_u8; 48];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| SeedError {
        step: "CreateSecret",
        message: "no randomness".into(),
    })?;
    let value = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes);
    let output = client
        .create_secret()
        .name(COOKIE_KEY_SECRET)
        .secret_string(value)
        .send()
        .await
        .map_err(failed("CreateSecret"))?;
    output
        .arn()
        .map(str::to_owned)
        .ok_or_else(|| failed("CreateSecret")("no ARN"))
}

/// The revocation table of the local stack.
pub const REVOCATION_TABLE: &str = "auth-revocations";

/// A DynamoDB client for the emulator (the same server as Cognito).
pub fn emulator_dynamodb(endpoint: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&emulator_config(endpoint))
}

/// Creates the revocation table as the template does: `pk` string key, on-demand, a TTL on
/// `expiresAt` (which the emulator never enforces: readers ignore expired records anyway).
pub async fn create_revocation_table(client: &aws_sdk_dynamodb::Client) -> Result<(), SeedError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
    };
    let fail = |step: &'static str| move |e: String| SeedError { step, message: e };
    let definition = AttributeDefinition::builder()
        .attribute_name(revocation_store::KEY)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| fail("CreateTable")(e.to_string()))?;
    let key = KeySchemaElement::builder()
        .attribute_name(revocation_store::KEY)
        .key_type(KeyType::Hash)
        .build()
        .map_err(|e| fail("CreateTable")(e.to_string()))?;
    client
        .create_table()
        .table_name(REVOCATION_TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(definition)
        .key_schema(key)
        .send()
        .await
        .map_err(|e| fail("CreateTable")(format!("{e:?}")))?;
    let ttl = TimeToLiveSpecification::builder()
        .attribute_name(revocation_store::EXPIRES_AT)
        .enabled(true)
        .build()
        .map_err(|e| fail("UpdateTimeToLive")(e.to_string()))?;
    client
        .update_time_to_live()
        .table_name(REVOCATION_TABLE)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(|e| fail("UpdateTimeToLive")(format!("{e:?}")))?;
    Ok(())
}

/// Creates the pool, client, groups and demo user.
pub async fn seed(client: &Client, demo: DemoUser) -> Result<SeededPool, SeedError> {
    let pool = client
        .create_user_pool()
        .pool_name("auth-local")
        .policies(
            UserPoolPolicyType::builder()
                .password_policy(
                    PasswordPolicyType::builder()
                        .minimum_length(8)
                        .require_lowercase(true)
                        .require_uppercase(true)
                        .require_numbers(true)
                        .require_symbols(false)
                        .build(),
                )
                .build(),
        )
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .user_attribute_update_settings(
            UserAttributeUpdateSettingsType::builder()
                .attributes_require_verification_before_update(VerifiedAttributeType::Email)
                .build(),
        )
        .mfa_configuration(UserPoolMfaType::Optional)
        .schema(
            SchemaAttributeType::builder()
                .name("team")
                .attribute_data_type(AttributeDataType::String)
                .mutable(true)
                .build(),
        )
        .send()
        .await
        .map_err(failed("CreateUserPool"))?;
    let user_pool_id = pool
        .user_pool()
        .and_then(|p| p.id())
        .ok_or_else(|| failed("CreateUserPool")("no pool id"))?
        .to_owned();

    // What the template's `EnabledMfas: [SOFTWARE_TOKEN_MFA]` sets.
    client
        .set_user_pool_mfa_config()
        .user_pool_id(&user_pool_id)
        .software_token_mfa_configuration(SoftwareTokenMfaConfigType::builder().enabled(true).build())
        .mfa_configuration(UserPoolMfaType::Optional)
        .send()
        .await
        .map_err(failed("SetUserPoolMfaConfig"))?;

    let app_client = client
        .create_user_pool_client()
        .user_pool_id(&user_pool_id)
        .client_name("auth-local-client")
        .generate_secret(false)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .enable_token_revocation(true)
        .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
        // Users may write their name and email, never their team.
        .write_attributes("name")
        .write_attributes("email")
        .send()
        .await
        .map_err(failed("CreateUserPoolClient"))?;
    let client_id = app_client
        .user_pool_client()
        .and_then(|c| c.client_id())
        .ok_or_else(|| failed("CreateUserPoolClient")("no client id"))?
        .to_owned();

    for (group, description) in [("admin", "Administrators"), ("member", "Members")] {
        client
            .create_group()
            .user_pool_id(&user_pool_id)
            .group_name(group)
            .description(description)
            .send()
            .await
            .map_err(failed("CreateGroup"))?;
    }

    let attr = |name: &str, value: &str| AttributeType::builder().name(name).value(value).build();
    client
        .admin_create_user()
        .user_pool_id(&user_pool_id)
        .username(&demo.username)
        .message_action(MessageActionType::Suppress)
        .user_attributes(attr("email", &demo.email).map_err(failed("AdminCreateUser"))?)
        .user_attributes(attr("email_verified", "true").map_err(failed("AdminCreateUser"))?)
        .user_attributes(attr("name", "Demo Admin").map_err(failed("AdminCreateUser"))?)
        .user_attributes(attr("custom:team", &demo.team).map_err(failed("AdminCreateUser"))?)
        .send()
        .await
        .map_err(failed("AdminCreateUser"))?;
    client
        .admin_set_user_password()
        .user_pool_id(&user_pool_id)
        .username(&demo.username)
        .password(&demo.password)
        .permanent(true)
        .send()
        .await
        .map_err(failed("AdminSetUserPassword"))?;
    client
        .admin_add_user_to_group()
        .user_pool_id(&user_pool_id)
        .username(&demo.username)
        .group_name("admin")
        .send()
        .await
        .map_err(failed("AdminAddUserToGroup"))?;

    Ok(SeededPool {
        user_pool_id,
        client_id,
        demo,
    })
}
