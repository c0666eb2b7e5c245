//! Outgoing e-mail. The console backend writes each message to the log, which is what a
//! development server needs; messages are sent in the background so that a slow backend
//! never delays a response or reveals through timing whether an account exists.

use std::sync::{Arc, Mutex};

/// A plain-text e-mail.
#[derive(Clone, Debug)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Where e-mail goes.
#[derive(Clone, Debug)]
pub enum Mailer {
    /// Logs each message, body included, at the `info` level.
    Console,
    /// Keeps messages in memory, for tests.
    Memory(Arc<Mutex<Vec<Email>>>),
}

impl Mailer {
    /// Sends a message without waiting for the backend.
    pub fn send_in_background(&self, email: Email) {
        match self {
            Mailer::Console => {
                tokio::spawn(async move {
                    // The plain body is logged as is: an encoded message would break long
                    // links with soft line breaks.
                    tracing::info!(
                        to = %email.to,
                        subject = %email.subject,
                        "sending e-mail (console backend)\n{}",
                        email.body
                    );
                });
            }
            Mailer::Memory(outbox) => match outbox.lock() {
                Ok(mut outbox) => outbox.push(email),
                Err(err) => tracing::error!(error = %err, "the in-memory outbox is poisoned"),
            },
        }
    }
}
