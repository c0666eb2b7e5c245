//! The login page.

use std::net::IpAddr;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use minijinja::context;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::password::Verified;
use crate::auth::rate_limit::{self, Limit};
use crate::auth::redirect::{next_or, see_other};
use crate::auth::{session, user};
use crate::error::{AppError, AppResult};
use crate::security::ClientIp;
use crate::settings::{AUTH, LOGIN_ATTEMPTS_PER_IP_FACTOR};
use crate::views::PageContext;

/// The one message for every failed login, so that it does not reveal whether the account
/// exists, is inactive, or only the password was wrong.
pub const INVALID_LOGIN: &str = if AUTH.email_login {
    "Please enter a correct email address and password. Note that the password is case-sensitive."
} else {
    "Please enter a correct username and password. Note that both fields may be case-sensitive."
};

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// Shows the login form.
pub async fn show(page: PageContext, Query(query): Query<NextQuery>) -> AppResult<Response> {
    let next = query.next.unwrap_or_default();
    render(&page, "", &next, None).await
}

async fn render(
    page: &PageContext,
    username: &str,
    next: &str,
    error: Option<&str>,
) -> AppResult<Response> {
    let html = page
        .render(
            "auth/login.html",
            context! {
                title => AUTH.titles.login,
                username => username,
                next => next,
                error => error,
            },
        )
        .await?;
    Ok(html.into_response())
}

/// The reason a login attempt failed.
#[derive(Debug)]
pub enum LoginFailure {
    /// Unknown identifier, wrong password or inactive account: callers show one message.
    Invalid,
    RateLimited,
    Internal(AppError),
}

impl<E: Into<AppError>> From<E> for LoginFailure {
    fn from(err: E) -> Self {
        LoginFailure::Internal(err.into())
    }
}

/// Checks credentials under the login rate limits, as the login page and login events both
/// do. Returns the user, whose password hash has been upgraded if it was outdated; signing in
/// is the caller's job.
pub async fn authenticate(
    state: &AppState,
    identifier: &str,
    password: &str,
    ip: IpAddr,
) -> Result<user::User, LoginFailure> {
    let identifier = identifier.trim();

    // Unknown identifiers are counted like known ones, and the limit is checked before any
    // hashing, so neither the count nor the timing reveals which accounts exist.
    let identifier_key = format!("login:{ip}:{}", identifier.to_lowercase());
    let limits = [
        Limit {
            key: format!("login:{ip}"),
            max_failures: AUTH.login_attempts * LOGIN_ATTEMPTS_PER_IP_FACTOR,
        },
        Limit {
            key: identifier_key.clone(),
            max_failures: AUTH.login_attempts,
        },
    ];
    if rate_limit::is_limited(&state.pool, &limits).await? {
        tracing::warn!(%ip, "login rate limit reached");
        return Err(LoginFailure::RateLimited);
    }

    let found = if identifier.is_empty() {
        None
    } else {
        user::find_for_login(&state.pool, identifier, AUTH.email_login).await?
    };
    // Unknown users are checked against a dummy hash so that they take as long as known ones.
    let verified = state
        .hasher
        .verify(password, found.as_ref().map(|(_, hash)| hash.as_str()))
        .await?;

    match (found, verified) {
        (Some((user, _)), Verified::Valid { rehashed }) if user.is_active => {
            if let Some(hash) = rehashed {
                user::upgrade_password_hash(&state.pool, user.id, &hash).await?;
            }
            rate_limit::clear(&state.pool, &identifier_key).await?;
            Ok(user)
        }
        _ => {
            rate_limit::record_failure(&state.pool, &limits, AUTH.login_window_seconds).await?;
            tracing::info!(%ip, "login failed");
            Err(LoginFailure::Invalid)
        }
    }
}

/// Checks the credentials and signs the user in.
pub async fn submit(
    State(state): State<AppState>,
    page: PageContext,
    ClientIp(ip): ClientIp,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let next = form.next.as_deref().unwrap_or_default();
    let user = match authenticate(&state, &form.username, &form.password, ip).await {
        Ok(user) => user,
        Err(LoginFailure::Invalid) => {
            return render(&page, form.username.trim(), next, Some(INVALID_LOGIN)).await;
        }
        Err(LoginFailure::RateLimited) => return Err(AppError::RateLimited),
        Err(LoginFailure::Internal(err)) => return Err(err),
    };

    session::login(&page.session, &user).await?;
    user::record_login(&state.pool, user.id).await?;
    tracing::info!(user_id = user.id, "user logged in");

    let target = next_or(Some(next), &state.env.app_url, AUTH.post_login_url);
    Ok(see_other(&target))
}
