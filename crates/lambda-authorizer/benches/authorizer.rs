//! Authorizer benchmarks: `cargo bench -p lambda-authorizer --bench authorizer`.
//!
//! - `floor_rsa_verify`: aws-lc-rs RSA-2048 PKCS#1 v1.5 SHA-256 verify with a pre-parsed key;
//!   the floor every other figure is compared with.
//! - `verify_token`: full verification, token cache disabled.
//! - `handler_*`: the whole handler as the Lambda binary runs it, event JSON string in, response
//!   JSON string out (cache off): `serde_json::from_str` into the typed `AuthorizerEvent`,
//!   `handle_event`, `serde_json::to_string` of the `AuthorizerResponse`.
//! - `handler_borrowed`: the same with the event's strings borrowed (`BorrowedEvent`), which the
//!   Lambda runtime cannot do (it needs `DeserializeOwned`); shows what the copies cost.
//! - `cache_hit`: a repeated token with the verified-token cache on.
//! - `compare_*`: what the alternatives cost (key rebuilt per call; jsonwebtoken 11).
//!
//! The allocation columns come from divan's AllocProfiler and count Rust allocations only
//! (aws-lc allocates through its own malloc). After the divan table, a second pass prints each
//! case's median time and its ratio to the floor.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cognito_jwt::{
    BoxFuture, FetchError, JwksFetcher, JwksSettings, PoolConfig, TokenUse, Verifier, VerifierConfig, unix_now,
};
use divan::{AllocProfiler, Bencher};
use lambda_authorizer::Rules;
use lambda_authorizer::{AuthorizerConfig, AuthorizerDeps, AuthorizerEvent, BorrowedEvent, ResponseMode, handle_event};
use serde_json::json;

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Bench";
const JWKS_URL: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Bench/.well-known/jwks.json";
const CLIENT: &str = "bench-client";
const API: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod";

struct Fixture {
    n: Vec<u8>,
    e: Vec<u8>,
    parsed: ParsedPublicKey,
    token: String,
    signed_part: Vec<u8>,
    signature: Vec<u8>,
    jwks: Vec<u8>,
    token_event: String,
    request_event: String,
    v2_event: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let c: PublicKeyComponents<Vec<u8>> = pair.public_key().into();
        let jwks = serde_json::to_vec(&json!({"keys": [{
            "kty": "RSA", "kid": "bench-kid", "use": "sig", "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(&c.n), "e": URL_SAFE_NO_PAD.encode(&c.e),
        }]}))
        .unwrap();
        let now = unix_now();
        // A Cognito-shaped access token.
        let claims = json!({
            "sub": "6f1c2d3e-0000-4000-8000-000000000001",
            "cognito:groups": ["admin", "staff"],
            "iss": ISSUER,
            "version": 2,
            "client_id": CLIENT,
            "origin_jti": "9f5c3d1e-1111-4111-8111-111111111111",
            "event_id": "2b7e1d9c-2222-4222-8222-222222222222",
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "auth_time": now,
            "exp": now + 86_400,
            "iat": now,
            "jti": "5a4b3c2d-3333-4333-8333-333333333333",
            "username": "alice",
        });
        let header = json!({"kid": "bench-kid", "alg": "RS256"});
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; pair.public_modulus_len()];
        pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signed.as_bytes(), &mut sig)
            .unwrap();
        let token = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(&sig));
        let parsed = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public_key().as_ref()).unwrap();
        let bearer = format!("Bearer {token}");
        let token_event = json!({"type": "TOKEN", "authorizationToken": bearer, "methodArn": format!("{API}/GET/admin/users")});
        let request_event = json!({
            "type": "REQUEST",
            "methodArn": format!("{API}/GET/admin/users"),
            "resource": "/admin/users", "path": "/admin/users", "httpMethod": "GET",
            "headers": {
                "Accept": "application/json", "Authorization": bearer,
                "Host": "abc123.execute-api.eu-west-1.amazonaws.com", "User-Agent": "curl/8.5.0",
                "X-Amzn-Trace-Id": "Root=1-67891233-abcdef012345678912345678",
                "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https",
            },
            "multiValueHeaders": {
                "Accept": ["application/json"], "Authorization": [bearer],
                "Host": ["abc123.execute-api.eu-west-1.amazonaws.com"], "User-Agent": ["curl/8.5.0"],
                "X-Amzn-Trace-Id": ["Root=1-67891233-abcdef012345678912345678"],
                "X-Forwarded-For": ["203.0.113.7"], "X-Forwarded-Port": ["443"], "X-Forwarded-Proto": ["https"],
            },
            "queryStringParameters": {}, "multiValueQueryStringParameters": {}, "pathParameters": {}, "stageVariables": {},
            "requestContext": {
                "resourceId": "a1b2c3", "resourcePath": "/admin/users", "httpMethod": "GET",
                "extendedRequestId": "Xyz123=", "requestTime": "21/Nov/2026:08:00:00 +0000",
                "path": "/prod/admin/users", "accountId": "123456789012", "protocol": "HTTP/1.1", "stage": "prod",
                "domainPrefix": "abc123", "requestTimeEpoch": 1_795_000_000_000_u64,
                "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                "identity": {"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
                "domainName": "abc123.execute-api.eu-west-1.amazonaws.com", "apiId": "abc123",
            },
        });
        let v2_event = json!({
            "version": "2.0", "type": "REQUEST",
            "routeArn": "arn:aws:execute-api:eu-west-1:123456789012:def456/$default/GET/admin/users",
            "identitySource": [bearer], "routeKey": "GET /admin/users", "rawPath": "/admin/users", "rawQueryString": "",
            "headers": {"accept": "application/json", "authorization": bearer, "host": "def456.execute-api.eu-west-1.amazonaws.com",
                        "user-agent": "curl/8.5.0", "x-forwarded-for": "203.0.113.7"},
            "requestContext": {"accountId": "123456789012", "apiId": "def456", "domainName": "def456.execute-api.eu-west-1.amazonaws.com",
                               "http": {"method": "GET", "path": "/admin/users", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
                               "requestId": "abc=", "routeKey": "GET /admin/users", "stage": "$default", "time": "21/Nov/2026:08:00:00 +0000", "timeEpoch": 1_795_000_000_000_u64},
        });
        Fixture {
            n: c.n,
            e: c.e,
            parsed,
            signed_part: signed.into_bytes(),
            signature: sig,
            token,
            jwks,
            token_event: token_event.to_string(),
            request_event: request_event.to_string(),
            v2_event: v2_event.to_string(),
        }
    })
}

/// Serves the fixture's JWKS; counts nothing, the benches only hydrate once.
struct StaticJwks;

impl JwksFetcher for StaticJwks {
    fn fetch<'a>(&'a self, _url: &'a str, _max: usize) -> BoxFuture<'a, Result<Vec<u8>, FetchError>> {
        Box::pin(async { Ok(fixture().jwks.clone()) })
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

fn pool() -> PoolConfig {
    PoolConfig {
        issuer: ISSUER.into(),
        canonical_issuer: ISSUER.into(),
        jwks_url: JWKS_URL.into(),
        client_ids: vec![CLIENT.into()],
    }
}

fn verifier(cache_size: usize) -> Verifier {
    let mut c = VerifierConfig::single_pool(ISSUER, JWKS_URL, &[CLIENT]);
    c.cache_size = cache_size;
    let v = Verifier::new(c, Arc::new(StaticJwks));
    runtime().block_on(v.hydrate()).unwrap();
    v
}

fn deps() -> &'static AuthorizerDeps {
    static D: OnceLock<AuthorizerDeps> = OnceLock::new();
    D.get_or_init(|| {
        let config = AuthorizerConfig {
            pools: vec![pool()],
            token_use: TokenUse::Access,
            leeway_seconds: 5,
            cache_size: 0,
            jwks: JwksSettings::default(),
            rules: Rules::project_default().unwrap(),
            response: ResponseMode::Policy,
            token_customization: None,
            revocation: lambda_authorizer::RevocationSettings::default(),
        };
        let d = AuthorizerDeps::new(config, Arc::new(StaticJwks));
        runtime().block_on(d.hydrate()).unwrap();
        d
    })
}

/// Polls once: a warm verification never waits (no fetch), so it must be ready immediately.
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("warm path waited"),
    }
}

fn floor_once() {
    let f = fixture();
    assert!(
        f.parsed
            .verify_sig(black_box(&f.signed_part), black_box(&f.signature))
            .is_ok()
    );
}

fn handle_once(event: &str) -> String {
    let ev: AuthorizerEvent = serde_json::from_str(black_box(event)).unwrap();
    let out = ready(handle_event(deps(), &ev)).unwrap();
    serde_json::to_string(&out).unwrap()
}

fn handle_borrowed_once(event: &str) -> String {
    let ev: BorrowedEvent<'_> = serde_json::from_str(black_box(event)).unwrap();
    let out = ready(handle_event(deps(), &ev)).unwrap();
    serde_json::to_string(&out).unwrap()
}

fn event_named(name: &str) -> &'static str {
    let f = fixture();
    match name {
        "token" => &f.token_event,
        "request" => &f.request_event,
        _ => &f.v2_event,
    }
}

#[divan::bench]
fn floor_rsa_verify() {
    floor_once();
}

#[divan::bench]
fn verify_token(bencher: Bencher<'_, '_>) {
    let v = verifier(0);
    let token = &fixture().token;
    bencher.bench(|| ready(v.verify(black_box(token))).unwrap());
}

#[divan::bench]
fn handler_rest_token(bencher: Bencher<'_, '_>) {
    let event = &fixture().token_event;
    bencher.bench(|| handle_once(event));
}

#[divan::bench]
fn handler_rest_request(bencher: Bencher<'_, '_>) {
    let event = &fixture().request_event;
    bencher.bench(|| handle_once(event));
}

#[divan::bench]
fn handler_http_v2(bencher: Bencher<'_, '_>) {
    let event = &fixture().v2_event;
    bencher.bench(|| handle_once(event));
}

#[divan::bench(args = ["token", "request", "v2"])]
fn handler_borrowed(bencher: Bencher<'_, '_>, name: &str) {
    let event = event_named(name);
    bencher.bench(|| handle_borrowed_once(event));
}

#[divan::bench]
fn cache_hit(bencher: Bencher<'_, '_>) {
    let v = verifier(1024);
    let token = &fixture().token;
    ready(v.verify(token)).unwrap();
    bencher.bench(|| ready(v.verify(black_box(token))).unwrap());
}

/// What loading the JWKS costs (done at init and on refresh, never per request): compare its
/// allocations with `verify_token`'s, which are only the caller's claims.
#[divan::bench]
fn jwks_load(bencher: Bencher<'_, '_>) {
    let c = VerifierConfig::single_pool(ISSUER, JWKS_URL, &[CLIENT]);
    // A fetch is bounded by a Tokio timer, so it runs on a runtime (as at cold start).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    bencher.bench(|| {
        let v = Verifier::new(c.clone(), Arc::new(StaticJwks));
        runtime.block_on(v.hydrate()).unwrap();
    });
}

/// The same verify with the key rebuilt from n and e on each call (what jsonwebtoken does).
#[divan::bench]
fn compare_rsa_verify_key_rebuilt() {
    let f = fixture();
    let key = PublicKeyComponents { n: &f.n, e: &f.e };
    assert!(
        key.verify(
            &RSA_PKCS1_2048_8192_SHA256,
            black_box(&f.signed_part),
            black_box(&f.signature)
        )
        .is_ok()
    );
}

#[derive(serde::Deserialize)]
#[allow(dead_code)] // fields are what a caller would read; only decoding is measured
struct JwtClaims {
    sub: String,
    exp: u64,
    client_id: String,
    token_use: String,
}

/// jsonwebtoken 11 (aws_lc_rs) with the key built once, as a caller of its API would.
#[divan::bench]
fn compare_jsonwebtoken_decode(bencher: Bencher<'_, '_>) {
    let f = fixture();
    let key = jsonwebtoken::DecodingKey::from_rsa_raw_components(&f.n, &f.e);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.validate_aud = false;
    bencher.bench(|| jsonwebtoken::decode::<JwtClaims>(black_box(&f.token), &key, &validation).unwrap());
}

/// Median of per-batch means, in nanoseconds.
fn measure(mut f: impl FnMut()) -> f64 {
    const BATCH: u32 = 200;
    for _ in 0..BATCH {
        f();
    }
    let mut means: Vec<f64> = (0..41)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..BATCH {
                f();
            }
            t.elapsed().as_nanos() as f64 / f64::from(BATCH)
        })
        .collect();
    means.sort_by(f64::total_cmp);
    means[means.len() / 2]
}

fn print_ratios() {
    let f = fixture();
    let v = verifier(0);
    let cached = verifier(1024);
    ready(cached.verify(&f.token)).unwrap();
    let key = jsonwebtoken::DecodingKey::from_rsa_raw_components(&f.n, &f.e);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.validate_aud = false;

    let floor = measure(floor_once);
    let cases: Vec<(&str, f64)> = vec![
        (
            "verify_token",
            measure(|| drop(black_box(ready(v.verify(&f.token)).unwrap()))),
        ),
        (
            "handler_rest_token",
            measure(|| drop(black_box(handle_once(&f.token_event)))),
        ),
        (
            "handler_rest_request",
            measure(|| drop(black_box(handle_once(&f.request_event)))),
        ),
        ("handler_http_v2", measure(|| drop(black_box(handle_once(&f.v2_event))))),
        (
            "handler_borrowed_rest_token",
            measure(|| drop(black_box(handle_borrowed_once(&f.token_event)))),
        ),
        (
            "handler_borrowed_rest_request",
            measure(|| drop(black_box(handle_borrowed_once(&f.request_event)))),
        ),
        (
            "handler_borrowed_http_v2",
            measure(|| drop(black_box(handle_borrowed_once(&f.v2_event)))),
        ),
        (
            "cache_hit",
            measure(|| drop(black_box(ready(cached.verify(&f.token)).unwrap()))),
        ),
        (
            "compare_rsa_verify_key_rebuilt",
            measure(|| {
                let k = PublicKeyComponents { n: &f.n, e: &f.e };
                assert!(
                    k.verify(&RSA_PKCS1_2048_8192_SHA256, &f.signed_part, &f.signature)
                        .is_ok()
                );
            }),
        ),
        (
            "compare_jsonwebtoken_decode",
            measure(|| {
                drop(black_box(
                    jsonwebtoken::decode::<JwtClaims>(&f.token, &key, &validation).unwrap(),
                ))
            }),
        ),
    ];
    println!("\nMedian time per call and ratio to the floor (floor_rsa_verify = {floor:.0} ns):");
    for (name, ns) in cases {
        let ratio = ns / floor;
        println!("  {name:<32} {:>9.0} ns   {ratio:>6.3}x floor", ns);
    }
}

fn main() {
    divan::main();
    // With a filter (or any option value) only the divan table is wanted, e.g. under a profiler.
    if std::env::args().skip(1).all(|a| a.starts_with('-')) {
        print_ratios();
    }
}
