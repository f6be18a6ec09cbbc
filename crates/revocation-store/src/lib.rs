//! The revocation records on Amazon DynamoDB: [`DynamoStore`] implements
//! [`RevocationStore`] with one BatchGetItem (strongly consistent, so a logout counts at once)
//! for the authorizer's read and one PutItem per revocation.
//!
//! The table: partition key `pk` (string), `revokedAt` (number, Unix seconds), `expiresAt`
//! (number, the table's TTL attribute), on-demand billing. Its name comes from
//! `REVOCATION_TABLE`, its endpoint from the SDK's standard `AWS_ENDPOINT_URL_DYNAMODB` (the
//! local stack points it at the emulator).
//!
//! ```no_run
//! use auth_contract::revocation::{RevocationKey, RevocationPolicy, RevocationStore};
//! use revocation_store::DynamoStore;
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let store = DynamoStore::connect("auth-revocations").await;
//! let policy = RevocationPolicy { token_validity_seconds: 3600, leeway_seconds: 5 };
//! let key = RevocationKey::user("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123", "u-1");
//! store.write(&policy.record(&key, 1_900_000_000)).await?;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::time::Duration;

use auth_contract::revocation::{BoxFuture, Revocation, RevocationStore, StoreError};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

/// The partition key attribute.
pub const KEY: &str = "pk";
/// When the revocation happened.
pub const REVOKED_AT: &str = "revokedAt";
/// The TTL attribute.
pub const EXPIRES_AT: &str = "expiresAt";

/// Bounds on every call: the authorizer adds its own, shorter time-out on reads.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(4);

/// The records in one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A client from the environment (region, credentials, `AWS_ENDPOINT_URL_DYNAMODB`).
    pub async fn connect(table: &str) -> Self {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .load()
            .await;
        Self::new(Client::new(&config), table)
    }

    /// Wraps a ready client (tests pass one answering from mocks).
    pub fn new(client: Client, table: &str) -> Self {
        Self {
            client,
            table: table.to_owned(),
        }
    }
}

fn unavailable<E: std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    StoreError::Unavailable(DisplayErrorContext(e).to_string())
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<u64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

impl RevocationStore for DynamoStore {
    fn read<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<Vec<Revocation>, StoreError>> {
        Box::pin(async move {
            let mut request = KeysAndAttributes::builder().consistent_read(true);
            for key in keys {
                request = request.keys(HashMap::from([(KEY.to_owned(), AttributeValue::S(key.clone()))]));
            }
            let request = request.build().map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let output = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(unavailable)?;
            // Keys DynamoDB could not read now (throttling): not answered, so not known.
            if output
                .unprocessed_keys()
                .and_then(|u| u.get(&self.table))
                .is_some_and(|k| !k.keys().is_empty())
            {
                return Err(StoreError::Unavailable("some keys were not processed".into()));
            }
            let items = output
                .responses()
                .and_then(|r| r.get(&self.table))
                .map(Vec::as_slice)
                .unwrap_or_default();
            Ok(items
                .iter()
                .filter_map(|item| {
                    Some(Revocation {
                        key: item.get(KEY)?.as_s().ok()?.clone(),
                        revoked_at: number(item, REVOKED_AT)?,
                        expires_at: number(item, EXPIRES_AT)?,
                    })
                })
                .collect())
        })
    }

    fn write<'a>(&'a self, record: &'a Revocation) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.client
                .put_item()
                .table_name(&self.table)
                .item(KEY, AttributeValue::S(record.key.clone()))
                .item(REVOKED_AT, AttributeValue::N(record.revoked_at.to_string()))
                .item(EXPIRES_AT, AttributeValue::N(record.expires_at.to_string()))
                .send()
                .await
                .map_err(unavailable)?;
            tracing::info!(key = %record.key, revoked_at = record.revoked_at, "revocation written");
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
    use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn item(key: &str, revoked_at: u64, expires_at: u64) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (KEY.to_owned(), AttributeValue::S(key.to_owned())),
            (REVOKED_AT.to_owned(), AttributeValue::N(revoked_at.to_string())),
            (EXPIRES_AT.to_owned(), AttributeValue::N(expires_at.to_string())),
        ])
    }

    #[tokio::test]
    async fn one_consistent_batch_read_for_both_keys() {
        let read = mock!(Client::batch_get_item)
            .match_requests(|req| {
                let items = req.request_items().and_then(|r| r.get("revocations"));
                items.is_some_and(|k| k.consistent_read() == Some(true) && k.keys().len() == 2)
            })
            .then_output(|| {
                BatchGetItemOutput::builder()
                    .responses("revocations", vec![item("a#user#u", 10, 20)])
                    .build()
            });
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&read]);
        let store = DynamoStore::new(client, "revocations");
        let keys = vec!["a#user#u".to_owned(), "a#session#s".to_owned()];
        let records = store.read(&keys).await.unwrap();
        assert_eq!(
            records,
            [Revocation {
                key: "a#user#u".into(),
                revoked_at: 10,
                expires_at: 20
            }]
        );
        assert_eq!(read.num_calls(), 1);
    }

    #[tokio::test]
    async fn writes_the_record_with_its_ttl() {
        let put = mock!(Client::put_item)
            .match_requests(|req| {
                let item = req.item().cloned().unwrap_or_default();
                req.table_name() == Some("revocations")
                    && item.get(KEY).and_then(|v| v.as_s().ok()).map(String::as_str) == Some("a#user#u")
                    && item.get(EXPIRES_AT).and_then(|v| v.as_n().ok()).map(String::as_str) == Some("3705")
            })
            .then_output(|| PutItemOutput::builder().build());
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&put]);
        let store = DynamoStore::new(client, "revocations");
        store
            .write(&Revocation {
                key: "a#user#u".into(),
                revoked_at: 100,
                expires_at: 3705,
            })
            .await
            .unwrap();
        assert_eq!(put.num_calls(), 1);
    }

    #[tokio::test]
    async fn failures_and_unprocessed_keys_are_unavailable_never_empty() {
        let failing = mock!(Client::batch_get_item)
            .sequence()
            .http_status(500, None)
            .times(2)
            .build();
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&failing]);
        let keys = vec!["k".to_owned()];
        assert!(matches!(
            DynamoStore::new(client, "t").read(&keys).await,
            Err(StoreError::Unavailable(_))
        ));
        let throttled = mock!(Client::batch_get_item).then_output(|| {
            BatchGetItemOutput::builder()
                .unprocessed_keys(
                    "t",
                    KeysAndAttributes::builder()
                        .keys(HashMap::from([(KEY.to_owned(), AttributeValue::S("k".into()))]))
                        .build()
                        .unwrap(),
                )
                .build()
        });
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&throttled]);
        assert!(DynamoStore::new(client, "t").read(&keys).await.is_err());
    }
}
