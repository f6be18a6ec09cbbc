//! The one rule for `Authorization: Bearer <token>`, used by the authorizer and by the account
//! functions alike (RFC 6750 section 2.1): the scheme `Bearer` in any case, one or more spaces,
//! then the token. Spaces around the whole value are ignored, as HTTP trims them; a tab
//! anywhere, an empty token, or anything after the token is refused.

/// Why an `Authorization` value is not a usable bearer credential. [`BearerError::reason`] is
/// the stable code logged for a denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BearerError {
    /// No header, or a header with no token in it.
    #[error("no bearer token")]
    Missing,
    /// Two `Authorization` headers, or one header with two values.
    #[error("more than one Authorization value")]
    Ambiguous,
    /// Another scheme (`Basic`...).
    #[error("not the Bearer scheme")]
    BadScheme,
    /// A tab, a control character, or text after the token.
    #[error("malformed Authorization header")]
    Malformed,
}

impl BearerError {
    /// The reason code logged for this denial.
    pub fn reason(self) -> &'static str {
        match self {
            BearerError::Missing => "missing_token",
            BearerError::Ambiguous => "ambiguous_token",
            BearerError::BadScheme => "bad_scheme",
            BearerError::Malformed => "malformed_header",
        }
    }
}

/// The token of one `Authorization` header value.
///
/// ```
/// use auth_contract::bearer::{BearerError, bearer_token};
///
/// assert_eq!(bearer_token("bearer  abc.def.ghi"), Ok("abc.def.ghi"));
/// assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), Err(BearerError::BadScheme));
/// assert_eq!(bearer_token("Bearer\tabc"), Err(BearerError::Malformed));
/// ```
pub fn bearer_token(value: &str) -> Result<&str, BearerError> {
    let value = value.trim_matches(' ');
    if value.is_empty() {
        return Err(BearerError::Missing);
    }
    // Every byte must be visible ASCII or a space: a tab or a control character anywhere is
    // refused (the check runs over bytes, so a 1 KB token costs a few dozen nanoseconds).
    if !value.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Err(BearerError::Malformed);
    }
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerError::BadScheme);
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(BearerError::Missing);
    }
    if token.contains(' ') {
        return Err(BearerError::Malformed);
    }
    Ok(token)
}

/// The token of an `Authorization` header that may occur several times: exactly one value
/// must be present.
pub fn single_bearer_token<'a>(mut values: impl Iterator<Item = &'a str>) -> Result<&'a str, BearerError> {
    let first = values.next().ok_or(BearerError::Missing)?;
    if values.next().is_some() {
        return Err(BearerError::Ambiguous);
    }
    bearer_token(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_scheme_is_case_insensitive_and_spaces_may_repeat() {
        for value in [
            "Bearer abc",
            "bearer abc",
            "BEARER abc",
            "bEaReR abc",
            "Bearer    abc",
            "  Bearer abc  ",
        ] {
            assert_eq!(bearer_token(value), Ok("abc"), "{value:?}");
        }
    }

    #[test]
    fn tabs_empty_tokens_other_schemes_and_trailing_text_are_refused() {
        let cases = [
            ("", BearerError::Missing),
            ("   ", BearerError::Missing),
            ("Bearer", BearerError::Missing),
            ("Bearer ", BearerError::Missing),
            ("bearer    ", BearerError::Missing),
            ("Bearer\tabc", BearerError::Malformed),
            ("Bearer abc\t", BearerError::Malformed),
            ("\tBearer abc", BearerError::Malformed),
            ("Bearer a\u{0}bc", BearerError::Malformed),
            ("Bearer abc\r\n", BearerError::Malformed),
            ("Bearer a b", BearerError::Malformed),
            ("Bearer abc def", BearerError::Malformed),
            ("Bearer é", BearerError::Malformed),
            ("Basic dXNlcjpwYXNz", BearerError::BadScheme),
            ("Bearerabc", BearerError::BadScheme),
            ("Token abc", BearerError::BadScheme),
            ("abc.def.ghi", BearerError::BadScheme),
        ];
        for (value, expected) in cases {
            assert_eq!(bearer_token(value), Err(expected), "{value:?}");
        }
    }

    #[test]
    fn two_values_are_ambiguous_even_when_both_are_valid() {
        assert_eq!(single_bearer_token(["Bearer a"].into_iter()), Ok("a"));
        assert_eq!(single_bearer_token(std::iter::empty()), Err(BearerError::Missing));
        assert_eq!(
            single_bearer_token(["Bearer a", "Bearer a"].into_iter()),
            Err(BearerError::Ambiguous)
        );
    }

    proptest! {
        /// Whatever the value, the answer is a token that appears verbatim in it and holds
        /// only visible ASCII, or a refusal; never a panic.
        #[test]
        fn any_value_gives_a_clean_token_or_a_refusal(value in "\\PC{0,40}|[Bb]earer[ \t]{0,3}[!-~ \t]{0,20}") {
            if let Ok(token) = bearer_token(&value) {
                prop_assert!(!token.is_empty());
                prop_assert!(token.bytes().all(|b| b.is_ascii_graphic()));
                prop_assert!(value.contains(token));
                prop_assert!(!value.contains('\t'));
            }
        }
    }
}
