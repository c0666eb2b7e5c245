//! Login handoff: a login event cannot set the HttpOnly session cookie over the WebSocket, so
//! its reply sends the browser to `GET /_auth/handoff?token=...`, and that response signs the
//! browser in and sets the cookie.
//!
//! The token is 32 random bytes of which only a hash is stored. It works once, for at most
//! [`HANDOFF_SECONDS`], and only for the browser whose CSRF token opened the socket.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::app::AppState;
use crate::auth::csrf;
use crate::auth::redirect::{next_or, see_other};
use crate::auth::session;
use crate::auth::user::{self, User};
use crate::error::{error_page, AppResult};
use crate::settings::AUTH;
use crate::views::PageContext;

/// Path of the handoff endpoint.
pub const HANDOFF_PATH: &str = "/_auth/handoff";
/// How long a handoff link works, in seconds.
pub const HANDOFF_SECONDS: i64 = 60;

fn sha256(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

/// Stores a handoff for `user`, bound to `csrf_token`, and returns the URL to send the
/// browser to.
pub async fn issue(
    state: &AppState,
    user: &User,
    csrf_token: &str,
    next: Option<&str>,
) -> sqlx::Result<String> {
    let token = csrf::new_token();
    let next = next_or(next, &state.env.app_url, AUTH.post_login_url);
    sqlx::query(
        "INSERT INTO login_handoffs (token_hash, user_id, auth_version, binding_hash, next, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(sha256(&token))
    .bind(user.id)
    .bind(user.auth_version)
    .bind(sha256(csrf_token))
    .bind(&next)
    .bind(crate::now() + HANDOFF_SECONDS)
    .execute(&state.pool)
    .await?;
    Ok(format!("{HANDOFF_PATH}?token={token}"))
}

#[derive(Deserialize)]
pub struct HandoffQuery {
    #[serde(default)]
    token: String,
}

/// Redeems a handoff: signs this browser in with a new session id and redirects (303) to the
/// checked `next`.
pub async fn redeem(
    State(state): State<AppState>,
    page: PageContext,
    Query(query): Query<HandoffQuery>,
) -> AppResult<Response> {
    let token_hash = sha256(&query.token);
    let row: Option<(i64, i64, Vec<u8>, String)> = sqlx::query_as(
        "SELECT user_id, auth_version, binding_hash, next FROM login_handoffs \
         WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(&token_hash)
    .bind(crate::now())
    .fetch_optional(&state.pool)
    .await?;
    let Some((user_id, auth_version, binding_hash, next)) = row else {
        tracing::info!("login handoff token unknown, used or expired");
        return Ok(invalid());
    };

    // Another browser's attempt leaves the token in place for the browser it belongs to.
    let binding = sha256(page.csrf_token.as_str());
    if !bool::from(binding.ct_eq(&binding_hash)) {
        tracing::warn!(user_id, "login handoff opened by another browser");
        return Ok(invalid());
    }
    // Of two concurrent requests with the token, only one deletes it.
    let deleted = sqlx::query("DELETE FROM login_handoffs WHERE token_hash = $1")
        .bind(&token_hash)
        .execute(&state.pool)
        .await?;
    if deleted.rows_affected() != 1 {
        return Ok(invalid());
    }
    let user = user::find_by_id(&state.pool, user_id).await?;
    let Some(user) = user.filter(|user| user.is_active && user.auth_version == auth_version) else {
        return Ok(invalid());
    };

    session::login(&page.session, &user).await?;
    user::record_login(&state.pool, user.id).await?;
    tracing::info!(user_id = user.id, "user logged in through an event");
    Ok(see_other(&next_or(
        Some(&next),
        &state.env.app_url,
        AUTH.post_login_url,
    )))
}

fn invalid() -> Response {
    error_page(
        axum::http::StatusCode::BAD_REQUEST,
        "This login link is invalid, has expired, or was already used. Log in again.",
    )
    .into_response()
}
