//! `/overview`: a supervisor's view of the teams (online, on a laptop): home visits per week
//! and case manager, households by housing situation, agreed steps overdue, consents, the last
//! sync of every device; charts drawn here as SVG, readable on screen and on paper. Below it,
//! the export of the teams' forms for reporting, and the record of earlier exports.

use cris_core::api::{Dashboard, ExportEntry, ExportFormat};
use cris_core::form::FieldType;
use cris_core::lang::Lang;
use leptos::prelude::*;
use leptos_router::components::A;
use wasm_bindgen::JsCast;

use super::caseload::household;
use super::merge::reviewer;
use super::review::failure_text;
use super::{DateFilter, TeamFilter, short_device};
use crate::clock::date_time;
use crate::form_view::readonly::display;
use crate::forms::use_forms;
use crate::i18n::use_i18n;
use crate::sync::{api, use_sync};

/// The colours of the case managers in the visits chart, told apart also in grey print
/// (the legend's `.swatch-<k>` in style.css repeat them).
const PALETTE: [&str; 8] = [
    "#0b5563", "#d1495b", "#edae49", "#30638e", "#6a994e", "#8f2d56", "#003d5b", "#b07d2b",
];

/// A device not heard of for this long is marked.
const SILENT_MS: i64 = 7 * 86_400_000;

/// The token of the session on this device, if there is one.
fn token(sync: crate::sync::SyncState) -> Option<String> {
    sync.session
        .with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
}

#[component]
pub fn Overview() -> impl IntoView {
    let i18n = use_i18n();
    let reviewer = reviewer();
    view! {
        <section class="page overview">
            <h1>{i18n.t(|u| u.overview_title)}</h1>
            {move || {
                if reviewer.get() {
                    view! { <DashboardView/> <ExportView/> }.into_any()
                } else {
                    view! { <p class="notice">{i18n.t(|u| u.review_body)}</p> }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn DashboardView() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let team = RwSignal::new(String::new());
    let weeks = RwSignal::new(8u32);
    // Asked again when the team, the weeks or the data change; an answer to a question
    // since changed is dropped, so a slow answer for the old team never replaces the new.
    let asked = LocalResource::new(move || {
        let (team, weeks) = (team.get(), weeks.get());
        sync.changed.track();
        let token = token(sync);
        let mut query = format!("weeks={weeks}");
        if !team.is_empty() {
            query += &format!("&team={}", js_sys::encode_uri_component(&team));
        }
        async move {
            let token = token?;
            let found = api::dashboard(&token, &query).await;
            Some(found.map_err(|f| failure_text(i18n, &f)))
        }
    });
    let loaded = move || asked.get().flatten();
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    view! {
        <div class="filters no-print">
            <TeamFilter id="overview-team" team=team/>
            <div class="field">
                <label for="overview-weeks">{i18n.t(|u| u.overview_weeks)}</label>
                <select
                    autocomplete="off"
                    id="overview-weeks"
                    data-testid="overview-weeks"
                    on:change=move |ev| weeks.set(event_target_value(&ev).parse().unwrap_or(8))
                    prop:value=move || weeks.get().to_string()
                >
                    {[4u32, 8, 13, 26]
                        .into_iter()
                        .map(|n| view! { <option value=n.to_string()>{n}</option> })
                        .collect_view()}
                </select>
            </div>
            <button type="button" class="btn" data-testid="overview-print" on:click=print>
                {i18n.t(|u| u.overview_print)}
            </button>
        </div>
        {move || match loaded() {
            None => view! { <p class="notice">{i18n.t(|u| u.overview_loading)}</p> }.into_any(),
            Some(Err(problem)) => view! {
                <p class="problems" role="alert" data-testid="overview-problem">{problem}</p>
            }
            .into_any(),
            Some(Ok(dashboard)) => dashboard_view(dashboard).into_any(),
        }}
    }
}

/// `MM-DD` of a day: enough under a week's bar.
fn short(day: cris_core::Date) -> String {
    day.to_string().get(5..).unwrap_or_default().to_owned()
}

fn dashboard_view(d: Dashboard) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="dashboard" data-testid="dashboard" data-to=d.to.to_string()>
            <h2>{i18n.t(|u| u.overview_visits)}</h2>
            {visits_chart(&d)}
            {visits_table(&d)}
            <h2>{i18n.t(|u| u.overview_housing)}</h2>
            {housing_chart(&d)}
            <h2>{i18n.t(|u| u.overview_overdue)}</h2>
            {overdue_view(&d)}
            <h2>{i18n.t(|u| u.overview_consents)}</h2>
            <p data-testid="overview-consents-in-force">
                {
                    let n = d.consents.households_in_force.to_string();
                    move || i18n.t(|u| u.overview_consents_in_force)().replace("{count}", &n)
                }
            </p>
            <p data-testid="overview-consent-records">
                {
                    let (given, withdrawn) = (d.consents.consents.to_string(), d.consents.withdrawals.to_string());
                    move || {
                        i18n.t(|u| u.overview_consents_records)()
                            .replace("{given}", &given)
                            .replace("{withdrawn}", &withdrawn)
                    }
                }
            </p>
            <h2>{i18n.t(|u| u.overview_referrals)}</h2>
            <ReferralTable weeks=d.weeks.clone() counts=d.referrals.clone()/>
            <h2>{i18n.t(|u| u.overview_closed)}</h2>
            {super::closing::closed_counts_view(&d.closed)}
            <h2>{i18n.t(|u| u.overview_devices)}</h2>
            {devices_table(&d)}
        </div>
    }
}

/// A chart: an SVG of `size` (its own units; it scales to the page) named for screen readers
/// by `label`, and what goes under it.
fn chart(
    testid: &'static str,
    label: fn(&'static crate::i18n::Ui) -> &'static str,
    size: (f64, f64),
    shapes: impl IntoView + 'static,
    under: impl IntoView + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <figure class="chart">
            <svg
                viewBox=format!("0 0 {} {}", size.0, size.1)
                role="img"
                data-testid=testid
                aria-label=move || i18n.t(label)()
            >
                {shapes}
            </svg>
            {under}
        </figure>
    }
}

/// Home visits per week as stacked bars, one colour per case manager.
fn visits_chart(d: &Dashboard) -> impl IntoView + use<> {
    let (width, height, left, bottom, top) = (720.0, 240.0, 36.0, 28.0, 16.0);
    let n = d.weeks.len().max(1) as f64;
    let totals: Vec<u32> = (0..d.weeks.len())
        .map(|w| {
            d.visits
                .iter()
                .map(|v| v.per_week.get(w).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let most = f64::from(totals.iter().copied().max().unwrap_or(0).max(1));
    let plot = height - bottom - top;
    let slot = (width - left) / n;
    let bar = (slot * 0.7).max(2.0);
    let y = move |count: f64| top + plot - count / most * plot;
    let mut shapes = Vec::new();
    // A few grid lines with their counts.
    for step in 0..=4 {
        let value = (most * f64::from(step) / 4.0).round();
        let at = y(value);
        shapes.push(
            view! {
                <line x1=left x2=width y1=at y2=at class="grid"/>
                <text x=left - 6.0 y=at + 4.0 text-anchor="end" class="axis">{value}</text>
            }
            .into_any(),
        );
    }
    for (w, day) in d.weeks.iter().enumerate() {
        let x = left + slot * w as f64 + (slot - bar) / 2.0;
        let mut base = 0.0;
        for (k, worker) in d.visits.iter().enumerate() {
            let count = f64::from(worker.per_week.get(w).copied().unwrap_or(0));
            if count == 0.0 {
                continue;
            }
            let (y0, y1) = (y(base), y(base + count));
            base += count;
            let title = format!("{}: {} ({})", worker.display_name, count, day);
            shapes.push(
                view! {
                    <rect x=x y=y1 width=bar height=y0 - y1 fill=PALETTE[k % PALETTE.len()]>
                        <title>{title}</title>
                    </rect>
                }
                .into_any(),
            );
        }
        let total = totals[w];
        if total > 0 {
            shapes.push(view! {
                <text x=x + bar / 2.0 y=y(f64::from(total)) - 4.0 text-anchor="middle" class="value">{total}</text>
            }.into_any());
        }
        // Every week labelled while they fit, else every other.
        if d.weeks.len() <= 13 || w % 2 == 0 {
            shapes.push(view! {
                <text x=x + bar / 2.0 y=height - 8.0 text-anchor="middle" class="axis">{short(*day)}</text>
            }.into_any());
        }
    }
    let legend = d
        .visits
        .iter()
        .enumerate()
        .map(|(k, v)| {
            view! {
                <li>
                    <span class=format!("swatch swatch-{}", k % PALETTE.len())></span>
                    {v.display_name.clone()} " (" {v.total} ")"
                </li>
            }
        })
        .collect_view();
    chart(
        "visits-chart",
        |u| u.overview_visits,
        (width, height),
        shapes,
        view! { <ul class="legend">{legend}</ul> },
    )
}

/// The same counts as a table: what the chart shows, to read exactly and to print.
fn visits_table(d: &Dashboard) -> impl IntoView + use<> {
    let rows = d
        .visits
        .iter()
        .map(|v| {
            view! {
                <tr data-worker=v.login.clone()>
                    <th scope="row">{v.display_name.clone()}</th>
                    {week_cells(&v.per_week, v.total)}
                </tr>
            }
        })
        .collect_view();
    weeks_table("visits-table", &d.weeks, rows.into_any())
}

/// A table of counts by week, a row each, with the weeks' Mondays over the columns.
fn weeks_table(
    testid: &'static str,
    weeks: &[cris_core::Date],
    rows: AnyView,
) -> impl IntoView + use<> {
    let i18n = use_i18n();
    let heads = weeks
        .iter()
        .map(|w| view! { <th scope="col">{short(*w)}</th> })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="counts" data-testid=testid>
                <thead>
                    <tr>
                        <th></th>
                        {heads}
                        <th scope="col">{i18n.t(|u| u.overview_total)}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// A row's counts, week by week, and its total.
fn week_cells(per_week: &[u32], total: u32) -> impl IntoView + use<> {
    let cells = per_week
        .iter()
        .map(|n| view! { <td>{*n}</td> })
        .collect_view();
    view! {
        {cells}
        <td class="total">{total}</td>
    }
}

/// The referrals by service and where they stand, by the week they were made; the services
/// named as the consent text names them.
#[component]
fn ReferralTable(
    weeks: Vec<cris_core::Date>,
    counts: Vec<cris_core::api::ReferralCounts>,
) -> impl IntoView {
    let i18n = use_i18n();
    if counts.is_empty() {
        return view! { <p data-testid="referral-counts-none">{i18n.t(|u| u.overview_no_referrals)}</p> }
            .into_any();
    }
    let setup = LocalResource::new(super::consent::load_setup);
    let rows = counts
        .into_iter()
        .map(|c| {
            let recipient = c.recipient.clone();
            let service = move || {
                let lang = i18n.lang.get();
                setup.with(|s| match s {
                    Some(Ok(Some(s))) => s.item_title(&recipient, lang),
                    _ => recipient.clone(),
                })
            };
            let state = c.state;
            view! {
                <tr data-testid="referral-count" data-recipient=c.recipient.clone() data-state=state.as_str()>
                    <th scope="row">
                        {service} " · "
                        {move || super::referral::state_word(crate::i18n::ui(i18n.lang.get()), state)}
                    </th>
                    {week_cells(&c.per_week, c.total)}
                </tr>
            }
        })
        .collect_view();
    weeks_table("referral-counts", &weeks, rows.into_any()).into_any()
}

/// Households by housing situation as horizontal bars, labelled in the reader's language.
fn housing_chart(d: &Dashboard) -> impl IntoView + use<> {
    let i18n = use_i18n();
    let catalog = use_forms();
    let mut rows: Vec<(String, u64)> = d
        .housing
        .by_value
        .iter()
        .map(|(value, n)| (value.clone(), *n))
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if d.housing.no_value > 0 {
        rows.push((String::new(), d.housing.no_value));
    }
    let most = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    // Each situation on a line of its own, its bar under it: the labels are long.
    let (width, line) = (720.0, 46.0);
    let height = line * rows.len().max(1) as f64;
    let in_conflict = d.housing.in_conflict;
    let shapes = rows
        .into_iter()
        .enumerate()
        .map(|(i, (value, n))| {
            let y = line * i as f64;
            let length = (width - 60.0) * n as f64 / most;
            let name = {
                let value = value.clone();
                move || {
                    if value.is_empty() {
                        return i18n.t(|u| u.overview_housing_unknown)().to_owned();
                    }
                    let lang = i18n.lang.get();
                    catalog
                        .get(cris_core::caseload::INTAKE)
                        .and_then(|form| {
                            let field = form.field("housing_situation")?.clone();
                            Some(display(&form, &field, &value, lang))
                        })
                        .unwrap_or_else(|| value.clone())
                }
            };
            view! {
                <g data-housing=value.clone() data-count=n.to_string()>
                    <text x=0 y=y + 16.0 class="axis">{name}</text>
                    <rect x=0 y=y + 22.0 width=length.max(1.0) height=16 fill=PALETTE[0]/>
                    <text x=length + 6.0 y=y + 35.0 class="value">{n}</text>
                </g>
            }
        })
        .collect_view();
    let caption = (in_conflict > 0).then(|| {
        view! {
            <figcaption class="hint">
                {i18n.t(|u| u.overview_housing_conflict)} ": " {in_conflict}
            </figcaption>
        }
    });
    chart(
        "housing-chart",
        |u| u.overview_housing,
        (width, height),
        shapes,
        caption,
    )
}

fn overdue_view(d: &Dashboard) -> impl IntoView + use<> {
    let i18n = use_i18n();
    if d.overdue.steps == 0 {
        return view! { <p data-testid="overdue-none">{i18n.t(|u| u.overview_overdue_none)}</p> }
            .into_any();
    }
    let (steps, households) = (d.overdue.steps as usize, d.overdue.households as usize);
    let items = d
        .overdue
        .most
        .iter()
        .map(|h| {
            let name = household(i18n, &h.household_name);
            let since = crate::clock::day(h.oldest_due);
            view! {
                <li data-case=h.case_id.clone() data-overdue=h.overdue.to_string()>
                    <A href=format!("/cases/{}", h.case_id)><strong>{name}</strong></A>
                    " · " {h.overdue} " · "
                    {move || i18n.t(|u| u.overview_oldest_due)().replace("{date}", &since)}
                </li>
            }
        })
        .collect_view();
    view! {
        <p data-testid="overdue-count">
            {move || crate::i18n::overdue_count(i18n.lang.get(), steps, households)}
        </p>
        <ul class="submissions" data-testid="overdue">{items}</ul>
    }
    .into_any()
}

fn devices_table(d: &Dashboard) -> impl IntoView + use<> {
    let i18n = use_i18n();
    let sync = use_sync();
    let admin = sync.session.with_untracked(|s| {
        s.as_ref()
            .is_some_and(|s| s.user.role == cris_core::api::Role::Admin)
    });
    let problem = RwSignal::new(None::<String>);
    let now = crate::clock::now_ms() as i64;
    let when = move |ms: Option<i64>| match ms {
        Some(ms) => date_time(ms as f64),
        None => i18n.t(|u| u.overview_never)().to_owned(),
    };
    // A lost or stolen phone, revoked by an administrator: after a confirmation that says
    // what is lost, and the list reloaded.
    let revoke = move |device_id: String, name: String| {
        let question = i18n.t(|u| u.device_revoke_confirm)()
            .replace("{device}", &short_device(&device_id))
            .replace("{name}", &name);
        if !window().confirm_with_message(&question).unwrap_or(false) {
            return;
        }
        let Some(token) = token(sync) else {
            return;
        };
        leptos::task::spawn_local(async move {
            match api::revoke_device(&token, &device_id).await {
                Ok(()) => {
                    let _ = problem.try_set(None);
                    sync.changed.update(|n| *n += 1);
                }
                Err(f) => {
                    let _ = problem.try_set(Some(failure_text(i18n, &f)));
                }
            }
        });
    };
    let rows = d
        .devices
        .iter()
        .map(|dev| {
            let last = dev.last_push_ms.max(dev.last_pull_ms).unwrap_or(0);
            let silent = now - last > SILENT_MS;
            let state = match (dev.revoked_ms, &dev.revoked_by) {
                (Some(at), by) => {
                    let on =
                        i18n.t(|u| u.device_revoked_on)().replace("{time}", &date_time(at as f64));
                    let by = by
                        .as_ref()
                        .map(|login| i18n.t(|u| u.device_revoked_by)().replace("{login}", login));
                    view! {
                        <span class="revoked">{on} {by.map(|b| format!(" {b}"))}</span>
                    }
                    .into_any()
                }
                (None, _) if admin => {
                    let (id, name) = (dev.device_id.clone(), dev.display_name.clone());
                    view! {
                        <span>{i18n.t(|u| u.device_active)}</span>
                        " "
                        <button
                            type="button"
                            class="btn btn-danger no-print"
                            data-testid="device-revoke"
                            on:click=move |_| revoke(id.clone(), name.clone())
                        >
                            {i18n.t(|u| u.device_revoke)}
                        </button>
                    }
                    .into_any()
                }
                (None, _) => view! { <span>{i18n.t(|u| u.device_active)}</span> }.into_any(),
            };
            view! {
                <tr
                    class:stale=silent
                    class:revoked=dev.revoked_ms.is_some()
                    data-device=dev.device_id.clone()
                >
                    <td><code>{short_device(&dev.device_id)}</code></td>
                    <td>{dev.display_name.clone()}</td>
                    <td>{when(dev.last_push_ms)}</td>
                    <td>{when(dev.last_pull_ms)}</td>
                    <td data-testid="device-state">{state}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="problems" role="alert" data-testid="devices-problem" hidden=move || problem.with(Option::is_none)>
            {move || problem.get()}
        </p>
        <div class="table-scroll">
            <table class="counts list" data-testid="devices">
                <thead>
                    <tr>
                        <th scope="col">{i18n.t(|u| u.overview_device)}</th>
                        <th scope="col">{i18n.t(|u| u.review_filter_worker)}</th>
                        <th scope="col">{i18n.t(|u| u.overview_last_push)}</th>
                        <th scope="col">{i18n.t(|u| u.overview_last_pull)}</th>
                        <th scope="col">{i18n.t(|u| u.overview_device_state)}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// Saves `blob` under `name` through the browser's download.
pub(super) fn save(blob: &web_sys::Blob, name: &str) -> Result<(), String> {
    let failed = |e: wasm_bindgen::JsValue| format!("{e:?}");
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(failed)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let link = document.create_element("a").map_err(failed)?;
    link.set_attribute("href", &url).map_err(failed)?;
    link.set_attribute("download", name).map_err(failed)?;
    link.dyn_into::<web_sys::HtmlElement>()
        .map_err(|_| "not a link".to_owned())?
        .click();
    // The download has its own copy once it started.
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

#[component]
fn ExportView() -> impl IntoView {
    let i18n = use_i18n();
    let admin = use_sync().session.with_untracked(|s| {
        s.as_ref()
            .is_some_and(|s| s.user.role == cris_core::api::Role::Admin)
    });
    let sensitive = RwSignal::new(false);
    let catalog = use_forms();
    let format = RwSignal::new(ExportFormat::Xlsx);
    let form = RwSignal::new(String::new());
    let table = RwSignal::new(String::new());
    let lang = RwSignal::new(i18n.lang.get_untracked());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let history = RwSignal::new(Vec::<ExportEntry>::new());
    let sync = use_sync();
    let load_history = move || {
        let Some(token) = token(sync) else {
            return;
        };
        leptos::task::spawn_local(async move {
            if let Ok(list) = api::exports(&token).await {
                history.set(list.items);
            }
        });
    };
    load_history();
    // The repeat groups of the chosen form: each is a table of its own in a CSV export.
    let groups = move || {
        let id = form.get();
        let lang = i18n.lang.get();
        catalog
            .get(&id)
            .map(|f| {
                f.walk()
                    .into_iter()
                    .filter(|(field, _)| field.kind == FieldType::Repeat)
                    .map(|(field, _)| (field.name.clone(), field.label.get(lang).to_owned()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let download = move |_| {
        let csv = format.get_untracked() == ExportFormat::Csv;
        if csv && form.get_untracked().is_empty() {
            problem.set(Some(i18n.t(|u| u.export_csv_needs_form)().to_owned()));
            return;
        }
        let Some(token) = token(sync) else {
            return;
        };
        let mut query = vec![
            format!("format={}", format.get_untracked().as_str()),
            format!("lang={}", lang.get_untracked().code()),
        ];
        for (key, value) in [
            ("form", form.get_untracked()),
            (
                "table",
                if csv {
                    table.get_untracked()
                } else {
                    String::new()
                },
            ),
            ("from", from.get_untracked()),
            ("to", to.get_untracked()),
        ] {
            if !value.is_empty() {
                query.push(format!("{key}={}", js_sys::encode_uri_component(&value)));
            }
        }
        if admin && sensitive.get_untracked() {
            query.push("sensitive=true".to_owned());
        }
        let query = query.join("&");
        busy.set(true);
        problem.set(None);
        done.set(None);
        leptos::task::spawn_local(async move {
            match api::export(&token, &query).await {
                Ok((blob, name)) => match save(&blob, &name) {
                    Ok(()) => done.set(Some(name)),
                    Err(e) => problem.set(Some(e)),
                },
                Err(f) => problem.set(Some(failure_text(i18n, &f))),
            }
            busy.set(false);
            load_history();
        });
    };
    let forms = crate::forms::SHIPPED
        .into_iter()
        .map(|id| view! { <option value=id>{move || catalog.title(id, i18n.lang.get())}</option> })
        .collect_view();
    let history_view = move || {
        history
            .get()
            .into_iter()
            .map(|e| {
                let what = e
                    .filter
                    .form
                    .clone()
                    .map(|f| catalog.title(&f, i18n.lang.get()))
                    .unwrap_or_else(|| i18n.t(|u| u.export_all_forms)().to_owned());
                let rows = e.rows as usize;
                // The language its words are in, and whom it is of (team, worker).
                let language = e.filter.lang.map(|l| l.native_name()).unwrap_or_default();
                let of: String = e
                    .filter
                    .team
                    .iter()
                    .chain(&e.filter.worker)
                    .map(|s| format!(" · {s}"))
                    .collect();
                // An export with the fields marked sensitive says so.
                let with_sensitive = e.filter.sensitive.then(
                    || view! { " · " <strong>{i18n.t(|u| u.export_with_sensitive)}</strong> },
                );
                view! {
                    <li data-export=e.id.clone() data-sensitive=e.filter.sensitive.to_string()>
                        {date_time(e.at_ms as f64)} " · " {e.display_name.clone()} " · "
                        {e.format.as_str().to_uppercase()} " · " {what} " · " {language}
                        {of} " · " {move || i18n.count(|u| u.export_rows, rows)} {with_sensitive}
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="export no-print" data-testid="export">
            <h2>{i18n.t(|u| u.export_title)}</h2>
            <div class="filters">
                <div class="field">
                    <label for="export-format">{i18n.t(|u| u.export_format)}</label>
                    <select
                        autocomplete="off"
                        id="export-format"
                        data-testid="export-format"
                        on:change=move |ev| {
                            format.set(if event_target_value(&ev) == "csv" { ExportFormat::Csv } else { ExportFormat::Xlsx })
                        }
                    >
                        <option value="xlsx">"Excel (XLSX)"</option>
                        <option value="csv">"CSV"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="export-form">{i18n.t(|u| u.export_form)}</label>
                    <select
                        autocomplete="off"
                        id="export-form"
                        data-testid="export-form"
                        on:change=move |ev| {
                            form.set(event_target_value(&ev));
                            table.set(String::new());
                        }
                    >
                        <option value="">{i18n.t(|u| u.export_all_forms)}</option>
                        {forms}
                    </select>
                </div>
                <div class="field" hidden=move || format.get() != ExportFormat::Csv || form.with(String::is_empty)>
                    <label for="export-table">{i18n.t(|u| u.export_table)}</label>
                    <select
                        autocomplete="off"
                        id="export-table"
                        data-testid="export-table"
                        on:change=move |ev| table.set(event_target_value(&ev))
                        prop:value=move || table.get()
                    >
                        <option value="">{i18n.t(|u| u.export_table_main)}</option>
                        {move || {
                            groups()
                                .into_iter()
                                .map(|(name, label)| view! { <option value=name>{label}</option> })
                                .collect_view()
                        }}
                    </select>
                </div>
                <div class="field">
                    <label for="export-lang">{i18n.t(|u| u.export_language)}</label>
                    <select
                        autocomplete="off"
                        id="export-lang"
                        data-testid="export-lang"
                        on:change=move |ev| lang.set(event_target_value(&ev).parse().unwrap_or(Lang::DEFAULT))
                        prop:value=move || lang.get().code()
                    >
                        {Lang::ALL
                            .into_iter()
                            .map(|l| view! { <option value=l.code()>{l.native_name()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <DateFilter id="export-from" label=|u| u.export_from day=from/>
                <DateFilter id="export-to" label=|u| u.export_to day=to/>
            </div>
            // Fields marked sensitive (health) leave only with an admin who asks for them.
            {admin.then(|| view! {
                <div class="field">
                    <label>
                        <input
                            type="checkbox"
                            data-testid="export-sensitive"
                            prop:checked=move || sensitive.get()
                            on:change=move |ev| sensitive.set(event_target_checked(&ev))
                        />
                        " " {i18n.t(|u| u.export_sensitive)}
                    </label>
                </div>
            })}
            <p class="hint">{i18n.t(|u| u.export_recorded)}</p>
            <button type="button" class="btn btn-primary" data-testid="export-download" disabled=move || busy.get() on:click=download>
                {i18n.t(|u| u.export_download)}
            </button>
            <p class="problems" role="alert" data-testid="export-problem" hidden=move || problem.with(Option::is_none)>
                {move || problem.get()}
            </p>
            <p class="banner saved" role="status" data-testid="export-done" hidden=move || done.with(Option::is_none)>
                {move || done.get().map(|f| i18n.t(|u| u.export_done)().replace("{file}", &f))}
            </p>
            <h3>{i18n.t(|u| u.export_history)}</h3>
            <ul class="submissions" data-testid="export-history">{history_view}</ul>
        </section>
    }
}
