//! Running one event. The innermost layer of the app's middleware stack handles requests that
//! carry an [`Event`] extension by calling the event's handler, so every event passes the same
//! session, user and custom layers as a page request.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use tower_sessions::Session;

use crate::app::AppState;
use crate::auth::session::CurrentUser;
use crate::bridge::context::{parse_payload, EventContext, EventError, EventResult};
use crate::bridge::protocol::{changed_fields, Action, ClientFrame, ErrorReply, Reply};
use crate::messages;
use crate::pages::PAGES;
use crate::settings::AUTH;

/// Marks a request as an event of the bridge. Only the bridge can create one, so no header or
/// path a client sends can pass for an event. Layers can test for it:
/// `request.extensions().get::<Event>().is_some()`.
#[derive(Clone)]
pub struct Event {
    pub(crate) frame: ClientFrame,
    pub(crate) socket: Arc<Mutex<SocketState>>,
    pub(crate) page_path: String,
    pub(crate) csrf_token: String,
    /// Set for the periodic session check: no reply is sent and nothing is dispatched.
    pub(crate) check_only: bool,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("event", &self.frame.event)
            .field("page_path", &self.page_path)
            .finish_non_exhaustive()
    }
}

/// The boxed future an event handler returns.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = EventResult> + Send + 'a>>;

/// A page's state on one socket: it dispatches the page's events and shows itself as JSON.
pub trait PageState: Send {
    /// Runs the handler named `handler`; unknown names fail with [`EventError::UnknownEvent`].
    fn dispatch<'a>(
        &'a mut self,
        ctx: &'a mut EventContext,
        handler: &'a str,
        payload: Value,
    ) -> HandlerFuture<'a>;

    /// The state as the browser sees it: a JSON object whose top-level fields are diffed.
    fn to_json(&self) -> Value;
}

/// Creates the default state of a page, for [`crate::pages::PageSpec::new_state`].
pub fn new_state<T: PageState + Default + 'static>() -> Box<dyn PageState> {
    Box::<T>::default()
}

/// Serializes a page state for [`PageState::to_json`].
pub fn state_json<T: Serialize>(state: &T) -> Value {
    serde_json::to_value(state).unwrap_or_else(|err| {
        tracing::error!(error = %err, "page state does not serialize");
        Value::Null
    })
}

/// The per-socket memory between events: the page states and what the browser last received.
#[derive(Default)]
pub struct SocketState {
    states: HashMap<&'static str, Box<dyn PageState>>,
    sent: HashMap<String, Value>,
}

/// The result of an event, carried back through the layers as a response extension.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub reply: Result<Reply, ErrorReply>,
    /// The socket must close after the reply (its session is being replaced).
    pub close: bool,
    /// The session and user after the event, for the socket registry.
    pub session_id: Option<String>,
    pub user_id: Option<i64>,
}

/// Middleware, innermost in the stack: runs event requests and passes the rest on.
pub async fn answer_events(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(event) = request.extensions().get::<Event>().cloned() else {
        return next.run(request).await;
    };
    let outcome = run(state, request, event).await;
    let mut response = axum::http::StatusCode::OK.into_response();
    response.extensions_mut().insert(outcome);
    response
}

async fn run(state: AppState, request: Request, event: Event) -> Outcome {
    let (parts, _body) = request.into_parts();
    let user = parts
        .extensions
        .get::<CurrentUser>()
        .cloned()
        .unwrap_or_default();
    let Some(session) = parts.extensions.get::<Session>().cloned() else {
        tracing::error!("event request without the session layer");
        let error = EventError::Handler(anyhow::anyhow!("the session layer is missing"));
        return failed(&event, &error, None, None);
    };
    let client_ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |ConnectInfo(peer)| peer.ip());

    let mut ctx = EventContext {
        state,
        user,
        session,
        extensions: parts.extensions,
        page_path: event.page_path.clone(),
        client_ip,
        csrf_token: event.csrf_token.clone(),
        actions: Vec::new(),
        messages: Vec::new(),
        close_after_reply: false,
    };
    if event.check_only {
        return Outcome {
            reply: Ok(Reply::default()),
            close: false,
            session_id: session_id(&ctx),
            user_id: user_id(&ctx),
        };
    }

    let id = event.frame.id;
    let mut socket = event.socket.lock().await;
    let Some((state_name, handler)) = event.frame.event.split_once('.') else {
        return failed(
            &event,
            &EventError::UnknownEvent,
            session_id(&ctx),
            user_id(&ctx),
        );
    };
    let payload = event.frame.payload.clone();

    let result = if state_name == "auth" {
        auth_event(&mut ctx, handler, payload).await
    } else {
        match PAGES
            .iter()
            .find(|page| page.name == state_name && page.route == event.page_path)
        {
            Some(page) => {
                let SocketState { states, sent } = &mut *socket;
                let page_state = states.entry(page.name).or_insert_with(|| {
                    // A fresh state has not changed yet: only what handlers change is sent.
                    let fresh = (page.new_state)();
                    sent.insert(page.name.to_owned(), fresh.to_json());
                    fresh
                });
                if handler == "on_load" {
                    // The browser gets the whole state on load, whatever it held before.
                    sent.remove(page.name);
                }
                page_state.dispatch(&mut ctx, handler, payload).await
            }
            None => Err(EventError::UnknownEvent),
        }
    };

    let mut reply = Reply {
        id,
        ..Reply::default()
    };
    match result {
        Ok(()) => {}
        // An anonymous visitor is sent to the login page rather than given an error.
        Err(EventError::LoginRequired(url)) => reply.actions.push(Action::Redirect(url)),
        Err(err) => {
            if let EventError::Handler(cause) = &err {
                tracing::error!(event = %event.frame.event, error = ?cause, "event handler failed");
            }
            return failed(&event, &err, session_id(&ctx), user_id(&ctx));
        }
    }

    // Page states: the fields that changed since the browser last heard of them.
    let SocketState { states, sent } = &mut *socket;
    for (name, page_state) in states.iter() {
        let now = page_state.to_json();
        let previous = sent.get(*name).unwrap_or(&Value::Null);
        let changed = changed_fields(previous, &now);
        if !changed.is_empty() {
            reply
                .delta
                .insert((*name).to_owned(), Value::Object(changed));
        }
        sent.insert((*name).to_owned(), now);
    }

    // The auth snapshot: whole on `auth.refresh`, otherwise what changed.
    let snapshot = serde_json::to_value(ctx.user.snapshot()).unwrap_or_default();
    let previous = sent.get("auth").cloned().unwrap_or(Value::Null);
    let auth_delta = if event.frame.event == "auth.refresh" {
        snapshot.as_object().cloned().unwrap_or_default()
    } else if AUTH.auto_sync || state_name == "auth" {
        changed_fields(&previous, &snapshot)
    } else {
        Map::new()
    };
    if !auth_delta.is_empty() {
        reply.delta.insert("auth".into(), Value::Object(auth_delta));
    }
    sent.insert("auth".into(), snapshot);
    drop(socket);

    // Flash messages: those the handler added and those HTTP requests queued in the session.
    match messages::take(&ctx.session).await {
        Ok(queued) => reply.messages.extend(queued),
        Err(err) => tracing::warn!(error = %err, "failed to read queued messages"),
    }
    reply.messages.append(&mut ctx.messages);
    reply.actions.append(&mut ctx.actions);
    Outcome {
        reply: Ok(reply),
        close: ctx.close_after_reply,
        session_id: session_id(&ctx),
        user_id: user_id(&ctx),
    }
}

/// Built-in events of the `auth` state.
async fn auth_event(ctx: &mut EventContext, handler: &str, payload: Value) -> EventResult {
    #[derive(serde::Deserialize)]
    struct Credentials {
        username: String,
        password: String,
        next: Option<String>,
    }

    match handler {
        "login" => {
            let credentials: Credentials = parse_payload(payload)?;
            let next = credentials.next.as_deref();
            ctx.login(&credentials.username, &credentials.password, next)
                .await
        }
        "logout" => ctx.logout().await,
        "refresh" => Ok(()),
        _ => Err(EventError::UnknownEvent),
    }
}

fn session_id(ctx: &EventContext) -> Option<String> {
    ctx.session.id().map(|id| id.to_string())
}

fn user_id(ctx: &EventContext) -> Option<i64> {
    ctx.user.get().map(|user| user.user.id)
}

fn failed(
    event: &Event,
    err: &EventError,
    session_id: Option<String>,
    user_id: Option<i64>,
) -> Outcome {
    let (code, message) = err.code_and_message();
    Outcome {
        reply: Err(ErrorReply::new(Some(event.frame.id), code, message)),
        close: false,
        session_id,
        user_id,
    }
}
