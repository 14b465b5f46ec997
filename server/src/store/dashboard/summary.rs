//! A household's summary for the dashboard, made from its operations and properties, and
//! what writing summaries changes in the counts.

use super::*;

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
    /// The summary of a household merged into `into`: its row counts nowhere and holds no
    /// steps (what it has is in the summary of the one it joined).
    fn merged(case: &Case, team_id: String, seq: i64, into: &str) -> CaseSummary {
        CaseSummary {
            case_id: case.id.clone(),
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
        }
    }

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

/// A case's operations as read: `(seq, user_id, body)`, with its team.
type CaseOps = (String, Vec<(i64, String, String)>);

/// Each case's writes of each property: `(hlc, value, seen)`.
type Writes = BTreeMap<String, Vec<(String, String, String)>>;

/// The chunk's operations and property writes, by case.
fn by_case(
    ops: Vec<OpRow>,
    writes: Vec<(String, String, String, String, String)>,
) -> (BTreeMap<String, CaseOps>, HashMap<String, Writes>) {
    let mut by_case: BTreeMap<String, CaseOps> = BTreeMap::new();
    for (case_id, team_id, seq, user_id, body) in ops {
        let entry = by_case
            .entry(case_id)
            .or_insert_with(|| (team_id, Vec::new()));
        entry.1.push((seq, user_id, body));
    }
    let mut writes_of: HashMap<String, Writes> = HashMap::new();
    for (case_id, field, hlc, value, seen) in writes {
        writes_of
            .entry(case_id)
            .or_default()
            .entry(field)
            .or_default()
            .push((hlc, value, seen));
    }
    (by_case, writes_of)
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
    let (by_case, mut writes_of) = by_case(read.ops, read.writes);
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
            summaries.push(CaseSummary::merged(case, team_id, seq, into));
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
pub(super) fn grants(state: &ConsentState) -> bool {
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
        if held.merged_into.is_some() {
            return;
        }
        let key = household_key(
            &held.team_id,
            held.housing.as_deref(),
            held.housing_conflict,
            held.consent_until,
        );
        self.household(key, (-1, -held.consents, -held.withdrawals));
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
