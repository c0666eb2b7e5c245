//! The wire protocol of the event bridge: JSON text frames.
//!
//! Client to server: `{"id": 1, "event": "notes.add", "payload": {"title": "milk"}}`.
//! Server to client, exactly one reply per event with the same `id`:
//! `{"id": 1, "delta": {...}, "actions": [...], "messages": [...]}`, or
//! `{"id": 1, "error": {"code": "...", "message": "..."}}`. Pushes carry no `id`:
//! `{"push": "session_ended", "actions": [{"redirect": "/login"}]}`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::messages::MessageView;

/// Largest frame the server reads, in bytes; a larger one closes the socket with code 1009.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// An event sent by the browser.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientFrame {
    pub id: u64,
    /// `<state>.<handler>`, such as `notes.add`.
    pub event: String,
    #[serde(default)]
    pub payload: Value,
}

/// Something the browser should do after an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Navigate to this URL.
    Redirect(String),
}

/// The reply to an event that succeeded.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Reply {
    pub id: u64,
    /// `{state: {field: value}}` with the top-level fields that changed.
    pub delta: Map<String, Value>,
    pub actions: Vec<Action>,
    pub messages: Vec<MessageView>,
}

/// The reason an event failed, sent as the `code` of an error reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadFrame,
    UnknownEvent,
    InvalidPayload,
    PermissionDenied,
    RateLimited,
    InvalidCredentials,
    HandlerError,
}

#[derive(Clone, Debug, Serialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

/// The reply to an event that failed; `id` is `null` when the frame could not be read.
#[derive(Clone, Debug, Serialize)]
pub struct ErrorReply {
    pub id: Option<u64>,
    pub error: ErrorBody,
}

impl ErrorReply {
    pub fn new(id: Option<u64>, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            id,
            error: ErrorBody {
                code,
                message: message.into(),
            },
        }
    }
}

/// A message the server sends on its own.
#[derive(Clone, Debug, Serialize)]
pub struct Push {
    pub push: &'static str,
    pub actions: Vec<Action>,
}

impl Push {
    /// Builds the push that ends a socket's session (a logout elsewhere, a password change, a
    /// deactivation) and sends the browser to `redirect`.
    pub fn session_ended(redirect: String) -> Self {
        Self {
            push: "session_ended",
            actions: vec![Action::Redirect(redirect)],
        }
    }
}

/// Serializes a frame; the types above always serialize.
pub fn to_text<T: Serialize>(frame: &T) -> String {
    serde_json::to_string(frame).expect("protocol frames serialize to JSON")
}

/// Reads a client frame, or returns the error reply for it.
pub fn parse_frame(text: &str) -> Result<ClientFrame, ErrorReply> {
    serde_json::from_str(text).map_err(|err| {
        // Keep the id when the frame has one, so the client can match the error.
        let id = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|value| value.get("id").and_then(Value::as_u64));
        ErrorReply::new(
            id,
            ErrorCode::BadFrame,
            format!("invalid event frame: {err}"),
        )
    })
}

/// Returns the top-level fields of `now` that differ from `sent`.
pub fn changed_fields(sent: &Value, now: &Value) -> Map<String, Value> {
    let mut changed = Map::new();
    let Value::Object(now) = now else {
        return changed;
    };
    for (key, value) in now {
        if sent.get(key) != Some(value) {
            changed.insert(key.clone(), value.clone());
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reply_has_all_three_fields() {
        let text = to_text(&Reply {
            id: 7,
            ..Reply::default()
        });
        assert_eq!(text, r#"{"id":7,"delta":{},"actions":[],"messages":[]}"#);
    }

    #[test]
    fn redirect_action_shape() {
        let text = to_text(&Action::Redirect("/login?next=%2Fnotes".into()));
        assert_eq!(text, r#"{"redirect":"/login?next=%2Fnotes"}"#);
    }

    #[test]
    fn bad_frame_keeps_readable_id() {
        let error = parse_frame(r#"{"id": 3, "event": 5}"#).unwrap_err();
        assert_eq!(error.id, Some(3));
        assert_eq!(error.error.code, ErrorCode::BadFrame);
        assert_eq!(parse_frame("not json").unwrap_err().id, None);
    }

    #[test]
    fn changed_fields_lists_only_changes() {
        let sent = json!({"a": 1, "b": [1]});
        let now = json!({"a": 1, "b": [1, 2], "c": "new"});
        let changed = changed_fields(&sent, &now);
        assert_eq!(Value::Object(changed), json!({"b": [1, 2], "c": "new"}));
    }
}
