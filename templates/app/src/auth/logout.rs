//! Logout: POST only, so that a link or an image on another site cannot sign anyone out.

use axum::extract::State;
use axum::response::Response;

use crate::app::AppState;
use crate::auth::redirect::see_other;
use crate::auth::session;
use crate::error::AppResult;
use crate::settings::AUTH;
use crate::views::PageContext;

/// Deletes the session row, pushes `session_ended` to the session's open sockets, and sends
/// the visitor to the post-logout page.
pub async fn submit(State(state): State<AppState>, page: PageContext) -> AppResult<Response> {
    if let Some(user) = page.user.get() {
        tracing::info!(user_id = user.user.id, "user logged out");
    }
    let session_id = page.session.id();
    session::logout(&page.session).await?;
    if let Some(id) = session_id {
        state
            .notices
            .end_session(&id.to_string(), AUTH.post_logout_url)
            .await;
    }
    Ok(see_other(AUTH.post_logout_url))
}
