//! Exports for funder reporting: submissions as tables, one for each form and one for each
//! of its repeat groups, written as a CSV file (one table) or an XLSX workbook (every table a
//! sheet).
//!
//! A form's table has a row per submission: where it stands in the record (ids, household,
//! worker, team, times, review), then a column per field that holds an answer, in the order
//! of the form, across every version of it the export meets (the newest version's labels
//! win; a field only an older version had stays beside its neighbours). A repeat group's
//! table has a row per instance, linked to its submission by the submission's id and the
//! instance's number. Headings and choices are written in the language asked for; a value
//! without a label stays as it is.
//!
//! A form recorded on a household since merged into another keeps its own household's id
//! (the record is not moved) and is shown, beside it, with the id and the name of the
//! household it is part of now, as the caseload shows that one; once the merge is undone,
//! with its own again.
//!
//! Nothing here is read back by a program: a text that a spreadsheet would take for a formula
//! (`=`, `+`, `-`, `@`, tab or carriage return first) is written so that it never is one
//! (`'` first in CSV; a workbook holds strings as strings, never as formulas).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cris_core::api::ReviewStatus;
use cris_core::form::{Answers, FieldType, FormDef};
use cris_core::lang::Lang;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::store::ExportRow;

/// The most submissions one export may hold. Beyond it a file is too large to open in a
/// spreadsheet anyway, and making it would hold up the server for a long time: the export is
/// refused before anything is read, with a request to narrow it.
pub const MAX_EXPORT_ROWS: i64 = 200_000;

/// Rows in a sheet of a workbook, its heading included (Excel's limit).
const SHEET_ROWS: u32 = 1_048_576;
/// Characters in a cell of a workbook (Excel's limit): a longer text is cut.
const CELL_CHARS: usize = 32_767;
/// Characters in a sheet's name (Excel's limit).
const SHEET_NAME_CHARS: usize = 31;
/// Column widths, in characters: a column is as wide as its widest value, within these.
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 60;

const DAY_MS: i64 = 86_400_000;

/// The tables of one form: its own, then one for each repeat group, in the order of the form.
#[derive(Clone, Debug)]
pub struct FormLayout {
    pub form_id: String,
    pub tables: Vec<Table>,
}

/// A form's own table (`repeat: None`) or one of its repeat groups'.
#[derive(Clone, Debug)]
pub struct Table {
    pub repeat: Option<String>,
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
        let mut repeats: Vec<String> = Vec::new();
        // Column names by table (None: the form's own), columns by name.
        let mut order: HashMap<Option<String>, Vec<String>> = HashMap::new();
        let mut columns: HashMap<String, (Option<String>, Column)> = HashMap::new();
        for form in &versions {
            let walk = form.walk();
            let groups: Vec<&str> = walk
                .iter()
                .filter(|(f, _)| f.kind == FieldType::Repeat)
                .map(|(f, _)| f.name.as_str())
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
            repeat,
        };
        let mut tables = vec![table(None)];
        tables.extend(repeats.into_iter().map(|r| table(Some(r))));
        FormLayout { form_id, tables }
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

    /// The headings of a table's columns.
    fn headings(&self, table: usize, lang: Lang) -> Vec<String> {
        let t = &self.tables[table];
        let lead: Vec<&str> = if t.repeat.is_none() {
            words(lang).meta.to_vec()
        } else {
            vec![words(lang).meta[0], words(lang).instance]
        };
        lead.into_iter()
            .map(str::to_owned)
            .chain(t.columns.iter().map(|c| c.heading.clone()))
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

/// A cell: text, or a number (written as a number in a workbook, as it came in a CSV file).
#[derive(Clone, Debug, PartialEq)]
pub enum Cell<'a> {
    Text(Cow<'a, str>),
    Number(Cow<'a, str>),
}

impl Column {
    /// The cell of an answer: choices by their labels, yes and no in words, numbers as
    /// numbers; anything else (and a value without a label) as it is.
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
                "yes" => words(lang).yes,
                "no" => words(lang).no,
                other => other,
            })),
            FieldType::Integer | FieldType::Decimal if is_number(value) => {
                Cell::Number(Cow::Borrowed(value))
            }
            _ => Cell::Text(Cow::Borrowed(value)),
        }
    }
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

/// A time of the server's or the phone's clock as a UTC date and time (`2026-11-27 14:03:12`).
pub fn utc(ms: i64) -> String {
    let days = i32::try_from(ms.div_euclid(DAY_MS)).unwrap_or_default();
    let seconds = ms.rem_euclid(DAY_MS) / 1000;
    format!(
        "{} {:02}:{:02}:{:02}",
        cris_core::Date::from_days(days),
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// The words of an export that are not the forms' own, in each language.
struct Words {
    /// The headings of a form's table before its fields: submission id, case id (the household
    /// it was recorded on), household id (the one it is shown with: the household it was merged
    /// into), household (its name), worker, team, received, finalized, form version, review
    /// status, corrects, corrected by.
    meta: [&'static str; 12],
    /// The heading of an instance's number in a repeat group's table.
    instance: &'static str,
    yes: &'static str,
    no: &'static str,
    /// new, approved, changes requested, corrected, resubmitted (as the app says them).
    status: [&'static str; 5],
}

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::De => &Words {
            meta: [
                "Formular-ID",
                "Fall-ID",
                "Haushalts-ID",
                "Haushalt",
                "Fachkraft (Login)",
                "Team",
                "Eingegangen (UTC)",
                "Abgeschlossen (UTC)",
                "Formularversion",
                "Prüfstatus",
                "Korrigiert (Formular-ID)",
                "Korrigiert durch (Formular-ID)",
            ],
            instance: "Eintrag Nr.",
            yes: "Ja",
            no: "Nein",
            status: [
                "Neu",
                "Freigegeben",
                "Änderungen angefordert",
                "Korrigiert",
                "Erneut eingereicht",
            ],
        },
        Lang::Tr => &Words {
            meta: [
                "Form kimliği",
                "Vaka kimliği",
                "Hane kimliği",
                "Hane",
                "Vaka yöneticisi (kullanıcı adı)",
                "Ekip",
                "Geliş tarihi (UTC)",
                "Tamamlanma (UTC)",
                "Form sürümü",
                "İnceleme durumu",
                "Düzelttiği form (kimlik)",
                "Düzelten form (kimlik)",
            ],
            instance: "Kayıt no.",
            yes: "Evet",
            no: "Hayır",
            status: [
                "Yeni",
                "Onaylandı",
                "Değişiklik istendi",
                "Düzeltildi",
                "Yeniden gönderildi",
            ],
        },
        Lang::Bg => &Words {
            meta: [
                "ID на формуляра",
                "ID на случая",
                "ID на домакинството",
                "Домакинство",
                "Служител (потребителско име)",
                "Екип",
                "Получен (UTC)",
                "Приключен (UTC)",
                "Версия на формуляра",
                "Статус на проверката",
                "Коригира формуляр (ID)",
                "Коригиран с формуляр (ID)",
            ],
            instance: "Запис №",
            yes: "Да",
            no: "Не",
            status: [
                "Нов",
                "Одобрен",
                "Поискани промени",
                "Коригиран",
                "Подаден отново",
            ],
        },
        Lang::En => &Words {
            meta: [
                "Submission ID",
                "Case ID",
                "Household ID",
                "Household",
                "Worker (login)",
                "Team",
                "Received (UTC)",
                "Finalized (UTC)",
                "Form version",
                "Review status",
                "Corrects (submission ID)",
                "Corrected by (submission ID)",
            ],
            instance: "Entry no.",
            yes: "Yes",
            no: "No",
            status: [
                "New",
                "Approved",
                "Changes requested",
                "Corrected",
                "Resubmitted",
            ],
        },
        Lang::Hu => &Words {
            meta: [
                "Űrlapazonosító",
                "Ügyazonosító",
                "Háztartás-azonosító",
                "Háztartás",
                "Munkatárs (felhasználónév)",
                "Csapat",
                "Beérkezett (UTC)",
                "Véglegesítve (UTC)",
                "Űrlapverzió",
                "Ellenőrzés állapota",
                "Javított űrlap (azonosító)",
                "Javító űrlap (azonosító)",
            ],
            instance: "Bejegyzés sorszáma",
            yes: "Igen",
            no: "Nem",
            status: [
                "Új",
                "Jóváhagyva",
                "Módosítás kérve",
                "Javítva",
                "Újra beküldve",
            ],
        },
        Lang::Sk => &Words {
            meta: [
                "ID formulára",
                "ID prípadu",
                "ID domácnosti",
                "Domácnosť",
                "Pracovník (prihlasovacie meno)",
                "Tím",
                "Prijaté (UTC)",
                "Dokončené (UTC)",
                "Verzia formulára",
                "Stav kontroly",
                "Opravuje formulár (ID)",
                "Opravené formulárom (ID)",
            ],
            instance: "Záznam č.",
            yes: "Áno",
            no: "Nie",
            status: [
                "Nové",
                "Schválené",
                "Vyžiadané zmeny",
                "Opravené",
                "Znova odoslané",
            ],
        },
    }
}

/// A review status in words (one the code does not know, as stored).
fn status_words(status: &str, lang: Lang) -> &str {
    match status.parse::<ReviewStatus>() {
        Ok(s) => {
            let i = ReviewStatus::ALL.iter().position(|x| *x == s).unwrap_or(0);
            words(lang).status[i]
        }
        Err(_) => status,
    }
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

/// A workbook's sheet, as it fills.
#[derive(Debug)]
struct Sheet {
    /// Its place in the workbook.
    index: usize,
    /// Rows written, the heading included.
    rows: u32,
    /// The widest value of each column so far, in characters (up to [`MAX_WIDTH`]).
    widths: Vec<usize>,
}

enum Out {
    /// One table of one form: (form, table), and the file so far.
    Csv {
        form: usize,
        table: usize,
        bytes: Vec<u8>,
    },
    /// Every table of every form: a sheet each, by form and table.
    Xlsx {
        workbook: Box<Workbook>,
        sheets: Vec<Vec<Sheet>>,
    },
}

/// An export being written: forms' submissions go in one at a time, in the order of the
/// file, and [`Export::finish`] hands over the file.
pub struct Export {
    lang: Lang,
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
    /// spreadsheet programs read ä, ş and и wrong), fields quoted as RFC 4180 has it, CRLF
    /// line ends.
    pub fn csv(form: FormLayout, table: usize, lang: Lang) -> Export {
        let mut bytes = Vec::with_capacity(64 * 1024);
        bytes.extend_from_slice("\u{feff}".as_bytes());
        let headings = form.headings(table, lang);
        let cells: Vec<Cell> = headings
            .iter()
            .map(|h| Cell::Text(Cow::Borrowed(h.as_str())))
            .collect();
        csv_row(&mut bytes, &cells);
        Export {
            lang,
            forms: vec![form],
            out: Out::Csv {
                form: 0,
                table,
                bytes,
            },
            rows: 0,
            cases: HashSet::new(),
        }
    }

    /// A workbook with a sheet for every table of every form, each with its headings (bold,
    /// kept in view while scrolling). Rows go to an unlinked temporary file as they are
    /// written, so that a large export is not kept in memory cell by cell.
    pub fn xlsx(forms: Vec<FormLayout>, lang: Lang) -> Result<Export, ExportError> {
        let mut workbook = Box::new(Workbook::new());
        let bold = Format::new().set_bold();
        let wanted: Vec<String> = forms
            .iter()
            .flat_map(|f| (0..f.tables.len()).map(|t| f.table_name(t)))
            .collect();
        let mut names = sheet_names(&wanted).into_iter();
        let mut sheets = Vec::with_capacity(forms.len());
        let mut index = 0;
        for form in &forms {
            let mut of_form = Vec::with_capacity(form.tables.len());
            for table in 0..form.tables.len() {
                let headings = form.headings(table, lang);
                let sheet = workbook.add_worksheet_with_constant_memory()?;
                sheet.set_name(names.next().unwrap_or_default())?;
                for (col, heading) in headings.iter().enumerate() {
                    sheet.write_string_with_format(0, col_num(col)?, heading, &bold)?;
                }
                sheet.set_freeze_panes(1, 0)?;
                of_form.push(Sheet {
                    index,
                    rows: 1,
                    widths: headings.iter().map(|h| width_of(h)).collect(),
                });
                index += 1;
            }
            sheets.push(of_form);
        }
        Ok(Export {
            lang,
            forms,
            out: Out::Xlsx { workbook, sheets },
            rows: 0,
            cases: HashSet::new(),
        })
    }

    /// Writes a submission of the export's `form`-th form (in the order given) to its tables.
    pub fn add(&mut self, form: usize, row: &ExportRow) -> Result<(), ExportError> {
        let logged: Logged =
            serde_json::from_str(&row.body).map_err(|_| ExportError::Unreadable(row.id.clone()))?;
        let answers = &logged.change.submission.answers;
        let (lang, layout) = (self.lang, &self.forms[form]);
        let mut written = 0;
        match &mut self.out {
            Out::Csv {
                form: f,
                table,
                bytes,
            } => {
                if *f == form {
                    for cells in rows_of(layout, *table, row, answers, lang) {
                        csv_row(bytes, &cells);
                        written += 1;
                    }
                }
            }
            Out::Xlsx { workbook, sheets } => {
                for (table, sheet) in sheets[form].iter_mut().enumerate() {
                    for cells in rows_of(layout, table, row, answers, lang) {
                        if sheet.rows >= SHEET_ROWS {
                            return Err(ExportError::SheetFull {
                                table: layout.table_name(table),
                            });
                        }
                        xlsx_row(workbook, sheet, &cells)?;
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
            } => {
                for sheet in sheets.iter().flatten() {
                    let ws = workbook.worksheet_from_index(sheet.index)?;
                    for (col, width) in sheet.widths.iter().enumerate() {
                        let width = (width + 2).clamp(MIN_WIDTH, MAX_WIDTH);
                        ws.set_column_width(col_num(col)?, width as f64)?;
                    }
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
) -> Vec<Vec<Cell<'a>>> {
    let text = |s: &'a str| Cell::Text(Cow::Borrowed(s));
    let t = &layout.tables[table];
    match &t.repeat {
        None => {
            let mut cells = Vec::with_capacity(12 + t.columns.len());
            cells.extend([
                text(&row.id),
                text(&row.case_id),
                text(&row.household_id),
                text(&row.household_name),
                text(&row.login),
                text(&row.team),
                Cell::Text(Cow::Owned(utc(row.received_ms))),
                Cell::Text(Cow::Owned(utc(row.finalized_ms))),
                Cell::Number(Cow::Owned(row.form_version.to_string())),
                text(status_words(&row.review_status, lang)),
                text(row.corrects.as_deref().unwrap_or_default()),
                text(row.corrected_by.as_deref().unwrap_or_default()),
            ]);
            cells.extend(
                t.columns
                    .iter()
                    .map(|c| c.cell(answers.text(&c.name), lang)),
            );
            vec![cells]
        }
        Some(repeat) => answers
            .instances(repeat)
            .iter()
            .enumerate()
            .map(|(i, instance)| {
                let mut cells = Vec::with_capacity(2 + t.columns.len());
                cells.push(text(&row.id));
                cells.push(Cell::Number(Cow::Owned((i + 1).to_string())));
                cells.extend(
                    t.columns
                        .iter()
                        .map(|c| c.cell(instance.text(&c.name), lang)),
                );
                cells
            })
            .collect(),
    }
}

/// Appends a row to a CSV file: a field with a comma, a quote or a line break is quoted (its
/// quotes doubled); a text a spreadsheet would take for a formula gets a `'` first.
pub fn csv_row(out: &mut Vec<u8>, cells: &[Cell]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let (text, guard) = match cell {
            Cell::Text(t) => (t.as_ref(), formula_like(t)),
            Cell::Number(n) => (n.as_ref(), false),
        };
        let quote = text.contains([',', '"', '\r', '\n']);
        if quote {
            out.push(b'"');
        }
        if guard {
            out.push(b'\'');
        }
        if quote {
            // Quotes are single bytes in UTF-8: doubling them byte by byte keeps the rest.
            for b in text.bytes() {
                out.push(b);
                if b == b'"' {
                    out.push(b'"');
                }
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(text.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends a row to a sheet: strings always as strings (never formulas), numbers as numbers.
fn xlsx_row(workbook: &mut Workbook, sheet: &mut Sheet, cells: &[Cell]) -> Result<(), XlsxError> {
    let ws = workbook.worksheet_from_index(sheet.index)?;
    let row = sheet.rows;
    for (i, cell) in cells.iter().enumerate() {
        let col = col_num(i)?;
        let text = match cell {
            Cell::Number(n) => match n.parse::<f64>() {
                Ok(number) if number.is_finite() => {
                    ws.write_number(row, col, number)?;
                    sheet.widths[i] = sheet.widths[i].max(n.len().min(MAX_WIDTH));
                    continue;
                }
                _ => n.as_ref(),
            },
            Cell::Text(t) => t.as_ref(),
        };
        if text.is_empty() {
            continue;
        }
        let text = match text.char_indices().nth(CELL_CHARS) {
            Some((cut, _)) => &text[..cut],
            None => text,
        };
        ws.write_string(row, col, text)?;
        sheet.widths[i] = sheet.widths[i].max(width_of(text));
    }
    sheet.rows += 1;
    Ok(())
}

/// How wide a text shows, in characters, up to [`MAX_WIDTH`]: its longest line.
fn width_of(text: &str) -> usize {
    text.lines()
        .map(|line| line.chars().take(MAX_WIDTH).count())
        .max()
        .unwrap_or(0)
}

fn col_num(col: usize) -> Result<u16, XlsxError> {
    u16::try_from(col).map_err(|_| XlsxError::RowColumnLimitError)
}

/// Names for sheets, one for each wanted name: characters Excel does not allow in a sheet's
/// name replaced, cut to its 31 characters, and told apart (Excel ignores case) by a number
/// at the end where cutting made two the same.
pub fn sheet_names(wanted: &[String]) -> Vec<String> {
    let mut taken: HashSet<String> = HashSet::new();
    wanted
        .iter()
        .map(|name| {
            let clean: String = name
                .chars()
                .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
                .collect();
            let clean = clean.trim_matches('\'');
            let clean = if clean.is_empty() { "Sheet" } else { clean };
            let cut = |n: usize| clean.chars().take(n).collect::<String>();
            let mut candidate = cut(SHEET_NAME_CHARS);
            let mut n = 1;
            while taken.contains(&candidate.to_lowercase()) {
                n += 1;
                let suffix = format!("~{n}");
                candidate = cut(SHEET_NAME_CHARS - suffix.len()) + &suffix;
            }
            taken.insert(candidate.to_lowercase());
            candidate
        })
        .collect()
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
        let headings = layout.headings(0, Lang::De);
        assert_eq!(headings.len(), 12 + 4);
        assert_eq!(headings[0], "Formular-ID");
        assert_eq!(
            layout.headings(1, Lang::De),
            ["Formular-ID", "Eintrag Nr.", "Was"]
        );
        let tr = FormLayout::new(&layout_versions(), Lang::Tr);
        assert_eq!(tr.tables[0].columns[0].heading, "Datum (tr)");
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
    fn csv_quotes_what_needs_it_and_neutralises_formulas() {
        let mut out = Vec::new();
        let cells = [
            Cell::Text("plain".into()),
            Cell::Text("a, b".into()),
            Cell::Text("sie sagte \"nein\"\nund ging".into()),
            Cell::Text("=HYPERLINK(\"x\")".into()),
            Cell::Text("@SUM(A1)".into()),
            Cell::Text("-5".into()),
            Cell::Text("- Punkt".into()),
            Cell::Text("\tx".into()),
            Cell::Number("-3.5".into()),
            Cell::Text("".into()),
        ];
        csv_row(&mut out, &cells);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "plain,\"a, b\",\"sie sagte \"\"nein\"\"\nund ging\",\"'=HYPERLINK(\"\"x\"\")\",'@SUM(A1),-5,'- Punkt,'\tx,-3.5,\r\n"
        );
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_795_779_723_456), "2026-11-27 11:42:03");
    }

    #[test]
    fn sheet_names_fit_excel_and_stay_apart() {
        let wanted = [
            "home_visit".to_owned(),
            "home_visit.children_attendance_in_school".to_owned(),
            "home_visit.children_attendance_in_school_too".to_owned(),
            "HOME_VISIT".to_owned(),
            "a[b]:c".to_owned(),
        ];
        let names = sheet_names(&wanted);
        assert_eq!(
            names,
            [
                "home_visit",
                "home_visit.children_attendance_",
                "home_visit.children_attendanc~2",
                "HOME_VISIT~2",
                "a_b__c",
            ]
        );
        assert!(names.iter().all(|n| n.chars().count() <= 31));
    }

    #[test]
    fn yes_no_and_several_choices_read_as_words() {
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
            ..yes_no
        };
        assert_eq!(number.cell("12", Lang::De), Cell::Number("12".into()));
        assert_eq!(number.cell("", Lang::De), Cell::Text("".into()));
    }
}
