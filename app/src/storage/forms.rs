//! Form definitions kept on the phone, as the server last sent them, so that forms open
//! without a connection. They hold no one's data and are kept in clear: the app loads them
//! before it is unlocked.

use rexie::TransactionMode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::codec::{decode_clear, in_clear};
use super::{Result, Storage, Write, stores};

/// A form definition as JSON text; the app parses (and checks) it when it opens the form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredForm {
    pub id: String,
    pub version: u32,
    pub json: String,
}

impl Storage {
    pub async fn put_form(&self, form: &StoredForm) -> Result<()> {
        self.commit(vec![Write::PutClear {
            store: stores::FORMS,
            value: in_clear(form)?,
        }])
        .await
    }

    pub async fn form(&self, id: &str) -> Result<Option<StoredForm>> {
        let tx = self.transaction(stores::FORMS, TransactionMode::ReadOnly)?;
        let found = tx.store(stores::FORMS)?.get(JsValue::from_str(id)).await?;
        found.map(decode_clear).transpose()
    }
}
