//! The error type of request handlers and the error pages it renders.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::views;

/// An error that ends a request. Internal details are logged, never shown to the visitor.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("permission denied")]
    Forbidden,
    #[error("CSRF verification failed")]
    Csrf,
    #[error("too many attempts")]
    RateLimited,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        AppError::Internal(err.into())
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(err: tower_sessions::session::Error) -> Self {
        AppError::Internal(err.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            AppError::NotFound => (StatusCode::NOT_FOUND, "The page you requested does not exist."),
            AppError::Forbidden => (
                StatusCode::FORBIDDEN,
                "You do not have permission to view this page.",
            ),
            AppError::Csrf => (
                StatusCode::FORBIDDEN,
                "The form has expired or was not sent by this site. Go back, reload the page and try again.",
            ),
            AppError::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts. Wait a few minutes and try again.",
            ),
            AppError::Internal(err) => {
                tracing::error!(error = ?err, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side. Try again later.",
                )
            }
        };
        let mut response = error_page(status, message);
        if status == StatusCode::TOO_MANY_REQUESTS {
            // The counters are fixed windows, so the limit lifts within one window.
            let seconds = crate::settings::AUTH.login_window_seconds.to_string();
            if let Ok(value) = axum::http::HeaderValue::from_str(&seconds) {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// Renders the error page with a status code.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let context = minijinja::context! {
        title => status.canonical_reason().unwrap_or("Error"),
        status => status.as_u16(),
        message => message,
    };
    match views::render_bare("error.html", context) {
        Ok(html) => (status, html).into_response(),
        Err(err) => {
            tracing::error!(error = ?err, "failed to render the error page");
            (status, message.to_owned()).into_response()
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
