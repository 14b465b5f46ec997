//! `cris-server erase`: erases a household on a family's request (GDPR Art. 17).

use clap::Args;
use cris_server::auth;
use cris_server::store::{Erased, Tombstone};

use super::*;

#[derive(Debug, Args)]
pub(crate) struct EraseArgs {
    /// The household's id (as the case page's address and the audit trail show it).
    pub(crate) case_id: String,
    /// Why, as the tombstone keeps it: the request and who took it (no family's name).
    #[arg(long)]
    pub(crate) reason: String,
    /// The administrator who erases it (an admin's login), as the tombstone keeps it.
    #[arg(long)]
    pub(crate) by: String,
    /// Erase the households merged into it too (else the erasure is refused, naming them).
    #[arg(long)]
    pub(crate) with_merged: bool,
    /// The case store, e.g. sqlite://data/cris.db or postgres://user@host/cris.
    #[arg(long, env = "CRIS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub(crate) database_url: String,
}

/// On SQLite, the store's lock, so that no server runs on it while this process erases: a
/// server running beside an erasure made by another process was seen to go on reading the
/// household from before it (and to store what a phone sent for it). PostgreSQL has no such
/// lock: its servers share the database by design.
fn no_server_beside(database_url: &str) -> Result<Option<cris_server::backup::ServeLock>, String> {
    let Ok(db) = cris_server::backup::sqlite_file(database_url) else {
        return Ok(None);
    };
    cris_server::backup::ServeLock::take(&db)
        .map(Some)
        .map_err(|e| match e {
            cris_server::backup::LockError::Held => format!(
                "a server is using {}: stop it first (systemctl stop cris-field), erase, and start it again; nothing was erased",
                db.display()
            ),
            cris_server::backup::LockError::Io(e) => format!("cannot lock {}: {e}", db.display()),
        })
}

pub(crate) async fn erase(args: EraseArgs) -> Result<(), String> {
    if args.reason.trim().is_empty() {
        return Err("--reason must say why the household is erased".to_owned());
    }
    let _alone = no_server_beside(&args.database_url)?;
    let store = open_existing(&args.database_url, false).await?;
    let result = erase_with(&store, &args).await;
    store.close().await;
    result
}

async fn erase_with(store: &CaseStore, args: &EraseArgs) -> Result<(), String> {
    let admin = store
        .users()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|u| u.login == args.by);
    match admin {
        Some(u) if u.role == cris_core::api::Role::Admin && !u.disabled => {}
        _ => {
            return Err(format!(
                "{:?} is not an enabled administrator's login: only an administrator erases",
                args.by
            ));
        }
    }
    let now = auth::now_ms();
    let erase = |id: String| async move {
        store
            .erase(&id, &args.by, args.reason.trim(), now)
            .await
            .map_err(|e| e.to_string())
    };
    match erase(args.case_id.clone()).await? {
        Erased::Done(t) => said(&t),
        Erased::NotFound => return Err(format!("no household has the id {}", args.case_id)),
        Erased::Already(at) => {
            return Err(format!(
                "the household {} was erased already ({})",
                args.case_id,
                when(at)
            ));
        }
        Erased::OthersMergedIn(others) if args.with_merged => {
            for other in others {
                match erase(other.clone()).await? {
                    Erased::Done(t) => said(&t),
                    refused => return Err(format!("{other} was not erased: {refused:?}")),
                }
            }
            match erase(args.case_id.clone()).await? {
                Erased::Done(t) => said(&t),
                refused => return Err(format!("{} was not erased: {refused:?}", args.case_id)),
            }
        }
        Erased::OthersMergedIn(others) => {
            return Err(format!(
                "households are merged into {}: {}. Erase them too (--with-merged), or undo their merges first; nothing was erased",
                args.case_id,
                others.join(", ")
            ));
        }
    }
    Ok(())
}

/// A day and time (UTC) for the command line.
fn when(ms: i64) -> String {
    let day = cris_core::Date::from_days(ms.div_euclid(86_400_000) as i32);
    let minutes = ms.rem_euclid(86_400_000) / 60_000;
    format!("{day} {:02}:{:02} UTC", minutes / 60, minutes % 60)
}

fn said(t: &Tombstone) {
    let forms = t.held.iter().filter(|r| r.kind == "submit").count();
    let consents = t
        .held
        .iter()
        .filter(|r| r.kind == "consent" || r.kind == "withdraw")
        .count();
    println!(
        "erased the household {} ({} operations: {forms} forms, {consents} consents and withdrawals); phones delete it at their next sync",
        t.case_id,
        t.held.len()
    );
}

#[derive(Debug, Args)]
pub(crate) struct RetentionArgs {
    /// Only show which households are due, erase none.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// The agency file, whose "retention_months" sets the period (the same CRIS_AGENCY as
    /// `serve`).
    #[arg(long, env = "CRIS_AGENCY")]
    pub(crate) agency: std::path::PathBuf,
    /// The case store, e.g. sqlite://data/cris.db or postgres://user@host/cris.
    #[arg(long, env = "CRIS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub(crate) database_url: String,
}

/// `cris-server retention`: what the daily job does, at once (or, dry, what it would do).
pub(crate) async fn retention(args: RetentionArgs) -> Result<(), String> {
    let (_, months) =
        cris_server::consent::read_agency_file(&args.agency).map_err(|e| e.to_string())?;
    let Some(months) = months else {
        return Err(format!(
            "{} sets no \"retention_months\": nothing is erased by retention",
            args.agency.display()
        ));
    };
    let _alone = match args.dry_run {
        true => None,
        false => no_server_beside(&args.database_url)?,
    };
    let store = open_existing(&args.database_url, false).await?;
    let due = store
        .enforce_retention(months, auth::now_ms(), args.dry_run)
        .await
        .map_err(|e| e.to_string());
    store.close().await;
    let due = due?;
    println!("retention period: {months} months after a case closed");
    if due.is_empty() {
        println!("no household is due");
    }
    for d in &due {
        let what = if d.erased {
            "erased"
        } else if args.dry_run {
            "due"
        } else {
            "not erased"
        };
        println!("{} closed {} due {} {what}", d.case_id, d.closed, d.due);
    }
    if args.dry_run && !due.is_empty() {
        println!("(dry run: nothing was erased)");
    }
    Ok(())
}
