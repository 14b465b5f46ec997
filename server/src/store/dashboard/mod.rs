//! What the store keeps and reads for the supervisor's dashboard (`GET /api/v1/dashboard`).
//!
//! Most of what the dashboard counts is only in the operations' bodies (the answers of forms,
//! the consents as signed): reading 50,000 bodies for every dashboard would take seconds. So
//! the facts it needs are kept in derived tables, and its counts are plain SQL over them,
//! each reading the rows of the teams covered only:
//! - `case_summaries`: per household, its name, housing (and whether in conflict), open
//!   agreed steps and their due dates (the households with steps due by a day are an index
//!   range), latest visit and the last day its consents grant anything. A household merged
//!   into another is summarised as part of the one it joined, as the phone shows it (its
//!   records with the other's, its properties joined to the other's); its own row only names
//!   the one it joined (`merged_into`) and counts nowhere;
//! - `case_summary_visits`: every home visit (not a correction) by worker and day, as
//!   `submissions` has them (taken from the operation that carried it), with the household's
//!   team;
//! - `household_counts` and `visit_counts`: the households by team, housing and consent, and
//!   the visits by team, day and worker, counted as the tables above are written, so that a
//!   dashboard reads a few rows of counts however many households and visits its teams have
//!   had.
//!
//! They are brought up to date lazily, when a dashboard is asked for, never by pushes: pushes
//! stay as fast as they were (a summary needs every operation of its household, read and
//! parsed; a push group writes thousands of operations a second). A watermark
//! (`case_summaries_watermark`) holds the highest `ops.seq` summarised; a dashboard first
//! re-summarises the households with operations after it (found by a range of the log's key,
//! [`CASES_SINCE`]), and those they are or were merged into (a merge and its undoing are
//! operations of the merged household), from all their operations up to the end of the log
//! the refresh began with, and then moves it there. Between two dashboards that is the
//! households pushed meanwhile; the first dashboard after a bulk import (or after a migration
//! that empties these tables and sets the watermark back to 0) pays for every household,
//! once. Only what a summary needs of an operation is parsed (see [`read_logged`]).
//!
//! Two dashboards refreshing at once (two supervisors, two server processes) may do the same
//! work, but their writes take turns (SQLite's one write lock, in the writer's queue;
//! PostgreSQL, an advisory lock of their own), and each writes only what changes the tables:
//! a summary only replaces one made from less of the log (its `seq` is lower; see
//! [`summarize_households`] for what it counts with merges), a visit is
//! kept once (by its submission's id), the counts change by what was replaced and added, and
//! the watermark only moves forward. Operations pushed while a refresh runs are either
//! summarised by it or after the next watermark, never skipped: log sequence numbers become
//! visible in their order (SQLite has one writer; PostgreSQL pushes hold the push lock while
//! they take their numbers and commit).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use cris_core::Date;
use cris_core::api::{
    ConsentCounts, Dashboard, DeviceSync, HousingCounts, MAX_OVERDUE_LISTED, Overdue,
    OverdueHousehold, WorkerVisits,
};
use cris_core::caseload::{self, fold};
use cris_core::consent::{self, Consent, ConsentState, Withdrawal};
use cris_core::form::{Answer, Answers};
use cris_core::record::{self, Case, Correction, Submission};
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};

use super::{StoreError, decode};

mod store;

pub(crate) const DAY_MS: i64 = 86_400_000;

/// The case properties a summary reads: the name the caseload shows, and the housing.
pub(crate) const HOUSEHOLD_NAME: &str = "household_name";
pub(crate) const HOUSING: &str = "housing_situation";

/// `consent_until` of a household whose consent holds until withdrawn: the last day a
/// [`Date`] can name.
pub(crate) const UNTIL_WITHDRAWN: i64 = i32::MAX as i64;

/// Households summarised together: read, parsed and written in one go (a few megabytes of
/// operations), so that the first dashboard on a full store neither holds every operation in
/// memory nor keeps the writer from pushes for long.
pub(crate) const SUMMARY_CHUNK: usize = 500;

/// What the dashboard covers: the user's teams, or the one named; the weeks up to `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DashboardFilter {
    /// A team's name.
    pub team: Option<String>,
    /// The last day shown.
    pub to: Date,
    /// How many weeks, at least 1.
    pub weeks: u32,
}

impl DashboardFilter {
    /// The Monday of each week shown, oldest first.
    pub fn week_starts(&self) -> Vec<Date> {
        let last = self.to.monday().days();
        let weeks = i32::try_from(self.weeks.max(1)).unwrap_or(1);
        (0..weeks)
            .rev()
            .map(|back| Date::from_days(last - 7 * back))
            .collect()
    }
}

/// What the dashboard needs of one household, derived from its operations and properties.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CaseSummary {
    pub case_id: String,
    pub team_id: String,
    /// The highest log sequence number of the operations it was made from.
    pub seq: i64,
    pub household_name: String,
    /// The current value of `housing_situation`; `None` without one (or an empty one).
    pub housing: Option<String>,
    pub housing_conflict: bool,
    /// Agreed steps not reported done.
    pub open_steps: i64,
    /// The due dates of those that have one (days since 1970), oldest first.
    pub dues: Vec<i64>,
    /// The latest visit date (days since 1970).
    pub last_visit: Option<i64>,
    /// The last day its consents grant anything (days since 1970), [`UNTIL_WITHDRAWN`], or
    /// `None` when they grant nothing on any day.
    pub consent_until: Option<i64>,
    pub consents: i64,
    pub withdrawals: i64,
    /// The household it is merged into, for a merged household: its row counts nowhere (and
    /// holds no steps), what it has is in the summary of the one it joined.
    pub merged_into: Option<String>,
}

impl CaseSummary {
    /// `dues` as the store keeps them: the days, oldest first, separated by commas.
    pub fn dues_text(&self) -> String {
        let days: Vec<String> = self.dues.iter().map(i64::to_string).collect();
        days.join(",")
    }
}

/// The due days of `dues_text` that are on the day `to` or before: how many, and the oldest.
pub(crate) fn overdue_of(dues_text: &str, to: i64) -> Result<(u32, Option<i64>), StoreError> {
    let (mut n, mut oldest) = (0u32, None);
    for day in dues_text.split(',').filter(|d| !d.is_empty()) {
        let day: i64 = day
            .parse()
            .map_err(|_| decode::corrupt("case summary's due days", dues_text, "not a day"))?;
        if day <= to {
            n += 1;
            oldest = Some(oldest.map_or(day, |o: i64| o.min(day)));
        }
    }
    Ok((n, oldest))
}

/// A home visit kept for the counts: `(submission_id, team_id, user_id, day)`.
pub(crate) type Visit = (String, String, String, i64);

/// An operation as a refresh reads it: `(case_id, team_id, seq, user_id, body)`.
pub(crate) type OpRow = (String, String, i64, String, String);

/// What a summary reads of a logged operation.
#[derive(Debug)]
pub(crate) enum Logged {
    /// A form, with only the answers [`caseload::summarize`] reads.
    Submission(Box<Submission>),
    Consent(Box<Consent>),
    Withdrawal(Box<Withdrawal>),
    /// Anything else: a summary finds nothing in it (a resolution's writes are in
    /// `field_writes`).
    Other,
}

/// The answers [`caseload::summarize`] reads (`core/src/caseload.rs`): the visit's date, the
/// progress it reports and the steps agreed. The rest of a form, most of its text, is
/// skipped unread: the test `light_reading_summarises_as_the_full_operation` checks that the
/// summary comes out the same.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum SummaryAnswer {
    VisitDate,
    StepProgress,
    PlanGoals,
    NewSteps,
    #[serde(other)]
    Other,
}

impl SummaryAnswer {
    fn name(&self) -> Option<&'static str> {
        match self {
            SummaryAnswer::VisitDate => Some("visit_date"),
            SummaryAnswer::StepProgress => Some("step_progress"),
            SummaryAnswer::PlanGoals => Some("plan_goals"),
            SummaryAnswer::NewSteps => Some("new_steps"),
            SummaryAnswer::Other => None,
        }
    }
}

fn summary_answers<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Answers, D::Error> {
    struct Read;
    impl<'de> Visitor<'de> for Read {
        type Value = Answers;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a form's answers")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Answers, A::Error> {
            let mut answers = Answers::new();
            while let Some(key) = map.next_key::<SummaryAnswer>()? {
                match key.name() {
                    Some(name) => {
                        answers
                            .0
                            .insert(name.to_owned(), map.next_value::<Answer>()?);
                    }
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(answers)
        }
    }
    d.deserialize_map(Read)
}

/// A submission as a summary reads it.
#[derive(Deserialize)]
struct SummarySubmission {
    id: String,
    form_id: String,
    case_id: String,
    finalized_at_ms: f64,
    #[serde(default)]
    corrects: Option<Correction>,
    #[serde(deserialize_with = "summary_answers")]
    answers: Answers,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum ChangeKey {
    Kind,
    Submission,
    Consent,
    Withdrawal,
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ChangeKind {
    Submit,
    Consent,
    Withdraw,
    #[serde(other)]
    Other,
}

struct LoggedChange(Logged);

impl<'de> Deserialize<'de> for LoggedChange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Read;
        impl<'de> Visitor<'de> for Read {
            type Value = LoggedChange;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a change with a kind")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LoggedChange, A::Error> {
                let (mut kind, mut submission) = (None, None);
                let (mut consent, mut withdrawal) = (None, None);
                while let Some(key) = map.next_key::<ChangeKey>()? {
                    match key {
                        ChangeKey::Kind => kind = Some(map.next_value::<ChangeKind>()?),
                        ChangeKey::Submission => {
                            submission = Some(map.next_value::<SummarySubmission>()?);
                        }
                        ChangeKey::Consent => consent = Some(map.next_value::<Box<Consent>>()?),
                        ChangeKey::Withdrawal => {
                            withdrawal = Some(map.next_value::<Box<Withdrawal>>()?);
                        }
                        ChangeKey::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let missing = |what| serde::de::Error::missing_field(what);
                Ok(LoggedChange(match kind {
                    Some(ChangeKind::Submit) => {
                        let s = submission.ok_or_else(|| missing("submission"))?;
                        Logged::Submission(Box::new(Submission {
                            id: s.id,
                            form_id: s.form_id,
                            form_version: 0,
                            case_id: s.case_id,
                            device: String::new(),
                            answers: s.answers,
                            started_at_ms: 0.0,
                            finalized_at_ms: s.finalized_at_ms,
                            corrects: s.corrects,
                            team: None,
                        }))
                    }
                    Some(ChangeKind::Consent) => {
                        Logged::Consent(consent.ok_or_else(|| missing("consent"))?)
                    }
                    Some(ChangeKind::Withdraw) => {
                        Logged::Withdrawal(withdrawal.ok_or_else(|| missing("withdrawal"))?)
                    }
                    Some(ChangeKind::Other) => Logged::Other,
                    None => return Err(missing("kind")),
                }))
            }
        }
        d.deserialize_map(Read)
    }
}

/// Reads what a summary needs of a logged operation (JSON of
/// [`cris_core::record::Operation`]): a form's submission with only the answers the summary
/// reads, a consent or a withdrawal whole (their seals are checked), nothing of the rest.
/// Several times faster than reading the whole operation, which is most of a refresh.
pub(crate) fn read_logged(seq: i64, body: &str) -> Result<Logged, StoreError> {
    #[derive(Deserialize)]
    struct Body {
        change: LoggedChange,
    }
    decode::json::<Body>("operation", seq, body).map(|b| b.change.0)
}

/// What a summary takes from one case's operations.
#[derive(Debug, Default)]
struct CaseRecords {
    team_id: String,
    /// The highest log sequence number among them.
    seq: i64,
    submissions: Vec<Submission>,
    consents: Vec<Consent>,
    withdrawals: Vec<Withdrawal>,
}

/// Reads a case's operations (`(seq, user_id, body)`, any order). With `visits`, its home
/// visits (not corrections) logged after `mark` go there, with the facts `submissions` holds
/// of them (who pushed it, the day it was finalized, UTC) and the case's team.
fn read_case(
    team_id: &str,
    ops: &[(i64, String, String)],
    mark: i64,
    mut visits: Option<&mut Vec<Visit>>,
) -> Result<CaseRecords, StoreError> {
    let mut records = CaseRecords {
        team_id: team_id.to_owned(),
        ..CaseRecords::default()
    };
    for (op_seq, user_id, body) in ops {
        records.seq = records.seq.max(*op_seq);
        match read_logged(*op_seq, body)? {
            Logged::Submission(submission) => {
                if *op_seq > mark
                    && submission.form_id == caseload::HOME_VISIT
                    && submission.corrects.is_none()
                    && let Some(visits) = visits.as_deref_mut()
                {
                    // As the push stored it: whole milliseconds.
                    let finalized_ms = submission.finalized_at_ms.floor() as i64;
                    let day = finalized_ms.div_euclid(DAY_MS);
                    let id = submission.id.clone();
                    visits.push((id, team_id.to_owned(), user_id.clone(), day));
                }
                records.submissions.push(*submission);
            }
            Logged::Consent(consent) => records.consents.push(*consent),
            Logged::Withdrawal(withdrawal) => records.withdrawals.push(*withdrawal),
            Logged::Other => {}
        }
    }
    Ok(records)
}

/// A merge as a refresh reads it: `(merged case, the case it joined, the merge operation's id,
/// its log sequence number, that of its undoing)`.
pub(crate) type MergeRow = (String, String, String, i64, Option<i64>);

/// What a refresh reads of the cases it summarises households from.
#[derive(Debug, Default)]
pub(crate) struct ChunkRead {
    /// Their operations logged up to the end of the refresh.
    pub ops: Vec<OpRow>,
    /// The writes of the properties a summary reads: `(case_id, field, hlc, value, seen)`.
    pub writes: Vec<(String, String, String, String, String)>,
    /// The merges of the households and into them (either may be listed twice).
    pub merges: Vec<MergeRow>,
}

/// Summarises `households` as the log stood at `end` (the operations read go no further): a
/// household merged into another then as a row that counts nowhere, naming the one it joined;
/// any other from its own operations and those of the households merged into it, with their
/// properties joined as the phone joins them ([`record::households`]). With the home visits
/// logged after `mark` on the households themselves (a visit counts for the household it was
/// recorded on, whichever it is shown with). CPU work, for a blocking thread; in the order of
/// the ids given, so that concurrent refreshes meet the same rows in the same order.
///
/// A household's `seq` is the highest log sequence number, up to `end`, of its own operations
/// and of those of every household merged into it by then, undone since or not. It grows with
/// the log, and with every change of what the summary is made from: a merge and its undoing are
/// operations of the merged household, which is among those counted from the merge on. Two
/// summaries with the same `seq` are then made from the same operations.
pub(crate) fn summarize_households(
    households: &[String],
    read: ChunkRead,
    end: i64,
    mark: i64,
) -> Result<(Vec<CaseSummary>, Vec<Visit>), StoreError> {
    type CaseOps = (String, Vec<(i64, String, String)>);
    let mut by_case: BTreeMap<String, CaseOps> = BTreeMap::new();
    for (case_id, team_id, seq, user_id, body) in read.ops {
        let entry = by_case
            .entry(case_id)
            .or_insert_with(|| (team_id, Vec::new()));
        entry.1.push((seq, user_id, body));
    }
    // Each case's writes of each property: `(hlc, value, seen)`.
    type Writes = BTreeMap<String, Vec<(String, String, String)>>;
    let mut writes_of: HashMap<String, Writes> = HashMap::new();
    for (case_id, field, hlc, value, seen) in read.writes {
        writes_of
            .entry(case_id)
            .or_default()
            .entry(field)
            .or_default()
            .push((hlc, value, seen));
    }
    // The merges made by `end`; undone if undone by then.
    let merges: Vec<&MergeRow> = read.merges.iter().filter(|m| m.3 <= end).collect();
    let own: HashSet<&str> = households.iter().map(String::as_str).collect();
    let mut visits = Vec::new();
    let mut records: HashMap<&str, CaseRecords> = HashMap::new();
    let mut cases: Vec<Case> = Vec::with_capacity(by_case.len());
    for (case_id, (team_id, ops)) in &by_case {
        let mine = own.contains(case_id.as_str()).then_some(&mut visits);
        records.insert(case_id, read_case(team_id, ops, mark, mine)?);
        let mut case = Case::new(case_id, 0.0);
        for (field, rows) in writes_of.remove(case_id).unwrap_or_default() {
            case.fields.0.insert(field, super::decode::field(rows)?);
        }
        for (_, into, merge, _, undone) in merges.iter().filter(|m| m.0 == *case_id) {
            case.merges.insert(merge.clone(), into.clone());
            if undone.is_some_and(|u| u <= end) {
                case.unmerged.insert(merge.clone());
            }
        }
        cases.push(case);
    }
    let index: HashMap<&str, usize> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let shown: HashMap<String, Case> = record::households(&cases)
        .into_iter()
        .map(|h| (h.id.clone(), h))
        .collect();
    // Who is merged into whom, as `record::members` finds them, in one pass over the cases.
    let mut merged_into: HashMap<&str, Vec<String>> = HashMap::new();
    for case in &cases {
        if let Some((_, into)) = case.merged_into() {
            merged_into.entry(into).or_default().push(case.id.clone());
        }
    }
    let mut summaries = Vec::with_capacity(households.len());
    for case_id in households {
        // Created after `end`: summarised by a later refresh.
        let Some(case) = index.get(case_id.as_str()).map(|i| &cases[*i]) else {
            continue;
        };
        let seq_of = |id: &str| records.get(id).map_or(0, |r| r.seq);
        let seq = merges
            .iter()
            .filter(|m| m.1 == *case_id)
            .map(|m| seq_of(&m.0))
            .fold(seq_of(case_id), i64::max);
        let team_id = records.get(case_id.as_str()).map(|r| r.team_id.clone());
        let team_id = team_id.unwrap_or_default();
        if let Some((_, into)) = case.merged_into() {
            summaries.push(CaseSummary {
                case_id: case_id.clone(),
                team_id,
                seq,
                household_name: case.household_name().trim().to_owned(),
                housing: None,
                housing_conflict: false,
                open_steps: 0,
                dues: Vec::new(),
                last_visit: None,
                consent_until: None,
                consents: 0,
                withdrawals: 0,
                merged_into: Some(into.to_owned()),
            });
            continue;
        }
        let household = shown.get(case_id).unwrap_or(case);
        let mut members = vec![case_id.clone()];
        members.extend(merged_into.remove(case_id.as_str()).unwrap_or_default());
        let (mut submissions, mut consents, mut withdrawals) = (Vec::new(), Vec::new(), Vec::new());
        for member in &members {
            // A household is shown in one other at most: its records are taken once.
            if let Some(r) = records.get_mut(member.as_str()) {
                submissions.append(&mut r.submissions);
                consents.append(&mut r.consents);
                withdrawals.append(&mut r.withdrawals);
            }
        }
        summaries.push(summarize_household(
            household,
            &members,
            &submissions,
            (&consents, &withdrawals),
            team_id,
            seq,
        ));
    }
    Ok((summaries, visits))
}

/// The summary of a household as shown (its properties joined with those of the households
/// merged into it), from the records of its `members`.
fn summarize_household(
    household: &Case,
    members: &[String],
    submissions: &[Submission],
    (consents, withdrawals): (&[Consent], &[Withdrawal]),
    team_id: String,
    seq: i64,
) -> CaseSummary {
    let housing = household.fields.0.get(HOUSING);
    let summary = caseload::summarize_household(household, members, submissions);
    let mut dues: Vec<i64> = summary
        .open_steps
        .iter()
        .filter_map(|s| s.due)
        .map(|d| i64::from(d.days()))
        .collect();
    dues.sort_unstable();
    CaseSummary {
        case_id: household.id.clone(),
        team_id,
        seq,
        household_name: household.household_name().trim().to_owned(),
        housing: housing
            .and_then(|f| f.current())
            .map(|w| w.value.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
        housing_conflict: housing.is_some_and(|f| !f.conflict().is_empty()),
        open_steps: summary.open_steps.len() as i64,
        dues,
        last_visit: summary.last_visit.map(|d| i64::from(d.days())),
        consent_until: consent_until(consents, withdrawals),
        consents: consents.len() as i64,
        withdrawals: withdrawals.len() as i64,
        merged_into: None,
    }
}

/// Whether consents grant anything at all.
fn grants(state: &ConsentState) -> bool {
    !state.purposes.is_empty() || !state.recipients.is_empty()
}

/// The last day on which the household's consents grant anything, by the consent fold
/// ([`consent::state`]): what they grant only shrinks as days pass (releases for a time run
/// out), so it is the latest day among "until withdrawn" and the releases' end dates on
/// which the fold still grants something.
pub(crate) fn consent_until(consents: &[Consent], withdrawals: &[Withdrawal]) -> Option<i64> {
    if consents.is_empty() {
        return None;
    }
    let on = |days: i32| {
        grants(&consent::state(
            consents,
            withdrawals,
            Date::from_days(days),
        ))
    };
    if on(i32::MAX) {
        return Some(UNTIL_WITHDRAWN);
    }
    let mut ends: Vec<i32> = consents
        .iter()
        .flat_map(|c| &c.releases)
        .filter_map(|r| match r.duration {
            consent::Duration::Until(end) => Some(end.days()),
            _ => None,
        })
        .collect();
    ends.sort_unstable();
    ends.dedup();
    ends.into_iter().rev().find(|&end| on(end)).map(i64::from)
}

/// The operations after the watermark: `(watermark, case_id, seq)`; none when nothing was
/// logged since. The watermark is read once, then the log's key is a range (grouped by
/// household here, SQLite would rather read the whole log in the order of an index on it).
pub(crate) const CASES_SINCE: &str =
    "SELECT (SELECT seq FROM case_summaries_watermark), case_id, seq FROM ops
     WHERE seq > (SELECT seq FROM case_summaries_watermark)";

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

/// A row of [`held_summaries_sql`].
pub(crate) type HeldSummary = (
    String,
    i64,
    String,
    Option<String>,
    bool,
    Option<i64>,
    i64,
    i64,
    Option<String>,
);

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

/// `housing` in `household_counts` of households without one.
pub(crate) const NO_HOUSING: &str = "";
/// `consent_until` in `household_counts` of households whose consents grant nothing on any
/// day.
pub(crate) const NO_CONSENT: i64 = i64::MIN;

/// A row of `household_counts`: team, housing, in conflict, consent until.
type HouseholdKey = (String, String, bool, i64);

fn household_key(
    team: &str,
    housing: Option<&str>,
    conflict: bool,
    until: Option<i64>,
) -> HouseholdKey {
    (
        team.to_owned(),
        housing.unwrap_or(NO_HOUSING).to_owned(),
        conflict,
        until.unwrap_or(NO_CONSENT),
    )
}

/// How a write changes the counts.
#[derive(Debug, Default)]
pub(crate) struct CountChanges {
    /// Households, consents, withdrawals.
    pub households: BTreeMap<HouseholdKey, (i64, i64, i64)>,
    /// (team, day, user) -> visits.
    pub visits: BTreeMap<(String, i64, String), i64>,
}

impl CountChanges {
    /// A summary held that is replaced: its household no longer counts where it did (a
    /// merged household counted nowhere).
    pub fn replaced(&mut self, held: &HeldSummary) {
        let (_, _, team, housing, conflict, until, consents, withdrawals, merged_into) = held;
        if merged_into.is_some() {
            return;
        }
        let key = household_key(team, housing.as_deref(), *conflict, *until);
        self.household(key, (-1, -consents, -withdrawals));
    }

    /// A summary written: its household counts here, unless it is merged into another.
    pub fn written(&mut self, s: &CaseSummary) {
        if s.merged_into.is_some() {
            return;
        }
        let key = household_key(
            &s.team_id,
            s.housing.as_deref(),
            s.housing_conflict,
            s.consent_until,
        );
        self.household(key, (1, s.consents, s.withdrawals));
    }

    fn household(&mut self, key: HouseholdKey, (n, consents, withdrawals): (i64, i64, i64)) {
        let entry = self.households.entry(key).or_default();
        entry.0 += n;
        entry.1 += consents;
        entry.2 += withdrawals;
    }

    /// The changed rows of `household_counts`: `(key, households, consents, withdrawals)`.
    pub fn household_rows(&self) -> Vec<(&HouseholdKey, (i64, i64, i64))> {
        self.households
            .iter()
            .filter(|(_, change)| **change != (0, 0, 0))
            .map(|(key, change)| (key, *change))
            .collect()
    }
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
        "SELECT case_id, household_name, dues FROM case_summaries
         WHERE team_id IN {} AND first_due <= $1",
        params(2, teams)
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

/// What the dashboard's queries read, to be put together by [`dashboard_of`].
#[derive(Debug, Default)]
pub(crate) struct Counted {
    pub teams: Vec<String>,
    /// `(login, display_name)`.
    pub workers: Vec<(String, String)>,
    /// `(login, display_name, day, visits)`.
    pub visits: Vec<(String, String, i64, i64)>,
    pub households: Vec<HouseholdRow>,
    /// `(case_id, household_name, due days)`.
    pub overdue: Vec<(String, String, String)>,
    pub devices: Vec<DeviceRow>,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

fn day(days: i64) -> Result<Date, StoreError> {
    i32::try_from(days)
        .map(Date::from_days)
        .map_err(|e| decode::corrupt("day", days, e))
}

/// The dashboard from what its queries read.
pub(crate) fn dashboard_of(filter: &DashboardFilter, c: Counted) -> Result<Dashboard, StoreError> {
    let weeks = filter.week_starts();
    let first = i64::from(weeks[0].days());
    let mut visits: BTreeMap<String, WorkerVisits> = BTreeMap::new();
    let row = |login: &str, name: &str| WorkerVisits {
        login: login.to_owned(),
        display_name: name.to_owned(),
        per_week: vec![0; weeks.len()],
        total: 0,
    };
    for (login, name) in &c.workers {
        visits.insert(login.clone(), row(login, name));
    }
    for (login, name, day, n) in &c.visits {
        let entry = visits
            .entry(login.clone())
            .or_insert_with(|| row(login, name));
        let n = u32::try_from(*n).unwrap_or(u32::MAX);
        if let Some(slot) = usize::try_from((day - first).div_euclid(7))
            .ok()
            .and_then(|w| entry.per_week.get_mut(w))
        {
            *slot += n;
            entry.total += n;
        }
    }
    let mut visits: Vec<WorkerVisits> = visits.into_values().collect();
    visits.sort_by_cached_key(|w| (fold(&w.display_name), w.login.clone()));

    let mut housing = HousingCounts::default();
    let mut consents = ConsentCounts::default();
    let to = i64::from(filter.to.days());
    for (value, conflict, until, n, held, withdrawn) in c.households {
        let n = count(n);
        housing.households += n;
        if value == NO_HOUSING {
            housing.no_value += n;
        } else {
            *housing.by_value.entry(value).or_default() += n;
            if conflict {
                housing.in_conflict += n;
            }
        }
        if until >= to {
            consents.households_in_force += n;
        }
        consents.consents += count(held);
        consents.withdrawals += count(withdrawn);
    }

    let mut overdue = Overdue::default();
    for (case_id, household_name, dues) in c.overdue {
        let (n, oldest) = overdue_of(&dues, to)?;
        let Some(oldest) = oldest else { continue };
        overdue.steps += u64::from(n);
        overdue.households += 1;
        overdue.most.push(OverdueHousehold {
            case_id,
            household_name,
            overdue: n,
            oldest_due: day(oldest)?,
        });
    }
    overdue.most.sort_by(|a, b| {
        (b.overdue, a.oldest_due, &a.case_id).cmp(&(a.overdue, b.oldest_due, &b.case_id))
    });
    overdue.most.truncate(MAX_OVERDUE_LISTED);

    let mut devices: Vec<DeviceSync> = c
        .devices
        .into_iter()
        .map(
            |(
                device_id,
                login,
                display_name,
                last_push_ms,
                last_pull_ms,
                revoked_ms,
                revoked_by,
            )| {
                DeviceSync {
                    device_id,
                    login,
                    display_name,
                    last_push_ms,
                    last_pull_ms,
                    revoked_ms,
                    revoked_by,
                }
            },
        )
        .collect();
    // The longest silent first: by the latest time it reached the server.
    devices.sort_by(|a, b| {
        let last = |d: &DeviceSync| d.last_push_ms.max(d.last_pull_ms);
        (last(a), &a.login, &a.device_id).cmp(&(last(b), &b.login, &b.device_id))
    });

    Ok(Dashboard {
        teams: c.teams,
        to: filter.to,
        weeks,
        visits,
        housing,
        overdue,
        consents,
        devices,
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn days(s: &str) -> i64 {
        i64::from(date(s).days())
    }

    #[test]
    fn weeks_run_from_monday_and_the_last_holds_to() {
        let filter = DashboardFilter {
            team: None,
            to: date("2026-03-04"), // a Wednesday
            weeks: 3,
        };
        let weeks: Vec<String> = filter.week_starts().iter().map(Date::to_string).collect();
        assert_eq!(weeks, ["2026-02-16", "2026-02-23", "2026-03-02"]);
        let monday = DashboardFilter {
            to: date("2026-03-02"),
            weeks: 1,
            ..filter
        };
        assert_eq!(monday.week_starts(), [date("2026-03-02")]);
    }

    #[test]
    fn workers_without_visits_are_listed_and_names_sort_as_people_read_them() {
        let filter = DashboardFilter {
            team: None,
            to: date("2026-03-04"),
            weeks: 2,
        };
        let counted = Counted {
            teams: vec!["Nord".into()],
            workers: vec![
                ("zeynep".into(), "Zeynep Test".into()),
                ("sahin".into(), "Şahin Test".into()),
                ("anna".into(), "Anna Test".into()),
            ],
            // By day: the Monday, Sunday and Wednesday of the first week, the second's Monday.
            visits: vec![
                ("zeynep".into(), "Zeynep Test".into(), days("2026-02-23"), 1),
                ("zeynep".into(), "Zeynep Test".into(), days("2026-03-01"), 1),
                ("zeynep".into(), "Zeynep Test".into(), days("2026-03-02"), 3),
                ("lead".into(), "Lea Lead".into(), days("2026-03-04"), 1),
            ],
            ..Counted::default()
        };
        let d = dashboard_of(&filter, counted).unwrap();
        let rows: Vec<(&str, &[u32], u32)> = d
            .visits
            .iter()
            .map(|w| (w.login.as_str(), w.per_week.as_slice(), w.total))
            .collect();
        assert_eq!(
            rows,
            [
                ("anna", &[0, 0][..], 0),
                ("lead", &[0, 1][..], 1),
                ("sahin", &[0, 0][..], 0),
                ("zeynep", &[2, 3][..], 5),
            ]
        );
    }

    fn sealed(purposes: &[&str], releases: &[(&str, consent::Duration)]) -> Consent {
        use cris_core::consent::*;
        let device = "0192b3c4-0000-7000-8000-00000000d001";
        let stroke = (0..40)
            .map(|i| Point {
                x: 200 + i * 60,
                y: 600 + ((i % 7) - 3) * 40,
                t_ms: 16 * i as u32,
                pressure: None,
            })
            .collect();
        let shown = |id: &str| ShownText {
            id: id.into(),
            version: 1,
            lang: cris_core::Lang::De,
            sha256: sha256_hex(id.as_bytes()),
        };
        Consent {
            id: format!("consent-{}-{}", purposes.len(), releases.len()),
            case_id: "case-1".into(),
            notice: shown("notice"),
            text: shown("consent"),
            purposes: purposes.iter().map(|p| (*p).to_owned()).collect(),
            releases: releases
                .iter()
                .map(|(recipient, duration)| Release {
                    recipient: (*recipient).into(),
                    records: vec!["housing".into()],
                    purpose: "housing_search".into(),
                    duration: *duration,
                })
                .collect(),
            signer: Signer {
                name: "Fatme Testova".into(),
                role: SignerRole::Themselves,
            },
            signature: Signature {
                width: 3200,
                height: 1200,
                strokes: vec![stroke],
            },
            witness: "ayse.w".into(),
            witness_name: None,
            interpreter: None,
            identity_check: IdentityCheck::IdCard,
            signed_at_ms: 1_795_000_000_000,
            device: device.into(),
            hlc: cris_core::hlc::Hlc {
                wall_ms: 1_795_000_000_000,
                counter: 0,
                device: device.into(),
            },
            binding: String::new(),
        }
        .seal()
        .unwrap()
    }

    fn withdrawn(of: &Consent, scope: consent::Scope) -> Withdrawal {
        use cris_core::consent::*;
        Withdrawal {
            id: format!("w-{}", of.id),
            case_id: of.case_id.clone(),
            consent_id: of.id.clone(),
            scope,
            given: Given::Attested {
                note: "Am Telefon widerrufen".into(),
            },
            witness: "ayse.w".into(),
            witness_name: None,
            lang: None,
            at_ms: 1_796_000_000_000,
            device: of.device.clone(),
            hlc: of.hlc.clone(),
            binding: String::new(),
        }
        .seal()
        .unwrap()
    }

    #[test]
    fn a_consent_is_in_force_until_its_last_grant_ends() {
        use consent::Duration::{Once, Recurring, Until};
        assert_eq!(consent_until(&[], &[]), None);
        let purpose = sealed(&["school_contact"], &[]);
        assert_eq!(
            consent_until(std::slice::from_ref(&purpose), &[]),
            Some(UNTIL_WITHDRAWN)
        );
        let all = withdrawn(&purpose, consent::Scope::All);
        assert_eq!(consent_until(&[purpose], &[all]), None);

        // Releases for a time: the latest end counts, also beside a single transfer that
        // lasts (a shorter release of the same recipient does not hide it).
        let timed = sealed(
            &[],
            &[
                ("housing_office", Until(date("2026-12-31"))),
                ("school", Until(date("2027-06-30"))),
            ],
        );
        assert_eq!(
            consent_until(std::slice::from_ref(&timed), &[]),
            Some(days("2027-06-30"))
        );
        let school = withdrawn(&timed, consent::Scope::Recipients(vec!["school".into()]));
        assert_eq!(consent_until(&[timed], &[school]), Some(days("2026-12-31")));
        let once = sealed(
            &[],
            &[
                ("housing_office", Until(date("2026-12-31"))),
                ("housing_office", Once),
            ],
        );
        assert_eq!(consent_until(&[once], &[]), Some(UNTIL_WITHDRAWN));
        let open = sealed(&[], &[("school", Recurring)]);
        assert_eq!(consent_until(&[open], &[]), Some(UNTIL_WITHDRAWN));

        // The same as the fold says, day by day.
        let timed = sealed(&[], &[("school", Until(date("2027-06-30")))]);
        for (day, in_force) in [("2027-06-30", true), ("2027-07-01", false)] {
            let state = consent::state(std::slice::from_ref(&timed), &[], date(day));
            assert_eq!(grants(&state), in_force, "{day}");
            let until = consent_until(std::slice::from_ref(&timed), &[]).unwrap();
            assert_eq!(until >= days(day), in_force, "{day}");
        }
    }

    fn summary(case_id: &str, seq: i64, housing: &str, dues: &[i64]) -> CaseSummary {
        CaseSummary {
            case_id: case_id.into(),
            team_id: "t".into(),
            seq,
            household_name: "Familie Test".into(),
            housing: Some(housing.into()),
            housing_conflict: false,
            open_steps: dues.len() as i64,
            dues: dues.to_vec(),
            last_visit: None,
            consent_until: None,
            consents: 0,
            withdrawals: 0,
            merged_into: None,
        }
    }

    /// A SQLite store in a folder of its own (kept while the folder is), and a pool on it.
    async fn sqlite_store() -> (tempfile::TempDir, crate::store::CaseStore, sqlx::SqlitePool) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/cris.db", dir.path().display());
        let store = crate::store::CaseStore::open(&url).await.unwrap();
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        (dir, store, pool)
    }

    #[tokio::test]
    async fn a_summary_never_replaces_one_made_from_more_of_the_log() {
        let (_dir, store, pool) = sqlite_store().await;
        let pool = &pool;
        sqlx::query("INSERT INTO teams (id, name, created_ms) VALUES ('t', 'Team', 0)")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO cases (id, team_id, created_ms) VALUES ('c', 't', 0)")
            .execute(pool)
            .await
            .unwrap();
        let read = || async {
            let row: (i64, String, Option<i64>, String) = sqlx::query_as(
                "SELECT seq, housing, first_due, dues FROM case_summaries WHERE case_id = 'c'",
            )
            .fetch_one(pool)
            .await
            .unwrap();
            let mark: i64 = sqlx::query_scalar("SELECT seq FROM case_summaries_watermark")
                .fetch_one(pool)
                .await
                .unwrap();
            (row.0, row.1, row.2, row.3, mark)
        };
        let newer = [summary("c", 7, "shelter", &[20, 20, 30])];
        store
            .write_case_summaries(&newer, &[], Some(7))
            .await
            .unwrap();
        let expected = (7, "shelter".to_owned(), Some(20), "20,20,30".to_owned(), 7);
        assert_eq!(read().await, expected);
        // A refresh that began earlier writes late: it changes nothing, the watermark stays.
        let older = [summary("c", 5, "sublet", &[10])];
        store
            .write_case_summaries(&older, &[], Some(5))
            .await
            .unwrap();
        assert_eq!(read().await, expected);
        // A later one replaces it, steps and all.
        let later = [summary("c", 9, "own_flat", &[])];
        store
            .write_case_summaries(&later, &[], Some(9))
            .await
            .unwrap();
        assert_eq!(read().await, (9, "own_flat".into(), None, String::new(), 9));
    }

    /// A row of `household_counts`.
    type CountRow = (String, String, bool, i64, i64, i64, i64);

    /// Checks that the counts kept are those of the tables they count, and returns the
    /// households' counts.
    async fn counts_agree(pool: &sqlx::SqlitePool) -> Vec<CountRow> {
        let recounted: Vec<CountRow> = sqlx::query_as(
            "SELECT team_id, COALESCE(housing, ''), housing_conflict,
                    COALESCE(consent_until, -9223372036854775808), COUNT(*), SUM(consents),
                    SUM(withdrawals)
             FROM case_summaries WHERE merged_into IS NULL
             GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let kept: Vec<CountRow> = sqlx::query_as(
            "SELECT team_id, housing, housing_conflict, consent_until, households, consents,
                    withdrawals
             FROM household_counts ORDER BY 1, 2, 3, 4",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        assert_eq!(kept, recounted);
        let recounted: Vec<(String, i64, String, i64)> = sqlx::query_as(
            "SELECT team_id, day, user_id, COUNT(*) FROM case_summary_visits
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let visits: Vec<(String, i64, String, i64)> = sqlx::query_as(
            "SELECT team_id, day, user_id, visits FROM visit_counts WHERE visits > 0
             ORDER BY 1, 2, 3",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        assert_eq!(visits, recounted);
        kept
    }

    #[tokio::test]
    async fn the_counts_follow_every_summary_written_and_no_other() {
        let (_dir, store, pool) = sqlite_store().await;
        let pool = &pool;
        for team in ["t", "u"] {
            sqlx::query("INSERT INTO teams (id, name, created_ms) VALUES ($1, $1, 0)")
                .bind(team)
                .execute(pool)
                .await
                .unwrap();
        }
        for (case, team) in [("a", "t"), ("b", "t"), ("c", "u")] {
            sqlx::query("INSERT INTO cases (id, team_id, created_ms) VALUES ($1, $2, 0)")
                .bind(case)
                .bind(team)
                .execute(pool)
                .await
                .unwrap();
        }
        let with = |mut s: CaseSummary, team: &str, conflict: bool, until: Option<i64>, k: i64| {
            s.team_id = team.into();
            s.housing_conflict = conflict;
            s.consent_until = until;
            (s.consents, s.withdrawals) = (k, k / 2);
            s
        };
        let visit = |id: &str, team: &str, day: i64, user: &str| {
            (id.to_owned(), team.to_owned(), user.to_owned(), day)
        };
        store
            .write_case_summaries(
                &[
                    with(summary("a", 3, "shelter", &[]), "t", false, None, 0),
                    with(
                        summary("b", 4, "shelter", &[]),
                        "t",
                        true,
                        Some(UNTIL_WITHDRAWN),
                        2,
                    ),
                    with(summary("c", 5, "sublet", &[]), "u", false, Some(20_000), 1),
                ],
                &[
                    visit("v1", "t", 100, "w1"),
                    visit("v2", "t", 100, "w1"),
                    visit("v3", "u", 101, "w2"),
                ],
                Some(5),
            )
            .await
            .unwrap();
        let first = counts_agree(pool).await;
        assert_eq!(first.iter().map(|r| r.4).sum::<i64>(), 3);
        // Written again (another refresh), with the same visits: nothing changes.
        store
            .write_case_summaries(
                &[with(summary("b", 4, "own_flat", &[]), "t", false, None, 0)],
                &[visit("v1", "t", 100, "w1"), visit("v3", "u", 101, "w2")],
                Some(5),
            )
            .await
            .unwrap();
        assert_eq!(counts_agree(pool).await, first);
        // Households move between values (and lose their housing), consents come and go, one
        // more visit.
        store
            .write_case_summaries(
                &[
                    with(
                        summary("a", 6, "sublet", &[]),
                        "t",
                        true,
                        Some(UNTIL_WITHDRAWN),
                        3,
                    ),
                    {
                        let mut b = with(summary("b", 7, "x", &[]), "t", false, None, 2);
                        b.housing = None;
                        b
                    },
                    with(summary("c", 4, "homeless", &[]), "u", false, None, 0),
                ],
                &[visit("v2", "t", 100, "w1"), visit("v4", "u", 101, "w2")],
                Some(7),
            )
            .await
            .unwrap();
        let last = counts_agree(pool).await;
        assert_ne!(last, first);
        assert!(last.iter().all(|r| r.4 > 0), "no empty rows kept");
        let visits: Vec<(i64,)> =
            sqlx::query_as("SELECT visits FROM visit_counts ORDER BY team_id")
                .fetch_all(pool)
                .await
                .unwrap();
        assert_eq!(visits, [(2,), (2,)]);
    }

    /// An operation carrying the shipped form's example answers, with `changes`.
    fn example_op(form_id: &str, at_ms: f64, changes: Answers) -> cris_core::record::Operation {
        let path = format!(
            "{}/../core/tests/data/{form_id}-example.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut answers: Answers =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        answers.0.extend(changes.0);
        let device = "0192b3c4-0000-7000-8000-00000000d001".to_owned();
        let hlc = cris_core::hlc::Hlc {
            wall_ms: at_ms as u64,
            counter: 0,
            device: device.clone(),
        };
        cris_core::record::Operation {
            op_id: format!("op-{at_ms}"),
            device: device.clone(),
            hlc,
            created_at_ms: at_ms,
            case_id: "case-1".into(),
            change: cris_core::record::Change::Submit {
                submission: Submission {
                    id: format!("s-{at_ms}"),
                    form_id: form_id.into(),
                    form_version: 1,
                    case_id: "case-1".into(),
                    device,
                    answers,
                    started_at_ms: at_ms - 600_000.0,
                    finalized_at_ms: at_ms,
                    corrects: None,
                    team: None,
                },
                properties: BTreeMap::new(),
            },
        }
    }

    /// `op` on the household `case_id`, setting the household's name and housing (when given).
    fn on_case(
        mut op: cris_core::record::Operation,
        case_id: &str,
        device: &str,
        properties: &[(&str, &str)],
    ) -> crate::store::CheckedOp {
        use cris_core::record::{Change, FieldWrite};
        op.case_id = case_id.into();
        op.device = device.into();
        op.hlc.device = device.into();
        if let Change::Submit {
            submission,
            properties: written,
        } = &mut op.change
        {
            submission.case_id = case_id.into();
            submission.device = device.into();
            for (name, value) in properties {
                let write = FieldWrite {
                    value: (*value).into(),
                    seen: Vec::new(),
                };
                written.insert((*name).into(), write);
            }
        }
        let body = serde_json::to_string(&op).unwrap();
        crate::store::CheckedOp {
            op,
            body,
            creates_case: true,
        }
    }

    /// Every row of the derived tables and the watermark, in order.
    async fn derived(pool: &sqlx::SqlitePool) -> Vec<String> {
        let mut rows = Vec::new();
        for sql in [
            "SELECT case_id || '|' || seq || '|' || household_name || '|' ||
                    COALESCE(housing, '-') || '|' || housing_conflict || '|' || open_steps || '|' ||
                    COALESCE(last_visit, '-') || '|' || dues || '|' ||
                    COALESCE(consent_until, '-') || '|' || consents || '|' || withdrawals || '|' ||
                    COALESCE(merged_into, '-')
             FROM case_summaries ORDER BY case_id",
            "SELECT submission_id || '|' || team_id || '|' || user_id || '|' || day
             FROM case_summary_visits ORDER BY submission_id",
            "SELECT team_id || '|' || housing || '|' || housing_conflict || '|' || consent_until
                    || '|' || households || '|' || consents || '|' || withdrawals
             FROM household_counts ORDER BY 1",
            "SELECT team_id || '|' || day || '|' || user_id || '|' || visits
             FROM visit_counts ORDER BY 1",
            "SELECT 'watermark ' || seq FROM case_summaries_watermark",
        ] {
            rows.extend(
                sqlx::query_scalar::<_, String>(sql)
                    .fetch_all(pool)
                    .await
                    .unwrap(),
            );
        }
        rows
    }

    #[tokio::test]
    async fn emptied_and_set_back_to_the_start_of_the_log_the_tables_are_made_again_alike() {
        use cris_core::record::{Change, Operation};
        let (_dir, store, pool) = sqlite_store().await;
        let pool = &pool;
        let user = |login: &str, role| crate::store::NewUser {
            login: login.into(),
            display_name: login.into(),
            role,
            password_hash: String::new(),
            teams: vec!["Team".into()],
        };
        let worker = store
            .add_user(&user("w", crate::store::Role::Worker), 0)
            .await
            .unwrap();
        let supervisor = store
            .add_user(&user("s", crate::store::Role::Supervisor), 0)
            .await
            .unwrap();
        let (phone, other) = (
            "0192b3c4-0000-7000-8000-00000000d001",
            "0192b3c4-0000-7000-8000-00000000d002",
        );
        let (name, housing) = (HOUSEHOLD_NAME, HOUSING);
        let ops = vec![
            on_case(
                example_op("intake", 1_000.0, Answers::new()),
                "a",
                phone,
                &[(name, "Familie Test"), (housing, "shelter")],
            ),
            on_case(
                example_op("intake", 2_000.0, Answers::new()),
                "b",
                other,
                &[(name, "Familie Test"), (housing, "homeless")],
            ),
            on_case(
                example_op("intake", 3_000.0, Answers::new()),
                "c",
                phone,
                &[(name, "Familie Probe")],
            ),
            on_case(
                example_op("home_visit", 4_000.0, Answers::new()),
                "b",
                other,
                &[],
            ),
        ];
        let pushed = store.push(&worker, ops, 10).await.unwrap();
        assert!(
            pushed
                .iter()
                .all(|s| matches!(s, crate::store::Stored::Applied { .. }))
        );
        let merge = Operation {
            op_id: "merge-1".into(),
            device: phone.into(),
            hlc: cris_core::hlc::Hlc {
                wall_ms: 5_000,
                counter: 0,
                device: phone.into(),
            },
            created_at_ms: 5_000.0,
            case_id: "b".into(),
            change: Change::Merge { into: "a".into() },
        };
        let body = serde_json::to_string(&merge).unwrap();
        let checked = crate::store::CheckedOp {
            op: merge,
            body,
            creates_case: false,
        };
        let pushed = store.push(&supervisor, vec![checked], 20).await.unwrap();
        assert!(matches!(pushed[..], [crate::store::Stored::Applied { .. }]));

        store.refresh_case_summaries().await.unwrap();
        let made = derived(pool).await;
        // One household shown, with both housing values (the later current, in conflict);
        // the one merged into it counts nowhere; the visit counts.
        let counts = counts_agree(pool).await;
        let households: Vec<(&str, &str, bool, i64)> = counts
            .iter()
            .map(|r| (r.0.as_str(), r.1.as_str(), r.2, r.4))
            .collect();
        let team = &counts[0].0;
        assert_eq!(
            households,
            [
                (team.as_str(), "", false, 1),
                (team.as_str(), "homeless", true, 1)
            ]
        );
        let merged: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT case_id, merged_into FROM case_summaries ORDER BY case_id")
                .fetch_all(pool)
                .await
                .unwrap();
        assert_eq!(
            merged,
            [
                ("a".to_owned(), None),
                ("b".to_owned(), Some("a".to_owned())),
                ("c".to_owned(), None)
            ]
        );
        assert_eq!(made.last().unwrap(), "watermark 5");

        // What a migration does that makes the dashboard count anew.
        for sql in [
            "DELETE FROM case_summaries",
            "DELETE FROM household_counts",
            "DELETE FROM case_summary_visits",
            "DELETE FROM visit_counts",
            "UPDATE case_summaries_watermark SET seq = 0",
        ] {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
        store.refresh_case_summaries().await.unwrap();
        assert_eq!(derived(pool).await, made);
    }

    #[tokio::test]
    async fn the_migration_that_follows_merges_counts_a_full_store_anew() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/cris.db", dir.path().display());
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
        let pool = &sqlx::SqlitePool::connect_with(options.create_if_missing(true))
            .await
            .unwrap();
        // The store as it was before: summaries made, counted and the watermark moved.
        let mut before = sqlx::migrate!("migrations/sqlite");
        let earlier: Vec<_> = before
            .migrations
            .iter()
            .filter(|m| m.version < 11)
            .cloned()
            .collect();
        before.migrations = earlier.into();
        before.run(pool).await.unwrap();
        for sql in [
            "INSERT INTO teams (id, name, created_ms) VALUES ('t', 'Team', 0)",
            "INSERT INTO cases (id, team_id, created_ms) VALUES ('c', 't', 0)",
            "INSERT INTO case_summaries (case_id, team_id, seq, household_name, housing,
                 housing_conflict, open_steps, dues, consents, withdrawals)
             VALUES ('c', 't', 7, 'Familie Test', 'shelter', 0, 0, '', 0, 0)",
            "INSERT INTO household_counts VALUES ('t', 'shelter', 0, -9223372036854775808, 1, 0, 0)",
            "INSERT INTO case_summary_visits VALUES ('v', 't', 'u', 100)",
            "INSERT INTO visit_counts VALUES ('t', 100, 'u', 1)",
            "UPDATE case_summaries_watermark SET seq = 7",
        ] {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
        sqlx::migrate!("migrations/sqlite").run(pool).await.unwrap();
        let left: (i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM case_summaries), (SELECT COUNT(*) FROM household_counts),
                    (SELECT COUNT(*) FROM case_summary_visits), (SELECT COUNT(*) FROM visit_counts),
                    (SELECT seq FROM case_summaries_watermark)",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(left, (0, 0, 0, 0, 0), "the next dashboard counts anew");
        let merged: Option<String> = sqlx::query_scalar(
            "SELECT merged_into FROM case_summaries UNION ALL SELECT NULL LIMIT 1",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(merged, None);
    }

    #[test]
    fn light_reading_summarises_as_the_full_operation() {
        let intake = example_op(
            "intake",
            1_000.0,
            Answers::new().with_repeat(
                "plan_goals",
                vec![
                    Answers::new()
                        .with("goal", "Anmeldung")
                        .with("review_date", "2026-11-08"),
                    Answers::new().with("goal", "Kita-Platz beantragen"),
                ],
            ),
        );
        let visit = example_op(
            "home_visit",
            2_000.0,
            Answers::new().with_repeat(
                "step_progress",
                vec![
                    Answers::new()
                        .with("step", "anmeldung")
                        .with("progress", "done"),
                ],
            ),
        );
        let mut corrected = example_op("home_visit", 3_000.0, Answers::new());
        if let cris_core::record::Change::Submit { submission, .. } = &mut corrected.change {
            submission.corrects = Some(Correction {
                submission_id: "s-2000".into(),
                reason: "Datum".into(),
            });
        }
        let consent = sealed(&["school_contact"], &[]);
        let consented = cris_core::record::Operation {
            change: cris_core::record::Change::Consent {
                consent: Box::new(consent.clone()),
            },
            ..intake.clone()
        };
        let ops = [intake, visit, corrected, consented];
        let bodies: Vec<OpRow> = ops
            .iter()
            .enumerate()
            .map(|(i, op)| {
                let body = serde_json::to_string(op).unwrap();
                ("case-1".into(), "t".into(), i as i64 + 1, "w".into(), body)
            })
            .collect();
        let read = ChunkRead {
            ops: bodies,
            ..ChunkRead::default()
        };
        let (light, visits) = summarize_households(&["case-1".into()], read, 4, 1).unwrap();
        let light = &light[0];
        // The visit logged after the watermark (1), not its correction.
        let day = 2_000_i64.div_euclid(DAY_MS);
        assert_eq!(visits, [("s-2000".into(), "t".into(), "w".into(), day)]);
        // The same, read whole.
        let subs: Vec<Submission> = ops
            .iter()
            .filter_map(|op| op.submission().cloned())
            .collect();
        let full = caseload::summarize(&Case::new("case-1", 0.0), &subs);
        assert!(!full.open_steps.is_empty() && full.last_visit.is_some());
        assert_eq!(light.open_steps, full.open_steps.len() as i64);
        assert_eq!(
            light.last_visit,
            full.last_visit.map(|d| i64::from(d.days()))
        );
        let mut dues: Vec<i64> = full
            .open_steps
            .iter()
            .filter_map(|s| s.due)
            .map(|d| i64::from(d.days()))
            .collect();
        dues.sort_unstable();
        assert!(!dues.is_empty());
        assert_eq!(light.dues, dues);
        assert_eq!((light.consents, light.withdrawals), (1, 0));
        assert_eq!(light.consent_until, Some(UNTIL_WITHDRAWN));
        assert_eq!(light.seq, 4);
        // Every kind of operation reads, resolutions and those to come as nothing.
        let resolve = r#"{"op_id":"x","change":{"properties":{},"kind":"resolve"}}"#;
        assert!(matches!(read_logged(1, resolve), Ok(Logged::Other)));
        let later = r#"{"change":{"kind":"merge","into":"c2"}}"#;
        assert!(matches!(read_logged(2, later), Ok(Logged::Other)));
        assert!(matches!(
            read_logged(3, r#"{"change":{"submission":{}}}"#),
            Err(StoreError::Corrupt { what: "operation", id, .. }) if id == "3"
        ));
    }

    #[test]
    fn overdue_steps_are_counted_by_the_day_asked_for() {
        assert_eq!(overdue_of("", 10).unwrap(), (0, None));
        assert_eq!(overdue_of("3,5,5,12", 5).unwrap(), (3, Some(3)));
        assert_eq!(overdue_of("12", 5).unwrap(), (0, None));
        assert!(overdue_of("3,x", 5).is_err());
        let filter = DashboardFilter {
            team: None,
            to: Date::from_days(10),
            weeks: 1,
        };
        let row = |id: &str, dues: &str| (id.to_owned(), format!("Familie {id}"), dues.to_owned());
        let counted = Counted {
            overdue: vec![
                row("a", "9,11"),
                row("b", "2,9"),
                row("c", "4,8"),
                row("d", "11"),
                row("e", "1"),
            ],
            ..Counted::default()
        };
        let d = dashboard_of(&filter, counted).unwrap();
        assert_eq!((d.overdue.steps, d.overdue.households), (6, 4));
        let most: Vec<(&str, u32, i32)> = d
            .overdue
            .most
            .iter()
            .map(|h| (h.case_id.as_str(), h.overdue, h.oldest_due.days()))
            .collect();
        // The most first, then the oldest due.
        assert_eq!(most, [("b", 2, 2), ("c", 2, 4), ("e", 1, 1), ("a", 1, 9)]);
    }

    #[test]
    fn devices_longest_silent_first() {
        let filter = DashboardFilter {
            team: None,
            to: date("2026-03-04"),
            weeks: 1,
        };
        let counted = Counted {
            devices: vec![
                (
                    "d1".into(),
                    "a".into(),
                    "A".into(),
                    Some(50),
                    Some(10),
                    None,
                    None,
                ),
                (
                    "d2".into(),
                    "b".into(),
                    "B".into(),
                    None,
                    Some(20),
                    None,
                    None,
                ),
                (
                    "d3".into(),
                    "c".into(),
                    "C".into(),
                    Some(5),
                    None,
                    Some(60),
                    None,
                ),
            ],
            ..Counted::default()
        };
        let d = dashboard_of(&filter, counted).unwrap();
        let order: Vec<&str> = d.devices.iter().map(|d| d.device_id.as_str()).collect();
        assert_eq!(order, ["d3", "d2", "d1"]);
    }
}
