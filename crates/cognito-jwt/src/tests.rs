//! Verifier and JWKS cache behaviour, driven through the fake fetcher.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::jwks::{RsaKey, parse_jwks};
use super::testkit::*;
use super::*;

fn verifier_with(config: VerifierConfig, fetcher: Arc<FakeFetcher>) -> Verifier {
    Verifier::new(config, fetcher)
}

async fn hydrated(config: VerifierConfig, keys: &[&TestKey]) -> (Verifier, Arc<FakeFetcher>) {
    let f = FakeFetcher::serving(JWKS_URL, jwks_of(keys));
    let v = verifier_with(config, f.clone());
    v.hydrate().await.unwrap();
    (v, f)
}

async fn standard() -> (Verifier, Arc<FakeFetcher>) {
    hydrated(config(), &[key(0), key(1)]).await
}

// ---------------------------------------------------------------- accepted tokens

#[tokio::test]
async fn valid_access_token_verifies_and_exposes_its_claims() {
    let (v, f) = standard().await;
    let t = v.verify_at(&mint(key(0), &access_claims()), NOW).await.unwrap();
    assert_eq!(t.sub, "6f1c2d3e-0000-4000-8000-000000000001");
    assert_eq!(t.username.as_deref(), Some("alice"));
    assert_eq!(&*t.client_id, CLIENT);
    assert_eq!(t.token_use, TokenUse::Access);
    assert_eq!(&*t.issuer, ISSUER);
    assert_eq!((t.pool, t.auth_time), (0, Some(NOW - 60)));
    assert_eq!(t.expires_at, NOW + 3600);
    assert_eq!(t.groups, ["admin", "staff"]);
    assert_eq!(t.scopes, ["aws.cognito.signin.user.admin", "reports/read"]);
    assert_eq!(t.issued_at, Some(NOW - 60));
    assert_eq!(t.origin_jti.as_deref(), Some("o"));
    assert!(t.extra_claims.iter().all(Vec::is_empty), "no extra claims asked for");
    // The second key of the set works too, and nothing is fetched after hydration.
    assert!(v.verify_at(&mint(key(1), &access_claims()), NOW).await.is_ok());
    assert_eq!(f.calls(), 1);
}

#[tokio::test]
async fn id_tokens_check_aud_and_read_cognito_username() {
    let (v, _) = hydrated(id_config(), &[key(0)]).await;
    let t = v.verify_at(&mint(key(0), &id_claims()), NOW).await.unwrap();
    assert_eq!(t.username.as_deref(), Some("bob"));
    assert_eq!(&*t.client_id, CLIENT);
    assert_eq!(t.token_use, TokenUse::Id);
    let aud_list = with(id_claims(), "aud", json!(["someone-else", CLIENT]));
    assert_eq!(
        &*v.verify_at(&mint(key(0), &aud_list), NOW).await.unwrap().client_id,
        CLIENT
    );
    let wrong_aud = with(id_claims(), "aud", json!("someone-else"));
    assert_eq!(
        v.verify_at(&mint(key(0), &wrong_aud), NOW).await.err(),
        Some(VerifyError::WrongClient)
    );
    // An id token's client_id claim does not count: aud is what names the client.
    let client_id_only = with(without(id_claims(), "aud"), "client_id", json!(CLIENT));
    assert_eq!(
        v.verify_at(&mint(key(0), &client_id_only), NOW).await.err(),
        Some(VerifyError::WrongClient)
    );
    // An access token is refused by an id-token verifier.
    assert_eq!(
        v.verify_at(&mint(key(0), &access_claims()), NOW).await.err(),
        Some(VerifyError::WrongTokenUse)
    );
}

#[tokio::test]
async fn extra_claims_are_read_in_the_order_asked() {
    let mut c = config();
    c.extra_claims = vec!["custom:role".into(), "custom:squad".into(), "cognito:groups".into()];
    let (v, _) = hydrated(c, &[key(0)]).await;
    let claims = with(
        with(access_claims(), "custom:role", json!("editor,viewer")),
        "custom:squad",
        json!(["red"]),
    );
    let t = v.verify_at(&mint(key(0), &claims), NOW).await.unwrap();
    assert_eq!(t.groups, ["admin", "staff"]);
    assert_eq!(t.extra_claims[0], ["editor", "viewer"]);
    assert_eq!(t.extra_claims[1], ["red"]);
    assert!(t.extra_claims[2].is_empty(), "groups stay in `groups`");
    // custom:team is in the token but was not asked for.
    assert!(t.extra_claims.iter().all(|c| !c.contains(&"blue".to_owned())));
}

#[tokio::test]
async fn tokens_minted_here_are_standard_rs256() {
    // Cross-check the minting helper against jsonwebtoken, so the tests do not grade themselves.
    let token = mint(key(0), &access_claims());
    let (n, e) = key(0).components();
    let dk = jsonwebtoken::DecodingKey::from_rsa_raw_components(&n, &e);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Value>(&token, &dk, &validation).unwrap();
    assert_eq!(data.claims["username"], "alice");
    assert_eq!(data.header.kid.as_deref(), Some("kid-0"));
}

// ---------------------------------------------------------------- crafted tokens

#[tokio::test]
async fn alg_none_is_refused() {
    let (v, _) = standard().await;
    let header = b64(br#"{"alg":"none","kid":"kid-0"}"#);
    let payload = b64(access_claims().to_string().as_bytes());
    for token in [format!("{header}.{payload}."), format!("{header}.{payload}.AAAA")] {
        assert_eq!(
            v.verify_at(&token, NOW).await.err(),
            Some(VerifyError::UnsupportedAlg),
            "{token}"
        );
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let (v, _) = standard().await;
    let (n, _) = key(0).components();
    let pem_like = serde_json::to_vec(&key(0).jwk()).unwrap();
    for secret in [n.as_slice(), pem_like.as_slice()] {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        h.kid = Some("kid-0".into());
        let token =
            jsonwebtoken::encode(&h, &access_claims(), &jsonwebtoken::EncodingKey::from_secret(secret)).unwrap();
        assert_eq!(v.verify_at(&token, NOW).await.err(), Some(VerifyError::UnsupportedAlg));
    }
    // Other RSA and EC algorithms are refused the same way.
    for alg in ["RS384", "RS512", "PS256", "ES256", "EdDSA"] {
        let t = mint_raw(
            key(0),
            &json!({"alg": alg, "kid": "kid-0"}).to_string(),
            &access_claims().to_string(),
        );
        assert_eq!(
            v.verify_at(&t, NOW).await.err(),
            Some(VerifyError::UnsupportedAlg),
            "{alg}"
        );
    }
}

/// Any fetch opens the back-off window, hydration included.
async fn past_backoff() {
    tokio::time::advance(Duration::from_secs(10)).await;
}

#[tokio::test(start_paused = true)]
async fn unknown_and_missing_kid() {
    let (v, f) = standard().await;
    past_backoff().await;
    let unknown = mint_raw(key(0), r#"{"alg":"RS256","kid":"nope"}"#, &access_claims().to_string());
    assert_eq!(v.verify_at(&unknown, NOW).await.err(), Some(VerifyError::UnknownKid));
    assert_eq!(f.calls(), 2, "an unknown kid triggers one refetch");
    let missing = mint_raw(key(0), r#"{"alg":"RS256"}"#, &access_claims().to_string());
    assert_eq!(v.verify_at(&missing, NOW).await.err(), Some(VerifyError::MissingKid));
    // A key outside the JWKS, presented under a kid that is in it, fails the signature.
    let impostor = mint_raw(key(2), r#"{"alg":"RS256","kid":"kid-0"}"#, &access_claims().to_string());
    assert_eq!(v.verify_at(&impostor, NOW).await.err(), Some(VerifyError::BadSignature));
}

#[tokio::test(start_paused = true)]
async fn header_key_hints_are_ignored_and_crit_is_refused() {
    let (v, f) = standard().await;
    past_backoff().await;
    let (n, e) = key(2).components();
    let hinted = json!({
        "alg": "RS256", "kid": "kid-2",
        "jku": "https://attacker.example/jwks.json", "x5u": "https://attacker.example/cert",
        "jwk": {"kty": "RSA", "kid": "kid-2", "n": b64(&n), "e": b64(&e)},
    });
    let token = mint_raw(key(2), &hinted.to_string(), &access_claims().to_string());
    assert_eq!(v.verify_at(&token, NOW).await.err(), Some(VerifyError::UnknownKid));
    assert_eq!(
        f.requested(),
        [JWKS_URL, JWKS_URL],
        "only the configured JWKS URL is fetched"
    );

    let crit = json!({"alg": "RS256", "kid": "kid-0", "crit": ["exp"], "exp": 1});
    let token = mint_raw(key(0), &crit.to_string(), &access_claims().to_string());
    assert_eq!(v.verify_at(&token, NOW).await.err(), Some(VerifyError::CritHeader));
}

#[tokio::test]
async fn issuer_pool_client_and_token_use_are_enforced() {
    let mut c = config();
    c.pools.push(PoolConfig {
        issuer: OTHER_ISSUER.into(),
        canonical_issuer: OTHER_ISSUER.into(),
        jwks_url: OTHER_JWKS_URL.into(),
        client_ids: vec![OTHER_CLIENT.into()],
    });
    let f = FakeFetcher::serving(JWKS_URL, jwks_of(&[key(0)]));
    f.set(OTHER_JWKS_URL, Ok(jwks_of(&[key(1)])));
    let v = verifier_with(c, f.clone());
    v.hydrate().await.unwrap();

    let other = with(
        with(access_claims(), "iss", json!(OTHER_ISSUER)),
        "client_id",
        json!(OTHER_CLIENT),
    );
    let second = v
        .verify_at(&mint(key(1), &other), NOW)
        .await
        .expect("second pool with its own key");
    assert_eq!((&*second.issuer, second.pool), (OTHER_ISSUER, 1));
    assert!(v.verify_at(&mint(key(0), &access_claims()), NOW).await.is_ok());

    let cases: Vec<(Value, &TestKey, VerifyError)> = vec![
        (
            with(
                access_claims(),
                "iss",
                json!("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Evil"),
            ),
            key(0),
            VerifyError::WrongIssuer,
        ),
        (
            with(access_claims(), "iss", json!(format!("{ISSUER}/"))),
            key(0),
            VerifyError::WrongIssuer,
        ),
        (without(access_claims(), "iss"), key(0), VerifyError::WrongIssuer),
        // Pool one's client at pool two's issuer.
        (
            with(access_claims(), "iss", json!(OTHER_ISSUER)),
            key(1),
            VerifyError::WrongClient,
        ),
        (
            with(access_claims(), "client_id", json!("stranger")),
            key(0),
            VerifyError::WrongClient,
        ),
        (without(access_claims(), "client_id"), key(0), VerifyError::WrongClient),
        (
            with(access_claims(), "token_use", json!("id")),
            key(0),
            VerifyError::WrongTokenUse,
        ),
        (
            without(access_claims(), "token_use"),
            key(0),
            VerifyError::WrongTokenUse,
        ),
        // Pool two's claims signed with pool one's key: the kid is not in pool two's JWKS.
        (other.clone(), key(0), VerifyError::UnknownKid),
    ];
    for (claims, k, expected) in cases {
        assert_eq!(
            v.verify_at(&mint(k, &claims), NOW).await.err(),
            Some(expected),
            "{claims}"
        );
    }
}

#[tokio::test]
async fn time_claims_with_and_without_leeway() {
    let (v, _) = standard().await;
    let at = |exp: u64| with(access_claims(), "exp", json!(exp));
    assert!(v.verify_at(&mint(key(0), &at(NOW + 1)), NOW).await.is_ok());
    assert_eq!(
        v.verify_at(&mint(key(0), &at(NOW)), NOW).await.err(),
        Some(VerifyError::Expired)
    );
    assert_eq!(
        v.verify_at(&mint(key(0), &at(NOW - 1)), NOW).await.err(),
        Some(VerifyError::Expired),
        "expired by one second"
    );
    assert_eq!(
        v.verify_at(&mint(key(0), &without(access_claims(), "exp")), NOW)
            .await
            .err(),
        Some(VerifyError::MissingExp)
    );
    let nbf = |t: u64| with(access_claims(), "nbf", json!(t));
    assert!(v.verify_at(&mint(key(0), &nbf(NOW)), NOW).await.is_ok());
    assert_eq!(
        v.verify_at(&mint(key(0), &nbf(NOW + 1)), NOW).await.err(),
        Some(VerifyError::NotYetValid)
    );
    let iat = |t: u64| with(access_claims(), "iat", json!(t));
    assert_eq!(
        v.verify_at(&mint(key(0), &iat(NOW + 1)), NOW).await.err(),
        Some(VerifyError::IssuedInFuture)
    );

    let mut c = config();
    c.leeway_seconds = 5;
    let (lenient, _) = hydrated(c, &[key(0)]).await;
    assert!(lenient.verify_at(&mint(key(0), &at(NOW - 4)), NOW).await.is_ok());
    assert_eq!(
        lenient.verify_at(&mint(key(0), &at(NOW - 5)), NOW).await.err(),
        Some(VerifyError::Expired)
    );
    assert!(lenient.verify_at(&mint(key(0), &nbf(NOW + 5)), NOW).await.is_ok());
    assert_eq!(
        lenient.verify_at(&mint(key(0), &nbf(NOW + 6)), NOW).await.err(),
        Some(VerifyError::NotYetValid)
    );
    assert!(lenient.verify_at(&mint(key(0), &iat(NOW + 5)), NOW).await.is_ok());
    assert_eq!(
        lenient.verify_at(&mint(key(0), &iat(NOW + 6)), NOW).await.err(),
        Some(VerifyError::IssuedInFuture)
    );
}

#[tokio::test]
async fn missing_or_empty_sub_is_refused() {
    let (v, _) = standard().await;
    assert_eq!(
        v.verify_at(&mint(key(0), &without(access_claims(), "sub")), NOW)
            .await
            .err(),
        Some(VerifyError::MissingSub)
    );
    assert_eq!(
        v.verify_at(&mint(key(0), &with(access_claims(), "sub", json!(""))), NOW)
            .await
            .err(),
        Some(VerifyError::MissingSub)
    );
}

#[tokio::test]
async fn tampering_breaks_the_signature() {
    let (v, _) = standard().await;
    let token = mint(key(0), &access_claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged_claims = with(access_claims(), "cognito:groups", json!(["admin", "root"]));
    let tampered_payload = format!(
        "{}.{}.{}",
        parts[0],
        b64(forged_claims.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(
        v.verify_at(&tampered_payload, NOW).await.err(),
        Some(VerifyError::BadSignature)
    );

    let mut sig = URL_SAFE_NO_PAD_DECODE(parts[2]);
    sig[10] ^= 1;
    let tampered_sig = format!("{}.{}.{}", parts[0], parts[1], b64(&sig));
    assert_eq!(
        v.verify_at(&tampered_sig, NOW).await.err(),
        Some(VerifyError::BadSignature)
    );

    let short_sig = format!("{}.{}.{}", parts[0], parts[1], b64(&sig[..128]));
    assert_eq!(
        v.verify_at(&short_sig, NOW).await.err(),
        Some(VerifyError::BadSignature)
    );
    let no_sig = format!("{}.{}.", parts[0], parts[1]);
    assert_eq!(v.verify_at(&no_sig, NOW).await.err(), Some(VerifyError::BadSignature));

    // Re-encoding the same header with other whitespace changes the signed bytes.
    let respaced = format!(
        "{}.{}.{}",
        b64(br#"{ "alg":"RS256","kid":"kid-0"}"#),
        parts[1],
        parts[2]
    );
    assert_eq!(v.verify_at(&respaced, NOW).await.err(), Some(VerifyError::BadSignature));
}

#[allow(non_snake_case)]
fn URL_SAFE_NO_PAD_DECODE(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap()
}

#[tokio::test]
async fn oversize_non_base64_and_non_json_are_refused() {
    let (v, f) = standard().await;
    let padding = "x".repeat(MAX_TOKEN_BYTES);
    let big = mint(key(0), &with(access_claims(), "pad", json!(padding)));
    assert!(big.len() > MAX_TOKEN_BYTES);
    assert_eq!(v.verify_at(&big, NOW).await.err(), Some(VerifyError::TooLarge));
    assert_eq!(
        v.verify_at(&"a".repeat(MAX_TOKEN_BYTES + 1), NOW).await.err(),
        Some(VerifyError::TooLarge)
    );

    // Just under the limit is parsed (and verifies).
    let base = mint(key(0), &with(access_claims(), "pad", json!("")));
    let room = (MAX_TOKEN_BYTES - base.len()) / 4 * 3;
    let fits = mint(key(0), &with(access_claims(), "pad", json!("y".repeat(room))));
    assert!(fits.len() <= MAX_TOKEN_BYTES, "{}", fits.len());
    assert!(v.verify_at(&fits, NOW).await.is_ok());

    let token = mint(key(0), &access_claims());
    let parts: Vec<&str> = token.split('.').collect();
    let malformed = [
        String::new(),
        "abc".into(),
        "a.b".into(),
        format!("{}.{}.{}.{}", parts[0], parts[1], parts[2], parts[2]),
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}+.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}", parts[0], parts[1], "!!!!"),
        format!("{}.{}.{}", b64(b"not json"), parts[1], parts[2]),
        format!("{}.{}.{}", parts[0], b64(b"not json"), parts[2]),
        format!("{}.{}.{}", parts[0], b64(b"[1,2,3]"), parts[2]),
        format!("{}.{}.{}", parts[0], b64(br#"{"exp":"soon"}"#), parts[2]),
        format!("{}.{}.{}", b64(&[0xff, 0xfe, 0x00]), parts[1], parts[2]),
        format!(" {token}"),
    ];
    for t in malformed {
        assert_eq!(
            v.verify_at(&t, NOW).await.err(),
            Some(VerifyError::Malformed),
            "{t:.60}"
        );
    }
    assert_eq!(f.calls(), 1, "garbage never triggers a JWKS fetch");
}

#[tokio::test]
async fn duplicate_claims_cannot_smuggle_a_second_value() {
    let (v, _) = standard().await;
    let claims = access_claims().to_string();
    let dup = format!("{},\"exp\":{}}}", claims.trim_end_matches('}'), NOW + 99999);
    let t = mint_raw(key(0), &header_for(key(0)).to_string(), &dup);
    assert_eq!(v.verify_at(&t, NOW).await.err(), Some(VerifyError::Malformed));
}

// ---------------------------------------------------------------- JWKS cache

#[tokio::test]
async fn nothing_cached_and_jwks_down_is_unavailable_not_unauthorized() {
    let f = FakeFetcher::new();
    f.set(JWKS_URL, Err(FetchError::Status(500)));
    let v = verifier_with(config(), f.clone());
    assert!(v.hydrate().await.is_err());
    let token = mint(key(0), &access_claims());
    let err = v.verify_at(&token, NOW).await.unwrap_err();
    assert_eq!(err, VerifyError::JwksUnavailable);
    assert!(err.is_server_error());
}

#[tokio::test(start_paused = true)]
async fn unknown_kid_refetches_at_most_once_per_backoff_window() {
    let (v, f) = standard().await;
    // Hydration opened a window: an unknown kid right after it does not refetch.
    let stranger = mint(key(2), &access_claims());
    assert_eq!(v.verify_at(&stranger, NOW).await.err(), Some(VerifyError::UnknownKid));
    assert_eq!(f.calls(), 1);
    past_backoff().await;
    assert_eq!(v.verify_at(&stranger, NOW).await.err(), Some(VerifyError::UnknownKid));
    assert_eq!(f.calls(), 2);
    for _ in 0..5 {
        assert_eq!(v.verify_at(&stranger, NOW).await.err(), Some(VerifyError::UnknownKid));
    }
    tokio::time::advance(Duration::from_secs(9)).await;
    assert_eq!(v.verify_at(&stranger, NOW).await.err(), Some(VerifyError::UnknownKid));
    assert_eq!(f.calls(), 2, "no refetch inside the window");
    tokio::time::advance(Duration::from_secs(1)).await;
    // Key 2 is published now (rotation): the next unknown-kid refetch picks it up.
    f.set(JWKS_URL, Ok(jwks_of(&[key(0), key(1), key(2)])));
    assert!(v.verify_at(&stranger, NOW).await.is_ok());
    assert_eq!(f.calls(), 3);
    assert_eq!(v.jwks().kids(0), ["kid-0", "kid-1", "kid-2"]);
}

#[tokio::test(start_paused = true)]
async fn concurrent_fetches_are_merged() {
    let f = FakeFetcher::serving(JWKS_URL, jwks_of(&[key(0)]));
    f.set_delay(Duration::from_millis(500));
    let v = Arc::new(verifier_with(config(), f.clone()));
    let token = mint(key(0), &access_claims());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let v = Arc::clone(&v);
            let token = token.clone();
            tokio::spawn(async move { v.verify_at(&token, NOW).await })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().is_ok());
    }
    assert_eq!(f.calls(), 1, "16 cold-cache verifications, one fetch");
}

#[tokio::test(start_paused = true)]
async fn concurrent_waiters_share_a_failed_fetch() {
    let f = FakeFetcher::new();
    f.set(JWKS_URL, Err(FetchError::Transport("down".into())));
    f.set_delay(Duration::from_millis(500));
    let v = Arc::new(verifier_with(config(), f.clone()));
    let token = mint(key(0), &access_claims());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (v, token) = (Arc::clone(&v), token.clone());
            tokio::spawn(async move { v.verify_at(&token, NOW).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().err(), Some(VerifyError::JwksUnavailable));
    }
    assert_eq!(f.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn keys_are_refreshed_after_max_age_so_rotated_out_keys_stop_working() {
    let (v, f) = standard().await;
    let old = mint(key(0), &access_claims());
    assert!(v.verify_at(&old, NOW).await.is_ok());
    // Cognito rotates key 0 out.
    f.set(JWKS_URL, Ok(jwks_of(&[key(1), key(2)])));
    tokio::time::advance(Duration::from_secs(599)).await;
    assert!(v.verify_at(&old, NOW).await.is_ok(), "still fresh");
    assert_eq!(f.calls(), 1);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(v.verify_at(&old, NOW).await.err(), Some(VerifyError::UnknownKid));
    assert_eq!(f.calls(), 2, "refreshed once at max-age");
    assert!(v.verify_at(&mint(key(2), &access_claims()), NOW).await.is_ok());
    assert_eq!(f.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn stale_keys_are_served_while_refresh_fails_but_only_for_a_bounded_time() {
    let (v, f) = standard().await;
    let token = mint(key(0), &access_claims());
    f.set(JWKS_URL, Err(FetchError::Timeout(Duration::from_secs(2))));
    tokio::time::advance(Duration::from_secs(600)).await;
    assert!(
        v.verify_at(&token, NOW).await.is_ok(),
        "stale key served after a failed refresh"
    );
    assert_eq!(f.calls(), 2);
    assert!(v.verify_at(&token, NOW).await.is_ok());
    assert_eq!(f.calls(), 2, "failed refreshes are retried once per back-off window");
    tokio::time::advance(Duration::from_secs(10)).await;
    assert!(v.verify_at(&token, NOW).await.is_ok());
    assert_eq!(f.calls(), 3);
    // max_age 600 + max_stale 300: past 900 s the old keys are gone.
    tokio::time::advance(Duration::from_secs(290)).await;
    assert_eq!(v.verify_at(&token, NOW).await.err(), Some(VerifyError::JwksUnavailable));
    assert!(v.jwks().kids(0).is_empty());
    // The JWKS comes back: keys are loaded again on the next window.
    f.set(JWKS_URL, Ok(jwks_of(&[key(0)])));
    tokio::time::advance(Duration::from_secs(10)).await;
    assert!(v.verify_at(&token, NOW).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn unknown_kid_during_an_outage_is_a_server_error() {
    let (v, f) = standard().await;
    past_backoff().await;
    f.set(JWKS_URL, Err(FetchError::Status(503)));
    let stranger = mint(key(2), &access_claims());
    assert_eq!(
        v.verify_at(&stranger, NOW).await.err(),
        Some(VerifyError::JwksUnavailable)
    );
    // Known keys keep working meanwhile.
    assert!(v.verify_at(&mint(key(0), &access_claims()), NOW).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn fetches_are_bounded_by_timeout_and_size() {
    let f = FakeFetcher::serving(JWKS_URL, jwks_of(&[key(0)]));
    f.set_delay(Duration::from_secs(5));
    let v = verifier_with(config(), f.clone());
    assert_eq!(
        v.hydrate().await,
        Err(JwksError::Fetch(FetchError::Timeout(Duration::from_secs(2))))
    );

    let big = serde_json::to_vec(&json!({"keys": [key(0).jwk()], "pad": "z".repeat(20 * 1024)})).unwrap();
    let f = FakeFetcher::serving(JWKS_URL, big);
    let v = verifier_with(config(), f.clone());
    assert_eq!(
        v.hydrate().await,
        Err(JwksError::Fetch(FetchError::TooLarge(16 * 1024)))
    );
    assert_eq!(
        v.verify_at(&mint(key(0), &access_claims()), NOW).await.err(),
        Some(VerifyError::JwksUnavailable)
    );
}

#[tokio::test]
async fn weak_foreign_and_non_signing_keys_are_ignored() {
    let mut weak = key(2).jwk();
    weak["kid"] = json!("weak");
    weak["n"] = json!(b64(&[0xc5; 128])); // 1024 bits
    let mut enc = key(1).jwk();
    enc["use"] = json!("enc");
    let mut ps = key(1).jwk();
    ps["kid"] = json!("ps");
    ps["alg"] = json!("PS256");
    let mut ops = key(1).jwk();
    ops["kid"] = json!("ops");
    ops["key_ops"] = json!(["encrypt"]);
    let ec = json!({"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"});
    let oct = json!({"kty": "oct", "kid": "oct", "k": "c2VjcmV0"});
    let mut no_alg = key(2).jwk();
    no_alg.as_object_mut().unwrap().remove("alg");
    no_alg.as_object_mut().unwrap().remove("use");
    let doc = jwks_doc(&[key(0).jwk(), weak, enc, ps, ops, ec, oct, json!("junk"), no_alg]);

    let (set, skipped) = parse_jwks(&doc, 16).unwrap();
    assert_eq!(set.kids().collect::<Vec<_>>(), ["kid-0", "kid-2"], "{skipped:?}");
    assert_eq!(skipped.len(), 7);
    assert!(
        skipped
            .iter()
            .any(|s| s.kid.as_deref() == Some("weak") && s.reason.contains("1024-bit"))
    );

    let f = FakeFetcher::serving(JWKS_URL, doc);
    let v = verifier_with(config(), f);
    v.hydrate().await.unwrap();
    assert!(
        v.verify_at(&mint(key(2), &access_claims()), NOW).await.is_ok(),
        "a JWK without alg/use is accepted"
    );
    let enc_token = mint_raw(key(1), r#"{"alg":"RS256","kid":"kid-1"}"#, &access_claims().to_string());
    assert_eq!(v.verify_at(&enc_token, NOW).await.err(), Some(VerifyError::UnknownKid));
}

#[test]
fn jwks_documents_are_validated() {
    assert_eq!(parse_jwks(br#"{"keys":[]}"#, 4).err(), Some(JwksError::NoUsableKeys));
    assert!(matches!(parse_jwks(b"<html>", 4), Err(JwksError::Invalid(_))));
    assert!(matches!(parse_jwks(br#"{"kty":"RSA"}"#, 4), Err(JwksError::Invalid(_))));
    // A kid published twice is ambiguous: both copies go.
    let mut twin = key(1).jwk();
    twin["kid"] = json!("kid-0");
    let (set, skipped) = parse_jwks(&jwks_doc(&[key(0).jwk(), twin, key(2).jwk()]), 4).unwrap();
    assert_eq!(set.kids().collect::<Vec<_>>(), ["kid-2"]);
    assert!(skipped.iter().any(|s| s.reason.contains("more than once")));
    // Only max_keys keys are kept.
    let (set, skipped) = parse_jwks(&jwks_of(&[key(0), key(1), key(2)]), 2).unwrap();
    assert_eq!(set.len(), 2);
    assert_eq!(skipped.len(), 1);
    // A leading zero octet on n is tolerated.
    let (n, e) = key(0).components();
    let mut padded = vec![0u8];
    padded.extend_from_slice(&n);
    let k = RsaKey::from_components("z", &padded, &e).unwrap();
    assert_eq!(k.bits(), 2048);
    assert!(RsaKey::from_components("z", &n, &[2]).is_err(), "even exponent");
    assert!(RsaKey::from_components("z", &n, &[1]).is_err(), "exponent 1");
}

// ---------------------------------------------------------------- verified-token cache

#[tokio::test]
async fn repeated_tokens_come_from_the_cache_until_exp() {
    let mut c = config();
    c.cache_size = 8;
    let (v, _) = hydrated(c, &[key(0)]).await;
    let token = mint(key(0), &with(access_claims(), "exp", json!(NOW + 100)));
    let first = v.verify_at(&token, NOW).await.unwrap();
    let second = v.verify_at(&token, NOW + 1).await.unwrap();
    assert!(Arc::ptr_eq(&first, &second), "served from the cache");
    assert_eq!(v.token_cache().unwrap().len(), 1);
    assert_eq!(
        v.verify_at(&token, NOW + 100).await.err(),
        Some(VerifyError::Expired),
        "dropped at exp"
    );
    // A failed verification is never cached.
    let bad = format!("{}x", token);
    assert!(v.verify_at(&bad, NOW).await.is_err());
    assert!(v.verify_at(&bad, NOW).await.is_err());
}

#[tokio::test]
async fn without_the_cache_every_call_verifies() {
    let (v, _) = standard().await;
    assert!(v.token_cache().is_none());
    let token = mint(key(0), &access_claims());
    let a = v.verify_at(&token, NOW).await.unwrap();
    let b = v.verify_at(&token, NOW).await.unwrap();
    assert!(!Arc::ptr_eq(&a, &b));
    assert_eq!(a, b);
}

#[tokio::test(start_paused = true)]
async fn key_rotation_invalidates_cached_tokens() {
    let mut c = config();
    c.cache_size = 8;
    let (v, f) = hydrated(c, &[key(0), key(1)]).await;
    let token = mint(key(0), &access_claims());
    assert!(v.verify_at(&token, NOW).await.is_ok());
    f.set(JWKS_URL, Ok(jwks_of(&[key(1), key(2)])));
    past_backoff().await;
    // An unknown kid refreshes the set; key 0 is gone, so its cached token must not pass.
    assert!(v.verify_at(&mint(key(2), &access_claims()), NOW).await.is_ok());
    assert_eq!(v.verify_at(&token, NOW).await.err(), Some(VerifyError::UnknownKid));
}

#[tokio::test(start_paused = true)]
async fn cached_tokens_do_not_outlive_the_key_max_age() {
    let mut c = config();
    c.cache_size = 8;
    let (v, f) = hydrated(c, &[key(0)]).await;
    let token = mint(key(0), &access_claims());
    let first = v.verify_at(&token, NOW).await.unwrap();
    tokio::time::advance(Duration::from_secs(600)).await;
    // Same key set served again: the refresh happens and the token verifies afresh.
    let again = v.verify_at(&token, NOW + 600).await.unwrap();
    assert!(!Arc::ptr_eq(&first, &again));
    assert_eq!(f.calls(), 2);
}

// ---------------------------------------------------------------- properties

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary input never panics and never verifies.
    #[test]
    fn garbage_never_verifies(s in "\\PC{0,300}", dots in proptest::collection::vec("[A-Za-z0-9_-]{0,60}", 0..5)) {
        let rt = runtime();
        let (v, _) = rt.block_on(standard());
        prop_assert!(rt.block_on(v.verify_at(&s, NOW)).is_err());
        let joined = dots.join(".");
        prop_assert!(rt.block_on(v.verify_at(&joined, NOW)).is_err());
    }

    /// Changing any single character of a valid token makes it fail.
    #[test]
    fn any_single_character_change_is_rejected(pos in any::<proptest::sample::Index>(), c in "[A-Za-z0-9_.=+/-]") {
        let rt = runtime();
        let (v, _) = rt.block_on(standard());
        let token = mint(key(0), &access_claims());
        let i = pos.index(token.len());
        let mut bytes = token.clone().into_bytes();
        let replacement = c.as_bytes()[0];
        prop_assume!(bytes[i] != replacement);
        bytes[i] = replacement;
        let mutated = String::from_utf8(bytes).unwrap();
        // The last character of a base64url part carries spare bits; strict decoding rejects them.
        prop_assert!(rt.block_on(v.verify_at(&mutated, NOW)).is_err(), "{}", mutated);
    }
}

#[tokio::test]
async fn a_token_names_its_pool_by_the_canonical_issuer_whatever_its_iss() {
    // An emulator (or a newer issuer form) puts another `iss` in the pool's tokens.
    let local = "http://127.0.0.1:5000/eu-west-1_TestPool";
    let mut c = config();
    c.pools[0].issuer = local.into();
    let v = verifier_with(c, FakeFetcher::serving(JWKS_URL, jwks_of(&[key(0)])));
    v.hydrate().await.unwrap();
    let token = mint(key(0), &with(access_claims(), "iss", json!(local)));
    let t = v.verify_at(&token, NOW).await.unwrap();
    assert_eq!(&*t.issuer, ISSUER, "the canonical issuer, not the token's `iss`");
}
