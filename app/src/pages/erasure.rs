//! On a household's page, for administrators online: erasing it on the family's request
//! (GDPR Art. 17). First the server says what would go (forms by form, consents, the
//! households merged into it); the erasure needs a reason and each merged household ticked.
//! Done, the phone syncs: the household leaves it as it leaves every other phone.

use std::collections::BTreeSet;

use cris_core::api::{ErasurePreview, ErasureRequest, Role};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::forms::use_forms;
use crate::i18n::use_i18n;
use crate::sync::{api, use_sync};

/// Nothing for anyone but an administrator.
#[component]
pub fn EraseHousehold(case_id: String) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let admin = move || {
        sync.session
            .with(|s| s.as_ref().is_some_and(|s| s.user.role == Role::Admin))
    };
    let preview = RwSignal::new(None::<ErasurePreview>);
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let ticked = RwSignal::new(BTreeSet::<String>::new());
    let token = move || {
        sync.session
            .with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
    };
    let failed = move |f: crate::sync::Failure| {
        problem.set(Some(super::review::failure_text(i18n, &f)));
        busy.set(false);
    };
    let id = case_id.clone();
    let open = move |_| {
        let (id, Some(token)) = (id.clone(), token()) else {
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::erasure_preview(&token, &id).await {
                Ok(p) => {
                    problem.set(None);
                    preview.set(Some(p));
                    busy.set(false);
                }
                Err(f) => failed(f),
            }
        });
    };
    let navigate = use_navigate();
    let id = case_id.clone();
    let confirm = move |_| {
        let (id, Some(token)) = (id.clone(), token()) else {
            return;
        };
        let request = ErasureRequest {
            reason: reason.get_untracked().trim().to_owned(),
            with_merged: ticked.get_untracked().into_iter().collect(),
        };
        busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match api::erase(&token, &id, &request).await {
                Ok(_) => {
                    // The erasure comes back with the pull, as on every phone: the household
                    // leaves this one too, and the notice says so.
                    sync.request(false);
                    navigate("/", Default::default());
                }
                Err(f) => failed(f),
            }
        });
    };
    let ready = move || {
        !busy.get()
            && !reason.with(|r| r.trim().is_empty())
            && preview.with(|p| {
                p.as_ref().is_some_and(|p| {
                    ticked.with(|t| p.merged.iter().all(|m| t.contains(&m.case_id)))
                })
            })
    };
    let catalog = use_forms();
    let what = move || {
        preview.get().map(|p| {
            let lang = i18n.lang.get();
            let forms = p
                .forms
                .iter()
                .map(|(form, n)| view! { <li>{catalog.title(form, lang)} ": " {*n}</li> })
                .collect_view();
            let merged = p
                .merged
                .iter()
                .map(|m| {
                    let id = m.case_id.clone();
                    let name = if m.household.is_empty() {
                        i18n.t(|u| u.unnamed_household)().to_owned()
                    } else {
                        m.household.clone()
                    };
                    view! {
                        <li>
                            <label>
                                <input type="checkbox" data-testid="erase-merged" on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    ticked.update(|t| {
                                        if on {
                                            t.insert(id.clone());
                                        } else {
                                            t.remove(&id);
                                        }
                                    });
                                }/>
                                " " {name}
                            </label>
                        </li>
                    }
                })
                .collect_view();
            let has_merged = !p.merged.is_empty();
            view! {
                <div class="erase-ask" data-testid="erase-ask">
                    <p><strong>{i18n.t(|u| u.erase_what)}</strong></p>
                    <ul data-testid="erase-forms">{forms}</ul>
                    <p data-testid="erase-consents">
                        {i18n.t(|u| u.erase_consents)().replace("{n}", &p.consents.to_string())}
                    </p>
                    <p>{i18n.t(|u| u.erase_other)().replace("{n}", &p.other.to_string())}</p>
                    <p class="small">{i18n.t(|u| u.erase_everywhere)}</p>
                    {has_merged.then(|| view! {
                        <p><strong>{i18n.t(|u| u.erase_merged)}</strong></p>
                        <ul>{merged}</ul>
                    })}
                    <div class="field">
                        <label for="erase-reason">{i18n.t(|u| u.erase_reason)}</label>
                        <textarea
                            autocomplete="off"
                            id="erase-reason"
                            data-testid="erase-reason"
                            maxlength="1000"
                            prop:value=move || reason.get()
                            on:input=move |ev| reason.set(event_target_value(&ev))
                        ></textarea>
                    </div>
                    <div class="actions">
                        <button type="button" class="btn btn-danger" data-testid="erase-confirm" disabled=move || !ready() on:click=confirm.clone()>
                            {i18n.t(|u| u.erase_confirm)}
                        </button>
                        <button type="button" class="btn" on:click=move |_| preview.set(None)>
                            {i18n.t(|u| u.merge_cancel)}
                        </button>
                    </div>
                </div>
            }
        })
    };
    view! {
        <Show when=admin>
            <section class="erase" data-testid="erase">
                <p class="actions" hidden=move || preview.with(Option::is_some)>
                    <button type="button" class="btn" data-testid="erase-open" disabled=move || busy.get() on:click=open.clone()>
                        {i18n.t(|u| u.erase_open)}
                    </button>
                </p>
                {what.clone()}
                <p class="error" role="alert" data-testid="erase-problem" hidden=move || problem.with(Option::is_none)>
                    {move || problem.get()}
                </p>
            </section>
        </Show>
    }
}
