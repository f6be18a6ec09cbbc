//! Which IAM policy a verified caller gets, one concern a file:
//!
//! - `document`: the policy ([`PolicyDocument`]), its JSON both ways, and API Gateway's
//!   evaluation of it;
//! - `builder`: allows and denies per verb and path for one API and stage;
//! - `caller`: the caller's policy, exact for the requested route and safe to cache for the
//!   others ([`caller_policy`]);
//! - `overlaps`: where that costs a false 403 on a cached call ([`overlap_warnings`]);
//! - `rendered` and `cache`: the policy written once as JSON and reused across callers with
//!   the same permissions.

mod builder;
mod cache;
mod caller;
mod document;
mod overlaps;
mod rendered;

#[cfg(test)]
pub(crate) use cache::POLICY_CACHE_ENTRIES;
pub(crate) use cache::Policies;
pub use caller::caller_policy;
pub use document::{Effect, PolicyDocument, Statement};
pub use overlaps::overlap_warnings;
pub use rendered::RenderedPolicy;

/// A policy that cannot be written: a bug, never the caller's doing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Whitespace or control characters in a rule's path.
    #[error("resource path contains whitespace or control characters")]
    InvalidPath,
    /// The JSON could not be written.
    #[error("cannot write the policy: {0}")]
    Unwritable(String),
}
