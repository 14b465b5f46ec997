//! The merge of concurrent changes to a case's fields (DESIGN.md: sync protocol), the same
//! code on the phone and on the server.
//!
//! Every write of a field carries its stamp and the stamps of the values it replaced, as its
//! device knew them (`seen`). A field's state is the set of all its writes; from it:
//! - a write is **superseded** when another write has seen it;
//! - the **heads** are the writes nobody has seen yet; the newest head is the current value;
//! - the other heads with a different value are a **conflict**, kept until a write that has
//!   seen them all (a resolution) supersedes them.
//!
//! Because the state is a set and everything else is computed from it, applying the same
//! writes in any order, any number of times, in any grouping, gives the same state, conflicts
//! included; and no write is ever dropped: superseded ones stay as history.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::hlc::Hlc;

/// One write of one field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Write {
    pub value: String,
    pub hlc: Hlc,
    /// The stamps of the values this write replaced, as its device knew them: the field's
    /// current value, and for a resolution every value of the conflict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<Hlc>,
}

/// Every write of one field, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Field {
    writes: Vec<Write>,
}

impl Field {
    /// The same writes with some stamps replaced: `new_stamp` gives the replacement of each
    /// stamp that changes. For a phone whose clock ran ahead, restamping operations the server
    /// has not stored (and so nobody else has) without leaving their old stamps behind. What
    /// a write saw is rewritten only where `unsent` says the server has not stored the write
    /// (by its stamp before): a stored write keeps what it saw, as everyone else keeps it.
    pub fn restamp(
        &mut self,
        new_stamp: &dyn Fn(&Hlc) -> Option<Hlc>,
        unsent: &dyn Fn(&Hlc) -> bool,
    ) {
        for mut write in std::mem::take(&mut self.writes) {
            if unsent(&write.hlc) {
                for seen in &mut write.seen {
                    if let Some(stamp) = new_stamp(seen) {
                        *seen = stamp;
                    }
                }
            }
            if let Some(stamp) = new_stamp(&write.hlc) {
                write.hlc = stamp;
            }
            self.apply(write);
        }
    }

    /// Takes out the write stamped `hlc`: one that nobody else has, because the server
    /// refused the operation that carried it and the device redoes it. Returns whether it was
    /// here.
    pub fn remove(&mut self, hlc: &Hlc) -> bool {
        match self.writes.binary_search_by(|w| w.hlc.cmp(hlc)) {
            Ok(at) => {
                self.writes.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    /// Whether no write is left.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Adds a write; a write already here (same stamp) changes nothing. Returns whether it
    /// was new.
    pub fn apply(&mut self, write: Write) -> bool {
        match self.writes.binary_search_by(|w| w.hlc.cmp(&write.hlc)) {
            Ok(_) => false,
            Err(at) => {
                self.writes.insert(at, write);
                true
            }
        }
    }

    /// Every write, oldest first: the field's history.
    pub fn history(&self) -> &[Write] {
        &self.writes
    }

    /// The writes nobody has seen yet, newest first.
    pub fn heads(&self) -> Vec<&Write> {
        let mut heads: Vec<&Write> = self
            .writes
            .iter()
            .filter(|w| !self.writes.iter().any(|other| other.seen.contains(&w.hlc)))
            .collect();
        heads.reverse();
        heads
    }

    /// The current value: the newest head.
    pub fn current(&self) -> Option<&Write> {
        self.heads().into_iter().next()
    }

    /// Concurrent writes of other values, which lost to the current one and wait for someone
    /// to choose; newest first.
    pub fn conflict(&self) -> Vec<&Write> {
        let heads = self.heads();
        let Some(current) = heads.first() else {
            return Vec::new();
        };
        heads
            .iter()
            .skip(1)
            .filter(|w| w.value != current.value)
            .copied()
            .collect()
    }

    /// What a new write of this field must say it has seen: every head (so that writing over
    /// a conflict the device showed resolves it).
    pub fn seen_by_next_write(&self) -> Vec<Hlc> {
        self.heads().into_iter().map(|w| w.hlc.clone()).collect()
    }
}

/// The fields of one record (a case's properties), by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fields(pub BTreeMap<String, Field>);

impl Fields {
    pub fn apply(&mut self, name: &str, write: Write) -> bool {
        self.0.entry(name.to_owned()).or_default().apply(write)
    }

    /// The current value of every field that has one.
    pub fn values(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .filter_map(|(name, f)| Some((name.clone(), f.current()?.value.clone())))
            .collect()
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        Some(self.0.get(name)?.current()?.value.as_str())
    }

    /// Names of the fields in conflict.
    pub fn conflicted(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(_, f)| !f.conflict().is_empty())
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hlc(wall_ms: u64, device: &str) -> Hlc {
        Hlc {
            wall_ms,
            counter: 0,
            device: device.into(),
        }
    }

    fn write(value: &str, at: Hlc, seen: &[&Hlc]) -> Write {
        Write {
            value: value.into(),
            hlc: at,
            seen: seen.iter().map(|h| (*h).clone()).collect(),
        }
    }

    #[test]
    fn edits_in_sequence_just_update() {
        let mut f = Field::default();
        let a = hlc(1, "p1");
        let b = hlc(2, "p2");
        f.apply(write("shelter", a.clone(), &[]));
        f.apply(write("own_flat", b.clone(), &[&a]));
        assert_eq!(f.current().unwrap().value, "own_flat");
        assert!(f.conflict().is_empty());
        assert_eq!(f.history().len(), 2, "the old value stays as history");
    }

    #[test]
    fn concurrent_edits_keep_the_loser_as_a_conflict_until_resolved() {
        let mut f = Field::default();
        let base = hlc(1, "p1");
        f.apply(write("shelter", base.clone(), &[]));
        // Two phones, offline, both change the housing of the same household.
        let x = hlc(5, "p1");
        let y = hlc(7, "p2");
        f.apply(write("sublet", x.clone(), &[&base]));
        f.apply(write("homeless", y.clone(), &[&base]));
        assert_eq!(
            f.current().unwrap().value,
            "homeless",
            "the later stamp wins"
        );
        let conflict: Vec<&str> = f.conflict().iter().map(|w| w.value.as_str()).collect();
        assert_eq!(conflict, ["sublet"], "the other value is kept, not dropped");
        // A supervisor chooses, having seen both.
        let r = hlc(9, "server");
        f.apply(write(
            "sublet",
            r,
            &f.seen_by_next_write().iter().collect::<Vec<_>>(),
        ));
        assert_eq!(f.current().unwrap().value, "sublet");
        assert!(f.conflict().is_empty());
    }

    #[test]
    fn concurrent_edits_to_the_same_value_are_no_conflict() {
        let mut f = Field::default();
        f.apply(write("at_risk", hlc(5, "p1"), &[]));
        f.apply(write("at_risk", hlc(6, "p2"), &[]));
        assert!(f.conflict().is_empty());
    }

    #[test]
    fn an_edit_that_saw_only_the_winner_leaves_the_conflict_standing() {
        let mut f = Field::default();
        let x = hlc(5, "p1");
        let y = hlc(7, "p2");
        f.apply(write("a", x, &[]));
        f.apply(write("b", y.clone(), &[]));
        f.apply(write("c", hlc(9, "p3"), &[&y]));
        assert_eq!(f.current().unwrap().value, "c");
        assert_eq!(f.conflict().len(), 1);
    }

    /// A random history: devices that each know some of the writes write new values, having
    /// seen the heads they know.
    fn history() -> impl Strategy<Value = Vec<(String, Write)>> {
        proptest::collection::vec((0usize..3, 0usize..2, 0u8..4, proptest::bool::ANY), 1..25)
            .prop_map(|steps| {
                let fields = ["housing_situation", "next_visit_date"];
                let mut known: Vec<Fields> = vec![Fields::default(); 3];
                let mut all = Vec::new();
                for (i, (device, field, value, share)) in steps.into_iter().enumerate() {
                    let name = fields[field];
                    let seen = known[device]
                        .0
                        .get(name)
                        .map(Field::seen_by_next_write)
                        .unwrap_or_default();
                    let w = Write {
                        value: format!("v{value}"),
                        hlc: Hlc {
                            wall_ms: i as u64,
                            counter: 0,
                            device: format!("d{device}"),
                        },
                        seen,
                    };
                    known[device].apply(name, w.clone());
                    if share {
                        // Synced: every device learns it.
                        for k in &mut known {
                            k.apply(name, w.clone());
                        }
                    }
                    all.push((name.to_owned(), w));
                }
                all
            })
    }

    fn merged(writes: &[(String, Write)]) -> Fields {
        let mut fields = Fields::default();
        for (name, w) in writes {
            fields.apply(name, w.clone());
        }
        fields
    }

    proptest! {
        #[test]
        fn any_order_any_duplication_any_partition_gives_the_same_state(
            writes in history(),
            order in proptest::collection::vec(any::<proptest::sample::Index>(), 0..60),
            split in any::<proptest::sample::Index>(),
        ) {
            let expected = merged(&writes);
            // Shuffled with duplicates.
            let mut shuffled = writes.clone();
            for ix in &order {
                let pick = ix.get(&writes).clone();
                let at = ix.index(shuffled.len() + 1);
                shuffled.insert(at, pick);
            }
            prop_assert_eq!(&merged(&shuffled), &expected);
            // Two partitions merged separately, then together.
            let cut = split.index(writes.len() + 1);
            let (left, right) = writes.split_at(cut);
            let mut both = merged(right);
            for (name, f) in merged(left).0 {
                for w in f.history() {
                    both.apply(&name, w.clone());
                }
            }
            prop_assert_eq!(&both, &expected);
            prop_assert_eq!(both.values(), expected.values());
        }

        #[test]
        fn no_written_value_is_ever_lost(writes in history()) {
            let fields = merged(&writes);
            for (name, w) in &writes {
                let f = &fields.0[name];
                prop_assert!(f.history().contains(w));
                let head = f.heads().iter().any(|h| h.hlc == w.hlc);
                if head {
                    // A head is the current value, or in the conflict, or has its value.
                    let current = f.current().unwrap();
                    prop_assert!(current.value == w.value || f.conflict().iter().any(|c| c.hlc == w.hlc));
                }
            }
        }

        #[test]
        fn a_write_that_saw_everything_leaves_no_conflict(writes in history()) {
            let mut fields = merged(&writes);
            for name in fields.0.keys().cloned().collect::<Vec<_>>() {
                let seen = fields.0[&name].seen_by_next_write();
                fields.apply(&name, Write { value: "chosen".into(), hlc: Hlc { wall_ms: 1_000, counter: 0, device: "server".into() }, seen });
                prop_assert!(fields.0[&name].conflict().is_empty());
                prop_assert_eq!(fields.value(&name), Some("chosen"));
            }
        }
    }
}
