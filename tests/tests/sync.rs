//! Two workers of one team, two phones: both log in, one records a household, the other gets
//! it by syncing; both go offline, both record a visit that changes the household's housing;
//! back online both sync by themselves, and both phones (and the supervisor's) show both
//! visits and the two housing values as a conflict.

use cris_core::api::Role;
use cris_e2e::phone::{
    self, PASSWORD, TEAM, log_in, open_case, outbox_count, record_synced_household, submit_login,
    sync_text, tamper_once, team_server, visit_changing_housing, wait_for_sync_text,
    wait_for_sync_text_containing, watch_sealing,
};
use cris_e2e::ui::{add_person, choose, click_testid, error_of, pick, tap, type_into, value_of};
use cris_e2e::{Browser, Chromedriver, wait_until};
use fantoccini::Locator;

/// What a phone's case page shows of the household: the housing value with any conflict,
/// and how many forms it holds.
async fn housing_and_forms(b: &Browser) -> (String, String, usize) {
    let shown = b
        .eval(
            "const shown = document.querySelector(\"[data-property='housing_situation']\");
             // Who recorded each value is read on its own (it comes from the server later).
             const dd = shown && shown.cloneNode(true);
             dd && dd.querySelectorAll('.conflict-writes').forEach((l) => l.remove());
             const c = dd && dd.querySelector('[data-conflict]');
             const forms = document.querySelectorAll(\"[data-testid='submissions'] > li\").length;
             return [dd ? dd.textContent.trim() : '', c ? c.textContent.trim() : '', forms];",
        )
        .await;
    (
        shown[0].as_str().unwrap_or_default().to_owned(),
        shown[1].as_str().unwrap_or_default().to_owned(),
        shown[2].as_u64().unwrap_or_default() as usize,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_phones_offline_edit_one_household_and_both_see_the_conflict() {
    let server = team_server().await;
    server
        .add_account(
            "mira.s",
            "Mira Testleitung",
            Role::Supervisor,
            TEAM,
            PASSWORD,
        )
        .await;
    let driver = Chromedriver::start().await;
    let a = Browser::open(&driver, 360, 740, "de-DE").await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&a, &server, "ayse.w").await;
    log_in(&b, &server, "jan.w").await;

    // Ayşe records the household; it reaches the server right after finalizing.
    record_synced_household(&a, "Familie Demir-Testowa").await;

    // Jan gets it with "sync now", without reloading the page.
    phone::open(&b, &server.url("/")).await;
    b.wait_for_heading("Meine Fälle").await;
    click_testid(&b, "sync-now").await;
    open_case(&b, "Familie Demir-Testowa").await;

    // Both phones lose the network and record a visit that changes the housing.
    a.set_offline(true).await;
    b.set_offline(true).await;
    open_case(&a, "Familie Demir-Testowa").await;
    visit_changing_housing(&a, "shelter").await;
    visit_changing_housing(&b, "homeless").await;
    for phone in [&a, &b] {
        wait_until("the phone to wait with one record", || async {
            let text = sync_text(phone).await;
            (text.starts_with("Keine Verbindung zum Server")
                && text.contains("1 wartet auf Synchronisierung"))
            .then_some(())
        })
        .await;
    }

    // Back online: each phone syncs by itself (the browser's online event).
    a.set_offline(false).await;
    wait_for_sync_text(&a, "Alles synchronisiert").await;
    b.set_offline(false).await;
    wait_for_sync_text(&b, "Alles synchronisiert").await;
    // Ayşe's phone synced before Jan's visit arrived: one more sync brings it.
    click_testid(&a, "sync-now").await;
    wait_for_sync_text(&a, "Alles synchronisiert").await;

    let supervisor = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&supervisor, &server, "mira.s").await;

    let mut seen = Vec::new();
    for phone in [&a, &b, &supervisor] {
        // The caseload marks the household, the case page names the field.
        tap(phone, "nav a[href='/']").await;
        phone
            .wait_for_xpath(
                "//*[@data-testid='cases']//a[contains(., 'Familie Demir-Testowa')]\
                 //*[@data-testid='case-conflict']",
            )
            .await;
        open_case(phone, "Familie Demir-Testowa").await;
        let shown = wait_until("both visits and the conflict", || async {
            let shown = housing_and_forms(phone).await;
            (shown.2 == 3 && !shown.1.is_empty()).then_some(shown)
        })
        .await;
        seen.push(shown);
    }
    let (value, conflict, _) = &seen[0];
    assert!(
        conflict.starts_with("Zur selben Zeit auf einem anderen Telefon erfasst:"),
        "{conflict}"
    );
    let one = value.contains("Notunterkunft");
    let other = value.contains("Wohnungslos");
    assert!(one && other, "both values are shown: {value}");
    assert!(
        seen.iter().all(|s| s == &seen[0]),
        "every phone shows the same: {seen:?}"
    );

    // Each value with who recorded it and when, from the server's log.
    for phone in [&a, &supervisor] {
        wait_until("who recorded each value", || async {
            let who = phone
                .eval("const l = document.querySelector(\"[data-testid='conflict-writes']\"); return l ? l.textContent : '';")
                .await;
            let who = who.as_str().unwrap_or_default().to_owned();
            (who.contains("erfasst von Ayşe Testfrau am") && who.contains("erfasst von Jan Testmann am"))
                .then_some(())
        })
        .await;
    }
    supervisor
        .eval("document.querySelector(\"[data-testid='conflict-writes']\").scrollIntoView({block: 'center'}); return true;")
        .await;
    supervisor.screenshot("conflict-who-and-when.png").await;

    // The supervisor finds the household among the conflicts and chooses the right value;
    // not without choosing one.
    tap(&supervisor, "nav a[href='/review']").await;
    supervisor
        .wait_for_xpath("//*[@data-testid='conflicts']//a[contains(., 'Familie Demir-Testowa')]")
        .await;
    tap(&supervisor, "[data-testid='conflicts'] li a").await;
    click_testid(&supervisor, "resolve").await;
    click_testid(&supervisor, "resolve-save").await;
    supervisor
        .wait_for_xpath("//*[@data-testid='resolve-problem'][not(@hidden)]")
        .await;
    tap(&supervisor, "fieldset.resolver input[data-value='shelter']").await;
    click_testid(&supervisor, "resolve-save").await;
    let resolved = |shown: &(String, String, usize)| {
        shown.1.is_empty() && shown.0.starts_with("Notunterkunft")
    };
    wait_until("the choice on the supervisor's device", || async {
        resolved(&housing_and_forms(&supervisor).await).then_some(())
    })
    .await;
    wait_for_sync_text(&supervisor, "Alles synchronisiert").await;
    // Both phones follow at their next sync.
    for phone in [&a, &b] {
        click_testid(phone, "sync-now").await;
        wait_for_sync_text(phone, "Alles synchronisiert").await;
        wait_until("the chosen value on the phone", || async {
            resolved(&housing_and_forms(phone).await).then_some(())
        })
        .await;
    }

    a.close().await;
    b.close().await;
    supervisor.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_the_server_refuses_stays_on_the_phone_with_the_reason() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let a = Browser::open(&driver, 360, 740, "de-DE").await;
    // This phone's clock runs two days ahead: its records carry stamps the server refuses.
    let skewed = a
        .devtools(
            "Page.addScriptToEvaluateOnNewDocument",
            serde_json::json!({
                "source": "const realNow = Date.now; Date.now = () => realNow() + 2 * 86400000;"
            }),
        )
        .await;
    log_in(&a, &server, "ayse.w").await;

    tap(&a, "nav a[href='/intake/new']").await;
    a.wait_for_heading("Erstgespräch").await;
    type_into(&a, "household_name", None, "Familie Uhr-Testowa").await;
    add_person(&a, "Veli Uhr", "1990-07-14").await;
    click_testid(&a, "finalize").await;
    a.wait_for_xpath("//*[@data-testid='saved']").await;
    wait_until("the refusal and the clock to be reported", || async {
        let text = sync_text(&a).await;
        (text.contains("1 vom Server abgelehnt")
            && text.contains("Die Uhr dieses Telefons weicht um 2 d von der Serverzeit ab."))
        .then_some(())
    })
    .await;

    tap(&a, "nav a[href='/settings']").await;
    let item = a
        .wait_for_xpath("//*[@data-testid='rejected-list']/li[@data-reason='ClockAhead']")
        .await;
    let text = item.text().await.unwrap();
    assert!(
        text.contains(
            "Die Uhr dieses Telefons ging 2 Tage vor. Bitte Datum und Uhrzeit einstellen"
        ),
        "{text}"
    );
    // Still on the phone, in the outbox, and its household in the caseload.
    let kept = outbox_count(&a).await;
    assert_eq!(kept, 1);
    // "Sync now" sends it again; refused again, it stays.
    click_testid(&a, "sync-now").await;
    wait_for_sync_text_containing(&a, "1 vom Server abgelehnt").await;
    tap(&a, "nav a[href='/']").await;
    a.wait_for_xpath("//*[@data-testid='cases']//a[contains(., 'Familie Uhr-Testowa')]")
        .await;

    // Another account may not log in on this phone while Ayşe's record waits on it.
    tap(&a, "nav a[href='/settings']").await;
    click_testid(&a, "logout").await;
    a.client.accept_alert().await.expect("confirm the logout");
    // The record stays, sealed: the phone is locked for Ayşe.
    a.wait_for_xpath("//*[@data-testid='unlock'][contains(., 'ayse.w')]")
        .await;
    submit_login(&a, "jan.w").await;
    a.wait_for_xpath(
        "//*[@data-testid='login-blocked'][contains(., 'Auf diesem Telefon warten noch Einträge von ayse.w.')]",
    )
    .await;
    submit_login(&a, "ayse.w").await;
    a.wait_for_heading("Meine Fälle").await;

    // The clock is set right: at the next start the record goes, under a new stamp.
    a.devtools(
        "Page.removeScriptToEvaluateOnNewDocument",
        serde_json::json!({ "identifier": skewed["identifier"] }),
    )
    .await;
    phone::reload(&a).await;
    wait_for_sync_text(&a, "Alles synchronisiert").await;
    let kept = outbox_count(&a).await;
    assert_eq!(kept, 0, "acknowledged, it left the outbox");
    open_case(&a, "Familie Uhr-Testowa").await;
    a.close().await;
}

/// The reason saved with the phone's one draft, as last sealed (see [`watch_sealing`]).
async fn draft_reason(b: &Browser) -> serde_json::Value {
    b.eval(
        "const drafts = (window.__sealed || []).filter((r) => 'started_at_ms' in r);
         return drafts.length ? (drafts[drafts.length - 1].reason ?? '') : null;",
    )
    .await
}

/// What a case page shows of its forms: (corrected?, its notes, has a "correct" button),
/// newest first.
async fn forms_shown(b: &Browser) -> Vec<(bool, String, bool)> {
    let shown = b
        .eval(
            "return [...document.querySelectorAll(\"[data-testid='submissions'] > li\")].map((li) => [
               li.classList.contains('corrected'),
               [...li.querySelectorAll('.corrected-note, .correction-note')]
                 .map((p) => p.textContent.trim()).join(' | '),
               !!li.querySelector(\"[data-testid='correct']\"),
             ]);",
        )
        .await;
    shown
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = f[1].as_str().unwrap_or_default().to_owned();
            (f[0].as_bool().unwrap(), text, f[2].as_bool().unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finalized_form_is_corrected_with_a_reason_and_kept() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let a = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&a, &server, "ayse.w").await;
    record_synced_household(&a, "Familie Korrektur-Testowa").await;

    // The housing was recorded wrongly: Ayşe corrects the intake, offline.
    a.set_offline(true).await;
    watch_sealing(&a).await;
    click_testid(&a, "correct").await;
    a.wait_for_heading("Erstgespräch").await;
    a.wait_for_xpath("//*[@data-testid='correction'][contains(., 'Korrektur des Formulars vom')]")
        .await;
    assert_eq!(
        value_of(&a, "household_name", None).await,
        "Familie Korrektur-Testowa",
        "a correction starts from the answers it corrects"
    );
    choose(&a, "housing_situation", None, "shelter").await;
    // Not without a reason: said so, and the finger is taken there.
    click_testid(&a, "finalize").await;
    a.wait_for_xpath(
        "//*[@id='correction-reason-error'][normalize-space()='Bitte den Grund der Korrektur angeben.']",
    )
    .await;
    // The focus follows once the browser has drawn the message.
    wait_until("the focus on the reason", || async {
        let focused = a.eval("return document.activeElement.id;").await;
        (focused == "correction-reason").then_some(())
    })
    .await;
    let reason = a
        .client
        .find(Locator::Css("[data-testid='correction-reason']"))
        .await
        .unwrap();
    reason.send_keys("Unterkunft verwechselt").await.unwrap();
    // The reason is saved with the draft: a reload finds it, and the changed answer.
    wait_until("the reason in the saved draft", || async {
        (draft_reason(&a).await == "Unterkunft verwechselt").then_some(())
    })
    .await;
    phone::reload(&a).await;
    a.wait_for_heading("Erstgespräch").await;
    let kept = wait_until("the draft back on screen", || async {
        let v = a
            .eval("const el = document.getElementById('correction-reason'); return el && el.value;")
            .await;
        v.as_str().filter(|v| !v.is_empty()).map(str::to_owned)
    })
    .await;
    assert_eq!(kept, "Unterkunft verwechselt");
    let housing = a
        .eval("return document.querySelector(\"[data-field='housing_situation'] input:checked\").value;")
        .await;
    assert_eq!(housing, "shelter");
    click_testid(&a, "finalize").await;
    a.wait_for_xpath("//*[@data-testid='saved']").await;
    a.wait_for_xpath("//*[@data-property='housing_situation'][contains(., 'Notunterkunft')]")
        .await;
    let expected_notes = |forms: &[(bool, String, bool)]| {
        forms.len() == 2
            && !forms[0].0
            && forms[0].1 == "Korrektur: Unterkunft verwechselt"
            && forms[0].2
            && forms[1].0
            && forms[1].1.starts_with("Korrigiert am ")
            && forms[1].1.ends_with(": Unterkunft verwechselt")
            && !forms[1].2
    };
    let forms = forms_shown(&a).await;
    assert!(expected_notes(&forms), "{forms:?}");

    // Back online it syncs; Jan's phone shows the same.
    a.set_offline(false).await;
    wait_for_sync_text(&a, "Alles synchronisiert").await;
    assert_eq!(outbox_count(&a).await, 0);
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&b, &server, "jan.w").await;
    open_case(&b, "Familie Korrektur-Testowa").await;
    b.wait_for_xpath("//*[@data-property='housing_situation'][contains(., 'Notunterkunft')]")
        .await;
    let forms = forms_shown(&b).await;
    assert!(expected_notes(&forms), "{forms:?}");

    // Jan hands his phone to a colleague of another team: she does not see his households.
    server
        .add_account(
            "zsofia.w",
            "Zsófia Testné",
            Role::Worker,
            "Budapest VIII",
            PASSWORD,
        )
        .await;
    tap(&b, "nav a[href='/settings']").await;
    click_testid(&b, "logout").await;
    // Nothing of Jan's waits: everything of his account leaves the phone.
    b.wait_for_heading("Anmelden").await;
    log_in(&b, &server, "zsofia.w").await;
    let cases = b
        .eval("return document.querySelectorAll(\"[data-testid='cases'] a\").length;")
        .await;
    assert_eq!(cases, 0, "no household of Jan's team is left on the phone");
    let stored = b
        .eval(
            "return await new Promise((done) => {
               const open = indexedDB.open('cris-field');
               open.onsuccess = () => {
                 const get = open.result.transaction('cases').objectStore('cases').count();
                 get.onsuccess = () => done(get.result);
               };
             });",
        )
        .await;
    assert_eq!(stored, 0);

    // Ayşe leaves a form unfinished and logs out: nobody else logs in on her phone until she
    // has finished or discarded it.
    tap(&a, "nav a[href='/intake/new']").await;
    a.wait_for_heading("Erstgespräch").await;
    type_into(&a, "household_name", None, "Familie Halbfertig-Testowa").await;
    a.wait_for_xpath(
        "//*[@data-testid='save-state'][starts-with(normalize-space(), 'Entwurf gespeichert um')]",
    )
    .await;
    tap(&a, "nav a[href='/settings']").await;
    click_testid(&a, "logout").await;
    a.wait_for_xpath("//*[@data-testid='unlock'][contains(., 'ayse.w')]")
        .await;
    submit_login(&a, "jan.w").await;
    a.wait_for_xpath(
        "//*[@data-testid='login-blocked'][contains(., 'nicht abgeschlossene Formulare von ayse.w')]",
    )
    .await;
    a.close().await;
    b.close().await;
}

/// The server does not take a form the phone accepted (here: its answers changed on the phone
/// after finalizing, as a phone of an older version might have let through): the worker opens
/// it from the refusal, corrects it and finalizes it again, and it goes; nothing typed is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_the_server_refuses_is_corrected_on_the_phone_and_sent_again() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let a = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&a, &server, "ayse.w").await;

    a.set_offline(true).await;
    // The operation goes into the outbox with the household's name blanked, which the server
    // requires: as a phone of an older version might have stored it.
    watch_sealing(&a).await;
    tamper_once(
        &a,
        "(r) => {
           if (!(r.op_id && r.change && r.change.kind === 'submit')) return null;
           r.change.submission.answers.household_name = '';
           return r;
         }",
    )
    .await;
    tap(&a, "nav a[href='/intake/new']").await;
    a.wait_for_heading("Erstgespräch").await;
    type_into(&a, "household_name", None, "Familie Zurückgewiesen").await;
    add_person(&a, "Hatice Zurück", "1977-11-02").await;
    pick(&a, "entry_date", None, "2019-03-01").await;
    click_testid(&a, "finalize").await;
    a.wait_for_xpath("//*[@data-testid='saved']").await;
    let blanked = a
        .eval(
            "return window.__sealed.filter((r) => r.op_id && r.change.kind === 'submit')
               .map((r) => r.change.submission.answers.household_name);",
        )
        .await;
    assert_eq!(blanked, serde_json::json!([""]));
    assert_eq!(outbox_count(&a).await, 1);
    a.set_offline(false).await;
    click_testid(&a, "sync-now").await;
    wait_for_sync_text_containing(&a, "1 vom Server abgelehnt").await;

    tap(&a, "nav a[href='/settings']").await;
    let item = a
        .wait_for_xpath("//*[@data-testid='rejected-list']/li[@data-reason='Invalid']")
        .await;
    let text = item.text().await.unwrap();
    // In German, naming the field by its label and saying what to do; no English.
    assert!(
        text.contains(
            "Der Server hat die Antwort bei „Name des Haushalts“ nicht angenommen (1 Problem). Bitte öffnen und korrigieren."
        ),
        "{text}"
    );
    assert!(!text.contains("household_name"), "{text}");
    click_testid(&a, "rejected-reopen").await;

    // The form again, with what was typed, and the name the server missed to give.
    a.wait_for_heading("Erstgespräch").await;
    assert_eq!(value_of(&a, "entry_date", None).await, "2019-03-01");
    click_testid(&a, "finalize").await;
    wait_until("the missing name to be asked for", || async {
        (!error_of(&a, "household_name", None).await.is_empty()).then_some(())
    })
    .await;
    type_into(&a, "household_name", None, "Familie Angenommen").await;
    click_testid(&a, "finalize").await;
    a.wait_for_xpath("//*[@data-testid='saved']").await;
    wait_for_sync_text(&a, "Alles synchronisiert").await;
    assert_eq!(outbox_count(&a).await, 0, "accepted, it left the outbox");
    tap(&a, "nav a[href='/settings']").await;
    a.wait_for_xpath("//*[@data-testid='last-synced']").await;
    assert_eq!(
        a.eval("return document.querySelectorAll(\"[data-testid='rejected-list'] li\").length;")
            .await,
        0
    );
    open_case(&a, "Familie Angenommen").await;
    a.close().await;
}
