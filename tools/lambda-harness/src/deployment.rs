//! The functions as Lambda runs them: which there are, their binaries, and the environment
//! Lambda gives each (`provided.al2023`, 128 MB, JSON logs) with the template's variables
//! pointed at the local emulator. Nothing is inherited from the harness's own process.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use local_gateway::cognito_standin::{self, RotatingClient, RunningStandIn};
use local_gateway::seed::REGION;
use local_gateway::template::EnvValue;

use crate::BoxError;

/// The authorizer's crate name.
pub const AUTHORIZER: &str = "authorizer";

/// The checkout's root.
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// Every crate under `functions/`, in name order; `only` narrows it (an unknown name is an
/// error).
pub fn discover_functions(root: &Path, only: Option<&[String]>) -> Result<Vec<String>, BoxError> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root.join("functions"))? {
        let entry = entry?;
        if entry.path().join("Cargo.toml").is_file() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    if let Some(only) = only {
        if let Some(unknown) = only.iter().find(|name| !names.contains(name)) {
            return Err(format!("`{unknown}` is not under functions/").into());
        }
        names.retain(|name| only.contains(name));
    }
    Ok(names)
}

/// Which build of the binaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `--release`: what is deployed.
    Release,
    /// The dev profile.
    Debug,
}

/// `cargo build [--release] -p <each function>` in one invocation; returns each binary's path
/// as cargo reports it.
pub fn build(root: &Path, functions: &[String], profile: Profile) -> Result<HashMap<String, PathBuf>, BoxError> {
    build_into(root, functions, profile, None)
}

/// [`build`] with its own target directory (another checkout's build must not overwrite this
/// one's binaries).
pub fn build_into(
    root: &Path,
    functions: &[String],
    profile: Profile,
    target_dir: Option<&Path>,
) -> Result<HashMap<String, PathBuf>, BoxError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    command
        .current_dir(root)
        .args(["build", "--locked", "--message-format=json-render-diagnostics"]);
    if let Some(dir) = target_dir {
        command.env("CARGO_TARGET_DIR", dir);
    }
    if profile == Profile::Release {
        command.arg("--release");
    }
    for function in functions {
        command.args(["-p", function]);
    }
    let output = command.stderr(Stdio::inherit()).output()?;
    if !output.status.success() {
        return Err(format!("cargo build failed ({})", output.status).into());
    }
    let mut binaries = HashMap::new();
    for line in output.stdout.split(|b| *b == b'\n') {
        let Ok(message) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        let name = message.pointer("/target/name").and_then(serde_json::Value::as_str);
        let executable = message.get("executable").and_then(serde_json::Value::as_str);
        if let (Some(name), Some(executable)) = (name, executable)
            && functions.iter().any(|f| f == name)
        {
            binaries.insert(name.to_owned(), PathBuf::from(executable));
        }
    }
    if let Some(missing) = functions.iter().find(|f| !binaries.contains_key(*f)) {
        return Err(format!("cargo built no binary named {missing}").into());
    }
    Ok(binaries)
}

/// The Cognito stand-in the measured functions call, in front of the emulator at `endpoint`,
/// rotating the refresh tokens of `client_id` as the template's client does. Its grace period
/// never ends: the events present one refresh token again and again, and what a function pays
/// for a refresh is the same whichever token it sends.
pub async fn measuring_standin(
    endpoint: &str,
    pool: &local_gateway::seed::SeededPool,
) -> std::io::Result<RunningStandIn> {
    cognito_standin::spawn(
        endpoint.to_owned(),
        RotatingClient {
            client_id: pool.client_id.clone(),
            client_secret: None,
            grace: std::time::Duration::from_secs(u64::from(u32::MAX)),
        },
        Some(cognito_standin::ChoiceConfig {
            user_pool_id: pool.user_pool_id.clone(),
            outbox: local_gateway::outbox::Outbox::default(),
        }),
    )
    .await
}

/// What the deployed template's intrinsic values (`!Ref`, `!If`...) resolve to, locally.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The emulator's endpoint (DynamoDB, Secrets Manager, the JWKS).
    pub endpoint: String,
    /// Cognito's: the stand-in in front of the emulator (`local_gateway::cognito_standin`).
    pub cognito_endpoint: String,
    /// The pool.
    pub user_pool_id: String,
    /// The app client.
    pub client_id: String,
    /// The revocation table.
    pub revocation_table: String,
    /// Lambda's log level for every function (`INFO` as deployed by default).
    pub log_level: String,
    /// The pool domain (the local stand-in's URL).
    pub oauth_domain: String,
    /// The OAuth cookie key's secret (its name or ARN in the emulator's Secrets Manager).
    pub cookie_key_secret: String,
    /// Each function's variables, from the template.
    pub template_env: HashMap<String, Vec<(String, EnvValue)>>,
}

/// The environment Lambda gives `function`: Lambda's own variables, then every variable the
/// template sets for it, its intrinsic values resolved for the local emulator. A variable the
/// harness cannot resolve is an error, so a new one cannot go unnoticed.
pub fn lambda_env(function: &str, deployment: &Deployment) -> Result<Vec<(String, String)>, BoxError> {
    let mut env: Vec<(String, String)> = [
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("_HANDLER", "bootstrap"),
        ("AWS_REGION", REGION),
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("AWS_SESSION_TOKEN", SESSION_TOKEN),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let pool = &deployment.user_pool_id;
    env.extend([
        ("AWS_LAMBDA_LOG_LEVEL".to_owned(), deployment.log_level.clone()),
        ("AWS_LAMBDA_FUNCTION_NAME".to_owned(), function.to_owned()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".to_owned(),
            format!("/aws/lambda/{function}"),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME".to_owned(),
            "2025/01/01/[$LATEST]0123456789abcdef0123456789abcdef".to_owned(),
        ),
        // Where the SDK finds the emulator (the standard endpoint variables).
        (
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER".to_owned(),
            deployment.cognito_endpoint.clone(),
        ),
        ("AWS_ENDPOINT_URL_DYNAMODB".to_owned(), deployment.endpoint.clone()),
        (
            "AWS_ENDPOINT_URL_SECRETS_MANAGER".to_owned(),
            deployment.endpoint.clone(),
        ),
    ]);
    if function == AUTHORIZER {
        // The emulator serves the JWKS away from the issuer's path.
        env.push((
            "COGNITO_JWKS_URL".to_owned(),
            format!("{}/{pool}/.well-known/jwks.json", deployment.endpoint),
        ));
    }
    let variables = deployment
        .template_env
        .get(function)
        .ok_or_else(|| format!("{function} is not a function of the template"))?;
    for (name, value) in variables {
        let value = match value {
            EnvValue::Literal(text) => text.clone(),
            EnvValue::Intrinsic => match name.as_str() {
                "COGNITO_USER_POOL_ID" => pool.clone(),
                "COGNITO_CLIENT_ID" => deployment.client_id.clone(),
                "REVOCATION_TABLE" => deployment.revocation_table.clone(),
                "TOKEN_CUSTOMIZATION" => "on".to_owned(),
                "SIGN_UP_ALLOWED_ATTRIBUTES" => "name".to_owned(),
                "TOTP_ISSUER" => local_gateway::stack::TOTP_ISSUER.to_owned(),
                "SIGN_IN_METHODS" => local_gateway::stack::SIGN_IN_METHODS.to_owned(),
                "RECENT_AUTH_SECONDS" => auth_contract::freshness::DEFAULT_RECENT_AUTH_SECONDS.to_string(),
                "COGNITO_DOMAIN" => deployment.oauth_domain.clone(),
                "OAUTH_COOKIE_KEY_SECRET_ARN" => deployment.cookie_key_secret.clone(),
                // The template's defaults until the API's URL is known.
                "OAUTH_CALLBACK_URL" => "https://localhost/auth/oauth/callback".to_owned(),
                "OAUTH_SIGN_OUT_URL" => "https://localhost/auth/oauth/signed-out".to_owned(),
                "OAUTH_APP_REDIRECT_URIS" | "OAUTH_ALLOWED_ORIGINS" => String::new(),
                other => return Err(format!("{function}: the harness cannot resolve {other}").into()),
            },
        };
        env.push((name.clone(), value));
    }
    Ok(env)
}

/// The session token every function gets: a marker that must never reach a log line.
pub const SESSION_TOKEN: &str = "harness-session-token-must-never-be-logged";

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Deployment {
        let api = local_gateway::template::load(&workspace_root().join("infra/template.yaml")).unwrap();
        Deployment {
            endpoint: "http://127.0.0.1:5000".into(),
            cognito_endpoint: "http://127.0.0.1:5001".into(),
            user_pool_id: "us-east-1_abc".into(),
            client_id: "client".into(),
            revocation_table: "revocations".into(),
            log_level: "INFO".into(),
            oauth_domain: "http://localhost:3001".into(),
            cookie_key_secret: "cookie-key".into(),
            template_env: api.function_env,
        }
    }

    #[test]
    fn every_function_gets_the_templates_variables_resolved() {
        let deployment = deployment();
        for function in discover_functions(&workspace_root(), None).unwrap() {
            let env: HashMap<String, String> = lambda_env(&function, &deployment).unwrap().into_iter().collect();
            assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128", "{function}");
            assert_eq!(env["AWS_ENDPOINT_URL_DYNAMODB"], "http://127.0.0.1:5000", "{function}");
        }
        let authorizer: HashMap<String, String> = lambda_env(AUTHORIZER, &deployment).unwrap().into_iter().collect();
        assert_eq!(
            authorizer["COGNITO_JWKS_URL"],
            "http://127.0.0.1:5000/us-east-1_abc/.well-known/jwks.json"
        );
        assert_eq!(authorizer["COGNITO_USER_POOL_ID"], "us-east-1_abc");
        assert_eq!(authorizer["REVOCATION_TABLE"], "revocations");
        assert!(authorizer["AUTH_RULES"].contains("/admin/users"));
        let sign_in: HashMap<String, String> = lambda_env("sign_in", &deployment).unwrap().into_iter().collect();
        assert!(!sign_in.contains_key("AUTH_RULES") && !sign_in.contains_key("REVOCATION_TABLE"));
        let mfa: HashMap<String, String> = lambda_env("mfa", &deployment).unwrap().into_iter().collect();
        assert_eq!(mfa["TOTP_ISSUER"], local_gateway::stack::TOTP_ISSUER);
        let logout: HashMap<String, String> = lambda_env("logout", &deployment).unwrap().into_iter().collect();
        assert_eq!(logout["REVOCATION_TABLE"], "revocations");
    }

    #[test]
    fn unknown_functions_are_refused() {
        let only = vec!["nope".to_owned()];
        assert!(discover_functions(&workspace_root(), Some(&only)).is_err());
        let all = discover_functions(&workspace_root(), None).unwrap();
        assert!(all.iter().any(|f| f == "sign_in") && all.iter().any(|f| f == AUTHORIZER));
    }
}
