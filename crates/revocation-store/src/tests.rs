//! The store against a local HTTP double answering as DynamoDB does, and its signer against the
//! SigV4 test suite's `get-vanilla` case.

use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

/// What the double received: the request head and body.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// Serves `answers` (status line, body) in order on one kept-alive connection or several.
async fn double(answers: Vec<(&'static str, String)>) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        let mut answers = answers.into_iter();
        while let Ok((mut socket, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            let Some((status, body)) = answers.next() else { return };
            let mut data = Vec::new();
            let mut buf = [0_u8; 8192];
            loop {
                let n = socket.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&data).into_owned();
                if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if rest.len() >= length {
                        log.lock().unwrap().push((head.to_owned(), rest.to_owned()));
                        break;
                    }
                }
            }
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    (endpoint, seen)
}

fn store(endpoint: &str) -> DynamoStore {
    let connection = Connection {
        endpoint: endpoint.to_owned(),
        region: "eu-west-1".into(),
        credentials: Credentials::new(
            "AKIDEXAMPLE",
            "secret-example",
            Some("session-example".into()),
            None,
            "test",
        ),
    };
    DynamoStore::new(connection, "revocations").unwrap()
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

#[tokio::test]
async fn a_read_is_one_consistent_batch_get_signed_for_dynamodb() {
    let answer = json!({"Responses": {"revocations": [
        {"pk": {"S": "iss#user#u1"}, "revokedAt": {"N": "100"}, "expiresAt": {"N": "3800"}},
        {"pk": {"S": "iss#session#s1"}, "revokedAt": {"N": "nope"}, "expiresAt": {"N": "3800"}}
    ]}, "UnprocessedKeys": {}});
    let (endpoint, seen) = double(vec![("200 OK", answer.to_string())]).await;
    let records = store(&endpoint)
        .read(&["iss#user#u1".to_owned(), "iss#session#s1".to_owned()])
        .await
        .unwrap();
    assert_eq!(
        records,
        [Revocation {
            key: "iss#user#u1".into(),
            revoked_at: 100,
            expires_at: 3800
        }],
        "a malformed record is left out"
    );
    let (head, body) = seen.lock().unwrap()[0].clone();
    assert!(head.starts_with("POST / HTTP/1.1"), "{head}");
    assert_eq!(
        header(&head, "x-amz-target").as_deref(),
        Some("DynamoDB_20120810.BatchGetItem")
    );
    assert_eq!(
        header(&head, "content-type").as_deref(),
        Some("application/x-amz-json-1.0")
    );
    assert_eq!(
        header(&head, "x-amz-security-token").as_deref(),
        Some("session-example")
    );
    let authorization = header(&head, "authorization").unwrap();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
        "{authorization}"
    );
    assert!(
        authorization.contains("/eu-west-1/dynamodb/aws4_request"),
        "{authorization}"
    );
    assert!(
        authorization.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target"),
        "{authorization}"
    );
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({"RequestItems": {"revocations": {"Keys": [{"pk": {"S": "iss#user#u1"}}, {"pk": {"S": "iss#session#s1"}}], "ConsistentRead": true}}})
    );
}

#[tokio::test]
async fn unprocessed_keys_errors_and_outages_are_unavailable() {
    let unprocessed =
        json!({"Responses": {"revocations": []}, "UnprocessedKeys": {"revocations": {"Keys": [{"pk": {"S": "k"}}]}}});
    let missing_table = json!({"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "message": "Requested resource not found"});
    let (endpoint, _) = double(vec![
        ("200 OK", unprocessed.to_string()),
        ("400 Bad Request", missing_table.to_string()),
        ("500 Internal Server Error", String::new()),
        ("200 OK", "<html>".into()),
    ])
    .await;
    let store = store(&endpoint);
    for expected in ["not processed", "ResourceNotFoundException", "HTTP 500", "not JSON"] {
        let err = store.read(&["k".to_owned()]).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Unavailable(m) if m.contains(expected)),
            "{err:?}"
        );
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let err = store_at_port(port).read(&["k".to_owned()]).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)));
}

fn store_at_port(port: u16) -> DynamoStore {
    store(&format!("http://127.0.0.1:{port}"))
}

#[tokio::test]
async fn a_write_is_one_put_item() {
    let (endpoint, seen) = double(vec![("200 OK", "{}".into())]).await;
    let record = Revocation {
        key: "iss#user#u1".into(),
        revoked_at: 100,
        expires_at: 3805,
    };
    store(&endpoint).write(&record).await.unwrap();
    let (head, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(
        header(&head, "x-amz-target").as_deref(),
        Some("DynamoDB_20120810.PutItem")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"TableName": "revocations", "Item": {"pk": {"S": "iss#user#u1"}, "revokedAt": {"N": "100"}, "expiresAt": {"N": "3805"}},
               "ConditionExpression": "attribute_not_exists(#k) OR #r < :r",
               "ExpressionAttributeNames": {"#k": "pk", "#r": "revokedAt"},
               "ExpressionAttributeValues": {":r": {"N": "100"}}})
    );
}

#[tokio::test]
async fn a_write_that_finds_a_later_record_keeps_it_and_other_refusals_fail() {
    let later_record_stands = json!({"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", "message": "The conditional request failed"});
    let throttled = json!({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"});
    let (endpoint, seen) = double(vec![
        ("400 Bad Request", later_record_stands.to_string()),
        ("400 Bad Request", throttled.to_string()),
    ])
    .await;
    let record = Revocation {
        key: "iss#user#u1".into(),
        revoked_at: 100,
        expires_at: 3805,
    };
    let store = store(&endpoint);
    store
        .write(&record)
        .await
        .expect("a later record standing is a success");
    let err = store.write(&record).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Unavailable(m) if m.contains("ProvisionedThroughputExceededException")),
        "{err:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn the_signer_reproduces_the_sigv4_test_suites_get_vanilla() {
    // AWS's SigV4 test suite, case get-vanilla: GET / on example.amazonaws.com, 2015-08-30
    // 12:36:00 UTC, region us-east-1, service "service".
    let connection = Connection {
        endpoint: "https://example.amazonaws.com".into(),
        region: "us-east-1".into(),
        credentials: Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test",
        ),
    };
    let mut request = Request::builder()
        .method(Method::GET)
        .uri("https://example.amazonaws.com/")
        .header(HOST, "example.amazonaws.com")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
    sign_request(&mut request, b"", &connection, "service", time).unwrap();
    assert_eq!(request.headers()["x-amz-date"], "20150830T123600Z");
    assert_eq!(
        request.headers()["authorization"],
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
}

#[test]
fn the_endpoint_and_credentials_come_from_the_standard_variables() {
    let env = Env::from_pairs(&[
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ]);
    assert_eq!(
        Connection::from_env(&env).unwrap().endpoint,
        "https://dynamodb.eu-west-1.amazonaws.com"
    );
    let env = Env::from_pairs(&[
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:5000/"),
    ]);
    assert_eq!(Connection::from_env(&env).unwrap().endpoint, "http://127.0.0.1:5000");
    let env = Env::from_pairs(&[("AWS_REGION", "eu-west-1")]);
    assert_eq!(
        Connection::from_env(&env).unwrap_err(),
        ConfigError::Missing("AWS_ACCESS_KEY_ID")
    );
}
