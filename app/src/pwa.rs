//! The app's view of the service worker and the network.
//!
//! `public/register-sw.js` registers the service worker and announces, through window events
//! and flags, when the app shell is cached for offline use and when a new version is waiting.

use leptos::prelude::*;
use wasm_bindgen::JsValue;

/// What the shell shows about offline readiness, updates and the connection.
#[derive(Clone, Copy, Debug)]
pub struct PwaStatus {
    /// The app shell is cached and a service worker controls the page.
    pub offline_ready: ReadSignal<bool>,
    /// A new version is installed and waits for the user to reload into it.
    pub update_ready: ReadSignal<bool>,
    /// The browser believes it has a network connection.
    pub online: ReadSignal<bool>,
}

fn window_flag(name: &str) -> bool {
    let window: JsValue = window().into();
    js_sys::Reflect::get(&window, &JsValue::from_str(name))
        .map(|v| v.is_truthy())
        .unwrap_or(false)
}

/// Starts listening; call once, in the shell.
pub fn watch() -> PwaStatus {
    let (offline_ready, set_offline_ready) = signal(window_flag("__crisOfflineReady"));
    let (update_ready, set_update_ready) = signal(window_flag("__crisUpdateReady"));
    let (online, set_online) = signal(window().navigator().on_line());

    let handles = [
        window_event_listener_untyped("cris-offline-ready", move |_| set_offline_ready.set(true)),
        window_event_listener_untyped("cris-update-ready", move |_| set_update_ready.set(true)),
        window_event_listener_untyped("online", move |_| set_online.set(true)),
        window_event_listener_untyped("offline", move |_| set_online.set(false)),
    ];
    on_cleanup(move || handles.into_iter().for_each(|h| h.remove()));

    PwaStatus {
        offline_ready,
        update_ready,
        online,
    }
}

/// Asks the waiting service worker to take over; the page reloads into the new version.
pub fn apply_update() {
    match web_sys::Event::new("cris-apply-update") {
        Ok(event) => {
            if let Err(err) = window().dispatch_event(&event) {
                leptos::logging::warn!("could not start the update: {err:?}");
            }
        }
        Err(err) => leptos::logging::warn!("could not start the update: {err:?}"),
    }
}
