//! The worker's inbox: forms the supervisor sent back with a comment, as the server listed
//! them at the last sync, so the phone shows them offline.

use cris_core::api::Inbox;
use rexie::TransactionMode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::codec::{decode_found, encode};
use super::{Result, Storage, Write, stores};

#[derive(Serialize, Deserialize)]
struct StoredInbox {
    key: String,
    inbox: Inbox,
}

pub(super) const INBOX_KEY: &str = "inbox";

impl Storage {
    /// The inbox as last fetched (empty before the first fetch).
    pub async fn inbox(&self) -> Result<Inbox> {
        let tx = self.transaction(stores::META, TransactionMode::ReadOnly)?;
        let found = tx
            .store(stores::META)?
            .get(JsValue::from_str(INBOX_KEY))
            .await?;
        Ok(decode_found::<StoredInbox>(stores::META, found)
            .await?
            .map(|s| s.inbox)
            .unwrap_or(Inbox { items: Vec::new() }))
    }

    pub async fn put_inbox(&self, inbox: &Inbox) -> Result<()> {
        self.commit(vec![Write::Put {
            store: stores::META,
            value: encode(&StoredInbox {
                key: INBOX_KEY.to_owned(),
                inbox: inbox.clone(),
            })?,
        }])
        .await
    }
}
