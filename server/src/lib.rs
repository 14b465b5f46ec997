//! The CRIS Field server: serves the app and its API.
//!
//! [`app`] builds the router apart from [`serve`], which runs it on a listener until a
//! shutdown signal, so tests can serve the real thing on port 0 and stop it cleanly.

pub mod api;
pub mod assets;
mod error;
pub mod store;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::http::Request;
use tokio::net::TcpListener;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use assets::Assets;
pub use error::AppError;
pub use store::{Store, StoreError};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub assets: Arc<Assets>,
}

/// The whole HTTP surface: `/api/...` and the app's files.
pub fn app(state: AppState) -> Router {
    Router::new()
        .nest("/api", api::router())
        .fallback(assets::serve)
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
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
