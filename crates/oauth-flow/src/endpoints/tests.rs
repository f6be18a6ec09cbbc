//! The endpoints' client against a local HTTP double that answers as Cognito's token and
//! userInfo endpoints do (their documented bodies, statuses and headers), recording what it was
//! sent.

use tokio::net::TcpListener;

use super::*;
use crate::test_double::{answer, double};

fn tokens_json() -> &'static str {
    r#"{"id_token":"id.jwt","access_token":"access.jwt","refresh_token":"refresh","expires_in":3600,"token_type":"Bearer"}"#
}

fn verifier() -> CodeVerifier {
    CodeVerifier::try_from("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_owned()).unwrap()
}

fn code() -> SecretString {
    SecretString::from("code-123".to_owned())
}

#[tokio::test]
async fn the_exchange_posts_the_documented_form_and_reads_the_tokens() {
    let (base, seen) = double(vec![answer(
        "200 OK",
        &["Content-Type: application/json"],
        tokens_json(),
    )])
    .await;
    let domain = CognitoDomain::new(&base, "client-1", None).unwrap();
    let tokens = domain
        .exchange_code(&code(), "https://api.example/auth/oauth/callback", &verifier())
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "access.jwt");
    assert_eq!(tokens.id_token.as_ref().map(|t| t.expose_secret()), Some("id.jwt"));
    assert_eq!((tokens.expires_in, tokens.token_type.as_str()), (3600, "Bearer"));
    let request = seen.lock().unwrap()[0].clone();
    assert!(
        request.head.starts_with("POST /oauth2/token HTTP/1.1"),
        "{}",
        request.head
    );
    assert_eq!(
        request.header("content-type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        request.header("authorization"),
        None,
        "no secret, no client authentication"
    );
    assert_eq!(
        request.form(),
        [
            ("grant_type", "authorization_code"),
            ("client_id", "client-1"),
            ("code", "code-123"),
            ("redirect_uri", "https://api.example/auth/oauth/callback"),
            ("code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
}

#[tokio::test]
async fn a_client_with_a_secret_authenticates_with_http_basic() {
    let (base, seen) = double(vec![answer("200 OK", &[], tokens_json())]).await;
    let domain = CognitoDomain::new(&base, "client-1", Some(SecretString::from("s3cr3t".to_owned()))).unwrap();
    domain
        .exchange_code(&code(), "https://x/cb", &verifier())
        .await
        .unwrap();
    let request = seen.lock().unwrap()[0].clone();
    assert_eq!(
        request.header("authorization").as_deref(),
        Some(format!("Basic {}", STANDARD.encode("client-1:s3cr3t")).as_str())
    );
    assert!(!request.body.contains("s3cr3t"), "the secret is not in the form");
}

#[tokio::test]
async fn cognitos_error_bodies_become_refusals_with_their_code() {
    for error in [
        "invalid_grant",
        "invalid_client",
        "unauthorized_client",
        "invalid_request",
        "unsupported_grant_type",
    ] {
        let body = format!(r#"{{"error":"{error}"}}"#);
        let (base, _) = double(vec![answer(
            "400 Bad Request",
            &["Content-Type: application/json"],
            &body,
        )])
        .await;
        let domain = CognitoDomain::new(&base, "client-1", None).unwrap();
        let err = domain
            .exchange_code(&code(), "https://x/cb", &verifier())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            EndpointError::Refused {
                status: 400,
                error: error.to_owned()
            }
        );
    }
    // RFC 6749 allows 401 for invalid_client.
    let (base, _) = double(vec![answer("401 Unauthorized", &[], r#"{"error":"invalid_client"}"#)]).await;
    let domain = CognitoDomain::new(&base, "client-1", None).unwrap();
    assert_eq!(
        domain
            .exchange_code(&code(), "https://x/cb", &verifier())
            .await
            .unwrap_err(),
        EndpointError::Refused {
            status: 401,
            error: "invalid_client".into()
        }
    );
}

#[tokio::test]
async fn outages_are_unavailable_and_nonsense_is_unexpected() {
    let (base, _) = double(vec![
        answer("503 Service Unavailable", &[], ""),
        answer("500 Internal Server Error", &[], r#"{"error":"server_error"}"#),
        answer("200 OK", &[], "<html>not json</html>"),
    ])
    .await;
    let domain = CognitoDomain::new(&base, "client-1", None).unwrap();
    for _ in 0..2 {
        let err = domain
            .exchange_code(&code(), "https://x/cb", &verifier())
            .await
            .unwrap_err();
        assert!(matches!(err, EndpointError::Unavailable(_)), "{err:?}");
    }
    let err = domain
        .exchange_code(&code(), "https://x/cb", &verifier())
        .await
        .unwrap_err();
    assert!(matches!(err, EndpointError::Unexpected(_)), "{err:?}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let domain = CognitoDomain::new(&format!("http://{addr}"), "client-1", None).unwrap();
    let err = domain
        .exchange_code(&code(), "https://x/cb", &verifier())
        .await
        .unwrap_err();
    assert!(matches!(err, EndpointError::Unavailable(_)), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn a_silent_endpoint_is_unavailable_after_the_time_out() {
    // Accepts and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _held = listener.accept().await;
        std::future::pending::<()>().await;
    });
    let domain = CognitoDomain::new(&base, "client-1", None).unwrap();
    let err = domain
        .exchange_code(&code(), "https://x/cb", &verifier())
        .await
        .unwrap_err();
    assert!(
        matches!(err, EndpointError::Unavailable(ref m) if m.contains("within")),
        "{err:?}"
    );
}

#[tokio::test]
async fn user_info_sends_the_bearer_and_reads_the_claims_or_the_challenge() {
    let (base, seen) = double(vec![
        answer("200 OK", &[], r#"{"sub":"s-1","email":"ada@example.com","email_verified":"true","username":"ada"}"#),
        answer(
            "401 Unauthorized",
            &[r#"WWW-Authenticate: Bearer error="invalid_token", error_description="Access token is expired, disabled, or deleted, or the user has globally signed out.""#],
            "",
        ),
        answer("400 Bad Request", &[r#"WWW-Authenticate: error="invalid_request""#], r#"{"error":"invalid_request"}"#),
    ])
    .await;
    let domain = CognitoDomain::new(&base, "client-1", None).unwrap();
    let claims = domain.user_info("access.jwt").await.unwrap();
    assert_eq!(claims["email"], "ada@example.com");
    let request = seen.lock().unwrap()[0].clone();
    assert!(request.head.starts_with("GET /oauth2/userInfo HTTP/1.1"));
    assert_eq!(request.header("authorization").as_deref(), Some("Bearer access.jwt"));
    assert_eq!(
        domain.user_info("a.b.c").await.unwrap_err(),
        EndpointError::Refused {
            status: 401,
            error: "invalid_token".into()
        }
    );
    assert_eq!(
        domain.user_info("a.b.c").await.unwrap_err(),
        EndpointError::Refused {
            status: 400,
            error: "invalid_request".into()
        }
    );
}

#[test]
fn browser_urls_carry_the_documented_parameters() {
    let domain = CognitoDomain::new("https://auth.example.com/", "client 1", None).unwrap();
    let url = domain.authorize_url("https://api.example/cb", "openid email", "st", "ch");
    assert_eq!(
        url,
        "https://auth.example.com/oauth2/authorize?response_type=code&client_id=client+1&redirect_uri=https%3A%2F%2Fapi.example%2Fcb&scope=openid+email&state=st&code_challenge_method=S256&code_challenge=ch"
    );
    assert_eq!(
        domain.logout_url("https://app.example/signed-out"),
        "https://auth.example.com/logout?client_id=client+1&logout_uri=https%3A%2F%2Fapp.example%2Fsigned-out"
    );
}
