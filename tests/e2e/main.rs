//! End-to-end tests: real HTTP through the local gateway, real handlers, the local Cognito.
//! One test binary for the whole workspace.

mod account_journey;
mod authorizer_events;
mod bad_input;
mod event_files;
