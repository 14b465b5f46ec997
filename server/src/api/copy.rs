//! `GET /api/v1/cases/{id}/copy?lang=tr`: the family's copy of everything held about their
//! household (GDPR Art. 15 and 20), for supervisors and admins. Making it is recorded in the
//! audit trail before it is answered, and the copy lists itself among the reads.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use cris_core::Lang;
use cris_core::copy::FamilyCopy;
use cris_core::form::FormDef;
use serde::Deserialize;

use crate::auth::{self, AuthUser};
use crate::copy::{Held, Words};
use crate::store::Role;
use crate::store::audit::{Action, AuditFilter};
use crate::{AppError, AppState};

const ENDPOINT: &str = "GET /api/v1/cases/{id}/copy";

#[derive(Deserialize)]
pub struct CopyQuery {
    /// The family's language (German is always beside it); absent: the language of their
    /// latest consent, or German.
    lang: Option<String>,
}

pub async fn get(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(case_id): Path<String>,
    query: Result<Query<CopyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<FamilyCopy>, AppError> {
    if auth.user.role == Role::Worker {
        return Err(AppError::Forbidden(
            "a family's copy is made by supervisors and administrators",
        ));
    }
    let Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let lang = super::lang_param(query.lang.as_deref())?;
    let history = super::household_history(&state, &auth.user, &case_id).await?;
    let store = &state.store;
    let reviews = store
        .case_reviews(&auth.user.id, &case_id)
        .await?
        .ok_or(AppError::NoSuchCase)?;
    // Recorded before anything is answered: the trail has no gaps, and the copy lists itself.
    crate::audit::by_user(
        &state,
        &auth,
        Action::FamilyCopy,
        Some(&case_id),
        None,
        ENDPOINT,
    )
    .await?;
    // Its own trail and that of the households merged into it now (one merged and taken
    // apart again is another family's).
    let mut households = vec![case_id.clone()];
    households.extend(crate::copy::merged_into(&case_id, &history));
    let mut reads = Vec::new();
    for household in &households {
        let filter = AuditFilter {
            case_id: Some(household.clone()),
            ..AuditFilter::default()
        };
        reads.extend(store.audit_entries(&filter).await?);
    }
    reads.sort_by_key(|r| (r.at_ms, r.id));
    let household = store
        .names_of_households(&[case_id.as_str()])
        .await?
        .remove(&case_id)
        .unwrap_or_default();
    let now = auth::now_ms();
    let older = older_forms(&state, &history, now).await?;
    let exports = store.exports_holding(&case_id).await?;
    let users = store.users().await?;
    let lang = lang
        .or_else(|| crate::copy::family_lang(&history))
        .unwrap_or(Lang::De);
    let held = Held {
        case_id: &case_id,
        household,
        reviews,
        exports,
        reads,
        users,
        history,
    };
    let served = state.forms.now();
    let form = |id: &str, version: u32| {
        served
            .get_version(id, version)
            .or_else(|| older.get(&(id.to_owned(), version)).cloned())
    };
    let words = Words {
        form: &form,
        texts: state.consent.texts(),
        agency: state.consent.agency(),
    };
    Ok(Json(crate::copy::make(held, &words, lang, &auth.user, now)))
}

/// The definitions of the form versions in `history` that this server does not serve (served
/// by an earlier one on the same store), as the store keeps them.
async fn older_forms(
    state: &AppState,
    history: &[crate::store::LoggedOp],
    now: i64,
) -> Result<HashMap<(String, u32), Arc<FormDef>>, AppError> {
    let unknown = history.iter().any(|l| {
        l.op.submission().is_some_and(|s| {
            state
                .forms
                .now()
                .get_version(&s.form_id, s.form_version)
                .is_none()
        })
    });
    if !unknown {
        return Ok(HashMap::new());
    }
    Ok(state
        .store
        .remember_forms(&[], now)
        .await?
        .into_iter()
        .filter_map(|(id, version, definition)| {
            let def = FormDef::from_json(&definition).ok()?;
            Some(((id, version), Arc::new(def)))
        })
        .collect())
}
