//! The agency's retention period: a household whose case has been closed for that many
//! months is erased by the server itself ([`super::erase`]), together with the households
//! merged into it (they closed with it). Run by a daily job inside the server, and by
//! `cris-server retention [--dry-run]`.

use cris_core::Date;

use super::db::on_db;
use super::erase::BY_RETENTION;
use super::{CaseStore, Erased, StoreError};

const DAY_MS: i64 = 86_400_000;

/// A household whose retention period has ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    pub case_id: String,
    /// The day its case was closed (UTC).
    pub closed: Date,
    /// The first day it may no longer be kept.
    pub due: Date,
    /// Whether it was erased now (not on a dry run).
    pub erased: bool,
}

impl CaseStore {
    /// The households closed at least `months` months before `now_ms` (by the day, UTC)
    /// and not reopened, oldest closing first; erased now unless `dry_run`.
    pub async fn enforce_retention(
        &self,
        months: u32,
        now_ms: i64,
        dry_run: bool,
    ) -> Result<Vec<Due>, StoreError> {
        let closed: Vec<(String, i64)> = on_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT k.case_id, k.closed_ms FROM case_closings k
                 JOIN cases c ON c.id = k.case_id
                 WHERE k.reopened_op_id IS NULL AND c.erased_ms IS NULL
                 ORDER BY k.closed_ms",
            )
            .fetch_all(pool)
            .await?
        });
        let today = day_of(now_ms);
        let mut due = Vec::new();
        for (case_id, closed_ms) in closed {
            let closed = day_of(closed_ms);
            let until = closed.plus_months(months);
            if until > today {
                continue;
            }
            let erased = !dry_run
                && self
                    .erase_retained(&case_id, closed, months, now_ms)
                    .await?;
            due.push(Due {
                case_id,
                closed,
                due: until,
                erased,
            });
        }
        Ok(due)
    }

    /// The server's daily job: erases the households whose retention period of `months`
    /// ended, at start and then every day, for as long as the server runs. Logs how many,
    /// never which.
    pub async fn retain_daily(self, months: u32) {
        let mut day = tokio::time::interval(std::time::Duration::from_secs(24 * 60 * 60));
        loop {
            day.tick().await;
            match self
                .enforce_retention(months, crate::auth::now_ms(), false)
                .await
            {
                Ok(due) if due.is_empty() => {}
                Ok(due) => {
                    let erased = due.iter().filter(|d| d.erased).count();
                    tracing::info!(
                        erased,
                        months,
                        "households erased: their retention period ended"
                    );
                }
                Err(err) => {
                    tracing::error!(%err, "the retention job failed; it tries again tomorrow")
                }
            }
        }
    }

    /// Erases a household whose retention period ended, and those merged into it first.
    async fn erase_retained(
        &self,
        case_id: &str,
        closed: Date,
        months: u32,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let reason = format!(
            "the retention period of {months} months after the case closed on {closed} ended"
        );
        match self.erase(case_id, BY_RETENTION, &reason, now_ms).await? {
            Erased::Done(_) => Ok(true),
            Erased::OthersMergedIn(members) => {
                for member in members {
                    self.erase(&member, BY_RETENTION, &reason, now_ms).await?;
                }
                let erased = self.erase(case_id, BY_RETENTION, &reason, now_ms).await?;
                Ok(matches!(erased, Erased::Done(_)))
            }
            Erased::NotFound | Erased::Already(_) => Ok(false),
        }
    }
}

fn day_of(ms: i64) -> Date {
    Date::from_days(i32::try_from(ms.div_euclid(DAY_MS)).unwrap_or(i32::MAX))
}
