//! The sync state on every screen: a line under the header ("all synced", "3 waiting",
//! "syncing 40 %", "offline"), a progress bar while a sync runs, and "sync now".

use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::{I18n, use_i18n};
use crate::sync::{CLOCK_TOLERANCE_MS, Phase, SyncState, use_sync};

/// A length of time in SI units, which read the same in every language here: `2 d`, `3 h`,
/// `12 min`.
fn span(ms: f64) -> String {
    let minutes = (ms / 60_000.0).round() as i64;
    match minutes {
        m if m >= 48 * 60 => format!("{} d", m / (24 * 60)),
        m if m >= 120 => format!("{} h", m / 60),
        m => format!("{m} min"),
    }
}

/// The state in words, in the reader's language.
pub fn describe(i18n: I18n, sync: SyncState) -> String {
    let waiting = sync.waiting.get();
    let refused = sync.rejected.with(Vec::len);
    let mut text = match sync.phase.get() {
        Phase::Syncing { done, total } if total > 0 => {
            let pct = done * 100 / total;
            i18n.t(|u| u.sync_progress)().replace("{pct}", &pct.to_string())
        }
        Phase::Syncing { .. } => i18n.t(|u| u.sync_running)().to_owned(),
        Phase::NeedsLogin => i18n.t(|u| u.sync_login_needed)().to_owned(),
        Phase::Offline => i18n.t(|u| u.sync_offline)().to_owned(),
        Phase::Failed(failure) => format!(
            "{} {}",
            i18n.t(|u| u.sync_failed)(),
            crate::refusal::failure(i18n.lang.get(), &failure)
        ),
        Phase::StorageFailed(e) => format!(
            "{} {}",
            i18n.t(|u| u.sync_failed)(),
            crate::form_view::storage_message(i18n, &e)
        ),
        Phase::Idle if waiting == 0 && refused == 0 => i18n.t(|u| u.sync_all_done)().to_owned(),
        Phase::Idle => String::new(),
    };
    let idle = matches!(sync.phase.get(), Phase::Idle);
    if waiting > 0 && !matches!(sync.phase.get(), Phase::Syncing { .. }) {
        let count = i18n.count(|u| u.sync_waiting, waiting);
        text = if idle {
            count
        } else {
            format!("{text} · {count}")
        };
    }
    if let Some(skew) = sync.skew_ms.get().filter(|s| s.abs() >= CLOCK_TOLERANCE_MS) {
        let off = i18n.t(|u| u.clock_off)().replace("{d}", &span(skew.abs()));
        text = if text.is_empty() {
            off
        } else {
            format!("{text} · {off}")
        };
    }
    if refused > 0 {
        let count = i18n.count(|u| u.sync_rejected, refused);
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
    let online = expect_context::<crate::pwa::PwaStatus>().online;
    // The login page is itself the way to log in: no second "log in" above its form.
    let location = leptos_router::hooks::use_location();
    let on_login_page = move || location.pathname.with(|p| p == "/login");
    let needs_login = move || sync.phase.get() == Phase::NeedsLogin;
    let busy = move || matches!(sync.phase.get(), Phase::Syncing { .. });
    let troubled = move || {
        matches!(
            sync.phase.get(),
            Phase::Offline | Phase::Failed(_) | Phase::StorageFailed(_) | Phase::NeedsLogin
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
                    // With no network a sync cannot start: the button says why it waits.
                    view! {
                        <button
                            type="button"
                            class="btn btn-small"
                            data-testid="sync-now"
                            disabled=move || busy() || !online.get()
                            aria-describedby="sync-offline-why"
                            on:click=move |_| sync.request(true)
                        >
                            {i18n.t(|u| u.sync_now)}
                        </button>
                        <span
                            class="sync-why"
                            id="sync-offline-why"
                            data-testid="sync-offline-why"
                            hidden=move || online.get()
                        >
                            {i18n.t(|u| u.sync_offline_why)}
                        </span>
                    }
                }
            >
                <Show when=move || !on_login_page()>
                    <A href="/login" attr:class="btn btn-small" attr:data-testid="sync-login">
                        {i18n.t(|u| u.login_title)}
                    </A>
                </Show>
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
