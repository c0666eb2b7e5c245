//! The built-in home page at `/`. Declare a page with `route = "/"` in `rdauth.toml` to
//! replace it.

use axum::response::{IntoResponse, Response};
use minijinja::context;

use crate::error::AppResult;
use crate::views::PageContext;

/// Greets the visitor and links to the auth pages.
pub async fn show(page: PageContext) -> AppResult<Response> {
    let html = page
        .render("home.html", context! { title => "Home" })
        .await?;
    Ok(html.into_response())
}
