//! A phone opens CRIS Field once with a connection, then keeps using it with none.

use cris_e2e::phone::{self, first_login, team_server};
use cris_e2e::{Browser, Chromedriver, TestServer, built_app_dir, copy_app, wait_until};
use fantoccini::Locator;

/// Opens the app, chooses Turkish, loses the server, reloads and navigates: the app still
/// works, still in Turkish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_keeps_working_offline_in_the_chosen_language() {
    let server = team_server().await;
    let origin = server.url("");
    let driver = Chromedriver::start().await;
    let browser = Browser::open(&driver, 360, 740, "de-DE").await;
    let c = &browser.client;

    first_login(&browser, &server, "ayse.w").await;
    // A German phone gets German without choosing anything.
    browser.wait_for_heading("Meine Fälle").await;
    browser.wait_for_service_worker().await;

    // The app's wasm carries German only: Turkish comes as a file of its own when chosen
    // (and is kept for offline use with the rest of the app).
    let wasm = std::fs::read_dir(built_app_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_bg.wasm"))
        .expect("the built wasm");
    let wasm = std::fs::read(wasm).unwrap();
    let holds = |text: &str| wasm.windows(text.len()).any(|w| w == text.as_bytes());
    assert!(holds("Meine Fälle"));
    assert!(!holds("Vakalarım"), "Turkish strings are in the wasm");

    let picker = c
        .find(Locator::Css("#lang-header"))
        .await
        .expect("language picker");
    picker.select_by_value("tr").await.expect("choose Turkish");
    browser.wait_for_heading("Vakalarım").await;
    browser
        .wait_for_xpath("//nav//a[normalize-space()='Ayarlar']")
        .await;
    assert_eq!(
        browser.eval("return document.documentElement.lang;").await,
        "tr",
        "<html lang> follows the language"
    );

    let fetch_health = "try { const r = await fetch('/api/health'); return r.status; } \
                        catch (e) { return 'unreachable'; }";
    assert_eq!(browser.eval(fetch_health).await, 200);

    server.stop().await;

    // The password unlocks the phone without the server.
    phone::reload(&browser).await;
    browser.wait_for_heading("Vakalarım").await;

    // The API is never answered from a cache: with the server gone it is unreachable, and no
    // cache holds anything under /api/.
    assert_eq!(browser.eval(fetch_health).await, "unreachable");
    let cached_api = browser
        .eval(
            "const urls = [];
             for (const name of await caches.keys()) {
                 for (const req of await (await caches.open(name)).keys()) urls.push(req.url);
             }
             return urls.filter((u) => new URL(u).pathname.startsWith('/api'));",
        )
        .await;
    assert_eq!(cached_api, serde_json::json!([]));

    c.find(Locator::XPath("//nav//a[normalize-space()='Ayarlar']"))
        .await
        .expect("settings link")
        .click()
        .await
        .expect("open settings");
    browser.wait_for_heading("Ayarlar").await;
    browser
        .wait_for_xpath(
            "//*[@data-testid='offline-ready'][normalize-space()='İnternetsiz çalışmaya hazır']",
        )
        .await;

    // The app asked the browser to keep its data, and says what the browser answered.
    browser
        .wait_for_xpath(
            "//*[@data-testid='persistence'][normalize-space()='Bu telefondaki veriler otomatik silinmeye karşı korunuyor.' \
             or normalize-space()='Depolama alanı azaldığında tarayıcı bu telefondaki verileri silebilir. Lütfen düzenli olarak eşitleyin.']",
        )
        .await;

    // A screen's address typed or bookmarked while offline opens too.
    phone::open(&browser, &format!("{origin}/intake/new")).await;
    browser.wait_for_heading("İlk görüşme").await;
    // A visit for a household this phone does not hold says so, instead of an empty form.
    phone::open(
        &browser,
        &format!("{origin}/cases/0192b3c4-0000-7000-8000-0000000000ff/visit"),
    )
    .await;
    browser
        .wait_for_xpath("//*[@data-testid='case-not-found']")
        .await;

    c.find(Locator::XPath("//nav//a[normalize-space()='Vakalarım']"))
        .await
        .expect("caseload link")
        .click()
        .await
        .expect("back to the caseload");
    browser.wait_for_heading("Vakalarım").await;
    // The phone layout: nothing wider than the screen, every control big enough for a thumb.
    assert_eq!(browser.eval("return window.innerWidth;").await, 360);
    assert_eq!(
        browser
            .eval("return document.documentElement.scrollWidth;")
            .await,
        360,
        "no sideways scrolling at 360 px"
    );
    let small = browser
        .eval(
            "return [...document.querySelectorAll('a, button, select')]
                .filter((el) => el.getBoundingClientRect().height < 44)
                .map((el) => el.outerHTML);",
        )
        .await;
    assert_eq!(small, serde_json::json!([]), "touch targets under 44 px");

    let shot = browser.screenshot("caseload-tr-360x740.png").await;
    let png = std::fs::read(&shot).unwrap();
    let size = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!((size(16), size(20)), (360, 740), "screenshot is 360x740");

    browser.close().await;
}

/// A new build deployed while the app is open is offered with a banner and taken on reload;
/// the old cache is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_version_is_offered_and_taken_on_reload() {
    let app = copy_app(&built_app_dir());
    let first = TestServer::start(app.path()).await;
    let addr = first.addr;
    let driver = Chromedriver::start().await;
    let browser = Browser::open(&driver, 1280, 800, "en-GB").await;
    let c = &browser.client;

    // (A new phone: no one has logged in, the app shows its login page.)
    c.goto(&first.url("/settings")).await.expect("open the app");
    browser.wait_for_heading("Log in").await;
    browser.wait_for_service_worker().await;
    let old_caches = browser.eval("return await caches.keys();").await;
    assert_eq!(old_caches.as_array().map(Vec::len), Some(1), "{old_caches}");

    // Deploy a new build at the same address: the service worker's version changes.
    first.stop().await;
    let sw_path = app.path().join("sw.js");
    let sw = std::fs::read_to_string(&sw_path).unwrap();
    let old_version = sw
        .lines()
        .find_map(|l| l.strip_prefix("const VERSION = \""))
        .and_then(|rest| rest.strip_suffix("\";"))
        .expect("the build wrote a version into sw.js")
        .to_owned();
    std::fs::write(&sw_path, sw.replace(&old_version, "0000000000000002")).unwrap();
    let second = TestServer::start_on(app.path(), addr).await;

    browser
        .eval("const reg = await navigator.serviceWorker.getRegistration(); await reg.update(); return true;")
        .await;
    let banner_button = browser
        .wait_for_xpath("//*[@data-testid='update-banner']//button[normalize-space()='Reload now']")
        .await;
    banner_button
        .click()
        .await
        .expect("reload into the new version");

    let browser_ref = &browser;
    wait_until("the new version to take over", || async move {
        // The page reloads meanwhile: a script cut short by that is simply asked again.
        let keys = browser_ref
            .try_eval("return await caches.keys();")
            .await
            .ok()?;
        (keys == serde_json::json!(["cris-shell-0000000000000002"])).then_some(())
    })
    .await;
    browser.wait_for_heading("Log in").await;
    let banners = c
        .find_all(Locator::Css("[data-testid='update-banner']"))
        .await
        .unwrap();
    assert!(banners.is_empty(), "no banner after the reload");

    browser.close().await;
    second.stop().await;
}

/// Holds back the app's wasm (as if it were still on its way), or lets it through again.
async fn hold_back_the_wasm(b: &Browser, held: bool) {
    let urls = if held {
        b.devtools("Network.enable", serde_json::json!({})).await;
        serde_json::json!(["*_bg.wasm"])
    } else {
        serde_json::json!([])
    };
    b.devtools(
        "Network.setBlockedURLs",
        serde_json::json!({ "urls": urls }),
    )
    .await;
}

/// Until the app's wasm has arrived (seconds on a slow network), the page shows the app's
/// header and a moving bar instead of a blank screen; the app's first screen replaces them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_it_is_starting_until_the_app_is_drawn() {
    let server = TestServer::start(&built_app_dir()).await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    hold_back_the_wasm(&b, true).await;
    b.client.goto(&server.url("/")).await.unwrap();
    b.wait_for_xpath(
        "//*[@id='starting']//*[@role='status']//span[normalize-space()='CRIS Field']",
    )
    .await;
    let bar_shown = b
        .eval("return document.querySelector('.starting-bar').getBoundingClientRect().height > 0;")
        .await;
    assert_eq!(bar_shown, true);
    b.screenshot("starting-360x740.png").await;

    hold_back_the_wasm(&b, false).await;
    b.client.refresh().await.unwrap();
    b.wait_for_first_page("//form[@data-testid='login-form']")
        .await;
    assert_eq!(
        b.eval("return document.getElementById('starting') === null;")
            .await,
        true,
        "the starting header is gone once the app is drawn"
    );
    b.close().await;
    server.stop().await;
}

/// On a phone with no account yet, the login form is there before the app: in the phone's
/// language, to be filled in while the wasm is on its way, and never sent from there. The app,
/// once started, takes over what was typed and the finger's place, and logs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_form_can_be_filled_in_before_the_app_arrives() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "tr-TR").await;
    let turkish: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(cris_e2e::workspace_root().join("public/i18n/tr.json")).unwrap(),
    )
    .unwrap();
    hold_back_the_wasm(&b, true).await;
    b.client.goto(&server.url("/")).await.unwrap();
    b.wait_for_xpath("//section[@id='starting-login'][not(@hidden)]")
        .await;
    let shown = b
        .eval(
            "const f = document.getElementById('starting-login');
             return [f.querySelector('h1').textContent,
                     f.querySelector(\"label[for='starting-login-name']\").textContent,
                     f.querySelector(\"label[for='starting-login-password']\").textContent,
                     f.querySelector('button').textContent,
                     f.querySelector('button').disabled,
                     document.documentElement.lang];",
        )
        .await;
    assert_eq!(shown[0], turkish["login_title"]);
    assert_eq!(shown[1], turkish["login_name"]);
    assert_eq!(shown[2], turkish["password"]);
    assert_eq!(shown[3], turkish["login_submit"]);
    assert_eq!(shown[4], true, "the button is off until the app is there");
    assert_eq!(shown[5], "tr");

    // Filled in meanwhile; Enter sends nothing (the page stays, with no query).
    let name = b
        .client
        .find(Locator::Id("starting-login-name"))
        .await
        .unwrap();
    name.send_keys("ayse.w").await.unwrap();
    let password = b
        .client
        .find(Locator::Id("starting-login-password"))
        .await
        .unwrap();
    password.send_keys(phone::PASSWORD).await.unwrap();
    b.eval("window.stillThisPage = true; return true;").await;
    password.send_keys("\u{E007}").await.unwrap();
    assert_eq!(
        b.client.current_url().await.unwrap().as_str(),
        server.url("/")
    );

    // The wasm arrives: the app starts in this page, as the page's start script does.
    hold_back_the_wasm(&b, false).await;
    b.eval(
        "const glue = document.querySelector('link[rel=modulepreload]').href;
         const wasm = document.querySelector('link[rel=preload][type=\"application/wasm\"]').href;
         import(glue).then((m) => m.default({ module_or_path: wasm }));
         return true;",
    )
    .await;
    b.wait_for_heading(turkish["login_title"].as_str().unwrap())
        .await;
    let taken_over = b
        .eval(
            "return [window.stillThisPage === true,
                     document.getElementById('starting') === null,
                     document.getElementById('login-name').value,
                     document.getElementById('login-password').value,
                     document.activeElement.id,
                     document.activeElement.selectionStart];",
        )
        .await;
    assert_eq!(
        taken_over,
        serde_json::json!([
            true,
            true,
            "ayse.w",
            phone::PASSWORD,
            "login-password",
            phone::PASSWORD.len()
        ])
    );
    // Enter, in the app's field now, logs in.
    b.client
        .find(Locator::Id("login-password"))
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    b.wait_for_heading(turkish["caseload_title"].as_str().unwrap())
        .await;
    b.close().await;
    server.stop().await;
}

/// A screen's code comes when the screen first opens: the login page loads none of the
/// screens behind it. A screen whose code cannot be had says so and offers a retry, and the
/// rest of the app goes on working; the retry, once the code can be had, opens the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_s_code_comes_when_it_opens_and_its_absence_stops_nothing() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    b.client.goto(&server.url("/")).await.unwrap();
    b.wait_for_first_page("//input[@id='login-name']").await;
    let at_login = b.fetched().await;
    assert!(
        at_login.iter().any(|f| f == "cris-app_bg.wasm"),
        "{at_login:?}"
    );
    let parts: Vec<_> = at_login
        .iter()
        .filter(|f| f.starts_with("split_") || f.starts_with("chunk_"))
        .collect();
    assert!(parts.is_empty(), "the login page loaded {parts:?}");

    phone::submit_login(&b, "ayse.w").await;
    b.wait_for_heading("Meine Fälle").await;
    let opened = b.fetched().await;
    assert!(
        opened.iter().any(|f| f == "split_caseload.wasm"),
        "{opened:?}"
    );
    assert!(
        !opened.iter().any(|f| f == "split_settings.wasm"),
        "{opened:?}"
    );

    // The settings' code cannot be had: past the service worker, and the network refuses it.
    b.devtools("Network.enable", serde_json::json!({})).await;
    b.devtools(
        "Network.setBypassServiceWorker",
        serde_json::json!({ "bypass": true }),
    )
    .await;
    b.devtools(
        "Network.setBlockedURLs",
        serde_json::json!({ "urls": ["*split_settings*"] }),
    )
    .await;
    let tab = "//nav//a[normalize-space()='Optionen']";
    b.wait_for_xpath(tab).await.click().await.unwrap();
    b.wait_for_xpath(
        "//*[@data-testid='screen-unloaded'][@role='alert'][contains(., 'Diese Seite konnte nicht geladen werden')]",
    )
    .await;
    b.screenshot("screen-unloaded.png").await;
    // The app goes on: the caseload opens, and the settings say it again.
    b.wait_for_xpath("//nav//a[normalize-space()='Meine Fälle']")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for_heading("Meine Fälle").await;
    b.wait_for_xpath(tab).await.click().await.unwrap();
    b.wait_for_xpath("//*[@data-testid='screen-unloaded']")
        .await;

    // With the code to be had again, the retry opens the screen.
    b.devtools("Network.setBlockedURLs", serde_json::json!({ "urls": [] }))
        .await;
    cris_e2e::ui::click_testid(&b, "screen-retry").await;
    b.wait_for_heading("Einstellungen").await;
    assert!(
        b.client
            .find_all(Locator::Css("[data-testid='screen-unloaded']"))
            .await
            .unwrap()
            .is_empty()
    );

    // Once the service worker holds the app, a start fetches the caseload's code from it
    // while the unlock screen waits for the password.
    b.devtools(
        "Network.setBypassServiceWorker",
        serde_json::json!({ "bypass": false }),
    )
    .await;
    b.wait_for_service_worker().await;
    b.client.refresh().await.unwrap();
    b.wait_for_xpath("//input[@id='unlock-secret']").await;
    wait_until("the caseload's code fetched before the unlock", || async {
        b.fetched()
            .await
            .contains(&"split_caseload.wasm".to_owned())
            .then_some(())
    })
    .await;
    assert!(
        b.client.find(Locator::Id("unlock-secret")).await.is_ok(),
        "still locked"
    );
    phone::unlock(&b).await;
    b.wait_for_heading("Einstellungen").await;
    b.close().await;
    server.stop().await;
}
