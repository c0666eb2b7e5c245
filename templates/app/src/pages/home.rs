//! The built-in home page at `/`. Declare a page with `route = "/"` in `rdauth.toml` to
//! replace it.

use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Serialize;

use crate::error::AppResult;
use crate::pages::PAGES;
use crate::views::PageContext;

/// A link to a declared page.
#[derive(Serialize)]
struct PageLink {
    route: &'static str,
    title: &'static str,
    login_required: bool,
}

/// Greets the visitor and links to the auth pages and the declared pages.
pub async fn show(page: PageContext) -> AppResult<Response> {
    let links: Vec<PageLink> = PAGES
        .iter()
        .map(|spec| PageLink {
            route: spec.route,
            title: spec.title,
            login_required: spec.login_required,
        })
        .collect();
    let context = context! { title => "Home", pages => Value::from(Serde(links)) };
    let html = page.render("home.html", context).await?;
    Ok(html.into_response())
}
