//! `cris-server backup` and `restore`.

use cris_server::auth;

pub(crate) async fn backup(database_url: &str, to: &std::path::Path) -> Result<(), String> {
    let db = cris_server::backup::sqlite_file(database_url)?;
    let summary = cris_server::backup::backup(&db, to).await?;
    println!(
        "backed up store {} ({} operations, up to {}) to {} ({} bytes)",
        summary.store_id,
        summary.operations,
        summary.last_seq,
        to.display(),
        summary.bytes
    );
    Ok(())
}

pub(crate) async fn restore(database_url: &str, from: &std::path::Path) -> Result<(), String> {
    let db = cris_server::backup::sqlite_file(database_url)?;
    let (summary, aside) = cris_server::backup::restore(&db, from, auth::now_ms()).await?;
    println!(
        "restored {} ({} operations, up to {}) into {}; its new store id is {}: phones send \
         again what it lacks at their next sync",
        from.display(),
        summary.operations,
        summary.last_seq,
        db.display(),
        summary.store_id
    );
    if let Some(aside) = aside {
        println!("the replaced store was kept as {}", aside.display());
    }
    Ok(())
}
