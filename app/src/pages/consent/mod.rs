use leptos::prelude::*;
use leptos_router::components::A;

use super::case_id;
use crate::i18n::use_i18n;

#[component]
pub fn Consent() -> impl IntoView {
    let i18n = use_i18n();
    let id = case_id();
    view! {
        <section class="page">
            <h1>{i18n.t(|u| u.consent_title)}</h1>
            <p>{i18n.t(|u| u.consent_body)}</p>
            <p class="notice">{i18n.t(|u| u.not_yet)}</p>
            <A href=move || format!("/cases/{}", id.get()) attr:class="back">
                {i18n.t(|u| u.case_title)} " " <span class="mono">{id}</span>
            </A>
        </section>
    }
}
