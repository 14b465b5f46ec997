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
    #[error("{0}")]
    BadRequest(String),
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("a push carries at most 500 operations: send the rest in another batch")]
    BatchTooLarge,
    /// A case that is not among the user's teams' cases, or does not exist at all.
    #[error("no such case among your teams' cases")]
    NoSuchCase,
    /// A submission that is not on one of the user's teams' cases, or does not exist at all.
    #[error("no such submission among your teams' cases")]
    NoSuchSubmission,
    /// Households merged into the one to erase that the request did not name.
    #[error(
        "households are merged into this one: {}. Erase them too (name them), or undo their merges first; nothing was erased",
        .0.join(", ")
    )]
    MergedIn(Vec<String>),
    /// A household erased: nothing of it is held but its tombstone.
    #[error("this household was erased: nothing of it is held any more")]
    Erased,
    /// The user's role does not allow this (a worker asking for what supervisors do).
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("the server failed to answer this request")]
    Internal,
    /// Started without `--agency`: no consent texts can be shown or checked.
    #[error("{}", crate::consent::NO_AGENCY)]
    NoAgency,
    /// The household's consents do not release this recipient for this purpose (the ids of
    /// the consent text: never personal data).
    #[error(
        "the household has not released {recipient:?} for the purpose {purpose:?}, or has withdrawn it: nothing may be shared"
    )]
    NoConsent { recipient: String, purpose: String },
    /// A referral whose records the household's consent no longer releases to the service
    /// (the nearest miss: ids of the consent text, never personal data).
    #[error(
        "the household's consent does not release this referral any more ({0}): no letter may be made"
    )]
    NotReleased(cris_core::consent::NotReleased),
    /// What the request would do clashes with what is there (a form version published).
    #[error("{0}")]
    Conflict(String),
    /// A referral that is not among the household's (or not yet sent).
    #[error("no such referral of this household (a referral still on the phone is sent first)")]
    NoSuchReferral,
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("this account is disabled: ask your administrator")]
    AccountDisabled,
    #[error("too many wrong passwords: try again in {} minute(s)", retry_after_s.div_ceil(60))]
    TooManyAttempts { retry_after_s: u64 },
    #[error("the request did not arrive in time: send it again")]
    RequestTimeout,
    /// Every password check is busy and the queue is full.
    #[error("the server is busy checking other logins: try again in a moment")]
    Busy,
    #[error("this device was revoked (reported lost or stolen): it may no longer be used")]
    DeviceRevoked,
    #[error("the database is not available")]
    Database(#[from] sqlx::Error),
    #[error("the database is not available")]
    Store(#[from] crate::StoreError),
}

impl AppError {
    /// A JSON body that could not be read, said in terms a client can act on (serde's
    /// message names the field and the position; it never contains more than the request).
    pub fn from_json(rejection: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as J;
        match rejection {
            J::BytesRejection(b) => AppError::from_body(b),
            J::MissingJsonContentType(_) => {
                AppError::BadRequest("send JSON with Content-Type: application/json".to_owned())
            }
            J::JsonSyntaxError(e) => {
                AppError::BadRequest(format!("malformed JSON: {}", e.body_text()))
            }
            J::JsonDataError(e) => {
                AppError::BadRequest(format!("unexpected JSON: {}", e.body_text()))
            }
            other => AppError::BadRequest(other.body_text()),
        }
    }
}

impl AppError {
    /// A body that could not be read: too large, too slow, or cut off.
    pub fn from_body(rejection: axum::extract::rejection::BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else if timed_out(&rejection) {
            AppError::RequestTimeout
        } else {
            AppError::BadRequest(rejection.body_text())
        }
    }
}

/// Whether reading a body failed because it stopped coming (the body timeout of `api`).
fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(e) = source {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = e.source();
    }
    false
}

impl AppError {
    fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        match self {
            AppError::NotFound
            | AppError::NoSuchCase
            | AppError::NoSuchSubmission
            | AppError::NoSuchReferral => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            AppError::Erased => (StatusCode::GONE, ErrorCode::NotFound),
            AppError::MergedIn(_) | AppError::Conflict(_) => {
                (StatusCode::CONFLICT, ErrorCode::BadRequest)
            }
            AppError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed)
            }
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
            AppError::PayloadTooLarge | AppError::BatchTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge)
            }
            AppError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
            AppError::AccountDisabled => (StatusCode::FORBIDDEN, ErrorCode::AccountDisabled),
            AppError::DeviceRevoked => (StatusCode::UNAUTHORIZED, ErrorCode::DeviceRevoked),
            AppError::TooManyAttempts { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyAttempts)
            }
            AppError::Busy => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable),
            AppError::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, ErrorCode::RequestTimeout),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            AppError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
            AppError::NoConsent { .. } | AppError::NotReleased(_) => {
                (StatusCode::FORBIDDEN, ErrorCode::NoConsent)
            }
            AppError::NoAgency | AppError::Database(_) | AppError::Store(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable)
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match &self {
            AppError::Database(err) => tracing::error!(error = %err, "database error"),
            AppError::Store(err) => tracing::error!(error = %err, "store error"),
            _ => {}
        }
        let body = ApiError {
            code,
            message: self.to_string(),
        };
        let retry_after = match &self {
            AppError::TooManyAttempts { retry_after_s } => Some(*retry_after_s),
            AppError::Busy => Some(1),
            _ => None,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
