//! CRIS Field on the phone: a client-side rendered Leptos app, built with trunk.

mod i18n;
mod pages;
mod prefs;
mod pwa;
mod shell;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(shell::App);
}
