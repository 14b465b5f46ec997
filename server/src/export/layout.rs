//! The tables of an export: a form's own and one for each of its repeat groups, their
//! columns across every version of the form the export meets, and how an answer reads in a
//! cell.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use cris_core::form::{FieldType, FormDef};
use cris_core::lang::Lang;

use super::Cell;
use super::words::{TIMES, words};
use crate::time_zone::TimeZone;

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
    /// The tables of a form across `versions` (of one form, in any order), in `lang`; the
    /// fields marked sensitive (in any version) only if `sensitive`.
    pub fn new(versions: &[Arc<FormDef>], lang: Lang, sensitive: bool) -> FormLayout {
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
        // A field marked sensitive in one version is in every version.
        let left_out: std::collections::HashSet<&str> = versions
            .iter()
            .flat_map(|form| form.walk())
            .filter(|(field, _)| field.sensitive && !sensitive)
            .map(|(field, _)| field.name.as_str())
            .collect();
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
                if !field.kind.holds_value() || left_out.contains(field.name.as_str()) {
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
    pub(super) fn headings(&self, table: usize, lang: Lang, zone: TimeZone) -> Vec<String> {
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

impl Column {
    /// The cell of an answer: choices by their labels, yes and no in words, numbers as
    /// numbers, dates and times as dates and times; anything else (and a value without a
    /// label) as it is.
    pub(super) fn cell<'a>(&'a self, value: &'a str, lang: Lang) -> Cell<'a> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use cris_core::Date;

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
        let layout = FormLayout::new(&[v1, v2], Lang::De, true);
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
        let tr = FormLayout::new(&layout_versions(), Lang::Tr, true);
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
