//! The local stack behind `make dev` and the end-to-end tests.
//!
//! - [`authorizer`]: the Lambda authorizer applied to protected routes as API Gateway does.
//! - [`emulator`]: starts moto's server (the local Cognito) on loopback and stops it on drop.
//! - [`cognito_standin`]: Cognito's JSON protocol on loopback in front of the emulator, for
//!   the calls Cognito has and the emulator lacks (refresh-token rotation, choice-based
//!   sign-in and one-time codes, sign-up without a password).
//! - [`outbox`]: the codes the Cognito stand-in "sends", served at `GET /_local/outbox`.
//! - [`emulated_cognito`]: the Cognito client the functions use locally, saying which calls
//!   neither has.
//! - [`oauth_standin`]: the pool domain's `/oauth2/*` endpoints and login page, which the
//!   emulator lacks.
//! - [`seed`]: creates the user pool, app client, groups and demo user.
//! - [`routes`]: which route goes to which function.
//! - [`gateway`]: an HTTP server that turns each request into the API Gateway event the Lambda
//!   would receive and calls the same handler function.
//! - [`stack`]: all of the above started and stopped together.

pub mod authorizer;
pub mod cognito_standin;
pub mod emulated_cognito;
pub mod emulator;
pub mod gateway;
pub mod oauth_standin;
pub mod outbox;
pub mod problems;
pub mod routes;
pub mod seed;
mod serve;
pub mod stack;
pub mod template;

pub use stack::{LocalStack, LocalStackOptions};
