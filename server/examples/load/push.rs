//! Phones pushing and pulling: merge throughput, an outbox emptied end to end, many phones
//! saturating the server, and the same phones at a pace.

use super::*;

/// `count` operations of one phone: every third a visit that changes the housing of a
/// household the phone recorded before, the rest intakes of new households.
pub(crate) fn workload(device: &str, count: usize) -> Vec<Operation> {
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

pub(crate) fn body(ops: &[Operation]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "ops": ops })).expect("serialize")
}

pub(crate) async fn push(
    server: &TestServer,
    token: &str,
    body: Vec<u8>,
) -> (Duration, PushResponse) {
    push_with(&server.client, &server.url("/api/v1/ops"), token, body).await
}

pub(crate) async fn push_with(
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

pub(crate) fn check_all_acknowledged(answer: &PushResponse) {
    for r in &answer.results {
        assert!(
            matches!(r.outcome, Outcome::Applied | Outcome::Conflict { .. }),
            "{} was {:?}",
            r.op_id,
            r.outcome
        );
    }
}

pub(crate) async fn merge_throughput(server: &TestServer) {
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

pub(crate) async fn end_to_end(server: &TestServer) {
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

/// What the phones push: ten batches of 20 each, made before the clock starts, or batches of
/// 20 made one after another until `stop` is set.
pub(crate) enum Batches {
    Ten,
    Until(Arc<AtomicBool>),
}

/// `count` phones, phone n logged in as `{prefix}{n}.w` in `teams[n % teams.len()]`: each
/// one's token and device.
pub(crate) async fn phone_accounts(
    server: &TestServer,
    prefix: &str,
    teams: &[&str],
    count: usize,
) -> Vec<(String, String)> {
    let mut phones = Vec::with_capacity(count);
    for p in 0..count {
        let team = teams[p % teams.len()];
        let token = server
            .account(&format!("{prefix}{p}.w"), Role::Worker, &[team])
            .await;
        phones.push((token, new_uuid()));
    }
    phones
}

/// `phones` phones of the team, each with 10 batches of 20 operations to push, each batch
/// after the last was answered and, with a `pace`, not before its next tick. Returns every
/// push's latency, sorted, and the time it all took.
pub(crate) async fn play_phones(
    server: &TestServer,
    phones: usize,
    pace: Option<Duration>,
) -> (Vec<Duration>, Duration) {
    let accounts = phone_accounts(server, "phone", &[TEAM], phones).await;
    let (answered, _) = tokio::sync::watch::channel(0);
    push_from_phones(server, accounts, pace, Batches::Ten, Arc::new(answered)).await
}

/// The phones push their `batches`, each on its own task; paced ones spread over the
/// interval. Returns every push's latency, sorted, and the time it all took.
pub(crate) async fn push_from_phones(
    server: &TestServer,
    accounts: Vec<(String, String)>,
    pace: Option<Duration>,
    batches: Batches,
    answered: Arc<tokio::sync::watch::Sender<usize>>,
) -> (Vec<Duration>, Duration) {
    let phones = accounts.len();
    let work: Vec<_> = accounts
        .into_iter()
        .map(|(token, device)| {
            let ready: Vec<Vec<u8>> = match batches {
                Batches::Ten => workload(&device, 200).chunks(20).map(body).collect(),
                Batches::Until(_) => Vec::new(),
            };
            (token, device, ready)
        })
        .collect();
    let stop = match &batches {
        Batches::Ten => None,
        Batches::Until(stop) => Some(stop.clone()),
    };
    let url = server.url("/api/v1/ops");
    let started = Instant::now();
    let tasks: Vec<_> = work
        .into_iter()
        .enumerate()
        .map(|(p, (token, device, ready))| {
            let (client, url, stop) = (server.client.clone(), url.clone(), stop.clone());
            let answered = answered.clone();
            tokio::spawn(async move {
                let mut tick = pace.map(|every| {
                    let offset = every.mul_f64(p as f64 / phones as f64);
                    let mut tick =
                        tokio::time::interval_at(tokio::time::Instant::now() + offset, every);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    tick
                });
                let mut ready = ready.into_iter();
                let mut took = Vec::new();
                loop {
                    let b = match &stop {
                        None => match ready.next() {
                            Some(b) => b,
                            None => break,
                        },
                        Some(stop) if stop.load(Ordering::Relaxed) => break,
                        Some(_) => body(&workload(&device, 20)),
                    };
                    if let Some(tick) = &mut tick {
                        tick.tick().await;
                    }
                    let (latency, answer) = push_with(&client, &url, &token, b).await;
                    check_all_acknowledged(&answer);
                    took.push(latency);
                    answered.send_modify(|n| *n += 1);
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
pub(crate) async fn many_phones(server: &TestServer, phones: usize) {
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
pub(crate) async fn phones_at_a_pace(server: &TestServer, phones: usize) {
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

// The review benchmark: a supervisor's queue on a store of 5,000 households and 50,000 forms.
