//! Operations the server acknowledged, kept for [`KEEP_DAYS`] after it did (schema 6): a
//! case store restored from a backup taken before they arrived lacks them, and the phone
//! sends them again when it meets a store of another id.
//!
//! A record's key is `<store id>/<time of the acknowledgement, ms>/<op id>` (in clear, as every
//! key: none of it is anyone's data), so that finding what another store acknowledged, and
//! what is old enough to forget, reads the keys only and opens no record.

use cris_core::record::Operation;
use rexie::TransactionMode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::codec::{decode_found, encode};
use super::{Rejection, Result, Storage, Write, stores};

/// How long the phone keeps what the server acknowledged.
pub const KEEP_DAYS: f64 = 30.0;

#[derive(Serialize, Deserialize)]
struct Kept {
    key: String,
    op: Operation,
}

fn key_of(store: &str, at_ms: f64, op_id: &str) -> String {
    format!("{store}/{:015}/{op_id}", at_ms.max(0.0) as u64)
}

/// The store id and the time of a key.
fn parts(key: &str) -> Option<(&str, f64)> {
    let mut parts = key.splitn(3, '/');
    let store = parts.next()?;
    let at_ms = parts.next()?.parse::<u64>().ok()? as f64;
    Some((store, at_ms))
}

/// The writes that keep the operations of `batch` whose ids are `acknowledged` as the store
/// `store` acknowledged them at `at_ms`.
pub(super) fn keep(
    batch: &[Operation],
    acknowledged: &[String],
    store: &str,
    at_ms: f64,
) -> Result<Vec<Write>> {
    if store.is_empty() {
        // A server that does not name its store: nothing to compare with later.
        return Ok(Vec::new());
    }
    batch
        .iter()
        .filter(|op| acknowledged.contains(&op.op_id))
        .map(|op| {
            Ok(Write::Put {
                store: stores::SENT,
                value: encode(&Kept {
                    key: key_of(store, at_ms, &op.op_id),
                    op: op.clone(),
                })?,
            })
        })
        .collect()
}

impl Storage {
    /// The acknowledged operations kept for a store other than `store`, with their keys,
    /// oldest acknowledgement first.
    pub async fn sent_elsewhere(&self, store: &str) -> Result<Vec<(String, Operation)>> {
        let keys = self.sent_keys().await?;
        let mut out = Vec::new();
        for key in keys
            .into_iter()
            .filter(|k| parts(k).is_some_and(|(s, _)| s != store))
        {
            let tx = self.transaction(stores::SENT, TransactionMode::ReadOnly)?;
            let found = tx.store(stores::SENT)?.get(JsValue::from_str(&key)).await?;
            if let Some(kept) = decode_found::<Kept>(stores::SENT, found).await? {
                out.push((key, kept.op));
            }
        }
        out.sort_by(|a, b| {
            let at = |k: &str| parts(k).map_or(0.0, |(_, at)| at);
            at(&a.0).total_cmp(&at(&b.0))
        });
        Ok(out)
    }

    /// What the server answered to operations sent again (`resent`, with their old keys):
    /// acknowledged ones are kept anew under `store`; refused ones go back to the outbox with
    /// the reason, for the worker to see, as any refusal.
    pub async fn record_resend(
        &self,
        resent: &[(String, Operation)],
        acknowledged: &[String],
        refused: &[Rejection],
        store: &str,
        at_ms: f64,
    ) -> Result<()> {
        let mut writes = Vec::new();
        for (key, op) in resent {
            writes.push(Write::Delete {
                store: stores::SENT,
                key: key.clone(),
            });
            if refused.iter().any(|r| r.op_id == op.op_id) {
                writes.push(Write::Put {
                    store: stores::OUTBOX,
                    value: encode(op)?,
                });
            }
        }
        let ops: Vec<Operation> = resent.iter().map(|(_, op)| op.clone()).collect();
        writes.extend(keep(&ops, acknowledged, store, at_ms)?);
        for rejection in refused {
            writes.push(Write::Put {
                store: stores::REJECTED,
                value: encode(rejection)?,
            });
        }
        self.commit(writes).await
    }

    /// Forgets what was acknowledged before `before_ms`; returns how many.
    pub async fn forget_sent(&self, before_ms: f64) -> Result<usize> {
        let old: Vec<Write> = self
            .sent_keys()
            .await?
            .into_iter()
            .filter(|k| parts(k).is_some_and(|(_, at)| at < before_ms))
            .map(|key| Write::Delete {
                store: stores::SENT,
                key,
            })
            .collect();
        let n = old.len();
        self.commit(old).await?;
        Ok(n)
    }

    /// The keys of what was kept of the households `cases` (to erase them).
    pub(super) async fn sent_of(
        &self,
        cases: &std::collections::BTreeSet<String>,
    ) -> Result<Vec<String>> {
        let kept: Vec<Kept> = self.all(stores::SENT).await?;
        Ok(kept
            .into_iter()
            .filter(|k| cases.contains(&k.op.case_id))
            .map(|k| k.key)
            .collect())
    }

    async fn sent_keys(&self) -> Result<Vec<String>> {
        let tx = self.transaction(stores::SENT, TransactionMode::ReadOnly)?;
        let keys = tx.store(stores::SENT)?.get_all_keys(None, None).await?;
        Ok(keys.into_iter().filter_map(|k| k.as_string()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_time_within_a_store_and_read_back() {
        let a = key_of("3f2a", 1_800_000_000_000.0, "0192-a");
        let b = key_of("3f2a", 1_800_000_000_001.0, "0192-b");
        assert!(a < b);
        assert_eq!(parts(&a), Some(("3f2a", 1_800_000_000_000.0)));
        assert_eq!(parts("nonsense"), None);
    }
}
