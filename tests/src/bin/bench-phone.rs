//! Benchmark of the phone app in headless Chromium (360 px, a fresh profile per run): how long
//! opening the intake form takes, and how long saving a finalized submission to IndexedDB
//! takes, over N forms (default 200), at full CPU speed and throttled 4x like a cheap phone.
//!
//! Run after building the app (`make app`):
//!
//! ```text
//! cargo run --release -p cris-e2e --bin bench-phone [-- N]
//! ```
//!
//! The app itself records both spans with User Timing (`app/src/perf.rs`); this program
//! drives the real screens and reads `performance.getEntriesByName`. The figures go into
//! the notes, not into assertions: the machines are shared and noisy.

use cris_e2e::{Browser, Chromedriver, TestServer, built_app_dir, wait_until};
use fantoccini::Locator;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let forms: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("N: a number of forms"))
        .unwrap_or(200);
    let server = TestServer::start(&built_app_dir()).await;
    let driver = Chromedriver::start().await;
    println!("{forms} intakes finalized per run; times in ms (p50 / p95 / max)");
    for rate in [1.0, 4.0] {
        let b = Browser::open(&driver, 360, 740, "de-DE").await;
        b.client.goto(&server.url("/")).await.expect("open the app");
        b.wait_for_heading("Meine Fälle").await;
        b.wait_for_service_worker().await;
        b.throttle_cpu(rate).await;
        // A cold start under this CPU: the app reads and checks both form definitions.
        b.client.refresh().await.expect("reload");
        b.wait_for_heading("Meine Fälle").await;
        let start = wait_until("the forms loaded", || async {
            let d = durations(&b, "cris:forms-load").await;
            (!d.is_empty()).then_some(d)
        })
        .await;
        b.eval("performance.clearMeasures(); return true;").await;
        for i in 0..forms {
            finalize_one_intake(&b, i).await;
        }
        let open = durations(&b, "cris:form-open").await;
        let save = durations(&b, "cris:finalize").await;
        println!(
            "CPU {rate}x: load forms at start {:.1} | open intake {} | save submission {}",
            start[0],
            stats(&open),
            stats(&save)
        );
        b.throttle_cpu(1.0).await;
        b.close().await;
    }
    server.stop().await;
}

/// Opens a new intake from the tab bar, names the household, finalizes, waits for "saved".
async fn finalize_one_intake(b: &Browser, i: usize) {
    b.eval("document.querySelector(\"nav a[href='/intake/new']\").click(); return true;")
        .await;
    let css = "[data-field='household_name'] input";
    wait_until("the intake form", || async {
        b.client.find(Locator::Css(css)).await.ok()
    })
    .await;
    b.eval(&format!(
        "const el = document.querySelector(\"{css}\");
         el.value = 'Familie Benchmark {i}';
         el.dispatchEvent(new Event('input', {{ bubbles: true }}));
         return true;"
    ))
    .await;
    cris_e2e::ui::add_person(b, "Ayla Benchmark", "1985-01-01").await;
    b.eval("document.querySelector(\"[data-testid='finalize']\").click(); return true;")
        .await;
    b.wait_for_xpath("//*[@data-testid='saved']").await;
}

async fn durations(b: &Browser, name: &str) -> Vec<f64> {
    let list = b
        .eval(&format!(
            "return performance.getEntriesByName('{name}').map((e) => e.duration);"
        ))
        .await;
    list.as_array()
        .expect("a list of durations")
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect()
}

fn stats(values: &[f64]) -> String {
    if values.is_empty() {
        return "no samples".to_owned();
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    format!(
        "{:.1} / {:.1} / {:.1} (n={})",
        at(0.5),
        at(0.95),
        sorted[sorted.len() - 1],
        sorted.len()
    )
}
