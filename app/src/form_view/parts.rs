//! The parts of the form editor around the fields: the problems that keep a form from being
//! finalized, the reason of a correction, and the team of a new household.

use std::sync::Arc;

use cris_core::form::FormDef;
use cris_core::record::{MAX_REASON_CHARS, Submission};
use leptos::prelude::*;

use super::fields;
use super::focus_field;
use super::state::{FormState, Loc};
use crate::clock::date_time;
use crate::i18n::use_i18n;

/// What keeps the form from being finalized, each linked to its field; shown once
/// finalizing was tried.
#[component]
pub(super) fn Problems(form: Arc<FormDef>, st: FormState) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        if !st.show_all.get() {
            return None;
        }
        let lang = i18n.lang.get();
        let problems = st.checked.with(|c| c.problems.clone());
        if problems.is_empty() {
            return None;
        }
        let items = problems
            .into_iter()
            .map(|p| {
                let loc = Loc::new(&p.field, p.instance.clone());
                let label = form
                    .field(&p.field)
                    .map(|f| f.label.get(lang).to_owned())
                    .unwrap_or_else(|| p.field.clone());
                let place = p
                    .instance
                    .as_ref()
                    .map(|(_, i)| format!(" ({})", i + 1))
                    .unwrap_or_default();
                let message = p.message(&form, lang);
                let target = fields::field_id(&loc);
                let href = format!("#{target}");
                // The field below the sticky header, the finger in its control.
                let go = move |ev: leptos::ev::MouseEvent| {
                    if let Some(field) = document().get_element_by_id(&target) {
                        ev.prevent_default();
                        focus_field(&field);
                    }
                };
                view! {
                    <li>
                        <a href=href on:click=go>{label}{place}</a>
                        ": "
                        {message}
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <div class="problems" role="alert" data-testid="problems">
                <p>{i18n.t(|u| u.finalize_problems)}</p>
                <ul>{items}</ul>
            </div>
        })
    }
}

/// The reason a correction of the form `earlier` is made: typed above the form, saved with
/// the draft, and required.
#[component]
pub(super) fn CorrectionReason(
    earlier: Submission,
    reason: RwSignal<String>,
    reason_missing: RwSignal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let when = date_time(earlier.finalized_at_ms);
    view! {
        <div class="correction" data-testid="correction">
            <p>{move || i18n.t(|u| u.correction_of)().replace("{date}", &when)}</p>
            <div class="field" class:invalid=move || reason_missing.get()>
                <label for="correction-reason">
                    {i18n.t(|u| u.correction_reason)}
                    <span class="req" aria-label=i18n.t(|u| u.required)>" *"</span>
                </label>
                <textarea
                    autocomplete="off"
                    id="correction-reason"
                    rows="2"
                    maxlength=MAX_REASON_CHARS.to_string()
                    aria-describedby="correction-reason-error"
                    aria-invalid=move || reason_missing.get().to_string()
                    data-testid="correction-reason"
                    prop:value=move || reason.get()
                    on:input=move |ev| {
                        reason.set(event_target_value(&ev));
                        reason_missing.set(false);
                    }
                ></textarea>
                <p class="error" id="correction-reason-error" role="alert">
                    {move || reason_missing.get().then(|| i18n.t(|u| u.correction_reason_missing)())}
                </p>
            </div>
        </div>
    }
}

/// Whose a new household is, for someone in several teams: only that team sees it.
#[component]
pub(super) fn TeamChoice(
    teams: Vec<String>,
    team: RwSignal<String>,
    team_missing: RwSignal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let options = teams
        .iter()
        .map(|t| view! { <option value=t.clone()>{t.clone()}</option> })
        .collect_view();
    view! {
        <div class="field" class:invalid=move || team_missing.get() data-testid="intake-team-field">
            <label for="intake-team">
                {i18n.t(|u| u.intake_team)}
                <span class="req" aria-label=i18n.t(|u| u.required)>" *"</span>
            </label>
            <p class="hint" id="intake-team-hint">{i18n.t(|u| u.intake_team_hint)}</p>
            <select
                id="intake-team"
                data-testid="intake-team"
                aria-describedby="intake-team-hint intake-team-error"
                aria-invalid=move || team_missing.get().to_string()
                prop:value=move || team.get()
                on:change=move |ev| {
                    team.set(event_target_value(&ev));
                    team_missing.set(false);
                }
            >
                <option value="">"–"</option>
                {options}
            </select>
            <p class="error" id="intake-team-error" role="alert">
                {move || team_missing.get().then(|| i18n.t(|u| u.intake_team_missing)())}
            </p>
        </div>
    }
}
