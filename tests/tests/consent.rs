//! A family signs a consent on the worker's phone, offline, in Bulgarian: the notice, two of
//! three purposes, a release for the housing office, a signature drawn with a finger. The
//! copy for the family shows the Bulgarian text and the signature; after the sync the server
//! holds the record with the same hash, refuses a forged change of it, and after a withdrawal
//! of one purpose the case page and the server agree on what the family has agreed to. A
//! referral goes only where the consent releases it.

use std::time::Duration;

use cris_core::Lang;
use cris_core::consent::text::ConsentText;
use cris_e2e::phone::{
    self, PASSWORD, log_in, open_case, outbox_count, record_synced_household, tamper_once,
    team_server, wait_for_sync_text, watch_sealing,
};
use cris_e2e::ui::{add, add_person, choose, click_testid, pick, tap, type_in, type_into};
use cris_e2e::{Browser, Chromedriver, wait_until, xpath_literal};
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, PointerAction, TouchActions};
use serde_json::Value;

fn text(json: &str) -> ConsentText {
    ConsentText::from_json(json).expect("a shipped text")
}

/// Sets a `<select>` or date input as the browser's picker does, firing `change`.
async fn set_value(b: &Browser, css: &str, value: &str) {
    let done = b
        .eval(&format!(
            "const el = document.querySelector({css:?});
             if (!el) return false;
             el.value = {value:?};
             el.dispatchEvent(new Event('change', {{ bubbles: true }}));
             return true;"
        ))
        .await;
    assert_eq!(done, true, "nothing at {css}");
}

/// Draws a wavy signature across the pad with a finger (touch pointer events).
async fn sign_with_a_finger(b: &Browser) {
    let pad = b
        .wait_for_xpath("//canvas[@data-testid='signature-pad']")
        .await;
    b.eval(
        "document.querySelector(\"[data-testid='signature-pad']\").scrollIntoView({ block: 'center' }); return true;",
    )
    .await;
    let step = Some(Duration::from_millis(30));
    let mut finger = TouchActions::new("finger".into())
        .then(PointerAction::MoveToElement {
            element: pad.clone(),
            duration: None,
            x: -130.0,
            y: 20.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        });
    for i in 0..10 {
        let dy = if i % 2 == 0 { -35.0 } else { 35.0 };
        finger = finger.then(PointerAction::MoveBy {
            duration: step,
            x: 22.0,
            y: dy,
        });
    }
    finger = finger
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        })
        // A second stroke: the dot over an i.
        .then(PointerAction::MoveToElement {
            element: pad,
            duration: None,
            x: 100.0,
            y: -50.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::MoveBy {
            duration: step,
            x: 4.0,
            y: 2.0,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    b.client.perform_actions(finger).await.expect("draw");
}

/// Completes the release for the housing office (ticked already): `records`, for the
/// housing search, until 30 June 2030.
async fn release_to_the_housing_office(b: &Browser, records: &[&str]) {
    let release = "fieldset[data-recipient='housing_office']";
    for record in records {
        tap(b, &format!("{release} input[data-record='{record}']")).await;
    }
    set_value(
        b,
        &format!("{release} select[data-release-purpose]"),
        "housing_search",
    )
    .await;
    tap(b, &format!("{release} input[data-duration='until']")).await;
    set_value(
        b,
        &format!("{release} input[data-release-until]"),
        "2030-06-30",
    )
    .await;
}

/// A call to the server's API from the phone's page, with the phone's own session.
async fn api(b: &Browser, method: &str, path: &str, body: Option<&Value>) -> (u64, Value) {
    let body = body.map_or("null".to_owned(), Value::to_string);
    let answer = b
        .eval(&format!(
            "// The phone's own token is sealed: this is a session of its own (another device).
             if (!window.__apiToken) {{
               const r = await fetch('/api/v1/session', {{ method: 'POST',
                 headers: {{ 'content-type': 'application/json' }},
                 body: JSON.stringify({{ login: 'ayse.w', password: {password:?}, device_id: crypto.randomUUID() }}) }});
               window.__apiToken = (await r.json()).token;
             }}
             const token = window.__apiToken;
             const init = {{ method: {method:?}, headers: {{ authorization: 'Bearer ' + token }} }};
             const body = {body};
             if (body !== null) {{
               init.headers['content-type'] = 'application/json';
               init.body = JSON.stringify(body);
             }}
             const r = await fetch({path:?}, init);
             return [r.status, await r.json()];",
            password = PASSWORD
        ))
        .await;
    (answer[0].as_u64().unwrap_or_default(), answer[1].clone())
}

/// What the case page says the household has agreed to: purposes, and recipients with the
/// purposes they may receive data for.
async fn phone_state(b: &Browser) -> Value {
    b.eval(
        "const s = document.querySelector(\"[data-testid='consent-state']\");
         if (!s) return [[], []];
         return [
           [...s.querySelectorAll('[data-purpose]')].map(e => e.dataset.purpose),
           [...s.querySelectorAll('[data-recipient]')].map(e => [e.dataset.recipient, e.dataset.purposes]),
         ];",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_family_signs_in_bulgarian_offline_and_the_server_agrees() {
    let notice = text(include_str!("../../forms/consent/notice.json"));
    let consent = text(include_str!("../../forms/consent/consent.json"));
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&b, &server, "ayse.w").await;
    record_synced_household(&b, "Familie Testova").await;
    open_case(&b, "Familie Testova").await;
    b.wait_for_xpath("//*[@data-testid='consent-none']").await;
    let case_id = b
        .eval("return location.pathname.split('/')[2];")
        .await
        .as_str()
        .expect("a case id")
        .to_owned();

    // No signal in the family's flat.
    b.set_offline(true).await;
    click_testid(&b, "take-consent").await;
    b.wait_for_xpath("//*[@data-testid='consent-lang']").await;
    set_value(&b, "[data-testid='consent-lang']", "bg").await;
    b.wait_for_xpath(&format!(
        "//h2[@data-testid='notice-title'][normalize-space()={}]",
        xpath_literal(notice.title.get(Lang::Bg))
    ))
    .await;
    click_testid(&b, "consent-next").await;

    // Two of three purposes; none was ticked before.
    b.wait_for_xpath(&format!(
        "//h2[normalize-space()={}]",
        xpath_literal(consent.title.get(Lang::Bg))
    ))
    .await;
    let ticked = b
        .eval("return document.querySelectorAll('input[data-purpose]:checked').length;")
        .await;
    assert_eq!(ticked, 0, "nothing is ticked in advance");
    tap(&b, "input[data-purpose='school_contact']").await;
    tap(&b, "input[data-purpose='housing_search']").await;
    click_testid(&b, "consent-next").await;

    // A release for the housing office: an incomplete one is refused first.
    tap(&b, "input[data-release='housing_office']").await;
    click_testid(&b, "consent-next").await;
    let problem = b
        .wait_for_xpath("//*[@data-testid='consent-problem'][not(@hidden)]")
        .await;
    assert!(!problem.text().await.unwrap().is_empty());
    release_to_the_housing_office(&b, &["household", "housing"]).await;
    click_testid(&b, "consent-next").await;

    // Signing: not without a signature, a name and the identity check.
    b.wait_for_xpath("//*[@data-testid='consent-summary']")
        .await;
    set_value(&b, "[data-testid='identity-check']", "id_card").await;
    click_testid(&b, "consent-save").await;
    // The app's Bulgarian for "nothing has been signed yet".
    b.wait_for_xpath(
        "//*[@data-testid='consent-problem'][normalize-space()='Все още няма подпис.']",
    )
    .await;
    sign_with_a_finger(&b).await;
    click_testid(&b, "consent-save").await;
    b.wait_for_xpath(
        "//*[@data-testid='consent-problem'][normalize-space()='Въведете името на подписващото лице.']",
    )
    .await;
    type_in(&b, "#signer-name", "Фатме Тестова").await;
    click_testid(&b, "consent-save").await;

    // The copy for the family: the Bulgarian text, the choices and the signature.
    let outcome = wait_until("the copy for the family, or a problem", || async {
        let seen = b
            .eval(
                "if (document.querySelector(\"[data-testid='receipt'][data-lang='bg']\")) return 'receipt';
                 const p = document.querySelector(\"[data-testid='consent-problem']:not([hidden])\");
                 return p && p.textContent.trim() ? p.textContent.trim() : null;",
            )
            .await;
        seen.as_str().map(str::to_owned)
    })
    .await;
    assert_eq!(outcome, "receipt", "the consent was not saved");
    let receipt = b
        .eval(
            "const q = (s) => document.querySelector(\"[data-testid='\" + s + \"']\");
             return {
               text: q('receipt-text').textContent,
               paths: q('receipt-signature').querySelectorAll('svg path').length,
               intact: q('receipt-hash').dataset.intact,
               hash: q('receipt-hash').textContent,
               agreed: [...q('receipt-purposes').querySelectorAll(\"[data-yes='true']\")].map(e => e.dataset.agreed),
               waiting: !!q('consent-waiting'),
             };",
        )
        .await;
    let shown = receipt["text"].as_str().unwrap();
    for section in &consent.sections {
        assert!(
            shown.contains(section.heading.get(Lang::Bg)),
            "the copy holds the Bulgarian text: {shown}"
        );
    }
    assert_eq!(receipt["paths"], 2, "two strokes");
    assert_eq!(receipt["intact"], "true");
    assert_eq!(
        receipt["agreed"],
        serde_json::json!(["school_contact", "housing_search"])
    );
    assert_eq!(receipt["waiting"], true, "offline: not sent yet");
    assert_eq!(outbox_count(&b).await, 1);

    // Back online: synced, and the server holds the same record.
    b.set_offline(false).await;
    click_testid(&b, "sync-now").await;
    wait_for_sync_text(&b, "Alles synchronisiert").await;
    assert_eq!(outbox_count(&b).await, 0);
    let (status, held) = api(&b, "GET", &format!("/api/v1/cases/{case_id}/consent"), None).await;
    assert_eq!(status, 200, "{held}");
    let record = &held["records"][0]["record"];
    assert_eq!(record["record"], "consent");
    let binding = record["binding"].as_str().unwrap().to_owned();
    assert!(
        receipt["hash"].as_str().unwrap().contains(&binding),
        "the phone and the server have the same hash"
    );
    let on_server: cris_core::consent::Consent =
        serde_json::from_value(record.clone()).expect("a consent");
    use cris_core::consent::Sealed;
    assert_eq!(on_server.verify(), Ok(()));
    assert_eq!(on_server.text.lang, Lang::Bg);
    assert_eq!(on_server.signer.name, "Фатме Тестова");
    assert_eq!(on_server.witness, "ayse.w");
    assert_eq!(on_server.signature.strokes.len(), 2);
    assert!(on_server.signature.strokes[0].len() >= 5, "a real line");
    assert!(held["records"][0]["received_at_ms"].as_i64().unwrap() > 0);
    let (status, _) = api(
        &b,
        "GET",
        &format!(
            "/api/v1/cases/{case_id}/may-share?recipient=housing_office&purpose=housing_search"
        ),
        None,
    )
    .await;
    assert_eq!(status, 200);

    // A forged change of the stored consent is refused, and changes nothing.
    let (_, history) = api(&b, "GET", &format!("/api/v1/cases/{case_id}/history"), None).await;
    let mut forged = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["op"]["change"]["kind"] == "consent")
        .expect("the consent in the log")["op"]
        .clone();
    forged["change"]["consent"]["purposes"]
        .as_array_mut()
        .unwrap()
        .push("photos".into());
    let (status, answer) = api(
        &b,
        "POST",
        "/api/v1/ops",
        Some(&serde_json::json!({ "ops": [forged] })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["results"][0]["status"], "rejected", "{answer}");
    assert_eq!(answer["results"][0]["reason"], "invalid");
    let (_, after) = api(&b, "GET", &format!("/api/v1/cases/{case_id}/consent"), None).await;
    assert_eq!(after["records"], held["records"]);

    // The case page shows what the family agreed to.
    tap(&b, "a.back").await;
    wait_until("the consent state on the case page", || async {
        let state = phone_state(&b).await;
        (state[0] == serde_json::json!(["housing_search", "school_contact"])).then_some(())
    })
    .await;
    assert_eq!(
        phone_state(&b).await[1],
        serde_json::json!([["housing_office", "housing_search"]])
    );

    // The family withdraws the school contact: the worker records it (told by phone).
    click_testid(&b, "withdraw").await;
    tap(
        &b,
        "input[data-withdraw='purpose'][data-id='school_contact']",
    )
    .await;
    tap(&b, "input[data-given='attested']").await;
    click_testid(&b, "withdraw-save").await;
    b.wait_for_xpath("//*[@data-testid='withdraw-problem'][not(@hidden)]")
        .await;
    type_in(
        &b,
        "[data-testid='withdraw-note']",
        "Am Telefon am Vormittag widerrufen",
    )
    .await;
    click_testid(&b, "withdraw-save").await;
    wait_until("the withdrawal on the case page", || async {
        let state = phone_state(&b).await;
        (state[0] == serde_json::json!(["housing_search"])).then_some(())
    })
    .await;
    wait_for_sync_text(&b, "Alles synchronisiert").await;
    wait_until("the withdrawal on the server", || async {
        let (_, held) = api(&b, "GET", &format!("/api/v1/cases/{case_id}/consent"), None).await;
        (held["records"].as_array().map_or(0, Vec::len) == 2).then_some(held)
    })
    .await;
    let (_, held) = api(&b, "GET", &format!("/api/v1/cases/{case_id}/consent"), None).await;
    let purposes: Vec<&String> = held["state"]["purposes"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(purposes, ["housing_search"], "the server agrees");
    let (status, refusal) = api(
        &b,
        "GET",
        &format!("/api/v1/cases/{case_id}/may-share?recipient=school&purpose=school_contact"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(refusal["code"], "no_consent");
    assert_eq!(
        phone_state(&b).await[1],
        serde_json::json!([["housing_office", "housing_search"]])
    );

    b.close().await;
    server.stop().await;
}

/// The pad's width in pixels and how many of its pixels carry the pen's ink.
async fn ink(b: &Browser) -> (u64, u64) {
    let seen = b
        .eval(
            "const c = document.querySelector(\"[data-testid='signature-pad']\");
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             let inked = 0;
             for (let i = 0; i < d.length; i += 4) {
               // The pen is nearly black; the line to sign on is grey.
               if (d[i + 3] > 200 && d[i] < 60 && d[i + 1] < 60) inked++;
             }
             return [c.width, inked];",
        )
        .await;
    (
        seen[0].as_u64().unwrap_or_default(),
        seen[1].as_u64().unwrap_or_default(),
    )
}

/// The shortest consent the flow takes: the notice, one purpose, no release, a signature.
async fn sign_a_short_consent(b: &Browser) {
    watch_sealing(b).await;
    click_testid(b, "take-consent").await;
    b.wait_for_xpath("//*[@data-testid='notice-title']").await;
    click_testid(b, "consent-next").await;
    tap(b, "input[data-purpose='photos']").await;
    click_testid(b, "consent-next").await;
    b.wait_for_xpath("//input[@data-release='housing_office']")
        .await;
    // A phone call, the page reloaded: the family goes on where it stopped (once the phone
    // has kept the screen they are on).
    wait_until("the consent draft kept at the releases", || async {
        let step = b
            .eval(
                "const id = 'consent-draft:' + location.pathname.split('/')[2];
                 const kept = (window.__sealed || []).filter((r) => r.key === id);
                 return kept.length ? kept[kept.length - 1].draft.step : null;",
            )
            .await;
        (step == 2).then_some(())
    })
    .await;
    phone::reload(b).await;
    b.wait_for_xpath("//input[@data-release='housing_office']")
        .await;
    click_testid(b, "consent-back").await;
    let kept = b
        .wait_for_xpath("//input[@data-purpose='photos']")
        .await
        .prop("checked")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("true"), "the ticked purpose is kept");
    click_testid(b, "consent-next").await;
    b.wait_for_xpath("//input[@data-release='housing_office']")
        .await;
    click_testid(b, "consent-next").await;
    b.wait_for_xpath("//*[@data-testid='consent-summary']")
        .await;
    set_value(b, "[data-testid='identity-check']", "passport").await;
    sign_with_a_finger(b).await;
    // The phone turns to landscape: the pad grows and the signature is drawn again to fit.
    let ink_before = ink(b).await;
    assert!(ink_before.1 > 0, "the signature shows");
    b.devtools(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({ "width": 740, "height": 360, "deviceScaleFactor": 1, "mobile": true }),
    )
    .await;
    let ink_after = wait_until("the pad drawn again at its new size", || async {
        let now = ink(b).await;
        (now.0 > ink_before.0 && now.1 > 0).then_some(now)
    })
    .await;
    assert!(ink_after.1 > 0, "the signature is still there");
    b.devtools(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({ "width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": true }),
    )
    .await;
    type_in(b, "#signer-name", "Emine Beispielova").await;
    click_testid(b, "consent-save").await;
    b.wait_for_xpath("//*[@data-testid='receipt']").await;
}

/// A consent changed on the phone after it was signed (a broken or tampered phone) is refused
/// by the server, which keeps nothing of it; the phone keeps it, and says why, until the
/// worker deals with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consent_changed_after_signing_is_refused_and_stays_on_the_phone_with_the_reason() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&b, &server, "ayse.w").await;
    record_synced_household(&b, "Familie Beispielova").await;
    open_case(&b, "Familie Beispielova").await;
    let case_id = b
        .eval("return location.pathname.split('/')[2];")
        .await
        .as_str()
        .expect("a case id")
        .to_owned();
    b.set_offline(true).await;
    watch_sealing(&b).await;
    tamper_once(
        &b,
        "(r) => {
           if (!(r.op_id && r.change && r.change.kind === 'consent')) return null;
           r.change.consent.purposes.push('school_contact');
           return r;
         }",
    )
    .await;
    sign_a_short_consent(&b).await;

    // One more purpose slipped into the waiting operation, its seal left as it was.
    let changed = b
        .eval(
            "return window.__sealed.filter((r) => r.op_id && r.change.kind === 'consent')
               .map((r) => r.change.consent.purposes);",
        )
        .await;
    assert_eq!(changed, serde_json::json!([["photos", "school_contact"]]));

    b.set_offline(false).await;
    click_testid(&b, "sync-now").await;
    tap(&b, "a.back").await;
    let refused = b
        .wait_for_xpath("//*[@data-testid='consent-records']//*[@data-sent='refused']")
        .await;
    let why = refused.text().await.unwrap();
    assert!(why.starts_with("Vom Server abgelehnt:"), "{why}");
    // In the worker's language, with what to do: the server's English stays out.
    assert!(why.contains("nach der Unterschrift verändert"), "{why}");
    assert!(!why.contains("signed"), "{why}");
    assert_eq!(outbox_count(&b).await, 1, "kept on the phone");
    let (status, held) = api(&b, "GET", &format!("/api/v1/cases/{case_id}/consent"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        held["records"],
        serde_json::json!([]),
        "the server keeps nothing"
    );
    // The settings list it with the other refused records.
    tap(&b, "nav a[href='/settings']").await;
    b.wait_for_xpath("//*[@data-testid='rejected-list']//li[contains(., 'Einwilligung')]")
        .await;

    b.close().await;
    server.stop().await;
}

/// The app's strings in `lang`, read from its source (`app/src/i18n/<lang>.rs`): name → words.
fn ui_strings(lang: Lang) -> std::collections::BTreeMap<String, String> {
    let path = cris_e2e::workspace_root().join(format!("app/src/i18n/{}.rs", lang.code()));
    let source = std::fs::read_to_string(&path).expect("the app's strings");
    source
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.trim().split_once(": \"")?;
            let words = rest.strip_suffix("\",")?;
            Some((name.to_owned(), words.replace("\\\"", "\"")))
        })
        .collect()
}

/// The German words of the app's strings that a page in `lang` shows: each string's parts
/// between placeholders, where the string differs in `lang` (the words the two languages
/// share, such as "online", do not count).
fn german_words_in(page: &str, lang: Lang) -> Vec<String> {
    let other = ui_strings(lang);
    let mut found = Vec::new();
    for (name, german) in ui_strings(Lang::De) {
        if other.get(&name) == Some(&german) {
            continue;
        }
        for part in german.split(['{', '}']).step_by(2) {
            let part = part.trim_matches(|c: char| c.is_whitespace() || ":.,()|".contains(c));
            // Short parts ("Fall", "bis") count as whole lines only.
            let seen = if part.chars().count() >= 8 {
                page.contains(part)
            } else {
                part.chars().count() >= 3 && page.lines().any(|l| l.trim() == part)
            };
            if seen {
                found.push(format!("{name}: {part:?}"));
            }
        }
    }
    found
}

/// What a page shows of `css`, as the eye reads it (`innerText`: hidden parts left out).
async fn shown_text(b: &Browser, css: &str) -> String {
    b.eval(&format!(
        "return [...document.querySelectorAll({css:?})].map((e) => e.innerText).join('\\n');"
    ))
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// A Turkish family releases one recipient only. The signature screen, the copy and its print
/// say that one is released and the four others are not, in Turkish, with no German word of
/// the app's on it; the witness is named with the agency; dates are written the Turkish way.
/// Later the family withdraws in Turkish, and the server keeps the language it was read in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turkish_family_reads_only_turkish_and_sees_what_was_not_released() {
    let consent = text(include_str!("../../forms/consent/consent.json"));
    let tr = ui_strings(Lang::Tr);
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&b, &server, "ayse.w").await;
    record_synced_household(&b, "Familie Yılmaztest").await;
    open_case(&b, "Familie Yılmaztest").await;
    let case_id = b
        .eval("return location.pathname.split('/')[2];")
        .await
        .as_str()
        .expect("a case id")
        .to_owned();

    click_testid(&b, "take-consent").await;
    b.wait_for_xpath("//*[@data-testid='consent-lang']").await;
    set_value(&b, "[data-testid='consent-lang']", "tr").await;
    b.wait_for_xpath(&format!(
        "//h1[normalize-space()={}]",
        xpath_literal(&tr["consent_title"])
    ))
    .await;
    // A started draft shows "discard": in Turkish too.
    click_testid(&b, "consent-next").await;
    tap(&b, "input[data-purpose='housing_search']").await;
    let family_page = shown_text(&b, "section.page").await;
    assert!(
        german_words_in(&family_page, Lang::Tr).is_empty(),
        "German on the family's screen: {:?}\n{family_page}",
        german_words_in(&family_page, Lang::Tr)
    );
    click_testid(&b, "consent-next").await;
    tap(&b, "input[data-release='housing_office']").await;
    release_to_the_housing_office(&b, &["housing"]).await;
    click_testid(&b, "consent-next").await;

    // What they are about to sign: one release, four recipients not released.
    b.wait_for_xpath("//*[@data-testid='consent-summary']")
        .await;
    let released =
        "return [...document.querySelectorAll(\"[data-testid='SCOPE'] [data-released]\")]
           .map((e) => [e.dataset.released, e.dataset.yes, e.querySelector('strong').innerText]);";
    let summary = b.eval(&released.replace("SCOPE", "consent-summary")).await;
    assert_eq!(summary.as_array().unwrap().len(), consent.recipients.len());
    set_value(&b, "[data-testid='identity-check']", "passport").await;
    sign_with_a_finger(&b).await;
    type_in(&b, "#signer-name", "Emine Yılmaztest").await;
    click_testid(&b, "consent-save").await;
    b.wait_for_xpath("//*[@data-testid='receipt'][@data-lang='tr']")
        .await;

    // The copy: exactly one recipient released, the others said not to be, in plain Turkish.
    let copy = b.eval(&released.replace("SCOPE", "receipt")).await;
    assert_eq!(
        copy, summary,
        "the copy says what the signature screen said"
    );
    for entry in copy.as_array().unwrap() {
        let (id, yes, words) = (
            entry[0].as_str().unwrap(),
            entry[1].as_str().unwrap(),
            entry[2].as_str().unwrap(),
        );
        let name = consent
            .recipients
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.title.get(Lang::Tr).to_owned())
            .unwrap();
        if id == "housing_office" {
            assert_eq!(yes, "true");
            assert_eq!(
                words,
                tr["receipt_release_yes"].replace("{recipient}", &name)
            );
        } else {
            assert_eq!(yes, "false", "{id} was not released");
            if !name.contains('{') {
                assert_eq!(
                    words,
                    tr["receipt_release_no"].replace("{recipient}", &name)
                );
            }
        }
    }
    let receipt = shown_text(&b, "section.page").await;
    let until = tr["receipt_until_date"].replace("{date}", "30.06.2030");
    assert!(
        receipt.contains(&until),
        "the day as Turkish writes it: {receipt}"
    );
    let records = consent
        .records
        .iter()
        .find(|k| k.id == "household")
        .unwrap();
    assert!(
        receipt.contains(
            &tr["receipt_release_withheld"].replace("{records}", records.title.get(Lang::Tr))
        ),
        "what was not released of the records: {receipt}"
    );
    let declined = consent.purposes.iter().find(|p| p.id == "photos").unwrap();
    assert!(
        receipt.contains(&format!(
            "{}: {}",
            tr["receipt_declined"],
            declined.title.get(Lang::Tr)
        )),
        "a purpose not agreed to says so: {receipt}"
    );
    assert!(
        receipt.contains(
            &tr["witness"].replace("{name}", "Ayşe Testfrau, Jobcenter Offenbach (Demo)")
        ),
        "the witness by name and agency: {receipt}"
    );
    assert!(!receipt.contains("ayse.w"), "no login on the copy");
    assert!(
        receipt.contains("dosyanız kapandıktan sonra 5 yıl"),
        "the agency's retention in Turkish: {receipt}"
    );
    let german = german_words_in(&receipt, Lang::Tr);
    assert!(
        german.is_empty(),
        "German on the copy: {german:?}\n{receipt}"
    );

    // The print view: the same words, without the buttons.
    b.devtools(
        "Emulation.setEmulatedMedia",
        serde_json::json!({ "media": "print" }),
    )
    .await;
    let printed = shown_text(&b, "body").await;
    assert!(printed.contains(&until), "{printed}");
    assert!(
        !printed.contains(&tr["receipt_print"]),
        "no buttons on paper"
    );
    for entry in copy.as_array().unwrap() {
        assert!(printed.contains(entry[2].as_str().unwrap()), "{printed}");
    }
    let german = german_words_in(&printed, Lang::Tr);
    assert!(german.is_empty(), "German on paper: {german:?}\n{printed}");
    b.devtools(
        "Emulation.setEmulatedMedia",
        serde_json::json!({ "media": "" }),
    )
    .await;

    // The withdrawal, months later: asked in the language the consent was read in.
    tap(&b, "a.back").await;
    click_testid(&b, "withdraw").await;
    let chosen = b.wait_for_xpath("//*[@data-testid='withdraw-lang']").await;
    assert_eq!(chosen.prop("value").await.unwrap().as_deref(), Some("tr"));
    b.wait_for_xpath(&format!(
        "//h1[normalize-space()={}]",
        xpath_literal(&tr["withdraw_title"])
    ))
    .await;
    let family_part = shown_text(&b, "section.page > :not(.worker-part)").await;
    let german = german_words_in(&family_part, Lang::Tr);
    assert!(
        german.is_empty(),
        "German for the family: {german:?}\n{family_part}"
    );
    tap(&b, "input[data-withdraw='all']").await;
    click_testid(&b, "withdraw-save").await;
    b.wait_for_xpath("//*[@data-testid='withdraw-problem'][not(@hidden)]")
        .await;
    let problem = shown_text(&b, "[data-testid='withdraw-problem']").await;
    assert_eq!(
        problem.trim(),
        tr["signer_missing"],
        "the family's problem in Turkish"
    );
    sign_with_a_finger(&b).await;
    type_in(&b, "[data-testid='withdraw-signer']", "Emine Yılmaztest").await;
    click_testid(&b, "withdraw-save").await;
    b.wait_for_xpath("//*[@data-testid='consent-none']").await;
    wait_for_sync_text(&b, "Alles synchronisiert").await;
    let held = wait_until("the withdrawal on the server", || async {
        let (_, held) = api(&b, "GET", &format!("/api/v1/cases/{case_id}/consent"), None).await;
        (held["records"].as_array().map_or(0, Vec::len) == 2).then_some(held)
    })
    .await;
    let records = held["records"].as_array().unwrap();
    let withdrawal = records
        .iter()
        .map(|r| &r["record"])
        .find(|r| r["record"] == "withdrawal")
        .expect("the withdrawal");
    assert_eq!(withdrawal["lang"], "tr", "{withdrawal}");
    assert_eq!(withdrawal["witness_name"], "Ayşe Testfrau");
    let signed = records
        .iter()
        .map(|r| &r["record"])
        .find(|r| r["record"] == "consent")
        .expect("the consent");
    assert_eq!(signed["witness_name"], "Ayşe Testfrau");

    b.close().await;
    server.stop().await;
}

/// Fills a new referral to the housing office for the housing search, sending `records`.
async fn refer_to_the_housing_office(b: &Browser, records: &[&str]) {
    click_testid(b, "referral-new").await;
    set_value(b, "[data-testid='referral-recipient']", "housing_office").await;
    set_value(b, "[data-testid='referral-purpose']", "housing_search").await;
    for record in records {
        tap(
            b,
            &format!("input[data-testid='referral-record'][value='{record}']"),
        )
        .await;
    }
    type_in(
        b,
        "[data-testid='referral-asked']",
        "Beratungstermin zur Wohnungssuche, fünf Personen",
    )
    .await;
}

/// An intake with a person, the housing situation and one goal agreed, synced.
async fn record_household_with_a_goal(b: &Browser, name: &str) {
    tap(b, "nav a[href='/intake/new']").await;
    b.wait_for_heading("Erstgespräch").await;
    type_into(b, "household_name", None, name).await;
    add_person(b, "Emine Testova", "1984-02-29").await;
    choose(b, "housing_situation", None, "sublet").await;
    add(b, "plan_goals").await;
    type_into(b, "goal", Some(0), "Deutschkurs beginnen").await;
    choose(b, "responsible", Some(0), "both").await;
    pick(b, "review_date", Some(0), "2027-03-01").await;
    click_testid(b, "finalize").await;
    b.wait_for_xpath("//*[@data-testid='saved']").await;
    wait_for_sync_text(b, "Alles synchronisiert").await;
}

/// The visible text of the element `testid`.
async fn text_of(b: &Browser, testid: &str) -> String {
    let el = b
        .wait_for_xpath(&format!("//*[@data-testid='{testid}']"))
        .await;
    el.text().await.unwrap()
}

/// A referral under the family's consent. Without a consent the phone warns before it is
/// sent, the server refuses it, and the phone keeps it with the reason and offers to take the
/// consent; once the family has released the housing office, it is sent again and stored. A
/// second referral made offline, which the consent carries, goes at the next sync. Its letter
/// carries the housing records only; the family's plan reads in Turkish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_goes_only_under_the_familys_consent() {
    let server = team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 360, 740, "de-DE").await;
    log_in(&b, &server, "ayse.w").await;
    record_household_with_a_goal(&b, "Familie Wohnungslos").await;
    open_case(&b, "Familie Wohnungslos").await;
    b.wait_for_xpath("//*[@data-testid='consent-none']").await;

    // No consent: the phone says so before it is sent; sent anyway, the server refuses it.
    refer_to_the_housing_office(&b, &["housing"]).await;
    b.wait_for_xpath(
        "//*[@data-testid='referral-no-consent'][contains(., 'nicht von der Schweigepflicht entbunden')]",
    )
    .await;
    click_testid(&b, "referral-send").await;
    let refused = b
        .wait_for_xpath(
            "//*[@data-testid='referral']//*[@data-testid='referral-refused'][contains(., 'nicht von der Schweigepflicht entbunden')]",
        )
        .await;
    assert!(!refused.text().await.unwrap().is_empty());
    let referral_id = b
        .eval("return document.querySelector(\"[data-testid='referral']\").dataset.referral;")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        server.store.referral_states(&referral_id).await.unwrap(),
        None
    );
    b.screenshot("referral-refused-without-consent.png").await;

    // The family releases the housing office for the housing search, with its housing records.
    click_testid(&b, "take-consent").await;
    b.wait_for_xpath("//*[@data-testid='notice-title']").await;
    click_testid(&b, "consent-next").await;
    tap(&b, "input[data-purpose='housing_search']").await;
    click_testid(&b, "consent-next").await;
    tap(&b, "input[data-release='housing_office']").await;
    release_to_the_housing_office(&b, &["housing"]).await;
    click_testid(&b, "consent-next").await;
    b.wait_for_xpath("//*[@data-testid='consent-summary']")
        .await;
    set_value(&b, "[data-testid='identity-check']", "id_card").await;
    sign_with_a_finger(&b).await;
    type_in(&b, "#signer-name", "Emine Beispielova").await;
    click_testid(&b, "consent-save").await;
    b.wait_for_xpath("//*[@data-testid='receipt']").await;

    // Sent again: stored, and no longer marked refused.
    open_case(&b, "Familie Wohnungslos").await;
    click_testid(&b, "referral-retry").await;
    wait_until("the referral stored", || async {
        server
            .store
            .referral_states(&referral_id)
            .await
            .unwrap()
            .filter(|(state, _)| state == "sent")
    })
    .await;
    wait_until("the refusal gone", || async {
        let left = b
            .eval("return document.querySelectorAll(\"[data-testid='referral-refused']\").length;")
            .await;
        (left == 0).then_some(())
    })
    .await;

    // Offline, a second referral the consent carries: no warning, sent at the next sync.
    b.set_offline(true).await;
    refer_to_the_housing_office(&b, &["housing"]).await;
    b.wait_for_xpath("//*[@data-testid='referral-send'][not(@disabled)]")
        .await;
    let warned = b
        .eval("return !!document.querySelector(\"[data-testid='referral-no-consent']\");")
        .await;
    assert_eq!(warned, false, "the consent carries it");
    click_testid(&b, "referral-send").await;
    b.wait_for_xpath("//*[@data-testid='referral'][2]//*[@data-sent='waiting']")
        .await;
    let second = b
        .eval("return document.querySelectorAll(\"[data-testid='referral']\")[1].dataset.referral;")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(server.store.referral_states(&second).await.unwrap(), None);
    b.set_offline(false).await;
    click_testid(&b, "sync-now").await;
    wait_until("the offline referral stored", || async {
        server.store.referral_states(&second).await.unwrap()
    })
    .await;

    // Moved on: an appointment, then done with the outcome.
    click_testid(&b, "referral-move").await;
    set_value(&b, "[data-testid='referral-new-state']", "done").await;
    type_in(&b, "[data-testid='referral-note']", "Wohnung in Aussicht").await;
    click_testid(&b, "referral-save-state").await;
    wait_until("the first referral done on the server", || async {
        server
            .store
            .referral_states(&referral_id)
            .await
            .unwrap()
            .filter(|(state, _)| state == "done")
    })
    .await;
    b.wait_for_xpath(&format!(
        "//*[@data-testid='referral'][@data-referral='{referral_id}'][@data-state='done']"
    ))
    .await;
    b.screenshot("referrals-on-the-case-page.png").await;

    // The open referral's letter: what the consent releases (housing), nothing else.
    tap(
        &b,
        &format!("[data-referral='{second}'] [data-testid='referral-letter']"),
    )
    .await;
    b.wait_for_xpath(
        "//*[@data-testid='letter']//*[@data-testid='letter-record'][@data-record='housing']",
    )
    .await;
    let letter = text_of(&b, "letter").await;
    for said in [
        "An: Wohnungsamt",
        "Wohnsituation",
        "Untermiete",
        "Ayşe Testfrau",
    ] {
        assert!(letter.contains(said), "{said} not in {letter}");
    }
    for never in ["Familie Wohnungslos", "Emine Testova", "Deutschkurs"] {
        assert!(!letter.contains(never), "{never} in {letter}");
    }
    let records = b
        .eval("return document.querySelectorAll(\"[data-testid='letter-record']\").length;")
        .await;
    assert_eq!(records, 1);
    let made = server.audited("referral_letter").await;
    assert_eq!(
        made,
        [Some("ayse.w".to_owned())],
        "the letter made is recorded"
    );
    b.screenshot("referral-letter.png").await;

    // The family's plan, in Turkish: the goal agreed, who does it, the open referral.
    open_case(&b, "Familie Wohnungslos").await;
    click_testid(&b, "open-plan").await;
    b.wait_for_xpath("//*[@data-testid='plan']").await;
    set_value(&b, "[data-testid='plan-lang']", "tr").await;
    b.wait_for_xpath("//*[@data-testid='plan'][@data-lang='tr']")
        .await;
    let plan = text_of(&b, "plan").await;
    for said in [
        "İşbirliği planımız",
        "Familie Wohnungslos",
        "Deutschkurs beginnen",
        "Kim: Aile ve vaka yöneticisi birlikte",
        "Konut dairesi",
        "Vaka yöneticiniz: Ayşe Testfrau",
    ] {
        assert!(plan.contains(said), "{said} not in {plan}");
    }
    assert!(
        !plan.contains("Untermiete"),
        "no records beyond the plan: {plan}"
    );
    b.screenshot("family-plan-in-turkish.png").await;

    // The family takes the housing office's release back: the open referral says so, offers
    // no letter, and the server makes none any more.
    let plan_url = b.client.current_url().await.unwrap();
    let case_path = plan_url.path().trim_end_matches("/plan").to_owned();
    let letter_url = plan_url
        .join(&format!("{case_path}/referrals/{second}/letter"))
        .unwrap();
    open_case(&b, "Familie Wohnungslos").await;
    click_testid(&b, "withdraw").await;
    tap(
        &b,
        "input[data-withdraw='recipient'][data-id='housing_office']",
    )
    .await;
    tap(&b, "input[data-given='attested']").await;
    type_in(&b, "[data-testid='withdraw-note']", "Am Telefon widerrufen").await;
    click_testid(&b, "withdraw-save").await;
    b.wait_for_xpath(&format!(
        "//*[@data-referral='{second}']//*[@data-testid='referral-not-released'][contains(., 'widerrufen')]"
    ))
    .await;
    let offered = b
        .eval("return document.querySelectorAll(\"[data-testid='referral-letter']\").length;")
        .await;
    assert_eq!(offered, 0, "no letter offered once withdrawn");
    wait_for_sync_text(&b, "Alles synchronisiert").await;
    phone::open(&b, letter_url.as_str()).await;
    let refused = text_of(&b, "letter-failed").await;
    assert!(refused.contains("nicht (mehr) frei"), "{refused}");
    let made = server.audited("referral_letter").await.len();
    assert_eq!(made, 1, "no second letter");
    b.close().await;
    server.stop().await;
}
