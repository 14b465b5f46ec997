//! The records of the case store as the phone and the server both hold them (DESIGN.md: the
//! record model), and the operations that carry them from the phone to the server.

use std::collections::BTreeMap;

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
}

impl Case {
    pub fn new(id: &str, at_ms: f64) -> Self {
        Case {
            id: id.to_owned(),
            fields: Fields::default(),
            created_at_ms: at_ms,
            updated_at_ms: at_ms,
        }
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
        self.updated_at_ms = self.updated_at_ms.max(op.created_at_ms);
    }

    /// Replaces stamps in every field (see [`crate::merge::Field::restamp`]).
    pub fn restamp(&mut self, new_stamp: &dyn Fn(&Hlc) -> Option<Hlc>) {
        for field in self.fields.0.values_mut() {
            field.restamp(new_stamp);
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
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "kind" => kind = Some(map.next_value::<std::borrow::Cow<'de, str>>()?),
                        "submission" => submission = Some(map.next_value()?),
                        "properties" => properties = Some(map.next_value()?),
                        "consent" => consent = Some(map.next_value()?),
                        "withdrawal" => withdrawal = Some(map.next_value()?),
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
                    Some(other) => Err(de::Error::unknown_variant(
                        other,
                        &["submit", "consent", "withdraw", "resolve"],
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
            Change::Consent { .. } | Change::Withdraw { .. } => None,
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
            Change::Consent { .. } | Change::Withdraw { .. } | Change::Resolve { .. } => None,
        }
    }

    /// The id of the record it carries: a submission's, a consent's or a withdrawal's.
    pub fn record_id(&self) -> &str {
        match &self.change {
            Change::Submit { submission, .. } => &submission.id,
            Change::Consent { consent } => &consent.id,
            Change::Withdraw { withdrawal } => &withdrawal.id,
            // A resolution is a record of its own only in the log.
            Change::Resolve { .. } => &self.op_id,
        }
    }

    /// The consent or withdrawal it carries, if it carries one.
    pub fn consent_record(&self) -> Option<crate::consent::Record> {
        match &self.change {
            Change::Submit { .. } | Change::Resolve { .. } => None,
            Change::Consent { consent } => Some(crate::consent::Record::Consent(consent.clone())),
            Change::Withdraw { withdrawal } => {
                Some(crate::consent::Record::Withdrawal(withdrawal.clone()))
            }
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
        case.restamp(&new_stamp);
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
}
