//! A family signs a consent on the worker's phone, offline, in Bulgarian: the notice, two of
//! three purposes, a release for the housing office, a signature drawn with a finger. The
//! copy for the family shows the Bulgarian text and the signature; after the sync the server
//! holds the record with the same hash, refuses a forged change of it, and after a withdrawal
//! of one purpose the case page and the server agree on what the family has agreed to.

use std::time::Duration;

use cris_core::Lang;
use cris_core::consent::text::ConsentText;
use cris_e2e::phone::{
    self, PASSWORD, log_in, open_case, outbox_count, record_synced_household, tamper_once,
    team_server, wait_for_sync_text, watch_sealing,
};
use cris_e2e::ui::{click_testid, tap};
use cris_e2e::{Browser, Chromedriver, wait_until, xpath_literal};
use fantoccini::Locator;
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
    let release = "fieldset[data-recipient='housing_office']";
    tap(&b, &format!("{release} input[data-record='household']")).await;
    tap(&b, &format!("{release} input[data-record='housing']")).await;
    set_value(
        &b,
        &format!("{release} select[data-release-purpose]"),
        "housing_search",
    )
    .await;
    tap(&b, &format!("{release} input[data-duration='until']")).await;
    set_value(
        &b,
        &format!("{release} input[data-release-until]"),
        "2030-06-30",
    )
    .await;
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
    b.client
        .find(Locator::Id("signer-name"))
        .await
        .unwrap()
        .send_keys("Фатме Тестова")
        .await
        .unwrap();
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
    b.client
        .find(Locator::Css("[data-testid='withdraw-note']"))
        .await
        .unwrap()
        .send_keys("Am Telefon am Vormittag widerrufen")
        .await
        .unwrap();
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
    b.client
        .find(Locator::Id("signer-name"))
        .await
        .unwrap()
        .send_keys("Emine Beispielova")
        .await
        .unwrap();
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
