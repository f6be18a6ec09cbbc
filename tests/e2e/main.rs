//! End-to-end tests: real HTTP through the local gateway, real handlers, the local Cognito.
//! One test binary for the whole workspace.

// Helpers shared by the tests fail the test loudly, as the tests themselves do.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod account_journey;
mod admin_journey;
mod authorizer_events;
mod bad_input;
mod choice_sign_in;
mod dependency_boundaries;
mod event_files;
mod faults;
mod lifecycle;
mod oauth;
mod recent_auth;
mod revocation;
mod rotation;
mod secret_logs;
mod sessions;
mod trigger_events;
