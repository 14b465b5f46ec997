//! What the store keeps of exports: the submissions an export writes out, as both databases
//! read them (counted first, then listed, then read a page of ids at a time with what the file
//! shows of each), and the record of every export made.

use std::collections::{BTreeMap, HashMap};

use cris_core::api::{ExportEntry, ExportFormat, ExportQuery};
use cris_core::form::Answers;
use cris_core::record::{self, Case};

use super::StoreError;
use super::review::{Arg, ReviewFilter, filtered_submissions};

/// The case property an export shows beside each submission: the household's name.
pub const HOUSEHOLD_NAME: &str = "household_name";

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

/// The households merged into the households `{ids}` while their merges stand: (merged,
/// merge, joined).
pub(crate) fn merged_into_sql(ids: &str) -> String {
    format!(
        "SELECT case_id, op_id, into_id FROM case_merges
         WHERE undone_op_id IS NULL AND into_id IN {ids}"
    )
}

/// The names of households as shown (see [`cris_core::record::households`]), from the writes
/// of the household names of them and of the households merged into them (`(case, hlc, value,
/// seen)`, as [`household_names_sql`] reads them) and those merges (as [`merged_into_sql`]
/// reads them).
pub(crate) fn names_shown(
    writes: Vec<(String, String, String, String)>,
    merges: Vec<(String, String, String)>,
) -> Result<HashMap<String, String>, StoreError> {
    let mut by_case: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    for (case_id, hlc, value, seen) in writes {
        by_case.entry(case_id).or_default().push((hlc, value, seen));
    }
    for (case_id, _, into) in &merges {
        by_case.entry(case_id.clone()).or_default();
        by_case.entry(into.clone()).or_default();
    }
    let mut cases: BTreeMap<String, Case> = BTreeMap::new();
    for (case_id, rows) in by_case {
        let mut case = Case::new(&case_id, 0.0);
        if !rows.is_empty() {
            case.fields
                .0
                .insert(HOUSEHOLD_NAME.to_owned(), super::field_of(rows)?);
        }
        cases.insert(case_id, case);
    }
    for (case_id, merge, into) in merges {
        if let Some(case) = cases.get_mut(&case_id) {
            case.merges.insert(merge, into);
        }
    }
    let cases: Vec<Case> = cases.into_values().collect();
    Ok(record::households(&cases)
        .into_iter()
        .map(|h| {
            let name = h.household_name().to_owned();
            (h.id, name)
        })
        .collect())
}

/// The writes of the household names of the cases `{ids}`: (case, hlc, value, seen).
pub(crate) fn household_names_sql(ids: &str) -> String {
    format!(
        "SELECT case_id, hlc, value, seen FROM field_writes
         WHERE field = '{HOUSEHOLD_NAME}' AND case_id IN {ids}"
    )
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
