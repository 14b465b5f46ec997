use cris_core::record::Change;
use leptos::prelude::*;

use leptos_router::hooks::use_navigate;

use crate::clock::now_ms;
use crate::form_view::storage_message;
use crate::forms::use_forms;
use crate::i18n::use_i18n;
use crate::pwa::PwaStatus;
use crate::refusal;
use crate::shell::LanguagePicker;
use crate::storage::{self, Persistence};
use crate::sync::use_sync;

#[component]
pub fn Settings() -> impl IntoView {
    let i18n = use_i18n();
    let status = expect_context::<PwaStatus>();
    let persistence = expect_context::<RwSignal<Option<Persistence>>>();
    let sync = use_sync();
    let admin = move || {
        sync.session.with(|s| {
            s.as_ref()
                .is_some_and(|s| s.user.role == cris_core::api::Role::Admin)
        })
    };
    view! {
        <section class="page">
            <h1>{i18n.t(|u| u.settings_title)}</h1>
            <div class="field">
                <label for="lang-settings">{i18n.t(|u| u.language)}</label>
                <LanguagePicker id="lang-settings"/>
                <p class="hint">{i18n.t(|u| u.language_hint)}</p>
            </div>
            <Account/>
            <Protection/>
            <SyncDetails/>
            <Show when=admin>
                {crate::parts::piece(crate::parts::publish)}
            </Show>
            <h2>{i18n.t(|u| u.offline_use)}</h2>
            <p data-testid="offline-ready">
                {move || {
                    if status.offline_ready.get() {
                        i18n.t(|u| u.offline_ready)()
                    } else {
                        i18n.t(|u| u.offline_not_ready)()
                    }
                }}
            </p>
            <p data-testid="persistence">
                {move || {
                    persistence
                        .get()
                        .map(|p| match p {
                            Persistence::Persistent => i18n.t(|u| u.storage_kept)(),
                            Persistence::BestEffort => i18n.t(|u| u.storage_best_effort)(),
                            Persistence::Unknown => i18n.t(|u| u.storage_unknown)(),
                        })
                }}
            </p>
            <h2>{i18n.t(|u| u.app_version)}</h2>
            <p class="mono">{env!("CARGO_PKG_VERSION")}</p>
        </section>
    }
}

/// Who is logged in on this phone, and logging out.
#[component]
fn Account() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let lock = crate::lock::use_lock();
    let navigate = StoredValue::new_local(use_navigate());
    let log_out = move |_| {
        let waiting = sync.waiting.get_untracked() + sync.rejected.with_untracked(Vec::len);
        if waiting > 0 {
            let question = i18n.count(|u| u.logout_waiting, waiting);
            if !window().confirm_with_message(&question).unwrap_or(false) {
                return;
            }
        }
        // The next login (this account's or another's) starts on the caseload.
        navigate.with_value(|go| go("/", Default::default()));
        leptos::task::spawn_local(sync.sign_out(lock));
    };
    view! {
        <h2>{i18n.t(|u| u.account_title)}</h2>
        {move || match sync.session.get() {
            Some(session) => {
                let name = format!("{} ({})", session.user.display_name, session.user.login);
                view! {
                    <p data-testid="logged-in-as">
                        {move || i18n.t(|u| u.logged_in_as)().replace("{name}", &name)}
                    </p>
                    <button type="button" class="btn" data-testid="logout" on:click=log_out>
                        {i18n.t(|u| u.logout)}
                    </button>
                }
                    .into_any()
            }
            None => {
                view! {
                    <a href="/login" class="btn btn-primary" data-testid="settings-login">
                        {i18n.t(|u| u.login_title)}
                    </a>
                }
                    .into_any()
            }
        }}
    }
}

/// The app lock, and the PIN that unlocks it while the app runs.
#[component]
fn Protection() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let lock = crate::lock::use_lock();
    let has_pin = RwSignal::new(crate::storage::crypto::has_pin());
    let pin = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    // (Whether it is a problem, what to say.)
    let said = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let minutes = move || sync.policy.get().lock_after_s.div_ceil(60) as usize;
    let set = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (typed, repeated) = (pin.get_untracked(), again.get_untracked());
        if !crate::lock::valid_pin(&typed) {
            said.set(Some((true, i18n.t(|u| u.pin_invalid)().to_owned())));
            return;
        }
        if typed != repeated {
            said.set(Some((true, i18n.t(|u| u.pin_mismatch)().to_owned())));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let done = crate::lock::set_pin(Some(&typed)).await;
            let _ = busy.try_set(false);
            let _ = pin.try_set(String::new());
            let _ = again.try_set(String::new());
            let _ = said.try_set(Some(match done {
                Ok(()) => {
                    let _ = has_pin.try_set(true);
                    (false, i18n.t(|u| u.pin_saved)().to_owned())
                }
                Err(e) => (true, storage_message(i18n, &e)),
            }));
        });
    };
    let remove = move |_| {
        leptos::task::spawn_local(async move {
            let done = crate::lock::set_pin(None).await;
            let _ = said.try_set(Some(match done {
                Ok(()) => {
                    let _ = has_pin.try_set(false);
                    (false, i18n.t(|u| u.pin_removed)().to_owned())
                }
                Err(e) => (true, storage_message(i18n, &e)),
            }));
        });
    };
    view! {
        <h2>{i18n.t(|u| u.lock_title)}</h2>
        <p class="hint">{move || i18n.count(|u| u.lock_explain, minutes())}</p>
        <button
            type="button"
            class="btn"
            data-testid="lock-now"
            on:click=move |_| lock.lock(sync)
        >
            {i18n.t(|u| u.lock_now)}
        </button>
        <h3>{i18n.t(|u| u.pin_title)}</h3>
        <p class="hint">{i18n.t(|u| u.pin_explain)}</p>
        <form on:submit=set data-testid="pin-form">
            <div class="field">
                <label for="pin-new">{i18n.t(|u| u.pin_new)}</label>
                <input
                    id="pin-new"
                    type="password"
                    inputmode="numeric"
                    autocomplete="off"
                    maxlength="8"
                    prop:value=move || pin.get()
                    on:input=move |ev| pin.set(event_target_value(&ev))
                />
            </div>
            <div class="field">
                <label for="pin-repeat">{i18n.t(|u| u.pin_repeat)}</label>
                <input
                    id="pin-repeat"
                    type="password"
                    inputmode="numeric"
                    autocomplete="off"
                    maxlength="8"
                    prop:value=move || again.get()
                    on:input=move |ev| again.set(event_target_value(&ev))
                />
            </div>
            <div class="actions">
                <button
                    type="submit"
                    class="btn btn-primary"
                    data-testid="pin-save"
                    disabled=move || busy.get()
                >
                    {i18n.t(|u| u.pin_save)}
                </button>
                <Show when=move || has_pin.get()>
                    <button type="button" class="btn" data-testid="pin-remove" on:click=remove>
                        {i18n.t(|u| u.pin_remove)}
                    </button>
                </Show>
            </div>
        </form>
        {move || {
            said.get()
                .map(|(problem, text)| {
                    view! {
                        <p
                            class="notice"
                            class:error=problem
                            role=if problem { "alert" } else { "status" }
                            data-testid="pin-said"
                        >
                            {text}
                        </p>
                    }
                })
        }}
    }
}

/// The sync state at length: when it last worked, and what the server refused and why.
#[component]
fn SyncDetails() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let catalog = use_forms();
    let navigate = use_navigate();
    let problem = RwSignal::new(None::<String>);
    // A refused form back into a draft, opened to correct and finalize again.
    let reopen = Callback::new(move |op_id: String| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let reopened = async {
                let db = storage::shared().await?;
                let _cases = storage::case_lock().await;
                db.reopen_refused(&op_id, now_ms(), &crate::clock::new_id())
                    .await
            }
            .await;
            sync.count().await;
            match reopened {
                Ok(Some(draft)) => navigate(&format!("/drafts/{}", draft.id), Default::default()),
                Ok(None) => {}
                Err(e) => problem.set(Some(storage_message(i18n, &e))),
            }
        });
    });
    view! {
        <h2>{i18n.t(|u| u.sync_title)}</h2>
        <p data-testid="last-synced">
            {move || match sync.last_synced.get() {
                Some(at) => {
                    i18n.t(|u| u.sync_last)()
                        .replace("{time}", &crate::clock::date_time(at))
                }
                None => i18n.t(|u| u.sync_never)().to_owned(),
            }}
        </p>
        <Show when=move || sync.rejected.with(|r| !r.is_empty())>
            <p class="hint">{i18n.t(|u| u.rejected_help)}</p>
            <ul class="rejected" data-testid="rejected-list">
                {move || {
                    sync.rejected
                        .get()
                        .into_iter()
                        .map(|(rejection, op)| {
                            let what = op
                                .as_ref()
                                .map(|op| {
                                    let what = match &op.change {
                                        Change::Submit { submission, .. } => {
                                            catalog.title(&submission.form_id, i18n.lang.get())
                                        }
                                        Change::Consent { .. } | Change::Withdraw { .. } => {
                                            i18n.t(|u| u.consent_title)().to_owned()
                                        }
                                        Change::Resolve { .. } => {
                                            i18n.t(|u| u.conflict_resolution)().to_owned()
                                        }
                                        Change::Merge { .. }
                                        | Change::Unmerge { .. }
                                        | Change::Distinct { .. } => {
                                            i18n.t(|u| u.link_change)().to_owned()
                                        }
                                        Change::Close { .. } => {
                                            i18n.t(|u| u.case_close)().to_owned()
                                        }
                                        Change::Reopen { .. } => {
                                            i18n.t(|u| u.case_reopen)().to_owned()
                                        }
                                        Change::Erase {} => {
                                            i18n.t(|u| u.erasure_change)().to_owned()
                                        }
                                        Change::Refer { .. } | Change::UpdateReferral { .. } => {
                                            i18n.t(|u| u.referral_change)().to_owned()
                                        }
                                    };
                                    format!(
                                        "{} · {}",
                                        what,
                                        crate::clock::date_time(op.created_at_ms),
                                    )
                                })
                                .unwrap_or_default();
                            // In the worker's words, with what to do next.
                            let lang = i18n.lang.get();
                            let form = op
                                .as_ref()
                                .and_then(|op| op.submission())
                                .and_then(|s| catalog.get(&s.form_id));
                            let label = |name: &str| {
                                form.as_ref()?.field(name).map(|f| f.label.get(lang).to_owned())
                            };
                            let why = refusal::word(
                                lang,
                                rejection.reason,
                                rejection.detail.as_ref(),
                                &label,
                            );
                            // A form whose answers, version or id the server did not take can
                            // be corrected: nobody else has it yet.
                            let correctable = refusal::correctable(
                                rejection.reason,
                                rejection.detail.as_ref(),
                            ) && op.as_ref().is_some_and(|op| op.submission().is_some());
                            let op_id = rejection.op_id.clone();
                            view! {
                                <li data-reason=format!("{:?}", rejection.reason)>
                                    <strong>{what}</strong>
                                    <br/>
                                    <span>{why}</span>
                                    <Show when=move || correctable>
                                        <br/>
                                        <button
                                            type="button"
                                            class="btn btn-small"
                                            data-testid="rejected-reopen"
                                            on:click={
                                                let op_id = op_id.clone();
                                                move |_| reopen.run(op_id.clone())
                                            }
                                        >
                                            {i18n.t(|u| u.rejected_reopen)}
                                        </button>
                                    </Show>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <p class="problems" role="alert" hidden=move || problem.with(Option::is_none)>
                {move || problem.get()}
            </p>
        </Show>
    }
}
