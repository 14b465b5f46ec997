//! The form definitions this server hands to phones: the ones built into the binary
//! (`forms/*.json`), or those of a folder given at start (`--forms-dir`), so an agency can
//! adapt a form by editing its file and restarting, without recompiling. Every definition is
//! checked at start; a broken one stops the server with the file and the problem named.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cris_core::api::FormSummary;
use cris_core::form::{FormDef, FormError};

#[derive(rust_embed::Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../forms"]
pub(crate) struct Embedded;

/// Why the forms could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FormsError {
    #[error("cannot read the forms folder {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("form file {file}: {error}")]
    Invalid { file: String, error: FormError },
    #[error("form file {file} holds the form {id:?}: name the file {id}.json")]
    Misnamed { file: String, id: String },
    #[error("version {version} of the form {id:?} kept in the store: {error}")]
    Held {
        id: String,
        version: u32,
        error: FormError,
    },
    #[error("{0}")]
    Store(#[from] crate::StoreError),
}

/// The catalog served now, replaced whole when an admin publishes a form: a request keeps the
/// catalog it took for as long as it needs it.
#[derive(Clone, Debug)]
pub struct Served(Arc<std::sync::RwLock<Arc<FormCatalog>>>);

impl Served {
    pub fn new(catalog: Arc<FormCatalog>) -> Served {
        Served(Arc::new(std::sync::RwLock::new(catalog)))
    }

    /// The forms served at this moment.
    pub fn now(&self) -> Arc<FormCatalog> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Serves `form` from now on, unless `check` refuses the catalog it joins (the current
    /// one, read under the same lock: two publishings never both pass a check on the same).
    pub fn publish<E>(
        &self,
        form: FormDef,
        check: impl FnOnce(&FormCatalog) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut served = self.0.write().unwrap_or_else(|e| e.into_inner());
        check(&served)?;
        *served = Arc::new(served.with(form));
        Ok(())
    }

    /// Takes up what another server on the same store published since this one started (or
    /// last looked): one small query when nothing is new. A store that cannot be asked leaves
    /// the forms as they are (said in the log).
    pub async fn catch_up(&self, store: &crate::CaseStore) {
        if let Err(why) = self.try_catch_up(store).await {
            tracing::warn!(error = %why, "the forms published on the store could not be read");
        }
    }

    async fn try_catch_up(&self, store: &crate::CaseStore) -> Result<(), FormsError> {
        let newest = store.newest_forms().await?;
        let known = self.now();
        if newest
            .iter()
            .all(|(id, version)| known.get_version(id, *version).is_some())
        {
            return Ok(());
        }
        let held = store.remember_forms(&[], 0).await?;
        let mut served = self.0.write().unwrap_or_else(|e| e.into_inner());
        *served = Arc::new(FormCatalog::clone(&served).take_held(held)?);
        Ok(())
    }
}

/// Checked form definitions by id, and the earlier versions the store keeps.
#[derive(Clone, Debug, Default)]
pub struct FormCatalog {
    forms: BTreeMap<String, Arc<FormDef>>,
    /// Versions no longer served, by (id, version): an operation made under one (on a phone
    /// that was offline while the form changed) is checked against it.
    earlier: BTreeMap<(String, u32), Arc<FormDef>>,
}

impl FormCatalog {
    /// The forms built into this binary.
    pub fn embedded() -> Result<Self, FormsError> {
        // Form definitions only: the consent texts live in their own folder.
        let files = Embedded::iter()
            .filter(|name| name.ends_with(".json") && !name.contains('/'))
            .filter_map(|name| {
                let file = Embedded::get(&name)?;
                Some((
                    name.into_owned(),
                    String::from_utf8_lossy(&file.data).into_owned(),
                ))
            });
        Self::from_files(files)
    }

    /// Every `*.json` file in `dir`.
    pub fn from_dir(dir: &Path) -> Result<Self, FormsError> {
        let read_err = |source| FormsError::Read {
            path: dir.to_owned(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_err)? {
            let path = entry.map_err(read_err)?.path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).map_err(read_err)?;
                files.push((
                    path.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned(),
                    text,
                ));
            }
        }
        Self::from_files(files)
    }

    fn from_files(files: impl IntoIterator<Item = (String, String)>) -> Result<Self, FormsError> {
        let mut forms = BTreeMap::new();
        for (file, text) in files {
            let form = FormDef::from_json(&text).map_err(|error| FormsError::Invalid {
                file: file.clone(),
                error,
            })?;
            if file.strip_suffix(".json") != Some(form.id.as_str()) {
                return Err(FormsError::Misnamed { file, id: form.id });
            }
            forms.insert(form.id.clone(), Arc::new(form));
        }
        Ok(FormCatalog {
            forms,
            earlier: BTreeMap::new(),
        })
    }

    /// Keeps this catalog's forms in `store` (so that later servers know them too) and takes
    /// every earlier version the store holds.
    pub async fn remember_in(
        self,
        store: &crate::CaseStore,
        now_ms: i64,
    ) -> Result<Self, FormsError> {
        let current: Vec<crate::store::HeldForm> = self
            .forms
            .values()
            .map(|f| {
                let definition = serde_json::to_string(&**f).expect("a form serializes");
                (f.id.clone(), f.version, definition)
            })
            .collect();
        let held = store.remember_forms(&current, now_ms).await?;
        self.take_held(held)
    }

    /// Takes every earlier version the store holds, keeping nothing in it: for a command that
    /// reads the store while the servers serve their own forms (`cris-server export`).
    pub async fn held_in(self, store: &crate::CaseStore) -> Result<Self, FormsError> {
        // Nothing is kept, so no time is recorded.
        let held = store.remember_forms(&[], 0).await?;
        self.take_held(held)
    }

    /// Takes the versions the store holds: earlier ones to check old operations against,
    /// and a later one than the files give (published by an admin) to serve.
    fn take_held(mut self, held: Vec<crate::store::HeldForm>) -> Result<Self, FormsError> {
        for (id, version, definition) in held {
            if self.get_version(&id, version).is_some() {
                continue;
            }
            let form = FormDef::from_json(&definition).map_err(|error| FormsError::Held {
                id: id.clone(),
                version,
                error,
            })?;
            if self
                .forms
                .get(&id)
                .is_none_or(|served| served.version < version)
            {
                self = self.with(form);
            } else {
                self.earlier.insert((id, version), Arc::new(form));
            }
        }
        Ok(self)
    }

    /// This catalog with `form` served, the version it replaces kept as an earlier one.
    fn with(&self, form: FormDef) -> FormCatalog {
        let mut next = self.clone();
        if let Some(old) = next.forms.remove(&form.id) {
            next.earlier.insert((old.id.clone(), old.version), old);
        }
        next.forms.insert(form.id.clone(), Arc::new(form));
        next
    }

    /// The form served now.
    pub fn get(&self, id: &str) -> Option<Arc<FormDef>> {
        self.forms.get(id).cloned()
    }

    /// Every form served now.
    pub fn all(&self) -> Vec<Arc<FormDef>> {
        self.forms.values().cloned().collect()
    }

    /// A form in the given version: the one served now or an earlier one.
    pub fn get_version(&self, id: &str, version: u32) -> Option<Arc<FormDef>> {
        self.get(id)
            .filter(|f| f.version == version)
            .or_else(|| self.earlier.get(&(id.to_owned(), version)).cloned())
    }

    /// Every version of a form this catalog knows (served now or earlier), newest first.
    pub fn versions(&self, id: &str) -> Vec<Arc<FormDef>> {
        let mut versions: Vec<Arc<FormDef>> = self
            .earlier
            .range((id.to_owned(), 0)..=(id.to_owned(), u32::MAX))
            .map(|(_, form)| form.clone())
            .chain(self.get(id))
            .collect();
        versions.sort_by_key(|f| std::cmp::Reverse(f.version));
        versions
    }

    /// The ids of every form this catalog knows, served now or earlier, sorted.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .forms
            .keys()
            .chain(self.earlier.keys().map(|(id, _)| id))
            .cloned()
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    pub fn summaries(&self) -> Vec<FormSummary> {
        self.forms
            .values()
            .map(|f| FormSummary {
                id: f.id.clone(),
                version: f.version,
                title: f.title.clone(),
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.forms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_forms_load() {
        let catalog = FormCatalog::embedded().unwrap();
        let ids: Vec<String> = catalog.summaries().into_iter().map(|s| s.id).collect();
        assert_eq!(ids, ["home_visit", "intake"]);
    }

    #[test]
    fn a_broken_or_misnamed_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("visit.json"),
            "{\"id\": \"visit\", \"version\": 1,}",
        )
        .unwrap();
        let err = FormCatalog::from_dir(dir.path()).unwrap_err().to_string();
        assert!(err.starts_with("form file visit.json: "), "{err}");

        let intake =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../forms/intake.json"))
                .unwrap();
        std::fs::write(dir.path().join("visit.json"), intake).unwrap();
        let err = FormCatalog::from_dir(dir.path()).unwrap_err().to_string();
        assert_eq!(
            err,
            "form file visit.json holds the form \"intake\": name the file intake.json"
        );

        let err = FormCatalog::from_dir(&dir.path().join("missing")).unwrap_err();
        assert!(matches!(err, FormsError::Read { .. }));
    }
}
