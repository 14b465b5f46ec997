//! The central case store: one [`CaseStore`] over the embedded SQLite (the default: a file,
//! WAL, `synchronous=FULL`) or PostgreSQL (for several server processes on one database).
//! Each database has its own migrations (`migrations/sqlite`, `migrations/postgres`); the SQL
//! they share is written once (see [`db`]). The methods live with their concern:
//! `accounts` (users, sessions, devices), `push` (read, decide, write), `log` (pulls, a
//! household's history and consents, forms), `review`, `export`, `dashboard`, `names` (the
//! households' names as searched and shown) and `audit`.

mod accounts;
pub mod audit;
mod dashboard;
pub(crate) mod db;
pub mod decode;
mod erase;
mod export;
mod log;
mod names;
mod postgres;
mod push;
mod referrals;
mod retention;
mod review;
mod sqlite;
pub mod writer;

use std::path::PathBuf;
use std::sync::Arc;

pub use accounts::{DEVICES, DeviceInfo, NewSession, NewUser, SERVER_ACCOUNT, TEAM_WORKERS, User};
pub use dashboard::DashboardFilter;
use db::{Db, on_db};
pub use erase::{
    BY_RETENTION, Erased, Held as ErasureHeld, HeldRecord as ErasedRecord, SERVER_DEVICE, Tombstone,
};
pub use export::{ExportRow, ExportTally, NewExport};
pub use log::{HeldForm, LoggedOp};
pub use names::HOUSEHOLD_NAME;
pub use push::changed_record;
pub use retention::Due;
pub use review::{Edit, FEW_HOUSEHOLDS, ReviewFilter, Reviewed};
use writer::Writer;

/// The default database: a file under `./data`, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/cris.db";

/// The store a database URL names, for the log: its kind and place, never a password
/// (`postgres ayse@db.example:5432/cris`, `sqlite /var/lib/cris-field/cris.db`).
pub fn describe_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or((url, ""));
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    match scheme {
        "sqlite" => {
            let path = std::path::Path::new(rest);
            let shown = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
            format!("sqlite {}", shown.display())
        }
        "postgres" | "postgresql" => {
            let (user, place) = match rest.rsplit_once('@') {
                Some((userinfo, place)) => (userinfo.split(':').next().unwrap_or_default(), place),
                None => ("", rest),
            };
            if user.is_empty() {
                format!("postgres {place}")
            } else {
                format!("postgres {user}@{place}")
            }
        }
        other => other.to_owned(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Only the scheme is named: a URL may carry a password.
    #[error(
        "unsupported database URL scheme {scheme:?}: this server opens sqlite:// and postgres:// URLs"
    )]
    UnsupportedScheme { scheme: String },
    /// sqlx's own message may quote the URL (and its password): it is not kept.
    #[error("invalid {scheme} database URL")]
    InvalidUrl { scheme: &'static str },
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Open(#[source] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the login {0:?} is taken")]
    LoginTaken(String),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    /// The transaction that carried this push with others failed (its error, as text).
    #[error("database error: {0}")]
    Group(String),
    /// The store's writer has stopped (the store was closed).
    #[error("the store is closed")]
    Closed,
    #[error(
        "the store already holds version {version} of the form {id:?} with another definition: a changed form needs a new version number"
    )]
    FormRedefined { id: String, version: u32 },
    /// The erasure journal cannot be read.
    #[error("{0}")]
    Journal(String),
    /// What the store wrote cannot be read back (see [`decode`]): the row, never its contents.
    #[error("the stored {what} {id} cannot be read: {why}")]
    Corrupt {
        what: &'static str,
        id: String,
        why: String,
    },
}

pub use cris_core::api::Role;

/// An operation the API has checked (shape, clock, form, answers), ready to be stored.
#[derive(Clone, Debug)]
pub struct CheckedOp {
    pub op: cris_core::record::Operation,
    /// The operation as stored in the log and handed to phones that pull.
    pub body: String,
    /// Whether it may create its case (an intake) when the case does not exist yet.
    pub creates_case: bool,
}

/// What the store did with one checked operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    /// Applied; these of the fields it wrote are now in conflict.
    Applied { conflicts: Vec<String> },
    /// The log has it already.
    Duplicate,
    /// The case is not among the user's teams' cases (or does not exist).
    NotFound,
    /// Another operation already carried a submission with this id.
    SubmissionTaken,
    /// A correction of a submission that is not one of the same form on the same case (or
    /// not in the store yet: the phone sends it again later).
    BadCorrection(String),
    /// A consent or withdrawal the store holds already, sent again changed (under its
    /// operation's id, or its own id under another operation): a signed record never changes.
    Immutable(String),
    /// A withdrawal of a consent that is not one of the same case (or not in the store yet).
    BadWithdrawal(String),
    /// Refused for the reason given: a merge of households by a worker, or one the
    /// households' merges so far do not allow.
    Refused(cris_core::sync::Refusal),
}

/// The store this server runs on: whichever database its URL names. Every method is one
/// transaction (or one statement).
#[derive(Clone, Debug)]
pub struct CaseStore {
    db: Db,
    /// See [`CaseStore::instance_id`].
    instance_id: Arc<str>,
    /// Where pushes queue to be written together; `None` in the writer's own handle.
    writer: Option<Writer>,
    /// The erasure journal: a file beside the store, which a restored backup does not
    /// replace (see [`erase`]).
    journal: Option<Arc<PathBuf>>,
}

impl CaseStore {
    /// Opens (creating and migrating) the store a URL names: `sqlite://path` or
    /// `postgres://user@host/db`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        let db = match scheme {
            "sqlite" => Db::Sqlite(sqlite::open(url).await?),
            "postgres" | "postgresql" => Db::Postgres(postgres::open(url).await?),
            other => {
                return Err(StoreError::UnsupportedScheme {
                    scheme: other.to_owned(),
                });
            }
        };
        let instance_id: String = on_db!(&db, |pool| {
            sqlx::query_scalar("SELECT value FROM server_info WHERE key = 'instance_id'")
                .fetch_one(pool)
                .await
                .map_err(StoreError::Open)?
        });
        let journal = sqlite::file_of(url).map(|db| {
            let mut name = db.into_os_string();
            name.push(".erasures");
            Arc::new(PathBuf::from(name))
        });
        let mut store = CaseStore {
            db,
            instance_id: instance_id.into(),
            writer: None,
            journal,
        };
        store.fill_case_names().await?;
        store.writer = Some(Writer::start(store.clone()));
        Ok(store)
    }

    /// Keeps the erasure journal in `path` (for PostgreSQL, which has no file of its own;
    /// a SQLite store keeps it beside its file).
    pub fn with_erasure_journal(mut self, path: PathBuf) -> Self {
        self.journal = Some(Arc::new(path));
        self
    }

    /// `sqlite` or `postgres`, for the health check and the logs.
    pub fn kind(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// The id made when this store was created; a phone that sees it change syncs anew.
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// Answers when the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_db!(&self.db, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        on_db!(&self.db, |pool| pool.close().await)
    }
}

/// A new server-side id (UUIDv7), like the phone's.
pub fn new_id(now_ms: i64) -> String {
    let mut random = [0u8; 10];
    getrandom::getrandom(&mut random).expect("the operating system's random numbers");
    cris_core::id::uuid_v7(u64::try_from(now_ms).unwrap_or_default(), random)
}

#[cfg(test)]
mod describe_tests {
    use super::describe_url;

    #[test]
    fn a_store_is_named_by_kind_and_place_never_by_password() {
        assert_eq!(
            describe_url("postgres://cris:hunter2@db.example:5432/cris?sslmode=require"),
            "postgres cris@db.example:5432/cris"
        );
        assert_eq!(
            describe_url("postgresql://127.0.0.1/cris"),
            "postgres 127.0.0.1/cris"
        );
        let sqlite = describe_url("sqlite://data/nowhere-yet.db?mode=rwc");
        assert!(sqlite.starts_with("sqlite ") && sqlite.ends_with("data/nowhere-yet.db"));
        assert!(!describe_url("postgres://u:p%40ss@h/d").contains("p%40ss"));
    }
}
