//! Form definitions kept on the phone, as the server last sent them, so that forms open
//! without a connection; and the older versions that drafts on the phone were begun on, so
//! that a draft finishes on the version it was begun on when a newer one has arrived. They
//! hold no one's data and are kept in clear: the app loads them before it is unlocked.

use rexie::TransactionMode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::codec::{decode_clear, in_clear};
use super::{Result, Storage, StorageError, Write, stores};

/// A form definition as JSON text; the app parses (and checks) it when it opens the form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredForm {
    pub id: String,
    pub version: u32,
    pub json: String,
}

/// An older version, as the `form_versions` store keeps it: under `id@version`.
#[derive(Serialize, Deserialize)]
struct KeptVersion {
    key: String,
    id: String,
    version: u32,
    json: String,
}

impl KeptVersion {
    fn of(form: &StoredForm) -> Self {
        KeptVersion {
            key: version_key(&form.id, form.version),
            id: form.id.clone(),
            version: form.version,
            json: form.json.clone(),
        }
    }

    fn form(self) -> StoredForm {
        StoredForm {
            id: self.id,
            version: self.version,
            json: self.json,
        }
    }
}

fn version_key(id: &str, version: u32) -> String {
    format!("{id}@{version}")
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

    /// The older version `version` of form `id`, if a draft kept it.
    pub async fn form_version(&self, id: &str, version: u32) -> Result<Option<StoredForm>> {
        let tx = self.transaction(stores::FORM_VERSIONS, TransactionMode::ReadOnly)?;
        let found = tx
            .store(stores::FORM_VERSIONS)?
            .get(JsValue::from_str(&version_key(id, version)))
            .await?;
        Ok(found
            .map(decode_clear::<KeptVersion>)
            .transpose()?
            .map(KeptVersion::form))
    }

    /// Every older version kept.
    pub async fn kept_form_versions(&self) -> Result<Vec<StoredForm>> {
        let tx = self.transaction(stores::FORM_VERSIONS, TransactionMode::ReadOnly)?;
        let values = tx.store(stores::FORM_VERSIONS)?.get_all(None, None).await?;
        values
            .into_iter()
            .map(|v| decode_clear::<KeptVersion>(v).map(KeptVersion::form))
            .collect()
    }

    /// Keeps the versions in `replaced` (definitions a newer version is replacing) that a
    /// draft on the phone was begun on, and lets go of the kept versions no draft names any
    /// more, in one transaction. Locked, the phone cannot read its drafts: it keeps every
    /// replaced version and lets go of none.
    pub async fn keep_forms_for_drafts(&self, replaced: &[StoredForm]) -> Result<()> {
        let drafts = match self.drafts().await {
            Ok(drafts) => Some(drafts),
            Err(StorageError::Locked) => None,
            Err(e) => return Err(e),
        };
        let needed = |form: &StoredForm| {
            drafts.as_ref().is_none_or(|drafts| {
                drafts
                    .iter()
                    .any(|d| d.form_id == form.id && d.form_version == form.version)
            })
        };
        let mut writes = Vec::new();
        for form in replaced.iter().filter(|f| needed(f)) {
            writes.push(Write::PutClear {
                store: stores::FORM_VERSIONS,
                value: in_clear(&KeptVersion::of(form))?,
            });
        }
        for kept in self.kept_form_versions().await? {
            if !needed(&kept) {
                writes.push(Write::Delete {
                    store: stores::FORM_VERSIONS,
                    key: version_key(&kept.id, kept.version),
                });
            }
        }
        if writes.is_empty() {
            return Ok(());
        }
        self.commit(writes).await
    }
}
