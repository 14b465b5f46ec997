//! The two databases under one roof. A store method is written once, as plain code over a
//! pool or a transaction of either database (`on_db!`), and compiled for each: the SQL is
//! the same (`$1`-style parameters, which both read), and where SQLite and PostgreSQL do
//! differ the difference is a small hook here or in `sqlite.rs` and `postgres.rs`
//! ([`Backend`]: how a long list of parameters is written, which field writes a conflict
//! check reads; how a push's or the dashboard's transaction begins; the upkeep).

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use super::StoreError;

/// Something of SQLite or of PostgreSQL: a pool ([`Db`], the default) or a transaction
/// ([`Tx`]).
#[derive(Clone, Debug)]
pub(crate) enum Db<S = SqlitePool, P = PgPool> {
    Sqlite(S),
    Postgres(P),
}

/// A transaction on either database.
pub(crate) type Tx = Db<Transaction<'static, Sqlite>, Transaction<'static, Postgres>>;

/// `on_db!(db, |c| body)`: `body` with `c` bound to the SQLite or the PostgreSQL part of
/// `db` (a `&Db` gives a pool, a `&mut Tx` a transaction). The body is written once and
/// compiled for each database. It looks like a closure but is not one: its `?` and `return`
/// leave the function it is written in.
macro_rules! on_db {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            $crate::store::db::Db::Sqlite($c) => $body,
            $crate::store::db::Db::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_db;

/// What differs in the SQL of the two databases.
pub(crate) trait Backend: sqlx::Database {
    /// Writes the `n`-th parameter (from 1) of a long list.
    fn param(sql: &mut String, n: usize);

    /// The writes of the fields of `n` cases (bound in order) that may hold a conflict:
    /// `(case_id, field, hlc, value, seen)`.
    fn field_writes_of(n: usize) -> String;
}

/// The SQL dialect of a pool or a transaction, for code written over either database.
pub(crate) trait Dialect {
    type Db: Backend;

    /// `rows` groups of `cols` parameters, for multi-row `VALUES` and `IN` lists:
    /// `($1, $2), ($3, $4)` or `(?, ?), (?, ?)`.
    fn values(&self, rows: usize, cols: usize) -> String {
        values::<Self::Db>(rows, cols)
    }

    /// See [`Backend::field_writes_of`].
    fn field_writes_of(&self, n: usize) -> String {
        <Self::Db as Backend>::field_writes_of(n)
    }
}

impl<B: Backend> Dialect for sqlx::Pool<B> {
    type Db = B;
}

impl<B: Backend> Dialect for Transaction<'_, B> {
    type Db = B;
}

/// `rows` groups of `cols` parameters as the database `B` writes them (see
/// [`Dialect::values`]).
pub(crate) fn values<B: Backend>(rows: usize, cols: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            B::param(&mut sql, r * cols + c + 1);
        }
        sql.push(')');
    }
    sql
}

impl Db {
    /// A transaction that writes what it read without another writer in between: a push, a
    /// review decision. See `sqlite::begin_push` and `postgres::begin_push`.
    pub(crate) async fn begin_push(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(pool) => Db::Sqlite(super::sqlite::begin_push(pool).await?),
            Db::Postgres(pool) => Db::Postgres(super::postgres::begin_push(pool).await?),
        })
    }

    /// The transaction that writes the dashboard's derived tables, one at a time.
    pub(crate) async fn begin_dashboard(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(pool) => Db::Sqlite(super::sqlite::begin_dashboard(pool).await?),
            Db::Postgres(pool) => Db::Postgres(super::postgres::begin_dashboard(pool).await?),
        })
    }

    /// The transaction that erases households: pushes and the dashboard's writers wait
    /// for it (a push for the household could otherwise slip in beside it, and a dashboard
    /// write back its summary).
    pub(crate) async fn begin_erasure(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(pool) => Db::Sqlite(super::sqlite::begin_push(pool).await?),
            Db::Postgres(pool) => Db::Postgres(super::postgres::begin_erasure(pool).await?),
        })
    }

    /// Whether writes that are not pushes wait their turn in the writer's queue: on SQLite,
    /// where pushes hold the one write lock back to back and a writer that waited for it by
    /// retrying would wait for seconds; not on PostgreSQL, where nothing of this waits for a
    /// push.
    pub(crate) fn queues_writes(&self) -> bool {
        matches!(self, Db::Sqlite(_))
    }

    /// Tidying up that must not hold up a push.
    /// After an erasure: on SQLite, the write-ahead log, which still holds the pages as
    /// they were, is copied into the database and emptied (the erased rows' space was
    /// overwritten, `secure_delete`). PostgreSQL keeps the old row versions on disk until
    /// they are vacuumed and their space reused (see the README).
    ///
    /// Then it writes one small row: emptied, the log looks to the connections of another
    /// process (the server, when `cris-server erase` ran beside it) as it did before the
    /// erasure, and they would go on reading the pages they hold from before it. A write
    /// starts the log anew, which every connection notices.
    pub(crate) async fn after_erasure(&self, now_ms: i64) {
        let Db::Sqlite(pool) = self else {
            return;
        };
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await
        {
            tracing::warn!(%err, "emptying the write-ahead log after an erasure failed");
        }
        if let Err(err) = sqlx::query(
            "INSERT INTO server_info (key, value) VALUES ('last_erasure_ms', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(now_ms.to_string())
        .execute(pool)
        .await
        {
            tracing::warn!(%err, "noting the erasure failed");
        }
    }

    pub(crate) async fn upkeep(&self) {
        match self {
            Db::Sqlite(pool) => super::sqlite::upkeep(pool).await,
            Db::Postgres(pool) => super::postgres::upkeep(pool).await,
        }
    }
}

impl Tx {
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        on_db!(self, |tx| tx.commit().await?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_numbered_on_postgres_and_plain_on_sqlite() {
        assert_eq!(values::<Postgres>(2, 2), "($1, $2), ($3, $4)");
        assert_eq!(values::<Sqlite>(1, 3), "(?, ?, ?)");
    }
}
