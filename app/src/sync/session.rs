//! The phone's session with the server: a token the phone keeps using offline until it
//! expires or the server ends it. It is a record like the others, sealed under the account's
//! data key in the `meta` store (never in local storage), and read at each unlock. Local
//! storage keeps the last login name only, so the next login only needs the password.

use cris_core::api::Me;
use gloo_storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};

use crate::storage::{self, StorageError, Write};

/// Where versions before encryption kept the session, in clear.
const LEGACY_SESSION_KEY: &str = "cris.session";
const SESSION_KEY: &str = "session";
const LAST_LOGIN_KEY: &str = "cris.last-login";
const LAST_SYNC_KEY: &str = "cris.last-sync";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    /// Server clock; the phone stops using the token a little before.
    pub expires_at_ms: i64,
    pub user: Me,
}

/// The write that keeps `session` (sealed, in `meta`).
pub fn write(session: &Session) -> Result<Write, StorageError> {
    storage::meta_write(SESSION_KEY, session)
}

/// The session kept on the phone, unless there is none or it has expired (needs the key).
pub async fn load() -> Option<Session> {
    let db = storage::shared().await.ok()?;
    let session: Session = db.meta(SESSION_KEY).await.ok().flatten()?;
    (session.expires_at_ms as f64 > crate::clock::now_ms()).then_some(session)
}

/// Keeps `session` on the phone, and its login for the next login.
pub async fn save(session: &Session) -> Result<(), StorageError> {
    remember_login(&session.user.login);
    storage::shared().await?.commit(vec![write(session)?]).await
}

pub fn remember_login(login: &str) {
    if let Err(err) = LocalStorage::set(LAST_LOGIN_KEY, login) {
        leptos::logging::warn!("could not remember the login: {err}");
    }
}

/// Forgets the session on the phone.
pub async fn clear() {
    if let Ok(db) = storage::shared().await {
        let _ = db.delete_meta(SESSION_KEY).await;
    }
}

/// A session that a version before encryption kept in clear: taken once, at the first
/// login after the update, and deleted.
pub fn forget_legacy() {
    LocalStorage::delete(LEGACY_SESSION_KEY);
}

/// The login name of the last session on this phone ("" for none).
pub fn last_login() -> String {
    LocalStorage::get(LAST_LOGIN_KEY).unwrap_or_default()
}

/// When the phone last finished a sync (its clock).
pub fn last_sync() -> Option<f64> {
    LocalStorage::get(LAST_SYNC_KEY).ok()
}

/// Another account logs in: the last sync was not theirs.
pub fn forget_last_sync() {
    LocalStorage::delete(LAST_SYNC_KEY);
}

pub fn save_last_sync(at_ms: f64) {
    let _ = LocalStorage::set(LAST_SYNC_KEY, at_ms);
}

const WIPE_KEY: &str = "cris.wipe";
const WIPED_KEY: &str = "cris.wiped";

/// The server revoked this device: the key leaves memory, the logins and the device id go
/// now; the records and the token at the next start, before anything opens them (see
/// [`wipe_if_marked`]).
pub fn mark_for_wipe() {
    storage::crypto::forget_key();
    for key in [
        LEGACY_SESSION_KEY,
        LAST_LOGIN_KEY,
        LAST_SYNC_KEY,
        crate::prefs::DEVICE_KEY,
    ] {
        LocalStorage::delete(key);
    }
    let _ = LocalStorage::set(WIPE_KEY, true);
}

/// At start: a device marked for wiping deletes its database and the app's caches, and
/// remembers to say why.
pub async fn wipe_if_marked() {
    if LocalStorage::get::<bool>(WIPE_KEY).unwrap_or(false) {
        if let Err(err) = crate::storage::wipe().await {
            leptos::logging::warn!("the records could not be deleted yet: {err}");
            return;
        }
        delete_caches().await;
        LocalStorage::delete(WIPE_KEY);
        let _ = LocalStorage::set(WIPED_KEY, true);
    }
}

/// Whether this phone was wiped for a revocation and the worker has not read why yet.
pub fn wiped() -> bool {
    LocalStorage::get::<bool>(WIPED_KEY).unwrap_or(false)
}

pub fn dismiss_wiped() {
    LocalStorage::delete(WIPED_KEY);
}

/// Deletes every cache of the app's service worker (`caches.keys()`, then `delete`).
async fn delete_caches() {
    use js_sys::{Array, Function, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(caches) = Reflect::get(&window, &JsValue::from_str("caches")) else {
        return;
    };
    let call = |name: &str, args: &Array| -> Option<Promise> {
        let f: Function = Reflect::get(&caches, &JsValue::from_str(name))
            .ok()?
            .dyn_into()
            .ok()?;
        f.apply(&caches, args).ok()?.dyn_into().ok()
    };
    let Some(keys) = call("keys", &Array::new()) else {
        return;
    };
    let Ok(names) = JsFuture::from(keys).await else {
        return;
    };
    for name in Array::from(&names).iter() {
        if let Some(deleted) = call("delete", &Array::of1(&name)) {
            let _ = JsFuture::from(deleted).await;
        }
    }
}
