use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::use_i18n;

#[component]
pub fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="page">
            <h1>{i18n.t(|u| u.not_found_title)}</h1>
            <p>{i18n.t(|u| u.not_found_body)}</p>
            <A href="/" attr:class="back">{i18n.t(|u| u.back_to_caseload)}</A>
        </section>
    }
}
