//! Drafts: forms being filled, saved while the worker types, until finalized or discarded.

use cris_core::form::Answers;
use rexie::TransactionMode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::codec::{decode_all, decode_found, encode};
use super::{Result, Storage, Write, stores};

/// A form being filled on this phone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// Made on the phone when the form is started; becomes the submission's id.
    pub id: String,
    pub form_id: String,
    pub form_version: u32,
    /// The household, when the form belongs to an existing case.
    pub case_id: Option<String>,
    pub answers: Answers,
    /// When the form was started, in milliseconds since 1970 (the phone's clock).
    #[serde(default)]
    pub started_at_ms: f64,
    /// When it was last saved, in milliseconds since 1970 (the phone's clock).
    pub updated_at_ms: f64,
    /// The finalized submission this draft corrects, if it is a correction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
    /// Why the worker corrects it (typed above the form of a correction).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The team a new household joins, chosen by someone in several teams ("" not chosen).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub team: String,
}

impl Storage {
    /// Saves a draft, replacing an older save of the same draft. Returns once it is on disk.
    pub async fn put_draft(&self, draft: &Draft) -> Result<()> {
        self.commit(vec![Write::Put {
            store: stores::DRAFTS,
            value: encode(draft)?,
        }])
        .await
    }

    /// The draft with this id, if there is one.
    pub async fn draft(&self, id: &str) -> Result<Option<Draft>> {
        let tx = self.transaction(stores::DRAFTS, TransactionMode::ReadOnly)?;
        let found = tx.store(stores::DRAFTS)?.get(JsValue::from_str(id)).await?;
        decode_found(stores::DRAFTS, found).await
    }

    /// Every draft on the phone, the most recently saved first.
    pub async fn drafts(&self) -> Result<Vec<Draft>> {
        let tx = self.transaction(stores::DRAFTS, TransactionMode::ReadOnly)?;
        let values = tx.store(stores::DRAFTS)?.get_all(None, None).await?;
        let mut drafts: Vec<Draft> = decode_all(stores::DRAFTS, values).await?;
        drafts.sort_by(|a, b| b.updated_at_ms.total_cmp(&a.updated_at_ms));
        Ok(drafts)
    }

    /// Keeps a draft under a new id, in one transaction: for a draft saved under the id of a
    /// form finalized before (an older app let the Back button reopen a finalized form as
    /// an empty one), whose answers are another form's and must not be lost. Returns the
    /// draft as kept.
    pub async fn move_draft(&self, draft: &Draft, new_id: &str) -> Result<Draft> {
        let moved = Draft {
            id: new_id.to_owned(),
            ..draft.clone()
        };
        self.commit(vec![
            Write::Put {
                store: stores::DRAFTS,
                value: encode(&moved)?,
            },
            Write::Delete {
                store: stores::DRAFTS,
                key: draft.id.clone(),
            },
        ])
        .await?;
        Ok(moved)
    }

    /// Removes a draft (after the worker confirmed discarding it, or once finalized), and the
    /// household it was for when nothing else is left of it: a form the server refused,
    /// reopened and then discarded, leaves an empty household that no server knows.
    pub async fn delete_draft(&self, id: &str) -> Result<()> {
        let mut writes = vec![Write::Delete {
            store: stores::DRAFTS,
            key: id.to_owned(),
        }];
        if let Some(case_id) = self.draft(id).await?.and_then(|d| d.case_id)
            && self.nothing_left_of(&case_id, id).await?
        {
            writes.push(Write::Delete {
                store: stores::CASES,
                key: case_id,
            });
        }
        self.commit(writes).await
    }

    /// Whether the household `case_id` is on this phone with nothing in it: no property, no
    /// merge, no form, consent or operation, and no draft but `draft_id`.
    async fn nothing_left_of(&self, case_id: &str, draft_id: &str) -> Result<bool> {
        let Some(case) = self.case(case_id).await? else {
            return Ok(false);
        };
        let bare = case.fields.0.is_empty()
            && case.merges.is_empty()
            && case.unmerged.is_empty()
            && case.distinct_from.is_empty();
        Ok(bare
            && self.submissions_of(case_id).await?.is_empty()
            && self.consents_of(case_id).await?.is_empty()
            && !self.outbox().await?.iter().any(|op| op.case_id == case_id)
            && !self
                .drafts()
                .await?
                .iter()
                .any(|d| d.id != draft_id && d.case_id.as_deref() == Some(case_id)))
    }
}
