//! Which route goes to which function, and matching a request against them the way API
//! Gateway matches resources (`{param}` segments, `{proxy+}` tails).

use std::collections::HashMap;

use http::Method;

/// Every function the gateway can invoke, named like its crate under `functions/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// `functions/sign_up`.
    SignUp,
    /// `functions/verify_account`.
    VerifyAccount,
    /// `functions/sign_in`.
    SignIn,
    /// `functions/refresh_tokens`.
    RefreshTokens,
    /// `functions/logout`.
    Logout,
    /// `functions/me`.
    Me,
    /// `functions/list_users`.
    ListUsers,
    /// `functions/admin_users`.
    AdminUsers,
    /// `functions/password`.
    Password,
    /// `functions/respond_to_challenge`.
    RespondToChallenge,
    /// `functions/mfa`.
    Mfa,
    /// `functions/oauth`.
    OAuth,
}

impl Function {
    /// Every function with a route.
    pub const ALL: [Function; 12] = [
        Function::SignUp,
        Function::VerifyAccount,
        Function::SignIn,
        Function::RefreshTokens,
        Function::Logout,
        Function::Me,
        Function::ListUsers,
        Function::AdminUsers,
        Function::Password,
        Function::RespondToChallenge,
        Function::Mfa,
        Function::OAuth,
    ];

    /// The crate (and binary) name.
    pub fn crate_name(self) -> &'static str {
        match self {
            Function::SignUp => "sign_up",
            Function::VerifyAccount => "verify_account",
            Function::SignIn => "sign_in",
            Function::RefreshTokens => "refresh_tokens",
            Function::Logout => "logout",
            Function::Me => "me",
            Function::ListUsers => "list_users",
            Function::AdminUsers => "admin_users",
            Function::Password => "password",
            Function::RespondToChallenge => "respond_to_challenge",
            Function::Mfa => "mfa",
            Function::OAuth => "oauth",
        }
    }

    /// The function of a crate name.
    pub fn from_crate_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.crate_name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// One route of the template.
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// An API Gateway resource path: `/auth/me`, `/teams/{team}`, `/files/{proxy+}`.
    pub path: String,
    /// The function that serves it.
    pub function: Function,
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
    /// The path exists, but not with this method.
    WrongMethod,
    /// No route has this path.
    NotFound,
}

/// The route for a request, as API Gateway matches resources.
pub fn find<'a>(routes: &'a [Route], method: &Method, path: &str) -> RouteMatch<'a> {
    let mut path_exists = false;
    for route in routes {
        if let Some(path_parameters) = match_path(&route.path, path) {
            if route.method == *method {
                return RouteMatch::Found { route, path_parameters };
            }
            path_exists = true;
        }
    }
    if path_exists {
        RouteMatch::WrongMethod
    } else {
        RouteMatch::NotFound
    }
}

fn match_path(pattern: &str, path: &str) -> Option<HashMap<String, String>> {
    let mut params = HashMap::new();
    let mut pattern_segments = pattern.trim_matches('/').split('/');
    let mut path_segments = path.trim_matches('/').split('/');
    loop {
        match (pattern_segments.next(), path_segments.next()) {
            (None, None) => return Some(params),
            (Some(p), Some(s)) => {
                if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    if s.is_empty() {
                        return None;
                    }
                    if let Some(greedy) = name.strip_suffix('+') {
                        let rest: Vec<&str> = std::iter::once(s).chain(path_segments).collect();
                        params.insert(greedy.to_owned(), rest.join("/"));
                        return pattern_segments.next().is_none().then_some(params);
                    }
                    params.insert(name.to_owned(), s.to_owned());
                } else if p != s {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: Method, path: &str) -> Route {
        Route {
            method,
            path: path.into(),
            function: Function::Me,
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
        assert_eq!(find(&routes, &Method::GET, "/auth/me/extra"), RouteMatch::NotFound);
        assert_eq!(find(&routes, &Method::POST, "/auth/me"), RouteMatch::WrongMethod);
        assert_eq!(find(&routes, &Method::GET, "/nope"), RouteMatch::NotFound);
    }

    #[test]
    fn function_names_round_trip() {
        for f in Function::ALL {
            assert_eq!(Function::from_crate_name(f.crate_name()), Some(f));
        }
        assert_eq!(Function::from_crate_name("authorizer"), None);
    }
}
