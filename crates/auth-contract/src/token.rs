//! Reading a compact JWS without trusting it: the size limit, the three parts, strict base64url
//! into caller buffers, and the claims as borrowing structs. The verifier (`cognito-jwt`) checks
//! the signature on top of this; the account functions read claims of a token Cognito has just
//! accepted. Both use this one reader.

use std::borrow::Cow;
use std::fmt;
use std::mem::MaybeUninit;

use base64_simd::{AsOut as _, Out, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Tokens longer than this are refused before any parsing, everywhere. Cognito's are far
/// smaller.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Room for the decoded payload of the largest token accepted.
pub const MAX_PAYLOAD_BYTES: usize = MAX_TOKEN_BYTES / 4 * 3;
/// How many extra claims (beyond the standard ones) one parse can capture.
pub const MAX_EXTRA_CLAIMS: usize = 4;

/// The claim Cognito puts a user's groups in.
pub const GROUPS_CLAIM: &str = "cognito:groups";

/// The token is not a well-formed JWS, or its claims are not a readable JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("token is not a well-formed JWS")]
pub struct MalformedToken;

/// The three parts of a compact JWS, still encoded.
#[derive(Debug, Clone, Copy)]
pub struct Parts<'t> {
    /// The encoded JOSE header.
    pub header: &'t str,
    /// The encoded claims.
    pub payload: &'t str,
    /// The encoded signature (empty for `alg: none`).
    pub signature: &'t str,
    /// `header.payload`: the bytes the signature covers.
    pub signed: &'t str,
}

/// Splits a compact JWS at its first and last dot.
pub fn split(token: &str) -> Result<Parts<'_>, MalformedToken> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(MalformedToken);
    }
    // SIMD searches for the first and last dot. A dot inside the payload needs no search of its
    // own: base64url has no `.`, so decoding that part fails.
    let bytes = token.as_bytes();
    let first = memchr::memchr(b'.', bytes).ok_or(MalformedToken)?;
    let last = memchr::memrchr(b'.', bytes).ok_or(MalformedToken)?;
    if last <= first {
        return Err(MalformedToken);
    }
    let (Some(header), Some(payload), Some(signature), Some(signed)) = (
        token.get(..first),
        token.get(first + 1..last),
        token.get(last + 1..),
        token.get(..last),
    ) else {
        return Err(MalformedToken);
    };
    // An empty signature (`alg: none`) gets as far as the header check, which names it.
    if header.is_empty() || payload.is_empty() {
        return Err(MalformedToken);
    }
    Ok(Parts {
        header,
        payload,
        signature,
        signed,
    })
}

/// Strict base64url without padding into `buf`, which need not be initialized first (a
/// payload buffer is 6 KB, and zeroing it is wasted work); answers the decoded prefix.
pub fn decode_into<'b>(input: &str, buf: &'b mut [MaybeUninit<u8>]) -> Result<&'b [u8], MalformedToken> {
    decode_out(input, buf.as_out())
}

fn decode_out<'b>(input: &str, buf: Out<'b, [u8]>) -> Result<&'b [u8], MalformedToken> {
    // base64-simd (SIMD picked at run time) with the no-padding URL-safe alphabet rejects `=`,
    // a length of 1 mod 4 and non-zero spare bits in the last character. `decode` panics on a
    // short buffer, so the length is checked first and an oversized part fails cleanly.
    let bytes = input.as_bytes();
    let needed = URL_SAFE_NO_PAD.decoded_length(bytes).map_err(|_| MalformedToken)?;
    if needed > buf.len() {
        return Err(MalformedToken);
    }
    URL_SAFE_NO_PAD
        .decode(bytes, buf)
        .map(|decoded| &*decoded)
        .map_err(|_| MalformedToken)
}

/// A string that borrows from the input unless JSON escapes forced a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BStr<'a>(pub Cow<'a, str>);

impl BStr<'_> {
    /// The text.
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

/// A claim that is either one string or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrList<'a> {
    /// `"a"` (or `"a,b"`, see [`StrList::items`]).
    One(BStr<'a>),
    /// `["a", "b"]`.
    Many(Vec<BStr<'a>>),
}

impl StrList<'_> {
    /// The values; a single string is read as a comma-separated list when `split` is set.
    /// Values are trimmed and empty ones dropped.
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

    /// [`Self::items`] (split), owned.
    pub fn to_vec(&self) -> Vec<String> {
        self.items(true).map(str::to_owned).collect()
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

/// The claims a verifier or a handler reads, borrowed from the decoded payload. A claim of an
/// unexpected type, or one present twice, makes the whole payload unreadable: two `exp`
/// members must not let the parser pick one.
#[derive(Debug, Default)]
pub struct Claims<'a> {
    /// `iss`.
    pub iss: Option<BStr<'a>>,
    /// `sub`.
    pub sub: Option<BStr<'a>>,
    /// `token_use` (`access` or `id` from Cognito).
    pub token_use: Option<BStr<'a>>,
    /// `client_id` (access tokens).
    pub client_id: Option<BStr<'a>>,
    /// `aud` (id tokens).
    pub aud: Option<StrList<'a>>,
    /// `username` (access tokens).
    pub username: Option<BStr<'a>>,
    /// `cognito:username` (id tokens).
    pub cognito_username: Option<BStr<'a>>,
    /// `scope`, space-separated.
    pub scope: Option<BStr<'a>>,
    /// `origin_jti`: the same for every token of one sign-in session.
    pub origin_jti: Option<BStr<'a>>,
    /// `exp`, Unix seconds.
    pub exp: Option<u64>,
    /// `nbf`, Unix seconds.
    pub nbf: Option<u64>,
    /// `iat`, Unix seconds.
    pub iat: Option<u64>,
    /// `auth_time`, Unix seconds: when the user last presented a credential.
    pub auth_time: Option<u64>,
    /// `cognito:groups`.
    pub groups: Option<StrList<'a>>,
    /// The extra claims asked for, in the order asked ([`ClaimNames::extra`]).
    pub extra: [Option<StrList<'a>>; MAX_EXTRA_CLAIMS],
}

/// Which extra claims to capture besides the standard ones (a role or team claim, say).
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaimNames<'c> {
    /// At most [`MAX_EXTRA_CLAIMS`] names; more are ignored.
    pub extra: &'c [&'c str],
}

/// Parses a decoded payload.
pub fn parse_claims<'a>(json: &'a [u8], names: ClaimNames<'_>) -> Result<Claims<'a>, MalformedToken> {
    // One UTF-8 check of the whole payload; parsing from `str` then skips the per-string checks.
    let json = std::str::from_utf8(json).map_err(|_| MalformedToken)?;
    let mut de = serde_json::Deserializer::from_str(json);
    let claims = names.deserialize(&mut de).map_err(|_| MalformedToken)?;
    de.end().map_err(|_| MalformedToken)?;
    Ok(claims)
}

/// Decodes a token's payload and hands its claims to `read`, without checking the signature:
/// only for a token someone trusted has just accepted (Cognito, or the verifier).
pub fn read_unverified<R>(
    token: &str,
    names: ClaimNames<'_>,
    read: impl FnOnce(&Claims<'_>) -> R,
) -> Result<R, MalformedToken> {
    let parts = split(token)?;
    let mut buf = [MaybeUninit::<u8>::uninit(); MAX_PAYLOAD_BYTES];
    let claims = parse_claims(decode_into(parts.payload, &mut buf)?, names)?;
    Ok(read(&claims))
}

impl<'de> DeserializeSeed<'de> for ClaimNames<'_> {
    type Value = Claims<'de>;

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

impl<'de> Visitor<'de> for ClaimNames<'_> {
    type Value = Claims<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut c = Claims::default();
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
                "origin_jti" => once(&mut c.origin_jti, map.next_value()?, k)?,
                "exp" => once(&mut c.exp, map.next_value()?, k)?,
                "nbf" => once(&mut c.nbf, map.next_value()?, k)?,
                "iat" => once(&mut c.iat, map.next_value()?, k)?,
                "auth_time" => once(&mut c.auth_time, map.next_value()?, k)?,
                _ => {
                    let is_groups = k == GROUPS_CLAIM;
                    let extra = self
                        .extra
                        .iter()
                        .take(MAX_EXTRA_CLAIMS)
                        .position(|name| *name == k && !is_groups);
                    match (is_groups, extra) {
                        (true, _) => once(&mut c.groups, map.next_value()?, k)?,
                        (false, Some(i)) => {
                            let slot = c.extra.get_mut(i).ok_or_else(|| de::Error::custom("claim slot"))?;
                            once(slot, map.next_value()?, k)?;
                        }
                        (false, None) => {
                            map.next_value::<IgnoredAny>()?;
                        }
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

    const NAMES: ClaimNames<'static> = ClaimNames {
        extra: &["custom:team", "custom:role"],
    };

    fn decode_init<'b>(input: &str, buf: &'b mut [u8]) -> Result<&'b [u8], MalformedToken> {
        decode_out(input, buf.as_out())
    }

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
        assert!(decode_init(p.payload, &mut [0u8; 8]).is_err());
        let p = split("a.b.c.").unwrap();
        assert_eq!((p.payload, p.signature), ("b.c", ""));
        let long = format!("a.{}.c", "b".repeat(MAX_TOKEN_BYTES));
        assert!(split(&long).is_err(), "oversize tokens are refused unparsed");
    }

    #[test]
    fn base64url_is_strict() {
        let mut buf = [0u8; 16];
        assert_eq!(decode_init("aGk", &mut buf).unwrap(), b"hi");
        for bad in ["aGk=", "aG+k", "aG/k", "a", "aGk*", "aGl"] {
            assert!(decode_init(bad, &mut buf).is_err(), "{bad}");
        }
        let mut small = [0u8; 2];
        assert!(decode_init("aGVsbG8", &mut small).is_err());
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
            assert_eq!(decode_init(&text, &mut buf).unwrap(), &data[..len], "{len}");
            let mut uninit = [MaybeUninit::<u8>::uninit(); 512];
            assert_eq!(decode_into(&text, &mut uninit).unwrap(), &data[..len], "{len}");
            // One character outside the URL-safe alphabet anywhere in the text is refused.
            for (i, bad) in [(0, b'+'), (text.len() / 2, b'/'), (text.len().saturating_sub(1), b'=')] {
                if i < text.len() {
                    let mut t = text.clone().into_bytes();
                    t[i] = bad;
                    let t = String::from_utf8(t).unwrap();
                    assert!(decode_init(&t, &mut buf).is_err(), "{len} {i}");
                }
            }
        }
        // The exact size fits; one byte less does not.
        let text = REFERENCE.encode(&data[..300]);
        assert!(decode_into(&text, &mut [MaybeUninit::<u8>::uninit(); 300]).is_ok());
        assert!(decode_into(&text, &mut [MaybeUninit::<u8>::uninit(); 299]).is_err());
    }

    #[test]
    fn claims_are_read_and_duplicates_rejected() {
        let json = br#"{"sub":"u","iss":"i","exp":10,"cognito:groups":["a","b"],"custom:team":"t1, t2","scope":"x y","origin_jti":"o","auth_time":7,"other":{"n":[1]}}"#;
        let c = parse_claims(json, NAMES).unwrap();
        assert_eq!(c.sub.unwrap().as_str(), "u");
        assert_eq!((c.exp, c.auth_time), (Some(10), Some(7)));
        assert_eq!(c.origin_jti.unwrap().as_str(), "o");
        assert_eq!(c.groups.as_ref().unwrap().to_vec(), ["a", "b"]);
        let team = c.extra[0].as_ref().unwrap();
        assert_eq!(team.items(true).collect::<Vec<_>>(), ["t1", "t2"]);
        assert_eq!(team.items(false).collect::<Vec<_>>(), ["t1, t2"]);
        assert!(c.extra[1].is_none(), "custom:role absent");

        for bad in [
            &br#"{"exp":1,"exp":2}"#[..],
            br#"{"iss":"a","iss":"a"}"#,
            br#"{"exp":"10"}"#,
            br#"{"exp":1.5}"#,
            br#"{"exp":-1}"#,
            br#"{"auth_time":1,"auth_time":2}"#,
            br#"{"auth_time":"1"}"#,
            br#"{"cognito:groups":[1]}"#,
            br#"{"cognito:groups":["a"],"cognito:groups":["b"]}"#,
            br#"{"custom:team":"a","custom:team":"b"}"#,
            br#"[]"#,
            br#"{"sub":"u"} trailing"#,
            b"",
        ] {
            assert!(parse_claims(bad, NAMES).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn escaped_strings_are_decoded() {
        let c = parse_claims(br#"{"\u0069ss":"a\u002fb"}"#, NAMES).unwrap();
        assert_eq!(c.iss.unwrap().as_str(), "a/b");
    }

    #[test]
    fn groups_asked_as_an_extra_claim_stay_groups() {
        let names = ClaimNames {
            extra: &["cognito:groups", "custom:role"],
        };
        let c = parse_claims(br#"{"cognito:groups":["g"],"custom:role":"r1,r2"}"#, names).unwrap();
        assert_eq!(c.groups.unwrap().to_vec(), ["g"]);
        assert!(c.extra[0].is_none());
        assert_eq!(c.extra[1].as_ref().unwrap().to_vec(), ["r1", "r2"]);
    }

    #[test]
    fn unverified_reads_see_the_payload() {
        use base64::Engine as _;
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"1","cognito:groups":["admin"]}"#);
        let token = format!("h.{payload}.s");
        let groups = read_unverified(&token, ClaimNames::default(), |c| {
            c.groups.as_ref().map(StrList::to_vec).unwrap_or_default()
        });
        assert_eq!(groups.unwrap(), ["admin"]);
        for bad in ["not-a-jwt", "a.!!!.c", "a..c"] {
            assert_eq!(
                read_unverified(bad, ClaimNames::default(), |_| ()),
                Err(MalformedToken),
                "{bad}"
            );
        }
    }
}
