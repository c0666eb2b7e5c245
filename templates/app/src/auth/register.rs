//! The registration page. It signs the new user in.
//!
//! Registration tells a visitor when a username or e-mail address is already taken: hiding it
//! would make registration fail silently. Login and password reset never reveal accounts.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::login::NextQuery;
use crate::auth::password;
use crate::auth::redirect::{next_or, see_other};
use crate::auth::session;
use crate::auth::user::{self, CreateUserError, NewUser};
use crate::error::AppResult;
use crate::settings::AUTH;
use crate::views::PageContext;

#[derive(Deserialize)]
pub struct RegisterForm {
    /// The username, or the e-mail address in e-mail login mode.
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password1: String,
    #[serde(default)]
    password2: String,
    next: Option<String>,
}

/// Errors of the registration form, by field.
#[derive(Debug, Default, serde::Serialize)]
struct FormErrors {
    username: Vec<String>,
    email: Vec<String>,
    password1: Vec<String>,
    password2: Vec<String>,
}

impl FormErrors {
    fn is_empty(&self) -> bool {
        self.username.is_empty()
            && self.email.is_empty()
            && self.password1.is_empty()
            && self.password2.is_empty()
    }
}

/// Shows the registration form.
pub async fn show(page: PageContext, Query(query): Query<NextQuery>) -> AppResult<Response> {
    let next = query.next.unwrap_or_default();
    render(&page, "", "", &next, &FormErrors::default()).await
}

async fn render(
    page: &PageContext,
    username: &str,
    email: &str,
    next: &str,
    errors: &FormErrors,
) -> AppResult<Response> {
    let html = page
        .render(
            "auth/register.html",
            context! {
                title => AUTH.titles.register,
                username => username,
                email => email,
                next => next,
                errors => Value::from(Serde(errors)),
            },
        )
        .await?;
    Ok(html.into_response())
}

/// Creates the account and signs the new user in.
pub async fn submit(
    State(state): State<AppState>,
    page: PageContext,
    Form(form): Form<RegisterForm>,
) -> AppResult<Response> {
    let next = form.next.as_deref().unwrap_or_default();
    let mut errors = FormErrors::default();

    // In e-mail mode the form has one identity field, `username`, holding the address.
    let (username, email) = if AUTH.email_login {
        let email = user::normalize_email(&form.username);
        (email.clone(), email)
    } else {
        (
            user::normalize_username(&form.username),
            user::normalize_email(&form.email),
        )
    };
    if AUTH.email_login {
        if let Err(message) = user::validate_email(&email) {
            errors.username.push(message);
        }
    } else {
        if let Err(message) = user::validate_username(&username) {
            errors.username.push(message);
        }
        if let Err(message) = user::validate_email(&email) {
            errors.email.push(message);
        }
    }
    if form.password1 != form.password2 {
        errors
            .password2
            .push("The two password fields didn't match.".into());
    } else {
        errors.password1 = password::validate(&form.password1, &username, &email);
    }
    if !errors.is_empty() {
        return render(&page, &form.username, &form.email, next, &errors).await;
    }

    let hash = state.hasher.hash(&form.password1).await?;
    let new_user = NewUser {
        username: &username,
        email: &email,
        password_hash: &hash,
        is_staff: false,
        is_superuser: false,
    };
    let user_id = match user::create(&state.pool, new_user).await {
        Ok(id) => id,
        // In e-mail mode the username is the address, so either index can report it.
        Err(CreateUserError::UsernameTaken | CreateUserError::EmailTaken) if AUTH.email_login => {
            let message = "A user with that email address already exists.";
            errors.username.push(message.into());
            return render(&page, &form.username, &form.email, next, &errors).await;
        }
        Err(CreateUserError::UsernameTaken) => {
            errors
                .username
                .push("A user with that username already exists.".into());
            return render(&page, &form.username, &form.email, next, &errors).await;
        }
        Err(CreateUserError::EmailTaken) => {
            let message = "A user with that email address already exists.";
            errors.email.push(message.into());
            return render(&page, &form.username, &form.email, next, &errors).await;
        }
        Err(CreateUserError::Database(err)) => return Err(err.into()),
    };

    let Some(user) = user::find_by_id(&state.pool, user_id).await? else {
        return Err(anyhow::anyhow!("user {user_id} vanished right after it was created").into());
    };
    session::login(&page.session, &user).await?;
    user::record_login(&state.pool, user.id).await?;
    tracing::info!(user_id, "user registered");

    let target = next_or(Some(next), &state.env.app_url, AUTH.post_login_url);
    Ok(see_other(&target))
}
