//! Every operation's outcome in a group of pushes, decided in memory and in order from what
//! the store knew ([`Known`]): no database here, so each rule is tested alone.

use std::collections::HashSet;

use cris_core::record::{Change, CloseReason, Operation};
use cris_core::referral::{Referral, ReferralUpdate};
use cris_core::sync::{ClosingRefusal, Detail, MergeRefusal, Refusal};

use super::HeldRecord;
use super::read::{Known, is_link};
use crate::store::review::arriving_status;
use crate::store::writer::PushBatch;
use crate::store::{CheckedOp, Role, Stored, changed_record};

/// What a group of pushes does: every operation's outcome, and the rows to write.
#[derive(Debug)]
pub(crate) struct Decision<'a> {
    /// Each batch's outcomes, one per operation, in order.
    pub out: Vec<Vec<Stored>>,
    /// The operations applied, with their batch, in group order.
    pub accepted: Vec<(usize, &'a CheckedOp)>,
    /// The households they create: (case, team, when).
    pub new_cases: Vec<(&'a str, String, i64)>,
    /// Merges made: (merge, merged household, the household it joined, batch).
    pub merged: Vec<(&'a str, &'a str, &'a str, usize)>,
    /// Merges undone: (merge, undoing operation, household, batch).
    pub unmerged: Vec<(&'a str, &'a str, &'a str, usize)>,
    /// Cases closed: (closing, household, why, batch).
    pub closed: Vec<(&'a str, &'a str, CloseReason, usize)>,
    /// Closings taken back: (closing, reopening operation, batch).
    pub reopened: Vec<(&'a str, &'a str, usize)>,
    /// Referrals made: (operation, referral, the consent that released it, batch).
    pub referred: Vec<(&'a Operation, &'a Referral, String, usize)>,
    /// Referrals moved on: (operation, update, whether it is now the latest, batch).
    pub referral_updates: Vec<(&'a Operation, &'a ReferralUpdate, bool, usize)>,
    /// Submissions the group's corrections turn from `changes_requested` to `corrected`.
    pub now_corrected: Vec<String>,
    /// What the store knows after the group (review statuses of the new submissions
    /// included).
    pub known: Known,
}

/// Decides every operation of `ops` (each with its batch's index) in order.
pub(crate) fn decide<'a>(
    batches: &[PushBatch],
    ops: &[(usize, &'a CheckedOp)],
    known: Known,
) -> Decision<'a> {
    let mut d = Decision {
        out: batches
            .iter()
            .map(|b| Vec::with_capacity(b.ops.len()))
            .collect(),
        accepted: Vec::new(),
        new_cases: Vec::new(),
        merged: Vec::new(),
        unmerged: Vec::new(),
        closed: Vec::new(),
        reopened: Vec::new(),
        referred: Vec::new(),
        referral_updates: Vec::new(),
        now_corrected: Vec::new(),
        known,
    };
    // Read only: the rest of what the store knows changes as operations are decided.
    let teams_of = std::mem::take(&mut d.known.teams_of);
    let no_teams = Vec::new();
    for &(i, checked) in ops {
        let teams = teams_of.get(&batches[i].user.id).unwrap_or(&no_teams);
        let stored = match d.one(&batches[i], teams, i, checked) {
            Ok(()) => Stored::Applied {
                conflicts: Vec::new(),
            },
            Err(refused) => refused,
        };
        d.out[i].push(stored);
    }
    d.known.teams_of = teams_of;
    d
}

impl<'a> Decision<'a> {
    /// One operation of the batch `i`, by an author of the teams `teams` `(id, name)`:
    /// applied (what it writes noted), or why not.
    fn one(
        &mut self,
        batch: &PushBatch,
        teams: &[(String, String)],
        i: usize,
        checked: &'a CheckedOp,
    ) -> Result<(), Stored> {
        let op = &checked.op;
        // The team a household this operation creates joins: one of its author's.
        let chosen = match op.submission().and_then(|s| s.team.as_deref()) {
            Some(name) if !self.known.case_team.contains_key(&op.case_id) => {
                match teams.iter().find(|(_, n)| n == name) {
                    Some((id, _)) => Some(id.clone()),
                    None => {
                        return Err(Stored::Refused(Refusal::new(
                            Detail::NotYourTeam {
                                team: name.to_owned(),
                            },
                            format!(
                                "a new household for the team {name:?}, which is not one of yours"
                            ),
                        )));
                    }
                }
            }
            _ => None,
        };
        if self.known.logged.contains(&op.op_id) {
            return Err(self.retry(op));
        }
        if is_link(&op.change) && batch.user.role == Role::Worker {
            return Err(Stored::Refused(Refusal::new(
                Detail::SupervisorsOnly,
                "merging households, and finding them two families, is for supervisors",
            )));
        }
        let visible = match self.known.case_team.get(&op.case_id) {
            Some(team) => teams.iter().any(|(id, _)| id == team),
            None => checked.creates_case && !teams.is_empty(),
        };
        if !visible {
            return Err(Stored::NotFound);
        }
        let names_erased = match &op.change {
            Change::Merge { into: other } | Change::Distinct { other } => {
                self.known.erased.contains(other)
            }
            _ => false,
        };
        if self.known.erased.contains(&op.case_id) || names_erased {
            return Err(Stored::Refused(Refusal::new(
                Detail::Erased,
                "this household was erased: nothing of it is kept, and nothing is recorded for it any more",
            )));
        }
        match &op.change {
            Change::Submit { .. } => self.submit(op)?,
            // Writes only: the merge decides, as for a form's.
            Change::Resolve { .. } => {}
            Change::Merge { into: other } | Change::Distinct { other } => {
                let Some(other_team) = self
                    .known
                    .case_team
                    .get(other)
                    .filter(|t| teams.iter().any(|(id, _)| id == *t))
                else {
                    return Err(Stored::Refused(Refusal::new(
                        Detail::NotVisible,
                        "the other household is not among your teams' cases",
                    )));
                };
                if let Change::Merge { into } = &op.change {
                    let same_team = Some(other_team) == self.known.case_team.get(&op.case_id);
                    self.merge(op, into, same_team, i)?;
                }
            }
            Change::Unmerge { merge } => self.unmerge(op, merge, i)?,
            Change::Close { reason } => self.close(op, *reason, i)?,
            Change::Reopen { close } => self.reopen(op, close, i)?,
            // The API lets none in: the server makes erasures.
            Change::Erase {} => {
                return Err(Stored::Refused(Refusal::new(
                    Detail::Malformed,
                    "an erasure is made on the server only",
                )));
            }
            Change::Consent { .. } | Change::Withdraw { .. } => self.seal(op, batch.now_ms)?,
            Change::Refer { referral } => self.refer(op, referral, batch.now_ms, i)?,
            Change::UpdateReferral { update } => self.update_referral(op, update, i)?,
        }
        if !self.known.case_team.contains_key(&op.case_id) {
            let team = chosen.unwrap_or_else(|| teams[0].0.clone());
            self.known
                .case_team
                .insert(op.case_id.clone(), team.clone());
            self.new_cases.push((&op.case_id, team, batch.now_ms));
        }
        self.known.logged.insert(op.op_id.clone());
        self.accepted.push((i, checked));
        Ok(())
    }

    /// An operation the log holds: a retry is the very record sent before; anything else
    /// under its operation's id would slip a change past as "duplicate".
    fn retry(&self, op: &Operation) -> Stored {
        let Some((kind, id, binding)) = sealed(&op.change) else {
            return Stored::Duplicate;
        };
        let held = self
            .known
            .held_by_op
            .get(&op.op_id)
            .and_then(|r| Some((r, self.known.held.get(r)?)));
        match held {
            Some((held_id, h)) if held_id == id && h.binding == *binding => Stored::Duplicate,
            Some((held_id, h)) => {
                Stored::Immutable(changed_record(&h.kind, held_id, h.received_ms))
            }
            None => Stored::Immutable(format!(
                "the operation {} carried a form already, not this {kind}: a new record needs a new operation",
                op.op_id
            )),
        }
    }

    /// A form: new, and a correction only of a form of the same kind on the same household.
    fn submit(&mut self, op: &Operation) -> Result<(), Stored> {
        let submission = op.submission().expect("a form");
        if self.known.submissions.contains_key(&submission.id) {
            return Err(Stored::SubmissionTaken);
        }
        if let Some(correction) = &submission.corrects {
            let refusal = match self.known.submissions.get(&correction.submission_id) {
                Some((case_id, form_id)) if *case_id == op.case_id => {
                    (*form_id != submission.form_id).then_some("corrects a form of another kind")
                }
                // Another household's form is answered as if it did not exist.
                _ => Some("corrects a form this household does not have (yet)"),
            };
            if let Some(why) = refusal {
                return Err(Stored::BadCorrection(why.to_owned()));
            }
        }
        self.known.submissions.insert(
            submission.id.clone(),
            (op.case_id.clone(), submission.form_id.clone()),
        );
        let corrected = submission.corrects.as_ref().map(|k| &k.submission_id);
        let status = &mut self.known.review_status;
        let (arriving, corrects_requested) =
            arriving_status(corrected.and_then(|id| status.get(id)).map(String::as_str));
        if let Some(id) = corrected.filter(|_| corrects_requested)
            && status.insert(id.clone(), "corrected".to_owned()).as_deref()
                == Some("changes_requested")
        {
            self.now_corrected.push(id.clone());
        }
        status.insert(submission.id.clone(), arriving.to_owned());
        Ok(())
    }

    /// A merge of the operation's household into `into`, as the merges standing allow.
    fn merge(
        &mut self,
        op: &'a Operation,
        into: &'a str,
        same_team: bool,
        i: usize,
    ) -> Result<(), Stored> {
        let standing = &self.known.standing;
        let refusal = if !same_team {
            Some((
                MergeRefusal::DifferentTeams,
                "the two households belong to different teams",
            ))
        } else if standing.contains_key(&op.case_id) {
            Some((
                MergeRefusal::MergedAlready,
                "this household is merged into another already: undo that merge first",
            ))
        } else if standing.contains_key(into) {
            Some((
                MergeRefusal::IntoMerged,
                "the household it would join is merged into another: merge into that one",
            ))
        } else if standing.values().any(|(_, joined)| *joined == op.case_id) {
            Some((
                MergeRefusal::OthersMergedIntoIt,
                "other households are merged into this one: merge the other way round, or undo their merges first",
            ))
        } else if self.known.closed.contains_key(&op.case_id)
            || self.known.closed.contains_key(into)
        {
            Some((
                MergeRefusal::Closed,
                "one of the two households' cases is closed: reopen it first",
            ))
        } else {
            None
        };
        if let Some((why, message)) = refusal {
            return Err(Stored::Refused(Refusal::new(
                Detail::MergeRefused { why },
                message,
            )));
        }
        self.known
            .standing
            .insert(op.case_id.clone(), (op.op_id.clone(), into.to_owned()));
        self.merged.push((&op.op_id, &op.case_id, into, i));
        Ok(())
    }

    /// The undoing of the merge `merge`, which must be the one standing for the household.
    fn unmerge(&mut self, op: &'a Operation, merge: &'a str, i: usize) -> Result<(), Stored> {
        if self
            .known
            .standing
            .get(&op.case_id)
            .is_none_or(|(m, _)| m != merge)
        {
            return Err(Stored::Refused(Refusal::new(
                Detail::MergeRefused {
                    why: MergeRefusal::NotMerged,
                },
                "this household is not merged by that merge (it was undone already, or never made)",
            )));
        }
        self.known.standing.remove(&op.case_id);
        self.unmerged.push((merge, &op.op_id, &op.case_id, i));
        Ok(())
    }

    /// A closing of the operation's household's case: one not closed already, nor merged
    /// into another (whose case is the one to close).
    fn close(&mut self, op: &'a Operation, reason: CloseReason, i: usize) -> Result<(), Stored> {
        let refusal = if self.known.standing.contains_key(&op.case_id) {
            Some((
                ClosingRefusal::Merged,
                "this household is merged into another: close that household's case",
            ))
        } else if self.known.closed.contains_key(&op.case_id) {
            Some((ClosingRefusal::ClosedAlready, "this case is closed already"))
        } else {
            None
        };
        if let Some((why, message)) = refusal {
            return Err(Stored::Refused(Refusal::new(
                Detail::ClosingRefused { why },
                message,
            )));
        }
        self.known
            .closed
            .insert(op.case_id.clone(), op.op_id.clone());
        self.closed.push((&op.op_id, &op.case_id, reason, i));
        Ok(())
    }

    /// The reopening of a case, which the closing `close` must keep closed.
    fn reopen(&mut self, op: &'a Operation, close: &'a str, i: usize) -> Result<(), Stored> {
        if self
            .known
            .closed
            .get(&op.case_id)
            .is_none_or(|standing| standing != close)
        {
            return Err(Stored::Refused(Refusal::new(
                Detail::ClosingRefused {
                    why: ClosingRefusal::NotClosed,
                },
                "this case is not closed by that closing (it was reopened already, or never closed so)",
            )));
        }
        self.known.closed.remove(&op.case_id);
        self.reopened.push((close, &op.op_id, i));
        Ok(())
    }

    /// A referral: new, and carried by the household's consent in force on the day it
    /// arrives (those of the group before it included).
    fn refer(
        &mut self,
        op: &'a Operation,
        referral: &'a Referral,
        now_ms: i64,
        i: usize,
    ) -> Result<(), Stored> {
        if self.known.referrals.contains_key(&referral.id) {
            return Err(Stored::Refused(Refusal::new(
                Detail::ReferralInvalid,
                "the server has a referral under this id already: a new referral needs a new id",
            )));
        }
        let today = cris_core::Date::from_days(
            i32::try_from(now_ms.div_euclid(86_400_000)).unwrap_or_default(),
        );
        let (consents, withdrawals) = self
            .known
            .consents_of
            .get(&op.case_id)
            .map_or((&[][..], &[][..]), |(c, w)| (&c[..], &w[..]));
        let released = cris_core::consent::release_for(
            consents,
            withdrawals,
            today,
            &referral.recipient,
            &referral.purpose,
            &referral.records,
        );
        let released = released.map_err(|why| {
            let message = format!("no consent in force carries this referral: {why}");
            Stored::Refused(Refusal::new(Detail::NoConsent { why }, message))
        })?;
        self.known.referrals.insert(
            referral.id.clone(),
            (op.case_id.clone(), op.hlc.to_string()),
        );
        self.referred.push((op, referral, released.consent_id, i));
        Ok(())
    }

    /// A move of a referral of the household; the latest by its stamp sets the state.
    fn update_referral(
        &mut self,
        op: &'a Operation,
        update: &'a ReferralUpdate,
        i: usize,
    ) -> Result<(), Stored> {
        let Some((case_id, latest)) = self.known.referrals.get_mut(&update.referral_id) else {
            return Err(unknown_referral());
        };
        // Another household's referral is answered as if it did not exist.
        if *case_id != op.case_id {
            return Err(unknown_referral());
        }
        let stamp = op.hlc.to_string();
        let newest = stamp > *latest;
        if newest {
            *latest = stamp;
        }
        self.referral_updates.push((op, update, newest, i));
        Ok(())
    }

    /// A consent or a withdrawal: new, and a withdrawal only of a consent of its household.
    fn seal(&mut self, op: &Operation, now_ms: i64) -> Result<(), Stored> {
        let (kind, id, binding) = sealed(&op.change).expect("a consent or a withdrawal");
        if let Some(h) = self.known.held.get(id) {
            return Err(Stored::Immutable(changed_record(
                &h.kind,
                id,
                h.received_ms,
            )));
        }
        if let Change::Withdraw { withdrawal } = &op.change {
            let withdraws = self
                .known
                .held
                .get(&withdrawal.consent_id)
                .is_some_and(|h| h.kind == "consent" && h.case_id == op.case_id);
            if !withdraws {
                // Another household's consent is answered as if it did not exist.
                return Err(Stored::BadWithdrawal(
                    "withdraws a consent this household does not have (yet)".to_owned(),
                ));
            }
        }
        let held = self
            .known
            .consents_of
            .entry(op.case_id.clone())
            .or_default();
        match &op.change {
            Change::Consent { consent } => held.0.push((**consent).clone()),
            Change::Withdraw { withdrawal } => held.1.push((**withdrawal).clone()),
            _ => {}
        }
        self.known.held_by_op.insert(op.op_id.clone(), id.clone());
        self.known.held.insert(
            id.clone(),
            HeldRecord {
                case_id: op.case_id.clone(),
                kind: kind.to_owned(),
                binding: binding.clone(),
                received_ms: now_ms,
            },
        );
        Ok(())
    }

    /// Fills in, for every applied operation, which of the fields it wrote are now in
    /// conflict (`conflicted`: `(case, field)` as they stand after the group).
    pub(crate) fn mark_conflicts(&mut self, conflicted: &HashSet<(String, String)>) {
        // Outcomes and accepted operations are both in group order.
        let mut next = self.accepted.iter();
        for stored in self.out.iter_mut().flatten() {
            if let Stored::Applied { conflicts } = stored {
                let op = &next
                    .next()
                    .expect("one accepted operation per applied")
                    .1
                    .op;
                *conflicts = op
                    .writes()
                    .map(|(field, _)| field.to_owned())
                    .filter(|f| conflicted.contains(&(op.case_id.clone(), f.clone())))
                    .collect();
            }
        }
    }
}

fn unknown_referral() -> Stored {
    Stored::Refused(Refusal::new(
        Detail::ReferralUnknown,
        "moves a referral this household does not have (yet)",
    ))
}

/// A consent's or withdrawal's kind, id and seal.
fn sealed(change: &Change) -> Option<(&'static str, &String, &String)> {
    match change {
        Change::Consent { consent } => Some(("consent", &consent.id, &consent.binding)),
        Change::Withdraw { withdrawal } => {
            Some(("withdrawal", &withdrawal.id, &withdrawal.binding))
        }
        _ => None,
    }
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
