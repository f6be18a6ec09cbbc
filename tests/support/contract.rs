//! The API contract (`infra/openapi.yaml`) as the tests hold answers to it: every answer the
//! local stack gives through [`crate::TestApp`] must be a documented status of its operation,
//! with a documented media type and a body that validates against the documented schema.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use boon::{Compiler, SchemaIndex, Schemas};
use serde_json::Value;

/// Where the document lives.
pub fn document_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/openapi.yaml")
}

/// The document as JSON.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let text = std::fs::read_to_string(document_path()).expect("infra/openapi.yaml");
        serde_norway::from_str(&text).expect("the OpenAPI document is YAML")
    })
}

/// The documented path template (`/admin/users/{username}`) a request path matches, read as
/// the gateway and the authorizer read paths (one trailing `/` ignored).
pub fn path_template(path: &str) -> Option<&'static str> {
    let paths = document()["paths"].as_object()?;
    let resource = local_gateway::routes::routed_path(path);
    paths
        .keys()
        .map(String::as_str)
        .find(|template| lambda_authorizer::PathPattern::parse(template).is_ok_and(|pattern| pattern.matches(resource)))
}

struct Compiled {
    schemas: Schemas,
    index: HashMap<String, SchemaIndex>,
}

fn compiled() -> &'static Mutex<Compiled> {
    static COMPILED: OnceLock<Mutex<Compiled>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        Mutex::new(Compiled {
            schemas: Schemas::new(),
            index: HashMap::new(),
        })
    })
}

/// `~` and `/` escaped for a JSON pointer.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Why an answer does not conform, or `Ok` when it does (or its route is not documented, such
/// as an unknown path the gateway refuses).
pub fn check(method: &str, path: &str, status: u16, content_type: &str, body: &str) -> Result<(), String> {
    let Some(template) = path_template(path) else {
        return Ok(());
    };
    let method = method.to_ascii_lowercase();
    let operation = &document()["paths"][template][&method];
    if operation.is_null() {
        // The path exists with another method: the gateway's 405.
        return if status == 405 {
            Ok(())
        } else {
            Err(format!("{method} {template} is not documented"))
        };
    }
    let responses = &operation["responses"];
    let (status_key, response) = [status.to_string(), format!("{}XX", status / 100), "default".to_owned()]
        .into_iter()
        .find_map(|key| {
            let response = &responses[&key];
            (!response.is_null()).then(|| (key, response.clone()))
        })
        .ok_or_else(|| format!("{method} {template}: status {status} is not documented"))?;
    let response = resolve(&response);
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return if body.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{method} {template} {status}: a body where none is documented: {body}"
            ))
        };
    };
    if body.is_empty() {
        return Err(format!(
            "{method} {template} {status}: no body, {} documented",
            content.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let Some(media_key) = content.keys().find(|k| k.as_str() == media) else {
        return Err(format!(
            "{method} {template} {status}: media type `{media}` is not documented"
        ));
    };
    if content[media_key].get("schema").is_none() {
        return Ok(());
    }
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("{method} {template} {status}: not JSON ({e}): {body}"))?;
    let pointer = format!(
        "/paths/{}/{method}/responses/{status_key}/content/{}/schema",
        escape(template),
        escape(media_key)
    );
    let pointer = match responses[&status_key].get("$ref").and_then(Value::as_str) {
        // A shared response: its schema is under components.
        Some(reference) => format!(
            "{}/content/{}/schema",
            reference.trim_start_matches('#'),
            escape(media_key)
        ),
        None => pointer,
    };
    let mut compiled = compiled().lock().map_err(|_| "validator poisoned".to_owned())?;
    let index = match compiled.index.get(&pointer) {
        Some(index) => *index,
        None => {
            let mut compiler = Compiler::new();
            compiler.set_default_draft(boon::Draft::V2020_12);
            compiler
                .add_resource("urn:openapi", document().clone())
                .map_err(|e| format!("the document is not a schema resource: {e}"))?;
            let Compiled { schemas, index } = &mut *compiled;
            let compiled_index = compiler
                .compile(&format!("urn:openapi#{pointer}"), schemas)
                .map_err(|e| format!("schema at {pointer} does not compile: {e:#}"))?;
            index.insert(pointer.clone(), compiled_index);
            compiled_index
        }
    };
    compiled.schemas.validate(&value, index).map_err(|e| {
        format!("{method} {template} {status}: the body does not match the documented schema: {e:#}\nbody: {body}")
    })
}

/// A response object, following one `$ref` to `#/components/responses/...`.
fn resolve(response: &Value) -> Value {
    match response.get("$ref").and_then(Value::as_str) {
        Some(reference) => document()
            .pointer(reference.trim_start_matches('#'))
            .cloned()
            .unwrap_or(Value::Null),
        None => response.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKENS: &str =
        r#"{"accessToken":"a.b.c","idToken":"d.e.f","refreshToken":"r","expiresIn":3600,"tokenType":"Bearer"}"#;

    #[test]
    fn documented_answers_pass_and_anything_else_is_named() {
        assert_eq!(check("POST", "/auth/sign-in", 200, "application/json", TOKENS), Ok(()));
        let problem = r#"{"type":"/problems/invalid-credentials","title":"Invalid credentials","status":401,"detail":"The username or password is incorrect.","code":"InvalidCredentials"}"#;
        assert_eq!(
            check("POST", "/auth/sign-in", 401, "application/problem+json", problem),
            Ok(())
        );
        for (status, content_type, body) in [
            (200, "application/json", r#"{"accessToken":1}"#),
            (418, "application/json", TOKENS),
            (200, "text/html", TOKENS),
            (401, "application/problem+json", r#"{"code":"InvalidCredentials"}"#),
        ] {
            assert!(
                check("POST", "/auth/sign-in", status, content_type, body).is_err(),
                "{status} {content_type} {body}"
            );
        }
        assert!(check("DELETE", "/auth/sign-in", 200, "application/json", "{}").is_err());
        assert_eq!(
            check("GET", "/no/such/route", 404, "application/problem+json", "{}"),
            Ok(())
        );
        assert_eq!(
            path_template("/admin/users/ada/groups/admin"),
            Some("/admin/users/{username}/groups/{group}")
        );
    }
}
