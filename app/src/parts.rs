//! The screens come in parts, fetched when first shown: the first load carries the shell, the
//! login, the lock and the sync, and a screen's code follows when it opens. The split is made
//! after the build (scripts/wasm-split.mjs), at the functions declared here; code that several
//! parts use goes into a shared part of its own. The service worker keeps every part, so
//! offline every screen opens as before.
//!
//! A part that cannot be had (no connection before the service worker held it) leaves its
//! screen with a notice and a retry, never a stopped app.

use std::future::Future;

use leptos::__reexports::send_wrapper::SendWrapper;
use leptos::prelude::*;
use leptos::wasm_split::SplitLoaderError;
#[cfg(not(debug_assertions))]
use leptos::wasm_split::wasm_split;

use crate::i18n::use_i18n;
use crate::pages::{
    CaseDetail, Caseload, Consent, ConsentReceipt, DraftPage, FamilyCopyPage, FamilyPlanPage,
    NewIntake, NewVisit, NotFound, Overview, PublishForms, ReferralLetterPage, Review, ReviewForm,
    ReviewQueue, Settings, Withdraw,
};

/// A part that could not be fetched.
#[derive(Debug)]
pub struct Unloaded;

impl From<SplitLoaderError> for Unloaded {
    fn from(_: SplitLoaderError) -> Self {
        Unloaded
    }
}

/// One function per screen, each in the part named before its colon; `(name)` after a screen
/// names a function that fetches its part without drawing it.
///
/// Only the size-optimised build is cut (scripts/wasm-split.mjs reads that build): in a debug
/// build, the wasm tests' too, the same functions call the screens directly, since nothing
/// would give a part's imports.
macro_rules! parts {
    ($($part:ident: $($screen:ident $(($preload:ident))? => $component:ident),+;)+) => {$($(
        #[doc = concat!("The screen `", stringify!($component), "`, from the part `", stringify!($part), "`.")]
        #[cfg(not(debug_assertions))]
        #[wasm_split($part, wasm_split_path = ::leptos::wasm_split, fallible $(, preload($preload))?)]
        pub fn $screen() -> Result<AnyView, Unloaded> {
            Ok(view! { <$component/> }.into_any())
        }

        #[doc = concat!("The screen `", stringify!($component), "` (of the part `", stringify!($part), "` in a cut build).")]
        #[cfg(debug_assertions)]
        pub async fn $screen() -> Result<AnyView, Unloaded> {
            Ok(view! { <$component/> }.into_any())
        }

        $(
            /// Nothing to fetch in a build that is not cut.
            #[cfg(debug_assertions)]
            pub async fn $preload() -> Result<(), Unloaded> {
                Ok(())
            }
        )?
    )+)+};
}

parts! {
    caseload: caseload(preload_caseload) => Caseload;
    case: case(preload_case) => CaseDetail;
    forms: intake(preload_forms) => NewIntake, visit => NewVisit, draft => DraftPage;
    consent: consent => Consent, receipt => ConsentReceipt, withdraw => Withdraw;
    printed: copy => FamilyCopyPage, plan => FamilyPlanPage, letter => ReferralLetterPage;
    review: review => Review;
    settings: settings => Settings;
    // The supervisors' and administrators' screens: the review queue (with the conflicts and
    // the duplicates to merge), the review of a form, the overview, publishing forms. A
    // worker's phone never fetches this part, and the service worker does not precache it
    // (scripts/sw-precache.sh).
    office: review_queue => ReviewQueue, review_form => ReviewForm, overview => Overview,
        publish => PublishForms;
}

/// On a start served by the service worker (every start after the first), fetches the
/// caseload's part at once, while the unlock screen waits for the password, and a moment
/// later the parts a worker opens next (a household's page, the forms): from the cache, so
/// those screens open without waiting for their code. On a first load, while the service
/// worker is still storing the app, parts come only when their screens open, never twice.
pub fn fetch_the_daily_parts() {
    if !served_by_the_worker() {
        return;
    }
    leptos::task::spawn_local(async {
        if preload_caseload().await.is_ok() {
            set_timeout(
                || {
                    leptos::task::spawn_local(async {
                        if preload_case().await.is_ok() {
                            let _ = preload_forms().await;
                        }
                    });
                },
                std::time::Duration::from_secs(2),
            );
        }
    });
}

/// Whether a service worker controls this page (`navigator.serviceWorker.controller`).
fn served_by_the_worker() -> bool {
    let navigator: wasm_bindgen::JsValue = window().navigator().into();
    js_sys::Reflect::get(&navigator, &"serviceWorker".into())
        .and_then(|workers| js_sys::Reflect::get(&workers, &"controller".into()))
        .is_ok_and(|controller| controller.is_truthy())
}

/// The screen that `load` fetches and draws: nothing while its part comes (from the service
/// worker's cache, a moment), a notice with a retry if it cannot come.
pub fn screen<F>(load: fn() -> F) -> impl IntoView
where
    F: Future<Output = Result<AnyView, Unloaded>> + 'static,
{
    loaded(load, |unloaded| {
        view! { <section class="page">{unloaded}</section> }.into_any()
    })
}

/// A supervisor's or administrator's screen (from the office part): for a worker, there is no
/// screen at its address, and the part is not fetched.
pub fn office_screen<F>(load: fn() -> F) -> impl IntoView
where
    F: Future<Output = Result<AnyView, Unloaded>> + 'static,
{
    let reviewer = crate::pages::reviewer();
    move || {
        if reviewer.get() {
            screen(load).into_any()
        } else {
            NotFound().into_any()
        }
    }
}

/// What `load` fetches and draws within a screen (the review queue in the review tab,
/// publishing forms in the settings): as [`screen`].
pub fn piece<F>(load: fn() -> F) -> impl IntoView
where
    F: Future<Output = Result<AnyView, Unloaded>> + 'static,
{
    loaded(load, |unloaded| unloaded)
}

fn loaded<F>(load: fn() -> F, around: fn(AnyView) -> AnyView) -> impl IntoView
where
    F: Future<Output = Result<AnyView, Unloaded>> + 'static,
{
    let i18n = use_i18n();
    let attempt = RwSignal::new(0_u32);
    move || {
        attempt.track();
        Suspend::new(SendWrapper::new(async move {
            load().await.unwrap_or_else(|Unloaded| {
                around(
                    view! {
                        <p class="notice error" role="alert" data-testid="screen-unloaded">
                            {i18n.t(|u| u.screen_unloaded)}
                        </p>
                        <button type="button" class="btn btn-primary" data-testid="screen-retry"
                            on:click=move |_| attempt.update(|n| *n += 1)>
                            {i18n.t(|u| u.screen_retry)}
                        </button>
                    }
                    .into_any(),
                )
            })
        }))
    }
}
