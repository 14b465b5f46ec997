//! Benchmark of the app's first load on a cheap phone on a bad network, in headless Chromium
//! (360 px, a fresh profile per run) throttled through the DevTools protocol like Lighthouse's
//! mobile preset: Slow 4G (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up) and the CPU
//! slowed 4x.
//!
//! Each run:
//! - cold (nothing cached): what each file of the app transferred, the first contentful
//!   paint, the time until a login form can be filled in and until the app's login page can be
//!   used, and from pressing "Anmelden" until the caseload shows its 500 households;
//! - started again from the service worker's cache (the installed app): the first paint, the
//!   time until the unlock screen can be used, and from pressing "Entsperren" until the
//!   caseload shows its first household and until it shows all, with the longest task in
//!   between (how long a tap on the first households could wait).
//!
//! Run after building the app (`make app`):
//!
//! ```text
//! cargo run -p cris-e2e --bin bench-load [-- RUNS] [BUILD_DIR ...]
//! ```
//!
//! Several builds (folders like `app/dist`) are measured one after the other in the same run,
//! to compare them. Times are p50 over the runs (default 5). The figures go into the notes, not into
//! assertions: the machines are shared and noisy.

use std::collections::BTreeMap;

use cris_core::api::Role;
use cris_e2e::bench::{durations, seed_households, stats};
use cris_e2e::phone::{self, PASSWORD, TEAM};
use cris_e2e::ui::click_testid;
use cris_e2e::{Browser, Chromedriver, TestServer, built_app_dir, wait_until};
use serde_json::json;

/// Households in the caseload.
const CASELOAD: usize = 500;
const LOGIN: &str = "bench.w";

/// Marks `bench:login-shown`, `bench:login`, `bench:unlock`, `bench:first-case` and
/// `bench:caseload` in the page's User Timing when a login form to fill in (the page's own or
/// the app's), the app's login button, the unlock field, the caseload's first household or all
/// of them first appear, and keeps the page's long tasks in `window.benchLongTasks` (installed
/// before any of the page's own scripts run).
fn watcher() -> String {
    format!(
        "(() => {{
           const seen = {{}};
           const mark = (name, here) => {{
             if (!seen[name] && here()) {{ seen[name] = true; performance.mark('bench:' + name); }}
           }};
           const check = () => {{
             mark('login-shown', () =>
               document.querySelector(\"#starting-login:not([hidden]), [data-testid='login-form']\"));
             mark('login', () => document.querySelector(\"[data-testid='login-submit']\"));
             mark('unlock', () => document.querySelector('#unlock-secret'));
             mark('first-case', () => document.querySelector(\"[data-testid='cases'] li.case\"));
             mark('caseload', () =>
               document.querySelectorAll(\"[data-testid='cases'] li.case\").length >= {CASELOAD});
           }};
           new MutationObserver(check).observe(document, {{ childList: true, subtree: true }});
           window.benchLongTasks = [];
           new PerformanceObserver((list) => {{
             for (const t of list.getEntries()) window.benchLongTasks.push([t.startTime, t.duration]);
           }}).observe({{ type: 'longtask', buffered: true }});
         }})();"
    )
}

/// Lighthouse's mobile preset, for this page and every page loaded after it.
async fn throttle(b: &Browser) {
    b.devtools("Network.enable", json!({})).await;
    b.devtools(
        "Network.emulateNetworkConditions",
        json!({
            "offline": false,
            "latency": 150,
            "downloadThroughput": 1.6 * 1024.0 * 1024.0 / 8.0,
            "uploadThroughput": 750.0 * 1024.0 / 8.0,
        }),
    )
    .await;
    b.throttle_cpu(4.0).await;
    b.devtools(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": watcher() }),
    )
    .await;
}

/// The longest task that began from `from` to `to` (ms since the page's start), 0 if none
/// took 50 ms or more.
async fn longest_task(b: &Browser, from: f64, to: f64) -> f64 {
    b.eval(&format!(
        "return window.benchLongTasks
           .filter(([start]) => start >= {from} && start < {to})
           .reduce((most, [, took]) => Math.max(most, took), 0);"
    ))
    .await
    .as_f64()
    .unwrap_or(f64::NAN)
}

/// The time of the mark `bench:name` since the page's start, once it is there.
async fn mark(b: &Browser, name: &str) -> f64 {
    wait_until(&format!("the mark {name}"), || async {
        b.eval(&format!(
            "const m = performance.getEntriesByName('bench:{name}')[0]; return m ? m.startTime : null;"
        ))
        .await
        .as_f64()
    })
    .await
}

/// Marks `bench:pressed` now (just before the button is pressed).
async fn pressed(b: &Browser) {
    b.eval("performance.mark('bench:pressed'); return true;")
        .await;
}

async fn first_contentful_paint(b: &Browser) -> f64 {
    b.eval(
        "const p = performance.getEntriesByName('first-contentful-paint')[0]; return p ? p.startTime : null;",
    )
    .await
    .as_f64()
    .unwrap_or(f64::NAN)
}

/// Bytes transferred by each request of the page (the document included), by path, before
/// anything after the page's load: the app's files and the API's answers.
async fn transferred(b: &Browser) -> BTreeMap<String, u64> {
    let list = b
        .eval(
            "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
               .map((e) => [new URL(e.name).pathname, e.transferSize]);",
        )
        .await;
    let mut by_path = BTreeMap::new();
    for entry in list.as_array().expect("a list of requests") {
        let path = entry[0].as_str().unwrap_or_default().to_owned();
        *by_path.entry(path).or_default() += entry[1].as_u64().unwrap_or(0);
    }
    by_path
}

/// What the app itself is made of, as opposed to the API's answers.
fn is_app_file(path: &str) -> bool {
    !path.starts_with("/api/")
}

#[derive(Default)]
struct Figures {
    cold_bytes: Vec<f64>,
    cold_paint: Vec<f64>,
    cold_login_shown: Vec<f64>,
    cold_login: Vec<f64>,
    cold_caseload: Vec<f64>,
    sw_bytes: Vec<f64>,
    sw_paint: Vec<f64>,
    sw_unlock: Vec<f64>,
    sw_first_case: Vec<f64>,
    sw_caseload: Vec<f64>,
    /// The longest task from the first household shown until all are.
    sw_longest_task: Vec<f64>,
    /// The app's own spans (app/src/perf.rs) in that time: unlocking, reading the caseload.
    sw_unlock_span: Vec<f64>,
    sw_caseload_span: Vec<f64>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut runs = 5;
    let mut builds = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.parse() {
            Ok(n) => runs = n,
            Err(_) => builds.push(std::path::PathBuf::from(arg)),
        }
    }
    if builds.is_empty() {
        builds.push(built_app_dir());
    }
    let driver = Chromedriver::start().await;
    // Build after build, in one run of the program: their figures compare.
    for build in &builds {
        println!("{}", build.display());
        measure(&driver, build, runs).await;
        println!();
    }
}

async fn measure(driver: &Chromedriver, build: &std::path::Path, runs: usize) {
    let server = TestServer::start(build).await;
    server
        .add_account(LOGIN, "Bench Worker", Role::Worker, TEAM, PASSWORD)
        .await;
    // The caseload of a busy worker, recorded before (an unthrottled phone sends it).
    let seeder = Browser::open(driver, 360, 740, "de-DE").await;
    phone::first_login(&seeder, &server, LOGIN).await;
    seed_households(&seeder, LOGIN, CASELOAD, 0).await;
    seeder.close().await;

    let mut figures = Figures::default();
    let mut first_files = BTreeMap::new();
    for run in 0..runs {
        let b = Browser::open(driver, 360, 740, "de-DE").await;
        throttle(&b).await;
        b.client.goto(&server.url("/")).await.expect("open the app");
        let login = mark(&b, "login").await;
        let files = transferred(&b).await;
        figures.cold_bytes.push(
            files
                .iter()
                .filter(|(path, _)| is_app_file(path))
                .map(|(_, n)| *n as f64)
                .sum(),
        );
        figures.cold_paint.push(first_contentful_paint(&b).await);
        figures.cold_login.push(login);
        figures.cold_login_shown.push(mark(&b, "login-shown").await);
        if run == 0 {
            first_files = files;
        }
        pressed(&b).await;
        phone::submit_login(&b, LOGIN).await;
        let caseload = mark(&b, "caseload").await;
        figures
            .cold_caseload
            .push(caseload - mark(&b, "pressed").await);
        b.wait_for_service_worker().await;

        // The installed app, started again: from the service worker's cache.
        b.client.refresh().await.expect("reload");
        figures.sw_unlock.push(mark(&b, "unlock").await);
        figures.sw_paint.push(first_contentful_paint(&b).await);
        figures.sw_bytes.push(
            transferred(&b)
                .await
                .iter()
                .filter(|(path, _)| is_app_file(path))
                .map(|(_, n)| *n as f64)
                .sum(),
        );
        let field = b.wait_for_xpath("//input[@id='unlock-secret']").await;
        field.send_keys(PASSWORD).await.unwrap();
        pressed(&b).await;
        click_testid(&b, "unlock-submit").await;
        let caseload = mark(&b, "caseload").await;
        let (pressed_at, first) = (mark(&b, "pressed").await, mark(&b, "first-case").await);
        figures.sw_first_case.push(first - pressed_at);
        figures.sw_caseload.push(caseload - pressed_at);
        figures
            .sw_longest_task
            .push(longest_task(&b, first, caseload).await);
        figures
            .sw_unlock_span
            .extend(durations(&b, "cris:unlock").await);
        figures
            .sw_caseload_span
            .extend(durations(&b, "cris:caseload-load").await);
        b.close().await;
        eprintln!("{}: run {} of {runs} done", build.display(), run + 1);
    }

    println!(
        "Slow 4G (150 ms, 1.6 Mbit/s down), CPU 4x, 360 px; {runs} runs, {CASELOAD} households; times in ms since the page's start (p50 / p95 / max)"
    );
    println!("first load, bytes transferred per request (first run):");
    for (path, bytes) in &first_files {
        println!("  {bytes:>9}  {path}");
    }
    let rows: [(&str, &[f64]); 13] = [
        ("cold: app's files transferred (bytes)", &figures.cold_bytes),
        ("cold: first contentful paint", &figures.cold_paint),
        (
            "cold: a login form to fill in shown",
            &figures.cold_login_shown,
        ),
        ("cold: login page usable", &figures.cold_login),
        (
            "cold: caseload shown, after pressing Anmelden",
            &figures.cold_caseload,
        ),
        (
            "service worker: app's files transferred (bytes)",
            &figures.sw_bytes,
        ),
        ("service worker: first contentful paint", &figures.sw_paint),
        ("service worker: unlock screen usable", &figures.sw_unlock),
        (
            "service worker: first household shown, after Entsperren",
            &figures.sw_first_case,
        ),
        (
            "service worker: caseload shown, after Entsperren",
            &figures.sw_caseload,
        ),
        (
            "  longest task from the first household to all",
            &figures.sw_longest_task,
        ),
        (
            "  of which unlocking (cris:unlock)",
            &figures.sw_unlock_span,
        ),
        (
            "  of which reading the caseload (cris:caseload-load)",
            &figures.sw_caseload_span,
        ),
    ];
    for (what, values) in rows {
        println!("{what:<52} {}", stats(values));
    }
    server.stop().await;
}
