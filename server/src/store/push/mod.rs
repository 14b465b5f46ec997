//! Storing what phones push: what the store knows of a group of pushes is read at once
//! ([`read`]), every operation's outcome is decided in memory, in order, by a pure function
//! ([`decide`]), and the rows are written in multi-row statements ([`write`]). A group of
//! batches is a handful of statements, not a dozen per operation.

mod decide;
mod read;
mod write;

use super::writer::{GroupPush, PushBatch};
use super::{CaseStore, CheckedOp, StoreError, Stored, User};

/// What the store answers of a consent or withdrawal it holds when one with the same id or
/// operation comes again: why it is refused.
pub fn changed_record(kind: &str, id: &str, received_ms: i64) -> String {
    let day = cris_core::Date::from_days(
        i32::try_from(received_ms.div_euclid(86_400_000)).unwrap_or_default(),
    );
    let what = if kind == "withdrawal" {
        "withdrawal"
    } else {
        "consent"
    };
    format!(
        "the {what} {id} was stored on {day} (UTC), and a signed {what} is never changed: a withdrawal or a new consent is a record of its own"
    )
}

/// A consent or withdrawal as the store indexes it, for telling retries from changes.
#[derive(Clone, Debug, sqlx::FromRow)]
pub(crate) struct HeldRecord {
    pub case_id: String,
    /// `consent` or `withdrawal`.
    pub kind: String,
    pub binding: String,
    pub received_ms: i64,
}

impl CaseStore {
    /// Applies a batch of operations pushed by `user`: each is applied, a duplicate, or
    /// refused alone; a database error applies none of them. Batches pushed at the same
    /// time are written in one transaction (see [`super::writer`]).
    pub async fn push(
        &self,
        user: &User,
        ops: Vec<CheckedOp>,
        now_ms: i64,
    ) -> Result<Vec<Stored>, StoreError> {
        let batch = PushBatch {
            user: user.clone(),
            ops,
            now_ms,
        };
        match &self.writer {
            Some(writer) => writer.push(batch).await,
            None => {
                let mut stored = self.push_group(&[batch]).await?;
                Ok(stored.pop().unwrap_or_default())
            }
        }
    }
}

impl GroupPush for CaseStore {
    async fn maintain(&self) {
        self.db.upkeep().await;
    }

    async fn push_group(&self, batches: &[PushBatch]) -> Result<Vec<Vec<Stored>>, StoreError> {
        let mut tx = self.db.begin_push().await?;
        let ops: Vec<(usize, &CheckedOp)> = batches
            .iter()
            .enumerate()
            .flat_map(|(i, b)| b.ops.iter().map(move |c| (i, c)))
            .collect();
        let known = read::read(&mut tx, batches, &ops).await?;
        let mut decided = decide::decide(batches, &ops, known);
        let writes = write::writes_of(&decided.accepted);
        write::write(&mut tx, batches, &decided, &writes).await?;
        let conflicted = write::conflicts(&mut tx, &writes).await?;
        decided.mark_conflicts(&conflicted);
        write::note_pushes(&mut tx, batches).await?;
        tx.commit().await?;
        Ok(decided.out)
    }
}
