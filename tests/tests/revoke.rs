//! A phone in the wrong hands: after a logout it holds no household of the account (when
//! nothing waited to be sent); reported lost, the administrator revokes it on the server, and
//! at its next sync it deletes everything of the app (records, token, caches) and says why.

use cris_e2e::phone::{log_in, record_synced_household, submit_login, team_server};
use cris_e2e::ui::{click_testid, tap};
use cris_e2e::{Browser, Chromedriver, wait_until};

/// How many records each of the app's object stores holds (null where there is no database).
async fn records(b: &Browser) -> serde_json::Value {
    b.eval(
        "const names = (await indexedDB.databases()).map((d) => d.name);
         if (!names.includes('cris-field')) return null;
         const db = await new Promise((ok, no) => { const r = indexedDB.open('cris-field'); r.onsuccess = () => ok(r.result); r.onerror = no; });
         const out = {};
         for (const s of ['cases', 'submissions', 'outbox', 'drafts', 'consents', 'meta']) {
           if (!db.objectStoreNames.contains(s)) continue;
           out[s] = await new Promise((ok) => { const r = db.transaction(s).objectStore(s).count(); r.onsuccess = () => ok(r.result); });
         }
         db.close();
         return out;",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_phone_wipes_itself_and_says_why() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&b, &server, "ayse.w").await;
    record_synced_household(&b, "Familie Verloren").await;
    let device = b
        .eval("return JSON.parse(localStorage.getItem('cris.device'));")
        .await;
    let device = device.as_str().expect("the phone's device id").to_owned();
    assert_eq!(records(&b).await["cases"], 1);

    // Reported lost: revoked on the server; the phone's next sync wipes it.
    assert!(
        server
            .store
            .revoke_device(&device, cris_server::auth::now_ms(), None)
            .await
            .unwrap()
    );
    click_testid(&b, "sync-now").await;
    b.wait_for_xpath(
        "//*[@data-testid='wiped'][contains(., 'Alle Daten der App wurden von diesem Telefon gelöscht.')]",
    )
    .await;
    let left = wait_until("the records gone", || async {
        let r = records(&b).await;
        (r.is_null() || r.as_object().is_some_and(|o| o.values().all(|n| *n == 0))).then_some(r)
    })
    .await;
    assert!(left.is_null() || left["cases"] == 0, "{left}");
    let kept = b
        .eval(
            "return [localStorage.getItem('cris.session'), localStorage.getItem('cris.last-login'),
                     localStorage.getItem('cris.device')];",
        )
        .await;
    assert_eq!(kept[0], serde_json::Value::Null, "no token left");
    assert_eq!(kept[1], serde_json::Value::Null, "no login name left");
    assert_ne!(kept[2].as_str(), Some(format!("\"{device}\"").as_str()));
    let households = b
        .eval("return document.body.textContent.includes('Familie Verloren');")
        .await;
    assert_eq!(households, false);
    assert_eq!(
        b.eval("return location.pathname;").await,
        "/",
        "the app starts again, as on a new phone"
    );
    b.screenshot("revoked-phone.png").await;

    // The worker, handed the phone back, logs in anew: as a new device.
    b.wait_for_heading("Anmelden").await;
    submit_login(&b, "ayse.w").await;
    b.wait_for_heading("Meine Fälle").await;
    let again = b
        .eval("return JSON.parse(localStorage.getItem('cris.device'));")
        .await;
    assert_ne!(again.as_str(), Some(device.as_str()));
    b.close().await;
    server.stop().await;
}

/// A worker logs out with nothing waiting: the households leave the phone with the account,
/// and come back from the server at the next login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_takes_the_households_along() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&b, &server, "ayse.w").await;
    record_synced_household(&b, "Familie Abgemeldet").await;
    tap(&b, "nav a[href='/settings']").await;
    click_testid(&b, "logout").await;
    // Nothing of the account is left: the phone opens as a new one, on the login page.
    b.wait_for_heading("Anmelden").await;
    let left = wait_until("the households gone", || async {
        let r = records(&b).await;
        (r["cases"] == 0).then_some(r)
    })
    .await;
    assert_eq!(left["submissions"], 0, "{left}");
    assert_eq!(left["consents"], 0, "{left}");
    assert_eq!(
        left["meta"], 0,
        "no session, no setting of the account: {left}"
    );
    let key = b
        .eval(
            "const db = await new Promise((ok, no) => { const r = indexedDB.open('cris-field'); r.onsuccess = () => ok(r.result); r.onerror = no; });
             const keys = await new Promise((ok) => { const r = db.transaction('device').objectStore('device').getAllKeys(); r.onsuccess = () => ok(r.result); });
             db.close();
             return keys;",
        )
        .await;
    assert_eq!(
        key,
        serde_json::json!(["clock"]),
        "the account's key is gone"
    );
    let households = b
        .eval("return document.body.textContent.includes('Familie Abgemeldet');")
        .await;
    assert_eq!(households, false);

    // The same worker logs in again: the household comes back from the server.
    submit_login(&b, "ayse.w").await;
    b.wait_for_xpath("//*[@data-testid='cases']//*[normalize-space()='Familie Abgemeldet']")
        .await;
    b.close().await;
    server.stop().await;
}

/// The administrator revokes the lost phone from the overview's device list, after a
/// confirmation; the list says when and by whom, and the phone wipes itself at its next sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_revokes_a_lost_phone_from_the_overview() {
    let server = team_server().await;
    server
        .add_account(
            "ada.a",
            "Ada Administratorin",
            cris_core::api::Role::Admin,
            cris_e2e::phone::TEAM,
            cris_e2e::phone::PASSWORD,
        )
        .await;
    let driver = Chromedriver::start().await;
    let phone = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&phone, &server, "ayse.w").await;
    record_synced_household(&phone, "Familie Verlegt").await;
    let device = phone
        .eval("return JSON.parse(localStorage.getItem('cris.device'));")
        .await;
    let device = device.as_str().expect("the phone's device id").to_owned();

    let laptop = Browser::open(&driver, 1280, 800, "de-DE").await;
    log_in(&laptop, &server, "ada.a").await;
    tap(&laptop, "nav a[href='/overview']").await;
    let row = format!("//*[@data-testid='devices']//tr[@data-device='{device}']");
    let button = format!("{row}//button[@data-testid='device-revoke']");
    laptop.wait_for_xpath(&button).await.click().await.unwrap();
    let question = laptop.client.get_alert_text().await.unwrap();
    assert!(
        question.contains("Ayşe Testfrau") && question.contains("gehen dabei verloren"),
        "{question}"
    );
    // Thought better of: nothing happens.
    laptop.client.dismiss_alert().await.unwrap();
    assert_eq!(
        server.store.devices(Some("ayse.w")).await.unwrap()[0].revoked_ms,
        None
    );
    laptop.wait_for_xpath(&button).await.click().await.unwrap();
    laptop.client.accept_alert().await.unwrap();
    laptop
        .wait_for_xpath(&format!(
            "{row}//*[@data-testid='device-state'][contains(., 'gesperrt am')][contains(., 'von ada.a')]"
        ))
        .await;
    let known = server.store.devices(Some("ayse.w")).await.unwrap();
    assert_eq!(known[0].revoked_by.as_deref(), Some("ada.a"));

    click_testid(&phone, "sync-now").await;
    phone
        .wait_for_xpath(
            "//*[@data-testid='wiped'][contains(., 'Alle Daten der App wurden von diesem Telefon gelöscht.')]",
        )
        .await;
    assert_eq!(
        phone
            .eval("return document.body.textContent.includes('Familie Verlegt');")
            .await,
        false
    );
    phone.close().await;
    laptop.close().await;
    server.stop().await;
}
