//! Zero-copy parsing of a compact JWS: base64url into stack buffers, JSON into borrowing
//! structs. Nothing here trusts the token; the verifier checks the signature afterwards.

use std::borrow::Cow;
use std::fmt;
use std::mem::MaybeUninit;

use base64_simd::{AsOut as _, Out, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::VerifyError;

/// Tokens longer than this are rejected before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Cognito headers are about 100 bytes; anything near this is not ours.
pub(crate) const MAX_HEADER_BYTES: usize = 512;
/// Room for the payload of the largest token accepted.
pub(crate) const MAX_PAYLOAD_BYTES: usize = MAX_TOKEN_BYTES / 4 * 3;
/// A 4096-bit signature, the largest key accepted.
pub(crate) const MAX_SIGNATURE_BYTES: usize = 512;

/// The three parts of a compact JWS, still encoded.
pub(crate) struct Parts<'t> {
    pub header: &'t str,
    pub payload: &'t str,
    pub signature: &'t str,
    /// `header.payload`: the bytes the signature covers.
    pub signed: &'t str,
}

pub(crate) fn split(token: &str) -> Result<Parts<'_>, VerifyError> {
    // SIMD searches for the first and last dot. A dot inside the payload needs no search of its
    // own: base64url has no `.`, so decoding that part fails.
    let bytes = token.as_bytes();
    let first = memchr::memchr(b'.', bytes).ok_or(VerifyError::Malformed)?;
    let last = memchr::memrchr(b'.', bytes).ok_or(VerifyError::Malformed)?;
    if last <= first {
        return Err(VerifyError::Malformed);
    }
    let (Some(header), Some(payload), Some(signature), Some(signed)) = (
        token.get(..first),
        token.get(first + 1..last),
        token.get(last + 1..),
        token.get(..last),
    ) else {
        return Err(VerifyError::Malformed);
    };
    // An empty signature (`alg: none`) gets as far as the header check, which names it.
    if header.is_empty() || payload.is_empty() {
        return Err(VerifyError::Malformed);
    }
    Ok(Parts {
        header,
        payload,
        signature,
        signed,
    })
}

/// [`decode_into_uninit`] into an initialized buffer, for the tests.
#[cfg(test)]
pub(crate) fn decode_into<'b>(input: &str, buf: &'b mut [u8]) -> Result<&'b [u8], VerifyError> {
    decode_out(input, buf.as_out())
}

/// Strict base64url without padding into `buf`, which need not be initialized first (the
/// verifier's payload buffer is 6 KB, and zeroing it is wasted work); returns the decoded prefix.
pub(crate) fn decode_into_uninit<'b>(input: &str, buf: &'b mut [MaybeUninit<u8>]) -> Result<&'b [u8], VerifyError> {
    decode_out(input, buf.as_out())
}

fn decode_out<'b>(input: &str, buf: Out<'b, [u8]>) -> Result<&'b [u8], VerifyError> {
    // base64-simd (SIMD picked at run time) with the no-padding URL-safe alphabet rejects `=`,
    // a length of 1 mod 4 and non-zero spare bits in the last character. `decode` panics on a
    // short buffer, so the length is checked first and an oversized part fails cleanly.
    let bytes = input.as_bytes();
    let needed = URL_SAFE_NO_PAD
        .decoded_length(bytes)
        .map_err(|_| VerifyError::Malformed)?;
    if needed > buf.len() {
        return Err(VerifyError::Malformed);
    }
    URL_SAFE_NO_PAD
        .decode(bytes, buf)
        .map(|decoded| &*decoded)
        .map_err(|_| VerifyError::Malformed)
}

/// A string that borrows from the input unless JSON escapes forced a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BStr<'a>(pub Cow<'a, str>);

impl BStr<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for BStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(BStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Marks that a header member was present, whatever its value (`null` included).
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d)?;
        Ok(Present(true))
    }
}

/// The JOSE header members the verifier looks at. `jku`, `x5u`, `jwk`, `x5c` and the rest are
/// ignored: keys only ever come from the configured JWKS.
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
    pub kid: BStr<'a>,
}

/// Parses and checks the header: `crit` is rejected, `alg` must be RS256, `kid` is required.
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

/// A claim that is either one string or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StrList<'a> {
    One(BStr<'a>),
    Many(Vec<BStr<'a>>),
}

impl StrList<'_> {
    /// The values; a single string is read as a comma-separated list when `split` is set.
    pub fn items(&self, split: bool) -> impl Iterator<Item = &str> {
        let (one, many): (Option<&str>, &[BStr<'_>]) = match self {
            StrList::One(s) => (Some(s.as_str()), &[]),
            StrList::Many(v) => (None, v.as_slice()),
        };
        let sep = if split { ',' } else { '\0' };
        one.into_iter()
            .flat_map(move |s| s.split(sep))
            .chain(many.iter().map(BStr::as_str))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for StrList<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrList<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(StrList::One(BStr(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StrList::One(BStr(Cow::Owned(v.to_owned()))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(2).min(16));
                while let Some(s) = seq.next_element::<BStr<'de>>()? {
                    out.push(s);
                }
                Ok(StrList::Many(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// The claims the verifier and the rules read, borrowed from the decoded payload.
#[derive(Debug, Default)]
pub(crate) struct RawClaims<'a> {
    pub iss: Option<BStr<'a>>,
    pub sub: Option<BStr<'a>>,
    pub token_use: Option<BStr<'a>>,
    pub client_id: Option<BStr<'a>>,
    pub aud: Option<StrList<'a>>,
    pub username: Option<BStr<'a>>,
    pub cognito_username: Option<BStr<'a>>,
    pub scope: Option<BStr<'a>>,
    pub exp: Option<u64>,
    pub nbf: Option<u64>,
    pub iat: Option<u64>,
    pub groups: Option<StrList<'a>>,
    pub roles: Option<StrList<'a>>,
    pub teams: Option<StrList<'a>>,
    /// The role claim is `cognito:groups` (the default): `roles` stays empty, read `groups`.
    pub roles_are_groups: bool,
}

pub(crate) const GROUPS_CLAIM: &str = "cognito:groups";

/// Deserializes [`RawClaims`] with the configured role and team claim names, rejecting a
/// repeated claim (two `exp` members must not let the parser pick one).
pub(crate) struct ClaimsSeed<'c> {
    pub role_claim: &'c str,
    pub team_claim: &'c str,
}

pub(crate) fn parse_claims<'a>(json: &'a [u8], seed: ClaimsSeed<'_>) -> Result<RawClaims<'a>, VerifyError> {
    // One UTF-8 check of the whole payload; parsing from `str` then skips the per-string checks.
    let json = std::str::from_utf8(json).map_err(|_| VerifyError::Malformed)?;
    let mut de = serde_json::Deserializer::from_str(json);
    let claims = seed.deserialize(&mut de).map_err(|_| VerifyError::Malformed)?;
    de.end().map_err(|_| VerifyError::Malformed)?;
    Ok(claims)
}

impl<'de> DeserializeSeed<'de> for ClaimsSeed<'_> {
    type Value = RawClaims<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

fn once<T, E: de::Error>(slot: &mut Option<T>, value: T, name: &str) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::custom(format_args!("duplicate claim {name}")));
    }
    *slot = Some(value);
    Ok(())
}

impl<'de> Visitor<'de> for ClaimsSeed<'_> {
    type Value = RawClaims<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut c = RawClaims::default();
        while let Some(key) = map.next_key::<BStr<'de>>()? {
            let k = key.as_str();
            match k {
                "iss" => once(&mut c.iss, map.next_value()?, k)?,
                "sub" => once(&mut c.sub, map.next_value()?, k)?,
                "token_use" => once(&mut c.token_use, map.next_value()?, k)?,
                "client_id" => once(&mut c.client_id, map.next_value()?, k)?,
                "aud" => once(&mut c.aud, map.next_value()?, k)?,
                "username" => once(&mut c.username, map.next_value()?, k)?,
                "cognito:username" => once(&mut c.cognito_username, map.next_value()?, k)?,
                "scope" => once(&mut c.scope, map.next_value()?, k)?,
                "exp" => once(&mut c.exp, map.next_value()?, k)?,
                "nbf" => once(&mut c.nbf, map.next_value()?, k)?,
                "iat" => once(&mut c.iat, map.next_value()?, k)?,
                _ => {
                    let is_groups = k == GROUPS_CLAIM;
                    let is_role = k == self.role_claim;
                    let is_team = k == self.team_claim;
                    if !(is_groups || is_role || is_team) {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    let v: StrList<'de> = map.next_value()?;
                    if is_role && is_groups {
                        c.roles_are_groups = true;
                    } else if is_role {
                        once(&mut c.roles, v.clone(), k)?;
                    }
                    if is_team {
                        once(&mut c.teams, v.clone(), k)?;
                    }
                    if is_groups {
                        once(&mut c.groups, v, k)?;
                    }
                }
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: ClaimsSeed<'static> = ClaimsSeed {
        role_claim: "cognito:groups",
        team_claim: "custom:team",
    };

    #[test]
    fn splits_exactly_three_parts() {
        let p = split("aa.bb.cc").unwrap();
        assert_eq!(
            (p.header, p.payload, p.signature, p.signed),
            ("aa", "bb", "cc", "aa.bb")
        );
        assert_eq!(split("a.b.").unwrap().signature, "");
        for bad in ["", "a", "a.b", ".b.c", "a..c"] {
            assert!(split(bad).is_err(), "{bad}");
        }
        // Extra dots end up in the payload, which then fails to decode.
        let p = split("a.b.c.d").unwrap();
        assert_eq!((p.header, p.payload, p.signature), ("a", "b.c", "d"));
        assert!(decode_into(p.payload, &mut [0u8; 8]).is_err());
        let p = split("a.b.c.").unwrap();
        assert_eq!((p.payload, p.signature), ("b.c", ""));
    }

    #[test]
    fn base64url_is_strict() {
        let mut buf = [0u8; 16];
        assert_eq!(decode_into("aGk", &mut buf).unwrap(), b"hi");
        for bad in ["aGk=", "aG+k", "aG/k", "a", "aGk*", "aGl"] {
            assert!(decode_into(bad, &mut buf).is_err(), "{bad}");
        }
        let mut small = [0u8; 2];
        assert!(decode_into("aGVsbG8", &mut small).is_err());
    }

    /// Long inputs take the SIMD loop, short ones and the tail the scalar code: both must agree
    /// with the `base64` crate and stay strict, into initialized and uninitialized buffers.
    #[test]
    fn base64url_matches_reference_at_every_length() {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD as REFERENCE;
        let data: Vec<u8> = (0..400u32).map(|i| (i.wrapping_mul(131) ^ (i >> 3)) as u8).collect();
        for len in 0..data.len() {
            let text = REFERENCE.encode(&data[..len]);
            let mut buf = [0u8; 512];
            assert_eq!(decode_into(&text, &mut buf).unwrap(), &data[..len], "{len}");
            let mut uninit = [MaybeUninit::<u8>::uninit(); 512];
            assert_eq!(decode_into_uninit(&text, &mut uninit).unwrap(), &data[..len], "{len}");
            // One character outside the URL-safe alphabet anywhere in the text is refused.
            for (i, bad) in [(0, b'+'), (text.len() / 2, b'/'), (text.len().saturating_sub(1), b'=')] {
                if i < text.len() {
                    let mut t = text.clone().into_bytes();
                    t[i] = bad;
                    let t = String::from_utf8(t).unwrap();
                    assert!(decode_into(&t, &mut buf).is_err(), "{len} {i}");
                }
            }
        }
        // The exact size fits; one byte less does not.
        let text = REFERENCE.encode(&data[..300]);
        assert!(decode_into_uninit(&text, &mut [MaybeUninit::<u8>::uninit(); 300]).is_ok());
        assert!(decode_into_uninit(&text, &mut [MaybeUninit::<u8>::uninit(); 299]).is_err());
    }

    #[test]
    fn header_checks() {
        let h =
            parse_header(br#"{"alg":"RS256","kid":"k1","jku":"https://evil","x5u":"x","jwk":{"kty":"RSA"}}"#).unwrap();
        assert_eq!(h.kid.as_str(), "k1");
        assert!(matches!(h.kid.0, Cow::Borrowed(_)), "kid borrows from the buffer");
        assert_eq!(
            parse_header(br#"{"alg":"none","kid":"k"}"#).err(),
            Some(VerifyError::UnsupportedAlg)
        );
        assert_eq!(
            parse_header(br#"{"alg":"HS256","kid":"k"}"#).err(),
            Some(VerifyError::UnsupportedAlg)
        );
        assert_eq!(
            parse_header(br#"{"alg":"rs256","kid":"k"}"#).err(),
            Some(VerifyError::UnsupportedAlg)
        );
        assert_eq!(parse_header(br#"{"kid":"k"}"#).err(), Some(VerifyError::UnsupportedAlg));
        assert_eq!(parse_header(br#"{"alg":"RS256"}"#).err(), Some(VerifyError::MissingKid));
        assert_eq!(
            parse_header(br#"{"alg":"RS256","kid":""}"#).err(),
            Some(VerifyError::MissingKid)
        );
        assert_eq!(
            parse_header(br#"{"alg":"RS256","kid":"k","crit":["exp"]}"#).err(),
            Some(VerifyError::CritHeader)
        );
        assert_eq!(
            parse_header(br#"{"alg":"RS256","kid":"k","crit":null}"#).err(),
            Some(VerifyError::CritHeader)
        );
        assert_eq!(
            parse_header(br#"{"alg":"RS256","alg":"RS256","kid":"k"}"#).err(),
            Some(VerifyError::Malformed)
        );
        assert_eq!(
            parse_header(br#"{"alg":"RS256","kid":7}"#).err(),
            Some(VerifyError::Malformed)
        );
        assert_eq!(parse_header(b"[1]").err(), Some(VerifyError::Malformed));
        assert_eq!(parse_header(b"not json").err(), Some(VerifyError::Malformed));
    }

    #[test]
    fn claims_are_read_and_duplicates_rejected() {
        let json = br#"{"sub":"u","iss":"i","exp":10,"cognito:groups":["a","b"],"custom:team":"t1, t2","scope":"x y","other":{"n":[1]}}"#;
        let c = parse_claims(json, SEED).unwrap();
        assert_eq!(c.sub.unwrap().as_str(), "u");
        assert_eq!(c.exp, Some(10));
        assert_eq!(c.groups.as_ref().unwrap().items(true).collect::<Vec<_>>(), ["a", "b"]);
        assert!(c.roles_are_groups && c.roles.is_none());
        assert_eq!(c.teams.as_ref().unwrap().items(true).collect::<Vec<_>>(), ["t1", "t2"]);
        assert_eq!(c.teams.as_ref().unwrap().items(false).collect::<Vec<_>>(), ["t1, t2"]);

        for bad in [
            &br#"{"exp":1,"exp":2}"#[..],
            br#"{"iss":"a","iss":"a"}"#,
            br#"{"exp":"10"}"#,
            br#"{"exp":1.5}"#,
            br#"{"exp":-1}"#,
            br#"{"cognito:groups":[1]}"#,
            br#"{"cognito:groups":["a"],"cognito:groups":["b"]}"#,
            br#"[]"#,
            br#"{"sub":"u"} trailing"#,
            b"",
        ] {
            assert!(parse_claims(bad, SEED).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn escaped_strings_are_decoded() {
        let c = parse_claims(br#"{"\u0069ss":"a\u002fb"}"#, SEED).unwrap();
        assert_eq!(c.iss.unwrap().as_str(), "a/b");
    }

    #[test]
    fn custom_role_claim_is_separate_from_groups() {
        let seed = ClaimsSeed {
            role_claim: "custom:role",
            team_claim: "custom:team",
        };
        let c = parse_claims(br#"{"cognito:groups":["g"],"custom:role":"r1,r2"}"#, seed).unwrap();
        assert_eq!(c.groups.unwrap().items(true).collect::<Vec<_>>(), ["g"]);
        assert_eq!(c.roles.unwrap().items(true).collect::<Vec<_>>(), ["r1", "r2"]);
    }
}
