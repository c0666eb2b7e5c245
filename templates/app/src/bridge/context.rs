//! What an event handler gets: the live user, the session, flash messages, navigation, and
//! login and logout.
//!
//! The user here is resolved from the session row and the user row for this very event, so it
//! is safe for authorization. The `auth` snapshot the browser holds is not: it is for display.

use std::net::IpAddr;

use axum::http::Extensions;
use tower_sessions::Session;

use crate::app::AppState;
use crate::auth::guards::Access;
use crate::auth::login::{self, LoginFailure};
use crate::auth::redirect::login_url_with_next;
use crate::auth::session::{self, CurrentUser};
use crate::auth::user::AuthUser;
use crate::bridge::handoff;
use crate::bridge::protocol::{Action, ErrorCode};
use crate::db::Pool;
use crate::error::AppError;
use crate::messages::{Level, Message, MessageView};
use crate::permissions::Permission;
use crate::settings::AUTH;

/// The reason an event handler stopped.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("unknown event")]
    UnknownEvent,
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    /// The visitor must log in; the reply redirects to this URL.
    #[error("login required")]
    LoginRequired(String),
    #[error("permission denied")]
    PermissionDenied,
    #[error("too many requests")]
    RateLimited,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error(transparent)]
    Handler(#[from] anyhow::Error),
}

impl From<AppError> for EventError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Forbidden => EventError::PermissionDenied,
            AppError::RateLimited => EventError::RateLimited,
            other => EventError::Handler(anyhow::anyhow!(other)),
        }
    }
}

impl From<sqlx::Error> for EventError {
    fn from(err: sqlx::Error) -> Self {
        EventError::Handler(err.into())
    }
}

impl From<tower_sessions::session::Error> for EventError {
    fn from(err: tower_sessions::session::Error) -> Self {
        EventError::Handler(err.into())
    }
}

impl EventError {
    /// Returns the protocol's error code and the message shown to the browser. Internal errors are logged
    /// and reported without their details.
    pub fn code_and_message(&self) -> (ErrorCode, String) {
        match self {
            EventError::UnknownEvent => (ErrorCode::UnknownEvent, "Unknown event.".into()),
            EventError::InvalidPayload(reason) => (ErrorCode::InvalidPayload, reason.clone()),
            EventError::LoginRequired(_) | EventError::PermissionDenied => (
                ErrorCode::PermissionDenied,
                "You do not have permission to do that.".into(),
            ),
            EventError::RateLimited => (
                ErrorCode::RateLimited,
                "Too many attempts. Wait a few minutes and try again.".into(),
            ),
            EventError::InvalidCredentials => {
                (ErrorCode::InvalidCredentials, login::INVALID_LOGIN.into())
            }
            EventError::Handler(_) => (
                ErrorCode::HandlerError,
                "Something went wrong on our side. Try again later.".into(),
            ),
        }
    }
}

pub type EventResult = Result<(), EventError>;

/// Parses an event's payload into `T`, or fails with `invalid_payload`.
pub fn parse_payload<T: serde::de::DeserializeOwned>(
    payload: serde_json::Value,
) -> Result<T, EventError> {
    serde_json::from_value(payload).map_err(|err| EventError::InvalidPayload(err.to_string()))
}

/// The context of one event.
pub struct EventContext {
    pub(crate) state: AppState,
    pub(crate) user: CurrentUser,
    pub(crate) session: Session,
    pub(crate) extensions: Extensions,
    pub(crate) page_path: String,
    pub(crate) client_ip: IpAddr,
    /// The CSRF token the socket was opened with; a login handoff is bound to it.
    pub(crate) csrf_token: String,
    pub(crate) actions: Vec<Action>,
    pub(crate) messages: Vec<MessageView>,
    /// Set by a login: the socket closes after the reply, because its session is over.
    pub(crate) close_after_reply: bool,
}

impl EventContext {
    /// Returns the live user, or `None` for an anonymous visitor.
    pub fn current_user(&self) -> Option<&AuthUser> {
        self.user.get()
    }

    /// Returns the live user, or a "login required" error that redirects to the login page
    /// with `next` set to this page.
    pub fn user(&self) -> Result<&AuthUser, EventError> {
        self.user.get().ok_or_else(|| self.login_required(None))
    }

    /// Returns whether the live user has the permission (superusers have all).
    pub fn has_perm(&self, permission: Permission) -> bool {
        self.user
            .get()
            .is_some_and(|user| user.has_perm(permission))
    }

    /// Fails unless the live user passes `access`. `login_url` replaces the configured login
    /// URL for anonymous visitors.
    pub fn require(&self, access: Access, login_url: Option<&str>) -> Result<(), EventError> {
        match access {
            Access::Public => Ok(()),
            _ if self.user.get().is_none() => Err(self.login_required(login_url)),
            Access::LoginRequired => Ok(()),
            Access::Permission(permission) if self.has_perm(permission) => Ok(()),
            Access::Permission(_) => Err(EventError::PermissionDenied),
        }
    }

    fn login_required(&self, login_url: Option<&str>) -> EventError {
        let login_url = login_url.unwrap_or(AUTH.login_url);
        EventError::LoginRequired(login_url_with_next(login_url, &self.page_path))
    }

    /// Returns the session, shared with HTTP requests. Writes update the existing row only: an event
    /// never creates a session, so a visitor without one keeps none.
    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn pool(&self) -> &Pool {
        &self.state.pool
    }

    pub fn app(&self) -> &AppState {
        &self.state
    }

    /// Returns the path of the page the socket belongs to.
    pub fn page_path(&self) -> &str {
        &self.page_path
    }

    /// Returns a request extension, including those set by layers the app adds.
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.extensions.get::<T>()
    }

    /// Sends the browser to `url` after this event.
    pub fn redirect(&mut self, url: impl Into<String>) {
        self.actions.push(Action::Redirect(url.into()));
    }

    /// Shows a flash message with the reply.
    pub fn message(&mut self, level: Level, text: impl Into<String>) {
        self.messages.push(MessageView::from(Message {
            level,
            message: text.into(),
            extra_tags: String::new(),
        }));
    }

    pub fn success(&mut self, text: impl Into<String>) {
        self.message(Level::Success, text);
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.message(Level::Info, text);
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.message(Level::Error, text);
    }

    /// Logs in with the rules of the login page: one error for every failure, the same rate
    /// limits, and a new session id. The session cookie stays HttpOnly, so the browser gets the
    /// new session through a one-time handoff link that the reply redirects to. This socket is
    /// closed after the reply, because its session is about to be replaced.
    pub async fn login(
        &mut self,
        identifier: &str,
        password: &str,
        next: Option<&str>,
    ) -> EventResult {
        let user =
            match login::authenticate(&self.state, identifier, password, self.client_ip).await {
                Ok(user) => user,
                Err(LoginFailure::Invalid) => return Err(EventError::InvalidCredentials),
                Err(LoginFailure::RateLimited) => return Err(EventError::RateLimited),
                Err(LoginFailure::Internal(err)) => return Err(err.into()),
            };
        let url = handoff::issue(&self.state, &user, &self.csrf_token, next).await?;
        tracing::info!(
            user_id = user.id,
            "login through an event; handing off the session"
        );
        self.redirect(url);
        self.close_after_reply = true;
        Ok(())
    }

    /// Logs out: deletes the session row, ends the session's other sockets and redirects to
    /// the post-logout page.
    pub async fn logout(&mut self) -> EventResult {
        let session_id = self.session.id();
        session::logout(&self.session).await?;
        if let Some(id) = session_id {
            let push_to = AUTH.post_logout_url.to_owned();
            self.state
                .notices
                .end_session(&id.to_string(), &push_to)
                .await;
        }
        self.user = CurrentUser::default();
        self.redirect(AUTH.post_logout_url);
        Ok(())
    }
}
