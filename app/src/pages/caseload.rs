use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::use_i18n;

/// The worker's cases. Nothing is stored on the phone yet, so this is the empty state.
#[component]
pub fn Caseload() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="page">
            <h1>{i18n.t(|u| u.caseload_title)}</h1>
            <div class="empty" data-testid="caseload-empty">
                <h2>{i18n.t(|u| u.caseload_empty_title)}</h2>
                <p>{i18n.t(|u| u.caseload_empty_body)}</p>
                <A href="/intake/new" attr:class="btn btn-primary">
                    {i18n.t(|u| u.start_intake)}
                </A>
            </div>
        </section>
    }
}
