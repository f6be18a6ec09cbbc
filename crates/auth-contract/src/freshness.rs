//! Recent authentication ("sudo mode"): what hands an account over (changing the email or the
//! phone number, setting up or changing MFA, deleting the account) needs a token whose
//! `auth_time` is recent, so a stolen access token alone cannot take the account. `auth_time`
//! is the sign-in the token descends from: Cognito keeps it across refreshes, so refreshing
//! never makes a token fresh again. One implementation, shared by the account functions and
//! (with the same arithmetic) any rule that asks for a maximum age.
//!
//! ```
//! use auth_contract::freshness::RecentAuth;
//!
//! let recent = RecentAuth::new(300).unwrap();
//! assert!(recent.holds(Some(1_000), 1_300));
//! assert!(!recent.holds(Some(1_000), 1_301), "signed in more than 300 s ago");
//! assert!(!recent.holds(None, 1_000), "no auth_time, nothing shows it is recent");
//! ```

use std::ops::RangeInclusive;

use crate::config::{ConfigError, Env};

/// How recent a sign-in must be, in seconds, without `RECENT_AUTH_SECONDS`.
pub const DEFAULT_RECENT_AUTH_SECONDS: u64 = 300;

/// The longest `RECENT_AUTH_SECONDS` accepted: a day, the longest token validity.
pub const MAX_RECENT_AUTH_SECONDS: u64 = 86_400;

/// Every `RECENT_AUTH_SECONDS` accepted.
const ACCEPTED_SECONDS: RangeInclusive<u64> = 1..=MAX_RECENT_AUTH_SECONDS;

/// The clock skew allowed on an `auth_time` in the future (the verifier's largest leeway).
const FUTURE_LEEWAY_SECONDS: u64 = 300;

/// Whether a sign-in happened within `max_age` seconds of `now` (Unix seconds). An `auth_time`
/// in the future beyond the leeway proves nothing and fails.
pub fn within(auth_time: Option<u64>, max_age: u64, now: u64) -> bool {
    auth_time.is_some_and(|at| at <= now.saturating_add(FUTURE_LEEWAY_SECONDS) && now.saturating_sub(at) <= max_age)
}

/// The account functions' requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecentAuth {
    max_age: u64,
}

impl Default for RecentAuth {
    fn default() -> Self {
        Self {
            max_age: DEFAULT_RECENT_AUTH_SECONDS,
        }
    }
}

impl RecentAuth {
    /// A sign-in within `max_age` seconds (1 to [`MAX_RECENT_AUTH_SECONDS`]).
    pub fn new(max_age: u64) -> Result<Self, String> {
        if ACCEPTED_SECONDS.contains(&max_age) {
            Ok(Self { max_age })
        } else {
            Err(format!("must be between 1 and {MAX_RECENT_AUTH_SECONDS}"))
        }
    }

    /// `RECENT_AUTH_SECONDS` (default 300).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let max_age = env.in_range("RECENT_AUTH_SECONDS", DEFAULT_RECENT_AUTH_SECONDS, ACCEPTED_SECONDS)?;
        Ok(Self { max_age })
    }

    /// The longest age accepted, in seconds (the `max_age` a client is told).
    pub fn max_age(&self) -> u64 {
        self.max_age
    }

    /// Whether a token signed in at `auth_time` is recent enough at `now`.
    pub fn holds(&self, auth_time: Option<u64>, now: u64) -> bool {
        within(auth_time, self.max_age, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edges_of_the_window() {
        let recent = RecentAuth::new(300).unwrap();
        assert!(recent.holds(Some(1_000), 1_000));
        assert!(recent.holds(Some(1_000), 1_300));
        assert!(!recent.holds(Some(1_000), 1_301));
        assert!(!recent.holds(None, 1_000));
        assert!(recent.holds(Some(1_300), 1_000), "within the leeway of the clock");
        assert!(!recent.holds(Some(1_301), 1_000), "too far in the future to trust");
        assert!(!recent.holds(Some(u64::MAX), 0));
    }

    #[test]
    fn the_setting_is_bounded() {
        assert_eq!(RecentAuth::from_env(&Env::from_pairs(&[])).unwrap().max_age(), 300);
        assert_eq!(
            RecentAuth::from_env(&Env::from_pairs(&[("RECENT_AUTH_SECONDS", "60")]))
                .unwrap()
                .max_age(),
            60
        );
        for bad in ["0", "86401", "-1", "soon"] {
            assert!(
                RecentAuth::from_env(&Env::from_pairs(&[("RECENT_AUTH_SECONDS", bad)])).is_err(),
                "{bad}"
            );
        }
    }
}
