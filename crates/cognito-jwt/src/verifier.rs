//! The verifier: parses a token once into stack buffers, checks header and claims, then the
//! RS256 signature against a pre-parsed key.

use std::mem::MaybeUninit;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use auth_contract::token::{self, ClaimNames, Claims, MAX_EXTRA_CLAIMS, MAX_PAYLOAD_BYTES, MAX_TOKEN_BYTES};

use crate::header::{self, MAX_HEADER_BYTES, MAX_SIGNATURE_BYTES};
use crate::jwks::{JwksCache, JwksError, JwksFetcher, JwksSettings, Lookup};
use crate::token_cache::{CacheKey, VerifiedTokenCache};
use crate::{TokenUse, VerifyError};

/// One user pool: tokens whose `iss` is `issuer` are checked against `jwks_url`'s keys and must
/// name one of `client_ids`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// The `iss` of the pool's tokens.
    pub issuer: String,
    /// The pool's canonical issuer (`https://cognito-idp.<region>.amazonaws.com/<pool>`): what
    /// names the pool in revocation records and in the authorizer context, whatever `iss` says.
    pub canonical_issuer: String,
    /// Where the pool's keys are.
    pub jwks_url: String,
    /// The app clients whose tokens are accepted.
    pub client_ids: Vec<String>,
}

/// What the verifier accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierConfig {
    /// The accepted pools; a token names its pool by its `iss`.
    pub pools: Vec<PoolConfig>,
    /// Which kind of token is accepted.
    pub token_use: TokenUse,
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway_seconds: u64,
    /// Claims besides the standard ones to read into [`VerifiedToken::extra_claims`] (a role
    /// or team claim, say); at most [`MAX_EXTRA_CLAIMS`].
    pub extra_claims: Vec<String>,
    /// Verified-token cache entries; 0 disables the cache.
    pub cache_size: usize,
    /// JWKS cache tuning.
    pub jwks: JwksSettings,
}

impl VerifierConfig {
    /// One pool, access tokens, no extra claims, a 5 s leeway and no token cache.
    pub fn single_pool(issuer: &str, jwks_url: &str, client_ids: &[&str]) -> Self {
        Self {
            pools: vec![PoolConfig {
                issuer: issuer.to_owned(),
                canonical_issuer: issuer.to_owned(),
                jwks_url: jwks_url.to_owned(),
                client_ids: client_ids.iter().map(|c| (*c).to_owned()).collect(),
            }],
            token_use: TokenUse::Access,
            leeway_seconds: 5,
            extra_claims: Vec::new(),
            cache_size: 0,
            jwks: JwksSettings::default(),
        }
    }
}

/// The claims of a token whose signature, issuer, client and times have been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// `sub`, never empty.
    pub sub: String,
    /// `username` (access token) or `cognito:username` (id token).
    pub username: Option<String>,
    /// The kind of token.
    pub token_use: TokenUse,
    /// `client_id` (access token) or the accepted `aud` (id token). Shared with the
    /// configuration: a verification allocates only what is specific to the caller.
    pub client_id: Arc<str>,
    /// The pool's canonical issuer ([`PoolConfig::canonical_issuer`]).
    pub issuer: Arc<str>,
    /// Which of the configured pools issued it (0: the first, the primary pool).
    pub pool: usize,
    /// `exp`, Unix seconds.
    pub expires_at: u64,
    /// `iat`, Unix seconds, when present.
    pub issued_at: Option<u64>,
    /// `auth_time`, Unix seconds, when present: the sign-in the token descends from.
    pub auth_time: Option<u64>,
    /// `origin_jti`: the same for every token of one sign-in session, across refreshes.
    pub origin_jti: Option<String>,
    /// `cognito:groups`.
    pub groups: Vec<String>,
    /// The `scope` claim, split on spaces.
    pub scopes: Vec<String>,
    /// The values of [`VerifierConfig::extra_claims`], in that order (empty when absent); a
    /// string claim is read as a comma-separated list.
    pub extra_claims: [Vec<String>; MAX_EXTRA_CLAIMS],
}

struct Pool {
    issuer: Arc<str>,
    canonical_issuer: Arc<str>,
    client_ids: Vec<Arc<str>>,
}

enum Step {
    Fail(VerifyError),
    Fetch { pool: usize, seen: u64 },
}

impl From<VerifyError> for Step {
    fn from(e: VerifyError) -> Self {
        Step::Fail(e)
    }
}

/// Verifies tokens against the configured pools' keys.
pub struct Verifier {
    pools: Vec<Pool>,
    token_use: TokenUse,
    leeway: u64,
    extra_claims: Vec<String>,
    jwks: JwksCache,
    cache: Option<VerifiedTokenCache>,
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Verifier {
    /// A verifier fetching keys through `fetcher`. Extra claims past [`MAX_EXTRA_CLAIMS`] are
    /// ignored.
    pub fn new(config: VerifierConfig, fetcher: Arc<dyn JwksFetcher>) -> Self {
        let urls = config.pools.iter().map(|p| p.jwks_url.clone()).collect();
        Self {
            pools: config
                .pools
                .into_iter()
                .map(|p| Pool {
                    issuer: p.issuer.into(),
                    canonical_issuer: p.canonical_issuer.into(),
                    client_ids: p.client_ids.into_iter().map(Into::into).collect(),
                })
                .collect(),
            token_use: config.token_use,
            leeway: config.leeway_seconds,
            extra_claims: config.extra_claims.into_iter().take(MAX_EXTRA_CLAIMS).collect(),
            jwks: JwksCache::new(urls, config.jwks, fetcher),
            cache: VerifiedTokenCache::new(config.cache_size),
        }
    }

    /// Loads every pool's JWKS; call once during init.
    pub async fn hydrate(&self) -> Result<(), JwksError> {
        self.jwks.hydrate().await
    }

    /// The key sets (for diagnostics and tests).
    pub fn jwks(&self) -> &JwksCache {
        &self.jwks
    }

    #[cfg(test)]
    pub(crate) fn token_cache(&self) -> Option<&VerifiedTokenCache> {
        self.cache.as_ref()
    }

    /// Verifies a token at the current time.
    pub async fn verify(&self, token: &str) -> Result<Arc<VerifiedToken>, VerifyError> {
        self.verify_at(token, unix_now()).await
    }

    /// [`Self::verify`] with the wall clock given (Unix seconds), for tests.
    pub async fn verify_at(&self, token: &str, now: u64) -> Result<Arc<VerifiedToken>, VerifyError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(VerifyError::TooLarge);
        }
        let generation = self.jwks.generation();
        let cached = self.cache.as_ref().map(|c| (c, CacheKey::of(token)));
        if let Some((cache, key)) = &cached
            && let Some(hit) = cache.get(key, now, generation)
        {
            return Ok(hit);
        }
        let checked = match self.check(token, now, Instant::now(), true) {
            Err(Step::Fetch { pool, seen }) => {
                // The outcome is re-read from the cache below; failures are logged by the cache.
                let _ = self.jwks.refresh(pool, seen).await;
                self.check(token, now, Instant::now(), false)
            }
            other => other,
        };
        match checked {
            Ok((verified, valid_until)) => {
                let verified = Arc::new(verified);
                if let Some((cache, key)) = cached {
                    cache.insert(key, Arc::clone(&verified), valid_until, generation, now);
                }
                Ok(verified)
            }
            Err(Step::Fail(e)) => Err(e),
            Err(Step::Fetch { .. }) => Err(VerifyError::JwksUnavailable),
        }
    }

    /// Everything but the wait for a fetch. Returns the token and until when (Unix seconds) a
    /// cached copy may be reused.
    fn check(&self, token: &str, now: u64, clock: Instant, may_fetch: bool) -> Result<(VerifiedToken, u64), Step> {
        let parts = token::split(token).map_err(|_| VerifyError::Malformed)?;

        let mut header_buf = [MaybeUninit::<u8>::uninit(); MAX_HEADER_BYTES];
        let header = header::parse_header(decode(parts.header, &mut header_buf)?)?;

        let mut payload_buf = [MaybeUninit::<u8>::uninit(); MAX_PAYLOAD_BYTES];
        let mut names = [""; MAX_EXTRA_CLAIMS];
        for (slot, name) in names.iter_mut().zip(&self.extra_claims) {
            *slot = name;
        }
        let names = ClaimNames {
            extra: names.get(..self.extra_claims.len()).unwrap_or_default(),
        };
        let claims =
            token::parse_claims(decode(parts.payload, &mut payload_buf)?, names).map_err(|_| VerifyError::Malformed)?;

        let (pool_index, pool) = claims
            .iss
            .as_ref()
            .and_then(|iss| self.pools.iter().enumerate().find(|(_, p)| &*p.issuer == iss.as_str()))
            .ok_or(VerifyError::WrongIssuer)?;
        if claims.token_use.as_ref().map(|t| t.as_str()) != Some(self.token_use.as_str()) {
            return Err(VerifyError::WrongTokenUse.into());
        }
        let client_id = self.accepted_client(&claims, pool)?;
        let exp = claims.exp.ok_or(VerifyError::MissingExp)?;
        if now >= exp.saturating_add(self.leeway) {
            return Err(VerifyError::Expired.into());
        }
        let latest = now.saturating_add(self.leeway);
        if claims.nbf.is_some_and(|nbf| nbf > latest) {
            return Err(VerifyError::NotYetValid.into());
        }
        if claims.iat.is_some_and(|iat| iat > latest) {
            return Err(VerifyError::IssuedInFuture.into());
        }
        let sub = claims
            .sub
            .as_ref()
            .map(|s| s.as_str())
            .filter(|s| !s.is_empty())
            .ok_or(VerifyError::MissingSub)?;

        let mut sig_buf = [MaybeUninit::<u8>::uninit(); MAX_SIGNATURE_BYTES];
        let signature = decode(parts.signature, &mut sig_buf)?;

        let (key, fresh_until) = match self.jwks.lookup(pool_index, header.kid.as_str(), clock, may_fetch) {
            Lookup::Found(key, fresh_until) => (key, fresh_until),
            Lookup::Fetch { seen } => {
                return Err(Step::Fetch { pool: pool_index, seen });
            }
            Lookup::Missing(e) => return Err(e.into()),
        };
        if !key.verify(parts.signed.as_bytes(), signature) {
            return Err(VerifyError::BadSignature.into());
        }

        let keys_fresh_for = fresh_until.saturating_duration_since(clock).as_secs();
        let valid_until = exp.min(now.saturating_add(keys_fresh_for));
        let verified = VerifiedToken {
            sub: sub.to_owned(),
            username: match self.token_use {
                TokenUse::Access => claims.username.as_ref(),
                TokenUse::Id => claims.cognito_username.as_ref(),
            }
            .map(|u| u.as_str().to_owned()),
            token_use: self.token_use,
            client_id: Arc::clone(client_id),
            issuer: Arc::clone(&pool.canonical_issuer),
            pool: pool_index,
            expires_at: exp,
            issued_at: claims.iat,
            auth_time: claims.auth_time,
            origin_jti: claims.origin_jti.as_ref().map(|j| j.as_str().to_owned()),
            groups: list(claims.groups.as_ref()),
            scopes: claims
                .scope
                .as_ref()
                .map(|s| s.as_str().split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            extra_claims: claims.extra.each_ref().map(|c| list(c.as_ref())),
        };
        Ok((verified, valid_until))
    }

    fn accepted_client<'p>(&self, claims: &Claims<'_>, pool: &'p Pool) -> Result<&'p Arc<str>, VerifyError> {
        let allowed = |c: &str| pool.client_ids.iter().find(|a| &***a == c);
        let found = match self.token_use {
            TokenUse::Access => claims.client_id.as_ref().and_then(|c| allowed(c.as_str())),
            TokenUse::Id => claims.aud.as_ref().and_then(|a| a.items(false).find_map(allowed)),
        };
        found.ok_or(VerifyError::WrongClient)
    }
}

fn decode<'b>(part: &str, buf: &'b mut [MaybeUninit<u8>]) -> Result<&'b [u8], VerifyError> {
    token::decode_into(part, buf).map_err(|_| VerifyError::Malformed)
}

fn list(claim: Option<&token::StrList<'_>>) -> Vec<String> {
    claim.map(token::StrList::to_vec).unwrap_or_default()
}
