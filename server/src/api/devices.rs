//! `POST /api/v1/devices/{id}/revoke`: an administrator revokes a lost or stolen phone from
//! the overview (as `cris-server device revoke` does on the command line), and the store
//! records who did.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use cris_core::api::Role;

use crate::auth::{self, AuthUser};
use crate::{AppError, AppState};

pub async fn revoke(
    State(state): State<AppState>,
    auth: AuthUser,
    device_id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, AppError> {
    if auth.user.role != Role::Admin {
        return Err(AppError::Forbidden("only administrators revoke devices"));
    }
    let Path(device_id) = device_id.map_err(|e| AppError::BadRequest(e.body_text()))?;
    if !cris_core::id::is_uuid(&device_id) {
        return Err(AppError::BadRequest(
            "a device id is the phone's UUID (lower-case, with hyphens)".to_owned(),
        ));
    }
    let known = state
        .store
        .revoke_device(&device_id, auth::now_ms(), Some(&auth.user.login))
        .await?;
    if !known {
        return Err(AppError::NotFound);
    }
    tracing::info!(device = %device_id, "device revoked by an administrator");
    Ok(StatusCode::NO_CONTENT)
}
