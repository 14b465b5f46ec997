//! The embedded store: one SQLite file, WAL and `synchronous=FULL`, so that an acknowledged
//! write survives a power cut.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::writer::Writer;
use super::{StoreError, shared_store_impl};

/// A log this long (about 256 MiB of pages) is copied even if pushes have to wait.
const WAL_RESTART_FRAMES: i64 = 65_536;

#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
    instance_id: Arc<str>,
    /// Where pushes queue to be written together; `None` in the writer's own handle.
    writer: Option<Writer>,
}

impl SqliteStore {
    /// Opens `sqlite://path`, creating the file and its folder if needed, and brings its
    /// schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
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
            .pragma("wal_autocheckpoint", "0");

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
        let instance_id: String =
            sqlx::query_scalar("SELECT value FROM server_info WHERE key = 'instance_id'")
                .fetch_one(&pool)
                .await
                .map_err(StoreError::Open)?;
        let mut store = SqliteStore {
            pool,
            instance_id: instance_id.into(),
            writer: None,
        };
        store.fill_case_names().await?;
        store.writer = Some(Writer::start(store.clone()));
        Ok(store)
    }
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

impl SqliteStore {
    /// Plain `?` parameters: SQLite looks numbered ones up by name, one by one, which makes
    /// a statement with thousands of them slow.
    fn values(rows: usize, cols: usize) -> String {
        super::values(rows, cols, |sql, _| sql.push('?'))
    }

    /// Copies the write-ahead log into the database without waiting for anyone (`PASSIVE`).
    /// Under a steady stream of pushes the log may never be copied to its end, and so never
    /// start over: past `WAL_RESTART_FRAMES` the copy waits for the writer (`RESTART`), a
    /// short pause for a log that would otherwise grow without end.
    async fn upkeep(&self) {
        let passive: Result<(i64, i64, i64), _> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&self.pool)
            .await;
        match passive {
            Ok((_, frames, _)) if frames > WAL_RESTART_FRAMES => {
                if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
                    .execute(&self.pool)
                    .await
                {
                    tracing::warn!(%err, "copying the write-ahead log failed");
                }
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(%err, "copying the write-ahead log failed"),
        }
    }

    /// The writes of the fields of `n` cases that may hold a conflict: those written more than
    /// once (SQLite, unlike PostgreSQL, is faster when it leaves the others out itself).
    fn field_writes_of(n: usize) -> String {
        let ids = Self::values(1, n);
        format!(
            "SELECT w.case_id, w.field, w.hlc, w.value, w.seen FROM field_writes w
             JOIN (SELECT case_id, field FROM field_writes WHERE case_id IN {ids}
                   GROUP BY case_id, field HAVING COUNT(*) > 1) m
               ON m.case_id = w.case_id AND m.field = w.field"
        )
    }

    /// The transaction of a push, holding SQLite's one write lock from its start: a
    /// transaction that reads first and writes later could not wait for another writer (SQLite
    /// refuses at once, as waiting might deadlock), so concurrent pushes queue here instead.
    async fn begin_push(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

shared_store_impl!(SqliteStore);
/// The database of this store, for the helpers the stores share.
type Db = sqlx::Sqlite;

super::store_helpers_impl!(SqliteStore);

// The dashboard writes its summaries in its turn in the writer's queue, between pushes,
// holding the write lock from the start of its transaction (it reads what it then changes).
super::dashboard::dashboard_store_impl!(
    SqliteStore,
    queued: true,
    begin: "BEGIN IMMEDIATE",
    lock: None
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn creates_the_file_and_folder_and_keeps_its_identity() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/deeper/cris.db");
        let url = format!("sqlite://{}", path.display());

        let first = SqliteStore::open(&url).await.unwrap();
        assert!(path.exists());
        first.ping().await.unwrap();
        let id = first.instance_id().to_owned();
        assert_eq!(id.len(), 32);
        first.close().await;

        let again = SqliteStore::open(&url).await.unwrap();
        assert_eq!(
            again.instance_id(),
            id,
            "reopening must not make a new store"
        );

        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&again.pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&again.pool)
            .await
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
    }

    #[tokio::test]
    async fn the_log_is_copied_into_the_database_by_the_upkeep_not_by_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cris.db");
        let store = SqliteStore::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let auto: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(&store.pool)
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
        store.upkeep().await;
        assert!(std::fs::metadata(&path).unwrap().len() > before);
        let (_, frames, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&store.pool)
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
        let err = SqliteStore::open(&format!("sqlite://{}/sub/cris.db", blocker.display()))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::CreateDir { .. }), "{err}");
    }
}
