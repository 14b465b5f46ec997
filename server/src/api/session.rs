//! `POST /api/v1/session` (log in from a device), `DELETE /api/v1/session` (log out) and
//! `GET /api/v1/me`.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::{Extension, Json};
use cris_core::api::{LoginRequest, LoginResponse, Me};

use crate::auth::{self, AuthUser};
use crate::client::ClientAddr;
use crate::logins::Refusal;
use crate::store::audit::{Action, AuditEvent};
use crate::store::{NewSession, User};
use crate::{AppError, AppState};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

pub async fn login(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<LoginResponse>), AppError> {
    let Json(request) = body.map_err(AppError::from_json)?;
    if !cris_core::id::is_uuid(&request.device_id) {
        return Err(AppError::BadRequest(
            "device_id must be the phone's UUID (lower-case, with hyphens)".to_owned(),
        ));
    }
    let login = request.login.trim();
    let address = client.map(|Extension(ClientAddr(ip))| ip);
    let guard = &state.logins;
    let trail = |action: Action, known: bool| AuditEvent {
        at_ms: auth::now_ms(),
        action,
        // What was typed is kept only when it is an account's login (it may be anything).
        login: known.then(|| login.to_owned()),
        device_id: Some(request.device_id.clone()),
        address: address.map(|a| a.to_string()),
        case_id: None,
        export_id: None,
        form: None,
        endpoint: "POST /api/v1/session",
    };
    if let Err(refusal) = guard.may_try(login, address, auth::now_ms()) {
        if let Refusal::Throttled { first: true, .. } = refusal {
            let known = state.store.credentials(login).await?.is_some();
            state
                .store
                .audit(&trail(Action::LoginThrottled, known))
                .await?;
        }
        return Err(refused(refusal));
    }
    let found = state.store.credentials(login).await?;
    // An unknown login costs the same hashing as a wrong password.
    let hash = found
        .as_ref()
        .map_or(auth::dummy_hash(), |(_, hash)| hash.as_str())
        .to_owned();
    let password = request.password;
    let password_ok = guard
        .hash(move || auth::verify_password(&password, &hash))
        .await
        .map_err(refused)?;
    // A disabled account says so only to whoever knows its password.
    let known = found.is_some();
    let Some((user, _)) = found.filter(|_| password_ok) else {
        guard.failed(login, address, auth::now_ms());
        state
            .store
            .audit(&trail(Action::LoginFailed, known))
            .await?;
        return Err(AppError::Unauthorized("wrong login or password"));
    };
    guard.succeeded(login);
    if user.disabled {
        return Err(AppError::AccountDisabled);
    }
    // A revoked device does not come back under its id, whoever logs in on it.
    if state.store.device_revoked(&request.device_id).await? {
        return Err(AppError::DeviceRevoked);
    }
    let mut event = trail(Action::Login, true);
    event.login = Some(user.login.clone());
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
    state.store.audit(&event).await?;
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

fn refused(refusal: Refusal) -> AppError {
    match refusal {
        Refusal::Throttled { retry_after_s, .. } => AppError::TooManyAttempts { retry_after_s },
        Refusal::Busy => AppError::Busy,
    }
}

pub async fn logout(State(state): State<AppState>, auth: AuthUser) -> Result<StatusCode, AppError> {
    crate::audit::by_user(
        &state,
        &auth,
        Action::Logout,
        None,
        None,
        "DELETE /api/v1/session",
    )
    .await?;
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
