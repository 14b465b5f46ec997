//! Two builds of one app: the field build, which workers' phones load, and the office build
//! (cargo feature `office`), which adds the supervisors' and administrators' screens (review
//! queue, review of a form, overview, publishing forms). The server sends a browser the office
//! build's page when it carries the cookie set here, and the service worker then takes pages
//! from the network (public/sw.js), so a worker's phone never downloads the office build.

use cris_core::api::Role;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Whether this page runs the office build.
pub const BUILT: bool = cfg!(feature = "office");

/// The cookie by which the server chooses the page to send. Nothing rests on it but that
/// choice: the API checks every call by its session, whichever build makes it.
const COOKIE: &str = "cris-build";
/// The cache whose presence has the service worker take pages from the network.
const MARKER_CACHE: &str = "cris-office";
/// The office build's page, there only where the server has the office build.
const OFFICE_PAGE: &str = "/office/index.html";

/// After a login as `role`, before its records open: whether its work is in the other build
/// (one the server has). If so, the page says it is leaving (`<html data-leaving>`), and
/// [`switch`] follows once the records are open.
pub async fn leaving_for(role: Role) -> bool {
    let office = role != Role::Worker;
    if office == BUILT || (office && !office_page_served().await) {
        return false;
    }
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-leaving", if office { "office" } else { "field" });
    }
    true
}

/// Switches this browser to the other build: the page reloads into it, and opens locked
/// (that build unlocks the records again).
pub async fn switch() {
    let office = !BUILT;
    let Some(window) = web_sys::window() else {
        return;
    };
    let secure = window.location().protocol().is_ok_and(|p| p == "https:");
    let cookie = if office {
        format!(
            "{COOKIE}=office; path=/; max-age=31536000; samesite=strict{}",
            if secure { "; secure" } else { "" }
        )
    } else {
        format!("{COOKIE}=; path=/; max-age=0; samesite=strict")
    };
    let document = leptos::prelude::document();
    let _ = js_sys::Reflect::set(&document, &"cookie".into(), &cookie.into());
    if let Ok(caches) = window.caches() {
        let marked = if office {
            caches.open(MARKER_CACHE)
        } else {
            caches.delete(MARKER_CACHE)
        };
        let _ = JsFuture::from(marked).await;
    }
    let _ = window.location().reload();
}

/// Whether the server has the office build's page.
async fn office_page_served() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let init = web_sys::RequestInit::new();
    init.set_method("HEAD");
    let Ok(asked) = JsFuture::from(window.fetch_with_str_and_init(OFFICE_PAGE, &init)).await else {
        return false;
    };
    asked
        .dyn_into::<web_sys::Response>()
        .is_ok_and(|response| response.ok())
}
