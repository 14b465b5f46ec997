//! Cases, submissions and the outbox: what finalizing a form writes, and what the caseload
//! and the case page read.

use cris_core::hlc::Clock;
use cris_core::record::{Case, Operation, Submission};
use rexie::TransactionMode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::codec::{decode, encode};
use super::{Result, Storage, Write, stores};

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

/// The phone's hybrid logical clock, in the `meta` store.
#[derive(Serialize, Deserialize)]
struct StoredClock {
    key: String,
    clock: Clock,
}

const CLOCK_KEY: &str = "clock";

impl Storage {
    /// Writes the submission, the case and the outbox entry and removes the draft, in one
    /// transaction: after an error nothing of it is written and the draft is still there.
    pub async fn finalize(&self, done: &Finalized) -> Result<()> {
        self.commit(vec![
            Write::Put {
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
            Write::Put {
                store: stores::META,
                value: encode(&StoredClock {
                    key: CLOCK_KEY.to_owned(),
                    clock: done.clock.clone(),
                })?,
            },
        ])
        .await
    }

    /// This phone's clock as last saved (a new one on a new phone). A clock saved under
    /// another device id is carried over, so stamps still only grow.
    pub async fn clock(&self, device: &str) -> Result<Clock> {
        let tx = self.transaction(stores::META, TransactionMode::ReadOnly)?;
        let found = tx
            .store(stores::META)?
            .get(JsValue::from_str(CLOCK_KEY))
            .await?;
        let mut clock = Clock::new(device);
        if let Some(stored) = found.map(decode::<StoredClock>).transpose()? {
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
        found.map(decode).transpose()
    }

    /// Every submission on the phone.
    pub async fn submissions(&self) -> Result<Vec<Submission>> {
        self.all(stores::SUBMISSIONS).await
    }

    /// The submissions of one case, the most recent first.
    pub async fn submissions_of(&self, case_id: &str) -> Result<Vec<Submission>> {
        let tx = self.transaction(stores::SUBMISSIONS, TransactionMode::ReadOnly)?;
        let index = tx.store(stores::SUBMISSIONS)?.index("by_case")?;
        let range = rexie::KeyRange::only(&JsValue::from_str(case_id))
            .map_err(|e| super::StorageError::Failed(format!("{e:?}")))?;
        let mut found = index
            .get_all(Some(range), None)
            .await?
            .into_iter()
            .map(decode)
            .collect::<Result<Vec<Submission>>>()?;
        found.sort_by(|a, b| b.finalized_at_ms.total_cmp(&a.finalized_at_ms));
        Ok(found)
    }

    /// The operations waiting to be synced, oldest first.
    pub async fn outbox(&self) -> Result<Vec<Operation>> {
        let mut ops: Vec<Operation> = self.all(stores::OUTBOX).await?;
        ops.sort_by(|a, b| a.op_id.cmp(&b.op_id));
        Ok(ops)
    }

    async fn all<T: serde::de::DeserializeOwned>(&self, store: &str) -> Result<Vec<T>> {
        let tx = self.transaction(store, TransactionMode::ReadOnly)?;
        let values = tx.store(store)?.get_all(None, None).await?;
        values.into_iter().map(decode).collect()
    }
}
