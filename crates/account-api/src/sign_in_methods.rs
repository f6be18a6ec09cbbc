//! The first factors a user may sign in with, in the API's words (`password`, `email-otp`,
//! `sms-otp`, `passkey`) and Cognito's (`PASSWORD`, `EMAIL_OTP`, `SMS_OTP`, `WEB_AUTHN`), and
//! the ones this deployment offers (`SIGN_IN_METHODS`, set by the template's `SignInMethods`).
//!
//! ```
//! use account_api::sign_in_methods::{SignInMethod, SignInMethods};
//! use auth_contract::config::Env;
//!
//! let offered = SignInMethods::from_env(&Env::from_pairs(&[("SIGN_IN_METHODS", "PASSWORD,EMAIL_OTP")])).unwrap();
//! assert!(offered.user_auth());
//! assert!(offered.offers(SignInMethod::EmailOtp) && !offered.offers(SignInMethod::Passkey));
//! assert_eq!(SignInMethod::from_challenge("WEB_AUTHN").map(SignInMethod::word), Some("passkey"));
//! ```

use auth_contract::config::{ConfigError, Env};

/// One first factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    /// The password.
    Password,
    /// A one-time code sent by email.
    EmailOtp,
    /// A one-time code sent by SMS.
    SmsOtp,
    /// A passkey (WebAuthn).
    Passkey,
}

impl SignInMethod {
    /// Every method, in the order answers list them.
    pub const ALL: [SignInMethod; 4] = [
        SignInMethod::Password,
        SignInMethod::EmailOtp,
        SignInMethod::SmsOtp,
        SignInMethod::Passkey,
    ];

    /// The API's word (sign-in's `method`, `GET /auth/me/sign-in-methods`).
    pub fn word(self) -> &'static str {
        match self {
            SignInMethod::Password => "password",
            SignInMethod::EmailOtp => "email-otp",
            SignInMethod::SmsOtp => "sms-otp",
            SignInMethod::Passkey => "passkey",
        }
    }

    /// Cognito's name: the `PREFERRED_CHALLENGE`, the challenge, the first factor.
    pub fn challenge(self) -> &'static str {
        match self {
            SignInMethod::Password => "PASSWORD",
            SignInMethod::EmailOtp => "EMAIL_OTP",
            SignInMethod::SmsOtp => "SMS_OTP",
            SignInMethod::Passkey => "WEB_AUTHN",
        }
    }

    /// The method Cognito names `name`; `None` for one this API does not offer (`PASSWORD_SRP`).
    pub fn from_challenge(name: &str) -> Option<SignInMethod> {
        SignInMethod::ALL.into_iter().find(|m| m.challenge() == name)
    }

    /// Whether the method sends a one-time code.
    pub fn sends_code(self) -> bool {
        matches!(self, SignInMethod::EmailOtp | SignInMethod::SmsOtp)
    }
}

impl TryFrom<String> for SignInMethod {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        SignInMethod::ALL
            .into_iter()
            .find(|m| m.word() == value)
            .ok_or_else(|| "must be one of password, email-otp, sms-otp, passkey".to_owned())
    }
}

/// The methods this deployment offers: the pool's `AllowedFirstAuthFactors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInMethods {
    offered: [bool; 4],
}

impl Default for SignInMethods {
    /// The password only: the template's default, and the pool without choice-based sign-in.
    fn default() -> Self {
        Self::of(&[SignInMethod::Password])
    }
}

impl SignInMethods {
    /// Exactly `methods`.
    pub fn of(methods: &[SignInMethod]) -> Self {
        let mut offered = [false; 4];
        for method in methods {
            offered[*method as usize] = true;
        }
        Self { offered }
    }

    /// Reads `SIGN_IN_METHODS`, a comma-separated list of Cognito's names; unset, the password
    /// only. An unknown name fails the cold start, naming the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let Some(names) = env.list("SIGN_IN_METHODS") else {
            return Ok(Self::default());
        };
        let mut methods = Vec::with_capacity(names.len());
        for name in &names {
            methods.push(SignInMethod::from_challenge(name).ok_or_else(|| ConfigError::Invalid {
                name: "SIGN_IN_METHODS",
                reason: format!("{name} is not one of PASSWORD, EMAIL_OTP, SMS_OTP, WEB_AUTHN"),
            })?);
        }
        if methods.is_empty() {
            return Ok(Self::default());
        }
        Ok(Self::of(&methods))
    }

    /// Whether `method` is offered.
    pub fn offers(self, method: SignInMethod) -> bool {
        self.offered[method as usize]
    }

    /// Whether choice-based sign-in (`USER_AUTH`) is on: the template allows it to the client
    /// exactly when a method beyond the password is offered.
    pub fn user_auth(self) -> bool {
        SignInMethod::ALL
            .into_iter()
            .any(|m| m != SignInMethod::Password && self.offers(m))
    }

    /// Whether a one-time code method is offered, so a sign-up may go without a password.
    pub fn passwordless_sign_up(self) -> bool {
        SignInMethod::ALL.into_iter().any(|m| m.sends_code() && self.offers(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_cognito_names_name_the_same_methods_both_ways() {
        for method in SignInMethod::ALL {
            assert_eq!(SignInMethod::try_from(method.word().to_owned()), Ok(method));
            assert_eq!(SignInMethod::from_challenge(method.challenge()), Some(method));
        }
        assert_eq!(SignInMethod::from_challenge("PASSWORD_SRP"), None);
        assert!(SignInMethod::try_from("PASSWORD".to_owned()).is_err());
        assert!(SignInMethod::try_from("otp".to_owned()).is_err());
    }

    #[test]
    fn the_setting_defaults_to_the_password_alone_and_refuses_an_unknown_name() {
        let unset = SignInMethods::from_env(&Env::from_pairs(&[])).unwrap();
        assert!(unset.offers(SignInMethod::Password) && !unset.user_auth() && !unset.passwordless_sign_up());

        let codes = SignInMethods::from_env(&Env::from_pairs(&[("SIGN_IN_METHODS", " SMS_OTP ,")])).unwrap();
        assert!(codes.user_auth() && codes.passwordless_sign_up() && !codes.offers(SignInMethod::Password));

        let passkey = SignInMethods::from_env(&Env::from_pairs(&[("SIGN_IN_METHODS", "PASSWORD,WEB_AUTHN")])).unwrap();
        assert!(passkey.user_auth() && !passkey.passwordless_sign_up());

        let err = SignInMethods::from_env(&Env::from_pairs(&[("SIGN_IN_METHODS", "PASSWORD,SOFTWARE_TOKEN")]));
        assert!(matches!(
            err,
            Err(ConfigError::Invalid {
                name: "SIGN_IN_METHODS",
                ..
            })
        ));
    }
}
