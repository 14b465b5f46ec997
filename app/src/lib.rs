//! CRIS Field on the phone: a client-side rendered Leptos app, built with trunk.

pub mod clock;
pub mod form_view;
pub mod forms;
pub mod i18n;
pub mod lock;
pub mod pages;
pub mod parts;
pub mod perf;
pub mod prefs;
pub mod pwa;
pub mod refusal;
pub mod shell;
pub mod storage;
pub mod sync;

/// Starts the app in the page: first a revoked device's wipe, if one is pending, so that
/// nothing of it is ever shown; then locked, if an account's records are on the phone.
pub fn run() {
    use wasm_bindgen::JsCast;
    console_error_panic_hook::set_once();
    // (Leptos's executor starts with the mount: this runs on wasm-bindgen's.)
    wasm_bindgen_futures::spawn_local(async {
        sync::session::wipe_if_marked().await;
        // The chosen language's strings, with the lock's state: the first screen is drawn
        // in that language (German if its file cannot be had).
        let (gate, _) = futures::join!(lock::at_start(), i18n::load(prefs::load_lang()));
        let document = leptos::prelude::document();
        // A field of the page's own login form being typed in keeps the finger's place: the
        // app's field of the same id takes the focus (and, see the login page, the text).
        let typing = document
            .active_element()
            .map(|field| field.id())
            .and_then(|id| id.strip_prefix(pages::login::STARTING).map(str::to_owned));
        leptos::mount::mount_to_body(move || leptos::view! { <shell::App gate=gate.clone()/> });
        // The page's own "starting" header (index.html) gives way to the app's.
        if let Some(starting) = document.get_element_by_id("starting") {
            starting.remove();
        }
        if let Some(field) = typing
            .and_then(|id| document.get_element_by_id(&id))
            .and_then(|field| field.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            let _ = field.focus();
            // The caret after the text, where the next key goes on.
            let end = field.value().encode_utf16().count() as u32;
            let _ = field.set_selection_range(end, end);
        }
    });
}
