//! The store on PostgreSQL, for when one machine is not enough: several server processes
//! share one database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

use super::StoreError;
use super::db::Backend;

/// Opens `postgres://…` and brings its schema up to date (migrations take an advisory lock,
/// so several servers starting at once migrate once).
pub(super) async fn open(url: &str) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|_| StoreError::InvalidUrl { scheme: "postgres" })?
        .application_name("cris-server");
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(StoreError::Open)?;
    sqlx::migrate!("migrations/postgres").run(&pool).await?;
    Ok(pool)
}

/// The advisory lock that orders pushes across every server process on the database.
const PUSH_LOCK: i64 = 0x4352_4953_5055_5348; // "CRISPUSH"

/// The advisory lock that makes the writers of the dashboard's derived tables take turns,
/// across every server process on the database (pushes do not wait for it).
const DASHBOARD_LOCK: i64 = 0x4352_4953_4441_5348; // "CRISDASH"

impl Backend for Postgres {
    /// Numbered parameters, `$1` on.
    fn param(sql: &mut String, n: usize) {
        sql.push('$');
        sql.push_str(&n.to_string());
    }

    /// All of them: PostgreSQL reads them faster than it would find those written twice.
    fn field_writes_of(n: usize) -> String {
        format!(
            "SELECT case_id, field, hlc, value, seen FROM field_writes WHERE case_id IN {}",
            super::db::values::<Self>(1, n)
        )
    }
}

/// PostgreSQL tidies up by itself (autovacuum, its own checkpoints). Where autovacuum is off,
/// the tables the review queue and the dashboard read would keep the statistics of an empty
/// database and their plans would read whole teams: analyze them once a tenth of their rows
/// changed, as autovacuum would.
pub(super) async fn upkeep(pool: &PgPool) {
    let stale: Result<Option<bool>, sqlx::Error> = sqlx::query_scalar(
        "SELECT bool_or(s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0))
         FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
         WHERE s.relname IN ('submissions', 'cases', 'review_events', 'case_summaries',
                             'household_counts', 'visit_counts', 'device_syncs',
                             'case_names', 'case_merges')
           AND current_setting('autovacuum') = 'off'",
    )
    .fetch_one(pool)
    .await;
    if let Ok(Some(true)) = stale
        && let Err(e) = sqlx::query(
            "ANALYZE submissions, cases, review_events, case_summaries, household_counts,
                 visit_counts, device_syncs, case_names, case_merges",
        )
        .execute(pool)
        .await
    {
        tracing::warn!("could not analyze the review and dashboard tables: {e}");
    }
}

/// The transaction of a push. One push at a time across all processes: log sequence numbers
/// then become visible in the order they were given, so a phone pulling "after 41" can never
/// miss a 41 that commits late. Concurrent pushes wait for each other, they never overwrite
/// each other.
pub(super) async fn begin_push(
    pool: &PgPool,
) -> Result<Transaction<'static, Postgres>, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PUSH_LOCK)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// The dashboard writes its summaries at once: no push holds a lock it needs. Its transaction
/// does not wait for its commit to reach the disk (`synchronous_commit` off, for it alone):
/// what it writes is derived, with the watermark, so a crash loses at most a refresh that the
/// next dashboard does again, and the dashboard does not queue behind the pushes' flushes.
pub(super) async fn begin_dashboard(
    pool: &PgPool,
) -> Result<Transaction<'static, Postgres>, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1), set_config('synchronous_commit', 'off', true)")
        .bind(DASHBOARD_LOCK)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Erasing households takes the pushes' lock, then the dashboard's (nobody else takes both,
/// so no two transactions wait for each other).
pub(super) async fn begin_erasure(
    pool: &PgPool,
) -> Result<Transaction<'static, Postgres>, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1), pg_advisory_xact_lock($2)")
        .bind(PUSH_LOCK)
        .bind(DASHBOARD_LOCK)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}
