//! Consents over HTTP: `GET /api/v1/consent-texts` (what a phone needs to take consents
//! offline), `GET /api/v1/cases/{id}/consent` (a household's consents and withdrawals and what
//! they grant today) and `GET /api/v1/cases/{id}/may-share?recipient=R&purpose=P` (whether
//! case data may go to a recipient for a purpose). Consents and withdrawals themselves arrive
//! as operations (`POST /api/v1/ops`).
//!
//! Whatever passes case data on to another agency asks [`require`] first.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use cris_core::api::{CaseConsent, ConsentSetup, MayShare, ReceivedConsent};
use cris_core::consent::{self, Grant, Record};

use crate::auth::{self, AuthUser};
use crate::store::User;
use crate::store::audit::Action;
use crate::{AppError, AppState};

pub async fn texts(
    State(state): State<AppState>,
    _auth: AuthUser,
) -> Result<Json<ConsentSetup>, AppError> {
    let agency = state.consent.agency().ok_or(AppError::NoAgency)?;
    Ok(Json(ConsentSetup {
        agency: agency.clone(),
        texts: state
            .consent
            .texts()
            .currents()
            .into_iter()
            .cloned()
            .collect(),
    }))
}

pub async fn case(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(case_id): Path<String>,
) -> Result<Json<CaseConsent>, AppError> {
    let consent = case_consent(&state, &auth.user, &case_id).await?;
    crate::audit::household_read(
        &state,
        &auth,
        Action::ReadConsents,
        &case_id,
        "GET /api/v1/cases/{id}/consent",
    )
    .await?;
    Ok(Json(consent))
}

/// The query of `may-share`: both ids from the consent text, nothing else.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MayShareQuery {
    recipient: String,
    purpose: String,
}

pub async fn may_share(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(case_id): Path<String>,
    query: Result<Query<MayShareQuery>, QueryRejection>,
) -> Result<Json<MayShare>, AppError> {
    let Query(query) = query.map_err(|e| {
        AppError::BadRequest(format!(
            "{}: use ?recipient=ID&purpose=ID with the ids of the consent text",
            e.body_text()
        ))
    })?;
    let grant = require(
        &state,
        &auth.user,
        &case_id,
        &query.recipient,
        &query.purpose,
    )
    .await;
    // "Not released" tells about the household as much as a release does.
    if matches!(grant, Ok(_) | Err(AppError::NoConsent { .. })) {
        crate::audit::household_read(
            &state,
            &auth,
            Action::ReadMayShare,
            &case_id,
            "GET /api/v1/cases/{id}/may-share",
        )
        .await?;
    }
    let grant = grant?;
    Ok(Json(MayShare {
        recipient: query.recipient,
        purpose: query.purpose,
        grant,
    }))
}

/// Whether the household `case_id` has released `recipient` from confidentiality for
/// `purpose`, as of the server's date today: how long the release holds, or
/// [`AppError::NoConsent`]. A case the user may not see is [`AppError::NoSuchCase`].
pub async fn require(
    state: &AppState,
    user: &User,
    case_id: &str,
    recipient: &str,
    purpose: &str,
) -> Result<Grant, AppError> {
    let consent = case_consent(state, user, case_id).await?;
    match consent.state.recipients.get(recipient) {
        Some((grant, _)) if consent.state.may_share(recipient, purpose) => Ok(*grant),
        _ => Err(AppError::NoConsent {
            recipient: recipient.to_owned(),
            purpose: purpose.to_owned(),
        }),
    }
}

/// A household's consents and withdrawals, oldest first, and what they grant today.
async fn case_consent(
    state: &AppState,
    user: &User,
    case_id: &str,
) -> Result<CaseConsent, AppError> {
    if !cris_core::id::is_uuid(case_id) {
        return Err(AppError::NoSuchCase);
    }
    let logged = state
        .store
        .case_consents(&user.id, case_id)
        .await?
        .ok_or(AppError::NoSuchCase)?;
    let records = logged
        .into_iter()
        .map(|row| {
            let record = row.op.consent_record().ok_or_else(|| {
                crate::store::decode::corrupt(
                    "consent",
                    row.seq,
                    "its operation carries no consent",
                )
            })?;
            Ok(ReceivedConsent {
                received_at_ms: row.received_ms,
                record,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let all: Vec<Record> = records.iter().map(|r| r.record.clone()).collect();
    let (consents, withdrawals) = Record::split(&all);
    let today = today(auth::now_ms());
    Ok(CaseConsent {
        case_id: case_id.to_owned(),
        today,
        state: consent::state(&consents, &withdrawals, today),
        records,
    })
}

/// The server's date (UTC) at `now_ms`.
pub fn today(now_ms: i64) -> cris_core::Date {
    cris_core::Date::from_days(i32::try_from(now_ms.div_euclid(86_400_000)).unwrap_or_default())
}
