//! One widget per field type, built from the definition. Every widget writes straight into
//! the form's answers, so the draft autosave sees every keystroke.

use std::sync::Arc;

use cris_core::form::{Choice, Field, FieldType};
use leptos::prelude::*;

use super::state::{FormState, Loc};
use crate::i18n::use_i18n;

/// Choice lists up to this long are radio buttons (one tap); longer ones a `<select autocomplete="off">`.
const MAX_RADIOS: usize = 6;

/// The fields of one level (the form, a group, or one instance of a repeat group).
pub fn fields_view(
    st: FormState,
    fields: Vec<Field>,
    instance: Option<(String, usize)>,
) -> impl IntoView {
    fields
        .into_iter()
        .map(|field| field_view(st, Arc::new(field), instance.clone()))
        .collect_view()
}

fn field_view(st: FormState, field: Arc<Field>, instance: Option<(String, usize)>) -> AnyView {
    let loc = Loc::new(&field.name, instance.clone());
    // A memo per field: the widget is rebuilt only when its own relevance flips, never while
    // the worker types into it.
    let shown = Memo::new(move |_| st.is_shown(&loc));
    let build = move || {
        let loc = Loc::new(&field.name, instance.clone());
        match field.kind {
            FieldType::Group => group_view(st, field.clone(), instance.clone()).into_any(),
            FieldType::Repeat => repeat_view(st, field.clone()).into_any(),
            FieldType::Note => note_view(field.clone()).into_any(),
            FieldType::Calculate => calculated_view(st, field.clone(), loc).into_any(),
            _ => input_view(st, field.clone(), loc).into_any(),
        }
    };
    (move || shown.get().then(build.clone())).into_any()
}

fn label(field: &Arc<Field>) -> impl Fn() -> String + Clone + Send + Sync + 'static + use<> {
    let i18n = use_i18n();
    let field = field.clone();
    move || field.label.get(i18n.lang.get()).to_owned()
}

fn hint(field: &Arc<Field>) -> Option<impl IntoView + use<>> {
    let i18n = use_i18n();
    let hint = field.hint.clone()?;
    Some(view! { <p class="hint">{move || hint.get(i18n.lang.get()).to_owned()}</p> })
}

fn group_view(
    st: FormState,
    field: Arc<Field>,
    instance: Option<(String, usize)>,
) -> impl IntoView {
    let title = label(&field);
    view! {
        <section class="group" data-group=field.name.clone()>
            <h2>{title}</h2>
            {hint(&field)}
            {fields_view(st, field.fields.clone(), instance)}
        </section>
    }
}

fn repeat_view(st: FormState, field: Arc<Field>) -> impl IntoView {
    let i18n = use_i18n();
    let name = field.name.clone();
    let count = Memo::new({
        let name = name.clone();
        move |_| st.answers.with(|a| a.instances(&name).len())
    });
    let title = label(&field);
    let instances = {
        let field = field.clone();
        move || {
            (0..count.get())
                .map(|i| instance_view(st, field.clone(), i))
                .collect_view()
        }
    };
    let add = {
        let field = field.clone();
        move |_| st.add_instance(&field)
    };
    let repeat_name = name.clone();
    // A required repeat group without an entry: said under its heading, where the list of
    // problems leads.
    let loc = Loc::new(&name, None);
    let error_id = format!("{}-error", loc.dom_id());
    let described_by = error_id.clone();
    let (problem, invalid) = problem_at(st, &loc);
    view! {
        <section
            class="repeat"
            class:invalid=invalid
            id=field_id(&loc)
            data-repeat=repeat_name
            aria-describedby=described_by
        >
            <h2>{title.clone()}</h2>
            {hint(&field)}
            <p class="error" id=error_id role="alert">{problem}</p>
            {instances}
            <button type="button" class="btn add" data-add=name on:click=add>
                "+ " {i18n.t(|u| u.add_entry)} ": " {title}
            </button>
        </section>
    }
}

fn instance_view(st: FormState, field: Arc<Field>, index: usize) -> impl IntoView {
    let i18n = use_i18n();
    let name = field.name.clone();
    let title = label(&field);
    let remove = {
        let name = name.clone();
        move |_| {
            let question = i18n.t(|u| u.confirm_remove_entry)();
            if window().confirm_with_message(question).unwrap_or(false) {
                st.remove_instance(&name, index);
            }
        }
    };
    let of = name.clone();
    view! {
        <div class="instance" data-instance=index.to_string() data-of=of>
            <div class="instance-head">
                <h3>{title} " " {index + 1}</h3>
                <button type="button" class="btn btn-quiet" on:click=remove>
                    {i18n.t(|u| u.remove_entry)}
                </button>
            </div>
            {fields_view(st, field.fields.clone(), Some((name, index)))}
        </div>
    }
}

fn note_view(field: Arc<Field>) -> impl IntoView {
    view! { <p class="note" data-field=field.name.clone()>{label(&field)}</p> }
}

/// A calculated value with a label (an age from a date of birth): shown, not typed.
fn calculated_view(st: FormState, field: Arc<Field>, loc: Loc) -> impl IntoView {
    let value = move || st.checked.with(|c| loc.read(&c.answers));
    view! {
        <div class="field calculated" data-field=field.name.clone()>
            <span class="label">{label(&field)}</span>
            <output>{value}</output>
        </div>
    }
}

fn input_view(st: FormState, field: Arc<Field>, loc: Loc) -> impl IntoView {
    let i18n = use_i18n();
    let id = loc.dom_id();
    let error_id = format!("{id}-error");
    let (problem, invalid) = problem_at(st, &loc);
    let control = control_view(st, &field, &loc, &id, &error_id, invalid.clone());
    let grouped = matches!(field.kind, FieldType::SelectMultiple | FieldType::YesNo)
        || (field.kind == FieldType::SelectOne && choices(st, &field).len() <= MAX_RADIOS);
    let required = field.required.then(|| {
        view! { <span class="req" aria-label=i18n.t(|u| u.required)>" *"</span> }
    });
    // Radio buttons and checkboxes are a group named by its heading; other controls have a
    // <label> of their own.
    let label_id = format!("{id}-label");
    let heading = if grouped {
        view! { <span class="label" id=label_id.clone()>{label(&field)} {required}</span> }
            .into_any()
    } else {
        view! { <label for=id.clone()>{label(&field)} {required}</label> }.into_any()
    };
    let (instance, of) = match &loc.instance {
        Some((repeat, i)) => (Some(i.to_string()), Some(repeat.clone())),
        None => (None, None),
    };
    // One answer of a few is a radio group, which says whether it is required; several
    // answers are a plain group of checkboxes.
    let role = grouped.then_some(if field.kind == FieldType::SelectMultiple {
        "group"
    } else {
        "radiogroup"
    });
    let group_required = (grouped && field.required).then_some("true");
    view! {
        <div
            class="field"
            id=field_id(&loc)
            class:invalid=invalid
            class:sensitive=field.sensitive
            role=role
            aria-labelledby=grouped.then_some(label_id)
            aria-required=group_required
            data-field=field.name.clone()
            data-instance=instance
            data-of=of
        >
            {heading}
            {hint(&field)}
            {control}
            <p class="error" id=error_id role="alert">{problem}</p>
        </div>
    }
}

/// The id of a field's whole block (label, control and message): where the list of problems
/// links to, whatever the control is.
pub fn field_id(loc: &Loc) -> String {
    format!("{}-field", loc.dom_id())
}

/// The message of the problem to show at `loc` now, in the screen's language, and whether
/// there is one.
fn problem_at(
    st: FormState,
    loc: &Loc,
) -> (
    impl Fn() -> Option<String> + Clone + Send + Sync + 'static + use<>,
    impl Fn() -> bool + Clone + Send + Sync + 'static + use<>,
) {
    let i18n = use_i18n();
    let loc = loc.clone();
    let problem = move || {
        st.problem(&loc)
            .map(|p| st.form.with_value(|f| p.message(f, i18n.lang.get())))
    };
    let invalid = {
        let problem = problem.clone();
        move || problem().is_some()
    };
    (problem, invalid)
}

fn choices(st: FormState, field: &Field) -> Vec<Choice> {
    st.form.with_value(|f| {
        field
            .choices
            .as_deref()
            .and_then(|list| f.choices.get(list))
            .cloned()
            .unwrap_or_default()
    })
}

fn control_view(
    st: FormState,
    field: &Arc<Field>,
    loc: &Loc,
    id: &str,
    error_id: &str,
    invalid: impl Fn() -> bool + Clone + Send + Sync + 'static,
) -> AnyView {
    let i18n = use_i18n();
    let value = {
        let loc = loc.clone();
        move || st.value(&loc)
    };
    let on_input = {
        let loc = loc.clone();
        move |ev| st.set(&loc, event_target_value(&ev))
    };
    let aria_invalid = move || invalid().to_string();
    let aria_required = field.required.then_some("true");
    let text_input = |kind: &'static str, mode: Option<&'static str>| {
        view! {
            <input
                id=id.to_owned()
                type=kind
                inputmode=mode
                autocomplete="off"
                aria-required=aria_required
                aria-describedby=error_id.to_owned()
                aria-invalid=aria_invalid.clone()
                prop:value=value.clone()
                on:input=on_input.clone()
            />
        }
        .into_any()
    };
    match field.kind {
        FieldType::Text => text_input("text", None),
        FieldType::Integer => text_input("text", Some("numeric")),
        FieldType::Decimal => text_input("text", Some("decimal")),
        FieldType::Date => text_input("date", None),
        FieldType::Time => text_input("time", None),
        FieldType::Phone => text_input("tel", Some("tel")),
        FieldType::LongText => view! {
            <textarea
                autocomplete="off"
                id=id.to_owned()
                rows="3"
                aria-required=aria_required
                aria-describedby=error_id.to_owned()
                aria-invalid=aria_invalid
                prop:value=value
                on:input=on_input
            ></textarea>
        }
        .into_any(),
        FieldType::YesNo => {
            let options = vec![("yes", i18n.t(|u| u.yes)), ("no", i18n.t(|u| u.no))]
                .into_iter()
                .map(|(v, text)| (v.to_owned(), move || text().to_owned()))
                .map(|(v, text)| (v, Box::new(text) as Box<dyn Fn() -> String + Send + Sync>))
                .collect();
            radios(st, loc, id, options, !field.required).into_any()
        }
        FieldType::SelectOne | FieldType::SelectMultiple => {
            let list = choices(st, field);
            let options: Vec<(String, Box<dyn Fn() -> String + Send + Sync>)> = list
                .into_iter()
                .map(|c| {
                    let text = move || c.label.get(i18n.lang.get()).to_owned();
                    (
                        c.value.clone(),
                        Box::new(text) as Box<dyn Fn() -> String + Send + Sync>,
                    )
                })
                .collect();
            if field.kind == FieldType::SelectMultiple {
                checkboxes(st, loc, id, options).into_any()
            } else if options.len() <= MAX_RADIOS {
                radios(st, loc, id, options, !field.required).into_any()
            } else {
                dropdown(st, loc, id, error_id, options, field.required).into_any()
            }
        }
        _ => ().into_any(),
    }
}

type Options = Vec<(String, Box<dyn Fn() -> String + Send + Sync>)>;

/// One answer of a few, a tap each; an answer that is not required can be taken back.
fn radios(st: FormState, loc: &Loc, id: &str, options: Options, clearable: bool) -> impl IntoView {
    let i18n = use_i18n();
    // Built only while an answer is chosen: most questions of a new form have none.
    let clear = clearable.then(|| {
        let chosen = Memo::new({
            let loc = loc.clone();
            move |_| !st.value(&loc).is_empty()
        });
        let (loc, id) = (loc.clone(), id.to_owned());
        move || {
            chosen.get().then(|| {
                let loc = loc.clone();
                view! {
                    <button
                        type="button"
                        class="btn btn-quiet btn-small clear-choice"
                        data-clear=id.clone()
                        on:click=move |_| st.set(&loc, String::new())
                    >
                        {i18n.t(|u| u.clear_choice)}
                    </button>
                }
            })
        }
    });
    let buttons = options
        .into_iter()
        .map(|(value, text)| {
            let input_id = format!("{id}-{value}");
            let for_id = input_id.clone();
            let checked = {
                let (loc, value) = (loc.clone(), value.clone());
                move || st.value(&loc) == value
            };
            let choose = {
                let (loc, value) = (loc.clone(), value.clone());
                move |_| st.set(&loc, value.clone())
            };
            view! {
                <label class="choice" for=for_id>
                    <input
                        autocomplete="off"
                        type="radio"
                        id=input_id
                        name=id.to_owned()
                        value=value
                        prop:checked=checked
                        on:change=choose
                    />
                    <span>{text}</span>
                </label>
            }
        })
        .collect_view();
    (buttons, clear)
}

fn checkboxes(st: FormState, loc: &Loc, id: &str, options: Options) -> impl IntoView {
    options
        .into_iter()
        .map(|(value, text)| {
            let input_id = format!("{id}-{value}");
            let for_id = input_id.clone();
            let checked = {
                let (loc, value) = (loc.clone(), value.clone());
                move || st.value(&loc).split_whitespace().any(|v| v == value)
            };
            let toggle = {
                let (loc, value) = (loc.clone(), value.clone());
                move |ev| {
                    let on = event_target_checked(&ev);
                    let mut chosen: Vec<String> = st
                        .value(&loc)
                        .split_whitespace()
                        .filter(|v| *v != value)
                        .map(str::to_owned)
                        .collect();
                    if on {
                        chosen.push(value.clone());
                    }
                    st.set(&loc, chosen.join(" "));
                }
            };
            view! {
                <label class="choice" for=for_id>
                    <input
                        autocomplete="off"
                        type="checkbox"
                        id=input_id
                        value=value
                        prop:checked=checked
                        on:change=toggle
                    />
                    <span>{text}</span>
                </label>
            }
        })
        .collect_view()
}

fn dropdown(
    st: FormState,
    loc: &Loc,
    id: &str,
    error_id: &str,
    options: Options,
    required: bool,
) -> impl IntoView {
    let value = {
        let loc = loc.clone();
        move || st.value(&loc)
    };
    let choose = {
        let loc = loc.clone();
        move |ev| st.set(&loc, event_target_value(&ev))
    };
    let selected_value = value.clone();
    view! {
        <select
            autocomplete="off"
            id=id.to_owned()
            aria-required=required.then_some("true")
            aria-describedby=error_id.to_owned()
            prop:value=value
            on:change=choose
        >
            <option value="">"—"</option>
            {options
                .into_iter()
                .map(|(v, text)| {
                    let is = {
                        let (v, selected_value) = (v.clone(), selected_value.clone());
                        move || selected_value() == v
                    };
                    view! { <option value=v selected=is>{text}</option> }
                })
                .collect_view()}
        </select>
    }
}
