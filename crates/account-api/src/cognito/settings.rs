//! Settings of the Cognito app client, read once at cold start.

use auth_contract::config::{self, ConfigError, Env};
use secrecy::SecretString;

/// The team attribute when `TEAM_ATTRIBUTE` is unset.
pub(crate) const DEFAULT_TEAM_ATTRIBUTE: &str = "custom:team";

/// Settings of the app client.
#[derive(Debug, Clone)]
pub struct CognitoSettings {
    /// The pool's region.
    pub region: String,
    /// `<region>_<id>`.
    pub user_pool_id: String,
    /// The app client.
    pub client_id: String,
    /// Present when the app client has a secret: every call then carries a SECRET_HASH.
    pub client_secret: Option<SecretString>,
    /// The user attribute that holds a user's team (`TEAM_ATTRIBUTE`, default `custom:team`).
    pub team_attribute: String,
}

impl CognitoSettings {
    /// Reads `AWS_REGION`, `COGNITO_USER_POOL_ID`, `COGNITO_CLIENT_ID` and the optional
    /// `COGNITO_CLIENT_SECRET`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let region = config::region(env)?;
        let user_pool_id = config::required_user_pool_id(env)?;
        Ok(Self {
            region,
            user_pool_id,
            client_id: config::client_id(env)?,
            client_secret: config::client_secret(env),
            team_attribute: env
                .optional("TEAM_ATTRIBUTE")
                .unwrap_or_else(|| DEFAULT_TEAM_ATTRIBUTE.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn reads_every_variable_and_names_the_missing_one() {
        let env = Env::from_pairs(&[
            ("AWS_REGION", "eu-west-1"),
            ("COGNITO_USER_POOL_ID", "eu-west-1_abc"),
            ("COGNITO_CLIENT_ID", "client"),
            ("COGNITO_CLIENT_SECRET", "s3cr3t"),
        ]);
        let settings = CognitoSettings::from_env(&env).unwrap();
        assert_eq!(settings.user_pool_id, "eu-west-1_abc");
        assert_eq!(
            settings.client_secret.as_ref().map(|s| s.expose_secret()),
            Some("s3cr3t")
        );
        assert!(!format!("{settings:?}").contains("s3cr3t"));

        let env = Env::from_pairs(&[("AWS_REGION", "eu-west-1"), ("COGNITO_USER_POOL_ID", "eu-west-1_abc")]);
        assert_eq!(
            CognitoSettings::from_env(&env).unwrap_err(),
            ConfigError::Missing("COGNITO_CLIENT_ID")
        );

        let env = Env::from_pairs(&[
            ("AWS_REGION", "eu-west-1"),
            ("COGNITO_USER_POOL_ID", "abc"),
            ("COGNITO_CLIENT_ID", "c"),
        ]);
        assert!(matches!(
            CognitoSettings::from_env(&env),
            Err(ConfigError::Invalid {
                name: "COGNITO_USER_POOL_ID",
                ..
            })
        ));
    }
}
