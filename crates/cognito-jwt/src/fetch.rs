//! The real JWKS fetcher: one HTTP/1.1 GET over rustls (Cognito) or plain http (an emulator).
//! No redirects are followed; the body is capped while it is read.

use http::header::{ACCEPT, CONTENT_LENGTH, USER_AGENT};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty, Limited};
use https_client::HttpsClient;
use hyper::body::Bytes;

use crate::jwks::{BoxFuture, FetchError, JwksFetcher};

/// Fetches JWKS documents over HTTPS (or plain HTTP, for an emulator on loopback).
pub struct HttpJwksFetcher {
    client: HttpsClient<Empty<Bytes>>,
}

impl HttpJwksFetcher {
    /// Builds the project's HTTPS client (`https-client`: compiled-in roots, rustls on aws-lc).
    pub fn new() -> Result<Self, FetchError> {
        let client = https_client::client().map_err(|e| FetchError::Transport(e.to_string()))?;
        Ok(Self { client })
    }

    async fn get(&self, url: &str, max_bytes: usize) -> Result<Vec<u8>, FetchError> {
        let request = Request::get(url)
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, "cognito-jwt")
            .body(Empty::new())
            .map_err(|e| FetchError::Transport(format!("bad request: {e}")))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| FetchError::Transport(e.to_string()))?;
        if response.status() != StatusCode::OK {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > max_bytes) {
            return Err(FetchError::TooLarge(max_bytes));
        }
        let body = Limited::new(response.into_body(), max_bytes)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    FetchError::TooLarge(max_bytes)
                } else {
                    FetchError::Transport(e.to_string())
                }
            })?;
        Ok(body.to_bytes().to_vec())
    }
}

impl JwksFetcher for HttpJwksFetcher {
    fn fetch<'a>(&'a self, url: &'a str, max_bytes: usize) -> BoxFuture<'a, Result<Vec<u8>, FetchError>> {
        Box::pin(self.get(url, max_bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Serves one canned HTTP response on a local port and returns the URL.
    async fn serve_once(response: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 2048];
            let _ = sock.read(&mut buf).await;
            let _ = sock.write_all(&response).await;
            let _ = sock.shutdown().await;
        });
        format!("http://{addr}/us-east-1_pool/.well-known/jwks.json")
    }

    #[tokio::test]
    async fn fetches_over_plain_http() {
        let body = br#"{"keys":[]}"#;
        let mut resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        resp.extend_from_slice(body);
        let url = serve_once(resp).await;
        let f = HttpJwksFetcher::new().unwrap();
        assert_eq!(f.fetch(&url, 1024).await.unwrap(), body.to_vec());
    }

    #[tokio::test]
    async fn non_200_is_an_error() {
        let url =
            serve_once(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec())
                .await;
        let f = HttpJwksFetcher::new().unwrap();
        assert_eq!(f.fetch(&url, 1024).await, Err(FetchError::Status(503)));
    }

    #[tokio::test]
    async fn declared_oversize_body_is_refused() {
        let url = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n".to_vec()).await;
        let f = HttpJwksFetcher::new().unwrap();
        assert_eq!(f.fetch(&url, 1024).await, Err(FetchError::TooLarge(1024)));
    }

    #[tokio::test]
    async fn undeclared_oversize_body_is_cut_off() {
        let mut resp = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
        resp.extend(std::iter::repeat_n(b'x', 4096));
        let url = serve_once(resp).await;
        let f = HttpJwksFetcher::new().unwrap();
        assert_eq!(f.fetch(&url, 1024).await, Err(FetchError::TooLarge(1024)));
    }

    #[tokio::test]
    async fn https_urls_go_through_tls() {
        // A plain-HTTP server behind an https URL: the TLS handshake must fail, not fall back.
        let url = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"keys\":[]}".to_vec())
            .await
            .replacen("http://", "https://", 1);
        let f = HttpJwksFetcher::new().unwrap();
        let r = f.fetch(&url, 1024).await;
        assert!(matches!(r, Err(FetchError::Transport(_))), "{r:?}");
    }

    #[tokio::test]
    async fn connection_refused_is_a_transport_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let f = HttpJwksFetcher::new().unwrap();
        let r = f.fetch(&format!("http://{addr}/jwks.json"), 1024).await;
        assert!(matches!(r, Err(FetchError::Transport(_))), "{r:?}");
    }
}
