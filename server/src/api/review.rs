//! Review over HTTP: supervisors (and admins) go through the submissions of their teams'
//! cases and approve them or send them back with a comment; the worker's phone learns what
//! was sent back.
//!
//! - `GET /api/v1/review?team=&worker=&form=&status=&from=&to=&case=&household=&sort=&limit=&after=`:
//!   the queue, newest received first (or `sort=oldest`), in pages (`after` is the `next` of
//!   the page before);
//! - `GET /api/v1/review/{submission_id}`: one submission, its answers and its review;
//! - `POST /api/v1/review/{submission_id}` `{"decision", "comment"}`: a decision;
//! - `GET /api/v1/review/workers`: the enabled workers of the reviewer's teams, to filter by;
//! - `GET /api/v1/inbox` (anyone logged in): the user's own submissions sent back for changes
//!   and not corrected yet.
//!
//! Another team's submission answers 404 exactly like one that does not exist.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use cris_core::api::{
    Inbox, MAX_HOUSEHOLD_SEARCH, MAX_REVIEW_COMMENT_CHARS, MAX_REVIEW_PAGE, REVIEW_PAGE,
    ReviewDecision, ReviewDetail, ReviewEdit, ReviewOutcome, ReviewPage, ReviewQuery,
    ReviewRequest, ReviewSort, Role, TeamWorker, TeamWorkers,
};

use crate::auth::{self, AuthUser};
use crate::store::ReviewFilter;
use crate::store::audit::Action;
use crate::{AppError, AppState};

/// The largest body of a decision: a comment of 2000 characters, escaped, fits many times.
pub const MAX_DECISION_BYTES: usize = 64 * 1024;

const DAY_MS: i64 = 86_400_000;

/// Reviewing is for supervisors and admins.
fn reviewer(auth: &AuthUser) -> Result<(), AppError> {
    match auth.user.role {
        Role::Supervisor | Role::Admin => Ok(()),
        Role::Worker => Err(AppError::Forbidden(
            "reviewing is for supervisors and admins",
        )),
    }
}

pub async fn queue(
    State(state): State<AppState>,
    auth: AuthUser,
    query: Result<Query<ReviewQuery>, QueryRejection>,
) -> Result<Json<ReviewPage>, AppError> {
    reviewer(&auth)?;
    let Query(query) = query.map_err(|e| {
        AppError::BadRequest(format!(
            "{}: the queue takes team, worker (a login), form, status (new, approved, changes_requested, corrected, resubmitted), from and to (YYYY-MM-DD), case, household (part of its name), sort (newest, oldest), limit and after",
            e.body_text()
        ))
    })?;
    let mut filter = filter_of(query)?;
    let limit = filter.limit;
    // One more than asked: whether there is a next page.
    filter.limit += 1;
    let mut items = state.store.review_queue(&auth.user.id, &filter).await?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items
            .last()
            .map(|last| cursor(last.received_at_ms, &last.submission_id))
    } else {
        None
    };
    Ok(Json(ReviewPage { items, next }))
}

/// The store's filter for a query, or why the query is wrong.
fn filter_of(query: ReviewQuery) -> Result<ReviewFilter, AppError> {
    let bad = |m: &str| AppError::BadRequest(m.to_owned());
    // An empty field of a form is no filter.
    let given = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    let limit = match query.limit {
        None => REVIEW_PAGE,
        Some(0) => return Err(bad("limit must be at least 1")),
        Some(n) => n.min(MAX_REVIEW_PAGE),
    };
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(bad("from is after to: no day is in between"));
    }
    let case_id = given(query.case);
    if case_id
        .as_deref()
        .is_some_and(|c| !cris_core::id::is_uuid(c))
    {
        return Err(bad("case is a case id (a lower-case UUID)"));
    }
    let household = match given(query.household) {
        None => None,
        Some(name) if name.chars().count() > MAX_HOUSEHOLD_SEARCH => {
            return Err(bad(&format!(
                "household is part of a name, at most {MAX_HOUSEHOLD_SEARCH} characters"
            )));
        }
        Some(name) => match cris_core::duplicates::comparable(&name) {
            found if found.is_empty() => {
                return Err(bad("household is part of a name: give some of its letters"));
            }
            found => Some(found),
        },
    };
    let after = match given(query.after) {
        None => None,
        Some(after) => Some(
            parse_cursor(&after)
                .ok_or_else(|| bad("after is the next of an earlier page, as it was given"))?,
        ),
    };
    Ok(ReviewFilter {
        team: given(query.team),
        worker: given(query.worker),
        form: given(query.form),
        status: query.status,
        received_from_ms: query.from.map(|d| i64::from(d.days()) * DAY_MS),
        received_before_ms: query.to.map(|d| (i64::from(d.days()) + 1) * DAY_MS),
        case_id,
        household,
        household_cases: None,
        oldest_first: query.sort == Some(ReviewSort::Oldest),
        after,
        limit: i64::from(limit),
    })
}

/// Where a page ended: the last item's place in the queue's order.
fn cursor(received_ms: i64, submission_id: &str) -> String {
    format!("{received_ms}_{submission_id}")
}

fn parse_cursor(text: &str) -> Option<(i64, String)> {
    let (ms, id) = text.split_once('_')?;
    let ms = ms.parse().ok()?;
    cris_core::id::is_uuid(id).then(|| (ms, id.to_owned()))
}

pub async fn get(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(submission_id): Path<String>,
) -> Result<Json<ReviewDetail>, AppError> {
    reviewer(&auth)?;
    if !cris_core::id::is_uuid(&submission_id) {
        return Err(AppError::NoSuchSubmission);
    }
    let reviewed = state
        .store
        .review(&auth.user.id, &submission_id)
        .await?
        .ok_or(AppError::NoSuchSubmission)?;
    let op = reviewed.op;
    crate::audit::household_read(
        &state,
        &auth,
        Action::ReadSubmission,
        &op.case_id,
        "GET /api/v1/review/{id}",
    )
    .await?;
    let edits = reviewed
        .edits
        .into_iter()
        .map(|row| {
            let reason = row
                .op
                .submission()
                .and_then(|s| s.corrects.as_ref())
                .map(|c| c.reason.clone());
            Ok(ReviewEdit {
                form_version: u32::try_from(row.form_version).unwrap_or_default(),
                submission_id: row.id,
                corrects: row.corrects,
                worker_login: row.login,
                worker_name: row.display_name,
                device: row.device_id,
                finalized_at_ms: row.finalized_ms,
                received_at_ms: row.received_ms,
                reason,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(Json(ReviewDetail {
        item: reviewed.item,
        op,
        events: reviewed.events,
        corrected_by: reviewed.corrected_by,
        edits,
    }))
}

pub async fn decide(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(submission_id): Path<String>,
    body: Result<Json<ReviewRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<ReviewOutcome>), AppError> {
    reviewer(&auth)?;
    if !cris_core::id::is_uuid(&submission_id) {
        return Err(AppError::NoSuchSubmission);
    }
    let Json(request) = body.map_err(AppError::from_json)?;
    let comment = request.comment.trim();
    if request.decision == ReviewDecision::ChangesRequested && comment.is_empty() {
        return Err(AppError::BadRequest(
            "sending a form back needs a comment saying what to change".to_owned(),
        ));
    }
    if comment.chars().count() > MAX_REVIEW_COMMENT_CHARS {
        return Err(AppError::BadRequest(format!(
            "the comment is longer than {MAX_REVIEW_COMMENT_CHARS} characters"
        )));
    }
    let (event, status) = state
        .store
        .add_review(
            &auth.user,
            &submission_id,
            request.decision,
            comment,
            auth::now_ms(),
        )
        .await?
        .ok_or(AppError::NoSuchSubmission)?;
    tracing::info!(decision = request.decision.as_str(), "review");
    Ok((StatusCode::CREATED, Json(ReviewOutcome { event, status })))
}

pub async fn workers(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<TeamWorkers>, AppError> {
    reviewer(&auth)?;
    let workers = state
        .store
        .team_workers(&auth.user.id)
        .await?
        .into_iter()
        .map(|(login, display_name)| TeamWorker {
            login,
            display_name,
        })
        .collect();
    Ok(Json(TeamWorkers { workers }))
}

pub async fn inbox(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Inbox>, AppError> {
    Ok(Json(Inbox {
        items: state.store.inbox(&auth.user.id).await?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_nothing_else_does() {
        let id = "0192b3c4-0000-7000-8000-00000000d00a";
        let text = cursor(1_767_225_600_123, id);
        assert_eq!(
            parse_cursor(&text),
            Some((1_767_225_600_123, id.to_owned()))
        );
        for bad in [
            "",
            "_",
            "12",
            "x_0192b3c4-0000-7000-8000-00000000d00a",
            "12_abc",
        ] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_are_whole_utc_days_and_limits_are_kept() {
        let query = ReviewQuery {
            from: Some("2026-03-01".parse().unwrap()),
            to: Some("2026-03-01".parse().unwrap()),
            limit: Some(5000),
            team: Some(" ".into()),
            ..ReviewQuery::default()
        };
        let filter = filter_of(query).unwrap();
        let from = filter.received_from_ms.unwrap();
        assert_eq!(from % DAY_MS, 0);
        assert_eq!(filter.received_before_ms, Some(from + DAY_MS));
        assert_eq!(filter.limit, i64::from(MAX_REVIEW_PAGE));
        assert_eq!(filter.team, None, "an empty field filters nothing");
        let none = filter_of(ReviewQuery::default()).unwrap();
        assert_eq!(none.limit, i64::from(REVIEW_PAGE));

        let backwards = ReviewQuery {
            from: Some("2026-03-02".parse().unwrap()),
            to: Some("2026-03-01".parse().unwrap()),
            ..ReviewQuery::default()
        };
        assert!(filter_of(backwards).is_err());
        let zero = ReviewQuery {
            limit: Some(0),
            ..ReviewQuery::default()
        };
        assert!(filter_of(zero).is_err());
    }
}
