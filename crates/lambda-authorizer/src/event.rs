//! The authorizer event, deserialized straight from its JSON keeping only what the authorizer
//! reads: `version`, `type`, `methodArn`, `routeArn`, `authorizationToken`, the Authorization
//! header(s) in `headers` and `multiValueHeaders`. Everything else (the REST request context,
//! other headers, query parameters, `identitySource`) is skimmed by the parser without being
//! built, so a 3.5 KB REST REQUEST event costs a scan and a few small strings.
//!
//! Any JSON is accepted: a field of an unexpected type is recorded as such, never a
//! deserialization error, so every event reaches the handler and gets the same outcome whether
//! it arrives as text (the Lambda binary) or as a `serde_json::Value` ([`super::handler`]).
//!
//! The kept strings are `String`s by default (the Lambda runtime needs `DeserializeOwned`) or
//! `Cow<str>`s borrowed from the input where it has no escapes ([`BorrowedEvent`]).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFormat {
    /// REST API TOKEN authorizer: `authorizationToken` + `methodArn`.
    Token,
    /// REST API (or HTTP API payload 1.0) REQUEST authorizer: headers + `methodArn`.
    Request,
    /// HTTP API payload 2.0: headers + `routeArn`.
    HttpV2,
}

/// Where the bearer token came from, before parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    Missing,
    /// Several Authorization headers (or a header and a differently-cased twin).
    Ambiguous,
    Value(&'a str),
}

#[derive(Debug)]
pub struct Inbound<'a> {
    pub format: EventFormat,
    pub credential: Credential<'a>,
    pub arn: &'a str,
}

/// How a kept string is stored: `String` (owned) or `Cow<str>` (borrowed when unescaped).
pub trait EventText<'de>: Sized + AsRef<str> {
    fn borrowed(s: &'de str) -> Self;
    fn copied(s: &str) -> Self;
    fn owned(s: String) -> Self;
}

impl<'de> EventText<'de> for String {
    fn borrowed(s: &'de str) -> Self {
        s.to_owned()
    }
    fn copied(s: &str) -> Self {
        s.to_owned()
    }
    fn owned(s: String) -> Self {
        s
    }
}

impl<'de: 'a, 'a> EventText<'de> for Cow<'a, str> {
    fn borrowed(s: &'de str) -> Self {
        Cow::Borrowed(s)
    }
    fn copied(s: &str) -> Self {
        Cow::Owned(s.to_owned())
    }
    fn owned(s: String) -> Self {
        Cow::Owned(s)
    }
}

/// A JSON value where the authorizer wants a string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Field<S> {
    #[default]
    Absent,
    Null,
    Text(S),
    /// A number, boolean, array or object.
    Other,
}

impl<S: AsRef<str>> Field<S> {
    fn text(&self) -> Option<&str> {
        match self {
            Field::Text(s) => Some(s.as_ref()),
            _ => None,
        }
    }
}

/// The Authorization entries of a header map, found case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum HeaderAuth<S> {
    /// No `headers` object, no Authorization entry, or only a null one.
    #[default]
    Missing,
    /// Two entries, or one that is not a string.
    Ambiguous,
    Value(S),
}

/// An API Gateway authorizer event (REST TOKEN, REST REQUEST or HTTP API 2.0), reduced to the
/// fields the authorizer reads. A repeated top-level key keeps its last value, as a
/// `serde_json::Value` would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerEvent<S = String> {
    /// False for JSON that is not an object (refused by the handler).
    pub is_object: bool,
    /// `version` (`2.0` for HTTP API payload 2.0).
    pub version: Field<S>,
    /// `type` (`TOKEN` or `REQUEST`).
    pub type_: Field<S>,
    /// `methodArn` (REST).
    pub method_arn: Field<S>,
    /// `routeArn` (HTTP API).
    pub route_arn: Field<S>,
    /// `authorizationToken` (TOKEN events).
    pub authorization_token: Field<S>,
    /// The `Authorization` entry of `headers`.
    pub authorization_header: HeaderAuth<S>,
    /// How many Authorization values `multiValueHeaders` holds (an entry that is not an array
    /// counts one); `None` without a `multiValueHeaders` object.
    pub multi_value_authorizations: Option<usize>,
}

/// Borrows from the input where the JSON strings have no escapes.
pub type BorrowedEvent<'a> = AuthorizerEvent<Cow<'a, str>>;

impl<S> Default for AuthorizerEvent<S> {
    fn default() -> Self {
        Self {
            is_object: false,
            version: Field::Absent,
            type_: Field::Absent,
            method_arn: Field::Absent,
            route_arn: Field::Absent,
            authorization_token: Field::Absent,
            authorization_header: HeaderAuth::Missing,
            multi_value_authorizations: None,
        }
    }
}

impl<S: AsRef<str>> AuthorizerEvent<S> {
    /// The event format, the credential and the method or route ARN, or why the event is
    /// unusable.
    pub fn inbound(&self) -> Result<Inbound<'_>, &'static str> {
        if !self.is_object {
            return Err("event is not a JSON object");
        }
        if self.version.text() == Some("2.0") {
            let arn = self.route_arn.text().ok_or("routeArn missing")?;
            return Ok(Inbound {
                format: EventFormat::HttpV2,
                credential: self.header_credential(),
                arn,
            });
        }
        match self.type_.text() {
            Some("TOKEN") => {
                let arn = self.method_arn.text().ok_or("methodArn missing")?;
                let credential = match &self.authorization_token {
                    Field::Absent | Field::Null => Credential::Missing,
                    Field::Text(s) => Credential::Value(s.as_ref()),
                    Field::Other => Credential::Ambiguous,
                };
                Ok(Inbound {
                    format: EventFormat::Token,
                    credential,
                    arn,
                })
            }
            Some("REQUEST") => {
                let arn = self.method_arn.text().ok_or("methodArn missing")?;
                let mut credential = self.header_credential();
                // multiValueHeaders shows repeated headers that `headers` collapses to the last one.
                if self.multi_value_authorizations.is_some_and(|n| n > 1) {
                    credential = Credential::Ambiguous;
                }
                Ok(Inbound {
                    format: EventFormat::Request,
                    credential,
                    arn,
                })
            }
            _ => Err("not an API Gateway authorizer event"),
        }
    }

    fn header_credential(&self) -> Credential<'_> {
        match &self.authorization_header {
            HeaderAuth::Missing => Credential::Missing,
            HeaderAuth::Ambiguous => Credential::Ambiguous,
            HeaderAuth::Value(s) => Credential::Value(s.as_ref()),
        }
    }
}

// ---------------------------------------------------------------- deserialization

const AUTHORIZATION: &str = "authorization";

impl<'de, S: EventText<'de>> Deserialize<'de> for AuthorizerEvent<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EventVisitor(PhantomData))
    }
}

/// Skims an array without building it; returns its length.
fn skim_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<usize, A::Error> {
    let mut n = 0_usize;
    while seq.next_element::<IgnoredAny>()?.is_some() {
        n = n.saturating_add(1);
    }
    Ok(n)
}

fn skim_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Implements the visitor methods for scalars, arrays and objects that all give one value.
macro_rules! every_other_type {
    ($value:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            skim_seq(seq)?;
            Ok($value)
        }
    };
}

struct EventVisitor<S>(PhantomData<S>);

impl<'de, S: EventText<'de>> Visitor<'de> for EventVisitor<S> {
    type Value = AuthorizerEvent<S>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    every_other_type!(AuthorizerEvent::default());

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(AuthorizerEvent::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(AuthorizerEvent::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut ev = AuthorizerEvent {
            is_object: true,
            ..AuthorizerEvent::default()
        };
        while let Some(key) = map.next_key::<TopKey>()? {
            match key {
                TopKey::Version => ev.version = map.next_value()?,
                TopKey::Type => ev.type_ = map.next_value()?,
                TopKey::MethodArn => ev.method_arn = map.next_value()?,
                TopKey::RouteArn => ev.route_arn = map.next_value()?,
                TopKey::AuthorizationToken => ev.authorization_token = map.next_value()?,
                TopKey::Headers => ev.authorization_header = map.next_value()?,
                TopKey::MultiValueHeaders => ev.multi_value_authorizations = map.next_value::<MultiCount>()?.0,
                TopKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(ev)
    }
}

/// A top-level key, matched exactly without allocating.
enum TopKey {
    Version,
    Type,
    MethodArn,
    RouteArn,
    AuthorizationToken,
    Headers,
    MultiValueHeaders,
    Other,
}

impl<'de> Deserialize<'de> for TopKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TopKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, k: &str) -> Result<TopKey, E> {
                Ok(match k {
                    "version" => TopKey::Version,
                    "type" => TopKey::Type,
                    "methodArn" => TopKey::MethodArn,
                    "routeArn" => TopKey::RouteArn,
                    "authorizationToken" => TopKey::AuthorizationToken,
                    "headers" => TopKey::Headers,
                    "multiValueHeaders" => TopKey::MultiValueHeaders,
                    _ => TopKey::Other,
                })
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// Whether a header name is `Authorization`, in any case, without allocating.
struct IsAuthorization(bool);

impl<'de> Deserialize<'de> for IsAuthorization {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IsAuthorization;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a header name")
            }
            fn visit_str<E: de::Error>(self, k: &str) -> Result<IsAuthorization, E> {
                Ok(IsAuthorization(k.eq_ignore_ascii_case(AUTHORIZATION)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

impl<'de, S: EventText<'de>> Deserialize<'de> for Field<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<S>(PhantomData<S>);
        impl<'de, S: EventText<'de>> Visitor<'de> for V<S> {
            type Value = Field<S>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            every_other_type!(Field::Other);
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field<S>, A::Error> {
                skim_map(map)?;
                Ok(Field::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Field<S>, E> {
                Ok(Field::Null)
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Field<S>, E> {
                Ok(Field::Text(S::borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Field<S>, E> {
                Ok(Field::Text(S::copied(s)))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Field<S>, E> {
                Ok(Field::Text(S::owned(s)))
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

/// `headers`: keeps the Authorization value, skips every other entry without building it.
impl<'de, S: EventText<'de>> Deserialize<'de> for HeaderAuth<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<S>(PhantomData<S>);
        impl<'de, S: EventText<'de>> Visitor<'de> for V<S> {
            type Value = HeaderAuth<S>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            every_other_type!(HeaderAuth::Missing);
            fn visit_unit<E: de::Error>(self) -> Result<HeaderAuth<S>, E> {
                Ok(HeaderAuth::Missing)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<HeaderAuth<S>, E> {
                Ok(HeaderAuth::Missing)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderAuth<S>, A::Error> {
                let mut found = HeaderAuth::Missing;
                while let Some(IsAuthorization(matched)) = map.next_key()? {
                    if !matched {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    let value: Field<S> = map.next_value()?;
                    // Entries in document order: once one is found (a null one does not count)
                    // any further entry makes the credential ambiguous. The rest of the map must
                    // still be read.
                    found = match (found, value) {
                        (HeaderAuth::Missing, Field::Absent | Field::Null) => HeaderAuth::Missing,
                        (HeaderAuth::Missing, Field::Text(s)) => HeaderAuth::Value(s),
                        _ => HeaderAuth::Ambiguous,
                    };
                }
                Ok(found)
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

/// `multiValueHeaders`: counts the Authorization values, skipping everything else.
struct MultiCount(Option<usize>);

impl<'de> Deserialize<'de> for MultiCount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MultiCount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            every_other_type!(MultiCount(None));
            fn visit_unit<E: de::Error>(self) -> Result<MultiCount, E> {
                Ok(MultiCount(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<MultiCount, E> {
                Ok(MultiCount(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MultiCount, A::Error> {
                let mut n = 0_usize;
                while let Some(IsAuthorization(matched)) = map.next_key()? {
                    if matched {
                        n = n.saturating_add(map.next_value::<ValueCount>()?.0);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(MultiCount(Some(n)))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// An array's length; any other value counts one.
struct ValueCount(usize);

impl<'de> Deserialize<'de> for ValueCount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ValueCount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<ValueCount, E> {
                Ok(ValueCount(1))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<ValueCount, E> {
                Ok(ValueCount(1))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<ValueCount, E> {
                Ok(ValueCount(1))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<ValueCount, E> {
                Ok(ValueCount(1))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<ValueCount, E> {
                Ok(ValueCount(1))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ValueCount, E> {
                Ok(ValueCount(1))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ValueCount, A::Error> {
                skim_map(map)?;
                Ok(ValueCount(1))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ValueCount, A::Error> {
                skim_seq(seq).map(ValueCount)
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::tests::arb_event_json;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    /// Parses the text three ways (owned, borrowed, through a `Value`); all must agree.
    fn parse(text: &str) -> AuthorizerEvent {
        let owned: AuthorizerEvent = serde_json::from_str(text).unwrap();
        let from_slice: AuthorizerEvent = serde_json::from_slice(text.as_bytes()).unwrap();
        let borrowed: BorrowedEvent<'_> = serde_json::from_str(text).unwrap();
        let value: Value = serde_json::from_str(text).unwrap();
        let via_value = BorrowedEvent::deserialize(&value).unwrap();
        assert_eq!(owned, from_slice, "{text}");
        assert_eq!(owned, to_owned(&borrowed), "{text}");
        assert_eq!(owned, to_owned(&via_value), "{text}");
        owned
    }

    fn to_owned(e: &BorrowedEvent<'_>) -> AuthorizerEvent {
        let f = |f: &Field<Cow<'_, str>>| match f {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Text(s) => Field::Text(s.to_string()),
            Field::Other => Field::Other,
        };
        AuthorizerEvent {
            is_object: e.is_object,
            version: f(&e.version),
            type_: f(&e.type_),
            method_arn: f(&e.method_arn),
            route_arn: f(&e.route_arn),
            authorization_token: f(&e.authorization_token),
            authorization_header: match &e.authorization_header {
                HeaderAuth::Missing => HeaderAuth::Missing,
                HeaderAuth::Ambiguous => HeaderAuth::Ambiguous,
                HeaderAuth::Value(s) => HeaderAuth::Value(s.to_string()),
            },
            multi_value_authorizations: e.multi_value_authorizations,
        }
    }

    fn credential(text: &str) -> Result<(EventFormat, Option<String>), &'static str> {
        let e = parse(text);
        let i = e.inbound()?;
        let c = match i.credential {
            Credential::Missing => None,
            Credential::Ambiguous => Some("<ambiguous>".to_owned()),
            Credential::Value(v) => Some(v.to_owned()),
        };
        Ok((i.format, c))
    }

    #[test]
    fn recognises_the_three_formats() {
        let e = parse(r#"{"type": "TOKEN", "authorizationToken": "Bearer x", "methodArn": "arn:m"}"#);
        let i = e.inbound().unwrap();
        assert_eq!(
            (i.format, i.credential, i.arn),
            (EventFormat::Token, Credential::Value("Bearer x"), "arn:m")
        );

        let e = parse(r#"{"type": "REQUEST", "methodArn": "arn:m", "headers": {"AuThOrIzAtIoN": "Bearer y"}}"#);
        let i = e.inbound().unwrap();
        assert_eq!(
            (i.format, i.credential),
            (EventFormat::Request, Credential::Value("Bearer y"))
        );

        // Field order does not matter: `version` may come after the headers.
        let e = parse(
            r#"{"headers": {"authorization": "Bearer z"}, "routeArn": "arn:r", "type": "REQUEST", "version": "2.0"}"#,
        );
        let i = e.inbound().unwrap();
        assert_eq!(
            (i.format, i.credential, i.arn),
            (EventFormat::HttpV2, Credential::Value("Bearer z"), "arn:r")
        );
    }

    #[test]
    fn header_names_match_in_any_case() {
        for name in ["authorization", "Authorization", "AUTHORIZATION", "aUtHoRiZaTiOn"] {
            let text = format!(r#"{{"type": "REQUEST", "methodArn": "a", "headers": {{"{name}": "Bearer t"}}}}"#);
            assert_eq!(
                credential(&text),
                Ok((EventFormat::Request, Some("Bearer t".into()))),
                "{name}"
            );
        }
        // Near misses are other headers.
        for name in [
            "authorizatio",
            "authorizations",
            "x-authorization",
            "proxy-authorization",
        ] {
            let text = format!(r#"{{"type": "REQUEST", "methodArn": "a", "headers": {{"{name}": "Bearer t"}}}}"#);
            assert_eq!(credential(&text), Ok((EventFormat::Request, None)), "{name}");
        }
        // An escaped key still matches once unescaped.
        let text = r#"{"type": "REQUEST", "methodArn": "a", "headers": {"Authori\u007aation": "Bearer t"}}"#;
        assert_eq!(credential(text), Ok((EventFormat::Request, Some("Bearer t".into()))));
    }

    #[test]
    fn missing_and_ambiguous_credentials() {
        let missing = Ok((EventFormat::Request, None));
        let ambiguous = Ok((EventFormat::Request, Some("<ambiguous>".to_owned())));
        let r = |rest: &str| format!(r#"{{"type": "REQUEST", "methodArn": "a"{rest}}}"#);
        assert_eq!(credential(&r("")), missing);
        assert_eq!(credential(&r(r#", "headers": {"Host": "h"}"#)), missing);
        assert_eq!(credential(&r(r#", "headers": null"#)), missing);
        assert_eq!(credential(&r(r#", "headers": ["Authorization", "Bearer a"]"#)), missing);
        assert_eq!(credential(&r(r#", "headers": {"Authorization": null}"#)), missing);
        assert_eq!(
            credential(&r(
                r#", "headers": {"authorization": "Bearer a", "Authorization": "Bearer b"}"#
            )),
            ambiguous
        );
        assert_eq!(
            credential(&r(r#", "headers": {"Authorization": ["Bearer a"]}"#)),
            ambiguous
        );
        assert_eq!(credential(&r(r#", "headers": {"Authorization": 7}"#)), ambiguous);
        assert_eq!(
            credential(&r(
                r#", "headers": {"Authorization": "Bearer b"}, "multiValueHeaders": {"Authorization": ["Bearer a", "Bearer b"]}"#
            )),
            ambiguous
        );
        assert_eq!(
            credential(&r(
                r#", "headers": {"Authorization": "Bearer b"}, "multiValueHeaders": {"authorization": ["Bearer b"], "Host": ["h", "i"]}"#
            )),
            Ok((EventFormat::Request, Some("Bearer b".into())))
        );
        assert_eq!(
            credential(&r(
                r#", "headers": {"Authorization": "Bearer b"}, "multiValueHeaders": {"authorization": ["x"], "AUTHORIZATION": "y"}"#
            )),
            ambiguous
        );

        let t = |rest: &str| format!(r#"{{"type": "TOKEN", "methodArn": "a"{rest}}}"#);
        assert_eq!(credential(&t("")), Ok((EventFormat::Token, None)));
        assert_eq!(
            credential(&t(r#", "authorizationToken": null"#)),
            Ok((EventFormat::Token, None))
        );
        assert_eq!(
            credential(&t(r#", "authorizationToken": ["x"]"#)),
            Ok((EventFormat::Token, Some("<ambiguous>".into())))
        );
        // A TOKEN event ignores headers; an HTTP API event ignores multiValueHeaders.
        assert_eq!(
            credential(&t(r#", "headers": {"Authorization": "Bearer h"}"#)),
            Ok((EventFormat::Token, None))
        );
        let v2 = r#"{"version": "2.0", "routeArn": "r", "headers": {"authorization": "Bearer h"},
                     "multiValueHeaders": {"authorization": ["a", "b"]}}"#;
        assert_eq!(credential(v2), Ok((EventFormat::HttpV2, Some("Bearer h".into()))));
    }

    #[test]
    fn a_huge_header_map_is_skimmed() {
        let mut headers = serde_json::Map::new();
        for i in 0..5000 {
            headers.insert(format!("X-Header-{i}"), json!(format!("value {i} with \"quotes\"")));
        }
        headers.insert("X-Nested".into(), json!({"a": [1, 2, {"b": null}]}));
        headers.insert("authorization".into(), json!("Bearer deep"));
        let event =
            json!({"type": "REQUEST", "methodArn": "arn", "headers": headers, "requestContext": {"x": [headers]}});
        let text = event.to_string();
        assert!(text.len() > 100_000);
        assert_eq!(
            credential(&text),
            Ok((EventFormat::Request, Some("Bearer deep".into())))
        );
    }

    #[test]
    fn escaped_strings_are_unescaped_and_plain_ones_borrowed() {
        let text = r#"{"type": "TOKEN", "authorizationToken": "Bearer a\"b\\c\u00e9", "methodArn": "arn:m"}"#;
        let e: BorrowedEvent<'_> = serde_json::from_str(text).unwrap();
        let Field::Text(token) = &e.authorization_token else {
            panic!("{e:?}")
        };
        assert_eq!(token, "Bearer a\"b\\c\u{e9}");
        assert!(matches!(token, Cow::Owned(_)), "escapes need a copy");
        let Field::Text(arn) = &e.method_arn else {
            panic!("{e:?}")
        };
        assert!(matches!(arn, Cow::Borrowed("arn:m")), "no escapes: borrowed");
        // The type is compared after unescaping, as a `Value` would.
        assert_eq!(
            credential(r#"{"type": "TO\u004bEN", "methodArn": "a", "authorizationToken": "x"}"#),
            Ok((EventFormat::Token, Some("x".into())))
        );
    }

    #[test]
    fn fields_of_other_types_count_as_absent() {
        assert_eq!(
            credential(r#"{"version": 2.0, "type": "TOKEN", "methodArn": "a", "routeArn": "r"}"#),
            Ok((EventFormat::Token, None)),
            "a numeric version is not 2.0"
        );
        assert_eq!(
            parse(r#"{"type": "TOKEN", "methodArn": {"arn": "a"}}"#)
                .inbound()
                .unwrap_err(),
            "methodArn missing"
        );
        assert_eq!(
            parse(r#"{"type": ["TOKEN"], "methodArn": "a"}"#).inbound().unwrap_err(),
            "not an API Gateway authorizer event"
        );
    }

    #[test]
    fn a_repeated_top_level_key_keeps_its_last_value() {
        assert_eq!(
            credential(r#"{"type": "REQUEST", "methodArn": "a", "type": "TOKEN", "authorizationToken": "t"}"#),
            Ok((EventFormat::Token, Some("t".into())))
        );
    }

    #[test]
    fn rejects_other_events() {
        for (text, why) in [
            ("[]", "event is not a JSON object"),
            ("null", "event is not a JSON object"),
            ("\"TOKEN\"", "event is not a JSON object"),
            ("3", "event is not a JSON object"),
            ("{}", "not an API Gateway authorizer event"),
            (r#"{"type": "TOKEN"}"#, "methodArn missing"),
            (r#"{"type": "REQUEST", "routeArn": "r"}"#, "methodArn missing"),
            (r#"{"version": "2.0"}"#, "routeArn missing"),
            (r#"{"version": "2.0", "methodArn": "a"}"#, "routeArn missing"),
            (
                r#"{"type": "EVENT", "methodArn": "a"}"#,
                "not an API Gateway authorizer event",
            ),
        ] {
            assert_eq!(parse(text).inbound().unwrap_err(), why, "{text}");
        }
    }

    #[test]
    fn invalid_json_is_still_an_error() {
        for text in ["", "{", r#"{"type": "TOKEN",}"#, r#"{"headers": {"a": }}"#] {
            assert!(serde_json::from_str::<AuthorizerEvent>(text).is_err(), "{text}");
        }
    }

    proptest! {
        /// Text (owned or borrowed) and `Value` input read the same event, whatever the JSON.
        #[test]
        fn every_input_form_reads_the_same_event(v in arb_event_json()) {
            let text = v.to_string();
            let owned: AuthorizerEvent = serde_json::from_str(&text).unwrap();
            let borrowed: BorrowedEvent<'_> = serde_json::from_str(&text).unwrap();
            let via_value = BorrowedEvent::deserialize(&v).unwrap();
            prop_assert_eq!(&owned, &to_owned(&borrowed));
            prop_assert_eq!(&owned, &to_owned(&via_value));
        }
    }
}
