//! Reads `infra/template.yaml`, the one source of the API's routes: which function serves each
//! route, which routes are public (`Auth: Authorizer: NONE`), and the authorizer's rule document.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use http::Method;
use serde_norway::Value;

use lambda_authorizer::PathPattern;

use crate::routes::Route;

#[derive(Debug, thiserror::Error)]
/// Why the template cannot be used.
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    /// The file cannot be read.
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    #[error("template is not valid YAML: {0}")]
    /// Not YAML.
    Yaml(#[from] serde_norway::Error),
    #[error("template: {0}")]
    /// Not the shape expected.
    Invalid(String),
}

/// What the local stack needs from the template.
#[derive(Debug, Clone)]
pub struct ApiDefinition {
    /// Every API route, in template order.
    pub routes: Vec<Route>,
    /// The authorizer's `AUTH_RULES` document, verbatim.
    pub auth_rules: Option<String>,
    /// Crate names of every function resource (authorizer included), for drift checks.
    pub function_crates: Vec<String>,
    /// How long API Gateway caches an authorizer policy (`AuthorizerCacheSeconds` default).
    pub authorizer_cache_seconds: u64,
    /// How long a rotated-out refresh token still refreshes (`RefreshTokenGracePeriodSeconds`
    /// default).
    pub refresh_token_grace_seconds: u64,
    /// The API's GatewayResponses, the answers API Gateway gives itself.
    pub gateway_responses: Vec<GatewayResponse>,
    /// Each function's environment variables (crate name → variables), as the template sets
    /// them.
    pub function_env: HashMap<String, Vec<(String, EnvValue)>>,
}

/// An environment variable's value in the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// A plain string.
    Literal(String),
    /// `!Ref`, `!If`, `!Sub`...: known only once deployed.
    Intrinsic,
}

/// One of API Gateway's own answers, as the template configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayResponse {
    /// `UNAUTHORIZED`, `ACCESS_DENIED`, `AUTHORIZER_FAILURE`...
    pub name: String,
    /// The status.
    pub status: u16,
    /// Static headers (the template's quoted values, unquoted).
    pub headers: Vec<(String, String)>,
    /// The `application/json` template, verbatim.
    pub body: String,
}

impl ApiDefinition {
    /// The gateway response named `name` (`UNAUTHORIZED`...).
    pub fn gateway_response(&self, name: &str) -> Option<&GatewayResponse> {
        self.gateway_responses.iter().find(|r| r.name == name)
    }
}

/// `infra/template.yaml` of this checkout.
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml")
}

/// Reads and parses a template file.
pub fn load(path: &Path) -> Result<ApiDefinition, TemplateError> {
    let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text)
}

fn invalid(message: impl Into<String>) -> TemplateError {
    TemplateError::Invalid(message.into())
}

/// Parses a template.
pub fn parse(text: &str) -> Result<ApiDefinition, TemplateError> {
    let template: Value = serde_norway::from_str(text)?;
    let resources = template
        .get("Resources")
        .and_then(Value::as_mapping)
        .ok_or_else(|| invalid("no Resources"))?;
    let mut routes = Vec::new();
    let mut auth_rules = None;
    let mut function_crates = Vec::new();
    let mut function_env = HashMap::new();
    for (name, resource) in resources {
        let name = name.as_str().unwrap_or_default();
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let properties = resource
            .get("Properties")
            .ok_or_else(|| invalid(format!("{name} has no Properties")))?;
        let code_uri = properties
            .get("CodeUri")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("{name} has no CodeUri")))?;
        let crate_name = code_uri
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        function_crates.push(crate_name.clone());
        let variables = properties
            .get("Environment")
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping)
            .map(|vars| {
                vars.iter()
                    .filter_map(|(k, v)| {
                        let value = match v {
                            Value::String(s) => EnvValue::Literal(s.clone()),
                            Value::Number(n) => EnvValue::Literal(n.to_string()),
                            Value::Bool(b) => EnvValue::Literal(b.to_string()),
                            _ => EnvValue::Intrinsic,
                        };
                        Some((k.as_str()?.to_owned(), value))
                    })
                    .collect()
            })
            .unwrap_or_default();
        function_env.insert(crate_name.clone(), variables);
        if crate_name == "authorizer" {
            auth_rules = properties
                .get("Environment")
                .and_then(|e| e.get("Variables"))
                .and_then(|v| v.get("AUTH_RULES"))
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        let Some(events) = properties.get("Events").and_then(Value::as_mapping) else {
            continue;
        };
        for (event_name, event) in events {
            if event.get("Type").and_then(Value::as_str) != Some("Api") {
                continue;
            }
            let event_name = event_name.as_str().unwrap_or_default();
            let props = event
                .get("Properties")
                .ok_or_else(|| invalid(format!("{event_name} has no Properties")))?;
            let path = props
                .get("Path")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("{event_name} has no Path")))?;
            let method = props
                .get("Method")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("{event_name} has no Method")))?;
            let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .map_err(|_| invalid(format!("{event_name}: bad method {method}")))?;
            let public = props
                .get("Auth")
                .and_then(|a| a.get("Authorizer"))
                .and_then(Value::as_str)
                == Some("NONE");
            let path = PathPattern::parse(path).map_err(|e| invalid(format!("{name}.{event_name}: {e}")))?;
            routes.push(Route {
                method,
                path,
                function: crate_name.clone(),
                protected: !public,
            });
        }
    }
    let parameter_default = |name: &str| {
        template
            .get("Parameters")
            .and_then(|p| p.get(name))
            .and_then(|p| p.get("Default"))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let authorizer_cache_seconds = parameter_default("AuthorizerCacheSeconds");
    let refresh_token_grace_seconds = parameter_default("RefreshTokenGracePeriodSeconds");
    let mut gateway_responses = Vec::new();
    let api_responses = resources
        .values()
        .filter(|r| r.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::Api"))
        .filter_map(|r| r.get("Properties")?.get("GatewayResponses")?.as_mapping());
    for responses in api_responses {
        for (name, response) in responses {
            let status = response.get("StatusCode").and_then(Value::as_u64).unwrap_or_default();
            let body = response
                .get("ResponseTemplates")
                .and_then(|t| t.get("application/json"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let headers = response
                .get("ResponseParameters")
                .and_then(|p| p.get("Headers"))
                .and_then(Value::as_mapping)
                .map(|h| {
                    h.iter()
                        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.trim_matches('\'').to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            gateway_responses.push(GatewayResponse {
                name: name.as_str().unwrap_or_default().to_owned(),
                status: u16::try_from(status).unwrap_or_default(),
                headers,
                body: body.to_owned(),
            });
        }
    }
    Ok(ApiDefinition {
        routes,
        auth_rules,
        function_crates,
        function_env,
        authorizer_cache_seconds,
        refresh_token_grace_seconds,
        gateway_responses,
    })
}

/// The OpenAPI document beside the template (`openapi.yaml`), as JSON text.
pub fn load_openapi(template: &Path) -> Result<String, TemplateError> {
    let path = template.with_file_name("openapi.yaml");
    let text = std::fs::read_to_string(&path).map_err(|source| TemplateError::Read {
        path: path.clone(),
        source,
    })?;
    let document: serde_json::Value =
        serde_norway::from_str(&text).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    Ok(document.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn project_template() -> ApiDefinition {
        load(&default_path()).expect("infra/template.yaml loads")
    }

    #[test]
    fn every_function_has_a_route_and_every_route_a_function() {
        let api = project_template();
        // The handlers the gateway dispatches to are the template's route functions: no
        // handler without a route, no route without a handler.
        for function in account_api::FUNCTIONS.iter().chain(&["oauth"]) {
            assert!(
                api.routes.iter().any(|r| r.function == *function),
                "{function} has no route in the template"
            );
        }
        assert_eq!(crate::gateway::unserved(&api.routes), None);
        let crates_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../functions");
        let mut on_disk: Vec<String> = std::fs::read_dir(&crates_dir)
            .expect("functions/")
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("Cargo.toml").exists())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut in_template = api.function_crates.clone();
        in_template.sort();
        assert_eq!(on_disk, in_template, "functions/ and the template's functions differ");
    }

    #[test]
    fn the_openapi_document_describes_exactly_the_templates_routes() {
        let api = project_template();
        let document: serde_json::Value =
            serde_json::from_str(&load_openapi(&default_path()).expect("openapi.yaml")).expect("JSON");
        let mut documented = Vec::new();
        let mut protected_documented = Vec::new();
        for (path, item) in document["paths"].as_object().expect("paths") {
            if item.get("x-local-only").and_then(serde_json::Value::as_bool) == Some(true) {
                continue;
            }
            for (method, operation) in item.as_object().expect("path item") {
                if !["get", "put", "post", "delete", "patch", "options", "head"].contains(&method.as_str()) {
                    continue;
                }
                let route = format!("{} {path}", method.to_ascii_uppercase());
                let secured = operation["security"].as_array().is_some_and(|s| !s.is_empty());
                if secured {
                    protected_documented.push(route.clone());
                }
                documented.push(route);
            }
        }
        let mut in_template: Vec<String> = api
            .routes
            .iter()
            .map(|r| format!("{} {}", r.method, r.path.as_str()))
            .collect();
        let mut protected: Vec<String> = api
            .routes
            .iter()
            .filter(|r| r.protected)
            .map(|r| format!("{} {}", r.method, r.path.as_str()))
            .collect();
        for list in [
            &mut documented,
            &mut in_template,
            &mut protected_documented,
            &mut protected,
        ] {
            list.sort();
        }
        assert_eq!(
            documented, in_template,
            "the document's routes and the template's differ"
        );
        assert_eq!(
            protected_documented, protected,
            "the bearer requirement differs from the authorizer's routes"
        );
    }

    #[test]
    fn public_and_protected_routes_are_as_documented() {
        let api = project_template();
        let public: Vec<String> = api
            .routes
            .iter()
            .filter(|r| !r.protected)
            .map(|r| format!("{} {}", r.method, r.path.as_str()))
            .collect();
        assert_eq!(
            public,
            [
                "POST /auth/sign-up",
                "POST /auth/verify-account",
                "POST /auth/resend-code",
                "POST /auth/sign-in",
                "POST /auth/refresh",
                "POST /auth/forgot-password",
                "POST /auth/confirm-forgot-password",
                "POST /auth/respond-to-challenge",
                "GET /auth/oauth/authorize",
                "GET /auth/oauth/callback",
                "POST /auth/oauth/token",
                "OPTIONS /auth/oauth/token",
                "GET /auth/oauth/logout",
                "GET /auth/oauth/signed-out"
            ]
        );
        // Every protected route has its rule, and every rule a protected route.
        let mut protected: Vec<String> = api
            .routes
            .iter()
            .filter(|r| r.protected)
            .map(|r| format!("{} {}", r.method, r.path.as_str()))
            .collect();
        let rules = lambda_authorizer::Rules::from_json(&api.auth_rules.expect("AUTH_RULES")).expect("rules");
        let mut ruled: Vec<String> = rules.routes().iter().map(|r| r.route.clone()).collect();
        protected.sort();
        ruled.sort();
        assert_eq!(protected, ruled, "protected routes and the authorizer's rules differ");
    }

    /// The template as YAML, intrinsic functions (`!Ref`, `!Sub`...) as tagged values.
    pub(super) fn raw_template() -> Value {
        let text = std::fs::read_to_string(default_path()).expect("template");
        serde_norway::from_str(&text).expect("YAML")
    }

    /// A value as YAML text, to find what an intrinsic function names (`!Ref LogRetentionDays`).
    pub(super) fn yaml(value: &Value) -> String {
        serde_norway::to_string(value).expect("YAML")
    }

    #[test]
    fn triggers_have_no_route_and_are_wired_to_the_pool() {
        let template = raw_template();
        let trigger = &template["Resources"]["PreTokenGenerationFunction"]["Properties"];
        assert_eq!(trigger["CodeUri"].as_str(), Some("../functions/pre_token_generation"));
        assert!(trigger.get("Events").is_none(), "a trigger has no route");
        let api = project_template();
        assert!(api.function_crates.iter().any(|c| c == "pre_token_generation"));
        assert!(api.routes.iter().all(|r| r.function != "pre_token_generation"));
        let pool = &template["Resources"]["UserPool"]["Properties"];
        let config = yaml(&pool["LambdaConfig"]);
        assert!(
            config.contains("PreTokenGenerationFunction") && config.contains("V2_0"),
            "{config}"
        );
        let permission = &template["Resources"]["PreTokenGenerationPermission"]["Properties"];
        assert_eq!(permission["Principal"].as_str(), Some("cognito-idp.amazonaws.com"));
    }

    #[test]
    fn no_app_client_may_write_an_attribute_the_trigger_copies() {
        let template = raw_template();
        let copied: Vec<String> = template["Resources"]["PreTokenGenerationFunction"]["Properties"]["Environment"]
            ["Variables"]["TOKEN_CLAIM_ATTRIBUTES"]
            .as_str()
            .expect("TOKEN_CLAIM_ATTRIBUTES")
            .split(',')
            .map(|a| a.trim().to_owned())
            .collect();
        assert!(copied.contains(&"custom:team".to_owned()));
        let resources = template["Resources"].as_mapping().expect("Resources");
        let clients: Vec<&Value> = resources
            .values()
            .filter(|r| r.get("Type").and_then(Value::as_str) == Some("AWS::Cognito::UserPoolClient"))
            .collect();
        assert!(!clients.is_empty());
        for client in clients {
            let writable = client["Properties"]
                .get("WriteAttributes")
                .and_then(Value::as_sequence)
                .expect("every app client lists its WriteAttributes (the default is all)");
            for attribute in &copied {
                assert!(
                    !writable.iter().any(|w| w.as_str() == Some(attribute.as_str())),
                    "{attribute} is writable by an app client"
                );
            }
        }
    }

    /// The template's own pool and client pass the check the `admin_users` function makes of
    /// an existing pool, with the attributes the template tells it the rules trust (the same as
    /// the trigger copies).
    #[test]
    fn the_templates_pool_and_client_pass_the_existing_pool_check() {
        use account_api::pool_check::{PoolFacts, problems};
        let template = raw_template();
        let strings = |v: &Value| -> Vec<String> {
            v.as_sequence()
                .expect("a list")
                .iter()
                .map(|s| s.as_str().expect("a string").to_owned())
                .collect()
        };
        let admin = &template["Resources"]["AdminUsersFunction"]["Properties"]["Environment"]["Variables"];
        let trusted: Vec<String> = admin["TRUSTED_CLAIM_ATTRIBUTES"]
            .as_str()
            .expect("TRUSTED_CLAIM_ATTRIBUTES on admin_users")
            .split(',')
            .map(|a| a.trim().to_owned())
            .collect();
        let copied = template["Resources"]["PreTokenGenerationFunction"]["Properties"]["Environment"]["Variables"]
            ["TOKEN_CLAIM_ATTRIBUTES"]
            .as_str()
            .expect("TOKEN_CLAIM_ATTRIBUTES");
        assert_eq!(trusted.join(","), copied, "the check trusts what the trigger copies");
        let pool = &template["Resources"]["UserPool"]["Properties"];
        let client = &template["Resources"]["UserPoolClient"]["Properties"];
        let facts = PoolFacts {
            client_write_attributes: Some(strings(&client["WriteAttributes"])),
            verified_before_update: strings(
                &pool["UserAttributeUpdateSettings"]["AttributesRequireVerificationBeforeUpdate"],
            ),
        };
        assert_eq!(problems(&facts, &trusted), Vec::<String>::new());
        let permissions = yaml(&template["Resources"]["AdminUsersFunction"]["Properties"]["Policies"]);
        assert!(
            permissions.contains("cognito-idp:DescribeUserPool")
                && permissions.contains("cognito-idp:DescribeUserPoolClient"),
            "{permissions}"
        );
    }

    #[test]
    fn gateway_responses_are_the_problems_the_functions_answer() {
        use http_kit::ApiError;
        let api = project_template();
        let expected = [
            (
                "UNAUTHORIZED",
                ApiError::unauthorized("A valid bearer token is required.").problem(),
            ),
            ("ACCESS_DENIED", ApiError::Forbidden(Vec::new()).problem()),
            ("AUTHORIZER_FAILURE", crate::problems::authorization_unavailable()),
            // AWS does not say which of the two a failing authorizer gets: the same answer.
            (
                "AUTHORIZER_CONFIGURATION_ERROR",
                crate::problems::authorization_unavailable(),
            ),
            ("MISSING_AUTHENTICATION_TOKEN", crate::problems::route_not_found()),
            ("THROTTLED", ApiError::TooManyRequests.problem()),
        ];
        for (name, problem) in expected {
            let response = api
                .gateway_response(name)
                .unwrap_or_else(|| panic!("no {name} gateway response"));
            let body: serde_json::Value = serde_json::from_str(&response.body).expect("gateway response body is JSON");
            let expected_response = problem.clone().into_response();
            assert_eq!(
                (response.status, &body),
                (problem.status, &serde_json::to_value(&problem).expect("problem")),
                "{name}"
            );
            for (header, value) in expected_response.headers() {
                let configured = response
                    .headers
                    .iter()
                    .find(|(h, _)| h.eq_ignore_ascii_case(header.as_str()))
                    .map(|(_, v)| v.as_str());
                assert_eq!(configured, value.to_str().ok(), "{name}: header {header}");
            }
        }
    }

    #[test]
    fn the_templates_rule_document_is_the_projects_default() {
        let api = project_template();
        let inline: serde_json::Value = serde_json::from_str(&api.auth_rules.expect("AUTH_RULES")).expect("JSON");
        let file = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/auth-rules.json"))
            .expect("infra/auth-rules.json");
        let file: serde_json::Value = serde_json::from_str(&file).expect("JSON");
        assert_eq!(
            inline, file,
            "infra/template.yaml AUTH_RULES and infra/auth-rules.json differ"
        );
        assert!(lambda_authorizer::Rules::from_json(&inline.to_string()).is_ok());
    }

    fn ghost(path: &str) -> String {
        format!(
            r#"
Resources:
  Ghost:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../functions/ghost
      Events:
        Boo:
          Type: Api
          Properties: {{ Path: "{path}", Method: get, RestApiId: !Ref Api }}
"#
        )
    }

    #[test]
    fn a_route_to_a_function_without_a_handler_is_found() {
        let api = parse(&ghost("/ghost/{id}")).expect("a well-formed template");
        let route = crate::gateway::unserved(&api.routes).expect("ghost has no handler");
        assert_eq!((route.function.as_str(), route.path.as_str()), ("ghost", "/ghost/{id}"));
    }

    #[test]
    fn a_route_path_the_rules_could_not_name_is_an_error() {
        for bad in ["/ghost//x", "/ghost/{id", "/a/{rest+}/b", "ghost"] {
            let err = parse(&ghost(bad)).unwrap_err().to_string();
            assert!(err.contains("Ghost.Boo: path"), "{bad}: {err}");
        }
    }
}

/// The template's operational settings: logs, their retention, and the limits on the routes
/// that try secrets.
#[cfg(test)]
mod operations_tests {
    use super::tests::{project_template, raw_template, yaml};
    use serde_norway::Value;

    /// The public routes that try a secret or send a message: each gets its own lower stage
    /// limit and the web ACL's per-address limit (docs/deploying.md#logs-and-limits).
    const SECRET_ROUTES: [&str; 8] = [
        "/auth/sign-in",
        "/auth/respond-to-challenge",
        "/auth/sign-up",
        "/auth/verify-account",
        "/auth/resend-code",
        "/auth/forgot-password",
        "/auth/confirm-forgot-password",
        "/auth/oauth/token",
    ];

    fn resources(template: &Value) -> Vec<(String, &Value)> {
        template["Resources"]
            .as_mapping()
            .expect("Resources")
            .iter()
            .map(|(name, resource)| (name.as_str().expect("name").to_owned(), resource))
            .collect()
    }

    #[test]
    fn every_function_logs_to_a_group_of_its_own_kept_for_the_retention_parameter() {
        let template = raw_template();
        let all = resources(&template);
        let functions: Vec<&(String, &Value)> = all
            .iter()
            .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
            .collect();
        assert!(functions.len() > 10);
        let mut groups = Vec::new();
        for (name, function) in functions {
            let target = yaml(&function["Properties"]["LoggingConfig"]["LogGroup"]);
            let group_name = target.split_whitespace().last().unwrap_or_default().to_owned();
            assert!(target.contains("Ref"), "{name} logs to {target}");
            let group = &template["Resources"][group_name.as_str()];
            assert_eq!(
                group["Type"].as_str(),
                Some("AWS::Logs::LogGroup"),
                "{name}: {group_name}"
            );
            assert!(
                yaml(&group["Properties"]["RetentionInDays"]).contains("LogRetentionDays"),
                "{group_name} is kept forever"
            );
            assert!(!groups.contains(&group_name), "{group_name} is shared");
            groups.push(group_name);
        }
        let access = &template["Resources"]["ApiAccessLogGroup"]["Properties"];
        assert!(yaml(&access["RetentionInDays"]).contains("LogRetentionDays"));
    }

    #[test]
    fn the_stage_writes_one_json_line_per_request_with_no_header_body_or_token() {
        let template = raw_template();
        let setting = &template["Resources"]["AuthApi"]["Properties"]["AccessLogSetting"];
        assert!(yaml(&setting["DestinationArn"]).contains("ApiAccessLogGroup"));
        let format = setting["Format"].as_str().expect("a format");
        assert!(!format.contains('\n'), "one line per request");
        let fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(format).expect("the format is a JSON object");
        for wanted in [
            "requestId",
            "sourceIp",
            "method",
            "resourcePath",
            "status",
            "responseLatency",
            "authorizerError",
            "authorizerLatency",
            "integrationError",
            "integrationLatency",
        ] {
            assert!(fields.contains_key(wanted), "the access log has no {wanted}");
        }
        for (field, variable) in &fields {
            let variable = variable.as_str().expect("a string");
            assert!(
                variable.starts_with("$context.") && !variable[1..].contains('$'),
                "{field}: one $context variable, not {variable}"
            );
            // Never what a caller sends: a header (the bearer token), a body, a query.
            for leak in [
                "$input",
                "$method",
                "requestOverride",
                "responseOverride",
                "apiKey",
                "path.",
            ] {
                assert!(!variable.contains(leak), "{field} logs {variable}");
            }
        }
    }

    #[test]
    fn each_public_route_that_tries_a_secret_has_a_lower_limit_of_its_own_and_a_per_address_one() {
        let api = project_template();
        let template = raw_template();
        let settings = template["Resources"]["AuthApi"]["Properties"]["MethodSettings"]
            .as_sequence()
            .expect("MethodSettings");
        let stage = settings
            .iter()
            .find(|s| s["ResourcePath"].as_str() == Some("/*") && s["HttpMethod"].as_str() == Some("*"))
            .expect("a stage-wide limit");
        assert!(yaml(&stage["ThrottlingRateLimit"]).contains("ApiRateLimit"));
        let acl = yaml(&template["Resources"]["ApiWebAcl"]["Properties"]["Rules"]);
        for path in SECRET_ROUTES {
            let route = api
                .routes
                .iter()
                .find(|r| r.path.as_str() == path && r.method == http::Method::POST)
                .unwrap_or_else(|| panic!("POST {path} is not a route"));
            assert!(!route.protected, "POST {path} is public");
            let escaped = format!("/{}", path.replace('/', "~1"));
            let limit = settings
                .iter()
                .find(|s| s["ResourcePath"].as_str() == Some(escaped.as_str()))
                .unwrap_or_else(|| panic!("POST {path} has no limit of its own"));
            assert_eq!(limit["HttpMethod"].as_str(), Some("POST"));
            assert!(yaml(&limit["ThrottlingRateLimit"]).contains("SecretRouteRateLimit"));
            assert!(yaml(&limit["ThrottlingBurstLimit"]).contains("SecretRouteBurstLimit"));
            let name = path.trim_start_matches("/auth/");
            assert!(
                acl.contains(&format!("|{name}|"))
                    || acl.contains(&format!("({name}|"))
                    || acl.contains(&format!("|{name})")),
                "the web ACL's rate rule does not name {path}"
            );
        }
        // Only those: every other route is limited by the stage alone.
        assert_eq!(settings.len(), SECRET_ROUTES.len() + 1);
    }
}

/// The template's dashboard and alarms: valid, and naming only metrics the services publish.
#[cfg(test)]
mod monitoring_tests {
    use super::tests::{raw_template, yaml};
    use serde_norway::Value;

    /// The metrics the dashboard and the alarms may name, by namespace, as each service
    /// documents them: Lambda ("Types of metrics for Lambda functions"), API Gateway ("Amazon
    /// API Gateway dimensions and metrics"), Cognito ("User pool metrics in CloudWatch"),
    /// DynamoDB ("DynamoDB Metrics and dimensions"). None of this project's own yet.
    const PUBLISHED: [(&str, &[&str]); 4] = [
        ("AWS/Lambda", &["Invocations", "Errors", "Throttles", "Duration"]),
        (
            "AWS/ApiGateway",
            &["Count", "4XXError", "5XXError", "Latency", "IntegrationLatency"],
        ),
        (
            "AWS/Cognito",
            &[
                "SignInSuccesses",
                "SignInThrottles",
                "SignUpThrottles",
                "TokenRefreshThrottles",
            ],
        ),
        (
            "AWS/DynamoDB",
            &["SuccessfulRequestLatency", "SystemErrors", "ThrottledRequests"],
        ),
    ];

    fn published(namespace: &str, metric: &str) -> bool {
        PUBLISHED
            .iter()
            .any(|(ns, metrics)| *ns == namespace && metrics.contains(&metric))
    }

    /// `${Name}` placeholders of a `!Sub` replaced, so the text parses as what CloudFormation
    /// hands CloudWatch.
    fn substituted(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("a closed placeholder") + start;
            out.push_str("placeholder");
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn the_dashboard_is_json_and_graphs_only_metrics_the_services_publish() {
        let template = raw_template();
        let body = yaml(&template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]);
        // `!Sub [text, variables]`: the text is the sequence's first item.
        let sub: Value = serde_norway::from_str(body.trim_start_matches("!Sub").trim()).expect("the !Sub");
        let text = sub[0].as_str().expect("the body text");
        let dashboard: serde_json::Value = serde_json::from_str(&substituted(text)).expect("the body is JSON");
        let widgets = dashboard["widgets"].as_array().expect("widgets");
        assert!(widgets.len() >= 6);
        let mut graphed = 0;
        for widget in widgets {
            let mut previous: Vec<String> = Vec::new();
            for line in widget["properties"]["metrics"].as_array().expect("metrics") {
                let parts: Vec<String> = line
                    .as_array()
                    .expect("a metric line")
                    .iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect();
                // CloudWatch's shorthand: "..." repeats the line above, "." one of its parts.
                let resolved: Vec<String> = if parts.first().map(String::as_str) == Some("...") {
                    previous.clone()
                } else {
                    parts
                        .iter()
                        .enumerate()
                        .map(|(i, p)| if p == "." { previous[i].clone() } else { p.clone() })
                        .collect()
                };
                assert!(
                    published(&resolved[0], &resolved[1]),
                    "the dashboard graphs {}/{}, which nothing publishes",
                    resolved[0],
                    resolved[1]
                );
                graphed += 1;
                previous = resolved;
            }
        }
        assert!(graphed >= 20, "{graphed} lines");
    }

    #[test]
    fn every_alarm_watches_a_published_metric_and_tells_the_topic() {
        let template = raw_template();
        let resources = template["Resources"].as_mapping().expect("Resources");
        let mut alarms = 0;
        for (name, resource) in resources {
            if resource["Type"].as_str() != Some("AWS::CloudWatch::Alarm") {
                continue;
            }
            alarms += 1;
            let name = name.as_str().expect("name");
            let properties = &resource["Properties"];
            let mut watched = Vec::new();
            if let Some(metric) = properties["MetricName"].as_str() {
                watched.push((properties["Namespace"].as_str().expect("Namespace"), metric));
            }
            let mut ids = Vec::new();
            let mut expression = String::new();
            for query in properties["Metrics"].as_sequence().into_iter().flatten() {
                ids.push(query["Id"].as_str().expect("Id").to_owned());
                if let Some(e) = query["Expression"].as_str() {
                    expression = e.to_owned();
                    continue;
                }
                let metric = &query["MetricStat"]["Metric"];
                watched.push((
                    metric["Namespace"].as_str().expect("Namespace"),
                    metric["MetricName"].as_str().expect("MetricName"),
                ));
            }
            assert!(!watched.is_empty(), "{name} watches nothing");
            for (namespace, metric) in &watched {
                assert!(published(namespace, metric), "{name} watches {namespace}/{metric}");
            }
            // An expression names only the alarm's own queries.
            for word in expression
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
            {
                let is_number = word.chars().all(|c| c.is_ascii_digit());
                assert!(
                    is_number || word == "IF" || ids.iter().any(|id| id == word),
                    "{name}: {word}?"
                );
            }
            for actions in ["AlarmActions", "OKActions"] {
                assert!(
                    yaml(&properties[actions]).contains("AlarmTopic"),
                    "{name} tells nobody ({actions})"
                );
            }
        }
        assert!(alarms >= 5, "{alarms} alarms");
    }

    #[test]
    fn every_function_has_an_alarm_on_its_failures() {
        let template = raw_template();
        let resources = template["Resources"].as_mapping().expect("Resources");
        let alarms: Vec<String> = resources
            .iter()
            .filter(|(_, r)| r["Type"].as_str() == Some("AWS::CloudWatch::Alarm"))
            .map(|(_, r)| yaml(&r["Properties"]))
            .collect();
        for (name, resource) in resources {
            if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
                continue;
            }
            let name = name.as_str().expect("name");
            let watched = alarms
                .iter()
                .any(|a| a.contains(&format!("Ref {name}")) && a.contains("Errors"));
            assert!(watched, "no alarm watches {name}'s errors");
        }
        let subscription = &template["Resources"]["AlarmEmailSubscription"]["Properties"];
        assert_eq!(subscription["Protocol"].as_str(), Some("email"), "the topic can email");
        assert!(yaml(&subscription["TopicArn"]).contains("AlarmTopic"));
    }
}
