//! Closing a household's case, with a reason, and reopening it. Each is an operation in the
//! outbox, like a merge: the server checks it, and every phone follows at its next sync (a
//! closed household leaves the workers' phones; see [`crate::storage::Departed`]).

use cris_core::record::{Case, Change, CloseReason};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::i18n::{I18n, use_i18n};
use crate::sync::use_sync;

/// A reason as the worker reads it.
pub fn reason_text(i18n: I18n, reason: CloseReason) -> impl Fn() -> &'static str + Copy {
    move || reason_words(crate::i18n::ui(i18n.lang.get()), reason)
}

/// A closing's reason in the words of `u`.
pub fn reason_words(u: &'static crate::i18n::Ui, reason: CloseReason) -> &'static str {
    match reason {
        CloseReason::MovedAway => u.close_moved_away,
        CloseReason::LeftBenefits => u.close_left_benefits,
        CloseReason::GoalsReached => u.close_goals_reached,
        CloseReason::NoContact => u.close_no_contact,
        CloseReason::Other => u.close_other,
    }
}

/// Keeps `change` of the household `case_id`, syncs, and goes to `then` (if any); `failed`
/// gets the reason when the device could not keep it.
fn act(case_id: String, change: Change, failed: RwSignal<Option<String>>, then: Option<String>) {
    let sync = use_sync();
    let navigate = use_navigate();
    leptos::task::spawn_local(async move {
        match super::merge::save_change(&case_id, |_| change).await {
            Ok(()) => {
                failed.set(None);
                sync.request(false);
                sync.changed.update(|n| *n += 1);
                if let Some(path) = then {
                    navigate(&path, Default::default());
                }
            }
            Err(e) => failed.set(Some(e.to_string())),
        }
    });
}

/// On a household's page: that its case is closed and why, with its reopening; or the
/// closing, which asks why and says what follows before it is done. Nothing for a household
/// merged into another (its case is the other's).
pub fn closing_view(case: &Case, merged: bool) -> impl IntoView + use<> {
    let i18n = use_i18n();
    let failed = RwSignal::new(None::<String>);
    let case_id = case.id.clone();
    let failure = move || {
        failed.get().map(|e| {
            view! {
                <p class="error" role="alert" data-testid="closing-failed">
                    {i18n.t(|u| u.merge_failed)().replace("{error}", &e)}
                </p>
            }
        })
    };
    if merged {
        return ().into_any();
    }
    if let Some((close, reason)) = case.closed() {
        let close = close.to_owned();
        let text = reason_text(i18n, reason);
        return view! {
            <div class="banner" role="status" data-testid="case-closed" data-reason=reason.as_str()>
                <span>{move || i18n.t(|u| u.case_closed)().replace("{reason}", text())}</span>
                " "
                <button
                    type="button"
                    class="btn btn-small"
                    data-testid="case-reopen"
                    on:click=move |_| {
                        act(case_id.clone(), Change::Reopen { close: close.clone() }, failed, None)
                    }
                >
                    {i18n.t(|u| u.case_reopen)}
                </button>
                {failure}
            </div>
        }
        .into_any();
    }
    let asking = RwSignal::new(false);
    let chosen = RwSignal::new(None::<CloseReason>);
    let confirm = move |_| {
        if let Some(reason) = chosen.get_untracked() {
            act(
                case_id.clone(),
                Change::Close { reason },
                failed,
                Some("/".to_owned()),
            );
        }
    };
    view! {
        <div class="closing">
            <button
                type="button"
                class="btn btn-quiet"
                data-testid="case-close"
                hidden=move || asking.get()
                on:click=move |_| asking.set(true)
            >
                {i18n.t(|u| u.case_close)}
            </button>
            <Show when=move || asking.get()>
                <fieldset class="close-ask" data-testid="close-ask">
                    <legend>{i18n.t(|u| u.case_close_reason)}</legend>
                    {choices(i18n, chosen)}
                    <p class="hint">{i18n.t(|u| u.case_close_hint)}</p>
                    <div class="actions">
                        <button
                            type="button"
                            class="btn btn-primary"
                            data-testid="close-confirm"
                            disabled=move || chosen.get().is_none()
                            on:click=confirm.clone()
                        >
                            {i18n.t(|u| u.case_close_confirm)}
                        </button>
                        <button
                            type="button"
                            class="btn"
                            data-testid="close-cancel"
                            on:click=move |_| {
                                chosen.set(None);
                                asking.set(false);
                            }
                        >
                            {i18n.t(|u| u.merge_cancel)}
                        </button>
                    </div>
                </fieldset>
            </Show>
            {failure}
        </div>
    }
    .into_any()
}

/// The reasons to choose from, one radio button each.
fn choices(i18n: I18n, chosen: RwSignal<Option<CloseReason>>) -> impl IntoView {
    CloseReason::ALL
        .into_iter()
        .map(|reason| {
            let text = reason_text(i18n, reason);
            view! {
                <label class="choice">
                    <input
                        type="radio"
                        name="close-reason"
                        value=reason.as_str()
                        data-testid="close-reason"
                        on:change=move |_| chosen.set(Some(reason))
                    />
                    <span>{text}</span>
                </label>
            }
        })
        .collect_view()
}

/// On the overview: the households whose case is closed now, by why.
pub fn closed_counts_view(
    closed: &std::collections::BTreeMap<CloseReason, u64>,
) -> impl IntoView + use<> {
    let i18n = use_i18n();
    if closed.is_empty() {
        return view! { <p data-testid="closed-none">{i18n.t(|u| u.overview_closed_none)}</p> }
            .into_any();
    }
    let rows = closed
        .iter()
        .map(|(reason, n)| {
            let text = reason_text(i18n, *reason);
            view! {
                <tr data-reason=reason.as_str() data-count=n.to_string()>
                    <th scope="row">{text}</th>
                    <td>{*n}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="counts" data-testid="closed-counts">
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
