//! Working a form on the phone as a finger would: tap, type, pick and read what is shown.
//! Fields are found by `data-field` (and `data-instance` inside repeat groups).

use fantoccini::Locator;
use serde_json::Value;

use crate::{Browser, wait_until};

/// The CSS selector of the input of `field` (in instance `i` of its repeat group).
pub fn input(field: &str, instance: Option<usize>) -> String {
    match instance {
        None => format!("[data-field='{field}']:not([data-instance]) :is(input, textarea, select)"),
        Some(i) => {
            format!("[data-field='{field}'][data-instance='{i}'] :is(input, textarea, select)")
        }
    }
}

/// Taps an element as a finger would: scrolled to the middle of the screen first, where the
/// bottom tabs do not cover it. A page still growing below it may leave it under the tabs for
/// a moment (it cannot scroll up yet): the tap is tried again once it can, as a person would.
pub async fn tap(b: &Browser, css: &str) {
    let tapped = wait_until(&format!("{css} on screen and tapped"), || async {
        let el = b.client.find(Locator::Css(css)).await.ok()?;
        b.eval(&format!(
            "document.querySelector({css:?}).scrollIntoView({{ block: 'center' }}); return true;"
        ))
        .await;
        match el.click().await {
            Ok(()) => Some(Ok(())),
            Err(e) if e.to_string().contains("intercepted") => None,
            Err(e) => Some(Err(e)),
        }
    })
    .await;
    tapped.unwrap_or_else(|e| panic!("tap {css}: {e}"));
}

/// Types `text` into a field with real key presses.
pub async fn type_into(b: &Browser, field: &str, instance: Option<usize>, text: &str) {
    let css = input(field, instance);
    let el = wait_until(&format!("the input of {field}"), || async {
        b.client.find(Locator::Css(&css)).await.ok()
    })
    .await;
    el.send_keys(text).await.expect("type");
}

/// Sets a date or time input the way the browser's picker does (its keyboard entry depends
/// on the locale), firing the same `input` event.
pub async fn pick(b: &Browser, field: &str, instance: Option<usize>, value: &str) {
    let css = input(field, instance);
    let done = b
        .eval(&format!(
            "const el = document.querySelector({css:?});
             if (!el) return false;
             el.value = {value:?};
             el.dispatchEvent(new Event('input', {{ bubbles: true }}));
             return true;"
        ))
        .await;
    assert_eq!(done, true, "no input for {field} {instance:?}");
}

/// Ticks the radio button or checkbox of `value`, or picks it from the list of a long one.
pub async fn choose(b: &Browser, field: &str, instance: Option<usize>, value: &str) {
    let select = input(field, instance).replace(":is(input, textarea, select)", "select");
    if let Ok(list) = b.client.find(Locator::Css(&select)).await {
        list.select_by_value(value)
            .await
            .expect("pick from the list");
        return;
    }
    let css = input(field, instance).replace(
        ":is(input, textarea, select)",
        &format!("input[value='{value}']"),
    );
    tap(b, &css).await;
}

pub async fn value_of(b: &Browser, field: &str, instance: Option<usize>) -> Value {
    let css = input(field, instance);
    b.eval(&format!(
        "const el = document.querySelector({css:?}); return el ? el.value : null;"
    ))
    .await
}

pub async fn add(b: &Browser, repeat: &str) {
    tap(b, &format!("button[data-add='{repeat}']")).await;
}

/// Types `text` into the element at `css`, as a keyboard does.
pub async fn type_in(b: &Browser, css: &str, text: &str) {
    b.client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("nothing to type into at {css}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

pub async fn click_testid(b: &Browser, id: &str) {
    tap(b, &format!("[data-testid='{id}']")).await;
}

/// The text of the error shown under a field.
pub async fn error_of(b: &Browser, field: &str, instance: Option<usize>) -> String {
    let css = match instance {
        None => format!("[data-field='{field}']:not([data-instance]) .error"),
        Some(i) => format!("[data-field='{field}'][data-instance='{i}'] .error"),
    };
    let text = b
        .eval(&format!(
            "const el = document.querySelector({css:?}); return el ? el.textContent : null;"
        ))
        .await;
    text.as_str().unwrap_or_default().to_owned()
}

/// Today's date (UTC) as a date input holds it.
pub fn today() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    cris_core::Date::from_days((now / 86_400) as i32).to_string()
}

/// Sets the `<select>` with this `data-testid` as a person choosing an option does.
pub async fn select(b: &Browser, testid: &str, value: &str) {
    b.eval(&format!(
        "const s = document.querySelector(\"[data-testid='{testid}']\");
         s.value = '{value}';
         s.dispatchEvent(new Event('change', {{ bubbles: true }}));
         return true;"
    ))
    .await;
}

/// Adds a person to an intake's household: a new entry of the members with a name and a
/// date of birth (an intake needs at least one).
pub async fn add_person(b: &Browser, name: &str, dob: &str) {
    let i = b
        .eval("return document.querySelectorAll(\"[data-of='members'].instance\").length;")
        .await
        .as_u64()
        .expect("a count") as usize;
    add(b, "members").await;
    type_into(b, "member_name", Some(i), name).await;
    pick(b, "dob", Some(i), dob).await;
}

/// Makes the server's answers to the requests whose address contains every one of `parts`
/// arrive `ms` later than they do, as on a slow network: for testing that a late answer for
/// a choice since changed is never shown. See [`late_answers_arrived`].
pub async fn delay_answers(b: &Browser, parts: &[&str], ms: u64) {
    let parts = serde_json::to_string(parts).expect("JSON");
    b.eval(&format!(
        "const real = window.fetch;
         const parts = {parts};
         window.fetch = (input, init) => {{
           const url = typeof input === 'string' ? input : input.url;
           const answer = real(input, init);
           if (!parts.every((p) => url.includes(p))) return answer;
           window.__lateAnswers = (window.__lateAnswers || 0) + 1;
           return answer.then((r) => new Promise((done) => setTimeout(() => {{
             window.__lateArrived = (window.__lateArrived || 0) + 1;
             done(r);
           }}, {ms})));
         }};
         return true;"
    ))
    .await;
}

/// Waits until every answer [`delay_answers`] held back has arrived and the page has had its
/// frames to show it, if it would.
pub async fn late_answers_arrived(b: &Browser) {
    crate::wait_until("the late answers", || async {
        let arrived = b
            .eval(
                "if (!window.__lateAnswers || window.__lateArrived !== window.__lateAnswers) return false;
                 await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
                 await new Promise((r) => setTimeout(r, 100));
                 return true;",
            )
            .await;
        (arrived == true).then_some(())
    })
    .await;
}
