//! Password reset by e-mail: the request page, the link, and the page that sets a new
//! password.
//!
//! Tokens are 32 random bytes. Only their SHA-256 is stored; each works once, expires after
//! `password_reset_timeout_seconds`, and dies when the password changes. Opening the link
//! moves the token into the session and redirects to the token-free URL, so the token does
//! not linger in the address bar or leak through `Referer`; it does not consume the token,
//! because mail scanners open links too. The successful form post consumes it.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::auth::password;
use crate::auth::rate_limit::{self, Limit};
use crate::auth::redirect::see_other;
use crate::auth::session_store::delete_user_sessions;
use crate::auth::user::{self, User};
use crate::error::{AppError, AppResult};
use crate::mail::Email;
use crate::messages::{self, Level};
use crate::security::ClientIp;
use crate::settings::AUTH;
use crate::views::{self, PageContext};

/// Session key of the token taken from the link.
const TOKEN_KEY: &str = "_password_reset_token";

#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    email: String,
}

/// Shows the form that requests the account's e-mail address.
pub async fn show_request(page: PageContext) -> AppResult<Response> {
    render_request(&page, false).await
}

async fn render_request(page: &PageContext, sent: bool) -> AppResult<Response> {
    let html = page
        .render(
            "auth/password_reset.html",
            context! { title => AUTH.titles.password_reset, sent => sent },
        )
        .await?;
    Ok(html.into_response())
}

/// Sends a reset link when the address belongs to an active account.
///
/// The response is the same whether or not the account exists, and the mail goes out in the
/// background, so neither the page nor its timing reveals accounts.
pub async fn submit_request(
    State(state): State<AppState>,
    page: PageContext,
    ClientIp(ip): ClientIp,
    Form(form): Form<RequestForm>,
) -> AppResult<Response> {
    let limits = [Limit {
        key: format!("password_reset:{ip}"),
        max_failures: AUTH.login_attempts,
    }];
    if rate_limit::is_limited(&state.pool, &limits).await? {
        tracing::warn!(%ip, "password reset rate limit reached");
        return Err(AppError::RateLimited);
    }
    // Every request counts, found or not, so the limit cannot tell accounts apart either.
    rate_limit::record_failure(&state.pool, &limits, AUTH.login_window_seconds).await?;

    let email = user::normalize_email(&form.email);
    if user::validate_email(&email).is_ok() {
        if let Some(user) = user::find_by_email(&state.pool, &email).await? {
            if user.is_active {
                send_link(&state, &user).await?;
            }
        }
    }
    render_request(&page, true).await
}

async fn send_link(state: &AppState, user: &User) -> AppResult<()> {
    let token = crate::auth::csrf::new_token();
    let now = crate::now();
    sqlx::query(
        "INSERT INTO password_reset_tokens (token_hash, user_id, auth_version, created_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash_token(&token))
    .bind(user.id)
    .bind(user.auth_version)
    .bind(now)
    .bind(now + AUTH.password_reset_timeout_seconds)
    .execute(&state.pool)
    .await?;

    let link = format!(
        "{}{}?token={token}",
        state.env.app_url, AUTH.password_reset_confirm_url
    );
    let body = views::render_bare(
        "email/password_reset.txt",
        context! {
            username => &user.username,
            link => link,
            app_url => &state.env.app_url,
            valid_minutes => AUTH.password_reset_timeout_seconds / 60,
        },
    )
    .map_err(|err| anyhow::anyhow!("failed to render the reset e-mail: {err:#}"))?;
    state.mailer.send_in_background(Email {
        to: user.email.clone(),
        subject: "Reset your password".into(),
        body,
    });
    tracing::info!(user_id = user.id, "password reset link sent");
    Ok(())
}

fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The user a token belongs to, if it is unused, unexpired, and issued since the last
/// password change.
async fn token_user(state: &AppState, token: &str) -> AppResult<Option<User>> {
    let user_id: Option<i64> = sqlx::query_scalar(
        "SELECT t.user_id FROM password_reset_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > $2 \
         AND t.auth_version = u.auth_version AND u.is_active",
    )
    .bind(hash_token(token))
    .bind(crate::now())
    .fetch_optional(&state.pool)
    .await?;
    match user_id {
        Some(id) => Ok(user::find_by_id(&state.pool, id).await?),
        None => Ok(None),
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    new_password1: String,
    #[serde(default)]
    new_password2: String,
}

#[derive(Debug, Default, serde::Serialize)]
struct FormErrors {
    new_password1: Vec<String>,
    new_password2: Vec<String>,
}

/// Opening the e-mailed link stores the token in the session and redirects to the same page
/// without it; the page then shows the new-password form, or explains that the link is dead.
pub async fn show_confirm(
    State(state): State<AppState>,
    page: PageContext,
    Query(query): Query<TokenQuery>,
) -> AppResult<Response> {
    if let Some(token) = query.token {
        page.session.insert(TOKEN_KEY, token).await?;
        return Ok(see_other(AUTH.password_reset_confirm_url));
    }

    let token: Option<String> = page.session.get(TOKEN_KEY).await?;
    let valid = match token {
        Some(token) => token_user(&state, &token).await?.is_some(),
        None => false,
    };
    render_confirm(&page, valid, &FormErrors::default()).await
}

async fn render_confirm(
    page: &PageContext,
    valid: bool,
    errors: &FormErrors,
) -> AppResult<Response> {
    let html = page
        .render(
            "auth/password_reset_confirm.html",
            context! {
                title => AUTH.titles.password_reset_confirm,
                valid => valid,
                errors => Value::from(Serde(errors)),
            },
        )
        .await?;
    Ok(html.into_response())
}

/// Sets the new password, consumes the token, ends every session of the user and sends them
/// to the login page.
pub async fn submit_confirm(
    State(state): State<AppState>,
    page: PageContext,
    Form(form): Form<ConfirmForm>,
) -> AppResult<Response> {
    let token: Option<String> = page.session.get(TOKEN_KEY).await?;
    let user = match &token {
        Some(token) => token_user(&state, token).await?,
        None => None,
    };
    let (Some(token), Some(user)) = (token, user) else {
        return render_confirm(&page, false, &FormErrors::default()).await;
    };

    let mut errors = FormErrors::default();
    if form.new_password1 != form.new_password2 {
        errors
            .new_password2
            .push("The two password fields didn't match.".into());
    } else {
        errors.new_password1 = password::validate(&form.new_password1, &user.username, &user.email);
    }
    if !errors.new_password1.is_empty() || !errors.new_password2.is_empty() {
        return render_confirm(&page, true, &errors).await;
    }

    let hash = state.hasher.hash(&form.new_password1).await?;
    let mut tx = state.pool.begin().await?;
    // Consuming the token and changing the password commit together; of two concurrent posts
    // with one token, only one finds it unused.
    let consumed = sqlx::query(
        "UPDATE password_reset_tokens SET used_at = $2 \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 AND auth_version = $3",
    )
    .bind(hash_token(&token))
    .bind(crate::now())
    .bind(user.auth_version)
    .execute(&mut *tx)
    .await?;
    if consumed.rows_affected() != 1 {
        tx.rollback().await?;
        return render_confirm(&page, false, &FormErrors::default()).await;
    }
    user::set_password_in(&mut tx, user.id, &hash).await?;
    tx.commit().await?;

    delete_user_sessions(&state.pool, user.id, None).await?;
    state.notices.end_user(user.id, None, AUTH.login_url).await;
    page.session.flush().await?;
    tracing::info!(user_id = user.id, "password reset");

    messages::add(
        &page.session,
        Level::Success,
        "Your password has been set. You may go ahead and log in now.",
    )
    .await?;
    Ok(see_other(AUTH.login_url))
}
