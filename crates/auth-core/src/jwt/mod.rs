//! Cognito JWT verification.
//!
//! RS256 only, with keys from the configured JWKS, parsed once per JWKS load. Modelled on
//! awslabs/aws-jwt-verify (hydrate at init, refetch on an unknown `kid` at most once per back-off
//! window, merged concurrent fetches) and stricter: `crit` is rejected, `jku`/`x5u`/`jwk` are
//! never followed, tokens over 8 KiB are refused unparsed, keys age out, and weak keys are ignored.
//!
//! - [`Verifier`]: the checks, in order: size, structure, header (`crit`, `alg`, `kid`), claims
//!   (`iss` → pool, `token_use`, `client_id`/`aud`, `exp`, `nbf`, `iat`, `sub`), then the key and
//!   the signature. Optionally backed by a [`VerifiedTokenCache`].
//! - [`JwksCache`] behind the [`JwksFetcher`] port; [`HttpJwksFetcher`] is the real one.
//!
//! The signature check calls aws-lc-rs directly rather than through jsonwebtoken, whose RS256
//! verification rebuilds the RSA key from `n` and `e` on every call (see BENCHMARKS.md).

mod fetch;
mod jwks;
mod token;
mod token_cache;
mod verifier;

#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

pub use fetch::HttpJwksFetcher;
pub use jwks::{
    BoxFuture, FetchError, JwksCache, JwksError, JwksFetcher, JwksSettings, KeySet, MAX_RSA_BITS, MIN_RSA_BITS, RsaKey,
    SkippedKey, parse_jwks,
};
pub use token::MAX_TOKEN_BYTES;
pub use token_cache::{CacheKey, VerifiedTokenCache};
pub use verifier::{PoolConfig, VerifiedToken, Verifier, VerifierConfig, unix_now};

/// Which Cognito token the API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenUse {
    #[default]
    Access,
    Id,
}

impl TokenUse {
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
    #[error("token larger than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    #[error("token is not a well-formed JWS")]
    Malformed,
    #[error("alg is not RS256")]
    UnsupportedAlg,
    #[error("crit header present")]
    CritHeader,
    #[error("no kid in header")]
    MissingKid,
    #[error("kid not in the JWKS")]
    UnknownKid,
    #[error("signature does not verify")]
    BadSignature,
    #[error("issuer not accepted")]
    WrongIssuer,
    #[error("token_use not accepted")]
    WrongTokenUse,
    #[error("client not accepted")]
    WrongClient,
    #[error("no exp claim")]
    MissingExp,
    #[error("token expired")]
    Expired,
    #[error("token not valid yet (nbf)")]
    NotYetValid,
    #[error("token issued in the future (iat)")]
    IssuedInFuture,
    #[error("no sub claim")]
    MissingSub,
    /// No keys to check against (nothing cached and the JWKS cannot be fetched): a server
    /// problem, never a reason to allow.
    #[error("JWKS unavailable")]
    JwksUnavailable,
}

impl VerifyError {
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
