//! Fuzz targets: each takes arbitrary bytes, feeds them to one piece of code that reads
//! untrusted input, and checks what must hold whatever the input (no panic, and the
//! invariants named on each target).
//!
//! `fuzz/` runs them under libFuzzer (`make fuzz`); the tests below replay the committed seed
//! corpus and every crash input ever found (`fuzz/corpus/<target>/`, `fuzz/artifacts/<target>/`)
//! in `make test`, without a fuzzer build.
//!
//! ```
//! // A token that is not one: refused, never a panic.
//! fuzz_targets::token(b"a.b.c");
//! fuzz_targets::redirect(b"//evil.example");
//! ```

// A target states what must hold by panicking: that is how a fuzzer learns of a failure.
#![allow(clippy::expect_used, clippy::panic)]

use auth_contract::token::{ClaimNames, read_unverified};
use http_kit::body::json_object;
use http_kit::inputs::{Password, Username};
use lambda_authorizer::AuthorizerEvent;
use lambda_authorizer::MethodArn;
use lambda_authorizer::Rules;
use oauth_flow::{CookieKey, RelativePath};

/// A fuzz target.
pub type Target = fn(&[u8]);

/// Every target, by the name of its corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("token", token),
    ("authorizer_event", authorizer_event),
    ("rules", rules),
    ("body", body),
    ("oauth_cookie", oauth_cookie),
    ("redirect", redirect),
];

/// The token reader: any text is read or refused; a read token's `sub` is text.
pub fn token(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = auth_contract::token::split(text);
    let _ = read_unverified(text, ClaimNames::default(), |claims| {
        (
            claims.sub.as_ref().map(|s| s.as_str().len()),
            claims.groups.as_ref().map(|g| g.to_vec().len()),
        )
    });
}

/// The authorizer's event reader and ARN parser: any bytes are an event or refused.
pub fn authorizer_event(data: &[u8]) {
    let Ok(event) = serde_json::from_slice::<AuthorizerEvent>(data) else {
        return;
    };
    if let Ok(inbound) = event.inbound() {
        let _ = MethodArn::parse(inbound.arn).map(|arn| arn.request_path().len());
    }
}

/// The rule-document parser.
pub fn rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Rules::from_json(text);
}

/// The JSON body reader and field validation, as a sign-in reads them: every refusal is a
/// 4xx, never a 5xx.
pub fn body(data: &[u8]) {
    let request = lambda_http::http::Request::builder()
        .header("content-type", "application/json")
        .body(lambda_http::Body::Binary(data.to_vec()));
    let Ok(request) = request else { return };
    let outcome = json_object(&request).and_then(|mut fields| {
        let username = fields.required::<Username>("username");
        let password = fields.required::<Password>("password");
        let attributes = fields.optional_string_map("attributes");
        fields.finish(|| Some((username?, password?, attributes)))
    });
    if let Err(error) = outcome {
        assert!(error.status().is_client_error(), "{error:?}");
    }
}

/// The sealed-cookie opener: nothing forged or changed opens; what was sealed opens as sealed.
pub fn oauth_cookie(data: &[u8]) {
    let key = CookieKey::derive("fuzz-cookie-secret-0123456789abcdefghij").expect("a valid secret");
    // Random text cannot pass the AEAD tag, so half the inputs start from a genuine sealed
    // value: it must open as sealed, and with any one character changed, or under another
    // cookie name, it must not open.
    if let Some((&first, rest)) = data.split_first()
        && first & 1 == 1
        && rest.len() >= 2
    {
        let (at, value) = (usize::from(u16::from_le_bytes([rest[0], rest[1]])), &rest[2..]);
        let value = String::from_utf8_lossy(value).into_owned();
        let sealed = key.seal("oauth_flow", &value).expect("a string seals");
        assert_eq!(
            key.open::<String>("oauth_flow", &sealed).as_deref(),
            Some(value.as_str())
        );
        assert!(
            key.open::<String>("oauth_other", &sealed).is_none(),
            "opened under another name"
        );
        let mut tampered = sealed.into_bytes();
        let at = at % tampered.len();
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("sealed text is ASCII");
        assert!(
            key.open::<String>("oauth_flow", &tampered).is_none(),
            "a changed sealed value opened"
        );
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    assert!(
        key.open::<serde_json::Value>("oauth_flow", text).is_none(),
        "a value not sealed by this key opened"
    );
}

/// The redirect rule: whatever passes stays on this site.
pub fn redirect(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(path) = RelativePath::try_from(text.to_owned()) {
        let path = path.as_str();
        assert!(
            path.starts_with('/') && !path.starts_with("//") && !path.contains('\\'),
            "{path:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::TARGETS;

    /// Every file of the seed corpus and every crash input found so far, through its target.
    #[test]
    fn the_corpus_and_every_crash_found_replay_cleanly() {
        let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
        let mut replayed = 0;
        for (name, target) in TARGETS {
            for dir in ["corpus", "artifacts"] {
                let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(name)) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let data = std::fs::read(entry.path()).expect("corpus file");
                    target(&data);
                    replayed += 1;
                }
            }
        }
        assert!(
            replayed >= TARGETS.len(),
            "the seed corpus is missing ({replayed} files)"
        );
    }
}
