//! Request paths and route patterns, with exact semantics:
//!
//! - a request path is judged only if it is canonical ([`is_canonical`]): no empty segment
//!   (`//`, a trailing `/`), no `.` or `..` segment, no percent-encoded `/`, `\` or `.`, no `\`,
//!   no control character, raw or percent-encoded, and no percent-encoded unreserved character
//!   (RFC 3986 §2.3: letters, digits, `-`, `.`, `_`, `~`, which a canonical URI never encodes:
//!   `/%61dmin` is `/admin` to whatever decodes it, but no rule's `admin`). API Gateway documents
//!   none of these cases, so the authorizer denies them all;
//! - in a route pattern, `{param}` matches exactly one non-empty segment; `{param+}` matches one
//!   or more and may only be the last segment; `*` may only be a whole last segment and means
//!   the same as `{param+}`.
//!
//! IAM globs, which API Gateway evaluates the cached policy with, have no one-segment wildcard:
//! [`PathPattern::glob`] over-reaches wherever a `{param}` sits, and
//! [`PathPattern::gap_globs`] and [`NON_CANONICAL_GLOBS`] are the Deny statements that close the
//! gap. [`overlap`] finds where such a Deny also covers another route (a false 403 on a cached
//! call), so the authorizer can say so at cold start.

use std::collections::{HashMap, VecDeque};

/// One segment of a route pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Segment {
    Literal(String),
    /// `{name}`: one non-empty segment.
    Param,
    /// `{name+}` or `*`, last: one or more segments.
    Greedy,
}

/// A route's path pattern, as written and parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathPattern {
    raw: String,
    segments: Vec<Segment>,
    /// Each segment's parameter name (`None` for a literal or `*`).
    names: Vec<Option<String>>,
}

impl PathPattern {
    /// Parses `/a/{b}/{rest+}`. Returns the reason on failure.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let Some(rest) = raw.strip_prefix('/') else {
            return Err(format!("path `{raw}` must start with `/`"));
        };
        let mut segments = Vec::new();
        let mut names = Vec::new();
        if !rest.is_empty() {
            let count = rest.split('/').count();
            for (i, segment) in rest.split('/').enumerate() {
                let last = i + 1 == count;
                if segment.is_empty() {
                    return Err(format!("path `{raw}` has an empty segment (`//` or a trailing `/`)"));
                }
                let parsed = if segment == "*" {
                    if !last {
                        return Err(format!("path `{raw}`: `*` may only be the whole last segment"));
                    }
                    Segment::Greedy
                } else if let Some(inner) = segment.strip_prefix('{') {
                    let Some(name) = inner.strip_suffix('}') else {
                        return Err(format!(
                            "path `{raw}`: segment `{segment}` opens `{{` without closing it"
                        ));
                    };
                    let (name, greedy) = match name.strip_suffix('+') {
                        Some(name) => (name, true),
                        None => (name, false),
                    };
                    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !valid {
                        return Err(format!("path `{raw}`: `{segment}` is not a valid parameter name"));
                    }
                    if greedy && !last {
                        return Err(format!("path `{raw}`: `{segment}` may only be the last segment"));
                    }
                    names.push(Some(name.to_owned()));
                    if greedy { Segment::Greedy } else { Segment::Param }
                } else if segment.contains('*') {
                    return Err(format!(
                        "path `{raw}`: `*` may only be the whole last segment, not part of `{segment}`"
                    ));
                } else if let Some(bad) = segment.chars().find(|c| !is_literal_char(*c)) {
                    return Err(format!(
                        "path `{raw}`: character `{bad}` is not allowed in segment `{segment}` (use `{{param}}` as a whole segment)"
                    ));
                } else if segment == "." || segment == ".." {
                    return Err(format!("path `{raw}`: `{segment}` is not a canonical segment"));
                } else {
                    Segment::Literal(segment.to_owned())
                };
                if names.len() == segments.len() {
                    names.push(None);
                }
                segments.push(parsed);
            }
        }
        Ok(Self {
            raw: raw.to_owned(),
            segments,
            names,
        })
    }

    /// The path as written, with its leading `/`.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether a canonical request path (with or without its leading `/`) matches.
    pub fn matches(&self, path: &str) -> bool {
        self.walk(path, |_, _| {})
    }

    /// The named parameters of a path this pattern matches, in order (`{name}` → its segment,
    /// `{name+}` → the rest of the path); `None` when it does not match. The local stack routes
    /// requests with it, so a route and a rule agree on what a path is.
    pub fn parameters<'p>(&self, path: &'p str) -> Option<Vec<(&str, &'p str)>> {
        let mut found = Vec::new();
        let matched = self.walk(path, |index, value| {
            if let Some(Some(name)) = self.names.get(index) {
                found.push((name.as_str(), value));
            }
        });
        matched.then_some(found)
    }

    /// Matches `path`, passing each parameter segment's index and value to `capture`.
    fn walk<'p>(&self, path: &'p str, mut capture: impl FnMut(usize, &'p str)) -> bool {
        let path = path.strip_prefix('/').unwrap_or(path);
        // The root has no segments.
        let mut parts = path.split('/').filter(|_| !path.is_empty());
        let mut consumed = 0;
        for (index, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Greedy => {
                    let rest = path.get(consumed..).unwrap_or_default();
                    let matched = parts.next().is_some_and(|p| !p.is_empty()) && parts.all(|p| !p.is_empty());
                    if matched {
                        capture(index, rest);
                    }
                    return matched;
                }
                Segment::Param => {
                    let Some(part) = parts.next().filter(|p| !p.is_empty()) else {
                        return false;
                    };
                    capture(index, part);
                    consumed += part.len() + 1;
                }
                Segment::Literal(text) => {
                    if parts.next() != Some(text.as_str()) {
                        return false;
                    }
                    consumed += text.len() + 1;
                }
            }
        }
        parts.next().is_none()
    }

    /// Whether two patterns match the same paths (parameter names aside).
    pub fn same_shape(&self, other: &PathPattern) -> bool {
        self.segments == other.segments
    }

    /// The IAM resource glob, without the leading `/` (method ARNs carry none): a parameter or
    /// `*` becomes `*`, which in IAM also crosses `/`.
    pub fn glob(&self) -> String {
        self.glob_with(None)
    }

    /// Globs that cover the paths [`Self::glob`] reaches beyond the pattern: one per `{param}`
    /// that can over-reach, with that parameter spanning two or more segments. A policy that
    /// allows [`Self::glob`] denies these to stay exact. They cover no path of the pattern,
    /// except where a literal after the parameter can also appear in a greedy tail (see
    /// `overlap`).
    pub fn gap_globs(&self) -> Vec<String> {
        let greedy = self.segments.last() == Some(&Segment::Greedy);
        let mut globs: Vec<String> = Vec::new();
        for (i, segment) in self.segments.iter().enumerate() {
            let literal_after = self
                .segments
                .iter()
                .skip(i + 1)
                .any(|s| matches!(s, Segment::Literal(_)));
            // A parameter with only parameters and a greedy tail after it reaches no further
            // than the tail does.
            if *segment == Segment::Param && (literal_after || !greedy) {
                let glob = self.glob_with(Some(i));
                if !globs.contains(&glob) {
                    globs.push(glob);
                }
            }
        }
        // A lone parameter's glob is `*`, which IAM also matches against the root.
        if self.segments.len() == 1 && !matches!(self.segments.first(), Some(Segment::Literal(_))) {
            globs.push(String::new());
        }
        globs
    }

    fn glob_with(&self, spanning: Option<usize>) -> String {
        let mut glob = String::with_capacity(self.raw.len());
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                glob.push('/');
            }
            match segment {
                Segment::Literal(text) => glob.push_str(text),
                Segment::Param if spanning == Some(i) => glob.push_str("*/*"),
                Segment::Param | Segment::Greedy => glob.push('*'),
            }
        }
        glob
    }
}

/// RFC 3986 `pchar` without percent-encoding and without the glob characters.
fn is_literal_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()+,;=:@".contains(c)
}

/// Whether a request path (as in a method ARN, with or without its leading `/`) is canonical.
/// The root (`/`, or nothing) is.
pub(crate) fn is_canonical(path: &str) -> bool {
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.is_empty() {
        return true;
    }
    let bytes = path.as_bytes();
    if bytes.iter().any(|&b| b.is_ascii_control() || b == b'\\') {
        return false;
    }
    // `%2F`, `%5C`, `%2E` in either case, every `%0?`, `%1?` and `%7F`, and every encoded
    // unreserved character: the same shapes as the Deny statements in NON_CANONICAL_GLOBS, so a
    // cached policy and a live decision agree.
    let encoded = bytes.windows(3).any(|w| match w {
        [b'%', b'0' | b'1', _] => true,
        [b'%', a, b] => {
            let pair = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
            matches!(&pair, b"2F" | b"5C" | b"2E" | b"7F") || decoded(*a, *b).is_some_and(is_unreserved)
        }
        _ => false,
    });
    !encoded && path.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}

/// The byte `%<a><b>` stands for.
fn decoded(a: u8, b: u8) -> Option<u8> {
    let hex = |c: u8| char::from(c).to_digit(16);
    Some(u8::try_from(hex(a)? * 16 + hex(b)?).unwrap_or(0))
}

/// RFC 3986 §2.3's unreserved characters.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// The fixed Deny globs (after `arn:...:api/stage/`); [`NON_CANONICAL_GLOBS`] adds one per
/// spelling of an encoded unreserved character.
const FIXED_NON_CANONICAL_GLOBS: &[&str] = &[
    "*//*", "*/*/", "*/./*", "*/.", "*/../*", "*/..", "*\\*", "*%2F*", "*%2f*", "*%5C*", "*%5c*", "*%2E*", "*%2e*",
    "*%0?*", "*%1?*", "*%7F*", "*%7f*",
];

/// Deny globs (after `arn:...:api/stage/`) for every non-canonical path: with `*` in the verb's
/// place, each covers every method. IAM globs have no character classes, so each spelling of an
/// encoded unreserved character is its own glob (`%4A` and `%4a`).
pub(crate) static NON_CANONICAL_GLOBS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    let mut globs: Vec<String> = FIXED_NON_CANONICAL_GLOBS.iter().map(|g| (*g).to_owned()).collect();
    for byte in (0_u8..0x80).filter(|b| is_unreserved(*b) && *b != b'.') {
        let upper = format!("{byte:02X}");
        let lower = upper.to_ascii_lowercase();
        globs.push(format!("*%{upper}*"));
        if lower != upper {
            globs.push(format!("*%{lower}*"));
        }
    }
    globs
});

/// A canonical path (without its leading `/`) that `pattern` matches and the IAM glob `glob`
/// covers too, if there is one: where a Deny of `glob` would also refuse part of `pattern`.
pub(crate) fn overlap(glob: &str, pattern: &PathPattern) -> Option<String> {
    let a = Nfa::of_glob(glob);
    let b = Nfa::of_pattern(pattern);
    // One representative of every character class that matters: the literal characters of
    // both, `/`, and a letter neither uses (what a parameter stands for).
    // The letter first, so that a parameter is spelled with it (`.` could make a `.` segment).
    let literals: Vec<u8> = glob
        .bytes()
        .chain(pattern.raw.bytes())
        .filter(|c| is_literal_char(char::from(*c)))
        .collect();
    let mut alphabet: Vec<u8> = (b'a'..=b'z').find(|c| !literals.contains(c)).into_iter().collect();
    alphabet.push(b'/');
    for c in literals {
        if !alphabet.contains(&c) {
            alphabet.push(c);
        }
    }

    // Product states (a's states, b's states), each with the state and character it was first
    // reached from, to spell the witness back.
    type Pair = (Vec<usize>, Vec<usize>);
    let start = (a.closure(&[0]), b.closure(&[0]));
    let mut seen: HashMap<Pair, Option<(usize, u8)>> = HashMap::new();
    let mut order = vec![start.clone()];
    seen.insert(start.clone(), None);
    let mut queue = VecDeque::from([0usize]);
    while let Some(index) = queue.pop_front() {
        let (sa, sb) = order.get(index)?.clone();
        if a.accepts(&sa) && b.accepts(&sb) {
            let mut text = Vec::new();
            let mut at = index;
            while let Some(Some((parent, c))) = order.get(at).and_then(|state| seen.get(state)).cloned() {
                text.push(c);
                at = parent;
            }
            text.reverse();
            let witness = String::from_utf8(text).ok()?;
            if is_canonical(&format!("/{witness}")) {
                return Some(witness);
            }
            continue;
        }
        for &c in &alphabet {
            let next = (a.step(&sa, c), b.step(&sb, c));
            if next.0.is_empty() || next.1.is_empty() || seen.contains_key(&next) {
                continue;
            }
            seen.insert(next.clone(), Some((index, c)));
            order.push(next);
            queue.push_back(order.len() - 1);
        }
    }
    None
}

/// Which characters an automaton edge takes.
#[derive(Debug, Clone, Copy)]
enum Class {
    Exact(u8),
    NotSlash,
    Any,
}

impl Class {
    fn takes(self, c: u8) -> bool {
        match self {
            Class::Exact(e) => e == c,
            Class::NotSlash => c != b'/',
            Class::Any => true,
        }
    }
}

/// A small NFA over bytes: state `i` has `edges[i]` (class, target), `eps[i]` (targets).
#[derive(Debug, Default)]
struct Nfa {
    edges: Vec<Vec<(Class, usize)>>,
    eps: Vec<Vec<usize>>,
    accept: usize,
}

impl Nfa {
    fn state(&mut self) -> usize {
        self.edges.push(Vec::new());
        self.eps.push(Vec::new());
        self.edges.len() - 1
    }

    /// IAM glob: `*` any run (`/` included), `?` one character, anything else itself.
    fn of_glob(glob: &str) -> Self {
        let mut nfa = Nfa::default();
        let mut at = nfa.state();
        for c in glob.bytes() {
            match c {
                b'*' => {
                    let loop_state = at;
                    if let Some(edges) = nfa.edges.get_mut(loop_state) {
                        edges.push((Class::Any, loop_state));
                    }
                }
                b'?' => {
                    let next = nfa.state();
                    nfa.edge(at, Class::Any, next);
                    at = next;
                }
                c => {
                    let next = nfa.state();
                    nfa.edge(at, Class::Exact(c), next);
                    at = next;
                }
            }
        }
        nfa.accept = at;
        nfa
    }

    /// A route pattern over a path without its leading `/`.
    fn of_pattern(pattern: &PathPattern) -> Self {
        let mut nfa = Nfa::default();
        let mut at = nfa.state();
        for (i, segment) in pattern.segments.iter().enumerate() {
            if i > 0 {
                let next = nfa.state();
                nfa.edge(at, Class::Exact(b'/'), next);
                at = next;
            }
            match segment {
                Segment::Literal(text) => {
                    for c in text.bytes() {
                        let next = nfa.state();
                        nfa.edge(at, Class::Exact(c), next);
                        at = next;
                    }
                }
                Segment::Param => at = nfa.one_segment(at),
                Segment::Greedy => {
                    let end = nfa.one_segment(at);
                    let slash = nfa.state();
                    nfa.edge(end, Class::Exact(b'/'), slash);
                    if let Some(eps) = nfa.eps.get_mut(slash) {
                        eps.push(at);
                    }
                    at = end;
                }
            }
        }
        nfa.accept = at;
        nfa
    }

    /// One or more non-`/` characters from `from`; returns the end state.
    fn one_segment(&mut self, from: usize) -> usize {
        let end = self.state();
        self.edge(from, Class::NotSlash, end);
        self.edge(end, Class::NotSlash, end);
        end
    }

    fn edge(&mut self, from: usize, class: Class, to: usize) {
        if let Some(edges) = self.edges.get_mut(from) {
            edges.push((class, to));
        }
    }

    fn closure(&self, states: &[usize]) -> Vec<usize> {
        let mut out: Vec<usize> = states.to_vec();
        let mut i = 0;
        while let Some(&s) = out.get(i) {
            for &t in self.eps.get(s).map(Vec::as_slice).unwrap_or_default() {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
            i += 1;
        }
        out.sort_unstable();
        out
    }

    fn step(&self, states: &[usize], c: u8) -> Vec<usize> {
        let next: Vec<usize> = states
            .iter()
            .flat_map(|&s| self.edges.get(s).map(Vec::as_slice).unwrap_or_default())
            .filter(|(class, _)| class.takes(c))
            .map(|&(_, t)| t)
            .collect();
        let mut closed = self.closure(&next);
        closed.dedup();
        closed
    }

    fn accepts(&self, states: &[usize]) -> bool {
        states.contains(&self.accept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glob::glob_match;
    use proptest::prelude::*;

    fn p(raw: &str) -> PathPattern {
        PathPattern::parse(raw).unwrap()
    }

    #[test]
    fn params_match_one_segment_and_tails_one_or_more() {
        let user = p("/users/{id}");
        assert!(user.matches("/users/7"));
        assert!(user.matches("users/7"));
        for no in ["/users", "/users/7/secrets", "/users/a/b", "/users//7", "/other/7"] {
            assert!(!user.matches(no), "{no}");
        }
        for tail in ["/files/{path+}", "/files/*"] {
            let t = p(tail);
            assert!(t.matches("/files/a") && t.matches("/files/a/b/c"), "{tail}");
            assert!(!t.matches("/files") && !t.matches("/files/a//b"), "{tail}");
        }
        let root = p("/");
        assert!(root.matches("/") && root.matches(""));
        assert!(!root.matches("/x"));
        assert!(p("/a/{x}/b").matches("a/1/b") && !p("/a/{x}/b").matches("a/1/2/b"));
    }

    #[test]
    fn parameters_name_what_each_segment_matched() {
        assert_eq!(
            p("/teams/{team}/members/{username}").parameters("/teams/red/members/ana"),
            Some(vec![("team", "red"), ("username", "ana")])
        );
        assert_eq!(
            p("/files/{path+}").parameters("/files/a/b/c"),
            Some(vec![("path", "a/b/c")])
        );
        assert_eq!(
            p("/x/{id}/{rest+}").parameters("x/1/2/3"),
            Some(vec![("id", "1"), ("rest", "2/3")])
        );
        // `*` matches as `{name+}` does but names nothing; literals name nothing.
        assert_eq!(p("/files/*").parameters("/files/a/b"), Some(vec![]));
        assert_eq!(p("/auth/me").parameters("/auth/me"), Some(vec![]));
        for no in ["/teams/red/members", "/teams//members/ana", "/files", "/files/a//b"] {
            assert_eq!(p("/teams/{team}/members/{username}").parameters(no), None, "{no}");
            assert_eq!(p("/files/{path+}").parameters(no), None, "{no}");
        }
    }

    #[test]
    fn stars_and_greedy_params_only_at_the_end() {
        for (bad, why) in [
            ("/a/*/b", "may only be the whole last segment"),
            ("/a/b*", "may only be the whole last segment"),
            ("/*x", "may only be the whole last segment"),
            ("/a/{rest+}/b", "may only be the last segment"),
            ("/a/.", "not a canonical segment"),
            ("/a/../b", "not a canonical segment"),
            ("/a//b", "empty segment"),
            ("/a/", "empty segment"),
        ] {
            let e = PathPattern::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn non_canonical_paths() {
        for ok in [
            "",
            "/",
            "/users/7",
            "users/7",
            "/a/b.c/d",
            "/v1/users:search",
            "/a/%20b",
            "/a/%40",
        ] {
            assert!(is_canonical(ok), "{ok:?}");
        }
        for bad in [
            "//users",
            "/users//7",
            "/users/7/",
            "users/7/",
            "/users/./7",
            "/users/../admin",
            "/users/.",
            "/a/..",
            "/a%2Fb",
            "/a%2fb",
            "/a%5Cb",
            "/a/%2E%2E/b",
            "/a/%2e",
            "/a\\b",
            "/a\nb",
            "/a\u{7f}",
            "/a%0Ab",
            "/a%00",
            "/a%61",
            "/%61dmin",
            "/a%1f",
            "/a%7F",
        ] {
            assert!(!is_canonical(bad), "{bad:?}");
        }
    }

    #[test]
    fn non_canonical_globs_deny_exactly_the_non_canonical_paths() {
        let prefix = "arn:aws:execute-api:r:1:api/stage";
        // `path` as it appears in the ARN after the method's `/`; the request path is `/path`.
        let denied = |path: &str| {
            let arn = format!("{prefix}/GET/{path}");
            NON_CANONICAL_GLOBS
                .iter()
                .any(|g| glob_match(&format!("{prefix}/{g}"), &arn))
        };
        for path in [
            "", "users/7", "a/b.c", "a.b/c", ".a/b", "a/..b", "v1/x:y", "a/%20", "a/%3F", "a/%25", "a/%40", "a/%3A",
            "a/%C3%A9", "a/%60", "a/%7B",
        ] {
            assert!(is_canonical(&format!("/{path}")) && !denied(path), "{path:?}");
        }
        for path in [
            "/x",
            "x//y",
            "x/",
            "x/./y",
            "x/.",
            "./x",
            "x/../y",
            "x/..",
            "../x",
            "a%2Fb",
            "a%2e",
            "a\\b",
            "a%0Ab",
            "a%1F",
            "a%7f",
            "%61dmin",
            "%41DMIN/x",
            "a/%4a",
            "a/%4A",
            "a/%7e",
            "a/%7E",
            "a/%2d",
            "a/%5F",
            "a/%30",
            "a/%39",
            "a/%5a",
            "a/%7A",
        ] {
            assert!(!is_canonical(&format!("/{path}")) && denied(path), "{path:?}");
        }
        // Every byte's every spelling: the live rule and the globs agree.
        for byte in 0_u8..=255 {
            for spelling in [format!("{byte:02X}"), format!("{byte:02x}")] {
                let path = format!("a/%{spelling}b");
                assert_eq!(is_canonical(&format!("/{path}")), !denied(&path), "{path}");
            }
        }
    }

    #[test]
    fn gap_globs_cover_a_param_spanning_segments() {
        assert_eq!(p("/users/{id}").glob(), "users/*");
        assert_eq!(p("/users/{id}").gap_globs(), ["users/*/*"]);
        assert_eq!(p("/a/{x}/b/{y}").gap_globs(), ["a/*/*/b/*", "a/*/b/*/*"]);
        assert!(p("/files/{rest+}").gap_globs().is_empty());
        assert!(p("/{p}/{rest+}").gap_globs().is_empty(), "the tail reaches as far");
        assert_eq!(p("/{rest+}").gap_globs(), [""], "`*` also matches the root");
        assert_eq!(p("/{id}").gap_globs(), ["*/*", ""]);
        assert_eq!(p("/a/{x}/b/{rest+}").gap_globs(), ["a/*/*/b/*"]);
        assert_eq!(p("/a/{x}/{y}").gap_globs(), ["a/*/*/*"]);
        assert_eq!(p("/").glob(), "");
        assert_eq!(p("/a/{id}/b/*").glob(), "a/*/b/*");
        assert_eq!(p("/v1/users:search").glob(), "v1/users:search");
    }

    #[test]
    fn overlaps_are_found_with_a_witness() {
        // A Deny closing `/users/{id}` also reaches `/users/{id}/profile`.
        let w = overlap("users/*/*", &p("/users/{id}/profile")).unwrap();
        assert!(
            p("/users/{id}/profile").matches(&w) && glob_match("users/*/*", &w),
            "{w}"
        );
        // The group named `team`.
        let w = overlap("admin/users/*/*/team", &p("/admin/users/{u}/groups/{g}")).unwrap();
        assert!(w.ends_with("/groups/team"), "{w}");
        assert_eq!(overlap("users/*/*", &p("/users/{id}")), None);
        assert_eq!(overlap("a/*/*/b/*", &p("/a/{x}/b/{y}")), None);
        assert_eq!(overlap("users/*", &p("/admin/{x}")), None);
    }

    fn pattern() -> impl Strategy<Value = String> {
        let seg = prop_oneof![Just("a".to_owned()), Just("b".to_owned()), Just("{p}".to_owned())];
        (
            proptest::collection::vec(seg, 0..4),
            prop_oneof![Just(""), Just("/{rest+}"), Just("/*")],
        )
            .prop_map(|(segs, tail)| format!("/{}{tail}", segs.join("/")))
            .prop_map(|s| if s.starts_with("//") { s[1..].to_owned() } else { s })
    }

    fn path() -> impl Strategy<Value = String> {
        proptest::collection::vec(prop_oneof![Just("a"), Just("b"), Just("c"), Just("")], 0..6)
            .prop_map(|s| s.join("/"))
    }

    proptest! {
        /// The glob covers at least the pattern, the gap globs never a path the pattern
        /// matches, and together they leave no canonical path the pattern does not match.
        #[test]
        fn glob_minus_gaps_is_the_pattern(raw in pattern(), path in path()) {
            let pat = p(&raw);
            // Globs see the ARN's path (no leading `/`); the pattern the request path.
            let request = format!("/{path}");
            let in_glob = glob_match(&pat.glob(), &path);
            let in_gap = pat.gap_globs().iter().any(|g| glob_match(g, &path));
            // Naming the parameters never changes what matches.
            prop_assert_eq!(pat.parameters(&request).is_some(), pat.matches(&request));
            if pat.matches(&request) && is_canonical(&request) {
                prop_assert!(in_glob, "{} {}", raw, path);
                // A gap covering the pattern's own path is always reported.
                if in_gap {
                    prop_assert!(pat.gap_globs().iter().any(|g| overlap(g, &pat).is_some()), "{} {}", raw, path);
                }
            }
            if in_glob && !in_gap && is_canonical(&request) {
                prop_assert!(pat.matches(&request), "{} {}", raw, path);
            }
        }

        /// `overlap`'s witnesses are real, and it finds one whenever brute force over short paths
        /// does.
        #[test]
        fn overlap_agrees_with_brute_force(a in pattern(), b in pattern()) {
            let glob = p(&a).glob();
            let target = p(&b);
            let found = overlap(&glob, &target);
            if let Some(w) = &found {
                prop_assert!(target.matches(w) && glob_match(&glob, w) && is_canonical(&format!("/{w}")), "{} {} {}", a, b, w);
            }
            let words = ["a", "b", "z"];
            let mut brute = false;
            for len in 0..6usize {
                let total = words.len().pow(len as u32);
                for n in 0..total {
                    let mut k = n;
                    let segs: Vec<&str> = (0..len).map(|_| { let w = words[k % 3]; k /= 3; w }).collect();
                    let path = segs.join("/");
                    if target.matches(&path) && glob_match(&glob, &path) {
                        brute = true;
                    }
                }
            }
            // Brute force sees only short paths: what it finds, overlap must find too.
            if brute {
                prop_assert!(found.is_some(), "{} vs {}", a, b);
            }
        }
    }
}
