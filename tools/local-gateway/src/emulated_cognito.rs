//! The local stack's Cognito: the real SDK implementation pointed at the emulator, except for
//! the calls the emulator does not implement (it would answer them with a bare HTTP 500, which
//! the SDK retries). Those answer [`IdpError::NotEmulated`] at once, so the route says 501
//! `NotEmulated` naming the call, after the function has checked the request as it does in
//! the cloud. Where the emulator answers with another error than Cognito, the error is
//! translated to Cognito's (one case: an unknown user at ConfirmForgotPassword).

use std::collections::BTreeMap;

use account_api::cognito::{
    AdminUser, CodeDelivery, CognitoIdentityProvider, IdentityProvider, IdpError, MfaPreference, NewUser,
    SignInOutcome, SignUpInput, SignUpOutcome, SoftwareToken, TokenAuth, Tokens, UserPage, UserProfile,
    VerifiedSoftwareToken,
};
use http_kit::inputs::{AccessToken, ConfirmationCode, GroupName, Password, RefreshToken, Team, Username};
use secrecy::SecretString;

/// Cognito's operations the emulator does not implement, as `docs/testing.md` lists them.
pub const NOT_EMULATED: [&str; 4] = [
    "ResendConfirmationCode",
    "RevokeToken",
    "VerifyUserAttribute",
    "DeleteUser",
];

/// [`CognitoIdentityProvider`] on the emulator, with its gaps made explicit.
pub struct EmulatedCognito(pub CognitoIdentityProvider);

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {
        $(
            async fn $name(&self, $($arg: $ty),*) -> Result<$out, IdpError> {
                self.0.$name($($arg),*).await
            }
        )*
    };
}

impl IdentityProvider for EmulatedCognito {
    delegate! {
        sign_up(input: SignUpInput) -> SignUpOutcome;
        confirm_sign_up(username: &Username, code: &ConfirmationCode) -> ();
        sign_in(username: &Username, password: &Password) -> SignInOutcome;
        refresh(refresh_token: &RefreshToken, username: Option<&Username>) -> Tokens;
        global_sign_out(access_token: &AccessToken) -> ();
        get_user(access_token: &AccessToken) -> UserProfile;
        list_users(limit: i32, next_token: Option<String>) -> UserPage;
        admin_create_user(user: &NewUser) -> AdminUser;
        admin_get_user(username: &Username) -> AdminUser;
        admin_groups(username: &Username) -> Vec<String>;
        describe_pool() -> account_api::pool_check::PoolFacts;
        group_exists(group: &GroupName) -> bool;
        admin_add_to_group(username: &Username, group: &GroupName) -> ();
        admin_remove_from_group(username: &Username, group: &GroupName) -> ();
        admin_set_team(username: &Username, team: Option<&Team>) -> ();
        admin_set_enabled(username: &Username, enabled: bool) -> ();
        admin_sign_out(username: &Username) -> ();
        admin_reset_mfa(username: &Username) -> ();
        admin_delete_user(username: &Username) -> ();
        forgot_password(username: &Username) -> Option<CodeDelivery>;
        change_password(access_token: &AccessToken, previous: &Password, proposed: &Password) -> ();
        respond_to_challenge(
            challenge: &str,
            session: &SecretString,
            username: &Username,
            responses: &BTreeMap<String, SecretString>
        ) -> SignInOutcome;
        associate_software_token(auth: TokenAuth<'_>) -> SoftwareToken;
        verify_software_token(
            auth: TokenAuth<'_>,
            code: &ConfirmationCode,
            friendly_device_name: Option<&str>
        ) -> VerifiedSoftwareToken;
        set_mfa_preference(access_token: &AccessToken, totp: Option<MfaPreference>, sms: Option<MfaPreference>) -> ();
        update_user_attributes(access_token: &AccessToken, attributes: &BTreeMap<String, String>) -> Vec<CodeDelivery>;
    }

    fn requires_username_for_refresh(&self) -> bool {
        self.0.requires_username_for_refresh()
    }

    fn pool_issuer(&self) -> String {
        self.0.pool_issuer()
    }

    async fn resend_confirmation_code(&self, _username: &Username) -> Result<Option<CodeDelivery>, IdpError> {
        Err(IdpError::NotEmulated("ResendConfirmationCode"))
    }

    async fn revoke_refresh_token(&self, _refresh_token: &RefreshToken) -> Result<(), IdpError> {
        Err(IdpError::NotEmulated("RevokeToken"))
    }

    async fn verify_user_attribute(
        &self,
        _access_token: &AccessToken,
        _attribute: &str,
        _code: &ConfirmationCode,
    ) -> Result<(), IdpError> {
        Err(IdpError::NotEmulated("VerifyUserAttribute"))
    }

    async fn confirm_forgot_password(
        &self,
        username: &Username,
        code: &ConfirmationCode,
        new_password: &Password,
    ) -> Result<(), IdpError> {
        match self.0.confirm_forgot_password(username, code, new_password).await {
            // The emulator answers an unknown user with ResourceNotFoundException (naming the
            // client); Cognito answers UserNotFoundException.
            Err(IdpError::Service { code, .. }) if code == "ResourceNotFoundException" => Err(IdpError::Service {
                code: "UserNotFoundException".into(),
                message: "Username/client id combination not found.".into(),
            }),
            other => other,
        }
    }

    async fn delete_user(&self, _access_token: &AccessToken) -> Result<(), IdpError> {
        Err(IdpError::NotEmulated("DeleteUser"))
    }
}
