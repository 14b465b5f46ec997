//! A household's referrals on its page: each service it was referred to, what was asked,
//! where it stands and when to follow it up; moving it on; and a new referral, checked
//! offline against the household's consents before it is sent (the server checks the same
//! rule when it arrives, and refuses with the reason what the consent does not carry).

use std::collections::HashMap;

use cris_core::Date;
use cris_core::consent::{Consent, Record, Withdrawal, release_for};
use cris_core::record::Change;
use cris_core::referral::{Followed, Referral, ReferralState, ReferralUpdate};
use cris_core::sync::{Detail, Reason};
use leptos::prelude::*;
use leptos_router::components::A;

use super::consent::{Setup, load_setup};
use crate::clock::{day, new_id, today};
use crate::form_view::storage_error_view;
use crate::i18n::{Ui, ui, use_i18n};
use crate::storage::{self, StorageError};
use crate::sync::use_sync;

/// Why the server refused an operation.
type Refusal = (Reason, Option<Detail>);

#[derive(Clone)]
struct Loaded {
    referrals: Vec<Followed>,
    consents: Vec<Consent>,
    withdrawals: Vec<Withdrawal>,
    setup: Option<Setup>,
    /// Referral id -> (its operation, and the refusal if the server refused it), for those
    /// not yet with the server.
    unsent: HashMap<String, (String, Option<Refusal>)>,
}

async fn load(case_id: String) -> Result<Loaded, StorageError> {
    let db = storage::shared().await?;
    let records = db.household_consents(&case_id).await?;
    let (consents, withdrawals) = Record::split(&records);
    let mut referrals: Vec<Followed> = db
        .case(&case_id)
        .await?
        .map(|c| c.referrals.into_values().collect())
        .unwrap_or_default();
    referrals.sort_by(|a, b| a.made.cmp(&b.made));
    let refused: HashMap<String, Refusal> = db
        .rejections()
        .await?
        .into_iter()
        .map(|r| (r.op_id, (r.reason, r.detail)))
        .collect();
    let unsent = db
        .outbox()
        .await?
        .into_iter()
        .filter_map(|op| match &op.change {
            Change::Refer { referral } if op.case_id == case_id => {
                let why = refused.get(&op.op_id).cloned();
                Some((referral.id.clone(), (op.op_id.clone(), why)))
            }
            _ => None,
        })
        .collect();
    Ok(Loaded {
        referrals,
        consents,
        withdrawals,
        setup: load_setup().await?,
        unsent,
    })
}

/// A state in the reader's words.
pub(super) fn state_word(u: &'static Ui, state: ReferralState) -> &'static str {
    match state {
        ReferralState::Sent => u.referral_sent,
        ReferralState::AppointmentMade => u.referral_appointment,
        ReferralState::Accepted => u.referral_accepted,
        ReferralState::Done => u.referral_done,
        ReferralState::Declined => u.referral_declined,
    }
}

/// Whether the `<details>` a toggle event came from is open now.
fn is_open(ev: &leptos::ev::Event) -> bool {
    ev.target()
        .and_then(|t| js_sys::Reflect::get(&t, &"open".into()).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Keeps `change` of the household in the outbox and syncs; `problem` gets what went wrong.
fn keep(
    sync: crate::sync::SyncState,
    case_id: String,
    change: Change,
    problem: RwSignal<Option<String>>,
) {
    leptos::task::spawn_local(async move {
        match super::merge::save_change(&case_id, |_| change).await {
            Ok(()) => {
                problem.set(None);
                sync.changed.update(|n| *n += 1);
                sync.request(false);
            }
            Err(e) => problem.set(Some(e.to_string())),
        }
    });
}

/// What the worker has typed into a form of the section: kept across the section's
/// readings (a sync while the worker types loses nothing).
#[derive(Clone, Copy)]
struct Typed {
    open: RwSignal<bool>,
    state: RwSignal<ReferralState>,
    note: RwSignal<String>,
    follow_up: RwSignal<String>,
}

impl Typed {
    fn new() -> Typed {
        Typed {
            open: RwSignal::new(false),
            state: RwSignal::new(ReferralState::AppointmentMade),
            note: RwSignal::new(String::new()),
            follow_up: RwSignal::new(Date::from_days(today().days() + 14).to_string()),
        }
    }
}

#[component]
pub fn Referrals(case_id: String) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let id = case_id.clone();
    // Read again after every sync, and when what waits or was refused changes.
    let loaded = LocalResource::new(move || {
        sync.changed.track();
        sync.waiting.track();
        sync.rejected.track();
        load(id.clone())
    });
    // The consent texts, read once: the form for a new referral stays as typed.
    let setup = LocalResource::new(load_setup);
    let movers: StoredValue<HashMap<String, Typed>> = StoredValue::new(HashMap::new());
    // Their signals belong to the section, not to one reading of it (disposed at the next).
    let owner = Owner::current().expect("a component has an owner");
    let list_case = case_id.clone();
    view! {
        <h2>{i18n.t(|u| u.referrals_title)}</h2>
        {move || match loaded.get() {
            None => ().into_any(),
            Some(Err(e)) => storage_error_view(i18n, &e).into_any(),
            Some(Ok(data)) => referrals_view(data, &list_case, movers, &owner),
        }}
        {move || match setup.get() {
            Some(Ok(Some(setup))) => new_referral(setup, loaded, case_id.clone()),
            Some(Ok(None)) => view! { <p class="hint">{i18n.t(|u| u.referral_no_texts)}</p> }.into_any(),
            _ => ().into_any(),
        }}
    }
}

fn referrals_view(
    data: Loaded,
    case_id: &str,
    movers: StoredValue<HashMap<String, Typed>>,
    owner: &Owner,
) -> AnyView {
    let i18n = use_i18n();
    let lang = i18n.lang.get_untracked();
    let title = {
        let setup = data.setup.clone();
        move |id: &str| {
            setup
                .as_ref()
                .map_or_else(|| id.to_owned(), |s| s.item_title(id, lang))
        }
    };
    let items = data
        .referrals
        .iter()
        .map(|f| {
            let typed = movers
                .try_update_value(|m| {
                    *m.entry(f.referral.id.clone())
                        .or_insert_with(|| owner.with(Typed::new))
                })
                .unwrap_or_else(|| owner.with(Typed::new));
            referral_view(f, &data, case_id, &title, typed)
        })
        .collect_view();
    view! { <ul class="submissions" data-testid="referrals">{items}</ul> }.into_any()
}

fn referral_view(
    f: &Followed,
    data: &Loaded,
    case_id: &str,
    title: &dyn Fn(&str) -> String,
    typed: Typed,
) -> AnyView {
    let i18n = use_i18n();
    let lang = i18n.lang.get_untracked();
    let u = ui(lang);
    let r = &f.referral;
    let state = f.state();
    let due = f.due(today());
    let follow_up = f
        .follow_up()
        .map(|d| u.referral_follow_up_on.replace("{date}", &day(d)));
    let unsent = data.unsent.get(&r.id).cloned();
    // Refused: the server does not know it, so it cannot be moved on before it is sent again.
    let refused = matches!(unsent, Some((_, Some(_))));
    let problem = RwSignal::new(None::<String>);
    let status = match unsent {
        None => None,
        Some((_, None)) => Some(
            view! { <span class="hint" data-sent="waiting">" · " {u.consent_waiting}</span> }
                .into_any(),
        ),
        Some((op_id, Some((reason, detail)))) => {
            let why = crate::refusal::word(lang, reason, detail.as_ref(), &|_| None);
            let no_consent = reason == Reason::NoConsent;
            let sync = use_sync();
            let retry = move |_| {
                let op_id = op_id.clone();
                leptos::task::spawn_local(async move {
                    if let Ok(db) = storage::shared().await
                        && db.retry_refused(&op_id, &new_id()).await.is_ok()
                    {
                        sync.changed.update(|n| *n += 1);
                        sync.request(false);
                    }
                });
            };
            Some(view! {
                <p class="problems" data-sent="refused" data-testid="referral-refused">{why}</p>
                <div class="actions">
                    {no_consent.then(|| view! {
                        <A href=format!("/cases/{case_id}/consent") attr:class="btn btn-small">{u.take_consent}</A>
                    })}
                    <button type="button" class="btn btn-small" data-testid="referral-retry" on:click=retry>
                        {u.referral_retry}
                    </button>
                </div>
            }.into_any())
        }
    };
    let mover = (!state.is_closed() && !refused)
        .then(|| move_view(case_id.to_owned(), r.id.clone(), problem, typed));
    // With the server: its letter while the consent carries it; once taken back (or run out),
    // an open referral says so, and no letter is offered.
    let letter = if data.unsent.contains_key(&r.id) {
        None
    } else {
        let release = release_for(
            &data.consents,
            &data.withdrawals,
            today(),
            &r.recipient,
            &r.purpose,
            &r.records,
        );
        match release {
            Ok(_) => Some(
                view! {
                    <A href=format!("/cases/{case_id}/referrals/{}/letter", r.id)
                        attr:class="btn btn-small" attr:data-testid="referral-letter">
                        {u.letter_open}
                    </A>
                }
                .into_any(),
            ),
            Err(why) if !state.is_closed() => {
                let why = crate::refusal::word(
                    lang,
                    Reason::NoConsent,
                    Some(&Detail::NoConsent { why }),
                    &|_| None,
                );
                Some(
                    view! {
                        <p class="problems" data-testid="referral-not-released">
                            {u.referral_not_released} " " {why}
                        </p>
                    }
                    .into_any(),
                )
            }
            Err(_) => None,
        }
    };
    view! {
        <li data-testid="referral" data-referral=r.id.clone() data-state=state.as_str()>
            <strong>{title(&r.recipient)}</strong> " · " {title(&r.purpose)}
            <br/>
            {r.asked.clone()}
            <br/>
            <span data-testid="referral-state">{state_word(u, state)}</span>
            {follow_up.map(|f| view! { " · " <span class:due=due>{f}</span> })}
            {status}
            {letter}
            {mover}
            <p class="error" role="alert" hidden=move || problem.with(Option::is_none)>{move || problem.get()}</p>
        </li>
    }
    .into_any()
}

/// Moving a referral on: its new state, a sentence (needed to close it), the next follow-up.
fn move_view(
    case_id: String,
    referral_id: String,
    problem: RwSignal<Option<String>>,
    typed: Typed,
) -> AnyView {
    let i18n = use_i18n();
    let u = ui(i18n.lang.get_untracked());
    let sync = use_sync();
    let Typed {
        open,
        state,
        note,
        follow_up,
    } = typed;
    let options = ReferralState::ALL
        .into_iter()
        .filter(|s| *s != ReferralState::Sent)
        .map(|s| view! { <option value=s.as_str()>{state_word(u, s)}</option> })
        .collect_view();
    let ready = move || !state.get().needs_note() || !note.with(|n| n.trim().is_empty());
    let save = move |_| {
        let s = state.get_untracked();
        let update = ReferralUpdate {
            referral_id: referral_id.clone(),
            state: s,
            note: note.get_untracked().trim().to_owned(),
            follow_up: follow_up
                .get_untracked()
                .parse()
                .ok()
                .filter(|_| !s.is_closed()),
        };
        keep(
            sync,
            case_id.clone(),
            Change::UpdateReferral { update },
            problem,
        );
        open.set(false);
        note.set(String::new());
    };
    view! {
        <details class="referral-move" prop:open=move || open.get() on:toggle=move |ev| open.set(is_open(&ev))>
            <summary data-testid="referral-move">{u.referral_move}</summary>
            <div class="field">
                <select data-testid="referral-new-state" prop:value=move || state.get().as_str() on:change=move |ev| {
                    if let Some(s) = ReferralState::parse(&event_target_value(&ev)) {
                        state.set(s);
                    }
                }>{options}</select>
            </div>
            <div class="field">
                <label>{u.referral_note}
                    <input type="text" data-testid="referral-note" maxlength="2000"
                        prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))/>
                </label>
            </div>
            <div class="field" hidden=move || state.get().is_closed()>
                <label>{u.referral_follow_up}
                    <input type="date" prop:value=move || follow_up.get() on:input=move |ev| follow_up.set(event_target_value(&ev))/>
                </label>
            </div>
            <button type="button" class="btn" data-testid="referral-save-state" disabled=move || !ready() on:click=save>
                {u.referral_save}
            </button>
        </details>
    }
    .into_any()
}

/// A new referral: the service, purpose and records the consent text offers, what is asked,
/// when to follow up; what the household's consents say of it, before it is kept.
fn new_referral(
    setup: Setup,
    loaded: LocalResource<Result<Loaded, StorageError>>,
    case_id: String,
) -> AnyView {
    let i18n = use_i18n();
    let lang = i18n.lang.get_untracked();
    let u = ui(lang);
    let text = setup.consent.clone();
    let recipient = RwSignal::new(String::new());
    let purpose = RwSignal::new(String::new());
    let records = RwSignal::new(Vec::<String>::new());
    let asked = RwSignal::new(String::new());
    let follow_up = RwSignal::new(Date::from_days(today().days() + 14).to_string());
    let problem = RwSignal::new(None::<String>);
    let open = RwSignal::new(false);
    let sync = use_sync();
    let options = |items: &[cris_core::consent::text::Item]| {
        items
            .iter()
            .map(|i| view! { <option value=i.id.clone()>{setup.fill(&i.title, lang)}</option> })
            .collect_view()
    };
    let recipients = options(&text.recipients);
    let purposes = options(&text.purposes);
    let boxes = text
        .records
        .iter()
        .map(|i| {
            let id = i.id.clone();
            view! {
                <label class="choice">
                    <input type="checkbox" data-testid="referral-record" value=id.clone() on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        records.update(|r| {
                            r.retain(|x| *x != id);
                            if on {
                                r.push(id.clone());
                            }
                        });
                    }/>
                    " " {setup.fill(&i.title, lang)}
                </label>
            }
        })
        .collect_view();
    // The same rule the server applies when the referral arrives, on what this phone holds.
    let verdict = move || {
        let (r, p) = (recipient.get(), purpose.get());
        if r.is_empty() || p.is_empty() || records.with(Vec::is_empty) {
            return None;
        }
        // Nothing said before the household's consents are read.
        let found = loaded.with(|l| match l {
            Some(Ok(data)) => Some(records.with(|kinds| {
                release_for(&data.consents, &data.withdrawals, today(), &r, &p, kinds)
            })),
            _ => None,
        })?;
        found.err().map(|why| {
            crate::refusal::word(
                lang,
                Reason::NoConsent,
                Some(&Detail::NoConsent { why }),
                &|_| None,
            )
        })
    };
    let complete = move || {
        !recipient.with(String::is_empty)
            && !purpose.with(String::is_empty)
            && !records.with(Vec::is_empty)
            && !asked.with(|a| a.trim().is_empty())
    };
    let id = case_id.clone();
    let save = move |_| {
        let referral = Referral {
            id: new_id(),
            recipient: recipient.get_untracked(),
            purpose: purpose.get_untracked(),
            records: records.get_untracked(),
            asked: asked.get_untracked().trim().to_owned(),
            follow_up: follow_up.get_untracked().parse().ok(),
        };
        keep(sync, id.clone(), Change::Refer { referral }, problem);
        asked.set(String::new());
        open.set(false);
    };
    view! {
        <details class="referral-new" prop:open=move || open.get() on:toggle=move |ev| open.set(is_open(&ev))>
            <summary class="btn" data-testid="referral-new">{u.referral_new}</summary>
            <div class="field">
                <label>{u.referral_service}
                    <select data-testid="referral-recipient" on:change=move |ev| recipient.set(event_target_value(&ev))>
                        <option value="">"—"</option>
                        {recipients}
                    </select>
                </label>
            </div>
            <div class="field">
                <label>{u.referral_purpose}
                    <select data-testid="referral-purpose" on:change=move |ev| purpose.set(event_target_value(&ev))>
                        <option value="">"—"</option>
                        {purposes}
                    </select>
                </label>
            </div>
            <fieldset class="field">
                <legend>{u.referral_records}</legend>
                {boxes}
            </fieldset>
            <div class="field">
                <label for="referral-asked">{u.referral_asked}</label>
                <textarea id="referral-asked" data-testid="referral-asked" maxlength="2000"
                    prop:value=move || asked.get() on:input=move |ev| asked.set(event_target_value(&ev))></textarea>
            </div>
            <div class="field">
                <label>{u.referral_follow_up}
                    <input type="date" prop:value=move || follow_up.get() on:input=move |ev| follow_up.set(event_target_value(&ev))/>
                </label>
            </div>
            {move || verdict().map(|why| view! {
                <div class="banner" role="status" data-testid="referral-no-consent">
                    <p>{why}</p>
                    <A href=format!("/cases/{case_id}/consent") attr:class="btn btn-small">{u.take_consent}</A>
                </div>
            })}
            <p class="error" role="alert" hidden=move || problem.with(Option::is_none)>{move || problem.get()}</p>
            <button type="button" class="btn btn-primary" data-testid="referral-send" disabled=move || !complete() on:click=save>
                {u.referral_send}
            </button>
        </details>
    }
    .into_any()
}
