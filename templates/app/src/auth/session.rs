//! Who is signed in: the session keys, the middleware that resolves the live user from the
//! session row on every request, and signing in and out.

use std::cell::RefCell;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::session::Id;
use tower_sessions::Session;

use crate::app::AppState;
use crate::auth::user::{self, AuthUser, UserSnapshot};
use crate::error::{AppError, AppResult};

/// Session key of the signed-in user's id.
pub const USER_ID_KEY: &str = "_auth_user_id";
/// Session key of the user's auth version at sign-in; a password change bumps the user's.
pub const AUTH_VERSION_KEY: &str = "_auth_version";
/// Session key of the per-session CSRF token of a signed-in user.
pub const CSRF_KEY: &str = "_csrf";
/// Session key of the last activity, in minutes since the Unix epoch.
const TOUCHED_KEY: &str = "_touched";

/// The user the current request acts for: `None` for an anonymous visitor.
///
/// The session layer resolves it from the session row and the user row on every request, so
/// a logout elsewhere, a deactivation or a password change takes effect at once.
#[derive(Clone, Debug, Default)]
pub struct CurrentUser(pub Option<Arc<AuthUser>>);

impl CurrentUser {
    pub fn get(&self) -> Option<&AuthUser> {
        self.0.as_deref()
    }

    pub fn is_authenticated(&self) -> bool {
        self.0.is_some()
    }

    /// Returns the view of the user that templates may render.
    pub fn snapshot(&self) -> UserSnapshot {
        self.get().map(UserSnapshot::from).unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("the user layer is missing").into())
    }
}

/// Middleware: resolves [`CurrentUser`] and keeps the session alive while it is used.
pub async fn resolve_user(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return AppError::Internal(anyhow::anyhow!("the session layer is missing")).into_response();
    };
    let resolving = load_current_user(&state, &session);
    let current = match USER_WITH_SESSION.scope(RefCell::new(None), resolving).await {
        Ok(current) => current,
        Err(err) => return err.into_response(),
    };
    if current.is_authenticated() {
        if let Err(err) = touch(&session).await {
            return AppError::from(err).into_response();
        }
    }
    request.extensions_mut().insert(current);
    next.run(request).await
}

/// Reads the session as it is now and returns the live user, or anonymous when the session
/// names no user, the user is gone or inactive, or their password changed since sign-in. A
/// stale session is flushed so its row is deleted.
pub async fn load_current_user(state: &AppState, session: &Session) -> AppResult<CurrentUser> {
    let Some(user_id) = session.get::<i64>(USER_ID_KEY).await? else {
        return Ok(CurrentUser::default());
    };
    let version = session.get::<i64>(AUTH_VERSION_KEY).await?;

    let user = match take_user_with_session(session.id()) {
        Some(Some(user)) if user.user.id == user_id => Some(user),
        _ => user::load_auth_user(&state.pool, user_id).await?,
    };
    match user {
        Some(user) if user.user.is_active && Some(user.user.auth_version) == version => {
            Ok(CurrentUser(Some(Arc::new(user))))
        }
        _ => {
            tracing::debug!(user_id, "session no longer valid; signing it out");
            session.flush().await?;
            Ok(CurrentUser::default())
        }
    }
}

tokio::task_local! {
    /// Set while [`resolve_user`] loads the session: the session store then loads the user
    /// in the same query as the session row and leaves the user here.
    static USER_WITH_SESSION: RefCell<Option<(Id, Option<AuthUser>)>>;
}

/// Returns whether the session store should load the session's user along with it.
pub fn wants_user_with_session() -> bool {
    USER_WITH_SESSION.try_with(|_| ()).is_ok()
}

/// Keeps the user that the session store loaded with session `id`, for [`load_current_user`].
pub fn keep_user_with_session(id: Id, user: Option<AuthUser>) {
    // Outside `resolve_user` there is no slot, and the user is loaded again when needed.
    let _ = USER_WITH_SESSION.try_with(|slot| *slot.borrow_mut() = Some((id, user)));
}

/// Takes what the session store loaded with the session `id`: `Some(None)` when the session
/// row named no user that still exists, `None` when nothing was loaded with this session.
fn take_user_with_session(id: Option<Id>) -> Option<Option<AuthUser>> {
    let (loaded_id, user) = USER_WITH_SESSION
        .try_with(|slot| slot.borrow_mut().take())
        .ok()
        .flatten()?;
    (Some(loaded_id) == id).then_some(user)
}

/// Records activity at most once a minute, so that the inactivity expiry moves forward
/// without a database write on every request.
async fn touch(session: &Session) -> Result<(), tower_sessions::session::Error> {
    let minute = crate::now() / 60;
    if session.get::<i64>(TOUCHED_KEY).await? != Some(minute) {
        session.insert(TOUCHED_KEY, minute).await?;
    }
    Ok(())
}

/// Signs a user in on this session: a new session id (so a fixated id is worthless), the
/// user's id and auth version, and a fresh CSRF token.
pub async fn login(
    session: &Session,
    user: &user::User,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(USER_ID_KEY, user.id).await?;
    session.insert(AUTH_VERSION_KEY, user.auth_version).await?;
    session
        .insert(CSRF_KEY, crate::auth::csrf::new_token())
        .await?;
    session.insert(TOUCHED_KEY, crate::now() / 60).await?;
    Ok(())
}

/// Signs out: the session row is deleted and the cookie removed.
pub async fn logout(session: &Session) -> Result<(), tower_sessions::session::Error> {
    session.flush().await
}
