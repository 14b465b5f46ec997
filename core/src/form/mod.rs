//! Form definitions as data: the model, the loader that checks a definition before anything
//! uses it, and the validation of a filled form.
//!
//! The model follows XLSForm (ODK, KoboToolbox): fields with a `type`, a `name`, labels and
//! hints per language, `required`, `relevant`, `constraint` with a message, `default`,
//! `calculation`, choice lists, groups and repeat groups, and a mapping of fields to case
//! properties. The file format (JSON) is documented in `forms/README.md`.

mod answers;
mod load;
mod messages;
mod validate;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Date;
use crate::expr::Expr;
use crate::lang::Lang;

pub use answers::{Answer, Answers};
pub use load::FormError;
pub use messages::engine_message;
pub use validate::{Problem, ProblemKind, Validated};

/// Text in every language of CRIS Field (the loader insists on all six).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Labels(pub BTreeMap<Lang, String>);

impl Labels {
    /// The text in `lang` (the loader guarantees it exists).
    pub fn get(&self, lang: Lang) -> &str {
        self.0.get(&lang).map(String::as_str).unwrap_or_default()
    }
}

/// A whole form: an intake, a home visit.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormDef {
    /// Stable id, e.g. `intake`.
    pub id: String,
    /// Raised on every change; submissions name the version they were filled in.
    pub version: u32,
    pub title: Labels,
    /// Named choice lists that select fields refer to.
    #[serde(default)]
    pub choices: BTreeMap<String, Vec<Choice>>,
    pub fields: Vec<Field>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// What is stored: no spaces (select_multiple stores values separated by spaces).
    pub value: String,
    pub label: Labels,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    LongText,
    Integer,
    Decimal,
    Date,
    Time,
    SelectOne,
    SelectMultiple,
    YesNo,
    Phone,
    /// Read-only text shown to the worker; holds no value.
    Note,
    /// A value computed from `calculation`, not typed in.
    Calculate,
    Group,
    Repeat,
}

impl FieldType {
    /// Groups and repeats hold fields, not a value.
    pub fn is_container(self) -> bool {
        matches!(self, FieldType::Group | FieldType::Repeat)
    }

    /// Whether the field holds an answer of its own.
    pub fn holds_value(self) -> bool {
        !self.is_container() && self != FieldType::Note
    }
}

/// A default that stands for the moment a form is started, as in ODK: `today()` (a date) and
/// `now()` (a date, or a time of day).
pub const DEFAULT_TODAY: &str = "today()";
pub const DEFAULT_NOW: &str = "now()";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub label: Labels,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Labels>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<Expr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<Expr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint_message: Option<Labels>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculation: Option<Expr>,
    /// For select fields: the name of a list in the form's `choices`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<String>,
    /// Fields of a group or repeat group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    /// Special category data (health): shown and exported with extra care.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
    /// The case property this field's answer updates when the form is finalized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_property: Option<String>,
}

impl FormDef {
    /// Parses and checks a definition (see [`FormError`] for what is refused).
    pub fn from_json(text: &str) -> Result<FormDef, FormError> {
        let form: FormDef = serde_json::from_str(text).map_err(|e| FormError::Syntax {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        load::check(&form)?;
        Ok(form)
    }

    /// Every field, depth first, with the repeat group it sits in (if any).
    pub fn walk(&self) -> Vec<(&Field, Option<&str>)> {
        fn go<'a>(
            fields: &'a [Field],
            repeat: Option<&'a str>,
            out: &mut Vec<(&'a Field, Option<&'a str>)>,
        ) {
            for f in fields {
                out.push((f, repeat));
                let inner = if f.kind == FieldType::Repeat {
                    Some(f.name.as_str())
                } else {
                    repeat
                };
                go(&f.fields, inner, out);
            }
        }
        let mut out = Vec::new();
        go(&self.fields, None, &mut out);
        out
    }

    /// The case-property changes of a validated form: every top-level field mapped to a case
    /// property, with its answer (fields left empty change nothing).
    pub fn case_changes(&self, answers: &Answers) -> BTreeMap<String, String> {
        self.walk()
            .into_iter()
            .filter(|(_, repeat)| repeat.is_none())
            .filter_map(|(f, _)| {
                let property = f.case_property.as_ref()?;
                let value = answers.text(&f.name).trim();
                (!value.is_empty()).then(|| (property.clone(), value.to_owned()))
            })
            .collect()
    }

    /// The field called `name`, anywhere in the form.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.walk()
            .into_iter()
            .map(|(f, _)| f)
            .find(|f| f.name == name)
    }
}

impl Field {
    /// The answer this field starts with in a form started on `today` at `now` (`HH:MM`, the
    /// phone's time of day): its `default`, with `today()` and `now()` standing for that day
    /// and time. Core reads no clock: the caller gives both.
    pub fn default_at(&self, today: Date, now: &str) -> Option<String> {
        let default = self.default.as_deref()?;
        Some(match (default, self.kind) {
            (DEFAULT_TODAY | DEFAULT_NOW, FieldType::Date) => today.to_string(),
            (DEFAULT_NOW, FieldType::Time) => now.to_owned(),
            _ => default.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests;
