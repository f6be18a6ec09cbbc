//! Answers no function gives, only the gateway: a route or method that does not exist, an
//! authorizer that failed (API Gateway answers these itself, with the template's gateway
//! responses, which a test keeps equal to these problems), and a Cognito call the local
//! emulator lacks (only the local stack answers it).

use http::StatusCode;
use http_kit::Problem;

/// No route matches the path.
pub fn route_not_found() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "RouteNotFound",
        "Not found",
        "No route matches this path.",
    )
}

/// The path exists with another method (the gateway adds `Allow`). API Gateway itself answers
/// such a request as an unknown route: the template's 404 `RouteNotFound`.
pub fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "Method not allowed",
        "This route does not accept this method.",
    )
}

/// The authorizer failed (no JWKS, the revocation store unreadable and failing closed): the
/// template's `AUTHORIZER_FAILURE`.
pub fn authorization_unavailable() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "AuthorizationUnavailable",
        "Authorization is unavailable",
        "The caller could not be authorized now; retry later.",
    )
}

/// The route's Cognito call does not exist in the local emulator (see
/// [`crate::emulated_cognito::noting_gaps`]).
pub fn not_emulated(operation: &str) -> Problem {
    Problem::new(
        StatusCode::NOT_IMPLEMENTED,
        "NotEmulated",
        "The local emulator does not implement this call",
        format!(
            "The local stack's Cognito emulator does not implement {operation}; this route works against Amazon Cognito."
        ),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    use http_kit::ApiError;
    use serde_json::Value;

    use super::*;
    use crate::template::{default_path, load_openapi};

    /// Every problem an answer can carry, code → status: the functions' table and the
    /// gateway's own.
    fn every_problem() -> BTreeMap<&'static str, u16> {
        let functions = http_kit::testkit::every_error().into_iter().map(|e| e.problem());
        let gateway = [
            route_not_found(),
            method_not_allowed(),
            authorization_unavailable(),
            not_emulated("DeleteUser"),
        ];
        functions.chain(gateway).map(|p| (p.code, p.status)).collect()
    }

    /// The error table of `docs/api.md`: `| status | `Code`, `Code` | when |` rows.
    fn documented() -> BTreeMap<String, u16> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api.md");
        let text = std::fs::read_to_string(path).expect("docs/api.md");
        let mut codes = BTreeMap::new();
        for line in text.lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let [_, status, names, ..] = cells.as_slice() else {
                continue;
            };
            let Ok(status) = status.parse::<u16>() else { continue };
            for name in names.split(',') {
                let name = name.trim().trim_matches('`');
                assert!(
                    codes.insert(name.to_owned(), status).is_none(),
                    "{name} documented twice"
                );
            }
        }
        codes
    }

    /// Every `code` the OpenAPI document's schemas name (`const` or `enum`).
    fn named_by_openapi() -> BTreeSet<String> {
        fn walk(value: &Value, found: &mut BTreeSet<String>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::Object(code)) = map.get("code") {
                        let named = code.get("const").into_iter().chain(
                            code.get("enum")
                                .into_iter()
                                .flat_map(|e| e.as_array().map(Vec::as_slice).unwrap_or_default()),
                        );
                        found.extend(named.filter_map(Value::as_str).map(str::to_owned));
                    }
                    map.values().for_each(|v| walk(v, found));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
                _ => {}
            }
        }
        let document: Value = serde_json::from_str(&load_openapi(&default_path()).expect("openapi")).expect("json");
        let mut found = BTreeSet::new();
        walk(&document, &mut found);
        found
    }

    #[test]
    fn the_error_table_documents_every_problem_with_its_status() {
        let problems: BTreeMap<String, u16> = every_problem()
            .into_iter()
            .map(|(code, status)| (code.to_owned(), status))
            .collect();
        assert_eq!(documented(), problems);
    }

    #[test]
    fn the_openapi_document_names_only_problems_that_exist() {
        let named = named_by_openapi();
        let problems = every_problem();
        let unknown: Vec<_> = named.iter().filter(|c| !problems.contains_key(c.as_str())).collect();
        assert!(
            unknown.is_empty(),
            "the OpenAPI document names codes no answer has: {unknown:?}"
        );
        assert!(named.len() > 20, "the walk found the document's codes: {named:?}");
    }

    #[test]
    fn every_problem_of_the_functions_is_answered_somewhere_in_the_openapi_document() {
        let named = named_by_openapi();
        let missing: Vec<_> = http_kit::testkit::every_error()
            .iter()
            .map(ApiError::code)
            .filter(|c| !named.contains(*c))
            .collect();
        assert!(
            missing.is_empty(),
            "no operation of the OpenAPI document answers {missing:?}"
        );
    }
}
