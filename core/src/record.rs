//! The records of the case store as the phone and the server both hold them (DESIGN.md: the
//! record model), and the operations that carry them from the phone to the server.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::consent::{Consent, Withdrawal};
use crate::form::Answers;
use crate::hlc::Hlc;
use crate::merge::{Fields, Write};

/// A household, with the case properties that forms keep up to date, each with its history
/// and, after concurrent edits, its conflict (see [`crate::merge`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: String,
    pub fields: Fields,
    /// Milliseconds since 1970 on the device that created it.
    pub created_at_ms: f64,
    pub updated_at_ms: f64,
    /// The merges of this household into another (merge operation id -> the other's id). A
    /// merge joins nothing in place: the household's records stay under its own id and are
    /// shown with the other's (see [`households`]), so a merge taken back leaves both as they
    /// were.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub merges: BTreeMap<String, String>,
    /// The merges of this household taken back (their operation ids).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub unmerged: BTreeSet<String>,
    /// Households someone decided are another family, however alike they look.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub distinct_from: BTreeSet<String>,
    /// The closings of this household's case (closing operation id -> why). Like merges, a
    /// closing is taken back by an operation of its own, so the same operations in any order
    /// leave the same case.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub closings: BTreeMap<String, CloseReason>,
    /// The closings taken back (their operation ids).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub reopened: BTreeSet<String>,
    /// The household's referrals to services, by id, with what became of them. An update
    /// that arrives before its referral waits in `early_updates`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub referrals: BTreeMap<String, crate::referral::Followed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub early_updates: Vec<(Hlc, crate::referral::ReferralUpdate)>,
}

/// Why a household's case was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    MovedAway,
    LeftBenefits,
    GoalsReached,
    /// No contact for months.
    NoContact,
    Other,
}

impl CloseReason {
    pub const ALL: [CloseReason; 5] = [
        CloseReason::MovedAway,
        CloseReason::LeftBenefits,
        CloseReason::GoalsReached,
        CloseReason::NoContact,
        CloseReason::Other,
    ];

    /// As it is written in operations and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::MovedAway => "moved_away",
            CloseReason::LeftBenefits => "left_benefits",
            CloseReason::GoalsReached => "goals_reached",
            CloseReason::NoContact => "no_contact",
            CloseReason::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<CloseReason> {
        CloseReason::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl Case {
    pub fn new(id: &str, at_ms: f64) -> Self {
        Case {
            id: id.to_owned(),
            fields: Fields::default(),
            created_at_ms: at_ms,
            updated_at_ms: at_ms,
            merges: BTreeMap::new(),
            unmerged: BTreeSet::new(),
            distinct_from: BTreeSet::new(),
            closings: BTreeMap::new(),
            reopened: BTreeSet::new(),
            referrals: BTreeMap::new(),
            early_updates: Vec::new(),
        }
    }

    /// The closing that stands, if the case is closed: (the closing operation's id, why). Of
    /// several closings not taken back (which the server never accepts) the latest counts.
    pub fn closed(&self) -> Option<(&str, CloseReason)> {
        self.closings
            .iter()
            .rev()
            .find(|(close, _)| !self.reopened.contains(*close))
            .map(|(close, why)| (close.as_str(), *why))
    }

    /// The merge this household is in, if it is merged into another: (the merge operation's
    /// id, the other household's id). Of several merges not taken back (which the server
    /// never accepts) the latest counts.
    pub fn merged_into(&self) -> Option<(&str, &str)> {
        self.merges
            .iter()
            .rev()
            .find(|(merge, _)| !self.unmerged.contains(*merge))
            .map(|(merge, into)| (merge.as_str(), into.as_str()))
    }

    /// Whether someone decided that this household and `other` are two families.
    pub fn distinct(&self, other: &Case) -> bool {
        self.distinct_from.contains(&other.id) || other.distinct_from.contains(&self.id)
    }

    /// Shows `other`'s properties as this household's: every write of both, merged as
    /// concurrent writes are (a property the two households recorded differently becomes a
    /// conflict to resolve).
    pub fn join(&mut self, other: &Case) {
        for (name, field) in &other.fields.0 {
            for write in field.history() {
                self.fields.apply(name, write.clone());
            }
        }
        self.created_at_ms = self.created_at_ms.min(other.created_at_ms);
        self.updated_at_ms = self.updated_at_ms.max(other.updated_at_ms);
    }

    /// The name the caseload shows (empty when the intake did not give one).
    pub fn household_name(&self) -> &str {
        self.property("household_name")
    }

    /// The current value of a case property ("" when it has none).
    pub fn property(&self, name: &str) -> &str {
        self.fields.value(name).unwrap_or_default()
    }

    /// Applies the property writes of an operation on this case (again: nothing changes).
    pub fn apply(&mut self, op: &Operation) {
        for (name, write) in op.writes() {
            self.fields.apply(name, write);
        }
        match &op.change {
            Change::Merge { into } => {
                self.merges.insert(op.op_id.clone(), into.clone());
            }
            Change::Unmerge { merge } => {
                self.unmerged.insert(merge.clone());
            }
            Change::Distinct { other } => {
                self.distinct_from.insert(other.clone());
            }
            Change::Close { reason } => {
                self.closings.insert(op.op_id.clone(), *reason);
            }
            Change::Reopen { close } => {
                self.reopened.insert(close.clone());
            }
            Change::Refer { referral } => {
                let mut followed = crate::referral::Followed::new(referral.clone(), op.hlc.clone());
                let (early, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.early_updates)
                    .into_iter()
                    .partition(|(_, u)| u.referral_id == referral.id);
                self.early_updates = waiting;
                for (hlc, update) in early {
                    followed.update(hlc, update);
                }
                let held = self
                    .referrals
                    .entry(referral.id.clone())
                    .or_insert(followed);
                held.referral.clone_from(referral);
            }
            Change::UpdateReferral { update } => {
                match self.referrals.get_mut(&update.referral_id) {
                    Some(followed) => followed.update(op.hlc.clone(), update.clone()),
                    None => {
                        let early = (op.hlc.clone(), update.clone());
                        if !self.early_updates.contains(&early) {
                            self.early_updates.push(early);
                            self.early_updates.sort_by(|a, b| a.0.cmp(&b.0));
                        }
                    }
                }
            }
            Change::Submit { .. }
            | Change::Consent { .. }
            | Change::Withdraw { .. }
            | Change::Resolve { .. }
            | Change::Erase {} => {}
        }
        self.updated_at_ms = self.updated_at_ms.max(op.created_at_ms);
    }

    /// Takes back an operation of this device that the server refused (so that nobody else
    /// has it), to redo it: its writes leave the fields, and a field left with none goes.
    pub fn take_back(&mut self, op: &Operation) {
        for (name, write) in op.writes() {
            if let Some(field) = self.fields.0.get_mut(name) {
                field.remove(&write.hlc);
                if field.is_empty() {
                    self.fields.0.remove(name);
                }
            }
        }
    }

    /// Replaces stamps in every field (see [`crate::merge::Field::restamp`]); what a write
    /// saw only where `unsent` says the server has not stored the write.
    pub fn restamp(
        &mut self,
        new_stamp: &dyn Fn(&Hlc) -> Option<Hlc>,
        unsent: &dyn Fn(&Hlc) -> bool,
    ) {
        for field in self.fields.0.values_mut() {
            field.restamp(new_stamp, unsent);
        }
    }

    /// What a device writing `values` now must send: each value with the stamps it replaces.
    pub fn writes_for(&self, values: &BTreeMap<String, String>) -> BTreeMap<String, FieldWrite> {
        values
            .iter()
            .map(|(name, value)| {
                let seen = self
                    .fields
                    .0
                    .get(name)
                    .map(crate::merge::Field::seen_by_next_write)
                    .unwrap_or_default();
                (
                    name.clone(),
                    FieldWrite {
                        value: value.clone(),
                        seen,
                    },
                )
            })
            .collect()
    }
}

/// The households as people see them: each case not merged into another, with the properties
/// of the cases merged into it joined to its own (see [`Case::join`]); merged cases are left
/// out. `members` of a household are its own id and those of the cases merged into it.
pub fn households(cases: &[Case]) -> Vec<Case> {
    let mut shown: BTreeMap<&str, Case> = cases
        .iter()
        .filter(|c| c.merged_into().is_none())
        .map(|c| (c.id.as_str(), c.clone()))
        .collect();
    for case in cases {
        if let Some((_, into)) = case.merged_into()
            && let Some(household) = shown.get_mut(into)
        {
            household.join(case);
        }
    }
    shown.into_values().collect()
}

/// The ids of the cases that make up the household `id`: its own and those merged into it.
pub fn members(cases: &[Case], id: &str) -> Vec<String> {
    std::iter::once(id.to_owned())
        .chain(
            cases
                .iter()
                .filter(|c| c.merged_into().is_some_and(|(_, into)| into == id))
                .map(|c| c.id.clone()),
        )
        .collect()
}

/// One finalized form. Never edited in place: a correction is a new operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// UUIDv7, made when the form was started (the draft's id).
    pub id: String,
    pub form_id: String,
    pub form_version: u32,
    pub case_id: String,
    /// The phone it was filled on.
    pub device: String,
    /// As validation kept them: no answers of fields that did not apply.
    pub answers: Answers,
    pub started_at_ms: f64,
    pub finalized_at_ms: f64,
    /// Set when this submission corrects an earlier one of the same form and case: the earlier
    /// one stays in the record, marked as corrected (see [`crate::caseload::in_effect`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<Correction>,
    /// The team (its name) a household this form creates joins, chosen by someone in several
    /// teams; absent: the first of the author's teams by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
}

/// What a correction corrects, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub submission_id: String,
    /// Told by the worker; never empty.
    pub reason: String,
}

/// The longest reason for a correction, in characters.
pub const MAX_REASON_CHARS: usize = 1000;

/// A case property set by an operation, with the stamps of the values it replaced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldWrite {
    pub value: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<Hlc>,
}

/// A change made on a phone, waiting in its outbox until the server acknowledges it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// UUIDv7; pushing the same operation twice has the effect of pushing it once.
    pub op_id: String,
    pub device: String,
    /// Orders this operation's writes against concurrent ones (see [`crate::hlc`]).
    pub hlc: Hlc,
    /// The device's clock when it was made (shown to people; never used to order).
    pub created_at_ms: f64,
    pub case_id: String,
    pub change: Change,
}

/// Written as `{"kind": "submit", ...}`. Read by hand: serde's derived reading of a tagged
/// enum first copies the whole operation into a buffer of its own, which made reading an
/// operation take twice as long as checking it.
// Forms are the common case: boxing them would cost an allocation per operation read.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A finalized form and the case properties it sets; an intake also creates the case.
    Submit {
        submission: Submission,
        properties: BTreeMap<String, FieldWrite>,
    },
    /// A signed consent (see [`crate::consent`]): never changed once the server has it.
    Consent { consent: Box<Consent> },
    /// A withdrawal of (part of) an earlier consent.
    Withdraw { withdrawal: Box<Withdrawal> },
    /// Someone chose the value of case properties in conflict: each write has seen every
    /// value of its conflict (see [`crate::merge::Field::seen_by_next_write`]).
    Resolve {
        properties: BTreeMap<String, FieldWrite>,
    },
    /// A supervisor found that this household (the operation's case) is the same family as
    /// `into`: from now on it is shown as part of `into`. Its records stay its own.
    Merge { into: String },
    /// A merge taken back (`merge`: the merge operation's id): the household is its own again.
    Unmerge { merge: String },
    /// A supervisor found that this household and `other` are two families, however alike.
    Distinct { other: String },
    /// The household's case is closed: it leaves the workers' phones (supervisors still see
    /// it), and the agency's retention period starts.
    Close { reason: CloseReason },
    /// A closing taken back (`close`: the closing operation's id): the case is open again.
    Reopen { close: String },
    /// The household was erased on the server (at the family's request, or when the agency's
    /// retention period ran out): every phone deletes everything it holds of it, and the
    /// server refuses whatever comes for it later. Made by the server only.
    Erase {},
    /// The household referred to a service, under its consent (see [`crate::referral`]).
    Refer { referral: crate::referral::Referral },
    /// A referral's state moved on.
    UpdateReferral {
        update: crate::referral::ReferralUpdate,
    },
}

impl<'de> Deserialize<'de> for Change {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{self, IgnoredAny, MapAccess, Visitor};
        struct ChangeVisitor;
        impl<'de> Visitor<'de> for ChangeVisitor {
            type Value = Change;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a change with a kind")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Change, A::Error> {
                // Fields may come in any order.
                let (mut kind, mut submission, mut properties) = (None, None, None);
                let (mut consent, mut withdrawal) = (None, None);
                let (mut into, mut merge, mut other) = (None, None, None);
                let (mut reason, mut close) = (None, None);
                let (mut referral, mut update) = (None, None);
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "kind" => kind = Some(map.next_value::<std::borrow::Cow<'de, str>>()?),
                        "submission" => submission = Some(map.next_value()?),
                        "properties" => properties = Some(map.next_value()?),
                        "consent" => consent = Some(map.next_value()?),
                        "withdrawal" => withdrawal = Some(map.next_value()?),
                        "into" => into = Some(map.next_value()?),
                        "merge" => merge = Some(map.next_value()?),
                        "other" => other = Some(map.next_value()?),
                        "reason" => reason = Some(map.next_value()?),
                        "close" => close = Some(map.next_value()?),
                        "referral" => referral = Some(map.next_value()?),
                        "update" => update = Some(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                match kind.as_deref() {
                    Some("submit") => Ok(Change::Submit {
                        submission: submission
                            .ok_or_else(|| de::Error::missing_field("submission"))?,
                        properties: properties
                            .ok_or_else(|| de::Error::missing_field("properties"))?,
                    }),
                    Some("consent") => Ok(Change::Consent {
                        consent: consent.ok_or_else(|| de::Error::missing_field("consent"))?,
                    }),
                    Some("resolve") => Ok(Change::Resolve {
                        properties: properties
                            .ok_or_else(|| de::Error::missing_field("properties"))?,
                    }),
                    Some("withdraw") => Ok(Change::Withdraw {
                        withdrawal: withdrawal
                            .ok_or_else(|| de::Error::missing_field("withdrawal"))?,
                    }),
                    Some("merge") => Ok(Change::Merge {
                        into: into.ok_or_else(|| de::Error::missing_field("into"))?,
                    }),
                    Some("unmerge") => Ok(Change::Unmerge {
                        merge: merge.ok_or_else(|| de::Error::missing_field("merge"))?,
                    }),
                    Some("distinct") => Ok(Change::Distinct {
                        other: other.ok_or_else(|| de::Error::missing_field("other"))?,
                    }),
                    Some("close") => Ok(Change::Close {
                        reason: reason.ok_or_else(|| de::Error::missing_field("reason"))?,
                    }),
                    Some("reopen") => Ok(Change::Reopen {
                        close: close.ok_or_else(|| de::Error::missing_field("close"))?,
                    }),
                    Some("erase") => Ok(Change::Erase {}),
                    Some("refer") => Ok(Change::Refer {
                        referral: referral.ok_or_else(|| de::Error::missing_field("referral"))?,
                    }),
                    Some("update_referral") => Ok(Change::UpdateReferral {
                        update: update.ok_or_else(|| de::Error::missing_field("update"))?,
                    }),
                    Some(unknown) => Err(de::Error::unknown_variant(
                        unknown,
                        &[
                            "submit",
                            "consent",
                            "withdraw",
                            "resolve",
                            "merge",
                            "unmerge",
                            "distinct",
                            "close",
                            "reopen",
                            "erase",
                            "refer",
                            "update_referral",
                        ],
                    )),
                    None => Err(de::Error::missing_field("kind")),
                }
            }
        }
        deserializer.deserialize_map(ChangeVisitor)
    }
}

impl Operation {
    /// The case-property writes this operation makes, stamped with its clock.
    pub fn writes(&self) -> impl Iterator<Item = (&str, Write)> {
        let properties = match &self.change {
            Change::Submit { properties, .. } | Change::Resolve { properties } => Some(properties),
            _ => None,
        };
        properties.into_iter().flatten().map(|(name, w)| {
            (
                name.as_str(),
                Write {
                    value: w.value.clone(),
                    hlc: self.hlc.clone(),
                    seen: w.seen.clone(),
                },
            )
        })
    }

    /// Replaces its stamp and the stamps its writes saw, where `new_stamp` gives one. A
    /// consent or withdrawal keeps the stamp sealed into it: it is evidence of the phone's
    /// clock when it was signed, and changing it would break the seal.
    pub fn restamp(&mut self, new_stamp: &dyn Fn(&Hlc) -> Option<Hlc>) {
        if let Some(stamp) = new_stamp(&self.hlc) {
            self.hlc = stamp;
        }
        let (Change::Submit { properties, .. } | Change::Resolve { properties }) = &mut self.change
        else {
            return;
        };
        for write in properties.values_mut() {
            for seen in &mut write.seen {
                if let Some(stamp) = new_stamp(seen) {
                    *seen = stamp;
                }
            }
        }
    }

    /// The submission it carries, if it carries one.
    pub fn submission(&self) -> Option<&Submission> {
        match &self.change {
            Change::Submit { submission, .. } => Some(submission),
            _ => None,
        }
    }

    /// The id of the record it carries: a submission's, a consent's or a withdrawal's.
    pub fn record_id(&self) -> &str {
        match &self.change {
            Change::Submit { submission, .. } => &submission.id,
            Change::Consent { consent } => &consent.id,
            Change::Withdraw { withdrawal } => &withdrawal.id,
            Change::Refer { referral } => &referral.id,
            // A resolution, a merge, a closing or their undoing, a referral's update, is a
            // record of its own only in the log.
            Change::Resolve { .. }
            | Change::Merge { .. }
            | Change::Unmerge { .. }
            | Change::Distinct { .. }
            | Change::Close { .. }
            | Change::Reopen { .. }
            | Change::UpdateReferral { .. }
            | Change::Erase {} => &self.op_id,
        }
    }

    /// The consent or withdrawal it carries, if it carries one.
    pub fn consent_record(&self) -> Option<crate::consent::Record> {
        match &self.change {
            Change::Consent { consent } => Some(crate::consent::Record::Consent(consent.clone())),
            Change::Withdraw { withdrawal } => {
                Some(crate::consent::Record::Withdrawal(withdrawal.clone()))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(wall_ms: u64, device: &str) -> Hlc {
        Hlc {
            wall_ms,
            counter: 0,
            device: device.into(),
        }
    }

    fn op(id: &str, hlc: Hlc, value: &str, seen: Vec<Hlc>) -> Operation {
        let submission = Submission {
            id: format!("s-{id}"),
            form_id: "home_visit".into(),
            form_version: 1,
            case_id: "c".into(),
            device: hlc.device.clone(),
            answers: Answers::new(),
            started_at_ms: 0.0,
            finalized_at_ms: 0.0,
            corrects: None,
            team: None,
        };
        Operation {
            op_id: id.into(),
            device: hlc.device.clone(),
            hlc,
            created_at_ms: 0.0,
            case_id: "c".into(),
            change: Change::Submit {
                submission,
                properties: BTreeMap::from([(
                    "housing_situation".to_owned(),
                    FieldWrite {
                        value: value.into(),
                        seen,
                    },
                )]),
            },
        }
    }

    #[test]
    fn a_refused_operation_taken_back_leaves_the_household_as_before_it() {
        let (first, refused) = (stamp(10, "a"), stamp(20, "a"));
        let earlier = op("1", first.clone(), "shelter", vec![]);
        let mut before = Case::new("c", 0.0);
        before.apply(&earlier);
        let mut case = before.clone();
        let later = op("2", refused, "homeless", vec![first]);
        case.apply(&later);
        assert_eq!(case.property("housing_situation"), "homeless");
        case.take_back(&later);
        assert_eq!(case.fields, before.fields);
        assert_eq!(case.property("housing_situation"), "shelter");
        // The household's only write taken back: the property goes.
        case.take_back(&earlier);
        assert!(case.fields.0.is_empty());
        // Taking back what is not here changes nothing.
        case.take_back(&later);
        assert!(case.fields.0.is_empty());
    }

    #[test]
    fn restamping_a_phones_operations_leaves_no_trace_of_the_old_stamps() {
        // A phone a year ahead wrote twice (the second after the first); another phone wrote
        // concurrently.
        let year = 365 * 86_400_000;
        let (p1, p2) = (stamp(year + 1, "a"), stamp(year + 2, "a"));
        let ops = vec![
            op("1", p1.clone(), "shelter", vec![]),
            op("2", p2.clone(), "homeless", vec![p1.clone()]),
            op("3", stamp(50, "b"), "sublet", vec![]),
        ];
        let mut case = Case::new("c", 0.0);
        for o in &ops {
            case.apply(o);
        }
        let map = BTreeMap::from([(p1, stamp(100, "a")), (p2, stamp(101, "a"))]);
        let new_stamp = |h: &Hlc| map.get(h).cloned();
        case.restamp(&new_stamp, &|_| true);
        let mut again = Case::new("c", 0.0);
        for mut o in ops {
            o.restamp(&new_stamp);
            again.apply(&o);
        }
        assert_eq!(case.fields, again.fields);
        let field = &case.fields.0["housing_situation"];
        assert!(field.history().iter().all(|w| w.hlc.wall_ms < year));
        assert_eq!(field.current().unwrap().value, "homeless");
        let losers: Vec<&str> = field.conflict().iter().map(|w| w.value.as_str()).collect();
        assert_eq!(losers, ["sublet"], "still concurrent with the other phone");
    }

    #[test]
    fn an_operation_reads_back_as_written_whatever_the_order_of_its_change() {
        let o = op("o1", stamp(5, "a"), "sublet", vec![stamp(4, "b")]);
        let text = serde_json::to_string(&o).unwrap();
        assert!(text.contains(r#""change":{"kind":"submit","#), "{text}");
        assert_eq!(serde_json::from_str::<Operation>(&text).unwrap(), o);

        let Change::Submit {
            submission,
            properties,
        } = &o.change
        else {
            unreachable!()
        };
        let reordered = serde_json::json!({
            "properties": properties,
            "extra": [1, 2],
            "submission": submission,
            "kind": "submit",
        });
        assert_eq!(
            serde_json::from_value::<Change>(reordered).unwrap(),
            o.change
        );
        let unknown = serde_json::json!({ "kind": "delete", "submission": submission });
        let err = serde_json::from_value::<Change>(unknown).unwrap_err();
        assert!(
            err.to_string().contains("unknown variant `delete`"),
            "{err}"
        );
        let untold = serde_json::json!({ "submission": submission, "properties": {} });
        let err = serde_json::from_value::<Change>(untold).unwrap_err();
        assert!(err.to_string().contains("missing field `kind`"), "{err}");
        assert!(serde_json::from_str::<Change>(r#"{"kind":"submit"}"#).is_err());
        let resolution = Change::Resolve {
            properties: properties.clone(),
        };
        let text = serde_json::to_string(&resolution).unwrap();
        assert!(
            text.starts_with(r#"{"kind":"resolve","properties":"#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Change>(&text).unwrap(), resolution);
        assert!(serde_json::from_str::<Change>(r#"{"kind":"resolve"}"#).is_err());
        assert!(serde_json::from_str::<Change>("[1]").is_err());
    }

    fn link(op_id: &str, case_id: &str, change: Change) -> Operation {
        Operation {
            op_id: op_id.into(),
            device: "s".into(),
            hlc: stamp(900, "s"),
            created_at_ms: 900.0,
            case_id: case_id.into(),
            change,
        }
    }

    fn case_with(id: &str, housing: &str, wall_ms: u64, device: &str) -> Case {
        let mut o = op(&format!("o-{id}"), stamp(wall_ms, device), housing, vec![]);
        o.case_id = id.into();
        let mut case = Case::new(id, wall_ms as f64);
        case.apply(&o);
        case
    }

    #[test]
    fn a_merged_household_is_shown_with_the_other_until_the_merge_is_taken_back() {
        let a = case_with("a", "shelter", 10, "p1");
        let mut b = case_with("b", "homeless", 20, "p2");
        let c = case_with("c", "sublet", 30, "p3");
        let merge = link("m1", "b", Change::Merge { into: "a".into() });
        b.apply(&merge);
        b.apply(&merge);
        assert_eq!(b.merged_into(), Some(("m1", "a")));
        let cases = vec![a.clone(), b.clone(), c.clone()];
        let shown = households(&cases);
        let ids: Vec<&str> = shown.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(
            ids,
            ["a", "c"],
            "the merged household is not listed on its own"
        );
        let joined = &shown[0];
        assert_eq!(joined.property("housing_situation"), "homeless");
        let field = &joined.fields.0["housing_situation"];
        let losers: Vec<&str> = field.conflict().iter().map(|w| w.value.as_str()).collect();
        assert_eq!(
            losers,
            ["shelter"],
            "what the two recorded differently is a conflict"
        );
        assert_eq!(joined.created_at_ms, 10.0);
        assert_eq!(members(&cases, "a"), ["a", "b"]);
        assert_eq!(members(&cases, "c"), ["c"]);

        // Taken back: both are as they were, whatever the order the phone heard it in.
        let undo = link("m2", "b", Change::Unmerge { merge: "m1".into() });
        let mut undone = b.clone();
        undone.apply(&undo);
        let mut early = case_with("b", "homeless", 20, "p2");
        early.apply(&undo);
        early.apply(&merge);
        assert_eq!(undone, early);
        assert_eq!(undone.merged_into(), None);
        let shown = households(&[a.clone(), undone, c]);
        assert_eq!(shown.len(), 3);
        assert_eq!(shown[0], a, "nothing of the other household stayed");

        let text = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<Case>(&text).unwrap(), b);
        let plain = serde_json::to_string(&a).unwrap();
        assert!(!plain.contains("merges"), "{plain}");
    }

    #[test]
    fn two_families_found_distinct_stay_distinct_from_either_side() {
        let a = case_with("a", "shelter", 10, "p1");
        let mut b = case_with("b", "shelter", 20, "p2");
        assert!(!a.distinct(&b));
        b.apply(&link("d1", "b", Change::Distinct { other: "a".into() }));
        assert!(a.distinct(&b) && b.distinct(&a));
    }

    #[test]
    fn merges_read_back_and_name_what_they_need() {
        for change in [
            Change::Merge { into: "a".into() },
            Change::Unmerge { merge: "m".into() },
            Change::Distinct { other: "a".into() },
        ] {
            let text = serde_json::to_string(&change).unwrap();
            assert_eq!(serde_json::from_str::<Change>(&text).unwrap(), change);
        }
        let err = serde_json::from_str::<Change>(r#"{"kind":"merge"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `into`"), "{err}");
        let op = link("m", "b", Change::Merge { into: "a".into() });
        assert_eq!(op.record_id(), "m");
        assert_eq!(op.writes().count(), 0);
        assert!(op.submission().is_none() && op.consent_record().is_none());
    }

    #[test]
    fn a_closed_case_is_open_again_once_reopened_whatever_the_order_heard() {
        let close = link(
            "k1",
            "a",
            Change::Close {
                reason: CloseReason::MovedAway,
            },
        );
        let reopen = link("k2", "a", Change::Reopen { close: "k1".into() });
        let again = link(
            "k3",
            "a",
            Change::Close {
                reason: CloseReason::NoContact,
            },
        );
        let mut closed = case_with("a", "shelter", 10, "p1");
        closed.apply(&close);
        closed.apply(&close);
        assert_eq!(closed.closed(), Some(("k1", CloseReason::MovedAway)));
        let mut open = closed.clone();
        open.apply(&reopen);
        assert_eq!(open.closed(), None);
        let mut early = case_with("a", "shelter", 10, "p1");
        early.apply(&reopen);
        early.apply(&close);
        assert_eq!(
            early, open,
            "a reopening heard first still takes the closing back"
        );
        early.apply(&again);
        assert_eq!(early.closed(), Some(("k3", CloseReason::NoContact)));
        assert_eq!(early.property("housing_situation"), "shelter");

        let text = serde_json::to_string(&again.change).unwrap();
        assert_eq!(text, r#"{"kind":"close","reason":"no_contact"}"#);
        assert_eq!(serde_json::from_str::<Change>(&text).unwrap(), again.change);
        let text = serde_json::to_string(&reopen.change).unwrap();
        assert_eq!(
            serde_json::from_str::<Change>(&text).unwrap(),
            reopen.change
        );
        assert!(serde_json::from_str::<Change>(r#"{"kind":"close","reason":"died"}"#).is_err());
        assert!(serde_json::from_str::<Change>(r#"{"kind":"reopen"}"#).is_err());
        let stored = serde_json::to_string(&early).unwrap();
        assert_eq!(serde_json::from_str::<Case>(&stored).unwrap(), early);
        for reason in CloseReason::ALL {
            assert_eq!(CloseReason::parse(reason.as_str()), Some(reason));
        }
    }
}
