//! The supervisor's review queue: the team's forms, online, with filters, an order and pages.

use super::*;

/// What the queue is narrowed to and its order, as chosen (an empty value: any).
#[derive(Clone, Copy)]
struct Filters {
    status: RwSignal<String>,
    form: RwSignal<String>,
    worker: RwSignal<String>,
    household: RwSignal<String>,
    team: RwSignal<String>,
    from: RwSignal<String>,
    to: RwSignal<String>,
    sort: RwSignal<String>,
}

impl Filters {
    fn new() -> Filters {
        let empty = || RwSignal::new(String::new());
        Filters {
            status: empty(),
            form: empty(),
            worker: empty(),
            household: empty(),
            team: empty(),
            from: empty(),
            to: empty(),
            sort: RwSignal::new(ReviewSort::Newest.as_str().to_owned()),
        }
    }

    /// The filters that narrow the queue (the order does not).
    fn narrowing(self) -> [RwSignal<String>; 7] {
        [
            self.status,
            self.form,
            self.worker,
            self.household,
            self.team,
            self.from,
            self.to,
        ]
    }

    /// How many filters are set.
    fn active(self) -> usize {
        self.narrowing()
            .iter()
            .filter(|f| f.with(|v| !v.trim().is_empty()))
            .count()
    }

    /// Subscribes to every choice.
    fn track(self) {
        for filter in self.narrowing() {
            filter.track();
        }
        self.sort.track();
    }

    /// The query of the first page (`after`: of the page after that one), as chosen now.
    fn query(self, after: Option<&str>) -> String {
        let mut query = vec!["limit=50".to_owned()];
        for (key, value) in [
            ("status", self.status.get_untracked()),
            ("form", self.form.get_untracked()),
            ("worker", self.worker.get_untracked().trim().to_owned()),
            (
                "household",
                self.household.get_untracked().trim().to_owned(),
            ),
            ("team", self.team.get_untracked()),
            ("from", self.from.get_untracked()),
            ("to", self.to.get_untracked()),
            ("sort", self.sort.get_untracked()),
        ]
        .into_iter()
        .chain(after.map(|a| ("after", a.to_owned())))
        {
            if !value.is_empty() {
                query.push(format!("{key}={}", js_sys::encode_uri_component(&value)));
            }
        }
        query.join("&")
    }
}

/// The review queue of the supervisor's teams, newest first, with a status and a form filter.
#[component]
pub(super) fn Queue() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let filters = Filters::new();
    let items = RwSignal::new(Vec::<ReviewItem>::new());
    let next = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<String>);
    // Which first page was asked for last: an answer for filters since changed (a slow one
    // that arrives after the answer for the new filters) is dropped, and so are further pages
    // of it.
    let asked = StoredValue::new(0u64);
    let fetch = move |after: Option<String>| {
        if after.is_none() {
            asked.update_value(|n| *n += 1);
        }
        let this = asked.get_value();
        let Some(token) = sync
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
        else {
            return;
        };
        let query = filters.query(after.as_deref());
        leptos::task::spawn_local(async move {
            let answer = api::review_queue(&token, &query).await;
            if asked.try_get_value() != Some(this) {
                return;
            }
            match answer {
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
        filters.track();
        sync.changed.track();
        fetch(None);
    });
    view! {
        <FilterFields filters/>
        <p class="problems" role="alert" data-testid="review-problem" hidden=move || problem.with(Option::is_none)>
            {move || problem.get()}
        </p>
        <Show when=move || items.with(Vec::is_empty) && problem.with(Option::is_none)>
            <p class="empty" data-testid="review-empty">
                {move || {
                    if filters.active() > 0 { i18n.t(|u| u.review_no_match)() } else { i18n.t(|u| u.review_empty)() }
                }}
            </p>
        </Show>
        <Items items/>
        <Show when=move || next.with(Option::is_some)>
            <button type="button" class="btn" data-testid="review-more" on:click=move |_| fetch(next.get_untracked())>
                {i18n.t(|u| u.review_more)}
            </button>
        </Show>
    }
}

/// The queue's filters and order. On a phone they fold away under one button, so that the
/// queue comes first.
#[component]
fn FilterFields(filters: Filters) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let catalog = use_forms();
    let Filters {
        status,
        form,
        worker,
        household,
        team,
        from,
        to,
        sort,
    } = filters;
    let filters_open = RwSignal::new(false);
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
            {move || match filters.active() {
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
    }
}

/// The forms of the queue as far as they are loaded.
#[component]
fn Items(items: RwSignal<Vec<ReviewItem>>) -> impl IntoView {
    let i18n = use_i18n();
    let catalog = use_forms();
    view! {
        <ul class="submissions review-queue" data-testid="review-queue">
            {move || {
                items
                    .get()
                    .into_iter()
                    .map(|item| {
                        // The household as the server shows it now.
                        let name = super::super::caseload::household(i18n, &item.household_name);
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
    }
}
