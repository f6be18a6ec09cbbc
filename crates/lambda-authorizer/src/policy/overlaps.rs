//! Where the Denies of a cached policy cover paths the rules permit: IAM globs cannot say "one
//! segment", so some rule shapes cost a false 403 on a cached call (`docs/authorizer.md`).

use crate::path::overlap;
use crate::rules::Rules;

/// Which Deny of a route covers part of another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DenyKind {
    /// The route's `{param}` gap, written when the caller may call it.
    Gap,
    /// The whole route, written when the caller may not call it.
    Whole,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Overlap {
    source: usize,
    kind: DenyKind,
    example: String,
}

/// For each route, whether a Deny that [`super::caller_policy`] may write (for another route,
/// or for the route's own `{param}`) can cover some of its paths. Only requests to such routes
/// need their policy checked against the request.
pub(crate) fn hazardous_routes(rules: &Rules) -> Vec<bool> {
    hazards(rules).iter().map(|h| !h.is_empty()).collect()
}

fn hazards(rules: &Rules) -> Vec<Vec<Overlap>> {
    let routes = rules.routes();
    routes
        .iter()
        .map(|target| {
            let mut found = Vec::new();
            for (i, source) in routes.iter().enumerate() {
                let shares_a_verb = source.method.verbs().iter().any(|v| target.method.matches(*v));
                if !shares_a_verb {
                    continue;
                }
                let same = std::ptr::eq(source, target);
                let mut denies: Vec<(String, DenyKind)> = source
                    .path
                    .gap_globs()
                    .into_iter()
                    .map(|g| (g, DenyKind::Gap))
                    .collect();
                if !same {
                    denies.push((source.path.glob(), DenyKind::Whole));
                }
                for (glob, kind) in denies {
                    if let Some(example) = overlap(&glob, &target.path) {
                        found.push(Overlap {
                            source: i,
                            kind,
                            example,
                        });
                        break;
                    }
                }
            }
            found
        })
        .collect()
}

/// Where a cached policy must refuse a path the rules permit, in words: logged once at cold
/// start, and the list of such rule shapes in `docs/authorizer.md`.
pub fn overlap_warnings(rules: &Rules) -> Vec<String> {
    let routes = rules.routes();
    let mut warnings = Vec::new();
    for (target, overlaps) in routes.iter().zip(hazards(rules)) {
        for o in overlaps {
            let Some(source) = routes.get(o.source) else { continue };
            let when = match o.kind {
                DenyKind::Gap if std::ptr::eq(source, target) => format!(
                    "`{}`: its {{param}} is followed by more segments, so a cached policy refuses some of its own paths, such as {}",
                    target.route, o.example
                ),
                DenyKind::Gap => format!(
                    "`{}` reaches into `{}` through its {{param}}: for callers allowed both, a cached policy refuses paths such as {}",
                    source.route, target.route, o.example
                ),
                DenyKind::Whole => format!(
                    "`{}` covers part of `{}`: for callers allowed only the second, a cached policy refuses paths such as {}",
                    source.route, target.route, o.example
                ),
            };
            warnings.push(when);
        }
    }
    warnings
}
