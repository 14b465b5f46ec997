//! The command line: one module per command.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use cris_server::CaseStore;
use cris_server::store::DEFAULT_DATABASE_URL;

mod audit;
mod backup;
mod device;
mod erase;
mod export;
mod forms;
mod serve;
mod user;

pub(crate) use audit::*;
pub(crate) use backup::*;
pub(crate) use device::*;
pub(crate) use erase::*;
pub(crate) use export::*;
pub(crate) use forms::*;
pub(crate) use serve::*;
pub(crate) use user::*;

#[derive(Debug, Parser)]
#[command(name = "cris-server", version, about = "The CRIS Field server")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Serve the app and the API.
    Serve(ServeArgs),
    /// Manage accounts: add, list, disable, enable, reset a password.
    User {
        #[command(subcommand)]
        action: UserAction,
        /// The case store, e.g. sqlite://data/cris.db or postgres://user@host/cris (the same
        /// CRIS_DATABASE_URL as `serve`).
        #[arg(long, env = "CRIS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true, global = true)]
        database_url: String,
        /// Create the SQLite store if there is none yet (else a missing file is an error).
        #[arg(long, global = true)]
        create: bool,
    },
    /// Erases a household on a family's request: every personal value of it goes, from
    /// the store and, at their next sync, from the phones; a tombstone without personal data
    /// stays.
    Erase(EraseArgs),
    /// Erases the households whose case has been closed for the agency's retention period
    /// (what the server does daily), or with --dry-run shows which are due.
    Retention(RetentionArgs),
    /// Reads the audit trail: who read which household, exported, logged in or out, and when.
    Audit {
        /// Only the entries of this household (its id).
        #[arg(long)]
        household: Option<String>,
        /// Only the entries of this account.
        #[arg(long)]
        user: Option<String>,
        /// Only entries from this day on (YYYY-MM-DD, UTC).
        #[arg(long)]
        since: Option<cris_core::Date>,
        /// The case store, e.g. sqlite://data/cris.db or postgres://user@host/cris.
        #[arg(long, env = "CRIS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
        database_url: String,
    },
    /// Copies a SQLite case store to a new file, consistently, while the server runs.
    Backup {
        /// The backup file to make (it must not exist yet).
        #[arg(long)]
        to: PathBuf,
        /// The case store, e.g. sqlite://data/cris.db.
        #[arg(long, env = "CRIS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
        database_url: String,
    },
    /// Puts a backup in place of a SQLite case store (no server may be running on it); the
    /// replaced store is kept beside it.
    Restore {
        /// The backup file, made by `backup`.
        #[arg(long)]
        from: PathBuf,
        /// The case store, e.g. sqlite://data/cris.db.
        #[arg(long, env = "CRIS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
        database_url: String,
    },
    /// After `pg_restore` put a PostgreSQL store back: gives it a new store id, so that phones
    /// send again what it lacks (no server may run on it meanwhile).
    Restored {
        /// The case store, e.g. postgres://user@host/cris.
        #[arg(long, env = "CRIS_DATABASE_URL", hide_env_values = true)]
        database_url: String,
    },
    /// Exports submissions to a file, as the overview's export does: made as a supervisor or
    /// admin (the rows of their teams' cases) and recorded under that account.
    Export(ExportArgs),
    /// Forms as XLSForm spreadsheets: import one (checked, to JSON), export one.
    Forms {
        #[command(subcommand)]
        action: FormsAction,
    },
    /// Manage the devices accounts logged in from: list, revoke (a lost or stolen phone).
    Device {
        #[command(subcommand)]
        action: DeviceAction,
        /// The case store, e.g. sqlite://data/cris.db or postgres://user@host/cris (the same
        /// CRIS_DATABASE_URL as `serve`).
        #[arg(long, env = "CRIS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true, global = true)]
        database_url: String,
    },
}

/// Opens the store at `database_url` for a command other than `serve`: a SQLite file that is
/// not there is an error unless `create` (a mistyped path, or a PostgreSQL installation
/// without CRIS_DATABASE_URL, would otherwise get a new empty store and show nobody).
pub(crate) async fn open_existing(database_url: &str, create: bool) -> Result<CaseStore, String> {
    if let Ok(db) = cris_server::backup::sqlite_file(database_url)
        && !db.exists()
        && !create
    {
        return Err(format!(
            "no case store at {}: give the store the server uses (--database-url or \
             CRIS_DATABASE_URL, as for `serve`), or --create to start a new one",
            db.display()
        ));
    }
    let store = open_store(database_url).await?;
    tracing::debug!(store = %cris_server::store::describe_url(database_url), "case store opened");
    Ok(store)
}

/// Where a PostgreSQL store's erasure journal is kept unless CRIS_ERASURE_JOURNAL says (a
/// SQLite store keeps it beside its file).
const PG_ERASURE_JOURNAL: &str = "data/erasures.jsonl";

/// Opens the store at `database_url` with its erasure journal.
pub(crate) async fn open_store(database_url: &str) -> Result<CaseStore, String> {
    let store = CaseStore::open(database_url)
        .await
        .map_err(|err| err.to_string())?;
    Ok(match store.kind() {
        "postgres" => {
            let path = std::env::var_os("CRIS_ERASURE_JOURNAL")
                .map_or_else(|| PathBuf::from(PG_ERASURE_JOURNAL), PathBuf::from);
            store.with_erasure_journal(path)
        }
        _ => store,
    })
}

/// Erases again what the erasure journal says the store should not hold (it was restored
/// from a backup older than those erasures), before anyone is answered.
pub(crate) async fn reapply_erasures(store: &CaseStore) -> Result<(), String> {
    let again = store
        .reapply_erasures(cris_server::auth::now_ms())
        .await
        .map_err(|e| e.to_string())?;
    if !again.is_empty() {
        tracing::warn!(
            households = again.len(),
            "erased again: the store was restored from a backup taken before their erasure"
        );
        println!(
            "erased again {} households the erasure journal lists (the backup was older than their erasure)",
            again.len()
        );
    }
    Ok(())
}
