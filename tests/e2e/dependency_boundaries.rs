//! The split between the authorizer and the account functions holds: the authorizer's crates
//! never pull in the HTTP framework or the AWS SDK the account functions use.

use std::process::Command;

/// Every package in the normal (non-dev, non-build) dependency tree of `package`.
fn normal_dependencies(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args([
            "tree", "--locked", "-e", "normal", "--prefix", "none", "--format", "{p}", "-p",
        ])
        .arg(package)
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn offenders(package: &str, forbidden: impl Fn(&str) -> bool) -> Vec<String> {
    let mut found: Vec<String> = normal_dependencies(package)
        .into_iter()
        .filter(|name| forbidden(name))
        .collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn the_authorizer_crates_have_no_http_framework_and_no_aws_sdk() {
    for package in ["lambda-authorizer", "cognito-jwt", "auth-contract"] {
        let deps = normal_dependencies(package);
        assert!(
            deps.iter().any(|d| d == package),
            "{package} is in its own tree: {deps:?}"
        );
        let found = offenders(package, |name| name == "lambda_http" || name.starts_with("aws-sdk-"));
        assert!(found.is_empty(), "{package} depends on {found:?}");
    }
}

#[test]
fn the_authorizer_binary_has_no_http_framework_and_no_cognito_sdk() {
    let found = offenders("authorizer", |name| {
        name == "lambda_http" || name == "aws-sdk-cognitoidentityprovider"
    });
    assert!(found.is_empty(), "the authorizer binary depends on {found:?}");
}

#[test]
fn the_check_sees_the_sdk_where_it_is() {
    // The same query on an account function finds both, so an empty answer above means
    // something.
    let found = offenders("sign_in", |name| {
        name == "lambda_http" || name == "aws-sdk-cognitoidentityprovider"
    });
    assert_eq!(found, ["aws-sdk-cognitoidentityprovider", "lambda_http"]);
}
