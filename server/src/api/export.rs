//! Exports over HTTP, for funder reporting (supervisors and admins):
//!
//! - `GET /api/v1/export?format=&form=&table=&team=&worker=&from=&to=&lang=&delimiter=`: the
//!   submissions of the user's teams' cases (narrowed as the review queue narrows them) as a
//!   file: an XLSX workbook (`format=xlsx`, the default) with a sheet for every form, or only
//!   for `form`, and for each of its repeat groups; or one table as CSV (`format=csv`, `form`
//!   needed, a repeat group as `table`), separated as the spreadsheets of `lang` read it unless
//!   `delimiter` says otherwise. Headings, choices and sheet names in `lang` (German unless
//!   told); times on the clocks of the server's time zone.
//! - `GET /api/v1/exports`: the exports made by the user's teams' supervisors and admins,
//!   newest first: who, when, with which filter, how many rows.
//!
//! The export itself is [`crate::export::run`], which `cris-server export` runs too: every
//! export is recorded before its file is handed over; one refused records nothing.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use cris_core::api::{ExportList, ExportQuery};

use crate::auth::AuthUser;
use crate::export::{self, ACCEPTED, ExportError, Exporter, Plan};
use crate::{AppError, AppState};

/// The most exports `GET /api/v1/exports` lists.
pub const MAX_EXPORTS_LISTED: i64 = 500;

impl From<ExportError> for AppError {
    fn from(e: ExportError) -> AppError {
        match e {
            ExportError::NotAllowed => {
                AppError::Forbidden("exports are for supervisors and admins")
            }
            ExportError::SensitiveForAdmins => AppError::Forbidden(
                "the fields marked sensitive (health) are exported by admins only: leave sensitive out, or ask an admin",
            ),
            ExportError::Disabled => AppError::AccountDisabled,
            ExportError::Store(e) => AppError::Store(e),
            e if e.is_refusal() => AppError::BadRequest(e.to_string()),
            e => {
                tracing::error!(error = %e, "export failed");
                AppError::Internal
            }
        }
    }
}

pub async fn export(
    State(state): State<AppState>,
    auth: AuthUser,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    // Refused before the query is read: a worker learns nothing of what an export takes.
    export::may_export(&auth.user)?;
    let Query(query) =
        query.map_err(|e| AppError::BadRequest(format!("{}: {ACCEPTED}", e.body_text())))?;
    let plan = Plan::of(query, &state.forms.now(), state.time_zone)?;
    let by = Exporter {
        user: &auth.user,
        device_id: state.store.session_device(&auth.token_hash).await?,
        address: auth.address.map(|a| a.to_string()),
        endpoint: "GET /api/v1/export",
    };
    let exported =
        export::run(&state.store, &state.forms.now(), state.time_zone, &by, plan).await?;
    tracing::info!(
        format = exported.format.as_str(),
        rows = exported.rows,
        cases = exported.cases,
        bytes = exported.bytes.len(),
        "export"
    );
    Ok((
        [
            (header::CONTENT_TYPE, exported.content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", exported.file_name),
            ),
            // The file holds families' data: no cache along the way keeps a copy.
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        exported.bytes,
    )
        .into_response())
}

pub async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<ExportList>, AppError> {
    export::may_export(&auth.user)?;
    Ok(Json(ExportList {
        items: state
            .store
            .exports(&auth.user.id, MAX_EXPORTS_LISTED)
            .await?,
    }))
}
