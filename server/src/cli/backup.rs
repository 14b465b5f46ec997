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
    let store = super::open_store(database_url).await?;
    let result = super::reapply_erasures(&store).await;
    store.close().await;
    result
}

/// `cris-server restored`: a PostgreSQL store put back by `pg_restore` gets a new id, and the
/// erasures made since its dump was taken are made again.
pub(crate) async fn restored(database_url: &str) -> Result<(), String> {
    let id = cris_server::backup::renew_store_id(database_url, auth::now_ms()).await?;
    println!("the store's new id is {id}: phones send again what it lacks at their next sync");
    let store = super::open_store(database_url).await?;
    let result = super::reapply_erasures(&store).await;
    store.close().await;
    result
}
