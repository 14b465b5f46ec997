//! The family's copy of a consent: the text they agreed to in their language, their choices
//! and their signature, ready to print (or to save as PDF from the print dialog).

use cris_core::consent::{Consent, Duration, IdentityCheck, Sealed, SignerRole};
use cris_core::sync::{Detail, Reason};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{Setup, load_setup, paragraphs};
use crate::clock::date_time;
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
            <Show when=move || saved.get()>
                <p class="banner saved" role="status" data-testid="consent-saved">
                    {i18n.t(|u| u.consent_saved)}
                </p>
            </Show>
            <Suspense fallback=move || view! { <p class="notice">{i18n.t(|u| u.case_loading)}</p> }>
                {move || {
                    loaded
                        .get()
                        .map(|l| match l {
                            Ok(Some(data)) => receipt(data).into_any(),
                            Ok(None) => view! {
                                <p class="notice" data-testid="consent-not-found">{i18n.t(|u| u.case_not_found)}</p>
                            }
                            .into_any(),
                            Err(e) => storage_error_view(i18n, &e).into_any(),
                        })
                }}
            </Suspense>
            <A href=move || format!("/cases/{}", case_id()) attr:class="back no-print">
                {i18n.t(|u| u.case_title)}
            </A>
        </section>
    }
}

fn receipt(data: Loaded) -> impl IntoView {
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
    let words = setup.as_ref().and_then(|s| {
        let same = |t: &cris_core::consent::text::ConsentText,
                    shown: &cris_core::consent::ShownText| {
            t.version == shown.version
                && t.shown(shown.lang, &s.agency)
                    .is_ok_and(|again| again.sha256 == shown.sha256)
        };
        (same(&s.consent, &consent.text) && same(&s.notice, &consent.notice)).then(|| {
            (
                s.consent.render(lang, &s.agency).unwrap_or_default(),
                s.notice.render(lang, &s.agency).unwrap_or_default(),
            )
        })
    });
    let title = |id: &str| {
        setup
            .as_ref()
            .map_or_else(|| id.to_owned(), |s| s.item_title(id, lang))
    };
    let purposes = setup
        .as_ref()
        .map(|s| {
            s.consent
                .purposes
                .iter()
                .map(|p| p.id.clone())
                .collect::<Vec<_>>()
        })
        .unwrap_or_else(|| consent.purposes.clone())
        .into_iter()
        .map(|p| {
            let yes = consent.purposes.contains(&p);
            view! {
                <li data-agreed=p.clone() data-yes=yes.to_string()>
                    {if yes { u.receipt_agreed } else { u.receipt_declined }} ": " {title(&p)}
                </li>
            }
        })
        .collect_view();
    let releases = consent
        .releases
        .iter()
        .map(|r| {
            let until = match r.duration {
                Duration::Once => u.duration_once.to_owned(),
                Duration::Recurring => u.duration_recurring.to_owned(),
                Duration::Until(d) => d.to_string(),
            };
            view! {
                <li data-released=r.recipient.clone()>
                    <strong>{title(&r.recipient)}</strong> ": "
                    {r.records.iter().map(|k| title(k)).collect::<Vec<_>>().join(", ")}
                    " · " {title(&r.purpose)} " · " {until}
                </li>
            }
        })
        .collect_view();
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
        .replace("{time}", &date_time(consent.signed_at_ms as f64))
        .replace("{name}", &consent.signer.name);
    let intact = consent.verify();
    let status = match sent {
        Sent::Yes => None,
        Sent::Waiting => Some(view! { <p class="note" data-testid="consent-waiting">{i18n.t(|u| u.consent_waiting)}</p> }.into_any()),
        Sent::Refused(reason, detail) => Some(
            view! {
                <p class="problems" data-testid="consent-refused">
                    {i18n.t(|u| u.consent_refused)} " "
                    {move || Sent::refusal(reason, detail.as_ref(), i18n.lang.get())}
                </p>
            }
            .into_any(),
        ),
    };
    // What the share sheet passes on (to a messenger, mail or files): the words agreed to,
    // the choices, who signed and the check sum.
    let shared_text = format!(
        "{}\n\n{}\n\n{}\n{}: {}",
        u.receipt_title,
        words.as_ref().map_or("", |(c, _)| c.as_str()),
        signed,
        u.receipt_hash,
        consent.binding
    );
    let (consent_words, notice_words) = match words {
        Some((c, n)) => (
            paragraphs(&c).into_any(),
            view! { <div class="consent-notice">{paragraphs(&n)}</div> }.into_any(),
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
        {status}
        <div class="no-print actions">
            <button type="button" class="btn btn-primary" data-testid="receipt-print" on:click=move |_| {
                if let Some(w) = web_sys::window() {
                    let _ = w.print();
                }
            }>
                {i18n.t(|u| u.receipt_print)}
            </button>
            {can_share().then(|| {
                let shared = shared_text.clone();
                view! {
                    <button type="button" class="btn" data-testid="receipt-share" on:click=move |_| share(&shared)>
                        {i18n.t(|u| u.receipt_share)}
                    </button>
                }
            })}
        </div>
        <article lang=lang.code() data-testid="receipt" data-lang=lang.code()>
            <h1>{u.receipt_title}</h1>
            <div class="receipt-text" data-testid="receipt-text">{consent_words}</div>
            <h2>{u.consent_purposes_title}</h2>
            <ul data-testid="receipt-purposes">{purposes}</ul>
            <h2>{u.consent_releases_title}</h2>
            <ul data-testid="receipt-releases">{releases}</ul>
            <h2>{u.signature_title}</h2>
            <div class="receipt-signature" data-testid="receipt-signature" inner_html=consent.signature.to_svg()></div>
            <p data-testid="receipt-signed">{signed} " (" {role} ")"</p>
            <p>{u.witness.replace("{name}", &consent.witness)}</p>
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
    }
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
