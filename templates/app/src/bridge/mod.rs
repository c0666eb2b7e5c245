//! The event bridge: browser events travel over a WebSocket, and every event handler sees the
//! live user from the same server-side session that HTTP uses.
//!
//! The browser opens one socket per page (`GET /_event?path=...&csrf=...`). For each event the
//! server builds a GET request of the page from the upgrade request's headers and cookies,
//! marks it with a private [`Event`] extension, and runs it through the app's whole middleware
//! stack: the session is loaded and the user resolved from the database as they are at that
//! moment, and layers the app adds run too. The innermost layer,
//! [`dispatch::answer_events`], calls the handler. Form CSRF checks and body limits do not
//! apply to events; the socket itself was opened with the page's CSRF token from this origin.
//!
//! The wire protocol is in [`protocol`]; the page states and handlers are in the page modules.

pub mod context;
pub mod dispatch;
pub mod handoff;
pub mod notices;
pub mod protocol;
pub mod registry;
pub mod socket;

use axum::routing::get;
use axum::Router;

use crate::app::AppState;

pub use context::{parse_payload, EventContext, EventError, EventResult};
pub use dispatch::{new_state, state_json, Event, HandlerFuture, PageState};

/// Path of the WebSocket endpoint.
pub const SOCKET_PATH: &str = "/_event";

tokio::task_local! {
    /// Set while an event runs through the middleware stack.
    static IN_EVENT: ();
}

/// Returns whether the current task is running an event.
pub fn in_event() -> bool {
    IN_EVENT.try_with(|_| ()).is_ok()
}

/// Returns the routes of the socket endpoint and the login handoff.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(SOCKET_PATH, get(socket::upgrade))
        .route(handoff::HANDOFF_PATH, get(handoff::redeem))
}
