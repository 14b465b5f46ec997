//! Load generator: phones pushing and pulling over HTTP on loopback against the real server,
//! on SQLite (a file in a temporary folder) and on PostgreSQL (a fresh database on the local
//! server, `CRIS_TEST_POSTGRES` to name another).
//!
//! ```text
//! cargo run --release -p cris-server --example load -- [sqlite|postgres|both|check] [--phones N]
//! cargo run --release -p cris-server --example load -- review [sqlite|postgres|both] [--phones N] [--saturated] [--no-analyze] [--no-dashboard]
//! ```
//!
//! First what reading and checking one operation costs on one core (`check`: only that),
//! then four measurements per store:
//! 1. merge throughput: one phone pushes 20 batches of 500 operations (intakes of new
//!    households and visits that change the housing of earlier ones);
//! 2. end to end: 10,000 operations leave one phone's outbox in the phone's batches of 100
//!    until every one is acknowledged, then another phone of the team pulls them all;
//! 3. many phones: N phones (default 100) at once, each pushing 10 batches of 20, each batch
//!    the moment the last was answered (the server saturated);
//! 4. the same N phones at a pace: each pushes a batch of 20 once a second, ten times.
//!
//! `review` measures review instead (about a minute per store): a store is filled with what
//! 40 workers in 4 teams sent over 60 days (5,000 households, 50,000 forms of which about
//! 4,000 corrections, and about 20,000 review decisions, every review status occurring),
//! then a team's supervisor requests the queue (whole, by status, by worker and week, by
//! form, deep pages), single forms, decisions, a worker the inbox, and the supervisor and the
//! lead the dashboard (after timing the first dashboard, which summarises every household
//! once): 300 requests each, one at a time, idle and then while N phones of the four teams
//! push 20 operations once a second each (`--saturated`: each batch the moment the last was
//! answered). It prints p50
//! and p99 per endpoint and whether p99 stays under 100 ms while the phones push. On
//! PostgreSQL the tables are analyzed after filling (`--no-analyze`: not). `--no-dashboard`
//! leaves the dashboard out, to see what its refreshes cost the pushes and the rest.
//!
//! Client and server share this machine's cores: the figures are a floor.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cris_core::api::{Dashboard, ReviewDecision, ReviewPage, ReviewStatus, Role};
use cris_core::hlc::Hlc;
use cris_core::record::{Change, Correction, Operation};
use cris_core::sync::{Outcome, PullResponse, PushResponse};
use cris_server::Store;
use cris_server::store::{CheckedOp, Stored, User};
use serde_json::json;
use support::{TestServer, new_uuid, submission_mut, submit_op};

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

/// What the phones push: ten batches of 20 each, made before the clock starts, or batches of
/// 20 made one after another until `stop` is set.
enum Batches {
    Ten,
    Until(Arc<AtomicBool>),
}

/// `count` phones, phone n logged in as `{prefix}{n}.w` in `teams[n % teams.len()]`: each
/// one's token and device.
async fn phone_accounts(
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
async fn play_phones(
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
async fn push_from_phones(
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

// The review benchmark: a supervisor's queue on a store of 5,000 households and 50,000 forms.

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
const INTAKE: &str = "intake";
const VISIT: &str = "home_visit";
/// The teams of the review benchmark; the supervisor measured leads the first.
const TEAMS: [&str; 4] = [TEAM, "Offenbach Süd", "Hanau Lamboy", "Frankfurt Gallus"];
/// The start of the logins of each team's workers and supervisor.
const SHORT: [&str; 4] = ["nord", "sued", "lamboy", "gallus"];
const WORKERS_PER_TEAM: usize = 10;
const CASES: usize = 5_000;
const SUBMISSIONS: usize = 50_000;
/// Days of receipt, the last one yesterday.
const DAYS: i64 = 60;
/// Home visits planned; the last day tops the forms up to `SUBMISSIONS` (corrections are the
/// rest).
const VISITS: usize = 41_000;
/// Requests per endpoint, per run.
const REQUESTS: usize = 300;
/// How long the requests while phones push may take at most: the phones add 20 operations
/// a second each to the store, which soon outgrows the one seeded.
const LOADED_BUDGET: Duration = Duration::from_secs(60);
/// The issue's target for every endpoint while phones push.
const TARGET: Duration = Duration::from_millis(100);

const SENT_BACK: [&str; 4] = [
    "Bitte das Datum des Besuchs prüfen, es liegt vor der Aufnahme.",
    "Angaben zur Wohnsituation fehlen, bitte ergänzen.",
    "Die Sprachmittlerin ist nicht eingetragen.",
    "Vereinbarte Schritte bitte mit Frist und Zuständigkeit.",
];

/// A small deterministic generator (xorshift64*): the same households on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// A worker of the review benchmark: the account, as the store knows it, and the phone.
struct Member {
    user: User,
    device: String,
}

/// Invented family names, put together from two parts: 400 of them over the households, so a
/// name search finds about a dozen households, as a common surname does.
const NAME_STARTS: [&str; 20] = [
    "Ak", "Bal", "Cev", "Dem", "Er", "Gül", "Hal", "Ism", "Kar", "Lat", "Mer", "Naz", "Öz", "Pet",
    "Sar", "Şen", "Tod", "Uz", "Yıl", "Zdr",
];
const NAME_ENDS: [&str; 20] = [
    "ova", "ev", "oğlu", "ieva", "kaya", "demir", "inov", "aliev", "can", "eva", "yurt", "ski",
    "ler", "ovič", "ková", "göz", "cı", "avo", "ay", "enko",
];

/// The invented family name of the `n`-th household.
fn family_name(n: usize) -> String {
    format!(
        "Familie {}{}",
        NAME_STARTS[n % NAME_STARTS.len()],
        NAME_ENDS[(n / NAME_STARTS.len()) % NAME_ENDS.len()]
    )
}

/// A household: its team, the worker who has it and the day it was taken in (of `DAYS`), and
/// the latest write of each property, which the next form has seen.
struct Household {
    name: String,
    id: String,
    team: usize,
    worker: usize,
    opened: i64,
    heads: HashMap<String, Hlc>,
}

/// A form pushed, and where it stands in review as the store decides it.
struct Form {
    id: String,
    case: usize,
    form: &'static str,
    worker: usize,
    status: ReviewStatus,
    corrections: Vec<usize>,
}

/// A form a worker fills in on a day, before it has a time: on `case`, a correction of the
/// form `corrects` (an index in the forms) for a reason.
struct Planned {
    case: usize,
    form: &'static str,
    worker: usize,
    corrects: Option<(usize, &'static str)>,
}

/// What the supervisor's requests need of the seeded store.
struct Seeded {
    /// The supervisor of the first team and the lead of all four.
    supervisor: String,
    lead: String,
    /// The first team's workers' tokens.
    workers: Vec<String>,
    /// Logins of the first team's workers.
    logins: Vec<String>,
    /// The first day of receipt (days since 1970).
    first_day: i64,
}

/// A day (since 1970) as the queue's filters take it: `YYYY-MM-DD`.
fn day(days: i64) -> String {
    cris_core::Date::from_days(i32::try_from(days).expect("a day")).to_string()
}

async fn user_of(server: &TestServer, token: &str) -> User {
    let hash = cris_server::auth::token_hash(token);
    server
        .store
        .session_user(&hash, cris_server::auth::now_ms())
        .await
        .expect("session")
        .expect("a live session")
}

/// Fills the store as 40 workers in 4 teams would have over 60 days, day after day: in the
/// morning each team's supervisor reviews the forms received the day before (every intake
/// and resubmitted correction, a third of the rest), approving most and sending some back;
/// then the workers fill in the day's intakes, home visits and corrections (of forms sent
/// back, mostly that day or the next, and of their own visit of the day before), each pushed
/// a few minutes after it was finalized. Through the store (`push` and `add_review`, what
/// the API calls), which takes the time of receipt and of decision.
async fn seed_review(server: &TestServer) -> Seeded {
    let started = Instant::now();
    let store = &server.store;
    let catalog = cris_server::FormCatalog::embedded().expect("the shipped forms");
    let mut rng = Rng(0x05ee_d0fc_215f_1e1d);
    let mut members = Vec::new();
    let (mut workers, mut logins) = (Vec::new(), Vec::new());
    for (t, team) in TEAMS.iter().enumerate() {
        for i in 1..=WORKERS_PER_TEAM {
            let login = format!("{}{i:02}.w", SHORT[t]);
            let token = server.account(&login, Role::Worker, &[team]).await;
            let user = user_of(server, &token).await;
            if t == 0 {
                workers.push(token);
                logins.push(login);
            }
            members.push(Member {
                user,
                device: new_uuid(),
            });
        }
    }
    let mut supervisors = Vec::new();
    for (t, team) in TEAMS.iter().enumerate() {
        let login = format!("{}.s", SHORT[t]);
        let token = server.account(&login, Role::Supervisor, &[team]).await;
        supervisors.push((user_of(server, &token).await, token));
    }
    let lead = server.account("lead.s", Role::Supervisor, &TEAMS).await;

    let first_day = cris_server::auth::now_ms() / DAY_MS - DAYS;
    let mut households: Vec<Household> = (0..CASES)
        .map(|n| {
            let team = rng.below(TEAMS.len());
            let opened = rng.below(51) as i64;
            Household {
                name: family_name(n),
                id: cris_server::store::new_id((first_day + opened) * DAY_MS + 8 * HOUR_MS),
                team,
                worker: team * WORKERS_PER_TEAM + rng.below(WORKERS_PER_TEAM),
                opened,
                heads: HashMap::new(),
            }
        })
        .collect();
    // Visits per day follow the households open that day.
    let open_on = |d: i64| households.iter().filter(|h| h.opened < d).count();
    let open_days: usize = (0..DAYS).map(open_on).sum();
    let planned_visits: Vec<usize> = (0..DAYS)
        .map(|d| (VISITS * open_on(d)).div_ceil(open_days))
        .collect();

    let housing = ["sublet", "shelter", "overcrowded", "at_risk"];
    let mut forms: Vec<Form> = Vec::new();
    let mut received_on: Vec<Vec<usize>> = Vec::new();
    let mut due: HashMap<i64, Vec<(usize, &'static str)>> = HashMap::new();
    let (mut pushing, mut deciding) = (Duration::ZERO, Duration::ZERO);
    let (mut approved, mut sent_back) = (0, 0);
    for d in 0..DAYS {
        let day_ms = (first_day + d) * DAY_MS;
        // The morning: yesterday's forms reviewed.
        if let Some(yesterday) = received_on.last() {
            let decided_at = Instant::now();
            let mut at = day_ms + 7 * HOUR_MS;
            for &f in yesterday {
                let form = &forms[f];
                let resubmitted = form.status == ReviewStatus::Resubmitted;
                if !(resubmitted || form.form == INTAKE || rng.chance(0.3)) {
                    continue;
                }
                let back = rng.chance(0.15);
                let (decision, comment) = if back {
                    (
                        ReviewDecision::ChangesRequested,
                        SENT_BACK[rng.below(SENT_BACK.len())],
                    )
                } else {
                    (ReviewDecision::Approved, "")
                };
                at += 1_000 + rng.below(10_000) as i64;
                let reviewer = &supervisors[households[form.case].team].0;
                let (_, status) = store
                    .add_review(reviewer, &form.id, decision, comment, at)
                    .await
                    .expect("a decision")
                    .expect("a form of the supervisor's team");
                forms[f].status = status;
                for c in forms[f].corrections.clone() {
                    if forms[c].status == ReviewStatus::Resubmitted {
                        forms[c].status = ReviewStatus::New;
                    }
                }
                if back {
                    sent_back += 1;
                    // Corrected that day, the next, or never.
                    let r = rng.below(10);
                    let reason = "Nach Rückfrage der Teamleitung ergänzt";
                    if r < 6 {
                        due.entry(d).or_default().push((f, reason));
                    } else if r < 9 {
                        due.entry(d + 1).or_default().push((f, reason));
                    }
                } else {
                    approved += 1;
                }
            }
            deciding += decided_at.elapsed();
        }

        // The day's forms.
        let mut planned: Vec<Planned> = households
            .iter()
            .enumerate()
            .filter(|(_, h)| h.opened == d)
            .map(|(c, h)| Planned {
                case: c,
                form: INTAKE,
                worker: h.worker,
                corrects: None,
            })
            .collect();
        for (of, reason) in due.remove(&d).unwrap_or_default() {
            let f = &forms[of];
            planned.push(Planned {
                case: f.case,
                form: f.form,
                worker: f.worker,
                corrects: Some((of, reason)),
            });
        }
        for &f in received_on.last().map_or(&[][..], Vec::as_slice) {
            if forms[f].form == VISIT && rng.chance(0.03) {
                planned.push(Planned {
                    case: forms[f].case,
                    form: VISIT,
                    worker: forms[f].worker,
                    corrects: Some((f, "Uhrzeit des Besuchs berichtigt")),
                });
            }
        }
        let visits = if d == DAYS - 1 {
            SUBMISSIONS
                .checked_sub(forms.len() + planned.len())
                .expect("fewer forms before the last day than in all")
        } else {
            planned_visits[d as usize]
        };
        let mut open: Vec<usize> = (0..CASES).filter(|&c| households[c].opened < d).collect();
        assert!(visits <= open.len(), "{visits} visits on day {d}");
        for i in 0..visits {
            // Distinct households: a partial shuffle.
            let j = i + rng.below(open.len() - i);
            open.swap(i, j);
            let h = &households[open[i]];
            let worker = if rng.chance(0.85) {
                h.worker
            } else {
                h.team * WORKERS_PER_TEAM + rng.below(WORKERS_PER_TEAM)
            };
            planned.push(Planned {
                case: open[i],
                form: VISIT,
                worker,
                corrects: None,
            });
        }

        // Each worker's forms spread over the working day, from eight to four.
        let mut per_worker: HashMap<usize, usize> = HashMap::new();
        for p in &planned {
            *per_worker.entry(p.worker).or_default() += 1;
        }
        let mut nth: HashMap<usize, usize> = HashMap::new();
        let mut timed: Vec<(i64, Planned)> = planned
            .into_iter()
            .map(|p| {
                let slot = 8 * HOUR_MS / per_worker[&p.worker] as i64;
                let k = nth.entry(p.worker).or_default();
                let at =
                    day_ms + 8 * HOUR_MS + *k as i64 * slot + rng.below(slot as usize / 2) as i64;
                *k += 1;
                (at, p)
            })
            .collect();
        timed.sort_by_key(|(at, _)| *at);

        // The visit's own dates follow the day it was made, never the example's fixed ones
        // (a deadline or next visit before the visit is refused).
        let date = day(first_day + d);
        let (step_by, next_visit) = (day(first_day + d + 10), day(first_day + d + 21));
        let mut today = Vec::with_capacity(timed.len());
        let mut pushes = tokio::task::JoinSet::new();
        let pushed_at = Instant::now();
        for (at, p) in timed {
            let household = &mut households[p.case];
            let member = &members[p.worker];
            let mut change = vec![("housing_situation", housing[rng.below(housing.len())])];
            if p.form == VISIT {
                change.push(("visit_date", &date));
                change.push(("next_visit_date", &next_visit));
            } else {
                change.push(("household_name", &household.name));
            }
            let mut op = submit_op(
                p.form,
                &household.id,
                &member.device,
                at as u64,
                &change,
                &[],
            );
            op.op_id = cris_server::store::new_id(at);
            let hlc = op.hlc.clone();
            let submission = submission_mut(&mut op);
            submission.id = cris_server::store::new_id(at - 600_000);
            if p.form == VISIT {
                let steps = submission
                    .answers
                    .instances("new_steps")
                    .iter()
                    .map(|step| step.clone().with("new_step_by", &step_by))
                    .collect();
                let answers = std::mem::take(&mut submission.answers);
                submission.answers = answers.with_repeat("new_steps", steps);
            }
            if let Some((of, reason)) = p.corrects {
                submission.corrects = Some(Correction {
                    submission_id: forms[of].id.clone(),
                    reason: reason.into(),
                });
            }
            let id = submission.id.clone();
            if let Change::Submit { properties, .. } = &mut op.change {
                for (name, write) in properties.iter_mut() {
                    write.seen = household.heads.get(name).cloned().into_iter().collect();
                    household.heads.insert(name.clone(), hlc.clone());
                }
            }
            let received = at + 5_000 + rng.below(900_000) as i64;
            let form = catalog.get(p.form);
            cris_core::sync::check(&op, form.as_deref(), received).expect("a valid form");
            // Where it stands as it arrives, as the store decides it.
            let mut status = ReviewStatus::New;
            if let Some((of, _)) = p.corrects {
                if matches!(
                    forms[of].status,
                    ReviewStatus::ChangesRequested | ReviewStatus::Corrected
                ) {
                    forms[of].status = ReviewStatus::Corrected;
                    status = ReviewStatus::Resubmitted;
                }
                let next = forms.len();
                forms[of].corrections.push(next);
            }
            today.push(forms.len());
            forms.push(Form {
                id,
                case: p.case,
                form: p.form,
                worker: p.worker,
                status,
                corrections: Vec::new(),
            });
            let checked = CheckedOp {
                body: serde_json::to_string(&op).expect("serialize"),
                creates_case: p.form == INTAKE,
                op,
            };
            let (store, user) = (store.clone(), member.user.clone());
            pushes.spawn(async move { store.push(&user, vec![checked], received).await });
        }
        while let Some(stored) = pushes.join_next().await {
            for s in stored.expect("a push").expect("stored") {
                assert!(matches!(s, Stored::Applied { .. }), "{s:?}");
            }
        }
        pushing += pushed_at.elapsed();
        received_on.push(today);
    }

    let count = |status| forms.iter().filter(|f| f.status == status).count();
    let corrections: usize = forms.iter().map(|f| f.corrections.len()).sum();
    println!(
        "  review: seeded in {:.1} s (pushes {:.1} s, decisions {:.1} s): {CASES} households, {} forms ({CASES} intakes, {} home visits, {corrections} corrections) of {} workers in {} teams received over {DAYS} days, {} decisions ({approved} approved, {sent_back} sent back)",
        started.elapsed().as_secs_f64(),
        pushing.as_secs_f64(),
        deciding.as_secs_f64(),
        forms.len(),
        forms.len() - CASES - corrections,
        members.len(),
        TEAMS.len(),
        approved + sent_back,
    );
    let statuses: Vec<String> = ReviewStatus::ALL
        .iter()
        .map(|&s| format!("{} {}", s.as_str(), count(s)))
        .collect();
    println!("  statuses: {}", statuses.join(", "));
    // The store agrees that every status occurs.
    for status in ReviewStatus::ALL {
        let path = format!("/api/v1/review?status={}&limit=1", status.as_str());
        let page: ReviewPage = get_json(server, &lead, &path).await;
        assert_eq!(page.items.len(), 1, "no form is {}", status.as_str());
    }
    Seeded {
        supervisor: supervisors.swap_remove(0).1,
        lead,
        workers,
        logins,
        first_day,
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(
    server: &TestServer,
    token: &str,
    path: &str,
) -> T {
    let res = server
        .client
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert!(
        res.status().is_success(),
        "{path} answered {}",
        res.status()
    );
    res.json().await.expect("an answer")
}

/// One request of the benchmark: a GET, or a POST of `body`.
struct Call {
    path: String,
    token: String,
    body: Option<Vec<u8>>,
}

impl Call {
    fn get(path: String, token: &str) -> Self {
        Call {
            path,
            token: token.to_owned(),
            body: None,
        }
    }

    /// Sends it and reads the whole answer: the time it took.
    async fn send(&self, server: &TestServer) -> Duration {
        let url = server.url(&self.path);
        let started = Instant::now();
        let request = match &self.body {
            None => server.client.get(url),
            Some(body) => server
                .client
                .post(url)
                .header("content-type", "application/json")
                .body(body.clone()),
        };
        let res = request
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        let status = res.status();
        let answer = res.bytes().await.expect("an answer");
        let took = started.elapsed();
        assert!(
            status.is_success(),
            "{} answered {status}: {}",
            self.path,
            String::from_utf8_lossy(&answer)
        );
        took
    }
}

/// The `after` of the first `pages` pages of the queue at `query` (`None` for the first).
async fn pages_of(
    server: &TestServer,
    token: &str,
    query: &str,
    pages: usize,
) -> Vec<Option<String>> {
    let mut afters = vec![None];
    while afters.len() < pages {
        let after = afters.last().cloned().flatten();
        let path = match &after {
            None => format!("/api/v1/review?{query}"),
            Some(after) => format!("/api/v1/review?{query}&after={after}"),
        };
        let page: ReviewPage = get_json(server, token, &path).await;
        match page.next {
            Some(next) => afters.push(Some(next)),
            None => break,
        }
    }
    afters
}

/// Text as a query's value: UTF-8, every byte but ASCII letters and digits escaped.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => char::from(b).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

fn with_page(path: &str, after: &Option<String>) -> String {
    match after {
        None => path.to_owned(),
        Some(after) if path.contains('?') => format!("{path}&after={after}"),
        Some(after) => format!("{path}?after={after}"),
    }
}

/// What the requests are made of: pages of the queue, forms to open and to decide on.
struct Targets {
    status_pages: Vec<Option<String>>,
    new_pages: Vec<Option<String>>,
    intake_pages: Vec<Option<String>>,
    oldest_pages: Vec<Option<String>>,
    /// `after` of pages 11 to 100 of the whole queue.
    deep: Vec<String>,
    /// The team's 5,000 latest forms, and those of them not reviewed yet.
    forms: Vec<String>,
    undecided: Vec<String>,
}

async fn targets(server: &TestServer, seeded: &Seeded) -> Targets {
    let sup = &seeded.supervisor;
    let mut after: Option<String> = None;
    let (mut deep, mut forms, mut undecided) = (Vec::new(), Vec::new(), Vec::new());
    for page in 1..=100 {
        let page_path = with_page("/api/v1/review", &after);
        let got: ReviewPage = get_json(server, sup, &page_path).await;
        for item in got.items {
            if item.status == ReviewStatus::New {
                undecided.push(item.submission_id.clone());
            }
            forms.push(item.submission_id);
        }
        after = got.next;
        match &after {
            Some(next) if (10..100).contains(&page) => deep.push(next.clone()),
            Some(_) => {}
            None => break,
        }
    }
    Targets {
        status_pages: pages_of(server, sup, "status=changes_requested", 5).await,
        new_pages: pages_of(server, sup, "status=new", 5).await,
        intake_pages: pages_of(server, sup, "form=intake", 5).await,
        oldest_pages: pages_of(server, sup, "sort=oldest", 5).await,
        deep,
        forms,
        undecided,
    }
}

/// The endpoints measured, `REQUESTS` calls each: the `run`-th time (decisions go to forms
/// not decided on in an earlier run).
fn endpoints(
    seeded: &Seeded,
    t: &Targets,
    run: usize,
    rng: &mut Rng,
) -> Vec<(&'static str, Vec<Call>)> {
    let (sup, lead) = (&seeded.supervisor, &seeded.lead);
    let n = REQUESTS;
    let cycle = |pages: &[Option<String>], path: &str, i: usize| {
        Call::get(with_page(path, &pages[i % pages.len()]), sup)
    };
    let mut week = Vec::new();
    for i in 0..n {
        let from = seeded.first_day + rng.below(DAYS as usize - 6) as i64;
        let login = &seeded.logins[i % seeded.logins.len()];
        week.push(Call::get(
            format!(
                "/api/v1/review?worker={login}&from={}&to={}",
                day(from),
                day(from + 6)
            ),
            sup,
        ));
    }
    let decisions = (0..n)
        .map(|i| {
            let id = &t.undecided[(run * n + i) % t.undecided.len()];
            let decision = if i % 3 == 0 {
                json!({"decision": "changes_requested", "comment": SENT_BACK[i % SENT_BACK.len()]})
            } else {
                json!({"decision": "approved", "comment": "Danke, vollständig."})
            };
            Call {
                path: format!("/api/v1/review/{id}"),
                token: sup.clone(),
                body: Some(serde_json::to_vec(&decision).expect("serialize")),
            }
        })
        .collect();
    vec![
        (
            "GET  /review (first page)",
            (0..n)
                .map(|_| Call::get("/api/v1/review".into(), sup))
                .collect(),
        ),
        (
            "GET  /review (first page, lead of 4 teams)",
            (0..n)
                .map(|_| Call::get("/api/v1/review".into(), lead))
                .collect(),
        ),
        (
            "GET  /review?status=changes_requested (p. 1-5)",
            (0..n)
                .map(|i| {
                    cycle(
                        &t.status_pages,
                        "/api/v1/review?status=changes_requested",
                        i,
                    )
                })
                .collect(),
        ),
        (
            "GET  /review?status=new (p. 1-5)",
            (0..n)
                .map(|i| cycle(&t.new_pages, "/api/v1/review?status=new", i))
                .collect(),
        ),
        ("GET  /review?worker=&from=&to= (a week)", week),
        (
            "GET  /review?household= (part of a name)",
            (0..n)
                .map(|i| {
                    // "Şen", "sen", "Шен": any spelling of a part of a family name.
                    let start = NAME_STARTS[i % NAME_STARTS.len()];
                    Call::get(format!("/api/v1/review?household={}", percent(start)), sup)
                })
                .collect(),
        ),
        (
            "GET  /review?household=familie (every household)",
            (0..n)
                .map(|_| Call::get("/api/v1/review?household=familie".into(), sup))
                .collect(),
        ),
        (
            "GET  /review?sort=oldest (p. 1-5)",
            (0..n)
                .map(|i| cycle(&t.oldest_pages, "/api/v1/review?sort=oldest", i))
                .collect(),
        ),
        (
            "GET  /review?form=intake (p. 1-5)",
            (0..n)
                .map(|i| cycle(&t.intake_pages, "/api/v1/review?form=intake", i))
                .collect(),
        ),
        (
            "GET  /review?after= (p. 11-100)",
            (0..n)
                .map(|_| {
                    let after = &t.deep[rng.below(t.deep.len())];
                    Call::get(format!("/api/v1/review?after={after}"), sup)
                })
                .collect(),
        ),
        (
            "GET  /review/{id}",
            (0..n)
                .map(|_| {
                    let id = &t.forms[rng.below(t.forms.len())];
                    Call::get(format!("/api/v1/review/{id}"), sup)
                })
                .collect(),
        ),
        ("POST /review/{id}", decisions),
        (
            "GET  /inbox (a worker)",
            (0..n)
                .map(|i| {
                    Call::get(
                        "/api/v1/inbox".into(),
                        &seeded.workers[i % seeded.workers.len()],
                    )
                })
                .collect(),
        ),
        (
            "GET  /dashboard (8 weeks, a team)",
            (0..n)
                .map(|_| Call::get("/api/v1/dashboard".into(), sup))
                .collect(),
        ),
        (
            "GET  /dashboard (26 weeks, lead of 4 teams)",
            (0..n)
                .map(|_| Call::get("/api/v1/dashboard?weeks=26".into(), lead))
                .collect(),
        ),
    ]
}

/// PostgreSQL plans from the statistics ANALYZE gathers, which autovacuum (where it is on)
/// runs about a minute after a table has grown by a tenth. A store filled in seconds has none
/// yet, and its queue is planned as if its tables were nearly empty: the team's whole history
/// joined and sorted for each page (60 ms a page at 50,000 forms, growing with the store;
/// `--no-analyze` shows it). A store grown over 60 days has been analyzed many times: the
/// benchmark's database is analyzed as autovacuum would have. (SQLite: nothing to do.)
async fn analyze(server: &TestServer) {
    use sqlx::Connection;
    if server.store.kind() != "postgres" {
        return;
    }
    let admin = support::admin_url();
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("PostgreSQL");
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'cris_test_%'")
            .fetch_all(&mut conn)
            .await
            .expect("the databases");
    let (base, _) = admin.rsplit_once('/').expect("a database URL");
    // The benchmark's database is the one with its store's instance id.
    for name in names {
        let Ok(mut db) = sqlx::PgConnection::connect(&format!("{base}/{name}")).await else {
            continue;
        };
        let id: Option<String> =
            sqlx::query_scalar("SELECT value FROM server_info WHERE key = 'instance_id'")
                .fetch_optional(&mut db)
                .await
                .ok()
                .flatten();
        if id.as_deref() == Some(server.store.instance_id()) {
            sqlx::query("ANALYZE")
                .execute(&mut db)
                .await
                .expect("ANALYZE");
            return;
        }
    }
    panic!("the benchmark's database is not among the cris_test_ databases");
}

/// Sends every endpoint's calls, one request at a time, taking the endpoints in turn (so
/// that all of them meet the same load), until all are sent or `budget` has passed: each
/// endpoint's latencies, sorted.
async fn play_calls(
    server: &TestServer,
    endpoints: &[(&'static str, Vec<Call>)],
    budget: Duration,
) -> Vec<Vec<Duration>> {
    let started = Instant::now();
    let mut took: Vec<Vec<Duration>> = endpoints.iter().map(|_| Vec::new()).collect();
    for i in 0..REQUESTS {
        if started.elapsed() > budget {
            break;
        }
        for (e, (_, calls)) in endpoints.iter().enumerate() {
            took[e].push(calls[i].send(server).await);
        }
    }
    for t in &mut took {
        t.sort();
    }
    took
}

/// The review benchmark on one store: seeded, then the supervisor's requests idle and while
/// `phones` phones of the four teams push 20 operations each, once a second with a `pace`,
/// else the moment the last batch was answered.
async fn review(
    server: &TestServer,
    phones: usize,
    pace: Option<Duration>,
    statistics: bool,
    dashboard: bool,
) {
    let seeded = seed_review(server).await;
    if dashboard {
        // The first dashboard after the fill summarises every household, once (see
        // server/src/store/dashboard.rs); the next one has nothing to catch up on.
        let started = Instant::now();
        let first: Dashboard = get_json(server, &seeded.lead, "/api/v1/dashboard").await;
        let first_took = started.elapsed();
        let started = Instant::now();
        let _: Dashboard = get_json(server, &seeded.lead, "/api/v1/dashboard").await;
        println!(
            "  first dashboard after the fill (summarises {} households): {:.0} ms; the next: {:.1} ms",
            first.housing.households,
            ms(first_took),
            ms(started.elapsed()),
        );
    }
    if statistics {
        analyze(server).await;
    }
    let t = targets(server, &seeded).await;
    let mut rng = Rng(0x0ddb_a11e);
    // Without the dashboard, if told.
    let measured = |mut calls: Vec<(&'static str, Vec<Call>)>| {
        calls.retain(|(label, _)| dashboard || !label.contains("/dashboard"));
        calls
    };
    let idle_calls = measured(endpoints(&seeded, &t, 0, &mut rng));
    let idle = play_calls(server, &idle_calls, Duration::MAX).await;

    let loaded_calls = measured(endpoints(&seeded, &t, 1, &mut rng));
    let accounts = phone_accounts(server, "field", &TEAMS, phones).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (answered, mut pushes_answered) = tokio::sync::watch::channel(0);
    let answered = Arc::new(answered);
    let measure = async {
        // Measured once as many pushes were answered as there are phones: the load is on.
        pushes_answered
            .wait_for(|n| *n >= phones)
            .await
            .expect("the phones push");
        let took = play_calls(server, &loaded_calls, LOADED_BUDGET).await;
        stop.store(true, Ordering::Relaxed);
        took
    };
    let (loaded, (pushes, wall)) = tokio::join!(
        measure,
        push_from_phones(
            server,
            accounts,
            pace,
            Batches::Until(stop.clone()),
            answered.clone()
        )
    );

    println!(
        "  as the supervisor, one request at a time ({} per endpoint idle, {} while pushing), ms:",
        idle[0].len(),
        loaded[0].len(),
    );
    println!(
        "    {:<46} {:>7} {:>6} | {:>11} {:>6} | p99 < {} ms while pushing",
        "",
        "idle p50",
        "p99",
        "pushing p50",
        "p99",
        TARGET.as_millis()
    );
    for (e, (label, _)) in idle_calls.iter().enumerate() {
        let (i, l) = (&idle[e], &loaded[e]);
        let p99 = percentile(l, 0.99);
        println!(
            "    {label:<46} {:>7.1} {:>6.1} | {:>11.1} {:>6.1} | {}",
            ms(percentile(i, 0.5)),
            ms(percentile(i, 0.99)),
            ms(percentile(l, 0.5)),
            ms(p99),
            if p99 < TARGET { "yes" } else { "NO" },
        );
    }
    println!(
        "  meanwhile {phones} phones each pushing 20 {}: {:.0} requests/s ({} operations in {:.1} s), latency p50 {:.1} ms, p99 {:.1} ms",
        if pace.is_some() {
            "once a second"
        } else {
            "the moment the last was answered"
        },
        pushes.len() as f64 / wall.as_secs_f64(),
        pushes.len() * 20,
        wall.as_secs_f64(),
        ms(percentile(&pushes, 0.5)),
        ms(percentile(&pushes, 0.99)),
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

async fn fresh(kind: &str) -> TestServer {
    match kind {
        "sqlite" => TestServer::sqlite().await,
        _ => TestServer::postgres().await,
    }
}

async fn run(kind: &str, phones: usize) {
    println!("{kind}:");
    merge_throughput(&fresh(kind).await).await;
    end_to_end(&fresh(kind).await).await;
    many_phones(&fresh(kind).await, phones).await;
    phones_at_a_pace(&fresh(kind).await, phones).await;
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |word: &str| args.iter().any(|a| a == word);
    let which = args
        .iter()
        .find(|a| ["sqlite", "postgres", "both"].contains(&a.as_str()))
        .map_or("both", String::as_str);
    let phones = args
        .iter()
        .position(|a| a == "--phones")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    if has("review") {
        // The phones at a pace, as in the field, unless told to saturate the server.
        let pace = (!has("--saturated")).then_some(Duration::from_secs(1));
        for kind in ["sqlite", "postgres"] {
            if which == kind || which == "both" {
                println!("{kind}:");
                let server = fresh(kind).await;
                let (statistics, dashboard) = (!has("--no-analyze"), !has("--no-dashboard"));
                review(&server, phones, pace, statistics, dashboard).await;
            }
        }
        return;
    }
    check_cost();
    if has("check") {
        return;
    }
    for kind in ["sqlite", "postgres"] {
        if which == kind || which == "both" {
            run(kind, phones).await;
        }
    }
}
