//! The identity-provider port ([`IdentityProvider`]) and its Amazon Cognito implementation
//! ([`CognitoIdentityProvider`]).
//!
//! Handlers depend on the trait; the Lambda binaries and the local gateway build the Cognito
//! implementation once at cold start.

mod cognito;
mod errors;
mod port;
mod secret_hash;
mod settings;

pub use cognito::CognitoIdentityProvider;
pub use errors::IdpError;
pub use port::{
    CodeDelivery, IdentityProvider, SignInOutcome, SignUpInput, SignUpOutcome, Tokens, UserPage, UserProfile,
    UserSummary,
};
pub use secret_hash::secret_hash;
pub use settings::CognitoSettings;
