//! Exports over HTTP, for funder reporting (supervisors and admins):
//!
//! - `GET /api/v1/export?format=&form=&table=&team=&worker=&from=&to=&lang=&delimiter=`: the
//!   submissions of the user's teams' cases (narrowed as the review queue narrows them) as a
//!   file: an XLSX workbook (`format=xlsx`, the default) with a sheet for every form, or only
//!   for `form`, and for each of its repeat groups; or one table as CSV (`format=csv`, `form`
//!   needed, a repeat group as `table`), separated as the spreadsheets of `lang` read it unless
//!   `delimiter` says otherwise. Headings, choices and sheet names in `lang` (German unless
//!   told); times on the clocks of the server's time zone.
//! - `GET /api/v1/exports`: the exports made by the user's teams' supervisors and admins,
//!   newest first: who, when, with which filter, how many rows.
//!
//! Every export is recorded before its file is handed over; one refused records nothing. The
//! submissions are counted first (too many are refused before anything is read), then listed,
//! then read a page at a time while the pages before are written, on a thread of its own.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use cris_core::api::{ExportFormat, ExportList, ExportQuery, Role};
use cris_core::lang::Lang;

use crate::auth::{self, AuthUser};
use crate::export::{CsvStyle, Export, ExportError, Finished, FormLayout, MAX_EXPORT_ROWS};
use crate::store::audit::Action;
use crate::store::{ExportRow, ExportTally, NewExport, ReviewFilter, Store, StoreError};
use crate::{AppError, AppState, FormCatalog, TimeZone};

/// The most exports `GET /api/v1/exports` lists.
pub const MAX_EXPORTS_LISTED: i64 = 500;

/// Submissions read from the store at a time: a few megabytes of operations.
const PAGE: usize = 1000;

/// What an export accepts, told with every refusal of its query.
const ACCEPTED: &str = "an export takes format (xlsx or csv), form (a form id), table (for csv: a repeat group of the form), team, worker (a login), from and to (YYYY-MM-DD, days received, on the agency's clocks), lang (de, tr, bg, en, hu or sk) and delimiter (for csv: comma or semicolon)";

/// Exports are for supervisors and admins.
fn exporter(auth: &AuthUser) -> Result<(), AppError> {
    match auth.user.role {
        Role::Supervisor | Role::Admin => Ok(()),
        Role::Worker => Err(AppError::Forbidden(
            "exports are for supervisors and admins",
        )),
    }
}

/// An export's query, checked.
#[derive(Clone, Debug)]
struct Plan {
    format: ExportFormat,
    lang: Lang,
    /// The form asked for; every form without one.
    form: Option<String>,
    /// For CSV: the repeat group whose table is exported (`None`: the form's own).
    table: Option<String>,
    /// For CSV: its separator and decimal mark.
    csv: CsvStyle,
    /// Which submissions, as the review queue narrows them.
    filter: ReviewFilter,
    /// What the record of the export keeps of the query.
    recorded: ExportQuery,
}

/// What a file's name says of its export: the form (and table), the language, and the
/// filters of team, worker and days received; never a household's name, which a file name
/// carries into download folders and mail attachments.
fn file_stem(plan: &Plan) -> String {
    let mut parts = vec![match (&plan.form, &plan.table) {
        (Some(form), Some(table)) => format!("{form}-{table}"),
        (Some(form), None) => form.clone(),
        (None, _) => "export".to_owned(),
    }];
    parts.push(plan.lang.code().to_owned());
    let q = &plan.recorded;
    parts.extend(q.team.iter().chain(&q.worker).cloned());
    match (q.from, q.to) {
        (Some(from), Some(to)) => parts.push(format!("{from}_{to}")),
        (Some(from), None) => parts.push(format!("from_{from}")),
        (None, Some(to)) => parts.push(format!("to_{to}")),
        (None, None) => {}
    }
    parts.join("-")
}

/// The plan of an export, or why its query is wrong.
fn plan_of(query: ExportQuery, forms: &FormCatalog, zone: TimeZone) -> Result<Plan, AppError> {
    let bad = |m: String| AppError::BadRequest(m);
    // An empty field of a form is no filter.
    let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let format = query.format.unwrap_or_default();
    let lang = query.lang.unwrap_or(Lang::DEFAULT);
    let (form, table) = (given(query.form), given(query.table));
    let known = forms.ids();
    if let Some(form) = &form
        && !known.contains(form)
    {
        return Err(bad(format!(
            "there is no form {form:?}: the forms are {}",
            known.join(", ")
        )));
    }
    match (format, &form, &table) {
        (ExportFormat::Csv, None, _) => {
            return Err(bad(format!(
                "a CSV file holds one table: name its form (form=, one of {})",
                known.join(", ")
            )));
        }
        (ExportFormat::Xlsx, _, Some(_)) => {
            return Err(bad(
                "table is for CSV files: a workbook has a sheet for every table of the form"
                    .to_owned(),
            ));
        }
        _ => {}
    }
    if format == ExportFormat::Xlsx && query.delimiter.is_some() {
        return Err(bad(
            "delimiter is for CSV files: a workbook's cells are not separated by a character"
                .to_owned(),
        ));
    }
    let csv = query
        .delimiter
        .map_or_else(|| CsvStyle::of(lang), CsvStyle::with);
    if let (Some(form), Some(table)) = (&form, &table) {
        let layout = FormLayout::new(&forms.versions(form), lang);
        let repeats = layout.repeats();
        if !repeats.contains(&table.as_str()) {
            let tables = if repeats.is_empty() {
                "it has none, only its own table (leave table out)".to_owned()
            } else {
                format!(
                    "leave table out for the form's own table, or name one of {}",
                    repeats.join(", ")
                )
            };
            return Err(bad(format!(
                "the form {form:?} has no repeat group {table:?}: {tables}"
            )));
        }
    }
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(bad("from is after to: no day is in between".to_owned()));
    }
    let (team, worker) = (given(query.team), given(query.worker));
    let filter = ReviewFilter {
        team: team.clone(),
        worker: worker.clone(),
        form: form.clone(),
        // Days on the agency's clocks, as the export shows the times.
        received_from_ms: query.from.map(|d| zone.day_starts_ms(d)),
        received_before_ms: query
            .to
            .map(|d| zone.day_starts_ms(cris_core::Date::from_days(d.days() + 1))),
        ..ReviewFilter::default()
    };
    let recorded = ExportQuery {
        format: None,
        form: form.clone(),
        table: table.clone(),
        team,
        worker,
        from: query.from,
        to: query.to,
        lang: Some(lang),
        delimiter: None,
    };
    Ok(Plan {
        format,
        lang,
        form,
        table,
        csv,
        filter,
        recorded,
    })
}

pub async fn export(
    State(state): State<AppState>,
    auth: AuthUser,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    exporter(&auth)?;
    let Query(query) =
        query.map_err(|e| AppError::BadRequest(format!("{}: {ACCEPTED}", e.body_text())))?;
    let plan = plan_of(query, &state.forms, state.time_zone)?;
    let now = auth::now_ms();
    // What arrives while the file is made is left for the next export.
    let mut filter = plan.filter.clone();
    filter.received_before_ms = Some(
        filter
            .received_before_ms
            .map_or(now + 1, |b| b.min(now + 1)),
    );

    // Counted before anything is read: a file too large is refused, not made and thrown away.
    let tally = state.store.export_tally(&auth.user.id, &filter).await?;
    let total: i64 = tally.iter().map(|t| t.submissions).sum();
    if total > MAX_EXPORT_ROWS {
        return Err(AppError::BadRequest(format!(
            "this export would hold {total} forms, more than the {MAX_EXPORT_ROWS} one file may hold: narrow it by the days received (from, to), team, worker or form"
        )));
    }
    let layouts = layouts(&state, &plan, &tally, now).await?;
    let finished = write(&state, &auth.user.id, &filter, &plan, layouts).await?;

    let export_id = crate::store::new_id(now);
    state
        .store
        .add_export(&NewExport {
            id: export_id.clone(),
            user_id: auth.user.id.clone(),
            team: filter.team.clone(),
            at_ms: now,
            format: plan.format,
            filter: plan.recorded.clone(),
            rows: finished.rows,
            cases: finished.cases,
        })
        .await?;
    crate::audit::by_user(
        &state,
        &auth,
        Action::Export,
        None,
        Some(&export_id),
        "GET /api/v1/export",
    )
    .await?;
    tracing::info!(
        format = plan.format.as_str(),
        rows = finished.rows,
        cases = finished.cases,
        bytes = finished.bytes.len(),
        "export"
    );

    let today = state.time_zone.day_of(now);
    let what = file_stem(&plan);
    let what: String = what
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let (content_type, file) = match plan.format {
        ExportFormat::Csv => (
            "text/csv; charset=utf-8",
            format!("cris-{what}-{today}.csv"),
        ),
        ExportFormat::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            format!("cris-{what}-{today}.xlsx"),
        ),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            // The file holds families' data: no cache along the way keeps a copy.
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        finished.bytes,
    )
        .into_response())
}

/// The tables of each form the export writes, in the order of the file (by form id): their
/// columns across the versions among the submissions and the version served now. A version
/// this server does not know (served by another server on the same store since it started)
/// is read from the store.
async fn layouts(
    state: &AppState,
    plan: &Plan,
    tally: &[ExportTally],
    now: i64,
) -> Result<Vec<FormLayout>, AppError> {
    let mut ids: Vec<String> = match &plan.form {
        Some(form) => vec![form.clone()],
        None => state.forms.ids(),
    };
    ids.extend(tally.iter().map(|t| t.form_id.clone()));
    ids.sort();
    ids.dedup();
    let mut held: Option<Vec<crate::store::HeldForm>> = None;
    let mut layouts = Vec::with_capacity(ids.len());
    for id in ids {
        let mut versions = Vec::new();
        for t in tally.iter().filter(|t| t.form_id == id) {
            let version = u32::try_from(t.form_version).unwrap_or_default();
            let form = match state.forms.get_version(&id, version) {
                Some(form) => form,
                None => {
                    if held.is_none() {
                        held = Some(state.store.remember_forms(&[], now).await?);
                    }
                    let definition = held
                        .iter()
                        .flatten()
                        .find(|(i, v, _)| *i == id && *v == version)
                        .and_then(|(_, _, d)| cris_core::form::FormDef::from_json(d).ok());
                    match definition {
                        Some(form) => std::sync::Arc::new(form),
                        None => {
                            tracing::error!(
                                version,
                                "submissions of a form version the store does not hold"
                            );
                            return Err(AppError::Internal);
                        }
                    }
                }
            };
            versions.push(form);
        }
        let known = state.forms.versions(&id);
        // The version served now (or the newest known) gives a table even without data.
        if let Some(newest) = known.first()
            && !versions.iter().any(|v| v.version == newest.version)
        {
            versions.push(newest.clone());
        }
        // A repeat group asked for that only a version without submissions here has.
        if let Some(table) = &plan.table
            && !FormLayout::new(&versions, plan.lang)
                .repeats()
                .contains(&table.as_str())
            && let Some(with) = known.iter().find(|v| {
                v.walk()
                    .iter()
                    .any(|(f, _)| f.name == *table && f.kind == cris_core::form::FieldType::Repeat)
            })
        {
            versions.push(with.clone());
        }
        layouts.push(FormLayout::new(&versions, plan.lang));
    }
    Ok(layouts)
}

/// Reads the submissions form by form, page by page, and writes each page on a thread of
/// its own while the next is read.
async fn write(
    state: &AppState,
    user_id: &str,
    filter: &ReviewFilter,
    plan: &Plan,
    layouts: Vec<FormLayout>,
) -> Result<Finished, AppError> {
    let store = &state.store;
    let forms: Vec<String> = layouts.iter().map(|l| l.form_id.clone()).collect();
    let mut listed: Vec<Vec<String>> = vec![Vec::new(); forms.len()];
    for (form_id, id) in store.export_ids(user_id, filter).await? {
        if let Some(form) = forms.iter().position(|f| *f == form_id) {
            listed[form].push(id);
        }
    }
    let (format, lang, table, csv) = (plan.format, plan.lang, plan.table.clone(), plan.csv);
    let zone = state.time_zone;
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
    let written = writer.await.map_err(|_| AppError::Internal)?;
    read?;
    written.map_err(|e| match e {
        ExportError::SheetFull { .. } => AppError::BadRequest(e.to_string()),
        ExportError::Unreadable(_) | ExportError::Xlsx(_) => {
            tracing::error!(error = %e, "export failed");
            AppError::Internal
        }
    })
}

pub async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<ExportList>, AppError> {
    exporter(&auth)?;
    Ok(Json(ExportList {
        items: state
            .store
            .exports(&auth.user.id, MAX_EXPORTS_LISTED)
            .await?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(query: &str) -> Result<Plan, String> {
        let forms = FormCatalog::embedded().unwrap();
        let uri: axum::http::Uri = format!("/api/v1/export?{query}").parse().unwrap();
        let Query(query) = Query::<ExportQuery>::try_from_uri(&uri).unwrap();
        plan_of(query, &forms, TimeZone::UTC).map_err(|e| e.to_string())
    }

    #[test]
    fn a_query_is_checked_before_anything_is_read() {
        let ok = plan("format=csv&form=home_visit&table=new_steps&lang=tr&from=2026-11-01&to=2026-11-30&team=%20").unwrap();
        assert_eq!(ok.format, ExportFormat::Csv);
        assert_eq!(ok.lang, Lang::Tr);
        assert_eq!(ok.table.as_deref(), Some("new_steps"));
        assert_eq!(ok.filter.team, None, "an empty field filters nothing");
        assert_eq!(ok.filter.form.as_deref(), Some("home_visit"));
        let from = ok.filter.received_from_ms.unwrap();
        assert_eq!(ok.filter.received_before_ms, Some(from + 30 * 86_400_000));
        assert_eq!(ok.recorded.format, None);
        assert_eq!(ok.recorded.lang, Some(Lang::Tr));
        assert_eq!(
            ok.csv,
            CsvStyle::SEMICOLON,
            "Turkish spreadsheets: ; and 3,5"
        );
        let default = plan("").unwrap();
        assert_eq!(
            (default.format, default.lang),
            (ExportFormat::Xlsx, Lang::De)
        );
        for (query, style) in [
            ("format=csv&form=intake", CsvStyle::SEMICOLON),
            ("format=csv&form=intake&lang=en", CsvStyle::COMMA),
            ("format=csv&form=intake&lang=hu", CsvStyle::SEMICOLON),
            ("format=csv&form=intake&delimiter=comma", CsvStyle::COMMA),
            (
                "format=csv&form=intake&lang=en&delimiter=semicolon",
                CsvStyle::SEMICOLON,
            ),
        ] {
            let csv = plan(query).unwrap();
            assert_eq!(csv.csv, style, "{query}");
            assert_eq!(csv.recorded.delimiter, None, "not a filter: {query}");
        }

        for (query, said) in [
            ("format=csv", "name its form"),
            (
                "format=csv&form=visit",
                "there is no form \"visit\": the forms are home_visit, intake",
            ),
            (
                "format=csv&form=home_visit&table=members",
                "leave table out for the form's own table, or name one of children_attendance, step_progress, new_steps",
            ),
            ("form=intake&table=members", "table is for CSV files"),
            ("delimiter=comma", "delimiter is for CSV files"),
            ("from=2026-11-02&to=2026-11-01", "from is after to"),
        ] {
            let err = plan(query).unwrap_err();
            assert!(err.contains(said), "{query}: {err}");
        }
    }
}
