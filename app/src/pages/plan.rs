//! The family's plan (`/cases/:id/plan?lang=tr`): the goals and steps agreed with the
//! household at the intake and the visits, who does each by when and how it went, its open
//! referrals, its case manager and the next visit: in the family's language (German under
//! it), from what the phone holds, offline. Printed for the family, or shared as text with
//! the phone's share sheet. Nothing of anyone but the household itself is on it.

use cris_core::caseload::{self, PlanStep};
use cris_core::consent::Record;
use cris_core::form::FormDef;
use cris_core::referral::Followed;
use cris_core::{Date, Lang};
use leptos::prelude::*;
use leptos_router::components::A;
use wasm_bindgen::JsCast;

use super::case_id;
use super::consent::{Setup, load_setup};
use super::printed::{Page, lang_choice, print_button};
use crate::clock::today;
use crate::form_view::readonly::display;
use crate::form_view::storage_error_view;
use crate::forms::use_forms;
use crate::i18n::{Ui, ui, use_i18n};
use crate::storage::{self, StorageError};
use crate::sync::use_sync;

/// What the plan is made of, as the phone holds it.
#[derive(Clone)]
struct Held {
    household: String,
    steps: Vec<PlanStep>,
    referrals: Vec<Followed>,
    next_visit: Option<Date>,
    /// The language of the family's latest consent.
    family_lang: Option<Lang>,
    setup: Option<Setup>,
}

async fn load(case_id: String) -> Result<Option<Held>, StorageError> {
    let db = storage::shared().await?;
    let Some(household) = db.household(&case_id).await? else {
        return Ok(None);
    };
    let submissions = db.submissions_of_all(&household.members).await?;
    let summary = caseload::summarize_household(&household.case, &household.members, &submissions);
    let mut referrals: Vec<Followed> = household
        .case
        .referrals
        .values()
        .filter(|f| !f.state().is_closed())
        .cloned()
        .collect();
    referrals.sort_by(|a, b| a.made.cmp(&b.made));
    let records = db.household_consents(&case_id).await?;
    let (consents, _) = Record::split(&records);
    let family_lang = consents
        .iter()
        .max_by_key(|c| c.signed_at_ms)
        .map(|c| c.text.lang);
    Ok(Some(Held {
        household: household.case.household_name().to_owned(),
        steps: caseload::plan(&household.members, &submissions),
        referrals,
        next_visit: summary.next_visit,
        family_lang,
        setup: load_setup().await?,
    }))
}

/// Where the plan finds its words: the forms' labels, the consent text's services, the case
/// manager's name.
struct Words<'a> {
    form: &'a dyn Fn(&str) -> Option<std::sync::Arc<FormDef>>,
    setup: Option<&'a Setup>,
    worker: &'a str,
}

#[component]
pub fn FamilyPlanPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let catalog = use_forms();
    let id = case_id();
    let asked = super::printed::asked_lang();
    let held = LocalResource::new(move || {
        sync.changed.track();
        load(id.get())
    });
    let lang = move || {
        asked.get().unwrap_or_else(|| {
            held.with(|h| match h {
                Some(Ok(Some(h))) => h.family_lang.unwrap_or(Lang::De),
                _ => Lang::De,
            })
        })
    };
    let worker = move || {
        sync.session
            .with(|s| s.as_ref().map(|s| s.user.display_name.clone()))
            .unwrap_or_default()
    };
    // The plan in words: (HTML to print, text to share).
    let made = Memo::new(move |_| {
        let (l, name) = (lang(), worker());
        held.with(|h| match h {
            Some(Ok(Some(h))) => {
                let form = |id: &str| catalog.get(id);
                let words = Words {
                    form: &form,
                    setup: h.setup.as_ref(),
                    worker: &name,
                };
                Some((plan_html(h, &words, l), plan_text(h, &words, l)))
            }
            _ => None,
        })
    });
    let can_share = share_available();
    view! {
        <section class="page plan">
            <div class="no-print actions">
                {lang_choice("plan-lang", |u| u.copy_lang, move || Some(lang()), move || {
                    format!("/cases/{}/plan", id.get_untracked())
                })}
                {print_button("plan-print")}
                {can_share.then(|| view! {
                    <button type="button" class="btn" data-testid="plan-share" on:click=move |_| {
                        if let Some((_, text)) = made.get_untracked() {
                            share(&text);
                        }
                    }>
                        {i18n.t(|u| u.plan_share)}
                    </button>
                })}
            </div>
            {move || match held.get() {
                None => ().into_any(),
                Some(Err(e)) => storage_error_view(i18n, &e).into_any(),
                Some(Ok(None)) => view! { <p class="notice">{i18n.t(|u| u.case_not_found)}</p> }.into_any(),
                Some(Ok(Some(_))) => {
                    let html = made.get().map(|m| m.0).unwrap_or_default();
                    let l = lang();
                    view! {
                        <article class="family-copy family-plan" lang=l.code() data-testid="plan"
                            data-lang=l.code() inner_html=html></article>
                    }
                    .into_any()
                }
            }}
            <A href=move || format!("/cases/{}", id.get()) attr:class="back no-print">
                {i18n.t(|u| u.case_title)}
            </A>
        </section>
    }
}

/// A step's who and progress in words: the choice's label in the form.
fn choice(words: &Words<'_>, form: &str, field: &str, value: &str, l: Lang) -> String {
    let Some(def) = (words.form)(form) else {
        return value.to_owned();
    };
    let found = def.walk().into_iter().find(|(f, _)| f.name == field);
    match found {
        Some((f, _)) => display(&def, f, value, l),
        None => value.to_owned(),
    }
}

/// A step's line: what, by when, who, how it went (in `l`).
fn step_words(step: &PlanStep, words: &Words<'_>, l: Lang) -> Vec<String> {
    let u = ui(l);
    let mut said = Vec::new();
    if let Some((form, field, who)) = &step.who {
        said.push(
            u.plan_who
                .replace("{who}", &choice(words, form, field, who, l)),
        );
    }
    if let Some(due) = step.due {
        said.push(u.plan_by.replace("{date}", &due.written(l)));
    }
    let (form, field) = caseload::PROGRESS_FIELD;
    said.push(match &step.progress {
        Some(p) => choice(words, form, field, p, l),
        None => u.plan_open_step.to_owned(),
    });
    said
}

fn referral_words(f: &Followed, words: &Words<'_>, l: Lang) -> (String, String) {
    let u = ui(l);
    let service = words.setup.map_or_else(
        || f.referral.recipient.clone(),
        |s| s.item_title(&f.referral.recipient, l),
    );
    let mut state = super::referral::state_word(u, f.state()).to_owned();
    if let Some(day) = f.follow_up() {
        state = format!("{state} · {}", u.plan_by.replace("{date}", &day.written(l)));
    }
    (service, state)
}

fn plan_html(held: &Held, words: &Words<'_>, lang: Lang) -> String {
    let mut p = Page::new(lang);
    p.tag("<h1>").both(|u| u.plan_title).tag("</h1>");
    p.tag("<p class=\"copy-household\" data-testid=\"plan-household\">")
        .text(&held.household)
        .tag("</p><p>")
        .both(|u| u.plan_intro)
        .tag("</p>");
    p.section(|u| u.plan_steps, held.steps.is_empty());
    p.tag("<ol class=\"plan-steps\">");
    for step in &held.steps {
        p.open_with(
            "li",
            "plan-step",
            "data-done",
            if step.is_done() { "yes" } else { "no" },
        )
        .tag("<strong>")
        .text(&step.what)
        .tag("</strong>");
        if !step.how.is_empty() {
            p.tag("<br>").text(&step.how);
        }
        p.tag("<br>")
            .two(|l| step_words(step, words, l).join(" · "))
            .tag("</li>");
    }
    p.tag("</ol>");
    p.section(|u| u.plan_referrals, held.referrals.is_empty());
    p.tag("<ul>");
    for f in &held.referrals {
        p.tag("<li data-testid=\"plan-referral\">")
            .two(|l| {
                let (service, state) = referral_words(f, words, l);
                format!("{service}: {state}")
            })
            .tag("</li>");
    }
    p.tag("</ul>");
    p.tag("<h2>").both(|u| u.plan_contact).tag("</h2>");
    p.tag("<p data-testid=\"plan-worker\">")
        .two(|l| ui(l).plan_worker.replace("{name}", words.worker))
        .tag("</p><p data-testid=\"plan-next-visit\">")
        .two(|l| next_visit(held, ui(l), l))
        .tag("</p><p class=\"small\">")
        .two(|l| ui(l).plan_as_of.replace("{date}", &today().written(l)))
        .tag("</p>");
    p.out
}

fn next_visit(held: &Held, u: &Ui, l: Lang) -> String {
    match held.next_visit {
        Some(d) => u.plan_next_visit.replace("{date}", &d.written(l)),
        None => u.plan_no_next_visit.to_owned(),
    }
}

/// The plan as plain text in the family's language, to share.
fn plan_text(held: &Held, words: &Words<'_>, l: Lang) -> String {
    let u = ui(l);
    let mut out = format!("{}: {}\n", u.plan_title, held.household);
    out.push_str(&format!("\n{}\n", u.plan_steps));
    if held.steps.is_empty() {
        out.push_str(&format!("{}\n", u.copy_none));
    }
    for (n, step) in held.steps.iter().enumerate() {
        out.push_str(&format!("{}. {}", n + 1, step.what));
        if !step.how.is_empty() {
            out.push_str(&format!(" ({})", step.how));
        }
        out.push_str(&format!(" – {}\n", step_words(step, words, l).join(" · ")));
    }
    if !held.referrals.is_empty() {
        out.push_str(&format!("\n{}\n", u.plan_referrals));
        for f in &held.referrals {
            let (service, state) = referral_words(f, words, l);
            out.push_str(&format!("- {service}: {state}\n"));
        }
    }
    out.push_str(&format!(
        "\n{}\n{}\n",
        u.plan_worker.replace("{name}", words.worker),
        next_visit(held, u, l)
    ));
    out
}

/// Whether this browser has a share sheet (`navigator.share`: phones, not most desktops).
fn share_available() -> bool {
    web_sys::window().is_some_and(|w| {
        js_sys::Reflect::get(&w.navigator(), &"share".into()).is_ok_and(|f| f.is_function())
    })
}

/// Hands `text` to the phone's share sheet (a messenger, mail, …), chosen by the worker.
fn share(text: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator = window.navigator();
    let Ok(f) = js_sys::Reflect::get(&navigator, &"share".into()) else {
        return;
    };
    let Ok(f) = f.dyn_into::<js_sys::Function>() else {
        return;
    };
    let data = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&data, &"text".into(), &text.into());
    // The promise is refused when the worker closes the sheet: nothing to do then.
    if let Ok(promise) = f.call1(&navigator, &data)
        && let Ok(promise) = promise.dyn_into::<js_sys::Promise>()
    {
        leptos::task::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
}
