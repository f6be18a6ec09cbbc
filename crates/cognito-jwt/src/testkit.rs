//! Test support (feature `testkit`, for tests only): RSA keys generated once per process,
//! JWKS documents, Cognito-shaped token minting and a scripted fake fetcher.

// Test support: a failed set-up should stop the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::{BoxFuture, FetchError, JwksFetcher, JwksSettings, TokenUse, VerifierConfig};

pub const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool";
pub const JWKS_URL: &str = "http://127.0.0.1:5000/eu-west-1_TestPool/.well-known/jwks.json";
pub const CLIENT: &str = "client-one";
pub const OTHER_ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other";
pub const OTHER_JWKS_URL: &str = "http://127.0.0.1:5000/eu-west-1_Other/.well-known/jwks.json";
pub const OTHER_CLIENT: &str = "client-other";
/// A fixed "now" for claims, Unix seconds.
pub const NOW: u64 = 1_900_000_000;

pub struct TestKey {
    pub kid: String,
    pair: KeyPair,
}

impl TestKey {
    pub fn components(&self) -> (Vec<u8>, Vec<u8>) {
        let c: PublicKeyComponents<Vec<u8>> = self.pair.public_key().into();
        (c.n, c.e)
    }

    pub fn jwk(&self) -> Value {
        let (n, e) = self.components();
        json!({
            "kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(n), "e": URL_SAFE_NO_PAD.encode(e),
        })
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut sig)
            .expect("sign");
        sig
    }
}

/// Three 2048-bit keys, generated once per test binary (RSA key generation is slow).
pub fn key(i: usize) -> &'static TestKey {
    static KEYS: OnceLock<Vec<TestKey>> = OnceLock::new();
    &KEYS.get_or_init(|| {
        (0..3)
            .map(|i| TestKey {
                kid: format!("kid-{i}"),
                pair: KeyPair::generate(KeySize::Rsa2048).expect("keygen"),
            })
            .collect()
    })[i]
}

pub fn jwks_doc(jwks: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "keys": jwks })).expect("json")
}

pub fn jwks_of(keys: &[&TestKey]) -> Vec<u8> {
    jwks_doc(&keys.iter().map(|k| k.jwk()).collect::<Vec<_>>())
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs exactly the given header and payload texts.
pub fn mint_raw(key: &TestKey, header: &str, payload: &str) -> String {
    let signed = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let sig = key.sign(signed.as_bytes());
    format!("{signed}.{}", b64(&sig))
}

pub fn header_for(key: &TestKey) -> Value {
    json!({ "alg": "RS256", "kid": key.kid })
}

pub fn mint(key: &TestKey, claims: &Value) -> String {
    mint_raw(key, &header_for(key).to_string(), &claims.to_string())
}

/// Valid access-token claims at [`NOW`], shaped like Cognito's.
pub fn access_claims() -> Value {
    json!({
        "sub": "6f1c2d3e-0000-4000-8000-000000000001",
        "iss": ISSUER,
        "client_id": CLIENT,
        "origin_jti": "o", "event_id": "e",
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin reports/read",
        "auth_time": NOW - 60,
        "exp": NOW + 3600,
        "iat": NOW - 60,
        "jti": "j",
        "username": "alice",
        "cognito:groups": ["admin", "staff"],
        "custom:team": "blue",
    })
}

/// Valid id-token claims at [`NOW`].
pub fn id_claims() -> Value {
    json!({
        "sub": "6f1c2d3e-0000-4000-8000-000000000002",
        "iss": ISSUER,
        "aud": CLIENT,
        "token_use": "id",
        "auth_time": NOW - 60,
        "exp": NOW + 3600,
        "iat": NOW - 60,
        "cognito:username": "bob",
        "email": "bob@example.com",
    })
}

pub fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

pub fn without(mut claims: Value, key: &str) -> Value {
    if let Some(map) = claims.as_object_mut() {
        map.remove(key);
    }
    claims
}

/// Settings with round numbers so tests can step through the windows.
pub fn settings() -> JwksSettings {
    JwksSettings {
        backoff: Duration::from_secs(10),
        max_age: Duration::from_secs(600),
        max_stale: Duration::from_secs(300),
        fetch_timeout: Duration::from_secs(2),
        max_bytes: 16 * 1024,
        max_keys: 8,
    }
}

pub fn config() -> VerifierConfig {
    let mut c = VerifierConfig::single_pool(ISSUER, JWKS_URL, &[CLIENT]);
    c.leeway_seconds = 0;
    c.jwks = settings();
    c
}

pub fn id_config() -> VerifierConfig {
    let mut c = config();
    c.token_use = TokenUse::Id;
    c
}

/// A scripted fetcher: answers per URL, counts calls, optionally takes time.
#[derive(Default)]
pub struct FakeFetcher {
    answers: Mutex<HashMap<String, Result<Vec<u8>, FetchError>>>,
    calls: AtomicUsize,
    delay: Mutex<Duration>,
    requested: Mutex<Vec<String>>,
}

impl FakeFetcher {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn serving(url: &str, body: Vec<u8>) -> Arc<Self> {
        let f = Self::new();
        f.set(url, Ok(body));
        f
    }

    pub fn set(&self, url: &str, answer: Result<Vec<u8>, FetchError>) {
        self.answers.lock().unwrap().insert(url.to_owned(), answer);
    }

    pub fn set_delay(&self, d: Duration) {
        *self.delay.lock().unwrap() = d;
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Every URL asked for, in order.
    pub fn requested(&self) -> Vec<String> {
        self.requested.lock().unwrap().clone()
    }
}

impl JwksFetcher for FakeFetcher {
    fn fetch<'a>(&'a self, url: &'a str, _max_bytes: usize) -> BoxFuture<'a, Result<Vec<u8>, FetchError>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.requested.lock().unwrap().push(url.to_owned());
            let delay = *self.delay.lock().unwrap();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            self.answers
                .lock()
                .unwrap()
                .get(url)
                .cloned()
                .unwrap_or(Err(FetchError::Status(404)))
        })
    }
}
