//! The phone's session with the server, kept in local storage (gloo-storage): a token the
//! phone keeps using offline until it expires or the server ends it, and the last login name,
//! so the next login only needs the password.

use cris_core::api::Me;
use gloo_storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};

const SESSION_KEY: &str = "cris.session";
const LAST_LOGIN_KEY: &str = "cris.last-login";
const LAST_SYNC_KEY: &str = "cris.last-sync";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    /// Server clock; the phone stops using the token a little before.
    pub expires_at_ms: i64,
    pub user: Me,
}

/// The session, unless there is none or it has expired.
pub fn load() -> Option<Session> {
    let session: Session = LocalStorage::get(SESSION_KEY).ok()?;
    (session.expires_at_ms as f64 > crate::clock::now_ms()).then_some(session)
}

pub fn save(session: &Session) {
    if let Err(err) = LocalStorage::set(SESSION_KEY, session) {
        leptos::logging::warn!("could not keep the session: {err}");
    }
    if let Err(err) = LocalStorage::set(LAST_LOGIN_KEY, &session.user.login) {
        leptos::logging::warn!("could not remember the login: {err}");
    }
}

pub fn clear() {
    LocalStorage::delete(SESSION_KEY);
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
