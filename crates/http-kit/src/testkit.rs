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
        ApiError::CodeMismatch => 3,
        ApiError::ExpiredCode => 4,
        ApiError::InvalidCredentials => 5,
        ApiError::Unauthorized { .. } => 6,
        ApiError::RecentAuthenticationRequired { .. } => 7,
        ApiError::InvalidOAuthState => 8,
        ApiError::OAuthDenied { .. } => 9,
        ApiError::InvalidGrant => 10,
        ApiError::InsufficientScope { .. } => 11,
        ApiError::SessionExpired => 12,
        ApiError::RefreshTokenReused => 13,
        ApiError::UserNotConfirmed => 14,
        ApiError::PasswordResetRequired => 15,
        ApiError::Forbidden(_) => 16,
        ApiError::UserNotFound => 17,
        ApiError::GroupNotFound => 18,
        ApiError::AlreadyConfirmed => 19,
        ApiError::SelfLockout => 20,
        ApiError::UsernameExists => 21,
        ApiError::AliasExists => 22,
        ApiError::PayloadTooLarge { .. } => 23,
        ApiError::UnsupportedMediaType => 24,
        ApiError::TooManyRequests => 25,
        ApiError::TriggerFailed { .. } => 26,
        ApiError::CodeDeliveryFailed { .. } => 27,
        ApiError::RevocationUnavailable { .. } => 28,
        ApiError::PoolConfigurationUnsafe { .. } => 29,
        ApiError::IdentityProviderMisconfigured { .. } => 30,
        ApiError::Unavailable { .. } => 31,
        ApiError::Internal { .. } => 32,
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
