//! The family's copy of a consent: the text they agreed to in their language, their choices
//! and their signature, ready to print (or to save as PDF from the print dialog).

use cris_core::Lang;
use cris_core::consent::text::ConsentText;
use cris_core::consent::{Consent, IdentityCheck, Sealed, SignerRole};
use cris_core::sync::{Detail, Reason};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::choices::{choices, choices_text, choices_view};
use super::{Setup, load_setup, sections, witness_words};
use crate::clock::date_time_in;
use crate::form_view::storage_error_view;
use crate::i18n::{ui, use_i18n};
use crate::storage::{self, StorageError};

/// Whether the server has a record yet.
#[derive(Clone, Debug, PartialEq)]
pub enum Sent {
    Yes,
    Waiting,
    /// Refused, and why (worded with [`Sent::refusal`]).
    Refused(Reason, Option<Detail>),
}

impl Sent {
    /// Why the server refused it, in the worker's words in `lang`.
    pub fn refusal(reason: Reason, detail: Option<&Detail>, lang: cris_core::Lang) -> String {
        crate::refusal::word(lang, reason, detail, &|_| None)
    }
}

/// Where each record of the phone stands: not yet sent, refused (with the server's message),
/// or with the server.
pub async fn sent_states() -> Result<std::collections::HashMap<String, Sent>, StorageError> {
    let db = storage::shared().await?;
    let refused: std::collections::HashMap<String, (Reason, Option<Detail>)> = db
        .rejections()
        .await?
        .into_iter()
        .map(|r| (r.op_id, (r.reason, r.detail)))
        .collect();
    Ok(db
        .outbox()
        .await?
        .into_iter()
        .map(|op| {
            let state = match refused.get(&op.op_id) {
                Some((reason, detail)) => Sent::Refused(*reason, detail.clone()),
                None => Sent::Waiting,
            };
            (op.record_id().to_owned(), state)
        })
        .collect())
}

#[derive(Clone)]
struct Loaded {
    consent: Consent,
    setup: Option<Setup>,
    sent: Sent,
}

async fn load(case_id: String, id: String) -> Result<Option<Loaded>, StorageError> {
    let consent = super::consent_of(&case_id, &id).await?;
    let Some(consent) = consent else {
        return Ok(None);
    };
    let sent = sent_states().await?.remove(&id).unwrap_or(Sent::Yes);
    Ok(Some(Loaded {
        consent,
        setup: load_setup().await?,
        sent,
    }))
}

/// `/cases/:id/consent/:consent`.
#[component]
pub fn Receipt() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let case_id = move || params.read().get("id").unwrap_or_default();
    let id = move || params.read().get("consent").unwrap_or_default();
    let saved = Memo::new({
        let query = use_query_map();
        move |_| query.read().get("saved").is_some()
    });
    let loaded = LocalResource::new(move || load(case_id(), id()));
    view! {
        <section class="page receipt">
            <Suspense fallback=move || view! { <p class="notice">{i18n.t(|u| u.case_loading)}</p> }>
                {move || {
                    loaded
                        .get()
                        .map(|l| match l {
                            Ok(Some(data)) => receipt(data, saved.get_untracked()).into_any(),
                            Ok(None) => view! {
                                <p class="notice" data-testid="consent-not-found">{i18n.t(|u| u.case_not_found)}</p>
                                <A href=format!("/cases/{}", case_id()) attr:class="back no-print">
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

/// The copy in the family's language (the language they read the consent in), everything on
/// it; only a refusal by the server, which is the worker's to deal with, is in the worker's
/// language, set apart and not printed.
fn receipt(data: Loaded, saved: bool) -> impl IntoView {
    let i18n = use_i18n();
    let Loaded {
        consent,
        setup,
        sent,
    } = data;
    let lang = consent.text.lang;
    let u = ui(lang);
    // The words exactly as shown, when this phone still has that version and it renders to
    // the same SHA-256; otherwise the choices and the signature alone, with the reason.
    let same_texts = setup.as_ref().is_some_and(|s| {
        let same = |t: &ConsentText, shown: &cris_core::consent::ShownText| {
            t.version == shown.version
                && t.shown(shown.lang, &s.agency)
                    .is_ok_and(|again| again.sha256 == shown.sha256)
        };
        same(&s.consent, &consent.text) && same(&s.notice, &consent.notice)
    });
    let shown = setup.as_ref().filter(|_| same_texts);
    let (agreed, released) = choices(
        setup.as_ref(),
        same_texts,
        lang,
        &consent.purposes,
        &consent.releases,
    );
    let role = match consent.signer.role {
        SignerRole::Themselves => u.role_themselves,
        SignerRole::Parent => u.role_parent,
        SignerRole::Guardian => u.role_guardian,
    };
    let identity = match consent.identity_check {
        IdentityCheck::IdCard => u.id_card,
        IdentityCheck::Passport => u.passport,
        IdentityCheck::ResidencePermit => u.residence_permit,
        IdentityCheck::KnownToWorker => u.known_to_worker,
    };
    let signed = u
        .receipt_signed
        .replace("{time}", &date_time_in(consent.signed_at_ms as f64, lang))
        .replace("{name}", &consent.signer.name);
    let witness = witness_words(
        &consent.witness,
        consent.witness_name.as_deref(),
        setup.as_ref(),
        lang,
    );
    let intact = consent.verify();
    let status = match sent {
        Sent::Yes => None,
        Sent::Waiting => Some(
            view! { <p class="note" lang=lang.code() data-testid="consent-waiting">{u.consent_waiting}</p> }
                .into_any(),
        ),
        Sent::Refused(reason, detail) => Some(
            view! {
                <div class="worker-part no-print" lang=move || i18n.lang.get().code()>
                    <p class="problems" data-testid="consent-refused">
                        {i18n.t(|u| u.consent_refused)} " "
                        {move || Sent::refusal(reason, detail.as_ref(), i18n.lang.get())}
                    </p>
                </div>
            }
            .into_any(),
        ),
    };
    // What the share sheet passes on (to a messenger, mail or files): the words agreed to,
    // the choices, who signed and the check sum.
    let shared_text = format!(
        "{}\n\n{}\n\n{}\n\n{}\n{}\n{}: {}",
        u.receipt_title,
        shown.map_or_else(String::new, |s| text_words(s, &s.consent, lang)),
        choices_text(lang, &agreed, &released),
        signed,
        witness,
        u.receipt_hash,
        consent.binding
    );
    let (consent_words, notice_words) = match shown {
        Some(s) => (
            sections_view(s, &s.consent, lang).into_any(),
            view! { <div class="consent-notice">{sections_view(s, &s.notice, lang)}</div> }
                .into_any(),
        ),
        None => (
            view! {
                <p class="notice" data-testid="receipt-text-missing">
                    {cris_core::consent::Problem::UnknownText {
                        id: consent.text.id.clone(),
                        version: consent.text.version,
                    }
                    .to_string()}
                </p>
            }
            .into_any(),
            ().into_any(),
        ),
    };
    view! {
        {saved.then(|| view! {
            <p class="banner saved" role="status" lang=lang.code() data-testid="consent-saved">
                {u.consent_saved}
            </p>
        })}
        {status}
        <div class="no-print actions" lang=lang.code()>
            <button type="button" class="btn btn-primary" data-testid="receipt-print" on:click=move |_| {
                if let Some(w) = web_sys::window() {
                    let _ = w.print();
                }
            }>
                {u.receipt_print}
            </button>
            {can_share().then(|| {
                let shared = shared_text.clone();
                view! {
                    <button type="button" class="btn" data-testid="receipt-share" on:click=move |_| share(&shared)>
                        {u.receipt_share}
                    </button>
                }
            })}
        </div>
        <article lang=lang.code() data-testid="receipt" data-lang=lang.code()>
            <h1>{u.receipt_title}</h1>
            <div class="receipt-text" data-testid="receipt-text">{consent_words}</div>
            {choices_view(lang, agreed, released)}
            <h2>{u.signature_title}</h2>
            <div class="receipt-signature" data-testid="receipt-signature" inner_html=consent.signature.to_svg()></div>
            <p data-testid="receipt-signed">{signed} " (" {role} ")"</p>
            <p data-testid="receipt-witness">{witness}</p>
            {consent.interpreter.clone().map(|name| view! { <p>{u.interpreter} ": " {name}</p> })}
            <p>{u.identity_check} ": " {identity}</p>
            <p class="mono small" data-testid="receipt-hash" data-intact=intact.is_ok().to_string()>
                {u.receipt_hash} ": " {consent.binding.clone()}
                <br/>
                {format!(
                    "{} v{} ({}) {}",
                    consent.text.id,
                    consent.text.version,
                    consent.text.lang.code(),
                    consent.text.sha256
                )}
            </p>
            {notice_words}
        </article>
        <A href=format!("/cases/{}", consent.case_id) attr:class="back no-print" attr:lang=lang.code()>
            {u.case_title}
        </A>
    }
}

/// A text's title and sections as the family read them (the purposes, recipients and kinds
/// of record are shown as choices, agreed or not).
fn sections_view(setup: &Setup, text: &ConsentText, lang: Lang) -> impl IntoView + use<> {
    view! {
        <h2>{setup.fill(&text.title, lang)}</h2>
        {sections(setup, text, lang)}
    }
}

/// The same as plain text.
fn text_words(setup: &Setup, text: &ConsentText, lang: Lang) -> String {
    let mut parts = vec![setup.fill(&text.title, lang)];
    for s in &text.sections {
        parts.push(format!(
            "{}\n{}",
            setup.fill(&s.heading, lang),
            setup.fill(&s.body, lang)
        ));
    }
    parts.join("\n\n")
}

/// Whether the browser offers a share sheet (`navigator.share`).
fn can_share() -> bool {
    web_sys::window().is_some_and(|w| {
        js_sys::Reflect::has(&w.navigator(), &wasm_bindgen::JsValue::from_str("share"))
            .unwrap_or(false)
    })
}

/// Opens the share sheet with `text`; cancelling it is no error.
fn share(text: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let data = web_sys::ShareData::new();
    data.set_text(text);
    let promise = window.navigator().share_with_data(&data);
    leptos::task::spawn_local(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    });
}
