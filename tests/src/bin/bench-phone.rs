//! Benchmark of the phone app in headless Chromium (360 px, a fresh profile per run), at full
//! CPU speed and throttled 4x like a cheap phone:
//! - reading the form definitions at start,
//! - unlocking with the password (PBKDF2 and the key unwrapped) and with the PIN,
//! - opening the intake and saving a finalized submission (sealed) to IndexedDB, over N forms
//!   (default 200),
//! - opening the caseload of 500 households (every record decrypted) and searching it.
//!
//! Run after building the app (`make app`):
//!
//! ```text
//! cargo run --release -p cris-e2e --bin bench-phone [-- N]
//! ```
//!
//! The app itself records its spans with User Timing (`app/src/perf.rs`); this program drives
//! the real screens and reads `performance.getEntriesByName`. The figures go into the notes,
//! not into assertions: the machines are shared and noisy.

use cris_core::api::Role;
use cris_e2e::bench::{durations, household, seed_households, stats};
use cris_e2e::phone::{PASSWORD, TEAM};
use cris_e2e::ui::click_testid;
use cris_e2e::{Browser, Chromedriver, TestServer, built_app_dir, wait_until};
use fantoccini::Locator;

/// Households in the caseload that is opened and searched.
const CASELOAD: usize = 500;
/// Unlocks timed per run, with the password and with the PIN each.
const UNLOCKS: usize = 5;
const PIN: &str = "246810";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let forms: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("N: a number of forms"))
        .unwrap_or(200);
    let server = TestServer::start(&built_app_dir()).await;
    let driver = Chromedriver::start().await;
    println!(
        "{forms} intakes finalized per run, {CASELOAD} households in the caseload, {UNLOCKS} unlocks each; times in ms (p50 / p95 / max)"
    );
    for (run, rate) in [1.0, 4.0].into_iter().enumerate() {
        let login = format!("bench.w{run}");
        server
            .add_account(&login, "Bench Worker", Role::Worker, TEAM, PASSWORD)
            .await;
        let b = Browser::open(&driver, 360, 740, "de-DE").await;
        cris_e2e::phone::first_login(&b, &server, &login).await;
        b.wait_for_service_worker().await;
        b.throttle_cpu(rate).await;
        // A cold start under this CPU: the app reads and checks both form definitions.
        b.client.refresh().await.expect("reload");
        let start = wait_until("the forms loaded", || async {
            let d = durations(&b, "cris:forms-load").await;
            (!d.is_empty()).then_some(d)
        })
        .await;
        cris_e2e::phone::unlock(&b).await;
        b.wait_for_heading("Meine Fälle").await;

        set_pin(&b).await;
        for _ in 0..UNLOCKS {
            lock_now(&b).await;
            type_secret(&b, PIN).await;
            b.wait_for_heading("Einstellungen").await;
        }
        b.eval("document.querySelector(\"[data-testid='pin-remove']\").click(); return true;")
            .await;
        b.wait_for_xpath("//*[@data-testid='pin-said'][normalize-space()='Die PIN ist entfernt: nur das Passwort entsperrt.']")
            .await;
        for _ in 0..UNLOCKS {
            lock_now(&b).await;
            type_secret(&b, PASSWORD).await;
            b.wait_for_heading("Einstellungen").await;
        }
        let unlock = durations(&b, "cris:unlock").await;
        let unlock_pin = durations(&b, "cris:unlock-pin").await;

        b.eval("performance.clearMeasures(); return true;").await;
        for i in 0..forms {
            finalize_one_intake(&b, i).await;
        }
        let open = durations(&b, "cris:form-open").await;
        let save = durations(&b, "cris:finalize").await;

        // The caseload of a busy worker: households recorded elsewhere, arriving by pull.
        seed_households(&b, &login, CASELOAD, run as u64).await;
        b.eval("performance.clearMeasures(); return true;").await;
        b.eval("document.querySelector(\"nav a[href='/']\").click(); return true;")
            .await;
        // (A sync may be running still, at 4x: "sync now" is pressed once it can be.)
        let want = (CASELOAD + forms) as u64;
        loop {
            let n = b
                .eval(
                    "const now = document.querySelector(\"[data-testid='sync-now']\");
                     if (now && !now.disabled) now.click();
                     return document.querySelectorAll(\"[data-testid='cases'] li.case\").length;",
                )
                .await;
            if n.as_u64() >= Some(want) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        }
        b.eval("performance.clearMeasures(); return true;").await;
        let mut searches = Vec::new();
        for i in 0..UNLOCKS {
            // Away and back: the caseload is read from IndexedDB again.
            b.eval("document.querySelector(\"nav a[href='/settings']\").click(); return true;")
                .await;
            b.wait_for_heading("Einstellungen").await;
            b.eval("document.querySelector(\"nav a[href='/']\").click(); return true;")
                .await;
            b.wait_for_xpath("//*[@data-testid='cases']").await;
            // A surname as a worker types it, without the Turkish letters.
            let surname = household(i * 37).replace("Familie ", "").replace('ş', "s");
            searches.push(search(&b, &surname).await);
        }
        let caseload = durations(&b, "cris:caseload-load").await;
        println!(
            "CPU {rate}x: load forms at start {:?} | unlock with password {} | with PIN {} | open intake {} | save submission {} | open caseload of {CASELOAD} {} | search it {}",
            start,
            stats(&unlock),
            stats(&unlock_pin),
            stats(&open),
            stats(&save),
            stats(&caseload),
            stats(&searches),
        );
        b.throttle_cpu(1.0).await;
        b.close().await;
    }
    server.stop().await;
}

async fn set_pin(b: &Browser) {
    b.eval("document.querySelector(\"nav a[href='/settings']\").click(); return true;")
        .await;
    b.wait_for_heading("Einstellungen").await;
    for id in ["pin-new", "pin-repeat"] {
        b.client
            .find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(PIN)
            .await
            .unwrap();
    }
    click_testid(b, "pin-save").await;
    b.wait_for_xpath("//*[@data-testid='pin-said'][normalize-space()='Die PIN ist festgelegt.']")
        .await;
}

async fn lock_now(b: &Browser) {
    b.eval("document.querySelector(\"[data-testid='lock-now']\").click(); return true;")
        .await;
    b.wait_for_xpath("//input[@id='unlock-secret']").await;
    // The key leaves a moment after the screen (the open form saves first).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

async fn type_secret(b: &Browser, secret: &str) {
    let field = b.wait_for_xpath("//input[@id='unlock-secret']").await;
    field.send_keys(secret).await.unwrap();
    click_testid(b, "unlock-submit").await;
}

/// Milliseconds from typing `query` into the caseload's search to the list drawn again.
async fn search(b: &Browser, query: &str) -> f64 {
    let taken = b
        .eval(&format!(
            "const el = document.querySelector(\"[data-testid='search']\");
             const t0 = performance.now();
             el.value = {};
             el.dispatchEvent(new Event('input', {{ bubbles: true }}));
             await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
             const t = performance.now() - t0;
             el.value = '';
             el.dispatchEvent(new Event('input', {{ bubbles: true }}));
             return t;",
            serde_json::json!(query)
        ))
        .await;
    taken.as_f64().expect("a duration")
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
