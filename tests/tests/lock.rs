//! A lost phone gives nothing away: what the app keeps is sealed (IndexedDB, the browser's
//! files on disk, local storage and the service worker's caches hold no family's name), the
//! app locks when left alone and opens again with the PIN while it runs, and with the password
//! after too many wrong PINs, after a reload, and (online) after too long away from the server.

use std::path::Path;

use cris_e2e::phone::{
    self, PASSWORD, log_in, record_synced_household, team_server, team_server_with_policy,
};
use cris_e2e::ui::{add_person, click_testid, tap, type_into, value_of};
use cris_e2e::{Browser, Chromedriver, PhonePolicy, wait_until};
use fantoccini::Locator;
use serde_json::{Value, json};

/// Every value of every object store of the app, as JSON text, read without the key.
async fn raw_indexeddb(b: &Browser) -> Value {
    b.eval(
        "const db = await new Promise((ok, no) => { const r = indexedDB.open('cris-field'); r.onsuccess = () => ok(r.result); r.onerror = no; });
         const out = {};
         for (const s of db.objectStoreNames) {
           const all = await new Promise((ok) => { const r = db.transaction(s).objectStore(s).getAll(); r.onsuccess = () => ok(r.result); });
           // Byte arrays written out as text too, as a reader of the raw bytes would see them.
           out[s] = all.map((v) => JSON.stringify(v) + ' ' + ['iv', 'ct'].map((f) => v && v[f] instanceof Uint8Array ? new TextDecoder('latin1').decode(v[f]) : '').join(' '));
         }
         db.close();
         return out;",
    )
    .await
}

/// The files under `dir` that contain `needle` (as UTF-8 or UTF-16 text).
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let utf8 = needle.as_bytes().to_vec();
    let utf16: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(at) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && [&utf8, &utf16]
                    .iter()
                    .any(|n| bytes.windows(n.len()).any(|w| w == n.as_slice()))
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_phone_gives_no_family_away() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&b, &server, "ayse.w").await;
    b.wait_for_service_worker().await;
    record_synced_household(&b, "Familie Qzwervik").await;
    // A draft too, with an answer about health.
    tap(&b, "nav a[href='/intake/new']").await;
    b.wait_for_heading("Erstgespräch").await;
    type_into(&b, "household_name", None, "Familie Vrzalova").await;
    type_into(
        &b,
        "health_affects_work",
        None,
        "Dialysepatientin dreimal pro Woche",
    )
    .await;
    b.wait_for_xpath(
        "//*[@data-testid='save-state'][starts-with(normalize-space(), 'Entwurf gespeichert um')]",
    )
    .await;
    tap(&b, "nav a[href='/']").await;
    b.wait_for_xpath("//*[@data-testid='cases']//*[normalize-space()='Familie Qzwervik']")
        .await;

    // (The form definitions, kept in clear, name the fields: the answers are what matters.)
    let secrets = ["Qzwervik", "Emine Testova", "Vrzalova", "Dialysepatientin"];
    let raw = raw_indexeddb(&b).await;
    let stores = raw.as_object().expect("the stores");
    for store in ["cases", "submissions", "drafts", "meta"] {
        assert!(
            !stores[store].as_array().unwrap().is_empty(),
            "{store} holds records"
        );
    }
    let text = raw.to_string();
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} readable in IndexedDB");
    }

    // Local storage holds no token and no one's data: the language, the device, the login.
    let local = b
        .eval("return Object.fromEntries(Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)]));")
        .await;
    let keys: Vec<&String> = local.as_object().unwrap().keys().collect();
    for key in &keys {
        assert!(
            [
                "cris.lang",
                "cris.device",
                "cris.last-login",
                "cris.last-sync"
            ]
            .contains(&key.as_str()),
            "{key} in local storage: {local}"
        );
    }
    // The service worker's caches hold the app's own files only: nothing of the API, and no
    // family's name in any of them.
    let cached = b
        .eval(
            "const out = [];
             for (const name of await caches.keys()) {
               const cache = await caches.open(name);
               for (const req of await cache.keys()) {
                 const body = await (await cache.match(req)).text();
                 out.push([new URL(req.url).pathname, body.includes('Qzwervik') || body.includes('Vrzalova')]);
               }
             }
             return out;",
        )
        .await;
    let cached = cached.as_array().unwrap();
    assert!(!cached.is_empty(), "the app shell is cached");
    for entry in cached {
        let path = entry[0].as_str().unwrap();
        assert!(!path.starts_with("/api"), "{path} cached");
        assert_eq!(entry[1], false, "{path} holds a family's name");
    }

    // The browser's files on disk, as a finder could copy them, do not name the families.
    // (Closed first, so that everything is written out.)
    let profile = b.close_keeping_profile().await;
    assert!(
        !files_containing(profile.path(), "cris-field").is_empty(),
        "the profile holds the app's database"
    );
    for secret in ["Qzwervik", "Vrzalova", "Dialysepatientin"] {
        assert_eq!(
            files_containing(profile.path(), secret),
            Vec::<String>::new(),
            "{secret:?} in the browser's files"
        );
    }
    server.stop().await;
}

/// What the page shows of a household while locked: nothing.
async fn shows_no_household(b: &Browser, name: &str) -> bool {
    b.eval(&format!(
        "return !document.body.innerText.includes({});",
        json!(name)
    ))
    .await
        == true
}

async fn wait_locked(b: &Browser) {
    b.wait_for_xpath("//*[@data-testid='unlock']").await;
}

async fn type_secret(b: &Browser, secret: &str) {
    let field = b.wait_for_xpath("//input[@id='unlock-secret']").await;
    field.clear().await.unwrap();
    field.send_keys(secret).await.unwrap();
    click_testid(b, "unlock-submit").await;
}

/// Waits until the unlock screen says `text`.
async fn expect_problem(b: &Browser, text: &str) {
    wait_until(&format!("the unlock screen to say {text:?}"), || async {
        let said = b
            .eval("const p = document.querySelector(\"[data-testid='unlock-problem']\"); return p ? p.textContent.trim() : null;")
            .await;
        (said == text).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_left_alone_locks_and_opens_again_with_the_draft_intact() {
    let server = team_server_with_policy(PhonePolicy {
        lock_after_s: 4,
        offline_days: 30,
    })
    .await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    let c = &b.client;
    log_in(&b, &server, "ayse.w").await;

    // A PIN for the day.
    tap(&b, "nav a[href='/settings']").await;
    let pin = b.wait_for_xpath("//input[@id='pin-new']").await;
    // Not a PIN: said so, nothing set.
    pin.send_keys("12ab").await.unwrap();
    c.find(Locator::Id("pin-repeat"))
        .await
        .unwrap()
        .send_keys("12ab")
        .await
        .unwrap();
    click_testid(&b, "pin-save").await;
    b.wait_for_xpath("//*[@data-testid='pin-said'][normalize-space()='Eine PIN hat 4 bis 8 Ziffern, nichts anderes.']")
        .await;
    for field in ["pin-new", "pin-repeat"] {
        let input = c.find(Locator::Id(field)).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys("471100").await.unwrap();
    }
    click_testid(&b, "pin-save").await;
    b.wait_for_xpath("//*[@data-testid='pin-said'][normalize-space()='Die PIN ist festgelegt.']")
        .await;

    // A form begun, then the phone put down mid-sentence.
    tap(&b, "nav a[href='/intake/new']").await;
    b.wait_for_heading("Erstgespräch").await;
    let form_url = wait_until("the draft's own address", || async {
        let url = c.current_url().await.ok()?;
        url.path().starts_with("/drafts/").then_some(url)
    })
    .await;
    type_into(&b, "household_name", None, "Familie Pausewitz").await;
    add_person(&b, "Ilka Pausewitz", "1990-10-10").await;
    type_into(&b, "health_affects_work", None, "Knie operiert, Reha bis M").await;
    wait_locked(&b).await;
    assert!(shows_no_household(&b, "Pausewitz").await);
    // Back, and the print view, show the lock too.
    c.back().await.unwrap();
    wait_locked(&b).await;
    assert!(shows_no_household(&b, "Pausewitz").await);

    // A wrong PIN is counted; the right one opens the form as it was, to the letter.
    type_secret(&b, "000000").await;
    expect_problem(&b, "Falsche PIN. Noch 4 Versuche.").await;
    type_secret(&b, "471100").await;
    // (Back went back meanwhile, to the settings; Forward returns to the form.)
    b.wait_for_heading("Einstellungen").await;
    c.forward().await.unwrap();
    b.wait_for_heading("Erstgespräch").await;
    assert_eq!(c.current_url().await.unwrap(), form_url);
    let name = wait_until("the form back", || async {
        let v = value_of(&b, "household_name", None).await;
        (v != Value::Null).then_some(v)
    })
    .await;
    assert_eq!(name, "Familie Pausewitz");
    assert_eq!(
        value_of(&b, "health_affects_work", None).await,
        "Knie operiert, Reha bis M"
    );
    assert_eq!(value_of(&b, "member_name", Some(0)).await, "Ilka Pausewitz");

    // Locked again; five wrong PINs, and only the password opens.
    wait_locked(&b).await;
    for left in ["4 Versuche", "3 Versuche", "2 Versuche", "1 Versuch"] {
        type_secret(&b, "999999").await;
        expect_problem(&b, &format!("Falsche PIN. Noch {left}.")).await;
    }
    type_secret(&b, "999999").await;
    expect_problem(
        &b,
        "Zu viele falsche PINs. Jetzt öffnet nur noch das Passwort die Daten.",
    )
    .await;
    type_secret(&b, "471100").await;
    expect_problem(&b, "Das Passwort stimmt nicht.").await;
    type_secret(&b, PASSWORD).await;
    b.wait_for_heading("Erstgespräch").await;
    let name = wait_until("the form back", || async {
        let v = value_of(&b, "household_name", None).await;
        (v != Value::Null).then_some(v)
    })
    .await;
    assert_eq!(name, "Familie Pausewitz");

    // A reload while locked shows nothing, and asks for the password (the PIN's key went
    // with the page).
    wait_locked(&b).await;
    c.refresh().await.unwrap();
    wait_locked(&b).await;
    assert!(shows_no_household(&b, "Pausewitz").await);
    let intro = b
        .eval("return document.querySelector(\"[data-testid='unlock'] p\").textContent;")
        .await;
    assert_eq!(
        intro,
        "Die Daten auf diesem Telefon sind verschlüsselt. Zum Entsperren das Passwort von ayse.w eingeben."
    );
    phone::unlock(&b).await;
    b.wait_for_heading("Erstgespräch").await;
    assert_eq!(
        value_of(&b, "health_affects_work", None).await,
        "Knie operiert, Reha bis M"
    );
    b.close().await;
    server.stop().await;
}

/// A phone that has not reached the server for longer than the agency allows does not open
/// offline, even with the right password; once the server can be reached, it does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_away_too_long_needs_the_server_to_open() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&b, &server, "ayse.w").await;
    record_synced_household(&b, "Familie Fernweh").await;
    b.wait_for_service_worker().await;

    // 31 days later (the phone's clock), with no network.
    b.devtools(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": "const realNow = Date.now; Date.now = () => realNow() + 31 * 86400000;" }),
    )
    .await;
    b.set_offline(true).await;
    b.client.refresh().await.unwrap();
    wait_locked(&b).await;
    type_secret(&b, PASSWORD).await;
    expect_problem(
        &b,
        "Dieses Telefon war länger als 30 Tage nicht mit dem Server verbunden. Zum Entsperren braucht es jetzt einmal Netz.",
    )
    .await;
    assert!(shows_no_household(&b, "Fernweh").await);

    // Online again: the server takes the login, and the phone opens.
    b.set_offline(false).await;
    type_secret(&b, PASSWORD).await;
    wait_until("the household on screen again", || async {
        (!shows_no_household(&b, "Familie Fernweh").await).then_some(())
    })
    .await;
    b.close().await;
    server.stop().await;
}
