//! The one boundary between Rust records and what IndexedDB stores. Encryption at rest will
//! wrap these two functions.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

use super::{Result, StorageError};

/// A record as IndexedDB stores it. Maps become plain objects (not JS `Map`s), so that key
/// paths such as `id` resolve.
pub fn encode<T: Serialize>(record: &T) -> Result<JsValue> {
    record
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| StorageError::Failed(format!("cannot encode a record: {e}")))
}

/// A record read back from IndexedDB.
pub fn decode<T: DeserializeOwned>(value: JsValue) -> Result<T> {
    serde_wasm_bindgen::from_value(value).map_err(|e| StorageError::Unreadable(e.to_string()))
}
