//! The app shell: header with connection state and language, the update banner, navigation
//! and the router.

use cris_core::Lang;
use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::i18n::{I18n, use_i18n};
use crate::lock::{self, Gate, UnlockPage};
use crate::pages::{Login, NotFound, SyncBar};
use crate::parts::{self, screen};
use crate::{forms, prefs, pwa, storage, sync};

/// The app, opening at `gate` (see [`lock::at_start`]).
#[component]
pub fn App(gate: Gate) -> impl IntoView {
    let lang = RwSignal::new(prefs::load_lang());
    provide_context(I18n { lang });
    let pwa = pwa::watch();
    provide_context(pwa);
    let sync = sync::start(pwa.online);
    let lock = lock::start(gate, sync);
    // Only a change of the gate re-renders the screens (not setting it again).
    let gate = Memo::new(move |_| lock.gate.get());
    let open = move || gate.get() == Gate::Open;
    parts::fetch_the_daily_parts();
    let catalog = forms::load();
    sync.forms.set_value(Some(catalog));
    provide_context(catalog);

    // Ask once per start that the browser keep this app's data; settings shows the answer.
    let persistence = RwSignal::new(None::<storage::Persistence>);
    provide_context(persistence);
    leptos::task::spawn_local(async move {
        persistence.set(Some(storage::request_persistence().await));
    });

    // Keep <html lang> in step, so screen readers and hyphenation use the right language.
    Effect::new(move |_| {
        let code = lang.get().code();
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", code);
        }
    });

    view! {
        <Router>
            // One block that stays at the top: the header, the navigation (on a phone the
            // tabs are fixed to the bottom of the screen instead) and the sync state.
            <div class="top">
                <Header/>
                <Show when=open>
                    <Nav/>
                    <SyncBar/>
                </Show>
            </div>
            <WipedNotice/>
            <UpdateBanner/>
            // While locked, no route renders: no address, Back or print shows a household.
            <main id="main">
                {move || match gate.get() {
                    Gate::Open => view! { <Screens/> }.into_any(),
                    Gate::NoKey => view! { <Login/> }.into_any(),
                    Gate::Locked { login } => view! { <UnlockPage login/> }.into_any(),
                }}
            </main>
        </Router>
    }
}

/// The app's screens, by address (only while unlocked).
#[component]
fn Screens() -> impl IntoView {
    view! {
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| screen(parts::caseload)/>
                    <Route path=path!("/intake/new") view=|| screen(parts::intake)/>
                    <Route path=path!("/cases/:id") view=|| screen(parts::case)/>
                    <Route path=path!("/cases/:id/visit") view=|| screen(parts::visit)/>
                    <Route path=path!("/cases/:id/copy") view=|| screen(parts::copy)/>
                    <Route path=path!("/cases/:id/plan") view=|| screen(parts::plan)/>
                    <Route path=path!("/cases/:id/referrals/:referral/letter") view=|| screen(parts::letter)/>
                    <Route path=path!("/drafts/:id") view=|| screen(parts::draft)/>
                    <Route path=path!("/cases/:id/consent") view=|| screen(parts::consent)/>
                    <Route path=path!("/cases/:id/consent/:consent") view=|| screen(parts::receipt)/>
                    <Route path=path!("/cases/:id/withdraw/:consent") view=|| screen(parts::withdraw)/>
                    <Route path=path!("/review") view=|| screen(parts::review)/>
                    <Route path=path!("/review/:id") view=|| parts::office_screen(parts::review_form)/>
                    <Route path=path!("/overview") view=|| parts::office_screen(parts::overview)/>
                    <Route path=path!("/settings") view=|| screen(parts::settings)/>
                    <Route path=path!("/login") view=Login/>
                </Routes>
    }
}

#[component]
fn Header() -> impl IntoView {
    let i18n = use_i18n();
    let status = expect_context::<pwa::PwaStatus>();
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">
                <img src="/icons/icon-192.png" alt="" width="32" height="32"/>
                <span>"CRIS Field"</span>
            </A>
            <span
                class="net"
                class:net-offline=move || !status.online.get()
                data-testid="net-status"
            >
                {move || {
                    if status.online.get() { i18n.t(|u| u.online)() } else { i18n.t(|u| u.offline)() }
                }}
            </span>
            <LanguagePicker id="lang-header"/>
        </header>
    }
}

/// A `<select>` of the six languages, each named in itself.
#[component]
pub fn LanguagePicker(#[prop(into)] id: String) -> impl IntoView {
    let i18n = use_i18n();
    let on_change = move |ev| {
        if let Ok(lang) = event_target_value(&ev).parse::<Lang>() {
            // Its strings first (German meanwhile, if they cannot be had).
            leptos::task::spawn_local(async move {
                let _ = crate::i18n::load(lang).await;
                i18n.lang.set(lang);
                prefs::save_lang(lang);
            });
        }
    };
    view! {
        <select
            autocomplete="off"
            id=id
            class="lang"
            aria-label=i18n.t(|u| u.language)
            on:change=on_change
            prop:value=move || i18n.lang.get().code()
        >
            {Lang::ALL
                .into_iter()
                .map(|lang| {
                    view! {
                        <option value=lang.code() selected=move || i18n.lang.get() == lang>
                            {lang.native_name()}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// After a revocation wiped this phone: why its households are gone, until read.
#[component]
fn WipedNotice() -> impl IntoView {
    let i18n = use_i18n();
    let shown = RwSignal::new(sync::session::wiped());
    view! {
        <Show when=move || shown.get()>
            <div class="banner notice error" role="alert" data-testid="wiped">
                <span>{i18n.t(|u| u.wiped_notice)}</span>
                <button
                    class="btn"
                    on:click=move |_| {
                        sync::session::dismiss_wiped();
                        shown.set(false);
                    }
                >
                    {i18n.t(|u| u.wiped_understood)}
                </button>
            </div>
        </Show>
    }
}

#[component]
fn UpdateBanner() -> impl IntoView {
    let i18n = use_i18n();
    let status = expect_context::<pwa::PwaStatus>();
    view! {
        <Show when=move || status.update_ready.get()>
            <div class="banner" role="status" data-testid="update-banner">
                <span>{i18n.t(|u| u.update_ready)}</span>
                <button class="btn" on:click=move |_| pwa::apply_update()>
                    {i18n.t(|u| u.update_reload)}
                </button>
            </div>
        </Show>
    }
}

#[component]
fn Nav() -> impl IntoView {
    let i18n = use_i18n();
    let reviewer = crate::pages::reviewer();
    let catalog = forms::use_forms();
    // The intake is called by its form's title, the same name as on the form itself.
    let intake = move || {
        let lang = i18n.lang.get();
        catalog.get(cris_core::caseload::INTAKE).map_or_else(
            || i18n.t(|u| u.nav_intake)().to_owned(),
            |f| f.title.get(lang).to_owned(),
        )
    };
    view! {
        // A supervisor's phone has room for four tabs: the intake, which supervisors rarely
        // make, is then started from the caseload.
        <nav class="tabs" class:tabs-reviewer=move || reviewer.get()>
            <A href="/" exact=true>{i18n.t(|u| u.nav_caseload)}</A>
            <A href="/intake/new" attr:class="tab-intake">{intake}</A>
            <A href="/review">{i18n.t(|u| u.nav_review)}</A>
            // The overview is the supervisors' (on a laptop); a worker's phone keeps four tabs.
            <Show when=move || reviewer.get()>
                <A href="/overview">{i18n.t(|u| u.nav_overview)}</A>
            </Show>
            <A href="/settings">{i18n.t(|u| u.nav_settings)}</A>
        </nav>
    }
}
