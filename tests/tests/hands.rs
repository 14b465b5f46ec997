//! Forms that fit a worker's hands on a 360 px phone: the tabs read whole words in every
//! language, the form has most of the screen, the list of problems takes the finger to each
//! field, required fields say so to screen readers, a visit starts at today's date and time,
//! a chosen answer can be taken back, a sync that cannot start says why, and a long caseload
//! shows, and finds, every household.

use cris_core::Lang;
use cris_core::caseload::fold;
use cris_e2e::bench::{household, seed_households};
use cris_e2e::phone::{first_login, log_in, open_case, record_synced_household, team_server};
use cris_e2e::ui::{choose, click_testid, input, tap, type_in, value_of};
use cris_e2e::{Browser, Chromedriver, wait_until};
use serde_json::{Value, json};

/// The words of the visible tabs that are broken over two lines or stick out of their tab.
async fn broken_tab_words(b: &Browser) -> Value {
    b.eval(
        "const out = [];
         for (const a of document.querySelectorAll('nav.tabs a')) {
           if (a.offsetParent === null) continue;
           const box = a.getBoundingClientRect();
           const walker = document.createTreeWalker(a, NodeFilter.SHOW_TEXT);
           let node;
           while ((node = walker.nextNode())) {
             const words = /\\S+/g;
             let m;
             while ((m = words.exec(node.data))) {
               const r = document.createRange();
               r.setStart(node, m.index);
               r.setEnd(node, m.index + m[0].length);
               const lines = new Set([...r.getClientRects()].map((x) => Math.round(x.top)));
               const w = r.getBoundingClientRect();
               if (lines.size > 1 || w.left < box.left - 0.5 || w.right > box.right + 0.5) {
                 out.push(m[0]);
               }
             }
           }
         }
         return out;",
    )
    .await
}

/// The share of the screen not covered by what stays in place (sticky or fixed), with the
/// page scrolled half way down.
async fn share_of_screen_for_the_page(b: &Browser) -> f64 {
    let share = b
        .eval(
            "window.scrollTo(0, (document.documentElement.scrollHeight - innerHeight) / 2);
             await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
             let covered = 0;
             for (const el of document.querySelectorAll('body *')) {
               const pos = getComputedStyle(el).position;
               if (pos !== 'fixed' && pos !== 'sticky') continue;
               // Counted once: the outermost box that stays in place.
               let inner = false;
               for (let p = el.parentElement; p; p = p.parentElement) {
                 const q = getComputedStyle(p);
                 if ((q.position === 'fixed' || q.position === 'sticky') && q.display !== 'contents') {
                   inner = true;
                   break;
                 }
               }
               if (inner) continue;
               const r = el.getBoundingClientRect();
               const top = Math.max(0, r.top), bottom = Math.min(innerHeight, r.bottom);
               if (bottom > top) covered += bottom - top;
             }
             return (innerHeight - covered) / innerHeight;",
        )
        .await;
    share.as_f64().expect("a share")
}

/// Where the label of `field`'s block starts, and where the header that stays on top ends.
async fn field_below_header(b: &Browser, field: &str) -> bool {
    let ok = b
        .eval(&format!(
            "const f = document.querySelector(\"[data-field='{field}']:not([data-instance])\");
             const header = document.querySelector('.topbar').getBoundingClientRect();
             const r = f.getBoundingClientRect();
             return r.top >= header.bottom - 1 && r.top < innerHeight / 2;"
        ))
        .await;
    ok == true
}

/// The field the focus is in, by its `data-field`.
async fn focused_field(b: &Browser) -> Value {
    b.eval("const f = document.activeElement.closest('[data-field]'); return f && f.dataset.field;")
        .await
}

async fn choose_language(b: &Browser, lang: Lang) {
    b.client
        .find(fantoccini::Locator::Css("#lang-header"))
        .await
        .unwrap()
        .select_by_value(lang.code())
        .await
        .unwrap();
}

/// The names on the caseload's open households, top to bottom.
async fn caseload_names(b: &Browser) -> Vec<String> {
    let names = b
        .eval(
            "return [...document.querySelectorAll(\"[data-testid='cases'] li.case .case-name\")]
               .map((n) => n.textContent);",
        )
        .await;
    serde_json::from_value(names).unwrap()
}

async fn wait_for_caseload(b: &Browser, what: &str, expected: &[String]) {
    wait_until(what, || async {
        let names = caseload_names(b).await;
        (names == expected).then_some(())
    })
    .await;
}

/// The caseload draws its first screen of households at once and the rest a frame later:
/// with more than that, every household is there once, in order, a search finds one drawn
/// late, and another language relabels every card.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_caseload_shows_every_household_and_finds_the_last() {
    const HOUSEHOLDS: usize = 60;
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    first_login(&b, &server, "ayse.w").await;
    b.wait_for_heading("Meine Fälle").await;
    seed_households(&b, "ayse.w", HOUSEHOLDS, 0).await;
    click_testid(&b, "sync-now").await;
    // None has a visit planned: by name.
    let mut all: Vec<String> = (0..HOUSEHOLDS).map(household).collect();
    all.sort_by_key(|name| fold(name));
    wait_for_caseload(&b, "every household, once, by name", &all).await;

    let last = all.last().unwrap().clone();
    type_in(&b, "[data-testid='search']", &last).await;
    wait_for_caseload(
        &b,
        "the search's one household",
        std::slice::from_ref(&last),
    )
    .await;
    b.eval(
        "const s = document.querySelector(\"[data-testid='search']\");
         s.value = ''; s.dispatchEvent(new Event('input', { bubbles: true })); return true;",
    )
    .await;
    wait_for_caseload(&b, "every household again", &all).await;

    choose_language(&b, Lang::Tr).await;
    wait_until("every card in Turkish", || async {
        let turkish = b
            .eval(
                "const cards = [...document.querySelectorAll(\"[data-testid='cases'] li.case\")];
                 return cards.filter((c) => c.textContent.includes('Son ziyaret')
                   && !c.textContent.includes('Letzter Besuch')).length;",
            )
            .await;
        (turkish == HOUSEHOLDS).then_some(())
    })
    .await;
    assert_eq!(caseload_names(&b).await, all);
    b.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabs_read_whole_words_in_every_language() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    first_login(&b, &server, "ayse.w").await;
    b.wait_for_heading("Meine Fälle").await;
    for lang in Lang::ALL {
        choose_language(&b, lang).await;
        wait_until("the page in the language", || async {
            (b.eval("return document.documentElement.lang;").await == lang.code()).then_some(())
        })
        .await;
        // The intake's tab says the form's own title.
        let intake: Value = serde_json::from_str(
            &std::fs::read_to_string(cris_e2e::workspace_root().join("forms/intake.json")).unwrap(),
        )
        .unwrap();
        let tab = wait_until("the intake tab named by its form", || async {
            let tab = b
                .eval("return document.querySelector('nav.tabs a.tab-intake').textContent.trim();")
                .await;
            (tab == intake["title"][lang.code()]).then_some(tab)
        })
        .await;
        assert_eq!(tab, intake["title"][lang.code()]);
        assert_eq!(broken_tab_words(&b).await, json!([]), "{lang}");
    }
    b.close().await;
    server.stop().await;
}

/// The intake and the visit on a phone, in German and in Bulgarian.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_fit_the_hand_in_german_and_bulgarian() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    let c = &b.client;
    c.goto(&server.url("/")).await.unwrap();

    // A new phone opens on the login page, which asks once, with one "Anmelden" to press.
    b.wait_for_heading("Anmelden").await;
    let presses = b
        .eval(
            "return [...document.querySelectorAll('a, button')]
               .filter((e) => e.offsetParent !== null && e.textContent.trim() === 'Anmelden').length;",
        )
        .await;
    assert_eq!(presses, 1, "one thing to press to log in");
    log_in(&b, &server, "ayse.w").await;
    record_synced_household(&b, "Familie Handlich").await;

    // With no network, "sync now" cannot be pressed, and says why.
    b.set_offline(true).await;
    wait_until("sync now disabled offline", || async {
        let state = b
            .eval(
                "const s = document.querySelector(\"[data-testid='sync-now']\");
                 const why = document.querySelector(\"[data-testid='sync-offline-why']\");
                 return [s.disabled, why.hidden ? '' : why.textContent.trim(), s.getAttribute('aria-describedby')];",
            )
            .await;
        (state[0] == true).then_some(state)
    })
    .await;
    let why = b
        .eval("return document.querySelector(\"[data-testid='sync-offline-why']\").textContent.trim();")
        .await;
    assert_eq!(
        why,
        "Kein Netz: Die Synchronisierung beginnt von selbst, sobald wieder eine Verbindung besteht."
    );

    for (lang, intake, visit, fill_in) in [
        (Lang::De, "Erstgespräch", "Hausbesuch", "Bitte ausfüllen."),
        (
            Lang::Bg,
            "Първоначален разговор",
            "Посещение в дома",
            "Моля, попълнете.",
        ),
    ] {
        choose_language(&b, lang).await;
        // The intake: required fields say so to screen readers, optional ones do not.
        tap(&b, "nav a[href='/intake/new']").await;
        b.wait_for_heading(intake).await;
        let required = |field: &str| {
            format!(
                "return document.querySelector(\"{}\").getAttribute('aria-required');",
                input(field, None)
            )
        };
        assert_eq!(b.eval(&required("household_name")).await, "true");
        assert_eq!(b.eval(&required("entry_date")).await, Value::Null);

        // The form has most of the screen while it is filled.
        let share = share_of_screen_for_the_page(&b).await;
        assert!(
            share >= 0.6,
            "{lang}: the form has {share:.2} of the screen"
        );
        b.screenshot(&format!("intake-phone-{}.png", lang.code()))
            .await;

        // An optional answer chosen by mistake can be taken back.
        choose(&b, "housing_situation", None, "shelter").await;
        tap(&b, "[data-clear='in-housing_situation']").await;
        wait_until("the answer taken back", || async {
            let checked = b
                .eval("return document.querySelectorAll(\"[data-field='housing_situation'] input:checked\").length;")
                .await;
            (checked == 0).then_some(())
        })
        .await;

        // Finalizing the empty form lists its problems; each link takes the finger to its
        // field, below the header, with the focus in it.
        click_testid(&b, "finalize").await;
        b.wait_for_xpath("//*[@data-testid='problems']//a").await;
        let targets = b
            .eval(
                "return [...document.querySelectorAll('[data-testid=problems] a')]
                   .every((a) => document.getElementById(a.hash.slice(1)) !== null);",
            )
            .await;
        assert_eq!(targets, true, "{lang}: every link has its field");
        wait_until("the focus in the first problem", || async {
            (focused_field(&b).await == "household_name").then_some(())
        })
        .await;
        assert!(field_below_header(&b, "household_name").await, "{lang}");
        // A household of nobody is not taken: the link leads to the button that adds a person.
        tap(&b, "[data-testid='problems'] a[href='#in-members-field']").await;
        wait_until("the focus on adding a person", || async {
            let on = b
                .eval("return document.activeElement.dataset.add || null;")
                .await;
            (on == "members").then_some(())
        })
        .await;
        assert_eq!(
            cris_e2e::ui::error_of(&b, "household_name", None).await,
            fill_in
        );
        tap(&b, "[data-testid='discard']").await;
        c.accept_alert().await.unwrap();
        b.wait_for_xpath("//*[@data-testid='cases']").await;

        // A visit starts today, at the time it is opened.
        open_case(&b, "Familie Handlich").await;
        tap(&b, "a[href$='/visit']").await;
        b.wait_for_heading(visit).await;
        let now = b
            .eval(
                "const d = new Date(); const p = (n) => String(n).padStart(2, '0');
                 return [`${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`, d.getHours() * 60 + d.getMinutes()];",
            )
            .await;
        assert_eq!(value_of(&b, "visit_date", None).await, now[0]);
        let start = value_of(&b, "start_time", None).await;
        let (h, m) = start.as_str().unwrap().split_once(':').unwrap();
        let minutes = h.parse::<i64>().unwrap() * 60 + m.parse::<i64>().unwrap();
        let drift = (now[1].as_i64().unwrap() - minutes).rem_euclid(24 * 60);
        assert!(drift <= 2, "{lang}: started at {start}, now {now}");
        let group = b
            .eval(
                "const g = document.querySelector(\"[data-field='consent_to_enter']\");
                 return [g.getAttribute('role'), g.getAttribute('aria-required')];",
            )
            .await;
        assert_eq!(group, json!(["radiogroup", "true"]));
        b.screenshot(&format!("visit-phone-{}.png", lang.code()))
            .await;

        // The list of problems leads to a question answered by a tap, too.
        click_testid(&b, "finalize").await;
        b.wait_for_xpath("//*[@data-testid='problems']//a").await;
        tap(
            &b,
            "[data-testid='problems'] a[href='#in-consent_to_enter-field']",
        )
        .await;
        wait_until("the focus in the question", || async {
            (focused_field(&b).await == "consent_to_enter").then_some(())
        })
        .await;
        assert!(field_below_header(&b, "consent_to_enter").await, "{lang}");
        b.screenshot(&format!("visit-problem-{}.png", lang.code()))
            .await;
        tap(&b, "[data-testid='discard']").await;
        c.accept_alert().await.unwrap();
        b.wait_for_xpath("//*[@data-testid='cases']").await;
    }
    b.close().await;
    server.stop().await;
}

/// A supervisor on a phone: four tabs of whole words, the queue first and its filters folded
/// under one button, the worker chosen from the team's workers, items a finger's height, and
/// the form's page naming its household with a link a finger can hit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_supervisor_reviews_on_a_small_screen() {
    let server = cris_e2e::phone::team_server_with_supervisor().await;
    let driver = Chromedriver::start().await;
    let phone = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&phone, &server, "ayse.w").await;
    record_synced_household(&phone, "Familie Kleinbild").await;
    phone.close().await;

    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&b, &server, "lea.s").await;
    let tabs = b
        .eval(
            "return [...document.querySelectorAll('nav.tabs a')]
               .filter((a) => a.offsetParent !== null).map((a) => a.textContent.trim());",
        )
        .await;
    assert_eq!(
        tabs,
        json!(["Meine Fälle", "Prüfung", "Übersicht", "Optionen"])
    );
    for lang in Lang::ALL {
        choose_language(&b, lang).await;
        assert_eq!(broken_tab_words(&b).await, json!([]), "{lang}");
    }
    choose_language(&b, Lang::De).await;

    tap(&b, "nav a[href='/review']").await;
    let item = "[data-testid='review-queue'] li";
    b.wait_for_xpath("//*[@data-testid='review-queue']/li[contains(., 'Familie Kleinbild')]")
        .await;
    let first = b
        .eval(&format!(
            "const q = document.querySelector(\"{item}\").getBoundingClientRect();
             const f = document.querySelector('#review-filters');
             return [f.offsetParent === null, q.top < innerHeight / 2, q.height];"
        ))
        .await;
    assert_eq!(first[0], true, "the filters are folded away");
    assert_eq!(first[1], true, "the queue is the first thing seen: {first}");
    assert!(first[2].as_f64().unwrap() >= 44.0, "{first}");
    b.screenshot("review-queue-phone.png").await;

    // The filters open under their button; the worker is chosen from the team's.
    click_testid(&b, "review-filters-toggle").await;
    let workers = wait_until("the team's workers to choose from", || async {
        let names = b
            .eval(
                "return [...document.querySelectorAll(\"[data-testid='review-worker'] option\")]
                   .map((o) => o.textContent.trim());",
            )
            .await;
        (names.as_array().map_or(0, Vec::len) == 3).then_some(names)
    })
    .await;
    assert_eq!(workers, json!(["Alle", "Ayşe Testfrau", "Jan Testmann"]));
    cris_e2e::ui::select(&b, "review-worker", "jan.w").await;
    b.wait_for_xpath("//*[@data-testid='review-empty']").await;
    assert_eq!(
        b.eval("return document.querySelector(\"[data-testid='review-filters-toggle']\").textContent.trim();")
            .await,
        "Filter (1)"
    );
    cris_e2e::ui::select(&b, "review-worker", "ayse.w").await;
    b.wait_for_xpath("//*[@data-testid='review-queue']/li[contains(., 'Familie Kleinbild')]")
        .await;
    b.screenshot("review-filters-phone.png").await;

    // The form's page names its household, and the link fits a finger.
    tap(&b, &format!("{item} a")).await;
    let link = "[data-testid='review-household-link']";
    b.wait_for_xpath(
        "//*[@data-testid='review-household-link'][normalize-space()='Familie Kleinbild']",
    )
    .await;
    let size = b
        .eval(&format!(
            "const r = document.querySelector(\"{link}\").getBoundingClientRect(); return [r.width, r.height];"
        ))
        .await;
    assert!(
        size[0].as_f64().unwrap() >= 44.0 && size[1].as_f64().unwrap() >= 44.0,
        "{size}"
    );
    tap(&b, link).await;
    b.wait_for_xpath("//h1[@data-testid='case-name'][normalize-space()='Familie Kleinbild']")
        .await;
    b.close().await;
    server.stop().await;
}
