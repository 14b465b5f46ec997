use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cris_core::api::{API_VERSION, Health, HealthStatus};

use crate::AppState;

/// `GET /api/health`: 200 when the database answers, 503 (same body shape) when it does not.
pub async fn get(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let database = match state.store.ping().await {
        Ok(()) => HealthStatus::Ok,
        Err(err) => {
            tracing::error!(error = %err, "health check: database does not answer");
            HealthStatus::Degraded
        }
    };
    let status = if database == HealthStatus::Ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Health {
        status: database,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        api_version: API_VERSION,
        database,
        instance: state.store.instance_id().to_owned(),
    };
    (status, Json(body))
}
