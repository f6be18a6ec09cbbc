//! PKCE (RFC 7636) with the S256 method, the only one Cognito accepts.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};

/// A code verifier: 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`. A secret: whoever holds
/// it can redeem the code.
#[derive(Clone)]
pub struct CodeVerifier(SecretString);

impl CodeVerifier {
    /// 32 random bytes, base64url: 43 characters, 256 bits of entropy.
    pub fn generate() -> Result<Self, RandomError> {
        Ok(Self(SecretString::from(random_token(32)?)))
    }

    /// The S256 challenge sent to the authorize endpoint: `BASE64URL(SHA256(verifier))`.
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(digest(&SHA256, self.0.expose_secret().as_bytes()))
    }
}

impl ExposeSecret<str> for CodeVerifier {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeVerifier([REDACTED])")
    }
}

impl TryFrom<String> for CodeVerifier {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
        if !(43..=128).contains(&value.len()) || !value.bytes().all(unreserved) {
            return Err("must be 43 to 128 characters of A-Z, a-z, 0-9, -, ., _ and ~ (RFC 7636)".into());
        }
        Ok(Self(SecretString::from(value)))
    }
}

/// The system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("the system random source failed")]
pub struct RandomError;

/// `bytes` random bytes, base64url without padding.
pub fn random_token(bytes: usize) -> Result<String, RandomError> {
    let mut buf = vec![0_u8; bytes];
    SystemRandom::new().fill(&mut buf).map_err(|_| RandomError)?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s_example() {
        // RFC 7636 appendix B.
        let verifier = CodeVerifier::try_from("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_owned()).unwrap();
        assert_eq!(verifier.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn generated_verifiers_are_valid_and_distinct() {
        let a = CodeVerifier::generate().unwrap();
        let b = CodeVerifier::generate().unwrap();
        assert_eq!(a.expose_secret().len(), 43);
        assert!(CodeVerifier::try_from(a.expose_secret().to_owned()).is_ok());
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(format!("{a:?}"), "CodeVerifier([REDACTED])");
    }

    #[test]
    fn malformed_verifiers_are_refused() {
        for bad in [
            "short",
            &"a".repeat(129),
            &format!("{}+", "a".repeat(43)),
            &format!("{} ", "a".repeat(43)),
        ] {
            assert!(CodeVerifier::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }
}
