use leptos::prelude::*;
use leptos_router::components::A;

use super::case_id;
use crate::i18n::use_i18n;

/// A household's page. No case is stored on the phone yet, so every id is "not found" here,
/// while the links to the case's visit and consent screens already work.
#[component]
pub fn CaseDetail() -> impl IntoView {
    let i18n = use_i18n();
    let id = case_id();
    view! {
        <section class="page">
            <h1>{i18n.t(|u| u.case_title)} " " <span class="mono">{id}</span></h1>
            <p class="notice">{i18n.t(|u| u.case_not_found)}</p>
            <div class="actions">
                <A href=move || format!("/cases/{}/visit", id.get()) attr:class="btn">
                    {i18n.t(|u| u.visit_title)}
                </A>
                <A href=move || format!("/cases/{}/consent", id.get()) attr:class="btn">
                    {i18n.t(|u| u.consent_title)}
                </A>
            </div>
            <A href="/" attr:class="back">{i18n.t(|u| u.back_to_caseload)}</A>
        </section>
    }
}
