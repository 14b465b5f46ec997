//! The embedded store: one SQLite file, WAL and `synchronous=FULL`, so that an acknowledged
//! write survives a power cut.

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::StoreError;
use super::db::Backend;

/// A log this long (about 256 MiB of pages) is copied even if pushes have to wait.
const WAL_RESTART_FRAMES: i64 = 65_536;

/// Opens `sqlite://path`, creating the file and its folder if needed, and brings its schema
/// up to date.
pub(super) async fn open(url: &str) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|_| StoreError::InvalidUrl { scheme: "sqlite" })?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        // 64 MiB of page cache per connection (the default is 2 MiB): a group of pushes
        // writes megabytes, and a cache that spills writes them twice.
        .pragma("cache_size", "-65536")
        // No commit copies the write-ahead log into the database itself (that held up
        // pushes for hundreds of milliseconds): the writer's upkeep does, beside them.
        .pragma("wal_autocheckpoint", "0")
        // What is deleted is overwritten with zeros, not left in free pages: an erased
        // household's data must not stay readable in the file.
        .pragma("secure_delete", "ON");

    let file = options.get_filename();
    if !url.contains(":memory:") && !url.contains("mode=memory") {
        private_file(file).map_err(|source| StoreError::CreateDir {
            path: file.to_owned(),
            source,
        })?;
    }

    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(StoreError::Open)?;
    sqlx::migrate!("migrations/sqlite").run(&pool).await?;
    Ok(pool)
}

/// The database file a `sqlite://` URL names (none for a store in memory).
pub(super) fn file_of(url: &str) -> Option<std::path::PathBuf> {
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    Some(options.get_filename().to_owned())
}

/// Makes sure the database file `file` and its folder are the server's alone: a new folder
/// 0700, the file 0600 (SQLite gives its write-ahead log the file's mode). A file that others
/// could read is closed to them, and the log says so.
fn private_file(file: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(file)?;
        for suffix in ["", "-wal", "-shm"] {
            let mut path = file.as_os_str().to_owned();
            path.push(suffix);
            let path = std::path::PathBuf::from(path);
            if let Ok(meta) = std::fs::metadata(&path)
                && meta.permissions().mode() & 0o077 != 0
            {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
                tracing::warn!(path = %path.display(), "others could read the case store: made it the server's alone (0600)");
            }
        }
    }
    #[cfg(not(unix))]
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    Ok(())
}

impl Backend for sqlx::Sqlite {
    /// Plain `?` parameters: SQLite looks numbered ones up by name, one by one, which makes
    /// a statement with thousands of them slow.
    fn param(sql: &mut String, _: usize) {
        sql.push('?');
    }

    /// Those written more than once: SQLite, unlike PostgreSQL, is faster when it leaves the
    /// others out itself.
    fn field_writes_of(n: usize) -> String {
        let ids = super::db::values::<Self>(1, n);
        format!(
            "SELECT w.case_id, w.field, w.hlc, w.value, w.seen FROM field_writes w
             JOIN (SELECT case_id, field FROM field_writes WHERE case_id IN {ids}
                   GROUP BY case_id, field HAVING COUNT(*) > 1) m
               ON m.case_id = w.case_id AND m.field = w.field"
        )
    }
}

/// Copies the write-ahead log into the database without waiting for anyone (`PASSIVE`).
/// Under a steady stream of pushes the log may never be copied to its end, and so never
/// start over: past `WAL_RESTART_FRAMES` the copy waits for the writer (`RESTART`), a short
/// pause for a log that would otherwise grow without end.
pub(super) async fn upkeep(pool: &SqlitePool) {
    let passive: Result<(i64, i64, i64), _> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await;
    match passive {
        Ok((_, frames, _)) if frames > WAL_RESTART_FRAMES => {
            if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
                .execute(pool)
                .await
            {
                tracing::warn!(%err, "copying the write-ahead log failed");
            }
        }
        Ok(_) => {}
        Err(err) => tracing::warn!(%err, "copying the write-ahead log failed"),
    }
}

/// The transaction of a push, holding SQLite's one write lock from its start: a transaction
/// that reads first and writes later could not wait for another writer (SQLite refuses at
/// once, as waiting might deadlock), so concurrent pushes queue here instead.
pub(super) async fn begin_push(
    pool: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// The dashboard writes its summaries in its turn in the writer's queue, between pushes
/// (see [`super::db::Db::queues_writes`]), holding the write lock from the start of its
/// transaction (it reads what it then changes).
pub(super) async fn begin_dashboard(
    pool: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
    begin_push(pool).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CaseStore;

    /// The store's own pool.
    fn pool(store: &CaseStore) -> &SqlitePool {
        match &store.db {
            super::super::db::Db::Sqlite(pool) => pool,
            super::super::db::Db::Postgres(_) => unreachable!("a SQLite URL"),
        }
    }

    #[tokio::test]
    async fn creates_the_file_and_folder_and_keeps_its_identity() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/deeper/cris.db");
        let url = format!("sqlite://{}", path.display());

        let first = CaseStore::open(&url).await.unwrap();
        assert!(path.exists());
        first.ping().await.unwrap();
        let id = first.instance_id().to_owned();
        assert_eq!(id.len(), 32);
        first.close().await;

        let again = CaseStore::open(&url).await.unwrap();
        assert_eq!(
            again.instance_id(),
            id,
            "reopening must not make a new store"
        );

        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool(&again))
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool(&again))
            .await
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
    }

    #[tokio::test]
    async fn the_log_is_copied_into_the_database_by_the_upkeep_not_by_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cris.db");
        let store = CaseStore::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let auto: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(pool(&store))
            .await
            .unwrap();
        assert_eq!(auto, 0, "no commit copies the log itself");
        let before = std::fs::metadata(&path).unwrap().len();
        for i in 0..50 {
            let user = crate::store::NewUser {
                login: format!("worker{i}"),
                display_name: "Test Worker".into(),
                role: crate::store::Role::Worker,
                password_hash: "x".repeat(2000),
                teams: vec![format!("Team {i}")],
            };
            store.add_user(&user, 0).await.unwrap();
        }
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            before,
            "still only in the log"
        );
        store.db.upkeep().await;
        assert!(std::fs::metadata(&path).unwrap().len() > before);
        let (_, frames, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(pool(&store))
            .await
            .unwrap();
        assert_eq!(frames, copied, "all of the log is in the database");
        assert_eq!(store.users().await.unwrap().len(), 50);
    }

    #[tokio::test]
    async fn an_unwritable_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"not a folder").unwrap();
        let err = CaseStore::open(&format!("sqlite://{}/sub/cris.db", blocker.display()))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::CreateDir { .. }), "{err}");
    }
}
