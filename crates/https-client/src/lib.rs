//! The HTTPS client behind this project's own calls: the JWKS fetch (`cognito-jwt`), the
//! revocation store (`revocation-store`) and the pool domain's OAuth endpoints (`oauth-flow`).
//!
//! One place decides how they connect: rustls on aws-lc (the crypto the AWS SDK already
//! links, named explicitly so another crate's rustls features cannot make the choice
//! ambiguous), HTTP/1.1, and Mozilla's root certificates compiled in (`webpki-roots`), because
//! reading the system's bundle costs 2–3 ms of every cold start (BENCHMARKS.md, "Where init
//! time goes"). Plain `http://` URLs are allowed too: the local stack and the tests speak it.
//!
//! ```
//! use http_body_util::Empty;
//! use hyper::body::Bytes;
//!
//! # fn main() -> Result<(), https_client::TlsSetupError> {
//! let client: https_client::HttpsClient<Empty<Bytes>> = https_client::client()?;
//! # drop(client);
//! # Ok(())
//! # }
//! ```

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A pooled HTTP/1.1 client over rustls, for request bodies of type `B`.
pub type HttpsClient<B> = Client<HttpsConnector<HttpConnector>, B>;

/// Why the client could not be built (aws-lc refused the protocol versions asked for).
#[derive(Debug)]
pub struct TlsSetupError(rustls::Error);

impl std::fmt::Display for TlsSetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TLS set-up failed: {}", self.0)
    }
}

impl std::error::Error for TlsSetupError {}

/// The client, its connection pool empty: it connects on the first request.
pub fn client<B>() -> Result<HttpsClient<B>, TlsSetupError>
where
    B: hyper::body::Body + Send,
    B::Data: Send,
{
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(TlsSetupError)?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}
