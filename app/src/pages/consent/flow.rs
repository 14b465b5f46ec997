//! Taking a consent: one decision per screen, in the family's language.

use cris_core::Lang;
use cris_core::consent::{Consent as Signed, IdentityCheck, Record, Signature, Signer, SignerRole};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use super::choices::{choices, choices_view};
use super::pad::SignaturePad;
use super::state::{Hold, NOTICE, PURPOSES, RELEASES, ReleaseChoice, SIGN, STEPS, Taking, Until};
use super::{FamilyLang, SaveError, Setup, load_setup, problem_text, save, sections, witness};

use crate::clock::{new_id, today};
use crate::form_view::{storage_error_view, storage_message};
use crate::i18n::{Ui, ui, use_i18n};
use crate::pages::case_id;
use crate::storage::{self, ConsentDraft, StorageError};

/// The texts, and the consent begun for this household and not yet saved.
async fn load(case_id: String) -> Result<Option<(Setup, Option<ConsentDraft>)>, StorageError> {
    let Some(setup) = load_setup().await? else {
        return Ok(None);
    };
    let draft = storage::shared().await?.consent_draft(&case_id).await?;
    Ok(Some((setup, draft)))
}

/// `/cases/:id/consent`: a new consent for the household.
#[component]
pub fn Consent() -> impl IntoView {
    let i18n = use_i18n();
    let id = case_id();
    let setup = LocalResource::new(move || load(id.get()));
    view! {
        <section class="page consent">
            <Suspense fallback=move || view! { <p class="notice">{i18n.t(|u| u.case_loading)}</p> }>
                {move || {
                    setup
                        .get()
                        .map(|loaded| match loaded {
                            Ok(Some((setup, draft))) => flow(setup, id.get_untracked(), draft).into_any(),
                            Ok(None) => view! {
                                <h1>{i18n.t(|u| u.consent_title)}</h1>
                                <p class="notice" data-testid="consent-setup-missing">
                                    {i18n.t(|u| u.consent_setup_missing)}
                                </p>
                                <A href=move || format!("/cases/{}", id.get()) attr:class="back">
                                    {i18n.t(|u| u.case_title)}
                                </A>
                            }
                            .into_any(),
                            Err(e) => storage_error_view(i18n, &e).into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}

fn flow(setup: Setup, case_id: String, draft: Option<ConsentDraft>) -> impl IntoView {
    let i18n = use_i18n();
    // Where the family left off; else from the start, in the worker's language.
    let taking = draft.as_ref().map_or_else(
        || Taking::new(&case_id, i18n.lang.get_untracked()),
        Taking::from_draft,
    );
    let begun = RwSignal::new(taking.begun());
    let state = RwSignal::new(taking);
    // The pad keeps the strokes in a signal of its own.
    let signature = RwSignal::new(draft.map(|d| d.signature).unwrap_or_default());
    let lang = Memo::new(move |_| state.with(|s| s.lang));
    let step = Memo::new(move |_| state.with(|s| s.step));
    let t = move |pick: fn(&Ui) -> &'static str| move || pick(ui(lang.get()));
    // Set by "discard": the reset that follows is no new beginning.
    let reset = StoredValue::new(false);

    // Every change is kept at once: a call or another app must not lose a half-signed consent.
    Effect::new(move |previous: Option<ConsentDraft>| {
        let now = state.with(|s| s.to_draft(signature.get()));
        if reset.get_value() {
            reset.set_value(false);
        } else if previous.as_ref().is_some_and(|p| *p != now) {
            begun.set(true);
        }
        if begun.get_untracked() {
            let keep = now.clone();
            leptos::task::spawn_local(async move {
                if let Ok(db) = storage::shared().await
                    && let Err(e) = db.put_consent_draft(&keep).await
                {
                    leptos::logging::warn!("the consent draft was not kept: {e}");
                }
            });
        }
        now
    });
    let discard = move |_| {
        if !window()
            .confirm_with_message(ui(lang.get_untracked()).confirm_discard)
            .unwrap_or(false)
        {
            return;
        }
        let case = state.with_untracked(|s| s.case_id.clone());
        leptos::task::spawn_local(async move {
            if let Ok(db) = storage::shared().await {
                let _ = db.delete_consent_draft(&case).await;
            }
        });
        reset.set_value(true);
        begun.set(false);
        state.update(Taking::discard);
        signature.set(Signature::default());
    };
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let setup = StoredValue::new(setup);
    let navigate = use_navigate();
    let sync = crate::sync::use_sync();

    // Every screen starts at its top, its heading focused for screen readers.
    Effect::new(move |_| {
        step.track();
        request_animation_frame(|| {
            if let Some(h) = document()
                .query_selector(".consent-step h2")
                .ok()
                .flatten()
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
            {
                h.scroll_into_view();
                let _ = h.focus();
            }
        });
    });

    let next = move |_| {
        problem.set(None);
        let mut held = None;
        state.update(|s| held = s.next(today()).err());
        if let Some(Hold::ReleaseIncomplete) = held {
            problem.set(Some(ui(lang.get_untracked()).release_incomplete.to_owned()));
        }
    };
    let back = move |_| {
        problem.set(None);
        state.update(Taking::back);
    };

    let submit = move |_| {
        if busy.get_untracked() {
            return;
        }
        problem.set(None);
        let lang_now = lang.get_untracked();
        let taking = state.get_untracked();
        let Some(check) = taking.identity else {
            problem.set(Some(format!(
                "{}: {}",
                i18n.t(|u| u.identity_check)(),
                i18n.t(|u| u.required)()
            )));
            return;
        };
        // The pad first: it is what the family does first on this screen.
        if let Some(p) = signature.with_untracked(Signature::problem) {
            problem.set(Some(problem_text(&p, lang_now)));
            return;
        }
        let setup = setup.get_value();
        let (notice, text) = match (
            setup.notice.shown(lang_now, &setup.agency),
            setup.consent.shown(lang_now, &setup.agency),
        ) {
            (Ok(n), Ok(t)) => (n, t),
            (Err(e), _) | (_, Err(e)) => {
                problem.set(Some(e.to_string()));
                return;
            }
        };
        let (witness_login, witness_name) = witness();
        let consent = Signed {
            id: new_id(),
            case_id: taking.case_id.clone(),
            notice,
            text,
            purposes: taking.agreed(&setup.consent),
            releases: taking.releases_of(&setup.consent),
            signer: Signer {
                name: taking.signer.trim().to_owned(),
                role: taking.role,
            },
            signature: signature.get_untracked(),
            witness: witness_login,
            witness_name,
            interpreter: Some(taking.interpreter.trim().to_owned()).filter(|s| !s.is_empty()),
            identity_check: check,
            signed_at_ms: 0,
            device: String::new(),
            hlc: cris_core::hlc::Hlc {
                wall_ms: 0,
                counter: 0,
                device: String::new(),
            },
            binding: String::new(),
        };
        let (id, case) = (consent.id.clone(), consent.case_id.clone());
        let navigate = navigate.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match save(vec![Record::Consent(Box::new(consent))], Some(&case), sync).await {
                Ok(()) => navigate(
                    &format!("/cases/{case}/consent/{id}?saved"),
                    Default::default(),
                ),
                Err(SaveError::Problem(p)) => problem.set(Some(problem_text(&p, lang_now))),
                Err(SaveError::Storage(e)) => problem.set(Some(storage_message(i18n, &e))),
            }
            busy.set(false);
        });
    };

    let screen = move || {
        let setup = setup.get_value();
        let l = lang.get();
        match step.get() {
            NOTICE => notice_step(&setup, l).into_any(),
            PURPOSES => purposes_step(&setup, l, state).into_any(),
            RELEASES => releases_step(&setup, l, state).into_any(),
            _ => sign_step(&setup, l, state, signature).into_any(),
        }
    };

    let back_to_case = format!("/cases/{}", state.with_untracked(|s| s.case_id.clone()));
    // Everything here speaks the family's language; the worker's own fields are set apart on
    // the signature screen.
    view! {
        <h1 lang=move || lang.get().code()>{t(|u| u.consent_title)}</h1>
        <FamilyLang id="consent-lang" lang=lang choose=Callback::new(move |l| state.update(|s| s.lang = l))/>
        <p class="hint" data-testid="consent-step">
            {move || t(|u| u.consent_step)()
                .replace("{n}", &(step.get() + 1).to_string())
                .replace("{total}", &STEPS.to_string())}
        </p>
        <Show when=move || setup.with_value(|s| s.consent.binding_lang) != lang.get()>
            <p class="hint">{t(|u| u.consent_binding_lang)}</p>
        </Show>
        <div class="consent-step" lang=move || lang.get().code()>{screen}</div>
        <p class="problems" role="alert" data-testid="consent-problem" hidden=move || problem.with(Option::is_none)>
            {move || problem.get()}
        </p>
        <div class="actions" lang=move || lang.get().code()>
            <Show when=move || begun.get()>
                <button type="button" class="btn btn-quiet" data-testid="consent-discard" on:click=discard>
                    {t(|u| u.discard_draft)}
                </button>
            </Show>
            <Show when=move || { step.get() > NOTICE }>
                <button type="button" class="btn" data-testid="consent-back" on:click=back>
                    {t(|u| u.consent_back)}
                </button>
            </Show>
            <Show
                when=move || { step.get() < SIGN }
                fallback=move || {
                    let submit = submit.clone();
                    view! {
                        <button
                            type="button"
                            class="btn btn-primary"
                            data-testid="consent-save"
                            disabled=move || busy.get()
                            on:click=submit
                        >
                            {t(|u| u.consent_save)}
                        </button>
                    }
                }
            >
                <button type="button" class="btn btn-primary" data-testid="consent-next" on:click=next>
                    {t(|u| u.consent_next)}
                </button>
            </Show>
        </div>
        <A href=back_to_case attr:class="back" attr:lang=move || lang.get().code()>
            {t(|u| u.case_title)}
        </A>
    }
}

fn notice_step(setup: &Setup, lang: Lang) -> impl IntoView + use<> {
    let text = &setup.notice;
    let sections = sections(setup, text, lang);
    view! {
        <h2 tabindex="-1" data-testid="notice-title">{setup.fill(&text.title, lang)}</h2>
        {sections}
    }
}

fn purposes_step(setup: &Setup, lang: Lang, state: RwSignal<Taking>) -> impl IntoView + use<> {
    let text = &setup.consent;
    let sections = sections(setup, text, lang);
    let items = text
        .purposes
        .iter()
        .map(|p| {
            let id = p.id.clone();
            let checked = {
                let id = id.clone();
                move || state.with(|s| s.purposes.contains(&id))
            };
            let on_change = {
                let id = id.clone();
                move |ev| {
                    let on = event_target_checked(&ev);
                    state.update(|s| s.tick_purpose(&id, on));
                }
            };
            let body = p.body.as_ref().map(|b| setup.fill(b, lang));
            view! {
                <label class="choice consent-choice">
                    <input autocomplete="off" type="checkbox" data-purpose=id prop:checked=checked on:change=on_change/>
                    <span>
                        <strong>{setup.fill(&p.title, lang)}</strong>
                        <span class="consent-words">{body}</span>
                    </span>
                </label>
            }
        })
        .collect_view();
    view! {
        <h2 tabindex="-1">{setup.fill(&text.title, lang)}</h2>
        {sections}
        <h3>{ui(lang).consent_purposes_title}</h3>
        <p class="hint">{ui(lang).consent_purposes_hint}</p>
        {items}
    }
}

fn releases_step(setup: &Setup, lang: Lang, state: RwSignal<Taking>) -> impl IntoView + use<> {
    let u = ui(lang);
    let text = setup.consent.clone();
    let recipients = text
        .recipients
        .iter()
        .map(|r| {
            let id = r.id.clone();
            let on = {
                let id = id.clone();
                Memo::new(move |_| state.with(|s| s.releases.contains_key(&id)))
            };
            let toggle = {
                let id = id.clone();
                move |ev| {
                    let checked = event_target_checked(&ev);
                    state.update(|s| s.release(&id, checked));
                }
            };
            let edit = {
                let id = id.clone();
                move |f: &dyn Fn(&mut ReleaseChoice)| state.update(|s| s.edit_release(&id, f))
            };
            let choice = {
                let id = id.clone();
                move || state.with(|s| s.releases.get(&id).cloned())
            };
            let records = text
                .records
                .iter()
                .map(|k| {
                    let kind = k.id.clone();
                    let recipient = id.clone();
                    let choice = choice.clone();
                    let checked = {
                        let kind = kind.clone();
                        move || choice().is_some_and(|c| c.records.contains(&kind))
                    };
                    view! {
                        <label class="choice">
                            <input
                                autocomplete="off"
                                type="checkbox"
                                data-record=kind.clone()
                                prop:checked=checked
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    state.update(|s| s.tick_record(&recipient, &kind, on));
                                }
                            />
                            <span>{setup.fill(&k.title, lang)}</span>
                        </label>
                    }
                })
                .collect_view();
            let purpose_options = text
                .purposes
                .iter()
                .map(|p| view! { <option value=p.id.clone()>{setup.fill(&p.title, lang)}</option> })
                .collect_view();
            let durations = [
                (Until::Once, u.duration_once, "once"),
                (Until::Date, u.duration_until, "until"),
                (Until::Withdrawn, u.duration_recurring, "recurring"),
            ]
            .into_iter()
            .map(|(until, label, code)| {
                let edit = edit.clone();
                let choice = choice.clone();
                view! {
                    <label class="choice">
                        <input
                            autocomplete="off"
                            type="radio"
                            name=format!("duration-{id}")
                            data-duration=code
                            prop:checked=move || choice().is_some_and(|c| c.until == until)
                            on:change=move |_| edit(&|c| c.until = until)
                        />
                        <span>{label}</span>
                    </label>
                }
            })
            .collect_view();
            let edit_purpose = edit.clone();
            let edit_date = edit.clone();
            let choice_purpose = choice.clone();
            let choice_date = choice.clone();
            let dated = move || choice().is_some_and(|c| c.until == Until::Date);
            view! {
                <fieldset class="group release" data-recipient=id.clone()>
                    <label class="choice">
                        <input autocomplete="off" type="checkbox" data-release=id.clone() prop:checked=move || on.get() on:change=toggle/>
                        <strong>{setup.fill(&r.title, lang)}</strong>
                    </label>
                    <div class="release-details" hidden=move || !on.get()>
                        <div class="field">
                            <span class="label">{u.release_records}</span>
                            {records}
                        </div>
                        <div class="field">
                            <label for=format!("purpose-{id}")>{u.release_purpose}</label>
                            <select
                                autocomplete="off"
                                id=format!("purpose-{id}")
                                data-release-purpose=id.clone()
                                prop:value={
                                    let choice_purpose = choice_purpose.clone();
                                    move || choice_purpose().map(|c| c.purpose).unwrap_or_default()
                                }
                                on:change={
                                    let edit_purpose = edit_purpose.clone();
                                    move |ev| {
                                        let v = event_target_value(&ev);
                                        edit_purpose(&move |c| c.purpose = v.clone());
                                    }
                                }
                            >
                                <option value="">"—"</option>
                                {purpose_options}
                            </select>
                        </div>
                        <fieldset class="field">
                            <legend>{u.release_duration}</legend>
                            {durations}
                                <input
                                    autocomplete="off"
                                    hidden=move || !dated()
                                    type="date"
                                    data-release-until=id.clone()
                                    aria-label=u.duration_until
                                    prop:value={
                                        let choice_date = choice_date.clone();
                                        move || choice_date().map(|c| c.date).unwrap_or_default()
                                    }
                                    on:change={
                                        let edit_date = edit_date.clone();
                                        move |ev| {
                                            let v = event_target_value(&ev);
                                            edit_date(&move |c| c.date = v.clone());
                                        }
                                    }
                                />
                        </fieldset>
                    </div>
                </fieldset>
            }
        })
        .collect_view();
    view! {
        <h2 tabindex="-1">{u.consent_releases_title}</h2>
        <p class="hint">{u.consent_releases_hint}</p>
        {recipients}
    }
}

fn sign_step(
    setup: &Setup,
    lang: Lang,
    state: RwSignal<Taking>,
    signature: RwSignal<Signature>,
) -> impl IntoView + use<> {
    let i18n = use_i18n();
    let u = ui(lang);
    // What they are about to sign, once more, in the words of the family's copy.
    let (chosen, released) =
        state.with_untracked(|s| (s.agreed(&setup.consent), s.releases_of(&setup.consent)));
    let (agreed, released) = choices(Some(setup), true, lang, &chosen, &released);
    let summary = choices_view(lang, agreed, released);
    let roles = [
        (SignerRole::Themselves, u.role_themselves, "themselves"),
        (SignerRole::Parent, u.role_parent, "parent"),
        (SignerRole::Guardian, u.role_guardian, "guardian"),
    ]
    .into_iter()
    .map(|(r, label, code)| {
        view! {
            <label class="choice">
                <input
                    autocomplete="off"
                    type="radio"
                    name="signer-role"
                    data-role=code
                    prop:checked=move || state.with(|s| s.role) == r
                    on:change=move |_| state.update(|s| s.role = r)
                />
                <span>{label}</span>
            </label>
        }
    })
    .collect_view();
    let checks = [
        (IdentityCheck::IdCard, i18n.t(|u| u.id_card), "id_card"),
        (IdentityCheck::Passport, i18n.t(|u| u.passport), "passport"),
        (
            IdentityCheck::ResidencePermit,
            i18n.t(|u| u.residence_permit),
            "residence_permit",
        ),
        (
            IdentityCheck::KnownToWorker,
            i18n.t(|u| u.known_to_worker),
            "known_to_worker",
        ),
    ];
    let options = checks
        .into_iter()
        .map(|(_, label, code)| view! { <option value=code>{label}</option> })
        .collect_view();
    view! {
        <h2 tabindex="-1">{u.signature_title}</h2>
        <div class="consent-summary" data-testid="consent-summary">{summary}</div>
        <SignaturePad
            signature=signature
            label=Signal::derive(move || u.sign_here.to_owned())
            clear_label=Signal::derive(move || u.signature_clear.to_owned())
        />
        <div class="field">
            <label for="signer-name">{u.signer_name}</label>
            <input
                id="signer-name"
                data-testid="signer-name"
                autocomplete="off"
                prop:value=move || state.with(|s| s.signer.clone())
                on:input=move |ev| state.update(|s| s.signer = event_target_value(&ev))
            />
        </div>
        <fieldset class="field">
            <legend>{u.signer_role}</legend>
            {roles}
        </fieldset>
        // The worker's part, in the worker's language, set apart from the family's.
        <div class="worker-part" lang=move || i18n.lang.get().code()>
            <h3>{i18n.t(|u| u.worker_part)}</h3>
            <div class="field">
                <label for="interpreter">{i18n.t(|u| u.interpreter)}</label>
                <input
                    id="interpreter"
                    data-testid="interpreter"
                    autocomplete="off"
                    prop:value=move || state.with(|s| s.interpreter.clone())
                    on:input=move |ev| state.update(|s| s.interpreter = event_target_value(&ev))
                />
            </div>
            <div class="field">
                <label for="identity-check">{i18n.t(|u| u.identity_check)}</label>
                <select
                    autocomplete="off"
                    id="identity-check"
                    data-testid="identity-check"
                    prop:value=move || {
                        let now = state.with(|s| s.identity);
                        checks.iter().find(|(k, _, _)| Some(*k) == now).map_or("", |(_, _, code)| *code)
                    }
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        let check = checks.iter().find(|(_, _, code)| *code == v).map(|(k, _, _)| *k);
                        state.update(|s| s.identity = check);
                    }
                >
                    <option value="">"—"</option>
                    {options}
                </select>
            </div>
            <p class="hint" data-testid="witness">
                {move || {
                    let (login, name) = witness();
                    let who = name.map_or_else(|| login.clone(), |n| format!("{n} ({login})"));
                    i18n.t(|u| u.witness)().replace("{name}", &who)
                }}
            </p>
        </div>
    }
}
