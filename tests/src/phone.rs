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

/// A new phone's first login, as `login`, with a wrong password tried first; it ends once the
/// first sync is done.
pub async fn log_in(b: &Browser, server: &TestServer, login: &str) {
    b.client.goto(&server.url("/")).await.expect("open the app");
    // A new phone holds no account's key: it opens on the login page.
    b.wait_for_first_page("//h1[not(ancestor::*[@id='starting'])][normalize-space()='Anmelden']")
        .await;
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

/// Logs in as `login` with the right password, on the login page (opened from the unlock
/// screen or the sync line unless already open); what follows is the caller's to check.
pub async fn submit_login(b: &Browser, login: &str) {
    if b.client.find(Locator::Id("login-name")).await.is_err() {
        if b.client
            .find(Locator::Css("[data-testid='unlock-other-account']"))
            .await
            .is_ok()
        {
            click_testid(b, "unlock-other-account").await;
        } else {
            click_testid(b, "sync-login").await;
        }
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

/// Opens the case from the caseload, by its name (scrolled to the middle of the screen
/// first: on a small phone it may be under the tab bar).
pub async fn open_case(b: &Browser, name: &str) {
    tap(b, "nav a[href='/']").await;
    let xpath = format!(
        "//*[@data-testid='cases']//a[contains(normalize-space(), {})]",
        xpath_literal(name)
    );
    let link = b.wait_for_xpath(&xpath).await;
    b.eval(&format!(
        "document.evaluate({}, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null)
           .singleNodeValue.scrollIntoView({{ block: 'center' }}); return true;",
        serde_json::to_string(&xpath).unwrap()
    ))
    .await;
    link.click().await.unwrap();
    b.wait_for_xpath(&format!(
        "//h1[@data-testid='case-name'][normalize-space()={}]",
        xpath_literal(name)
    ))
    .await;
}

/// Starts a home visit from the household's page, dated today.
pub async fn begin_visit(b: &Browser) {
    b.client
        .find(Locator::XPath("//a[normalize-space()='Neuer Hausbesuch']"))
        .await
        .expect("new visit")
        .click()
        .await
        .unwrap();
    b.wait_for_heading("Hausbesuch").await;
    pick(b, "visit_date", None, &today()).await;
}

/// A visit begun on the household's page and left unfinished: a draft, once it says saved.
pub async fn leave_visit_as_draft(b: &Browser) {
    begin_visit(b).await;
    b.wait_for_xpath(
        "//*[@data-testid='save-state'][starts-with(normalize-space(), 'Entwurf gespeichert um')]",
    )
    .await;
}

/// A home visit that records a new housing situation, finalized on the phone.
pub async fn visit_changing_housing(b: &Browser, housing: &str) {
    begin_visit(b).await;
    pick(b, "start_time", None, "10:00").await;
    choose(b, "consent_to_enter", None, "yes").await;
    choose(b, "housing_situation", None, housing).await;
    type_into(b, "changes_housing", None, "Umzug seit dem letzten Besuch.").await;
    click_testid(b, "finalize").await;
    b.wait_for_xpath("//*[@data-testid='saved']").await;
}

/// A phone's first start: a new phone holds no account's key, so the app opens on the login
/// page; logged in as `login` (one of [`team_server`]'s), it shows the caseload.
pub async fn first_login(b: &Browser, server: &TestServer, login: &str) {
    first_login_at(b, &server.url("/"), login).await;
}

/// [`first_login`] on the page `url`, which shows once logged in (in any language).
pub async fn first_login_at(b: &Browser, url: &str, login: &str) {
    b.client.goto(url).await.expect("open the app");
    b.wait_for_first_page("//input[@id='login-name']").await;
    submit_login(b, login).await;
    b.wait_for_xpath("//nav[contains(@class, 'tabs')]").await;
}

/// After a reload or a lock: the unlock screen, opened with the password.
pub async fn unlock(b: &Browser) {
    b.wait_for_xpath("//input[@id='unlock-secret']").await;
    let field = b.client.find(Locator::Id("unlock-secret")).await.unwrap();
    field.send_keys(PASSWORD).await.unwrap();
    click_testid(b, "unlock-submit").await;
    wait_until("the app to unlock", || async {
        b.client
            .find(Locator::Css("[data-testid='unlock']"))
            .await
            .is_err()
            .then_some(())
    })
    .await;
}

/// Reloads the page: the app starts locked, and is unlocked.
pub async fn reload(b: &Browser) {
    b.client.refresh().await.expect("reload");
    unlock(b).await;
}

/// Opens `url` as a new page load: the app starts locked, and is unlocked.
pub async fn open(b: &Browser, url: &str) {
    b.client.goto(url).await.expect("open the page");
    unlock(b).await;
}

/// IndexedDB holds the phone's records sealed, so a test sees what the phone stores here:
/// from now on, in this page and every page loaded after it, every record the app seals is
/// kept, as JSON, in `window.__sealed` (per page, oldest first).
pub async fn watch_sealing(b: &Browser) {
    const WATCH: &str = "if (!window.__sealed) {
           window.__sealed = [];
           const encrypt = SubtleCrypto.prototype.encrypt;
           SubtleCrypto.prototype.encrypt = function (algorithm, key, data) {
             try {
               let record = JSON.parse(new TextDecoder().decode(data));
               const changed = window.__tamper ? window.__tamper(record) : null;
               if (changed) {
                 record = changed;
                 data = new TextEncoder().encode(JSON.stringify(record));
               }
               window.__sealed.push(record);
             } catch (e) { /* not a record */ }
             return encrypt.call(this, algorithm, key, data);
           };
         }";
    on_every_page(b, WATCH).await;
}

/// Has `function` (JavaScript, taking a record and returning it changed, or null to leave it)
/// change the first record it changes before the app seals it, in this page or a page loaded
/// after it: as a phone of an older version might have stored it. Needs [`watch_sealing`].
pub async fn tamper_once(b: &Browser, function: &str) {
    let script = format!(
        "if (!window.__tampered) {{
           const change = {function};
           window.__tamper = (r) => {{
             const changed = change(r);
             if (changed) {{ window.__tamper = null; window.__tampered = true; }}
             return changed;
           }};
         }}"
    );
    on_every_page(b, &script).await;
}

async fn on_every_page(b: &Browser, script: &str) {
    b.devtools(
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({ "source": script }),
    )
    .await;
    b.eval(&format!("{script}\nreturn true;")).await;
}

/// [`team_server`] with the agency's rules for phones `policy` (a short lock, say).
pub async fn team_server_with_policy(policy: crate::PhonePolicy) -> TestServer {
    let server = TestServer::start_with_policy(&built_app_dir(), policy).await;
    server
        .add_account("ayse.w", "Ayşe Testfrau", Role::Worker, TEAM, PASSWORD)
        .await;
    server
}
