use cris_core::caseload::{self, Summary};
use cris_core::record::{Case, Submission};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use std::collections::HashMap;

use super::caseload::household;
use super::{case_id, short_device};
use crate::clock::{date_time, new_id, today};
use crate::form_view::readonly::{answers_view, display, rows};
use crate::form_view::storage_error_view;
use crate::forms::use_forms;
use crate::i18n::use_i18n;
use crate::storage::{self, StorageError};
use crate::sync::api;

#[derive(Clone)]
struct Loaded {
    /// With the households merged into it.
    case: Case,
    submissions: Vec<Submission>,
    summary: Summary,
    /// The households merged into it, and the one it was merged into (with its name).
    joined: Vec<Case>,
    merged_into: Option<(String, String, String)>,
}

async fn load(id: String) -> Result<Option<Loaded>, StorageError> {
    let db = storage::shared().await?;
    let Some(household) = db.household(&id).await? else {
        return Ok(None);
    };
    let submissions = db.submissions_of_all(&household.members).await?;
    let summary = caseload::summarize_household(&household.case, &household.members, &submissions);
    let merged_into = match household.case.merged_into() {
        Some((merge, into)) => {
            let name = db
                .case(into)
                .await?
                .map(|c| c.household_name().to_owned())
                .unwrap_or_default();
            Some((merge.to_owned(), into.to_owned(), name))
        }
        None => None,
    };
    Ok(Some(Loaded {
        case: household.case,
        submissions,
        summary,
        joined: household.joined,
        merged_into,
    }))
}

/// A household's page: its case properties, open steps and finalized forms.
#[component]
pub fn CaseDetail() -> impl IntoView {
    let i18n = use_i18n();
    let id = case_id();
    let query = use_query_map();
    let saved = Memo::new(move |_| query.read().get("saved").is_some());
    // A form to show opened (the address of a finalized form leads here).
    let shown_form = Memo::new(move |_| query.read().get("form"));
    let sync = crate::sync::use_sync();
    // Read again when the household or the phone's records change; only the reading for the
    // household now shown is ever shown.
    let loaded = LocalResource::new(move || {
        sync.changed.track();
        load(id.get())
    });
    // Who recorded each value of a property in conflict, from the server's log while online:
    // the stamp of each write, with the name of the account that pushed it.
    // Follows the reading (which follows the household): read again with it, never before.
    let history = LocalResource::new(move || {
        let id = id.get_untracked();
        let conflicted = loaded.with(|found| {
            matches!(found, Some(Ok(Some(data))) if !data.case.fields.conflicted().is_empty())
        });
        let token = sync
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.token.clone()));
        async move {
            let (true, Some(token)) = (conflicted, token) else {
                return HashMap::new();
            };
            match api::case_history(&token, &id).await {
                Ok(history) => history
                    .entries
                    .iter()
                    .flat_map(|e| {
                        e.op.writes()
                            .map(|(_, w)| (w.hlc.to_string(), e.display_name.clone()))
                    })
                    .collect(),
                Err(_) => HashMap::new(),
            }
        }
    });
    let authors = Signal::derive(move || history.get().unwrap_or_default());
    view! {
        <section class="page">
            <Show when=move || saved.get()>
                <p class="banner saved" role="status" data-testid="saved">
                    {i18n.t(|u| u.saved_notice)}
                </p>
            </Show>
            {move || match loaded.get() {
                None => view! { <p class="notice">{i18n.t(|u| u.case_loading)}</p> }.into_any(),
                Some(Err(e)) => storage_error_view(i18n, &e).into_any(),
                Some(Ok(None)) => view! {
                    <h1>{i18n.t(|u| u.case_title)}</h1>
                    <p class="notice" data-testid="case-not-found">{i18n.t(|u| u.case_not_found)}</p>
                }
                .into_any(),
                Some(Ok(Some(data))) => case_view(data, authors, shown_form.get_untracked()).into_any(),
            }}
            <A href="/" attr:class="back">{i18n.t(|u| u.back_to_caseload)}</A>
        </section>
    }
}

fn case_view(
    data: Loaded,
    authors: Signal<HashMap<String, String>>,
    shown_form: Option<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let reviewer = super::reviewer();
    let Loaded {
        case,
        submissions,
        summary,
        joined,
        merged_into,
    } = data;
    let merges = super::merge::merges_view(&case, joined, merged_into.clone());
    let merged = merged_into.is_some();
    // A closed case says so at the top; the closing itself waits at the bottom.
    let closing = Some(super::closing::closing_view(&case, merged).into_any());
    let (closed_banner, closing) = match case.closed() {
        Some(_) => (closing, None),
        None => (None, closing),
    };
    let name = household(i18n, case.household_name());
    let (last_visit, next_visit) = (summary.last_visit, summary.next_visit);
    let today = today();
    let steps = summary
        .open_steps
        .iter()
        .map(|s| {
            let due = s.due.filter(|d| *d <= today).is_some();
            let when = s.due.map(|d| format!(" ({})", crate::clock::day(d)));
            view! { <li class:due=due>{s.what.clone()} {when}</li> }
        })
        .collect_view();
    let properties = properties_view(case.clone(), authors);
    let forms = forms_view(submissions, shown_form);
    let id = case.id.clone();
    let copy_id = case.id.clone();
    view! {
        <h1 data-testid="case-name">{name}</h1>
        {closed_banner}
        {merges}
        <dl class="facts">
            <dt>{i18n.t(|u| u.last_visit)}</dt>
            <dd data-testid="last-visit">
                {move || last_visit.map_or_else(|| i18n.t(|u| u.none_yet)().to_owned(), crate::clock::day)}
            </dd>
            <dt>{i18n.t(|u| u.next_visit)}</dt>
            <dd data-testid="next-visit">
                {move || next_visit.map_or_else(|| i18n.t(|u| u.none_yet)().to_owned(), crate::clock::day)}
            </dd>
        </dl>
        <div class="actions" hidden=merged>
            <A href=format!("/cases/{id}/visit") attr:class="btn btn-primary">
                {i18n.t(|u| u.new_visit)}
            </A>
            <A href=format!("/cases/{id}/plan") attr:class="btn" attr:data-testid="open-plan">
                {i18n.t(|u| u.plan_open)}
            </A>
        </div>
        <super::ConsentSummary case_id=id.clone()/>
        <super::referral::Referrals case_id=id.clone()/>
        <h2>{i18n.t(|u| u.case_details)}</h2>
        <dl class="answers" data-testid="properties">{properties}</dl>
        <h2>{i18n.t(|u| u.open_steps)}</h2>
        <ul class="steps" data-testid="open-steps">{steps}</ul>
        <h2>{i18n.t(|u| u.submissions_title)}</h2>
        <ul class="submissions" data-testid="submissions">{forms}</ul>
        <Show when=move || reviewer.get()>
            <p class="actions">
                <A href=format!("/cases/{copy_id}/copy") attr:class="btn" attr:data-testid="open-copy">
                    {i18n.t(|u| u.copy_open)}
                </A>
            </p>
        </Show>
        {closing}
        <super::erasure::EraseHousehold case_id=case.id.clone()/>
    }
}

/// The household's case properties, labelled by the intake field that sets them, with the
/// values in conflict and who recorded each.
fn properties_view(case: Case, authors: Signal<HashMap<String, String>>) -> impl IntoView {
    let i18n = use_i18n();
    let catalog = use_forms();
    move || {
        let lang = i18n.lang.get();
        let intake = catalog.get(caseload::INTAKE);
        case.fields
            .values()
            .into_iter()
            .map(|(property, value)| {
                let field = intake.as_ref().and_then(|f| {
                    f.walk()
                        .into_iter()
                        .map(|(field, _)| field)
                        .find(|field| field.case_property.as_deref() == Some(&property))
                        .cloned()
                });
                let shown = |value: &str| match (&intake, &field) {
                    (Some(form), Some(field)) => display(form, field, value, lang),
                    _ => value.to_owned(),
                };
                let label = field
                    .as_ref()
                    .map_or_else(|| property.clone(), |f| f.label.get(lang).to_owned());
                // Values recorded at the same time elsewhere, kept until someone chooses.
                let losers: Vec<String> = case
                    .fields
                    .0
                    .get(&property)
                    .map(|f| f.conflict().into_iter().map(|w| w.value.clone()).collect())
                    .unwrap_or_default();
                // Each value recorded: (shown, stamp, device, when).
                let writes: Vec<(String, String, String, String)> = case
                    .fields
                    .0
                    .get(&property)
                    .map(|f| {
                        f.current()
                            .into_iter()
                            .chain(f.conflict())
                            .map(|w| {
                                (
                                    shown(&w.value),
                                    w.hlc.to_string(),
                                    short_device(&w.hlc.device),
                                    date_time(w.hlc.wall_ms as f64),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let conflict = (!losers.is_empty()).then(|| {
                    conflict_view(
                        &case.id,
                        &property,
                        &value,
                        &losers,
                        writes,
                        field.as_ref(),
                        &shown,
                        authors,
                    )
                });
                let value = shown(&value);
                view! {
                    <dt>{label}</dt>
                    <dd data-property=property.clone()>{value} {conflict}</dd>
                }
            })
            .collect_view()
    }
}

/// A property's values recorded at the same time elsewhere, who recorded each (the device,
/// where the server's log is not at hand), and the choice of the right one.
#[allow(clippy::too_many_arguments)]
fn conflict_view(
    case_id: &str,
    property: &str,
    value: &str,
    losers: &[String],
    writes: Vec<(String, String, String, String)>,
    field: Option<&cris_core::form::Field>,
    shown: &dyn Fn(&str) -> String,
    authors: Signal<HashMap<String, String>>,
) -> impl IntoView + use<> {
    let i18n = use_i18n();
    // Who recorded each (the device where the server's log is not at hand).
    let who = writes
        .into_iter()
        .map(|(value, stamp, device, at)| {
            let attr = stamp.clone();
            let line = move || {
                let by = authors
                    .with(|a| a.get(&stamp).cloned())
                    .unwrap_or_else(|| i18n.t(|u| u.device_named)().replace("{device}", &device));
                i18n.t(|u| u.conflict_written_by)()
                    .replace("{value}", &value)
                    .replace("{who}", &by)
                    .replace("{when}", &at)
            };
            view! { <li data-stamp=attr>{line}</li> }
        })
        .collect_view();
    let shown_losers: Vec<String> = losers.iter().map(|v| shown(v)).collect();
    let options: Vec<(String, String)> = std::iter::once(value.to_owned())
        .chain(losers.iter().cloned())
        .map(|v| (shown(&v), v))
        .collect();
    let free = field.is_some_and(|f| f.choices.is_none());
    view! {
        <p class="conflict" data-conflict=property.to_owned()>
            {i18n.t(|u| u.also_recorded)} " " {shown_losers.join(" · ")}
        </p>
        <ul class="hint conflict-writes" data-testid="conflict-writes">{who}</ul>
        <Resolver case_id=case_id.to_owned() property=property.to_owned() options free/>
    }
}

/// The household's finalized forms, newest last; `shown_form` opened and brought into view.
fn forms_view(submissions: Vec<Submission>, shown_form: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    let catalog = use_forms();
    // A corrected form stays listed, marked with its correction; only the form in effect
    // can be corrected (again).
    let current: std::collections::HashSet<String> = caseload::in_effect(&submissions)
        .into_iter()
        .map(|s| s.id.clone())
        .collect();
    let corrections: Vec<(String, f64, String)> = submissions
        .iter()
        .filter_map(|s| {
            let c = s.corrects.as_ref()?;
            Some((c.submission_id.clone(), s.finalized_at_ms, c.reason.clone()))
        })
        .collect();
    let navigate = leptos_router::hooks::use_navigate();
    let forms = submissions
        .into_iter()
        .map(|sub| {
            let title = {
                let form_id = sub.form_id.clone();
                move || catalog.title(&form_id, i18n.lang.get())
            };
            let answers = {
                let sub = sub.clone();
                move || {
                    catalog
                        .get(&sub.form_id)
                        .map(|f| answers_view(rows(&f, &sub.answers, i18n.lang.get())))
                }
            };
            let corrected_by = corrections
                .iter()
                .filter(|(of, _, _)| *of == sub.id)
                .map(|(_, at, why)| {
                    let when = date_time(*at);
                    view! {
                        <p class="corrected-note">
                            {move || i18n.t(|u| u.corrected_on)().replace("{date}", &when)}
                            " " {why.clone()}
                        </p>
                    }
                })
                .collect_view();
            let correcting = sub.corrects.as_ref().map(|c| {
                view! {
                    <p class="correction-note">{i18n.t(|u| u.correction_note)} " " {c.reason.clone()}</p>
                }
            });
            let in_effect = current.contains(&sub.id);
            let opened = shown_form.as_deref() == Some(sub.id.as_str());
            let correct = in_effect.then(|| {
                let navigate = navigate.clone();
                let to = format!(
                    "?form={}&case={}&corrects={}",
                    sub.form_id, sub.case_id, sub.id
                );
                view! {
                    <button
                        type="button"
                        class="btn btn-small"
                        data-testid="correct"
                        on:click=move |_| {
                            navigate(&format!("/drafts/{}{to}", new_id()), Default::default())
                        }
                    >
                        {i18n.t(|u| u.correct_form)}
                    </button>
                }
            });
            view! {
                <li
                    data-submission=sub.id.clone()
                    data-form=sub.form_id.clone()
                    class:corrected=!in_effect
                    class:shown=opened
                >
                    <details open=opened>
                        <summary>
                            <strong>{title}</strong>
                            " · " {date_time(sub.finalized_at_ms)}
                        </summary>
                        {answers}
                    </details>
                    {correcting}
                    {corrected_by}
                    {correct}
                </li>
            }
        })
        .collect_view();
    if let Some(form) = shown_form.filter(|id| cris_core::id::is_uuid(id)) {
        // Once laid out, the form asked for is brought into view.
        request_animation_frame(move || {
            let selector = format!("[data-submission='{form}']");
            if let Ok(Some(item)) = document().query_selector(&selector) {
                item.scroll_into_view();
            }
        });
    }
    forms
}

/// Choosing the right value of a property in conflict: one of the values recorded, or (for
/// free text) another. The choice is an operation that has seen them all, so it ends the
/// conflict on every phone that syncs it.
#[component]
fn Resolver(
    case_id: String,
    property: String,
    /// (shown, stored) of each value recorded.
    options: Vec<(String, String)>,
    free: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let sync = crate::sync::use_sync();
    let open = RwSignal::new(false);
    let chosen = RwSignal::new(None::<String>);
    let other = RwSignal::new(String::new());
    let problem = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let name = format!("resolve-{property}");
    let choices = options
        .into_iter()
        .map(|(shown, stored)| {
            let pick = stored.clone();
            view! {
                <label class="choice">
                    <input
                        autocomplete="off"
                        type="radio"
                        name=name.clone()
                        data-value=stored.clone()
                        on:change=move |_| chosen.set(Some(pick.clone()))
                    />
                    <span>{shown}</span>
                </label>
            }
        })
        .collect_view();
    let other_choice = free.then(|| {
        view! {
            <label class="choice">
                <input autocomplete="off" type="radio" name=name.clone() data-value="" on:change=move |_| chosen.set(Some(String::new()))/>
                <span>{i18n.t(|u| u.conflict_other)}</span>
            </label>
            <input
                autocomplete="off"
                class="search"
                data-testid="resolve-other"
                aria-label=i18n.t(|u| u.conflict_other)
                prop:value=move || other.get()
                on:input=move |ev| {
                    other.set(event_target_value(&ev));
                    chosen.set(Some(String::new()));
                }
            />
        }
    });
    let save = move |_| {
        let value = match chosen.get_untracked() {
            Some(v) if v.is_empty() => other.get_untracked().trim().to_owned(),
            Some(v) => v,
            None => String::new(),
        };
        if value.is_empty() {
            problem.set(true);
            return;
        }
        problem.set(false);
        busy.set(true);
        let (case_id, property) = (case_id.clone(), property.clone());
        leptos::task::spawn_local(async move {
            match resolve(&case_id, &property, value).await {
                Ok(()) => {
                    sync.request(false);
                    sync.changed.update(|n| *n += 1);
                }
                Err(e) => leptos::logging::warn!("the choice was not kept: {e}"),
            }
            busy.set(false);
        });
    };
    view! {
        <button
            type="button"
            class="btn btn-small"
            data-testid="resolve"
            hidden=move || open.get()
            on:click=move |_| open.set(true)
        >
            {i18n.t(|u| u.conflict_resolve)}
        </button>
        <fieldset class="field resolver" hidden=move || !open.get()>
            <legend>{i18n.t(|u| u.conflict_resolve)}</legend>
            {choices}
            {other_choice}
            <p class="error" role="alert" data-testid="resolve-problem" hidden=move || !problem.get()>
                {i18n.t(|u| u.conflict_missing)}
            </p>
            <button type="button" class="btn btn-primary" data-testid="resolve-save" disabled=move || busy.get() on:click=save>
                {i18n.t(|u| u.conflict_save)}
            </button>
        </fieldset>
    }
}

/// Keeps the worker's choice for `property`: an operation on the household that has seen
/// every value the phone shows for it (those of the households merged into it included).
async fn resolve(case_id: &str, property: &str, value: String) -> Result<(), StorageError> {
    super::merge::save_change(case_id, |shown| cris_core::record::Change::Resolve {
        properties: shown.writes_for(&std::collections::BTreeMap::from([(
            property.to_owned(),
            value,
        )])),
    })
    .await
}
