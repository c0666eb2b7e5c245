//! Outgoing e-mail, sent in the background so that a slow backend never delays a response or
//! reveals through timing whether an account exists.
//!
//! `EMAIL_URL` picks the backend: unset, the console backend writes each message to the log;
//! `smtp://host:587` sends through SMTP and requires STARTTLS; `smtps://host:465` uses TLS from
//! the first byte; `smtp://host:port?tls=none` sends in plain text, for local mail sinks only.
//! Credentials come from the URL (`smtp://user:password@host`) or from `EMAIL_USER` and
//! `EMAIL_PASSWORD`; `EMAIL_FROM` sets the sender. The password is never logged.

use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use url::Url;

/// A plain-text e-mail.
#[derive(Clone, Debug)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The e-mail backend.
#[derive(Clone, Debug)]
pub enum Mailer {
    /// Logs each message, body included, at the `info` level.
    Console,
    /// Sends through an SMTP server.
    Smtp(Arc<SmtpMailer>),
    /// Keeps messages in memory, for tests.
    Memory(Arc<Mutex<Vec<Email>>>),
}

/// An SMTP connection pool and the sender address.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The server as logs show it: scheme, user, host and port, never the password.
    server: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Builds the backend that `EMAIL_URL` selects. `app_host` (the host of `APP_URL`) makes
    /// the default sender `noreply@<app_host>`.
    pub fn from_env(app_host: &str) -> anyhow::Result<Mailer> {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let Some(url) = var("EMAIL_URL") else {
            return Ok(Mailer::Console);
        };
        let from = var("EMAIL_FROM").unwrap_or_else(|| format!("noreply@{app_host}"));
        let credentials = match (var("EMAIL_USER"), var("EMAIL_PASSWORD")) {
            (Some(user), Some(password)) => Some((user, password)),
            _ => None,
        };
        Ok(Mailer::Smtp(Arc::new(SmtpMailer::new(
            &url,
            &from,
            credentials,
        )?)))
    }

    /// Returns the backend's name for the start-up log, without secrets.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Console => "console".to_owned(),
            Mailer::Smtp(smtp) => smtp.server.clone(),
            Mailer::Memory(_) => "memory".to_owned(),
        }
    }

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
            Mailer::Smtp(smtp) => {
                let smtp = smtp.clone();
                tokio::spawn(async move {
                    // Failures are logged here and never reach the request that caused the
                    // message, so they cannot tell a visitor whether an account exists.
                    if let Err(err) = smtp.send(&email).await {
                        tracing::error!(
                            error = %format!("{err:#}"),
                            server = %smtp.server,
                            subject = %email.subject,
                            "failed to send e-mail"
                        );
                    }
                });
            }
            Mailer::Memory(outbox) => match outbox.lock() {
                Ok(mut outbox) => outbox.push(email),
                Err(err) => tracing::error!(error = %err, "the in-memory outbox is poisoned"),
            },
        }
    }
}

impl SmtpMailer {
    /// Builds the transport for an `smtp://` or `smtps://` URL; `credentials` apply when the
    /// URL has none.
    pub fn new(
        url: &str,
        from: &str,
        credentials: Option<(String, String)>,
    ) -> anyhow::Result<SmtpMailer> {
        // The URL may hold a password, so errors quote only its redacted form.
        let parsed =
            Url::parse(url).map_err(|err| anyhow::anyhow!("invalid `EMAIL_URL`: {err}"))?;
        let server = redact(&parsed);
        let host = parsed
            .host_str()
            .with_context(|| format!("invalid `EMAIL_URL` `{server}`: no host"))?
            .to_owned();
        let tls = parsed
            .query_pairs()
            .find(|(key, _)| key == "tls")
            .map(|(_, value)| value.into_owned());

        let builder = match (parsed.scheme(), tls.as_deref()) {
            ("smtp", None | Some("required")) => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host)?
                    .port(parsed.port().unwrap_or(587))
            }
            ("smtp", Some("none")) => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
                    .port(parsed.port().unwrap_or(25))
            }
            ("smtps", None) => AsyncSmtpTransport::<Tokio1Executor>::relay(&host)?
                .port(parsed.port().unwrap_or(465)),
            ("smtp" | "smtps", Some(other)) => bail!(
                "invalid `EMAIL_URL` `{server}`: `tls={other}` is not supported; use \
                 `smtp://` (STARTTLS), `smtps://` (TLS) or `smtp://...?tls=none` (plain text)"
            ),
            (scheme, _) => bail!(
                "invalid `EMAIL_URL` `{server}`: the scheme `{scheme}` is not supported; use \
                 `smtp://` or `smtps://`"
            ),
        };

        let url_credentials = (!parsed.username().is_empty()).then(|| {
            let decode = |value: &str| {
                url::form_urlencoded::parse(format!("x={value}").as_bytes())
                    .next()
                    .map(|(_, decoded)| decoded.into_owned())
                    .unwrap_or_default()
            };
            (
                decode(parsed.username()),
                decode(parsed.password().unwrap_or_default()),
            )
        });
        let builder = match url_credentials.or(credentials) {
            Some((user, password)) => builder.credentials(Credentials::new(user, password)),
            None => builder,
        };
        let from = from.parse().with_context(|| {
            format!("invalid `EMAIL_FROM` `{from}`: expected an e-mail address")
        })?;

        Ok(SmtpMailer {
            transport: builder.build(),
            from,
            server,
        })
    }

    async fn send(&self, email: &Email) -> anyhow::Result<()> {
        let to: Mailbox = email
            .to
            .parse()
            .with_context(|| format!("invalid recipient `{}`", email.to))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&email.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(email.body.clone())?;
        self.transport.send(message).await?;
        Ok(())
    }
}

/// Returns the URL without its password and query, as logs may show it.
fn redact(url: &Url) -> String {
    let user = if url.username().is_empty() {
        String::new()
    } else {
        format!("{}@", url.username())
    };
    let port = url
        .port()
        .map(|port| format!(":{port}"))
        .unwrap_or_default();
    format!(
        "{}://{user}{}{port}",
        url.scheme(),
        url.host_str().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_drops_the_password() {
        let url = Url::parse("smtp://mailer:s3cret@mail.example.com:587?tls=required").unwrap();
        assert_eq!(redact(&url), "smtp://mailer@mail.example.com:587");
    }

    #[tokio::test]
    async fn url_forms_are_accepted_or_rejected() {
        let from = "noreply@example.com";
        for good in [
            "smtp://mail.example.com:587",
            "smtp://user:pa%40ss@mail.example.com",
            "smtps://mail.example.com:465",
            "smtp://127.0.0.1:2525?tls=none",
        ] {
            assert!(SmtpMailer::new(good, from, None).is_ok(), "{good}");
        }
        for bad in [
            "http://mail.example.com",
            "smtp://mail.example.com?tls=maybe",
            "smtps://mail.example.com?tls=none",
            "not a url",
        ] {
            let err = SmtpMailer::new(bad, from, None).unwrap_err().to_string();
            assert!(!err.contains("pa%40ss"), "{err}");
            assert!(err.contains("EMAIL_URL"), "{err}");
        }
    }

    #[tokio::test]
    async fn errors_never_show_the_password() {
        let err = SmtpMailer::new(
            "smtp://user:hunter2@mail.example.com?tls=odd",
            "a@b.c",
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
