//! The JOSE header, as the verifier reads it: `crit` is refused, `alg` must be RS256, `kid` is
//! required; `jku`, `x5u`, `jwk`, `x5c` and the rest are ignored, since keys only ever come
//! from the configured JWKS.

use auth_contract::token::BStr;
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny};

use crate::VerifyError;

/// Cognito headers are about 100 bytes; anything near this is not ours.
pub(crate) const MAX_HEADER_BYTES: usize = 512;
/// A 4096-bit signature, the largest key accepted.
pub(crate) const MAX_SIGNATURE_BYTES: usize = 512;

/// Marks that a header member was present, whatever its value (`null` included).
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d)?;
        Ok(Present(true))
    }
}

#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow)]
    alg: Option<BStr<'a>>,
    #[serde(borrow, default)]
    kid: Option<BStr<'a>>,
    #[serde(default)]
    crit: Present,
}

pub(crate) struct Header<'a> {
    pub(crate) kid: BStr<'a>,
}

/// Parses and checks the header.
pub(crate) fn parse_header(json: &[u8]) -> Result<Header<'_>, VerifyError> {
    let json = std::str::from_utf8(json).map_err(|_| VerifyError::Malformed)?;
    let raw: RawHeader<'_> = serde_json::from_str(json).map_err(|_| VerifyError::Malformed)?;
    if raw.crit.0 {
        return Err(VerifyError::CritHeader);
    }
    let alg = raw.alg.ok_or(VerifyError::UnsupportedAlg)?;
    if alg.as_str() != "RS256" {
        return Err(VerifyError::UnsupportedAlg);
    }
    let kid = raw
        .kid
        .filter(|k| !k.as_str().is_empty())
        .ok_or(VerifyError::MissingKid)?;
    Ok(Header { kid })
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    #[test]
    fn header_checks() {
        let h =
            parse_header(br#"{"alg":"RS256","kid":"k1","jku":"https://evil","x5u":"x","jwk":{"kty":"RSA"}}"#).unwrap();
        assert_eq!(h.kid.as_str(), "k1");
        assert!(matches!(h.kid.0, Cow::Borrowed(_)), "kid borrows from the buffer");
        let refused: &[(&[u8], VerifyError)] = &[
            (br#"{"alg":"none","kid":"k"}"#, VerifyError::UnsupportedAlg),
            (br#"{"alg":"HS256","kid":"k"}"#, VerifyError::UnsupportedAlg),
            (br#"{"alg":"rs256","kid":"k"}"#, VerifyError::UnsupportedAlg),
            (br#"{"kid":"k"}"#, VerifyError::UnsupportedAlg),
            (br#"{"alg":"RS256"}"#, VerifyError::MissingKid),
            (br#"{"alg":"RS256","kid":""}"#, VerifyError::MissingKid),
            (br#"{"alg":"RS256","kid":"k","crit":["exp"]}"#, VerifyError::CritHeader),
            (br#"{"alg":"RS256","kid":"k","crit":null}"#, VerifyError::CritHeader),
            (br#"{"alg":"RS256","alg":"RS256","kid":"k"}"#, VerifyError::Malformed),
            (br#"{"alg":"RS256","kid":7}"#, VerifyError::Malformed),
            (b"[1]", VerifyError::Malformed),
            (b"not json", VerifyError::Malformed),
        ];
        for (json, expected) in refused {
            assert_eq!(
                parse_header(json).err(),
                Some(*expected),
                "{}",
                String::from_utf8_lossy(json)
            );
        }
    }
}
