//! Writes a policy for one API and stage: allows and denies per verb and path, grouped into
//! one Allow and one Deny statement.

use super::PolicyError;
use super::document::{Effect, PolicyDocument, Statement};
use crate::arn::{MethodArn, Verb};

/// Allows and denies on the API and stage of one method ARN.
#[derive(Debug, Clone)]
pub(super) struct PolicyBuilder<'a> {
    prefix: &'a str,
    allow: Vec<String>,
    deny: Vec<String>,
}

impl<'a> PolicyBuilder<'a> {
    /// For the method ARN's `arn:...:apiId/stage`.
    pub(super) fn for_method_arn(arn: &MethodArn<'a>) -> Self {
        Self {
            prefix: arn.prefix(),
            allow: Vec::new(),
            deny: Vec::new(),
        }
    }

    /// The resource ARN for a verb and a path (leading `/` optional; `*` is a wildcard).
    pub(super) fn resource(&self, verb: Verb, path: &str) -> Result<String, PolicyError> {
        let path = path.strip_prefix('/').unwrap_or(path);
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(PolicyError::InvalidPath);
        }
        let verb = verb.as_str();
        let mut r = String::with_capacity(self.prefix.len() + verb.len() + path.len() + 2);
        r.push_str(self.prefix);
        r.push('/');
        r.push_str(verb);
        r.push('/');
        r.push_str(path);
        Ok(r)
    }

    /// Allows `verb` on `path` (an IAM glob).
    pub(super) fn allow_method(&mut self, verb: Verb, path: &str) -> Result<&mut Self, PolicyError> {
        let r = self.resource(verb, path)?;
        self.allow.push(r);
        Ok(self)
    }

    /// Denies `verb` on `path` (an IAM glob).
    pub(super) fn deny_method(&mut self, verb: Verb, path: &str) -> Result<&mut Self, PolicyError> {
        let r = self.resource(verb, path)?;
        self.deny.push(r);
        Ok(self)
    }

    /// Allows an already-formed resource ARN (the request's own method ARN).
    pub(super) fn allow_resource(&mut self, resource_arn: &str) -> &mut Self {
        self.allow.push(resource_arn.to_owned());
        self
    }

    /// Denies an already-formed resource ARN (the request's own, a non-canonical glob).
    pub(super) fn deny_resource(&mut self, resource_arn: &str) -> &mut Self {
        self.deny.push(resource_arn.to_owned());
        self
    }

    /// Empty statements are left out; a policy that would be empty becomes an explicit deny of
    /// everything, since API Gateway rejects an empty policy.
    pub(super) fn build(self) -> PolicyDocument {
        let mut statements = Vec::with_capacity(2);
        if !self.allow.is_empty() {
            statements.push(Statement {
                effect: Effect::Allow,
                resources: self.allow,
            });
        }
        if !self.deny.is_empty() {
            statements.push(Statement {
                effect: Effect::Deny,
                resources: self.deny,
            });
        }
        if statements.is_empty() {
            let everything = format!("{}/*/*", self.prefix);
            statements.push(Statement {
                effect: Effect::Deny,
                resources: vec![everything],
            });
        }
        PolicyDocument { statements }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/admin/users";
    const P: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod";

    #[test]
    fn groups_allows_and_denies_into_one_statement_each() {
        let arn = MethodArn::parse(ARN).unwrap();
        let mut b = PolicyBuilder::for_method_arn(&arn);
        b.allow_method(Verb::Get, "/auth/me").unwrap();
        b.allow_method(Verb::Get, "users/*").unwrap();
        b.deny_method(Verb::Get, "/admin/users").unwrap();
        b.deny_resource(arn.as_str());
        let doc = b.build();
        assert_eq!(
            doc.statements,
            vec![
                Statement {
                    effect: Effect::Allow,
                    resources: vec![format!("{P}/GET/auth/me"), format!("{P}/GET/users/*")],
                },
                Statement {
                    effect: Effect::Deny,
                    resources: vec![format!("{P}/GET/admin/users"), ARN.to_owned()],
                },
            ]
        );
        assert_eq!(doc.evaluate(&format!("{P}/GET/users/7")), Effect::Allow);
        assert_eq!(doc.evaluate(ARN), Effect::Deny);
    }

    #[test]
    fn an_empty_policy_denies_everything() {
        let arn = MethodArn::parse(ARN).unwrap();
        let doc = PolicyBuilder::for_method_arn(&arn).build();
        assert_eq!(doc.statements.len(), 1);
        assert_eq!(doc.statements[0].resources, vec![format!("{P}/*/*")]);
        assert_eq!(doc.evaluate(ARN), Effect::Deny);
    }

    #[test]
    fn refuses_paths_with_whitespace_or_control_characters() {
        let arn = MethodArn::parse(ARN).unwrap();
        let mut b = PolicyBuilder::for_method_arn(&arn);
        assert_eq!(b.allow_method(Verb::Get, "/a b").err(), Some(PolicyError::InvalidPath));
        assert_eq!(b.deny_method(Verb::Get, "/a\nb").err(), Some(PolicyError::InvalidPath));
    }

    proptest! {
        #[test]
        fn a_method_arn_parses_and_its_resource_is_itself(region in "[a-z]{2}-[a-z]{4,9}-[1-9]", account in "[0-9]{12}", api in "[a-z0-9]{10}",
                                                 stage in "[A-Za-z0-9_$]{1,10}", path in "(/[A-Za-z0-9._-]{1,8}){0,4}") {
            let arn = format!("arn:aws:execute-api:{region}:{account}:{api}/{stage}/PUT{}", if path.is_empty() { "/".to_owned() } else { path.clone() });
            let m = MethodArn::parse(&arn).unwrap();
            prop_assert_eq!(m.verb(), Some(Verb::Put));
            prop_assert_eq!(m.path, path.strip_prefix('/').unwrap_or(""));
            prop_assert_eq!(m.prefix(), format!("arn:aws:execute-api:{region}:{account}:{api}/{stage}"));
            prop_assert_eq!(m.request_path(), if path.is_empty() { "/" } else { path.as_str() });
            let r = PolicyBuilder::for_method_arn(&m).resource(Verb::Put, &path).unwrap();
            let expected = if path.is_empty() { format!("{}/PUT/", m.prefix()) } else { arn.clone() };
            prop_assert_eq!(r, expected);
        }
    }
}
