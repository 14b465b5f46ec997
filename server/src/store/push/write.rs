//! The rows a group of pushes writes, in multi-row statements, and the conflicts it leaves.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use cris_core::merge::Write;
use cris_core::record::Change;

use super::decide::Decision;
use crate::store::db::{Dialect, Tx, on_db};
use crate::store::names::{case_names, insert_case_names};
use crate::store::writer::PushBatch;
use crate::store::{CheckedOp, StoreError, decode};

/// A field write of an accepted operation: (case, field, write, operation).
pub(crate) type FieldWriteRow<'a> = (&'a str, &'a str, Write, &'a str);

/// Writes what `d` decided: new households, the log, forms, consents, merges, review
/// statuses, the field writes `writes` (of its accepted operations, [`writes_of`]) and the
/// households' names.
pub(crate) async fn write(
    tx: &mut Tx,
    batches: &[PushBatch],
    d: &Decision<'_>,
    writes: &[FieldWriteRow<'_>],
) -> Result<(), StoreError> {
    insert_cases(tx, &d.new_cases).await?;
    for chunk in d.accepted.chunks(500) {
        insert_ops(tx, batches, chunk, d).await?;
    }
    write_merges(tx, batches, d).await?;
    on_db!(&mut *tx, |tx| {
        for chunk in d.now_corrected.chunks(500) {
            let sql = format!(
                "UPDATE submissions SET review_status = 'corrected' WHERE id IN {}",
                tx.values(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            q.execute(&mut **tx).await?;
        }
    });
    insert_field_writes(tx, writes).await?;
    let names = case_names(
        writes
            .iter()
            .map(|(case_id, field, w, _)| (*case_id, *field, w.value.as_str())),
    );
    insert_case_names(tx, &names).await
}

/// Every field write of the operations `accepted`.
pub(crate) fn writes_of<'a>(accepted: &[(usize, &'a CheckedOp)]) -> Vec<FieldWriteRow<'a>> {
    accepted
        .iter()
        .flat_map(|(_, c)| {
            c.op.writes()
                .map(|(field, w)| (c.op.case_id.as_str(), field, w, c.op.op_id.as_str()))
        })
        .collect()
}

async fn insert_cases(tx: &mut Tx, new_cases: &[(&str, String, i64)]) -> Result<(), StoreError> {
    on_db!(tx, |tx| {
        for chunk in new_cases.chunks(500) {
            let sql = format!(
                "INSERT INTO cases (id, team_id, created_ms) VALUES {}",
                tx.values(chunk.len(), 3)
            );
            let mut q = sqlx::query(&sql);
            for (id, team, now_ms) in chunk {
                q = q.bind(*id).bind(team).bind(*now_ms);
            }
            q.execute(&mut **tx).await?;
        }
    });
    Ok(())
}

/// The log's rows of the operations `chunk`, and the forms, consents and withdrawals they
/// carry.
async fn insert_ops(
    tx: &mut Tx,
    batches: &[PushBatch],
    chunk: &[(usize, &CheckedOp)],
    d: &Decision<'_>,
) -> Result<(), StoreError> {
    let submitted: Vec<_> = chunk
        .iter()
        .filter_map(|(i, c)| Some((*i, c, c.op.submission()?)))
        .collect();
    let sealed: Vec<_> = chunk
        .iter()
        .filter_map(|(i, c)| match &c.op.change {
            Change::Consent { consent } => {
                Some((*i, c, "consent", &consent.id, None, &consent.binding))
            }
            Change::Withdraw { withdrawal } => Some((
                *i,
                c,
                "withdrawal",
                &withdrawal.id,
                Some(&withdrawal.consent_id),
                &withdrawal.binding,
            )),
            _ => None,
        })
        .collect();
    on_db!(tx, |tx| {
        let sql = format!(
            "INSERT INTO ops (op_id, case_id, user_id, device_id, hlc, received_ms, body) VALUES {}",
            tx.values(chunk.len(), 7)
        );
        let mut q = sqlx::query(&sql);
        for (i, c) in chunk {
            q = q
                .bind(&c.op.op_id)
                .bind(&c.op.case_id)
                .bind(&batches[*i].user.id)
                .bind(&c.op.device)
                .bind(c.op.hlc.to_string())
                .bind(batches[*i].now_ms)
                .bind(&c.body);
        }
        q.execute(&mut **tx).await?;
        if !submitted.is_empty() {
            let sql = format!(
                "INSERT INTO submissions (id, case_id, form_id, form_version, op_id,
                     user_id, received_ms, finalized_ms, corrects, review_status)
                 VALUES {}",
                tx.values(submitted.len(), 10)
            );
            let mut q = sqlx::query(&sql);
            for (i, c, s) in &submitted {
                let status = d.known.review_status.get(&s.id);
                q = q
                    .bind(&s.id)
                    .bind(&c.op.case_id)
                    .bind(&s.form_id)
                    .bind(i64::from(s.form_version))
                    .bind(&c.op.op_id)
                    .bind(&batches[*i].user.id)
                    .bind(batches[*i].now_ms)
                    // Whole milliseconds, as the migration fills earlier rows.
                    .bind(s.finalized_at_ms.floor() as i64)
                    .bind(s.corrects.as_ref().map(|k| &k.submission_id))
                    .bind(status.map_or("new", String::as_str));
            }
            q.execute(&mut **tx).await?;
        }
        if !sealed.is_empty() {
            let sql = format!(
                "INSERT INTO consents (id, case_id, kind, consent_id, binding, op_id, received_ms) VALUES {}",
                tx.values(sealed.len(), 7)
            );
            let mut q = sqlx::query(&sql);
            for (i, c, kind, id, consent_id, binding) in &sealed {
                q = q
                    .bind(*id)
                    .bind(&c.op.case_id)
                    .bind(*kind)
                    .bind(*consent_id)
                    .bind(*binding)
                    .bind(&c.op.op_id)
                    .bind(batches[*i].now_ms);
            }
            q.execute(&mut **tx).await?;
        }
    });
    Ok(())
}

/// Merges, closings and their undoing, after the operations they are in the log as.
async fn write_merges(
    tx: &mut Tx,
    batches: &[PushBatch],
    d: &Decision<'_>,
) -> Result<(), StoreError> {
    on_db!(tx, |tx| {
        for (merge, case_id, into, i) in &d.merged {
            sqlx::query(
                "INSERT INTO case_merges (op_id, case_id, into_id, merged_by, merged_ms)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(*merge)
            .bind(*case_id)
            .bind(*into)
            .bind(&batches[*i].user.id)
            .bind(batches[*i].now_ms)
            .execute(&mut **tx)
            .await?;
            sqlx::query("UPDATE cases SET merged_into = $1 WHERE id = $2")
                .bind(*into)
                .bind(*case_id)
                .execute(&mut **tx)
                .await?;
        }
        for (close, case_id, reason, i) in &d.closed {
            sqlx::query(
                "INSERT INTO case_closings (op_id, case_id, reason, closed_by, closed_ms)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(*close)
            .bind(*case_id)
            .bind(reason.as_str())
            .bind(&batches[*i].user.id)
            .bind(batches[*i].now_ms)
            .execute(&mut **tx)
            .await?;
        }
        for (close, reopening, i) in &d.reopened {
            sqlx::query(
                "UPDATE case_closings SET reopened_op_id = $1, reopened_by = $2, reopened_ms = $3
                 WHERE op_id = $4",
            )
            .bind(*reopening)
            .bind(&batches[*i].user.id)
            .bind(batches[*i].now_ms)
            .bind(*close)
            .execute(&mut **tx)
            .await?;
        }
        for (op, referral, consent_id, i) in &d.referred {
            sqlx::query(
                "INSERT INTO referrals (id, case_id, op_id, recipient, purpose, consent_id,
                     made_by, made_ms, state, state_hlc, state_ms, follow_up)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'sent', $9, $10, $11)",
            )
            .bind(&referral.id)
            .bind(&op.case_id)
            .bind(&op.op_id)
            .bind(&referral.recipient)
            .bind(&referral.purpose)
            .bind(consent_id)
            .bind(&batches[*i].user.id)
            .bind(batches[*i].now_ms)
            .bind(op.hlc.to_string())
            .bind(batches[*i].now_ms)
            .bind(referral.follow_up.map(|d| d.to_string()))
            .execute(&mut **tx)
            .await?;
        }
        for (op, update, newest, i) in &d.referral_updates {
            sqlx::query(
                "INSERT INTO referral_updates (op_id, referral_id, case_id, state, hlc, updated_by,
                     updated_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&op.op_id)
            .bind(&update.referral_id)
            .bind(&op.case_id)
            .bind(update.state.as_str())
            .bind(op.hlc.to_string())
            .bind(&batches[*i].user.id)
            .bind(batches[*i].now_ms)
            .execute(&mut **tx)
            .await?;
            if *newest {
                let follow_up = update.follow_up.filter(|_| !update.state.is_closed());
                sqlx::query(
                    "UPDATE referrals SET state = $1, state_hlc = $2, state_ms = $3, follow_up = $4
                     WHERE id = $5",
                )
                .bind(update.state.as_str())
                .bind(op.hlc.to_string())
                .bind(batches[*i].now_ms)
                .bind(follow_up.map(|d| d.to_string()))
                .bind(&update.referral_id)
                .execute(&mut **tx)
                .await?;
            }
        }
        for (merge, undoing, case_id, i) in &d.unmerged {
            sqlx::query(
                "UPDATE case_merges SET undone_op_id = $1, undone_by = $2, undone_ms = $3
                 WHERE op_id = $4",
            )
            .bind(*undoing)
            .bind(&batches[*i].user.id)
            .bind(batches[*i].now_ms)
            .bind(*merge)
            .execute(&mut **tx)
            .await?;
            sqlx::query("UPDATE cases SET merged_into = NULL WHERE id = $1")
                .bind(*case_id)
                .execute(&mut **tx)
                .await?;
        }
    });
    Ok(())
}

async fn insert_field_writes(tx: &mut Tx, writes: &[FieldWriteRow<'_>]) -> Result<(), StoreError> {
    on_db!(tx, |tx| {
        for chunk in writes.chunks(1000) {
            let sql = format!(
                "INSERT INTO field_writes (case_id, field, hlc, value, seen, op_id) VALUES {}
                 ON CONFLICT DO NOTHING",
                tx.values(chunk.len(), 6)
            );
            let mut q = sqlx::query(&sql);
            for (case_id, field, w, op_id) in chunk {
                q = q
                    .bind(*case_id)
                    .bind(*field)
                    .bind(w.hlc.to_string())
                    .bind(&w.value)
                    .bind(serde_json::to_string(&w.seen).unwrap_or_default())
                    .bind(*op_id);
            }
            q.execute(&mut **tx).await?;
        }
    });
    Ok(())
}

/// The fields of `writes` that are in conflict as they stand after them: `(case, field)`.
pub(crate) async fn conflicts(
    tx: &mut Tx,
    writes: &[FieldWriteRow<'_>],
) -> Result<HashSet<(String, String)>, StoreError> {
    let written: HashSet<(&str, &str)> = writes.iter().map(|(c, f, _, _)| (*c, *f)).collect();
    let touched: Vec<&str> = writes
        .iter()
        .map(|(c, _, _, _)| *c)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut rows: HashMap<(String, String), Vec<decode::WriteRow>> = HashMap::new();
    on_db!(tx, |tx| {
        for chunk in touched.chunks(500) {
            let sql = tx.field_writes_of(chunk.len());
            let mut q = sqlx::query_as::<_, (String, String, String, String, String)>(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for (case_id, field, hlc, value, seen) in q.fetch_all(&mut **tx).await? {
                if written.contains(&(case_id.as_str(), field.as_str())) {
                    rows.entry((case_id, field))
                        .or_default()
                        .push((hlc, value, seen));
                }
            }
        }
    });
    let mut conflicted = HashSet::new();
    for (key, field_rows) in rows {
        if !decode::field(field_rows)?.conflict().is_empty() {
            conflicted.insert(key);
        }
    }
    Ok(conflicted)
}

/// For the supervisor's dashboard: when each pushing device (the one its operations were
/// made on, a checked UUID) of each user last pushed. One small statement per group, the
/// group's latest time per device.
pub(crate) async fn note_pushes(tx: &mut Tx, batches: &[PushBatch]) -> Result<(), StoreError> {
    let mut pushed: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for b in batches {
        for c in &b.ops {
            let at = pushed
                .entry((c.op.device.as_str(), b.user.id.as_str()))
                .or_insert(b.now_ms);
            *at = (*at).max(b.now_ms);
        }
    }
    if pushed.is_empty() {
        return Ok(());
    }
    on_db!(tx, |tx| {
        let sql = crate::store::dashboard::note_pushes_sql(&tx.values(pushed.len(), 3));
        let mut q = sqlx::query(&sql);
        for ((device, user), at) in &pushed {
            q = q.bind(*device).bind(*user).bind(*at);
        }
        q.execute(&mut **tx).await?;
    });
    Ok(())
}
