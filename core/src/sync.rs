//! The sync protocol's messages (DESIGN.md: sync protocol), defined once for the phone and
//! the server: push a batch of operations, get an outcome per operation; pull what changed
//! since a cursor, in pages.

use serde::{Deserialize, Serialize};

use crate::record::Operation;

/// The most operations one push may carry; a phone with more sends several batches.
pub const MAX_BATCH: usize = 500;
/// The most operations one pull page returns.
pub const MAX_PAGE: usize = 1000;
/// A phone's clock may run this far ahead of the server's; a stamp beyond would win every
/// concurrent edit for as long as the clock is wrong, so such an operation is refused.
pub const MAX_CLOCK_AHEAD_MS: u64 = 24 * 60 * 60 * 1000;

/// `POST /api/v1/ops`. Operations are read one by one: a malformed one is refused alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest<Op = Operation> {
    pub ops: Vec<Op>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    /// One per operation pushed, in the same order.
    pub results: Vec<OpResult>,
    /// The server's clock, so a phone can tell how far off its own is.
    pub server_time_ms: i64,
    /// The case store that acknowledged the operations: a phone keeps them for a while
    /// under this id, and sends them again to a store with another id (one restored from a
    /// backup taken before they arrived).
    #[serde(default)]
    pub store_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpResult {
    /// Empty when the operation was too malformed to have one.
    pub op_id: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What became of one operation. Only `rejected` keeps it in the phone's outbox (with the
/// reason, for the worker to see); the others are acknowledged and leave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Applied,
    /// Applied before: nothing changed.
    Duplicate,
    /// Applied, and these fields now hold concurrent values (kept until resolved). The fields
    /// are those in conflict once the whole batch (or the group of batches committed with
    /// it) is applied: an earlier operation of the batch can be answered `conflict` because of
    /// a later one.
    Conflict {
        fields: Vec<String>,
    },
    Rejected {
        reason: Reason,
        /// The same in English, for programs and their logs; people read [`Detail`].
        message: String,
        /// What exactly was refused, with its values, for the phone to word in the worker's
        /// language (absent from refusals kept on a phone from before it was sent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<Detail>,
    },
}

impl Outcome {
    /// Whether the server has the operation (it may leave the outbox).
    pub fn acknowledged(&self) -> bool {
        !matches!(self, Outcome::Rejected { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Not an operation this server can read.
    Malformed,
    /// A form (or form version) this server does not have.
    UnknownForm,
    /// The answers do not pass the form's validation.
    Invalid,
    /// No such case among those the user may see (whether it exists elsewhere is not said).
    NotFound,
    /// The phone's clock is too far ahead.
    ClockAhead,
    /// The account's role does not allow it (merging households is for supervisors).
    Forbidden,
    /// The household was erased: nothing of it is kept any more.
    Erased,
    /// The household's consent does not release what a referral sends.
    NoConsent,
}

/// What exactly was refused, with the values a person needs to act on it: the phone words it
/// in the worker's language, with what to do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Detail {
    /// Not readable as an operation of its kind: an id that is no UUID, parts that name
    /// another device or household, another kind of record than the call expects.
    Malformed,
    /// A form this server does not have.
    UnknownForm { form_id: String },
    /// A version of the form this server does not have; `current` is the one it serves.
    FormVersion {
        form_id: String,
        version: u32,
        current: u32,
    },
    /// Answers the form does not accept: the first field with a problem, and how many
    /// problems there are in all.
    Answers { field: String, problems: usize },
    /// A correction without a reason, or with one longer than `max_chars` characters.
    CorrectionReason { max_chars: usize },
    /// The household's details it sets do not follow from its answers.
    Properties,
    /// The server has a form under this id already, from another operation: a correction
    /// is a new form.
    SubmissionTaken,
    /// A correction of a form this household does not have (yet), or of another kind.
    CorrectsOther,
    /// A signed consent or withdrawal the server holds already, sent again changed.
    SignedRecordChanged,
    /// A consent or withdrawal that is incomplete, changed since it was signed, or given on
    /// a text this server does not show.
    ConsentInvalid,
    /// A withdrawal of a consent this household does not have (yet).
    WithdrawsUnknown,
    /// The server has no agency set up to take consents.
    NoAgency,
    /// A choice between values in conflict that is not one of the values the field takes.
    ResolutionInvalid,
    /// A merge of households, or its undoing, that the households' merges do not allow.
    MergeRefused { why: MergeRefusal },
    /// The household, or the other one a merge names, is not among the user's teams'.
    NotVisible,
    /// The phone's clock was this many days ahead of the server's.
    ClockAhead { days: i64 },
    /// Merging households, and finding two families, is for supervisors.
    SupervisorsOnly,
    /// A new household for a team its author does not belong to.
    NotYourTeam { team: String },
    /// A closing of a household's case, or its reopening, that the case does not allow.
    ClosingRefused { why: ClosingRefusal },
    /// The household (or the other one a merge names) was erased on the server.
    Erased,
    /// A referral the household's consent in force does not carry: the service not
    /// released for the purpose with those records on the day it arrived (the referral
    /// names the service and the purpose).
    NoConsent { why: crate::consent::NotReleased },
    /// A referral without a service, purpose, request or records, a text too long, or an
    /// update that closes it without a sentence.
    ReferralInvalid,
    /// An update of a referral this household does not have (yet).
    ReferralUnknown,
}

/// Why closing a household's case, or reopening it, is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosingRefusal {
    /// The case is closed already.
    ClosedAlready,
    /// The case is not closed by that closing (reopened already, or never closed so).
    NotClosed,
    /// The household is merged into another: it is that one's case that closes.
    Merged,
}

/// Why a merge of households, or its undoing, is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeRefusal {
    /// A household merged with itself.
    Itself,
    DifferentTeams,
    /// This household is merged into another already.
    MergedAlready,
    /// The household it would join is merged into another.
    IntoMerged,
    /// Other households are merged into this one.
    OthersMergedIntoIt,
    /// Not merged by that merge (undone already, or never made).
    NotMerged,
    /// One of the two households' cases is closed: it is reopened first.
    Closed,
}

impl Detail {
    /// The broad reason, for programs that act on it.
    pub fn reason(&self) -> Reason {
        match self {
            Detail::Malformed => Reason::Malformed,
            Detail::UnknownForm { .. } | Detail::FormVersion { .. } => Reason::UnknownForm,
            Detail::Answers { .. }
            | Detail::CorrectionReason { .. }
            | Detail::Properties
            | Detail::SubmissionTaken
            | Detail::CorrectsOther
            | Detail::SignedRecordChanged
            | Detail::ConsentInvalid
            | Detail::WithdrawsUnknown
            | Detail::NoAgency
            | Detail::ResolutionInvalid
            | Detail::MergeRefused { .. }
            | Detail::ClosingRefused { .. }
            | Detail::ReferralInvalid
            | Detail::ReferralUnknown => Reason::Invalid,
            Detail::NoConsent { .. } => Reason::NoConsent,
            Detail::NotVisible => Reason::NotFound,
            Detail::ClockAhead { .. } => Reason::ClockAhead,
            Detail::SupervisorsOnly | Detail::NotYourTeam { .. } => Reason::Forbidden,
            Detail::Erased => Reason::Erased,
        }
    }

    /// One of every kind of refusal, with values: for checking that each is worded.
    pub fn every_kind() -> Vec<Detail> {
        let mut all = vec![
            Detail::Malformed,
            Detail::UnknownForm {
                form_id: "home_visit".to_owned(),
            },
            Detail::FormVersion {
                form_id: "intake".to_owned(),
                version: 3,
                current: 2,
            },
            Detail::Answers {
                field: "household_name".to_owned(),
                problems: 2,
            },
            Detail::CorrectionReason {
                max_chars: crate::record::MAX_REASON_CHARS,
            },
            Detail::Properties,
            Detail::SubmissionTaken,
            Detail::CorrectsOther,
            Detail::SignedRecordChanged,
            Detail::ConsentInvalid,
            Detail::WithdrawsUnknown,
            Detail::NoAgency,
            Detail::ResolutionInvalid,
            Detail::NotVisible,
            Detail::ClockAhead { days: 3 },
            Detail::SupervisorsOnly,
            Detail::NotYourTeam {
                team: "Budapest VIII".to_owned(),
            },
            Detail::Erased,
            Detail::ReferralInvalid,
            Detail::ReferralUnknown,
        ];
        let refused = |why| Detail::NoConsent { why };
        all.extend([
            refused(crate::consent::NotReleased::Recipient),
            refused(crate::consent::NotReleased::Withdrawn),
            refused(crate::consent::NotReleased::Expired {
                until: crate::Date::from_days(20_000),
            }),
            refused(crate::consent::NotReleased::Purpose {
                released: vec!["school_contact".to_owned()],
            }),
            refused(crate::consent::NotReleased::Records {
                missing: vec!["health".to_owned()],
            }),
        ]);
        all.extend(
            [
                MergeRefusal::Itself,
                MergeRefusal::DifferentTeams,
                MergeRefusal::MergedAlready,
                MergeRefusal::IntoMerged,
                MergeRefusal::OthersMergedIntoIt,
                MergeRefusal::NotMerged,
                MergeRefusal::Closed,
            ]
            .map(|why| Detail::MergeRefused { why }),
        );
        all.extend(
            [
                ClosingRefusal::ClosedAlready,
                ClosingRefusal::NotClosed,
                ClosingRefusal::Merged,
            ]
            .map(|why| Detail::ClosingRefused { why }),
        );
        all
    }
}

/// `GET /api/v1/ops?since=CURSOR&limit=N`: what changed in the user's cases after `since`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub ops: Vec<Operation>,
    /// Pass as `since` next time; 0 starts from the beginning.
    pub next_cursor: i64,
    /// Whether another page follows at once.
    pub more: bool,
    /// The case store's identity: a phone whose cursor came from another store (a restored
    /// or replaced one) starts again from its beginning.
    #[serde(default)]
    pub store_id: String,
    /// The agency's rules for its phones, as they are now.
    #[serde(default)]
    pub policy: Option<crate::api::PhonePolicy>,
}

/// `GET /api/v1/cases/{id}/history`: every operation on a case, oldest first, with who sent
/// it and when the server received it. The log is append-only: this is the record's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseHistory {
    pub case_id: String,
    pub entries: Vec<HistoryEntry>,
    /// The review decisions on the case's submissions, oldest first.
    #[serde(default)]
    pub reviews: Vec<crate::api::ReviewEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The server's sequence number (the pull cursor).
    pub seq: i64,
    /// The server's clock when it was received.
    pub received_at_ms: i64,
    /// The login and the name of the account that pushed it.
    pub login: String,
    pub display_name: String,
    pub op: Operation,
}

/// Why an operation is refused: what exactly, with its values (the reason for programs follows
/// from it), and the same in English for logs and programs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub detail: Detail,
    pub message: String,
}

impl Refusal {
    pub fn new(detail: Detail, message: impl Into<String>) -> Self {
        Refusal {
            detail,
            message: message.into(),
        }
    }

    pub fn reason(&self) -> Reason {
        self.detail.reason()
    }
}

impl From<Refusal> for Outcome {
    fn from(r: Refusal) -> Self {
        Outcome::Rejected {
            reason: r.detail.reason(),
            message: r.message,
            detail: Some(r.detail),
        }
    }
}

const DAY_MS: f64 = 86_400_000.0;
/// The furthest any time zone is ahead of UTC (Kiribati): a phone's "today" is never later
/// than the UTC date of this much later.
const MAX_ZONE_AHEAD_MS: f64 = 14.0 * 60.0 * 60.0 * 1000.0;

/// Checks an operation as the server receives it, with the same form engine the phone used:
/// its ids, that its parts agree, its clock against the server's (`server_now_ms`), its form
/// (`form`: the definition with the operation's form id, if the server has one), its answers
/// and the case properties it sets.
///
/// Answers are validated for the day the form was finalized (by the phone's clock, never later
/// than the server's), in the latest time zone: a visit recorded offline last week is judged
/// by last week's `today()`, and a phone ahead of UTC is not refused for its "today".
pub fn check(
    op: &Operation,
    form: Option<&crate::form::FormDef>,
    server_now_ms: i64,
) -> Result<(), Refusal> {
    let malformed = |m: String| Err(Refusal::new(Detail::Malformed, m));
    let crate::record::Change::Submit {
        submission,
        properties,
    } = &op.change
    else {
        return malformed("not a form: a consent or a withdrawal".into());
    };
    check_common(
        op,
        (
            "submission",
            &submission.id,
            &submission.device,
            &submission.case_id,
        ),
        server_now_ms,
    )?;
    if let Some(correction) = &submission.corrects {
        if !crate::id::is_uuid(&correction.submission_id)
            || correction.submission_id == submission.id
        {
            return malformed(format!(
                "the corrected submission id {:?} is not another submission's UUID",
                correction.submission_id
            ));
        }
        let reason = correction.reason.trim();
        if reason.is_empty() {
            return Err(Refusal::new(
                Detail::CorrectionReason {
                    max_chars: crate::record::MAX_REASON_CHARS,
                },
                "a correction needs a reason",
            ));
        }
        if reason.chars().count() > crate::record::MAX_REASON_CHARS {
            return Err(Refusal::new(
                Detail::CorrectionReason {
                    max_chars: crate::record::MAX_REASON_CHARS,
                },
                format!(
                    "the reason for the correction is longer than {} characters",
                    crate::record::MAX_REASON_CHARS
                ),
            ));
        }
    }
    let Some(form) = form.filter(|f| f.id == submission.form_id) else {
        return Err(Refusal::new(
            Detail::UnknownForm {
                form_id: submission.form_id.clone(),
            },
            format!("this server has no form {:?}", submission.form_id),
        ));
    };
    if form.version != submission.form_version {
        return Err(Refusal::new(
            Detail::FormVersion {
                form_id: form.id.clone(),
                version: submission.form_version,
                current: form.version,
            },
            format!(
                "version {} of the form {:?} is not the one this server has (version {})",
                submission.form_version, form.id, form.version
            ),
        ));
    }
    let finalized_ms = submission.finalized_at_ms.min(server_now_ms as f64);
    let today =
        crate::Date::from_days(((finalized_ms + MAX_ZONE_AHEAD_MS) / DAY_MS).floor() as i32);
    let validated = form.validate(&submission.answers, today);
    if let Some(problem) = validated.problems.first() {
        return Err(Refusal::new(
            Detail::Answers {
                field: problem.field.clone(),
                problems: validated.problems.len(),
            },
            format!(
                "field {:?}: {} ({} problem(s) in all)",
                problem.field,
                problem.message(form, crate::Lang::En),
                validated.problems.len()
            ),
        ));
    }
    let changes = form.case_changes(&submission.answers);
    let same = changes.len() == properties.len()
        && changes
            .iter()
            .all(|(name, value)| properties.get(name).is_some_and(|w| w.value == *value));
    if !same {
        return Err(Refusal::new(
            Detail::Properties,
            "the case properties set do not follow from the answers",
        ));
    }
    Ok(())
}

/// What every operation must pass: lower-case UUIDs, its record on its own case and device,
/// and a clock not too far ahead. `record` is (what, id, device, case id) of what it carries.
fn check_common(
    op: &Operation,
    record: (&str, &str, &str, &str),
    server_now_ms: i64,
) -> Result<(), Refusal> {
    use crate::id::is_uuid;
    let malformed = |m: String| Err(Refusal::new(Detail::Malformed, m));
    let (what, record_id, device, case_id) = record;
    for (what, id) in [
        ("op_id", op.op_id.as_str()),
        ("case_id", &op.case_id),
        ("device", &op.device),
        (&format!("{what} id"), record_id),
    ] {
        if !is_uuid(id) {
            return malformed(format!("{what} {id:?} is not a lower-case UUID"));
        }
    }
    if op.hlc.device != op.device || device != op.device {
        return malformed(format!(
            "the clock stamp and the {what} name another device"
        ));
    }
    if case_id != op.case_id {
        return malformed(format!(
            "the {what} belongs to another case than the operation"
        ));
    }
    let ahead_ms = i128::from(op.hlc.wall_ms) - i128::from(server_now_ms);
    if ahead_ms > i128::from(MAX_CLOCK_AHEAD_MS) {
        let days = (ahead_ms + i128::from(MAX_CLOCK_AHEAD_MS / 2)) / i128::from(MAX_CLOCK_AHEAD_MS);
        let days = i64::try_from(days).unwrap_or(i64::MAX);
        return Err(Refusal::new(
            Detail::ClockAhead { days },
            format!(
                "the phone's clock was {days} days ahead of the server's: set the phone's date and time, then sync again"
            ),
        ));
    }
    Ok(())
}

/// Checks a consent or a withdrawal as the server receives it: its ids and clock as for any
/// operation, then that it is complete and unchanged since it was sealed (its hash), and for
/// a consent that it was given on texts `texts` knows, as `agency` shows them.
pub fn check_consent(
    op: &Operation,
    texts: &crate::consent::text::Texts,
    agency: &crate::consent::text::Agency,
    server_now_ms: i64,
) -> Result<(), Refusal> {
    use crate::consent::Sealed;
    use crate::record::Change;
    let invalid = |p: crate::consent::Problem| Refusal::new(Detail::ConsentInvalid, p.to_string());
    match &op.change {
        Change::Submit { .. }
        | Change::Resolve { .. }
        | Change::Merge { .. }
        | Change::Unmerge { .. }
        | Change::Distinct { .. }
        | Change::Close { .. }
        | Change::Reopen { .. }
        | Change::Refer { .. }
        | Change::UpdateReferral { .. }
        | Change::Erase {} => Err(Refusal::new(
            Detail::Malformed,
            "not a consent or a withdrawal",
        )),
        Change::Consent { consent } => {
            check_common(
                op,
                ("consent", &consent.id, &consent.device, &consent.case_id),
                server_now_ms,
            )?;
            consent.verify().map_err(invalid)?;
            texts.check(consent, agency).map_err(invalid)
        }
        Change::Withdraw { withdrawal } => {
            check_common(
                op,
                (
                    "withdrawal",
                    &withdrawal.id,
                    &withdrawal.device,
                    &withdrawal.case_id,
                ),
                server_now_ms,
            )?;
            if !crate::id::is_uuid(&withdrawal.consent_id) {
                return Err(Refusal::new(
                    Detail::Malformed,
                    format!(
                        "the consent id {:?} is not a lower-case UUID",
                        withdrawal.consent_id
                    ),
                ));
            }
            withdrawal.verify().map_err(invalid)
        }
    }
}

/// The most case properties one resolution may choose.
pub const MAX_RESOLVED: usize = 50;

/// Checks a resolution of conflicts as the server receives it: ids and clock as for any
/// operation; then each property is one a form in `forms` sets (`case_property`), its value
/// one that field accepts (a choice of a choice list, else non-empty text of at most
/// [`crate::record::MAX_REASON_CHARS`] characters), and it names the values it replaces.
pub fn check_resolve(
    op: &Operation,
    forms: &[&crate::form::FormDef],
    server_now_ms: i64,
) -> Result<(), Refusal> {
    let crate::record::Change::Resolve { properties } = &op.change else {
        return Err(Refusal::new(Detail::Malformed, "not a resolution"));
    };
    check_common(
        op,
        ("resolution", &op.op_id, &op.device, &op.case_id),
        server_now_ms,
    )?;
    let invalid = |m: String| Err(Refusal::new(Detail::ResolutionInvalid, m));
    if properties.is_empty() || properties.len() > MAX_RESOLVED {
        return invalid(format!(
            "a resolution chooses between 1 and {MAX_RESOLVED} case properties"
        ));
    }
    for (name, write) in properties {
        let Some((form, field)) = forms.iter().find_map(|form| {
            form.walk()
                .into_iter()
                .map(|(field, _)| field)
                .find(|field| field.case_property.as_deref() == Some(name))
                .map(|field| (*form, field))
        }) else {
            return invalid(format!("{name:?} is not a case property of any form"));
        };
        if write.seen.is_empty() {
            return invalid(format!(
                "the resolution of {name:?} does not name the values it replaces"
            ));
        }
        let value = write.value.trim();
        let choices = field.choices.as_deref().and_then(|c| form.choices.get(c));
        let ok = match choices {
            Some(list) => list.iter().any(|c| c.value == value),
            None => !value.is_empty() && value.chars().count() <= crate::record::MAX_REASON_CHARS,
        };
        if !ok || value != write.value {
            return invalid(format!("{name:?} cannot be {:?}", write.value));
        }
    }
    Ok(())
}

/// Checks a merge of households, the undoing of one, a finding that two households are two
/// families, or a closing of a household's case or its reopening, as the server receives
/// it: ids and clock as for any operation, and another household than its own. Whether the
/// account may do it, whether the households exist and what they are merged into or closed
/// by already is the store's to check.
pub fn check_link(op: &Operation, server_now_ms: i64) -> Result<(), Refusal> {
    use crate::record::Change;
    let (what, other) = match &op.change {
        Change::Merge { into } => ("merge", into),
        Change::Unmerge { merge } => ("undoing of a merge", merge),
        Change::Distinct { other } => ("finding of two families", other),
        Change::Reopen { close } => ("reopening", close),
        Change::Close { .. } => {
            return check_common(
                op,
                ("closing", &op.op_id, &op.device, &op.case_id),
                server_now_ms,
            );
        }
        _ => return Err(Refusal::new(Detail::Malformed, "not a merge")),
    };
    check_common(
        op,
        (what, &op.op_id, &op.device, &op.case_id),
        server_now_ms,
    )?;
    if !crate::id::is_uuid(other) {
        return Err(Refusal::new(
            Detail::Malformed,
            format!("the {what} names {other:?}, which is not a lower-case UUID"),
        ));
    }
    if *other == op.case_id && !matches!(op.change, Change::Reopen { .. }) {
        return Err(Refusal::new(
            Detail::MergeRefused {
                why: MergeRefusal::Itself,
            },
            "a household cannot be merged with itself",
        ));
    }
    Ok(())
}

/// Checks a referral, or a move of its state, as the server receives it: ids and clock as
/// for any operation, and complete within bounds. Whether the household's consent carries
/// it, and whether the referral an update moves exists, is the store's to check.
pub fn check_referral(op: &Operation, server_now_ms: i64) -> Result<(), Refusal> {
    use crate::record::Change;
    let (what, id, problem) = match &op.change {
        Change::Refer { referral } => ("referral", &referral.id, referral.problem()),
        Change::UpdateReferral { update } => {
            ("referral's update", &update.referral_id, update.problem())
        }
        _ => return Err(Refusal::new(Detail::Malformed, "not a referral")),
    };
    check_common(op, (what, id, &op.device, &op.case_id), server_now_ms)?;
    match problem {
        Some(p) => Err(Refusal::new(Detail::ReferralInvalid, p.to_string())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::form::{Answers, FormDef};
    use crate::hlc::Hlc;
    use crate::record::{Change, FieldWrite, Submission};

    const NOW: i64 = 1_795_000_000_000; // 2026-11-18
    const DEVICE: &str = "0192b3c4-0000-7000-8000-00000000d001";

    fn intake() -> FormDef {
        FormDef::from_json(include_str!("../../forms/intake.json")).unwrap()
    }

    fn op(form: &FormDef, answers: Answers, wall_ms: i64) -> Operation {
        let properties = form
            .case_changes(&answers)
            .into_iter()
            .map(|(k, value)| {
                let write = FieldWrite {
                    value,
                    seen: vec![],
                };
                (k, write)
            })
            .collect::<BTreeMap<_, _>>();
        let case_id = "0192b3c4-0000-7000-8000-0000000ca5e1".to_owned();
        Operation {
            op_id: "0192b3c4-0000-7000-8000-0000000000a1".into(),
            device: DEVICE.into(),
            hlc: Hlc {
                wall_ms: wall_ms as u64,
                counter: 0,
                device: DEVICE.into(),
            },
            created_at_ms: wall_ms as f64,
            case_id: case_id.clone(),
            change: Change::Submit {
                submission: Submission {
                    id: "0192b3c4-0000-7000-8000-0000000005b1".into(),
                    form_id: form.id.clone(),
                    form_version: form.version,
                    case_id,
                    device: DEVICE.into(),
                    answers,
                    started_at_ms: wall_ms as f64 - 60_000.0,
                    finalized_at_ms: wall_ms as f64,
                    corrects: None,
                    team: None,
                },
                properties,
            },
        }
    }

    fn example() -> Answers {
        serde_json::from_str(include_str!("../tests/data/intake-example.json")).unwrap()
    }

    fn reason(op: &Operation, form: &FormDef) -> Option<Reason> {
        check(op, Some(form), NOW).err().map(|r| r.reason())
    }

    #[test]
    fn a_finalized_intake_passes() {
        let form = intake();
        assert_eq!(check(&op(&form, example(), NOW), Some(&form), NOW), Ok(()));
        // Made offline last month: still fine.
        let old = NOW - 30 * 86_400_000;
        assert_eq!(check(&op(&form, example(), old), Some(&form), NOW), Ok(()));
    }

    #[test]
    fn ids_and_parts_must_agree() {
        let form = intake();
        let mut bad = op(&form, example(), NOW);
        bad.op_id = "1".into();
        assert_eq!(reason(&bad, &form), Some(Reason::Malformed));
        let mut bad = op(&form, example(), NOW);
        bad.hlc.device = "0192b3c4-0000-7000-8000-00000000d002".into();
        assert_eq!(reason(&bad, &form), Some(Reason::Malformed));
        let mut bad = op(&form, example(), NOW);
        bad.case_id = "0192b3c4-0000-7000-8000-0000000ca5e2".into();
        assert_eq!(reason(&bad, &form), Some(Reason::Malformed));
    }

    #[test]
    fn a_clock_more_than_a_day_ahead_is_refused() {
        let form = intake();
        let hour = 3_600_000;
        assert_eq!(reason(&op(&form, example(), NOW + 23 * hour), &form), None);
        let far = check(
            &op(&form, example(), NOW + 365 * 24 * hour),
            Some(&form),
            NOW,
        );
        let refusal = far.unwrap_err();
        assert_eq!(refusal.reason(), Reason::ClockAhead);
        assert_eq!(refusal.detail, Detail::ClockAhead { days: 365 });
        assert!(
            refusal.message.contains("365 days ahead"),
            "{}",
            refusal.message
        );
    }

    /// A refusal reaches the phone as a code with its values, and the reason follows from it.
    #[test]
    fn every_kind_of_refusal_travels_as_its_code_and_values() {
        for detail in Detail::every_kind() {
            let outcome: Outcome = Refusal::new(detail.clone(), "in English").into();
            let json = serde_json::to_value(&outcome).unwrap();
            assert_eq!(json["status"], "rejected");
            assert!(json["detail"]["code"].is_string(), "{json}");
            let back: Outcome = serde_json::from_value(json).unwrap();
            assert_eq!(
                back,
                Outcome::Rejected {
                    reason: detail.reason(),
                    message: "in English".to_owned(),
                    detail: Some(detail),
                }
            );
        }
        // A refusal from before codes (kept on a phone) still reads.
        let old: Outcome =
            serde_json::from_str(r#"{"status": "rejected", "reason": "invalid", "message": "m"}"#)
                .unwrap();
        assert!(matches!(old, Outcome::Rejected { detail: None, .. }));
    }

    #[test]
    fn an_unknown_form_or_version_is_refused() {
        let form = intake();
        let good = op(&form, example(), NOW);
        assert_eq!(
            check(&good, None, NOW).unwrap_err().reason(),
            Reason::UnknownForm
        );
        let mut newer = form.clone();
        newer.version += 1;
        let refusal = check(&good, Some(&newer), NOW).unwrap_err();
        assert_eq!(refusal.reason(), Reason::UnknownForm);
        assert_eq!(
            refusal.detail,
            Detail::FormVersion {
                form_id: "intake".to_owned(),
                version: form.version,
                current: form.version + 1
            }
        );
        assert!(
            refusal
                .message
                .contains(&format!("version {}", form.version)),
            "{}",
            refusal.message
        );
    }

    #[test]
    fn answers_and_properties_are_checked_by_the_form() {
        let form = intake();
        let unborn = example().with("household_name", "");
        let refusal = check(&op(&form, unborn, NOW), Some(&form), NOW).unwrap_err();
        assert_eq!(refusal.reason(), Reason::Invalid);
        assert!(
            matches!(&refusal.detail, Detail::Answers { field, problems } if field == "household_name" && *problems >= 1),
            "{:?}",
            refusal.detail
        );
        assert!(
            refusal.message.contains("household_name"),
            "{}",
            refusal.message
        );

        let mut forged = op(&form, example(), NOW);
        let Change::Submit { properties, .. } = &mut forged.change else {
            unreachable!()
        };
        properties.insert(
            "housing_situation".into(),
            FieldWrite {
                value: "own_flat".into(),
                seen: vec![],
            },
        );
        assert_eq!(reason(&forged, &form), Some(Reason::Invalid));
    }

    fn correcting(mut op: Operation, submission_id: &str, why: &str) -> Operation {
        let Change::Submit { submission, .. } = &mut op.change else {
            unreachable!()
        };
        submission.corrects = Some(crate::record::Correction {
            submission_id: submission_id.into(),
            reason: why.into(),
        });
        op
    }

    #[test]
    fn a_correction_names_another_submission_and_a_reason() {
        let form = intake();
        let earlier = "0192b3c4-0000-7000-8000-0000000005b0";
        let good = correcting(op(&form, example(), NOW), earlier, "Name misspelt");
        assert_eq!(check(&good, Some(&form), NOW), Ok(()));

        let unexplained = correcting(op(&form, example(), NOW), earlier, "  ");
        let refusal = check(&unexplained, Some(&form), NOW).unwrap_err();
        assert_eq!(refusal.reason(), Reason::Invalid);
        assert!(refusal.message.contains("reason"), "{}", refusal.message);
        let long = "x".repeat(crate::record::MAX_REASON_CHARS + 1);
        let rambling = correcting(op(&form, example(), NOW), earlier, &long);
        assert_eq!(reason(&rambling, &form), Some(Reason::Invalid));

        let itself = "0192b3c4-0000-7000-8000-0000000005b1";
        let circular = correcting(op(&form, example(), NOW), itself, "again");
        assert_eq!(reason(&circular, &form), Some(Reason::Malformed));
        let nonsense = correcting(op(&form, example(), NOW), "the first one", "again");
        assert_eq!(reason(&nonsense, &form), Some(Reason::Malformed));
    }

    fn consent_op(consent: crate::consent::Consent) -> Operation {
        Operation {
            op_id: "0192b3c4-0000-7000-8000-0000000000c1".into(),
            device: consent.device.clone(),
            hlc: consent.hlc.clone(),
            created_at_ms: consent.signed_at_ms as f64,
            case_id: consent.case_id.clone(),
            change: Change::Consent {
                consent: Box::new(consent),
            },
        }
    }

    #[test]
    fn a_consent_is_checked_for_its_seal_and_its_texts() {
        use crate::consent::text::tests::{library, offenbach, signed};
        use crate::consent::{Given, Scope, Sealed, Withdrawal};
        let (texts, agency) = (library(), offenbach());
        let good = consent_op(signed(&agency));
        assert_eq!(check_consent(&good, &texts, &agency, NOW), Ok(()));
        // A form checker given a consent, and the other way round: malformed.
        assert_eq!(
            check(&good, None, NOW).unwrap_err().reason(),
            Reason::Malformed
        );
        let form = intake();
        let visit = op(&form, example(), NOW);
        assert_eq!(
            check_consent(&visit, &texts, &agency, NOW)
                .unwrap_err()
                .reason(),
            Reason::Malformed
        );

        let mut forged = good.clone();
        let Change::Consent { consent } = &mut forged.change else {
            unreachable!()
        };
        consent.purposes.push("photos".into());
        let refusal = check_consent(&forged, &texts, &agency, NOW).unwrap_err();
        assert_eq!(refusal.reason(), Reason::Invalid);
        assert!(
            refusal.message.contains("changed after it was signed"),
            "{}",
            refusal.message
        );

        let mut elsewhere = good.clone();
        elsewhere.case_id = "0192b3c4-0000-7000-8000-0000000ca5e2".into();
        assert_eq!(
            check_consent(&elsewhere, &texts, &agency, NOW)
                .unwrap_err()
                .reason(),
            Reason::Malformed
        );
        let mut budapest = agency.clone();
        budapest.insert("agency_name".into(), "Test Budapest".into());
        let refusal = check_consent(&good, &texts, &budapest, NOW).unwrap_err();
        assert!(
            refusal.message.contains("SHA-256 differs"),
            "{}",
            refusal.message
        );

        let Change::Consent { consent } = &good.change else {
            unreachable!()
        };
        let withdrawal = Withdrawal {
            id: "0192b3c4-0000-7000-8000-0000000c0002".into(),
            case_id: consent.case_id.clone(),
            consent_id: consent.id.clone(),
            scope: Scope::Purposes(vec!["school_contact".into()]),
            given: Given::Attested {
                note: "Am Telefon".into(),
            },
            witness: "ayse.w".into(),
            witness_name: None,
            lang: None,
            at_ms: NOW,
            device: consent.device.clone(),
            hlc: consent.hlc.clone(),
            binding: String::new(),
        }
        .seal()
        .unwrap();
        let mut op = good.clone();
        op.change = Change::Withdraw {
            withdrawal: Box::new(withdrawal),
        };
        assert_eq!(check_consent(&op, &texts, &agency, NOW), Ok(()));
        let Change::Withdraw { withdrawal } = &mut op.change else {
            unreachable!()
        };
        withdrawal.consent_id = "the first one".into();
        assert_eq!(
            check_consent(&op, &texts, &agency, NOW)
                .unwrap_err()
                .reason(),
            Reason::Malformed
        );
    }

    #[test]
    fn a_resolution_chooses_a_value_the_form_allows_and_names_what_it_replaces() {
        let form = intake();
        let op = op(&form, example(), NOW);
        let seen = vec![op.hlc.clone()];
        let resolve = |value: &str, seen: Vec<Hlc>| {
            let mut r = op.clone();
            r.op_id = "0192b3c4-0000-7000-8000-0000000000a2".into();
            r.change = Change::Resolve {
                properties: BTreeMap::from([(
                    "housing_situation".to_owned(),
                    FieldWrite {
                        value: value.into(),
                        seen,
                    },
                )]),
            };
            r
        };
        let forms = [&form];
        assert_eq!(
            check_resolve(&resolve("shelter", seen.clone()), &forms, NOW),
            Ok(())
        );
        let why = |r: &Operation| check_resolve(r, &forms, NOW).unwrap_err();
        assert_eq!(
            why(&resolve("castle", seen.clone())).reason(),
            Reason::Invalid
        );
        assert_eq!(why(&resolve("shelter", vec![])).reason(), Reason::Invalid);
        let mut unknown = resolve("x", seen.clone());
        let Change::Resolve { properties } = &mut unknown.change else {
            unreachable!()
        };
        let w = properties.remove("housing_situation").unwrap();
        properties.insert("bank_account".into(), w);
        assert!(why(&unknown).message.contains("bank_account"));
        let mut nothing = resolve("shelter", vec![]);
        nothing.change = Change::Resolve {
            properties: BTreeMap::new(),
        };
        assert_eq!(why(&nothing).reason(), Reason::Invalid);
        assert_eq!(
            check(&resolve("shelter", seen), Some(&form), NOW)
                .unwrap_err()
                .reason(),
            Reason::Malformed
        );
    }

    #[test]
    fn a_merge_names_another_household_by_its_id() {
        let form = intake();
        let base = op(&form, example(), NOW);
        let other = "0192b3c4-0000-7000-8000-0000000000c9";
        let link = |change: Change| {
            let mut r = base.clone();
            r.op_id = "0192b3c4-0000-7000-8000-0000000000a3".into();
            r.change = change;
            r
        };
        let why = |c: Change| check_link(&link(c), NOW).unwrap_err();
        for change in [
            Change::Merge { into: other.into() },
            Change::Unmerge {
                merge: other.into(),
            },
            Change::Distinct {
                other: other.into(),
            },
            Change::Close {
                reason: crate::record::CloseReason::MovedAway,
            },
            Change::Reopen {
                close: other.into(),
            },
        ] {
            assert_eq!(check_link(&link(change), NOW), Ok(()));
        }
        assert_eq!(
            why(Change::Reopen {
                close: "yesterday".into()
            })
            .reason(),
            Reason::Malformed
        );
        let itself = why(Change::Merge {
            into: base.case_id.clone(),
        });
        assert_eq!(itself.reason(), Reason::Invalid);
        assert!(itself.message.contains("itself"), "{}", itself.message);
        assert_eq!(
            why(Change::Distinct {
                other: "Familie X".into()
            })
            .reason(),
            Reason::Malformed
        );
        let mut ahead = link(Change::Merge { into: other.into() });
        ahead.hlc.wall_ms = NOW as u64 + 3 * MAX_CLOCK_AHEAD_MS;
        assert_eq!(
            check_link(&ahead, NOW).unwrap_err().reason(),
            Reason::ClockAhead
        );
        assert_eq!(
            check_link(&base, NOW).unwrap_err().reason(),
            Reason::Malformed
        );
    }
}
