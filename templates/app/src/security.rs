//! Response security headers and the client address used by rate limits.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::Response;

use crate::app::AppState;
use crate::error::AppError;

/// Scripts, styles and connections only from this origin, no inline script, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Adds the security headers every response carries.
pub fn add_headers(response: &mut Response, https: bool) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

/// The address of the client that sent the request.
///
/// `X-Forwarded-For` is believed only when the peer is one of `TRUSTED_PROXIES`; otherwise a
/// client could pick any address and dodge the rate limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl<S> FromRequestParts<S> for ClientIp
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Err(anyhow::anyhow!("the server was started without connection info").into());
        };
        let forwarded_for = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok());
        Ok(ClientIp(client_ip(
            peer.ip(),
            forwarded_for,
            &state.env.trusted_proxies,
        )))
    }
}

/// Walks `X-Forwarded-For` from the right, skipping trusted proxies, and returns the first
/// address a trusted proxy received the request from.
fn client_ip<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[IpAddr],
) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for.flat_map(|value| value.split(',')).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(address) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = address;
        if !trusted.contains(&address) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(value: &str) -> IpAddr {
        value.parse().unwrap()
    }

    #[test]
    fn forwarded_for_ignored_from_untrusted_peer() {
        let found = client_ip(ip("203.0.113.9"), ["198.51.100.1"].into_iter(), &[]);
        assert_eq!(found, ip("203.0.113.9"));
    }

    #[test]
    fn forwarded_for_used_behind_trusted_proxy() {
        let trusted = [ip("127.0.0.1")];
        let found = client_ip(
            ip("127.0.0.1"),
            ["198.51.100.1, 203.0.113.7"].into_iter(),
            &trusted,
        );
        assert_eq!(found, ip("203.0.113.7"));
    }

    #[test]
    fn forwarded_for_skips_chained_trusted_proxies() {
        let trusted = [ip("127.0.0.1"), ip("10.0.0.2")];
        let found = client_ip(
            ip("127.0.0.1"),
            ["203.0.113.7, 10.0.0.2"].into_iter(),
            &trusted,
        );
        assert_eq!(found, ip("203.0.113.7"));
    }

    #[test]
    fn garbage_forwarded_for_falls_back_to_peer() {
        let trusted = [ip("127.0.0.1")];
        let found = client_ip(ip("127.0.0.1"), ["not-an-ip"].into_iter(), &trusted);
        assert_eq!(found, ip("127.0.0.1"));
    }
}
