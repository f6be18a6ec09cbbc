//! Reads the few fields the authorizer needs straight from the event JSON, borrowing.
//!
//! Deserializing into the full `aws_lambda_events` request types would copy every header and
//! parameter (and fail on fields those types do not expect); the authorizer needs three values.

use serde_json::{Map, Value};

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

pub fn read(event: &Value) -> Result<Inbound<'_>, &'static str> {
    let obj = event.as_object().ok_or("event is not a JSON object")?;
    let text = |k: &str| obj.get(k).and_then(Value::as_str);
    if text("version") == Some("2.0") {
        let arn = text("routeArn").ok_or("routeArn missing")?;
        let credential = header(obj.get("headers"), "authorization");
        return Ok(Inbound {
            format: EventFormat::HttpV2,
            credential,
            arn,
        });
    }
    match text("type") {
        Some("TOKEN") => {
            let arn = text("methodArn").ok_or("methodArn missing")?;
            let credential = match obj.get("authorizationToken") {
                None | Some(Value::Null) => Credential::Missing,
                Some(Value::String(s)) => Credential::Value(s),
                Some(_) => Credential::Ambiguous,
            };
            Ok(Inbound {
                format: EventFormat::Token,
                credential,
                arn,
            })
        }
        Some("REQUEST") => {
            let arn = text("methodArn").ok_or("methodArn missing")?;
            let mut credential = header(obj.get("headers"), "authorization");
            // multiValueHeaders shows repeated headers that `headers` collapses to the last one.
            if let Some(Value::Object(multi)) = obj.get("multiValueHeaders") {
                let values = multi
                    .iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                    .map(|(_, v)| v.as_array().map_or(1, Vec::len))
                    .sum::<usize>();
                if values > 1 {
                    credential = Credential::Ambiguous;
                }
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

/// Case-insensitive header lookup; two matching names make the credential ambiguous.
fn header<'a>(headers: Option<&'a Value>, name: &str) -> Credential<'a> {
    let Some(Value::Object(map)) = headers else {
        return Credential::Missing;
    };
    let map: &Map<String, Value> = map;
    let mut found = Credential::Missing;
    for (k, v) in map {
        if k.eq_ignore_ascii_case(name) {
            if found != Credential::Missing {
                return Credential::Ambiguous;
            }
            found = match v {
                Value::String(s) => Credential::Value(s),
                Value::Null => Credential::Missing,
                _ => Credential::Ambiguous,
            };
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recognises_the_three_formats() {
        let t = json!({"type": "TOKEN", "authorizationToken": "Bearer x", "methodArn": "arn:m"});
        let i = read(&t).unwrap();
        assert_eq!(
            (i.format, i.credential, i.arn),
            (EventFormat::Token, Credential::Value("Bearer x"), "arn:m")
        );

        let r = json!({"type": "REQUEST", "methodArn": "arn:m", "headers": {"AuThOrIzAtIoN": "Bearer y"}});
        let i = read(&r).unwrap();
        assert_eq!(
            (i.format, i.credential),
            (EventFormat::Request, Credential::Value("Bearer y"))
        );

        let h =
            json!({"version": "2.0", "type": "REQUEST", "routeArn": "arn:r", "headers": {"authorization": "Bearer z"}});
        let i = read(&h).unwrap();
        assert_eq!(
            (i.format, i.credential, i.arn),
            (EventFormat::HttpV2, Credential::Value("Bearer z"), "arn:r")
        );
    }

    #[test]
    fn missing_and_ambiguous_credentials() {
        let r = json!({"type": "REQUEST", "methodArn": "a", "headers": {"Host": "h"}});
        assert_eq!(read(&r).unwrap().credential, Credential::Missing);
        let r = json!({"type": "REQUEST", "methodArn": "a", "headers": null});
        assert_eq!(read(&r).unwrap().credential, Credential::Missing);
        let r = json!({"type": "REQUEST", "methodArn": "a", "headers": {"authorization": "Bearer a", "Authorization": "Bearer b"}});
        assert_eq!(read(&r).unwrap().credential, Credential::Ambiguous);
        let r = json!({"type": "REQUEST", "methodArn": "a", "headers": {"Authorization": "Bearer b"},
                       "multiValueHeaders": {"Authorization": ["Bearer a", "Bearer b"]}});
        assert_eq!(read(&r).unwrap().credential, Credential::Ambiguous);
        let t = json!({"type": "TOKEN", "methodArn": "a"});
        assert_eq!(read(&t).unwrap().credential, Credential::Missing);
        let t = json!({"type": "TOKEN", "methodArn": "a", "authorizationToken": ["x"]});
        assert_eq!(read(&t).unwrap().credential, Credential::Ambiguous);
    }

    #[test]
    fn rejects_other_events() {
        for e in [
            json!([]),
            json!({}),
            json!({"type": "TOKEN"}),
            json!({"version": "2.0"}),
            json!({"type": "EVENT", "methodArn": "a"}),
        ] {
            assert!(read(&e).is_err(), "{e}");
        }
    }
}
