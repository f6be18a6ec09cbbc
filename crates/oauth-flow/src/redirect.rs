//! Where a browser may be sent after sign-in or sign-out: a path on this site, never another
//! site. The rule is checked on the way in (authorize, logout) and again on the way out.

use std::fmt;

/// Longest path accepted.
const MAX_CHARS: usize = 2048;
/// How many rounds of percent-decoding are checked (`%252F` decodes twice to `/`).
const DECODING_ROUNDS: usize = 3;

/// A same-site relative path: one leading `/`, not `//`, no `\`, no scheme, no control or
/// white-space characters, no `.` or `..` segment, and the same after each round of
/// percent-decoding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RelativePath(String);

impl RelativePath {
    /// `/`.
    pub fn root() -> Self {
        Self("/".to_owned())
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RelativePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<RelativePath> for String {
    fn from(path: RelativePath) -> String {
        path.0
    }
}

impl TryFrom<String> for RelativePath {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        if value.chars().count() > MAX_CHARS {
            return Err(format!("must be at most {MAX_CHARS} characters"));
        }
        let mut current = value.clone();
        for round in 0..DECODING_ROUNDS {
            check(&current, round == 0)?;
            let decoded = percent_encoding::percent_decode_str(&current)
                .decode_utf8()
                .map_err(|_| "must be valid UTF-8 once percent-decoded".to_owned())?
                .into_owned();
            if decoded == current {
                return Ok(Self(value));
            }
            current = decoded;
        }
        Err("must not be percent-encoded more than twice".into())
    }
}

/// The rule on one form of the path; white space is refused as sent (`%20` may decode to one).
fn check(path: &str, as_sent: bool) -> Result<(), String> {
    const RULE: &str = "must be a path on this site, like /account";
    let Some(rest) = path.strip_prefix('/') else {
        return Err(RULE.into());
    };
    if rest.starts_with('/') || path.contains('\\') {
        return Err(RULE.into());
    }
    if path.chars().any(|c| c.is_control() || (as_sent && c.is_whitespace())) {
        return Err("must not contain control or white-space characters".into());
    }
    // A scheme can only come first, and the path starts with '/'; but a browser resolves
    // `/..//host` to `//host`, so dot segments are refused.
    let path_part = path.split(['?', '#']).next().unwrap_or_default();
    if path_part.split('/').any(|segment| segment == "." || segment == "..") {
        return Err("must not contain . or .. segments".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_on_this_site_pass() {
        for ok in [
            "/",
            "/account",
            "/a/b?tab=1&x=%20y",
            "/search#top",
            "/caf%C3%A9",
            "/a.b/c..d",
        ] {
            assert!(RelativePath::try_from(ok.to_owned()).is_ok(), "{ok}");
        }
    }

    #[test]
    fn anything_that_could_leave_the_site_is_refused() {
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/%2F%2Fevil.example",
            "/%2f%2fevil.example",
            "/%252F%252Fevil.example",
            "/%5Cevil.example",
            "\\\\evil.example",
            "evil.example",
            "javascript:alert(1)",
            "/%0d%0aSet-Cookie:x=1",
            "/a\tb",
            "/ a",
            "/..//evil.example",
            "/%2E%2E//evil.example",
            "/./x",
            "",
            "/%ff",
            "/%25252F%25252Fevil.example",
        ] {
            assert!(RelativePath::try_from(bad.to_owned()).is_err(), "{bad}");
        }
        assert!(RelativePath::try_from(format!("/{}", "a".repeat(MAX_CHARS))).is_err());
    }

    #[test]
    fn deserializing_applies_the_rule() {
        assert!(serde_json::from_str::<RelativePath>(r#""//evil.example""#).is_err());
        assert_eq!(
            serde_json::from_str::<RelativePath>(r#""/ok""#).unwrap().as_str(),
            "/ok"
        );
    }
}
