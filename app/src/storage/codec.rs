//! The one boundary between Rust records and what IndexedDB stores: every record is JSON,
//! sealed under the account's data key (see [`super::crypto`]).
//!
//! A stored record is `{<key>: "...", case_id?: "...", iv, ct}`: only what lookups need stays
//! in clear (the record's key, and its case in the stores indexed by case). Names, answers
//! and signatures are in `ct` alone.

use js_sys::{Object, Reflect, Uint8Array};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::CryptoKey;

use super::{Result, StorageError, crypto, stores};

/// A record ready to be sealed: its JSON.
///
/// (Records are written with `serde_json::to_vec` and read with `from_slice` only, as the
/// API's bodies are: one copy of each type's encoder and decoder in the wasm.)
#[derive(Debug, Clone)]
pub struct Plain(Vec<u8>);

impl Plain {
    /// A record read in clear from a database of before encryption (schema 4).
    pub(super) fn legacy(value: &JsValue) -> Result<Self> {
        let text = js_sys::JSON::stringify(value)
            .map_err(|_| StorageError::Unreadable("a record in clear is not JSON".to_owned()))?;
        Ok(Plain(String::from(text).into_bytes()))
    }
}

/// The fields of a record that stay in clear: its key (under the store's key path) and case.
#[derive(serde::Deserialize)]
struct InClear {
    id: Option<String>,
    op_id: Option<String>,
    key: Option<String>,
    case_id: Option<String>,
}

/// A record that holds no one's data, as IndexedDB stores it in clear.
pub(super) fn in_clear<T: Serialize>(record: &T) -> Result<JsValue> {
    let text = serde_json::to_string(record)
        .map_err(|e| StorageError::Failed(format!("cannot encode a record: {e}")))?;
    js_sys::JSON::parse(&text)
        .map_err(|_| StorageError::Failed("cannot encode a record".to_owned()))
}

/// A record kept in clear (see [`in_clear`]), read back.
pub(super) fn decode_clear<T: DeserializeOwned>(value: JsValue) -> Result<T> {
    let text = js_sys::JSON::stringify(&value)
        .map_err(|_| StorageError::Unreadable("a record in clear is not JSON".to_owned()))?;
    serde_json::from_slice(String::from(text).as_bytes())
        .map_err(|e| StorageError::Unreadable(e.to_string()))
}

/// A record as JSON, to be sealed by [`super::Storage::commit`].
pub fn encode<T: Serialize>(record: &T) -> Result<Plain> {
    serde_json::to_vec(record)
        .map(Plain)
        .map_err(|e| StorageError::Failed(format!("cannot encode a record: {e}")))
}

/// The field each store keys its records by.
pub(super) fn key_path(store: &str) -> &'static str {
    match store {
        stores::OUTBOX | stores::REJECTED => "op_id",
        stores::META | stores::DEVICE | stores::SENT => "key",
        _ => "id",
    }
}

/// Whether the store has an index by case (its records keep `case_id` in clear).
fn by_case(store: &str) -> bool {
    matches!(store, stores::SUBMISSIONS | stores::CONSENTS)
}

/// What binds a sealed record to its place: the store, its key and its case.
fn aad(store: &str, key: &str, case_id: Option<&str>) -> Vec<u8> {
    format!("{store}\u{0}{key}\u{0}{}", case_id.unwrap_or_default()).into_bytes()
}

/// `plain` sealed for `store`, as IndexedDB stores it.
pub(super) async fn seal(store: &str, plain: &Plain, key: &CryptoKey) -> Result<JsValue> {
    let path = key_path(store);
    let clear: InClear = serde_json::from_slice(&plain.0)
        .map_err(|e| StorageError::Failed(format!("cannot encode a record: {e}")))?;
    let id = match path {
        "op_id" => clear.op_id,
        "key" => clear.key,
        _ => clear.id,
    }
    .ok_or_else(|| StorageError::Failed(format!("a record for {store} has no {path}")))?;
    let id = id.as_str();
    let case_id = if by_case(store) {
        clear.case_id.as_deref()
    } else {
        None
    };
    let sealed = crypto::seal(key, &aad(store, id, case_id), &plain.0).await?;
    let object = Object::new();
    let set = |name: &str, value: &JsValue| {
        Reflect::set(&object, &JsValue::from_str(name), value)
            .map(drop)
            .map_err(|_| StorageError::Failed("cannot build a record".to_owned()))
    };
    set(path, &JsValue::from_str(id))?;
    if let Some(case_id) = case_id {
        set("case_id", &JsValue::from_str(case_id))?;
    }
    set("iv", &Uint8Array::from(sealed.iv.as_slice()).into())?;
    set("ct", &Uint8Array::from(sealed.ct.as_slice()).into())?;
    Ok(object.into())
}

fn get(value: &JsValue, name: &str) -> Option<JsValue> {
    Reflect::get(value, &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn bytes(value: &JsValue, name: &str) -> Result<Vec<u8>> {
    get(value, name)
        .and_then(|v| v.dyn_into::<Uint8Array>().ok())
        .map(|a| a.to_vec())
        .ok_or_else(|| StorageError::Unreadable(format!("a stored record has no {name}")))
}

/// Whether a stored value is sealed (and not a record in clear from before encryption).
pub(super) fn is_sealed(value: &JsValue) -> bool {
    get(value, "ct").is_some()
}

/// A record of `store` read back from IndexedDB, opened with the data key. A record that was
/// moved to another key or case, altered, or stored in clear does not open.
pub async fn decode<T: DeserializeOwned>(store: &str, value: JsValue) -> Result<T> {
    let key = crypto::key()?;
    open(store, &value, &key).await
}

async fn open<T: DeserializeOwned>(store: &str, value: &JsValue, key: &CryptoKey) -> Result<T> {
    let id = get(value, key_path(store))
        .and_then(|v| v.as_string())
        .ok_or_else(|| StorageError::Unreadable("a stored record has no key".to_owned()))?;
    let case_id = if by_case(store) {
        get(value, "case_id").and_then(|v| v.as_string())
    } else {
        None
    };
    let plain = crypto::open(
        key,
        &aad(store, &id, case_id.as_deref()),
        &bytes(value, "iv")?,
        &bytes(value, "ct")?,
    )
    .await?;
    serde_json::from_slice(&plain).map_err(|e| StorageError::Unreadable(e.to_string()))
}

/// The record found, if any, opened.
pub async fn decode_found<T: DeserializeOwned>(
    store: &str,
    found: Option<JsValue>,
) -> Result<Option<T>> {
    match found {
        Some(value) => decode(store, value).await.map(Some),
        None => Ok(None),
    }
}

/// Records of `store` opened together (WebCrypto works on them in parallel).
pub async fn decode_all<T: DeserializeOwned>(store: &str, values: Vec<JsValue>) -> Result<Vec<T>> {
    let key = crypto::key()?;
    futures::future::try_join_all(values.iter().map(|v| open(store, v, &key))).await
}
