//! What a request is, as API Gateway names it: the method ARN (`methodArn` of a REST event,
//! `routeArn` of an HTTP API event) and the verb in it.

use std::fmt;

/// An ARN API Gateway would never send: not an execute-api method ARN, or one with a wildcard,
/// whitespace or an empty part in it (its parts go verbatim into the policy's resources).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an execute-api method ARN")]
pub struct ArnError;

/// An HTTP method as API Gateway puts it in a method ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
    /// `HEAD`.
    Head,
    /// `OPTIONS`.
    Options,
}

impl Verb {
    /// Every verb a rule can name.
    pub const ALL: [Verb; 7] = [
        Verb::Get,
        Verb::Post,
        Verb::Put,
        Verb::Patch,
        Verb::Delete,
        Verb::Head,
        Verb::Options,
    ];

    /// The method's name, upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
            Verb::Head => "HEAD",
            Verb::Options => "OPTIONS",
        }
    }

    /// Case-insensitive, as HTTP methods arrive from clients in any case.
    pub fn parse(method: &str) -> Option<Verb> {
        Verb::ALL.into_iter().find(|v| v.as_str().eq_ignore_ascii_case(method))
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed `arn:aws:execute-api:region:account:apiId/stage/METHOD/path`, borrowing from the
/// event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodArn<'a> {
    text: &'a str,
    prefix: &'a str,
    /// `aws`, `aws-cn`...
    pub partition: &'a str,
    /// The region.
    pub region: &'a str,
    /// The account.
    pub account_id: &'a str,
    /// The API id.
    pub api_id: &'a str,
    /// The stage.
    pub stage: &'a str,
    /// As written in the ARN; see [`MethodArn::verb`].
    pub method: &'a str,
    /// The request path without its leading `/` (empty for the root).
    pub path: &'a str,
    request_path: &'a str,
}

impl<'a> MethodArn<'a> {
    /// Parses an ARN; wildcards, whitespace and empty parts are refused.
    pub fn parse(arn: &'a str) -> Result<Self, ArnError> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("execute-api"), Some(region), Some(account_id), Some(resource)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(ArnError);
        };
        let mut res = resource.splitn(4, '/');
        let (Some(api_id), Some(stage), Some(method)) = (res.next(), res.next(), res.next()) else {
            return Err(ArnError);
        };
        let path = res.next().unwrap_or("");
        // The path as requested, with its leading `/` (the one that ends the method in the ARN):
        // `GET//x` is the path `//x`, not `/x`.
        let request_path = match arn.len().checked_sub(path.len() + 1).and_then(|start| arn.get(start..)) {
            Some(with_slash) if with_slash.starts_with('/') && !path.is_empty() => with_slash,
            _ => "/",
        };
        let fields = [partition, region, account_id, api_id, stage, method];
        if fields.iter().any(|f| {
            f.is_empty()
                || f.bytes()
                    .any(|b| b == b'*' || b == b'?' || b.is_ascii_whitespace() || b.is_ascii_control())
        }) {
            return Err(ArnError);
        }
        let prefix_len = arn.len() - resource.len() + api_id.len() + 1 + stage.len();
        let prefix = arn.get(..prefix_len).ok_or(ArnError)?;
        Ok(Self {
            text: arn,
            prefix,
            partition,
            region,
            account_id,
            api_id,
            stage,
            method,
            path,
            request_path,
        })
    }

    /// The ARN as the event gave it: the resource a policy allows or denies for this request.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// The request path with its leading `/` (`/` for the root), as the rules judge it.
    pub fn request_path(&self) -> &'a str {
        self.request_path
    }

    /// `None` for a method API Gateway never authorizes through a route (rules cannot name it).
    pub fn verb(&self) -> Option<Verb> {
        Verb::parse(self.method)
    }

    /// `arn:...:apiId/stage`, the prefix of every resource of the API and stage.
    pub fn prefix(&self) -> &'a str {
        self.prefix
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/admin/users";

    #[test]
    fn parses_method_arns() {
        let a = MethodArn::parse(ARN).unwrap();
        assert_eq!(
            (a.partition, a.region, a.account_id, a.api_id, a.stage, a.method, a.path),
            (
                "aws",
                "eu-west-1",
                "123456789012",
                "abc123",
                "prod",
                "GET",
                "admin/users"
            )
        );
        assert_eq!(a.prefix(), "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod");
        assert_eq!(a.request_path(), "/admin/users");
        assert_eq!(a.as_str(), ARN);
        let doubled = MethodArn::parse("arn:aws:execute-api:r:1:api/s/GET//admin").unwrap();
        assert_eq!((doubled.path, doubled.request_path()), ("/admin", "//admin"));
        assert_eq!(a.verb(), Some(Verb::Get));

        let root = MethodArn::parse("arn:aws-cn:execute-api:cn-north-1:1:api/$default/POST/").unwrap();
        assert_eq!((root.partition, root.stage, root.path), ("aws-cn", "$default", ""));
        assert_eq!(root.request_path(), "/");
        let no_path = MethodArn::parse("arn:aws:execute-api:r:1:api/s/GET").unwrap();
        assert_eq!((no_path.path, no_path.request_path()), ("", "/"));
        assert_eq!(
            MethodArn::parse("arn:aws:execute-api:r:1:api/s/FETCH/x")
                .unwrap()
                .verb(),
            None
        );
    }

    #[test]
    fn rejects_malformed_or_wildcard_arns() {
        for bad in [
            "",
            "arn:aws:lambda:r:1:function/x",
            "arn:aws:execute-api:r:1:api",
            "arn:aws:execute-api:r:1:api/stage",
            "arn:aws:execute-api:r:1:*/stage/GET/x",
            "arn:aws:execute-api:r:1:api/*/GET/x",
            "arn:aws:execute-api:r:*:api/s/GET/x",
            "arn:aws:execute-api::1:api/s/GET/x",
            "arn:aws:execute-api:r:1:api/s/*/x",
            "arn:aws:execute-api:r:1:api/s /GET/x",
            "not an arn",
        ] {
            assert_eq!(MethodArn::parse(bad), Err(ArnError), "{bad}");
        }
    }

    #[test]
    fn verbs_parse_in_any_case_and_print_upper_case() {
        for verb in Verb::ALL {
            assert_eq!(Verb::parse(&verb.as_str().to_ascii_lowercase()), Some(verb));
            assert_eq!(verb.to_string(), verb.as_str());
        }
        assert_eq!(Verb::parse("ANY"), None);
    }
}
