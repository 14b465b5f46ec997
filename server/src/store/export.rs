//! What the store keeps of exports: the submissions an export writes out, as both databases
//! read them (counted first, then listed, then read a page of ids at a time with what the file
//! shows of each), and the record of every export made.

use cris_core::api::{ExportEntry, ExportFormat, ExportQuery};
use cris_core::form::Answers;

use super::db::{Dialect, on_db};
use super::review::{Arg, ReviewFilter, bind_args, filtered_submissions};
use super::{CaseStore, StoreError};

/// How many submissions of a form in a version pass an export's filter.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ExportTally {
    pub form_id: String,
    pub form_version: i64,
    pub submissions: i64,
}

/// A submission as an export writes it: where it stands in the record, and the answers of
/// the operation that carried it.
#[derive(Clone, Debug)]
pub struct ExportRow {
    pub id: String,
    /// The household it was recorded on.
    pub case_id: String,
    /// The household it is shown with: the one that household is merged into while the merge
    /// stands, its own otherwise.
    pub household_id: String,
    pub form_id: String,
    pub form_version: i64,
    /// The account that pushed it.
    pub login: String,
    /// That account's name, as the app shows it.
    pub worker_name: String,
    /// The team its case belongs to.
    pub team: String,
    pub received_ms: i64,
    pub finalized_ms: i64,
    pub review_status: String,
    pub corrects: Option<String>,
    /// Its answers, read from the operation as logged.
    pub answers: Answers,
    /// The latest correction of it that arrived.
    pub corrected_by: Option<String>,
    /// The name of the household it is shown with as it stands now, its properties joined
    /// with those of the households merged into it ("" without one).
    pub household_name: String,
}

/// An [`ExportRow`]'s row, its operation not yet read.
#[derive(sqlx::FromRow)]
pub(crate) struct ExportRowRaw {
    id: String,
    case_id: String,
    household_id: String,
    form_id: String,
    form_version: i64,
    login: String,
    worker_name: String,
    team: String,
    received_ms: i64,
    finalized_ms: i64,
    review_status: String,
    corrects: Option<String>,
    body: String,
}

impl ExportRowRaw {
    /// Reads only the answers of the logged operation (an export reads tens of thousands).
    pub(crate) fn read(self) -> Result<ExportRow, StoreError> {
        #[derive(serde::Deserialize)]
        struct Logged {
            change: LoggedChange,
        }
        #[derive(serde::Deserialize)]
        struct LoggedChange {
            submission: LoggedSubmission,
        }
        #[derive(serde::Deserialize)]
        struct LoggedSubmission {
            answers: Answers,
        }
        let logged: Logged = super::decode::json("operation", &self.id, &self.body)?;
        Ok(ExportRow {
            id: self.id,
            case_id: self.case_id,
            household_id: self.household_id,
            form_id: self.form_id,
            form_version: self.form_version,
            login: self.login,
            worker_name: self.worker_name,
            team: self.team,
            received_ms: self.received_ms,
            finalized_ms: self.finalized_ms,
            review_status: self.review_status,
            corrects: self.corrects,
            answers: logged.change.submission.answers,
            corrected_by: None,
            household_name: String::new(),
        })
    }
}

/// An export to record: who made it, when, of what, and how much it held.
#[derive(Clone, Debug)]
pub struct NewExport {
    pub id: String,
    pub user_id: String,
    /// The one team the export is of (its name), if it is of one.
    pub team: Option<String>,
    pub at_ms: i64,
    pub format: ExportFormat,
    pub filter: ExportQuery,
    pub rows: i64,
    pub cases: i64,
    /// The households its rows' records are on.
    pub case_ids: Vec<String>,
}

/// An export's row, with its maker's names.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ExportEntryRow {
    id: String,
    login: String,
    display_name: String,
    at_ms: i64,
    format: String,
    filter_json: String,
    row_count: i64,
    case_count: i64,
}

impl ExportEntryRow {
    pub(crate) fn entry(self) -> Result<ExportEntry, StoreError> {
        let damaged = |what: String| StoreError::Query(sqlx::Error::Decode(what.into()));
        let format = match self.format.as_str() {
            "xlsx" => ExportFormat::Xlsx,
            "csv" => ExportFormat::Csv,
            other => return Err(damaged(format!("unknown export format {other:?}"))),
        };
        Ok(ExportEntry {
            id: self.id,
            login: self.login,
            display_name: self.display_name,
            at_ms: self.at_ms,
            format,
            filter: serde_json::from_str(&self.filter_json).map_err(|e| damaged(e.to_string()))?,
            rows: self.row_count,
            cases: self.case_count,
        })
    }
}

/// The count of the submissions an export takes, by form and version.
pub(crate) fn export_tally_sql(user_id: &str, f: &ReviewFilter) -> (String, Vec<Arg>) {
    let (from_where, args) = filtered_submissions(user_id, f);
    let sql = format!(
        "SELECT s.form_id, s.form_version, COUNT(*) AS submissions {from_where}
         GROUP BY s.form_id, s.form_version"
    );
    (sql, args)
}

/// The submissions an export takes, as (form id, id): form by form, each oldest received
/// first, as a report reads.
///
/// An export lists its submissions first and then reads them by id, a page at a time: each
/// page is a lookup by primary key, whatever plan a database without statistics would choose
/// for paging through a team's forms in order (a page after a cursor read every form of the
/// team again, 50 pages of a large team cost seconds).
pub(crate) fn export_ids_sql(user_id: &str, f: &ReviewFilter) -> (String, Vec<Arg>) {
    let (from_where, args) = filtered_submissions(user_id, f);
    let sql =
        format!("SELECT s.form_id, s.id {from_where} ORDER BY s.form_id, s.received_ms, s.id");
    (sql, args)
}

/// The columns of [`ExportRow`] of the submissions with the ids `{ids}` (a parameter list)
/// on the teams' cases of the user `{user}` (a parameter).
pub(crate) fn export_rows_sql(ids: &str, user: &str) -> String {
    format!(
        "SELECT s.id, s.case_id, COALESCE(c.merged_into, c.id) AS household_id, s.form_id,
            s.form_version, u.login, u.display_name AS worker_name, t.name AS team,
            s.received_ms, s.finalized_ms, s.review_status, s.corrects, o.body
         FROM submissions s
         JOIN cases c ON c.id = s.case_id
         JOIN teams t ON t.id = c.team_id
         JOIN users u ON u.id = s.user_id
         JOIN ops o ON o.op_id = s.op_id
         WHERE s.id IN ({ids})
           AND c.team_id IN (SELECT m.team_id FROM team_members m WHERE m.user_id = {user})"
    )
}

/// The corrections of the submissions with the ids `{ids}`: (corrected, correction,
/// received_ms). Looked up by the corrected id alone: ordered and limited to the latest, a
/// planner without statistics reads every submission backwards for each of them.
pub(crate) fn corrections_sql(ids: &str) -> String {
    format!("SELECT corrects, id, received_ms FROM submissions WHERE corrects IN {ids}")
}

/// The exports made by anyone who shares a team with the user `$1`, and the user's own,
/// newest first, at most `$2`.
pub(crate) const EXPORTS_OF_TEAMS: &str =
    "SELECT e.id, u.login, u.display_name, e.at_ms, e.format, e.filter_json, e.row_count,
        e.case_count
     FROM exports e JOIN users u ON u.id = e.user_id
     WHERE e.user_id = $1
        OR (EXISTS (SELECT 1 FROM export_teams x WHERE x.export_id = e.id)
            AND NOT EXISTS (SELECT 1 FROM export_teams x WHERE x.export_id = e.id
                              AND x.team_id NOT IN (SELECT m.team_id FROM team_members m
                                                    WHERE m.user_id = $1)))
     ORDER BY e.at_ms DESC, e.id DESC LIMIT $2";

/// The teams whose data the export `$1` of the user `$2` holds: the user's teams, or the one of
/// them named `$3`.
pub(crate) const INSERT_EXPORT_TEAMS: &str = "INSERT INTO export_teams (export_id, team_id)
     SELECT $1, m.team_id FROM team_members m JOIN teams t ON t.id = m.team_id
     WHERE m.user_id = $2 AND (CAST($3 AS TEXT) IS NULL OR t.name = $3)";

/// Records an export: `$1` … `$7` are id, user, time, format, filter (JSON), rows, cases.
pub(crate) const INSERT_EXPORT: &str =
    "INSERT INTO exports (id, user_id, at_ms, format, filter_json, row_count, case_count)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

impl CaseStore {
    /// How many submissions on the user's teams' cases pass an export's `filter` (its team,
    /// worker, form and days of receipt, as the review queue reads them), by form and version.
    pub async fn export_tally(
        &self,
        user_id: &str,
        filter: &ReviewFilter,
    ) -> Result<Vec<ExportTally>, StoreError> {
        on_db!(&self.db, |pool| {
            let (sql, args) = export_tally_sql(user_id, filter);
            let q = bind_args!(sqlx::query_as::<_, ExportTally>(&sql), args);
            Ok(q.fetch_all(pool).await?)
        })
    }

    /// The submissions [`Self::export_tally`] counts, as (form id, submission id): form by
    /// form, each oldest received first.
    pub async fn export_ids(
        &self,
        user_id: &str,
        filter: &ReviewFilter,
    ) -> Result<Vec<(String, String)>, StoreError> {
        on_db!(&self.db, |pool| {
            let (sql, args) = export_ids_sql(user_id, filter);
            let q = bind_args!(sqlx::query_as::<_, (String, String)>(&sql), args);
            Ok(q.fetch_all(pool).await?)
        })
    }

    /// Those of these submissions that are on the user's teams' cases, in no particular
    /// order, each with its operation, its latest correction, and the household it is shown
    /// with (the one its own is merged into, if it is) and that household's name as it stands
    /// now.
    pub async fn export_rows(
        &self,
        user_id: &str,
        ids: &[String],
    ) -> Result<Vec<ExportRow>, StoreError> {
        on_db!(&self.db, |pool| {
            use std::collections::{BTreeSet, HashMap};
            let mut rows = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(1000) {
                // The ids' parameters, and one more for the user after them.
                let params = pool.values(1, chunk.len() + 1);
                let (list, user) = params
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .rsplit_once(", ")
                    .expect("two parameters at least");
                let sql = export_rows_sql(list, user);
                let mut q = sqlx::query_as::<_, ExportRowRaw>(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                for row in q.bind(user_id).fetch_all(pool).await? {
                    rows.push(row.read()?);
                }
            }
            // Their latest corrections, and the names of the households they are shown
            // with, as the merge makes them of their writes and of those of the households
            // merged into them.
            let mut latest: HashMap<String, (i64, String)> = HashMap::new();
            let found: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            for chunk in found.chunks(1000) {
                let sql = corrections_sql(&pool.values(1, chunk.len()));
                let mut q = sqlx::query_as::<_, (String, String, i64)>(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                for (corrected, id, received_ms) in q.fetch_all(pool).await? {
                    let newer = latest
                        .get(&corrected)
                        .is_none_or(|held| (received_ms, &id) > (held.0, &held.1));
                    if newer {
                        latest.insert(corrected, (received_ms, id));
                    }
                }
            }
            let households: Vec<&str> = rows
                .iter()
                .map(|r| r.household_id.as_str())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let names = self.names_of_households(&households).await?;
            for row in &mut rows {
                if let Some(name) = names.get(&row.household_id) {
                    row.household_name.clone_from(name);
                }
                row.corrected_by = latest.remove(&row.id).map(|(_, id)| id);
            }
            Ok(rows)
        })
    }

    /// Records an export, in its turn between groups of pushes as a review decision is.
    pub async fn add_export(&self, export: &NewExport) -> Result<(), StoreError> {
        on_db!(&self.db, |pool| {
            let filter = serde_json::to_string(&export.filter)
                .map_err(|e| StoreError::Query(sqlx::Error::Encode(e.into())))?;
            let (pool, export) = (pool.clone(), export.clone());
            let insert = move || async move {
                let mut tx = pool.begin().await?;
                sqlx::query(INSERT_EXPORT)
                    .bind(&export.id)
                    .bind(&export.user_id)
                    .bind(export.at_ms)
                    .bind(export.format.as_str())
                    .bind(&filter)
                    .bind(export.rows)
                    .bind(export.cases)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(INSERT_EXPORT_TEAMS)
                    .bind(&export.id)
                    .bind(&export.user_id)
                    .bind(&export.team)
                    .execute(&mut *tx)
                    .await?;
                for case_id in &export.case_ids {
                    sqlx::query("INSERT INTO export_cases (export_id, case_id) VALUES ($1, $2)")
                        .bind(&export.id)
                        .bind(case_id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await
            };
            // In its turn between groups of pushes, as a review decision.
            match &self.writer {
                Some(writer) => writer.alone(insert).await??,
                None => insert().await?,
            }
            Ok(())
        })
    }

    /// The exports that held records of the household `case_id` or of those merged into it,
    /// oldest first (exports made before they were recorded by household are not known).
    pub async fn exports_holding(
        &self,
        case_id: &str,
    ) -> Result<Vec<cris_core::api::ExportEntry>, StoreError> {
        let sql = format!(
            "SELECT e.id, u.login, u.display_name, e.at_ms, e.format, e.filter_json, e.row_count,
                e.case_count
             FROM exports e JOIN users u ON u.id = e.user_id
             WHERE e.id IN (SELECT x.export_id FROM export_cases x
                            WHERE x.case_id IN {})
             ORDER BY e.at_ms, e.id",
            super::log::HOUSEHOLD
        );
        on_db!(&self.db, |pool| {
            sqlx::query_as::<_, ExportEntryRow>(&sql)
                .bind(case_id)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(ExportEntryRow::entry)
                .collect()
        })
    }

    /// The exports made by the user and by everyone of the user's teams, newest first, at
    /// most `limit`.
    pub async fn exports(
        &self,
        user_id: &str,
        limit: i64,
    ) -> Result<Vec<cris_core::api::ExportEntry>, StoreError> {
        on_db!(&self.db, |pool| {
            sqlx::query_as::<_, ExportEntryRow>(EXPORTS_OF_TEAMS)
                .bind(user_id)
                .bind(limit)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(ExportEntryRow::entry)
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rows_are_those_of_the_users_teams() {
        let sql = export_rows_sql("$1, $2", "$3");
        assert!(sql.contains("WHERE s.id IN ($1, $2)"), "{sql}");
        assert!(sql.contains("m.user_id = $3"), "{sql}");
        let (sql, args) = export_ids_sql("u1", &ReviewFilter::default());
        assert_eq!(args.len(), 1);
        assert!(
            sql.ends_with("ORDER BY s.form_id, s.received_ms, s.id"),
            "{sql}"
        );
    }
}
