//! `GET /api/v1/forms` (the list) and `GET /api/v1/forms/{id}` (a whole definition), and
//! `POST /api/v1/forms`: an admin publishes a form (JSON, or an XLSForm `.xlsx`), served from
//! then on without a restart. Form definitions hold no personal data.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use cris_core::api::{FormSummary, Role};
use cris_core::form::FormDef;

use crate::auth::{self, AuthUser};
use crate::{AppError, AppState, StoreError};

/// The largest form accepted: a 300-question XLSForm is about 33 KB.
pub const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The forms served, with what another server on the same store published meanwhile (phones
/// ask at every sync).
pub async fn list(State(state): State<AppState>) -> Json<Vec<FormSummary>> {
    state.forms.catch_up(&state.store).await;
    Json(state.forms.now().summaries())
}

pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<FormDef>, AppError> {
    state.forms.catch_up(&state.store).await;
    state
        .forms
        .now()
        .get(&id)
        .map(|form| Json(FormDef::clone(&form)))
        .ok_or(AppError::NotFound)
}

/// `POST /api/v1/forms`: 201 with the form's summary when published, 200 when that very
/// definition is served already; a version that is not above the one served, or a form
/// changed under a version the store holds, is refused (409).
pub async fn publish(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<FormSummary>), AppError> {
    if auth.user.role != Role::Admin {
        return Err(AppError::Forbidden("forms are published by administrators"));
    }
    let body = body.map_err(AppError::from_body)?;
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let form = if kind.starts_with("application/json") {
        let text = std::str::from_utf8(&body)
            .map_err(|_| AppError::BadRequest("the form is not UTF-8 text".to_owned()))?;
        FormDef::from_json(text).map_err(|e| AppError::BadRequest(e.to_string()))?
    } else if kind.starts_with(XLSX) {
        crate::xlsform::read(&body).map_err(|e| AppError::BadRequest(e.to_string()))?
    } else {
        return Err(AppError::BadRequest(format!(
            "send the form as JSON (Content-Type: application/json) or as an XLSForm (Content-Type: {XLSX})"
        )));
    };
    let summary = FormSummary {
        id: form.id.clone(),
        version: form.version,
        title: form.title.clone(),
    };
    let definition = serde_json::to_string(&form).map_err(|_| AppError::Internal)?;
    // The very definition served already: nothing to do (a retried upload).
    let served = state.forms.now().get(&form.id);
    if let Some(served) = &served
        && served.version == form.version
        && serde_json::to_string(&**served).ok().as_deref() == Some(definition.as_str())
    {
        return Ok((StatusCode::OK, Json(summary)));
    }
    if let Some(served) = &served
        && form.version <= served.version
    {
        return Err(AppError::Conflict(format!(
            "version {} of the form {:?} is served now: publish it as version {} or higher",
            served.version,
            form.id,
            served.version + 1
        )));
    }
    let now = auth::now_ms();
    // Kept in the store first (refused if that version was held with another definition),
    // so that every server started later serves it too.
    match state
        .store
        .remember_forms(&[(form.id.clone(), form.version, definition)], now)
        .await
    {
        Ok(_) => {}
        Err(StoreError::FormRedefined { id, version }) => {
            return Err(AppError::Conflict(format!(
                "version {version} of the form {id:?} was published before with other questions: raise the version"
            )));
        }
        Err(e) => return Err(e.into()),
    }
    crate::audit::form_published(&state, &auth, &form.id, form.version).await?;
    let version = form.version;
    state
        .forms
        .publish(form, |served| match served.get(&summary.id) {
            Some(now) if now.version >= version => Err(AppError::Conflict(format!(
                "version {} of the form {:?} was published meanwhile",
                now.version, summary.id
            ))),
            _ => Ok(()),
        })?;
    tracing::info!(form = %summary.id, version, "form published");
    Ok((StatusCode::CREATED, Json(summary)))
}
