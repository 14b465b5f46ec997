use std::collections::BTreeMap;

use cris_core::caseload::{self, Summary};
use cris_core::record::{Case, Submission};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::clock::{date_time, today};
use crate::form_view::storage_error_view;
use crate::forms::use_forms;
use crate::i18n::{Ui, ui, use_i18n};
use crate::storage::{self, Draft, StorageError};

/// What the caseload reads from the phone.
#[derive(Clone)]
struct Loaded {
    cases: Vec<(Case, Summary)>,
    drafts: Vec<Draft>,
    names: BTreeMap<String, String>,
    /// Forms the supervisor sent back that are not corrected on this phone yet.
    returned: usize,
    /// Closed households that left the phone since the worker was last told, and erased
    /// ones.
    departed: (usize, usize),
}

async fn load() -> Result<Loaded, StorageError> {
    let db = storage::shared().await?;
    let cases = db.cases().await?;
    let submissions: Vec<Submission> = db.submissions().await?;
    let drafts = db.drafts().await?;
    let corrected: Vec<&str> = submissions
        .iter()
        .filter_map(|s| s.corrects.as_ref().map(|c| c.submission_id.as_str()))
        .collect();
    let returned = db
        .inbox()
        .await?
        .items
        .iter()
        .filter(|i| !corrected.contains(&i.submission_id.as_str()))
        .count();
    // Drafts name the household they were begun on, merged since or not.
    let names = cases
        .iter()
        .map(|c| (c.id.clone(), c.household_name().to_owned()))
        .collect();
    // A household merged into another is listed once, as the other; one that left the phone
    // when it closed, or is not back whole since it was reopened, not at all.
    let departed = db.departed().await?;
    let mut cases: Vec<(Case, Summary)> = cris_core::record::households(&cases)
        .into_iter()
        .filter(|c| !departed.hides(&c.id))
        .map(|c| {
            let members = cris_core::record::members(&cases, &c.id);
            let summary = caseload::summarize_household(&c, &members, &submissions);
            (c, summary)
        })
        .collect();
    // The next visit due first; households without one after them, by name; closed ones
    // last.
    cases.sort_by(|(a, sa), (b, sb)| {
        (
            a.closed().is_some(),
            sa.next_visit.is_none(),
            sa.next_visit,
            caseload::fold(a.household_name()),
        )
            .cmp(&(
                b.closed().is_some(),
                sb.next_visit.is_none(),
                sb.next_visit,
                caseload::fold(b.household_name()),
            ))
    });
    Ok(Loaded {
        cases,
        drafts,
        names,
        returned,
        departed: (departed.untold, departed.erased_untold),
    })
}

/// The worker's cases and unfinished forms, from the phone's storage.
#[component]
pub fn Caseload() -> impl IntoView {
    let i18n = use_i18n();
    // At first, and again whenever a sync brought changes or a draft was discarded; only the
    // latest reading is shown.
    let sync = crate::sync::use_sync();
    let discarded = RwSignal::new(0u32);
    let loaded = LocalResource::new(move || {
        sync.changed.track();
        discarded.track();
        async {
            crate::perf::start(crate::perf::CASELOAD_LOAD);
            let found = load().await;
            crate::perf::end(crate::perf::CASELOAD_LOAD);
            found
        }
    });
    let reload = move || discarded.update(|n| *n += 1);
    let query = RwSignal::new(String::new());
    view! {
        <section class="page">
            <h1>{i18n.t(|u| u.caseload_title)}</h1>
            {move || match loaded.get() {
                None => view! { <p class="notice">{i18n.t(|u| u.case_loading)}</p> }.into_any(),
                Some(Err(e)) => storage_error_view(i18n, &e).into_any(),
                Some(Ok(data)) => {
                    let returned = data.returned;
                    let departed = data.departed;
                    view! {
                        <Departures departed on_told=reload/>
                        <Show when=move || { returned > 0 }>
                            <A href="/review" attr:class="banner returned" attr:data-testid="inbox-banner">
                                {move || i18n.t(|u| u.inbox_banner)().replace("{n}", &returned.to_string())}
                            </A>
                        </Show>
                        <Drafts drafts=data.drafts.clone() names=data.names.clone() on_discard=reload/>
                        <Cases cases=data.cases query/>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// Households drawn at once when the caseload opens, more than a phone's screen holds; the
/// rest follow in the next frame, so the first screen is shown before hundreds are made.
const FIRST_DRAWN: usize = 24;

#[component]
fn Cases(cases: Vec<(Case, Summary)>, query: RwSignal<String>) -> impl IntoView {
    let i18n = use_i18n();
    if cases.is_empty() {
        return view! {
            <div class="empty" data-testid="caseload-empty">
                <h2>{i18n.t(|u| u.caseload_empty_title)}</h2>
                <p>{i18n.t(|u| u.caseload_empty_body)}</p>
                <A href="/intake/new" attr:class="btn btn-primary">
                    {i18n.t(|u| u.start_intake)}
                </A>
            </div>
        }
        .into_any();
    }
    // Each name in the form searches compare (see [`caseload::name_matches`]), made once,
    // not at every keystroke for every household.
    let keys: Vec<String> = cases
        .iter()
        .map(|(c, _)| cris_core::duplicates::comparable(c.household_name()))
        .collect();
    let cases = StoredValue::new(cases.into_iter().zip(keys).collect::<Vec<_>>());
    let today = today();
    let shown = move || {
        let q = cris_core::duplicates::comparable(&query.get());
        cases.with_value(|all| {
            all.iter()
                .filter(|(_, key)| key.contains(q.as_str()))
                .map(|(case, _)| case.clone())
                .collect::<Vec<_>>()
        })
    };
    view! {
        <input
            autocomplete="off"
            type="search"
            class="search"
            placeholder=i18n.t(|u| u.search_cases)
            aria-label=i18n.t(|u| u.search_cases)
            data-testid="search"
            prop:value=move || query.get()
            on:input=move |ev| query.set(event_target_value(&ev))
        />
        <ul class="cases" data-testid="cases">
            {move || {
                let u = ui(i18n.lang.get());
                let list: Vec<_> = shown().into_iter().filter(|(c, _)| c.closed().is_none()).collect();
                if list.is_empty() {
                    return view! { <li class="notice">{u.no_match}</li> }.into_any();
                }
                cards(u, list, today).into_any()
            }}
        </ul>
        <A href="/intake/new" attr:class="btn">{i18n.t(|u| u.start_intake)}</A>
        // Closed cases: on a supervisor's device, and on a worker's until the next sync.
        {move || {
            let u = ui(i18n.lang.get());
            let closed: Vec<_> = shown().into_iter().filter(|(c, _)| c.closed().is_some()).collect();
            (!closed.is_empty()).then(|| view! {
                <h2>{u.caseload_closed}</h2>
                <ul class="cases closed" data-testid="closed-cases">{cards(u, closed, today)}</ul>
            })
        }}
    }
    .into_any()
}

/// The cards of `list`: the first [`FIRST_DRAWN`] at once, the rest at the next animation
/// frame (a list drawn anew, for another search or language, starts again).
fn cards(u: &'static Ui, mut list: Vec<(Case, Summary)>, today: cris_core::Date) -> impl IntoView {
    let rest = list.split_off(list.len().min(FIRST_DRAWN));
    let later = (!rest.is_empty()).then(|| {
        let drawn = RwSignal::new(false);
        request_animation_frame(move || {
            let _ = drawn.try_set(true);
        });
        let rest = StoredValue::new(rest);
        move || {
            drawn.get().then(|| {
                rest.with_value(|rest| {
                    rest.iter()
                        .map(|(case, summary)| case_card(u, case, summary, today))
                        .collect_view()
                })
            })
        }
    });
    view! {
        {list.iter().map(|(case, summary)| case_card(u, case, summary, today)).collect_view()}
        {later}
    }
}

/// One household's card. Its words are taken once, in the language of the list (which is
/// drawn anew when the language changes), and its link is a plain anchor the router takes:
/// a caseload of 500 makes no reactive node per card.
fn case_card(
    u: &'static Ui,
    case: &Case,
    summary: &Summary,
    today: cris_core::Date,
) -> impl IntoView + use<> {
    let name = match case.household_name().trim() {
        "" => u.unnamed_household.to_owned(),
        name => name.to_owned(),
    };
    let date =
        |d: Option<cris_core::Date>| d.map_or_else(|| u.none_yet.to_owned(), |d| d.to_string());
    let open = summary.open_steps.len();
    let due = summary.steps_due(today);
    let conflicted = !case.fields.conflicted().is_empty();
    view! {
        <li class="case" data-case=case.id.clone()>
            <a href=format!("/cases/{}", case.id)>
                <strong class="case-name">{name}</strong>
                <span class="case-facts">
                    <span>{u.last_visit} ": " {date(summary.last_visit)}</span>
                    <span>{u.next_visit} ": " {date(summary.next_visit)}</span>
                    <span>
                        {u.open_steps} ": " {open}
                        {(due > 0).then(|| view! {
                            " " <span class="due">"(" {due} " " {u.steps_due} ")"</span>
                        })}
                    </span>
                    {conflicted.then(|| view! {
                        <span class="conflict" data-testid="case-conflict">{u.case_conflict}</span>
                    })}
                </span>
            </a>
        </li>
    }
}

/// How many closed and erased households left this phone at the last syncs, until the worker
/// says they read it.
#[component]
fn Departures(
    departed: (usize, usize),
    on_told: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let (closed, erased) = departed;
    let i18n = use_i18n();
    let told = move |_| {
        leptos::task::spawn_local(async move {
            if let Ok(db) = storage::shared().await
                && db.departures_told().await.is_ok()
            {
                on_told();
            }
        });
    };
    (closed + erased > 0).then(|| {
        view! {
            <div class="banner notice" role="status" data-testid="departed">
                {(erased > 0).then(|| view! {
                    <p data-testid="erased">{move || i18n.count(|u| u.erased_notice, erased)}</p>
                })}
                {(closed > 0).then(|| view! {
                    <p>{move || i18n.count(|u| u.departed_notice, closed)}</p>
                })}
                <button type="button" class="btn btn-small" data-testid="departed-told" on:click=told>
                    {i18n.t(|u| u.wiped_understood)}
                </button>
            </div>
        }
    })
}

/// A household's name, or a placeholder for a case without one.
pub fn household(
    i18n: crate::i18n::I18n,
    name: &str,
) -> impl Fn() -> String + Clone + Send + Sync + 'static + use<> {
    let name = name.trim().to_owned();
    move || {
        if name.is_empty() {
            i18n.t(|u| u.unnamed_household)().to_owned()
        } else {
            name.clone()
        }
    }
}

#[component]
fn Drafts(
    drafts: Vec<Draft>,
    names: BTreeMap<String, String>,
    on_discard: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let catalog = use_forms();
    if drafts.is_empty() {
        return ().into_any();
    }
    let failed = RwSignal::new(None::<StorageError>);
    let items = drafts
        .into_iter()
        .map(|draft| {
            let form_title = {
                let form_id = draft.form_id.clone();
                move || catalog.title(&form_id, i18n.lang.get())
            };
            let who = draft
                .case_id
                .as_ref()
                .and_then(|c| names.get(c).cloned())
                .unwrap_or_else(|| draft.answers.text("household_name").to_owned());
            let id = draft.id.clone();
            let discard = move |_| {
                let question = i18n.t(|u| u.confirm_discard)();
                if !window().confirm_with_message(question).unwrap_or(false) {
                    return;
                }
                let id = id.clone();
                leptos::task::spawn_local(async move {
                    let result = match storage::shared().await {
                        Ok(db) => db.delete_draft(&id).await,
                        Err(e) => Err(e),
                    };
                    match result {
                        Ok(()) => on_discard(),
                        Err(e) => failed.set(Some(e)),
                    }
                });
            };
            view! {
                <li class="draft" data-draft=draft.id.clone()>
                    <div>
                        <strong>{form_title}</strong>
                        " " <span>{who}</span>
                        <br/>
                        <small>{i18n.t(|u| u.last_saved)} ": " {date_time(draft.updated_at_ms)}</small>
                    </div>
                    <div class="actions">
                        <A href=format!("/drafts/{}", draft.id) attr:class="btn btn-primary">
                            {i18n.t(|u| u.resume_draft)}
                        </A>
                        <button type="button" class="btn btn-quiet" on:click=discard>
                            {i18n.t(|u| u.discard_draft)}
                        </button>
                    </div>
                </li>
            }
        })
        .collect_view();
    view! {
        <h2>{i18n.t(|u| u.drafts_title)}</h2>
        {move || failed.get().map(|e| storage_error_view(i18n, &e))}
        <ul class="drafts" data-testid="drafts">{items}</ul>
    }
    .into_any()
}
