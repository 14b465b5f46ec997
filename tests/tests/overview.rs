//! The supervisor's overview on a laptop: after a worker's phone syncs a household and a home
//! visit, the overview counts the visit in this week for that worker, the household under its
//! new housing situation and the phone under last syncs, drawn as charts (screenshots under
//! `target/screenshots/`); the supervisor exports the teams' forms as a spreadsheet (the file
//! arrives in the browser's downloads) and finds the export recorded. The supervisors' screens
//! are a part of the app that a worker's phone never downloads.

use cris_e2e::phone::{
    PASSWORD, TEAM, first_login, log_in, open_case, record_synced_household, reload,
    team_server_with_supervisor, visit_changing_housing, wait_for_sync_text,
};
use cris_e2e::ui::{click_testid, delay_answers, late_answers_arrived, select, tap};
use cris_e2e::{Browser, Chromedriver, wait_until};
use cris_server::store::Role;
use fantoccini::Locator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_counts_the_weeks_work_and_the_export_is_downloaded_and_recorded() {
    let server = team_server_with_supervisor().await;
    let driver = Chromedriver::start().await;

    let phone = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&phone, &server, "ayse.w").await;
    record_synced_household(&phone, "Familie Übersicht").await;
    open_case(&phone, "Familie Übersicht").await;
    visit_changing_housing(&phone, "shelter").await;
    click_testid(&phone, "sync-now").await;
    wait_for_sync_text(&phone, "Alles synchronisiert").await;
    // A worker has no overview tab.
    assert!(
        phone
            .client
            .find_all(Locator::Css("nav a[href='/overview']"))
            .await
            .unwrap()
            .is_empty()
    );

    let laptop = Browser::open(&driver, 1280, 900, "de-DE").await;
    log_in(&laptop, &server, "lea.s").await;
    tap(&laptop, "nav a[href='/overview']").await;
    laptop.wait_for_heading("Übersicht meiner Teams").await;
    // This week's visit, for the worker who made it.
    let row = laptop
        .wait_for_xpath("//*[@data-testid='visits-table']//tr[@data-worker='ayse.w']")
        .await;
    let cells: Vec<String> = {
        let mut texts = Vec::new();
        for cell in row.find_all(Locator::Css("td")).await.unwrap() {
            texts.push(cell.text().await.unwrap());
        }
        texts
    };
    assert_eq!(cells.len(), 9, "eight weeks and the total: {cells:?}");
    assert_eq!(cells[7], "1", "this week: {cells:?}");
    assert_eq!(cells[8], "1", "in all: {cells:?}");
    laptop
        .wait_for_xpath("//*[@data-testid='visits-chart']//*[local-name()='rect']")
        .await;
    // No one referred to a service yet: said, not an empty table.
    laptop
        .wait_for_xpath(
            "//*[@data-testid='referral-counts-none'][contains(., 'niemand vermittelt')]",
        )
        .await;
    let housing = laptop
        .wait_for_xpath("//*[@data-testid='housing-chart']//*[@data-housing='shelter']")
        .await;
    assert_eq!(
        housing.attr("data-count").await.unwrap().as_deref(),
        Some("1")
    );
    assert!(
        housing
            .text()
            .await
            .unwrap()
            .contains("Notunterkunft oder Unterkunft für Wohnungslose"),
        "labelled in the reader's language"
    );
    laptop
        .wait_for_xpath(
            "//*[@data-testid='devices']//tr[contains(., 'ayse.w') or contains(., 'Ayşe')]",
        )
        .await;
    laptop.screenshot("overview.png").await;

    // Fewer weeks: the table follows.
    select(&laptop, "overview-weeks", "4").await;
    wait_until("four weeks shown", || async {
        let cells = laptop
            .client
            .find_all(Locator::XPath(
                "//*[@data-testid='visits-table']//tr[@data-worker='ayse.w']/td",
            ))
            .await
            .ok()?;
        (cells.len() == 5).then_some(())
    })
    .await;

    // A slow answer for a choice since changed never replaces the answer for the new one:
    // the 26 weeks asked first arrive after the 13 asked next, and 13 stay shown.
    delay_answers(&laptop, &["/api/v1/dashboard", "weeks=26"], 1500).await;
    select(&laptop, "overview-weeks", "26").await;
    select(&laptop, "overview-weeks", "13").await;
    let shown = || async {
        laptop
            .client
            .find_all(Locator::XPath(
                "//*[@data-testid='visits-table']//tr[@data-worker='ayse.w']/td",
            ))
            .await
            .map_or(0, |cells| cells.len())
    };
    wait_until("thirteen weeks shown", || async {
        (shown().await == 14).then_some(())
    })
    .await;
    late_answers_arrived(&laptop).await;
    assert_eq!(
        shown().await,
        14,
        "the late answer for 26 weeks was dropped"
    );

    // The export: a CSV needs a form; the workbook arrives in the downloads and is recorded.
    let downloads = tempfile::tempdir().unwrap();
    laptop
        .devtools(
            "Browser.setDownloadBehavior",
            serde_json::json!({
                "behavior": "allow",
                "downloadPath": downloads.path().display().to_string(),
            }),
        )
        .await;
    select(&laptop, "export-format", "csv").await;
    tap(&laptop, "[data-testid='export-download']").await;
    laptop
        .wait_for_xpath(
            "//*[@data-testid='export-problem'][contains(., 'bitte das Formular wählen')]",
        )
        .await;
    select(&laptop, "export-format", "xlsx").await;
    tap(&laptop, "[data-testid='export-download']").await;
    laptop
        .wait_for_xpath("//*[@data-testid='export-done'][contains(., '.xlsx')]")
        .await;
    let file = wait_until("the workbook in the downloads", || async {
        std::fs::read_dir(downloads.path())
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "xlsx"))
    })
    .await;
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("cris-export-de-"),
        "the file says its language: {name}"
    );
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"PK"), "a workbook is a zip file");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("xl/workbook.xml"), "with a workbook in it");
    laptop
        .wait_for_xpath("//*[@data-testid='export-history']/li[contains(., 'Lea Teamleitung')][contains(., 'XLSX')][contains(., 'Deutsch')][@data-sensitive='false']")
        .await;
    // Health data leaves only with an admin who asks for it: a supervisor is not offered it.
    assert!(
        laptop
            .client
            .find_all(Locator::Css("[data-testid='export-sensitive']"))
            .await
            .unwrap()
            .is_empty()
    );

    // An admin who asks for it gets it, and the export is listed as one with sensitive data.
    server
        .add_account("amelie.a", "Amelie Admin", Role::Admin, TEAM, PASSWORD)
        .await;
    let admin = Browser::open(&driver, 1280, 900, "de-DE").await;
    log_in(&admin, &server, "amelie.a").await;
    tap(&admin, "nav a[href='/overview']").await;
    admin.wait_for_heading("Übersicht meiner Teams").await;
    tap(&admin, "[data-testid='export-sensitive']").await;
    tap(&admin, "[data-testid='export-download']").await;
    admin
        .wait_for_xpath("//*[@data-testid='export-history']/li[contains(., 'Amelie Admin')][contains(., 'mit sensiblen Daten')][@data-sensitive='true']")
        .await;

    phone.close().await;
    laptop.close().await;
    admin.close().await;
}

/// A worker's phone never downloads the supervisors' screens (the office part): not on the
/// screens a worker opens, not at the overview's address, and not into the service worker's
/// cache. A supervisor logs in once, the review queue and the overview fetch the part, and the
/// browser keeps it: with the server gone, the overview opens again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_supervisors_screens_never_reach_a_worker_s_phone() {
    let server = team_server_with_supervisor().await;
    let driver = Chromedriver::start().await;

    let phone = Browser::open(&driver, 360, 740, "de-DE").await;
    first_login(&phone, &server, "ayse.w").await;
    phone.wait_for_service_worker().await;
    for (tab, heading) in [
        ("/review", "Prüfung"),
        ("/settings", "Einstellungen"),
        ("/", "Meine Fälle"),
    ] {
        tap(&phone, &format!("nav a[href='{tab}']")).await;
        phone.wait_for_heading(heading).await;
    }
    // The overview's address is no screen of a worker's.
    phone.client.goto(&server.url("/overview")).await.unwrap();
    cris_e2e::phone::unlock(&phone).await;
    phone.wait_for_heading("Seite nicht gefunden").await;
    let fetched = phone.fetched().await;
    assert!(
        fetched.iter().any(|f| f == "split_caseload.wasm"),
        "{fetched:?}"
    );
    assert!(!fetched.iter().any(|f| f.contains("office")), "{fetched:?}");
    let cached = phone.cached().await;
    assert!(
        cached.iter().any(|f| f == "split_settings.wasm"),
        "the service worker keeps the worker's screens: {cached:?}"
    );
    assert!(!cached.iter().any(|f| f.contains("office")), "{cached:?}");
    phone.close().await;

    // One login, no second password: the review queue comes with the office part.
    let laptop = Browser::open(&driver, 1280, 900, "de-DE").await;
    first_login(&laptop, &server, "lea.s").await;
    laptop.wait_for_service_worker().await;
    tap(&laptop, "nav a[href='/review']").await;
    laptop
        .wait_for_xpath("//*[@data-testid='review-filters-toggle']")
        .await;
    assert!(
        laptop
            .fetched()
            .await
            .iter()
            .any(|f| f == "split_office.wasm")
    );
    tap(&laptop, "nav a[href='/overview']").await;
    laptop.wait_for_heading("Übersicht meiner Teams").await;
    wait_until("the office part kept", || async {
        laptop
            .cached()
            .await
            .iter()
            .any(|f| f == "split_office.wasm")
            .then_some(())
    })
    .await;
    server.stop().await;
    reload(&laptop).await;
    laptop.wait_for_heading("Übersicht meiner Teams").await;
    assert!(
        laptop
            .client
            .find_all(Locator::Css("[data-testid='screen-unloaded']"))
            .await
            .unwrap()
            .is_empty()
    );
    laptop.close().await;
}
