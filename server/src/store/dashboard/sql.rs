//! The dashboard's SQL, the same for both databases.

use super::*;

/// The operations after the watermark: `(watermark, case_id, seq)`; none when nothing was
/// logged since. The watermark is read once, then the log's key is a range (grouped by
/// household here, SQLite would rather read the whole log in the order of an index on it).
pub(crate) const CASES_SINCE: &str =
    "SELECT (SELECT seq FROM case_summaries_watermark), o.case_id, o.seq FROM ops o
     WHERE o.seq > (SELECT seq FROM case_summaries_watermark)
       AND NOT EXISTS (SELECT 1 FROM erasures e WHERE e.case_id = o.case_id)";

/// The households the cases `{ids}` were ever merged into (undone since or not): their
/// summaries change with the merged household's operations, the merge and its undoing among
/// them.
pub(crate) fn merged_into_sql(ids: &str) -> String {
    format!("SELECT DISTINCT into_id FROM case_merges WHERE case_id IN {ids}")
}

/// The merges of the households `{ids}`, and those into them, as [`MergeRow`]s.
pub(crate) fn merges_sql(ids: &str) -> [String; 2] {
    let select = "SELECT m.case_id, m.into_id, m.op_id, o.seq, u.seq FROM case_merges m
         JOIN ops o ON o.op_id = m.op_id LEFT JOIN ops u ON u.op_id = m.undone_op_id";
    [
        format!("{select} WHERE m.case_id IN {ids}"),
        format!("{select} WHERE m.into_id IN {ids}"),
    ]
}

/// Of the cases `{ids}`: their operations logged up to `{end}` (a parameter) as [`OpRow`]s,
/// and (`{same_ids}`, the same cases' parameters on their own) the writes of the properties a
/// summary reads.
pub(crate) fn chunk_sql(ids: &str, end: &str, same_ids: &str) -> [String; 2] {
    [
        format!(
            "SELECT o.case_id, c.team_id, o.seq, o.user_id, o.body
             FROM ops o JOIN cases c ON c.id = o.case_id
             WHERE o.case_id IN {ids} AND o.seq <= {end}"
        ),
        format!(
            "SELECT case_id, field, hlc, value, seen FROM field_writes
             WHERE case_id IN {same_ids} AND field IN ('{HOUSEHOLD_NAME}', '{HOUSING}')"
        ),
    ]
}

/// A list of parameters in the store's style (`(?, ?, ?)`, `($1, $2, $3)`) as the list of all
/// but the last, and the last: ids and one more value bound after them.
pub(crate) fn and_one_more(params: &str) -> (String, String) {
    let (list, last) = params
        .trim_end_matches(')')
        .rsplit_once(", ")
        .expect("two parameters at least");
    (format!("{list})"), last.to_owned())
}

/// What a summary held replaces, and its counts: `(case_id, seq, team_id, housing,
/// housing_conflict, consent_until, consents, withdrawals, merged_into)` of the households
/// `{ids}`.
pub(crate) fn held_summaries_sql(ids: &str) -> String {
    format!(
        "SELECT case_id, seq, team_id, housing, housing_conflict, consent_until, consents,
                withdrawals, merged_into
         FROM case_summaries WHERE case_id IN {ids}"
    )
}

/// A summary as [`held_summaries_sql`] reads it: what its household counted in.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct HeldSummary {
    pub case_id: String,
    /// The end of the log it was made from.
    pub seq: i64,
    pub team_id: String,
    pub housing: Option<String>,
    pub housing_conflict: bool,
    pub consent_until: Option<i64>,
    pub consents: i64,
    pub withdrawals: i64,
    pub merged_into: Option<String>,
}

/// Writes summaries (`{values}`: 14 columns a row) over those made from less of the log.
pub(crate) fn upsert_summaries_sql(values: &str) -> String {
    format!(
        "INSERT INTO case_summaries (case_id, team_id, seq, household_name, housing,
             housing_conflict, open_steps, last_visit, first_due, dues, consent_until, consents,
             withdrawals, merged_into)
         VALUES {values}
         ON CONFLICT (case_id) DO UPDATE SET team_id = excluded.team_id, seq = excluded.seq,
             household_name = excluded.household_name, housing = excluded.housing,
             housing_conflict = excluded.housing_conflict, open_steps = excluded.open_steps,
             last_visit = excluded.last_visit, first_due = excluded.first_due,
             dues = excluded.dues, consent_until = excluded.consent_until,
             consents = excluded.consents, withdrawals = excluded.withdrawals,
             merged_into = excluded.merged_into
         WHERE case_summaries.seq < excluded.seq"
    )
}

/// Keeps home visits (`{values}`: submission, team, user, day), each once, and returns those
/// kept now: `(team_id, day, user_id)`.
pub(crate) fn insert_visits_sql(values: &str) -> String {
    format!(
        "INSERT INTO case_summary_visits (submission_id, team_id, user_id, day) VALUES {values}
         ON CONFLICT (submission_id) DO NOTHING
         RETURNING team_id, day, user_id"
    )
}

/// Adds to household counts (`{values}`: team, housing, in conflict, consent until,
/// households, consents, withdrawals).
pub(crate) fn add_household_counts_sql(values: &str) -> String {
    format!(
        "INSERT INTO household_counts (team_id, housing, housing_conflict, consent_until,
             households, consents, withdrawals)
         VALUES {values}
         ON CONFLICT (team_id, housing, housing_conflict, consent_until) DO UPDATE SET
             households = household_counts.households + excluded.households,
             consents = household_counts.consents + excluded.consents,
             withdrawals = household_counts.withdrawals + excluded.withdrawals"
    )
}

/// Adds to visit counts (`{values}`: team, day, user, visits).
pub(crate) fn add_visit_counts_sql(values: &str) -> String {
    format!(
        "INSERT INTO visit_counts (team_id, day, user_id, visits) VALUES {values}
         ON CONFLICT (team_id, day, user_id) DO UPDATE SET
             visits = visit_counts.visits + excluded.visits"
    )
}

/// `n` numbered parameters from `$first` on, in parentheses: `($3, $4)`.
pub(crate) fn params(first: usize, n: usize) -> String {
    let list: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    format!("({})", list.join(", "))
}

/// The covered teams: `(id, name)` of the user `$1`'s teams, or of the one named `$2`.
pub(crate) fn teams_sql(named: bool) -> &'static str {
    if named {
        "SELECT t.id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id
         WHERE m.user_id = $1 AND t.name = $2 ORDER BY t.name"
    } else {
        "SELECT t.id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id
         WHERE m.user_id = $1 ORDER BY t.name"
    }
}

/// Home visits of the teams `$3…` from the day `$1` to the day `$2`: `(login, display_name,
/// day, visits)`, per team.
pub(crate) fn visits_sql(teams: usize) -> String {
    format!(
        "SELECT u.login, u.display_name, v.day, v.visits
         FROM visit_counts v JOIN users u ON u.id = v.user_id
         WHERE v.team_id IN {} AND v.day >= $1 AND v.day <= $2",
        params(3, teams),
    )
}

/// The enabled workers of the teams `$1…`: `(login, display_name)`.
pub(crate) fn workers_sql(teams: usize) -> String {
    format!(
        "SELECT DISTINCT u.login, u.display_name FROM users u
         JOIN team_members m ON m.user_id = u.id
         WHERE m.team_id IN {} AND u.role = 'worker' AND NOT u.disabled",
        params(1, teams)
    )
}

/// The households of the teams `$1…`: `(housing, in conflict, consent until, households,
/// consents, withdrawals)`, per team.
pub(crate) fn households_sql(teams: usize) -> String {
    format!(
        "SELECT housing, housing_conflict, consent_until, households, consents, withdrawals
         FROM household_counts WHERE team_id IN {} AND households > 0",
        params(1, teams)
    )
}

/// The households of the teams `$2…` with an open step due on the day `$1` or before:
/// `(case_id, household_name, due days)`. The days are counted as they are read.
pub(crate) fn overdue_sql(teams: usize) -> String {
    format!(
        "SELECT s.case_id, s.household_name, s.dues FROM case_summaries s
         WHERE s.team_id IN {} AND s.first_due <= $1
           AND NOT EXISTS (SELECT 1 FROM case_closings k
                           WHERE k.case_id = s.case_id AND k.reopened_op_id IS NULL)",
        params(2, teams)
    )
}

/// The households of the teams `$1…` whose case is closed now, by why: `(reason, count)`.
pub(crate) fn closed_sql(teams: usize) -> String {
    format!(
        "SELECT k.reason, COUNT(*) FROM case_closings k JOIN cases c ON c.id = k.case_id
         WHERE k.reopened_op_id IS NULL AND c.team_id IN {} GROUP BY k.reason",
        params(1, teams)
    )
}

/// The referrals of the teams' (`$3…`) households made from the day `$1` to the day `$2`:
/// `(recipient, state, day, referrals)`.
pub(crate) fn referrals_sql(teams: usize) -> String {
    format!(
        "SELECT r.recipient, r.state, r.made_ms / 86400000 AS day, COUNT(*)
         FROM referrals r JOIN cases c ON c.id = r.case_id
         WHERE c.team_id IN {} AND r.made_ms >= $1 * 86400000 AND r.made_ms < ($2 + 1) * 86400000
         GROUP BY r.recipient, r.state, r.made_ms / 86400000",
        params(3, teams)
    )
}

/// The devices of the teams' (`$1…`) members as the pushes and pulls noted them.
pub(crate) fn devices_sql(teams: usize) -> String {
    format!(
        "SELECT d.device_id, u.login, u.display_name, d.last_push_ms, d.last_pull_ms,
                r.revoked_ms, r.revoked_by
         FROM device_syncs d JOIN users u ON u.id = d.user_id
         LEFT JOIN revoked_devices r ON r.device_id = d.device_id
         WHERE d.user_id IN (SELECT m.user_id FROM team_members m WHERE m.team_id IN {})",
        params(1, teams)
    )
}

/// A device's row: `(device_id, login, display_name, last_push_ms, last_pull_ms, revoked_ms,
/// revoked_by)`.
pub(crate) type DeviceRow = (
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

/// A row of [`households_sql`].
pub(crate) type HouseholdRow = (String, bool, i64, i64, i64, i64);

/// A query with each of `ids` bound after what it has.
macro_rules! bind_all {
    ($query:expr, $ids:expr) => {{
        let mut query = $query;
        for id in $ids {
            query = query.bind(id);
        }
        query
    }};
}
pub(crate) use bind_all;

/// A device's pull is noted at most once in this long: phones pull page after page.
pub(crate) const PULL_NOTED_EVERY_MS: i64 = 60_000;

/// Notes the pull of device `$1` by user `$2` at `$3`, unless one was noted less than `$4` ago.
pub(crate) const NOTE_PULL: &str = "INSERT INTO device_syncs (device_id, user_id, last_pull_ms)
     VALUES ($1, $2, $3)
     ON CONFLICT (device_id, user_id) DO UPDATE SET last_pull_ms = excluded.last_pull_ms
     WHERE device_syncs.last_pull_ms IS NULL OR device_syncs.last_pull_ms <= excluded.last_pull_ms - $4";

/// Notes the pushes of a group (`{values}`: device, user, time), each device's latest time.
pub(crate) fn note_pushes_sql(values: &str) -> String {
    format!(
        "INSERT INTO device_syncs (device_id, user_id, last_push_ms) VALUES {values}
         ON CONFLICT (device_id, user_id) DO UPDATE SET last_push_ms = excluded.last_push_ms
         WHERE device_syncs.last_push_ms IS NULL OR device_syncs.last_push_ms < excluded.last_push_ms"
    )
}
