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

#[path = "../../tests/api/support/mod.rs"]
mod support;

mod push;
mod review;
mod seed;

use push::*;
use review::*;
use seed::*;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cris_core::api::{Dashboard, ReviewDecision, ReviewPage, ReviewStatus, Role};
use cris_core::hlc::Hlc;
use cris_core::record::{Change, Correction, Operation};
use cris_core::sync::{Outcome, PullResponse, PushResponse};
use cris_server::store::{CheckedOp, Stored, User};
use serde_json::json;
use support::{TestServer, new_uuid, submission_mut, submit_op};

const TEAM: &str = "Offenbach Nord";

/// The server allocates many small strings per operation (answers, JSON); glibc's malloc made
/// a fifth of its time under load, mimalloc much less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub(crate) fn now() -> u64 {
    cris_server::auth::now_ms() as u64
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
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

/// Which stores to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Stores {
    Sqlite,
    Postgres,
    Both,
    /// Only what reading and checking one operation costs (no store).
    Check,
}

impl Stores {
    fn kinds(self) -> impl Iterator<Item = &'static str> {
        ["sqlite", "postgres"]
            .into_iter()
            .filter(move |kind| self == Stores::Both || Some(*kind) == self.kind())
    }

    fn kind(self) -> Option<&'static str> {
        match self {
            Stores::Sqlite => Some("sqlite"),
            Stores::Postgres => Some("postgres"),
            Stores::Both | Stores::Check => None,
        }
    }
}

/// Phones and supervisors against the real server, over HTTP on loopback.
#[derive(Debug, clap::Parser)]
#[command(args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    mode: Option<Mode>,
    /// The stores to push to (`check`: only the cost of one operation).
    #[arg(value_enum, default_value_t = Stores::Both)]
    stores: Stores,
    /// How many phones push at once.
    #[arg(long, default_value_t = 100)]
    phones: usize,
}

#[derive(Debug, clap::Subcommand)]
enum Mode {
    /// Review: a store filled with 60 days of four teams, a supervisor's requests timed.
    Review {
        #[arg(value_enum, default_value_t = Stores::Both)]
        stores: Stores,
        /// How many phones push meanwhile.
        #[arg(long, default_value_t = 100)]
        phones: usize,
        /// The phones push back to back instead of once a second.
        #[arg(long)]
        saturated: bool,
        /// PostgreSQL's tables are not analyzed after filling.
        #[arg(long)]
        no_analyze: bool,
        /// Leave the dashboard out.
        #[arg(long)]
        no_dashboard: bool,
    },
}

#[tokio::main]
async fn main() {
    let args = <Args as clap::Parser>::parse();
    if let Some(Mode::Review {
        stores,
        phones,
        saturated,
        no_analyze,
        no_dashboard,
    }) = args.mode
    {
        // The phones at a pace, as in the field, unless told to saturate the server.
        let pace = (!saturated).then_some(Duration::from_secs(1));
        for kind in stores.kinds() {
            println!("{kind}:");
            let server = fresh(kind).await;
            review(&server, phones, pace, !no_analyze, !no_dashboard).await;
        }
        return;
    }
    check_cost();
    for kind in args.stores.kinds() {
        run(kind, args.phones).await;
    }
}
