//! The CRIS Field server: serves the app and its API.
//!
//! [`app`] builds the router apart from [`serve`], which runs it on a listener until a
//! shutdown signal, so tests can serve the real thing on port 0 and stop it cleanly.

pub mod api;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod client;
pub mod consent;
pub mod copy;
mod error;
pub mod export;
pub mod forms;
pub mod letter;
pub mod listen;
pub mod logins;
pub mod security;
pub mod store;
pub mod time_zone;
pub mod tls;
pub mod xlsform;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::Request;
use tokio::net::TcpListener;

pub use client::{Cidr, ClientAddr};
pub use listen::{Limits, redirect_to_https};
pub use tls::Tls;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use assets::Assets;
pub use consent::{ConsentConfig, ConsentError};
pub use error::AppError;
pub use forms::{FormCatalog, FormsError};
pub use store::{CaseStore, StoreError};
pub use time_zone::TimeZone;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: CaseStore,
    pub assets: Arc<Assets>,
    /// The forms served now (an admin's publishing replaces them).
    pub forms: forms::Served,
    /// The consent texts and the agency's details that fill them.
    pub consent: Arc<ConsentConfig>,
    /// The agency's rules for its phones (lock, offline limit).
    pub phone: cris_core::api::PhonePolicy,
    /// Failed logins, and the threads that check passwords.
    pub logins: Arc<logins::LoginGuard>,
    /// What browsers reported the Content-Security-Policy blocked.
    pub csp_reports: Arc<security::CspReports>,
    /// Connections: how many, how long.
    pub limits: Limits,
    /// Reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Arc<[Cidr]>,
    /// The agency's time zone: exports show times on its clocks.
    pub time_zone: TimeZone,
}

impl AppState {
    /// A state with the default limits, no trusted proxy, no failed login yet and the
    /// default time zone (Europe/Berlin).
    pub fn new(
        store: CaseStore,
        assets: impl Into<Arc<Assets>>,
        forms: impl Into<Arc<FormCatalog>>,
        consent: impl Into<Arc<ConsentConfig>>,
        phone: cris_core::api::PhonePolicy,
    ) -> Self {
        AppState {
            store,
            assets: assets.into(),
            forms: forms::Served::new(forms.into()),
            consent: consent.into(),
            phone,
            logins: Arc::default(),
            csp_reports: Arc::default(),
            limits: Limits::default(),
            trusted_proxies: Arc::from([]),
            time_zone: TimeZone::default(),
        }
    }
}

/// The whole HTTP surface: `/api/...` and the app's files.
pub fn app(state: AppState) -> Router {
    Router::new()
        .nest("/api", api::router(&state))
        .fallback(assets::serve)
        .layer(axum::middleware::from_fn(security::headers))
        .layer(
            // Method and path only: query strings and bodies may carry personal data.
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// Serves [`app`] on `listener` until `shutdown` completes, then lets requests in flight
/// finish before returning.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_over(listener, None, state, shutdown).await
}

/// [`serve`], over TLS when `tls` is given.
pub async fn serve_over(
    listener: TcpListener,
    tls: Option<Arc<Tls>>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (limits, trusted) = (state.limits, state.trusted_proxies.clone());
    listen::run(listener, tls, app(state), limits, trusted, shutdown).await
}

/// A server running on a background task, stopped with [`ServerHandle::shutdown`].
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

/// Serves [`app`] on `listener` in the background (tests, embedding).
pub fn spawn(listener: TcpListener, state: AppState) -> std::io::Result<ServerHandle> {
    spawn_over(listener, None, state)
}

/// [`spawn`], over TLS when `tls` is given.
pub fn spawn_over(
    listener: TcpListener,
    tls: Option<Arc<Tls>>,
    state: AppState,
) -> std::io::Result<ServerHandle> {
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_over(listener, tls, state, async move {
        let _ = stopped.await;
    }));
    Ok(ServerHandle { addr, stop, task })
}

impl ServerHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets requests in flight finish, and returns how serving ended.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(());
        self.task.await.map_err(std::io::Error::other)?
    }
}
