//! Validated input types. A value of one of these types has passed its rules, so code past the
//! parsing step never re-checks it. Secrets (passwords, codes, tokens) are kept in
//! [`secrecy::SecretString`]: their `Debug` output is redacted, so they cannot reach a log line.

use secrecy::{ExposeSecret, SecretString};

/// Largest token accepted anywhere, in bytes; Cognito's tokens are far smaller.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

fn char_count_between(value: &str, min: usize, max: usize) -> bool {
    let n = value.chars().count();
    (min..=max).contains(&n)
}

/// The one shape of the names a user pool keeps (usernames, group names): 1 to 128
/// characters, no white space or control characters.
fn pool_name(value: &str) -> Result<(), String> {
    if !char_count_between(value, 1, 128) {
        return Err("must be 1 to 128 characters".into());
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    Ok(())
}

/// A Cognito username, in the shape of `pool_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl TryFrom<String> for Username {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        pool_name(&value)?;
        Ok(Self(value))
    }
}

impl Username {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, checked for shape only (delivery proves the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl TryFrom<String> for Email {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        const SHAPE: &str = "must be an email address like name@example.com";
        if value.len() > 254 {
            return Err("must be at most 254 characters".into());
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(SHAPE.into());
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return Err(SHAPE.into());
        };
        let labels_ok = domain.split('.').count() >= 2
            && domain
                .split('.')
                .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if local.is_empty() || local.len() > 64 || local.contains('@') || !labels_ok {
            return Err(SHAPE.into());
        }
        Ok(Self(value))
    }
}

impl Email {
    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 form, as Cognito stores `phone_number`: `+`, then 2 to 15 digits, the
/// first not 0 (a code, like an email, proves the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl TryFrom<String> for PhoneNumber {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        let digits = value.strip_prefix('+').unwrap_or_default();
        let ok =
            (2..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
        if ok {
            Ok(Self(value))
        } else {
            Err("must be an E.164 number like +14155550100".into())
        }
    }
}

impl PhoneNumber {
    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A team name: 1 to 64 letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team(String);

impl TryFrom<String> for Team {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        let ok = (1..=64).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(value))
        } else {
            Err("must be 1 to 64 letters, digits, `-` or `_`".into())
        }
    }
}

impl Team {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user pool group name, in the shape of `pool_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupName(String);

impl TryFrom<String> for GroupName {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        pool_name(&value)?;
        Ok(Self(value))
    }
}

impl GroupName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! secret_newtype {
    ($(#[$meta:meta])* $name:ident, $check:expr) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(&value)?;
                Ok(Self(SecretString::from(value)))
            }
        }

        impl ExposeSecret<str> for $name {
            fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl From<$name> for SecretString {
            fn from(value: $name) -> SecretString {
                value.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }
    };
}

secret_newtype!(
    /// A password: 6 to 256 characters (Cognito's bounds) without leading or trailing
    /// spaces. The pool's own policy is enforced by Cognito and answered as `InvalidPassword`.
    Password,
    |value| {
        if !char_count_between(value, 6, 256) {
            return Err("must be 6 to 256 characters".into());
        }
        if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
            return Err("must not start or end with a space".into());
        }
        Ok(())
    }
);

/// Whether `value` is `lengths` bytes of visible ASCII (no space, no control character): the
/// shape of every opaque code, session and token this API passes on.
pub fn is_visible_ascii(value: &str, lengths: std::ops::RangeInclusive<usize>) -> bool {
    lengths.contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic())
}

secret_newtype!(
    /// A confirmation code as sent by email or SMS: 1 to 64 visible ASCII characters.
    ConfirmationCode,
    |value| {
        if !is_visible_ascii(value, 1..=64) {
            return Err("must be 1 to 64 visible characters without spaces".into());
        }
        Ok(())
    }
);

fn token_shape(value: &str) -> Result<(), String> {
    if value.is_empty() || value.len() > MAX_TOKEN_BYTES {
        return Err(format!("must be 1 to {MAX_TOKEN_BYTES} characters"));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must contain only visible ASCII characters".into());
    }
    Ok(())
}

secret_newtype!(
    /// A sign-in challenge's session, as Cognito issued it: 20 to 4096 visible ASCII
    /// characters.
    Session,
    |value| {
        if !is_visible_ascii(value, 20..=4096) {
            return Err("must be the session of a sign-in challenge".into());
        }
        Ok(())
    }
);

secret_newtype!(
    /// A refresh token as issued at sign-in (opaque to this API).
    RefreshToken,
    token_shape
);

secret_newtype!(
    /// An access token as issued at sign-in; Cognito checks it on use.
    AccessToken,
    token_shape
);

#[cfg(test)]
mod tests {
    use super::*;

    fn ok<T: TryFrom<String, Error = String>>(v: &str) -> bool {
        T::try_from(v.to_owned()).is_ok()
    }

    #[test]
    fn visible_ascii_is_bounded_and_has_no_space_or_control() {
        assert!(is_visible_ascii("a", 1..=3) && is_visible_ascii("abc", 1..=3));
        assert!(!is_visible_ascii("", 1..=3) && !is_visible_ascii("abcd", 1..=3));
        for bad in ["a b", "a\tb", "a\u{7f}", "é"] {
            assert!(!is_visible_ascii(bad, 1..=8), "{bad:?}");
        }
    }

    #[test]
    fn usernames() {
        assert!(ok::<Username>("ada"));
        assert!(ok::<Username>("ada.lovelace+1@example.com"));
        assert!(ok::<Username>("Zoë"));
        assert!(ok::<Username>(&"a".repeat(128)));
        assert!(!ok::<Username>(""));
        assert!(!ok::<Username>(&"a".repeat(129)));
        assert!(!ok::<Username>("ada lovelace"));
        assert!(!ok::<Username>("ada\u{0}"));
        assert!(!ok::<Username>("tab\there"));
    }

    #[test]
    fn teams_and_groups() {
        assert!(ok::<Team>("blue") && ok::<Team>("Team_2-b") && ok::<Team>(&"t".repeat(64)));
        for bad in ["", "a b", "a/b", "é", "a.b", &"t".repeat(65)] {
            assert!(!ok::<Team>(bad), "{bad}");
        }
        assert!(ok::<GroupName>("admin") && ok::<GroupName>("ops.eu-west"));
        assert!(!ok::<GroupName>("") && !ok::<GroupName>("a b") && !ok::<GroupName>(&"g".repeat(129)));
    }

    #[test]
    fn emails() {
        assert!(ok::<Email>("ada@example.com"));
        assert!(ok::<Email>("a.b+c@sub.example.co.uk"));
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "a da@example.com",
            "ada@.com",
            "ada@example..com",
            "ada@-x.com",
        ] {
            assert!(!ok::<Email>(bad), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(!ok::<Email>(&long));
    }

    #[test]
    fn passwords() {
        assert!(ok::<Password>("Correct-Horse-1"));
        assert!(ok::<Password>(&"p".repeat(256)));
        assert!(!ok::<Password>("short"));
        assert!(!ok::<Password>(&"p".repeat(257)));
        assert!(!ok::<Password>(" Leading-space-1"));
        assert!(!ok::<Password>("Trailing-space-1 "));
    }

    #[test]
    fn codes_and_tokens() {
        assert!(ok::<ConfirmationCode>("123456"));
        assert!(!ok::<ConfirmationCode>(""));
        assert!(!ok::<ConfirmationCode>("12 34"));
        assert!(!ok::<ConfirmationCode>(&"1".repeat(65)));
        assert!(ok::<RefreshToken>("eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIn0.x.y.z.w"));
        assert!(!ok::<RefreshToken>(""));
        assert!(!ok::<AccessToken>(&"a".repeat(MAX_TOKEN_BYTES + 1)));
        assert!(!ok::<AccessToken>("abc\ndef"));
    }

    #[test]
    fn phone_numbers_are_e164() {
        for good in ["+14155550100", "+33123456789", "+12"] {
            assert!(PhoneNumber::try_from(good.to_owned()).is_ok(), "{good}");
        }
        for bad in [
            "14155550100",
            "+",
            "+1",
            "+0123456",
            "+1 415 555",
            "+1415555010012345",
            "+1-415",
            "",
            "+١٢٣",
        ] {
            assert!(PhoneNumber::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let password = Password::try_from("Super-Secret-1".to_owned()).unwrap();
        let token = RefreshToken::try_from("tok-123".to_owned()).unwrap();
        let rendered = format!("{password:?} {token:?}");
        assert!(
            !rendered.contains("Super-Secret-1") && !rendered.contains("tok-123"),
            "{rendered}"
        );
        assert_eq!(password.expose_secret(), "Super-Secret-1");
    }
}
