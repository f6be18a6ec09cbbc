//! Reading requests: the JSON body (size, media type, syntax, per-field errors) and the bearer
//! token. Every failure is an [`ApiError`] with a 4xx status.

use std::collections::BTreeMap;

use auth_contract::bearer::{BearerError, single_bearer_token};
use http::{HeaderMap, header};
use lambda_http::{Body, Request, RequestExt};
use serde_json::{Map, Value};

use crate::inputs::AccessToken;
use crate::{ApiError, FieldError};

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// An optional field sent as `null`: the document types it, so `null` is refused rather than
/// read as absent.
const NULL_REFUSED: &str = "must not be null (leave the field out instead)";

fn body_bytes(body: &Body) -> &[u8] {
    match body {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        // `Body` is non-exhaustive; an unknown kind is treated as no body at all.
        _ => &[],
    }
}

fn is_json_media_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The body as a JSON object, or `None` when the request has no body.
pub fn optional_json_object(request: &Request) -> Result<Option<JsonFields>, ApiError> {
    let bytes = body_bytes(request.body());
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if !is_json_media_type(request.headers()) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::validation(
            "body",
            format!("is not valid JSON (line {}, column {})", e.line(), e.column()),
        )
    })?;
    match value {
        Value::Object(map) => Ok(Some(JsonFields::new(map))),
        _ => Err(ApiError::validation("body", "must be a JSON object")),
    }
}

/// The body as a JSON object; a missing body is a validation error.
pub fn json_object(request: &Request) -> Result<JsonFields, ApiError> {
    optional_json_object(request)?.ok_or_else(|| ApiError::validation("body", "is required"))
}

/// Takes fields out of a JSON object one by one, collecting one error per bad field, so the
/// caller learns about every problem in a single answer. A nested object is read with the same
/// methods ([`JsonFields::required_object`]), its problems named `outer.inner`.
#[derive(Debug)]
pub struct JsonFields {
    map: Map<String, Value>,
    errors: Vec<FieldError>,
    /// What the sources of this object's errors start with: empty for the body, `responses.`
    /// for the object in its `responses` field.
    prefix: String,
}

impl JsonFields {
    /// Fields of a parsed JSON object.
    pub fn new(map: Map<String, Value>) -> Self {
        Self {
            map,
            errors: Vec::new(),
            prefix: String::new(),
        }
    }

    /// Whether a field has been rejected so far.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Whether `source` has been rejected already (so a later rule does not report it twice).
    pub fn rejected(&self, source: &str) -> bool {
        let source = format!("{}{source}", self.prefix);
        self.errors.iter().any(|e| e.source == source)
    }

    /// Adds an error found by the caller (a rule across fields, say).
    pub fn reject(&mut self, source: &str, message: impl Into<String>) {
        self.errors
            .push(FieldError::new(format!("{}{source}", self.prefix), message));
    }

    /// A required object field, its fields read by `read` with these same methods; its problems
    /// are named `name.<field>`, and a field `read` did not take is not a known one.
    pub fn required_object<T>(&mut self, name: &str, read: impl FnOnce(&mut JsonFields) -> Option<T>) -> Option<T> {
        let map = match self.map.remove(name) {
            None | Some(Value::Null) => {
                self.reject(name, "is required");
                return None;
            }
            Some(Value::Object(map)) => map,
            Some(_) => {
                self.reject(name, "must be an object");
                return None;
            }
        };
        let mut nested = JsonFields {
            map,
            errors: Vec::new(),
            prefix: format!("{}{name}.", self.prefix),
        };
        let value = read(&mut nested);
        nested.reject_remaining("is not a known field");
        self.errors.append(&mut nested.errors);
        value
    }

    /// The names of the fields not taken yet that start with `start` (`userAttributes.`).
    pub fn names_starting_with(&self, start: &str) -> Vec<String> {
        self.map.keys().filter(|k| k.starts_with(start)).cloned().collect()
    }

    /// Rejects every field not taken yet with `message` (`is not an answer to SMS_MFA`).
    pub fn reject_remaining(&mut self, message: &str) {
        for name in std::mem::take(&mut self.map).keys() {
            self.reject(name, message);
        }
    }

    /// Drops the fields not taken yet, unread: what they mean depends on a field that was
    /// rejected, which is the error to report.
    pub fn skip_remaining(&mut self) {
        self.map.clear();
    }

    fn take_string(&mut self, name: &str, required: bool) -> Option<String> {
        match self.map.remove(name) {
            None | Some(Value::Null) if required => {
                self.reject(name, "is required");
                None
            }
            None => None,
            Some(Value::Null) => {
                self.reject(name, NULL_REFUSED);
                None
            }
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.reject(name, "must be a string");
                None
            }
        }
    }

    fn validate<T: TryFrom<String, Error = String>>(&mut self, name: &str, raw: String) -> Option<T> {
        match T::try_from(raw) {
            Ok(value) => Some(value),
            Err(message) => {
                self.reject(name, message);
                None
            }
        }
    }

    /// A required string field, as it is (for a check that needs more than the value).
    pub fn required_string(&mut self, name: &str) -> Option<String> {
        self.take_string(name, true)
    }

    /// A required string field, validated into `T`.
    pub fn required<T: TryFrom<String, Error = String>>(&mut self, name: &str) -> Option<T> {
        let raw = self.take_string(name, true)?;
        self.validate(name, raw)
    }

    /// An optional string field, validated into `T` when present.
    pub fn optional<T: TryFrom<String, Error = String>>(&mut self, name: &str) -> Option<T> {
        let raw = self.take_string(name, false)?;
        self.validate(name, raw)
    }

    /// A required JSON object, given as an object or as that object's JSON text (what a browser
    /// client's `JSON.stringify` makes), answered as JSON text.
    pub fn required_json_text(&mut self, name: &str) -> Option<String> {
        match self.map.remove(name) {
            None | Some(Value::Null) => {
                self.reject(name, "is required");
                None
            }
            Some(object @ Value::Object(_)) => Some(object.to_string()),
            Some(Value::String(text)) if serde_json::from_str::<Value>(&text).is_ok_and(|v| v.is_object()) => {
                Some(text)
            }
            Some(_) => {
                self.reject(name, "must be a JSON object, or its JSON text");
                None
            }
        }
    }

    /// An optional object of string values (`{"name": "Ada"}`).
    pub fn optional_string_map(&mut self, name: &str) -> Option<BTreeMap<String, String>> {
        match self.map.remove(name) {
            None => None,
            Some(Value::Null) => {
                self.reject(name, NULL_REFUSED);
                None
            }
            Some(Value::Object(entries)) => {
                let mut out = BTreeMap::new();
                for (key, value) in entries {
                    match value {
                        Value::String(s) => {
                            out.insert(key, s);
                        }
                        _ => self.reject(&format!("{name}.{key}"), "must be a string"),
                    }
                }
                Some(out)
            }
            Some(_) => {
                self.reject(name, "must be an object of strings");
                None
            }
        }
    }

    /// An optional array of strings, each validated into `T`; a bad entry is reported as
    /// `name[index]`.
    pub fn optional_list<T: TryFrom<String, Error = String>>(&mut self, name: &str) -> Option<Vec<T>> {
        match self.map.remove(name) {
            None => None,
            Some(Value::Null) => {
                self.reject(name, NULL_REFUSED);
                None
            }
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    let source = format!("{name}[{i}]");
                    match item {
                        Value::String(s) => {
                            if let Some(v) = self.validate(&source, s) {
                                out.push(v);
                            }
                        }
                        _ => self.reject(&source, "must be a string"),
                    }
                }
                Some(out)
            }
            Some(_) => {
                self.reject(name, "must be an array of strings");
                None
            }
        }
    }

    /// A field that must be present and may be `null` (`{"team": null}` clears a team):
    /// `Some(None)` for `null`, `None` when rejected.
    pub fn required_nullable<T: TryFrom<String, Error = String>>(&mut self, name: &str) -> Option<Option<T>> {
        match self.map.remove(name) {
            None => {
                self.reject(name, "is required (null to clear it)");
                None
            }
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => self.validate(name, s).map(Some),
            Some(_) => {
                self.reject(name, "must be a string or null");
                None
            }
        }
    }

    /// Rejects fields nobody asked for (a misspelt `userName` must not pass silently), then
    /// answers every collected error at once, or the value `build` makes of the parsed fields.
    ///
    /// `build` sees `None` only where a field was rejected, so that case is already an error.
    pub fn finish<T>(mut self, build: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        self.reject_remaining("is not a known field");
        if !self.errors.is_empty() {
            return Err(ApiError::Validation(self.errors));
        }
        build().ok_or_else(|| ApiError::validation("body", "is incomplete"))
    }
}

/// A path parameter (`{username}`), percent-decoded once and validated into `T`; a missing or
/// invalid one is a 400 naming it.
pub fn path_parameter<T: TryFrom<String, Error = String>>(request: &Request, name: &str) -> Result<T, ApiError> {
    let raw = request
        .path_parameters_ref()
        .and_then(|params| params.first(name))
        .ok_or_else(|| ApiError::validation(name, "is required in the path"))?;
    let decoded =
        percent_decode(raw).ok_or_else(|| ApiError::validation(name, "is not valid percent-encoded UTF-8"))?;
    T::try_from(decoded).map_err(|message| ApiError::validation(name, message))
}

/// `percent-encoding` decodes; a `%` not followed by two hex digits, which it would pass
/// through, is refused here instead, as is a result that is not UTF-8.
fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let well_formed = (bytes.iter().enumerate()).filter(|(_, b)| **b == b'%').all(|(i, _)| {
        bytes
            .get(i + 1..i + 3)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8().ok()?;
    Some(decoded.into_owned())
}

/// The route a request came in on: its method and API Gateway resource (`/admin/users/{username}`),
/// from the REST request context or the HTTP API route key; without a request context (a test,
/// a direct invocation), the request's own path.
pub fn route(request: &Request) -> Option<(http::Method, String)> {
    use lambda_http::request::RequestContext;
    let Some(context) = request.request_context_ref() else {
        return Some((request.method().clone(), request.uri().path().to_owned()));
    };
    match context {
        RequestContext::ApiGatewayV1(ctx) => Some((ctx.http_method.clone(), ctx.resource_path.clone()?)),
        RequestContext::ApiGatewayV2(ctx) => {
            let key = ctx.route_key.as_deref()?;
            let (method, resource) = key.split_once(' ')?;
            Some((method.parse().ok()?, resource.to_owned()))
        }
        #[allow(unreachable_patterns)] // other variants exist when more lambda_http features are on
        _ => None,
    }
}

/// The access token of the request's `Authorization` header, under the one bearer rule of
/// [`auth_contract::bearer`]: exactly one header, scheme `Bearer` in any case, one or more
/// spaces, the token. Anything else is a 401.
pub fn bearer_token(headers: &HeaderMap) -> Result<AccessToken, ApiError> {
    let values = headers.get_all(header::AUTHORIZATION).iter().map(|v| v.to_str());
    // A value that is not visible ASCII cannot hold a token: the rule refuses it as malformed.
    let values: Vec<&str> = values.map(|v| v.unwrap_or("\t")).collect();
    let token = single_bearer_token(values.into_iter()).map_err(|e| {
        ApiError::unauthorized(match e {
            BearerError::Missing => "The Authorization header with a Bearer token is required.",
            BearerError::Ambiguous => "Send exactly one Authorization header.",
            BearerError::BadScheme => "The Authorization header must use the Bearer scheme.",
            BearerError::Malformed => "The Authorization header is not valid.",
        })
    })?;
    AccessToken::try_from(token.to_owned()).map_err(|_| ApiError::unauthorized("The bearer token is not well-formed."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::Username;
    use http::HeaderValue;
    use secrecy::ExposeSecret;

    fn request(content_type: Option<&str>, body: &str) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("/auth/sign-in");
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        builder.body(Body::Text(body.to_owned())).expect("request")
    }

    fn codes(err: ApiError) -> (u16, Vec<String>) {
        let status = err.status().as_u16();
        let sources = err.problem().errors.into_iter().map(|e| e.source).collect();
        (status, sources)
    }

    #[test]
    fn oversized_body_is_413_before_parsing() {
        let body = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        let err = json_object(&request(Some("application/json"), &body)).unwrap_err();
        assert_eq!(err.status(), 413);
    }

    #[test]
    fn body_at_the_limit_is_accepted() {
        let pad = MAX_BODY_BYTES - r#"{"a":""}"#.len();
        let body = format!("{{\"a\":\"{}\"}}", "x".repeat(pad));
        assert_eq!(body.len(), MAX_BODY_BYTES);
        assert!(json_object(&request(Some("application/json"), &body)).is_ok());
    }

    #[test]
    fn non_json_media_type_is_415() {
        for ct in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
            let err = json_object(&request(ct, r#"{"a":"b"}"#)).unwrap_err();
            assert_eq!(err.status(), 415, "{ct:?}");
        }
        for ct in [
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/problem+json",
        ] {
            assert!(json_object(&request(Some(ct), r#"{"a":"b"}"#)).is_ok(), "{ct}");
        }
    }

    #[test]
    fn malformed_or_non_object_json_is_400_on_body() {
        for body in ["{", "[1,2]", "\"text\"", "nul", "{\"a\":1,}"] {
            let (status, sources) = codes(json_object(&request(Some("application/json"), body)).unwrap_err());
            assert_eq!((status, sources), (400, vec!["body".to_owned()]), "{body}");
        }
    }

    #[test]
    fn missing_body_is_required_or_none() {
        let (status, sources) = codes(json_object(&request(None, "")).unwrap_err());
        assert_eq!((status, sources), (400, vec!["body".to_owned()]));
        assert!(optional_json_object(&request(None, "  ")).unwrap().is_none());
    }

    #[test]
    fn an_optional_field_sent_as_null_is_refused_not_read_as_absent() {
        let mut fields = json_object(&request(
            Some("application/json"),
            r#"{"password": null, "attributes": null, "groups": null}"#,
        ))
        .unwrap();
        assert!(fields.optional::<Username>("password").is_none());
        assert!(fields.optional_string_map("attributes").is_none());
        assert!(fields.optional_list::<Username>("groups").is_none());
        assert!(fields.optional::<Username>("absent").is_none());
        let (status, mut sources) = codes(fields.finish(|| Some(())).unwrap_err());
        sources.sort();
        assert_eq!(
            (status, sources),
            (
                400,
                vec!["attributes".to_owned(), "groups".to_owned(), "password".to_owned()]
            )
        );
    }

    #[test]
    fn one_error_per_bad_field_including_unknown_ones() {
        let mut fields = json_object(&request(
            Some("application/json"),
            r#"{"username": 5, "userName": "x", "password": null}"#,
        ))
        .unwrap();
        assert!(fields.required::<Username>("username").is_none());
        assert!(fields.required::<Username>("password").is_none());
        let (status, mut sources) = codes(fields.finish(|| Some(())).unwrap_err());
        sources.sort();
        assert_eq!(status, 400);
        assert_eq!(sources, ["password", "userName", "username"]);
    }

    #[test]
    fn nested_objects_are_read_alike_and_name_their_fields() {
        let mut fields = json_object(&request(
            Some("application/json"),
            r#"{"outer": {"name": "ada", "bad": 7, "extra": "x", "inner": {"deep": 1}}, "flat": {}}"#,
        ))
        .unwrap();
        let name = fields.required_object("outer", |outer| {
            assert!(outer.required::<Username>("bad").is_none());
            outer.required_object("inner", |inner| inner.required::<Username>("deep"));
            assert!(outer.rejected("bad"));
            outer.required::<Username>("name")
        });
        assert_eq!(name.map(|n| n.as_str().to_owned()), Some("ada".to_owned()));
        assert_eq!(fields.required_object("missing", |_| Some(())), None);
        let nothing: Option<()> = fields.required_object("flat", |flat| {
            assert!(flat.names_starting_with("").is_empty());
            None
        });
        assert_eq!(nothing, None);
        let (_, mut sources) = codes(fields.finish(|| Some(())).unwrap_err());
        sources.sort();
        assert_eq!(sources, ["missing", "outer.bad", "outer.extra", "outer.inner.deep"]);
    }

    #[test]
    fn what_is_left_of_an_object_is_rejected_or_skipped_as_asked() {
        let body =
            r#"{"a": {"userAttributes.name": "x", "userAttributes.team": "y", "NOPE": "z"}, "b": {"any": 1}, "c": []}"#;
        let mut fields = json_object(&request(Some("application/json"), body)).unwrap();
        fields.required_object("a", |a| {
            assert_eq!(
                a.names_starting_with("userAttributes."),
                ["userAttributes.name", "userAttributes.team"]
            );
            a.reject_remaining("is not an answer");
            Some(())
        });
        fields.required_object("b", |b| {
            b.skip_remaining();
            Some(())
        });
        fields.required_object("c", |_| Some(()));
        let Err(ApiError::Validation(errors)) = fields.finish(|| Some(())) else {
            panic!("errors expected")
        };
        let mut found: Vec<(String, String)> = errors.into_iter().map(|e| (e.source, e.message)).collect();
        found.sort();
        let expected = [
            ("a.NOPE", "is not an answer"),
            ("a.userAttributes.name", "is not an answer"),
            ("a.userAttributes.team", "is not an answer"),
            ("c", "must be an object"),
        ];
        assert_eq!(found, expected.map(|(s, m)| (s.to_owned(), m.to_owned())));
    }

    #[test]
    fn lists_and_nullable_fields() {
        let mut fields = json_object(&request(
            Some("application/json"),
            r#"{"groups": ["admin", 7, "a b"], "team": null, "other": "x"}"#,
        ))
        .unwrap();
        let groups = fields.optional_list::<Username>("groups").unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!(
            fields.required_nullable::<Username>("team").map(|t| t.is_none()),
            Some(true)
        );
        assert!(fields.required_nullable::<Username>("missing").is_none());
        let (_, mut sources) = codes(fields.finish(|| Some(())).unwrap_err());
        sources.sort();
        assert_eq!(sources, ["groups[1]", "groups[2]", "missing", "other"]);
    }

    #[test]
    fn path_parameters_are_decoded_once_and_validated() {
        use std::collections::HashMap;
        let with = |value: &str| {
            http::Request::builder()
                .body(Body::Empty)
                .unwrap()
                .with_path_parameters(HashMap::from([("username".to_owned(), value.to_owned())]))
        };
        let name: Username = path_parameter(&with("ada%40example.com"), "username").unwrap();
        assert_eq!(name.as_str(), "ada@example.com");
        let twice: Username = path_parameter(&with("a%2540b"), "username").unwrap();
        assert_eq!(twice.as_str(), "a%40b", "decoded once only");
        for bad in ["a%20b", "%zz", "%", "%ff%fe"] {
            let err = path_parameter::<Username>(&with(bad), "username").unwrap_err();
            assert_eq!(err.problem().errors[0].source, "username", "{bad}");
        }
        let missing = http::Request::builder().body(Body::Empty).unwrap();
        assert_eq!(
            path_parameter::<Username>(&missing, "username").unwrap_err().status(),
            400
        );
    }

    #[test]
    fn a_stray_or_signed_percent_is_refused_not_decoded() {
        assert_eq!(percent_decode("%+1"), None, "not the byte 1: a sign is no hex digit");
        assert_eq!(percent_decode("%-1"), None);
        assert_eq!(percent_decode("a%4"), None);
        assert_eq!(percent_decode("%E2%82%AC").as_deref(), Some("€"));
        assert_eq!(
            percent_decode("a+b").as_deref(),
            Some("a+b"),
            "`+` is no space in a path"
        );
    }

    #[test]
    fn string_maps_reject_non_string_values() {
        let mut fields = json_object(&request(
            Some("application/json"),
            r#"{"attributes": {"name": "Ada", "age": 3}}"#,
        ))
        .unwrap();
        let map = fields.optional_string_map("attributes").unwrap();
        assert_eq!(map.get("name").map(String::as_str), Some("Ada"));
        let (_, sources) = codes(fields.finish(|| Some(())).unwrap_err());
        assert_eq!(sources, ["attributes.age"]);
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_required() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers).unwrap_err().status(), 401);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("bEaReR abc.def.ghi"));
        assert_eq!(bearer_token(&headers).unwrap().expose_secret(), "abc.def.ghi");
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic dXNlcjpwYXNz"));
        assert_eq!(bearer_token(&headers).unwrap_err().code(), "Unauthorized");
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_token(&headers).unwrap_err().status(), 401);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer a b"));
        assert_eq!(bearer_token(&headers).unwrap_err().status(), 401);
    }

    #[test]
    fn a_tab_or_a_second_authorization_header_is_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer\tabc.def.ghi"));
        assert_eq!(bearer_token(&headers).unwrap_err().status(), 401);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer  abc.def.ghi"));
        assert!(bearer_token(&headers).is_ok(), "several spaces are fine");
        headers.append(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc.def.ghi"));
        let err = bearer_token(&headers).unwrap_err();
        assert_eq!(err.status(), 401);
        assert_eq!(err.problem().detail, "Send exactly one Authorization header.");
        let mut opaque = HeaderMap::new();
        opaque.insert(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        );
        assert_eq!(bearer_token(&opaque).unwrap_err().status(), 401);
    }
}
