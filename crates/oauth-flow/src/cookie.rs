//! The flow cookie: what a sign-in must remember between the redirect to the login page and the
//! callback (`state`, the PKCE verifier, where to go next), sealed with AES-256-GCM so the
//! browser can carry it but neither read nor change it.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The format version sealed into every cookie (a key or format change refuses old ones).
const VERSION: &[u8] = b"oauth-flow cookie v1";
/// Shortest secret a key is derived from.
pub const MIN_SECRET_CHARS: usize = 32;

/// The key cookies are sealed under, derived from a secret kept in Secrets Manager.
pub struct CookieKey(LessSafeKey);

impl std::fmt::Debug for CookieKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieKey([REDACTED])")
    }
}

/// A value could not be sealed.
#[derive(Debug, thiserror::Error)]
#[error("the cookie could not be sealed: {0}")]
pub struct SealError(&'static str);

impl CookieKey {
    /// The AES-256 key `SHA-256(version ‖ secret)`; the secret must have at least
    /// [`MIN_SECRET_CHARS`] characters (the template generates 64).
    pub fn derive(secret: &str) -> Result<Self, String> {
        if secret.chars().count() < MIN_SECRET_CHARS {
            return Err(format!(
                "the cookie secret must have at least {MIN_SECRET_CHARS} characters"
            ));
        }
        let mut input = VERSION.to_vec();
        input.push(0);
        input.extend_from_slice(secret.as_bytes());
        let key = UnboundKey::new(&AES_256_GCM, digest(&SHA256, &input).as_ref())
            .map_err(|_| "AES-256-GCM key".to_owned())?;
        Ok(Self(LessSafeKey::new(key)))
    }

    /// `value` as JSON, sealed for the cookie `name` (a cookie moved to another name does not
    /// open): base64url of a random nonce, the ciphertext and the tag.
    pub fn seal<T: Serialize>(&self, name: &str, value: &T) -> Result<String, SealError> {
        let mut data = serde_json::to_vec(value).map_err(|_| SealError("serialisation"))?;
        let mut nonce = [0_u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError("random nonce"))?;
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), aad(name), &mut data)
            .map_err(|_| SealError("encryption"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// The value sealed in `sealed` for the cookie `name`; `None` when it was not sealed under
    /// this key for this name, was altered, or does not hold a `T`.
    pub fn open<T: DeserializeOwned>(&self, name: &str, sealed: &str) -> Option<T> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = data.to_vec();
        let plain = self.0.open_in_place(nonce, aad(name), &mut data).ok()?;
        serde_json::from_slice(plain).ok()
    }
}

fn aad(name: &str) -> Aad<Vec<u8>> {
    let mut aad = VERSION.to_vec();
    aad.push(0);
    aad.extend_from_slice(name.as_bytes());
    Aad::from(aad)
}

/// How a cookie is set: `HttpOnly` and `SameSite=Lax` always.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieSettings {
    /// The cookie's name.
    pub name: String,
    /// The only path it is sent to.
    pub path: String,
    /// `Secure`: only over HTTPS (off only for plain-HTTP loopback development).
    pub secure: bool,
}

impl CookieSettings {
    /// The `Set-Cookie` value that stores `value` for `max_age_seconds`.
    pub fn set(&self, value: &str, max_age_seconds: u64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{}={value}; Path={}; Max-Age={max_age_seconds}; HttpOnly; SameSite=Lax{secure}",
            self.name, self.path
        )
    }

    /// The `Set-Cookie` value that deletes the cookie.
    pub fn clear(&self) -> String {
        self.set("", 0)
    }
}

/// Every value of the cookie `name` in the request's `Cookie` headers (a browser sends more
/// than one when cookies of the same name exist for several paths).
pub fn cookie_values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then(|| value.trim_matches('"'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef-test";

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Flow {
        state: String,
        n: u32,
    }

    fn flow() -> Flow {
        Flow {
            state: "state-that-must-stay-hidden".into(),
            n: 7,
        }
    }

    #[test]
    fn a_sealed_value_opens_under_its_key_and_name_only() {
        let key = CookieKey::derive(SECRET).unwrap();
        let sealed = key.seal("flow", &flow()).unwrap();
        let plain = serde_json::to_vec(&flow()).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        assert!(
            !bytes.windows(plain.len()).any(|w| w == plain) && !sealed.contains(&URL_SAFE_NO_PAD.encode(&plain)[..8]),
            "the content is not readable, raw or in base64"
        );
        assert_eq!(key.open::<Flow>("flow", &sealed), Some(flow()));
        assert_eq!(key.open::<Flow>("other", &sealed), None, "bound to the cookie's name");
        let other = CookieKey::derive(&format!("{SECRET}-rotated")).unwrap();
        assert_eq!(other.open::<Flow>("flow", &sealed), None, "bound to the key");
        assert_ne!(key.seal("flow", &flow()).unwrap(), sealed, "a fresh nonce every time");
    }

    #[test]
    fn any_change_to_a_sealed_value_is_refused() {
        let key = CookieKey::derive(SECRET).unwrap();
        let sealed = key.seal("flow", &flow()).unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        for i in [0, NONCE_LEN, bytes.len() - 1] {
            bytes[i] ^= 1;
            assert_eq!(
                key.open::<Flow>("flow", &URL_SAFE_NO_PAD.encode(&bytes)),
                None,
                "byte {i}"
            );
            bytes[i] ^= 1;
        }
        for garbage in ["", "!!!", "AAAA", &sealed[..sealed.len() - 2]] {
            assert_eq!(key.open::<Flow>("flow", garbage), None, "{garbage}");
        }
    }

    #[test]
    fn short_secrets_are_refused_and_keys_never_print() {
        assert!(CookieKey::derive("too-short").is_err());
        assert_eq!(
            format!("{:?}", CookieKey::derive(SECRET).unwrap()),
            "CookieKey([REDACTED])"
        );
    }

    #[test]
    fn set_cookie_values_carry_the_attributes() {
        let settings = CookieSettings {
            name: "__Host-oauth_flow".into(),
            path: "/".into(),
            secure: true,
        };
        assert_eq!(
            settings.set("abc", 600),
            "__Host-oauth_flow=abc; Path=/; Max-Age=600; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(settings.clear().contains("=; Path=/; Max-Age=0;"));
    }

    #[test]
    fn cookie_values_are_read_from_every_cookie_header() {
        let mut headers = HeaderMap::new();
        headers.append(http::header::COOKIE, "a=1; flow=x; b=2".parse().unwrap());
        headers.append(http::header::COOKIE, "flow=\"y\"".parse().unwrap());
        assert_eq!(cookie_values(&headers, "flow"), ["x", "y"]);
        assert!(cookie_values(&headers, "flo").is_empty());
    }
}
