//! CRIS Field on the phone: a client-side rendered Leptos app, built with trunk.

pub mod clock;
pub mod form_view;
pub mod forms;
pub mod i18n;
pub mod pages;
pub mod perf;
pub mod prefs;
pub mod pwa;
pub mod refusal;
pub mod shell;
pub mod storage;
pub mod sync;

/// Starts the app in the page.
pub fn run() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(shell::App);
}
