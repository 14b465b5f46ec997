//! Cases, submissions and the outbox: what finalizing a form writes, and what the caseload
//! and the case page read.

use cris_core::hlc::Clock;
use cris_core::record::{Case, Operation, Submission};
use cris_core::sync::Reason;
use rexie::TransactionMode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::codec::{decode_all, decode_clear, decode_found, encode, in_clear};

/// A value kept in `meta` under its key.
#[derive(Serialize, Deserialize)]
struct MetaRecord<T> {
    key: String,
    value: T,
}

/// The write that keeps `value` under `key` in `meta`.
pub fn meta_write<T: Serialize>(key: &str, value: &T) -> Result<Write> {
    Ok(Write::Put {
        store: stores::META,
        value: encode(&MetaRecord {
            key: key.to_owned(),
            value,
        })?,
    })
}
use super::{Draft, Result, Storage, Write, stores};

/// Everything one finalized form changes on the phone.
#[derive(Clone, Debug)]
pub struct Finalized {
    pub submission: Submission,
    /// The case as it is after the form (created by an intake).
    pub case: Case,
    /// The operation that will carry the submission to the server.
    pub operation: Operation,
    /// The phone's clock after stamping the operation: saved with it, so no stamp is ever
    /// handed out twice.
    pub clock: Clock,
}

/// A household as its page shows it (see [`Storage::household`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Household {
    /// With the properties of the households merged into it joined to its own.
    pub case: Case,
    /// Its own id, then those of the households merged into it.
    pub members: Vec<String>,
    /// The households merged into it, as each is on its own.
    pub joined: Vec<Case>,
}

/// The phone's hybrid logical clock, in the `meta` store.
#[derive(Serialize, Deserialize)]
struct StoredClock {
    key: String,
    clock: Clock,
}

pub(super) const CLOCK_KEY: &str = "clock";

/// The write that saves the phone's clock (with whatever else changed in the same stamp).
/// The clock is the phone's, not an account's: it stays when an account leaves the phone,
/// so that stamps only grow (it holds the time of the last change, and no one's data).
pub(super) fn clock_write(clock: Clock) -> Result<Write> {
    Ok(Write::PutClear {
        store: stores::DEVICE,
        value: in_clear(&StoredClock {
            key: CLOCK_KEY.to_owned(),
            clock,
        })?,
    })
}

/// Why the server refused an operation: kept beside it (it stays in the outbox) for the
/// worker to see, until a later push is accepted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    pub op_id: String,
    pub reason: Reason,
    /// The server's words, in English: for a refusal kept from before refusals had codes.
    pub message: String,
    /// What exactly was refused, worded on the phone in the worker's language.
    #[serde(default)]
    pub detail: Option<cris_core::sync::Detail>,
    pub at_ms: f64,
}

/// Where the last pull ended, in the `meta` store.
#[derive(Serialize, Deserialize)]
struct StoredCursor {
    key: String,
    cursor: i64,
    /// The case store the cursor is a position in ("" when saved before stores were named).
    #[serde(default)]
    store: String,
}

/// Where the next pull starts, in which case store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullPosition {
    /// 0 on a phone that never pulled.
    pub cursor: i64,
    /// The store's id ("" when not known).
    pub store: String,
}

const CURSOR_KEY: &str = "pull-cursor";

thread_local! {
    static CASE_LOCK: std::sync::Arc<futures::lock::Mutex<()>> = Default::default();
}

/// Held by whoever reads cases to write them back (finalizing a form, applying a pull), so
/// that neither overwrites what the other has just written.
pub async fn case_lock() -> futures::lock::OwnedMutexGuard<()> {
    CASE_LOCK.with(std::sync::Arc::clone).lock_owned().await
}

impl Storage {
    /// Writes the submission, the case and the outbox entry and removes the draft, in one
    /// transaction: after an error nothing of it is written and the draft is still there.
    /// A finalized form is never written again: a submission already kept under the same id
    /// (finalized before, or pulled) fails it with [`super::StorageError::Exists`], whatever
    /// the screens did to get here.
    pub async fn finalize(&self, done: &Finalized) -> Result<()> {
        self.commit(vec![
            Write::Add {
                store: stores::SUBMISSIONS,
                value: encode(&done.submission)?,
            },
            Write::Put {
                store: stores::CASES,
                value: encode(&done.case)?,
            },
            Write::Put {
                store: stores::OUTBOX,
                value: encode(&done.operation)?,
            },
            Write::Delete {
                store: stores::DRAFTS,
                key: done.submission.id.clone(),
            },
            clock_write(done.clock.clone())?,
        ])
        .await
    }

    /// Keeps a change that is no form (a resolution of conflicts, a merge of households or
    /// its undoing): the case as it is after it and its outbox entry, with the clock that
    /// stamped it, in one transaction. The caller holds [`case_lock`].
    pub async fn save_change(
        &self,
        case: &Case,
        operation: &Operation,
        clock: Clock,
    ) -> Result<()> {
        self.commit(vec![
            Write::Put {
                store: stores::CASES,
                value: encode(case)?,
            },
            Write::Put {
                store: stores::OUTBOX,
                value: encode(operation)?,
            },
            clock_write(clock)?,
        ])
        .await
    }

    /// This phone's clock as last saved (a new one on a new phone). A clock saved under
    /// another device id is carried over, so stamps still only grow.
    pub async fn clock(&self, device: &str) -> Result<Clock> {
        let tx = self.transaction(stores::DEVICE, TransactionMode::ReadOnly)?;
        let found = tx
            .store(stores::DEVICE)?
            .get(JsValue::from_str(CLOCK_KEY))
            .await?;
        let mut clock = Clock::new(device);
        if let Some(stored) = found.map(decode_clear::<StoredClock>).transpose()? {
            if stored.clock.last().device == device {
                return Ok(stored.clock);
            }
            clock.observe(stored.clock.last(), 0);
        }
        Ok(clock)
    }

    pub async fn cases(&self) -> Result<Vec<Case>> {
        self.all(stores::CASES).await
    }

    pub async fn case(&self, id: &str) -> Result<Option<Case>> {
        let tx = self.transaction(stores::CASES, TransactionMode::ReadOnly)?;
        let found = tx.store(stores::CASES)?.get(JsValue::from_str(id)).await?;
        decode_found(stores::CASES, found).await
    }

    /// The households as people see them: merged ones shown with the household they joined
    /// (see [`cris_core::record::households`]); none that left the phone or is not back whole
    /// yet (see [`super::Departed::hides`]).
    pub async fn households(&self) -> Result<Vec<Case>> {
        let departed = self.departed().await?;
        let mut shown = cris_core::record::households(&self.cases().await?);
        shown.retain(|h| !departed.hides(&h.id));
        Ok(shown)
    }

    /// The household `id` as people see it: a household merged into another as it is (its
    /// page says where it went), any other with the households merged into it.
    pub async fn household(&self, id: &str) -> Result<Option<Household>> {
        let cases = self.cases().await?;
        let Some(own) = cases.iter().find(|c| c.id == id).cloned() else {
            return Ok(None);
        };
        if own.merged_into().is_some() {
            return Ok(Some(Household {
                members: vec![own.id.clone()],
                case: own,
                joined: Vec::new(),
            }));
        }
        let joined: Vec<Case> = cases
            .iter()
            .filter(|c| c.merged_into().is_some_and(|(_, into)| into == id))
            .cloned()
            .collect();
        let mut case = own;
        for other in &joined {
            case.join(other);
        }
        Ok(Some(Household {
            members: cris_core::record::members(&cases, id),
            case,
            joined,
        }))
    }

    /// The submissions of the cases `ids` (a household and those merged into it), the most
    /// recent first.
    pub async fn submissions_of_all(&self, ids: &[String]) -> Result<Vec<Submission>> {
        let mut found = Vec::new();
        for id in ids {
            found.extend(self.submissions_of(id).await?);
        }
        found.sort_by(|a, b| b.finalized_at_ms.total_cmp(&a.finalized_at_ms));
        Ok(found)
    }

    /// Every submission on the phone.
    pub async fn submissions(&self) -> Result<Vec<Submission>> {
        self.all(stores::SUBMISSIONS).await
    }

    /// The finalized submission with this id, if the phone holds it.
    pub async fn submission(&self, id: &str) -> Result<Option<Submission>> {
        let tx = self.transaction(stores::SUBMISSIONS, TransactionMode::ReadOnly)?;
        let found = tx
            .store(stores::SUBMISSIONS)?
            .get(JsValue::from_str(id))
            .await?;
        decode_found(stores::SUBMISSIONS, found).await
    }

    /// The submissions of one case, the most recent first.
    pub async fn submissions_of(&self, case_id: &str) -> Result<Vec<Submission>> {
        let tx = self.transaction(stores::SUBMISSIONS, TransactionMode::ReadOnly)?;
        let index = tx.store(stores::SUBMISSIONS)?.index("by_case")?;
        let range = rexie::KeyRange::only(&JsValue::from_str(case_id))
            .map_err(|e| super::StorageError::Failed(format!("{e:?}")))?;
        let values = index.get_all(Some(range), None).await?;
        let mut found: Vec<Submission> = decode_all(stores::SUBMISSIONS, values).await?;
        found.sort_by(|a, b| b.finalized_at_ms.total_cmp(&a.finalized_at_ms));
        Ok(found)
    }

    /// The operations waiting to be synced, oldest first.
    pub async fn outbox(&self) -> Result<Vec<Operation>> {
        let mut ops: Vec<Operation> = self.all(stores::OUTBOX).await?;
        ops.sort_by(|a, b| a.op_id.cmp(&b.op_id));
        Ok(ops)
    }

    /// Takes a form the server refused back into a draft, to correct and finalize again: the
    /// draft (the same submission id, its answers, what it corrects and why), the household
    /// without the form's writes, and the form leaving the submissions, the outbox and the
    /// refusals, in one transaction. Nobody else has the form (the server refused it), so
    /// nothing of it is lost that the draft does not hold. A form refused because the server
    /// holds another under its id (typed in again where a finalized form was reopened) comes
    /// back under `fresh_id`, to be sent as the new form it is. Returns the draft; `None` when
    /// the outbox no longer holds the operation or it carries no form. The caller holds
    /// [`case_lock`].
    pub async fn reopen_refused(
        &self,
        op_id: &str,
        now_ms: f64,
        fresh_id: &str,
    ) -> Result<Option<Draft>> {
        let Some(op) = self
            .outbox()
            .await?
            .into_iter()
            .find(|op| op.op_id == op_id)
        else {
            return Ok(None);
        };
        let Some(submission) = op.submission() else {
            return Ok(None);
        };
        let mut writes = Vec::new();
        if let Some(mut case) = self.case(&op.case_id).await? {
            case.take_back(&op);
            writes.push(Write::Put {
                store: stores::CASES,
                value: encode(&case)?,
            });
        }
        let (corrects, reason) = match &submission.corrects {
            Some(c) => (Some(c.submission_id.clone()), c.reason.clone()),
            None => (None, String::new()),
        };
        let taken = self.rejections().await?.into_iter().any(|r| {
            r.op_id == op_id && r.detail == Some(cris_core::sync::Detail::SubmissionTaken)
        });
        let draft = Draft {
            id: if taken {
                fresh_id.to_owned()
            } else {
                submission.id.clone()
            },
            form_id: submission.form_id.clone(),
            form_version: submission.form_version,
            case_id: Some(op.case_id.clone()),
            answers: submission.answers.clone(),
            started_at_ms: submission.started_at_ms,
            updated_at_ms: now_ms,
            corrects,
            reason,
            team: submission.team.clone().unwrap_or_default(),
        };
        writes.extend([
            Write::Put {
                store: stores::DRAFTS,
                value: encode(&draft)?,
            },
            Write::Delete {
                store: stores::SUBMISSIONS,
                key: submission.id.clone(),
            },
            Write::Delete {
                store: stores::OUTBOX,
                key: op.op_id.clone(),
            },
            Write::Delete {
                store: stores::REJECTED,
                key: op.op_id.clone(),
            },
        ]);
        self.commit(writes).await?;
        Ok(Some(draft))
    }

    /// Sends an operation the server refused once more at the next sync (a referral refused
    /// for want of a consent, once the family has given it): its refusal is forgotten, and
    /// it goes under the new id `fresh_op_id`, after what the phone recorded since (the
    /// consent that now carries it). The server stored nothing of it, so nothing is doubled.
    pub async fn retry_refused(&self, op_id: &str, fresh_op_id: &str) -> Result<()> {
        let Some(mut op) = self
            .outbox()
            .await?
            .into_iter()
            .find(|op| op.op_id == op_id)
        else {
            return Ok(());
        };
        op.op_id = fresh_op_id.to_owned();
        self.commit(vec![
            Write::Delete {
                store: stores::OUTBOX,
                key: op_id.to_owned(),
            },
            Write::Delete {
                store: stores::REJECTED,
                key: op_id.to_owned(),
            },
            Write::Put {
                store: stores::OUTBOX,
                value: encode(&op)?,
            },
        ])
        .await
    }

    /// The reasons the server gave for refusing operations still in the outbox.
    pub async fn rejections(&self) -> Result<Vec<Rejection>> {
        self.all(stores::REJECTED).await
    }

    /// Where the next pull starts.
    pub async fn cursor(&self) -> Result<PullPosition> {
        let tx = self.transaction(stores::META, TransactionMode::ReadOnly)?;
        let found = tx
            .store(stores::META)?
            .get(JsValue::from_str(CURSOR_KEY))
            .await?;
        Ok(decode_found::<StoredCursor>(stores::META, found)
            .await?
            .map(|c| PullPosition {
                cursor: c.cursor,
                store: c.store,
            })
            .unwrap_or_default())
    }

    /// What the store `store` answered at `at_ms` to a push of `batch`: acknowledged
    /// operations leave the outbox (with any earlier refusal) and are kept a while as sent;
    /// refused ones stay with the reason.
    pub async fn record_push(
        &self,
        batch: &[Operation],
        acknowledged: &[String],
        refused: &[Rejection],
        store: &str,
        at_ms: f64,
    ) -> Result<()> {
        let mut writes = super::sent::keep(batch, acknowledged, store, at_ms)?;
        for op_id in acknowledged {
            for store in [stores::OUTBOX, stores::REJECTED] {
                writes.push(Write::Delete {
                    store,
                    key: op_id.clone(),
                });
            }
        }
        for rejection in refused {
            writes.push(Write::Put {
                store: stores::REJECTED,
                value: encode(rejection)?,
            });
        }
        self.commit(writes).await
    }

    /// Applies a page of pulled operations in one transaction: each case merged with them,
    /// their submissions kept, this phone's own ones leaving the outbox (the server has them),
    /// the clock moved past every stamp seen, the households closed or reopened noted (see
    /// [`super::closed`]; `keep_closed` on a supervisor's device) and the cursor saved with it
    /// all (`next`; none for a household's history read apart). Then the records of closed
    /// households leave the phone. Returns how many cases changed. The caller holds
    /// [`case_lock`].
    pub async fn apply_pulled(
        &self,
        ops: &[Operation],
        next: Option<&PullPosition>,
        device: &str,
        now_ms: f64,
        keep_closed: bool,
    ) -> Result<usize> {
        let mut cases: std::collections::BTreeMap<String, Case> = Default::default();
        let mut held = std::collections::BTreeSet::new();
        for op in ops {
            if !cases.contains_key(&op.case_id) {
                let stored = self.case(&op.case_id).await?;
                if stored.is_some() {
                    held.insert(op.case_id.clone());
                }
                let case = stored.unwrap_or_else(|| Case::new(&op.case_id, op.created_at_ms));
                cases.insert(op.case_id.clone(), case);
            }
        }
        let mut departed = self.departed().await?;
        let departed_before = departed.clone();
        let mut clock = self.clock(device).await?;
        let mut changed = std::collections::BTreeSet::new();
        let mut writes = Vec::new();
        for op in ops {
            if let Some(case) = cases.get_mut(&op.case_id) {
                let before = case.clone();
                case.apply(op);
                if *case != before {
                    changed.insert(op.case_id.clone());
                }
            }
            clock.observe(&op.hlc, now_ms as u64);
            if let Some(submission) = op.submission() {
                writes.push(Write::Put {
                    store: stores::SUBMISSIONS,
                    value: encode(submission)?,
                });
            }
            if let Some(record) = op.consent_record() {
                writes.push(Write::Put {
                    store: stores::CONSENTS,
                    value: encode(&super::consents::Kept::of(&record))?,
                });
            }
            for store in [stores::OUTBOX, stores::REJECTED] {
                writes.push(Write::Delete {
                    store,
                    key: op.op_id.clone(),
                });
            }
        }
        super::closed::follow(
            &mut departed,
            ops,
            keep_closed,
            &|id| held.contains(id),
            &|id| cases.get(id).cloned(),
        );
        if departed != departed_before {
            writes.push(Self::departed_write(&departed)?);
        }
        for id in &changed {
            writes.push(Write::Put {
                store: stores::CASES,
                value: encode(&cases[id])?,
            });
        }
        writes.push(clock_write(clock)?);
        if let Some(next) = next {
            writes.push(Write::Put {
                store: stores::META,
                value: encode(&StoredCursor {
                    key: CURSOR_KEY.to_owned(),
                    cursor: next.cursor,
                    store: next.store.clone(),
                })?,
            });
        }
        self.commit(writes).await?;
        let removed = self.remove_departed().await?;
        Ok(changed.len() + usize::from(removed))
    }

    /// Repairs the phone after its clock ran ahead (see [`cris_core::repair`]): the waiting
    /// operations stamped beyond what the server accepts at `now_ms`, and those in
    /// `refused_ahead`, get new stamps in the outbox and the households, their refusals go,
    /// and the clock starts after every stamp the phone keeps, in one transaction. Returns the
    /// restamped operations, oldest first. The caller holds [`case_lock`].
    pub async fn repair_clock(
        &self,
        refused_ahead: &[String],
        device: &str,
        now_ms: f64,
    ) -> Result<Vec<Operation>> {
        let outbox = self.outbox().await?;
        let before = self.cases().await?;
        let mut cases = before.clone();
        let done =
            cris_core::repair::repair(device, now_ms as u64, &outbox, refused_ahead, &mut cases);
        if done.ops.is_empty() {
            return Ok(Vec::new());
        }
        let mut writes = Vec::new();
        for (now, was) in done.outbox.iter().zip(&outbox) {
            if now != was {
                writes.push(Write::Put {
                    store: stores::OUTBOX,
                    value: encode(now)?,
                });
            }
        }
        for (now, was) in cases.iter().zip(&before) {
            if now != was {
                writes.push(Write::Put {
                    store: stores::CASES,
                    value: encode(now)?,
                });
            }
        }
        for op in &done.ops {
            writes.push(Write::Delete {
                store: stores::REJECTED,
                key: op.op_id.clone(),
            });
        }
        writes.push(clock_write(done.clock)?);
        self.commit(writes).await?;
        Ok(done.ops)
    }

    /// The value kept under `key` in `meta` (see [`meta_write`]), if there is one.
    pub async fn meta<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let tx = self.transaction(stores::META, TransactionMode::ReadOnly)?;
        let found = tx.store(stores::META)?.get(JsValue::from_str(key)).await?;
        Ok(decode_found::<MetaRecord<T>>(stores::META, found)
            .await?
            .map(|r| r.value))
    }

    pub async fn put_meta<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        self.commit(vec![meta_write(key, value)?]).await
    }

    pub async fn delete_meta(&self, key: &str) -> Result<()> {
        self.commit(vec![Write::Delete {
            store: stores::META,
            key: key.to_owned(),
        }])
        .await
    }

    pub(super) async fn all<T: serde::de::DeserializeOwned>(&self, store: &str) -> Result<Vec<T>> {
        let tx = self.transaction(store, TransactionMode::ReadOnly)?;
        let values = tx.store(store)?.get_all(None, None).await?;
        decode_all(store, values).await
    }
}
