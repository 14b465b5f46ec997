//! Exports for funder reporting: submissions as tables, one for each form and one for each
//! of its repeat groups, written as a CSV file (one table) or an XLSX workbook (every table a
//! sheet).
//!
//! A form's table has a row per submission: where it stands in the record (household, worker,
//! team, times, review), then a column per field that holds an answer, in the order of the
//! form, across every version of it the export meets (the newest version's labels win; a
//! field only an older version had stays beside its neighbours), then the ids (submission,
//! case, household, corrections). A repeat group's table has a row per instance: its number,
//! its answers, and the id of its submission. Headings, choices and sheet names (the forms'
//! titles) are written in the language asked for; a value without a label stays as it is.
//!
//! Times are shown on the agency's clocks, and the headings say which; dates and times are
//! real dates in a workbook (numbers with a date format), text in a CSV file. A CSV file is
//! separated as the spreadsheets of its language read it on a double click: `;` with a decimal
//! comma, or `,` with a decimal point in English.
//!
//! A form recorded on a household since merged into another keeps its own household's id
//! (the record is not moved) and is shown, beside it, with the id and the name of the
//! household it is part of now, as the caseload shows that one; once the merge is undone,
//! with its own again.
//!
//! Nothing here is read back by a program: a text that a spreadsheet would take for a formula
//! (`=`, `+`, `-`, `@`, tab or carriage return first) is written so that it never is one
//! (`'` first in CSV; a workbook holds strings as strings, never as formulas).

mod words;
mod write;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cris_core::Date;
use cris_core::form::{Answers, FieldType, FormDef};
use cris_core::lang::Lang;
use rust_xlsxwriter::{Workbook, XlsxError};

use crate::store::ExportRow;
use crate::time_zone::{LocalTime, TimeZone};
use words::{TIMES, status_words, words};
pub use write::{CsvStyle, csv_row, sheet_names};
use write::{DateFormats, Sheet, xlsx_row};

/// The most submissions one export may hold. Beyond it a file is too large to open in a
/// spreadsheet anyway, and making it would hold up the server for a long time: the export is
/// refused before anything is read, with a request to narrow it.
pub const MAX_EXPORT_ROWS: i64 = 200_000;

/// Rows in a sheet of a workbook, its heading included (Excel's limit).
const SHEET_ROWS: u32 = 1_048_576;
/// The tables of one form: its own, then one for each repeat group, in the order of the form.
#[derive(Clone, Debug)]
pub struct FormLayout {
    pub form_id: String,
    /// The form's title in the export's language (the newest version's).
    pub title: String,
    pub tables: Vec<Table>,
}

/// A form's own table (`repeat: None`) or one of its repeat groups'.
#[derive(Clone, Debug)]
pub struct Table {
    pub repeat: Option<String>,
    /// The repeat group's label in the export's language (the form's title for its own table).
    pub label: String,
    pub columns: Vec<Column>,
}

/// The column of a field that holds an answer.
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub kind: FieldType,
    pub heading: String,
    /// For select fields: each choice's value and its label in the export's language.
    pub choices: HashMap<String, String>,
}

impl FormLayout {
    /// The tables of a form across `versions` (of one form, in any order), in `lang`.
    pub fn new(versions: &[Arc<FormDef>], lang: Lang) -> FormLayout {
        let mut versions: Vec<&FormDef> = versions.iter().map(|v| &**v).collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.version));
        let form_id = versions.first().map(|v| v.id.clone()).unwrap_or_default();
        let title = versions
            .first()
            .map_or_else(|| form_id.clone(), |v| v.title.get(lang).to_owned());
        let mut repeats: Vec<String> = Vec::new();
        let mut labels: HashMap<String, String> = HashMap::new();
        // Column names by table (None: the form's own), columns by name.
        let mut order: HashMap<Option<String>, Vec<String>> = HashMap::new();
        let mut columns: HashMap<String, (Option<String>, Column)> = HashMap::new();
        for form in &versions {
            let walk = form.walk();
            let groups: Vec<&str> = walk
                .iter()
                .filter(|(f, _)| f.kind == FieldType::Repeat)
                .map(|(f, _)| {
                    labels
                        .entry(f.name.clone())
                        .or_insert_with(|| f.label.get(lang).to_owned());
                    f.name.as_str()
                })
                .collect();
            merge_order(&mut repeats, &groups);
            let mut by_table: HashMap<Option<String>, Vec<&str>> = HashMap::new();
            for (field, repeat) in &walk {
                if !field.kind.holds_value() {
                    continue;
                }
                // The newest version that has a field says what it is and where it goes.
                let (table, column) = columns.entry(field.name.clone()).or_insert_with(|| {
                    let column = Column {
                        name: field.name.clone(),
                        kind: field.kind,
                        heading: field.label.get(lang).to_owned(),
                        choices: HashMap::new(),
                    };
                    (repeat.map(str::to_owned), column)
                });
                let list = field.choices.as_ref().and_then(|l| form.choices.get(l));
                for choice in list.into_iter().flatten() {
                    column
                        .choices
                        .entry(choice.value.clone())
                        .or_insert_with(|| choice.label.get(lang).to_owned());
                }
                by_table
                    .entry(table.clone())
                    .or_default()
                    .push(field.name.as_str());
            }
            for (table, names) in by_table {
                merge_order(order.entry(table).or_default(), &names);
            }
        }
        let mut table = |repeat: Option<String>| Table {
            columns: order
                .remove(&repeat)
                .unwrap_or_default()
                .iter()
                .filter_map(|name| columns.remove(name).map(|(_, c)| c))
                .collect(),
            label: match &repeat {
                None => title.clone(),
                Some(r) => labels.remove(r).unwrap_or_else(|| r.clone()),
            },
            repeat,
        };
        let mut tables = vec![table(None)];
        tables.extend(repeats.into_iter().map(|r| table(Some(r))));
        FormLayout {
            form_id,
            title,
            tables,
        }
    }

    /// The table of a repeat group, by its name.
    pub fn table(&self, repeat: &str) -> Option<usize> {
        self.tables
            .iter()
            .position(|t| t.repeat.as_deref() == Some(repeat))
    }

    /// The names of the form's repeat groups.
    pub fn repeats(&self) -> Vec<&str> {
        self.tables
            .iter()
            .filter_map(|t| t.repeat.as_deref())
            .collect()
    }

    /// `home_visit`, or `home_visit.new_steps` for a repeat group.
    pub fn table_name(&self, table: usize) -> String {
        match &self.tables[table].repeat {
            None => self.form_id.clone(),
            Some(repeat) => format!("{}.{repeat}", self.form_id),
        }
    }

    /// The name a table's sheet would have: the form's title, and a repeat group's label
    /// after it (`Hausbesuch – Neu vereinbarte Schritte`), before [`sheet_names`] fits it.
    pub fn sheet_title(&self, table: usize) -> String {
        match &self.tables[table].repeat {
            None => self.title.clone(),
            Some(_) => format!("{} – {}", self.title, self.tables[table].label),
        }
    }

    /// The headings of a table's columns, the times' saying the time zone.
    fn headings(&self, table: usize, lang: Lang, zone: TimeZone) -> Vec<String> {
        let t = &self.tables[table];
        let w = words(lang);
        let answers = t.columns.iter().map(|c| c.heading.clone());
        if t.repeat.is_some() {
            return std::iter::once(w.instance.to_owned())
                .chain(answers)
                .chain(std::iter::once(w.ids[0].to_owned()))
                .collect();
        }
        let lead = w.lead.iter().enumerate().map(|(i, word)| {
            if TIMES.contains(&i) {
                format!("{word} ({zone})")
            } else {
                (*word).to_owned()
            }
        });
        lead.chain(answers)
            .chain(w.ids.iter().map(|word| (*word).to_owned()))
            .collect()
    }
}

/// Adds the names of one version (in its order) that `order` lacks, each right after the name
/// before it in that version (first when there is none).
fn merge_order(order: &mut Vec<String>, version: &[&str]) {
    let mut at = 0;
    for name in version {
        match order.iter().position(|n| n == name) {
            Some(i) => at = i + 1,
            None => {
                order.insert(at, (*name).to_owned());
                at += 1;
            }
        }
    }
}

/// A cell: text, a number (written as a number in a workbook, as it came in a CSV file but
/// for the decimal mark), or a date or time (a date in a workbook, ISO 8601 text in a CSV
/// file).
#[derive(Clone, Debug, PartialEq)]
pub enum Cell<'a> {
    Text(Cow<'a, str>),
    Number(Cow<'a, str>),
    /// A moment, on the agency's clocks: `2026-12-06 14:05`.
    Moment(LocalTime),
    /// A date field's answer: `2026-12-04`.
    Day(Date),
    /// A time field's answer, in minutes after midnight: `15:30`.
    Clock(u32),
}

impl Column {
    /// The cell of an answer: choices by their labels, yes and no in words, numbers as
    /// numbers, dates and times as dates and times; anything else (and a value without a
    /// label) as it is.
    fn cell<'a>(&'a self, value: &'a str, lang: Lang) -> Cell<'a> {
        let label = |v: &'a str| self.choices.get(v).map_or(v, String::as_str);
        match self.kind {
            _ if value.is_empty() => Cell::Text(Cow::Borrowed("")),
            FieldType::SelectOne => Cell::Text(Cow::Borrowed(label(value))),
            FieldType::SelectMultiple => Cell::Text(Cow::Owned(
                value
                    .split_whitespace()
                    .map(label)
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
            FieldType::YesNo => Cell::Text(Cow::Borrowed(match value {
                "yes" => cris_core::words::yes(lang),
                "no" => cris_core::words::no(lang),
                other => other,
            })),
            FieldType::Integer | FieldType::Decimal if is_number(value) => {
                Cell::Number(Cow::Borrowed(value))
            }
            FieldType::Date => value
                .parse()
                .map_or(Cell::Text(Cow::Borrowed(value)), Cell::Day),
            FieldType::Time => clock(value).map_or(Cell::Text(Cow::Borrowed(value)), Cell::Clock),
            _ => Cell::Text(Cow::Borrowed(value)),
        }
    }
}

/// The minutes after midnight of a time of day written `HH:MM`.
fn clock(text: &str) -> Option<u32> {
    let (hours, minutes) = text.split_once(':')?;
    let two_digits = |s: &str| {
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (hours, minutes) = (two_digits(hours)?, two_digits(minutes)?);
    (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
}

/// A plain number, which no spreadsheet takes for a formula (`-5`, `3.25`).
fn is_number(text: &str) -> bool {
    text.parse::<f64>().is_ok_and(f64::is_finite)
        && !text.starts_with(['\t', '\r', ' '])
        && !text.ends_with(char::is_whitespace)
}

/// Whether a spreadsheet could take this text for a formula.
pub fn formula_like(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_number(text)
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "the table {table} would have more than {max} rows, more than a sheet of a workbook holds: narrow the export by dates (from, to), team, worker or form, or export that table as CSV",
        max = SHEET_ROWS - 1
    )]
    SheetFull { table: String },
    /// The operation logged for a submission is not one (a damaged store). Its text is not
    /// quoted: it is a family's answers.
    #[error("the operation that carried the submission {0} cannot be read")]
    Unreadable(String),
    #[error("cannot write the workbook: {0}")]
    Xlsx(#[from] XlsxError),
}

/// What an export made: the file, its rows (headings not counted) and the households whose
/// data is in it (as shown: a household merged into another is counted with it).
#[derive(Debug)]
pub struct Finished {
    pub bytes: Vec<u8>,
    pub rows: i64,
    pub cases: i64,
}

enum Out {
    /// One table of one form: (form, table), and the file so far.
    Csv {
        form: usize,
        table: usize,
        style: CsvStyle,
        bytes: Vec<u8>,
    },
    /// Every table of every form: a sheet each, by form and table.
    Xlsx {
        workbook: Box<Workbook>,
        sheets: Vec<Vec<Sheet>>,
        formats: Box<DateFormats>,
    },
}

/// An export being written: forms' submissions go in one at a time, in the order of the
/// file, and [`Export::finish`] hands over the file.
pub struct Export {
    lang: Lang,
    zone: TimeZone,
    forms: Vec<FormLayout>,
    out: Out,
    rows: i64,
    cases: HashSet<String>,
}

/// The part of a logged operation an export reads: the answers.
#[derive(serde::Deserialize)]
struct Logged {
    change: LoggedChange,
}

#[derive(serde::Deserialize)]
struct LoggedChange {
    submission: LoggedSubmission,
}

#[derive(serde::Deserialize)]
struct LoggedSubmission {
    answers: Answers,
}

impl Export {
    /// A CSV file of one table of a form: UTF-8 with a byte order mark (without one,
    /// spreadsheet programs read ä, ş and и wrong), fields separated and numbers written in
    /// `style`, quoted as RFC 4180 has it, CRLF line ends; times on the clocks of `zone`.
    pub fn csv(
        form: FormLayout,
        table: usize,
        lang: Lang,
        zone: TimeZone,
        style: CsvStyle,
    ) -> Export {
        let mut bytes = Vec::with_capacity(64 * 1024);
        bytes.extend_from_slice("\u{feff}".as_bytes());
        let headings = form.headings(table, lang, zone);
        let cells: Vec<Cell> = headings
            .iter()
            .map(|h| Cell::Text(Cow::Borrowed(h.as_str())))
            .collect();
        csv_row(&mut bytes, &cells, style);
        Export {
            lang,
            zone,
            forms: vec![form],
            out: Out::Csv {
                form: 0,
                table,
                style,
                bytes,
            },
            rows: 0,
            cases: HashSet::new(),
        }
    }

    /// A workbook with a sheet for every table of every form, named by its title, each with
    /// its headings (bold, kept in view while scrolling); times on the clocks of `zone`. Rows
    /// go to an unlinked temporary file as they are written, so that a large export is not
    /// kept in memory cell by cell.
    pub fn xlsx(forms: Vec<FormLayout>, lang: Lang, zone: TimeZone) -> Result<Export, ExportError> {
        let mut workbook = Box::new(Workbook::new());
        let wanted: Vec<String> = forms
            .iter()
            .flat_map(|f| (0..f.tables.len()).map(|t| f.sheet_title(t)))
            .collect();
        let mut names = sheet_names(&wanted).into_iter();
        let mut sheets = Vec::with_capacity(forms.len());
        let mut index = 0;
        for form in &forms {
            let mut of_form = Vec::with_capacity(form.tables.len());
            for table in 0..form.tables.len() {
                let headings = form.headings(table, lang, zone);
                let name = names.next().unwrap_or_default();
                of_form.push(Sheet::add(&mut workbook, index, &name, &headings)?);
                index += 1;
            }
            sheets.push(of_form);
        }
        let formats = Box::new(DateFormats::new());
        Ok(Export {
            lang,
            zone,
            forms,
            out: Out::Xlsx {
                workbook,
                sheets,
                formats,
            },
            rows: 0,
            cases: HashSet::new(),
        })
    }

    /// Writes a submission of the export's `form`-th form (in the order given) to its tables.
    pub fn add(&mut self, form: usize, row: &ExportRow) -> Result<(), ExportError> {
        let logged: Logged =
            serde_json::from_str(&row.body).map_err(|_| ExportError::Unreadable(row.id.clone()))?;
        let answers = &logged.change.submission.answers;
        let (lang, zone, layout) = (self.lang, self.zone, &self.forms[form]);
        let mut written = 0;
        match &mut self.out {
            Out::Csv {
                form: f,
                table,
                style,
                bytes,
            } => {
                if *f == form {
                    for cells in rows_of(layout, *table, row, answers, lang, zone) {
                        csv_row(bytes, &cells, *style);
                        written += 1;
                    }
                }
            }
            Out::Xlsx {
                workbook,
                sheets,
                formats,
            } => {
                for (table, sheet) in sheets[form].iter_mut().enumerate() {
                    for cells in rows_of(layout, table, row, answers, lang, zone) {
                        if sheet.rows() >= SHEET_ROWS {
                            return Err(ExportError::SheetFull {
                                table: layout.table_name(table),
                            });
                        }
                        xlsx_row(workbook, sheet, &cells, formats)?;
                        written += 1;
                    }
                }
            }
        }
        if written > 0 {
            self.rows += written;
            // Households as shown: two merged into one are one.
            if !self.cases.contains(&row.household_id) {
                self.cases.insert(row.household_id.clone());
            }
        }
        Ok(())
    }

    /// The file, and what it holds.
    pub fn finish(self) -> Result<Finished, ExportError> {
        let bytes = match self.out {
            Out::Csv { bytes, .. } => bytes,
            Out::Xlsx {
                mut workbook,
                sheets,
                ..
            } => {
                for sheet in sheets.iter().flatten() {
                    sheet.fit(&mut workbook)?;
                }
                workbook.save_to_buffer()?
            }
        };
        Ok(Finished {
            bytes,
            rows: self.rows,
            cases: i64::try_from(self.cases.len()).unwrap_or(i64::MAX),
        })
    }
}

/// The rows a submission makes in a table of its form: one in the form's own, one per
/// instance in a repeat group's.
fn rows_of<'a>(
    layout: &'a FormLayout,
    table: usize,
    row: &'a ExportRow,
    answers: &'a Answers,
    lang: Lang,
    zone: TimeZone,
) -> Vec<Vec<Cell<'a>>> {
    let text = |s: &'a str| Cell::Text(Cow::Borrowed(s));
    let t = &layout.tables[table];
    match &t.repeat {
        None => {
            let mut cells = Vec::with_capacity(13 + t.columns.len());
            cells.extend([
                text(&row.household_name),
                text(&row.login),
                text(&row.worker_name),
                text(&row.team),
                Cell::Moment(zone.local(row.received_ms)),
                Cell::Moment(zone.local(row.finalized_ms)),
                Cell::Number(Cow::Owned(row.form_version.to_string())),
                text(status_words(&row.review_status, lang)),
            ]);
            cells.extend(
                t.columns
                    .iter()
                    .map(|c| c.cell(answers.text(&c.name), lang)),
            );
            cells.extend([
                text(&row.id),
                text(&row.case_id),
                text(&row.household_id),
                text(row.corrects.as_deref().unwrap_or_default()),
                text(row.corrected_by.as_deref().unwrap_or_default()),
            ]);
            vec![cells]
        }
        Some(repeat) => answers
            .instances(repeat)
            .iter()
            .enumerate()
            .map(|(i, instance)| {
                let mut cells = Vec::with_capacity(2 + t.columns.len());
                cells.push(Cell::Number(Cow::Owned((i + 1).to_string())));
                cells.extend(
                    t.columns
                        .iter()
                        .map(|c| c.cell(instance.text(&c.name), lang)),
                );
                cells.push(text(&row.id));
                cells
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cris_core::form::FormDef;

    fn labels(de: &str) -> serde_json::Value {
        serde_json::json!({"de": de, "tr": format!("{de} (tr)"), "bg": de, "en": de, "hu": de, "sk": de})
    }

    fn form(version: u32, fields: serde_json::Value, choices: serde_json::Value) -> Arc<FormDef> {
        let def = serde_json::json!({
            "id": "visit", "version": version, "title": labels("Besuch"),
            "choices": choices, "fields": fields,
        });
        Arc::new(FormDef::from_json(&def.to_string()).unwrap())
    }

    fn field(name: &str, kind: &str, de: &str) -> serde_json::Value {
        serde_json::json!({"name": name, "type": kind, "label": labels(de)})
    }

    fn names(table: &Table) -> Vec<&str> {
        table.columns.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn columns_follow_the_form_across_versions_and_the_newest_labels_win() {
        let mut purpose = field("purpose", "select_one", "Anlass");
        purpose["choices"] = "purposes".into();
        let mut steps = field("steps", "repeat", "Schritte");
        steps["fields"] = serde_json::json!([field("what", "text", "Was")]);
        let v1 = form(
            1,
            serde_json::json!([
                field("date", "date", "Datum"),
                field("phone", "phone", "Telefon"),
                purpose.clone(),
                field("note", "note", "Hinweis"),
            ]),
            serde_json::json!({"purposes": [
                {"value": "first", "label": labels("Erstbesuch (alt)")},
                {"value": "gone", "label": labels("Abgeschafft")},
            ]}),
        );
        let v2 = form(
            2,
            serde_json::json!([
                field("date", "date", "Datum des Besuchs"),
                purpose,
                field("notes", "long_text", "Notizen"),
                steps,
            ]),
            serde_json::json!({"purposes": [{"value": "first", "label": labels("Erstbesuch")}]}),
        );
        let layout = FormLayout::new(&[v1, v2], Lang::De);
        assert_eq!(layout.form_id, "visit");
        assert_eq!(layout.tables.len(), 2);
        // The field only version 1 had stays beside its neighbour; notes hold no answer.
        assert_eq!(
            names(&layout.tables[0]),
            ["date", "phone", "purpose", "notes"]
        );
        assert_eq!(layout.tables[0].columns[0].heading, "Datum des Besuchs");
        assert_eq!(names(&layout.tables[1]), ["what"]);
        assert_eq!(layout.table("steps"), Some(1));
        assert_eq!(layout.table_name(1), "visit.steps");
        let purpose = &layout.tables[0].columns[2];
        assert_eq!(
            purpose.cell("first", Lang::De),
            Cell::Text("Erstbesuch".into())
        );
        assert_eq!(
            purpose.cell("gone", Lang::De),
            Cell::Text("Abgeschafft".into())
        );
        assert_eq!(purpose.cell("other", Lang::De), Cell::Text("other".into()));
        // Where the submission stands, the answers, then the ids.
        let headings = layout.headings(0, Lang::De, TimeZone::BERLIN);
        assert_eq!(headings.len(), 8 + 4 + 5);
        assert_eq!(
            headings[..8],
            [
                "Haushalt",
                "Fachkraft (Login)",
                "Fachkraft (Name)",
                "Team",
                "Eingegangen (Europe/Berlin)",
                "Abgeschlossen (Europe/Berlin)",
                "Formularversion",
                "Prüfstatus",
            ]
        );
        assert_eq!(headings[8], "Datum des Besuchs");
        assert_eq!(headings[12], "Formular-ID");
        assert_eq!(headings[16], "Korrigiert durch (Formular-ID)");
        assert_eq!(
            layout.headings(1, Lang::De, TimeZone::UTC),
            ["Eintrag Nr.", "Was", "Formular-ID"]
        );
        assert_eq!(
            layout.headings(0, Lang::En, TimeZone::UTC)[4],
            "Received (UTC)"
        );
        assert_eq!(layout.title, "Besuch");
        assert_eq!(layout.sheet_title(0), "Besuch");
        assert_eq!(layout.sheet_title(1), "Besuch – Schritte");
        let tr = FormLayout::new(&layout_versions(), Lang::Tr);
        assert_eq!(tr.tables[0].columns[0].heading, "Datum (tr)");
        assert_eq!(tr.sheet_title(0), "Besuch (tr)");
    }

    fn layout_versions() -> Vec<Arc<FormDef>> {
        vec![form(
            1,
            serde_json::json!([field("date", "date", "Datum")]),
            serde_json::json!({}),
        )]
    }

    #[test]
    fn merging_keeps_each_versions_order() {
        let mut order = vec!["a".to_owned(), "c".to_owned()];
        merge_order(&mut order, &["x", "a", "b", "c", "d"]);
        assert_eq!(order, ["x", "a", "b", "c", "d"]);
        merge_order(&mut order, &["c", "e"]);
        assert_eq!(order, ["x", "a", "b", "c", "e", "d"]);
    }

    #[test]
    fn answers_read_as_words_numbers_dates_and_times() {
        let yes_no = Column {
            name: "x".into(),
            kind: FieldType::YesNo,
            heading: String::new(),
            choices: HashMap::new(),
        };
        assert_eq!(yes_no.cell("yes", Lang::Tr), Cell::Text("Evet".into()));
        assert_eq!(yes_no.cell("no", Lang::De), Cell::Text("Nein".into()));
        let several = Column {
            kind: FieldType::SelectMultiple,
            choices: [("a".to_owned(), "Erstes".to_owned())].into(),
            ..yes_no.clone()
        };
        assert_eq!(
            several.cell("a b", Lang::De),
            Cell::Text("Erstes, b".into())
        );
        let number = Column {
            kind: FieldType::Integer,
            ..yes_no.clone()
        };
        assert_eq!(number.cell("12", Lang::De), Cell::Number("12".into()));
        assert_eq!(number.cell("", Lang::De), Cell::Text("".into()));
        let date = Column {
            kind: FieldType::Date,
            ..yes_no.clone()
        };
        assert_eq!(
            date.cell("2026-12-04", Lang::De),
            Cell::Day(Date::from_days(20_791))
        );
        assert_eq!(
            date.cell("4.12.2026", Lang::De),
            Cell::Text("4.12.2026".into())
        );
        let time = Column {
            kind: FieldType::Time,
            ..yes_no
        };
        assert_eq!(time.cell("15:30", Lang::De), Cell::Clock(15 * 60 + 30));
        for not_a_time in ["24:00", "9:30", "15:30:00", "15-30"] {
            assert_eq!(
                time.cell(not_a_time, Lang::De),
                Cell::Text(not_a_time.into())
            );
        }
    }
}
