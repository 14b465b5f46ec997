use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::case_id;
use crate::clock::new_id;

/// `/intake/new`: starts a new intake draft under an id of its own, so that a reload finds
/// the very same draft.
#[component]
pub fn NewIntake() -> impl IntoView {
    start(|| "form=intake".to_owned())
}

/// `/cases/:id/visit`: starts a new home-visit draft for the case.
#[component]
pub fn NewVisit() -> impl IntoView {
    let id = case_id();
    start(move || format!("form=home_visit&case={}", id.get_untracked()))
}

fn start(query: impl Fn() -> String + 'static) -> impl IntoView {
    let navigate = use_navigate();
    let to = format!("/drafts/{}?{}", new_id(), query());
    // In place of this address, once the router has written it into the history: replacing
    // it while the navigation here is still under way would replace the page the worker came
    // from instead, and Back would skip it.
    set_timeout(
        move || navigate(&to, crate::form_view::in_place()),
        std::time::Duration::ZERO,
    );
}
