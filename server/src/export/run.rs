//! An export from start to end, whoever asks for it (the API, the command line): who may
//! export, the count that refuses too large a file before anything is read, the pages of
//! submissions written while the next is read, and the record of the export and its audit
//! entry, made before the file is handed over.

use std::collections::HashMap;
use std::sync::Arc;

use cris_core::api::{ExportFormat, Role};
use cris_core::form::{FieldType, FormDef};

use super::{Export, Finished, FormLayout, MAX_EXPORT_ROWS, Plan, WriteError};
use crate::store::audit::{Action, AuditEvent};
use crate::store::{
    CaseStore, ExportRow, ExportTally, HeldForm, NewExport, ReviewFilter, StoreError, User,
};
use crate::{FormCatalog, TimeZone, auth};

/// Submissions read from the store at a time: a few megabytes of operations.
const PAGE: usize = 1000;

/// Who makes an export, and how they reached the store: what its record and its audit entry
/// keep.
#[derive(Clone, Debug)]
pub struct Exporter<'a> {
    /// A supervisor or admin, whose teams' cases the rows are of.
    pub user: &'a User,
    /// The device of the session the request came with (none on the command line).
    pub device_id: Option<String>,
    /// The client's address (none on the command line).
    pub address: Option<String>,
    /// Where the export was asked for: `GET /api/v1/export`, `cris-server export`.
    pub endpoint: &'static str,
}

/// An export made and recorded: its file, and what the file holds.
#[derive(Debug)]
pub struct Exported {
    /// The export's id, in its record and in its audit entry.
    pub id: String,
    pub format: ExportFormat,
    /// What the file is called (`cris-home_visit-tr-2026-11-27.csv`).
    pub file_name: String,
    /// Its media type (`text/csv; charset=utf-8`).
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    /// Rows on every sheet, headings not counted.
    pub rows: i64,
    /// The households whose data is in it (as shown: one merged into another is counted with
    /// it).
    pub cases: i64,
}

/// Why an export was refused, or failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A worker's account.
    #[error("exports are for supervisors and admins")]
    NotAllowed,
    #[error("exports are made by enabled accounts")]
    Disabled,
    /// The fields marked sensitive asked for by someone who is not an admin.
    #[error(
        "the fields marked sensitive (health) are exported by admins only: leave sensitive out, or ask an admin"
    )]
    SensitiveForAdmins,
    /// The query asks for something that cannot be: the message says what can.
    #[error("{0}")]
    Query(String),
    /// More submissions than one file may hold (counted before anything is read).
    #[error(
        "this export would hold {total} forms, more than the {MAX_EXPORT_ROWS} one file may hold: narrow it by the days received (from, to), team, worker or form"
    )]
    TooLarge { total: i64 },
    /// The file could not be written: a sheet of a workbook is full, or the store is damaged.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Submissions of a form version that neither this server nor the store knows.
    #[error("submissions of the form {form:?} in version {version}, which the store does not hold")]
    UnknownVersion { form: String, version: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The thread that wrote the file stopped before it was finished.
    #[error("the export's writer stopped before the file was finished")]
    WriterStopped,
}

impl ExportError {
    /// Whether the export was refused for what was asked (the message says what to ask
    /// instead), rather than failed.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ExportError::NotAllowed
                | ExportError::Disabled
                | ExportError::SensitiveForAdmins
                | ExportError::Query(_)
                | ExportError::TooLarge { .. }
                | ExportError::Write(WriteError::SheetFull { .. })
        )
    }
}

/// Exports are for supervisors and admins, with an enabled account.
pub fn may_export(user: &User) -> Result<(), ExportError> {
    match user.role {
        Role::Worker => Err(ExportError::NotAllowed),
        _ if user.disabled => Err(ExportError::Disabled),
        Role::Supervisor | Role::Admin => Ok(()),
    }
}

/// Makes the export `plan` asks for, as `by.user` (the rows of their teams' cases), with
/// times on the clocks of `zone`: counts the submissions (too many are refused before
/// anything is read), lists them, reads them a page at a time while the pages before are
/// written, then records the export and its audit entry and hands over the file. What
/// arrives while the file is made is left for the next export; an export refused or failed
/// records nothing.
pub async fn run(
    store: &CaseStore,
    forms: &FormCatalog,
    zone: TimeZone,
    by: &Exporter<'_>,
    plan: Plan,
) -> Result<Exported, ExportError> {
    may_export(by.user)?;
    if plan.sensitive && by.user.role != Role::Admin {
        return Err(ExportError::SensitiveForAdmins);
    }
    let user_id = &by.user.id;
    let now = auth::now_ms();
    let mut filter = plan.filter.clone();
    filter.received_before_ms = Some(
        filter
            .received_before_ms
            .map_or(now + 1, |b| b.min(now + 1)),
    );

    // Counted before anything is read: a file too large is refused, not made and thrown away.
    let tally = store.export_tally(user_id, &filter).await?;
    let total: i64 = tally.iter().map(|t| t.submissions).sum();
    if total > MAX_EXPORT_ROWS {
        return Err(ExportError::TooLarge { total });
    }
    let layouts = layouts(store, forms, &plan, &tally, now).await?;
    let finished = write(store, zone, user_id, &filter, &plan, layouts).await?;

    let id = crate::store::new_id(now);
    store
        .add_export(&NewExport {
            id: id.clone(),
            user_id: user_id.clone(),
            team: filter.team.clone(),
            at_ms: now,
            format: plan.format,
            filter: plan.recorded.clone(),
            rows: finished.rows,
            cases: finished.cases,
            case_ids: finished.case_ids,
        })
        .await?;
    store
        .audit(&AuditEvent {
            at_ms: auth::now_ms(),
            action: Action::Export,
            login: Some(by.user.login.clone()),
            device_id: by.device_id.clone(),
            address: by.address.clone(),
            case_id: None,
            export_id: Some(id.clone()),
            form: None,
            endpoint: by.endpoint,
        })
        .await?;
    Ok(Exported {
        id,
        file_name: plan.file_name(zone.day_of(now)),
        format: plan.format,
        content_type: match plan.format {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        },
        bytes: finished.bytes,
        rows: finished.rows,
        cases: finished.cases,
    })
}

/// The tables of each form the export writes, in the order of the file (by form id): their
/// columns across the versions among the submissions and the version served now. A version
/// `forms` does not know (served by another server on the same store since it started) is
/// read from the store.
async fn layouts(
    store: &CaseStore,
    forms: &FormCatalog,
    plan: &Plan,
    tally: &[ExportTally],
    now: i64,
) -> Result<Vec<FormLayout>, ExportError> {
    let mut ids: Vec<String> = match &plan.form {
        Some(form) => vec![form.clone()],
        None => forms.ids(),
    };
    ids.extend(tally.iter().map(|t| t.form_id.clone()));
    ids.sort();
    ids.dedup();
    let mut held: Option<Vec<HeldForm>> = None;
    let mut layouts = Vec::with_capacity(ids.len());
    for id in ids {
        let mut versions = Vec::new();
        for t in tally.iter().filter(|t| t.form_id == id) {
            let version = u32::try_from(t.form_version).unwrap_or_default();
            let form = match forms.get_version(&id, version) {
                Some(form) => form,
                None => {
                    if held.is_none() {
                        held = Some(store.remember_forms(&[], now).await?);
                    }
                    let definition = held
                        .iter()
                        .flatten()
                        .find(|(i, v, _)| *i == id && *v == version)
                        .and_then(|(_, _, d)| FormDef::from_json(d).ok());
                    match definition {
                        Some(form) => Arc::new(form),
                        None => return Err(ExportError::UnknownVersion { form: id, version }),
                    }
                }
            };
            versions.push(form);
        }
        let known = forms.versions(&id);
        // The version served now (or the newest known) gives a table even without data.
        if let Some(newest) = known.first()
            && !versions.iter().any(|v| v.version == newest.version)
        {
            versions.push(newest.clone());
        }
        // A repeat group asked for that only a version without submissions here has.
        if let Some(table) = &plan.table
            && !FormLayout::new(&versions, plan.lang, plan.sensitive)
                .repeats()
                .contains(&table.as_str())
            && let Some(with) = known.iter().find(|v| {
                v.walk()
                    .iter()
                    .any(|(f, _)| f.name == *table && f.kind == FieldType::Repeat)
            })
        {
            versions.push(with.clone());
        }
        layouts.push(FormLayout::new(&versions, plan.lang, plan.sensitive));
    }
    Ok(layouts)
}

/// Reads the submissions form by form, page by page, and writes each page on a thread of
/// its own while the next is read.
async fn write(
    store: &CaseStore,
    zone: TimeZone,
    user_id: &str,
    filter: &ReviewFilter,
    plan: &Plan,
    layouts: Vec<FormLayout>,
) -> Result<Finished, ExportError> {
    let forms: Vec<String> = layouts.iter().map(|l| l.form_id.clone()).collect();
    let mut listed: Vec<Vec<String>> = vec![Vec::new(); forms.len()];
    for (form_id, id) in store.export_ids(user_id, filter).await? {
        if let Some(form) = forms.iter().position(|f| *f == form_id) {
            listed[form].push(id);
        }
    }
    let (format, lang, table, csv) = (plan.format, plan.lang, plan.table.clone(), plan.csv);
    // Two pages wait at most: reading does not run far ahead of writing.
    let (pages, mut to_write) = tokio::sync::mpsc::channel::<(usize, Vec<ExportRow>)>(2);
    let writer = tokio::task::spawn_blocking(move || {
        let mut export = match format {
            ExportFormat::Csv => {
                let layout = layouts.into_iter().next().unwrap_or_else(|| FormLayout {
                    form_id: String::new(),
                    title: String::new(),
                    tables: Vec::new(),
                });
                let table = table.and_then(|t| layout.table(&t)).unwrap_or(0);
                Export::csv(layout, table, lang, zone, csv)
            }
            ExportFormat::Xlsx => Export::xlsx(layouts, lang, zone)?,
        };
        while let Some((form, rows)) = to_write.blocking_recv() {
            for row in &rows {
                export.add(form, row)?;
            }
        }
        export.finish()
    });
    let read = async {
        for (form, ids) in listed.iter().enumerate() {
            for page in ids.chunks(PAGE) {
                let mut rows = store.export_rows(user_id, page).await?;
                // In the order listed.
                let place: HashMap<&str, usize> = page
                    .iter()
                    .enumerate()
                    .map(|(i, id)| (id.as_str(), i))
                    .collect();
                rows.sort_by_key(|r| place.get(r.id.as_str()).copied());
                // The writer has stopped: its error says why.
                if pages.send((form, rows)).await.is_err() {
                    return Ok(());
                }
            }
        }
        Ok::<(), StoreError>(())
    };
    let read = read.await;
    drop(pages);
    let written = writer.await.map_err(|_| ExportError::WriterStopped)?;
    read?;
    Ok(written?)
}
