//! Withdrawing a consent, completely or in part: a record of its own, signed by the family on
//! the phone or attested by the worker (told by phone or letter). The consent stays as signed.

use std::collections::BTreeSet;

use cris_core::consent::{
    Consent, Given, Record, Scope, Signature, Signer, SignerRole, Withdrawal,
};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::pad::SignaturePad;
use super::{FamilyLang, SaveError, Setup, load_setup, problem_text, save, witness};
use crate::clock::new_id;
use crate::form_view::{storage_error_view, storage_message};
use crate::i18n::{Ui, ui, use_i18n};
use crate::storage::StorageError;

async fn load(
    case_id: String,
    id: String,
) -> Result<Option<(Consent, Option<Setup>)>, StorageError> {
    Ok(match super::consent_of(&case_id, &id).await? {
        Some(c) => Some((c, load_setup().await?)),
        None => None,
    })
}

/// `/cases/:id/withdraw/:consent`.
#[component]
pub fn Withdraw() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let case_id = move || params.read().get("id").unwrap_or_default();
    let id = move || params.read().get("consent").unwrap_or_default();
    let loaded = LocalResource::new(move || load(case_id(), id()));
    view! {
        <section class="page">
            <Suspense fallback=move || view! { <p class="notice">{i18n.t(|u| u.case_loading)}</p> }>
                {move || {
                    loaded.get().map(|l| match l {
                        Ok(Some((consent, setup))) => form(consent, setup).into_any(),
                        Ok(None) => view! {
                            <p class="notice">{i18n.t(|u| u.case_not_found)}</p>
                            <A href=format!("/cases/{}", case_id()) attr:class="back">{i18n.t(|u| u.case_title)}</A>
                        }
                        .into_any(),
                        Err(e) => storage_error_view(i18n, &e).into_any(),
                    })
                }}
            </Suspense>
        </section>
    }
}

/// The family's part speaks the family's language (at first the one they signed the consent
/// in); how the worker learnt of a withdrawal told by phone or letter is the worker's, set
/// apart in the worker's language.
fn form(consent: Consent, setup: Option<Setup>) -> impl IntoView {
    let i18n = use_i18n();
    let lang = RwSignal::new(consent.text.lang);
    let t = move |pick: fn(&Ui) -> &'static str| move || pick(ui(lang.get()));
    let all = RwSignal::new(false);
    let purposes = RwSignal::new(BTreeSet::<String>::new());
    let recipients = RwSignal::new(BTreeSet::<String>::new());
    let signed = RwSignal::new(true);
    let signature = RwSignal::new(Signature::default());
    let signer = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let sync = crate::sync::use_sync();
    let setup = StoredValue::new(setup);
    let title = move |id: &str| {
        setup.with_value(|s| {
            s.as_ref()
                .map_or_else(|| id.to_owned(), |s| s.item_title(id, lang.get()))
        })
    };
    let choice = |set: RwSignal<BTreeSet<String>>, id: String, attr: &'static str| {
        let label = {
            let id = id.clone();
            move || title(&id)
        };
        let checked = {
            let id = id.clone();
            move || set.with(|s| s.contains(&id))
        };
        let id2 = id.clone();
        view! {
            <label class="choice">
                <input
                    autocomplete="off"
                    type="checkbox"
                    data-withdraw=attr
                    data-id=id
                    prop:checked=checked
                    disabled=move || all.get()
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        set.update(|s| {
                            if on {
                                s.insert(id2.clone());
                            } else {
                                s.remove(&id2);
                            }
                        });
                    }
                />
                <span>{label}</span>
            </label>
        }
    };
    let purpose_choices = consent
        .purposes
        .iter()
        .map(|p| choice(purposes, p.clone(), "purpose"))
        .collect_view();
    let recipient_choices = consent
        .releases
        .iter()
        .map(|r| choice(recipients, r.recipient.clone(), "recipient"))
        .collect_view();
    let consent = StoredValue::new(consent);
    let submit = move |_| {
        if busy.get_untracked() {
            return;
        }
        problem.set(None);
        let c = consent.get_value();
        let mut scopes = Vec::new();
        if all.get_untracked() {
            scopes.push(Scope::All);
        } else {
            let p: Vec<String> = purposes.get_untracked().into_iter().collect();
            let r: Vec<String> = recipients.get_untracked().into_iter().collect();
            if !p.is_empty() {
                scopes.push(Scope::Purposes(p));
            }
            if !r.is_empty() {
                scopes.push(Scope::Recipients(r));
            }
        }
        if scopes.is_empty() {
            problem.set(Some(ui(lang.get_untracked()).withdraw_nothing.to_owned()));
            return;
        }
        let by_signature = signed.get_untracked();
        let given = if by_signature {
            Given::Signed {
                signer: Signer {
                    name: signer.get_untracked().trim().to_owned(),
                    role: SignerRole::Themselves,
                },
                signature: signature.get_untracked(),
            }
        } else {
            let note = note.get_untracked();
            if note.trim().is_empty() {
                problem.set(Some(i18n.t(|u| u.withdraw_note_missing)().to_owned()));
                return;
            }
            Given::Attested {
                note: note.trim().to_owned(),
            }
        };
        let (witness_login, witness_name) = witness();
        let records = scopes
            .into_iter()
            .map(|scope| {
                Record::Withdrawal(Box::new(Withdrawal {
                    id: new_id(),
                    case_id: c.case_id.clone(),
                    consent_id: c.id.clone(),
                    scope,
                    given: given.clone(),
                    witness: witness_login.clone(),
                    witness_name: witness_name.clone(),
                    // The language the family read it in, when they signed it here.
                    lang: by_signature.then(|| lang.get_untracked()),
                    at_ms: 0,
                    device: String::new(),
                    hlc: c.hlc.clone(),
                    binding: String::new(),
                }))
            })
            .collect();
        let navigate = navigate.clone();
        let case = c.case_id.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match save(records, None, sync).await {
                Ok(()) => navigate(&format!("/cases/{case}"), Default::default()),
                Err(SaveError::Problem(p)) => problem.set(Some(problem_text(
                    &p,
                    if by_signature {
                        lang.get_untracked()
                    } else {
                        i18n.lang.get_untracked()
                    },
                ))),
                Err(SaveError::Storage(e)) => problem.set(Some(storage_message(i18n, &e))),
            }
            busy.set(false);
        });
    };
    let case_id = consent.with_value(|c| c.case_id.clone());
    view! {
        <h1 lang=move || lang.get().code()>{t(|u| u.withdraw_title)}</h1>
        <FamilyLang id="withdraw-lang" lang=lang choose=Callback::new(move |l| lang.set(l))/>
        <div class="consent-step" lang=move || lang.get().code()>
            <fieldset class="field">
                <legend>{t(|u| u.withdraw_what)}</legend>
                <label class="choice">
                    <input
                        autocomplete="off"
                        type="checkbox"
                        data-withdraw="all"
                        prop:checked=move || all.get()
                        on:change=move |ev| all.set(event_target_checked(&ev))
                    />
                    <strong>{t(|u| u.withdraw_all)}</strong>
                </label>
                {purpose_choices}
                {recipient_choices}
            </fieldset>
            <p class="hint" data-testid="withdraw-effect">{t(|u| u.withdraw_effect)}</p>
        </div>
        // The worker's part, in the worker's language, set apart from the family's.
        <div class="worker-part" lang=move || i18n.lang.get().code()>
            <h3>{i18n.t(|u| u.worker_part)}</h3>
            <fieldset class="field">
                <legend>{i18n.t(|u| u.withdraw_how)}</legend>
                <label class="choice">
                    <input autocomplete="off" type="radio" name="given" data-given="signed" prop:checked=move || signed.get() on:change=move |_| signed.set(true)/>
                    <span>{i18n.t(|u| u.withdraw_signed)}</span>
                </label>
                <label class="choice">
                    <input autocomplete="off" type="radio" name="given" data-given="attested" prop:checked=move || !signed.get() on:change=move |_| signed.set(false)/>
                    <span>{i18n.t(|u| u.withdraw_attested)}</span>
                </label>
            </fieldset>
            <Show when=move || !signed.get()>
                <div class="field">
                    <label for="withdraw-note">{i18n.t(|u| u.withdraw_note)}</label>
                    <textarea
                        autocomplete="off"
                        id="withdraw-note"
                        data-testid="withdraw-note"
                        prop:value=move || note.get()
                        on:input=move |ev| note.set(event_target_value(&ev))
                    ></textarea>
                </div>
            </Show>
        </div>
        <Show when=move || signed.get()>
            <div class="consent-step" lang=move || lang.get().code()>
                <SignaturePad
                    signature=signature
                    label=Signal::derive(move || ui(lang.get()).sign_here.to_owned())
                    clear_label=Signal::derive(move || ui(lang.get()).signature_clear.to_owned())
                />
                <div class="field">
                    <label for="withdraw-signer">{t(|u| u.signer_name)}</label>
                    <input
                        id="withdraw-signer"
                        data-testid="withdraw-signer"
                        autocomplete="off"
                        prop:value=move || signer.get()
                        on:input=move |ev| signer.set(event_target_value(&ev))
                    />
                </div>
            </div>
        </Show>
        <p class="problems" role="alert" data-testid="withdraw-problem" hidden=move || problem.with(Option::is_none)>
            {move || problem.get()}
        </p>
        <div class="actions" lang=move || lang.get().code()>
            <button type="button" class="btn btn-primary" data-testid="withdraw-save" disabled=move || busy.get() on:click=submit>
                {t(|u| u.withdraw_save)}
            </button>
        </div>
        <A href=format!("/cases/{case_id}") attr:class="back" attr:lang=move || lang.get().code()>
            {t(|u| u.case_title)}
        </A>
    }
}
