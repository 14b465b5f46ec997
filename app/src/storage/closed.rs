//! Households whose case was closed leave a worker's phone: the household, its forms and its
//! consents go at the sync that hears of the closing. What waits to be sent stays until it is
//! sent (a form finalized offline, a consent, a draft), then goes too. A reopened household
//! comes back whole at the next sync: its history is read from the server. Supervisors' and
//! admins' devices keep closed households (they still see them).
//!
//! An erased household leaves every phone at once and whole: its records, its drafts, what
//! waited to be sent (the server refuses it now) and what was kept of it as sent.

use std::collections::{BTreeSet, HashSet};

use cris_core::record::{Case, Change, Operation};
use rexie::TransactionMode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::codec::decode_all;
use super::records::meta_write;
use super::{Result, Storage, Write, stores};

const DEPARTED_KEY: &str = "departed";

/// What the phone keeps of the households that left it: their ids, and how many the worker
/// has not been told of yet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Departed {
    /// Closed households whose records leave the phone (again, should a form finalized since
    /// bring one back), for as long as something of theirs waits to be sent.
    pub closed: BTreeSet<String>,
    /// Reopened households the phone does not hold all of: their history is read at the
    /// next sync.
    pub reopened: BTreeSet<String>,
    /// Households that left since the worker was last told.
    #[serde(default)]
    pub untold: usize,
    /// Erased households whose records are still to be deleted.
    #[serde(default)]
    pub erased: BTreeSet<String>,
    /// Erased households the phone held, since the worker was last told.
    #[serde(default)]
    pub erased_untold: usize,
}

/// Where a page of pulled operations leaves the departed households. `held` tells whether
/// the phone held a case before the page; `after` is the case as the page leaves it.
pub(super) fn follow(
    departed: &mut Departed,
    ops: &[Operation],
    keep_closed: bool,
    held: &dyn Fn(&str) -> bool,
    after: &dyn Fn(&str) -> Option<Case>,
) {
    let touched: BTreeSet<&str> = ops
        .iter()
        .filter(|op| matches!(op.change, Change::Close { .. } | Change::Reopen { .. }))
        .map(|op| op.case_id.as_str())
        .collect();
    for op in ops
        .iter()
        .filter(|op| matches!(op.change, Change::Erase {}))
    {
        let id = op.case_id.as_str();
        let was_here = held(id) || departed.closed.contains(id);
        if departed.erased.insert(id.to_owned()) && was_here {
            departed.erased_untold += 1;
        }
        departed.closed.remove(id);
        departed.reopened.remove(id);
    }
    for id in touched {
        if departed.erased.contains(id) {
            continue;
        }
        let closed = after(id).is_some_and(|case| case.closed().is_some());
        if closed {
            if !keep_closed && departed.closed.insert(id.to_owned()) && held(id) {
                departed.untold += 1;
            }
            departed.reopened.remove(id);
        } else if departed.closed.remove(id) || !held(id) {
            departed.reopened.insert(id.to_owned());
        }
    }
}

impl Departed {
    /// Whether the household `id` is kept from the screens: it left the phone (and a form
    /// finalized since brought part of it back), or it was reopened and is not whole yet.
    pub fn hides(&self, id: &str) -> bool {
        self.closed.contains(id) || self.reopened.contains(id) || self.erased.contains(id)
    }
}

impl Storage {
    /// The households that left this phone (none on a new phone).
    pub async fn departed(&self) -> Result<Departed> {
        Ok(self.meta(DEPARTED_KEY).await?.unwrap_or_default())
    }

    pub(super) fn departed_write(departed: &Departed) -> Result<Write> {
        meta_write(DEPARTED_KEY, departed)
    }

    /// The history of the reopened household `case_id` was read: it is whole again.
    pub async fn history_read(&self, case_id: &str) -> Result<()> {
        let mut departed = self.departed().await?;
        if departed.reopened.remove(case_id) {
            self.commit(vec![Self::departed_write(&departed)?]).await?;
        }
        Ok(())
    }

    /// The worker was told how many households left.
    pub async fn departures_told(&self) -> Result<()> {
        let mut departed = self.departed().await?;
        if departed.untold == 0 && departed.erased_untold == 0 {
            return Ok(());
        }
        departed.untold = 0;
        departed.erased_untold = 0;
        self.commit(vec![Self::departed_write(&departed)?]).await
    }

    /// Takes the records of the closed households (and of those merged into them) off the
    /// phone, but for what waits to be sent: the forms and consents in the outbox, and the
    /// household's drafts. A household leaves the list once nothing of it waits. One
    /// transaction; the caller holds [`super::case_lock`]. Returns whether anything went.
    pub async fn remove_departed(&self) -> Result<bool> {
        let mut departed = self.departed().await?;
        if departed.closed.is_empty() && departed.erased.is_empty() {
            return Ok(false);
        }
        let before = departed.clone();
        let cases = self.cases().await?;
        let outbox = self.outbox().await?;
        let drafts = self.drafts().await?;
        let waiting: HashSet<&str> = outbox.iter().map(Operation::record_id).collect();
        let mut writes = self
            .erasing(&departed.erased, &cases, &outbox, &drafts)
            .await?;
        departed.erased.clear();
        let mut still_waiting = BTreeSet::new();
        for closed in departed.closed.clone() {
            let members = cases.iter().filter(|c| {
                c.id == closed || c.merged_into().is_some_and(|(_, into)| into == closed)
            });
            let mut ids: BTreeSet<String> = members.map(|c| c.id.clone()).collect();
            ids.insert(closed.clone());
            for id in &ids {
                if cases.iter().any(|c| c.id == *id) {
                    writes.push(Write::Delete {
                        store: stores::CASES,
                        key: id.clone(),
                    });
                }
                for (store, record) in self.records_of(id).await? {
                    if !waiting.contains(record.as_str()) {
                        writes.push(Write::Delete { store, key: record });
                    }
                }
                let waits = outbox.iter().any(|op| op.case_id == *id)
                    || drafts
                        .iter()
                        .any(|d| d.case_id.as_deref() == Some(id.as_str()))
                    || self.consent_draft(id).await?.is_some();
                if waits {
                    still_waiting.insert(closed.clone());
                }
            }
        }
        let removed = !writes.is_empty();
        departed.closed = still_waiting;
        if departed != before {
            writes.push(Self::departed_write(&departed)?);
        }
        if !writes.is_empty() {
            self.commit(writes).await?;
        }
        Ok(removed)
    }

    /// The writes that delete everything the phone holds of the erased households `erased`:
    /// the households, their forms, consents, drafts (consents being taken too), what waits
    /// to be sent and why it was refused, and what was kept of them as sent.
    async fn erasing(
        &self,
        erased: &BTreeSet<String>,
        cases: &[Case],
        outbox: &[Operation],
        drafts: &[super::Draft],
    ) -> Result<Vec<Write>> {
        let mut writes = Vec::new();
        if erased.is_empty() {
            return Ok(writes);
        }
        let delete = |store: &'static str, key: &str| Write::Delete {
            store,
            key: key.to_owned(),
        };
        for id in erased {
            if cases.iter().any(|c| c.id == *id) {
                writes.push(delete(stores::CASES, id));
            }
            for (store, record) in self.records_of(id).await? {
                writes.push(delete(store, &record));
            }
            if self.consent_draft(id).await?.is_some() {
                writes.push(delete(stores::META, &super::consents::draft_key(id)));
            }
        }
        for draft in drafts {
            if draft.case_id.as_ref().is_some_and(|id| erased.contains(id)) {
                writes.push(delete(stores::DRAFTS, &draft.id));
            }
        }
        for op in outbox.iter().filter(|op| erased.contains(&op.case_id)) {
            writes.push(delete(stores::OUTBOX, &op.op_id));
            writes.push(delete(stores::REJECTED, &op.op_id));
        }
        for key in self.sent_of(erased).await? {
            writes.push(delete(stores::SENT, &key));
        }
        Ok(writes)
    }

    /// The ids of the forms and consents the phone holds of the case `id`, with their store.
    async fn records_of(&self, id: &str) -> Result<Vec<(&'static str, String)>> {
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        let mut found = Vec::new();
        for store in [stores::SUBMISSIONS, stores::CONSENTS] {
            let tx = self.transaction(store, TransactionMode::ReadOnly)?;
            let index = tx.store(store)?.index("by_case")?;
            let range = rexie::KeyRange::only(&JsValue::from_str(id))
                .map_err(|e| super::StorageError::Failed(format!("{e:?}")))?;
            let values = index.get_all(Some(range), None).await?;
            let ids: Vec<Id> = decode_all(store, values).await?;
            found.extend(ids.into_iter().map(|r| (store, r.id)));
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cris_core::hlc::Hlc;
    use cris_core::record::CloseReason;

    fn op(id: &str, case_id: &str, change: Change) -> Operation {
        Operation {
            op_id: id.into(),
            device: "d".into(),
            hlc: Hlc {
                wall_ms: 1,
                counter: 0,
                device: "d".into(),
            },
            created_at_ms: 1.0,
            case_id: case_id.into(),
            change,
        }
    }

    fn after(ops: &[Operation]) -> impl Fn(&str) -> Option<Case> + '_ {
        move |id| {
            let mut case = Case::new(id, 0.0);
            ops.iter()
                .filter(|o| o.case_id == id)
                .for_each(|o| case.apply(o));
            Some(case)
        }
    }

    #[test]
    fn a_closing_heard_takes_a_household_off_a_workers_phone_and_a_reopening_brings_it_back() {
        let close = op(
            "k1",
            "a",
            Change::Close {
                reason: CloseReason::MovedAway,
            },
        );
        let reopen = op("k2", "a", Change::Reopen { close: "k1".into() });
        let held = |_: &str| true;
        let mut departed = Departed::default();
        let page = [close.clone()];
        follow(&mut departed, &page, false, &held, &after(&page));
        assert!(departed.closed.contains("a"));
        assert_eq!(departed.untold, 1);
        // A supervisor's device keeps it.
        let mut kept = Departed::default();
        follow(&mut kept, &page, true, &held, &after(&page));
        assert_eq!(kept, Departed::default());

        let page = [close.clone(), reopen.clone()];
        follow(&mut departed, &page, false, &|_| false, &after(&page));
        assert!(departed.closed.is_empty());
        assert!(departed.reopened.contains("a"), "its history is read");

        // A new phone that hears both in one page was never told anything left.
        let mut fresh = Departed::default();
        follow(&mut fresh, &page, false, &|_| false, &after(&page));
        assert_eq!(fresh.untold, 0);
        assert!(fresh.closed.is_empty());
    }

    #[test]
    fn an_erasure_heard_takes_everything_of_a_household_and_is_told_where_it_was_held() {
        let close = op(
            "k1",
            "a",
            Change::Close {
                reason: CloseReason::MovedAway,
            },
        );
        let erase = |case: &str| op("e1", case, Change::Erase {});
        let mut departed = Departed::default();
        let page = [close];
        follow(&mut departed, &page, false, &|_| true, &after(&page));
        let page = [erase("a"), erase("b")];
        follow(&mut departed, &page, true, &|id| id == "b", &after(&page));
        assert!(departed.closed.is_empty());
        assert_eq!(departed.erased, BTreeSet::from(["a".into(), "b".into()]));
        assert_eq!(
            departed.erased_untold, 2,
            "a left when it closed, b was held"
        );
        assert!(departed.hides("a") && departed.hides("b"));
        let mut fresh = Departed::default();
        follow(&mut fresh, &page, false, &|_| false, &after(&page));
        assert_eq!(fresh.erased_untold, 0, "a new phone held nothing of them");
    }
}
