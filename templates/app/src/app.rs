//! The application state, the router with its middleware, and the server loop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::auth::password::Hasher;
use crate::auth::session_store::SqlSessionStore;
use crate::bridge::notices::Notices;
use crate::bridge::registry::SocketRegistry;
use crate::bridge::socket::EventStack;
use crate::db::{self, Pool};
use crate::error::AppError;
use crate::mail::Mailer;
use crate::settings::{Env, APP_NAME, AUTH};

/// The largest request body accepted, in bytes. Auth forms are far smaller.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// How often expired sessions, tokens and counters are deleted.
const CLEANUP_INTERVAL: Duration = Duration::from_secs(600);

/// Shared state of every request.
#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: Pool,
    pub env: Arc<Env>,
    pub hasher: Hasher,
    pub mailer: Mailer,
    /// Open event sockets of this process.
    pub sockets: SocketRegistry,
    /// Tells the sockets of a session or a user, on every instance, that it ended.
    pub notices: Notices,
}

impl AppState {
    pub async fn new(pool: Pool, env: Env, mailer: Mailer) -> anyhow::Result<Self> {
        let sockets = SocketRegistry::default();
        let notices = Notices::start(&pool, sockets.clone()).await?;
        Ok(Self {
            pool,
            env: Arc::new(env),
            hasher: Hasher::new().await?,
            mailer,
            sockets,
            notices,
        })
    }
}

/// Builds the router: pages, auth routes and the event socket behind the session, user and
/// CSRF layers. Events of the bridge pass through the same stack.
pub fn router(state: AppState) -> Router {
    router_with(state, add_layers)
}

/// Adds the app's own layers. They run after the session, user and CSRF layers, for page
/// requests and for every event alike: a layer that sets a request extension or returns a
/// redirect does so for events too (the `bridge::Event` extension marks events).
fn add_layers(routes: Router<AppState>) -> Router<AppState> {
    routes
}

/// Builds the router with `layers` applied where [`add_layers`] applies the app's own.
pub fn router_with(
    state: AppState,
    layers: impl FnOnce(Router<AppState>) -> Router<AppState>,
) -> Router {
    let session_layer = SessionManagerLayer::new(SqlSessionStore::new(state.pool.clone()))
        .with_name(format!("{APP_NAME}_session"))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.env.secure_cookies)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            AUTH.session_age_seconds,
        )));

    // Layers run outside-in in the reverse order of the `.layer` calls: the session is loaded
    // first, then the user is resolved from it, then CSRF is checked, then the app's own
    // layers run, and finally events are dispatched.
    let routes = crate::pages::routes()
        .merge(crate::auth::routes().layer(middleware::from_fn(no_store)))
        .merge(crate::bridge::routes())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::bridge::dispatch::answer_events,
        ));
    let stack = layers(routes)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::csrf::protect,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::session::resolve_user,
        ))
        .layer(session_layer)
        .with_state(state.clone());

    // The socket endpoint runs events through `stack`, which it finds as an extension.
    let events = EventStack(stack.clone());
    Router::new()
        .route("/healthz", get(healthz))
        .route("/static/app.css", get(stylesheet))
        .route("/static/bridge.js", get(bridge_script))
        .with_state(state.clone())
        .merge(stack.layer(Extension(events)))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), security_headers))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // Spans name the path only: query strings can hold tokens.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
        }))
}

/// Serves the stylesheet, compiled into the binary like the templates.
async fn stylesheet() -> Response {
    let css = include_str!("../static/app.css");
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], css).into_response()
}

/// Serves the browser client of the event bridge.
async fn bridge_script() -> Response {
    let script = include_str!("../static/bridge.js");
    let content_type = "text/javascript; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], script).into_response()
}

async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    crate::security::add_headers(&mut response, state.env.secure_cookies);
    response
}

/// Auth pages carry secrets (CSRF tokens, form errors) and must not be cached.
async fn no_store(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Liveness and database check for load balancers.
async fn healthz(State(state): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").execute(&state.pool).await {
        Ok(_) => (StatusCode::OK, "ok").into_response(),
        Err(err) => {
            tracing::error!(error = %err, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// Serves the app on `listener` until `shutdown` completes, then finishes the requests in
/// flight.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let pool = state.pool.clone();
    serve_router(router(state), pool, listener, shutdown).await
}

/// Serves a router built by [`router`] or [`router_with`]; expired rows of `pool` are
/// deleted in the background meanwhile.
pub async fn serve_router(
    router: Router,
    pool: Pool,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let cleanup = tokio::spawn(cleanup_loop(pool));
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    cleanup.abort();
    Ok(result?)
}

async fn cleanup_loop(pool: Pool) {
    let mut interval = tokio::time::interval(CLEANUP_INTERVAL);
    loop {
        interval.tick().await;
        match db::delete_expired(&pool).await {
            Ok(0) => {}
            Ok(deleted) => tracing::debug!(deleted, "deleted expired rows"),
            Err(err) => tracing::warn!(error = %err, "failed to delete expired rows"),
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "failed to listen for Ctrl-C");
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => tracing::error!(error = %err, "failed to listen for SIGTERM"),
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
