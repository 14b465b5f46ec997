//! The dashboard's reads and the refresh of its derived tables, over either database.

use super::super::db::{Dialect, on_db};
use crate::store::CaseStore;

impl CaseStore {
    /// The dashboard for the user `user_id`.
    pub async fn dashboard(
        &self,
        user_id: &str,
        filter: &crate::store::DashboardFilter,
    ) -> Result<cris_core::api::Dashboard, crate::store::StoreError> {
        on_db!(&self.db, |pool| {
            let teams: Vec<(String, String)> = {
                let q = sqlx::query_as(super::teams_sql(filter.team.is_some())).bind(user_id);
                match &filter.team {
                    Some(team) => q.bind(team),
                    None => q,
                }
                .fetch_all(pool)
                .await?
            };
            let mut counted = super::Counted {
                teams: teams.iter().map(|(_, name)| name.clone()).collect(),
                ..super::Counted::default()
            };
            if teams.is_empty() {
                return super::dashboard_of(filter, counted);
            }
            self.refresh_case_summaries().await?;
            let n = teams.len();
            let to = i64::from(filter.to.days());
            let first = i64::from(filter.week_starts()[0].days());
            // Each query binds its own values, then the teams' ids; they run side by side,
            // each on a connection of its own.
            let ids = || teams.iter().map(|(id, _)| id);
            let sql = [
                super::workers_sql(n),
                super::visits_sql(n),
                super::households_sql(n),
                super::overdue_sql(n),
                super::devices_sql(n),
                super::closed_sql(n),
                super::referrals_sql(n),
            ];
            (
                counted.workers,
                counted.visits,
                counted.households,
                counted.overdue,
                counted.devices,
                counted.closed,
                counted.referrals,
            ) = tokio::try_join!(
                super::bind_all!(sqlx::query_as(&sql[0]), ids()).fetch_all(pool),
                super::bind_all!(sqlx::query_as(&sql[1]).bind(first).bind(to), ids())
                    .fetch_all(pool),
                super::bind_all!(sqlx::query_as(&sql[2]), ids()).fetch_all(pool),
                super::bind_all!(sqlx::query_as(&sql[3]).bind(to), ids()).fetch_all(pool),
                super::bind_all!(sqlx::query_as(&sql[4]), ids()).fetch_all(pool),
                super::bind_all!(sqlx::query_as(&sql[5]), ids()).fetch_all(pool),
                super::bind_all!(sqlx::query_as(&sql[6]).bind(first).bind(to), ids())
                    .fetch_all(pool),
            )?;
            super::dashboard_of(filter, counted)
        })
    }

    /// Re-summarises the households with operations after the watermark, and those
    /// they are or were merged into, from all their operations up to the end of the log
    /// as it was when this began, and moves the watermark there (see
    /// [`crate::store::dashboard`]).
    pub(crate) async fn refresh_case_summaries(&self) -> Result<(), crate::store::StoreError> {
        on_db!(&self.db, |pool| {
            use std::collections::BTreeSet;
            let since: Vec<(i64, String, i64)> =
                sqlx::query_as(super::CASES_SINCE).fetch_all(pool).await?;
            let Some(mark) = since.first().map(|(mark, _, _)| *mark) else {
                return Ok(());
            };
            let end = since.iter().map(|(_, _, seq)| *seq).max().unwrap_or(mark);
            let changed: Vec<String> = since
                .into_iter()
                .map(|(_, case_id, _)| case_id)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            // A household merged into another (or merged and taken back) changes the
            // summary of that one too.
            let mut households: BTreeSet<String> = BTreeSet::new();
            for chunk in changed.chunks(super::SUMMARY_CHUNK) {
                let sql = super::merged_into_sql(&pool.values(1, chunk.len()));
                let joined: Vec<String> = super::bind_all!(sqlx::query_scalar(&sql), chunk.iter())
                    .fetch_all(pool)
                    .await?;
                households.extend(joined);
            }
            households.extend(changed);
            let households: Vec<String> = households.into_iter().collect();
            let chunks: Vec<&[String]> = households.chunks(super::SUMMARY_CHUNK).collect();
            for (i, chunk) in chunks.iter().enumerate() {
                // The merges of these households and into them, and then the operations
                // and properties of the households and of every one ever merged into them.
                let [of_sql, into_sql] = super::merges_sql(&pool.values(1, chunk.len()));
                let (mut merges, into): (Vec<super::MergeRow>, Vec<super::MergeRow>) = tokio::try_join!(
                    super::bind_all!(sqlx::query_as(&of_sql), chunk.iter()).fetch_all(pool),
                    super::bind_all!(sqlx::query_as(&into_sql), chunk.iter()).fetch_all(pool),
                )?;
                merges.extend(into);
                let cases: Vec<&String> = chunk
                    .iter()
                    .chain(merges.iter().map(|m| &m.0))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                // Up to `end` only: the summary is then made with the merges as they stood
                // there, whatever was merged or taken back since (the next refresh
                // summarises that).
                let (ids, end_param) = super::and_one_more(&pool.values(1, cases.len() + 1));
                let [ops_sql, writes_sql] =
                    super::chunk_sql(&ids, &end_param, &pool.values(1, cases.len()));
                // Side by side, each on a connection of its own.
                let (ops, writes) = tokio::try_join!(
                    super::bind_all!(sqlx::query_as(&ops_sql), cases.iter())
                        .bind(end)
                        .fetch_all(pool),
                    super::bind_all!(sqlx::query_as(&writes_sql), cases.iter()).fetch_all(pool),
                )?;
                let read = super::ChunkRead {
                    ops,
                    writes,
                    merges,
                };
                let chunk = chunk.to_vec();
                // Parsing the operations is CPU work: off the async workers.
                let (summaries, visits) = tokio::task::spawn_blocking(move || {
                    super::summarize_households(&chunk, read, end, mark)
                })
                .await
                .map_err(|_| sqlx::Error::WorkerCrashed)??;
                // The last chunk's transaction moves the watermark.
                let moved = (i + 1 == chunks.len()).then_some(end);
                if self.db.queues_writes()
                    && let Some(writer) = &self.writer
                {
                    let store = self.clone();
                    writer
                        .alone(move || async move {
                            store.write_case_summaries(&summaries, &visits, moved).await
                        })
                        .await??;
                } else {
                    self.write_case_summaries(&summaries, &visits, moved)
                        .await?;
                }
            }
            Ok(())
        })
    }

    /// Writes summaries over those made from less of the log, keeps the visits not
    /// kept yet, changes the counts by what it replaced and added, and
    /// moves the watermark forward to `mark` if given: one transaction, in its turn
    /// (nobody else changes these tables meanwhile).
    pub(crate) async fn write_case_summaries(
        &self,
        summaries: &[super::CaseSummary],
        visits: &[super::Visit],
        mark: Option<i64>,
    ) -> Result<(), crate::store::StoreError> {
        let mut tx = self.db.begin_dashboard().await?;
        let mut counts = super::CountChanges::default();
        for chunk in summaries.chunks(500) {
            upsert_summaries(&mut tx, chunk, &mut counts).await?;
        }
        on_db!(&mut tx, |tx| {
            for part in visits.chunks(1000) {
                let sql = super::insert_visits_sql(&tx.values(part.len(), 4));
                let mut q = sqlx::query_as::<_, (String, i64, String)>(&sql);
                for (id, team_id, user_id, day) in part {
                    q = q.bind(id).bind(team_id).bind(user_id).bind(*day);
                }
                for key in q.fetch_all(&mut **tx).await? {
                    *counts.visits.entry(key).or_default() += 1;
                }
            }
        });
        add_household_counts(&mut tx, &counts).await?;
        on_db!(&mut tx, |tx| {
            let visit_rows: Vec<_> = counts.visits.iter().collect();
            for part in visit_rows.chunks(500) {
                let sql = super::add_visit_counts_sql(&tx.values(part.len(), 4));
                let mut q = sqlx::query(&sql);
                for ((team, day, user), n) in part {
                    q = q.bind(team).bind(*day).bind(user).bind(**n);
                }
                q.execute(&mut **tx).await?;
            }
            if let Some(mark) = mark {
                sqlx::query("UPDATE case_summaries_watermark SET seq = $1 WHERE seq < $1")
                    .bind(mark)
                    .execute(&mut **tx)
                    .await?;
            }
        });
        tx.commit().await
    }

    /// Notes a pull of the session's device.
    pub async fn note_pull(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<(), crate::store::StoreError> {
        on_db!(&self.db, |pool| {
            // Read first: most pulls find it noted within the minute and write nothing
            // (a write would wait for SQLite's one write lock).
            let row: Option<(String, String, Option<i64>)> = sqlx::query_as(
                "SELECT s.device_id, s.user_id, d.last_pull_ms FROM sessions s
             LEFT JOIN device_syncs d ON d.device_id = s.device_id AND d.user_id = s.user_id
             WHERE s.token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await?;
            let Some((device_id, user_id, last)) = row else {
                return Ok(());
            };
            if last.is_some_and(|last| last > now_ms - super::PULL_NOTED_EVERY_MS) {
                return Ok(());
            }
            let write = {
                let store = self.clone();
                move || async move {
                    on_db!(&store.db, |pool| {
                        sqlx::query(super::NOTE_PULL)
                            .bind(&device_id)
                            .bind(&user_id)
                            .bind(now_ms)
                            .bind(super::PULL_NOTED_EVERY_MS)
                            .execute(pool)
                            .await?;
                    });
                    Ok(())
                }
            };
            match &self.writer {
                Some(writer) if self.db.queues_writes() => writer.alone(write).await?,
                _ => write().await,
            }
        })
    }
}

/// Changes `household_counts` by `counts` (rows left counting no household go).
pub(crate) async fn add_household_counts(
    tx: &mut crate::store::db::Tx,
    counts: &super::CountChanges,
) -> Result<(), crate::store::StoreError> {
    let rows = counts.household_rows();
    if rows.is_empty() {
        return Ok(());
    }
    on_db!(tx, |tx| {
        for part in rows.chunks(500) {
            let sql = super::add_household_counts_sql(&tx.values(part.len(), 7));
            let mut q = sqlx::query(&sql);
            for ((team, housing, conflict, until), (n, consents, withdrawals)) in part {
                q = q
                    .bind(team)
                    .bind(housing)
                    .bind(*conflict)
                    .bind(*until)
                    .bind(*n)
                    .bind(*consents)
                    .bind(*withdrawals);
            }
            q.execute(&mut **tx).await?;
        }
        sqlx::query("DELETE FROM household_counts WHERE households = 0")
            .execute(&mut **tx)
            .await?;
    });
    Ok(())
}

/// Writes the summaries of `chunk` over those made from less of the log, and notes in
/// `counts` what that changes.
async fn upsert_summaries(
    tx: &mut crate::store::db::Tx,
    chunk: &[super::CaseSummary],
    counts: &mut super::CountChanges,
) -> Result<(), crate::store::StoreError> {
    on_db!(tx, |tx| {
        let sql = super::held_summaries_sql(&tx.values(1, chunk.len()));
        let held: std::collections::HashMap<String, super::HeldSummary> =
            super::bind_all!(sqlx::query_as(&sql), chunk.iter().map(|s| &s.case_id))
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(|h: super::HeldSummary| (h.case_id.clone(), h))
                .collect();
        // A summary made from as much of the log or more is there already (another
        // refresh's): it stays, and so do the counts. A household erased since this refresh
        // read it gets none.
        let sql = format!(
            "SELECT case_id FROM erasures WHERE case_id IN {}",
            tx.values(1, chunk.len())
        );
        let erased: std::collections::HashSet<String> =
            super::bind_all!(sqlx::query_scalar(&sql), chunk.iter().map(|s| &s.case_id))
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .collect();
        let newer: Vec<&super::CaseSummary> = chunk
            .iter()
            .filter(|s| held.get(&s.case_id).is_none_or(|h| h.seq < s.seq))
            .filter(|s| !erased.contains(&s.case_id))
            .collect();
        if newer.is_empty() {
            return Ok(());
        }
        for s in &newer {
            if let Some(h) = held.get(&s.case_id) {
                counts.replaced(h);
            }
            counts.written(s);
        }
        let sql = super::upsert_summaries_sql(&tx.values(newer.len(), 14));
        let mut q = sqlx::query(&sql);
        for s in &newer {
            q = q
                .bind(&s.case_id)
                .bind(&s.team_id)
                .bind(s.seq)
                .bind(&s.household_name)
                .bind(&s.housing)
                .bind(s.housing_conflict)
                .bind(s.open_steps)
                .bind(s.last_visit)
                .bind(s.dues.first().copied())
                .bind(s.dues_text())
                .bind(s.consent_until)
                .bind(s.consents)
                .bind(s.withdrawals)
                .bind(&s.merged_into);
        }
        q.execute(&mut **tx).await?;
    });
    Ok(())
}
