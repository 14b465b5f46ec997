//! `GET /api/v1/cases/{id}/referrals/{referral_id}/letter`: the letter for the service a
//! household was referred to, for anyone of its team. Made only while the household's consent
//! releases that service for that purpose with those records (withdrawn, expired: refused
//! with `no_consent`), and recorded in the audit trail before it is answered, like an export:
//! the family's copy names every letter made.

use axum::Json;
use axum::extract::{Path, Query, State};
use cris_core::Lang;
use cris_core::consent::{Record, release_for};
use cris_core::record::Change;
use cris_core::referral::ReferralLetter;

use crate::auth::{self, AuthUser};
use crate::copy::Words;
use crate::store::audit::Action;
use crate::{AppError, AppState};

const ENDPOINT: &str = "GET /api/v1/cases/{id}/referrals/{referral_id}/letter";

#[derive(serde::Deserialize)]
pub struct LetterQuery {
    /// The service's language; absent: German.
    lang: Option<String>,
}

pub async fn letter(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((case_id, referral_id)): Path<(String, String)>,
    query: Result<Query<LetterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ReferralLetter>, AppError> {
    let Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let lang = super::lang_param(query.lang.as_deref())?.unwrap_or(Lang::De);
    let history = super::household_history(&state, &auth.user, &case_id).await?;
    let (referred, referral) = history
        .iter()
        .find_map(|l| match &l.op.change {
            Change::Refer { referral } if l.op.case_id == case_id && referral.id == referral_id => {
                Some((l, referral))
            }
            _ => None,
        })
        .ok_or(AppError::NoSuchReferral)?;
    // The household's own consents, as the push checks a referral against.
    let records: Vec<Record> = history
        .iter()
        .filter(|l| l.op.case_id == case_id)
        .filter_map(|l| l.op.consent_record())
        .collect();
    let (consents, withdrawals) = Record::split(&records);
    let now = auth::now_ms();
    let released = release_for(
        &consents,
        &withdrawals,
        crate::api::consent::today(now),
        &referral.recipient,
        &referral.purpose,
        &referral.records,
    )
    .map_err(AppError::NotReleased)?;
    // Recorded before anything is answered: the trail has no gaps.
    crate::audit::by_user(
        &state,
        &auth,
        Action::ReferralLetter,
        Some(&case_id),
        None,
        ENDPOINT,
    )
    .await?;
    let served = state.forms.now();
    let form = |id: &str, version: u32| served.get_version(id, version);
    let words = Words {
        form: &form,
        texts: state.consent.texts(),
        agency: state.consent.agency(),
    };
    Ok(Json(crate::letter::make(
        lang, referral, referred, released, &history, &words, &auth.user, now,
    )))
}
