//! What a worker does on the phone again and again in the end-to-end tests: log in, record
//! a household, open it, read the sync line.

use cris_core::api::Role;
use fantoccini::Locator;

use crate::ui::{add_person, choose, click_testid, pick, tap, today, type_into};
use crate::{Browser, TestServer, built_app_dir, wait_until, xpath_literal};

pub const TEAM: &str = "Offenbach Nord";
pub const PASSWORD: &str = "Kirschbaum-Wiese-2026";

/// The server with two workers of one team, Ayşe (`ayse.w`) and Jan (`jan.w`).
pub async fn team_server() -> TestServer {
    let server = TestServer::start(&built_app_dir()).await;
    server
        .add_account("ayse.w", "Ayşe Testfrau", Role::Worker, TEAM, PASSWORD)
        .await;
    server
        .add_account("jan.w", "Jan Testmann", Role::Worker, TEAM, PASSWORD)
        .await;
    server
}

/// [`team_server`] with Lea, the team's supervisor (`lea.s`), for the laptop.
pub async fn team_server_with_supervisor() -> TestServer {
    let server = team_server().await;
    server
        .add_account("lea.s", "Lea Teamleitung", Role::Supervisor, TEAM, PASSWORD)
        .await;
    server
}

/// How many operations wait in the phone's outbox, read from IndexedDB itself.
pub async fn outbox_count(b: &Browser) -> serde_json::Value {
    b.eval(
        "return await new Promise((done) => {
           const open = indexedDB.open('cris-field');
           open.onsuccess = () => {
             const get = open.result.transaction('outbox').objectStore('outbox').count();
             get.onsuccess = () => done(get.result);
           };
         });",
    )
    .await
}

/// The text of the sync line under the header.
pub async fn sync_text(b: &Browser) -> String {
    let text = b
        .eval(
            "const el = document.querySelector(\"[data-testid='sync-status']\");
             return el ? el.textContent.trim() : null;",
        )
        .await;
    text.as_str().unwrap_or_default().to_owned()
}

pub async fn wait_for_sync_text(b: &Browser, expected: &str) {
    wait_until(&format!("the sync line to say {expected:?}"), || async {
        (sync_text(b).await == expected).then_some(())
    })
    .await;
}

pub async fn wait_for_sync_text_containing(b: &Browser, part: &str) {
    wait_until(&format!("the sync line to mention {part:?}"), || async {
        sync_text(b).await.contains(part).then_some(())
    })
    .await;
}

pub async fn log_in(b: &Browser, server: &TestServer, login: &str) {
    b.client.goto(&server.url("/")).await.expect("open the app");
    b.wait_for_heading("Meine Fälle").await;
    wait_for_sync_text(b, "Zum Synchronisieren anmelden").await;
    click_testid(b, "sync-login").await;
    b.wait_for_heading("Anmelden").await;
    // A wrong password is said so, and nothing else changes.
    let name = b.client.find(Locator::Id("login-name")).await.unwrap();
    // The last login name on this phone is offered: replaced.
    name.clear().await.unwrap();
    name.send_keys(login).await.unwrap();
    let password = b.client.find(Locator::Id("login-password")).await.unwrap();
    password.send_keys("falsch").await.unwrap();
    click_testid(b, "login-submit").await;
    b.wait_for_xpath(
        "//*[@data-testid='login-problem'][normalize-space()='Benutzername oder Passwort ist falsch.']",
    )
    .await;
    password.clear().await.unwrap();
    password.send_keys(PASSWORD).await.unwrap();
    click_testid(b, "login-submit").await;
    b.wait_for_heading("Meine Fälle").await;
    wait_until("the first sync", || async {
        sync_text(b)
            .await
            .starts_with("Alles synchronisiert")
            .then_some(())
    })
    .await;
}

/// Logs in as `login` with the right password, on the login page (opened from the sync line
/// unless already open); what follows is the caller's to check.
pub async fn submit_login(b: &Browser, login: &str) {
    if b.client.find(Locator::Id("login-name")).await.is_err() {
        click_testid(b, "sync-login").await;
        b.wait_for_heading("Anmelden").await;
    }
    let name = b.client.find(Locator::Id("login-name")).await.unwrap();
    name.clear().await.unwrap();
    name.send_keys(login).await.unwrap();
    let password = b.client.find(Locator::Id("login-password")).await.unwrap();
    password.clear().await.unwrap();
    password.send_keys(PASSWORD).await.unwrap();
    click_testid(b, "login-submit").await;
}

/// An intake of a subletting household `name`, finalized online: it reaches the server at once.
pub async fn record_synced_household(b: &Browser, name: &str) {
    tap(b, "nav a[href='/intake/new']").await;
    b.wait_for_heading("Erstgespräch").await;
    type_into(b, "household_name", None, name).await;
    add_person(b, "Emine Testova", "1984-02-29").await;
    choose(b, "housing_situation", None, "sublet").await;
    click_testid(b, "finalize").await;
    b.wait_for_xpath("//*[@data-testid='saved']").await;
    wait_for_sync_text(b, "Alles synchronisiert").await;
}

/// Opens the case from the caseload, by its name.
pub async fn open_case(b: &Browser, name: &str) {
    tap(b, "nav a[href='/']").await;
    let link = b
        .wait_for_xpath(&format!(
            "//*[@data-testid='cases']//a[contains(normalize-space(), {})]",
            xpath_literal(name)
        ))
        .await;
    link.click().await.unwrap();
    b.wait_for_xpath(&format!(
        "//h1[@data-testid='case-name'][normalize-space()={}]",
        xpath_literal(name)
    ))
    .await;
}

/// A home visit that records a new housing situation, finalized on the phone.
pub async fn visit_changing_housing(b: &Browser, housing: &str) {
    b.client
        .find(Locator::XPath("//a[normalize-space()='Neuer Hausbesuch']"))
        .await
        .expect("new visit")
        .click()
        .await
        .unwrap();
    b.wait_for_heading("Hausbesuch").await;
    pick(b, "visit_date", None, &today()).await;
    pick(b, "start_time", None, "10:00").await;
    choose(b, "consent_to_enter", None, "yes").await;
    choose(b, "housing_situation", None, housing).await;
    type_into(b, "changes_housing", None, "Umzug seit dem letzten Besuch.").await;
    click_testid(b, "finalize").await;
    b.wait_for_xpath("//*[@data-testid='saved']").await;
}
