//! `GET` and `POST /api/v1/cases/{id}/erasure`: an administrator erases a household on the
//! family's request (GDPR Art. 17) from its page, as `cris-server erase` does on the command
//! line: first what would go, then the erasure itself, with a reason. Households merged into
//! it go too only when the request names each of them.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use cris_core::api::{
    ErasureDone, ErasurePreview, ErasureRequest, MAX_ERASURE_REASON_CHARS, MergedHousehold, Role,
};

use crate::auth::{self, AuthUser};
use crate::store::Erased;
use crate::{AppError, AppState};

/// A reason and a few dozen households' ids, with room to spare.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// Only administrators erase, and only households of their teams that are not erased yet.
async fn erasable(state: &AppState, auth: &AuthUser, case_id: &str) -> Result<(), AppError> {
    if auth.user.role != Role::Admin {
        return Err(AppError::Forbidden("only administrators erase households"));
    }
    if !cris_core::id::is_uuid(case_id) || !state.store.visible(&auth.user.id, case_id).await? {
        return Err(AppError::NoSuchCase);
    }
    if state.store.tombstone(case_id).await?.is_some() {
        return Err(AppError::Erased);
    }
    Ok(())
}

pub async fn preview(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(case_id): Path<String>,
) -> Result<Json<ErasurePreview>, AppError> {
    erasable(&state, &auth, &case_id).await?;
    let held = state
        .store
        .erasure_preview(&case_id)
        .await?
        .ok_or(AppError::NoSuchCase)?;
    let mut ids: Vec<&str> = held.merged.iter().map(String::as_str).collect();
    ids.push(&case_id);
    let mut names = state.store.names_of_households(&ids).await?;
    let merged = held
        .merged
        .iter()
        .map(|id| MergedHousehold {
            case_id: id.clone(),
            household: names.remove(id).unwrap_or_default(),
        })
        .collect();
    Ok(Json(ErasurePreview {
        household: names.remove(&case_id).unwrap_or_default(),
        case_id,
        forms: held.forms,
        consents: held.consents,
        other: held.other,
        merged,
    }))
}

pub async fn erase(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(case_id): Path<String>,
    body: Result<Json<ErasureRequest>, JsonRejection>,
) -> Result<Json<ErasureDone>, AppError> {
    erasable(&state, &auth, &case_id).await?;
    let Json(request) = body.map_err(AppError::from_json)?;
    let reason = request.reason.trim();
    if reason.is_empty() {
        return Err(AppError::BadRequest(
            "say why the household is erased (the request, and who made it)".to_owned(),
        ));
    }
    if reason.chars().count() > MAX_ERASURE_REASON_CHARS {
        return Err(AppError::BadRequest(format!(
            "a reason has at most {MAX_ERASURE_REASON_CHARS} characters"
        )));
    }
    let (store, by, now) = (&state.store, auth.user.login.as_str(), auth::now_ms());
    let mut erased = Vec::new();
    // Once for the households merged into it, once more for itself; a household merged in
    // between is named in the refusal.
    for pass in 0..3 {
        match store.erase(&case_id, by, reason, now).await? {
            Erased::Done(_) => {
                erased.push(case_id.clone());
                break;
            }
            Erased::NotFound => return Err(AppError::NoSuchCase),
            Erased::Already(_) => return Err(AppError::Erased),
            Erased::OthersMergedIn(others) => {
                let unnamed: Vec<String> = others
                    .iter()
                    .filter(|o| !request.with_merged.contains(o))
                    .cloned()
                    .collect();
                if !unnamed.is_empty() || pass == 2 {
                    return Err(AppError::MergedIn(others));
                }
                for other in others {
                    if let Erased::Done(_) = store.erase(&other, by, reason, now).await? {
                        erased.push(other);
                    }
                }
            }
        }
    }
    if !erased.contains(&case_id) {
        return Err(AppError::Internal);
    }
    tracing::info!(
        households = erased.len(),
        "households erased by an administrator"
    );
    Ok(Json(ErasureDone { erased, at_ms: now }))
}
