//! Validation of a filled form against its definition: relevance (answers of fields that do
//! not apply are dropped), calculations, types, `required` and constraints. The phone runs it
//! before finalizing; the server runs the very same code on every synced submission.

use std::collections::HashMap;

use super::{Answer, Answers, Field, FieldType, FormDef, engine_message};
use crate::date::Date;
use crate::expr::{Env, Moment, Value, parse_number};
use crate::lang::Lang;

/// What is wrong with one answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    Required,
    /// A required repeat group without an entry.
    NoEntry,
    NotAWholeNumber,
    NotANumber,
    NotADate,
    NotATime,
    NotAChoice,
    NotAPhoneNumber,
    /// The field's constraint is false for this answer.
    Constraint,
    /// An answer for a field the form does not have.
    UnknownField,
    /// A list where text belongs, or text where a repeat group's list belongs.
    WrongShape,
}

/// One problem, located by field name and, inside a repeat group, by instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    /// The repeat group and the 0-based instance the field sits in.
    pub instance: Option<(String, usize)>,
    pub kind: ProblemKind,
}

impl Problem {
    /// The message to show, in `lang`: the form's own constraint message where it has one.
    pub fn message(&self, form: &FormDef, lang: Lang) -> String {
        if self.kind == ProblemKind::Constraint
            && let Some(message) = form
                .field(&self.field)
                .and_then(|f| f.constraint_message.as_ref())
        {
            return message.get(lang).to_owned();
        }
        engine_message(&self.kind, lang)
    }
}

/// The outcome: the answers as they will be kept, and every problem found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validated {
    /// The answers without those of fields that do not apply, with calculations filled in.
    pub answers: Answers,
    pub problems: Vec<Problem>,
}

impl Validated {
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

impl FormDef {
    /// Validates `answers` at a moment of the device (its date for `today()`; its clock,
    /// ids and language where it gives them, for `now()`, `uuid()` and `format-date`).
    pub fn validate(&self, answers: &Answers, at: impl Into<Moment>) -> Validated {
        let at = at.into();
        let walked = self.walk();
        let fields: HashMap<&str, &Field> =
            walked.iter().map(|(f, _)| (f.name.as_str(), *f)).collect();
        let mut problems = Vec::new();
        let mut kept = shape(&walked, &fields, answers, &mut problems);

        // Calculations and relevance feed each other: settle them (a few rounds at most, as
        // the loader refused circles).
        for _ in 0..=fields.len().min(8) {
            let calculated = calculate(&walked, &fields, &mut kept, at);
            let pruned = prune(&self.fields, &fields, &mut kept, None, at);
            if !calculated && !pruned {
                break;
            }
        }

        check(&self.fields, &fields, self, &kept, None, at, &mut problems);
        Validated {
            answers: kept,
            problems,
        }
    }
}

impl FormDef {
    /// Whether `field` applies, given answers as [`FormDef::validate`] kept them (calculations
    /// filled in); `instance` locates a field inside a repeat group. The form on the phone
    /// shows only the fields that apply.
    pub fn is_relevant(
        &self,
        field: &Field,
        kept: &Answers,
        instance: Option<(&str, usize)>,
        at: impl Into<Moment>,
    ) -> bool {
        let at = at.into();
        let Some(rel) = &field.relevant else {
            return true;
        };
        let fields: HashMap<&str, &Field> = self
            .walk()
            .into_iter()
            .map(|(f, _)| (f.name.as_str(), f))
            .collect();
        let scope = Scope {
            fields: &fields,
            top: kept,
            instance: instance.and_then(|(r, i)| kept.instances(r).get(i)),
            position: instance.map_or(0, |(_, i)| i + 1),
            current: Value::empty(),
            at,
        };
        rel.eval(&scope).to_bool()
    }
}

/// Drops answers for unknown fields or of the wrong shape, reporting each.
fn shape(
    walked: &[(&Field, Option<&str>)],
    fields: &HashMap<&str, &Field>,
    answers: &Answers,
    problems: &mut Vec<Problem>,
) -> Answers {
    let top_level: std::collections::HashSet<&str> = walked
        .iter()
        .filter(|(_, repeat)| repeat.is_none())
        .map(|(f, _)| f.name.as_str())
        .collect();
    let mut kept = Answers::new();
    for (name, answer) in &answers.0 {
        let problem = |kind| Problem {
            field: name.clone(),
            instance: None,
            kind,
        };
        let Some(field) = fields
            .get(name.as_str())
            .filter(|_| top_level.contains(&name.as_str()))
        else {
            problems.push(problem(ProblemKind::UnknownField));
            continue;
        };
        match (field.kind, answer) {
            (FieldType::Repeat, Answer::Repeat(instances)) => {
                let mut clean = Vec::new();
                for (i, instance) in instances.iter().enumerate() {
                    let mut one = Answers::new();
                    for (inner_name, inner) in &instance.0 {
                        let located = |kind| Problem {
                            field: inner_name.clone(),
                            instance: Some((name.clone(), i)),
                            kind,
                        };
                        match (field.fields.iter().find(|f| &f.name == inner_name), inner) {
                            (None, _) => problems.push(located(ProblemKind::UnknownField)),
                            (Some(f), Answer::Text(_)) if f.kind.holds_value() => {
                                one.0.insert(inner_name.clone(), inner.clone());
                            }
                            (Some(_), _) => problems.push(located(ProblemKind::WrongShape)),
                        }
                    }
                    clean.push(one);
                }
                kept.0.insert(name.clone(), Answer::Repeat(clean));
            }
            (kind, Answer::Text(_)) if kind.holds_value() => {
                kept.0.insert(name.clone(), answer.clone());
            }
            _ => problems.push(problem(ProblemKind::WrongShape)),
        }
    }
    kept
}

/// The view of the answers that expressions get.
struct Scope<'a> {
    fields: &'a HashMap<&'a str, &'a Field>,
    top: &'a Answers,
    instance: Option<&'a Answers>,
    /// The instance's number in its repeat group (from 1); 0 outside one.
    position: usize,
    current: Value,
    at: Moment,
}

impl Env for Scope<'_> {
    fn field(&self, name: &str) -> Value {
        let text = self
            .instance
            .filter(|i| i.0.contains_key(name))
            .unwrap_or(self.top)
            .text(name);
        typed(self.fields.get(name).map(|f| f.kind), text)
    }
    fn current(&self) -> Value {
        self.current.clone()
    }
    fn repeat_count(&self, name: &str) -> usize {
        self.top.instances(name).len()
    }
    fn today(&self) -> Date {
        self.at.today
    }
    fn now(&self) -> Option<(i64, i32)> {
        self.at.now
    }
    fn uuid(&self) -> Option<String> {
        self.at.uuid.map(|make| make())
    }
    fn lang(&self) -> Lang {
        self.at.lang
    }
    fn values(&self, name: &str) -> Vec<Value> {
        let kind = self.fields.get(name).map(|f| f.kind);
        let in_repeat = self.top.0.values().find_map(|answer| match answer {
            Answer::Repeat(list) if list.iter().any(|i| i.0.contains_key(name)) => Some(list),
            _ => None,
        });
        match in_repeat {
            Some(list) => list.iter().map(|i| typed(kind, i.text(name))).collect(),
            None => vec![self.field(name)],
        }
    }
    fn position(&self) -> usize {
        self.position
    }
    fn indexed(&self, field: &str, repeat: &str, n: usize) -> Value {
        let kind = self.fields.get(field).map(|f| f.kind);
        let instances = self.top.instances(repeat);
        n.checked_sub(1)
            .and_then(|i| instances.get(i))
            .map_or_else(Value::empty, |i| typed(kind, i.text(field)))
    }
}

/// An answer as expressions see it: numbers as numbers, dates as dates.
fn typed(kind: Option<FieldType>, text: &str) -> Value {
    if text.is_empty() {
        return Value::empty();
    }
    let as_text = || Value::Str(text.to_owned());
    match kind {
        Some(FieldType::Integer | FieldType::Decimal) => {
            let n = parse_number(text);
            if n.is_nan() {
                as_text()
            } else {
                Value::Number(n)
            }
        }
        Some(FieldType::Date) => text.parse().map_or_else(|_| as_text(), Value::Date),
        // Minutes since midnight, so that `${end} > ${start}` compares times.
        Some(FieldType::Time) => {
            minutes(text).map_or_else(as_text, |m| Value::Number(f64::from(m)))
        }
        _ => as_text(),
    }
}

/// Fills in every calculation; whether any value changed.
fn calculate(
    walked: &[(&Field, Option<&str>)],
    fields: &HashMap<&str, &Field>,
    kept: &mut Answers,
    at: Moment,
) -> bool {
    let mut changed = false;
    for &(field, repeat) in walked {
        let Some(calc) = &field.calculation else {
            continue;
        };
        match repeat {
            None => {
                // `.` is the value calculated before: what `once()` keeps.
                let scope = Scope {
                    fields,
                    top: kept,
                    instance: None,
                    position: 0,
                    current: Value::Str(kept.text(&field.name).to_owned()),
                    at,
                };
                let value = calc.eval(&scope).to_text();
                if !matches!(kept.0.get(&field.name), Some(Answer::Text(old)) if *old == value) {
                    kept.0.insert(field.name.clone(), Answer::Text(value));
                    changed = true;
                }
            }
            Some(repeat) => {
                let count = kept.instances(repeat).len();
                for i in 0..count {
                    let value = {
                        let instance = kept.instances(repeat).get(i);
                        let scope = Scope {
                            fields,
                            top: kept,
                            instance,
                            position: i + 1,
                            current: Value::Str(
                                instance.map_or("", |a| a.text(&field.name)).to_owned(),
                            ),
                            at,
                        };
                        calc.eval(&scope).to_text()
                    };
                    if let Some(Answer::Repeat(list)) = kept.0.get_mut(repeat)
                        && !matches!(list[i].0.get(&field.name), Some(Answer::Text(old)) if *old == value)
                    {
                        list[i].0.insert(field.name.clone(), Answer::Text(value));
                        changed = true;
                    }
                }
            }
        }
    }
    changed
}

/// Removes the answers of fields whose `relevant` is false (and of everything in a group
/// whose `relevant` is false); whether any answer was removed.
fn prune(
    level: &[Field],
    fields: &HashMap<&str, &Field>,
    kept: &mut Answers,
    repeat: Option<(&str, usize)>,
    at: Moment,
) -> bool {
    let mut changed = false;
    for field in level {
        let relevant = field.relevant.as_ref().is_none_or(|rel| {
            let instance = repeat.and_then(|(r, i)| kept.instances(r).get(i));
            let scope = Scope {
                fields,
                top: kept,
                instance,
                position: repeat.map_or(0, |(_, i)| i + 1),
                current: Value::empty(),
                at,
            };
            rel.eval(&scope).to_bool()
        });
        if !relevant {
            changed |= remove_all(field, kept, repeat);
            continue;
        }
        match field.kind {
            FieldType::Group => changed |= prune(&field.fields, fields, kept, repeat, at),
            FieldType::Repeat => {
                for i in 0..kept.instances(&field.name).len() {
                    changed |= prune(&field.fields, fields, kept, Some((&field.name, i)), at);
                }
            }
            _ => {}
        }
    }
    changed
}

/// Removes the answers of `field` (a group: of all it holds); whether there were any.
fn remove_all(field: &Field, kept: &mut Answers, repeat: Option<(&str, usize)>) -> bool {
    let target = match repeat {
        None => Some(&mut *kept),
        Some((r, i)) => match kept.0.get_mut(r) {
            Some(Answer::Repeat(list)) => list.get_mut(i),
            _ => None,
        },
    };
    let mut removed = target.is_some_and(|answers| answers.0.remove(&field.name).is_some());
    if field.kind == FieldType::Group {
        for child in &field.fields {
            removed |= remove_all(child, kept, repeat);
        }
    }
    removed
}

#[allow(clippy::too_many_arguments)]
fn check(
    level: &[Field],
    fields: &HashMap<&str, &Field>,
    form: &FormDef,
    kept: &Answers,
    repeat: Option<(&str, usize)>,
    at: Moment,
    problems: &mut Vec<Problem>,
) {
    let instance = repeat.and_then(|(r, i)| kept.instances(r).get(i));
    for field in level {
        let scope_of = |current| Scope {
            fields,
            top: kept,
            instance,
            position: repeat.map_or(0, |(_, i)| i + 1),
            current,
            at,
        };
        let relevant = field
            .relevant
            .as_ref()
            .is_none_or(|rel| rel.eval(&scope_of(Value::empty())).to_bool());
        if !relevant {
            continue;
        }
        match field.kind {
            FieldType::Group => {
                check(&field.fields, fields, form, kept, repeat, at, problems);
                continue;
            }
            FieldType::Repeat => {
                // A required repeat group needs at least one entry (a household at least one
                // person).
                if field.required && kept.instances(&field.name).is_empty() {
                    problems.push(Problem {
                        field: field.name.clone(),
                        instance: None,
                        kind: ProblemKind::NoEntry,
                    });
                }
                for i in 0..kept.instances(&field.name).len() {
                    check(
                        &field.fields,
                        fields,
                        form,
                        kept,
                        Some((&field.name, i)),
                        at,
                        problems,
                    );
                }
                continue;
            }
            FieldType::Note | FieldType::Calculate => continue,
            _ => {}
        }
        let text = instance.unwrap_or(kept).text(&field.name);
        let mut report = |kind| {
            problems.push(Problem {
                field: field.name.clone(),
                instance: repeat.map(|(r, i)| (r.to_owned(), i)),
                kind,
            });
        };
        if text.trim().is_empty() {
            if field.required {
                report(ProblemKind::Required);
            }
            continue;
        }
        if let Some(kind) = type_problem(form, field, text) {
            report(kind);
            continue;
        }
        if let Some(constraint) = &field.constraint
            && !constraint
                .eval(&scope_of(typed(Some(field.kind), text)))
                .to_bool()
        {
            report(ProblemKind::Constraint);
        }
    }
}

fn type_problem(form: &FormDef, field: &Field, text: &str) -> Option<ProblemKind> {
    let choices = || {
        field
            .choices
            .as_deref()
            .and_then(|list| form.choices.get(list))
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    let is_choice = |v: &str| choices().iter().any(|c| c.value == v);
    let ok = match field.kind {
        FieldType::Integer => text.trim().parse::<i64>().is_ok(),
        FieldType::Decimal => !parse_number(text).is_nan(),
        FieldType::Date => text.parse::<Date>().is_ok(),
        FieldType::Time => is_time(text),
        FieldType::SelectOne => is_choice(text),
        FieldType::SelectMultiple => text.split_whitespace().all(is_choice),
        FieldType::YesNo => matches!(text, "yes" | "no"),
        FieldType::Phone => is_phone(text),
        _ => true,
    };
    if ok {
        return None;
    }
    Some(match field.kind {
        FieldType::Integer => ProblemKind::NotAWholeNumber,
        FieldType::Decimal => ProblemKind::NotANumber,
        FieldType::Date => ProblemKind::NotADate,
        FieldType::Time => ProblemKind::NotATime,
        FieldType::Phone => ProblemKind::NotAPhoneNumber,
        _ => ProblemKind::NotAChoice,
    })
}

/// `HH:MM` or `HH:MM:SS`, 24-hour.
fn is_time(text: &str) -> bool {
    minutes(text).is_some()
}

/// Minutes since midnight of `HH:MM` or `HH:MM:SS` (seconds ignored).
fn minutes(text: &str) -> Option<u32> {
    let parts: Vec<&str> = text.split(':').collect();
    let num = |p: &str, max: u32| {
        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
            .filter(|n| *n <= max)
    };
    if !matches!(parts.len(), 2 | 3) || parts.get(2).is_some_and(|s| num(s, 59).is_none()) {
        return None;
    }
    Some(num(parts[0], 23)? * 60 + num(parts[1], 59)?)
}

/// Digits with the usual separators, an optional leading `+`, 5 to 15 digits (E.164's most).
fn is_phone(text: &str) -> bool {
    let body = text.trim().strip_prefix('+').unwrap_or(text.trim());
    let digits = body.chars().filter(char::is_ascii_digit).count();
    body.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '/'))
        && (5..=15).contains(&digits)
}
