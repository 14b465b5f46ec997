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
//!
//! One service makes every export, for `GET /api/v1/export` and for `cris-server export`
//! alike: [`Plan::of`] checks what is asked for, and [`run`] counts the submissions (too many
//! are refused before anything is read), lists them, reads them a page at a time while the
//! pages before are written on a thread of their own, records the export and its audit entry,
//! and only then hands over the file. An export refused records nothing.

mod file;
mod layout;
mod plan;
mod run;
mod words;
mod write;

use std::borrow::Cow;
use std::collections::HashSet;

use cris_core::Date;
use cris_core::form::Answers;
use cris_core::lang::Lang;
use rust_xlsxwriter::{Workbook, XlsxError};

use crate::store::ExportRow;
use crate::time_zone::{LocalTime, TimeZone};
pub use file::{FileError, OutFile};
pub use layout::{Column, FormLayout, Table, formula_like};
pub use plan::{ACCEPTED, Plan};
pub use run::{ExportError, Exported, Exporter, may_export, run};
use words::status_words;
pub use write::{CsvStyle, csv_row, sheet_names};
use write::{DateFormats, Sheet, xlsx_row};

/// The most submissions one export may hold. Beyond it a file is too large to open in a
/// spreadsheet anyway, and making it would hold up the server for a long time: the export is
/// refused before anything is read, with a request to narrow it.
pub const MAX_EXPORT_ROWS: i64 = 200_000;

/// Rows in a sheet of a workbook, its heading included (Excel's limit).
const SHEET_ROWS: u32 = 1_048_576;

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

/// Why an export's file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "the table {table} would have more than {max} rows, more than a sheet of a workbook holds: narrow the export by dates (from, to), team, worker or form, or export that table as CSV",
        max = SHEET_ROWS - 1
    )]
    SheetFull { table: String },
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
    /// The households the rows' records are on (a household merged into another, by its
    /// own id), sorted: what a family's copy lists the export for.
    pub case_ids: Vec<String>,
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
    records_of: std::collections::BTreeSet<String>,
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
            records_of: std::collections::BTreeSet::new(),
        }
    }

    /// A workbook with a sheet for every table of every form, named by its title, each with
    /// its headings (bold, kept in view while scrolling); times on the clocks of `zone`. Rows
    /// go to an unlinked temporary file as they are written, so that a large export is not
    /// kept in memory cell by cell.
    pub fn xlsx(forms: Vec<FormLayout>, lang: Lang, zone: TimeZone) -> Result<Export, WriteError> {
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
            records_of: std::collections::BTreeSet::new(),
        })
    }

    /// Writes a submission of the export's `form`-th form (in the order given) to its tables.
    pub fn add(&mut self, form: usize, row: &ExportRow) -> Result<(), WriteError> {
        let answers = &row.answers;
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
                            return Err(WriteError::SheetFull {
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
            if !self.records_of.contains(&row.case_id) {
                self.records_of.insert(row.case_id.clone());
            }
        }
        Ok(())
    }

    /// The file, and what it holds.
    pub fn finish(self) -> Result<Finished, WriteError> {
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
            case_ids: self.records_of.into_iter().collect(),
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
