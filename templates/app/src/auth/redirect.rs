//! Redirect targets taken from the request (`next`) are followed only when they stay on this
//! site; anything else falls back to a configured URL.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use url::Url;

/// Longest `next` value accepted, in bytes.
const MAX_NEXT_LENGTH: usize = 2048;

/// Returns the path, query and fragment of `next` when it provably points to `app_url`'s
/// origin, or `None`.
///
/// The check parses the value as a browser would, relative to the app's URL, and compares
/// origins. It also rejects inputs browsers are lenient with: backslashes (which browsers
/// read as slashes, so `/\evil.example` leaves the site), control characters and whitespace
/// (which browsers strip, so `/\t/evil.example` becomes `//evil.example`), and
/// scheme-relative `//host` forms.
pub fn safe_next(next: &str, app_url: &str) -> Option<String> {
    if next.is_empty() || next.len() > MAX_NEXT_LENGTH {
        return None;
    }
    if next
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    if next.starts_with("//") {
        return None;
    }

    let base = Url::parse(app_url).ok()?;
    let target = base.join(next).ok()?;
    if target.origin() != base.origin() {
        return None;
    }
    if !next.starts_with('/') && !next.starts_with(base.origin().ascii_serialization().as_str()) {
        // Relative forms such as `dashboard` or `../x` resolve against the current page,
        // which the server cannot know: only absolute paths are followed.
        return None;
    }

    let mut path = target.path().to_owned();
    if let Some(query) = target.query() {
        path.push('?');
        path.push_str(query);
    }
    if let Some(fragment) = target.fragment() {
        path.push('#');
        path.push_str(fragment);
    }
    Some(path)
}

/// `next` when it is safe, else `fallback`.
pub fn next_or(next: Option<&str>, app_url: &str, fallback: &str) -> String {
    next.and_then(|next| safe_next(next, app_url))
        .unwrap_or_else(|| fallback.to_owned())
}

/// `login_url?next=<path>`, with the path percent-encoded.
pub fn login_url_with_next(login_url: &str, next: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    let separator = if login_url.contains('?') { '&' } else { '?' };
    format!("{login_url}{separator}next={encoded}")
}

/// Returns a 302 Found redirect, the usual status for "sign in first".
pub fn found(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response()
}

/// Returns a 303 See Other redirect, which turns the browser's next request into a GET after
/// a form was posted.
pub fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "http://127.0.0.1:8000";

    #[test]
    fn local_paths_are_kept() {
        assert_eq!(safe_next("/billing", APP).as_deref(), Some("/billing"));
        assert_eq!(safe_next("/a?b=c#d", APP).as_deref(), Some("/a?b=c#d"));
        assert_eq!(
            safe_next("http://127.0.0.1:8000/x", APP).as_deref(),
            Some("/x")
        );
    }

    #[test]
    fn offsite_and_tricky_values_are_rejected() {
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            " //evil.example",
            "javascript:alert(1)",
            "http://127.0.0.1:8001/",
            "https://127.0.0.1:8000/",
            "http:evil.example",
            "dashboard",
            "",
        ] {
            assert_eq!(safe_next(bad, APP), None, "{bad:?}");
        }
    }

    #[test]
    fn login_url_gets_encoded_next() {
        assert_eq!(
            login_url_with_next("/login", "/billing?x=1&y=2"),
            "/login?next=%2Fbilling%3Fx%3D1%26y%3D2"
        );
    }
}
