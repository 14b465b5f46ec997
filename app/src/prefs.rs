//! Small settings kept on the phone in local storage (gloo-storage). Records never go here:
//! they live in IndexedDB.

use cris_core::Lang;
use gloo_storage::{LocalStorage, Storage};

const LANG_KEY: &str = "cris.lang";

/// The language chosen on this phone; if none was chosen yet, the browser's preferred
/// language when CRIS Field speaks it, else German.
pub fn load_lang() -> Lang {
    if let Some(lang) = LocalStorage::get::<String>(LANG_KEY)
        .ok()
        .and_then(|code| code.parse().ok())
    {
        return lang;
    }
    let preferred: Vec<String> = web_sys::window()
        .map(|w| w.navigator().languages())
        .map(|list| list.iter().filter_map(|v| v.as_string()).collect())
        .unwrap_or_default();
    Lang::negotiate(preferred.iter().map(String::as_str)).unwrap_or(Lang::DEFAULT)
}

/// Remembers the chosen language. A full or blocked storage only costs the choice at the next
/// start, so it is logged and otherwise ignored.
pub fn save_lang(lang: Lang) {
    if let Err(err) = LocalStorage::set(LANG_KEY, lang.code()) {
        leptos::logging::warn!("could not remember the language: {err}");
    }
}

pub(crate) const DEVICE_KEY: &str = "cris.device";

/// This phone's id (a UUID, nothing personal): made once, then kept. Operations name the
/// device they were made on.
pub fn device_id() -> String {
    if let Ok(id) = LocalStorage::get::<String>(DEVICE_KEY)
        && cris_core::id::is_uuid(&id)
    {
        return id;
    }
    let id = crate::clock::new_id();
    if let Err(err) = LocalStorage::set(DEVICE_KEY, &id) {
        leptos::logging::warn!("could not remember the device id: {err}");
    }
    id
}
