//! One family recorded twice: a worker records the same family as two households (the name
//! spelt with and without the Turkish letters), the supervisor's laptop proposes them as a
//! possible duplicate, the supervisor merges them, and the worker's phone shows one household
//! after its next sync; a second look-alike pair is marked as two families and is not proposed
//! again; the merge is undone and the phone shows both households again.

use cris_e2e::phone::{
    log_in, open_case, record_synced_household, team_server_with_supervisor, wait_for_sync_text,
};
use cris_e2e::ui::{click_testid, tap};
use cris_e2e::{Browser, Chromedriver, wait_until, xpath_literal};
use fantoccini::Locator;

/// The pair of possible duplicates naming both households.
fn pair(a: &str, b: &str) -> String {
    format!(
        "//*[@data-testid='duplicates']/li[contains(., {})][contains(., {})]",
        xpath_literal(a),
        xpath_literal(b)
    )
}

/// Clicks the element at `xpath`, scrolled to the middle of the screen first.
async fn tap_xpath(b: &Browser, xpath: &str) {
    let el = b.wait_for_xpath(xpath).await;
    b.eval(&format!(
        "document.evaluate({}, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null)
           .singleNodeValue.scrollIntoView({{ block: 'center' }}); return true;",
        serde_json::to_string(xpath).unwrap()
    ))
    .await;
    el.click()
        .await
        .unwrap_or_else(|e| panic!("tap {xpath}: {e}"));
}

async fn gone(b: &Browser, what: &str, xpath: &str) {
    wait_until(what, || async {
        b.client
            .find_all(Locator::XPath(xpath))
            .await
            .ok()
            .filter(Vec::is_empty)
    })
    .await;
}

/// The names the caseload lists, in its order.
async fn caseload(b: &Browser) -> Vec<String> {
    tap(b, "nav a[href='/']").await;
    b.wait_for_xpath("//*[@data-testid='cases']").await;
    let names = b
        .eval(
            "return [...document.querySelectorAll(\"[data-testid='cases'] .case-name\")]
               .map(e => e.textContent.trim());",
        )
        .await;
    serde_json::from_value(names).unwrap()
}

async fn wait_for_caseload(b: &Browser, expected: &[&str]) {
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    wait_until(&format!("the caseload listing {expected:?}"), || async {
        let mut names = caseload(b).await;
        names.sort();
        (names == expected).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_supervisor_merges_a_family_recorded_twice_and_the_phone_follows() {
    let server = team_server_with_supervisor().await;
    let driver = Chromedriver::start().await;

    let phone = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&phone, &server, "ayse.w").await;
    for name in [
        "Familie Gökçe",
        "Familie Gokce",
        "Familie Şahin",
        "Familie Sahin",
    ] {
        record_synced_household(&phone, name).await;
    }
    let all = [
        "Familie Gokce",
        "Familie Gökçe",
        "Familie Sahin",
        "Familie Şahin",
    ];
    wait_for_caseload(&phone, &all).await;

    // The supervisor: the pair is proposed; merging says what will happen first.
    let laptop = Browser::open(&driver, 1280, 800, "de-DE").await;
    log_in(&laptop, &server, "lea.s").await;
    tap(&laptop, "nav a[href='/review']").await;
    let twice = pair("Familie Gökçe", "Familie Gokce");
    tap_xpath(
        &laptop,
        &format!("{twice}//button[@data-testid='duplicate-merge']"),
    )
    .await;
    laptop
        .wait_for_xpath(&format!(
            "{twice}//*[@data-testid='merge-confirm'][contains(., {})]",
            xpath_literal("Familie Gokce wird künftig als Teil von Familie Gökçe geführt")
        ))
        .await;
    tap_xpath(
        &laptop,
        &format!("{twice}//button[@data-testid='merge-do']"),
    )
    .await;
    gone(&laptop, "the merged pair no longer proposed", &twice).await;
    // The other pair are two families.
    let alike = pair("Familie Şahin", "Familie Sahin");
    tap_xpath(
        &laptop,
        &format!("{alike}//button[@data-testid='duplicate-distinct']"),
    )
    .await;
    gone(&laptop, "the two families no longer proposed", &alike).await;
    wait_for_sync_text(&laptop, "Alles synchronisiert").await;
    cris_e2e::phone::reload(&laptop).await;
    laptop
        .wait_for_xpath("//*[@data-testid='duplicates-title'][@data-checked='true']")
        .await;
    assert!(
        laptop
            .client
            .find_all(Locator::XPath(&alike))
            .await
            .unwrap()
            .is_empty(),
        "not proposed again after a reload"
    );

    // The worker's phone follows at its next sync: one household, with both intakes.
    click_testid(&phone, "sync-now").await;
    wait_for_sync_text(&phone, "Alles synchronisiert").await;
    wait_for_caseload(&phone, &["Familie Gökçe", "Familie Sahin", "Familie Şahin"]).await;
    open_case(&phone, "Familie Gökçe").await;
    phone
        .wait_for_xpath("//*[@data-testid='merged-households']/li[contains(., 'Familie Gokce')]")
        .await;
    let intakes = phone
        .client
        .find_all(Locator::XPath(
            "//*[@data-testid='submissions']/li[@data-form='intake']",
        ))
        .await
        .unwrap();
    assert_eq!(intakes.len(), 2, "the intakes of both households");
    let undo = phone
        .client
        .find(Locator::Css("[data-testid='merge-undo']"))
        .await
        .unwrap();
    assert!(
        !undo.is_displayed().await.unwrap(),
        "undoing a merge is for supervisors"
    );

    // The supervisor undoes it on the household's page; the phone shows both again.
    open_case(&laptop, "Familie Gökçe").await;
    laptop
        .wait_for_xpath("//*[@data-testid='merged-households']/li[contains(., 'Familie Gokce')]")
        .await;
    laptop.screenshot("merged-household.png").await;
    tap_xpath(
        &laptop,
        "//*[@data-testid='merged-households']/li[contains(., 'Familie Gokce')]//button[@data-testid='merge-undo']",
    )
    .await;
    gone(
        &laptop,
        "the merge undone",
        "//*[@data-testid='merged-households']",
    )
    .await;
    wait_for_sync_text(&laptop, "Alles synchronisiert").await;
    click_testid(&phone, "sync-now").await;
    wait_for_sync_text(&phone, "Alles synchronisiert").await;
    wait_for_caseload(&phone, &all).await;

    phone.close().await;
    laptop.close().await;
}
