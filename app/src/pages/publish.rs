//! Publishing a form (administrators, on the settings page): an XLSForm or a JSON definition
//! chosen from the computer, checked by the server, which lists every problem by sheet, row and
//! column, or serves it at once; phones take it at their next sync.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::i18n::use_i18n;
use crate::sync::{api, use_sync};

/// What came of the last upload.
#[derive(Clone)]
enum Outcome {
    Published { title: String, version: u32 },
    Problems(Vec<String>),
    Failed(String),
}

#[component]
pub fn PublishForms() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let chosen = RwSignal::new(None::<web_sys::File>);
    let outcome = RwSignal::new(None::<Outcome>);
    let busy = RwSignal::new(false);
    let choose = move |ev: leptos::ev::Event| {
        let file = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0));
        chosen.set(file);
        outcome.set(None);
    };
    let publish = move |_| {
        let Some(file) = chosen.get_untracked() else {
            return;
        };
        let token = sync
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.token.clone()));
        let lang = i18n.lang.get_untracked();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let xlsx = file.name().to_ascii_lowercase().ends_with(".xlsx");
            let bytes = match JsFuture::from(file.array_buffer()).await {
                Ok(buffer) => js_sys::Uint8Array::new(&buffer).to_vec(),
                Err(_) => Vec::new(),
            };
            let result = match token {
                Some(token) => api::publish_form(&token, bytes, xlsx).await,
                None => Err(crate::sync::Failure::Unauthorized),
            };
            outcome.set(Some(match result {
                Ok(Ok(summary)) => Outcome::Published {
                    title: summary.title.get(lang).to_owned(),
                    version: summary.version,
                },
                // "3 problem(s) in the XLSForm:" and a line for each.
                Ok(Err(problems)) => Outcome::Problems(
                    problems
                        .lines()
                        .filter(|l| !l.ends_with("in the XLSForm:"))
                        .map(str::to_owned)
                        .collect(),
                ),
                Err(failure) => Outcome::Failed(crate::refusal::failure(lang, &failure)),
            }));
            busy.set(false);
        });
    };
    view! {
        <h2>{i18n.t(|u| u.publish_title)}</h2>
        <p class="hint">{i18n.t(|u| u.publish_hint)}</p>
        <div class="field">
            <input type="file" accept=".xlsx,.json" data-testid="publish-file" on:change=choose/>
        </div>
        <button type="button" class="btn btn-primary" data-testid="publish-form"
            disabled=move || busy.get() || chosen.with(Option::is_none) on:click=publish>
            {i18n.t(|u| u.publish_button)}
        </button>
        {move || outcome.get().map(|o| match o {
            Outcome::Published { title, version } => view! {
                <p class="notice" role="status" data-testid="published">
                    {i18n.t(|u| u.publish_done)().replace("{title}", &title).replace("{version}", &version.to_string())}
                </p>
            }.into_any(),
            Outcome::Problems(lines) => view! {
                <div class="problems" role="alert">
                    <p>{i18n.t(|u| u.publish_problems)}</p>
                    <ul data-testid="publish-problems">
                        {lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
                    </ul>
                </div>
            }.into_any(),
            Outcome::Failed(why) => view! {
                <p class="error" role="alert" data-testid="publish-failed">{why}</p>
            }.into_any(),
        })}
    }
}
