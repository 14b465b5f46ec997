//! What an export is asked for, checked before anything is read: the format, the form (and
//! for CSV the table), the language, the separator, and which submissions; and the name of
//! the file it makes.

use cris_core::api::{ExportFormat, ExportQuery};
use cris_core::lang::Lang;

use super::{CsvStyle, ExportError, FormLayout};
use crate::store::ReviewFilter;
use crate::{FormCatalog, TimeZone};

/// What an export accepts, told with every refusal of a query that cannot be read.
pub const ACCEPTED: &str = "an export takes format (xlsx or csv), form (a form id), table (for csv: a repeat group of the form), team, worker (a login), from and to (YYYY-MM-DD, days received, on the agency's clocks), lang (de, tr, bg, en, hu or sk) delimiter (for csv: comma or semicolon) and sensitive (true: the fields marked sensitive, such as health, too; admins only)";

/// An export's query, checked.
#[derive(Clone, Debug)]
pub struct Plan {
    pub(super) format: ExportFormat,
    pub(super) lang: Lang,
    /// The form asked for; every form without one.
    pub(super) form: Option<String>,
    /// For CSV: the repeat group whose table is exported (`None`: the form's own).
    pub(super) table: Option<String>,
    /// For CSV: its separator and decimal mark.
    pub(super) csv: CsvStyle,
    /// Which submissions, as the review queue narrows them.
    pub(super) filter: ReviewFilter,
    /// Whether the fields marked sensitive (health) are exported too.
    pub(super) sensitive: bool,
    /// What the record of the export keeps of the query.
    pub(super) recorded: ExportQuery,
}

impl Plan {
    /// The plan of an export, or why its query is wrong ([`ExportError::Query`]): the forms
    /// are those `forms` knows, the days are on the clocks of `zone`.
    pub fn of(
        query: ExportQuery,
        forms: &FormCatalog,
        zone: TimeZone,
    ) -> Result<Plan, ExportError> {
        let bad = |m: String| ExportError::Query(m);
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
            let layout = FormLayout::new(&forms.versions(form), lang, query.sensitive);
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
            sensitive: query.sensitive,
        };
        Ok(Plan {
            format,
            lang,
            form,
            table,
            csv,
            filter,
            sensitive: query.sensitive,
            recorded,
        })
    }

    /// The file's name, made on `today`: what it holds, then the day
    /// (`cris-home_visit-tr-2026-11-27.csv`), in letters, digits, `_`, `-` and `.` only.
    pub(super) fn file_name(&self, today: cris_core::Date) -> String {
        let what: String = self
            .file_stem()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("cris-{what}-{today}.{}", self.format.as_str())
    }

    /// What a file's name says of its export: the form (and table), the language, and the
    /// filters of team, worker and days received; never a household's name, which a file name
    /// carries into download folders and mail attachments.
    fn file_stem(&self) -> String {
        let mut parts = vec![match (&self.form, &self.table) {
            (Some(form), Some(table)) => format!("{form}-{table}"),
            (Some(form), None) => form.clone(),
            (None, _) => "export".to_owned(),
        }];
        parts.push(self.lang.code().to_owned());
        let q = &self.recorded;
        parts.extend(q.team.iter().chain(&q.worker).cloned());
        match (q.from, q.to) {
            (Some(from), Some(to)) => parts.push(format!("{from}_{to}")),
            (Some(from), None) => parts.push(format!("from_{from}")),
            (None, Some(to)) => parts.push(format!("to_{to}")),
            (None, None) => {}
        }
        parts.join("-")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(query: &str) -> Result<Plan, String> {
        let forms = FormCatalog::embedded().unwrap();
        let uri: axum::http::Uri = format!("/api/v1/export?{query}").parse().unwrap();
        let axum::extract::Query(query) =
            axum::extract::Query::<ExportQuery>::try_from_uri(&uri).unwrap();
        Plan::of(query, &forms, TimeZone::UTC).map_err(|e| e.to_string())
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

    #[test]
    fn a_files_name_says_what_it_holds_and_never_more_than_plain_characters() {
        let day: cris_core::Date = "2026-12-06".parse().unwrap();
        for (query, name) in [
            (
                "format=csv&form=home_visit&lang=tr",
                "cris-home_visit-tr-2026-12-06.csv",
            ),
            (
                "format=csv&form=home_visit&table=new_steps&worker=ayse.w",
                "cris-home_visit-new_steps-de-ayse.w-2026-12-06.csv",
            ),
            (
                "team=Offenbach%20S%C3%BCd&from=2026-11-01&to=2026-11-30",
                "cris-export-de-Offenbach_S_d-2026-11-01_2026-11-30-2026-12-06.xlsx",
            ),
            (
                "form=intake&to=2026-11-30",
                "cris-intake-de-to_2026-11-30-2026-12-06.xlsx",
            ),
        ] {
            assert_eq!(plan(query).unwrap().file_name(day), name, "{query}");
        }
    }
}
