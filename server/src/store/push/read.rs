//! What the store knows of a group of pushes, read at once: a few statements for the whole
//! group, each over the ids all its operations name.

use std::collections::{BTreeSet, HashMap, HashSet};

use cris_core::consent::{Consent, Withdrawal};
use cris_core::record::Change;

use super::HeldRecord;
use crate::store::db::{Dialect, Tx, on_db};
use crate::store::writer::PushBatch;
use crate::store::{CheckedOp, StoreError};

/// What [`super::decide::decide`] needs of the store, and what it changes as it decides
/// operation by operation (a later operation of the group sees what an earlier one did).
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// Each pushing user's teams `(id, name)`, by name: a new household joins the one its
    /// intake names, or the first.
    pub teams_of: HashMap<String, Vec<(String, String)>>,
    /// The operations the log holds.
    pub logged: HashSet<String>,
    /// The team of each household the group names.
    pub case_team: HashMap<String, String>,
    /// Those of them that were erased.
    pub erased: HashSet<String>,
    /// The merges standing among the households the group's merges touch: merged household
    /// -> (merge, the household it joined).
    pub standing: HashMap<String, (String, String)>,
    /// The closings standing among the households the group's merges and closings touch:
    /// household -> its closing operation.
    pub closed: HashMap<String, String>,
    /// Submission id -> (case, form), of the group's submissions and those they correct.
    pub submissions: HashMap<String, (String, String)>,
    /// Their review status.
    pub review_status: HashMap<String, String>,
    /// Consent or withdrawal id -> what the store holds of it.
    pub held: HashMap<String, HeldRecord>,
    /// Operation -> the consent or withdrawal it carried.
    pub held_by_op: HashMap<String, String>,
    /// The consents and withdrawals of the households the group refers (to check the
    /// referrals against), those the group brings included as they are accepted.
    pub consents_of: HashMap<String, (Vec<Consent>, Vec<Withdrawal>)>,
    /// Referral id -> (household, the stamp of what set its state), of the referrals the
    /// group makes or moves.
    pub referrals: HashMap<String, (String, String)>,
}

/// The ids, each once, sorted.
fn distinct<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let set: BTreeSet<&str> = ids.into_iter().collect();
    set.into_iter().map(str::to_owned).collect()
}

/// The ids a group's operations name, each once, by what they are looked up in.
struct Ids {
    users: Vec<String>,
    ops: Vec<String>,
    cases: Vec<String>,
    /// Whether any operation links two households or closes one (merges and closings are
    /// read then).
    links: bool,
    submissions: Vec<String>,
    /// Consents and withdrawals, and the operations that carried them.
    records: Vec<String>,
    record_ops: Vec<String>,
    /// The households the group refers, and the referrals it makes or moves.
    referring: Vec<String>,
    referrals: Vec<String>,
}

fn ids_of(batches: &[PushBatch], ops: &[(usize, &CheckedOp)]) -> Ids {
    let users = distinct(batches.iter().map(|b| b.user.id.as_str()));
    let op_ids = distinct(ops.iter().map(|(_, c)| c.op.op_id.as_str()));
    // The households named by merges and findings of two families are looked up with those
    // the operations are on.
    let case_ids = distinct(ops.iter().flat_map(|(_, c)| {
        let linked = match &c.op.change {
            Change::Merge { into } => Some(into.as_str()),
            Change::Distinct { other } => Some(other.as_str()),
            _ => None,
        };
        std::iter::once(c.op.case_id.as_str()).chain(linked)
    }));
    let links = ops.iter().any(|(_, c)| {
        is_link(&c.op.change) || matches!(c.op.change, Change::Close { .. } | Change::Reopen { .. })
    });
    // The group's own submissions (taken already?) and those it corrects.
    let sub_ids = distinct(
        ops.iter()
            .filter_map(|(_, c)| c.op.submission())
            .flat_map(|s| {
                let corrected = s.corrects.as_ref().map(|k| k.submission_id.as_str());
                std::iter::once(s.id.as_str()).chain(corrected)
            }),
    );
    // The consents and withdrawals it carries (held already?), the consents they withdraw,
    // and the operations that carried them (a retry, or a change?).
    let mut consent_op_ids = Vec::new();
    let mut record_ids = Vec::new();
    for (_, c) in ops {
        match &c.op.change {
            Change::Consent { consent } => record_ids.push(consent.id.as_str()),
            Change::Withdraw { withdrawal } => {
                record_ids.push(withdrawal.id.as_str());
                record_ids.push(withdrawal.consent_id.as_str());
            }
            _ => continue,
        }
        consent_op_ids.push(c.op.op_id.as_str());
    }
    let referring = distinct(ops.iter().filter_map(|(_, c)| match &c.op.change {
        Change::Refer { .. } => Some(c.op.case_id.as_str()),
        _ => None,
    }));
    let referrals = distinct(ops.iter().filter_map(|(_, c)| match &c.op.change {
        Change::Refer { referral } => Some(referral.id.as_str()),
        Change::UpdateReferral { update } => Some(update.referral_id.as_str()),
        _ => None,
    }));
    Ids {
        users,
        ops: op_ids,
        cases: case_ids,
        links,
        submissions: sub_ids,
        records: distinct(record_ids),
        record_ops: distinct(consent_op_ids),
        referring,
        referrals,
    }
}

/// Reads what the store knows of the operations `ops` (each with its batch's index).
pub(crate) async fn read(
    tx: &mut Tx,
    batches: &[PushBatch],
    ops: &[(usize, &CheckedOp)],
) -> Result<Known, StoreError> {
    let ids = ids_of(batches, ops);
    let mut known = Known::default();
    on_db!(tx, |tx| {
        let sql = format!(
            "SELECT m.user_id, m.team_id, t.name FROM team_members m
             JOIN teams t ON t.id = m.team_id
             WHERE m.user_id IN {} ORDER BY t.name",
            tx.values(1, ids.users.len())
        );
        let mut q = sqlx::query_as::<_, (String, String, String)>(&sql);
        for id in &ids.users {
            q = q.bind(id);
        }
        for (user, team, name) in q.fetch_all(&mut **tx).await? {
            known.teams_of.entry(user).or_default().push((team, name));
        }
        for chunk in ids.ops.chunks(500) {
            let sql = format!(
                "SELECT op_id FROM ops WHERE op_id IN {}",
                tx.values(1, chunk.len())
            );
            let mut q = sqlx::query_scalar::<_, String>(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            known.logged.extend(q.fetch_all(&mut **tx).await?);
        }
        for chunk in ids.cases.chunks(500) {
            let sql = format!(
                "SELECT id, team_id, erased_ms IS NOT NULL FROM cases WHERE id IN {}",
                tx.values(1, chunk.len())
            );
            let mut q = sqlx::query_as::<_, (String, String, bool)>(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            for (id, team, erased) in q.fetch_all(&mut **tx).await? {
                if erased {
                    known.erased.insert(id.clone());
                }
                known.case_team.insert(id, team);
            }
        }
        if ids.links {
            for chunk in ids.cases.chunks(250) {
                // The ids twice, each list with parameters of its own: SQLite's `?` are
                // numbered one after the other, so a list written twice would leave the
                // second unbound (NULL), and a household with others merged into it would
                // not be found so. Two rows of values are two such lists: "(…), (…)".
                let lists = tx.values(2, chunk.len());
                let (of, rest) = lists.split_once(", (").expect("two lists");
                let into = format!("({rest}");
                let sql = format!(
                    "SELECT case_id, op_id, into_id FROM case_merges
                     WHERE undone_op_id IS NULL AND (case_id IN {of} OR into_id IN {into})"
                );
                let mut q = sqlx::query_as::<_, (String, String, String)>(&sql);
                for id in chunk.iter().chain(chunk) {
                    q = q.bind(id);
                }
                for (case_id, op_id, into_id) in q.fetch_all(&mut **tx).await? {
                    known.standing.insert(case_id, (op_id, into_id));
                }
            }
            for chunk in ids.cases.chunks(500) {
                let sql = format!(
                    "SELECT case_id, op_id FROM case_closings
                     WHERE reopened_op_id IS NULL AND case_id IN {}",
                    tx.values(1, chunk.len())
                );
                let mut q = sqlx::query_as::<_, (String, String)>(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                known.closed.extend(q.fetch_all(&mut **tx).await?);
            }
        }
        for chunk in ids.submissions.chunks(500) {
            let sql = format!(
                "SELECT id, case_id, form_id, review_status FROM submissions WHERE id IN {}",
                tx.values(1, chunk.len())
            );
            let mut q = sqlx::query_as::<_, (String, String, String, String)>(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            for (id, case_id, form_id, status) in q.fetch_all(&mut **tx).await? {
                known.review_status.insert(id.clone(), status);
                known.submissions.insert(id, (case_id, form_id));
            }
        }
        for (column, list) in [("id", &ids.records), ("op_id", &ids.record_ops)] {
            for chunk in list.chunks(500) {
                let sql = format!(
                    "SELECT id, case_id, kind, binding, op_id, received_ms FROM consents
                     WHERE {column} IN {}",
                    tx.values(1, chunk.len())
                );
                let mut q = sqlx::query_as::<_, HeldRow>(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                for row in q.fetch_all(&mut **tx).await? {
                    known.held_by_op.insert(row.op_id, row.id.clone());
                    known.held.insert(row.id, row.record);
                }
            }
        }
        for chunk in ids.referring.chunks(500) {
            let sql = format!(
                "SELECT k.case_id, o.seq, o.body FROM consents k JOIN ops o ON o.op_id = k.op_id
                 WHERE k.case_id IN {} ORDER BY o.seq",
                tx.values(1, chunk.len())
            );
            let mut q = sqlx::query_as::<_, (String, i64, String)>(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            for (case_id, seq, body) in q.fetch_all(&mut **tx).await? {
                let op = crate::store::decode::operation(seq, &body)?;
                let held = known.consents_of.entry(case_id).or_default();
                match op.change {
                    Change::Consent { consent } => held.0.push(*consent),
                    Change::Withdraw { withdrawal } => held.1.push(*withdrawal),
                    _ => {}
                }
            }
        }
        for chunk in ids.referrals.chunks(500) {
            let sql = format!(
                "SELECT id, case_id, state_hlc FROM referrals WHERE id IN {}",
                tx.values(1, chunk.len())
            );
            let mut q = sqlx::query_as::<_, (String, String, String)>(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            for (id, case_id, hlc) in q.fetch_all(&mut **tx).await? {
                known.referrals.insert(id, (case_id, hlc));
            }
        }
    });
    Ok(known)
}

/// A consent or withdrawal as `consents` holds it.
#[derive(sqlx::FromRow)]
struct HeldRow {
    id: String,
    op_id: String,
    #[sqlx(flatten)]
    record: HeldRecord,
}

/// Whether the change links two households (only supervisors may).
pub(crate) fn is_link(change: &Change) -> bool {
    matches!(
        change,
        Change::Merge { .. } | Change::Unmerge { .. } | Change::Distinct { .. }
    )
}
