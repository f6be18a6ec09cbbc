//! What the authorizer and the account functions must agree on, kept apart from either
//! side's heavy dependencies (no HTTP framework, no AWS SDK, no crypto):
//!
//! - [`bearer`]: the one rule for `Authorization: Bearer <token>`.
//! - [`token`]: the token size limit and the reader of a compact JWS and its claims.
//! - [`context`]: [`AuthorizerContext`], what the authorizer hands to the functions.
//! - [`revocation`]: the records that make a logout reach the authorizer, and their store's
//!   port.
//! - [`config`]: environment lookups, read once at cold start, that fail naming the variable.
//!
//! ```
//! use auth_contract::bearer::bearer_token;
//! use auth_contract::token::{ClaimNames, read_unverified};
//!
//! // A token's claims (here an unsigned example; only read claims of a token that someone
//! // trusted has accepted, or verify it with `cognito-jwt` first).
//! let header = "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1LTEiLCJjb2duaXRvOmdyb3VwcyI6WyJhZG1pbiJdfQ.";
//! let token = bearer_token(header).unwrap();
//! let groups = read_unverified(token, ClaimNames::default(), |claims| {
//!     claims.groups.as_ref().map(|g| g.to_vec()).unwrap_or_default()
//! })
//! .unwrap();
//! assert_eq!(groups, ["admin"]);
//! ```

pub mod bearer;
pub mod config;
pub mod context;
pub mod freshness;
pub mod revocation;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod token;

pub use context::AuthorizerContext;
