//! Page guards: who may open a page, and what an anonymous or unauthorized visitor gets.

use axum::http::Uri;
use axum::response::{IntoResponse, Response};

use crate::auth::redirect::{found, login_url_with_next};
use crate::auth::session::CurrentUser;
use crate::auth::user::AuthUser;
use crate::error::AppError;
use crate::permissions::Permission;
use crate::settings::AUTH;

/// The access rule of a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Public,
    LoginRequired,
    /// Signed in and holding the permission; superusers hold every permission.
    Permission(Permission),
}

/// Why a guard turned a visitor away. As a response, an anonymous visitor is redirected (302)
/// to the login URL with `next` set to the page; a signed-in user without the permission gets
/// 403.
#[derive(Debug)]
pub enum Denied {
    /// Redirect target: the login URL with `next`.
    LoginRequired(String),
    PermissionDenied,
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::LoginRequired(target) => found(&target),
            Denied::PermissionDenied => AppError::Forbidden.into_response(),
        }
    }
}

/// Checks access to the page at `uri`; `login_url` replaces the configured login URL. Returns
/// the signed-in user, if any.
pub fn check<'a>(
    user: &'a CurrentUser,
    access: Access,
    uri: &Uri,
    login_url: Option<&str>,
) -> Result<Option<&'a AuthUser>, Denied> {
    if access == Access::Public {
        return Ok(user.get());
    }
    signed_in(user, access, uri, login_url).map(Some)
}

/// Like [`check`], for handlers that need a signed-in user: an anonymous visitor is turned
/// away even when `access` is [`Access::Public`].
pub fn signed_in<'a>(
    user: &'a CurrentUser,
    access: Access,
    uri: &Uri,
    login_url: Option<&str>,
) -> Result<&'a AuthUser, Denied> {
    let Some(signed_in) = user.get() else {
        let next = uri.path_and_query().map_or("/", |path| path.as_str());
        let target = login_url_with_next(login_url.unwrap_or(AUTH.login_url), next);
        return Err(Denied::LoginRequired(target));
    };
    if let Access::Permission(permission) = access {
        if !signed_in.has_perm(permission) {
            return Err(Denied::PermissionDenied);
        }
    }
    Ok(signed_in)
}
