//! The `otpauth://totp/...` URI an authenticator app reads from a QR code, built from the
//! secret Cognito gives when a software token is associated (Cognito gives only the secret).
//!
//! The format is Google Authenticator's Key Uri Format, which every common app reads:
//! `otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>`, the label's two parts
//! percent-encoded and the `issuer` parameter equal to the label's prefix (apps file the entry
//! under it).

use auth_contract::config::{ConfigError, Env};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What may stay as is in a label part or a query value: RFC 3986's unreserved characters.
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The name authenticator apps show above the code (`TOTP_ISSUER`): the product or the API,
/// 1 to 64 characters, no colon (the label's separator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpIssuer(String);

impl TotpIssuer {
    /// Without `TOTP_ISSUER`.
    pub const DEFAULT: &'static str = "Cognito";

    /// An issuer name, checked.
    pub fn new(name: impl Into<String>) -> Result<Self, String> {
        let name = name.into();
        if name.is_empty() || name.chars().count() > 64 {
            return Err("must be 1 to 64 characters".into());
        }
        if name.contains(':') || name.chars().any(char::is_control) {
            return Err("must not contain a colon or control characters".into());
        }
        Ok(Self(name))
    }

    /// `TOTP_ISSUER`, default [`Self::DEFAULT`].
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        match env.optional("TOTP_ISSUER") {
            None => Ok(Self::default()),
            Some(name) => Self::new(name).map_err(|reason| ConfigError::Invalid {
                name: "TOTP_ISSUER",
                reason,
            }),
        }
    }

    /// The URI for `account`'s new token with Cognito's base32 `secret`.
    pub fn otpauth_uri(&self, account: &str, secret: &str) -> String {
        let issuer = utf8_percent_encode(&self.0, ENCODED);
        let account = utf8_percent_encode(account, ENCODED);
        // Base32 without padding, upper case: what the format asks for.
        let secret: String = secret
            .chars()
            .filter(|c| *c != '=' && !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let secret = utf8_percent_encode(&secret, ENCODED);
        format!("otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits=6&period=30")
    }
}

impl Default for TotpIssuer {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uri_follows_the_key_uri_format() {
        let issuer = TotpIssuer::new("Acme").unwrap();
        assert_eq!(
            issuer.otpauth_uri("ada", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/Acme:ada?secret=JBSWY3DPEHPK3PXP&issuer=Acme&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn label_parts_and_issuer_are_percent_encoded() {
        let issuer = TotpIssuer::new("Acme Corp & Co").unwrap();
        let uri = issuer.otpauth_uri("ada:lovelace@example.com", "jbsw y3dp====");
        assert_eq!(
            uri,
            "otpauth://totp/Acme%20Corp%20%26%20Co:ada%3Alovelace%40example.com?secret=JBSWY3DP&issuer=Acme%20Corp%20%26%20Co&algorithm=SHA1&digits=6&period=30"
        );
        // Exactly one literal colon after the scheme: the label's separator.
        assert_eq!(uri.trim_start_matches("otpauth://totp/").matches(':').count(), 1);
    }

    #[test]
    fn issuers_that_would_break_the_label_are_refused() {
        for bad in ["", "a:b", "tab\there", &"x".repeat(65)] {
            assert!(TotpIssuer::new(bad).is_err(), "{bad:?}");
        }
        let env = Env::from_pairs(&[("TOTP_ISSUER", "Acme:Prod")]);
        assert!(matches!(
            TotpIssuer::from_env(&env),
            Err(ConfigError::Invalid {
                name: "TOTP_ISSUER",
                ..
            })
        ));
        assert_eq!(
            TotpIssuer::from_env(&Env::from_pairs(&[])).unwrap(),
            TotpIssuer::default()
        );
    }
}
