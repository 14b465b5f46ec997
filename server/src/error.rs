//! The one error type of the HTTP layer. Every error answers with the JSON body of
//! [`cris_core::api::ApiError`]; internal details are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cris_core::api::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no such API endpoint")]
    NotFound,
    #[error("this method is not allowed on this endpoint")]
    MethodNotAllowed,
    #[error("the database is not available")]
    Database(#[from] sqlx::Error),
}

impl AppError {
    fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        match self {
            AppError::NotFound => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            AppError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed)
            }
            AppError::Database(_) => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let AppError::Database(err) = &self {
            tracing::error!(error = %err, "database error");
        }
        let body = ApiError {
            code,
            message: self.to_string(),
        };
        (status, Json(body)).into_response()
    }
}
