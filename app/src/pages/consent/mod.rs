//! Consents on the phone: the flow a family goes through (the information notice, consents
//! per purpose, releases from confidentiality, the signature), the copy for the family, a
//! withdrawal, and the household's consent state on the case page. Everything works offline
//! with the texts and the agency's details the phone got at its last sync.
//!
//! The family-facing screens speak the family's language (chosen on the first screen), which
//! may differ from the worker's.

mod choices;
mod flow;
mod pad;
mod receipt;
mod state;
mod summary;
mod withdraw;

use std::sync::Arc;

use cris_core::Lang;
use cris_core::consent::text::{Agency, ConsentText, fill};
use cris_core::consent::{Problem, Record, Sealed};
use cris_core::form::Labels;
use cris_core::record::Operation;
use leptos::prelude::*;

use crate::i18n::{Ui, ui};
use crate::storage::{self, SavedConsent, StorageError};

pub use flow::Consent;
pub use receipt::Receipt;
pub use summary::ConsentSummary;
pub use withdraw::Withdraw;

/// The id of the information notice and of the consent text (`forms/consent/`).
const NOTICE: &str = "notice";
const CONSENT: &str = "consent";

/// The texts and the agency's details, as the phone last got them.
#[derive(Clone, Debug)]
pub struct Setup {
    pub agency: Agency,
    pub notice: Arc<ConsentText>,
    pub consent: Arc<ConsentText>,
}

impl Setup {
    /// A piece of a text in `lang` with the agency's details in `lang` filled in (as
    /// [`ConsentText::render`] does for the whole).
    pub fn fill(&self, words: &Labels, lang: Lang) -> String {
        let words = words.get(lang);
        fill(words, &self.agency, lang).unwrap_or_else(|_| words.to_owned())
    }

    /// The agency's name as the family reads it in `lang`.
    pub fn agency_name(&self, lang: Lang) -> Option<&str> {
        self.agency
            .get("agency_name")
            .map(|d| d.get(lang))
            .filter(|n| !n.trim().is_empty())
    }

    /// The title of a purpose, recipient or kind of record of the consent text.
    pub fn item_title(&self, id: &str, lang: Lang) -> String {
        let text = &self.consent;
        text.purposes
            .iter()
            .chain(&text.recipients)
            .chain(&text.records)
            .find(|i| i.id == id)
            .map_or_else(|| id.to_owned(), |i| self.fill(&i.title, lang))
    }
}

/// What the phone has to take a consent with; `None` before the first sync that got it.
pub async fn load_setup() -> Result<Option<Setup>, StorageError> {
    let db = storage::shared().await?;
    let Some(setup) = db.consent_setup().await? else {
        return Ok(None);
    };
    let find = |id: &str| {
        setup
            .texts
            .iter()
            .find(|t| t.id == id)
            .cloned()
            .map(Arc::new)
    };
    Ok(find(NOTICE)
        .zip(find(CONSENT))
        .map(|(notice, consent)| Setup {
            agency: setup.agency.clone(),
            notice,
            consent,
        }))
}

/// The consent `id` of a household, as the phone keeps it.
async fn consent_of(
    case_id: &str,
    id: &str,
) -> Result<Option<cris_core::consent::Consent>, StorageError> {
    let db = storage::shared().await?;
    Ok(db
        .consents_of(case_id)
        .await?
        .into_iter()
        .find_map(|r| match r {
            Record::Consent(c) if c.id == id => Some(*c),
            _ => None,
        }))
}

/// Why records were not saved.
#[derive(Clone, Debug)]
enum SaveError {
    /// Something is missing or wrong: nothing was kept.
    Problem(Problem),
    Storage(StorageError),
}

impl From<StorageError> for SaveError {
    fn from(e: StorageError) -> Self {
        SaveError::Storage(e)
    }
}

/// Stamps and seals `records` (consents and withdrawals ready but for their stamp, device
/// and time), and keeps them with the operations that carry them, in one transaction; then
/// asks for a sync. Nothing is kept when one of them is incomplete.
async fn save(
    records: Vec<Record>,
    draft_of: Option<&str>,
    sync: crate::sync::SyncState,
) -> Result<(), SaveError> {
    let db = storage::shared().await?;
    // The clock is shared with finalizing forms and applying pulls.
    let _cases = storage::case_lock().await;
    let device = crate::prefs::device_id();
    let mut clock = db.clock(&device).await?;
    let mut saved = Vec::new();
    for mut record in records {
        let now = crate::clock::now_ms();
        let hlc = clock.stamp(now as u64);
        let change = match &mut record {
            Record::Consent(c) => {
                c.device.clone_from(&device);
                c.hlc = hlc.clone();
                c.signed_at_ms = now as i64;
                **c = (**c).clone().seal().map_err(SaveError::Problem)?;
                cris_core::record::Change::Consent { consent: c.clone() }
            }
            Record::Withdrawal(w) => {
                w.device.clone_from(&device);
                w.hlc = hlc.clone();
                w.at_ms = now as i64;
                **w = (**w).clone().seal().map_err(SaveError::Problem)?;
                cris_core::record::Change::Withdraw {
                    withdrawal: w.clone(),
                }
            }
        };
        let operation = Operation {
            op_id: crate::clock::new_id(),
            device: device.clone(),
            hlc,
            created_at_ms: now,
            case_id: record.case_id().to_owned(),
            change,
        };
        saved.push(SavedConsent { record, operation });
    }
    db.save_consents(&saved, clock, draft_of).await?;
    sync.request(false);
    Ok(())
}

/// The worker taking the record: the account logged in on this phone, and its name where
/// the phone knows it.
fn witness() -> (String, Option<String>) {
    let name = use_context::<crate::sync::SyncState>()
        .and_then(|s| s.session.get_untracked())
        .map(|s| s.user.display_name)
        .filter(|n| !n.trim().is_empty());
    (crate::sync::session::last_login(), name)
}

/// The witness as the family's copy names them: name (or login, for records made before the
/// phone kept names) and the agency.
fn witness_words(login: &str, name: Option<&str>, setup: Option<&Setup>, lang: Lang) -> String {
    let who = name.unwrap_or(login);
    let who = match setup.and_then(|s| s.agency_name(lang)) {
        Some(agency) => format!("{who}, {agency}"),
        None => who.to_owned(),
    };
    ui(lang).witness.replace("{name}", &who)
}

/// What is wrong, in the words of `lang`.
fn problem_text(problem: &Problem, lang: Lang) -> String {
    let u: &Ui = ui(lang);
    match problem {
        Problem::SignatureEmpty => u.signature_empty.to_owned(),
        Problem::SignatureTooSmall => u.signature_too_small.to_owned(),
        Problem::SignerMissing => u.signer_missing.to_owned(),
        Problem::ReleaseIncomplete(_) => u.release_incomplete.to_owned(),
        other => other.to_string(),
    }
}

/// A text's sections, headed, with the agency's details filled in.
fn sections(setup: &Setup, text: &ConsentText, lang: Lang) -> impl IntoView + use<> {
    text.sections
        .iter()
        .map(|s| {
            view! {
                <h3>{setup.fill(&s.heading, lang)}</h3>
                <p class="consent-words">{setup.fill(&s.body, lang)}</p>
            }
        })
        .collect_view()
}

/// The choice of the family's language, itself worded in that language (each language named
/// in its own words).
#[component]
fn FamilyLang(
    /// The control's id, also its `data-testid`.
    id: &'static str,
    #[prop(into)] lang: Signal<Lang>,
    choose: Callback<Lang>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{move || ui(lang.get()).consent_text_lang}</label>
            <select
                autocomplete="off"
                id=id
                data-testid=id
                on:change=move |ev| {
                    if let Ok(l) = event_target_value(&ev).parse::<Lang>() {
                        choose.run(l);
                    }
                }
                prop:value=move || lang.get().code()
            >
                {Lang::ALL
                    .into_iter()
                    .map(|l| view! { <option value=l.code() selected=move || lang.get() == l>{l.native_name()}</option> })
                    .collect_view()}
            </select>
        </div>
    }
}
