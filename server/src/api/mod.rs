//! The HTTP API under `/api`. One module per resource.

mod forms;
mod health;

use axum::Router;
use axum::routing::get;

use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::get))
        .route("/v1/forms", get(forms::list))
        .route("/v1/forms/{id}", get(forms::get))
        .fallback(|| async { AppError::NotFound })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
}
