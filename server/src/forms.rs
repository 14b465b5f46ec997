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
struct Embedded;

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
}

/// Checked form definitions by id.
#[derive(Debug, Default)]
pub struct FormCatalog {
    forms: BTreeMap<String, Arc<FormDef>>,
}

impl FormCatalog {
    /// The forms built into this binary.
    pub fn embedded() -> Result<Self, FormsError> {
        let files = Embedded::iter()
            .filter(|name| name.ends_with(".json"))
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
        Ok(FormCatalog { forms })
    }

    pub fn get(&self, id: &str) -> Option<Arc<FormDef>> {
        self.forms.get(id).cloned()
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
