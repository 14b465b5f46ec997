//! Nothing acknowledged is lost for good: a phone synced household A, the store was backed
//! up, the phone synced household B, the store was restored from that backup (it lacks B).
//! At the phone's next sync the store has A and B again, each once.

use cris_e2e::phone::{self, record_synced_household, team_server};
use cris_e2e::ui::click_testid;
use cris_e2e::{Browser, Chromedriver, wait_until};

/// (operations, distinct operation ids, households) in the store's file.
async fn counts(db: &std::path::Path) -> (i64, i64, i64) {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let counts = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM ops), (SELECT COUNT(DISTINCT op_id) FROM ops),
                (SELECT COUNT(*) FROM cases)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restore_the_phone_sends_again_what_the_store_lacks() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 412, 915, "de").await;
    phone::first_login(&b, &server, "ayse.w").await;
    record_synced_household(&b, "Familie Kaya").await;

    let backups = tempfile::tempdir().unwrap();
    let nightly = backups.path().join("nightly.db");
    cris_server::backup::backup(&server.db_path(), &nightly)
        .await
        .unwrap();
    record_synced_household(&b, "Familie Demir").await;
    let (ops, _, households) = counts(&server.db_path()).await;
    assert_eq!(households, 2);

    let before = server.store.instance_id().to_owned();
    let restored = nightly.clone();
    let server = server
        .restart_after(|db| async move {
            cris_server::backup::restore(&db, &restored, cris_server::auth::now_ms())
                .await
                .unwrap();
        })
        .await;
    assert_ne!(server.store.instance_id(), before);
    assert_eq!(
        counts(&server.db_path()).await.2,
        1,
        "the backup lacks Demir"
    );

    // The worker syncs (or the phone does by itself): Demir is back, Kaya is not doubled.
    click_testid(&b, "sync-now").await;
    wait_until("the phone to send again what the store lacks", || async {
        (counts(&server.db_path()).await == (ops, ops, 2)).then_some(())
    })
    .await;
    phone::wait_for_sync_text(&b, "Alles synchronisiert").await;
    // Both households still on the phone, nothing waiting.
    for name in ["Familie Kaya", "Familie Demir"] {
        phone::open_case(&b, name).await;
    }
    assert_eq!(phone::outbox_count(&b).await, serde_json::json!(0));
    b.close().await;
    server.stop().await;
}
