//! A worker fills an intake and a home visit on a phone with no connection: the draft
//! survives a reload to the letter, wrong input is explained in the chosen language and loses
//! nothing, and finalized forms make the case appear in the caseload.

use cris_core::api::Role;
use cris_e2e::phone::{self, PASSWORD, TEAM, first_login, first_login_at, team_server};
use cris_e2e::ui::{
    add, add_person, choose, click_testid, error_of, pick, tap, today, type_into, value_of,
};
use cris_e2e::{Browser, Chromedriver, TestServer, built_app_dir, wait_until, xpath_literal};
use fantoccini::Locator;
use serde_json::{Value, json};

async fn wait_for_saved_draft(b: &Browser) {
    b.wait_for_xpath(
        "//*[@data-testid='save-state'][starts-with(normalize-space(), 'Entwurf gespeichert um')]",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intake_and_a_visit_are_filled_offline_and_lose_nothing() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    let c = &b.client;

    // Once online, to log in: the phone's key for the account is made.
    first_login(&b, &server, "ayse.w").await;
    b.wait_for_service_worker().await;
    server.stop().await;
    // Offline from here on: the password unlocks the phone without the server.
    phone::reload(&b).await;
    b.wait_for_heading("Meine Fälle").await;

    // A new intake, with no connection.
    c.find(Locator::XPath("//nav//a[normalize-space()='Erstgespräch']"))
        .await
        .expect("intake tab")
        .click()
        .await
        .expect("open the intake");
    b.wait_for_heading("Erstgespräch").await;
    let draft_url = wait_until("the draft's own address", || async {
        let url = c.current_url().await.ok()?;
        url.path().starts_with("/drafts/").then_some(url)
    })
    .await;

    type_into(&b, "household_name", None, "Familie Yıldız-Петрова").await;
    for _ in 0..3 {
        add(&b, "members").await;
    }
    let people = [
        ("Ayşe Yıldız", "1988-04-12", "applicant"),
        ("Elif Yıldız", "2016-09-01", "child"),
        ("Deniz Yıldız", "2021-01-20", "child"),
    ];
    for (i, (name, dob, relation)) in people.iter().enumerate() {
        type_into(&b, "member_name", Some(i), name).await;
        pick(&b, "dob", Some(i), dob).await;
        choose(&b, "relation", Some(i), relation).await;
    }
    // The age is calculated, and "able to work" is asked only from 15 years.
    b.wait_for_xpath("//*[@data-field='able_to_work'][@data-instance='0']")
        .await;
    let ask_child = b
        .eval("return document.querySelector(\"[data-field='able_to_work'][data-instance='1']\") !== null;")
        .await;
    assert_eq!(
        ask_child, false,
        "a child is not asked whether able to work"
    );
    choose(&b, "housing_situation", None, "shelter").await;
    type_into(
        &b,
        "health_affects_work",
        None,
        "Rückenschmerzen, kann nicht schwer heben.\nTermin beim Orthopäden",
    )
    .await;
    wait_for_saved_draft(&b).await;

    // Reload in the middle: the draft is back, to the letter.
    phone::reload(&b).await;
    b.wait_for_heading("Erstgespräch").await;
    let restored = wait_until("the restored draft", || async {
        let name = value_of(&b, "household_name", None).await;
        (name != Value::Null).then_some(name)
    })
    .await;
    assert_eq!(restored, "Familie Yıldız-Петрова");
    for (i, (name, dob, _)) in people.iter().enumerate() {
        assert_eq!(value_of(&b, "member_name", Some(i)).await, *name);
        assert_eq!(value_of(&b, "dob", Some(i)).await, *dob);
    }
    assert_eq!(value_of(&b, "relation", Some(2)).await, "child");
    assert_eq!(
        value_of(&b, "health_affects_work", None).await,
        "Rückenschmerzen, kann nicht schwer heben.\nTermin beim Orthopäden"
    );
    assert_eq!(c.current_url().await.unwrap(), draft_url);

    // The two children, one of them with a date of birth in the future by mistake.
    for _ in 0..2 {
        add(&b, "children").await;
    }
    type_into(&b, "child_name", Some(0), "Elif Yıldız").await;
    pick(&b, "child_dob", Some(0), "2016-09-01").await;
    choose(&b, "school_or_kita", Some(0), "primary_school").await;
    type_into(&b, "school_class", Some(0), "4b").await;
    pick(&b, "child_dob", Some(1), "2099-01-20").await;
    let future = "Das Geburtsdatum kann nicht in der Zukunft liegen.";
    wait_until("the future date of birth explained", || async {
        (error_of(&b, "child_dob", Some(1)).await == future).then_some(())
    })
    .await;

    // Finalizing with a required field empty is refused, with every problem listed.
    click_testid(&b, "finalize").await;
    b.wait_for_xpath("//*[@data-testid='problems']").await;
    assert_eq!(
        error_of(&b, "child_name", Some(1)).await,
        "Bitte ausfüllen."
    );
    // The first problem has the focus (moved there in the next animation frame).
    wait_until("the focus on the first problem", || async {
        let focused = b
            .eval("const f = document.activeElement.closest('[data-field]'); return f && [f.dataset.field, f.dataset.instance];")
            .await;
        (focused == json!(["child_name", "1"])).then_some(())
    })
    .await;
    b.screenshot("intake-problems-de.png").await;

    // The same messages in Turkish, and nothing typed is lost by switching.
    c.find(Locator::Css("#lang-header"))
        .await
        .unwrap()
        .select_by_value("tr")
        .await
        .unwrap();
    b.wait_for_heading("İlk görüşme").await;
    assert_eq!(
        error_of(&b, "child_name", Some(1)).await,
        "Lütfen doldurun."
    );
    assert_eq!(
        error_of(&b, "child_dob", Some(1)).await,
        "Doğum tarihi gelecekte olamaz."
    );
    assert_eq!(value_of(&b, "school_class", Some(0)).await, "4b");
    c.find(Locator::Css("#lang-header"))
        .await
        .unwrap()
        .select_by_value("de")
        .await
        .unwrap();
    b.wait_for_heading("Erstgespräch").await;

    type_into(&b, "child_name", Some(1), "Deniz Yıldız").await;
    pick(&b, "child_dob", Some(1), "2021-01-20").await;
    choose(&b, "school_or_kita", Some(1), "kita").await;
    add(&b, "plan_goals").await;
    type_into(&b, "goal", Some(0), "Anmeldung beim Bürgerbüro").await;
    pick(&b, "review_date", Some(0), "2020-01-31").await;
    click_testid(&b, "finalize").await;

    // Saved, and only then said so: the case page of the new household.
    b.wait_for_xpath("//*[@data-testid='saved']").await;
    b.wait_for_xpath("//h1[@data-testid='case-name'][normalize-space()='Familie Yıldız-Петрова']")
        .await;
    b.wait_for_xpath("//*[@data-property='housing_situation'][normalize-space()='Notunterkunft oder Unterkunft für Wohnungslose']")
        .await;
    let stored = b
        .eval(
            "const db = await new Promise((ok, no) => { const r = indexedDB.open('cris-field'); r.onsuccess = () => ok(r.result); r.onerror = no; });
             const count = (s) => new Promise((ok) => { const r = db.transaction(s).objectStore(s).count(); r.onsuccess = () => ok(r.result); });
             const out = { cases: await count('cases'), submissions: await count('submissions'), outbox: await count('outbox'), drafts: await count('drafts') };
             db.close();
             return out;",
        )
        .await;
    assert_eq!(
        stored,
        json!({ "cases": 1, "submissions": 1, "outbox": 1, "drafts": 0 }),
        "one transaction wrote the submission, the case and the outbox entry, and removed the draft"
    );
    b.screenshot("case-after-intake.png").await;

    // The case is in the caseload, found by a search without the Turkish letters.
    c.find(Locator::XPath("//nav//a[normalize-space()='Meine Fälle']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_xpath("//*[@data-testid='cases']//*[normalize-space()='Familie Yıldız-Петрова']")
        .await;
    b.wait_for_xpath("//*[@data-testid='cases']//*[contains(., '1') and contains(@class, 'due')]")
        .await;
    c.find(Locator::Css("[data-testid='search']"))
        .await
        .unwrap()
        .send_keys("yildiz")
        .await
        .unwrap();
    b.wait_for_xpath("//*[@data-testid='cases']//*[normalize-space()='Familie Yıldız-Петрова']")
        .await;
    c.find(Locator::Css("[data-testid='search']"))
        .await
        .unwrap()
        .send_keys("x")
        .await
        .unwrap();
    b.wait_for_xpath("//*[@data-testid='cases']//li[@class='notice']")
        .await;

    // A home visit: the children and the agreed step are already listed.
    let case_link = format!(
        "//*[@data-testid='cases']//a[.//*[normalize-space()={}]]",
        xpath_literal("Familie Yıldız-Петрова")
    );
    let home = format!("{}/", draft_url.origin().ascii_serialization());
    phone::open(&b, &home).await;
    b.wait_for_xpath(&case_link).await.click().await.unwrap();
    b.wait_for_xpath("//a[normalize-space()='Neuer Hausbesuch']")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for_heading("Hausbesuch").await;
    // Without consent to enter, only the door-step part of the visit is asked.
    let asked = "return document.querySelector(\"[data-field='attendance_child']\") !== null;";
    assert_eq!(b.eval(asked).await, false);
    choose(&b, "consent_to_enter", None, "yes").await;
    assert_eq!(
        value_of(&b, "attendance_child", Some(1)).await,
        "Deniz Yıldız"
    );
    assert_eq!(
        value_of(&b, "step", Some(0)).await,
        "Anmeldung beim Bürgerbüro"
    );

    pick(&b, "visit_date", None, "2099-12-01").await;
    wait_until("a visit in the future explained", || async {
        (error_of(&b, "visit_date", None).await
            == "Das Datum des Hausbesuchs darf nicht in der Zukunft liegen.")
            .then_some(())
    })
    .await;
    pick(&b, "visit_date", None, &today()).await;
    pick(&b, "start_time", None, "10:30").await;
    choose(&b, "progress", Some(0), "done").await;
    choose(&b, "attendance", Some(0), "regular").await;
    click_testid(&b, "finalize").await;
    b.wait_for_xpath("//*[@data-testid='saved']").await;
    // The day as German writes it.
    let (y, m, d) = today().parse::<cris_core::Date>().unwrap().ymd();
    b.wait_for_xpath(&format!(
        "//*[@data-testid='last-visit'][normalize-space()='{d:02}.{m:02}.{y}']"
    ))
    .await;
    let forms = b
        .eval("return [...document.querySelectorAll('[data-testid=submissions] li')].map((li) => li.dataset.form);")
        .await;
    assert_eq!(forms, json!(["home_visit", "intake"]));
    // The step reported done is no longer open.
    let open_steps = b
        .eval("return document.querySelectorAll('[data-testid=open-steps] li').length;")
        .await;
    assert_eq!(open_steps, 0);
    b.screenshot("case-after-visit.png").await;
    b.close().await;
}

/// The phone's storage runs full while the worker types: the form says so in the worker's
/// language, keeps everything on the screen, and saves once there is room again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_phone_is_reported_and_nothing_on_screen_is_lost() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "bg-BG").await;
    first_login_at(&b, &server.url("/intake/new"), "ayse.w").await;
    b.wait_for_heading("Първоначален разговор").await;
    type_into(&b, "household_name", None, "Семейство Тестови").await;
    add_person(&b, "Мария Тестова", "1991-05-05").await;
    b.wait_for_xpath("//*[@data-testid='save-state'][normalize-space()!='']")
        .await;
    wait_until("the first save", || async {
        let state = b
            .eval("return document.querySelector('[data-testid=save-state]').textContent;")
            .await;
        (!state.as_str().unwrap_or_default().contains('…')).then_some(())
    })
    .await;

    // Chromium here ignores DevTools' quota override (Storage.overrideQuotaForOrigin is
    // accepted and has no effect), and a small disk cannot be mounted: IndexedDB is made to
    // refuse writes the way a full phone does, with a QuotaExceededError DOMException.
    b.eval(
        "window.__full = true;
         const put = IDBObjectStore.prototype.put;
         IDBObjectStore.prototype.put = function (...args) {
             if (window.__full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
             return put.apply(this, args);
         };
         return true;",
    )
    .await;
    let long_text = "Живее при роднини, шестима души в две стаи. ".repeat(40);
    pick(&b, "strengths", None, &long_text).await;
    let full = "Паметта на този телефон е пълна.";
    wait_until("the full storage reported", || async {
        let state = b
            .eval("return document.querySelector('[data-testid=save-state]').textContent;")
            .await;
        state
            .as_str()
            .unwrap_or_default()
            .starts_with(full)
            .then_some(())
    })
    .await;
    assert_eq!(value_of(&b, "strengths", None).await, long_text.as_str());

    // Finalizing on a full phone fails the same way: said so, the form stays as it was.
    click_testid(&b, "finalize").await;
    b.wait_for_xpath(&format!(
        "//*[@data-testid='final-error'][starts-with(normalize-space(), '{full}')]"
    ))
    .await;
    assert_eq!(
        value_of(&b, "household_name", None).await,
        "Семейство Тестови"
    );
    let finalize_enabled = b
        .eval("return !document.querySelector('[data-testid=finalize]').disabled;")
        .await;
    assert_eq!(finalize_enabled, true, "the worker can try again");

    // Room again: the next keystroke saves everything.
    b.eval("window.__full = false; return true;").await;
    type_into(&b, "strengths", None, "!").await;
    wait_for_saved_draft_bg(&b).await;
    phone::reload(&b).await;
    b.wait_for_heading("Първоначален разговор").await;
    let restored = wait_until("the restored draft", || async {
        let v = value_of(&b, "strengths", None).await;
        (v != Value::Null).then_some(v)
    })
    .await;
    assert_eq!(restored, format!("{long_text}!").as_str());
    b.close().await;
    server.stop().await;
}

async fn wait_for_saved_draft_bg(b: &Browser) {
    b.wait_for_xpath(
        "//*[@data-testid='save-state'][starts-with(normalize-space(), 'Черновата е запазена в')]",
    )
    .await;
}

/// An interrupted form waits above the caseload: it can be continued, and discarding it asks
/// first (answering "no" keeps it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_forms_are_listed_to_continue_or_discard() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    let c = &b.client;
    first_login_at(&b, &server.url("/intake/new"), "ayse.w").await;
    b.wait_for_heading("Erstgespräch").await;
    type_into(&b, "household_name", None, "Familie Unterbrochen").await;
    wait_for_saved_draft(&b).await;

    phone::open(&b, &server.url("/")).await;
    let draft = "//*[@data-testid='drafts']/li[.//*[normalize-space()='Familie Unterbrochen']]";
    b.wait_for_xpath(draft).await;
    b.wait_for_xpath(&format!("{draft}//a[normalize-space()='Fortsetzen']"))
        .await
        .click()
        .await
        .unwrap();
    b.wait_for_heading("Erstgespräch").await;
    let name = wait_until("the draft continued", || async {
        let v = value_of(&b, "household_name", None).await;
        (v != Value::Null).then_some(v)
    })
    .await;
    assert_eq!(name, "Familie Unterbrochen");

    phone::open(&b, &server.url("/")).await;
    let discard = format!("{draft}//button[normalize-space()='Entwurf verwerfen']");
    b.wait_for_xpath(&discard).await.click().await.unwrap();
    assert_eq!(
        c.get_alert_text().await.unwrap(),
        "Diesen Entwurf verwerfen? Seine Antworten werden von diesem Telefon gelöscht."
    );
    c.dismiss_alert().await.unwrap();
    b.wait_for_xpath(draft).await;
    b.wait_for_xpath(&discard).await.click().await.unwrap();
    c.accept_alert().await.unwrap();
    wait_until("the draft gone", || async {
        let left = b
            .eval("return document.querySelectorAll('[data-testid=drafts] li').length;")
            .await;
        (left == 0).then_some(())
    })
    .await;
    b.wait_for_xpath("//*[@data-testid='caseload-empty']").await;
    b.close().await;
    server.stop().await;
}

/// An agency adapts a form on the server (`--forms-dir`), without a new app: the phone takes
/// the new version the next time it reaches the server, and keeps it offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_adapted_on_the_server_reaches_the_phone() {
    let forms = tempfile::tempdir().unwrap();
    let shipped = cris_e2e::workspace_root().join("forms");
    for id in ["intake", "home_visit"] {
        let text = std::fs::read_to_string(shipped.join(format!("{id}.json"))).unwrap();
        let text = if id == "intake" {
            let mut form: Value = serde_json::from_str(&text).unwrap();
            form["version"] = json!(3);
            form["fields"][0]["fields"][0]["label"]["de"] = json!("Familienname (Haushalt)");
            form.to_string()
        } else {
            text
        };
        std::fs::write(forms.path().join(format!("{id}.json")), text).unwrap();
    }
    let server = TestServer::start_with_forms(&built_app_dir(), forms.path()).await;
    server
        .add_account("ayse.w", "Ayşe Testfrau", Role::Worker, TEAM, PASSWORD)
        .await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    // The worker starts typing at once; the newer definition arrives meanwhile and must not
    // disturb the open form.
    first_login_at(&b, &server.url("/intake/new"), "ayse.w").await;
    b.wait_for_heading("Erstgespräch").await;
    type_into(&b, "household_name", None, "Familie Früh").await;
    // The server's definition is kept on the phone.
    wait_until("the adapted intake stored", || async {
        let version = b
            .eval(
                "const db = await new Promise((ok, no) => { const r = indexedDB.open('cris-field'); r.onsuccess = () => ok(r.result); r.onerror = no; });
                 const form = await new Promise((ok) => { const r = db.transaction('forms').objectStore('forms').get('intake'); r.onsuccess = () => ok(r.result); });
                 db.close();
                 return form ? form.version : null;",
            )
            .await;
        (version == 3).then_some(())
    })
    .await;
    assert_eq!(value_of(&b, "household_name", None).await, "Familie Früh");
    wait_for_saved_draft(&b).await;
    b.wait_for_service_worker().await;
    server.stop().await;
    phone::open(&b, &server_less_url(&b).await).await;
    b.wait_for_heading("Erstgespräch").await;
    b.wait_for_xpath("//label[starts-with(normalize-space(), 'Familienname (Haushalt)')]")
        .await;
    b.close().await;
}

/// `/intake/new` at the origin of the open page (its server may be gone).
async fn server_less_url(b: &Browser) -> String {
    let url = b.client.current_url().await.unwrap();
    format!("{}/intake/new", url.origin().ascii_serialization())
}

/// The path of the page the browser shows now, with its query.
async fn path_of(b: &Browser) -> String {
    let url = b.client.current_url().await.expect("the current address");
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// What the case page lists: the `data-form` of each form, newest first.
async fn forms_listed(b: &Browser) -> Value {
    b.eval("return [...document.querySelectorAll('[data-testid=submissions] li')].map((li) => li.dataset.form);")
        .await
}

/// Waits until the case page of `name` shows `forms` (newest first).
async fn wait_for_case(b: &Browser, name: &str, forms: Value) {
    b.wait_for_xpath(&format!(
        "//h1[@data-testid='case-name'][normalize-space()={}]",
        xpath_literal(name)
    ))
    .await;
    wait_until(&format!("the forms {forms}"), || async {
        (forms_listed(b).await == forms).then_some(())
    })
    .await;
}

/// After "Abschließen" the phone's Back button goes where the worker came from, and the
/// finalized form's address (from the history or typed) leads to the saved form on its
/// household's page, never to an empty form that could be finalized over it: for an intake,
/// a home visit and a correction alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_after_finalizing_never_reopens_a_form() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    let c = &b.client;
    first_login(&b, &server, "ayse.w").await;
    // Offline from here on, so that what the phone holds stays put (nothing is sent).
    b.wait_for_service_worker().await;
    let origin = server.url("");
    server.stop().await;
    let url = |path: &str| format!("{origin}{path}");

    // The intake, from the caseload.
    tap(&b, "nav a[href='/intake/new']").await;
    b.wait_for_heading("Erstgespräch").await;
    let intake = wait_until("the intake's own address", || async {
        let path = path_of(&b).await;
        path.starts_with("/drafts/").then_some(path)
    })
    .await;
    type_into(&b, "household_name", None, "Familie Rückweg").await;
    add(&b, "members").await;
    type_into(&b, "member_name", Some(0), "Emine Rückweg").await;
    pick(&b, "dob", Some(0), "1979-03-08").await;
    click_testid(&b, "finalize").await;
    b.wait_for_xpath("//*[@data-testid='saved']").await;
    wait_for_case(&b, "Familie Rückweg", json!(["intake"])).await;
    let case_page = path_of(&b).await;
    let case_page = case_page.split('?').next().unwrap().to_owned();

    c.back().await.expect("Back");
    b.wait_for_heading("Meine Fälle").await;
    assert_eq!(
        path_of(&b).await,
        "/",
        "Back leads to where the intake was started"
    );
    b.wait_for_xpath("//*[@data-testid='cases']//*[normalize-space()='Familie Rückweg']")
        .await;

    // The intake's address, as Back or a bookmark would bring it: the saved intake, open.
    phone::open(&b, &url(&intake)).await;
    wait_for_case(&b, "Familie Rückweg", json!(["intake"])).await;
    let intake_id = intake
        .trim_start_matches("/drafts/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(path_of(&b).await, format!("{case_page}?form={intake_id}"));
    let open = b
        .eval(&format!(
            "return document.querySelector(\"[data-submission='{intake_id}'] details\").open;"
        ))
        .await;
    assert_eq!(open, true, "the saved intake is shown opened");
    assert_eq!(
        b.eval("return document.querySelector('[data-testid=finalize]') === null;")
            .await,
        true,
        "no form to fill"
    );

    // A home visit, from the household's page.
    phone::open(&b, &url(&case_page)).await;
    wait_for_case(&b, "Familie Rückweg", json!(["intake"])).await;
    b.wait_for_xpath("//a[normalize-space()='Neuer Hausbesuch']")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for_heading("Hausbesuch").await;
    let visit = path_of(&b).await;
    assert!(visit.starts_with("/drafts/"), "{visit}");
    pick(&b, "visit_date", None, &today()).await;
    pick(&b, "start_time", None, "09:15").await;
    choose(&b, "consent_to_enter", None, "no").await;
    click_testid(&b, "finalize").await;
    b.wait_for_xpath("//*[@data-testid='saved']").await;
    wait_for_case(&b, "Familie Rückweg", json!(["home_visit", "intake"])).await;
    c.back().await.expect("Back");
    wait_until(
        "the household's page, where the visit was started",
        || async { (path_of(&b).await == case_page).then_some(()) },
    )
    .await;
    wait_for_case(&b, "Familie Rückweg", json!(["home_visit", "intake"])).await;
    phone::open(&b, &url(&visit)).await;
    wait_for_case(&b, "Familie Rückweg", json!(["home_visit", "intake"])).await;

    // A correction of the intake, from the household's page.
    phone::open(&b, &url(&case_page)).await;
    wait_for_case(&b, "Familie Rückweg", json!(["home_visit", "intake"])).await;
    tap(
        &b,
        &format!("[data-submission='{intake_id}'] [data-testid='correct']"),
    )
    .await;
    b.wait_for_heading("Erstgespräch").await;
    let correction = path_of(&b).await;
    b.wait_for_xpath("//*[@data-testid='correction']").await;
    c.find(Locator::Css("[data-testid='correction-reason']"))
        .await
        .unwrap()
        .send_keys("Name falsch geschrieben")
        .await
        .unwrap();
    type_into(&b, "household_name", None, "-Demir").await;
    click_testid(&b, "finalize").await;
    b.wait_for_xpath("//*[@data-testid='saved']").await;
    let all = json!(["intake", "home_visit", "intake"]);
    wait_for_case(&b, "Familie Rückweg-Demir", all.clone()).await;
    c.back().await.expect("Back");
    wait_until(
        "the household's page, where the correction was started",
        || async { (path_of(&b).await == case_page).then_some(()) },
    )
    .await;
    wait_for_case(&b, "Familie Rückweg-Demir", all.clone()).await;
    phone::open(&b, &url(&correction)).await;
    wait_for_case(&b, "Familie Rückweg-Demir", all.clone()).await;

    // Every form where it was: three forms, one household, nothing left to send twice.
    let stored = b
        .eval(
            "const db = await new Promise((ok, no) => { const r = indexedDB.open('cris-field'); r.onsuccess = () => ok(r.result); r.onerror = no; });
             const count = (s) => new Promise((ok) => { const r = db.transaction(s).objectStore(s).count(); r.onsuccess = () => ok(r.result); });
             const out = { cases: await count('cases'), submissions: await count('submissions'), outbox: await count('outbox'), drafts: await count('drafts') };
             db.close();
             return out;",
        )
        .await;
    assert_eq!(
        stored,
        json!({ "cases": 1, "submissions": 3, "outbox": 3, "drafts": 0 })
    );
    b.screenshot("back-after-correction.png").await;
    b.close().await;
}

/// An administrator publishes a changed home visit from a spreadsheet on the laptop: a broken
/// file is refused with its problems listed, the good one is served at once, and the worker's
/// phone takes it at its next sync: the next visit asks the new question.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_publishes_an_xlsform_and_the_phone_takes_it_at_its_next_sync() {
    let server = team_server().await;
    server
        .add_account("anna.a", "Anna Verwaltung", Role::Admin, TEAM, PASSWORD)
        .await;
    let driver = Chromedriver::start().await;
    let phone = Browser::open(&driver, 360, 740, "de-DE").await;
    phone::log_in(&phone, &server, "ayse.w").await;
    phone::record_synced_household(&phone, "Familie Neuform").await;
    // A home visit begun before the new version is published.
    phone::open_case(&phone, "Familie Neuform").await;
    phone::begin_visit(&phone).await;
    type_into(&phone, "present", None, "Frau Testova und zwei Kinder").await;
    wait_for_saved_draft(&phone).await;
    let begun = phone.client.current_url().await.unwrap();

    // The home visit as served, with a question worded anew and the version raised.
    let dir = tempfile::tempdir().unwrap();
    let served = cris_server::FormCatalog::embedded()
        .unwrap()
        .get("home_visit")
        .unwrap();
    let mut json = serde_json::to_value(&*served).unwrap();
    json["version"] = (served.version + 1).into();
    json["fields"][0]["fields"][5]["label"]["de"] = "Wer war beim Besuch dabei?".into();
    let changed: cris_core::form::FormDef = serde_json::from_value(json).unwrap();
    let good = dir.path().join("hausbesuch.xlsx");
    std::fs::write(&good, cris_server::xlsform::write(&changed).unwrap()).unwrap();
    let broken = dir.path().join("kaputt.xlsx");
    std::fs::write(&broken, b"not a spreadsheet").unwrap();

    let laptop = Browser::open(&driver, 1280, 900, "de-DE").await;
    phone::log_in(&laptop, &server, "anna.a").await;
    tap(&laptop, "nav a[href='/settings']").await;
    let upload = |path: std::path::PathBuf| {
        let laptop = &laptop;
        async move {
            let input = laptop
                .wait_for_xpath("//input[@data-testid='publish-file']")
                .await;
            input.send_keys(path.to_str().unwrap()).await.unwrap();
            laptop
                .wait_for_xpath("//*[@data-testid='publish-form'][not(@disabled)]")
                .await;
            click_testid(laptop, "publish-form").await;
        }
    };
    upload(broken).await;
    laptop
        .wait_for_xpath(
            "//*[@data-testid='publish-problems']/li[contains(., 'not an .xlsx spreadsheet')]",
        )
        .await;
    upload(good).await;
    laptop
        .wait_for_xpath(&format!(
            "//*[@data-testid='published'][contains(., 'Version {}')]",
            changed.version
        ))
        .await;
    laptop.screenshot("form-published.png").await;

    // The phone's next sync brings it; the next home visit asks the new question.
    click_testid(&phone, "sync-now").await;
    wait_until("the published form on the phone", || async {
        let version = phone
            .eval(
                "const db = await new Promise((ok, no) => { const r = indexedDB.open('cris-field'); r.onsuccess = () => ok(r.result); r.onerror = no; });
                 const form = await new Promise((ok) => { const r = db.transaction('forms').objectStore('forms').get('home_visit'); r.onsuccess = () => ok(r.result); });
                 db.close();
                 return form ? form.version : null;",
            )
            .await;
        (version == changed.version).then_some(())
    })
    .await;
    phone::open_case(&phone, "Familie Neuform").await;
    phone::begin_visit(&phone).await;
    phone
        .wait_for_xpath("//label[starts-with(normalize-space(), 'Wer war beim Besuch dabei?')]")
        .await;

    // The visit begun before finishes on the version it was begun on, after a reload too.
    phone::open(&phone, begun.as_str()).await;
    phone
        .wait_for_xpath("//label[starts-with(normalize-space(), 'Anwesende Personen')]")
        .await;
    assert_eq!(
        value_of(&phone, "present", None).await,
        "Frau Testova und zwei Kinder"
    );
    let new_label = phone
        .eval("return [...document.querySelectorAll('label')].some(l => l.textContent.includes('Wer war beim Besuch dabei?'));")
        .await;
    assert_eq!(
        new_label, false,
        "the draft is not shown in the new version"
    );
    pick(&phone, "start_time", None, "10:00").await;
    choose(&phone, "consent_to_enter", None, "yes").await;
    choose(&phone, "housing_situation", None, "sublet").await;
    click_testid(&phone, "finalize").await;
    phone.wait_for_xpath("//*[@data-testid='saved']").await;
    phone::wait_for_sync_text(&phone, "Alles synchronisiert").await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", server.db_path().display()))
        .await
        .unwrap();
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM ops ORDER BY seq")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    let visits: Vec<(String, u64)> = bodies
        .iter()
        .map(|b| serde_json::from_str::<Value>(b).unwrap())
        .filter_map(|op| {
            let s = &op["change"]["submission"];
            (s["form_id"] == "home_visit").then(|| {
                (
                    s["answers"]["present"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    s["form_version"].as_u64().unwrap(),
                )
            })
        })
        .collect();
    assert_eq!(
        visits,
        [(
            "Frau Testova und zwei Kinder".to_owned(),
            u64::from(served.version)
        )],
        "the server holds the visit in the version it was begun on"
    );
    phone.close().await;
    laptop.close().await;
    server.stop().await;
}
