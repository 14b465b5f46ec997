//! The form definitions the phone fills: as the server last sent them (kept in IndexedDB), or
//! the copies shipped with the app (precached by the service worker) until the server was
//! reached once. Definitions are data: partners change them on the server, not in the app.

use std::collections::BTreeMap;
use std::sync::Arc;

use cris_core::api::FormSummary;
use cris_core::form::FormDef;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::storage::{self, StoredForm};

/// The forms the app offers.
pub const SHIPPED: [&str; 2] = [cris_core::caseload::INTAKE, cris_core::caseload::HOME_VISIT];

/// The loaded definitions, shared through the component tree. `None` while loading.
#[derive(Clone, Copy, Debug)]
pub struct FormCatalog {
    pub forms: RwSignal<Option<BTreeMap<String, Arc<FormDef>>>>,
    /// Why a form could not be loaded, for the screen that needs it.
    pub problem: RwSignal<Option<String>>,
}

impl FormCatalog {
    pub fn get(&self, id: &str) -> Option<Arc<FormDef>> {
        self.forms
            .with(|f| f.as_ref().and_then(|f| f.get(id).cloned()))
    }

    /// A form's title in the chosen language (its id while the forms are loading).
    pub fn title(&self, id: &str, lang: cris_core::Lang) -> String {
        self.get(id)
            .map_or_else(|| id.to_owned(), |f| f.title.get(lang).to_owned())
    }

    pub fn loaded(&self) -> bool {
        self.forms.with(Option::is_some)
    }
}

pub fn use_forms() -> FormCatalog {
    expect_context::<FormCatalog>()
}

/// Loads the forms from the phone, then asks the server for newer ones.
pub fn load() -> FormCatalog {
    let catalog = FormCatalog {
        forms: RwSignal::new(None),
        problem: RwSignal::new(None),
    };
    crate::perf::start(crate::perf::FORMS_LOAD);
    leptos::task::spawn_local(async move {
        let mut loaded = BTreeMap::new();
        for id in SHIPPED {
            match local(id).await {
                Ok(form) => {
                    loaded.insert(id.to_owned(), Arc::new(form));
                }
                Err(why) => catalog.problem.set(Some(format!("{id}: {why}"))),
            }
        }
        catalog.forms.set(Some(loaded));
        crate::perf::end(crate::perf::FORMS_LOAD);
        refresh(catalog).await;
    });
    catalog
}

/// The definition kept on the phone, else the one shipped with the app.
async fn local(id: &str) -> Result<FormDef, String> {
    let db = storage::shared().await.map_err(|e| e.to_string())?;
    if let Ok(Some(stored)) = db.form(id).await
        && let Ok(form) = FormDef::from_json(&stored.json)
    {
        return Ok(form);
    }
    let text = fetch_text(&format!("/forms/{id}.json")).await?;
    FormDef::from_json(&text).map_err(|e| e.to_string())
}

/// Fetches the server's definitions and keeps those newer than the phone's; the versions
/// they replace are kept while a draft was begun on them. Offline, or with a server that
/// cannot be reached, the phone's definitions stay as they are.
pub async fn refresh(catalog: FormCatalog) {
    let Ok(list) = fetch_text("/api/v1/forms").await else {
        return;
    };
    let Ok(list) = serde_json::from_slice::<Vec<FormSummary>>(list.as_bytes()) else {
        return;
    };
    let Ok(db) = storage::shared().await else {
        return;
    };
    let mut replaced = Vec::new();
    for summary in list
        .into_iter()
        .filter(|s| SHIPPED.contains(&s.id.as_str()))
    {
        let current = catalog.get(&summary.id);
        let stored = db.form(&summary.id).await.ok().flatten();
        if stored.is_some()
            && current
                .as_ref()
                .is_some_and(|f| f.version >= summary.version)
        {
            continue;
        }
        let Ok(json) = fetch_text(&format!("/api/v1/forms/{}", summary.id)).await else {
            continue;
        };
        let Ok(form) = FormDef::from_json(&json) else {
            leptos::logging::warn!("the server sent a form that does not load: {}", summary.id);
            continue;
        };
        // What the phone filled until now: as kept, or as shipped with the app.
        if let Some(current) = current.filter(|c| c.version != form.version) {
            let json = match stored {
                Some(stored) if stored.version == current.version => Some(stored.json),
                _ => serde_json::to_string(&*current).ok(),
            };
            replaced.extend(json.map(|json| StoredForm {
                id: current.id.clone(),
                version: current.version,
                json,
            }));
        }
        let keep = StoredForm {
            id: form.id.clone(),
            version: form.version,
            json,
        };
        if db.put_form(&keep).await.is_ok() {
            catalog.forms.update(|forms| {
                forms
                    .get_or_insert_default()
                    .insert(form.id.clone(), Arc::new(form));
            });
        }
    }
    if let Err(why) = db.keep_forms_for_drafts(&replaced).await {
        leptos::logging::warn!("older form versions not kept: {why}");
    }
}

/// The definition a saved draft was begun on: the phone's current one, or the older version
/// kept for it. `None` when the phone has neither (the draft then goes on in the current
/// version, if there is one).
pub async fn of_draft(
    catalog: FormCatalog,
    db: &storage::Storage,
    form_id: &str,
    version: u32,
) -> Option<Arc<FormDef>> {
    let current = catalog.get(form_id);
    if current.as_ref().is_some_and(|f| f.version == version) {
        return current;
    }
    match db.form_version(form_id, version).await {
        Ok(Some(kept)) => FormDef::from_json(&kept.json)
            .ok()
            .map(Arc::new)
            .or(current),
        _ => current,
    }
}

/// GETs a same-origin URL as text; an HTTP error status is an error.
pub(crate) async fn fetch_text(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| format!("{url}: no connection"))?
        .dyn_into::<web_sys::Response>()
        .map_err(|_| format!("{url}: not a response"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let text = response.text().map_err(|_| format!("{url}: no body"))?;
    JsFuture::from(text)
        .await
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| format!("{url}: unreadable body"))
}
