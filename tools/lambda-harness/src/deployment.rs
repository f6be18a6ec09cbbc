//! The functions as Lambda runs them: which there are, their binaries, and the environment
//! Lambda gives each (`provided.al2023`, 128 MB, JSON logs) with the template's variables
//! pointed at the local emulator. Nothing is inherited from the harness's own process.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use local_gateway::seed::REGION;

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
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    command
        .current_dir(root)
        .args(["build", "--message-format=json-render-diagnostics"]);
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

/// What the functions are configured with besides Lambda's own variables.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The emulator's endpoint.
    pub endpoint: String,
    /// The pool.
    pub user_pool_id: String,
    /// The app client.
    pub client_id: String,
    /// The authorizer's rule document, from the template.
    pub auth_rules: Option<String>,
    /// Lambda's log level for every function (`INFO` as deployed by default).
    pub log_level: String,
}

/// The environment Lambda gives `function`, with the template's variables pointed at the
/// emulator.
pub fn lambda_env(function: &str, deployment: &Deployment) -> Vec<(String, String)> {
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
        ("COGNITO_USER_POOL_ID".to_owned(), pool.clone()),
        ("COGNITO_CLIENT_ID".to_owned(), deployment.client_id.clone()),
        (
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER".to_owned(),
            deployment.endpoint.clone(),
        ),
    ]);
    if function == AUTHORIZER {
        env.extend([
            (
                "COGNITO_JWKS_URL".to_owned(),
                format!("{}/{pool}/.well-known/jwks.json", deployment.endpoint),
            ),
            (
                "COGNITO_ISSUER".to_owned(),
                format!("https://cognito-idp.{REGION}.amazonaws.com/{pool}"),
            ),
            // The template's value for the authorizer.
            ("TOKEN_USE".to_owned(), "access".to_owned()),
        ]);
        if let Some(rules) = &deployment.auth_rules {
            env.push(("AUTH_RULES".to_owned(), rules.clone()));
        }
    }
    env
}

/// The session token every function gets: a marker that must never reach a log line.
pub const SESSION_TOKEN: &str = "harness-session-token-must-never-be-logged";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorizer_gets_its_jwks_issuer_and_rules() {
        let deployment = Deployment {
            endpoint: "http://127.0.0.1:5000".into(),
            user_pool_id: "us-east-1_abc".into(),
            client_id: "client".into(),
            auth_rules: Some("{}".into()),
            log_level: "INFO".into(),
        };
        let env: HashMap<String, String> = lambda_env(AUTHORIZER, &deployment).into_iter().collect();
        assert_eq!(
            env["COGNITO_JWKS_URL"],
            "http://127.0.0.1:5000/us-east-1_abc/.well-known/jwks.json"
        );
        assert_eq!(
            env["COGNITO_ISSUER"],
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"
        );
        assert_eq!(env["AUTH_RULES"], "{}");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128");
        assert_eq!(env["AWS_LAMBDA_LOG_LEVEL"], "INFO");
        let me: HashMap<String, String> = lambda_env("me", &deployment).into_iter().collect();
        assert!(!me.contains_key("AUTH_RULES"));
        assert_eq!(
            me["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"],
            "http://127.0.0.1:5000"
        );
    }

    #[test]
    fn unknown_functions_are_refused() {
        let only = vec!["nope".to_owned()];
        assert!(discover_functions(&workspace_root(), Some(&only)).is_err());
        let all = discover_functions(&workspace_root(), None).unwrap();
        assert!(all.iter().any(|f| f == "sign_in") && all.iter().any(|f| f == AUTHORIZER));
    }
}
