//! IAM's resource wildcards, as API Gateway evaluates an authorizer's policy: `*` matches any
//! run of characters (`/` included), `?` exactly one. Used to evaluate a built policy the way
//! API Gateway will.

/// IAM wildcard matching: `*` matches any run of characters (`/` included), `?` exactly one.
/// Case-sensitive, like resource ARNs.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    // Position after the last `*` in the pattern and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi + 1, ti));
                pi += 1;
                continue;
            }
            Some(b'?') => {
                pi += 1;
                ti += utf8_len(t.get(ti).copied().unwrap_or(0));
                continue;
            }
            Some(c) if t.get(ti) == Some(c) => {
                pi += 1;
                ti += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) => {
                // Let the last `*` swallow one more character and retry from there.
                let next = st + utf8_len(t.get(st).copied().unwrap_or(0));
                star = Some((sp, next));
                pi = sp;
                ti = next;
            }
            None => return false,
        }
    }
    p.get(pi..).is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn glob_matching() {
        assert!(glob_match("a/*", "a/b/c"));
        assert!(glob_match("a/*/c", "a/b/c"));
        assert!(glob_match("a/*/c", "a/b/x/c"));
        assert!(!glob_match("a/*/c", "a/b/c/d"));
        assert!(glob_match("*", ""));
        assert!(glob_match("", ""));
        assert!(!glob_match("", "x"));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("a?c", "aéc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("**a", "bba"));
        assert!(!glob_match("A", "a"));
    }

    /// Reference matcher: regular-expression semantics built by hand from the pattern.
    fn reference(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| reference(rest, &t[i..])),
            Some(('?', rest)) => !t.is_empty() && reference(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && reference(rest, &t[1..]),
        }
    }

    proptest! {
        #[test]
        fn glob_agrees_with_reference(p in "[ab/*?]{0,8}", t in "[ab/é]{0,10}") {
            let pc: Vec<char> = p.chars().collect();
            let tc: Vec<char> = t.chars().collect();
            prop_assert_eq!(glob_match(&p, &t), reference(&pc, &tc));
        }
    }
}
