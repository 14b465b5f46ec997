//! Load generator: phones pushing and pulling over HTTP on loopback against the real server,
//! on SQLite (a file in a temporary folder) and on PostgreSQL (a fresh database on the local
//! server, `CRIS_TEST_POSTGRES` to name another).
//!
//! ```text
//! cargo run --release -p cris-server --example load -- [sqlite|postgres|both|check] [--phones N]
//! ```
//!
//! First what reading and checking one operation costs on one core (`check`: only that),
//! then three measurements per store:
//! 1. merge throughput: one phone pushes 20 batches of 500 operations (intakes of new
//!    households and visits that change the housing of earlier ones);
//! 2. end to end: 10,000 operations leave one phone's outbox in the phone's batches of 100
//!    until every one is acknowledged, then another phone of the team pulls them all;
//! 3. many phones: N phones (default 100) at once, each pushing 10 batches of 20, each batch
//!    the moment the last was answered (the server saturated);
//! 4. the same N phones at a pace: each pushes a batch of 20 once a second, ten times.
//!
//! Client and server share this machine's cores: the figures are a floor.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use cris_core::api::Role;
use cris_core::record::Operation;
use cris_core::sync::{Outcome, PullResponse, PushResponse};
use serde_json::json;
use support::{TestServer, new_uuid, submit_op};

const TEAM: &str = "Offenbach Nord";

/// The server allocates many small strings per operation (answers, JSON); glibc's malloc made
/// a fifth of its time under load, mimalloc much less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn now() -> u64 {
    cris_server::auth::now_ms() as u64
}

/// `count` operations of one phone: every third a visit that changes the housing of a
/// household the phone recorded before, the rest intakes of new households.
fn workload(device: &str, count: usize) -> Vec<Operation> {
    let housing = ["sublet", "shelter", "overcrowded", "at_risk"];
    let mut cases: Vec<String> = Vec::new();
    let mut ops = Vec::with_capacity(count);
    for i in 0..count {
        let at = now() + i as u64;
        let op = if i % 3 == 2 && !cases.is_empty() {
            let case = &cases[(i * 7) % cases.len()];
            let change = [("housing_situation", housing[i % 4])];
            submit_op("home_visit", case, device, at, &change, &[])
        } else {
            let case = new_uuid();
            cases.push(case.clone());
            let change = [("housing_situation", housing[i % 4])];
            submit_op("intake", &case, device, at, &change, &[])
        };
        ops.push(op);
    }
    ops
}

fn body(ops: &[Operation]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "ops": ops })).expect("serialize")
}

async fn push(server: &TestServer, token: &str, body: Vec<u8>) -> (Duration, PushResponse) {
    push_with(&server.client, &server.url("/api/v1/ops"), token, body).await
}

async fn push_with(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: Vec<u8>,
) -> (Duration, PushResponse) {
    let started = Instant::now();
    let res = client
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("push");
    assert!(res.status().is_success(), "push answered {}", res.status());
    let answer: PushResponse = res.json().await.expect("push answer");
    (started.elapsed(), answer)
}

fn check_all_acknowledged(answer: &PushResponse) {
    for r in &answer.results {
        assert!(
            matches!(r.outcome, Outcome::Applied | Outcome::Conflict { .. }),
            "{} was {:?}",
            r.op_id,
            r.outcome
        );
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn merge_throughput(server: &TestServer) {
    let token = server.account("merge.w", Role::Worker, &[TEAM]).await;
    let device = new_uuid();
    let ops = workload(&device, 10_000);
    let bodies: Vec<Vec<u8>> = ops.chunks(500).map(body).collect();
    let mut spent = Duration::ZERO;
    let mut each = Vec::new();
    for b in bodies {
        let (took, answer) = push(server, &token, b).await;
        check_all_acknowledged(&answer);
        spent += took;
        each.push(took);
    }
    each.sort();
    println!(
        "  merge: 10,000 ops in batches of 500: {:.0} ops/s (batch p50 {:.0} ms, max {:.0} ms)",
        10_000.0 / spent.as_secs_f64(),
        ms(percentile(&each, 0.5)),
        ms(*each.last().unwrap()),
    );
}

async fn end_to_end(server: &TestServer) {
    let token = server.account("e2e.w", Role::Worker, &[TEAM]).await;
    let colleague = server.account("e2e.k", Role::Worker, &[TEAM]).await;
    let device = new_uuid();
    let outbox = workload(&device, 10_000);
    let started = Instant::now();
    for batch in outbox.chunks(100) {
        let (_, answer) = push(server, &token, body(batch)).await;
        check_all_acknowledged(&answer);
    }
    let pushed = started.elapsed();
    let started = Instant::now();
    let (mut cursor, mut pulled) = (0, 0);
    loop {
        let page: PullResponse = server
            .client
            .get(server.url(&format!("/api/v1/ops?since={cursor}")))
            .bearer_auth(&colleague)
            .send()
            .await
            .expect("pull")
            .json()
            .await
            .expect("pull answer");
        pulled += page.ops.len();
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
    }
    assert!(pulled >= 10_000, "pulled {pulled}");
    println!(
        "  end to end: 10,000 ops from the outbox (batches of 100) acknowledged in {:.2} s ({:.0} ops/s); pulled by a colleague in {:.2} s",
        pushed.as_secs_f64(),
        10_000.0 / pushed.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
}

/// `phones` phones of the team, each with 10 batches of 20 operations to push, each batch
/// after the last was answered and, with a `pace`, not before its next tick. Returns every
/// push's latency, sorted, and the time it all took.
async fn play_phones(
    server: &TestServer,
    phones: usize,
    pace: Option<Duration>,
) -> (Vec<Duration>, Duration) {
    let mut work = Vec::new();
    for p in 0..phones {
        let token = server
            .account(&format!("phone{p}.w"), Role::Worker, &[TEAM])
            .await;
        let device = new_uuid();
        let bodies: Vec<Vec<u8>> = workload(&device, 200).chunks(20).map(body).collect();
        work.push((token, bodies));
    }
    let url = server.url("/api/v1/ops");
    let started = Instant::now();
    // Every phone on its own task; paced ones spread over the interval.
    let tasks: Vec<_> = work
        .into_iter()
        .enumerate()
        .map(|(p, (token, bodies))| {
            let (client, url) = (server.client.clone(), url.clone());
            tokio::spawn(async move {
                let mut tick = pace.map(|every| {
                    let offset = every.mul_f64(p as f64 / phones as f64);
                    let mut tick =
                        tokio::time::interval_at(tokio::time::Instant::now() + offset, every);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    tick
                });
                let mut took = Vec::new();
                for b in bodies {
                    if let Some(tick) = &mut tick {
                        tick.tick().await;
                    }
                    let (latency, answer) = push_with(&client, &url, &token, b).await;
                    check_all_acknowledged(&answer);
                    took.push(latency);
                }
                took
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("phone"));
    }
    let wall = started.elapsed();
    all.sort();
    (all, wall)
}

/// Every phone pushes its next batch the moment the last was answered: the server saturated.
async fn many_phones(server: &TestServer, phones: usize) {
    let (all, wall) = play_phones(server, phones, None).await;
    println!(
        "  {phones} phones x 10 batches of 20: {:.0} requests/s, {:.0} ops/s, latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        all.len() as f64 / wall.as_secs_f64(),
        (all.len() * 20) as f64 / wall.as_secs_f64(),
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.99)),
        ms(*all.last().unwrap()),
    );
}

/// The same phones as in the field: each pushes a batch of 20 once a second (at its own moment
/// within the second), ten times.
async fn phones_at_a_pace(server: &TestServer, phones: usize) {
    let (all, wall) = play_phones(server, phones, Some(Duration::from_secs(1))).await;
    println!(
        "  {phones} phones each pushing 20 once a second: {:.0} requests/s, latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        all.len() as f64 / wall.as_secs_f64(),
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.9)),
        ms(percentile(&all, 0.99)),
        ms(*all.last().unwrap()),
    );
}

/// What the server spends on one operation before the store sees it, on one core: reading
/// it from JSON and checking it with the form engine.
fn check_cost() {
    let catalog = cris_server::FormCatalog::embedded().expect("the shipped forms");
    let ops = workload(&new_uuid(), 3_000);
    let texts: Vec<String> = ops
        .iter()
        .map(|op| serde_json::to_string(op).expect("serialize"))
        .collect();
    let now = cris_server::auth::now_ms();
    let started = Instant::now();
    let parsed: Vec<Operation> = texts
        .iter()
        .map(|t| serde_json::from_str(t).expect("parse"))
        .collect();
    let parsing = started.elapsed();
    let started = Instant::now();
    for op in &parsed {
        let form = op.submission().and_then(|s| catalog.get(&s.form_id));
        cris_core::sync::check(op, form.as_deref(), now).expect("valid");
    }
    let checking = started.elapsed();
    let per_op = |d: Duration| d.as_secs_f64() * 1e6 / parsed.len() as f64;
    println!(
        "per operation on one core: read from JSON {:.1} µs, checked by the form engine {:.1} µs",
        per_op(parsing),
        per_op(checking),
    );
}

async fn run(kind: &str, phones: usize) {
    println!("{kind}:");
    let fresh = || async {
        match kind {
            "sqlite" => TestServer::sqlite().await,
            _ => TestServer::postgres().await,
        }
    };
    merge_throughput(&fresh().await).await;
    end_to_end(&fresh().await).await;
    many_phones(&fresh().await, phones).await;
    phones_at_a_pace(&fresh().await, phones).await;
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args
        .iter()
        .find(|a| ["sqlite", "postgres", "both", "check"].contains(&a.as_str()))
        .map_or("both", String::as_str);
    let phones = args
        .iter()
        .position(|a| a == "--phones")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    check_cost();
    for kind in ["sqlite", "postgres"] {
        if which == kind || which == "both" {
            run(kind, phones).await;
        }
    }
}
