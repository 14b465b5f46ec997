//! The sync state on every screen: a line under the header ("all synced", "3 waiting",
//! "syncing 40 %", "offline"), a progress bar while a sync runs, and "sync now".

use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::{I18n, use_i18n};
use crate::sync::{Phase, SyncState, use_sync};

/// The state in words, in the reader's language.
pub fn describe(i18n: I18n, sync: SyncState) -> String {
    let waiting = sync.waiting.get();
    let refused = sync.rejected.with(Vec::len);
    let n = |text: &str, n: usize| text.replace("{n}", &n.to_string());
    let mut text = match sync.phase.get() {
        Phase::Syncing { done, total } if total > 0 => {
            let pct = done * 100 / total;
            i18n.t(|u| u.sync_progress)().replace("{pct}", &pct.to_string())
        }
        Phase::Syncing { .. } => i18n.t(|u| u.sync_running)().to_owned(),
        Phase::NeedsLogin => i18n.t(|u| u.sync_login_needed)().to_owned(),
        Phase::Offline => i18n.t(|u| u.sync_offline)().to_owned(),
        Phase::Failed(why) => format!("{} {why}", i18n.t(|u| u.sync_failed)()),
        Phase::Idle if waiting == 0 && refused == 0 => i18n.t(|u| u.sync_all_done)().to_owned(),
        Phase::Idle => String::new(),
    };
    let idle = matches!(sync.phase.get(), Phase::Idle);
    if waiting > 0 && !matches!(sync.phase.get(), Phase::Syncing { .. }) {
        let count = n(i18n.t(|u| u.sync_waiting)(), waiting);
        text = if idle {
            count
        } else {
            format!("{text} · {count}")
        };
    }
    if refused > 0 {
        let count = n(i18n.t(|u| u.sync_rejected)(), refused);
        text = if text.is_empty() {
            count
        } else {
            format!("{text} · {count}")
        };
    }
    text
}

#[component]
pub fn SyncBar() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let progress = move || match sync.phase.get() {
        Phase::Syncing { done, total } if total > 0 => Some((done, total)),
        _ => None,
    };
    let needs_login = move || sync.phase.get() == Phase::NeedsLogin;
    let busy = move || matches!(sync.phase.get(), Phase::Syncing { .. });
    let troubled = move || {
        matches!(
            sync.phase.get(),
            Phase::Offline | Phase::Failed(_) | Phase::NeedsLogin
        ) || sync.rejected.with(|r| !r.is_empty())
    };
    view! {
        <div class="syncbar" class:syncbar-trouble=troubled role="status" aria-live="polite">
            <span class="sync-text" data-testid="sync-status">
                {move || describe(i18n, sync)}
            </span>
            <Show
                when=needs_login
                fallback=move || {
                    view! {
                        <button
                            type="button"
                            class="btn btn-small"
                            data-testid="sync-now"
                            disabled=busy
                            on:click=move |_| sync.request(true)
                        >
                            {i18n.t(|u| u.sync_now)}
                        </button>
                    }
                }
            >
                <A href="/login" attr:class="btn btn-small" attr:data-testid="sync-login">
                    {i18n.t(|u| u.login_title)}
                </A>
            </Show>
            {move || {
                progress()
                    .map(|(done, total)| {
                        view! {
                            <progress
                                class="sync-progress"
                                data-testid="sync-progress"
                                max=total.to_string()
                                value=done.to_string()
                            ></progress>
                        }
                    })
            }}
        </div>
    }
}
