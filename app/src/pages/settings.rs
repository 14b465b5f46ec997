use leptos::prelude::*;

use crate::i18n::use_i18n;
use crate::pwa::PwaStatus;
use crate::shell::LanguagePicker;
use crate::storage::Persistence;

#[component]
pub fn Settings() -> impl IntoView {
    let i18n = use_i18n();
    let status = expect_context::<PwaStatus>();
    let persistence = expect_context::<RwSignal<Option<Persistence>>>();
    view! {
        <section class="page">
            <h1>{i18n.t(|u| u.settings_title)}</h1>
            <div class="field">
                <label for="lang-settings">{i18n.t(|u| u.language)}</label>
                <LanguagePicker id="lang-settings"/>
                <p class="hint">{i18n.t(|u| u.language_hint)}</p>
            </div>
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
