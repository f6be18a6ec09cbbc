//! The local stack's outbox: the one-time codes the Cognito stand-in "sends", kept so a
//! developer (or a test) can read them at `GET /_local/outbox` on the gateway, and printed on
//! the gateway's console. Nothing here exists in the cloud, where Cognito sends the codes.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// How many messages the outbox keeps; older ones are dropped.
const KEPT: usize = 100;

/// One message sent.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// The full address or E.164 number, unmasked.
    pub to: String,
    /// `email` or `sms`.
    pub channel: &'static str,
    /// What the code is for: `sign-in`.
    pub kind: &'static str,
    /// The digits as sent.
    pub code: String,
    /// When, RFC 3339.
    pub sent_at: String,
}

/// The outbox, shared by the stand-in that writes it and the gateway that serves it.
#[derive(Debug, Clone, Default)]
pub struct Outbox(Arc<Mutex<VecDeque<Message>>>);

impl Outbox {
    /// Records a message, newest first, and prints it on the gateway's console.
    pub fn send(&self, to: &str, channel: &'static str, kind: &'static str, code: &str) {
        let sent_at = aws_smithy_types::DateTime::from(std::time::SystemTime::now())
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .unwrap_or_default();
        // The local delivery, on the gateway's console: not a log line, and no function's.
        eprintln!("outbox: {kind} code {code} to {to} by {channel} (GET /_local/outbox)");
        let mut messages = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        messages.push_front(Message {
            to: to.to_owned(),
            channel,
            kind,
            code: code.to_owned(),
            sent_at,
        });
        messages.truncate(KEPT);
    }

    /// The messages kept, newest first; only those to `to` when given.
    pub fn messages(&self, to: Option<&str>) -> Vec<Message> {
        let messages = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        messages
            .iter()
            .filter(|m| to.is_none_or(|to| m.to == to))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_hundred_newest_first_and_filters_by_recipient() {
        let outbox = Outbox::default();
        for n in 0..105 {
            outbox.send(
                &format!("user{}@example.com", n % 2),
                "email",
                "sign-in",
                &format!("{n:06}"),
            );
        }
        let all = outbox.messages(None);
        assert_eq!(all.len(), 100);
        assert_eq!(all[0].code, "000104");
        assert_eq!(all[99].code, "000005");
        let one = outbox.messages(Some("user1@example.com"));
        assert!(one.iter().all(|m| m.to == "user1@example.com"));
        assert_eq!(one[0].code, "000103");
        assert!(
            all[0].sent_at.ends_with('Z') && all[0].sent_at.contains('T'),
            "{}",
            all[0].sent_at
        );
    }
}
