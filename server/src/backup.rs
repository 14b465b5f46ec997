//! Backups of a SQLite case store that restore: a consistent copy taken while the server runs
//! and phones push, and putting one back while no server uses the store.
//!
//! - [`backup`] copies the store with `VACUUM INTO` inside one read transaction: the copy is
//!   the store as of one moment, write-ahead log included, whatever is written meanwhile.
//!   The copy is made the server's alone (0600), checked, and described.
//! - [`restore`] refuses while a server holds the store's lock ([`ServeLock`]); it checks the
//!   backup, gives the restored store a new store id (phones that see it change send again
//!   what the store lacks, and pull from the start), and moves the replaced store aside
//!   rather than deleting it.
//!
//! PostgreSQL is backed up with its own tools (`pg_dump`, `pg_restore`; see the README).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub store_id: String,
    /// Operations in the log.
    pub operations: i64,
    /// The newest sequence number (the pull cursor it reaches).
    pub last_seq: i64,
    pub bytes: u64,
}

/// The database file of a `sqlite://` URL; other stores are backed up with their own tools.
pub fn sqlite_file(url: &str) -> Result<PathBuf, String> {
    let scheme = url.split_once(':').map_or("", |(s, _)| s);
    if matches!(scheme, "postgres" | "postgresql") {
        return Err(
            "PostgreSQL is backed up with pg_dump and restored with pg_restore (see the README, \"Deploying\")"
                .to_owned(),
        );
    }
    if scheme != "sqlite" || url.contains(":memory:") || url.contains("mode=memory") {
        return Err(format!("not a sqlite:// database file: {scheme:?}"));
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|_| format!("not a sqlite:// database URL: {scheme:?}"))?;
    Ok(options.get_filename().to_owned())
}

/// Copies the store at `db` to the new file `to`, consistently, while others write.
pub async fn backup(db: &Path, to: &Path) -> Result<Summary, String> {
    if !db.is_file() {
        return Err(format!("no case store at {}", db.display()));
    }
    // An empty file of the server's alone, which VACUUM INTO fills; never over an old backup.
    create_private(to)
        .map_err(|e| format!("cannot create the backup file {}: {e}", to.display()))?;
    let copied = async {
        let mut conn = connect(db, false).await?;
        sqlx::query("VACUUM INTO ?")
            .bind(to.to_string_lossy().into_owned())
            .execute(&mut conn)
            .await
            .map_err(|e| format!("the copy failed: {e}"))?;
        conn.close().await.map_err(|e| e.to_string())
    }
    .await;
    if let Err(err) = copied {
        let _ = std::fs::remove_file(to);
        return Err(err);
    }
    check(to).await
}

/// Puts the backup `from` in place of the store at `db` (which no server may be using):
/// checked first, then given a new store id; the replaced store is kept beside it, renamed.
/// Returns what was restored, and where the replaced store went (if there was one).
pub async fn restore(
    db: &Path,
    from: &Path,
    now_ms: i64,
) -> Result<(Summary, Option<PathBuf>), String> {
    let _lock = ServeLock::take(db).map_err(|e| match e {
        LockError::Held => format!(
            "a server is using {}: stop it before restoring (the phones keep what they send meanwhile)",
            db.display()
        ),
        LockError::Io(e) => format!("cannot lock {}: {e}", db.display()),
    })?;
    let before = check(from).await?;
    let staged = sibling(db, ".restoring");
    let _ = std::fs::remove_file(&staged);
    create_private(&staged).map_err(|e| format!("cannot write beside {}: {e}", db.display()))?;
    std::fs::copy(from, &staged).map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
    let store_id = new_store_id();
    let renamed = async {
        let mut conn = connect(&staged, false).await?;
        let set = "INSERT INTO server_info (key, value) VALUES (?, ?)
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        for (key, value) in [
            ("instance_id", store_id.clone()),
            ("restored_from", before.store_id.clone()),
            ("restored_at_ms", now_ms.to_string()),
        ] {
            sqlx::query(set)
                .bind(key)
                .bind(value)
                .execute(&mut conn)
                .await
                .map_err(|e| format!("cannot give the restored store its id: {e}"))?;
        }
        conn.close().await.map_err(|e| e.to_string())
    }
    .await;
    if let Err(err) = renamed {
        let _ = std::fs::remove_file(&staged);
        return Err(err);
    }
    // The replaced store (its write-ahead log with it) is moved aside, never deleted.
    let aside = db
        .is_file()
        .then(|| sibling(db, &format!(".replaced-{now_ms}")));
    for suffix in ["", "-wal", "-shm"] {
        let file = sibling(db, suffix);
        if !file.exists() {
            continue;
        }
        match &aside {
            Some(aside) => std::fs::rename(&file, sibling(aside, suffix)),
            None => std::fs::remove_file(&file),
        }
        .map_err(|e| format!("cannot move {} aside: {e}", file.display()))?;
    }
    std::fs::rename(&staged, db).map_err(|e| format!("cannot put the backup in place: {e}"))?;
    let after = check(db).await?;
    Ok((after, aside))
}

/// Gives the PostgreSQL store at `url`, just put back by `pg_restore`, a new store id (what
/// [`restore`] does for SQLite), so that phones send again what it lacks. No server may run
/// on it meanwhile. Returns the new id.
pub async fn renew_store_id(url: &str, now_ms: i64) -> Result<String, String> {
    use sqlx::PgConnection;
    let scheme = url.split_once(':').map_or("", |(s, _)| s);
    if !matches!(scheme, "postgres" | "postgresql") {
        return Err(
            "a SQLite store gets its new id from `cris-server restore`; this is for PostgreSQL"
                .to_owned(),
        );
    }
    let mut conn = PgConnection::connect(url)
        .await
        .map_err(|e| format!("cannot reach the database: {e}"))?;
    let old: String = sqlx::query_scalar("SELECT value FROM server_info WHERE key = 'instance_id'")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| format!("not a CRIS Field case store: {e}"))?;
    let id = new_store_id();
    let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
    for (key, value) in [
        ("instance_id", id.clone()),
        ("restored_from", old),
        ("restored_at_ms", now_ms.to_string()),
    ] {
        sqlx::query(
            "INSERT INTO server_info (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    let _ = conn.close().await;
    Ok(id)
}

/// Opens the backup (or store) at `file` read-only, checks its integrity and says what it
/// holds.
pub async fn check(file: &Path) -> Result<Summary, String> {
    let bytes = std::fs::metadata(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?
        .len();
    let not_a_store =
        |e: sqlx::Error| format!("{} is not a CRIS Field case store: {e}", file.display());
    let mut conn = connect(file, true)
        .await
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .map_err(not_a_store)?;
    if integrity != "ok" {
        return Err(format!("{} is damaged: {integrity}", file.display()));
    }
    let store_id: String =
        sqlx::query_scalar("SELECT value FROM server_info WHERE key = 'instance_id'")
            .fetch_one(&mut conn)
            .await
            .map_err(not_a_store)?;
    let (operations, last_seq): (i64, Option<i64>) =
        sqlx::query_as("SELECT COUNT(*), MAX(seq) FROM ops")
            .fetch_one(&mut conn)
            .await
            .map_err(not_a_store)?;
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .map_err(not_a_store)?;
    let known = sqlx::migrate!("migrations/sqlite")
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0);
    if newest.unwrap_or(0) > known {
        return Err(format!(
            "{} was made by a newer CRIS Field server: restore it with that version",
            file.display()
        ));
    }
    let _ = conn.close().await;
    Ok(Summary {
        store_id,
        operations,
        last_seq: last_seq.unwrap_or(0),
        bytes,
    })
}

async fn connect(file: &Path, read_only: bool) -> Result<SqliteConnection, String> {
    let options = SqliteConnectOptions::new()
        .filename(file)
        .read_only(read_only)
        .create_if_missing(false);
    SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| format!("cannot open it: {e}"))
}

fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn new_store_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).expect("the operating system's random numbers");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Held by a serving server for as long as it runs on a SQLite store: `restore` takes the
/// same lock and so refuses while a server uses the store. (The account and device commands
/// do not take it: they may run beside a server.)
#[derive(Debug)]
pub struct ServeLock {
    /// Locked while open; the lock goes with the file handle.
    _file: std::fs::File,
}

#[derive(Debug)]
pub enum LockError {
    /// Another process holds it.
    Held,
    Io(std::io::Error),
}

impl ServeLock {
    /// Takes the lock of the store at `db` (a file beside it), or says who has it.
    pub fn take(db: &Path) -> Result<Self, LockError> {
        if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(LockError::Io)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(sibling(db, ".lock"))
            .map_err(LockError::Io)?;
        match file.try_lock() {
            Ok(()) => Ok(ServeLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(LockError::Held),
            Err(std::fs::TryLockError::Error(e)) => Err(LockError::Io(e)),
        }
    }
}
