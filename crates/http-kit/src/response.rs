//! Success responses.

use http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::ApiError;

/// A JSON response with the given status, never cached (token-bearing answers must never sit
/// in a shared cache).
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Response<Body>, ApiError> {
    let body = serde_json::to_string(value).map_err(ApiError::internal)?;
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The body of every answer that issues tokens (sign-in, a challenge answered, refresh, the
/// OAuth code exchange): `{accessToken, idToken, refreshToken?, expiresIn, tokenType}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokensBody<'a> {
    /// The access token.
    pub access_token: &'a str,
    /// The ID token.
    pub id_token: &'a str,
    /// The refresh token, when one was issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<&'a str>,
    /// Seconds the access token is valid.
    pub expires_in: i64,
    /// `Bearer`.
    pub token_type: &'a str,
}

/// A 302 to `location`, never cached, with these `Set-Cookie` headers.
pub fn redirect(location: &str, cookies: &[String]) -> Result<Response<Body>, ApiError> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::FOUND;
    let headers = response.headers_mut();
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(location)
            .map_err(|_| ApiError::internal("a redirect location that is not a header value"))?,
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for cookie in cookies {
        headers.append(
            header::SET_COOKIE,
            HeaderValue::from_str(cookie).map_err(|_| ApiError::internal("a cookie that is not a header value"))?,
        );
    }
    Ok(response)
}

/// 204 with no body.
pub fn no_content() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}
