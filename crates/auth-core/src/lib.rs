//! Shared core of the auth functions.
//!
//! - [`config`]: environment lookups that fail fast with the variable's name.
//! - [`error`]: the one error model ([`ApiError`]) and its mapping to RFC 9457 problem+json.
//! - [`request`]: JSON body and bearer-token extraction with per-field errors.
//! - [`validation`]: validated newtypes for every input.
//! - [`logging`]: tracing set-up in the Lambda convention.

pub mod config;
pub mod error;
pub mod logging;
pub mod request;
pub mod response;
pub mod validation;

pub mod authorizer;
pub mod guard;
pub mod jwt;
pub mod policy;
pub mod rules;

pub use error::{ApiError, FieldError};
