//! The loop between the field and the office: a worker records a home visit offline and
//! syncs; the supervisor (on a laptop) finds it in the review queue and sends it back with a
//! comment; the worker's phone shows it after the next sync, the worker corrects it and syncs;
//! the supervisor sees it resubmitted, the changed answer marked, and approves it.

use cris_e2e::phone::{
    log_in, open_case, record_synced_household, team_server_with_supervisor,
    visit_changing_housing, wait_for_sync_text,
};
use cris_e2e::ui::{click_testid, delay_answers, late_answers_arrived, select, tap, type_into};
use cris_e2e::{Browser, Chromedriver, wait_until, xpath_literal};
use fantoccini::Locator;

const COMMENT: &str = "Bitte die Veränderungen bei der Wohnung genauer beschreiben.";

/// Opens the newest form of the queue with `status`, on the supervisor's laptop.
async fn open_from_queue(b: &Browser, status: &str) {
    tap(b, "nav a[href='/review']").await;
    b.wait_for_xpath("//*[@data-testid='review-status']").await;
    select(b, "review-status", status).await;
    let link = b
        .wait_for_xpath(&format!(
            "//*[@data-testid='review-queue']/li[@data-status='{status}']//a[contains(., 'Hausbesuch')]"
        ))
        .await;
    link.click().await.unwrap();
    b.wait_for_xpath(&format!(
        "//*[@data-testid='review-state'][@data-status='{status}']"
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_sent_back_is_corrected_on_the_phone_and_approved() {
    let server = team_server_with_supervisor().await;
    let driver = Chromedriver::start().await;

    // The worker: a household, then a visit offline, synced when back online.
    let phone = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&phone, &server, "ayse.w").await;
    record_synced_household(&phone, "Familie Rückfrage").await;
    // The same family once more, spelt without the umlaut.
    record_synced_household(&phone, "Familie Ruckfrage").await;
    open_case(&phone, "Familie Rückfrage").await;
    phone.set_offline(true).await;
    visit_changing_housing(&phone, "shelter").await;
    phone.set_offline(false).await;
    click_testid(&phone, "sync-now").await;
    wait_for_sync_text(&phone, "Alles synchronisiert").await;

    // The supervisor finds it and sends it back; not without saying what to change.
    let laptop = Browser::open(&driver, 1280, 800, "de-DE").await;
    log_in(&laptop, &server, "lea.s").await;
    tap(&laptop, "nav a[href='/review']").await;
    laptop
        .wait_for_xpath(
            "//*[@data-testid='duplicates']/li[contains(., 'Familie Rückfrage')][contains(., 'Familie Ruckfrage')]",
        )
        .await;
    // Each item of the queue is a finger's height, on a laptop too.
    laptop
        .wait_for_xpath("//*[@data-testid='review-queue']/li")
        .await;
    let heights = laptop
        .eval("return [...document.querySelectorAll(\"[data-testid='review-queue'] li\")].map((li) => li.getBoundingClientRect().height);")
        .await;
    assert!(
        heights
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h.as_f64().unwrap() >= 44.0),
        "{heights}"
    );
    open_from_queue(&laptop, "new").await;
    click_testid(&laptop, "review-request-changes").await;
    laptop
        .wait_for_xpath(
            "//*[@data-testid='review-decision-problem'][normalize-space()='Angeben, was geändert werden soll.']",
        )
        .await;
    laptop
        .client
        .find(Locator::Css("[data-testid='review-comment']"))
        .await
        .unwrap()
        .send_keys(COMMENT)
        .await
        .unwrap();
    click_testid(&laptop, "review-request-changes").await;
    laptop
        .wait_for_xpath("//*[@data-testid='review-state'][@data-status='changes_requested']")
        .await;
    laptop
        .wait_for_xpath(&format!(
            "//*[@data-testid='review-events']/li[@data-decision='changes_requested'][contains(., {})]",
            xpath_literal(COMMENT)
        ))
        .await;

    // The phone hears of it at its next sync, and the worker corrects the visit.
    click_testid(&phone, "sync-now").await;
    wait_for_sync_text(&phone, "Alles synchronisiert").await;
    tap(&phone, "nav a[href='/']").await;
    click_testid(&phone, "inbox-banner").await;
    phone
        .wait_for_xpath(&format!(
            "//*[@data-testid='inbox-comment'][normalize-space()={}]",
            xpath_literal(COMMENT)
        ))
        .await;
    click_testid(&phone, "inbox-correct").await;
    phone.wait_for_heading("Hausbesuch").await;
    type_into(
        &phone,
        "changes_housing",
        None,
        " Die Familie wohnt seit Montag in der Notunterkunft Ost.",
    )
    .await;
    phone
        .client
        .find(Locator::Css("[data-testid='correction-reason']"))
        .await
        .unwrap()
        .send_keys("Rückfrage der Teamleitung")
        .await
        .unwrap();
    click_testid(&phone, "finalize").await;
    phone.wait_for_xpath("//*[@data-testid='saved']").await;
    wait_for_sync_text(&phone, "Alles synchronisiert").await;
    tap(&phone, "nav a[href='/review']").await;
    phone
        .wait_for_xpath("//*[@data-testid='inbox-empty']")
        .await;

    // The supervisor sees the correction as resubmitted, what changed marked, and approves.
    open_from_queue(&laptop, "resubmitted").await;
    let changed = laptop
        .wait_for_xpath("//*[@data-testid='review-answers']//dd[@data-changed='true']")
        .await
        .text()
        .await
        .unwrap();
    assert!(changed.contains("Notunterkunft Ost"), "{changed}");
    let unchanged = laptop
        .eval("return document.querySelectorAll(\"[data-testid='review-answers'] dd[data-changed='false']\").length;")
        .await;
    assert!(
        unchanged.as_u64().unwrap_or_default() > 0,
        "only the change is marked"
    );
    laptop
        .wait_for_xpath(
            "//*[contains(@class, 'correction-note')][contains(., 'Rückfrage der Teamleitung')]",
        )
        .await;
    // Both versions, who finalized them on which device and why the second; and the
    // household's consents (none yet), which the supervisor reads here and does not take.
    let versions = laptop
        .eval(
            "return [...document.querySelectorAll(\"[data-testid='review-edits'] li\")]
               .map((li) => li.textContent);",
        )
        .await;
    let versions: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert!(
        versions[0].contains("Ayşe Testfrau · abgeschlossen"),
        "{versions:?}"
    );
    assert!(versions[0].contains("auf Gerät"), "{versions:?}");
    assert!(
        versions[1].starts_with("dieses Formular")
            && versions[1].contains("Rückfrage der Teamleitung"),
        "{versions:?}"
    );
    laptop
        .wait_for_xpath("//*[@data-testid='consent-none']")
        .await;
    laptop
        .eval("document.querySelector(\"[data-testid='review-edits']\").scrollIntoView(); return true;")
        .await;
    laptop.screenshot("review-versions.png").await;
    assert_eq!(
        laptop
            .eval("return document.querySelector(\"[data-testid='take-consent']\").closest('.actions').hidden;")
            .await,
        true
    );
    click_testid(&laptop, "review-approve").await;
    laptop
        .wait_for_xpath("//*[@data-testid='review-state'][@data-status='approved']")
        .await;
    laptop.eval("window.scrollTo(0, 0); return true;").await;
    laptop.screenshot("review-approved.png").await;

    // The family is found by its name, whichever way it was spelt: both households' intakes,
    // the visit and its correction. A name nobody has finds nothing.
    tap(&laptop, "nav a[href='/review']").await;
    let search = laptop
        .wait_for_xpath("//*[@data-testid='review-household']")
        .await;
    // Lea leads one team: there is no team to choose.
    assert_eq!(
        laptop
            .eval("return document.querySelector(\"[data-testid='review-team']\").closest('.field').hidden;")
            .await,
        true
    );
    // Enter: the search is asked for when the name is given, not at every letter.
    search.send_keys("RUCKFRAGE\u{e007}").await.unwrap();
    let count = "return document.querySelectorAll(\"[data-testid='review-queue'] li\").length;";
    wait_until("the household's four forms", || async {
        (laptop.eval(count).await.as_u64() == Some(4)).then_some(())
    })
    .await;
    // Newest first, the approved correction leads; what has waited longest first, the intake
    // recorded first.
    laptop
        .wait_for_xpath("//*[@data-testid='review-queue']/li[1][@data-status='approved']")
        .await;
    select(&laptop, "review-sort", "oldest").await;
    laptop
        .wait_for_xpath(
            "//*[@data-testid='review-queue']/li[1][@data-status='new'][contains(., 'Erstgespräch · Familie Rückfrage')]",
        )
        .await;
    laptop.screenshot("review-queue-search.png").await;
    // A slow answer for a filter since changed never replaces the answer for the new one: the
    // approved forms asked first arrive after all four forms asked next, and four stay shown.
    delay_answers(&laptop, &["/api/v1/review?", "status=approved"], 1500).await;
    select(&laptop, "review-status", "approved").await;
    select(&laptop, "review-status", "").await;
    late_answers_arrived(&laptop).await;
    assert_eq!(
        laptop.eval(count).await.as_u64(),
        Some(4),
        "the late answer for the approved forms was dropped"
    );
    search.clear().await.unwrap();
    search.send_keys("Ismailova\u{e007}").await.unwrap();
    laptop
        .wait_for_xpath(
            "//*[@data-testid='review-empty'][normalize-space()='Keine Formulare passen zu diesen Filtern.']",
        )
        .await;

    laptop.close().await;
    phone.close().await;
    server.stop().await;
}
