//! CSRF protection for HTML forms.
//!
//! A signed-in user's token lives in the session and is replaced at every sign-in. An
//! anonymous visitor gets a signed double-submit cookie instead, so that a visit creates no
//! session row: the cookie holds a random token and its HMAC, and a form must send the same
//! token back. The signature stops a sibling subdomain from planting a token of its choice.
//!
//! The middleware checks every POST, PUT, PATCH and DELETE before the handler runs, taking the
//! token from the `csrf_token` form field or the `X-CSRF-Token` header.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use tower_sessions::cookie::{Cookie, SameSite};
use tower_sessions::Session;

use crate::app::AppState;
use crate::auth::session::{CurrentUser, CSRF_KEY};
use crate::error::AppError;
use crate::settings::{Env, APP_NAME};

/// Form field that carries the token.
pub const FORM_FIELD: &str = "csrf_token";
/// Header that carries the token for scripts.
pub const HEADER: &str = "x-csrf-token";
/// The largest form body the check reads, in bytes.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The token that forms of the current request must send back.
#[derive(Clone, Debug)]
pub struct CsrfToken(String);

impl CsrfToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Returns a new random token: 32 bytes, base64url-encoded.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

fn cookie_name() -> String {
    format!("{APP_NAME}_csrf")
}

fn sign(env: &Env, token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(env.secret_key.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(b"csrf-cookie:");
    mac.update(token.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Reads the anonymous token from the request's cookie when its signature is valid.
fn token_from_cookie(env: &Env, headers: &HeaderMap) -> Option<String> {
    let name = cookie_name();
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)?
        .value()
        .to_owned();
    let (token, signature) = value.split_once('.')?;
    let expected = sign(env, token);
    bool::from(expected.as_bytes().ct_eq(signature.as_bytes())).then(|| token.to_owned())
}

fn set_cookie(env: &Env, token: &str) -> HeaderValue {
    let cookie = Cookie::build((cookie_name(), format!("{token}.{}", sign(env, token))))
        .path("/")
        .http_only(true)
        .secure(env.secure_cookies)
        .same_site(SameSite::Lax)
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("cookie characters are header-safe")
}

/// Middleware: provides [`CsrfToken`] and rejects unsafe requests without a matching token.
/// Events of the bridge skip it: they are not forms, and their socket was opened with a token.
pub async fn protect(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.extensions().get::<crate::bridge::Event>().is_some() {
        return next.run(request).await;
    }

    let authenticated = request
        .extensions()
        .get::<CurrentUser>()
        .is_some_and(CurrentUser::is_authenticated);
    let session = request.extensions().get::<Session>().cloned();

    let mut new_cookie = None;
    let token = if authenticated {
        let Some(session) = session else {
            return AppError::Internal(anyhow::anyhow!("the session layer is missing"))
                .into_response();
        };
        match session_token(&session).await {
            Ok(token) => token,
            Err(err) => return AppError::from(err).into_response(),
        }
    } else {
        match token_from_cookie(&state.env, request.headers()) {
            Some(token) => token,
            None => {
                let token = new_token();
                new_cookie = Some(set_cookie(&state.env, &token));
                token
            }
        }
    };

    let request = if is_unsafe(request.method()) {
        let (request, submitted) = match submitted_token(request).await {
            Ok(found) => found,
            Err(response) => return response,
        };
        let matches = submitted
            .is_some_and(|submitted| bool::from(submitted.as_bytes().ct_eq(token.as_bytes())));
        if !matches {
            tracing::warn!(path = %request.uri().path(), "CSRF token missing or wrong");
            return AppError::Csrf.into_response();
        }
        request
    } else {
        request
    };

    let mut request = request;
    request.extensions_mut().insert(CsrfToken(token));
    let mut response = next.run(request).await;
    if let Some(cookie) = new_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

async fn session_token(session: &Session) -> Result<String, tower_sessions::session::Error> {
    if let Some(token) = session.get::<String>(CSRF_KEY).await? {
        return Ok(token);
    }
    let token = new_token();
    session.insert(CSRF_KEY, &token).await?;
    Ok(token)
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Takes the token from the header or the urlencoded form body, and returns the request
/// with its body restored for the handler.
async fn submitted_token(request: Request) -> Result<(Request, Option<String>), Response> {
    if let Some(value) = request
        .headers()
        .get(HEADER)
        .and_then(|value| value.to_str().ok())
    {
        let token = value.to_owned();
        return Ok((request, Some(token)));
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((request, None));
    }

    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, MAX_FORM_BYTES).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::info!(error = %err, "form body rejected");
            return Err(axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response());
        }
    };
    let token = url::form_urlencoded::parse(&bytes)
        .find(|(key, _)| key == FORM_FIELD)
        .map(|(_, value)| value.into_owned());
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}
