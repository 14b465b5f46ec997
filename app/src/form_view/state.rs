//! The state of a form being filled: its answers, and what the form engine (the same code the
//! server runs) says about them after every change.

use std::collections::BTreeSet;
use std::sync::Arc;

use cris_core::Date;
use cris_core::form::{
    Answer, Answers, Field, FieldType, FormDef, Problem, ProblemKind, Validated,
};
use leptos::prelude::*;

use crate::clock::{now_ms, time_of_day, today};

/// Where an answer sits: a field, and inside a repeat group the group and the instance.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    pub name: String,
    pub instance: Option<(String, usize)>,
}

impl Loc {
    pub fn new(name: &str, instance: Option<(String, usize)>) -> Self {
        Loc {
            name: name.to_owned(),
            instance,
        }
    }

    /// A stable, unique DOM id for the input of this answer.
    pub fn dom_id(&self) -> String {
        match &self.instance {
            None => format!("in-{}", self.name),
            Some((repeat, i)) => format!("in-{repeat}-{i}-{}", self.name),
        }
    }

    pub fn read(&self, answers: &Answers) -> String {
        match &self.instance {
            None => answers.text(&self.name).to_owned(),
            Some((repeat, i)) => answers
                .instances(repeat)
                .get(*i)
                .map(|a| a.text(&self.name).to_owned())
                .unwrap_or_default(),
        }
    }

    /// Sets the answer; an empty answer is removed rather than kept as "".
    pub fn write(&self, answers: &mut Answers, value: String) {
        let target = match &self.instance {
            None => Some(answers),
            Some((repeat, i)) => match answers.0.get_mut(repeat) {
                Some(Answer::Repeat(list)) => list.get_mut(*i),
                _ => None,
            },
        };
        if let Some(target) = target {
            if value.is_empty() {
                target.0.remove(&self.name);
            } else {
                target.0.insert(self.name.clone(), Answer::Text(value));
            }
        }
    }
}

/// Everything a field widget needs; `Copy`, so closures take it freely.
#[derive(Clone, Copy)]
pub struct FormState {
    pub form: StoredValue<Arc<FormDef>>,
    pub answers: RwSignal<Answers>,
    /// The engine's verdict on the current answers.
    pub checked: Memo<Validated>,
    /// The fields that do not apply, given the current answers.
    pub hidden: Memo<BTreeSet<Loc>>,
    /// Set by a finalize attempt: from then on, empty required fields are pointed out too.
    pub show_all: RwSignal<bool>,
}

impl FormState {
    pub fn new(form: Arc<FormDef>, answers: Answers, today: Date) -> Self {
        let form = StoredValue::new(form);
        let answers = RwSignal::new(answers);
        // Month names in the screen's language; the clock read at each evaluation (`now()`).
        let lang = use_context::<crate::i18n::I18n>()
            .map_or_else(crate::prefs::load_lang, |i| i.lang.get_untracked());
        let at = move || crate::clock::moment(today, lang);
        let checked =
            Memo::new(move |_| answers.with(|a| form.with_value(|f| f.validate(a, at()))));
        let hidden = Memo::new(move |_| {
            checked.with(|c| form.with_value(|f| not_relevant(f, &c.answers, today)))
        });
        FormState {
            form,
            answers,
            checked,
            hidden,
            show_all: RwSignal::new(false),
        }
    }

    pub fn value(&self, loc: &Loc) -> String {
        self.answers.with(|a| loc.read(a))
    }

    pub fn set(&self, loc: &Loc, value: String) {
        self.answers.update(|a| loc.write(a, value));
    }

    pub fn is_shown(&self, loc: &Loc) -> bool {
        !self.hidden.with(|h| h.contains(loc))
    }

    /// The problem to show at `loc` now: problems with what was typed show at once; an empty
    /// required field (or repeat group) only after the worker tried to finalize.
    pub fn problem(&self, loc: &Loc) -> Option<Problem> {
        let show_all = self.show_all.get();
        self.checked.with(|c| {
            c.problems
                .iter()
                .find(|p| p.field == loc.name && p.instance == loc.instance)
                .filter(|p| {
                    show_all || !matches!(p.kind, ProblemKind::Required | ProblemKind::NoEntry)
                })
                .cloned()
        })
    }

    /// A new, empty instance of a repeat group, with the defaults of its fields.
    pub fn add_instance(&self, repeat: &Field) {
        let mut instance = Answers::new();
        let (today, now) = (today(), time_of_day(now_ms()));
        for f in &repeat.fields {
            if let Some(default) = f.default_at(today, &now) {
                instance.0.insert(f.name.clone(), Answer::Text(default));
            }
        }
        self.answers.update(|a| {
            if !matches!(a.0.get(&repeat.name), Some(Answer::Repeat(_))) {
                a.0.insert(repeat.name.clone(), Answer::Repeat(Vec::new()));
            }
            if let Some(Answer::Repeat(list)) = a.0.get_mut(&repeat.name) {
                list.push(instance);
            }
        });
    }

    pub fn remove_instance(&self, repeat: &str, index: usize) {
        self.answers.update(|a| {
            if let Some(Answer::Repeat(list)) = a.0.get_mut(repeat)
                && index < list.len()
            {
                list.remove(index);
            }
        });
    }
}

/// The answers a new form starts with: the defaults of its top-level fields.
/// `today()` and `now()` are the moment the form is started on this phone.
pub fn defaults(form: &FormDef) -> Answers {
    let mut answers = Answers::new();
    let (today, now) = (today(), time_of_day(now_ms()));
    for (field, repeat) in form.walk() {
        if let (Some(default), None) = (field.default_at(today, &now), repeat)
            && field.kind.holds_value()
        {
            answers.0.insert(field.name.clone(), Answer::Text(default));
        }
    }
    answers
}

/// Every place (field, instance) whose `relevant` is false, and everything inside a group
/// that does not apply.
fn not_relevant(form: &FormDef, kept: &Answers, today: Date) -> BTreeSet<Loc> {
    fn go(
        form: &FormDef,
        level: &[Field],
        kept: &Answers,
        instance: Option<(String, usize)>,
        today: Date,
        out: &mut BTreeSet<Loc>,
    ) {
        for field in level {
            let at = instance.as_ref().map(|(r, i)| (r.as_str(), *i));
            if !form.is_relevant(field, kept, at, today) {
                out.insert(Loc::new(&field.name, instance.clone()));
                continue;
            }
            match field.kind {
                FieldType::Group => go(form, &field.fields, kept, instance.clone(), today, out),
                FieldType::Repeat => {
                    for i in 0..kept.instances(&field.name).len() {
                        let inner = Some((field.name.clone(), i));
                        go(form, &field.fields, kept, inner, today, out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = BTreeSet::new();
    go(form, &form.fields, kept, None, today, &mut out);
    out
}
