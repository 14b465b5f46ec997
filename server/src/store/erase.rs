//! Erasing a household (GDPR Art. 17, or the agency's retention period run out): in one
//! transaction, every personal value of it leaves the store (the operations it was written
//! in, its forms and their review comments, consents, the writes of its properties, its
//! names, closings, merges and summary), and a tombstone stays (`erasures`): the ids, kinds
//! and days of what existed, who erased it, when and why, so that counts and the audit
//! trail still add up. The household's row in `cases` stays (id, team, creation time) and
//! says since when it is erased, so that nothing can be recorded under its id again. The log
//! keeps one operation of it, the erasure, which phones pull: each deletes what it holds.
//!
//! Households merged into the one erased are not erased silently: the erasure is refused,
//! naming them (the caller erases them first, if that is what the family asked).
//!
//! Every erasure is also written to the erasure journal, a file beside the store (ids and
//! times only), which restoring a backup does not replace: [`CaseStore::reapply_erasures`]
//! erases again what the restored store still holds, before the server answers anyone.

use cris_core::hlc::Hlc;
use cris_core::record::{Change, Operation};
use serde::{Deserialize, Serialize};

use super::accounts::SERVER_ACCOUNT;
use super::db::{Dialect, on_db};
use super::{CaseStore, StoreError, decode, new_id};

/// The device the server's own operations are stamped with.
pub const SERVER_DEVICE: &str = SERVER_ACCOUNT;

/// Who erased a household, as the tombstone keeps it: `retention` when the period ran out.
pub const BY_RETENTION: &str = "retention";

/// One record the household had, as its tombstone keeps it: no value of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldRecord {
    pub op_id: String,
    /// The operation's kind: `submit`, `consent`, `withdraw`, `resolve`, `merge`, …
    pub kind: String,
    /// The form, for a form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_id: Option<String>,
    /// The form's, consent's or withdrawal's id (the operation's for the others).
    pub record_id: String,
    pub received_ms: i64,
}

/// What stays of an erased household.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    pub case_id: String,
    pub team_id: String,
    /// The erasure's operation, which phones pull.
    pub op_id: String,
    pub erased_ms: i64,
    /// The administrator's login, or [`BY_RETENTION`].
    pub erased_by: String,
    pub reason: String,
    pub held: Vec<HeldRecord>,
}

/// A line of the erasure journal: which household of which team, when, by whom (no reason:
/// it is the administrator's words).
#[derive(Serialize, Deserialize)]
struct Journaled {
    case_id: String,
    team_id: String,
    erased_ms: i64,
    erased_by: String,
}

/// What an erasure would remove (see [`CaseStore::erasure_preview`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Held {
    /// Forms by form id, how many.
    pub forms: std::collections::BTreeMap<String, u32>,
    /// Consents and withdrawals.
    pub consents: u32,
    /// Every other operation.
    pub other: u32,
    /// The households merged into it.
    pub merged: Vec<String>,
}

/// What became of an erasure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Erased {
    Done(Tombstone),
    /// No household has this id.
    NotFound,
    /// Erased before, at this time.
    Already(i64),
    /// These households are merged into it: each is erased first, or the merge undone.
    OthersMergedIn(Vec<String>),
}

/// An operation's kind as it is written.
fn kind_of(change: &Change) -> &'static str {
    match change {
        Change::Submit { .. } => "submit",
        Change::Consent { .. } => "consent",
        Change::Withdraw { .. } => "withdraw",
        Change::Resolve { .. } => "resolve",
        Change::Merge { .. } => "merge",
        Change::Unmerge { .. } => "unmerge",
        Change::Distinct { .. } => "distinct",
        Change::Close { .. } => "close",
        Change::Reopen { .. } => "reopen",
        Change::Erase {} => "erase",
        Change::Refer { .. } => "refer",
        Change::UpdateReferral { .. } => "update_referral",
    }
}

/// The tables the household's rows are deleted from, in an order the foreign keys allow
/// (`$1`: the household).
const DELETES: [&str; 12] = [
    "DELETE FROM review_events WHERE submission_id IN
         (SELECT id FROM submissions WHERE case_id = $1)",
    "DELETE FROM submissions WHERE case_id = $1",
    "DELETE FROM consents WHERE case_id = $1",
    "DELETE FROM field_writes WHERE case_id = $1",
    "DELETE FROM case_names WHERE case_id = $1",
    "DELETE FROM case_closings WHERE case_id = $1",
    "UPDATE cases SET merged_into = NULL WHERE merged_into = $1",
    "DELETE FROM case_merges WHERE case_id = $1 OR into_id = $1",
    "DELETE FROM case_summaries WHERE case_id = $1",
    "DELETE FROM referral_updates WHERE case_id = $1",
    "DELETE FROM referrals WHERE case_id = $1",
    "DELETE FROM ops WHERE case_id = $1",
];

impl CaseStore {
    /// Erases the household `case_id`, by `by` (a login, or [`BY_RETENTION`]) for `reason`,
    /// at `now_ms`. Pushes wait meanwhile.
    pub async fn erase(
        &self,
        case_id: &str,
        by: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<Erased, StoreError> {
        self.erase_in(case_id, None, by, reason, now_ms).await
    }

    /// [`Self::erase`]; a household the store does not hold is recorded as erased in the
    /// team `unknown_in` when given (one erased since the backup the store was restored
    /// from was taken, and recorded after it: a phone may still send its records).
    async fn erase_in(
        &self,
        case_id: &str,
        unknown_in: Option<&str>,
        by: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<Erased, StoreError> {
        let (case_id, by, reason) = (case_id.to_owned(), by.to_owned(), reason.to_owned());
        let unknown_in = unknown_in.map(str::to_owned);
        let erased = match &self.writer {
            Some(writer) if self.db.queues_writes() => {
                let store = self.clone();
                writer
                    .alone(move || async move {
                        let team = unknown_in.as_deref();
                        store.erase_now(&case_id, team, &by, &reason, now_ms).await
                    })
                    .await??
            }
            _ => {
                let team = unknown_in.as_deref();
                self.erase_now(&case_id, team, &by, &reason, now_ms).await?
            }
        };
        if let Erased::Done(t) = &erased {
            self.db.after_erasure(now_ms).await;
            if let Err(err) = self.journal_erasure(t) {
                tracing::error!(%err, "the erasure is done, but the erasure journal could not be written: a restore from an older backup would bring the household back");
            }
        }
        Ok(erased)
    }

    /// Appends the erasure `t` to the journal (made the server's alone), and waits for it to
    /// reach the disk.
    fn journal_erasure(&self, t: &Tombstone) -> std::io::Result<()> {
        use std::io::Write;
        let Some(path) = &self.journal else {
            return Ok(());
        };
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path.as_ref())?;
        let line = serde_json::to_string(&Journaled {
            case_id: t.case_id.clone(),
            team_id: t.team_id.clone(),
            erased_ms: t.erased_ms,
            erased_by: t.erased_by.clone(),
        })
        .expect("an entry serializes");
        writeln!(file, "{line}")?;
        file.sync_all()
    }

    /// Erases again every household of the erasure journal that the store holds un-erased
    /// (a backup from before its erasure was restored), with the households merged into it;
    /// one it does not hold (recorded after the backup) is recorded as erased, so that what
    /// a phone sends of it is refused. Returns their ids.
    pub async fn reapply_erasures(&self, now_ms: i64) -> Result<Vec<String>, StoreError> {
        let Some(path) = &self.journal else {
            return Ok(Vec::new());
        };
        let text = match std::fs::read_to_string(path.as_ref()) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(StoreError::Journal(format!(
                    "cannot read the erasure journal {}: {e}",
                    path.display()
                )));
            }
        };
        let mut again = Vec::new();
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let entry: Journaled = serde_json::from_str(line).map_err(|_| {
                StoreError::Journal(format!(
                    "line {} of the erasure journal {} cannot be read",
                    n + 1,
                    path.display()
                ))
            })?;
            let day = cris_core::Date::from_days(
                i32::try_from(entry.erased_ms.div_euclid(86_400_000)).unwrap_or_default(),
            );
            let reason = format!(
                "erased on {day} by {}; erased again after the store was restored from a backup",
                entry.erased_by
            );
            let team = Some(entry.team_id.as_str());
            let by = entry.erased_by.as_str();
            let mut erased = self
                .erase_in(&entry.case_id, team, by, &reason, now_ms)
                .await?;
            if let Erased::OthersMergedIn(members) = &erased {
                for member in members {
                    self.erase(member, &entry.erased_by, &reason, now_ms)
                        .await?;
                }
                erased = self
                    .erase_in(&entry.case_id, team, by, &reason, now_ms)
                    .await?;
            }
            if matches!(erased, Erased::Done(_)) {
                again.push(entry.case_id);
            }
        }
        Ok(again)
    }

    async fn erase_now(
        &self,
        case_id: &str,
        unknown_in: Option<&str>,
        by: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<Erased, StoreError> {
        let mut tx = self.db.begin_erasure().await?;
        let mut counts = super::dashboard::CountChanges::default();
        let tombstone = on_db!(&mut tx, |tx| {
            let case: Option<(String, Option<i64>)> =
                sqlx::query_as("SELECT team_id, erased_ms FROM cases WHERE id = $1")
                    .bind(case_id)
                    .fetch_optional(&mut **tx)
                    .await?;
            let team_id = match (case, unknown_in) {
                (None, None) => return Ok(Erased::NotFound),
                (None, Some(team_id)) => {
                    let team: Option<String> =
                        sqlx::query_scalar("SELECT id FROM teams WHERE id = $1")
                            .bind(team_id)
                            .fetch_optional(&mut **tx)
                            .await?;
                    if team.is_none() {
                        return Ok(Erased::NotFound);
                    }
                    sqlx::query("INSERT INTO cases (id, team_id, created_ms) VALUES ($1, $2, $3)")
                        .bind(case_id)
                        .bind(team_id)
                        .bind(now_ms)
                        .execute(&mut **tx)
                        .await?;
                    team_id.to_owned()
                }
                (Some((_, Some(at))), _) => return Ok(Erased::Already(at)),
                (Some((team_id, None)), _) => team_id,
            };
            let merged_in: Vec<String> = sqlx::query_scalar(
                "SELECT case_id FROM case_merges
                 WHERE into_id = $1 AND undone_op_id IS NULL ORDER BY case_id",
            )
            .bind(case_id)
            .fetch_all(&mut **tx)
            .await?;
            if !merged_in.is_empty() {
                return Ok(Erased::OthersMergedIn(merged_in));
            }
            let logged: Vec<(i64, String, i64, String)> = sqlx::query_as(
                "SELECT seq, op_id, received_ms, body FROM ops WHERE case_id = $1 ORDER BY seq",
            )
            .bind(case_id)
            .fetch_all(&mut **tx)
            .await?;
            let mut held = Vec::with_capacity(logged.len());
            for (seq, op_id, received_ms, body) in logged {
                let op = decode::operation(seq, &body)?;
                held.push(HeldRecord {
                    kind: kind_of(&op.change).to_owned(),
                    form_id: op.submission().map(|s| s.form_id.clone()),
                    record_id: op.record_id().to_owned(),
                    op_id,
                    received_ms,
                });
            }
            let sql = super::dashboard::held_summaries_sql(&tx.values(1, 1));
            let summary: Option<super::dashboard::HeldSummary> = sqlx::query_as(&sql)
                .bind(case_id)
                .fetch_optional(&mut **tx)
                .await?;
            if let Some(summary) = &summary {
                counts.replaced(summary);
            }
            for delete in DELETES {
                sqlx::query(delete).bind(case_id).execute(&mut **tx).await?;
            }
            let erasure = Operation {
                op_id: new_id(now_ms),
                device: SERVER_DEVICE.to_owned(),
                hlc: Hlc {
                    wall_ms: u64::try_from(now_ms).unwrap_or_default(),
                    counter: 0,
                    device: SERVER_DEVICE.to_owned(),
                },
                created_at_ms: now_ms as f64,
                case_id: case_id.to_owned(),
                change: Change::Erase {},
            };
            let body = serde_json::to_string(&erasure).expect("an operation serializes");
            sqlx::query(
                "INSERT INTO ops (op_id, case_id, user_id, device_id, hlc, received_ms, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&erasure.op_id)
            .bind(case_id)
            .bind(SERVER_ACCOUNT)
            .bind(SERVER_DEVICE)
            .bind(erasure.hlc.to_string())
            .bind(now_ms)
            .bind(&body)
            .execute(&mut **tx)
            .await?;
            let tombstone = Tombstone {
                case_id: case_id.to_owned(),
                team_id,
                op_id: erasure.op_id,
                erased_ms: now_ms,
                erased_by: by.to_owned(),
                reason: reason.to_owned(),
                held,
            };
            sqlx::query(
                "INSERT INTO erasures (case_id, op_id, team_id, erased_ms, erased_by, reason, held)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(case_id)
            .bind(&tombstone.op_id)
            .bind(&tombstone.team_id)
            .bind(now_ms)
            .bind(by)
            .bind(reason)
            .bind(serde_json::to_string(&tombstone.held).expect("records serialize"))
            .execute(&mut **tx)
            .await?;
            sqlx::query("UPDATE cases SET erased_ms = $1 WHERE id = $2")
                .bind(now_ms)
                .bind(case_id)
                .execute(&mut **tx)
                .await?;
            tombstone
        });
        super::dashboard::add_household_counts(&mut tx, &counts).await?;
        tx.commit().await?;
        Ok(Erased::Done(tombstone))
    }

    /// What erasing the household `case_id` would remove: its records by kind (and forms by
    /// form), and the households merged into it; `None` when no household has this id.
    pub async fn erasure_preview(&self, case_id: &str) -> Result<Option<Held>, StoreError> {
        on_db!(&self.db, |pool| {
            let exists: Option<String> = sqlx::query_scalar("SELECT id FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_optional(pool)
                .await?;
            if exists.is_none() {
                return Ok(None);
            }
            let logged: Vec<(i64, String)> =
                sqlx::query_as("SELECT seq, body FROM ops WHERE case_id = $1 ORDER BY seq")
                    .bind(case_id)
                    .fetch_all(pool)
                    .await?;
            let mut held = Held::default();
            for (seq, body) in logged {
                let op = decode::operation(seq, &body)?;
                match (&op.change, op.submission()) {
                    (_, Some(s)) => *held.forms.entry(s.form_id.clone()).or_default() += 1,
                    (Change::Consent { .. } | Change::Withdraw { .. }, _) => held.consents += 1,
                    _ => held.other += 1,
                }
            }
            held.merged = sqlx::query_scalar(
                "SELECT case_id FROM case_merges
                 WHERE into_id = $1 AND undone_op_id IS NULL ORDER BY case_id",
            )
            .bind(case_id)
            .fetch_all(pool)
            .await?;
            Ok(Some(held))
        })
    }

    /// The tombstone of the erased household `case_id`, if it was erased.
    pub async fn tombstone(&self, case_id: &str) -> Result<Option<Tombstone>, StoreError> {
        on_db!(&self.db, |pool| {
            let row: Option<(String, String, i64, String, String, String)> = sqlx::query_as(
                "SELECT team_id, op_id, erased_ms, erased_by, reason, held FROM erasures
                 WHERE case_id = $1",
            )
            .bind(case_id)
            .fetch_optional(pool)
            .await?;
            let Some((team_id, op_id, erased_ms, erased_by, reason, held)) = row else {
                return Ok(None);
            };
            let held = decode::json("tombstone", case_id, &held)?;
            Ok(Some(Tombstone {
                case_id: case_id.to_owned(),
                team_id,
                op_id,
                erased_ms,
                erased_by,
                reason,
                held,
            }))
        })
    }
}
