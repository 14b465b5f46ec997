//! The sync protocol over HTTP: `POST /api/v1/ops` (push a batch of operations, one outcome
//! each), `GET /api/v1/ops?since=&limit=` (pull what changed in the user's cases) and
//! `GET /api/v1/cases/{id}/history` (a case's log, and the review decisions on its forms).
//! Every operation is checked with the same form engine as on the phone
//! ([`cris_core::sync::check`]) before the store sees it; a consent or withdrawal by its seal
//! and the texts it was given on ([`cris_core::sync::check_consent`]).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use cris_core::caseload::INTAKE;
use cris_core::consent::Sealed;
use cris_core::record::{Change, Operation};
use cris_core::sync::{
    self, CaseHistory, Detail, HistoryEntry, MAX_BATCH, MAX_PAGE, OpResult, Outcome, PullResponse,
    PushRequest, PushResponse, Refusal,
};
use serde_json::value::RawValue;

use crate::auth::{self, AuthUser};
use crate::store::audit::Action;
use crate::store::{CheckedOp, Stored};
use crate::{AppError, AppState};

/// The largest push body, after decompression: 500 long visits fit many times over.
pub const MAX_PUSH_BYTES: usize = 16 * 1024 * 1024;

pub async fn push(
    State(state): State<AppState>,
    auth: AuthUser,
    body: Result<Json<PushRequest<Box<RawValue>>>, JsonRejection>,
) -> Result<Json<PushResponse>, AppError> {
    let Json(request) = body.map_err(AppError::from_json)?;
    if request.ops.len() > MAX_BATCH {
        return Err(AppError::BatchTooLarge);
    }
    let now = auth::now_ms();
    // A form version published on another server of the same store is known here too.
    state.forms.catch_up(&state.store).await;
    // Validating hundreds of forms is CPU work: off the async workers.
    let (forms, consent) = (state.forms.now(), state.consent.clone());
    let (mut refusals, checked) =
        tokio::task::spawn_blocking(move || check_all(request.ops, &forms, &consent, now))
            .await
            .map_err(|_| AppError::Internal)?;

    // An operation refused now may have been applied before (its response lost, the form
    // changed since): the phone must hear "duplicate", or it would keep it forever. Not so a
    // consent or withdrawal sent changed under the id of one stored: that stays refused.
    let refused: Vec<String> = refusals
        .iter()
        .flatten()
        .filter(|r| cris_core::id::is_uuid(&r.result.op_id))
        .map(|r| r.result.op_id.clone())
        .collect();
    if !refused.is_empty() {
        let logged: std::collections::HashMap<String, Option<String>> =
            state.store.logged(&refused).await?.into_iter().collect();
        for refusal in refusals.iter_mut().flatten() {
            let Some(stored) = logged.get(&refusal.result.op_id) else {
                continue;
            };
            let retry = match (stored, &refusal.sealed) {
                (None, None) => true,
                (Some(stored), Some(Some(binding))) => stored == binding,
                _ => false,
            };
            if retry {
                refusal.result.outcome = Outcome::Duplicate;
            }
        }
    }
    let mut results: Vec<Option<OpResult>> =
        refusals.into_iter().map(|r| r.map(|r| r.result)).collect();

    let (slots, ops): (Vec<usize>, Vec<CheckedOp>) = checked.into_iter().unzip();
    let ids: Vec<(String, String)> = ops
        .iter()
        .map(|c| (c.op.op_id.clone(), c.op.record_id().to_owned()))
        .collect();
    let stored = state.store.push(&auth.user, ops, now).await?;
    for ((slot, (op_id, record_id)), stored) in slots.into_iter().zip(ids).zip(stored) {
        results[slot] = Some(OpResult {
            outcome: outcome(stored, &record_id),
            op_id,
        });
    }
    let results: Vec<OpResult> = results.into_iter().flatten().collect();
    let applied = results
        .iter()
        .filter(|r| !matches!(r.outcome, Outcome::Duplicate | Outcome::Rejected { .. }))
        .count();
    let rejected = results.iter().filter(|r| !r.outcome.acknowledged()).count();
    tracing::info!(ops = results.len(), applied, rejected, "push");
    Ok(Json(PushResponse {
        results,
        server_time_ms: now,
        store_id: state.store.instance_id().to_owned(),
    }))
}

/// An operation refused by the checks, and what tells a retry of a stored one from a change.
#[derive(Clone, Debug)]
struct Refused {
    result: OpResult,
    /// For a consent or withdrawal, its binding if its seal holds; `None` for anything else.
    sealed: Option<Option<String>>,
}

/// Reads and checks each operation alone, on every core for a large batch. Returns a slot
/// per operation, filled for those refused, and the checked ones with their slots.
#[allow(clippy::type_complexity)]
fn check_all(
    values: Vec<Box<RawValue>>,
    forms: &crate::FormCatalog,
    consent: &crate::ConsentConfig,
    now: i64,
) -> (Vec<Option<Refused>>, Vec<(usize, CheckedOp)>) {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let per_thread = values.len().div_ceil(cores).max(64);
    let outcomes: Vec<Result<CheckedOp, Refused>> = if values.len() <= per_thread {
        // A phone's usual batch: no thread to start.
        values
            .iter()
            .map(|v| check_one(v, forms, consent, now))
            .collect()
    } else {
        std::thread::scope(|scope| {
            let parts: Vec<_> = values
                .chunks(per_thread)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|v| check_one(v, forms, consent, now))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|p| p.join().expect("checking never panics"))
                .collect()
        })
    };
    let mut results = vec![None; outcomes.len()];
    let mut checked = Vec::new();
    for (slot, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Ok(op) => checked.push((slot, op)),
            Err(refused) => results[slot] = Some(refused),
        }
    }
    (results, checked)
}

fn check_one(
    value: &RawValue,
    forms: &crate::FormCatalog,
    consent: &crate::ConsentConfig,
    now: i64,
) -> Result<CheckedOp, Refused> {
    let refused = |refusal: Refusal, sealed: Option<Option<String>>| {
        let op_id = serde_json::from_str::<OpIdOnly>(value.get())
            .ok()
            .and_then(|o| o.op_id)
            .filter(|id| id.len() <= 64)
            .unwrap_or_default();
        Refused {
            result: OpResult {
                op_id,
                outcome: refusal.into(),
            },
            sealed,
        }
    };
    let op = serde_json::from_str::<Operation>(value.get()).map_err(|e| {
        let refusal = Refusal::new(Detail::Malformed, format!("not an operation: {e}"));
        // Unreadable: if it came under a consent's operation id, it is not that consent.
        refused(refusal, None)
    })?;
    let creates_case = match &op.change {
        Change::Submit { submission, .. } => {
            // The version it was filled in; failing that the current one, for a clear
            // refusal.
            let form = forms
                .get_version(&submission.form_id, submission.form_version)
                .or_else(|| forms.get(&submission.form_id));
            sync::check(&op, form.as_deref(), now).map_err(|r| refused(r, None))?;
            submission.form_id == INTAKE
        }
        Change::Consent { .. } | Change::Withdraw { .. } => {
            let sealed = || {
                let binding = match &op.change {
                    Change::Consent { consent } => {
                        consent.verify().is_ok().then(|| consent.binding.clone())
                    }
                    Change::Withdraw { withdrawal } => withdrawal
                        .verify()
                        .is_ok()
                        .then(|| withdrawal.binding.clone()),
                    _ => None,
                };
                Some(binding)
            };
            let Some(agency) = consent.agency() else {
                let refusal = Refusal::new(Detail::NoAgency, crate::consent::NO_AGENCY);
                return Err(refused(refusal, sealed()));
            };
            sync::check_consent(&op, consent.texts(), agency, now)
                .map_err(|r| refused(r, sealed()))?;
            false
        }
        Change::Resolve { .. } => {
            let served = forms.all();
            let defs: Vec<&cris_core::form::FormDef> = served.iter().map(AsRef::as_ref).collect();
            sync::check_resolve(&op, &defs, now).map_err(|r| refused(r, None))?;
            false
        }
        Change::Merge { .. }
        | Change::Unmerge { .. }
        | Change::Distinct { .. }
        | Change::Close { .. }
        | Change::Reopen { .. } => {
            sync::check_link(&op, now).map_err(|r| refused(r, None))?;
            false
        }
        Change::Refer { .. } | Change::UpdateReferral { .. } => {
            sync::check_referral(&op, now).map_err(|r| refused(r, None))?;
            false
        }
        Change::Erase {} => {
            let refusal = Refusal::new(
                Detail::Malformed,
                "an erasure is made on the server only (cris-server erase, or an administrator)",
            );
            return Err(refused(refusal, None));
        }
    };
    let body = serde_json::to_string(&op).expect("an operation serializes");
    Ok(CheckedOp {
        op,
        body,
        creates_case,
    })
}

/// The id of an operation too malformed to read, when it has one, to name it in the answer.
#[derive(serde::Deserialize)]
struct OpIdOnly {
    op_id: Option<String>,
}

fn outcome(stored: Stored, record_id: &str) -> Outcome {
    match stored {
        Stored::Applied { conflicts } if conflicts.is_empty() => Outcome::Applied,
        Stored::Applied { conflicts } => Outcome::Conflict { fields: conflicts },
        Stored::Duplicate => Outcome::Duplicate,
        Stored::NotFound => {
            Refusal::new(Detail::NotVisible, "no such case among your teams' cases").into()
        }
        Stored::SubmissionTaken => Refusal::new(
            Detail::SubmissionTaken,
            format!(
                "the submission {record_id} came already with another operation: a correction needs a new submission"
            ),
        )
        .into(),
        Stored::BadCorrection(message) => Refusal::new(Detail::CorrectsOther, message).into(),
        Stored::Immutable(message) => Refusal::new(Detail::SignedRecordChanged, message).into(),
        Stored::BadWithdrawal(message) => Refusal::new(Detail::WithdrawsUnknown, message).into(),
        Stored::Refused(refusal) => refusal.into(),
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullQuery {
    since: Option<i64>,
    limit: Option<i64>,
}

pub async fn pull(
    State(state): State<AppState>,
    auth: AuthUser,
    query: Result<Query<PullQuery>, QueryRejection>,
) -> Result<Json<PullResponse>, AppError> {
    let Query(query) = query.map_err(|e| {
        AppError::BadRequest(format!(
            "{}: use ?since=CURSOR&limit=N with whole numbers",
            e.body_text()
        ))
    })?;
    let since = query.since.unwrap_or(0);
    if since < 0 {
        return Err(AppError::BadRequest(
            "since is a cursor from an earlier pull, or 0".to_owned(),
        ));
    }
    let max = MAX_PAGE as i64;
    let limit = query.limit.unwrap_or(max);
    if limit < 1 {
        return Err(AppError::BadRequest("limit must be at least 1".to_owned()));
    }
    let limit = limit.min(max);
    let mut rows = state
        .store
        .ops_since(
            &auth.user.id,
            since,
            limit + 1,
            auth.user.role != crate::store::Role::Worker,
        )
        .await?;
    // When this device last pulled, for the supervisor's dashboard (noted at most once a
    // minute). Bookkeeping: failing to note it does not fail the pull.
    if let Err(err) = state
        .store
        .note_pull(&auth.token_hash, auth::now_ms())
        .await
    {
        tracing::warn!(%err, "noting a pull failed");
    }
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = rows.last().map_or(since, |(seq, _)| *seq);
    let ops = rows.into_iter().map(|(_, op)| op).collect();
    Ok(Json(PullResponse {
        ops,
        next_cursor,
        more,
        store_id: state.store.instance_id().to_owned(),
        policy: Some(state.phone),
    }))
}

pub async fn history(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(case_id): Path<String>,
) -> Result<Json<CaseHistory>, AppError> {
    if !cris_core::id::is_uuid(&case_id) {
        return Err(AppError::NoSuchCase);
    }
    let logged = state
        .store
        .case_history(&auth.user.id, &case_id)
        .await?
        .ok_or(AppError::NoSuchCase)?;
    crate::audit::household_read(
        &state,
        &auth,
        Action::ReadHistory,
        &case_id,
        "GET /api/v1/cases/{id}/history",
    )
    .await?;
    let entries = logged
        .into_iter()
        .map(|row| {
            Ok(HistoryEntry {
                seq: row.seq,
                received_at_ms: row.received_ms,
                login: row.login,
                display_name: row.display_name,
                op: row.op,
            })
        })
        .collect::<Result<_, AppError>>()?;
    let reviews = state
        .store
        .case_reviews(&auth.user.id, &case_id)
        .await?
        .ok_or(AppError::NoSuchCase)?;
    Ok(Json(CaseHistory {
        case_id,
        entries,
        reviews,
    }))
}
