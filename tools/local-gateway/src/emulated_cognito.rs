//! The local stack's Cognito: the real SDK implementation pointed at the emulator (through the
//! [`crate::cognito_standin`], which adds what Cognito has and the emulator lacks), except for
//! the calls neither implements (the emulator would answer them with a bare HTTP 500, which the
//! SDK retries). Those fail at once, as an unavailable Cognito would, and are noted
//! ([`noting_gaps`]): the gateway then answers 501 `NotEmulated` naming the call instead of the
//! function's 503, after the function has checked the request as it does in the cloud. The
//! functions themselves know nothing of the local stack. Where the emulator answers with
//! another error than Cognito, the error is translated to Cognito's (one case: an unknown user
//! at ConfirmForgotPassword).

use std::cell::Cell;
use std::collections::BTreeMap;

use account_api::cognito::{
    AdminUser, AuthFactors, CodeDelivery, CognitoIdentityProvider, IdentityProvider, IdpError, MfaPreference, NewUser,
    SignInOutcome, SignUpInput, SignUpOutcome, SoftwareToken, TokenAuth, Tokens, UserAuth, UserPage, UserProfile,
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

tokio::task_local! {
    /// The first call the emulator lacks during one function call.
    static GAP: Cell<Option<&'static str>>;
}

/// Runs one function call and names the first Cognito call it made that the emulator lacks.
pub async fn noting_gaps<F: Future>(call: F) -> (F::Output, Option<&'static str>) {
    GAP.scope(Cell::new(None), async {
        let output = call.await;
        (output, GAP.with(Cell::get))
    })
    .await
}

/// A call the emulator lacks: noted, and failed as an unavailable Cognito fails.
fn gap<T>(operation: &'static str) -> Result<T, IdpError> {
    // Outside `noting_gaps` (a test calling the port directly) there is nothing to note.
    let _ = GAP.try_with(|noted| {
        if noted.get().is_none() {
            noted.set(Some(operation));
        }
    });
    Err(IdpError::Unavailable(format!("{operation} is not emulated")))
}

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
        confirm_sign_up(username: &Username, code: &ConfirmationCode, session: Option<&SecretString>) -> Option<SecretString>;
        sign_in(username: &Username, password: &Password) -> SignInOutcome;
        user_auth(request: UserAuth<'_>) -> SignInOutcome;
        refresh(refresh_token: &RefreshToken) -> Tokens;
        global_sign_out(access_token: &AccessToken) -> ();
        get_user(access_token: &AccessToken) -> UserProfile;
        auth_factors(access_token: &AccessToken) -> AuthFactors;
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

    fn pool_issuer(&self) -> String {
        self.0.pool_issuer()
    }

    async fn resend_confirmation_code(&self, _username: &Username) -> Result<Option<CodeDelivery>, IdpError> {
        gap("ResendConfirmationCode")
    }

    async fn revoke_refresh_token(&self, _refresh_token: &RefreshToken) -> Result<(), IdpError> {
        gap("RevokeToken")
    }

    async fn verify_user_attribute(
        &self,
        _access_token: &AccessToken,
        _attribute: &str,
        _code: &ConfirmationCode,
    ) -> Result<(), IdpError> {
        gap("VerifyUserAttribute")
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
        gap("DeleteUser")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_gap_is_noted_for_the_call_it_happened_in_only() {
        let (result, noted) = noting_gaps(async {
            let first: Result<(), IdpError> = gap("DeleteUser");
            let _: Result<(), IdpError> = gap("RevokeToken");
            first
        })
        .await;
        assert!(matches!(result, Err(IdpError::Unavailable(cause)) if cause.contains("DeleteUser")));
        assert_eq!(noted, Some("DeleteUser"), "the first gap is the one named");

        let ((), clean) = noting_gaps(async {}).await;
        assert_eq!(clean, None, "a call without a gap notes nothing");
        assert!(gap::<()>("DeleteUser").is_err(), "outside a call it still fails");
    }
}
