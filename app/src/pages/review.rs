//! The review tab. A worker sees the forms the supervisor sent back (kept from the last
//! sync, so offline too) and corrects them from here; a supervisor sees the review queue of
//! the team (online), opens a form and approves it or asks for changes with a comment.

use std::collections::HashMap;

use cris_core::api::{
    Inbox, ReviewDecision, ReviewDetail, ReviewItem, ReviewRequest, ReviewSort, ReviewStatus, Role,
};
use cris_core::duplicates;
use cris_core::record::{Case, Submission};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::clock::{date_time, new_id};
use crate::form_view::readonly::{Row, answers_view, rows};
use crate::form_view::storage_error_view;
use crate::forms::use_forms;
use crate::i18n::{I18n, Ui, use_i18n};
use crate::storage::{self, StorageError};
use crate::sync::{Failure, api, use_sync};

use super::{DateFilter, TeamFilter, short_device};

#[component]
pub fn Review() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let reviewer = move || {
        sync.session
            .with(|s| s.as_ref().is_some_and(|s| s.user.role != Role::Worker))
    };
    view! {
        <section class="page">
            <h1>{i18n.t(|u| u.review_title)}</h1>
            {move || {
                if reviewer() {
                    view! { <Queue/> <Conflicts/> <Duplicates/> }.into_any()
                } else {
                    WorkerInbox().into_any()
                }
            }}
        </section>
    }
}

/// A status in the reader's words.
pub fn status_label(u: &Ui, status: ReviewStatus) -> &'static str {
    match status {
        ReviewStatus::New => u.status_new,
        ReviewStatus::Approved => u.status_approved,
        ReviewStatus::ChangesRequested => u.status_changes_requested,
        ReviewStatus::Corrected => u.status_corrected,
        ReviewStatus::Resubmitted => u.status_resubmitted,
    }
}

/// A failed call in the reader's words.
pub(super) fn failure_text(i18n: I18n, failure: &Failure) -> String {
    match failure {
        Failure::Offline => i18n.t(|u| u.review_offline)().to_owned(),
        other => crate::refusal::failure(i18n.lang.get(), other),
    }
}

/// Household names of the cases on this phone, by case id.
async fn names() -> Result<HashMap<String, String>, StorageError> {
    let db = storage::shared().await?;
    Ok(db
        .cases()
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c.household_name().to_owned()))
        .collect())
}

#[derive(Clone)]
struct InboxData {
    inbox: Inbox,
    names: HashMap<String, String>,
    /// Submissions on the phone that correct another: sent back ones already corrected here
    /// leave the list before the server has heard of it.
    corrected: Vec<String>,
}

async fn load_inbox() -> Result<InboxData, StorageError> {
    let db = storage::shared().await?;
    let corrected = db
        .submissions()
        .await?
        .into_iter()
        .filter_map(|s: Submission| s.corrects.map(|c| c.submission_id))
        .collect();
    Ok(InboxData {
        inbox: db.inbox().await?,
        names: names().await?,
        corrected,
    })
}

/// The forms sent back to this worker, each with the supervisor's comment and a way to
/// correct it.
#[component]
fn WorkerInbox() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let catalog = use_forms();
    let navigate = use_navigate();
    let loaded = RwSignal::new(None::<Result<InboxData, StorageError>>);
    Effect::new(move |_| {
        sync.changed.track();
        leptos::task::spawn_local(async move { loaded.set(Some(load_inbox().await)) });
    });
    view! {
        <h2>{i18n.t(|u| u.inbox_title)}</h2>
        {move || match loaded.get() {
            None => ().into_any(),
            Some(Err(e)) => storage_error_view(i18n, &e).into_any(),
            Some(Ok(data)) => {
                let items: Vec<_> = data
                    .inbox
                    .items
                    .into_iter()
                    .filter(|i| !data.corrected.contains(&i.submission_id))
                    .collect();
                if items.is_empty() {
                    return view! {
                        <p class="empty" data-testid="inbox-empty">{i18n.t(|u| u.inbox_empty)}</p>
                    }
                    .into_any();
                }
                let list = items
                    .into_iter()
                    .map(|item| {
                        let name = data.names.get(&item.case_id).cloned().unwrap_or_default();
                        let form_id = item.form_id.clone();
                        let from = i18n.t(|u| u.inbox_from)()
                            .replace("{name}", &item.reviewer_name)
                            .replace("{date}", &date_time(item.requested_at_ms as f64));
                        let to = format!(
                            "/drafts/{}?form={}&case={}&corrects={}",
                            new_id(),
                            item.form_id,
                            item.case_id,
                            item.submission_id
                        );
                        let navigate = navigate.clone();
                        view! {
                            <li data-inbox=item.submission_id.clone()>
                                <strong>{move || catalog.title(&form_id, i18n.lang.get())}</strong>
                                " · " {date_time(item.received_at_ms as f64)}
                                <br/>
                                <span>{move || i18n.t(|u| u.inbox_household)().replace("{name}", &name)}</span>
                                <p class="hint">{from}</p>
                                <blockquote class="review-comment" data-testid="inbox-comment">{item.comment.clone()}</blockquote>
                                <button
                                    type="button"
                                    class="btn btn-primary"
                                    data-testid="inbox-correct"
                                    on:click=move |_| navigate(&to, Default::default())
                                >
                                    {i18n.t(|u| u.correct_form)}
                                </button>
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul class="submissions" data-testid="inbox">{list}</ul> }.into_any()
            }
        }}
    }
}

/// The review queue of the supervisor's teams, newest first, with a status and a form filter.
#[component]
fn Queue() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let catalog = use_forms();
    let status = RwSignal::new(String::new());
    let form = RwSignal::new(String::new());
    let worker = RwSignal::new(String::new());
    let household = RwSignal::new(String::new());
    let team = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let sort = RwSignal::new(ReviewSort::Newest.as_str().to_owned());
    let items = RwSignal::new(Vec::<ReviewItem>::new());
    let next = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<String>);
    // The team's workers, to choose from (asked once).
    let workers = RwSignal::new(Vec::<cris_core::api::TeamWorker>::new());
    if let Some(token) = sync
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
    {
        leptos::task::spawn_local(async move {
            if let Ok(found) = api::review_workers(&token).await {
                let _ = workers.try_set(found.workers);
            }
        });
    }
    // On a phone the filters fold away under one button, so that the queue comes first.
    let filters_open = RwSignal::new(false);
    let active_filters = move || {
        [status, form, worker, household, team, from, to]
            .iter()
            .filter(|f| f.with(|v| !v.trim().is_empty()))
            .count()
    };
    let fetch = move |after: Option<String>| {
        let Some(token) = sync
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
        else {
            return;
        };
        let mut query = vec!["limit=50".to_owned()];
        for (key, value) in [
            ("status", status.get_untracked()),
            ("form", form.get_untracked()),
            ("worker", worker.get_untracked().trim().to_owned()),
            ("household", household.get_untracked().trim().to_owned()),
            ("team", team.get_untracked()),
            ("from", from.get_untracked()),
            ("to", to.get_untracked()),
            ("sort", sort.get_untracked()),
        ] {
            if !value.is_empty() {
                query.push(format!("{key}={}", js_sys::encode_uri_component(&value)));
            }
        }
        if let Some(after) = &after {
            query.push(format!("after={}", js_sys::encode_uri_component(after)));
        }
        let query = query.join("&");
        leptos::task::spawn_local(async move {
            match api::review_queue(&token, &query).await {
                Ok(page) => {
                    problem.set(None);
                    if after.is_some() {
                        items.update(|i| i.extend(page.items));
                    } else {
                        items.set(page.items);
                    }
                    next.set(page.next);
                }
                Err(f) => problem.set(Some(failure_text(i18n, &f))),
            }
        });
    };
    Effect::new(move |_| {
        status.track();
        form.track();
        worker.track();
        household.track();
        team.track();
        from.track();
        to.track();
        sort.track();
        sync.changed.track();
        fetch(None);
    });
    let statuses = ReviewStatus::ALL
        .into_iter()
        .map(|s| {
            view! { <option value=s.as_str()>{move || status_label(crate::i18n::ui(i18n.lang.get()), s)}</option> }
        })
        .collect_view();
    let forms = crate::forms::SHIPPED
        .into_iter()
        .map(|id| view! { <option value=id>{move || catalog.title(id, i18n.lang.get())}</option> })
        .collect_view();
    let sorts = ReviewSort::ALL
        .into_iter()
        .map(|s| {
            let label = move || match s {
                ReviewSort::Newest => i18n.t(|u| u.review_sort_newest)(),
                ReviewSort::Oldest => i18n.t(|u| u.review_sort_oldest)(),
            };
            view! { <option value=s.as_str()>{label}</option> }
        })
        .collect_view();
    view! {
        <button
            type="button"
            class="btn filters-toggle"
            data-testid="review-filters-toggle"
            aria-expanded=move || filters_open.get().to_string()
            aria-controls="review-filters"
            on:click=move |_| filters_open.update(|o| *o = !*o)
        >
            {move || match active_filters() {
                0 => i18n.t(|u| u.review_filters)().to_owned(),
                n => format!("{} ({n})", i18n.t(|u| u.review_filters)()),
            }}
        </button>
        <div class="filters" id="review-filters" class:folded=move || !filters_open.get()>
            <div class="field">
                <label for="review-sort">{i18n.t(|u| u.review_sort)}</label>
                <select
                    autocomplete="off"
                    id="review-sort"
                    data-testid="review-sort"
                    on:change=move |ev| sort.set(event_target_value(&ev))
                    prop:value=move || sort.get()
                >
                    {sorts}
                </select>
            </div>
            <div class="field">
                <label for="review-status">{i18n.t(|u| u.review_filter_status)}</label>
                <select
                    autocomplete="off"
                    id="review-status"
                    data-testid="review-status"
                    on:change=move |ev| status.set(event_target_value(&ev))
                    prop:value=move || status.get()
                >
                    <option value="">{i18n.t(|u| u.review_all)}</option>
                    {statuses}
                </select>
            </div>
            <div class="field">
                <label for="review-form">{i18n.t(|u| u.review_filter_form)}</label>
                <select
                    autocomplete="off"
                    id="review-form"
                    data-testid="review-form"
                    on:change=move |ev| form.set(event_target_value(&ev))
                    prop:value=move || form.get()
                >
                    <option value="">{i18n.t(|u| u.review_all)}</option>
                    {forms}
                </select>
            </div>
            <div class="field">
                <label for="review-worker">{i18n.t(|u| u.review_filter_worker)}</label>
                <select
                    autocomplete="off"
                    id="review-worker"
                    data-testid="review-worker"
                    on:change=move |ev| worker.set(event_target_value(&ev))
                    prop:value=move || worker.get()
                >
                    <option value="">{i18n.t(|u| u.review_all)}</option>
                    {move || {
                        workers
                            .get()
                            .into_iter()
                            .map(|w| {
                                let login = w.login.clone();
                                let chosen = move || worker.with(|v| *v == login);
                                view! {
                                    <option value=w.login.clone() selected=chosen>
                                        {w.display_name.clone()}
                                    </option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
            </div>
            <div class="field">
                <label for="review-household">{i18n.t(|u| u.household_name)}</label>
                // Any spelling: the server compares names as the duplicates finder does.
                <input
                    id="review-household"
                    class="search"
                    type="search"
                    data-testid="review-household"
                    autocomplete="off"
                    on:change=move |ev| household.set(event_target_value(&ev))
                    prop:value=move || household.get()
                />
            </div>
            <TeamFilter id="review-team" team=team/>
            <DateFilter id="review-from" label=|u| u.export_from day=from/>
            <DateFilter id="review-to" label=|u| u.export_to day=to/>
        </div>
        <p class="problems" role="alert" data-testid="review-problem" hidden=move || problem.with(Option::is_none)>
            {move || problem.get()}
        </p>
        <Show when=move || items.with(Vec::is_empty) && problem.with(Option::is_none)>
            <p class="empty" data-testid="review-empty">
                {move || {
                    if active_filters() > 0 { i18n.t(|u| u.review_no_match)() } else { i18n.t(|u| u.review_empty)() }
                }}
            </p>
        </Show>
        <ul class="submissions review-queue" data-testid="review-queue">
            {move || {
                items
                    .get()
                    .into_iter()
                    .map(|item| {
                        // The household as the server shows it now.
                        let name = super::caseload::household(i18n, &item.household_name);
                        let form_id = item.form_id.clone();
                        let s = item.status;
                        view! {
                            <li data-review=item.submission_id.clone() data-status=s.as_str()>
                                <A href=format!("/review/{}", item.submission_id)>
                                    <strong>{move || catalog.title(&form_id, i18n.lang.get())}</strong>
                                    " · " {name}
                                </A>
                                <br/>
                                <span class="hint">
                                    {item.worker_name.clone()} " · " {date_time(item.received_at_ms as f64)}
                                </span>
                                " "
                                <span class=format!("status status-{}", s.as_str())>
                                    {move || status_label(crate::i18n::ui(i18n.lang.get()), s)}
                                </span>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
        <Show when=move || next.with(Option::is_some)>
            <button type="button" class="btn" data-testid="review-more" on:click=move |_| fetch(next.get_untracked())>
                {i18n.t(|u| u.review_more)}
            </button>
        </Show>
    }
}

/// `/review/:id`: one form as the supervisor reviews it.
#[component]
pub fn ReviewForm() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    // The form, and the form it corrects (to show what changed).
    let detail = RwSignal::new(None::<Result<(ReviewDetail, Option<ReviewDetail>), String>>);
    let reload = RwSignal::new(0u32);
    Effect::new(move |_| {
        reload.track();
        let id = id.get();
        let Some(token) = sync
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
        else {
            return;
        };
        leptos::task::spawn_local(async move {
            let loaded = async {
                let this = api::review_detail(&token, &id).await?;
                let before = match &this.item.corrects {
                    Some(original) => Some(api::review_detail(&token, original).await?),
                    None => None,
                };
                Ok::<_, Failure>((this, before))
            };
            detail.set(Some(loaded.await.map_err(|f| failure_text(i18n, &f))));
        });
    });
    view! {
        <section class="page">
            {move || match detail.get() {
                None => view! { <p class="notice">{i18n.t(|u| u.case_loading)}</p> }.into_any(),
                Some(Err(why)) => view! { <p class="problems" data-testid="review-problem">{why}</p> }.into_any(),
                Some(Ok((this, before))) => review_view(this, before, reload).into_any(),
            }}
            <A href="/review" attr:class="back">{i18n.t(|u| u.review_title)}</A>
        </section>
    }
}

fn review_view(
    this: ReviewDetail,
    before: Option<ReviewDetail>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let catalog = use_forms();
    let item = this.item.clone();
    let submission = this.op.submission().cloned();
    let original = before.as_ref().and_then(|b| b.op.submission().cloned());
    // The answers, those a correction changed marked.
    let answers = move || {
        let lang = i18n.lang.get();
        let sub = submission.as_ref()?;
        let form = catalog.get(&sub.form_id)?;
        let now = rows(&form, &sub.answers, lang);
        let earlier = original
            .as_ref()
            .map(|o| rows(&form, &o.answers, lang))
            .unwrap_or_default();
        Some(if original.is_some() {
            marked_view(now, &earlier).into_any()
        } else {
            answers_view(now).into_any()
        })
    };
    let events = this
        .events
        .iter()
        .map(|e| {
            let decision = match e.decision {
                ReviewDecision::Approved => ReviewStatus::Approved,
                ReviewDecision::ChangesRequested => ReviewStatus::ChangesRequested,
            };
            view! {
                <li data-decision=e.decision.as_str()>
                    <strong>{move || status_label(crate::i18n::ui(i18n.lang.get()), decision)}</strong>
                    " · " {e.reviewer_name.clone()} " · " {date_time(e.at_ms as f64)}
                    {(!e.comment.is_empty()).then(|| view! { <blockquote class="review-comment">{e.comment.clone()}</blockquote> })}
                </li>
            }
        })
        .collect_view();
    let comment = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submission_id = item.submission_id.clone();
    let decide = move |decision: ReviewDecision| {
        if busy.get_untracked() {
            return;
        }
        let text = comment.get_untracked().trim().to_owned();
        if decision == ReviewDecision::ChangesRequested && text.is_empty() {
            problem.set(Some(i18n.t(|u| u.review_comment_missing)().to_owned()));
            return;
        }
        let Some(token) = sync
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
        else {
            return;
        };
        let id = submission_id.clone();
        busy.set(true);
        problem.set(None);
        leptos::task::spawn_local(async move {
            let request = ReviewRequest {
                decision,
                comment: text,
            };
            match api::review_decide(&token, &id, &request).await {
                Ok(_) => reload.update(|n| *n += 1),
                Err(f) => problem.set(Some(failure_text(i18n, &f))),
            }
            busy.set(false);
        });
    };
    let approve = {
        let decide = decide.clone();
        move |_| decide(ReviewDecision::Approved)
    };
    let send_back = move |_| decide(ReviewDecision::ChangesRequested);
    let form_id = item.form_id.clone();
    let status = item.status;
    let corrects = item.corrects.clone().map(|id| {
        view! {
            <p class="note">
                {i18n.t(|u| u.review_corrects)} " "
                <A href=format!("/review/{id}")>{id.chars().take(8).collect::<String>()}</A>
            </p>
        }
    });
    let corrected_by = this.corrected_by.clone().map(|id| {
        view! {
            <p class="note">
                {i18n.t(|u| u.review_corrected_by)} " "
                <A href=format!("/review/{id}")>{id.chars().take(8).collect::<String>()}</A>
            </p>
        }
    });
    let reason = this
        .op
        .submission()
        .and_then(|s| s.corrects.as_ref())
        .map(|c| view! { <p class="correction-note">{i18n.t(|u| u.correction_note)} " " {c.reason.clone()}</p> });
    // Every version of the form: who finalized it, on which device, when; and why it changed.
    let edits = this
        .edits
        .into_iter()
        .map(|e| {
            let line = {
                let (name, device) = (e.worker_name.clone(), short_device(&e.device));
                let (finalized, received) = (
                    date_time(e.finalized_at_ms as f64),
                    date_time(e.received_at_ms as f64),
                );
                move || {
                    i18n.t(|u| u.review_edit_line)()
                        .replace("{name}", &name)
                        .replace("{device}", &device)
                        .replace("{finalized}", &finalized)
                        .replace("{received}", &received)
                }
            };
            let this_one = e.submission_id == item.submission_id;
            let title = if this_one {
                view! { <strong>{i18n.t(|u| u.review_edit_this)}</strong> }.into_any()
            } else {
                let short: String = e.submission_id.chars().take(8).collect();
                view! { <A href=format!("/review/{}", e.submission_id)>{short}</A> }.into_any()
            };
            let why = e.reason.map(|r| {
                view! { <br/><span class="hint">{i18n.t(|u| u.correction_note)} " " {r}</span> }
            });
            view! {
                <li data-edit=e.submission_id data-device=e.device>
                    {title} " · " {line} {why}
                </li>
            }
        })
        .collect_view();
    let household = item.case_id.clone();
    // The household the form is shown with, by name, a link the size of a finger.
    let shown_with = if item.household_id.is_empty() {
        item.case_id.clone()
    } else {
        item.household_id.clone()
    };
    let household_name = super::caseload::household(i18n, &item.household_name);
    view! {
        <h1>{move || catalog.title(&form_id, i18n.lang.get())}</h1>
        <p>
            <span class=format!("status status-{}", status.as_str()) data-testid="review-state" data-status=status.as_str()>
                {move || status_label(crate::i18n::ui(i18n.lang.get()), status)}
            </span>
            " · " {item.worker_name.clone()} " · " {date_time(item.received_at_ms as f64)}
        </p>
        <p class="review-household">
            <A
                href=format!("/cases/{shown_with}")
                attr:class="btn household-link"
                attr:data-testid="review-household-link"
            >
                {household_name}
            </A>
        </p>
        {corrects}
        {reason}
        {corrected_by}
        <div data-testid="review-answers">{answers}</div>
        <h2>{i18n.t(|u| u.review_edits)}</h2>
        <ul class="steps" data-testid="review-edits">{edits}</ul>
        <ReviewConsents case_id=household/>
        <h2>{i18n.t(|u| u.review_history)}</h2>
        <ul class="steps" data-testid="review-events">{events}</ul>
        <div class="field">
            <label for="review-comment">{i18n.t(|u| u.review_comment)}</label>
            <textarea
                autocomplete="off"
                id="review-comment"
                data-testid="review-comment"
                prop:value=move || comment.get()
                on:input=move |ev| comment.set(event_target_value(&ev))
            ></textarea>
        </div>
        <p class="problems" role="alert" data-testid="review-decision-problem" hidden=move || problem.with(Option::is_none)>
            {move || problem.get()}
        </p>
        <div class="actions">
            <button type="button" class="btn btn-primary" data-testid="review-approve" disabled=move || busy.get() on:click=approve>
                {i18n.t(|u| u.review_approve)}
            </button>
            <button type="button" class="btn" data-testid="review-request-changes" disabled=move || busy.get() on:click=send_back>
                {i18n.t(|u| u.review_request_changes)}
            </button>
        </div>
    }
}

/// The answers of a correction, those that are not in the form it corrects marked.
fn marked_view(now: Vec<Row>, before: &[Row]) -> impl IntoView + use<> {
    let i18n = use_i18n();
    view! {
        <dl class="answers">
            {now
                .into_iter()
                .map(|row| match row {
                    Row::Heading(text) => view! { <dt class="answers-heading">{text}</dt> }.into_any(),
                    Row::Answer { label, value } => {
                        let changed = !before.iter().any(|r| {
                            matches!(r, Row::Answer { label: l, value: v } if *l == label && *v == value)
                        });
                        view! {
                            <dt class:changed=changed>{label}</dt>
                            <dd class:changed=changed data-changed=changed.to_string()>
                                {value}
                                {changed.then(|| view! { <span class="hint">" · " {i18n.t(|u| u.review_changed)}</span> })}
                            </dd>
                        }
                        .into_any()
                    }
                })
                .collect_view()}
        </dl>
    }
}

/// The consents in force of the household a form belongs to, as shown (the one it was merged
/// into, if it was), from what this device holds: read, not taken or withdrawn, here.
#[component]
fn ReviewConsents(case_id: String) -> impl IntoView {
    let shown = RwSignal::new(None::<String>);
    leptos::task::spawn_local(async move {
        let merged_into = match storage::shared().await {
            Ok(db) => db
                .case(&case_id)
                .await
                .ok()
                .flatten()
                .and_then(|c| c.merged_into().map(|(_, into)| into.to_owned())),
            Err(_) => None,
        };
        shown.set(Some(merged_into.unwrap_or(case_id)));
    });
    move || {
        shown
            .get()
            .map(|id| view! { <super::ConsentSummary case_id=id read_only=true/> })
    }
}

/// The households on this device with properties in conflict (a supervisor's device holds the
/// teams' households), each linking to its case page, where the value is chosen.
#[component]
fn Conflicts() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let catalog = use_forms();
    let found = RwSignal::new(Vec::<(String, String, Vec<String>)>::new());
    Effect::new(move |_| {
        sync.changed.track();
        leptos::task::spawn_local(async move {
            let Ok(db) = storage::shared().await else {
                return;
            };
            // Households as shown: what two merged households recorded differently too.
            let Ok(cases) = db.households().await else {
                return;
            };
            found.set(
                cases
                    .into_iter()
                    .filter_map(|c| {
                        let fields: Vec<String> = c
                            .fields
                            .conflicted()
                            .into_iter()
                            .map(str::to_owned)
                            .collect();
                        (!fields.is_empty())
                            .then(|| (c.id.clone(), c.household_name().to_owned(), fields))
                    })
                    .collect(),
            );
        });
    });
    let label = move |property: &str| {
        catalog
            .get(cris_core::caseload::INTAKE)
            .and_then(|form| {
                form.walk()
                    .into_iter()
                    .map(|(field, _)| field)
                    .find(|f| f.case_property.as_deref() == Some(property))
                    .map(|f| f.label.get(i18n.lang.get()).to_owned())
            })
            .unwrap_or_else(|| property.to_owned())
    };
    view! {
        <h2>{i18n.t(|u| u.conflicts_title)}</h2>
        <Show
            when=move || found.with(|f| !f.is_empty())
            fallback=move || view! { <p class="hint">{i18n.t(|u| u.conflicts_none)}</p> }
        >
            <ul class="submissions" data-testid="conflicts">
                {move || {
                    found
                        .get()
                        .into_iter()
                        .map(|(id, name, fields)| {
                            view! {
                                <li data-case=id.clone()>
                                    <A href=format!("/cases/{id}")><strong>{name}</strong></A>
                                    <br/>
                                    <span class="hint">
                                        {move || {
                                            let names: Vec<String> = fields.iter().map(|f| label(f)).collect();
                                            i18n.t(|u| u.conflict_fields)().replace("{fields}", &names.join(", "))
                                        }}
                                    </span>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </Show>
    }
}

/// What the forms on this device say about each household as shown (merged ones with the
/// household they joined): its name, and the people of its intakes (members and children,
/// with their dates of birth); with the household itself.
async fn households() -> Result<Vec<(duplicates::Household, Case)>, StorageError> {
    let db = storage::shared().await?;
    let submissions = db.submissions().await?;
    let cases = db.cases().await?;
    Ok(cris_core::record::households(&cases)
        .into_iter()
        .map(|case| {
            let members = cris_core::record::members(&cases, &case.id);
            let own: Vec<Submission> = submissions
                .iter()
                .filter(|s| {
                    members.contains(&s.case_id) && s.form_id == cris_core::caseload::INTAKE
                })
                .cloned()
                .collect();
            let mut people = Vec::new();
            for intake in cris_core::caseload::in_effect(&own) {
                for (group, name, dob) in [
                    ("members", "member_name", "dob"),
                    ("children", "child_name", "child_dob"),
                ] {
                    for one in intake.answers.instances(group) {
                        let who = one.text(name).trim();
                        if !who.is_empty() {
                            people.push(duplicates::Person {
                                name: who.to_owned(),
                                dob: one.text(dob).parse().ok(),
                            });
                        }
                    }
                }
            }
            let found = duplicates::Household {
                case_id: case.id.clone(),
                name: case.household_name().to_owned(),
                people,
            };
            (found, case)
        })
        .collect())
}

/// Households on this device that may be one family recorded twice, the likelier first, each
/// pair with why and links to both.
#[component]
fn Duplicates() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let found = RwSignal::new((
        Vec::<duplicates::Candidate>::new(),
        HashMap::<String, Case>::new(),
    ));
    // Whether the households on this device have been compared yet.
    let checked = RwSignal::new(false);
    Effect::new(move |_| {
        sync.changed.track();
        leptos::task::spawn_local(async move {
            if let Ok(all) = households().await {
                let (found_in, cases): (Vec<duplicates::Household>, Vec<Case>) =
                    all.into_iter().unzip();
                let cases: HashMap<String, Case> =
                    cases.into_iter().map(|c| (c.id.clone(), c)).collect();
                // Pairs someone found to be two families are not proposed again.
                let candidates = duplicates::candidates(&found_in)
                    .into_iter()
                    .filter(|c| match (cases.get(&c.a), cases.get(&c.b)) {
                        (Some(a), Some(b)) => !a.distinct(b),
                        _ => true,
                    })
                    .collect();
                found.set((candidates, cases));
                checked.set(true);
            }
        });
    });
    view! {
        <h2 data-testid="duplicates-title" data-checked=move || checked.get().to_string()>
            {i18n.t(|u| u.duplicates_title)}
        </h2>
        <Show
            when=move || found.with(|(c, _)| !c.is_empty())
            fallback=move || view! { <p class="hint" data-testid="duplicates-none">{i18n.t(|u| u.duplicates_none)}</p> }
        >
            <ul class="submissions" data-testid="duplicates">
                {move || {
                    let (candidates, cases) = found.get();
                    candidates
                        .into_iter()
                        .map(|c| {
                            let name = |id: &str| {
                                cases
                                    .get(id)
                                    .map(|c| c.household_name().to_owned())
                                    .unwrap_or_else(|| id.chars().take(8).collect())
                            };
                            // The household recorded later joins the one recorded first.
                            let created = |id: &str| cases.get(id).map_or(0.0, |c| c.created_at_ms);
                            let (kept, merged) = if (created(&c.b), &c.b) < (created(&c.a), &c.a) {
                                (c.b.clone(), c.a.clone())
                            } else {
                                (c.a.clone(), c.b.clone())
                            };
                            let kept = (kept.clone(), name(&kept));
                            let merged = (merged.clone(), name(&merged));
                            let reasons = c
                                .reasons
                                .iter()
                                .map(|r| {
                                    let r = r.clone();
                                    view! {
                                        <li>
                                            {move || match &r {
                                                duplicates::Reason::SamePerson { name, dob } => i18n
                                                    .t(|u| u.duplicate_same_person)()
                                                    .replace("{name}", name)
                                                    .replace("{date}", &crate::clock::day(*dob)),
                                                duplicates::Reason::SimilarName(_) => {
                                                    i18n.t(|u| u.duplicate_similar_name)().to_owned()
                                                }
                                            }}
                                        </li>
                                    }
                                })
                                .collect_view();
                            let (name_a, name_b) = (name(&c.a), name(&c.b));
                            let (to_a, to_b) = (format!("/cases/{}", c.a), format!("/cases/{}", c.b));
                            view! {
                                <li data-pair=format!("{} {}", c.a, c.b)>
                                    <A href=to_a><strong>{name_a}</strong></A>
                                    " · "
                                    <A href=to_b><strong>{name_b}</strong></A>
                                    <ul class="hint">{reasons}</ul>
                                    <super::merge::PairActions kept merged/>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </Show>
    }
}
