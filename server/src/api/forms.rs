//! `GET /api/v1/forms` (the list) and `GET /api/v1/forms/{id}` (a whole definition).
//! Form definitions hold no personal data.

use axum::Json;
use axum::extract::{Path, State};
use cris_core::api::FormSummary;
use cris_core::form::FormDef;

use crate::{AppError, AppState};

pub async fn list(State(state): State<AppState>) -> Json<Vec<FormSummary>> {
    Json(state.forms.summaries())
}

pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<FormDef>, AppError> {
    state
        .forms
        .get(&id)
        .map(|form| Json(FormDef::clone(&form)))
        .ok_or(AppError::NotFound)
}
