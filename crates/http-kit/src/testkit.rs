//! For tests of other crates, behind the `testkit` feature: one [`ApiError`] of every kind, so a
//! test can hold the documentation and the OpenAPI document to the error table.

use crate::error::{ApiError, FieldError};

/// One error of every variant, in declaration order.
pub fn every_error() -> Vec<ApiError> {
    let cause = || "cause".to_owned();
    vec![
        ApiError::Validation(vec![FieldError::new("username", "is required")]),
        ApiError::InvalidParameter,
        ApiError::InvalidPassword {
            detail: "too short".into(),
        },
        ApiError::SignInMethodUnavailable { method: "email-otp" },
        ApiError::CodeMismatch,
        ApiError::ExpiredCode,
        ApiError::InvalidCredentials,
        ApiError::Unauthorized {
            detail: "no token".into(),
        },
        ApiError::RecentAuthenticationRequired { max_age: 300 },
        ApiError::InvalidOAuthState,
        ApiError::OAuthDenied {
            provider_error: "access_denied".into(),
        },
        ApiError::InvalidGrant,
        ApiError::InsufficientScope {
            scope: "openid",
            hint: "use /auth/me",
        },
        ApiError::SessionExpired,
        ApiError::RefreshTokenReused,
        ApiError::UserNotConfirmed,
        ApiError::PasswordResetRequired,
        ApiError::Forbidden(Vec::new()),
        ApiError::UserNotFound,
        ApiError::GroupNotFound,
        ApiError::AlreadyConfirmed,
        ApiError::SelfLockout,
        ApiError::UsernameExists,
        ApiError::AliasExists,
        ApiError::PayloadTooLarge { limit: 16_384 },
        ApiError::UnsupportedMediaType,
        ApiError::TooManyRequests,
        ApiError::TriggerFailed { cause: cause() },
        ApiError::CodeDeliveryFailed { cause: cause() },
        ApiError::RevocationUnavailable { cause: cause() },
        ApiError::PoolConfigurationUnsafe { cause: cause() },
        ApiError::IdentityProviderMisconfigured { cause: cause() },
        ApiError::Unavailable { cause: cause() },
        ApiError::Internal { cause: cause() },
    ]
}

/// The variant's position in [`every_error`]: a new variant does not compile until it has one,
/// and the test below fails until the list holds it there.
#[cfg(test)]
fn position(error: &ApiError) -> usize {
    match error {
        ApiError::Validation(_) => 0,
        ApiError::InvalidParameter => 1,
        ApiError::InvalidPassword { .. } => 2,
        ApiError::SignInMethodUnavailable { .. } => 3,
        ApiError::CodeMismatch => 4,
        ApiError::ExpiredCode => 5,
        ApiError::InvalidCredentials => 6,
        ApiError::Unauthorized { .. } => 7,
        ApiError::RecentAuthenticationRequired { .. } => 8,
        ApiError::InvalidOAuthState => 9,
        ApiError::OAuthDenied { .. } => 10,
        ApiError::InvalidGrant => 11,
        ApiError::InsufficientScope { .. } => 12,
        ApiError::SessionExpired => 13,
        ApiError::RefreshTokenReused => 14,
        ApiError::UserNotConfirmed => 15,
        ApiError::PasswordResetRequired => 16,
        ApiError::Forbidden(_) => 17,
        ApiError::UserNotFound => 18,
        ApiError::GroupNotFound => 19,
        ApiError::AlreadyConfirmed => 20,
        ApiError::SelfLockout => 21,
        ApiError::UsernameExists => 22,
        ApiError::AliasExists => 23,
        ApiError::PayloadTooLarge { .. } => 24,
        ApiError::UnsupportedMediaType => 25,
        ApiError::TooManyRequests => 26,
        ApiError::TriggerFailed { .. } => 27,
        ApiError::CodeDeliveryFailed { .. } => 28,
        ApiError::RevocationUnavailable { .. } => 29,
        ApiError::PoolConfigurationUnsafe { .. } => 30,
        ApiError::IdentityProviderMisconfigured { .. } => 31,
        ApiError::Unavailable { .. } => 32,
        ApiError::Internal { .. } => 33,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_error_holds_each_variant_once() {
        let errors = every_error();
        for (i, e) in errors.iter().enumerate() {
            assert_eq!(position(e), i, "{e:?} is out of place");
        }
        let highest = errors.iter().map(position).max().unwrap_or_default();
        assert_eq!(errors.len(), highest + 1);
        let codes: HashSet<_> = errors.iter().map(ApiError::code).collect();
        assert_eq!(codes.len(), errors.len(), "one code per variant");
    }
}
