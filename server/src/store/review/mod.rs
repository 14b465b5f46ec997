//! What the store keeps of review: the rows of the review queue and of review decisions as
//! both databases read them, and the queue's query, built from the filters given.

use cris_core::api::{InboxItem, ReviewEvent, ReviewItem, ReviewStatus};
use cris_core::record::Operation;

use super::{StoreError, decode};

mod store;

/// A query with each of `args` (see [`Arg`]) bound after what it has.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                $crate::store::review::Arg::Text(text) => query.bind(text),
                $crate::store::review::Arg::Int(n) => query.bind(n),
            };
        }
        query
    }};
}
pub(crate) use bind_args;

/// What the review queue is narrowed to (all optional), and the page.
#[derive(Clone, Debug, Default)]
pub struct ReviewFilter {
    /// A team's name.
    pub team: Option<String>,
    /// The login of the account that pushed the submission.
    pub worker: Option<String>,
    pub form: Option<String>,
    pub status: Option<ReviewStatus>,
    /// Received at or after this time.
    pub received_from_ms: Option<i64>,
    /// Received before this time.
    pub received_before_ms: Option<i64>,
    pub case_id: Option<String>,
    /// Part of a household's name, already in the form names are compared in
    /// ([`cris_core::duplicates::comparable`]): letters and single spaces.
    pub household: Option<String>,
    /// The households found by that name (and those merged into them), when they are few:
    /// looked up first by the store, so that the queue's query starts from their forms
    /// whatever the planner estimates of a name pattern.
    pub household_cases: Option<Vec<String>>,
    /// What has waited longest first, instead of what arrived last.
    pub oldest_first: bool,
    /// Only what comes after this item in the queue's order: (received_ms, submission id).
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// A submission with its review, as [`CaseStore::review`] finds it.
#[derive(Clone, Debug, PartialEq)]
pub struct Reviewed {
    pub item: ReviewItem,
    /// The operation that carried it, as logged.
    pub op: Operation,
    /// Oldest first.
    pub events: Vec<ReviewEvent>,
    /// The latest correction of it that arrived.
    pub corrected_by: Option<String>,
    /// Every version of the form (see [`EDITS`]).
    pub edits: Vec<Edit>,
}

/// One version of a form in its chain of corrections, with the operation that carried it.
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    pub id: String,
    pub corrects: Option<String>,
    pub login: String,
    pub display_name: String,
    pub device_id: String,
    pub form_version: i64,
    pub finalized_ms: i64,
    pub received_ms: i64,
    pub op: Operation,
}

/// An [`Edit`]'s row, its operation not yet read.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EditRow {
    pub id: String,
    pub corrects: Option<String>,
    pub login: String,
    pub display_name: String,
    pub device_id: String,
    pub form_version: i64,
    pub finalized_ms: i64,
    pub received_ms: i64,
    /// The operation as logged (JSON).
    pub body: String,
}

impl EditRow {
    pub(crate) fn edit(self) -> Result<Edit, StoreError> {
        Ok(Edit {
            op: decode::operation(&self.id, &self.body)?,
            id: self.id,
            corrects: self.corrects,
            login: self.login,
            display_name: self.display_name,
            device_id: self.device_id,
            form_version: self.form_version,
            finalized_ms: self.finalized_ms,
            received_ms: self.received_ms,
        })
    }
}

/// The versions of the form `$2` as [`EditRow`]s, on the teams' cases of the user `$1`, in the
/// order they arrived: up the chain of corrections to the original, then down again to every
/// correction of it (a chain is a handful of forms; `corrects` has a partial index, which
/// SQLite uses only when the query says `corrects IS NOT NULL` itself). The forms are looked up
/// by id from the chain: joined to it instead, a form's page took 40 ms on SQLite with 50,000
/// forms (the planner started from the team's forms).
pub(crate) const EDITS: &str = "WITH RECURSIVE up (id, corrects) AS (
         SELECT id, corrects FROM submissions WHERE id = $2
         UNION SELECT s.id, s.corrects FROM submissions s JOIN up ON s.id = up.corrects
     ), down (id) AS (
         SELECT id FROM up WHERE corrects IS NULL
         UNION SELECT s.id FROM submissions s JOIN down ON s.corrects = down.id
         WHERE s.corrects IS NOT NULL
     )
     SELECT s.id, s.corrects, u.login, u.display_name, o.device_id, s.form_version,
         s.finalized_ms, s.received_ms, o.body
     FROM submissions s
     JOIN cases c ON c.id = s.case_id
     JOIN users u ON u.id = s.user_id
     JOIN ops o ON o.op_id = s.op_id
     WHERE s.id IN (SELECT id FROM down)
       AND c.team_id IN (SELECT m.team_id FROM team_members m WHERE m.user_id = $1)
     ORDER BY s.received_ms, s.id";

/// A submission's row in the review queue's query.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ReviewRow {
    id: String,
    case_id: String,
    household_id: String,
    form_id: String,
    form_version: i64,
    login: String,
    display_name: String,
    team: String,
    received_ms: i64,
    finalized_ms: i64,
    corrects: Option<String>,
    review_status: String,
    comment: Option<String>,
    decided_ms: Option<i64>,
    reviewer_login: Option<String>,
    reviewer_name: Option<String>,
}

impl ReviewRow {
    pub(crate) fn item(self) -> Result<ReviewItem, StoreError> {
        Ok(ReviewItem {
            status: self
                .review_status
                .parse()
                .map_err(|e| decode::corrupt("review status", &self.id, e))?,
            form_version: u32::try_from(self.form_version)
                .map_err(|e| decode::corrupt("form version", &self.id, e))?,
            submission_id: self.id,
            case_id: self.case_id,
            household_id: self.household_id,
            household_name: String::new(),
            form_id: self.form_id,
            worker_login: self.login,
            worker_name: self.display_name,
            team: self.team,
            received_at_ms: self.received_ms,
            finalized_at_ms: self.finalized_ms,
            corrects: self.corrects,
            comment: self.comment.filter(|c| !c.trim().is_empty()),
        })
    }

    /// An inbox item: a row of a submission whose latest review event asked for changes.
    pub(crate) fn inbox_item(self) -> Result<InboxItem, StoreError> {
        let id = self.id.clone();
        let missing =
            || decode::corrupt("inbox item", &id, "a request for changes without its event");
        Ok(InboxItem {
            form_version: u32::try_from(self.form_version)
                .map_err(|e| decode::corrupt("form version", &self.id, e))?,
            submission_id: self.id,
            case_id: self.case_id,
            form_id: self.form_id,
            comment: self.comment.ok_or_else(missing)?,
            reviewer_login: self.reviewer_login.ok_or_else(missing)?,
            reviewer_name: self.reviewer_name.ok_or_else(missing)?,
            requested_at_ms: self.decided_ms.ok_or_else(missing)?,
            received_at_ms: self.received_ms,
        })
    }
}

/// A review event's row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ReviewEventRow {
    id: i64,
    submission_id: String,
    decision: String,
    comment: String,
    login: String,
    display_name: String,
    at_ms: i64,
}

impl ReviewEventRow {
    pub(crate) fn event(self) -> Result<ReviewEvent, StoreError> {
        Ok(ReviewEvent {
            id: self.id,
            submission_id: self.submission_id,
            decision: self
                .decision
                .parse()
                .map_err(|e| decode::corrupt("review decision", self.id, e))?,
            comment: self.comment,
            reviewer_login: self.login,
            reviewer_name: self.display_name,
            at_ms: self.at_ms,
        })
    }
}

/// A value bound to a query built piece by piece.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
}

/// The columns of [`ReviewRow`] for the submissions on the teams' cases of the user `$1`,
/// with their latest review event; conditions follow as `AND …`.
pub(crate) const REVIEW_ROWS: &str =
    "SELECT s.id, s.case_id, COALESCE(c.merged_into, c.id) AS household_id, s.form_id,
        s.form_version, u.login, u.display_name,
        t.name AS team, s.received_ms, s.finalized_ms, s.corrects, s.review_status,
        e.comment, e.at_ms AS decided_ms, r.login AS reviewer_login, r.display_name AS reviewer_name
     FROM submissions s
     JOIN cases c ON c.id = s.case_id
     JOIN teams t ON t.id = c.team_id
     JOIN users u ON u.id = s.user_id
     LEFT JOIN review_events e
       ON e.id = (SELECT max(x.id) FROM review_events x WHERE x.submission_id = s.id)
     LEFT JOIN users r ON r.id = e.reviewer_id
     WHERE c.team_id IN (SELECT m.team_id FROM team_members m WHERE m.user_id = $1)";

/// The queue's order, newest received first: paging goes by (received_ms, id), which the
/// indexes on `submissions` hold in that order (and read backwards for [`OLDEST_ORDER`]).
pub(crate) const REVIEW_ORDER: &str = " ORDER BY s.received_ms DESC, s.id DESC";
/// The queue's order when what has waited longest comes first.
pub(crate) const OLDEST_ORDER: &str = " ORDER BY s.received_ms, s.id";

/// The query of a page of the review queue and its arguments: the submissions of
/// [`filtered_submissions`], after the cursor, in the order asked for.
///
/// The page is chosen first, in a subquery with its own `LIMIT` (which neither database
/// flattens into the outer query), and only its rows are joined to their latest decision and
/// names: whatever a planner without statistics estimates, the latest-decision lookup runs for
/// one page, not for every form of the teams (on PostgreSQL never analyzed, a first page took
/// 50-190 ms the other way round).
pub(crate) fn review_queue_sql(user_id: &str, f: &ReviewFilter) -> (String, Vec<Arg>) {
    let (from_where, mut args) = filtered_submissions(user_id, f);
    let mut sql = format!("SELECT s.* {from_where}");
    let (order, before) = if f.oldest_first {
        (OLDEST_ORDER, ">")
    } else {
        (REVIEW_ORDER, "<")
    };
    if let Some((received_ms, id)) = &f.after {
        let ms = push_arg(&mut args, Arg::Int(*received_ms));
        let id = push_arg(&mut args, Arg::Text(id.clone()));
        // The first term bounds the index range; the second skips what the page before had.
        sql += &format!(
            " AND s.received_ms {before}= {ms} AND (s.received_ms {before} {ms} OR s.id {before} {id})"
        );
    }
    let n = push_arg(&mut args, Arg::Int(f.limit));
    sql += &format!("{order} LIMIT {n}");
    let page = REVIEW_ROWS.replacen("FROM submissions s", &format!("FROM ({sql}) s"), 1);
    (format!("{page}{order}"), args)
}

/// `FROM … WHERE …` of the submissions (`s`, on cases `c`) on the teams' cases of the user
/// `$1` that pass the filter's team, worker, form, status, days, case and household name, and its
/// arguments:
/// what the review queue pages through and an export writes out. Only the filters given
/// become conditions, each one an index can serve (`$n` parameters, read by both databases);
/// the cursor and the limit are the caller's.
pub(crate) fn filtered_submissions(user_id: &str, f: &ReviewFilter) -> (String, Vec<Arg>) {
    let mut sql = String::from(
        "FROM submissions s JOIN cases c ON c.id = s.case_id
         WHERE c.team_id IN (SELECT m.team_id FROM team_members m WHERE m.user_id = $1)",
    );
    let mut args = vec![Arg::Text(user_id.to_owned())];
    if let Some(team) = &f.team {
        let n = push_arg(&mut args, Arg::Text(team.clone()));
        sql += &format!(" AND c.team_id = (SELECT id FROM teams WHERE name = {n})");
    }
    if let Some(worker) = &f.worker {
        let n = push_arg(&mut args, Arg::Text(worker.clone()));
        sql += &format!(" AND s.user_id = (SELECT id FROM users WHERE login = {n})");
    }
    if let Some(form) = &f.form {
        let n = push_arg(&mut args, Arg::Text(form.clone()));
        sql += &format!(" AND s.form_id = {n}");
    }
    if let Some(status) = f.status {
        let n = push_arg(&mut args, Arg::Text(status.as_str().to_owned()));
        sql += &format!(" AND s.review_status = {n}");
    }
    if let Some(from) = f.received_from_ms {
        let n = push_arg(&mut args, Arg::Int(from));
        sql += &format!(" AND s.received_ms >= {n}");
    }
    if let Some(before) = f.received_before_ms {
        let n = push_arg(&mut args, Arg::Int(before));
        sql += &format!(" AND s.received_ms < {n}");
    }
    if let Some(case_id) = &f.case_id {
        let n = push_arg(&mut args, Arg::Text(case_id.clone()));
        // The household's forms: its own and those of the households merged into it.
        sql += &format!(
            " AND s.case_id IN (SELECT CAST({n} AS TEXT) UNION ALL
                SELECT m.case_id FROM case_merges m WHERE m.into_id = {n} AND m.undone_op_id IS NULL)"
        );
    }
    if let Some(cases) = &f.household_cases {
        if cases.is_empty() {
            sql += " AND 1 = 0";
        } else {
            let list: Vec<String> = cases
                .iter()
                .map(|id| push_arg(&mut args, Arg::Text(id.clone())))
                .collect();
            sql += &format!(" AND s.case_id IN ({})", list.join(", "));
        }
    } else if let Some(name) = &f.household {
        // `comparable` leaves letters and spaces only: nothing for LIKE to read as a pattern.
        let n = push_arg(&mut args, Arg::Text(format!("%{name}%")));
        // A name many households have: each form's household (or the one it joined) checked
        // by its key as the forms are read in the queue's order, which finds a page of them
        // soon, rather than every form of every such household gathered and sorted.
        sql += &format!(
            " AND (EXISTS (SELECT 1 FROM case_names n WHERE n.case_id = s.case_id AND n.name LIKE {n})
                OR EXISTS (SELECT 1 FROM case_merges m JOIN case_names n ON n.case_id = m.into_id
                    WHERE m.case_id = s.case_id AND m.undone_op_id IS NULL AND n.name LIKE {n}))"
        );
    }
    (sql, args)
}

/// How many households a name may find for the queue to start from their forms (see
/// [`ReviewFilter::household_cases`]); a name found in more is looked for as the queue's pages
/// are read, newest first, as its forms are many.
pub const FEW_HOUSEHOLDS: usize = 500;

/// The households with a name like `$1` and those merged into one of them while the merge
/// stands, of any team (the queue's query keeps to the user's teams), at most `$2` rows. A
/// household may come twice: kept apart, a name most households have stops the reading at
/// `$2` rows, where a set (or a join to the households' teams) would read them all.
pub(crate) const HOUSEHOLDS_NAMED: &str = "SELECT n.case_id FROM case_names n WHERE n.name LIKE $1
     UNION ALL
     SELECT m.case_id FROM case_merges m JOIN case_names n ON n.case_id = m.into_id
       WHERE m.undone_op_id IS NULL AND n.name LIKE $1
     LIMIT $2";

/// Adds an argument to a query built piece by piece: its parameter (`$n`).
pub(crate) fn push_arg(args: &mut Vec<Arg>, arg: Arg) -> String {
    args.push(arg);
    format!("${}", args.len())
}

/// The review status a submission arriving now gets, and whether the submission it corrects
/// becomes `corrected`: a correction of one sent back for changes (and not approved since)
/// is `resubmitted`.
pub(crate) fn arriving_status(corrected: Option<&str>) -> (&'static str, bool) {
    match corrected {
        Some("changes_requested" | "corrected") => ("resubmitted", true),
        _ => ("new", false),
    }
}
