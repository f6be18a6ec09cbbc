//! A policy as JSON text, written once and shared by every caller it fits.

use std::sync::Arc;

use serde::ser::{Serialize, Serializer};
use serde_json::value::RawValue;

use super::PolicyError;
use super::document::PolicyDocument;

/// A `policyDocument` as JSON text, written once by [`PolicyDocument`]'s serializer and then
/// emitted verbatim (no re-validation: serde_json wrote it).
#[derive(Debug, Clone)]
pub struct RenderedPolicy(Arc<RawValue>);

impl RenderedPolicy {
    /// Writes the policy's JSON once.
    pub fn render(policy: &PolicyDocument) -> Result<Self, PolicyError> {
        let raw = serde_json::value::to_raw_value(policy).map_err(|e| PolicyError::Unwritable(e.to_string()))?;
        Ok(Self(Arc::from(raw)))
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for RenderedPolicy {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl Eq for RenderedPolicy {}

impl Serialize for RenderedPolicy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}
