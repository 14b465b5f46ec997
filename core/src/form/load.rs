//! Checks a form definition before anything uses it, with messages that say where and what.

use std::collections::{BTreeMap, BTreeSet};

use super::{Field, FieldType, FormDef, Labels};
use crate::date::Date;
use crate::expr::{Expr, is_field_name};
use crate::lang::Lang;

/// Why a form definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// Not JSON, or not the shape of a form; `message` names the line and column.
    #[error("{message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "invalid name {name:?}: start with a letter or `_`, then letters, digits, `_`, `-`, `.`"
    )]
    InvalidName { name: String },
    #[error("the name {name:?} is used twice")]
    DuplicateName { name: String },
    #[error("{place} has no {lang} text")]
    MissingLanguage { place: String, lang: Lang },
    #[error("field {field:?}: {problem}")]
    Field { field: String, problem: String },
    #[error("choice list {list:?}: {problem}")]
    Choices { list: String, problem: String },
    #[error("fields depend on each other in a circle: {}", cycle.join(" -> "))]
    Cycle { cycle: Vec<String> },
}

fn field_err(field: &Field, problem: impl Into<String>) -> FormError {
    FormError::Field {
        field: field.name.clone(),
        problem: problem.into(),
    }
}

pub fn check(form: &FormDef) -> Result<(), FormError> {
    if !is_field_name(&form.id) {
        return Err(FormError::InvalidName {
            name: form.id.clone(),
        });
    }
    labels(&form.title, || "the form title".to_owned())?;
    check_choice_lists(form)?;

    let all = form.walk();
    let mut by_name: BTreeMap<&str, (&Field, Option<&str>)> = BTreeMap::new();
    for &(field, repeat) in &all {
        if !is_field_name(&field.name) {
            return Err(FormError::InvalidName {
                name: field.name.clone(),
            });
        }
        if by_name.insert(&field.name, (field, repeat)).is_some() {
            return Err(FormError::DuplicateName {
                name: field.name.clone(),
            });
        }
    }
    for &(field, repeat) in &all {
        check_field(form, field, repeat, &by_name)?;
    }
    check_cycles(form)?;
    Ok(())
}

fn labels(labels: &Labels, place: impl Fn() -> String) -> Result<(), FormError> {
    for lang in Lang::ALL {
        if labels.0.get(&lang).is_none_or(|t| t.trim().is_empty()) {
            return Err(FormError::MissingLanguage {
                place: place(),
                lang,
            });
        }
    }
    Ok(())
}

fn check_choice_lists(form: &FormDef) -> Result<(), FormError> {
    for (list, choices) in &form.choices {
        let err = |problem: String| FormError::Choices {
            list: list.clone(),
            problem,
        };
        if choices.is_empty() {
            return Err(err("has no choices".to_owned()));
        }
        let mut seen = BTreeSet::new();
        for choice in choices {
            if choice.value.is_empty() || choice.value.chars().any(char::is_whitespace) {
                return Err(err(format!(
                    "value {:?} must be non-empty and without spaces",
                    choice.value
                )));
            }
            if !seen.insert(&choice.value) {
                return Err(err(format!("value {:?} is used twice", choice.value)));
            }
            labels(&choice.label, || {
                format!("choice {:?} of list {list:?}", choice.value)
            })?;
        }
    }
    Ok(())
}

fn check_field(
    form: &FormDef,
    field: &Field,
    repeat: Option<&str>,
    by_name: &BTreeMap<&str, (&Field, Option<&str>)>,
) -> Result<(), FormError> {
    labels(&field.label, || {
        format!("the label of field {:?}", field.name)
    })?;
    if let Some(hint) = &field.hint {
        labels(hint, || format!("the hint of field {:?}", field.name))?;
    }
    if let Some(message) = &field.constraint_message {
        labels(message, || {
            format!("the constraint message of field {:?}", field.name)
        })?;
        if field.constraint.is_none() {
            return Err(field_err(
                field,
                "has a constraint message but no constraint",
            ));
        }
    }

    let kind = field.kind;
    if kind.is_container() == field.fields.is_empty() {
        return Err(field_err(
            field,
            if kind.is_container() {
                "a group needs fields"
            } else {
                "only groups and repeats hold fields"
            },
        ));
    }
    if kind == FieldType::Repeat && repeat.is_some() {
        return Err(field_err(
            field,
            "a repeat group inside a repeat group is not supported",
        ));
    }
    let is_select = matches!(kind, FieldType::SelectOne | FieldType::SelectMultiple);
    match (&field.choices, is_select) {
        (None, true) => return Err(field_err(field, "a select field needs `choices`")),
        (Some(_), false) => return Err(field_err(field, "only select fields have `choices`")),
        (Some(list), true) if !form.choices.contains_key(list) => {
            return Err(field_err(field, format!("no choice list called {list:?}")));
        }
        _ => {}
    }
    if (kind == FieldType::Calculate) != field.calculation.is_some() {
        return Err(field_err(
            field,
            "`calculation` belongs to, and is needed by, calculate fields",
        ));
    }
    // A required repeat group needs at least one entry; other containers and notes hold no
    // value to require.
    if !kind.holds_value()
        && ((field.required && kind != FieldType::Repeat)
            || field.constraint.is_some()
            || field.default.is_some())
    {
        return Err(field_err(
            field,
            "a note or group holds no value to require, constrain or default",
        ));
    }
    if field.case_property.is_some() && (!kind.holds_value() || repeat.is_some()) {
        return Err(field_err(
            field,
            "only a single value outside repeat groups can update a case property",
        ));
    }
    if let Some(default) = &field.default {
        check_default(form, field, default)?;
    }

    let exprs = [
        ("relevant", &field.relevant),
        ("constraint", &field.constraint),
        ("calculation", &field.calculation),
    ];
    for (what, expr) in exprs {
        let Some(expr) = expr else { continue };
        if expr.uses_current() && what != "constraint" {
            return Err(field_err(
                field,
                format!("`.` (this field's value) only makes sense in a constraint, not in {what}"),
            ));
        }
        check_references(field, repeat, what, expr, by_name)?;
    }
    Ok(())
}

fn check_default(form: &FormDef, field: &Field, default: &str) -> Result<(), FormError> {
    use super::{DEFAULT_NOW, DEFAULT_TODAY};
    let ok = match field.kind {
        FieldType::Integer => default.trim().parse::<i64>().is_ok(),
        FieldType::Decimal => !crate::expr::parse_number(default).is_nan(),
        FieldType::Date => {
            matches!(default, DEFAULT_TODAY | DEFAULT_NOW) || default.parse::<Date>().is_ok()
        }
        FieldType::Time => default == DEFAULT_NOW || is_time_of_day(default),
        // `today()` and `now()` stand for a date or a time: in another field they would be
        // taken as the text itself.
        _ if matches!(default, DEFAULT_TODAY | DEFAULT_NOW) => false,
        FieldType::YesNo => matches!(default, "yes" | "no"),
        FieldType::SelectOne | FieldType::SelectMultiple => {
            let list = field.choices.as_deref().and_then(|l| form.choices.get(l));
            default
                .split_whitespace()
                .all(|v| list.is_some_and(|l| l.iter().any(|c| c.value == v)))
        }
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(field_err(
            field,
            format!("default {default:?} is not a valid answer"),
        ))
    }
}

/// `HH:MM`, as a time input holds it.
fn is_time_of_day(text: &str) -> bool {
    let Some((h, m)) = text.split_once(':') else {
        return false;
    };
    let part = |p: &str, max: u32| p.len() == 2 && p.parse::<u32>().is_ok_and(|v| v <= max);
    part(h, 23) && part(m, 59)
}

fn check_references(
    field: &Field,
    repeat: Option<&str>,
    what: &str,
    expr: &Expr,
    by_name: &BTreeMap<&str, (&Field, Option<&str>)>,
) -> Result<(), FormError> {
    for reference in expr.references() {
        let name = reference.name;
        let Some(&(target, target_repeat)) = by_name.get(name) else {
            return Err(field_err(
                field,
                format!("{what} refers to ${{{name}}}, which is not in the form"),
            ));
        };
        if reference.counted {
            if target.kind != FieldType::Repeat {
                return Err(field_err(
                    field,
                    format!(
                        "{what}: ${{{name}}} is not a repeat group, as count() and indexed-repeat() need"
                    ),
                ));
            }
            continue;
        }
        if !target.kind.holds_value() {
            return Err(field_err(
                field,
                format!("{what} refers to ${{{name}}}, which holds no value"),
            ));
        }
        if let Some(outer) = target_repeat
            && repeat != Some(outer)
            && !reference.across
        {
            return Err(field_err(
                field,
                format!(
                    "{what} refers to ${{{name}}}, which is inside repeat group {outer:?}: only fields of that repeat can use it"
                ),
            ));
        }
    }
    Ok(())
}

/// A field depends on the fields its `relevant` and `calculation` read, and on everything the
/// groups around it depend on. A circle there can never be evaluated.
fn check_cycles(form: &FormDef) -> Result<(), FormError> {
    let mut deps: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    fn collect<'a>(
        fields: &'a [Field],
        parents: &[&'a str],
        deps: &mut BTreeMap<&'a str, Vec<&'a str>>,
    ) {
        for f in fields {
            let mut mine: Vec<&str> = parents.to_vec();
            for expr in [&f.relevant, &f.calculation].into_iter().flatten() {
                mine.extend(
                    expr.references()
                        .into_iter()
                        .filter(|r| !r.counted)
                        .map(|r| r.name),
                );
            }
            deps.insert(&f.name, mine.clone());
            if f.kind.is_container() {
                let mut inner = parents.to_vec();
                inner.push(&f.name);
                collect(&f.fields, &inner, deps);
            }
        }
    }
    collect(&form.fields, &[], &mut deps);

    // Depth-first search for a back edge; the path on the stack is the circle.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit<'a>(
        name: &'a str,
        deps: &BTreeMap<&'a str, Vec<&'a str>>,
        marks: &mut BTreeMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
    ) -> Result<(), FormError> {
        match marks.get(name) {
            Some(Mark::Done) => return Ok(()),
            Some(Mark::Open) => {
                let start = stack.iter().position(|n| *n == name).unwrap_or(0);
                let mut cycle: Vec<String> =
                    stack[start..].iter().map(|s| (*s).to_owned()).collect();
                cycle.push(name.to_owned());
                return Err(FormError::Cycle { cycle });
            }
            None => {}
        }
        marks.insert(name, Mark::Open);
        stack.push(name);
        for dep in deps.get(name).into_iter().flatten() {
            visit(dep, deps, marks, stack)?;
        }
        stack.pop();
        marks.insert(name, Mark::Done);
        Ok(())
    }
    let mut marks = BTreeMap::new();
    let mut stack = Vec::new();
    for name in deps.keys() {
        visit(name, &deps, &mut marks, &mut stack)?;
    }
    Ok(())
}
