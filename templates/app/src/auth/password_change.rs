//! The password change page, for signed-in users. It asks for the current password again.

use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::Form;
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::guards::{self, Access};
use crate::auth::password::{self, Verified};
use crate::auth::redirect::see_other;
use crate::auth::session;
use crate::auth::session_store::delete_user_sessions;
use crate::auth::user;
use crate::error::AppResult;
use crate::messages::{self, Level};
use crate::settings::AUTH;
use crate::views::PageContext;

#[derive(Deserialize)]
pub struct PasswordChangeForm {
    #[serde(default)]
    old_password: String,
    #[serde(default)]
    new_password1: String,
    #[serde(default)]
    new_password2: String,
}

#[derive(Debug, Default, serde::Serialize)]
struct FormErrors {
    old_password: Vec<String>,
    new_password1: Vec<String>,
    new_password2: Vec<String>,
}

/// Shows the password change form.
pub async fn show(page: PageContext, uri: Uri) -> AppResult<Response> {
    if let Err(denied) = guards::check(&page.user, Access::LoginRequired, &uri, None) {
        return Ok(denied.into_response());
    }
    render(&page, &FormErrors::default()).await
}

async fn render(page: &PageContext, errors: &FormErrors) -> AppResult<Response> {
    let html = page
        .render(
            "auth/password_change.html",
            context! { title => AUTH.titles.password_change, errors => Value::from(Serde(errors)) },
        )
        .await?;
    Ok(html.into_response())
}

/// Changes the password. The other sessions of the user end; this one stays signed in.
pub async fn submit(
    State(state): State<AppState>,
    page: PageContext,
    uri: Uri,
    Form(form): Form<PasswordChangeForm>,
) -> AppResult<Response> {
    let signed_in = match guards::signed_in(&page.user, Access::LoginRequired, &uri, None) {
        Ok(user) => user.user.clone(),
        Err(denied) => return Ok(denied.into_response()),
    };

    let mut errors = FormErrors::default();
    let stored = user::password_hash(&state.pool, signed_in.id).await?;
    let verified = state
        .hasher
        .verify(&form.old_password, stored.as_deref())
        .await?;
    if verified == Verified::Invalid {
        errors
            .old_password
            .push("Your old password was entered incorrectly. Please enter it again.".into());
    }
    if form.new_password1 != form.new_password2 {
        errors
            .new_password2
            .push("The two password fields didn't match.".into());
    } else {
        errors.new_password1 =
            password::validate(&form.new_password1, &signed_in.username, &signed_in.email);
    }
    if !errors.old_password.is_empty()
        || !errors.new_password1.is_empty()
        || !errors.new_password2.is_empty()
    {
        return render(&page, &errors).await;
    }

    let hash = state.hasher.hash(&form.new_password1).await?;
    let version = user::set_password(&state.pool, signed_in.id, &hash).await?;

    // This session stays signed in under a new id with the new auth version; every other
    // session of the user is deleted, and would be rejected for its old version anyway.
    let mut updated = signed_in.clone();
    updated.auth_version = version;
    session::login(&page.session, &updated).await?;
    page.session.save().await?;
    delete_user_sessions(&state.pool, signed_in.id, page.session.id()).await?;
    // Every socket of the user is bound to a session that no longer exists, this browser's
    // included. The push makes them reload, which picks up the new session.
    state
        .notices
        .end_user(signed_in.id, None, AUTH.login_url)
        .await;
    tracing::info!(user_id = signed_in.id, "password changed");

    messages::add(&page.session, Level::Success, "Your password was changed.").await?;
    Ok(see_other(AUTH.password_change_url))
}
