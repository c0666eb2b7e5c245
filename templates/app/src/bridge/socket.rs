//! The WebSocket endpoint: the upgrade checks, and the loop that reads events, runs each
//! through the app's middleware stack, and writes replies and pushes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::{mpsc, Mutex};
use tower::ServiceExt;

use crate::app::AppState;
use crate::auth::csrf::CsrfToken;
use crate::auth::redirect::{login_url_with_next, safe_next};
use crate::auth::session::CurrentUser;
use crate::bridge::dispatch::{Event, Outcome, SocketState};
use crate::bridge::protocol::{self, to_text, ClientFrame, ErrorCode, ErrorReply, MAX_FRAME_BYTES};
use crate::bridge::registry::Outgoing;
use crate::settings::AUTH;

/// How often an idle socket is pinged, so that proxies keep it open; the session is re-checked
/// at the same pace.
const PING_INTERVAL: Duration = Duration::from_secs(30);
/// Open sockets allowed per session (or per anonymous browser).
pub const MAX_SOCKETS_PER_SESSION: usize = 16;

/// The app's router with its middleware, through which every event passes.
#[derive(Clone)]
pub struct EventStack(pub Router);

#[derive(Deserialize)]
pub struct SocketQuery {
    path: String,
    csrf: String,
}

/// `GET /_event?path=<page path>&csrf=<token>`: upgrades to a WebSocket after checking the
/// `Origin` header and the CSRF token; refuses with 403 before any event runs otherwise.
#[allow(clippy::too_many_arguments)]
pub async fn upgrade(
    State(state): State<AppState>,
    Extension(stack): Extension<EventStack>,
    Extension(csrf_token): Extension<CsrfToken>,
    Extension(session): Extension<tower_sessions::Session>,
    Extension(user): Extension<CurrentUser>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<SocketQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok());
    let Some(origin) = origin.filter(|origin| state.env.allows_origin(origin)) else {
        tracing::warn!(?origin, %peer, "WebSocket upgrade from a foreign or missing origin");
        return StatusCode::FORBIDDEN.into_response();
    };
    if !bool::from(query.csrf.as_bytes().ct_eq(csrf_token.as_str().as_bytes())) {
        tracing::warn!(%origin, %peer, "WebSocket upgrade with a wrong CSRF token");
        return StatusCode::FORBIDDEN.into_response();
    }
    let Some(page_path) = safe_next(&query.path, &state.env.app_url) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let page_path = page_path.split(['?', '#']).next().unwrap_or("/").to_owned();

    let session_key = match session.id() {
        Some(id) => id.to_string(),
        None => anonymous_key(csrf_token.as_str()),
    };
    let user_id = user.get().map(|user| user.user.id);
    let (sender, receiver) = mpsc::unbounded_channel();
    let Some(socket_id) = state.sockets.register(
        session_key,
        user_id,
        sender.clone(),
        MAX_SOCKETS_PER_SESSION,
    ) else {
        tracing::warn!(%peer, "too many open sockets for one session");
        return StatusCode::TOO_MANY_REQUESTS.into_response();
    };

    let connection = Connection {
        state: state.clone(),
        stack,
        headers,
        peer,
        page_path,
        csrf_token: csrf_token.as_str().to_owned(),
        socket_id,
        sender,
        socket_state: Arc::new(Mutex::new(SocketState::default())),
        user_id,
    };
    let registry = state.sockets.clone();
    upgrade
        // The WebSocket layer reads frames up to 1 MiB, and `on_text` closes with 1009 above
        // 64 KiB. A larger frame fails in the WebSocket layer and gets the same close code.
        .max_message_size(16 * MAX_FRAME_BYTES)
        .on_failed_upgrade(move |err| {
            tracing::info!(error = %err, "WebSocket upgrade failed");
            registry.unregister(socket_id);
        })
        .on_upgrade(move |socket| connection.run(socket, receiver))
}

/// Returns the registry key of a visitor without a session: a hash of their CSRF token.
fn anonymous_key(csrf_token: &str) -> String {
    let digest = Sha256::digest(csrf_token.as_bytes());
    format!(
        "anonymous:{}",
        digest
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>()
    )
}

/// One open socket and what its events need.
struct Connection {
    state: AppState,
    stack: EventStack,
    /// The upgrade request's headers, cookies included; every event request carries them.
    headers: HeaderMap,
    peer: SocketAddr,
    page_path: String,
    csrf_token: String,
    socket_id: u64,
    sender: mpsc::UnboundedSender<Outgoing>,
    socket_state: Arc<Mutex<SocketState>>,
    user_id: Option<i64>,
}

impl Connection {
    async fn run(mut self, socket: WebSocket, mut outgoing: mpsc::UnboundedReceiver<Outgoing>) {
        let (mut sink, mut stream) = socket.split();

        // Writer: replies and pushes leave in the order they were queued.
        let writer = tokio::spawn(async move {
            while let Some(frame) = outgoing.recv().await {
                let message = match frame {
                    Outgoing::Text(text) => Message::Text(text.into()),
                    Outgoing::Ping => Message::Ping(Vec::new().into()),
                    Outgoing::Close(code, reason) => Message::Close(Some(CloseFrame {
                        code,
                        reason: reason.into(),
                    })),
                };
                let closing = matches!(message, Message::Close(_));
                if sink.send(message).await.is_err() || closing {
                    break;
                }
            }
        });

        // Reader: events run one at a time, in the order they arrive.
        let mut ping = tokio::time::interval(PING_INTERVAL);
        ping.tick().await;
        // A socket may send `EVENTS_PER_SECOND` events a second on average, twice that in a
        // burst.
        let rate = self.state.env.events_per_second;
        let mut bucket = TokenBucket::new(rate, 2.0 * rate);
        loop {
            tokio::select! {
                _ = ping.tick() => {
                    let _ = self.sender.send(Outgoing::Ping);
                    self.check_session().await;
                }
                message = stream.next() => {
                    let keep_open = match message {
                        Some(Ok(Message::Text(text))) => self.on_text(text.as_str(), &mut bucket).await,
                        Some(Ok(Message::Binary(_))) => {
                            self.send_error(None, ErrorCode::BadFrame, "frames must be JSON text");
                            true
                        }
                        Some(Ok(Message::Close(_))) => {
                            // Completes the closing handshake the browser started.
                            let _ = self.sender.send(Outgoing::Close(1000, ""));
                            false
                        }
                        None => false,
                        Some(Ok(_)) => true,
                        Some(Err(err)) => {
                            self.on_read_error(err);
                            false
                        }
                    };
                    if !keep_open {
                        break;
                    }
                }
            }
        }

        self.state.sockets.unregister(self.socket_id);
        drop(self.sender);
        let _ = writer.await;
    }

    /// Handles one text frame; returns whether the socket stays open.
    async fn on_text(&mut self, text: &str, bucket: &mut TokenBucket) -> bool {
        if text.len() > MAX_FRAME_BYTES {
            let _ = self.sender.send(Outgoing::Close(1009, "frame too large"));
            return false;
        }
        let frame = match protocol::parse_frame(text) {
            Ok(frame) => frame,
            Err(error) => {
                let _ = self.sender.send(Outgoing::Text(to_text(&error)));
                return true;
            }
        };
        if !bucket.take() {
            self.send_error(
                Some(frame.id),
                ErrorCode::RateLimited,
                "too many events; slow down",
            );
            return true;
        }

        let outcome = self.dispatch(frame.clone(), false).await;
        let text = match &outcome.reply {
            Ok(reply) => to_text(reply),
            Err(error) => to_text(error),
        };
        let _ = self.sender.send(Outgoing::Text(text));
        if outcome.close {
            let _ = self.sender.send(Outgoing::Close(1000, "session replaced"));
            return false;
        }
        true
    }

    fn on_read_error(&self, err: axum::Error) {
        let too_large = err
            .into_inner()
            .downcast::<tungstenite::Error>()
            .is_ok_and(|err| matches!(*err, tungstenite::Error::Capacity(_)));
        if too_large {
            let _ = self.sender.send(Outgoing::Close(1009, "frame too large"));
        }
    }

    fn send_error(&self, id: Option<u64>, code: ErrorCode, message: &str) {
        let _ = self
            .sender
            .send(Outgoing::Text(to_text(&ErrorReply::new(id, code, message))));
    }

    /// Runs an event through the app's middleware stack, as a GET of the page with the
    /// upgrade request's headers and a private [`Event`] extension.
    async fn dispatch(&mut self, frame: ClientFrame, check_only: bool) -> Outcome {
        let id = frame.id;
        let event = Event {
            frame,
            socket: self.socket_state.clone(),
            page_path: self.page_path.clone(),
            csrf_token: self.csrf_token.clone(),
            check_only,
        };
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(&self.page_path)
            .body(Body::empty())
            .expect("a checked page path is a valid URI");
        *request.headers_mut() = self.headers.clone();
        request.extensions_mut().insert(ConnectInfo(self.peer));
        request.extensions_mut().insert(event);

        // Inside this scope the session store can tell that it runs for an event, so it never
        // creates a session row.
        let call = self.stack.0.clone().oneshot(request);
        let response = match super::IN_EVENT.scope((), call).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let Some(outcome) = response.extensions().get::<Outcome>().cloned() else {
            // A layer returned a response without calling the event layer. A redirect becomes a
            // redirect action, and any other response fails the event.
            return redirect_outcome(id, &response);
        };

        self.user_id = outcome.user_id;
        let session_key = outcome
            .session_id
            .clone()
            .unwrap_or_else(|| anonymous_key(&self.csrf_token));
        self.state
            .sockets
            .rebind(self.socket_id, session_key, outcome.user_id);
        outcome
    }

    /// Re-resolves the user between events and pushes `session_ended` when the session is
    /// over, for example after an account was deactivated from the command line.
    async fn check_session(&mut self) {
        let Some(previous) = self.user_id else {
            return;
        };
        let frame = ClientFrame {
            id: 0,
            event: "auth.refresh".into(),
            payload: serde_json::Value::Null,
        };
        let outcome = self.dispatch(frame, true).await;
        if outcome.user_id != Some(previous) {
            let redirect = login_url_with_next(AUTH.login_url, &self.page_path);
            let push = protocol::Push::session_ended(redirect);
            let _ = self.sender.send(Outgoing::Text(to_text(&push)));
        }
    }
}

fn redirect_outcome(id: u64, response: &Response) -> Outcome {
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok());
    let reply = match location {
        Some(location) if response.status().is_redirection() => {
            let mut reply = protocol::Reply {
                id,
                ..Default::default()
            };
            reply
                .actions
                .push(protocol::Action::Redirect(location.to_owned()));
            Ok(reply)
        }
        _ => {
            tracing::warn!(status = %response.status(), "a layer returned a non-redirect response to an event");
            Err(ErrorReply::new(
                Some(id),
                ErrorCode::HandlerError,
                "The event was refused.",
            ))
        }
    };
    Outcome {
        reply,
        close: false,
        session_id: None,
        user_id: None,
    }
}

/// A token bucket: `rate` tokens a second, at most `burst` saved up.
struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    fn new(rate: f64, burst: f64) -> Self {
        Self {
            rate,
            burst,
            tokens: burst,
            updated: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.updated).as_secs_f64();
        self.updated = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
