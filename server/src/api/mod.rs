//! The HTTP API under `/api`. One module per resource.

mod forms;
mod health;
mod session;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::get))
        .route("/v1/forms", get(forms::list))
        .route("/v1/forms/{id}", get(forms::get))
        .route(
            "/v1/session",
            post(session::login)
                .delete(session::logout)
                // A login is a few hundred bytes; anything near this is not one.
                .layer(DefaultBodyLimit::max(16 * 1024)),
        )
        .route("/v1/me", get(session::get_me))
        .fallback(|| async { AppError::NotFound })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
}
