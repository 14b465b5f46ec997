//! Forms as XLSForm spreadsheets, the way ODK, KoboToolbox and SurveyCTO taught the field to
//! write them: [`read`] takes an `.xlsx` with the sheets `survey`, `choices` and `settings` to
//! a form definition, [`write`] writes one back. What CRIS Field cannot take is refused with
//! the sheet, row and column and what to write instead, every problem at once; nothing is
//! guessed.
//!
//! - `survey`: `type`, `name`, `label::German (de)` (or `label::de`) and the other five
//!   languages, `hint::…`, `required`, `relevant`, `constraint`, `constraint_message::…`,
//!   `calculation`, `default`, `appearance`, and our own `case_property` and `sensitive`.
//!   Types: `text` (`appearance` `multiline`: a long text; `numbers`: a phone number),
//!   `integer`, `decimal`, `date`, `time`, `select_one LIST`, `select_multiple LIST`
//!   (`select_one yes_no`: a yes/no question), `note`, `calculate`, `begin group`/`end group`,
//!   `begin repeat`/`end repeat`.
//! - `choices`: `list_name`, `name`, `label::…`. The list `yes_no` is yes and no, worded by
//!   the app in every language.
//! - `settings`: `form_id`, `version`, `form_title::…`.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use cris_core::Lang;
use cris_core::form::{Field, FieldType, FormDef, Labels};
use serde_json::{Map, Value, json};

/// A problem of a spreadsheet: where, and what to write instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub sheet: String,
    /// From 1, as the spreadsheet numbers them (0: the sheet as a whole).
    pub row: usize,
    /// The column's letter and heading, if the problem is in one.
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.column, self.row) {
            (_, 0) => write!(f, "sheet {:?}: {}", self.sheet, self.message),
            (Some(column), row) => write!(
                f,
                "sheet {:?}, row {row}, column {column}: {}",
                self.sheet, self.message
            ),
            (None, row) => write!(f, "sheet {:?}, row {row}: {}", self.sheet, self.message),
        }
    }
}

/// Why a spreadsheet is not a form: every problem found.
#[derive(Debug, thiserror::Error)]
#[error("{} problem(s) in the XLSForm:\n{}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct Refused(pub Vec<Problem>);

const YES_NO: &str = "yes_no";

/// The columns of a language, as XLSForms name them: `label::German (de)`.
fn lang_column(prefix: &str, lang: Lang) -> String {
    let name = match lang {
        Lang::De => "German",
        Lang::Tr => "Turkish",
        Lang::Bg => "Bulgarian",
        Lang::En => "English",
        Lang::Hu => "Hungarian",
        Lang::Sk => "Slovak",
    };
    format!("{prefix}::{name} ({})", lang.code())
}

/// `label::German (de)`, `label::de`: the prefix and the language.
fn split_lang(heading: &str) -> Option<(&str, Result<Lang, String>)> {
    let (prefix, rest) = heading.split_once("::")?;
    let code = match (rest.rfind('('), rest.ends_with(')')) {
        (Some(open), true) => &rest[open + 1..rest.len() - 1],
        _ => rest,
    };
    Some((
        prefix,
        code.trim().parse::<Lang>().map_err(|_| rest.to_owned()),
    ))
}

// ----- Reading -----

/// A sheet as text cells, with its headings.
struct Sheet {
    name: String,
    headings: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Sheet {
    fn column(&self, heading: &str) -> Option<usize> {
        self.headings.iter().position(|h| h == heading)
    }

    fn cell(&self, row: usize, heading: &str) -> &str {
        self.column(heading)
            .and_then(|c| self.rows[row].get(c))
            .map_or("", |s| s.trim())
    }

    /// `prefix::<language>` in every language found: language -> text.
    fn labels(&self, row: usize, prefix: &str) -> BTreeMap<Lang, String> {
        let mut out = BTreeMap::new();
        for (c, heading) in self.headings.iter().enumerate() {
            if let Some((p, Ok(lang))) = split_lang(heading)
                && p == prefix
            {
                let text = self.rows[row].get(c).map_or("", |s| s.trim());
                if !text.is_empty() {
                    out.insert(lang, text.to_owned());
                }
            }
        }
        out
    }

    fn problem(&self, row: usize, heading: Option<&str>, message: String) -> Problem {
        Problem {
            sheet: self.name.clone(),
            row: row + 2,
            column: heading.map(|h| match self.column(h) {
                Some(c) => format!("{} ({h})", letter(c)),
                None => h.to_owned(),
            }),
            message,
        }
    }
}

/// A column's letter: A … Z, AA …
fn letter(mut c: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(char::from(b'A' + (c % 26) as u8));
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    out.iter().rev().collect()
}

fn text_of(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

fn sheet_of(book: &mut Xlsx<Cursor<&[u8]>>, name: &str) -> Option<Sheet> {
    let range = book.worksheet_range(name).ok()?;
    let mut rows = range.rows();
    let headings = rows
        .next()
        .map(|r| r.iter().map(|c| text_of(c).trim().to_owned()).collect())
        .unwrap_or_default();
    let rows = rows
        .map(|r| r.iter().map(text_of).collect::<Vec<String>>())
        .collect();
    Some(Sheet {
        name: name.to_owned(),
        headings,
        rows,
    })
}

/// The survey columns CRIS Field reads; any other is refused with what it would need.
const SURVEY_COLUMNS: [&str; 10] = [
    "type",
    "name",
    "required",
    "relevant",
    "constraint",
    "calculation",
    "default",
    "appearance",
    "case_property",
    "sensitive",
];
const SURVEY_LANG_COLUMNS: [&str; 3] = ["label", "hint", "constraint_message"];

/// What ODK features a column or type stands for that CRIS Field lacks, in words.
fn unsupported_type(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "geopoint" | "geotrace" | "geoshape" => {
            "locations are not recorded: leave the question out"
        }
        "image" | "audio" | "video" | "file" | "background-audio" => {
            "files and photos are not taken in forms yet: leave the question out"
        }
        "barcode" => "barcodes are not scanned: use text",
        "range" => "use integer with a constraint, e.g. . >= 1 and . <= 10",
        "rank" => "use select_multiple",
        "acknowledge" | "trigger" => "use select_one yes_no",
        "start" | "end" | "today" | "deviceid" | "username" | "phonenumber" | "simserial"
        | "subscriberid" | "email" | "audit" | "start-geopoint" => {
            "the server records who sent a form, from which device and when: leave the row out"
        }
        "hidden"
        | "xml-external"
        | "csv-external"
        | "select_one_from_file"
        | "select_multiple_from_file" => {
            "external data is not supported: write the choices in the choices sheet"
        }
        "dateTime" => "use a date and a time question",
        _ => return None,
    })
}

/// Reads an XLSForm `.xlsx` to a form definition, checked as the server checks its forms.
pub fn read(bytes: &[u8]) -> Result<FormDef, Refused> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| {
        Refused(vec![Problem {
            sheet: String::new(),
            row: 0,
            column: None,
            message: format!(
                "not an .xlsx spreadsheet ({e}): save it from Excel or LibreOffice as .xlsx"
            ),
        }])
    })?;
    let mut problems = Vec::new();
    let missing = |name: &str| Problem {
        sheet: name.to_owned(),
        row: 0,
        column: None,
        message: "the sheet is missing".to_owned(),
    };
    let survey = sheet_of(&mut book, "survey");
    let choices = sheet_of(&mut book, "choices");
    let settings = sheet_of(&mut book, "settings");
    let (Some(survey), Some(settings)) = (survey, settings) else {
        let mut gone = Vec::new();
        for (name, present) in [
            ("survey", book.sheet_names().iter().any(|n| n == "survey")),
            (
                "settings",
                book.sheet_names().iter().any(|n| n == "settings"),
            ),
        ] {
            if !present {
                gone.push(missing(name));
            }
        }
        return Err(Refused(gone));
    };
    check_headings(
        &survey,
        &SURVEY_COLUMNS,
        &SURVEY_LANG_COLUMNS,
        &mut problems,
    );
    let lists = match &choices {
        Some(sheet) => {
            check_headings(sheet, &["list_name", "name"], &["label"], &mut problems);
            read_choices(sheet, &mut problems)
        }
        None => BTreeMap::new(),
    };
    let (id, version, title) = read_settings(&settings, &mut problems);
    let fields = read_survey(&survey, &lists, &mut problems);
    if !problems.is_empty() {
        return Err(Refused(problems));
    }
    let mut choices = Map::new();
    for (name, list) in lists {
        if name != YES_NO {
            choices.insert(
                name,
                Value::Array(list.into_iter().map(|(_, c)| c).collect()),
            );
        }
    }
    let json = json!({
        "id": id,
        "version": version,
        "title": title,
        "choices": choices,
        "fields": fields,
    });
    FormDef::from_json(&json.to_string()).map_err(|e| {
        Refused(vec![Problem {
            sheet: "survey".to_owned(),
            row: 0,
            column: None,
            message: e.to_string(),
        }])
    })
}

fn check_headings(sheet: &Sheet, plain: &[&str], per_lang: &[&str], problems: &mut Vec<Problem>) {
    for (c, heading) in sheet.headings.iter().enumerate() {
        if heading.is_empty() || plain.contains(&heading.as_str()) {
            continue;
        }
        let at = Some(format!("{} ({heading})", letter(c)));
        let message = match split_lang(heading) {
            Some((prefix, Ok(_))) if per_lang.contains(&prefix) => continue,
            Some((prefix, Err(lang))) if per_lang.contains(&prefix) => format!(
                "{lang:?} is not a language of CRIS Field: name one of de, tr, bg, en, hu, sk, as in {prefix}::German (de)"
            ),
            _ if per_lang.contains(&heading.as_str()) => format!(
                "give {heading} in each language, as {heading}::German (de), {heading}::Turkish (tr), …"
            ),
            _ => format!(
                "CRIS Field has no column {heading:?}: leave it out (columns: {}; {} per language)",
                plain.join(", "),
                per_lang.join(", ")
            ),
        };
        problems.push(Problem {
            sheet: sheet.name.clone(),
            row: 1,
            column: at,
            message,
        });
    }
}

/// The choice lists: name -> (row, choice as JSON).
fn read_choices(
    sheet: &Sheet,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, Vec<(usize, Value)>> {
    let mut lists: BTreeMap<String, Vec<(usize, Value)>> = BTreeMap::new();
    for row in 0..sheet.rows.len() {
        let (list, name) = (sheet.cell(row, "list_name"), sheet.cell(row, "name"));
        if list.is_empty() && name.is_empty() {
            continue;
        }
        if list.is_empty() || name.is_empty() {
            problems.push(sheet.problem(
                row,
                Some(if list.is_empty() { "list_name" } else { "name" }),
                "a choice needs its list_name and its name".to_owned(),
            ));
            continue;
        }
        let label = labels(sheet, row, "label", problems);
        lists
            .entry(list.to_owned())
            .or_default()
            .push((row, json!({ "value": name, "label": label })));
    }
    if let Some(yes_no) = lists.get(YES_NO) {
        let values: Vec<&str> = yes_no
            .iter()
            .filter_map(|(_, c)| c["value"].as_str())
            .collect();
        if values != ["yes", "no"] {
            problems.push(
                sheet.problem(
                    yes_no[0].0,
                    Some("list_name"),
                    "the list yes_no is yes and no, worded by the app: name your list otherwise"
                        .to_owned(),
                ),
            );
        }
    }
    lists
}

/// Labels in all six languages, or a problem naming those missing.
fn labels(sheet: &Sheet, row: usize, prefix: &str, problems: &mut Vec<Problem>) -> Value {
    let found = sheet.labels(row, prefix);
    let missing: Vec<&str> = Lang::ALL
        .into_iter()
        .filter(|l| !found.contains_key(l))
        .map(|l| l.code())
        .collect();
    if let Some(first) = missing.first() {
        // At the column of the first language missing, where there is one.
        let column = sheet.headings.iter().find(|h| {
            split_lang(h).is_some_and(|(p, l)| p == prefix && l.is_ok_and(|l| l.code() == *first))
        });
        problems.push(sheet.problem(
            row,
            column.map(String::as_str),
            format!(
                "{prefix} is missing in {}: CRIS Field shows every text in six languages ({})",
                missing.join(", "),
                lang_column(prefix, Lang::De)
            ),
        ));
    }
    json!(
        found
            .into_iter()
            .map(|(l, t)| (l.code().to_owned(), t))
            .collect::<BTreeMap<_, _>>()
    )
}

fn read_settings(sheet: &Sheet, problems: &mut Vec<Problem>) -> (String, u32, Value) {
    check_headings(sheet, &["form_id", "version"], &["form_title"], problems);
    if sheet.rows.is_empty() {
        problems.push(sheet.problem(
            0,
            None,
            "give form_id, version and form_title in the row under the headings".to_owned(),
        ));
        return (String::new(), 0, json!({}));
    }
    let id = sheet.cell(0, "form_id").to_owned();
    if id.is_empty() {
        problems.push(sheet.problem(
            0,
            Some("form_id"),
            "give the form's id, e.g. home_visit".to_owned(),
        ));
    }
    let version = sheet.cell(0, "version");
    let version = version.parse::<u32>().unwrap_or_else(|_| {
        problems.push(sheet.problem(
            0,
            Some("version"),
            format!("{version:?} is not a version: write a whole number, raised on every change"),
        ));
        0
    });
    let title = labels(sheet, 0, "form_title", problems);
    (id, version, title)
}

/// A group or repeat begun and not yet ended: its row, kind, the field so far, its fields.
type Open = (usize, &'static str, Map<String, Value>, Vec<Value>);

/// The survey's rows as nested fields (JSON, as the form files hold them).
fn read_survey(
    sheet: &Sheet,
    lists: &BTreeMap<String, Vec<(usize, Value)>>,
    problems: &mut Vec<Problem>,
) -> Vec<Value> {
    let mut stack: Vec<Open> = Vec::new();
    let mut top: Vec<Value> = Vec::new();
    for row in 0..sheet.rows.len() {
        let kind = sheet.cell(row, "type");
        let name = sheet.cell(row, "name");
        if kind.is_empty() {
            if !name.is_empty() {
                problems.push(sheet.problem(
                    row,
                    Some("type"),
                    "the row has a name but no type".to_owned(),
                ));
            }
            continue;
        }
        let words: Vec<&str> = kind.split_whitespace().collect();
        let field_type = match words.as_slice() {
            ["end", "group"] | ["end_group"] | ["end", "repeat"] | ["end_repeat"] => {
                let closes = if words.last() == Some(&"repeat") || kind == "end_repeat" {
                    "repeat"
                } else {
                    "group"
                };
                match stack.pop() {
                    Some((_, open, mut field, inner)) if open == closes => {
                        field.insert("fields".to_owned(), Value::Array(inner));
                        let field = Value::Object(field);
                        match stack.last_mut() {
                            Some(parent) => parent.3.push(field),
                            None => top.push(field),
                        }
                    }
                    Some((opened, open, ..)) => problems.push(sheet.problem(
                        row,
                        Some("type"),
                        format!(
                            "end {closes} closes the {open} begun on row {}: end the {open} first",
                            opened + 2
                        ),
                    )),
                    None => problems.push(sheet.problem(
                        row,
                        Some("type"),
                        format!("end {closes} without a begin {closes}"),
                    )),
                }
                continue;
            }
            ["begin", "group"] | ["begin_group"] => "group",
            ["begin", "repeat"] | ["begin_repeat"] => "repeat",
            ["text"] => match sheet.cell(row, "appearance") {
                "multiline" => "long_text",
                "numbers" => "phone",
                _ => "text",
            },
            ["integer"] | ["int"] => "integer",
            ["decimal"] => "decimal",
            ["date"] => "date",
            ["time"] => "time",
            ["note"] => "note",
            ["calculate"] => "calculate",
            ["select_one", YES_NO] | ["select_one_yes_no"] => "yes_no",
            ["select_one" | "select_multiple", list] => {
                if !lists.contains_key(*list) {
                    problems.push(sheet.problem(
                        row,
                        Some("type"),
                        format!("there is no choice list {list:?} in the choices sheet"),
                    ));
                }
                if words[0] == "select_one" {
                    "select_one"
                } else {
                    "select_multiple"
                }
            }
            [other, ..] => {
                let what = unsupported_type(other).map_or_else(
                    || format!("CRIS Field has no question type {kind:?}: use text, integer, decimal, date, time, select_one LIST, select_multiple LIST, note, calculate, begin group or begin repeat"),
                    |instead| format!("CRIS Field has no question type {other:?}: {instead}"),
                );
                problems.push(sheet.problem(row, Some("type"), what));
                continue;
            }
            [] => continue,
        };
        let appearance = sheet.cell(row, "appearance");
        let understood = matches!(
            (field_type, appearance),
            (_, "") | ("long_text", "multiline") | ("phone", "numbers")
        );
        if !understood {
            problems.push(sheet.problem(
                row,
                Some("appearance"),
                format!("the appearance {appearance:?} is not supported: CRIS Field knows multiline and numbers (on text)"),
            ));
        }
        let mut field = Map::new();
        field.insert("name".to_owned(), json!(name));
        field.insert("type".to_owned(), json!(field_type));
        field.insert("label".to_owned(), labels(sheet, row, "label", problems));
        let hint = sheet.labels(row, "hint");
        if !hint.is_empty() {
            field.insert("hint".to_owned(), labels(sheet, row, "hint", problems));
        }
        for (flag, column) in [("required", "required"), ("sensitive", "sensitive")] {
            match sheet.cell(row, column).to_ascii_lowercase().as_str() {
                "" | "no" | "false" | "false()" | "0" => {}
                "yes" | "true" | "true()" | "1" => {
                    field.insert(flag.to_owned(), json!(true));
                }
                other => problems.push(sheet.problem(
                    row,
                    Some(column),
                    format!("{other:?}: write yes or leave it empty (a condition is not supported here: use relevant)"),
                )),
            }
        }
        for column in [
            "relevant",
            "constraint",
            "calculation",
            "default",
            "case_property",
        ] {
            let value = sheet.cell(row, column);
            if !value.is_empty() {
                field.insert(column.to_owned(), json!(value));
            }
        }
        if !sheet.labels(row, "constraint_message").is_empty() {
            field.insert(
                "constraint_message".to_owned(),
                labels(sheet, row, "constraint_message", problems),
            );
        }
        if let ["select_one" | "select_multiple", list] = words.as_slice()
            && *list != YES_NO
        {
            field.insert("choices".to_owned(), json!(list));
        }
        match field_type {
            "group" | "repeat" => stack.push((row, field_type, field, Vec::new())),
            _ => match stack.last_mut() {
                Some(parent) => parent.3.push(Value::Object(field)),
                None => top.push(Value::Object(field)),
            },
        }
    }
    for (row, open, ..) in stack {
        problems.push(sheet.problem(
            row,
            Some("type"),
            format!("this {open} is never ended: add end {open}"),
        ));
    }
    top
}

// ----- Writing -----

/// Writes `form` as an XLSForm that [`read`] takes back to the same definition.
pub fn write(form: &FormDef) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let survey = book.add_worksheet().set_name("survey")?;
    let mut headings: Vec<String> = vec!["type".into(), "name".into()];
    headings.extend(Lang::ALL.map(|l| lang_column("label", l)));
    headings.extend(Lang::ALL.map(|l| lang_column("hint", l)));
    headings.extend(["required", "relevant", "constraint"].map(String::from));
    headings.extend(Lang::ALL.map(|l| lang_column("constraint_message", l)));
    headings.extend(
        [
            "calculation",
            "default",
            "appearance",
            "case_property",
            "sensitive",
        ]
        .map(String::from),
    );
    let mut rows: Vec<Vec<String>> = Vec::new();
    survey_rows(&form.fields, &mut rows);
    write_sheet(survey, &headings, &rows)?;

    let choices = book.add_worksheet().set_name("choices")?;
    let mut headings: Vec<String> = vec!["list_name".into(), "name".into()];
    headings.extend(Lang::ALL.map(|l| lang_column("label", l)));
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (list, items) in &form.choices {
        for item in items {
            let mut row = vec![list.clone(), item.value.clone()];
            row.extend(Lang::ALL.map(|l| item.label.get(l).to_owned()));
            rows.push(row);
        }
    }
    for (value, word) in [
        ("yes", cris_core::words::yes as fn(Lang) -> &'static str),
        ("no", cris_core::words::no),
    ] {
        let mut row = vec![YES_NO.to_owned(), value.to_owned()];
        row.extend(Lang::ALL.map(|l| word(l).to_owned()));
        rows.push(row);
    }
    write_sheet(choices, &headings, &rows)?;

    let settings = book.add_worksheet().set_name("settings")?;
    let mut headings: Vec<String> = vec!["form_id".into(), "version".into()];
    headings.extend(Lang::ALL.map(|l| lang_column("form_title", l)));
    let mut row = vec![form.id.clone(), form.version.to_string()];
    row.extend(Lang::ALL.map(|l| form.title.get(l).to_owned()));
    write_sheet(settings, &headings, &[row])?;
    book.save_to_buffer()
}

fn write_sheet(
    sheet: &mut rust_xlsxwriter::Worksheet,
    headings: &[String],
    rows: &[Vec<String>],
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, heading) in headings.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, heading, &bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            if !text.is_empty() {
                sheet.write_string(r as u32 + 1, c as u16, text)?;
            }
        }
    }
    Ok(())
}

fn survey_rows(fields: &[Field], rows: &mut Vec<Vec<String>>) {
    let all = |labels: Option<&Labels>| -> Vec<String> {
        Lang::ALL
            .map(|l| labels.map_or_else(String::new, |t| t.get(l).to_owned()))
            .to_vec()
    };
    for field in fields {
        let (kind, appearance) = match field.kind {
            FieldType::Text => ("text".to_owned(), ""),
            FieldType::LongText => ("text".to_owned(), "multiline"),
            FieldType::Phone => ("text".to_owned(), "numbers"),
            FieldType::Integer => ("integer".to_owned(), ""),
            FieldType::Decimal => ("decimal".to_owned(), ""),
            FieldType::Date => ("date".to_owned(), ""),
            FieldType::Time => ("time".to_owned(), ""),
            FieldType::SelectOne => (
                format!("select_one {}", field.choices.as_deref().unwrap_or("")),
                "",
            ),
            FieldType::SelectMultiple => (
                format!("select_multiple {}", field.choices.as_deref().unwrap_or("")),
                "",
            ),
            FieldType::YesNo => (format!("select_one {YES_NO}"), ""),
            FieldType::Note => ("note".to_owned(), ""),
            FieldType::Calculate => ("calculate".to_owned(), ""),
            FieldType::Group => ("begin group".to_owned(), ""),
            FieldType::Repeat => ("begin repeat".to_owned(), ""),
        };
        let expr = |e: &Option<cris_core::expr::Expr>| {
            e.as_ref()
                .map_or_else(String::new, |e| e.source().to_owned())
        };
        let mut row = vec![kind, field.name.clone()];
        row.extend(all(Some(&field.label)));
        row.extend(all(field.hint.as_ref()));
        row.push(if field.required {
            "yes".into()
        } else {
            String::new()
        });
        row.push(expr(&field.relevant));
        row.push(expr(&field.constraint));
        row.extend(all(field.constraint_message.as_ref()));
        row.push(expr(&field.calculation));
        row.push(field.default.clone().unwrap_or_default());
        row.push(appearance.to_owned());
        row.push(field.case_property.clone().unwrap_or_default());
        row.push(if field.sensitive {
            "yes".into()
        } else {
            String::new()
        });
        rows.push(row);
        if field.kind.is_container() {
            survey_rows(&field.fields, rows);
            let end = if field.kind == FieldType::Repeat {
                "end repeat"
            } else {
                "end group"
            };
            rows.push(vec![end.to_owned(), field.name.clone()]);
        }
    }
}
