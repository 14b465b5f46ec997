//! Consents and withdrawals kept on the phone (`consents`, by case), and what the phone needs
//! to take one offline: the agency's details and the texts, as the server last sent them.

use cris_core::Lang;
use cris_core::api::ConsentSetup;
use cris_core::consent::{Consent, IdentityCheck, Record, Signature, SignerRole, Withdrawal};
use cris_core::hlc::Clock;
use cris_core::record::Operation;
use rexie::TransactionMode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::codec::{decode_all, decode_found, encode};
use super::records::clock_write;
use super::{Result, Storage, StorageError, Write, stores};

/// A consent or withdrawal just sealed on the phone, and the operation that carries it to
/// the server.
#[derive(Clone, Debug)]
pub struct SavedConsent {
    pub record: Record,
    pub operation: Operation,
}

/// A consent or withdrawal as the `consents` store keeps it: its id and case at the top for
/// the key and the index. (Reading [`Record`]'s internally tagged form would buffer every
/// record and ship serde's buffering code in the app.)
#[derive(Serialize, Deserialize)]
pub(super) struct Kept {
    id: String,
    case_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    consent: Option<Box<Consent>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    withdrawal: Option<Box<Withdrawal>>,
}

impl Kept {
    pub(super) fn of(record: &Record) -> Self {
        let (consent, withdrawal) = match record {
            Record::Consent(c) => (Some(c.clone()), None),
            Record::Withdrawal(w) => (None, Some(w.clone())),
        };
        Kept {
            id: record.id().to_owned(),
            case_id: record.case_id().to_owned(),
            consent,
            withdrawal,
        }
    }

    fn record(self) -> Option<Record> {
        self.consent
            .map(Record::Consent)
            .or(self.withdrawal.map(Record::Withdrawal))
    }
}

/// A consent being taken, kept while the family reads and signs, so that a call, another app
/// or a crash does not make them start again. Removed when the consent is saved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentDraft {
    pub case_id: String,
    pub lang: Lang,
    /// The screen they were on.
    pub step: usize,
    pub purposes: Vec<String>,
    pub releases: Vec<ReleaseDraft>,
    pub signature: Signature,
    pub signer: String,
    pub role: SignerRole,
    pub interpreter: String,
    pub identity: Option<IdentityCheck>,
}

/// A release being chosen: `until` is `once`, `until` (then `date`) or `recurring`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseDraft {
    pub recipient: String,
    pub records: Vec<String>,
    pub purpose: String,
    pub until: String,
    pub date: String,
}

#[derive(Serialize, Deserialize)]
struct StoredDraft {
    key: String,
    draft: ConsentDraft,
}

pub(super) fn draft_key(case_id: &str) -> String {
    format!("consent-draft:{case_id}")
}

/// The consent set-up in the `meta` store.
#[derive(Serialize, Deserialize)]
struct StoredSetup {
    key: String,
    setup: ConsentSetup,
}

const SETUP_KEY: &str = "consent-setup";

impl Storage {
    /// Keeps the records, puts their operations in the outbox, saves the clock after
    /// stamping them and removes the consent draft of `draft_of` (a case), in one transaction.
    pub async fn save_consents(
        &self,
        saved: &[SavedConsent],
        clock: Clock,
        draft_of: Option<&str>,
    ) -> Result<()> {
        let mut writes = Vec::new();
        if let Some(case_id) = draft_of {
            writes.push(Write::Delete {
                store: stores::META,
                key: draft_key(case_id),
            });
        }
        for s in saved {
            writes.push(Write::Put {
                store: stores::CONSENTS,
                value: encode(&Kept::of(&s.record))?,
            });
            writes.push(Write::Put {
                store: stores::OUTBOX,
                value: encode(&s.operation)?,
            });
        }
        writes.push(clock_write(clock)?);
        self.commit(writes).await
    }

    /// The consents and withdrawals of one case, in no particular order.
    pub async fn consents_of(&self, case_id: &str) -> Result<Vec<Record>> {
        let tx = self.transaction(stores::CONSENTS, TransactionMode::ReadOnly)?;
        let index = tx.store(stores::CONSENTS)?.index("by_case")?;
        let range = rexie::KeyRange::only(&JsValue::from_str(case_id))
            .map_err(|e| StorageError::Failed(format!("{e:?}")))?;
        let values = index.get_all(Some(range), None).await?;
        let kept: Vec<Kept> = decode_all(stores::CONSENTS, values).await?;
        Ok(kept.into_iter().filter_map(Kept::record).collect())
    }

    /// The consents and withdrawals of a household: its own and those signed under the
    /// households merged into it, in no particular order.
    pub async fn household_consents(&self, case_id: &str) -> Result<Vec<Record>> {
        let members = match self.household(case_id).await? {
            Some(household) => household.members,
            None => vec![case_id.to_owned()],
        };
        let mut records = Vec::new();
        for id in &members {
            records.extend(self.consents_of(id).await?);
        }
        Ok(records)
    }

    /// What the phone needs to take a consent, if the server has sent it.
    pub async fn consent_setup(&self) -> Result<Option<ConsentSetup>> {
        let tx = self.transaction(stores::META, TransactionMode::ReadOnly)?;
        let found = tx
            .store(stores::META)?
            .get(JsValue::from_str(SETUP_KEY))
            .await?;
        Ok(decode_found::<StoredSetup>(stores::META, found)
            .await?
            .map(|s| s.setup))
    }

    /// The consent being taken for a household, if one was begun and not saved.
    pub async fn consent_draft(&self, case_id: &str) -> Result<Option<ConsentDraft>> {
        let tx = self.transaction(stores::META, TransactionMode::ReadOnly)?;
        let found = tx
            .store(stores::META)?
            .get(JsValue::from_str(&draft_key(case_id)))
            .await?;
        Ok(decode_found::<StoredDraft>(stores::META, found)
            .await?
            .map(|s| s.draft))
    }

    pub async fn put_consent_draft(&self, draft: &ConsentDraft) -> Result<()> {
        self.commit(vec![Write::Put {
            store: stores::META,
            value: encode(&StoredDraft {
                key: draft_key(&draft.case_id),
                draft: draft.clone(),
            })?,
        }])
        .await
    }

    pub async fn delete_consent_draft(&self, case_id: &str) -> Result<()> {
        self.commit(vec![Write::Delete {
            store: stores::META,
            key: draft_key(case_id),
        }])
        .await
    }

    pub async fn put_consent_setup(&self, setup: &ConsentSetup) -> Result<()> {
        self.commit(vec![Write::Put {
            store: stores::META,
            value: encode(&StoredSetup {
                key: SETUP_KEY.to_owned(),
                setup: setup.clone(),
            })?,
        }])
        .await
    }
}
