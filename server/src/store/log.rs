//! The log as phones and the case page read it: operations after a point, which ones the
//! log holds, a household's history and consents; and the forms the server has served.

use super::db::on_db;
use super::{CaseStore, StoreError, decode};

/// A form definition as the store keeps it: id, version, definition (JSON).
pub type HeldForm = (String, u32, String);

/// An operation as the log keeps it, read back.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedOp {
    pub seq: i64,
    pub received_ms: i64,
    pub login: String,
    pub display_name: String,
    pub op: cris_core::record::Operation,
}

/// A [`LoggedOp`]'s row, its body not yet read.
#[derive(sqlx::FromRow)]
pub(crate) struct LoggedRow {
    seq: i64,
    received_ms: i64,
    login: String,
    display_name: String,
    body: String,
}

impl LoggedRow {
    /// Reads every row's operation; one that cannot be read is damage.
    pub(crate) fn read(rows: Vec<LoggedRow>) -> Result<Vec<LoggedOp>, StoreError> {
        rows.into_iter()
            .map(|row| {
                Ok(LoggedOp {
                    op: decode::operation(row.seq, &row.body)?,
                    seq: row.seq,
                    received_ms: row.received_ms,
                    login: row.login,
                    display_name: row.display_name,
                })
            })
            .collect()
    }
}

/// The cases that make up the household `$1`, as an SQL set: its own and those merged into it
/// while their merge stands (their records stay under their own ids).
pub(crate) const HOUSEHOLD: &str = "(SELECT CAST($1 AS TEXT) UNION ALL
     SELECT m.case_id FROM case_merges m WHERE m.into_id = $1 AND m.undone_op_id IS NULL)";

impl CaseStore {
    /// The operations of the user's teams' cases logged after `since`, oldest first:
    /// `(seq, operation)`. Without `closed_too` (a worker's phone), those of households
    /// whose case is closed now are left out but for the closings themselves: a phone holding
    /// such a household hears that it closed, and one that never held it gets nothing of it.
    pub async fn ops_since(
        &self,
        user_id: &str,
        since: i64,
        limit: i64,
        closed_too: bool,
    ) -> Result<Vec<(i64, cris_core::record::Operation)>, StoreError> {
        let open_only = if closed_too {
            ""
        } else {
            "AND (EXISTS (SELECT 1 FROM case_closings k WHERE k.op_id = o.op_id)
                  OR NOT EXISTS (SELECT 1 FROM case_closings k
                                 WHERE k.reopened_op_id IS NULL
                                   AND (k.case_id = o.case_id OR k.case_id = c.merged_into)))"
        };
        let sql = format!(
            "SELECT o.seq, o.body FROM ops o
             JOIN cases c ON c.id = o.case_id
             JOIN team_members m ON m.team_id = c.team_id
             WHERE m.user_id = $1 AND o.seq > $2 {open_only}
             ORDER BY o.seq LIMIT $3"
        );
        on_db!(&self.db, |pool| {
            let rows: Vec<(i64, String)> = sqlx::query_as(&sql)
                .bind(user_id)
                .bind(since)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            rows.into_iter()
                .map(|(seq, body)| Ok((seq, decode::operation(seq, &body)?)))
                .collect()
        })
    }

    /// Which of these operations the log holds already: their ids, each with the binding of
    /// the consent or withdrawal it carried (`None` for a form).
    pub async fn logged(
        &self,
        op_ids: &[String],
    ) -> Result<Vec<(String, Option<String>)>, StoreError> {
        on_db!(&self.db, |pool| {
            let mut found = Vec::new();
            for id in op_ids {
                let hit: Option<(String, Option<String>)> = sqlx::query_as(
                    "SELECT o.op_id, k.binding FROM ops o LEFT JOIN consents k ON k.op_id = o.op_id
                 WHERE o.op_id = $1",
                )
                .bind(id)
                .fetch_optional(pool)
                .await?;
                found.extend(hit);
            }
            Ok(found)
        })
    }

    /// Keeps the forms this server serves (a version met for the first time is kept for
    /// good) and returns every version the store holds. A version held already with another
    /// definition is refused, and nothing is kept.
    pub async fn remember_forms(
        &self,
        forms: &[HeldForm],
        now_ms: i64,
    ) -> Result<Vec<HeldForm>, StoreError> {
        on_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            for (id, version, definition) in forms {
                sqlx::query(
                    "INSERT INTO form_versions (form_id, version, definition, first_served_ms)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (form_id, version) DO NOTHING",
                )
                .bind(id)
                .bind(i64::from(*version))
                .bind(definition)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                let held: String = sqlx::query_scalar(
                    "SELECT definition FROM form_versions WHERE form_id = $1 AND version = $2",
                )
                .bind(id)
                .bind(i64::from(*version))
                .fetch_one(&mut *tx)
                .await?;
                if held != *definition {
                    return Err(StoreError::FormRedefined {
                        id: id.clone(),
                        version: *version,
                    });
                }
            }
            let held: Vec<(String, i64, String)> = sqlx::query_as(
                "SELECT form_id, version, definition FROM form_versions ORDER BY form_id, version",
            )
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(held
                .into_iter()
                .map(|(id, version, definition)| {
                    (id, u32::try_from(version).unwrap_or_default(), definition)
                })
                .collect())
        })
    }

    /// The newest version of every form the store holds: a cheap look, for a server to see
    /// that another one, on the same store, published a form.
    pub async fn newest_forms(&self) -> Result<Vec<(String, u32)>, StoreError> {
        let rows: Vec<(String, i64)> = on_db!(&self.db, |pool| {
            sqlx::query_as("SELECT form_id, MAX(version) FROM form_versions GROUP BY form_id")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, version)| (id, u32::try_from(version).unwrap_or_default()))
            .collect())
    }

    /// Every operation on a case of the user's teams, oldest first; `None` when the case is
    /// not one of them (or does not exist: the two are not told apart).
    pub async fn case_history(
        &self,
        user_id: &str,
        case_id: &str,
    ) -> Result<Option<Vec<LoggedOp>>, StoreError> {
        on_db!(&self.db, |pool| {
            if !self.visible(user_id, case_id).await? {
                return Ok(None);
            }
            let rows = sqlx::query_as::<_, LoggedRow>(
                &format!(
                    "SELECT o.seq, o.received_ms, u.login, u.display_name, o.body
                     FROM ops o JOIN users u ON u.id = o.user_id
                     WHERE o.case_id IN {}
                        OR o.op_id IN (SELECT m.op_id FROM case_merges m WHERE m.into_id = $1)
                        OR o.op_id IN (SELECT m.undone_op_id FROM case_merges m WHERE m.into_id = $1)
                     ORDER BY o.seq",
                    HOUSEHOLD
                ),
            )
            .bind(case_id)
            .fetch_all(pool)
            .await?;
            Ok(Some(LoggedRow::read(rows)?))
        })
    }

    /// The operations that carried the consents and withdrawals of a case of the user's
    /// teams, oldest first; `None` as for [`Self::case_history`].
    pub async fn case_consents(
        &self,
        user_id: &str,
        case_id: &str,
    ) -> Result<Option<Vec<LoggedOp>>, StoreError> {
        on_db!(&self.db, |pool| {
            if !self.visible(user_id, case_id).await? {
                return Ok(None);
            }
            let rows = sqlx::query_as::<_, LoggedRow>(&format!(
                "SELECT o.seq, o.received_ms, u.login, u.display_name, o.body
             FROM consents k JOIN ops o ON o.op_id = k.op_id
             JOIN users u ON u.id = o.user_id
             WHERE k.case_id IN {} ORDER BY o.seq",
                HOUSEHOLD
            ))
            .bind(case_id)
            .fetch_all(pool)
            .await?;
            Ok(Some(LoggedRow::read(rows)?))
        })
    }

    /// Whether the case is one of the user's teams' cases.
    pub(crate) async fn visible(&self, user_id: &str, case_id: &str) -> Result<bool, StoreError> {
        on_db!(&self.db, |pool| {
            let visible: Option<String> = sqlx::query_scalar(
                "SELECT c.id FROM cases c JOIN team_members m ON m.team_id = c.team_id
             WHERE c.id = $1 AND m.user_id = $2",
            )
            .bind(case_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
            Ok(visible.is_some())
        })
    }
}
