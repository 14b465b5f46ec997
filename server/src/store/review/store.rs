//! The review queue, a form with its review, decisions and the inbox, over either database.

use super::*;
use crate::store::db::on_db;
use crate::store::{CaseStore, User};

impl CaseStore {
    /// A page of the review queue: the submissions on the user's teams' cases that pass
    /// `filter`, newest received first.
    pub async fn review_queue(
        &self,
        user_id: &str,
        filter: &ReviewFilter,
    ) -> Result<Vec<cris_core::api::ReviewItem>, StoreError> {
        on_db!(&self.db, |pool| {
            let mut found = None;
            if let Some(name) = &filter.household {
                let rows: Vec<String> = sqlx::query_scalar(HOUSEHOLDS_NAMED)
                    .bind(format!("%{name}%"))
                    .bind(FEW_HOUSEHOLDS as i64 + 1)
                    .fetch_all(pool)
                    .await?;
                let few = rows.len() <= FEW_HOUSEHOLDS;
                let mut cases = rows;
                cases.sort_unstable();
                cases.dedup();
                if few {
                    found = Some(ReviewFilter {
                        household_cases: Some(cases),
                        ..filter.clone()
                    });
                }
            }
            let filter = found.as_ref().unwrap_or(filter);
            let (sql, args) = review_queue_sql(user_id, filter);
            let q = bind_args!(sqlx::query_as::<_, ReviewRow>(&sql), args);
            let mut items = q
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(ReviewRow::item)
                .collect::<Result<Vec<_>, _>>()?;
            self.name_households(&mut items).await?;
            Ok(items)
        })
    }

    /// A submission on a case of the user's teams with its review; `None` when it is not one
    /// of theirs (or does not exist: the two are not told apart).
    pub async fn review(
        &self,
        user_id: &str,
        submission_id: &str,
    ) -> Result<Option<Reviewed>, StoreError> {
        on_db!(&self.db, |pool| {
            let sql = format!("{} AND s.id = $2", REVIEW_ROWS);
            let row: Option<ReviewRow> = sqlx::query_as(&sql)
                .bind(user_id)
                .bind(submission_id)
                .fetch_optional(pool)
                .await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let body: String = sqlx::query_scalar(
                "SELECT o.body FROM submissions s JOIN ops o ON o.op_id = s.op_id WHERE s.id = $1",
            )
            .bind(submission_id)
            .fetch_one(pool)
            .await?;
            let events = self
                .events_where("e.submission_id = $1", submission_id)
                .await?;
            let corrected_by: Option<String> = sqlx::query_scalar(
                "SELECT id FROM submissions WHERE corrects = $1
             ORDER BY received_ms DESC, id DESC LIMIT 1",
            )
            .bind(submission_id)
            .fetch_optional(pool)
            .await?;
            let edits = sqlx::query_as::<_, EditRow>(EDITS)
                .bind(user_id)
                .bind(submission_id)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(EditRow::edit)
                .collect::<Result<Vec<_>, _>>()?;
            let mut item = [row.item()?];
            self.name_households(&mut item).await?;
            let [item] = item;
            Ok(Some(Reviewed {
                op: decode::operation(submission_id, &body)?,
                item,
                events,
                corrected_by,
                edits,
            }))
        })
    }

    /// Appends `reviewer`'s decision on a submission of their teams' cases and brings the
    /// review status of it and of its corrections up to date; `None` as for
    /// [`Self::review`]. Serialized with pushes, so that a correction arriving at the same
    /// time is counted either before the decision or after it.
    pub async fn add_review(
        &self,
        reviewer: &User,
        submission_id: &str,
        decision: cris_core::api::ReviewDecision,
        comment: &str,
        now_ms: i64,
    ) -> Result<Option<(cris_core::api::ReviewEvent, cris_core::api::ReviewStatus)>, StoreError>
    {
        // In its turn between groups of pushes: phones pushing back to back would
        // otherwise keep the write lock from it for seconds.
        match &self.writer {
            Some(writer) => {
                let (store, reviewer) = (self.clone(), reviewer.clone());
                let (submission_id, comment) = (submission_id.to_owned(), comment.to_owned());
                writer
                    .alone(move || async move {
                        store
                            .add_review_now(&reviewer, &submission_id, decision, &comment, now_ms)
                            .await
                    })
                    .await?
            }
            None => {
                self.add_review_now(reviewer, submission_id, decision, comment, now_ms)
                    .await
            }
        }
    }

    /// A decision written at once (see `add_review`).
    pub(crate) async fn add_review_now(
        &self,
        reviewer: &User,
        submission_id: &str,
        decision: cris_core::api::ReviewDecision,
        comment: &str,
        now_ms: i64,
    ) -> Result<Option<(cris_core::api::ReviewEvent, cris_core::api::ReviewStatus)>, StoreError>
    {
        // The push lock: a correction of this submission is stored wholly before this
        // decision or wholly after it, and its status with it.
        let mut tx = self.db.begin_push().await?;
        let id: i64 = on_db!(&mut tx, |tx| {
            let visible: Option<String> = sqlx::query_scalar(
                "SELECT s.id FROM submissions s JOIN cases c ON c.id = s.case_id
             WHERE s.id = $1
               AND c.team_id IN (SELECT m.team_id FROM team_members m WHERE m.user_id = $2)",
            )
            .bind(submission_id)
            .bind(&reviewer.id)
            .fetch_optional(&mut **tx)
            .await?;
            if visible.is_none() {
                return Ok(None);
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO review_events (submission_id, decision, comment, reviewer_id, at_ms)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(submission_id)
            .bind(decision.as_str())
            .bind(comment)
            .bind(&reviewer.id)
            .bind(now_ms)
            .fetch_one(&mut **tx)
            .await?;
            // Its status is the decision now: no correction has arrived since.
            sqlx::query("UPDATE submissions SET review_status = $1 WHERE id = $2")
                .bind(decision.as_str())
                .bind(submission_id)
                .execute(&mut **tx)
                .await?;
            // A correction that answered an earlier request for changes no longer does:
            // it came before this decision.
            sqlx::query(
                "UPDATE submissions SET review_status = 'new'
             WHERE corrects = $1 AND review_status = 'resubmitted'",
            )
            .bind(submission_id)
            .execute(&mut **tx)
            .await?;
            id
        });
        tx.commit().await?;
        let status = match decision {
            cris_core::api::ReviewDecision::Approved => cris_core::api::ReviewStatus::Approved,
            cris_core::api::ReviewDecision::ChangesRequested => {
                cris_core::api::ReviewStatus::ChangesRequested
            }
        };
        let event = cris_core::api::ReviewEvent {
            id,
            submission_id: submission_id.to_owned(),
            decision,
            comment: comment.to_owned(),
            reviewer_login: reviewer.login.clone(),
            reviewer_name: reviewer.display_name.clone(),
            at_ms: now_ms,
        };
        Ok(Some((event, status)))
    }

    /// The enabled workers of the user's teams: `(login, display name)`, by name.
    pub async fn team_workers(&self, user_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        on_db!(&self.db, |pool| {
            Ok(sqlx::query_as(crate::store::TEAM_WORKERS)
                .bind(user_id)
                .fetch_all(pool)
                .await?)
        })
    }

    /// The user's own submissions (on their teams' cases) sent back for changes and not
    /// corrected yet, the latest request first.
    pub async fn inbox(&self, user_id: &str) -> Result<Vec<cris_core::api::InboxItem>, StoreError> {
        on_db!(&self.db, |pool| {
            let sql = format!(
                "{} AND s.user_id = $1 AND s.review_status = 'changes_requested'{}",
                REVIEW_ROWS, REVIEW_ORDER
            );
            let mut items = sqlx::query_as::<_, ReviewRow>(&sql)
                .bind(user_id)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(ReviewRow::inbox_item)
                .collect::<Result<Vec<_>, _>>()?;
            items.sort_by(|a, b| {
                (b.requested_at_ms, &b.submission_id).cmp(&(a.requested_at_ms, &a.submission_id))
            });
            Ok(items)
        })
    }

    /// The review decisions on a case's submissions, oldest first; `None` as for
    /// [`Self::case_history`].
    pub async fn case_reviews(
        &self,
        user_id: &str,
        case_id: &str,
    ) -> Result<Option<Vec<cris_core::api::ReviewEvent>>, StoreError> {
        if !self.visible(user_id, case_id).await? {
            return Ok(None);
        }
        Ok(Some(
            self.events_where(
                &format!(
                    "e.submission_id IN (SELECT id FROM submissions WHERE case_id IN {})",
                    crate::store::log::HOUSEHOLD
                ),
                case_id,
            )
            .await?,
        ))
    }

    /// The review events that meet `condition` (on `e`, with `$1` = `arg`), oldest
    /// first, with their reviewers.
    pub(crate) async fn events_where(
        &self,
        condition: &str,
        arg: &str,
    ) -> Result<Vec<cris_core::api::ReviewEvent>, StoreError> {
        on_db!(&self.db, |pool| {
            let sql = format!(
            "SELECT e.id, e.submission_id, e.decision, e.comment, u.login, u.display_name, e.at_ms
             FROM review_events e JOIN users u ON u.id = e.reviewer_id
             WHERE {condition} ORDER BY e.id"
        );
            sqlx::query_as::<_, ReviewEventRow>(&sql)
                .bind(arg)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(ReviewEventRow::event)
                .collect()
        })
    }
}
