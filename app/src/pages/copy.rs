//! The family's copy (GDPR Art. 15 and 20): for a supervisor or admin online, everything the
//! agency holds about a household, as the server puts it together, in the family's language
//! with German beside it, ready to print (or to save as PDF from the print dialog) and to
//! save as a JSON file. The server records each copy made.

use cris_core::Lang;
use cris_core::api::ReviewDecision;
use cris_core::copy::{CaseEvent, CopiedConsent, CopiedForm, FamilyCopy, Said};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::clock::date_time_in;
use crate::i18n::{Ui, ui, use_i18n};
use crate::sync::{Failure, api, use_sync};

use super::case_id;

/// `/cases/:id/copy?lang=tr`.
#[component]
pub fn FamilyCopyPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let id = case_id();
    let query = use_query_map();
    let asked = Memo::new(move |_| {
        query
            .read()
            .get("lang")
            .and_then(|code| code.parse::<Lang>().ok())
    });
    let copy = LocalResource::new(move || {
        let (id, lang) = (id.get(), asked.get());
        let token = sync
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.token.clone()));
        async move {
            match token {
                Some(token) => api::family_copy(&token, &id, lang).await,
                None => Err(Failure::Unauthorized),
            }
        }
    });
    let navigate = use_navigate();
    let choose = move |code: String| {
        navigate(
            &format!("/cases/{}/copy?lang={code}", id.get_untracked()),
            Default::default(),
        );
    };
    let shown_lang = move || {
        asked
            .get()
            .or_else(|| copy.with(|c| c.as_ref().and_then(|c| c.as_ref().ok()).map(|c| c.0.lang)))
    };
    let options = Lang::ALL
        .into_iter()
        .map(|l| {
            view! {
                <option value=l.code() selected=move || shown_lang() == Some(l)>
                    {l.native_name()}
                </option>
            }
        })
        .collect_view();
    view! {
        <section class="page copy">
            <div class="no-print actions">
                <label>
                    {i18n.t(|u| u.copy_lang)} " "
                    <select data-testid="copy-lang" on:change=move |ev| choose(event_target_value(&ev))>
                        {options}
                    </select>
                </label>
                <button type="button" class="btn btn-primary" data-testid="copy-print" on:click=move |_| {
                    if let Some(w) = web_sys::window() {
                        let _ = w.print();
                    }
                }>
                    {i18n.t(|u| u.receipt_print)}
                </button>
                <button type="button" class="btn" data-testid="copy-download"
                    disabled=move || !copy.with(|c| matches!(c, Some(Ok(_))))
                    on:click=move |_| copy.with(|c| {
                        if let Some(Ok((c, text))) = c {
                            download(&c.case_id, text);
                        }
                    })>
                    {i18n.t(|u| u.copy_download)}
                </button>
            </div>
            {move || match copy.get() {
                None => view! { <p class="notice">{i18n.t(|u| u.copy_loading)}</p> }.into_any(),
                Some(Err(failure)) => view! {
                    <p class="notice" role="alert" data-testid="copy-failed">
                        {super::review::failure_text(i18n, &failure)}
                    </p>
                }
                .into_any(),
                Some(Ok((c, _))) => copy_view(c).into_any(),
            }}
            <A href=move || format!("/cases/{}", id.get()) attr:class="back no-print">
                {i18n.t(|u| u.case_title)}
            </A>
        </section>
    }
}

/// Saves the copy as `household-<id>.json`: the document as the server sent it.
fn download(case_id: &str, text: &str) {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(text.as_bytes()));
    if let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence(&parts) {
        let _ = super::overview::save(&blob, &format!("household-{case_id}.json"));
    }
}

/// Words in the family's language and, below them, in German (once when that is the same).
fn two(lang: Lang, words: impl Fn(Lang) -> String) -> AnyView {
    pair(
        lang,
        words(lang),
        (lang != Lang::De).then(|| words(Lang::De)),
    )
}

/// One view for every pair of words on the page (a generic one per caller would cost the
/// phone's download dearly).
fn pair(lang: Lang, family: String, german: Option<String>) -> AnyView {
    view! {
        <span lang=lang.code()>{family}</span>
        {german.map(|g| view! { <span class="de" lang="de">{g}</span> })}
    }
    .into_any()
}

/// A string of the app in both languages.
fn both(lang: Lang, pick: fn(&'static Ui) -> &'static str) -> AnyView {
    pair(
        lang,
        pick(ui(lang)).to_owned(),
        (lang != Lang::De).then(|| pick(ui(Lang::De)).to_owned()),
    )
}

/// A text of the copy in both languages.
fn said(lang: Lang, said: &Said) -> AnyView {
    pair(
        lang,
        said.get(lang).to_owned(),
        (lang != Lang::De).then(|| said.get(Lang::De).to_owned()),
    )
}

fn when(ms: i64, l: Lang) -> String {
    date_time_in(ms as f64, l)
}

/// "None." where a section is empty.
fn none(lang: Lang, empty: bool) -> Option<impl IntoView> {
    empty.then(|| view! { <p class="small">{both(lang, |u| u.copy_none)}</p> })
}

fn copy_view(copy: FamilyCopy) -> impl IntoView {
    let lang = copy.lang;
    let agency = copy
        .agency
        .clone()
        .unwrap_or_else(|| "CRIS Field".to_owned());
    let (made_at, made_by) = (copy.made_at_ms, copy.made_by.clone());
    let forms = copy.forms.iter().map(|f| form_view(lang, f)).collect_view();
    let consents = copy
        .consents
        .iter()
        .map(|c| consent_view(lang, c))
        .collect_view();
    let withdrawals = copy
        .withdrawals
        .iter()
        .map(|w| {
            let what = if w.everything {
                both(lang, |u| u.copy_withdrawn_all).into_any()
            } else {
                let items = w.purposes.iter().chain(&w.released_to);
                let items = items.map(|s| view! { <li>{said(lang, s)}</li> }).collect_view();
                view! { {both(lang, |u| u.copy_withdrawn_some)} <ul>{items}</ul> }.into_any()
            };
            let by = w.witness.clone();
            let at = w.at_ms;
            view! {
                <li data-testid="copy-withdrawal">
                    {what}
                    <span class="small">{two(lang, move |l| format!("{} – {by}", when(at, l)))}</span>
                </li>
            }
        })
        .collect_view();
    let reviews = copy
        .reviews
        .iter()
        .map(|r| {
            let decision = r.decision;
            let (by, at) = (r.by.clone(), r.at_ms);
            let comment = (!r.comment.is_empty()).then(|| r.comment.clone());
            view! {
                <li data-testid="copy-review">
                    {two(lang, move |l| {
                        let u = ui(l);
                        let word = match decision {
                            ReviewDecision::Approved => u.status_approved,
                            ReviewDecision::ChangesRequested => u.status_changes_requested,
                        };
                        format!("{word} – {by}, {}", when(at, l))
                    })}
                    {comment.map(|c| view! { <q>{c}</q> })}
                </li>
            }
        })
        .collect_view();
    let events = copy
        .events
        .iter()
        .map(|e| {
            let (event, by, at) = (e.event.clone(), e.by.clone(), e.at_ms);
            view! {
                <li data-testid="copy-event">
                    {two(lang, move |l| format!("{} – {by}, {}", event_words(&event, l), when(at, l)))}
                </li>
            }
        })
        .collect_view();
    let referrals = copy
        .referrals
        .iter()
        .map(|r| {
            let (by, at) = (r.by.clone(), r.at_ms);
            let updates = r
                .updates
                .iter()
                .map(|u| {
                    let (state, note, by, at) = (u.state, u.note.clone(), u.by.clone(), u.at_ms);
                    view! {
                        <li>
                            {two(lang, move |l| {
                                let word = super::referral::state_word(ui(l), state);
                                format!("{word} – {by}, {}", when(at, l))
                            })}
                            {(!note.is_empty()).then(|| view! { <q>{note}</q> })}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <li data-testid="copy-referral">
                    <strong>{said(lang, &r.service)}</strong>
                    {said(lang, &r.purpose)}
                    <q>{r.asked.clone()}</q>
                    <span class="small">{two(lang, move |l| format!("{by}, {}", when(at, l)))}</span>
                    <ul>{updates}</ul>
                </li>
            }
        })
        .collect_view();
    let exports = copy
        .exports
        .iter()
        .map(|x| {
            let (by, at, format, sensitive) =
                (x.by.clone(), x.at_ms, x.format.clone(), x.sensitive);
            view! {
                <li data-testid="copy-export">
                    {two(lang, move |l| {
                        let health = if sensitive {
                            format!(", {}", ui(l).copy_export_sensitive)
                        } else {
                            String::new()
                        };
                        format!("{} – {by} ({}{health})", when(at, l), format.to_uppercase())
                    })}
                </li>
            }
        })
        .collect_view();
    let reads = copy
        .reads
        .iter()
        .map(|r| {
            let (by, at, what) = (r.by.clone(), r.at_ms, r.what.clone());
            let code = what.clone();
            view! {
                <tr data-testid="copy-read" data-what=code>
                    <td>{two(lang, move |l| when(at, l))}</td>
                    <td>{by}</td>
                    <td>{two(lang, move |l| read_words(&what, ui(l)).to_owned())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <article class="family-copy" lang=lang.code() data-testid="copy" data-lang=lang.code()>
            <h1>{both(lang, |u| u.copy_title)}</h1>
            <p class="copy-household" data-testid="copy-household">{copy.household.clone()}</p>
            <p>{two(lang, move |l| ui(l).copy_intro.replace("{agency}", &agency))}</p>
            <p class="small">
                {two(lang, move |l| {
                    ui(l).copy_made.replace("{time}", &when(made_at, l)).replace("{name}", &made_by)
                })}
            </p>
            <h2>{both(lang, |u| u.copy_forms)}</h2>
            {none(lang, copy.forms.is_empty())}
            {forms}
            <h2>{both(lang, |u| u.copy_consents)}</h2>
            {none(lang, copy.consents.is_empty())}
            {consents}
            <h2>{both(lang, |u| u.copy_withdrawals)}</h2>
            {none(lang, copy.withdrawals.is_empty())}
            <ul>{withdrawals}</ul>
            <h2>{both(lang, |u| u.copy_reviews)}</h2>
            {none(lang, copy.reviews.is_empty())}
            <ul>{reviews}</ul>
            <h2>{both(lang, |u| u.copy_events)}</h2>
            {none(lang, copy.events.is_empty())}
            <ul>{events}</ul>
            <h2>{both(lang, |u| u.referrals_title)}</h2>
            {none(lang, copy.referrals.is_empty())}
            <ul>{referrals}</ul>
            <h2>{both(lang, |u| u.copy_exports)}</h2>
            {none(lang, copy.exports.is_empty())}
            <ul>{exports}</ul>
            <h2>{both(lang, |u| u.copy_reads)}</h2>
            <table class="list"><tbody>{reads}</tbody></table>
        </article>
    }
}

fn form_view(lang: Lang, form: &CopiedForm) -> AnyView {
    let (by, at) = (form.by.clone(), form.finalized_at_ms);
    let corrects = form.correction_reason.clone().map(|reason| {
        view! {
            <p class="small">{two(lang, move |l| ui(l).copy_corrects.replace("{reason}", &reason))}</p>
        }
    });
    let corrected = form
        .corrected_by
        .is_some()
        .then(|| view! { <p class="small">{both(lang, |u| u.copy_corrected)}</p> });
    let answers = form
        .answers
        .iter()
        .map(|a| {
            let group = a.group.as_ref().map(|g| {
                let (g, n) = (g.clone(), a.entry.unwrap_or(1));
                two(lang, move |l| format!("{} {n}", g.get(l)))
            });
            view! {
                <tr data-field=a.field.clone()>
                    <th scope="row">
                        {group.map(|g| view! { <span class="small">{g}</span> })}
                        {said(lang, &a.label)}
                    </th>
                    <td>{said(lang, &a.value)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="copy-form" data-testid="copy-form" data-form=form.form_id.clone()>
            <h3>{said(lang, &form.title)}</h3>
            <p class="small">
                {two(lang, move |l| {
                    ui(l).copy_filled.replace("{name}", &by).replace("{time}", &when(at, l))
                })}
            </p>
            {corrects}
            {corrected}
            <table class="copy-answers"><tbody>{answers}</tbody></table>
        </section>
    }
    .into_any()
}

fn consent_view(lang: Lang, consent: &CopiedConsent) -> AnyView {
    let list = |items: &[Said]| {
        items
            .iter()
            .map(|s| view! { <li>{said(lang, s)}</li> })
            .collect_view()
    };
    let (signer, at, witness) = (
        consent.signer.clone(),
        consent.signed_at_ms,
        consent.witness.clone(),
    );
    let read_in = consent.read_in;
    let text = consent
        .text
        .clone()
        .filter(|_| consent.text_matches)
        .map(|t| view! { <div class="receipt-text" lang=read_in.code()>{t}</div> });
    let unverified = (!consent.text_matches).then(|| {
        view! { <p class="problems" data-testid="copy-text-unverified">{both(lang, |u| u.copy_text_unverified)}</p> }
    });
    let german = consent
        .text_de
        .clone()
        .filter(|_| consent.text_matches)
        .map(|t| {
            view! {
                <h4 lang="de">{ui(Lang::De).copy_text_de}</h4>
                <div class="receipt-text" lang="de">{t}</div>
            }
        });
    view! {
        <section class="copy-consent" data-testid="copy-consent">
            <h3>{said(lang, &consent.title)}</h3>
            <p>
                {two(lang, move |l| {
                    ui(l).receipt_signed.replace("{time}", &when(at, l)).replace("{name}", &signer)
                })}
            </p>
            <p>{two(lang, move |l| ui(l).witness.replace("{name}", &witness))}</p>
            {consent.interpreter.clone().map(|name| view! { <p>{both(lang, |u| u.interpreter)} ": " {name}</p> })}
            <h4>{both(lang, |u| u.receipt_agreed)}</h4>
            <ul>{list(&consent.agreed)}</ul>
            <h4>{both(lang, |u| u.receipt_declined)}</h4>
            <ul>{list(&consent.declined)}</ul>
            <h4>{both(lang, |u| u.copy_released)}</h4>
            <ul>{list(&consent.released_to)}</ul>
            {unverified}
            {text}
            {german}
            <div class="receipt-signature" inner_html=consent.signature_svg.clone()></div>
            <p class="mono small">{both(lang, |u| u.receipt_hash)} ": " {consent.binding.clone()}</p>
        </section>
    }
    .into_any()
}

fn event_words(event: &CaseEvent, l: Lang) -> String {
    let u = ui(l);
    match event {
        CaseEvent::Closed { reason } => u
            .case_closed
            .replace("{reason}", super::closing::reason_words(u, *reason)),
        CaseEvent::Reopened => u.copy_event_reopened.to_owned(),
        CaseEvent::Merged { .. } => u.copy_event_merged.to_owned(),
        CaseEvent::Unmerged { .. } => u.copy_event_unmerged.to_owned(),
        CaseEvent::Distinct { .. } => u.copy_event_distinct.to_owned(),
        CaseEvent::Resolved { fields } => {
            let names: Vec<&str> = fields.iter().map(|f| f.get(l)).collect();
            u.copy_event_resolved.replace("{fields}", &names.join(", "))
        }
    }
}

/// An entry of the audit trail in words; one the app does not know, as the server named it.
fn read_words<'a>(what: &'a str, u: &'static Ui) -> &'a str {
    match what {
        "read_history" => u.copy_read_history,
        "read_submission" => u.copy_read_submission,
        "read_consents" => u.copy_read_consents,
        "read_may_share" => u.copy_read_may_share,
        "family_copy" => u.copy_read_copy,
        other => other,
    }
}
