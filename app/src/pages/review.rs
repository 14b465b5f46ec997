use leptos::prelude::*;

use crate::i18n::use_i18n;

#[component]
pub fn Review() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="page">
            <h1>{i18n.t(|u| u.review_title)}</h1>
            <p>{i18n.t(|u| u.review_body)}</p>
            <div class="empty">
                <p>{i18n.t(|u| u.review_empty)}</p>
            </div>
        </section>
    }
}
