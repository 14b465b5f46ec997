//! A family's rights on the worker's phone. A family moves away: the worker closes its case on
//! the phone, with the reason. At the sync the household leaves the phone (from every object
//! store; a visit begun for it stays as a draft) and the worker is told; the supervisor's
//! laptop still shows it, with why it closed, and counts it on the overview; reopened there,
//! it comes back to the phone whole; the supervisor prints the family's copy of its data in
//! their language beside German. A family asks to be forgotten: an administrator erases the
//! household from its page, after reading what goes; it leaves the phone at its next sync,
//! drafts and unsent entries included, and the worker is told.

use cris_core::api::Role;
use cris_e2e::phone::{
    PASSWORD, TEAM, leave_visit_as_draft, log_in, open_case, record_synced_household,
    team_server_with_supervisor, wait_for_sync_text,
};
use cris_e2e::ui::{click_testid, select, tap, type_in};
use cris_e2e::{Browser, Chromedriver, wait_until};
use fantoccini::Locator;

/// How many records each of the app's object stores holds, read from IndexedDB itself.
async fn records(b: &Browser) -> serde_json::Value {
    b.eval(
        "const db = await new Promise((ok, no) => { const r = indexedDB.open('cris-field'); r.onsuccess = () => ok(r.result); r.onerror = no; });
         const out = {};
         for (const s of ['cases', 'submissions', 'outbox', 'drafts', 'consents', 'sent']) {
           out[s] = await new Promise((ok) => { const r = db.transaction(s).objectStore(s).count(); r.onsuccess = () => ok(r.result); });
         }
         db.close();
         return out;",
    )
    .await
}

/// The names the caseload lists under `testid` (`cases` or `closed-cases`).
async fn listed(b: &Browser, testid: &str) -> Vec<String> {
    let names = b
        .eval(&format!(
            "return [...document.querySelectorAll(\"[data-testid='{testid}'] .case-name\")]
               .map(e => e.textContent.trim());"
        ))
        .await;
    serde_json::from_value(names).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_case_leaves_the_phone_and_comes_back_when_reopened() {
    let server = team_server_with_supervisor().await;
    let driver = Chromedriver::start().await;
    let phone = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&phone, &server, "ayse.w").await;
    record_synced_household(&phone, "Familie Umzug").await;
    record_synced_household(&phone, "Familie Bleibt").await;

    // A visit begun for the family and not finished: a draft.
    open_case(&phone, "Familie Umzug").await;
    leave_visit_as_draft(&phone).await;

    // Closed on the phone: the reason is asked for, and what follows is said first.
    open_case(&phone, "Familie Umzug").await;
    click_testid(&phone, "case-close").await;
    phone
        .wait_for_xpath("//*[@data-testid='close-ask'][contains(., 'Aufbewahrungsfrist')]")
        .await;
    let confirm = phone
        .client
        .find(Locator::Css("[data-testid='close-confirm']"))
        .await
        .unwrap();
    assert_eq!(
        confirm.attr("disabled").await.unwrap().as_deref(),
        Some("true"),
        "no closing without a reason"
    );
    tap(&phone, "[data-testid='close-reason'][value='moved_away']").await;
    phone.screenshot("closing-a-case.png").await;
    click_testid(&phone, "close-confirm").await;

    // At the sync it leaves the phone, and the worker is told.
    phone
        .wait_for_xpath(
            "//*[@data-testid='departed'][contains(., '1 abgeschlossener Haushalt wurde von diesem Telefon entfernt.')]",
        )
        .await;
    wait_for_sync_text(&phone, "Alles synchronisiert").await;
    let left = wait_until("the household's records gone", || async {
        let r = records(&phone).await;
        (r["cases"] == 1).then_some(r)
    })
    .await;
    assert_eq!(
        left,
        serde_json::json!({ "cases": 1, "submissions": 1, "outbox": 0, "drafts": 1, "consents": 0, "sent": 3 }),
        "only the other household's intake stays, and the draft"
    );
    assert_eq!(listed(&phone, "cases").await, ["Familie Bleibt"]);
    assert!(listed(&phone, "closed-cases").await.is_empty());
    phone.screenshot("closed-case-left-the-phone.png").await;
    click_testid(&phone, "departed-told").await;
    wait_until("the notice read", || async {
        phone
            .client
            .find_all(Locator::Css("[data-testid='departed']"))
            .await
            .ok()
            .filter(Vec::is_empty)
    })
    .await;

    // The supervisor still sees it, why it closed, and the count on the overview.
    let laptop = Browser::open(&driver, 1280, 800, "de-DE").await;
    log_in(&laptop, &server, "lea.s").await;
    laptop
        .wait_for_xpath("//*[@data-testid='closed-cases']//*[normalize-space()='Familie Umzug']")
        .await;
    tap(&laptop, "nav a[href='/overview']").await;
    laptop
        .wait_for_xpath(
            "//*[@data-testid='closed-counts']//tr[@data-reason='moved_away'][@data-count='1'][contains(., 'Weggezogen')]",
        )
        .await;
    tap(&laptop, "nav a[href='/']").await;
    laptop
        .wait_for_xpath("//*[@data-testid='closed-cases']//a")
        .await
        .click()
        .await
        .unwrap();
    laptop
        .wait_for_xpath(
            "//*[@data-testid='case-closed'][contains(., 'Fall abgeschlossen: Weggezogen')]",
        )
        .await;
    // The family asks what is held about them: the copy, in their language beside German.
    click_testid(&laptop, "open-copy").await;
    laptop
        .wait_for_xpath(
            "//*[@data-testid='copy'][@data-lang='de']//*[@data-testid='copy-household'][.='Familie Umzug']",
        )
        .await;
    laptop
        .wait_for_xpath(
            "//*[@data-testid='copy-event'][contains(., 'Fall abgeschlossen: Weggezogen')]",
        )
        .await;
    select(&laptop, "copy-lang", "tr").await;
    let expected = [
        "İlk görüşme",
        "Erstgespräch",
        "Hanenin adı",
        "Name des Haushalts",
        "Familie Umzug",
    ];
    // Found and read in one step: the copy is drawn anew when its language changes.
    let words = wait_until("the intake in the Turkish copy", || async {
        let intake = laptop
            .client
            .find(Locator::XPath(
                "//*[@data-testid='copy'][@data-lang='tr']//*[@data-testid='copy-form'][@data-form='intake']",
            ))
            .await
            .ok()?;
        intake.text().await.ok()
    })
    .await;
    for expected in expected {
        assert!(words.contains(expected), "{expected:?} in {words:?}");
    }
    laptop
        .wait_for_xpath("//*[@data-testid='copy-read'][@data-what='family_copy']")
        .await;
    laptop.screenshot("family-copy.png").await;
    let made = server.audited("family_copy").await.len();
    assert_eq!(made, 2, "each copy made is recorded: German, then Turkish");
    tap(&laptop, "a.back").await;
    click_testid(&laptop, "case-reopen").await;
    wait_until("the banner gone", || async {
        laptop
            .client
            .find_all(Locator::Css("[data-testid='case-closed']"))
            .await
            .ok()
            .filter(Vec::is_empty)
    })
    .await;
    wait_for_sync_text(&laptop, "Alles synchronisiert").await;

    // Reopened: the phone has the household again, with its intake.
    click_testid(&phone, "sync-now").await;
    // Never shown half: no household without its name while its history is read.
    let seen = std::sync::Mutex::new(Vec::new());
    wait_until("the household back", || async {
        let names = listed(&phone, "cases").await;
        let back = names.len() == 2;
        seen.lock().unwrap().push(names);
        back.then_some(())
    })
    .await;
    let seen = seen.into_inner().unwrap();
    assert!(
        seen.iter().flatten().all(|n| n != "Haushalt ohne Namen"),
        "{seen:?}"
    );
    assert_eq!(
        listed(&phone, "cases").await,
        ["Familie Bleibt", "Familie Umzug"]
    );
    let back = records(&phone).await;
    assert_eq!(back["cases"], 2, "{back}");
    assert_eq!(back["submissions"], 2, "{back}");
    laptop.close().await;
    phone.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_household_leaves_the_phone_with_its_drafts() {
    let server = team_server_with_supervisor().await;
    let driver = Chromedriver::start().await;
    let phone = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&phone, &server, "ayse.w").await;
    record_synced_household(&phone, "Familie Vergessen").await;
    open_case(&phone, "Familie Vergessen").await;
    let path = phone.eval("return location.pathname;").await;
    let case_id = path
        .as_str()
        .unwrap()
        .trim_start_matches("/cases/")
        .to_owned();
    leave_visit_as_draft(&phone).await;
    let held = records(&phone).await;
    assert_eq!(held["cases"], 1, "{held}");
    assert_eq!(held["drafts"], 1, "{held}");
    assert_eq!(held["sent"], 1, "{held}");

    // The family asked to be forgotten: an administrator erases the household from its page,
    // after reading what goes.
    server
        .add_account("ada.a", "Ada Admin", Role::Admin, TEAM, PASSWORD)
        .await;
    let laptop = Browser::open(&driver, 1280, 800, "de-DE").await;
    log_in(&laptop, &server, "ada.a").await;
    open_case(&laptop, "Familie Vergessen").await;
    click_testid(&laptop, "erase-open").await;
    laptop
        .wait_for_xpath("//*[@data-testid='erase-forms']/li[contains(., 'Erstgespräch: 1')]")
        .await;
    let confirm = laptop
        .client
        .find(Locator::Css("[data-testid='erase-confirm']"))
        .await
        .unwrap();
    assert_eq!(
        confirm.attr("disabled").await.unwrap().as_deref(),
        Some("true"),
        "no erasure without a reason"
    );
    type_in(
        &laptop,
        "[data-testid='erase-reason']",
        "Antrag nach Art. 17 vom 2. Dezember, Mutter persönlich",
    )
    .await;
    laptop.screenshot("erasing-a-household.png").await;
    click_testid(&laptop, "erase-confirm").await;
    // The administrator's own laptop lets go of it as every phone does.
    laptop
        .wait_for_xpath(
            "//*[@data-testid='erased'][contains(., '1 Haushalt wurde auf dem Server gelöscht')]",
        )
        .await;
    let tombstone = server.store.tombstone(&case_id).await.unwrap().unwrap();
    assert_eq!(tombstone.erased_by, "ada.a");
    assert_eq!(
        tombstone.reason,
        "Antrag nach Art. 17 vom 2. Dezember, Mutter persönlich"
    );
    laptop.close().await;

    tap(&phone, "nav a[href='/']").await;
    click_testid(&phone, "sync-now").await;
    phone
        .wait_for_xpath(
            "//*[@data-testid='erased'][contains(., '1 Haushalt wurde auf dem Server gelöscht und mit allen Einträgen und Entwürfen von diesem Telefon entfernt.')]",
        )
        .await;
    let left = wait_until("every record of it gone", || async {
        let r = records(&phone).await;
        r.as_object()
            .is_some_and(|o| o.values().all(|n| *n == 0))
            .then_some(r)
    })
    .await;
    assert_eq!(left["drafts"], 0, "{left}");
    let shown = phone
        .eval("return document.body.textContent.includes('Familie Vergessen');")
        .await;
    assert_eq!(shown, false);
    phone
        .screenshot("erased-household-left-the-phone.png")
        .await;
    phone.close().await;
    server.stop().await;
}
