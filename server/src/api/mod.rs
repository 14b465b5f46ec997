//! The HTTP API under `/api`. One module per resource.

pub mod consent;
mod copy;
mod dashboard;
mod devices;
mod erasure;
mod export;
mod forms;
mod health;
mod ops;
mod referral;
mod review;
mod session;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::time::Duration;

use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use axum::response::IntoResponse;

use crate::{AppError, AppState, security};

/// The `lang` of a query (`?lang=tr`): none when absent or empty; a code of no language of
/// CRIS Field is a bad request that names the six.
pub(crate) fn lang_param(code: Option<&str>) -> Result<Option<cris_core::Lang>, AppError> {
    match code {
        None | Some("") => Ok(None),
        Some(code) => code
            .parse()
            .map(Some)
            .map_err(|e: cris_core::lang::UnknownLang| AppError::BadRequest(e.to_string())),
    }
}

/// Everything held of household `case_id` (and those merged into it) that `user` may see:
/// 404 for a household of another team or none, 410 for one erased.
pub(crate) async fn household_history(
    state: &AppState,
    user: &crate::store::User,
    case_id: &str,
) -> Result<Vec<crate::store::LoggedOp>, AppError> {
    if !cris_core::id::is_uuid(case_id) {
        return Err(AppError::NoSuchCase);
    }
    let history = state
        .store
        .case_history(&user.id, case_id)
        .await?
        .ok_or(AppError::NoSuchCase)?;
    if state.store.tombstone(case_id).await?.is_some() {
        return Err(AppError::Erased);
    }
    Ok(history)
}

pub fn router(state: &AppState) -> Router<AppState> {
    // Whole requests that send a body: a client that trickles one in is cut off.
    let in_time = || axum::middleware::from_fn(in_time);
    Router::new()
        .route("/health", get(health::get))
        .route(
            "/v1/forms",
            get(forms::list)
                .post(forms::publish)
                .layer((DefaultBodyLimit::max(forms::MAX_FORM_BYTES), in_time())),
        )
        .route("/v1/forms/{id}", get(forms::get))
        .route(
            "/v1/session",
            post(session::login)
                .delete(session::logout)
                // A login is a few hundred bytes; anything near this is not one.
                .layer((DefaultBodyLimit::max(16 * 1024), in_time())),
        )
        .route("/v1/me", get(session::get_me))
        .route(
            "/v1/ops",
            get(ops::pull).post(ops::push).layer((
                in_time(),
                DefaultBodyLimit::max(ops::MAX_PUSH_BYTES),
                // Phones send their batches gzipped; the limit counts the unpacked bytes.
                RequestDecompressionLayer::new(),
            )),
        )
        .route("/v1/cases/{id}/history", get(ops::history))
        .route("/v1/cases/{id}/copy", get(copy::get))
        .route(
            "/v1/cases/{id}/referrals/{referral_id}/letter",
            get(referral::letter),
        )
        .route(
            "/v1/cases/{id}/erasure",
            get(erasure::preview)
                .post(erasure::erase)
                .layer((DefaultBodyLimit::max(erasure::MAX_REQUEST_BYTES), in_time())),
        )
        .route("/v1/review", get(review::queue))
        .route("/v1/review/workers", get(review::workers))
        .route(
            "/v1/review/{id}",
            get(review::get)
                .post(review::decide)
                .layer((DefaultBodyLimit::max(review::MAX_DECISION_BYTES), in_time())),
        )
        .route("/v1/inbox", get(review::inbox))
        .route("/v1/dashboard", get(dashboard::get))
        .route("/v1/export", get(export::export))
        .route("/v1/exports", get(export::list))
        .route("/v1/consent-texts", get(consent::texts))
        .route("/v1/cases/{id}/consent", get(consent::case))
        .route("/v1/cases/{id}/may-share", get(consent::may_share))
        .route("/v1/devices/{id}/revoke", post(devices::revoke))
        .route(
            "/v1/csp-report",
            post(security::report)
                .layer((DefaultBodyLimit::max(security::MAX_REPORT_BYTES), in_time())),
        )
        .fallback(|| async { AppError::NotFound })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        // Pull pages and histories run to megabytes; phones on slow networks get them gzipped.
        .layer(CompressionLayer::new().gzip(true))
        // Answers name families: no browser or proxy may keep them on disk (a lost phone's
        // HTTP cache would show them in clear).
        .layer(axum::middleware::map_response(no_store))
        // A body that stops coming for this long is given up on.
        .layer(RequestBodyTimeoutLayer::new(state.limits.body_idle))
}

/// How long a request that sends a body may take to be answered: a full push of 8 MB on a
/// slow 2G uplink (25 kB/s) takes under six minutes.
const BODY_TIME: Duration = Duration::from_secs(6 * 60);

async fn in_time(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match tokio::time::timeout(BODY_TIME, next.run(request)).await {
        Ok(response) => response,
        Err(_) => AppError::RequestTimeout.into_response(),
    }
}

async fn no_store(mut response: axum::response::Response) -> axum::response::Response {
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}
