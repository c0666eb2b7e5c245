//! Logout: POST only, so that a link or an image on another site cannot sign anyone out.

use axum::response::Response;

use crate::auth::redirect::see_other;
use crate::auth::session;
use crate::error::AppResult;
use crate::settings::AUTH;
use crate::views::PageContext;

/// Deletes the session row and sends the visitor to the post-logout page.
pub async fn submit(page: PageContext) -> AppResult<Response> {
    if let Some(user) = page.user.get() {
        tracing::info!(user_id = user.user.id, "user logged out");
    }
    session::logout(&page.session).await?;
    Ok(see_other(AUTH.post_logout_url))
}
