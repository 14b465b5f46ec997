//! The central case store. For now: the embedded SQLite database, opened (and created, and
//! migrated) at start.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// The default database: a file under `./data`, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/cris.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Only the scheme is named: a URL may carry a password.
    #[error("unsupported database URL scheme {scheme:?}: this server opens sqlite:// URLs")]
    UnsupportedScheme { scheme: String },
    #[error("invalid database URL: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Open(#[source] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A handle on the case store; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    instance_id: Arc<str>,
}

impl Store {
    /// Opens the database at `url`, creating the file and its folder if needed, and brings
    /// its schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        if scheme != "sqlite" {
            return Err(StoreError::UnsupportedScheme {
                scheme: scheme.to_owned(),
            });
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::InvalidUrl)?
            .create_if_missing(true)
            // Durable before fast: an acknowledged write survives a power cut.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));

        let file = options.get_filename();
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_owned(),
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
        Ok(Store {
            pool,
            instance_id: instance_id.into(),
        })
    }

    /// Answers when the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(drop)
    }

    /// The id made when this store was created (see the first migration).
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn creates_the_file_and_folder_and_keeps_its_identity() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/deeper/cris.db");
        let url = format!("sqlite://{}", path.display());

        let first = Store::open(&url).await.unwrap();
        assert!(path.exists());
        first.ping().await.unwrap();
        let id = first.instance_id().to_owned();
        assert_eq!(id.len(), 32);
        first.close().await;

        let again = Store::open(&url).await.unwrap();
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
    async fn a_new_database_is_a_new_instance() {
        let dir = tempfile::tempdir().unwrap();
        let a = Store::open(&format!("sqlite://{}/a.db", dir.path().display()))
            .await
            .unwrap();
        let b = Store::open(&format!("sqlite://{}/b.db", dir.path().display()))
            .await
            .unwrap();
        assert_ne!(a.instance_id(), b.instance_id());
    }

    #[tokio::test]
    async fn other_schemes_are_refused_without_echoing_the_url() {
        let err = Store::open("postgres://alice:s3cret@db.example/cris")
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\"postgres\""), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(matches!(
            Store::open("no-scheme-at-all").await,
            Err(StoreError::UnsupportedScheme { .. })
        ));
    }

    #[tokio::test]
    async fn an_unwritable_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"not a folder").unwrap();
        let err = Store::open(&format!("sqlite://{}/sub/cris.db", blocker.display()))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::CreateDir { .. }), "{err}");
    }
}
