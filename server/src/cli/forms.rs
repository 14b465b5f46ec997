//! `cris-server forms import FILE.xlsx [--out DIR]` and `cris-server forms export ID --out
//! FILE.xlsx`: forms as XLSForm spreadsheets (see [`cris_server::xlsform`]).

use std::path::{Path, PathBuf};

use cris_server::FormCatalog;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum FormsAction {
    /// Reads an XLSForm (.xlsx) and checks it as the server checks its forms; with --out,
    /// writes it as DIR/<form_id>.json for `serve --forms-dir DIR`, else prints the JSON.
    Import {
        file: PathBuf,
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Writes a form the server serves as an XLSForm, to change in a spreadsheet.
    Export {
        /// The form's id, e.g. home_visit.
        id: String,
        #[arg(long, value_name = "FILE.xlsx")]
        out: PathBuf,
        /// The forms the server serves with --forms-dir (the built-in ones unless told).
        #[arg(long, value_name = "DIR")]
        forms_dir: Option<PathBuf>,
    },
}

pub(crate) fn forms(action: FormsAction) -> Result<(), String> {
    match action {
        FormsAction::Import { file, out } => import(&file, out.as_deref()),
        FormsAction::Export { id, out, forms_dir } => {
            let catalog = match &forms_dir {
                Some(dir) => FormCatalog::from_dir(dir),
                None => FormCatalog::embedded(),
            }
            .map_err(|e| e.to_string())?;
            let form = catalog.get(&id).ok_or_else(|| {
                let known: Vec<String> = catalog.all().iter().map(|f| f.id.clone()).collect();
                format!("no form {id:?} (the forms: {})", known.join(", "))
            })?;
            let bytes = cris_server::xlsform::write(&form).map_err(|e| e.to_string())?;
            std::fs::write(&out, bytes)
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            println!(
                "{} version {} written to {}",
                form.id,
                form.version,
                out.display()
            );
            Ok(())
        }
    }
}

fn import(file: &Path, out: Option<&Path>) -> Result<(), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let form = cris_server::xlsform::read(&bytes).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&form).map_err(|e| e.to_string())? + "\n";
    match out {
        None => print!("{json}"),
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let path = dir.join(format!("{}.json", form.id));
            std::fs::write(&path, json)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!(
                "{} version {} written to {}",
                form.id,
                form.version,
                path.display()
            );
        }
    }
    Ok(())
}
