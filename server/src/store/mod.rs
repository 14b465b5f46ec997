//! The central case store behind one [`Store`] trait, with two implementations: the embedded
//! [`SqliteStore`] (the default: a file, WAL, `synchronous=FULL`) and [`PgStore`] (PostgreSQL,
//! for several server processes on one database). Each has its own migrations
//! (`migrations/sqlite`, `migrations/postgres`); the SQL they share is written once, with
//! `$1`-style parameters that both understand. The server holds a [`CaseStore`]: whichever
//! of the two the database URL names.

pub mod audit;
mod dashboard;
pub mod decode;
mod export;
mod postgres;
mod review;
mod sqlite;
pub mod writer;

use std::future::Future;
use std::path::PathBuf;

use cris_core::api::{InboxItem, ReviewDecision, ReviewEvent, ReviewItem, ReviewStatus};

pub use dashboard::DashboardFilter;
pub(crate) use export::ExportRowRaw;
pub(crate) use export::{
    EXPORTS_OF_TEAMS, ExportEntryRow, INSERT_EXPORT, INSERT_EXPORT_TEAMS, corrections_sql,
    export_ids_sql, export_rows_sql, export_tally_sql, household_names_sql, merged_into_sql,
    names_shown,
};
pub use export::{ExportRow, ExportTally, HOUSEHOLD_NAME, NewExport};
pub use postgres::PgStore;
pub(crate) use review::EditRow;
pub(crate) use review::{
    Arg, EDITS, HOUSEHOLDS_NAMED, REVIEW_ORDER, REVIEW_ROWS, ReviewEventRow, ReviewRow,
    arriving_status, review_queue_sql,
};
pub use review::{Edit, FEW_HOUSEHOLDS, ReviewFilter, Reviewed};
pub use sqlite::SqliteStore;

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
    /// What the store wrote cannot be read back (see [`decode`]): the row, never its contents.
    #[error("the stored {what} {id} cannot be read: {why}")]
    Corrupt {
        what: &'static str,
        id: String,
        why: String,
    },
}

/// A form definition as the store keeps it: id, version, definition (JSON).
pub type HeldForm = (String, u32, String);

pub use cris_core::api::Role;

/// An account as the rest of the server sees it (never with its password hash).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    /// Names of the user's teams, sorted.
    pub teams: Vec<String>,
}

/// An account to create; its teams are created when they do not exist yet.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub teams: Vec<String>,
}

/// A device's session: only the SHA-256 of its token is stored.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token_hash: String,
    pub user_id: String,
    pub device_id: String,
    pub created_ms: i64,
    pub expires_ms: i64,
}

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

/// A device that logged in, as `cris-server device list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    pub device_id: String,
    pub login: String,
    pub last_push_ms: Option<i64>,
    pub last_pull_ms: Option<i64>,
    /// When it was revoked, if it was.
    pub revoked_ms: Option<i64>,
    /// The administrator who revoked it on the overview (none: on the command line, or by
    /// disabling the account).
    pub revoked_by: Option<String>,
}

/// Every device and account a session came from (of the login `$1`, unless it is null),
/// with the device's last push and pull and its revocation.
pub const DEVICES: &str =
    "SELECT d.device_id, d.login, y.last_push_ms, y.last_pull_ms, r.revoked_ms, r.revoked_by
     FROM (SELECT DISTINCT s.device_id, u.login, u.id AS user_id
           FROM sessions s JOIN users u ON u.id = s.user_id
           WHERE $1 IS NULL OR u.login = $1) d
     LEFT JOIN device_syncs y ON y.device_id = d.device_id AND y.user_id = d.user_id
     LEFT JOIN revoked_devices r ON r.device_id = d.device_id
     ORDER BY d.login, d.device_id";

/// The enabled workers of the teams of the user `$1`, by name.
pub const TEAM_WORKERS: &str = "SELECT DISTINCT u.login, u.display_name FROM users u
     JOIN team_members m ON m.user_id = u.id
     WHERE m.team_id IN (SELECT team_id FROM team_members WHERE user_id = $1)
       AND u.role = 'worker' AND NOT u.disabled
     ORDER BY u.display_name, u.login";

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
#[derive(Clone, Debug)]
pub(crate) struct HeldRecord {
    pub case_id: String,
    /// `consent` or `withdrawal`.
    pub kind: String,
    pub binding: String,
    pub received_ms: i64,
}

/// The case store. Every method is one transaction (or one statement).
pub trait Store: Send + Sync {
    /// The id made when this store was created; a phone that sees it change syncs anew.
    fn instance_id(&self) -> &str;
    /// Answers when the database answers a trivial query.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Closes every connection; later calls fail.
    fn close(&self) -> impl Future<Output = ()> + Send;

    fn add_user(
        &self,
        new: &NewUser,
        now_ms: i64,
    ) -> impl Future<Output = Result<User, StoreError>> + Send;
    /// Every account, by login.
    fn users(&self) -> impl Future<Output = Result<Vec<User>, StoreError>> + Send;
    fn user_count(&self) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// The account and its password hash, for checking a login.
    fn credentials(
        &self,
        login: &str,
    ) -> impl Future<Output = Result<Option<(User, String)>, StoreError>> + Send;
    /// Disables (or enables again) an account; disabling ends its sessions. False when there
    /// is no such login.
    fn set_disabled(
        &self,
        login: &str,
        disabled: bool,
        now_ms: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Replaces the password hash and ends every session of the account.
    fn set_password_hash(
        &self,
        login: &str,
        hash: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    fn add_session(
        &self,
        session: &NewSession,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Revokes a device (a lost or stolen phone): its sessions end, its requests are answered
    /// `device_revoked`, and it cannot log in again under this id. False when no session ever
    /// came from it (nothing is recorded then). `by`: the administrator's login, when done on
    /// the overview. Revoking again changes nothing (the first revocation is kept).
    fn revoke_device(
        &self,
        device_id: &str,
        now_ms: i64,
        by: Option<&str>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Whether the device is revoked.
    fn device_revoked(
        &self,
        device_id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The device a session came from, whatever the session's state.
    fn session_device(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// Every device that logged in (of `login` only, if given): with its account, its last
    /// push and pull and when it was revoked, by login and device.
    fn devices(
        &self,
        login: Option<&str>,
    ) -> impl Future<Output = Result<Vec<DeviceInfo>, StoreError>> + Send;
    /// The user of a session that is neither expired nor revoked, of an enabled account.
    fn session_user(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
    /// Ends a session; false when it was not a live session.
    fn revoke_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Applies a batch of operations pushed by `user`: each is applied, a duplicate, or
    /// refused alone; a database error applies none of them. Batches pushed at the same
    /// time are written in one transaction (see [`writer`]).
    fn push(
        &self,
        user: &User,
        ops: Vec<CheckedOp>,
        now_ms: i64,
    ) -> impl Future<Output = Result<Vec<Stored>, StoreError>> + Send;
    /// The operations of the user's teams' cases logged after `since`, oldest first:
    /// `(seq, operation)`.
    fn ops_since(
        &self,
        user_id: &str,
        since: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<(i64, cris_core::record::Operation)>, StoreError>> + Send;
    /// Which of these operations the log holds already: their ids, each with the binding of
    /// the consent or withdrawal it carried (`None` for a form).
    fn logged(
        &self,
        op_ids: &[String],
    ) -> impl Future<Output = Result<Vec<(String, Option<String>)>, StoreError>> + Send;
    /// Keeps the forms this server serves (a version met for the first time is kept for
    /// good) and returns every version the store holds. A version held already with another
    /// definition is refused, and nothing is kept.
    fn remember_forms(
        &self,
        forms: &[HeldForm],
        now_ms: i64,
    ) -> impl Future<Output = Result<Vec<HeldForm>, StoreError>> + Send;
    /// Every operation on a case of the user's teams, oldest first; `None` when the case is
    /// not one of them (or does not exist: the two are not told apart).
    fn case_history(
        &self,
        user_id: &str,
        case_id: &str,
    ) -> impl Future<Output = Result<Option<Vec<LoggedOp>>, StoreError>> + Send;
    /// The operations that carried the consents and withdrawals of a case of the user's
    /// teams, oldest first; `None` as for [`Store::case_history`].
    fn case_consents(
        &self,
        user_id: &str,
        case_id: &str,
    ) -> impl Future<Output = Result<Option<Vec<LoggedOp>>, StoreError>> + Send;

    /// A page of the review queue: the submissions on the user's teams' cases that pass
    /// `filter`, newest received first.
    fn review_queue(
        &self,
        user_id: &str,
        filter: &ReviewFilter,
    ) -> impl Future<Output = Result<Vec<ReviewItem>, StoreError>> + Send;
    /// How many submissions on the user's teams' cases pass an export's `filter` (its team,
    /// worker, form and days of receipt, as the review queue reads them), by form and version.
    fn export_tally(
        &self,
        user_id: &str,
        filter: &ReviewFilter,
    ) -> impl Future<Output = Result<Vec<ExportTally>, StoreError>> + Send;
    /// The submissions [`Store::export_tally`] counts, as (form id, submission id): form by
    /// form, each oldest received first.
    fn export_ids(
        &self,
        user_id: &str,
        filter: &ReviewFilter,
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send;
    /// Those of these submissions that are on the user's teams' cases, in no particular
    /// order, each with its operation, its latest correction, and the household it is shown
    /// with (the one its own is merged into, if it is) and that household's name as it stands
    /// now.
    fn export_rows(
        &self,
        user_id: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<ExportRow>, StoreError>> + Send;
    /// Records an export, in its turn between groups of pushes as a review decision is.
    fn add_export(&self, export: &NewExport)
    -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The exports made by the user and by everyone of the user's teams, newest first, at
    /// most `limit`.
    fn exports(
        &self,
        user_id: &str,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<cris_core::api::ExportEntry>, StoreError>> + Send;
    /// A submission on a case of the user's teams with its review; `None` when it is not one
    /// of theirs (or does not exist: the two are not told apart).
    fn review(
        &self,
        user_id: &str,
        submission_id: &str,
    ) -> impl Future<Output = Result<Option<Reviewed>, StoreError>> + Send;
    /// Appends `reviewer`'s decision on a submission of their teams' cases and brings the
    /// review status of it and of its corrections up to date; `None` as for
    /// [`Store::review`]. Serialized with pushes, so that a correction arriving at the same
    /// time is counted either before the decision or after it.
    fn add_review(
        &self,
        reviewer: &User,
        submission_id: &str,
        decision: ReviewDecision,
        comment: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<(ReviewEvent, ReviewStatus)>, StoreError>> + Send;
    /// The enabled workers of the user's teams: `(login, display name)`, by name.
    fn team_workers(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send;
    /// The user's own submissions (on their teams' cases) sent back for changes and not
    /// corrected yet, the latest request first.
    fn inbox(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<InboxItem>, StoreError>> + Send;
    /// The supervisor's dashboard of the user's teams (or of the one of them `filter` names;
    /// of none when it names another). Brings the household summaries up to the end of the
    /// log first: the first dashboard after many pushes pays for them (see [`dashboard`]).
    fn dashboard(
        &self,
        user_id: &str,
        filter: &DashboardFilter,
    ) -> impl Future<Output = Result<cris_core::api::Dashboard, StoreError>> + Send;
    /// Notes that the device of the session `token_hash` pulled at `now_ms`, for the
    /// dashboard: at most once a minute per device (a phone pulls page after page).
    fn note_pull(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The review decisions on a case's submissions, oldest first; `None` as for
    /// [`Store::case_history`].
    fn case_reviews(
        &self,
        user_id: &str,
        case_id: &str,
    ) -> impl Future<Output = Result<Option<Vec<ReviewEvent>>, StoreError>> + Send;
}

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

/// The store this server runs on.
#[derive(Clone, Debug)]
pub enum CaseStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl CaseStore {
    /// Opens (creating and migrating) the store a URL names: `sqlite://path` or
    /// `postgres://user@host/db`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme {
            "sqlite" => SqliteStore::open(url).await.map(CaseStore::Sqlite),
            "postgres" | "postgresql" => PgStore::open(url).await.map(CaseStore::Postgres),
            other => Err(StoreError::UnsupportedScheme {
                scheme: other.to_owned(),
            }),
        }
    }

    /// `sqlite` or `postgres`, for the health check and the logs.
    pub fn kind(&self) -> &'static str {
        match self {
            CaseStore::Sqlite(_) => "sqlite",
            CaseStore::Postgres(_) => "postgres",
        }
    }
}

/// `CaseStore` is a `Store` by handing every call to the store it holds.
macro_rules! delegate {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            CaseStore::Sqlite($store) => $call,
            CaseStore::Postgres($store) => $call,
        }
    };
}

impl Store for CaseStore {
    fn instance_id(&self) -> &str {
        delegate!(self, s => s.instance_id())
    }
    async fn ping(&self) -> Result<(), StoreError> {
        delegate!(self, s => s.ping().await)
    }
    async fn close(&self) {
        delegate!(self, s => s.close().await)
    }
    async fn add_user(&self, new: &NewUser, now_ms: i64) -> Result<User, StoreError> {
        delegate!(self, s => s.add_user(new, now_ms).await)
    }
    async fn users(&self) -> Result<Vec<User>, StoreError> {
        delegate!(self, s => s.users().await)
    }
    async fn user_count(&self) -> Result<i64, StoreError> {
        delegate!(self, s => s.user_count().await)
    }
    async fn credentials(&self, login: &str) -> Result<Option<(User, String)>, StoreError> {
        delegate!(self, s => s.credentials(login).await)
    }
    async fn set_disabled(
        &self,
        login: &str,
        disabled: bool,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        delegate!(self, s => s.set_disabled(login, disabled, now_ms).await)
    }
    async fn set_password_hash(
        &self,
        login: &str,
        hash: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        delegate!(self, s => s.set_password_hash(login, hash, now_ms).await)
    }
    async fn revoke_device(
        &self,
        device_id: &str,
        now_ms: i64,
        by: Option<&str>,
    ) -> Result<bool, StoreError> {
        delegate!(self, s => s.revoke_device(device_id, now_ms, by).await)
    }
    async fn device_revoked(&self, device_id: &str) -> Result<bool, StoreError> {
        delegate!(self, s => s.device_revoked(device_id).await)
    }
    async fn session_device(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        delegate!(self, s => s.session_device(token_hash).await)
    }
    async fn devices(&self, login: Option<&str>) -> Result<Vec<DeviceInfo>, StoreError> {
        delegate!(self, s => s.devices(login).await)
    }
    async fn add_session(&self, session: &NewSession) -> Result<(), StoreError> {
        delegate!(self, s => s.add_session(session).await)
    }
    async fn session_user(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<User>, StoreError> {
        delegate!(self, s => s.session_user(token_hash, now_ms).await)
    }
    async fn revoke_session(&self, token_hash: &str, now_ms: i64) -> Result<bool, StoreError> {
        delegate!(self, s => s.revoke_session(token_hash, now_ms).await)
    }
    async fn push(
        &self,
        user: &User,
        ops: Vec<CheckedOp>,
        now_ms: i64,
    ) -> Result<Vec<Stored>, StoreError> {
        delegate!(self, s => s.push(user, ops, now_ms).await)
    }
    async fn ops_since(
        &self,
        user_id: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<(i64, cris_core::record::Operation)>, StoreError> {
        delegate!(self, s => s.ops_since(user_id, since, limit).await)
    }
    async fn logged(&self, op_ids: &[String]) -> Result<Vec<(String, Option<String>)>, StoreError> {
        delegate!(self, s => s.logged(op_ids).await)
    }
    async fn case_consents(
        &self,
        user_id: &str,
        case_id: &str,
    ) -> Result<Option<Vec<LoggedOp>>, StoreError> {
        delegate!(self, s => s.case_consents(user_id, case_id).await)
    }
    async fn case_history(
        &self,
        user_id: &str,
        case_id: &str,
    ) -> Result<Option<Vec<LoggedOp>>, StoreError> {
        delegate!(self, s => s.case_history(user_id, case_id).await)
    }
    async fn remember_forms(
        &self,
        forms: &[HeldForm],
        now_ms: i64,
    ) -> Result<Vec<HeldForm>, StoreError> {
        delegate!(self, s => s.remember_forms(forms, now_ms).await)
    }
    async fn review_queue(
        &self,
        user_id: &str,
        filter: &ReviewFilter,
    ) -> Result<Vec<ReviewItem>, StoreError> {
        delegate!(self, s => s.review_queue(user_id, filter).await)
    }
    async fn export_tally(
        &self,
        user_id: &str,
        filter: &ReviewFilter,
    ) -> Result<Vec<ExportTally>, StoreError> {
        delegate!(self, s => s.export_tally(user_id, filter).await)
    }
    async fn export_ids(
        &self,
        user_id: &str,
        filter: &ReviewFilter,
    ) -> Result<Vec<(String, String)>, StoreError> {
        delegate!(self, s => s.export_ids(user_id, filter).await)
    }
    async fn export_rows(
        &self,
        user_id: &str,
        ids: &[String],
    ) -> Result<Vec<ExportRow>, StoreError> {
        delegate!(self, s => s.export_rows(user_id, ids).await)
    }
    async fn add_export(&self, export: &NewExport) -> Result<(), StoreError> {
        delegate!(self, s => s.add_export(export).await)
    }
    async fn exports(
        &self,
        user_id: &str,
        limit: i64,
    ) -> Result<Vec<cris_core::api::ExportEntry>, StoreError> {
        delegate!(self, s => s.exports(user_id, limit).await)
    }
    async fn review(
        &self,
        user_id: &str,
        submission_id: &str,
    ) -> Result<Option<Reviewed>, StoreError> {
        delegate!(self, s => s.review(user_id, submission_id).await)
    }
    async fn add_review(
        &self,
        reviewer: &User,
        submission_id: &str,
        decision: ReviewDecision,
        comment: &str,
        now_ms: i64,
    ) -> Result<Option<(ReviewEvent, ReviewStatus)>, StoreError> {
        delegate!(self, s => s.add_review(reviewer, submission_id, decision, comment, now_ms).await)
    }
    async fn team_workers(&self, user_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        delegate!(self, s => s.team_workers(user_id).await)
    }
    async fn inbox(&self, user_id: &str) -> Result<Vec<InboxItem>, StoreError> {
        delegate!(self, s => s.inbox(user_id).await)
    }
    async fn dashboard(
        &self,
        user_id: &str,
        filter: &DashboardFilter,
    ) -> Result<cris_core::api::Dashboard, StoreError> {
        delegate!(self, s => s.dashboard(user_id, filter).await)
    }
    async fn note_pull(&self, token_hash: &str, now_ms: i64) -> Result<(), StoreError> {
        delegate!(self, s => s.note_pull(token_hash, now_ms).await)
    }
    async fn case_reviews(
        &self,
        user_id: &str,
        case_id: &str,
    ) -> Result<Option<Vec<ReviewEvent>>, StoreError> {
        delegate!(self, s => s.case_reviews(user_id, case_id).await)
    }
}

impl writer::GroupPush for CaseStore {
    async fn maintain(&self) {
        delegate!(self, s => s.maintain().await)
    }
    async fn push_group(
        &self,
        batches: &[writer::PushBatch],
    ) -> Result<Vec<Vec<Stored>>, StoreError> {
        delegate!(self, s => s.push_group(batches).await)
    }
}

/// A new server-side id (UUIDv7), like the phone's.
pub fn new_id(now_ms: i64) -> String {
    let mut random = [0u8; 10];
    getrandom::getrandom(&mut random).expect("the operating system's random numbers");
    cris_core::id::uuid_v7(u64::try_from(now_ms).unwrap_or_default(), random)
}

/// The SQL both stores run, with `$n` parameters (SQLite reads them as numbered too). The
/// body of every method that does not differ between the two databases is written here
/// once, for a pool type `$pool` (`sqlx::SqlitePool` or `sqlx::PgPool`).
macro_rules! shared_store_impl {
    ($store:ty) => {
        impl $crate::store::Store for $store {
            fn instance_id(&self) -> &str {
                &self.instance_id
            }

            async fn ping(&self) -> Result<(), $crate::store::StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn close(&self) {
                self.pool.close().await;
            }

            async fn add_user(
                &self,
                new: &$crate::store::NewUser,
                now_ms: i64,
            ) -> Result<$crate::store::User, $crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                let id = $crate::store::new_id(now_ms);
                let inserted = sqlx::query(
                    "INSERT INTO users (id, login, display_name, role, password_hash, disabled, created_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&id)
                .bind(&new.login)
                .bind(&new.display_name)
                .bind(new.role.as_str())
                .bind(&new.password_hash)
                .bind(false)
                .bind(now_ms)
                .execute(&mut *tx)
                .await;
                match inserted {
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                        return Err($crate::store::StoreError::LoginTaken(new.login.clone()));
                    }
                    other => other?,
                };
                let mut teams = new.teams.clone();
                teams.sort();
                teams.dedup();
                for team in &teams {
                    sqlx::query(
                        "INSERT INTO teams (id, name, created_ms) VALUES ($1, $2, $3)
                         ON CONFLICT (name) DO NOTHING",
                    )
                    .bind($crate::store::new_id(now_ms))
                    .bind(team)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO team_members (user_id, team_id)
                         SELECT $1, id FROM teams WHERE name = $2",
                    )
                    .bind(&id)
                    .bind(team)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok($crate::store::User {
                    id,
                    login: new.login.clone(),
                    display_name: new.display_name.clone(),
                    role: new.role,
                    disabled: false,
                    teams,
                })
            }

            async fn users(&self) -> Result<Vec<$crate::store::User>, $crate::store::StoreError> {
                let rows: Vec<(String, String, String, String, bool)> = sqlx::query_as(
                    "SELECT id, login, display_name, role, disabled FROM users ORDER BY login",
                )
                .fetch_all(&self.pool)
                .await?;
                let members: Vec<(String, String)> = sqlx::query_as(
                    "SELECT m.user_id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id
                     ORDER BY t.name",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|row| {
                        let teams = members
                            .iter()
                            .filter(|(user, _)| *user == row.0)
                            .map(|(_, team)| team.clone())
                            .collect();
                        $crate::store::user_of(row, teams)
                    })
                    .collect()
            }

            async fn user_count(&self) -> Result<i64, $crate::store::StoreError> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn credentials(
                &self,
                login: &str,
            ) -> Result<Option<($crate::store::User, String)>, $crate::store::StoreError> {
                let row: Option<(String, String, String, String, bool, String)> = sqlx::query_as(
                    "SELECT id, login, display_name, role, disabled, password_hash
                     FROM users WHERE login = $1",
                )
                .bind(login)
                .fetch_optional(&self.pool)
                .await?;
                let Some((id, login, name, role, disabled, hash)) = row else {
                    return Ok(None);
                };
                let teams = self.teams_of(&id).await?;
                let user = $crate::store::user_of((id, login, name, role, disabled), teams)?;
                Ok(Some((user, hash)))
            }

            async fn set_disabled(
                &self,
                login: &str,
                disabled: bool,
                now_ms: i64,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                let changed = sqlx::query("UPDATE users SET disabled = $1 WHERE login = $2")
                    .bind(disabled)
                    .bind(login)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if disabled {
                    // Its devices are revoked too: each wipes itself at its next request.
                    sqlx::query($crate::store::REVOKE_DEVICES_OF_LOGIN)
                        .bind(now_ms)
                        .bind(login)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query($crate::store::END_SESSIONS_OF_LOGIN)
                    .bind(now_ms)
                    .bind(login)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(changed == 1)
            }

            async fn set_password_hash(
                &self,
                login: &str,
                hash: &str,
                now_ms: i64,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                let changed = sqlx::query("UPDATE users SET password_hash = $1 WHERE login = $2")
                    .bind(hash)
                    .bind(login)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                sqlx::query($crate::store::END_SESSIONS_OF_LOGIN)
                .bind(now_ms)
                .bind(login)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(changed == 1)
            }

            async fn add_session(
                &self,
                s: &$crate::store::NewSession,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "INSERT INTO sessions (token_hash, user_id, device_id, created_ms, expires_ms)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&s.token_hash)
                .bind(&s.user_id)
                .bind(&s.device_id)
                .bind(s.created_ms)
                .bind(s.expires_ms)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn revoke_device(
                &self,
                device_id: &str,
                now_ms: i64,
                by: Option<&str>,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                let known: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE device_id = $1")
                    .bind(device_id)
                    .fetch_one(&mut *tx)
                    .await?;
                if known == 0 {
                    return Ok(false);
                }
                sqlx::query(
                    "INSERT INTO revoked_devices (device_id, revoked_ms, revoked_by)
                     VALUES ($1, $2, $3)
                     ON CONFLICT (device_id) DO NOTHING",
                )
                .bind(device_id)
                .bind(now_ms)
                .bind(by)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE sessions SET revoked_ms = $1 WHERE revoked_ms IS NULL AND device_id = $2",
                )
                .bind(now_ms)
                .bind(device_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn device_revoked(
                &self,
                device_id: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                let found: Option<i64> =
                    sqlx::query_scalar("SELECT revoked_ms FROM revoked_devices WHERE device_id = $1")
                        .bind(device_id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(found.is_some())
            }

            async fn session_device(
                &self,
                token_hash: &str,
            ) -> Result<Option<String>, $crate::store::StoreError> {
                Ok(sqlx::query_scalar("SELECT device_id FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn devices(
                &self,
                login: Option<&str>,
            ) -> Result<Vec<$crate::store::DeviceInfo>, $crate::store::StoreError> {
                #[allow(clippy::type_complexity)]
                let rows: Vec<(String, String, Option<i64>, Option<i64>, Option<i64>, Option<String>)> =
                    sqlx::query_as($crate::store::DEVICES)
                        .bind(login)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(|(device_id, login, last_push_ms, last_pull_ms, revoked_ms, revoked_by)| {
                        $crate::store::DeviceInfo {
                            device_id,
                            login,
                            last_push_ms,
                            last_pull_ms,
                            revoked_ms,
                            revoked_by,
                        }
                    })
                    .collect())
            }

            async fn session_user(
                &self,
                token_hash: &str,
                now_ms: i64,
            ) -> Result<Option<$crate::store::User>, $crate::store::StoreError> {
                let row: Option<(String, String, String, String, bool)> = sqlx::query_as(
                    "SELECT u.id, u.login, u.display_name, u.role, u.disabled
                     FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = $1 AND s.revoked_ms IS NULL AND s.expires_ms > $2
                       AND NOT u.disabled",
                )
                .bind(token_hash)
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let teams = self.teams_of(&row.0).await?;
                $crate::store::user_of(row, teams).map(Some)
            }

            async fn revoke_session(
                &self,
                token_hash: &str,
                now_ms: i64,
            ) -> Result<bool, $crate::store::StoreError> {
                let changed = sqlx::query(
                    "UPDATE sessions SET revoked_ms = $1 WHERE token_hash = $2 AND revoked_ms IS NULL",
                )
                .bind(now_ms)
                .bind(token_hash)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(changed == 1)
            }

            async fn push(
                &self,
                user: &$crate::store::User,
                ops: Vec<$crate::store::CheckedOp>,
                now_ms: i64,
            ) -> Result<Vec<$crate::store::Stored>, $crate::store::StoreError> {
                let batch = $crate::store::writer::PushBatch {
                    user: user.clone(),
                    ops,
                    now_ms,
                };
                match &self.writer {
                    Some(writer) => writer.push(batch).await,
                    None => {
                        use $crate::store::writer::GroupPush;
                        let mut stored = self.push_group(&[batch]).await?;
                        Ok(stored.pop().unwrap_or_default())
                    }
                }
            }

            async fn ops_since(
                &self,
                user_id: &str,
                since: i64,
                limit: i64,
            ) -> Result<Vec<(i64, cris_core::record::Operation)>, $crate::store::StoreError> {
                let rows: Vec<(i64, String)> = sqlx::query_as(
                    "SELECT o.seq, o.body FROM ops o
                     JOIN cases c ON c.id = o.case_id
                     JOIN team_members m ON m.team_id = c.team_id
                     WHERE m.user_id = $1 AND o.seq > $2
                     ORDER BY o.seq LIMIT $3",
                )
                .bind(user_id)
                .bind(since)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(seq, body)| Ok((seq, $crate::store::decode::operation(seq, &body)?)))
                    .collect()
            }

            async fn logged(
                &self,
                op_ids: &[String],
            ) -> Result<Vec<(String, Option<String>)>, $crate::store::StoreError> {
                let mut found = Vec::new();
                for id in op_ids {
                    let hit: Option<(String, Option<String>)> = sqlx::query_as(
                        "SELECT o.op_id, k.binding FROM ops o LEFT JOIN consents k ON k.op_id = o.op_id
                         WHERE o.op_id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                    found.extend(hit);
                }
                Ok(found)
            }

            async fn remember_forms(
                &self,
                forms: &[$crate::store::HeldForm],
                now_ms: i64,
            ) -> Result<Vec<$crate::store::HeldForm>, $crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
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
                        return Err($crate::store::StoreError::FormRedefined {
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
            }

            async fn case_history(
                &self,
                user_id: &str,
                case_id: &str,
            ) -> Result<Option<Vec<$crate::store::LoggedOp>>, $crate::store::StoreError> {
                if !self.visible(user_id, case_id).await? {
                    return Ok(None);
                }
                let rows = sqlx::query_as::<_, $crate::store::LoggedRow>(
                        &format!(
                            "SELECT o.seq, o.received_ms, u.login, u.display_name, o.body
                             FROM ops o JOIN users u ON u.id = o.user_id
                             WHERE o.case_id IN {}
                                OR o.op_id IN (SELECT m.op_id FROM case_merges m WHERE m.into_id = $1)
                                OR o.op_id IN (SELECT m.undone_op_id FROM case_merges m WHERE m.into_id = $1)
                             ORDER BY o.seq",
                            $crate::store::HOUSEHOLD
                        ),
                    )
                    .bind(case_id)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(Some($crate::store::LoggedRow::read(rows)?))
            }

            async fn case_consents(
                &self,
                user_id: &str,
                case_id: &str,
            ) -> Result<Option<Vec<$crate::store::LoggedOp>>, $crate::store::StoreError> {
                if !self.visible(user_id, case_id).await? {
                    return Ok(None);
                }
                let rows = sqlx::query_as::<_, $crate::store::LoggedRow>(&format!(
                    "SELECT o.seq, o.received_ms, u.login, u.display_name, o.body
                     FROM consents k JOIN ops o ON o.op_id = k.op_id
                     JOIN users u ON u.id = o.user_id
                     WHERE k.case_id IN {} ORDER BY o.seq",
                    $crate::store::HOUSEHOLD
                ))
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(Some($crate::store::LoggedRow::read(rows)?))
            }

            async fn review_queue(
                &self,
                user_id: &str,
                filter: &$crate::store::ReviewFilter,
            ) -> Result<Vec<cris_core::api::ReviewItem>, $crate::store::StoreError> {
                use $crate::store::Arg;
                let mut found = None;
                if let Some(name) = &filter.household {
                    let rows: Vec<String> = sqlx::query_scalar($crate::store::HOUSEHOLDS_NAMED)
                        .bind(format!("%{name}%"))
                        .bind($crate::store::FEW_HOUSEHOLDS as i64 + 1)
                        .fetch_all(&self.pool)
                        .await?;
                    let few = rows.len() <= $crate::store::FEW_HOUSEHOLDS;
                    let mut cases = rows;
                    cases.sort_unstable();
                    cases.dedup();
                    if few {
                        found = Some($crate::store::ReviewFilter {
                            household_cases: Some(cases),
                            ..filter.clone()
                        });
                    }
                }
                let filter = found.as_ref().unwrap_or(filter);
                let (sql, args) = $crate::store::review_queue_sql(user_id, filter);
                let mut q = sqlx::query_as::<_, $crate::store::ReviewRow>(&sql);
                for a in args {
                    q = match a {
                        Arg::Text(text) => q.bind(text),
                        Arg::Int(n) => q.bind(n),
                    };
                }
                let mut items = q
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::store::ReviewRow::item)
                    .collect::<Result<Vec<_>, _>>()?;
                self.name_households(&mut items).await?;
                Ok(items)
            }

            async fn export_tally(
                &self,
                user_id: &str,
                filter: &$crate::store::ReviewFilter,
            ) -> Result<Vec<$crate::store::ExportTally>, $crate::store::StoreError> {
                use $crate::store::Arg;
                let (sql, args) = $crate::store::export_tally_sql(user_id, filter);
                let mut q = sqlx::query_as::<_, $crate::store::ExportTally>(&sql);
                for a in args {
                    q = match a {
                        Arg::Text(text) => q.bind(text),
                        Arg::Int(n) => q.bind(n),
                    };
                }
                Ok(q.fetch_all(&self.pool).await?)
            }

            async fn export_ids(
                &self,
                user_id: &str,
                filter: &$crate::store::ReviewFilter,
            ) -> Result<Vec<(String, String)>, $crate::store::StoreError> {
                use $crate::store::Arg;
                let (sql, args) = $crate::store::export_ids_sql(user_id, filter);
                let mut q = sqlx::query_as::<_, (String, String)>(&sql);
                for a in args {
                    q = match a {
                        Arg::Text(text) => q.bind(text),
                        Arg::Int(n) => q.bind(n),
                    };
                }
                Ok(q.fetch_all(&self.pool).await?)
            }

            async fn export_rows(
                &self,
                user_id: &str,
                ids: &[String],
            ) -> Result<Vec<$crate::store::ExportRow>, $crate::store::StoreError> {
                use std::collections::{BTreeSet, HashMap};
                let mut rows = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(1000) {
                    // The ids' parameters, and one more for the user after them.
                    let params = Self::values(1, chunk.len() + 1);
                    let (list, user) = params
                        .trim_start_matches('(')
                        .trim_end_matches(')')
                        .rsplit_once(", ")
                        .expect("two parameters at least");
                    let sql = $crate::store::export_rows_sql(list, user);
                    let mut q = sqlx::query_as::<_, $crate::store::ExportRowRaw>(&sql);
                    for id in chunk {
                        q = q.bind(id);
                    }
                    for row in q.bind(user_id).fetch_all(&self.pool).await? {
                        rows.push(row.read()?);
                    }
                }
                // Their latest corrections, and the names of the households they are shown
                // with, as the merge makes them of their writes and of those of the households
                // merged into them.
                let mut latest: HashMap<String, (i64, String)> = HashMap::new();
                let found: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
                for chunk in found.chunks(1000) {
                    let sql = $crate::store::corrections_sql(&Self::values(1, chunk.len()));
                    let mut q = sqlx::query_as::<_, (String, String, i64)>(&sql);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    for (corrected, id, received_ms) in q.fetch_all(&self.pool).await? {
                        let newer = latest
                            .get(&corrected)
                            .is_none_or(|held| (received_ms, &id) > (held.0, &held.1));
                        if newer {
                            latest.insert(corrected, (received_ms, id));
                        }
                    }
                }
                let households: Vec<&str> = rows
                    .iter()
                    .map(|r| r.household_id.as_str())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let names = self.names_of_households(&households).await?;
                for row in &mut rows {
                    if let Some(name) = names.get(&row.household_id) {
                        row.household_name.clone_from(name);
                    }
                    row.corrected_by = latest.remove(&row.id).map(|(_, id)| id);
                }
                Ok(rows)
            }

            async fn add_export(
                &self,
                export: &$crate::store::NewExport,
            ) -> Result<(), $crate::store::StoreError> {
                let filter = serde_json::to_string(&export.filter)
                    .map_err(|e| $crate::store::StoreError::Query(sqlx::Error::Encode(e.into())))?;
                let (pool, export) = (self.pool.clone(), export.clone());
                let insert = move || async move {
                    let mut tx = pool.begin().await?;
                    sqlx::query($crate::store::INSERT_EXPORT)
                        .bind(&export.id)
                        .bind(&export.user_id)
                        .bind(export.at_ms)
                        .bind(export.format.as_str())
                        .bind(&filter)
                        .bind(export.rows)
                        .bind(export.cases)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query($crate::store::INSERT_EXPORT_TEAMS)
                        .bind(&export.id)
                        .bind(&export.user_id)
                        .bind(&export.team)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await
                };
                // In its turn between groups of pushes, as a review decision.
                match &self.writer {
                    Some(writer) => writer.alone(insert).await??,
                    None => insert().await?,
                }
                Ok(())
            }

            async fn exports(
                &self,
                user_id: &str,
                limit: i64,
            ) -> Result<Vec<cris_core::api::ExportEntry>, $crate::store::StoreError> {
                sqlx::query_as::<_, $crate::store::ExportEntryRow>($crate::store::EXPORTS_OF_TEAMS)
                    .bind(user_id)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::store::ExportEntryRow::entry)
                    .collect()
            }

            async fn review(
                &self,
                user_id: &str,
                submission_id: &str,
            ) -> Result<Option<$crate::store::Reviewed>, $crate::store::StoreError> {
                let sql = format!("{} AND s.id = $2", $crate::store::REVIEW_ROWS);
                let row: Option<$crate::store::ReviewRow> = sqlx::query_as(&sql)
                    .bind(user_id)
                    .bind(submission_id)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let body: String = sqlx::query_scalar(
                    "SELECT o.body FROM submissions s JOIN ops o ON o.op_id = s.op_id WHERE s.id = $1",
                )
                .bind(submission_id)
                .fetch_one(&self.pool)
                .await?;
                let events = self.events_where("e.submission_id = $1", submission_id).await?;
                let corrected_by: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM submissions WHERE corrects = $1
                     ORDER BY received_ms DESC, id DESC LIMIT 1",
                )
                .bind(submission_id)
                .fetch_optional(&self.pool)
                .await?;
                let edits = sqlx::query_as::<_, $crate::store::EditRow>($crate::store::EDITS)
                    .bind(user_id)
                    .bind(submission_id)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::store::EditRow::edit)
                    .collect::<Result<Vec<_>, _>>()?;
                let mut item = [row.item()?];
                self.name_households(&mut item).await?;
                let [item] = item;
                Ok(Some($crate::store::Reviewed {
                    op: $crate::store::decode::operation(submission_id, &body)?,
                    item,
                    events,
                    corrected_by,
                    edits,
                }))
            }

            async fn add_review(
                &self,
                reviewer: &$crate::store::User,
                submission_id: &str,
                decision: cris_core::api::ReviewDecision,
                comment: &str,
                now_ms: i64,
            ) -> Result<
                Option<(cris_core::api::ReviewEvent, cris_core::api::ReviewStatus)>,
                $crate::store::StoreError,
            > {
                // In its turn between groups of pushes: phones pushing back to back would
                // otherwise keep the write lock from it for seconds.
                match &self.writer {
                    Some(writer) => {
                        let (store, reviewer) = (self.clone(), reviewer.clone());
                        let (submission_id, comment) = (submission_id.to_owned(), comment.to_owned());
                        writer
                            .alone(move || async move {
                                store
                                    .add_review_now(&reviewer, &submission_id, decision, &comment, now_ms)
                                    .await
                            })
                            .await?
                    }
                    None => {
                        self.add_review_now(reviewer, submission_id, decision, comment, now_ms)
                            .await
                    }
                }
            }

            async fn team_workers(
                &self,
                user_id: &str,
            ) -> Result<Vec<(String, String)>, $crate::store::StoreError> {
                Ok(sqlx::query_as($crate::store::TEAM_WORKERS)
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn inbox(
                &self,
                user_id: &str,
            ) -> Result<Vec<cris_core::api::InboxItem>, $crate::store::StoreError> {
                let sql = format!(
                    "{} AND s.user_id = $1 AND s.review_status = 'changes_requested'{}",
                    $crate::store::REVIEW_ROWS,
                    $crate::store::REVIEW_ORDER
                );
                let mut items = sqlx::query_as::<_, $crate::store::ReviewRow>(&sql)
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::store::ReviewRow::inbox_item)
                    .collect::<Result<Vec<_>, _>>()?;
                items.sort_by(|a, b| {
                    (b.requested_at_ms, &b.submission_id).cmp(&(a.requested_at_ms, &a.submission_id))
                });
                Ok(items)
            }

            async fn dashboard(
                &self,
                user_id: &str,
                filter: &$crate::store::DashboardFilter,
            ) -> Result<cris_core::api::Dashboard, $crate::store::StoreError> {
                // In store/dashboard.rs (`dashboard_store_impl!`).
                self.dashboard_now(user_id, filter).await
            }

            async fn note_pull(
                &self,
                token_hash: &str,
                now_ms: i64,
            ) -> Result<(), $crate::store::StoreError> {
                self.note_pull_now(token_hash, now_ms).await
            }

            async fn case_reviews(
                &self,
                user_id: &str,
                case_id: &str,
            ) -> Result<Option<Vec<cris_core::api::ReviewEvent>>, $crate::store::StoreError> {
                if !self.visible(user_id, case_id).await? {
                    return Ok(None);
                }
                Ok(Some(
                    self.events_where(
                        &format!(
                            "e.submission_id IN (SELECT id FROM submissions WHERE case_id IN {})",
                            $crate::store::HOUSEHOLD
                        ),
                        case_id,
                    )
                    .await?,
                ))
            }
        }

        impl $store {
            /// A decision written at once (see `add_review`).
            async fn add_review_now(
                &self,
                reviewer: &$crate::store::User,
                submission_id: &str,
                decision: cris_core::api::ReviewDecision,
                comment: &str,
                now_ms: i64,
            ) -> Result<
                Option<(cris_core::api::ReviewEvent, cris_core::api::ReviewStatus)>,
                $crate::store::StoreError,
            > {
                // The push lock: a correction of this submission is stored wholly before this
                // decision or wholly after it, and its status with it.
                let mut tx = self.begin_push().await?;
                let visible: Option<String> = sqlx::query_scalar(
                    "SELECT s.id FROM submissions s JOIN cases c ON c.id = s.case_id
                     WHERE s.id = $1
                       AND c.team_id IN (SELECT m.team_id FROM team_members m WHERE m.user_id = $2)",
                )
                .bind(submission_id)
                .bind(&reviewer.id)
                .fetch_optional(&mut *tx)
                .await?;
                if visible.is_none() {
                    return Ok(None);
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO review_events (submission_id, decision, comment, reviewer_id, at_ms)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(submission_id)
                .bind(decision.as_str())
                .bind(comment)
                .bind(&reviewer.id)
                .bind(now_ms)
                .fetch_one(&mut *tx)
                .await?;
                // Its status is the decision now: no correction has arrived since.
                sqlx::query("UPDATE submissions SET review_status = $1 WHERE id = $2")
                    .bind(decision.as_str())
                    .bind(submission_id)
                    .execute(&mut *tx)
                    .await?;
                // A correction that answered an earlier request for changes no longer does:
                // it came before this decision.
                sqlx::query(
                    "UPDATE submissions SET review_status = 'new'
                     WHERE corrects = $1 AND review_status = 'resubmitted'",
                )
                .bind(submission_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                let status = match decision {
                    cris_core::api::ReviewDecision::Approved => cris_core::api::ReviewStatus::Approved,
                    cris_core::api::ReviewDecision::ChangesRequested => {
                        cris_core::api::ReviewStatus::ChangesRequested
                    }
                };
                let event = cris_core::api::ReviewEvent {
                    id,
                    submission_id: submission_id.to_owned(),
                    decision,
                    comment: comment.to_owned(),
                    reviewer_login: reviewer.login.clone(),
                    reviewer_name: reviewer.display_name.clone(),
                    at_ms: now_ms,
                };
                Ok(Some((event, status)))
            }
        }

        impl $crate::store::writer::GroupPush for $store {
            async fn maintain(&self) {
                self.upkeep().await;
            }

            async fn push_group(
                &self,
                batches: &[$crate::store::writer::PushBatch],
            ) -> Result<Vec<Vec<$crate::store::Stored>>, $crate::store::StoreError> {
                use std::collections::{BTreeSet, HashMap, HashSet};
                use cris_core::record::Change;
                use $crate::store::Stored;
                // A group of batches is a handful of statements, not a dozen per operation:
                // what the store knows of their ids is read at once, the outcomes are decided
                // in memory in order, and the rows are written in multi-row inserts.
                let mut tx = self.begin_push().await?;
                let distinct = |ids: Vec<&str>| -> Vec<String> {
                    let set: BTreeSet<&str> = ids.into_iter().collect();
                    set.into_iter().map(str::to_owned).collect()
                };
                // Each pushing user's teams (id, name), by name: a new case joins the one its
                // intake names, or the first.
                let users = distinct(batches.iter().map(|b| b.user.id.as_str()).collect());
                let sql = format!(
                    "SELECT m.user_id, m.team_id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id
                     WHERE m.user_id IN {} ORDER BY t.name",
                    Self::values(1, users.len())
                );
                let mut q = sqlx::query_as::<_, (String, String, String)>(&sql);
                for id in &users {
                    q = q.bind(id);
                }
                let mut teams_of: HashMap<String, Vec<(String, String)>> = HashMap::new();
                for (user, team, name) in q.fetch_all(&mut *tx).await? {
                    teams_of.entry(user).or_default().push((team, name));
                }
                let no_teams = Vec::new();
                let ops: Vec<(usize, &$crate::store::CheckedOp)> = batches
                    .iter()
                    .enumerate()
                    .flat_map(|(i, b)| b.ops.iter().map(move |c| (i, c)))
                    .collect();

                let op_ids = distinct(ops.iter().map(|(_, c)| c.op.op_id.as_str()).collect());
                // The households named by merges and findings of two families are looked up
                // with those the operations are on.
                let case_ids = distinct(
                    ops.iter()
                        .flat_map(|(_, c)| {
                            let linked = match &c.op.change {
                                Change::Merge { into } => Some(into.as_str()),
                                Change::Distinct { other } => Some(other.as_str()),
                                _ => None,
                            };
                            std::iter::once(c.op.case_id.as_str()).chain(linked)
                        })
                        .collect(),
                );
                let links = ops.iter().any(|(_, c)| {
                    matches!(
                        c.op.change,
                        Change::Merge { .. } | Change::Unmerge { .. } | Change::Distinct { .. }
                    )
                });
                // The batch's own submissions (taken already?) and those it corrects.
                let sub_ids = distinct(
                    ops.iter()
                        .filter_map(|(_, c)| c.op.submission())
                        .flat_map(|s| {
                            let corrected = s.corrects.as_ref().map(|k| k.submission_id.as_str());
                            std::iter::once(s.id.as_str()).chain(corrected)
                        })
                        .collect(),
                );
                // The consents and withdrawals it carries (held already?), the consents they
                // withdraw, and the operations that carried them (a retry, or a change?).
                let mut consent_op_ids = Vec::new();
                let mut record_ids = Vec::new();
                for (_, c) in &ops {
                    match &c.op.change {
                        Change::Consent { consent } => record_ids.push(consent.id.as_str()),
                        Change::Withdraw { withdrawal } => {
                            record_ids.push(withdrawal.id.as_str());
                            record_ids.push(withdrawal.consent_id.as_str());
                        }
                        _ => continue,
                    }
                    consent_op_ids.push(c.op.op_id.as_str());
                }
                let (consent_op_ids, record_ids) = (distinct(consent_op_ids), distinct(record_ids));
                let mut logged: HashSet<String> = HashSet::new();
                let mut case_team: HashMap<String, String> = HashMap::new();
                // Submission id -> (case, form), and its review status.
                let mut known: HashMap<String, (String, String)> = HashMap::new();
                let mut review_status: HashMap<String, String> = HashMap::new();
                // Submissions the group's corrections turn from `changes_requested` to
                // `corrected`.
                let mut now_corrected: Vec<String> = Vec::new();
                // Consent or withdrawal id -> what the store holds of it; operation -> its record.
                let mut held: HashMap<String, $crate::store::HeldRecord> = HashMap::new();
                let mut held_by_op: HashMap<String, String> = HashMap::new();
                for chunk in op_ids.chunks(500) {
                    let sql = format!("SELECT op_id FROM ops WHERE op_id IN {}", Self::values(1, chunk.len()));
                    let mut q = sqlx::query_scalar::<_, String>(&sql);
                    for id in chunk {
                        q = q.bind(id);
                    }
                    logged.extend(q.fetch_all(&mut *tx).await?);
                }
                for chunk in case_ids.chunks(500) {
                    let sql = format!("SELECT id, team_id FROM cases WHERE id IN {}", Self::values(1, chunk.len()));
                    let mut q = sqlx::query_as::<_, (String, String)>(&sql);
                    for id in chunk {
                        q = q.bind(id);
                    }
                    case_team.extend(q.fetch_all(&mut *tx).await?);
                }
                // The merges standing among the households the group's merges touch: merged
                // household -> (merge, the household it joined).
                let mut standing: HashMap<String, (String, String)> = HashMap::new();
                if links {
                    for chunk in case_ids.chunks(250) {
                        // The ids twice, each list with parameters of its own: SQLite's `?`
                        // are numbered one after the other, so a list written twice would
                        // leave the second unbound (NULL), and a household with others
                        // merged into it would not be found so.
                        // Two rows of values are two such lists: "(…), (…)".
                        let lists = Self::values(2, chunk.len());
                        let (of, rest) = lists.split_once(", (").expect("two lists");
                        let into = format!("({rest}");
                        let sql = format!(
                            "SELECT case_id, op_id, into_id FROM case_merges
                             WHERE undone_op_id IS NULL AND (case_id IN {of} OR into_id IN {into})"
                        );
                        let mut q = sqlx::query_as::<_, (String, String, String)>(&sql);
                        for id in chunk.iter().chain(chunk) {
                            q = q.bind(id);
                        }
                        for (case_id, op_id, into_id) in q.fetch_all(&mut *tx).await? {
                            standing.insert(case_id, (op_id, into_id));
                        }
                    }
                }
                // What the group's merges write: (merge, merged, joined, batch); undone:
                // (merge, undoing, merged, batch).
                let mut merged: Vec<(&str, &str, &str, usize)> = Vec::new();
                let mut unmerged: Vec<(&str, &str, &str, usize)> = Vec::new();
                for chunk in sub_ids.chunks(500) {
                    let sql = format!(
                        "SELECT id, case_id, form_id, review_status FROM submissions WHERE id IN {}",
                        Self::values(1, chunk.len())
                    );
                    let mut q = sqlx::query_as::<_, (String, String, String, String)>(&sql);
                    for id in chunk {
                        q = q.bind(id);
                    }
                    for (id, case_id, form_id, status) in q.fetch_all(&mut *tx).await? {
                        review_status.insert(id.clone(), status);
                        known.insert(id, (case_id, form_id));
                    }
                }
                for (column, ids) in [("id", &record_ids), ("op_id", &consent_op_ids)] {
                    for chunk in ids.chunks(500) {
                        let sql = format!(
                            "SELECT id, case_id, kind, binding, op_id, received_ms FROM consents
                             WHERE {column} IN {}",
                            Self::values(1, chunk.len())
                        );
                        let mut q =
                            sqlx::query_as::<_, (String, String, String, String, String, i64)>(&sql);
                        for id in chunk {
                            q = q.bind(id);
                        }
                        for (id, case_id, kind, binding, op_id, received_ms) in
                            q.fetch_all(&mut *tx).await?
                        {
                            held_by_op.insert(op_id, id.clone());
                            let record = $crate::store::HeldRecord { case_id, kind, binding, received_ms };
                            held.insert(id, record);
                        }
                    }
                }
                let mut out: Vec<Vec<Stored>> =
                    batches.iter().map(|b| Vec::with_capacity(b.ops.len())).collect();
                let mut accepted: Vec<(usize, &$crate::store::CheckedOp)> = Vec::new();
                let mut new_cases: Vec<(&str, String, i64)> = Vec::new();
                for &(i, checked) in &ops {
                    let op = &checked.op;
                    let teams = teams_of.get(&batches[i].user.id).unwrap_or(&no_teams);
                    let out = &mut out[i];
                    // The team a household this operation creates joins: one of its author's.
                    let chosen = if case_team.contains_key(&op.case_id) {
                        None
                    } else {
                        op.submission().and_then(|s| s.team.as_deref())
                    };
                    let chosen = match chosen {
                        None => None,
                        Some(name) => match teams.iter().find(|(_, n)| n == name) {
                            Some((id, _)) => Some(id.clone()),
                            None => {
                                out.push(Stored::Refused(cris_core::sync::Refusal::new(
                                    cris_core::sync::Detail::NotYourTeam { team: name.to_owned() },
                                    format!("a new household for the team {name:?}, which is not one of yours"),
                                )));
                                continue;
                            }
                        },
                    };
                    // A consent or withdrawal: its kind, id and seal.
                    let sealed = match &op.change {
                        Change::Consent { consent } => Some(("consent", &consent.id, &consent.binding)),
                        Change::Withdraw { withdrawal } => {
                            Some(("withdrawal", &withdrawal.id, &withdrawal.binding))
                        }
                        _ => None,
                    };
                    if logged.contains(&op.op_id) {
                        // A retry is the very record sent before; anything else under its
                        // operation's id would slip a change past as "duplicate".
                        let stored = match sealed {
                            None => Stored::Duplicate,
                            Some((kind, id, binding)) => {
                                match held_by_op.get(&op.op_id).and_then(|r| Some((r, held.get(r)?))) {
                                    Some((held_id, h)) if held_id == id && h.binding == *binding => {
                                        Stored::Duplicate
                                    }
                                    Some((held_id, h)) => Stored::Immutable(
                                        $crate::store::changed_record(&h.kind, held_id, h.received_ms),
                                    ),
                                    None => Stored::Immutable(format!(
                                        "the operation {} carried a form already, not this {kind}: a new record needs a new operation",
                                        op.op_id
                                    )),
                                }
                            }
                        };
                        out.push(stored);
                        continue;
                    }
                    let is_link = matches!(
                        op.change,
                        Change::Merge { .. } | Change::Unmerge { .. } | Change::Distinct { .. }
                    );
                    if is_link && batches[i].user.role == $crate::store::Role::Worker {
                        out.push(Stored::Refused(cris_core::sync::Refusal::new(
                            cris_core::sync::Detail::SupervisorsOnly,
                            "merging households, and finding them two families, is for supervisors",
                        )));
                        continue;
                    }
                    let visible = match case_team.get(&op.case_id) {
                        Some(team) => teams.iter().any(|(id, _)| id == team),
                        None => checked.creates_case && !teams.is_empty(),
                    };
                    if !visible {
                        out.push(Stored::NotFound);
                        continue;
                    }
                    match &op.change {
                        Change::Submit { submission, .. } => {
                            if known.contains_key(&submission.id) {
                                out.push(Stored::SubmissionTaken);
                                continue;
                            }
                            if let Some(correction) = &submission.corrects {
                                let refusal = match known.get(&correction.submission_id) {
                                    Some((case_id, form_id)) if *case_id == op.case_id => (*form_id
                                        != submission.form_id)
                                        .then_some("corrects a form of another kind"),
                                    // Another household's form is answered as if it did not exist.
                                    _ => Some("corrects a form this household does not have (yet)"),
                                };
                                if let Some(why) = refusal {
                                    out.push(Stored::BadCorrection(why.to_owned()));
                                    continue;
                                }
                            }
                            known.insert(
                                submission.id.clone(),
                                (op.case_id.clone(), submission.form_id.clone()),
                            );
                            let corrected = submission.corrects.as_ref().map(|k| &k.submission_id);
                            let (status, corrects_requested) = $crate::store::arriving_status(
                                corrected.and_then(|id| review_status.get(id)).map(String::as_str),
                            );
                            if let Some(id) = corrected.filter(|_| corrects_requested) {
                                if review_status.insert(id.clone(), "corrected".to_owned()).as_deref()
                                    == Some("changes_requested")
                                {
                                    now_corrected.push(id.clone());
                                }
                            }
                            review_status.insert(submission.id.clone(), status.to_owned());
                        }
                        // Writes only: the merge decides, as for a form's.
                        Change::Resolve { .. } => {}
                        Change::Merge { into: other } | Change::Distinct { other } => {
                            use cris_core::sync::{Detail, MergeRefusal, Refusal};
                            let refuse = |detail, message: &str| Stored::Refused(Refusal::new(detail, message));
                            let Some(other_team) = case_team.get(other).filter(|t| teams.iter().any(|(id, _)| id == *t))
                            else {
                                out.push(refuse(
                                    Detail::NotVisible,
                                    "the other household is not among your teams' cases",
                                ));
                                continue;
                            };
                            if let Change::Merge { into } = &op.change {
                                let refusal = if Some(other_team) != case_team.get(&op.case_id) {
                                    Some((MergeRefusal::DifferentTeams, "the two households belong to different teams"))
                                } else if standing.contains_key(&op.case_id) {
                                    Some((MergeRefusal::MergedAlready, "this household is merged into another already: undo that merge first"))
                                } else if standing.contains_key(into) {
                                    Some((MergeRefusal::IntoMerged, "the household it would join is merged into another: merge into that one"))
                                } else if standing.values().any(|(_, joined)| *joined == op.case_id) {
                                    Some((MergeRefusal::OthersMergedIntoIt, "other households are merged into this one: merge the other way round, or undo their merges first"))
                                } else {
                                    None
                                };
                                if let Some((why, message)) = refusal {
                                    out.push(refuse(Detail::MergeRefused { why }, message));
                                    continue;
                                }
                                standing.insert(op.case_id.clone(), (op.op_id.clone(), into.clone()));
                                merged.push((&op.op_id, &op.case_id, into, i));
                            }
                        }
                        Change::Unmerge { merge } => {
                            if standing.get(&op.case_id).is_none_or(|(m, _)| m != merge) {
                                out.push(Stored::Refused(cris_core::sync::Refusal::new(
                                    cris_core::sync::Detail::MergeRefused {
                                        why: cris_core::sync::MergeRefusal::NotMerged,
                                    },
                                    "this household is not merged by that merge (it was undone already, or never made)",
                                )));
                                continue;
                            }
                            standing.remove(&op.case_id);
                            unmerged.push((merge, &op.op_id, &op.case_id, i));
                        }
                        Change::Consent { .. } | Change::Withdraw { .. } => {
                            let (kind, id, binding) = sealed.expect("a consent or a withdrawal");
                            if let Some(h) = held.get(id) {
                                out.push(Stored::Immutable($crate::store::changed_record(
                                    &h.kind,
                                    id,
                                    h.received_ms,
                                )));
                                continue;
                            }
                            if let Change::Withdraw { withdrawal } = &op.change {
                                let withdraws = held.get(&withdrawal.consent_id).is_some_and(|h| {
                                    h.kind == "consent" && h.case_id == op.case_id
                                });
                                if !withdraws {
                                    // Another household's consent is answered as if it did not exist.
                                    out.push(Stored::BadWithdrawal(
                                        "withdraws a consent this household does not have (yet)".to_owned(),
                                    ));
                                    continue;
                                }
                            }
                            held_by_op.insert(op.op_id.clone(), id.clone());
                            held.insert(
                                id.clone(),
                                $crate::store::HeldRecord {
                                    case_id: op.case_id.clone(),
                                    kind: kind.to_owned(),
                                    binding: binding.clone(),
                                    received_ms: batches[i].now_ms,
                                },
                            );
                        }
                    }
                    if !case_team.contains_key(&op.case_id) {
                        let team = chosen.unwrap_or_else(|| teams[0].0.clone());
                        case_team.insert(op.case_id.clone(), team.clone());
                        new_cases.push((&op.case_id, team, batches[i].now_ms));
                    }
                    logged.insert(op.op_id.clone());
                    accepted.push((i, checked));
                    out.push(Stored::Applied { conflicts: Vec::new() });
                }

                for chunk in new_cases.chunks(500) {
                    let sql = format!(
                        "INSERT INTO cases (id, team_id, created_ms) VALUES {}",
                        Self::values(chunk.len(), 3)
                    );
                    let mut q = sqlx::query(&sql);
                    for (id, team, now_ms) in chunk {
                        q = q.bind(*id).bind(team).bind(*now_ms);
                    }
                    q.execute(&mut *tx).await?;
                }
                for chunk in accepted.chunks(500) {
                    let sql = format!(
                        "INSERT INTO ops (op_id, case_id, user_id, device_id, hlc, received_ms, body) VALUES {}",
                        Self::values(chunk.len(), 7)
                    );
                    let mut q = sqlx::query(&sql);
                    for (i, c) in chunk {
                        q = q
                            .bind(&c.op.op_id)
                            .bind(&c.op.case_id)
                            .bind(&batches[*i].user.id)
                            .bind(&c.op.device)
                            .bind(c.op.hlc.to_string())
                            .bind(batches[*i].now_ms)
                            .bind(&c.body);
                    }
                    q.execute(&mut *tx).await?;
                    let submitted: Vec<_> = chunk
                        .iter()
                        .filter_map(|(i, c)| Some((*i, c, c.op.submission()?)))
                        .collect();
                    if !submitted.is_empty() {
                        let sql = format!(
                            "INSERT INTO submissions (id, case_id, form_id, form_version, op_id,
                                 user_id, received_ms, finalized_ms, corrects, review_status)
                             VALUES {}",
                            Self::values(submitted.len(), 10)
                        );
                        let mut q = sqlx::query(&sql);
                        for (i, c, s) in submitted {
                            q = q
                                .bind(&s.id)
                                .bind(&c.op.case_id)
                                .bind(&s.form_id)
                                .bind(i64::from(s.form_version))
                                .bind(&c.op.op_id)
                                .bind(&batches[i].user.id)
                                .bind(batches[i].now_ms)
                                // Whole milliseconds, as the migration fills earlier rows.
                                .bind(s.finalized_at_ms.floor() as i64)
                                .bind(s.corrects.as_ref().map(|k| &k.submission_id))
                                .bind(review_status.get(&s.id).map_or("new", String::as_str));
                        }
                        q.execute(&mut *tx).await?;
                    }
                    let sealed: Vec<_> = chunk
                        .iter()
                        .filter_map(|(i, c)| match &c.op.change {
                            Change::Consent { consent } => {
                                Some((*i, c, "consent", &consent.id, None, &consent.binding))
                            }
                            Change::Withdraw { withdrawal } => Some((
                                *i,
                                c,
                                "withdrawal",
                                &withdrawal.id,
                                Some(&withdrawal.consent_id),
                                &withdrawal.binding,
                            )),
                            _ => None,
                        })
                        .collect();
                    if !sealed.is_empty() {
                        let sql = format!(
                            "INSERT INTO consents (id, case_id, kind, consent_id, binding, op_id, received_ms) VALUES {}",
                            Self::values(sealed.len(), 7)
                        );
                        let mut q = sqlx::query(&sql);
                        for (i, c, kind, id, consent_id, binding) in sealed {
                            q = q
                                .bind(id)
                                .bind(&c.op.case_id)
                                .bind(kind)
                                .bind(consent_id)
                                .bind(binding)
                                .bind(&c.op.op_id)
                                .bind(batches[i].now_ms);
                        }
                        q.execute(&mut *tx).await?;
                    }
                }
                // Merges and their undoing, after the operations they are in the log as.
                for (merge, case_id, into, i) in &merged {
                    sqlx::query(
                        "INSERT INTO case_merges (op_id, case_id, into_id, merged_by, merged_ms)
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(*merge)
                    .bind(*case_id)
                    .bind(*into)
                    .bind(&batches[*i].user.id)
                    .bind(batches[*i].now_ms)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("UPDATE cases SET merged_into = $1 WHERE id = $2")
                        .bind(*into)
                        .bind(*case_id)
                        .execute(&mut *tx)
                        .await?;
                }
                for (merge, undoing, case_id, i) in &unmerged {
                    sqlx::query(
                        "UPDATE case_merges SET undone_op_id = $1, undone_by = $2, undone_ms = $3
                         WHERE op_id = $4",
                    )
                    .bind(*undoing)
                    .bind(&batches[*i].user.id)
                    .bind(batches[*i].now_ms)
                    .bind(*merge)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("UPDATE cases SET merged_into = NULL WHERE id = $1")
                        .bind(*case_id)
                        .execute(&mut *tx)
                        .await?;
                }
                for chunk in now_corrected.chunks(500) {
                    let sql = format!(
                        "UPDATE submissions SET review_status = 'corrected' WHERE id IN {}",
                        Self::values(1, chunk.len())
                    );
                    let mut q = sqlx::query(&sql);
                    for id in chunk {
                        q = q.bind(id);
                    }
                    q.execute(&mut *tx).await?;
                }
                let writes: Vec<(&str, String, cris_core::merge::Write, &str)> = accepted
                    .iter()
                    .flat_map(|(_, c)| {
                        c.op.writes().map(|(field, w)| {
                            (c.op.case_id.as_str(), field.to_owned(), w, c.op.op_id.as_str())
                        })
                    })
                    .collect();
                for chunk in writes.chunks(1000) {
                    let sql = format!(
                        "INSERT INTO field_writes (case_id, field, hlc, value, seen, op_id) VALUES {}
                         ON CONFLICT DO NOTHING",
                        Self::values(chunk.len(), 6)
                    );
                    let mut q = sqlx::query(&sql);
                    for (case_id, field, w, op_id) in chunk {
                        q = q
                            .bind(*case_id)
                            .bind(field)
                            .bind(w.hlc.to_string())
                            .bind(&w.value)
                            .bind(serde_json::to_string(&w.seen).unwrap_or_default())
                            .bind(*op_id);
                    }
                    q.execute(&mut *tx).await?;
                }
                let names = $crate::store::case_names(
                    writes
                        .iter()
                        .map(|(case_id, field, w, _)| (*case_id, field.as_str(), w.value.as_str())),
                );
                Self::insert_case_names(&mut tx, &names).await?;
                // Conflicts as they stand after the batch, in the fields it wrote.
                let written: HashSet<(&str, &str)> =
                    writes.iter().map(|(c, f, _, _)| (*c, f.as_str())).collect();
                let touched = distinct(writes.iter().map(|(c, _, _, _)| *c).collect());
                let mut rows: HashMap<(String, String), Vec<(String, String, String)>> =
                    HashMap::new();
                for chunk in touched.chunks(500) {
                    let sql = Self::field_writes_of(chunk.len());
                    let mut q = sqlx::query_as::<_, (String, String, String, String, String)>(&sql);
                    for id in chunk {
                        q = q.bind(id);
                    }
                    for (case_id, field, hlc, value, seen) in q.fetch_all(&mut *tx).await? {
                        if written.contains(&(case_id.as_str(), field.as_str())) {
                            rows.entry((case_id, field)).or_default().push((hlc, value, seen));
                        }
                    }
                }
                let mut conflicted: HashSet<(String, String)> = HashSet::new();
                for (key, field_rows) in rows {
                    if !$crate::store::field_of(field_rows)?.conflict().is_empty() {
                        conflicted.insert(key);
                    }
                }
                // Outcomes and accepted operations are both in group order.
                let mut next = accepted.iter();
                for stored in out.iter_mut().flatten() {
                    if let Stored::Applied { conflicts } = stored {
                        let op = &next.next().expect("one accepted operation per applied").1.op;
                        *conflicts = op
                            .writes()
                            .map(|(field, _)| field.to_owned())
                            .filter(|f| conflicted.contains(&(op.case_id.clone(), f.clone())))
                            .collect();
                    }
                }
                // For the supervisor's dashboard: when each pushing device (the one its
                // operations were made on, a checked UUID) of each user last pushed. One
                // small statement per group, the group's latest time per device.
                let mut pushed: std::collections::BTreeMap<(&str, &str), i64> =
                    std::collections::BTreeMap::new();
                for b in batches {
                    for c in &b.ops {
                        let at = pushed.entry((c.op.device.as_str(), b.user.id.as_str())).or_insert(b.now_ms);
                        *at = (*at).max(b.now_ms);
                    }
                }
                if !pushed.is_empty() {
                    let sql = $crate::store::dashboard::note_pushes_sql(&Self::values(pushed.len(), 3));
                    let mut q = sqlx::query(&sql);
                    for ((device, user), at) in pushed {
                        q = q.bind(device).bind(user).bind(at);
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(out)
            }
        }

        impl $store {
            /// Whether the case is one of the user's teams' cases.
            async fn visible(
                &self,
                user_id: &str,
                case_id: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                let visible: Option<String> = sqlx::query_scalar(
                    "SELECT c.id FROM cases c JOIN team_members m ON m.team_id = c.team_id
                     WHERE c.id = $1 AND m.user_id = $2",
                )
                .bind(case_id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(visible.is_some())
            }

            /// The review events that meet `condition` (on `e`, with `$1` = `arg`), oldest
            /// first, with their reviewers.
            async fn events_where(
                &self,
                condition: &str,
                arg: &str,
            ) -> Result<Vec<cris_core::api::ReviewEvent>, $crate::store::StoreError> {
                let sql = format!(
                    "SELECT e.id, e.submission_id, e.decision, e.comment, u.login, u.display_name, e.at_ms
                     FROM review_events e JOIN users u ON u.id = e.reviewer_id
                     WHERE {condition} ORDER BY e.id"
                );
                sqlx::query_as::<_, $crate::store::ReviewEventRow>(&sql)
                    .bind(arg)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::store::ReviewEventRow::event)
                    .collect()
            }

            async fn teams_of(&self, user_id: &str) -> Result<Vec<String>, $crate::store::StoreError> {
                Ok(sqlx::query_scalar(
                    "SELECT t.name FROM team_members m JOIN teams t ON t.id = m.team_id
                     WHERE m.user_id = $1 ORDER BY t.name",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}
pub(crate) use shared_store_impl;

/// The case property the review queue searches: the household's name.
pub(crate) const NAME_FIELD: &str = "household_name";

/// The rows of `case_names` for property writes `(case_id, field, value)`: each household's
/// names as compared, once each, none empty.
pub(crate) fn case_names<'a>(
    writes: impl Iterator<Item = (&'a str, &'a str, &'a str)>,
) -> Vec<(&'a str, String)> {
    let mut names: Vec<(&str, String)> = writes
        .filter(|(_, field, _)| *field == NAME_FIELD)
        .map(|(case_id, _, value)| (case_id, cris_core::duplicates::comparable(value)))
        .filter(|(_, name)| !name.is_empty())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Fills `case_names` for the household names logged before it existed, once (when
/// `server_info` still says 'case_names' 'to fill'), as a store opens: the names are folded
/// in Rust, which a migration cannot do. Pushes write the rows of what arrives after. Run
/// twice at once (two servers starting), the second writes nothing new.
macro_rules! store_helpers_impl {
    ($store:ty) => {
        impl $store {
            pub(crate) async fn fill_case_names(&self) -> Result<(), $crate::store::StoreError> {
                let to_fill: Option<String> =
                    sqlx::query_scalar("SELECT value FROM server_info WHERE key = 'case_names'")
                        .fetch_optional(&self.pool)
                        .await?;
                if to_fill.is_none() {
                    return Ok(());
                }
                let writes: Vec<(String, String)> = sqlx::query_as(&format!(
                    "SELECT case_id, value FROM field_writes WHERE field = '{}'",
                    $crate::store::NAME_FIELD
                ))
                .fetch_all(&self.pool)
                .await?;
                let names = $crate::store::case_names(
                    writes
                        .iter()
                        .map(|(c, v)| (c.as_str(), $crate::store::NAME_FIELD, v.as_str())),
                );
                let mut tx = self.pool.begin().await?;
                Self::insert_case_names(&mut tx, &names).await?;
                sqlx::query("DELETE FROM server_info WHERE key = 'case_names'")
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            /// Keeps households' names as compared (see [`$crate::store::case_names`]), each
            /// once. `Db` is the database of the module the macro is used in.
            async fn insert_case_names(
                tx: &mut sqlx::Transaction<'static, Db>,
                names: &[(&str, String)],
            ) -> Result<(), $crate::store::StoreError> {
                for chunk in names.chunks(1000) {
                    let sql = format!(
                        "INSERT INTO case_names (case_id, name) VALUES {} ON CONFLICT DO NOTHING",
                        Self::values(chunk.len(), 2)
                    );
                    let mut q = sqlx::query(&sql);
                    for (case_id, name) in chunk {
                        q = q.bind(*case_id).bind(name);
                    }
                    q.execute(&mut **tx).await?;
                }
                Ok(())
            }

            /// The names of the households `households` (not merged into another) as they
            /// stand now, their properties joined with those of the households merged into
            /// them: what the review queue and exports show beside a form. A household
            /// without a name is left out.
            pub(crate) async fn names_of_households(
                &self,
                households: &[&str],
            ) -> Result<std::collections::HashMap<String, String>, $crate::store::StoreError> {
                use std::collections::BTreeSet;
                let mut merges: Vec<(String, String, String)> = Vec::new();
                for chunk in households.chunks(1000) {
                    let sql = $crate::store::merged_into_sql(&Self::values(1, chunk.len()));
                    let mut q = sqlx::query_as::<_, (String, String, String)>(&sql);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    merges.extend(q.fetch_all(&self.pool).await?);
                }
                let cases: Vec<&str> = households
                    .iter()
                    .copied()
                    .chain(merges.iter().map(|(case_id, _, _)| case_id.as_str()))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let mut writes: Vec<(String, String, String, String)> = Vec::new();
                for chunk in cases.chunks(1000) {
                    let sql = $crate::store::household_names_sql(&Self::values(1, chunk.len()));
                    let mut q = sqlx::query_as::<_, (String, String, String, String)>(&sql);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    writes.extend(q.fetch_all(&self.pool).await?);
                }
                $crate::store::names_shown(writes, merges)
            }

            /// Sets the name of the household each review item is shown with.
            async fn name_households(
                &self,
                items: &mut [cris_core::api::ReviewItem],
            ) -> Result<(), $crate::store::StoreError> {
                let households: Vec<&str> = items
                    .iter()
                    .map(|i| i.household_id.as_str())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let names = self.names_of_households(&households).await?;
                for item in items {
                    if let Some(name) = names.get(&item.household_id) {
                        item.household_name.clone_from(name);
                    }
                }
                Ok(())
            }
        }
    };
}
pub(crate) use store_helpers_impl;

/// `rows` groups of `cols` parameters, for multi-row `VALUES` and `IN` lists, each written
/// by `param(n)` for the n-th (from 1): `($1, $2), ($3, $4)` or `(?, ?), (?, ?)`.
pub(crate) fn values(rows: usize, cols: usize, param: fn(&mut String, usize)) -> String {
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
            param(&mut sql, r * cols + c + 1);
        }
        sql.push(')');
    }
    sql
}

/// The cases that make up the household `$1`, as an SQL set: its own and those merged into it
/// while their merge stands (their records stay under their own ids).
pub(crate) const HOUSEHOLD: &str = "(SELECT CAST($1 AS TEXT) UNION ALL
     SELECT m.case_id FROM case_merges m WHERE m.into_id = $1 AND m.undone_op_id IS NULL)";

/// Ends every live session of the account `$2` at time `$1` (disabling, a new password).
/// Revokes every device the account `$2` logged in from, at `$1`.
pub(crate) const REVOKE_DEVICES_OF_LOGIN: &str =
    "INSERT INTO revoked_devices (device_id, revoked_ms)
     SELECT DISTINCT device_id, $1 FROM sessions
     WHERE user_id IN (SELECT id FROM users WHERE login = $2)
     ON CONFLICT (device_id) DO NOTHING";

pub(crate) const END_SESSIONS_OF_LOGIN: &str = "UPDATE sessions SET revoked_ms = $1
     WHERE revoked_ms IS NULL AND user_id IN (SELECT id FROM users WHERE login = $2)";

/// A field's writes as stored, read back into the merge's model.
pub(crate) fn field_of(
    rows: Vec<(String, String, String)>,
) -> Result<cris_core::merge::Field, StoreError> {
    let mut field = cris_core::merge::Field::default();
    for (hlc, value, seen) in rows {
        field.apply(cris_core::merge::Write {
            value,
            seen: decode::json("field version's seen stamps", &hlc, &seen)?,
            hlc: hlc
                .parse()
                .map_err(|e: cris_core::hlc::BadHlc| decode::corrupt("stamp", &hlc, e))?,
        });
    }
    Ok(field)
}

/// A `User` from its row; a role the code does not know is a damaged database.
pub(crate) fn user_of(
    (id, login, display_name, role, disabled): (String, String, String, String, bool),
    teams: Vec<String>,
) -> Result<User, StoreError> {
    let role = role
        .parse()
        .map_err(|e: String| StoreError::Query(sqlx::Error::Decode(e.into())))?;
    Ok(User {
        id,
        login,
        display_name,
        role,
        disabled,
        teams,
    })
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
