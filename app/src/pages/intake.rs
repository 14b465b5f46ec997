use leptos::prelude::*;

use crate::i18n::use_i18n;

#[component]
pub fn NewIntake() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="page">
            <h1>{i18n.t(|u| u.intake_title)}</h1>
            <p>{i18n.t(|u| u.intake_body)}</p>
            <p class="notice">{i18n.t(|u| u.not_yet)}</p>
        </section>
    }
}
