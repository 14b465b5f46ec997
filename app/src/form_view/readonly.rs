//! A finalized form's answers, read-only, in the reader's language: choice labels instead of
//! stored values, only what was answered.

use cris_core::Lang;
use cris_core::form::{Answers, Field, FieldType, FormDef};
use leptos::prelude::*;

use crate::i18n::ui;

/// `(label, value)` rows and headings for the answers, depth first.
pub fn rows(form: &FormDef, answers: &Answers, lang: Lang) -> Vec<Row> {
    let mut out = Vec::new();
    walk(form, &form.fields, answers, lang, &mut out);
    out
}

#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    Heading(String),
    Answer { label: String, value: String },
}

fn walk(form: &FormDef, level: &[Field], answers: &Answers, lang: Lang, out: &mut Vec<Row>) {
    for field in level {
        match field.kind {
            FieldType::Group => {
                let before = out.len();
                out.push(Row::Heading(field.label.get(lang).to_owned()));
                walk(form, &field.fields, answers, lang, out);
                if out.len() == before + 1 {
                    out.pop();
                }
            }
            FieldType::Repeat => {
                for (i, instance) in answers.instances(&field.name).iter().enumerate() {
                    out.push(Row::Heading(format!("{} {}", field.label.get(lang), i + 1)));
                    walk(form, &field.fields, instance, lang, out);
                }
            }
            FieldType::Note => {}
            _ => {
                let stored = answers.text(&field.name);
                if !stored.is_empty() {
                    out.push(Row::Answer {
                        label: field.label.get(lang).to_owned(),
                        value: display(form, field, stored, lang),
                    });
                }
            }
        }
    }
}

/// A stored answer as a person reads it.
pub fn display(form: &FormDef, field: &Field, stored: &str, lang: Lang) -> String {
    match field.kind {
        FieldType::YesNo => match stored {
            "yes" => ui(lang).yes.to_owned(),
            "no" => ui(lang).no.to_owned(),
            other => other.to_owned(),
        },
        FieldType::SelectOne | FieldType::SelectMultiple => {
            let list = field
                .choices
                .as_deref()
                .and_then(|name| form.choices.get(name));
            stored
                .split_whitespace()
                .map(|v| {
                    list.and_then(|l| l.iter().find(|c| c.value == v))
                        .map_or_else(|| v.to_owned(), |c| c.label.get(lang).to_owned())
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
        // A day as the language writes it; what does not read as a day, as it is.
        FieldType::Date => stored
            .parse::<cris_core::Date>()
            .map_or_else(|_| stored.to_owned(), |d| d.written(lang)),
        _ => stored.to_owned(),
    }
}

/// The answers as a definition list.
pub fn answers_view(rows: Vec<Row>) -> impl IntoView {
    view! {
        <dl class="answers">
            {rows
                .into_iter()
                .map(|row| match row {
                    Row::Heading(text) => view! { <dt class="answers-heading">{text}</dt> }.into_any(),
                    Row::Answer { label, value } => {
                        view! {
                            <dt>{label}</dt>
                            <dd>{value}</dd>
                        }
                            .into_any()
                    }
                })
                .collect_view()}
        </dl>
    }
}
