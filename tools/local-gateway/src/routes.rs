//! Which route goes to which function, and matching a request against them the way API
//! Gateway matches resources (`{param}` segments, `{proxy+}` tails), with the authorizer's own
//! path patterns: a route and a rule agree on what a path is.

use std::collections::HashMap;

use http::Method;
use lambda_authorizer::PathPattern;

#[derive(Debug, Clone, PartialEq, Eq)]
/// One route of the template.
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// An API Gateway resource path: `/auth/me`, `/teams/{team}`, `/files/{proxy+}`.
    pub path: PathPattern,
    /// The function that serves it: its crate under `functions/` (`sign_in`).
    pub function: String,
    /// Whether the Lambda authorizer runs before the function.
    pub protected: bool,
}

#[derive(Debug, PartialEq, Eq)]
/// What a request matches.
pub enum RouteMatch<'a> {
    /// A route, with the path's parameters.
    Found {
        /// The route.
        route: &'a Route,
        /// `{name}` → value.
        path_parameters: HashMap<String, String>,
    },
    /// The path exists, but not with this method: these are its methods (RFC 9110's `Allow`).
    WrongMethod {
        /// The methods the path's routes take, in template order.
        allowed: Vec<Method>,
    },
    /// No route has this path.
    NotFound,
}

/// The path a request is routed by: one trailing `/` is ignored (`/auth/me/` reaches
/// `/auth/me`, as API Gateway is observed to route; the authorizer still judges the path as
/// sent).
pub fn routed_path(path: &str) -> &str {
    path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path)
}

/// The route for a request, as API Gateway matches resources ([`routed_path`]; an empty
/// segment matches no parameter).
pub fn find<'a>(routes: &'a [Route], method: &Method, path: &str) -> RouteMatch<'a> {
    let resource = routed_path(path);
    let mut allowed: Vec<Method> = Vec::new();
    for route in routes {
        if let Some(parameters) = route.path.parameters(resource) {
            if route.method == *method {
                let path_parameters = parameters
                    .into_iter()
                    .map(|(name, value)| (name.to_owned(), value.to_owned()))
                    .collect();
                return RouteMatch::Found { route, path_parameters };
            }
            if !allowed.contains(&route.method) {
                allowed.push(route.method.clone());
            }
        }
    }
    if allowed.is_empty() {
        RouteMatch::NotFound
    } else {
        RouteMatch::WrongMethod { allowed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: Method, path: &str) -> Route {
        Route {
            method,
            path: PathPattern::parse(path).unwrap(),
            function: "me".into(),
            protected: true,
        }
    }

    #[test]
    fn matches_literal_parameter_and_greedy_segments() {
        let routes = [
            route(Method::GET, "/auth/me"),
            route(Method::GET, "/teams/{team}/members"),
            route(Method::GET, "/files/{proxy+}"),
        ];
        assert!(matches!(
            find(&routes, &Method::GET, "/auth/me"),
            RouteMatch::Found { .. }
        ));
        assert!(matches!(
            find(&routes, &Method::GET, "/auth/me/"),
            RouteMatch::Found { .. }
        ));
        let RouteMatch::Found { path_parameters, .. } = find(&routes, &Method::GET, "/teams/red/members") else {
            panic!("no match")
        };
        assert_eq!(path_parameters["team"], "red");
        let RouteMatch::Found { path_parameters, .. } = find(&routes, &Method::GET, "/files/a/b/c") else {
            panic!("no match")
        };
        assert_eq!(path_parameters["proxy"], "a/b/c");
        assert_eq!(find(&routes, &Method::GET, "/teams//members"), RouteMatch::NotFound);
        // As the authorizer's rules read paths: a greedy tail holds no empty segment, and only
        // one trailing `/` is ignored.
        assert_eq!(find(&routes, &Method::GET, "/files/a//b"), RouteMatch::NotFound);
        assert_eq!(find(&routes, &Method::GET, "/auth/me//"), RouteMatch::NotFound);
        assert_eq!(find(&routes, &Method::GET, "//auth/me"), RouteMatch::NotFound);
        assert_eq!(find(&routes, &Method::GET, "/auth/me/extra"), RouteMatch::NotFound);
        assert_eq!(
            find(&routes, &Method::POST, "/auth/me"),
            RouteMatch::WrongMethod {
                allowed: vec![Method::GET]
            }
        );
        assert_eq!(find(&routes, &Method::GET, "/nope"), RouteMatch::NotFound);
    }
}
