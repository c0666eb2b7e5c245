//! Flash messages: short notices stored in the session and shown once, on the next page.

use serde::{Deserialize, Serialize};
use tower_sessions::Session;

const SESSION_KEY: &str = "_messages";

/// Severity of a message, with the numeric values Django uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum Level {
    Debug = 10,
    Info = 20,
    Success = 25,
    Warning = 30,
    Error = 40,
}

impl Level {
    /// Returns the lowercase name that templates use as a CSS class.
    pub fn tag(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Success => "success",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

impl From<Level> for u8 {
    fn from(level: Level) -> u8 {
        level as u8
    }
}

impl TryFrom<u8> for Level {
    type Error = String;

    fn try_from(value: u8) -> Result<Self, String> {
        match value {
            10 => Ok(Level::Debug),
            20 => Ok(Level::Info),
            25 => Ok(Level::Success),
            30 => Ok(Level::Warning),
            40 => Ok(Level::Error),
            other => Err(format!("unknown message level {other}")),
        }
    }
}

/// A flash message as stored in the session.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Message {
    pub level: Level,
    pub message: String,
    #[serde(default)]
    pub extra_tags: String,
}

/// A message as templates and the browser see it.
#[derive(Clone, Debug, Serialize)]
pub struct MessageView {
    pub level: u8,
    pub level_tag: &'static str,
    pub message: String,
    /// `level_tag` followed by `extra_tags`, separated by a space.
    pub tags: String,
    pub extra_tags: String,
}

impl From<Message> for MessageView {
    fn from(message: Message) -> Self {
        let level_tag = message.level.tag();
        let tags = if message.extra_tags.is_empty() {
            level_tag.to_owned()
        } else {
            format!("{level_tag} {}", message.extra_tags)
        };
        Self {
            level: message.level.into(),
            level_tag,
            message: message.message,
            tags,
            extra_tags: message.extra_tags,
        }
    }
}

/// Queues a message for the next page this session renders.
pub async fn add(
    session: &Session,
    level: Level,
    message: impl Into<String>,
) -> Result<(), tower_sessions::session::Error> {
    let mut queued: Vec<Message> = session.get(SESSION_KEY).await?.unwrap_or_default();
    queued.push(Message {
        level,
        message: message.into(),
        extra_tags: String::new(),
    });
    session.insert(SESSION_KEY, queued).await
}

/// Removes and returns the queued messages.
pub async fn take(session: &Session) -> Result<Vec<MessageView>, tower_sessions::session::Error> {
    let queued: Option<Vec<Message>> = session.remove(SESSION_KEY).await?;
    Ok(queued
        .unwrap_or_default()
        .into_iter()
        .map(MessageView::from)
        .collect())
}
