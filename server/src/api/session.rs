//! `POST /api/v1/session` (log in from a device), `DELETE /api/v1/session` (log out) and
//! `GET /api/v1/me`.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use cris_core::api::{LoginRequest, LoginResponse, Me};

use crate::auth::{self, AuthUser};
use crate::store::{NewSession, Store, User};
use crate::{AppError, AppState};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

pub async fn login(
    State(state): State<AppState>,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<LoginResponse>), AppError> {
    let Json(request) = body.map_err(AppError::from_json)?;
    if !cris_core::id::is_uuid(&request.device_id) {
        return Err(AppError::BadRequest(
            "device_id must be the phone's UUID (lower-case, with hyphens)".to_owned(),
        ));
    }
    let found = state.store.credentials(request.login.trim()).await?;
    // An unknown login costs the same hashing as a wrong password.
    let hash = found
        .as_ref()
        .map_or(auth::dummy_hash(), |(_, hash)| hash.as_str());
    let password_ok = verify_off_the_runtime(request.password, hash.to_owned()).await;
    let Some((user, _)) = found.filter(|_| password_ok) else {
        return Err(AppError::Unauthorized("wrong login or password"));
    };
    if user.disabled {
        return Err(AppError::AccountDisabled);
    }
    // A revoked device does not come back under its id, whoever logs in on it.
    if state.store.device_revoked(&request.device_id).await? {
        return Err(AppError::DeviceRevoked);
    }
    let now = auth::now_ms();
    let token = auth::new_token();
    let expires_at_ms = now + auth::SESSION_DAYS * DAY_MS;
    state
        .store
        .add_session(&NewSession {
            token_hash: auth::token_hash(&token),
            user_id: user.id.clone(),
            device_id: request.device_id,
            created_ms: now,
            expires_ms: expires_at_ms,
        })
        .await?;
    tracing::info!(role = user.role.as_str(), "login");
    Ok((
        StatusCode::CREATED,
        Json(LoginResponse {
            token,
            expires_at_ms,
            user: me(user),
            policy: state.phone,
        }),
    ))
}

/// Argon2id takes tens of milliseconds of CPU: not on the async workers.
async fn verify_off_the_runtime(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

pub async fn logout(State(state): State<AppState>, auth: AuthUser) -> Result<StatusCode, AppError> {
    state
        .store
        .revoke_session(&auth.token_hash, auth::now_ms())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get_me(auth: AuthUser) -> Json<Me> {
    Json(me(auth.user))
}

fn me(user: User) -> Me {
    Me {
        login: user.login,
        display_name: user.display_name,
        role: user.role,
        teams: user.teams,
    }
}
