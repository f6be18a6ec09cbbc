//! The revocation records on Amazon DynamoDB: [`DynamoStore`] implements [`RevocationStore`]
//! with one `BatchGetItem` (strongly consistent, so a logout counts at once) for the
//! authorizer's read and one conditional `PutItem` per revocation (a record never replaces one
//! with a later second: two writers racing on one user leave the later record).
//!
//! Two calls on one table do not need the AWS SDK: each is a JSON POST signed with SigV4 by
//! `aws-sigv4` (the SDK's own signer) over a kept-alive HTTPS connection. Measured in the
//! authorizer's process (BENCHMARKS.md, "Process cost"), the SDK's client cost about
//! 300 µs of CPU per read, most of it in its orchestrator, against about 60 µs for this one.
//!
//! The table: partition key `pk` (string), `revokedAt` (number, Unix seconds), `expiresAt`
//! (number, the table's TTL attribute), on-demand billing. Its name comes from
//! `REVOCATION_TABLE`; the endpoint from the standard `AWS_ENDPOINT_URL_DYNAMODB` (or
//! `AWS_ENDPOINT_URL`), else `https://dynamodb.<AWS_REGION>.amazonaws.com`; the credentials
//! from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, which Lambda sets
//! for the function's role.
//!
//! ```no_run
//! use auth_contract::config::Env;
//! use auth_contract::revocation::{Revocation, RevocationKey, RevocationStore};
//! use revocation_store::DynamoStore;
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let Some(store) = DynamoStore::configured(&Env::process())? else {
//!     return Ok(()); // no REVOCATION_TABLE: nothing to revoke into
//! };
//! let key = RevocationKey::user("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123", "u-1");
//! store.write(&Revocation::new(&key, 1_900_000_000)).await?;
//! # Ok(()) }
//! ```

use std::time::{Duration, SystemTime};

use auth_contract::config::{ConfigError, Env};
use auth_contract::revocation::{BoxFuture, Revocation, RevocationStore, StoreError};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use https_client::HttpsClient;
use hyper::body::Bytes;
use serde_json::{Value, json};

/// The partition key attribute.
pub const KEY: &str = "pk";
/// When the revocation happened.
pub const REVOKED_AT: &str = "revokedAt";
/// The TTL attribute.
pub const EXPIRES_AT: &str = "expiresAt";

/// The longest one call may take, connection included (the authorizer bounds its reads more
/// tightly on top).
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest answer read.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Where and as whom the store calls DynamoDB.
#[derive(Debug, Clone)]
pub struct Connection {
    /// `https://dynamodb.<region>.amazonaws.com`, or an emulator's URL.
    pub endpoint: String,
    /// The region signed for.
    pub region: String,
    /// The credentials signed with.
    pub credentials: Credentials,
}

impl Connection {
    /// From the standard environment variables (see the crate documentation).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let region = auth_contract::config::region(env)?;
        let endpoint = env
            .optional("AWS_ENDPOINT_URL_DYNAMODB")
            .or_else(|| env.optional("AWS_ENDPOINT_URL"))
            .unwrap_or_else(|| format!("https://dynamodb.{region}.amazonaws.com"));
        let credentials = Credentials::new(
            env.required("AWS_ACCESS_KEY_ID")?,
            env.required("AWS_SECRET_ACCESS_KEY")?,
            env.optional("AWS_SESSION_TOKEN"),
            None,
            "environment",
        );
        Ok(Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            region,
            credentials,
        })
    }
}

/// The records in one DynamoDB table.
#[derive(Clone)]
pub struct DynamoStore {
    connection: Connection,
    host: HeaderValue,
    table: String,
    http: HttpsClient<Full<Bytes>>,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("endpoint", &self.connection.endpoint)
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl DynamoStore {
    /// The store of the table `REVOCATION_TABLE` names (the one place that variable is read),
    /// or `None` when it is unset: the functions then end no sessions and the authorizer checks
    /// no records.
    pub fn configured(env: &Env) -> Result<Option<Self>, ConfigError> {
        env.optional("REVOCATION_TABLE")
            .map(|table| Self::from_env(env, &table))
            .transpose()
    }

    /// The store for `table`, connecting as the environment says.
    pub fn from_env(env: &Env, table: &str) -> Result<Self, ConfigError> {
        Self::new(Connection::from_env(env)?, table).map_err(|reason| ConfigError::Invalid {
            name: "AWS_ENDPOINT_URL_DYNAMODB",
            reason,
        })
    }

    /// The store for `table` over `connection`.
    pub fn new(connection: Connection, table: &str) -> Result<Self, String> {
        let authority = connection
            .endpoint
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
            .filter(|a| !a.is_empty())
            .ok_or_else(|| format!("`{}` is not an http(s) URL", connection.endpoint))?;
        let host = HeaderValue::from_str(authority).map_err(|_| format!("`{authority}` is not a host"))?;
        Ok(Self {
            connection,
            host,
            table: table.to_owned(),
            http: https_client::client().map_err(|e| e.to_string())?,
        })
    }

    /// One DynamoDB JSON call: `target` is the operation (`BatchGetItem`).
    async fn call(&self, target: &str, body: &Value) -> Result<Value, StoreError> {
        self.exchange(target, body).await.map_err(CallError::into_store_error)
    }

    /// One call, with DynamoDB's error type kept for the caller to judge.
    async fn exchange(&self, target: &str, body: &Value) -> Result<Value, CallError> {
        let body = Bytes::from(serde_json::to_vec(body).map_err(|e| CallError::Other(e.to_string()))?);
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(format!("{}/", self.connection.endpoint))
            .header(HOST, self.host.clone())
            .header(CONTENT_TYPE, "application/x-amz-json-1.0")
            .header("x-amz-target", format!("DynamoDB_20120810.{target}"))
            .body(Full::new(body.clone()))
            .map_err(|e| CallError::Other(e.to_string()))?;
        sign_request(&mut request, &body, &self.connection, SERVICE, SystemTime::now()).map_err(CallError::Signing)?;
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| CallError::Other(format!("DynamoDB {target}: {e}")))?;
            let status = response.status();
            let bytes = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| CallError::Other(format!("DynamoDB {target}: {e}")))?
                .to_bytes();
            if status != StatusCode::OK {
                let kind = serde_json::from_slice::<Value>(&bytes)
                    .ok()
                    .and_then(|v| v.get("__type").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_default();
                let kind = kind.rsplit('#').next().unwrap_or_default().to_owned();
                return Err(CallError::Refused {
                    detail: format!("DynamoDB {target}: HTTP {status} {kind}"),
                    kind,
                });
            }
            serde_json::from_slice(&bytes)
                .map_err(|_| CallError::Other(format!("DynamoDB {target}: an answer that is not JSON")))
        };
        tokio::time::timeout(CALL_TIMEOUT, exchange)
            .await
            .map_err(|_| CallError::Other(format!("DynamoDB {target}: no answer within {CALL_TIMEOUT:?}")))?
    }
}

/// How one call failed.
enum CallError {
    /// DynamoDB answered an error, of this type (`ConditionalCheckFailedException`...).
    Refused { kind: String, detail: String },
    /// The request could not be signed.
    Signing(StoreError),
    /// No usable answer.
    Other(String),
}

impl CallError {
    fn into_store_error(self) -> StoreError {
        match self {
            CallError::Refused { detail, .. } | CallError::Other(detail) => StoreError::Unavailable(detail),
            CallError::Signing(error) => error,
        }
    }
}

/// The service name DynamoDB requests are signed for.
const SERVICE: &str = "dynamodb";

/// Adds SigV4 headers (`Authorization`, `X-Amz-Date`, `X-Amz-Security-Token`) for `service` in
/// the connection's region, signing every header the request already has.
fn sign_request(
    request: &mut Request<Full<Bytes>>,
    payload: &[u8],
    connection: &Connection,
    service: &str,
    time: SystemTime,
) -> Result<(), StoreError> {
    let identity = connection.credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&connection.region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| StoreError::Unavailable(format!("signing: {e}")))?
        .into();
    let uri = request.uri().to_string();
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let signable = SignableRequest::new(
        request.method().as_str(),
        &uri,
        headers.into_iter(),
        SignableBody::Bytes(payload),
    )
    .map_err(|e| StoreError::Unavailable(format!("signing: {e}")))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| StoreError::Unavailable(format!("signing: {e}")))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

fn number(item: &Value, name: &str) -> Option<u64> {
    item.get(name)?.get("N")?.as_str()?.parse().ok()
}

impl RevocationStore for DynamoStore {
    fn read<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<Vec<Revocation>, StoreError>> {
        Box::pin(async move {
            let keys: Vec<Value> = keys.iter().map(|k| json!({ KEY: { "S": k } })).collect();
            let body = json!({ "RequestItems": { &self.table: { "Keys": keys, "ConsistentRead": true } } });
            let output = self.call("BatchGetItem", &body).await?;
            // Keys DynamoDB could not read now (throttling): not answered, so not known.
            if output
                .pointer("/UnprocessedKeys")
                .and_then(|u| u.get(&self.table))
                .and_then(|t| t.get("Keys"))
                .and_then(Value::as_array)
                .is_some_and(|k| !k.is_empty())
            {
                return Err(StoreError::Unavailable("some keys were not processed".into()));
            }
            let items = output
                .get("Responses")
                .and_then(|r| r.get(&self.table))
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            Ok(items
                .iter()
                .filter_map(|item| {
                    Some(Revocation {
                        key: item.get(KEY)?.get("S")?.as_str()?.to_owned(),
                        revoked_at: number(item, REVOKED_AT)?,
                        expires_at: number(item, EXPIRES_AT)?,
                    })
                })
                .collect())
        })
    }

    fn write<'a>(&'a self, record: &'a Revocation) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let body = json!({
                "TableName": self.table,
                "Item": {
                    KEY: { "S": record.key },
                    REVOKED_AT: { "N": record.revoked_at.to_string() },
                    EXPIRES_AT: { "N": record.expires_at.to_string() },
                },
                // Never replace a later record: of two writers racing, the later second stands.
                "ConditionExpression": "attribute_not_exists(#k) OR #r < :r",
                "ExpressionAttributeNames": { "#k": KEY, "#r": REVOKED_AT },
                "ExpressionAttributeValues": { ":r": { "N": record.revoked_at.to_string() } },
            });
            match self.exchange("PutItem", &body).await {
                Ok(_) => {
                    tracing::info!(key = %record.key, revoked_at = record.revoked_at, "revocation written");
                    Ok(())
                }
                Err(CallError::Refused { kind, .. }) if kind == "ConditionalCheckFailedException" => {
                    tracing::info!(key = %record.key, revoked_at = record.revoked_at, "a later revocation already stands");
                    Ok(())
                }
                Err(error) => Err(error.into_store_error()),
            }
        })
    }
}

#[cfg(test)]
mod tests;
