//! Faults the central store must survive, with the real `cris-server` binary: killed with
//! SIGKILL in the middle of a large push and restarted, the phone retrying what was not
//! acknowledged (every operation present exactly once, on SQLite and on PostgreSQL); and two
//! server processes on one PostgreSQL database applying two phones' concurrent edits of one
//! case (nothing lost, the merged state equal to the merge model of core).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::support::process::Process;
use crate::support::{TEAM, TestPg, account_on, new_uuid, now, submit_op};
use cris_core::api::Role;
use cris_core::hlc::Hlc;
use cris_core::merge::{Field, Write};
use cris_core::record::{Case, Operation};
use cris_core::sync::{Outcome, PullResponse, PushResponse};
use serde_json::json;

async fn push(url: &str, token: &str, ops: &[Operation]) -> reqwest::Result<PushResponse> {
    reqwest::Client::new()
        .post(format!("{url}/api/v1/ops"))
        .bearer_auth(token)
        .json(&json!({ "ops": ops }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
}

async fn pull_all(url: &str, token: &str) -> Vec<Operation> {
    let (mut all, mut cursor) = (Vec::new(), 0);
    loop {
        let page: PullResponse = reqwest::Client::new()
            .get(format!("{url}/api/v1/ops?since={cursor}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        all.extend(page.ops);
        cursor = page.next_cursor;
        if !page.more {
            return all;
        }
    }
}

async fn killed_mid_push_loses_nothing_and_doubles_nothing(database_url: &str) {
    let store = cris_server::CaseStore::open(database_url).await.unwrap();
    let token = account_on(&store, "ayse.w", Role::Worker, &[TEAM]).await;
    let device = new_uuid();
    let outbox: Vec<Operation> = (0..3000)
        .map(|i| {
            let change = [("housing_situation", "shelter")];
            submit_op("intake", &new_uuid(), &device, now() + i, &change, &[])
        })
        .collect();

    let server = Process::start(database_url);
    let acked = std::sync::Arc::new(std::sync::Mutex::new(HashSet::<String>::new()));
    let pushing = {
        let (url, token, outbox, acked) = (
            server.url.clone(),
            token.clone(),
            outbox.clone(),
            acked.clone(),
        );
        tokio::spawn(async move {
            for batch in outbox.chunks(500) {
                let Ok(answer) = push(&url, &token, batch).await else {
                    return;
                };
                let mut acked = acked.lock().unwrap();
                for r in answer.results {
                    assert!(r.outcome.acknowledged(), "{:?}", r.outcome);
                    acked.insert(r.op_id);
                }
            }
        })
    };
    // Killed as soon as the second batch of 500 reaches the server: while it is read,
    // checked or applied, or just after its commit.
    let server = tokio::task::spawn_blocking(move || {
        server.wait_for_push(2);
        server
    })
    .await
    .unwrap();
    server.kill();
    pushing.await.unwrap();
    let acknowledged = acked.lock().unwrap().clone();
    assert!(
        acknowledged.len() < outbox.len(),
        "the kill came before the end of the push"
    );

    // Restarted, the phone sends again all it has no answer for.
    let server = Process::start(database_url);
    let left: Vec<Operation> = outbox
        .iter()
        .filter(|op| !acknowledged.contains(&op.op_id))
        .cloned()
        .collect();
    for batch in left.chunks(500) {
        let answer = push(&server.url, &token, batch).await.unwrap();
        for r in answer.results {
            assert!(
                matches!(r.outcome, Outcome::Applied | Outcome::Duplicate),
                "{:?}",
                r.outcome
            );
        }
    }
    let logged = pull_all(&server.url, &token).await;
    let ids: Vec<&str> = logged.iter().map(|o| o.op_id.as_str()).collect();
    let distinct: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), outbox.len(), "every operation is in the log");
    assert_eq!(distinct.len(), ids.len(), "none of them twice");
    let sent: BTreeSet<&str> = outbox.iter().map(|o| o.op_id.as_str()).collect();
    assert_eq!(distinct, sent);
    server.kill();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_push_on_sqlite_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/cris.db", dir.path().display());
    killed_mid_push_loses_nothing_and_doubles_nothing(&url).await;
    // And the file is sound.
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_push_on_postgres_loses_and_doubles_nothing() {
    let pg = TestPg::create().await;
    killed_mid_push_loses_nothing_and_doubles_nothing(&pg.url).await;
}

/// One phone's run: `count` visits to the case, each setting the housing to one of a few
/// values, each having seen what the phone last pulled from its server.
/// Returns the operations and how many were answered as a conflict.
async fn phone(
    url: String,
    token: String,
    case_id: String,
    count: usize,
) -> (Vec<Operation>, usize) {
    let device = new_uuid();
    let values = ["sublet", "shelter", "homeless", "overcrowded", "at_risk"];
    let mut acknowledged = Vec::new();
    let mut seen: Vec<Hlc> = Vec::new();
    let mut conflicts = 0;
    for i in 0..count {
        let value = values[(i * 3 + device.len() + acknowledged.len()) % values.len()];
        let op = submit_op(
            "home_visit",
            &case_id,
            &device,
            now() + i as u64,
            &[("housing_situation", value)],
            &seen,
        );
        let answer = push(&url, &token, std::slice::from_ref(&op)).await.unwrap();
        match &answer.results[0].outcome {
            Outcome::Conflict { .. } => conflicts += 1,
            Outcome::Applied => {}
            other => panic!("{other:?}"),
        }
        seen = vec![op.hlc.clone()];
        acknowledged.push(op);
        // Now and then the phone syncs down and sees what the other wrote.
        if i % 4 == 3 {
            let mut case = Case::new(&case_id, 0.0);
            for op in pull_all(&url, &token).await {
                case.apply(&op);
            }
            seen = case.fields.0["housing_situation"].seen_by_next_write();
        }
    }
    (acknowledged, conflicts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_merge_concurrent_edits_without_loss() {
    let pg = TestPg::create().await;
    let store = cris_server::CaseStore::open(&pg.url).await.unwrap();
    let ayse = account_on(&store, "ayse.w", Role::Worker, &[TEAM]).await;
    let jan = account_on(&store, "jan.w", Role::Worker, &[TEAM]).await;
    let one = Process::start(&pg.url);
    let two = Process::start(&pg.url);

    let case_id = new_uuid();
    let intake = submit_op(
        "intake",
        &case_id,
        &new_uuid(),
        now(),
        &[("housing_situation", "sublet")],
        &[],
    );
    push(&one.url, &ayse, std::slice::from_ref(&intake))
        .await
        .unwrap();

    let a = tokio::spawn(phone(one.url.clone(), ayse.clone(), case_id.clone(), 40));
    let b = tokio::spawn(phone(two.url.clone(), jan.clone(), case_id.clone(), 40));
    let (from_a, conflicts_a) = a.await.unwrap();
    let (from_b, conflicts_b) = b.await.unwrap();
    assert!(
        conflicts_a + conflicts_b > 0,
        "the phones did edit concurrently"
    );
    let mut sent = vec![intake];
    sent.extend(from_a);
    sent.extend(from_b);

    // The model: core's merge of every acknowledged operation, in a scrambled order.
    let mut model = Case::new(&case_id, 0.0);
    let mut scrambled = sent.clone();
    scrambled.reverse();
    scrambled.rotate_left(17);
    for op in &scrambled {
        model.apply(op);
    }

    // What the store holds: every write of every operation, read back from the database.
    let pool = sqlx::PgPool::connect(&pg.url).await.unwrap();
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT hlc, value, seen FROM field_writes
         WHERE case_id = $1 AND field = 'housing_situation'",
    )
    .bind(&case_id)
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut stored = Field::default();
    for (hlc, value, seen) in rows {
        stored.apply(Write {
            value,
            hlc: hlc.parse().unwrap(),
            seen: serde_json::from_str(&seen).unwrap(),
        });
    }
    let expected = &model.fields.0["housing_situation"];
    let stamps = |f: &Field| -> BTreeMap<String, String> {
        f.history()
            .iter()
            .map(|w| (w.hlc.to_string(), w.value.clone()))
            .collect()
    };
    assert_eq!(
        stamps(&stored),
        stamps(expected),
        "no write lost, none invented"
    );
    assert_eq!(stored.current(), expected.current());
    assert_eq!(stored.conflict(), expected.conflict());

    // Each process's log holds each operation once, and both pull the same.
    let from_one = pull_all(&one.url, &ayse).await;
    let from_two = pull_all(&two.url, &jan).await;
    assert_eq!(from_one, from_two);
    assert_eq!(from_one.len(), sent.len());
    let ids: BTreeSet<&str> = from_one.iter().map(|o| o.op_id.as_str()).collect();
    assert_eq!(ids.len(), sent.len());
    one.kill();
    two.kill();
    pool.close().await;
    store.close().await;
}
