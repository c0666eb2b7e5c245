//! The open sockets of this process, by session and by user, so that a logout or a password
//! change can tell the other sockets at once. [`crate::bridge::notices`] decides which
//! processes hear of such a change; this registry delivers it to the sockets of one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::bridge::notices::Notice;
use crate::bridge::protocol::{to_text, Push};

/// A frame for a socket's writer task.
#[derive(Debug)]
pub enum Outgoing {
    Text(String),
    Ping,
    /// Close the socket with this code and reason.
    Close(u16, &'static str),
}

#[derive(Debug)]
struct Entry {
    /// The session id, or a key derived from the CSRF cookie for a visitor without a session.
    session_key: String,
    user_id: Option<i64>,
    sender: mpsc::UnboundedSender<Outgoing>,
}

/// Open sockets, shared by every request of the process.
#[derive(Clone, Debug, Default)]
pub struct SocketRegistry {
    next_id: Arc<AtomicU64>,
    sockets: Arc<Mutex<HashMap<u64, Entry>>>,
}

impl SocketRegistry {
    fn sockets(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        // A panic while holding the lock leaves the map consistent, so poisoning is ignored.
        self.sockets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a socket unless its session already has `max_per_session` open; returns its
    /// id, or `None` when the limit is reached.
    pub fn register(
        &self,
        session_key: String,
        user_id: Option<i64>,
        sender: mpsc::UnboundedSender<Outgoing>,
        max_per_session: usize,
    ) -> Option<u64> {
        let mut sockets = self.sockets();
        let open = sockets
            .values()
            .filter(|entry| entry.session_key == session_key)
            .count();
        if open >= max_per_session {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        sockets.insert(
            id,
            Entry {
                session_key,
                user_id,
                sender,
            },
        );
        Some(id)
    }

    /// Records a socket's new session and user after an event changed them.
    pub fn rebind(&self, socket_id: u64, session_key: String, user_id: Option<i64>) {
        if let Some(entry) = self.sockets().get_mut(&socket_id) {
            entry.session_key = session_key;
            entry.user_id = user_id;
        }
    }

    pub fn unregister(&self, socket_id: u64) {
        self.sockets().remove(&socket_id);
    }

    /// Pushes `session_ended` to the sockets of this process that `notice` names.
    pub fn deliver(&self, notice: &Notice) {
        match notice {
            Notice::SessionEnded {
                session_key,
                redirect,
            } => self.push(|entry| entry.session_key == *session_key, redirect),
            Notice::UserSignedOut {
                user_id,
                keep_session,
                redirect,
            } => self.push(
                |entry| {
                    entry.user_id == Some(*user_id)
                        && Some(&entry.session_key) != keep_session.as_ref()
                },
                redirect,
            ),
        }
    }

    fn push(&self, matches: impl Fn(&Entry) -> bool, redirect: &str) {
        let text = to_text(&Push::session_ended(redirect.to_owned()));
        for entry in self.sockets().values().filter(|entry| matches(entry)) {
            // A closed socket is about to unregister itself; nothing to tell it.
            let _ = entry.sender.send(Outgoing::Text(text.clone()));
        }
    }

    /// Number of open sockets, for tests and metrics.
    pub fn len(&self) -> usize {
        self.sockets().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
