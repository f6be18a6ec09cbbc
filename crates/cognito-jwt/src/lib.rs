//! Verification of Amazon Cognito JWTs (access and ID tokens), with no AWS SDK and no HTTP
//! framework: the authorizer and the OAuth callback use this one verifier.
//!
//! RS256 only, with keys from the configured JWKS, parsed once per JWKS load. Modelled on
//! awslabs/aws-jwt-verify (hydrate at init, refetch on an unknown `kid` at most once per back-off
//! window, merged concurrent fetches) and stricter: `crit` is rejected, `jku`/`x5u`/`jwk` are
//! never followed, tokens over 8 KiB are refused unparsed, keys age out, and weak keys are ignored.
//!
//! - [`Verifier`]: the checks, in order: size, structure, header (`crit`, `alg`, `kid`), claims
//!   (`iss` → pool, `token_use`, `client_id`/`aud`, `exp`, `nbf`, `iat`, `sub`), then the key and
//!   the signature. Optionally backed by a verified-token cache. A [`VerifiedToken`] carries
//!   the claims its users read; what they mean (roles, teams) is decided by its users.
//! - [`JwksCache`] behind the [`JwksFetcher`] port; [`HttpJwksFetcher`] is the real one.
//!
//! The signature check calls aws-lc-rs directly rather than through jsonwebtoken, whose RS256
//! verification rebuilds the RSA key from `n` and `e` on every call (see BENCHMARKS.md).
//!
//! ```
//! use std::sync::Arc;
//! use cognito_jwt::{BoxFuture, FetchError, JwksFetcher, Verifier, VerifierConfig};
//!
//! /// A static JWKS (the Lambda uses `HttpJwksFetcher`, which fetches the pool's over HTTPS).
//! struct StaticJwks;
//! impl JwksFetcher for StaticJwks {
//!     fn fetch<'a>(&'a self, _url: &'a str, _max: usize) -> BoxFuture<'a, Result<Vec<u8>, FetchError>> {
//!         Box::pin(async { Ok(include_bytes!("../tests/fixtures/example-jwks.json").to_vec()) })
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example";
//! let jwks_url = format!("{issuer}/.well-known/jwks.json");
//! let verifier = Verifier::new(VerifierConfig::single_pool(issuer, &jwks_url, &["example-client"]), Arc::new(StaticJwks));
//! verifier.hydrate().await.unwrap();
//!
//! // An access token for `ada`, issued at 1_900_000_000 for an hour.
//! let token = include_str!("../tests/fixtures/example-access-token.txt").trim();
//! let verified = verifier.verify_at(token, 1_900_000_100).await.unwrap();
//! assert_eq!(verified.username.as_deref(), Some("ada"));
//! assert_eq!(verified.groups, ["admin"]);
//! assert!(verifier.verify_at(token, 1_900_007_200).await.is_err(), "expired an hour later");
//! # });
//! ```

mod fetch;
mod header;
mod jwks;
mod token_cache;
mod verifier;

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

pub use auth_contract::token::MAX_TOKEN_BYTES;
pub use fetch::HttpJwksFetcher;
pub use jwks::{BoxFuture, FetchError, JwksCache, JwksError, JwksFetcher, JwksSettings, MAX_RSA_BITS, MIN_RSA_BITS};
pub use verifier::{PoolConfig, VerifiedToken, Verifier, VerifierConfig, unix_now};

/// Which Cognito token the API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenUse {
    /// Access tokens (`token_use: access`, the client in `client_id`).
    #[default]
    Access,
    /// ID tokens (`token_use: id`, the client in `aud`).
    Id,
}

impl TokenUse {
    /// `access` or `id`, as in the claim.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenUse::Access => "access",
            TokenUse::Id => "id",
        }
    }
}

impl fmt::Display for TokenUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenUse {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "access" => Ok(TokenUse::Access),
            "id" => Ok(TokenUse::Id),
            other => Err(format!("expected `access` or `id`, got `{other}`")),
        }
    }
}

/// Why a token was refused. [`VerifyError::reason`] is the stable code logged for each denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Larger than [`MAX_TOKEN_BYTES`].
    #[error("token larger than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    /// Token is not a well-formed JWS.
    #[error("token is not a well-formed JWS")]
    Malformed,
    /// Alg is not RS256.
    #[error("alg is not RS256")]
    UnsupportedAlg,
    /// Crit header present.
    #[error("crit header present")]
    CritHeader,
    /// No kid in header.
    #[error("no kid in header")]
    MissingKid,
    /// Kid not in the JWKS.
    #[error("kid not in the JWKS")]
    UnknownKid,
    /// Signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// Issuer not accepted.
    #[error("issuer not accepted")]
    WrongIssuer,
    /// Token_use not accepted.
    #[error("token_use not accepted")]
    WrongTokenUse,
    /// Client not accepted.
    #[error("client not accepted")]
    WrongClient,
    /// No exp claim.
    #[error("no exp claim")]
    MissingExp,
    /// Token expired.
    #[error("token expired")]
    Expired,
    /// Token not valid yet (nbf).
    #[error("token not valid yet (nbf)")]
    NotYetValid,
    /// Token issued in the future (iat).
    #[error("token issued in the future (iat)")]
    IssuedInFuture,
    /// No sub claim.
    #[error("no sub claim")]
    MissingSub,
    /// No keys to check against (nothing cached and the JWKS cannot be fetched): a server
    /// problem, never a reason to allow.
    #[error("JWKS unavailable")]
    JwksUnavailable,
}

impl VerifyError {
    /// The stable reason code logged for a denial.
    pub fn reason(self) -> &'static str {
        match self {
            VerifyError::TooLarge => "token_too_large",
            VerifyError::Malformed => "malformed_token",
            VerifyError::UnsupportedAlg => "unsupported_alg",
            VerifyError::CritHeader => "crit_header",
            VerifyError::MissingKid => "missing_kid",
            VerifyError::UnknownKid => "unknown_kid",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::WrongIssuer => "wrong_issuer",
            VerifyError::WrongTokenUse => "wrong_token_use",
            VerifyError::WrongClient => "wrong_client",
            VerifyError::MissingExp => "missing_exp",
            VerifyError::Expired => "token_expired",
            VerifyError::NotYetValid => "token_not_yet_valid",
            VerifyError::IssuedInFuture => "token_issued_in_future",
            VerifyError::MissingSub => "missing_sub",
            VerifyError::JwksUnavailable => "jwks_unavailable",
        }
    }

    /// True when the failure is ours (500), not the caller's (401).
    pub fn is_server_error(self) -> bool {
        self == VerifyError::JwksUnavailable
    }
}
