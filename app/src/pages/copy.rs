//! The family's copy (GDPR Art. 15 and 20): for a supervisor or admin online, everything the
//! agency holds about a household, as the server puts it together, in the family's language
//! with German beside it, ready to print (or to save as PDF from the print dialog) and to
//! save as a JSON file. The server records each copy made.

use cris_core::Lang;
use cris_core::api::ReviewDecision;
use cris_core::copy::{CaseEvent, CopiedConsent, CopiedForm, FamilyCopy, Said};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::{Ui, ui, use_i18n};
use crate::sync::{Failure, api, use_sync};

use super::case_id;
use super::printed::{Page, Pick, lang_choice, print_button, when};

/// `/cases/:id/copy?lang=tr`.
#[component]
pub fn FamilyCopyPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let id = case_id();
    let asked = super::printed::asked_lang();
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
    let shown_lang = move || {
        asked
            .get()
            .or_else(|| copy.with(|c| c.as_ref().and_then(|c| c.as_ref().ok()).map(|c| c.0.lang)))
    };
    view! {
        <section class="page copy">
            <div class="no-print actions">
                {lang_choice("copy-lang", |u| u.copy_lang, shown_lang, move || {
                    format!("/cases/{}/copy", id.get_untracked())
                })}
                {print_button("copy-print")}
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

fn copy_view(copy: FamilyCopy) -> impl IntoView {
    let lang = copy.lang;
    let html = copy_html(&copy);
    view! {
        <article class="family-copy" lang=lang.code() data-testid="copy" data-lang=lang.code() inner_html=html></article>
    }
}

/// The whole copy as HTML.
fn copy_html(copy: &FamilyCopy) -> String {
    let mut p = Page::new(copy.lang);
    let agency = copy.agency.as_deref().unwrap_or("CRIS Field");
    p.tag("<h1>").both(|u| u.copy_title).tag("</h1>");
    p.tag("<p class=\"copy-household\" data-testid=\"copy-household\">")
        .text(&copy.household)
        .tag("</p><p>")
        .two(|l| ui(l).copy_intro.replace("{agency}", agency))
        .tag("</p><p class=\"small\">")
        .two(|l| {
            ui(l)
                .copy_made
                .replace("{time}", &when(copy.made_at_ms, l))
                .replace("{name}", &copy.made_by)
        })
        .tag("</p>");
    p.section(|u| u.copy_forms, copy.forms.is_empty());
    for form in &copy.forms {
        form_html(&mut p, form);
    }
    p.section(|u| u.copy_consents, copy.consents.is_empty());
    for consent in &copy.consents {
        consent_html(&mut p, consent);
    }
    p.section(|u| u.copy_withdrawals, copy.withdrawals.is_empty());
    p.tag("<ul>");
    for w in &copy.withdrawals {
        p.tag("<li data-testid=\"copy-withdrawal\">");
        if w.everything {
            p.both(|u| u.copy_withdrawn_all);
        } else {
            p.both(|u| u.copy_withdrawn_some).tag("<ul>");
            for item in w.purposes.iter().chain(&w.released_to) {
                p.tag("<li>").said(item).tag("</li>");
            }
            p.tag("</ul>");
        }
        p.tag("<span class=\"small\">")
            .two(|l| format!("{} – {}", when(w.at_ms, l), w.witness))
            .tag("</span></li>");
    }
    p.tag("</ul>");
    p.section(|u| u.copy_reviews, copy.reviews.is_empty());
    p.tag("<ul>");
    for r in &copy.reviews {
        p.tag("<li data-testid=\"copy-review\">").two(|l| {
            let u = ui(l);
            let word = match r.decision {
                ReviewDecision::Approved => u.status_approved,
                ReviewDecision::ChangesRequested => u.status_changes_requested,
            };
            format!("{word} – {}, {}", r.by, when(r.at_ms, l))
        });
        if !r.comment.is_empty() {
            p.tag("<q>").text(&r.comment).tag("</q>");
        }
        p.tag("</li>");
    }
    p.tag("</ul>");
    p.section(|u| u.copy_events, copy.events.is_empty());
    p.tag("<ul>");
    for e in &copy.events {
        p.tag("<li data-testid=\"copy-event\">")
            .two(|l| {
                format!(
                    "{} – {}, {}",
                    event_words(&e.event, l),
                    e.by,
                    when(e.at_ms, l)
                )
            })
            .tag("</li>");
    }
    p.tag("</ul>");
    p.section(|u| u.referrals_title, copy.referrals.is_empty());
    p.tag("<ul>");
    for r in &copy.referrals {
        p.tag("<li data-testid=\"copy-referral\"><strong>")
            .said(&r.service)
            .tag("</strong>")
            .said(&r.purpose)
            .tag("<q>")
            .text(&r.asked)
            .tag("</q><span class=\"small\">")
            .two(|l| format!("{}, {}", r.by, when(r.at_ms, l)))
            .tag("</span><ul>");
        for u in &r.updates {
            p.tag("<li>").two(|l| {
                let word = super::referral::state_word(ui(l), u.state);
                format!("{word} – {}, {}", u.by, when(u.at_ms, l))
            });
            if !u.note.is_empty() {
                p.tag("<q>").text(&u.note).tag("</q>");
            }
            p.tag("</li>");
        }
        p.tag("</ul></li>");
    }
    p.tag("</ul>");
    p.section(|u| u.copy_exports, copy.exports.is_empty());
    p.tag("<ul>");
    for x in &copy.exports {
        p.tag("<li data-testid=\"copy-export\">")
            .two(|l| {
                let health = if x.sensitive {
                    format!(", {}", ui(l).copy_export_sensitive)
                } else {
                    String::new()
                };
                format!(
                    "{} – {} ({}{health})",
                    when(x.at_ms, l),
                    x.by,
                    x.format.to_uppercase()
                )
            })
            .tag("</li>");
    }
    p.tag("</ul>");
    p.section(|u| u.copy_reads, false);
    p.tag("<table class=\"list\"><tbody>");
    for r in &copy.reads {
        p.open_with("tr", "copy-read", "data-what", &r.what)
            .tag("<td>")
            .two(|l| when(r.at_ms, l))
            .tag("</td><td>")
            .text(&r.by)
            .tag("</td><td>")
            .two(|l| read_words(&r.what, ui(l)).to_owned())
            .tag("</td></tr>");
    }
    p.tag("</tbody></table>");
    p.out
}

fn form_html(p: &mut Page, form: &CopiedForm) {
    p.open_with("section", "copy-form", "data-form", &form.form_id)
        .tag("<h3>")
        .said(&form.title)
        .tag("</h3><p class=\"small\">")
        .two(|l| {
            ui(l)
                .copy_filled
                .replace("{name}", &form.by)
                .replace("{time}", &when(form.finalized_at_ms, l))
        })
        .tag("</p>");
    if let Some(reason) = &form.correction_reason {
        p.tag("<p class=\"small\">")
            .two(|l| ui(l).copy_corrects.replace("{reason}", reason))
            .tag("</p>");
    }
    if form.corrected_by.is_some() {
        p.tag("<p class=\"small\">")
            .both(|u| u.copy_corrected)
            .tag("</p>");
    }
    p.tag("<table class=\"copy-answers\"><tbody>");
    for a in &form.answers {
        p.open_with("tr", "copy-answer", "data-field", &a.field)
            .tag("<th scope=\"row\">");
        if let (Some(group), Some(n)) = (&a.group, a.entry) {
            p.tag("<span class=\"small\">")
                .two(|l| format!("{} {n}", group.get(l)))
                .tag("</span>");
        }
        p.said(&a.label)
            .tag("</th><td>")
            .said(&a.value)
            .tag("</td></tr>");
    }
    p.tag("</tbody></table></section>");
}

fn consent_html(p: &mut Page, consent: &CopiedConsent) {
    p.tag("<section class=\"copy-consent\" data-testid=\"copy-consent\"><h3>")
        .said(&consent.title)
        .tag("</h3><p>")
        .two(|l| {
            ui(l)
                .receipt_signed
                .replace("{time}", &when(consent.signed_at_ms, l))
                .replace("{name}", &consent.signer)
        })
        .tag("</p><p>")
        .two(|l| ui(l).witness.replace("{name}", &consent.witness))
        .tag("</p>");
    if let Some(name) = &consent.interpreter {
        p.tag("<p>")
            .both(|u| u.interpreter)
            .tag(": ")
            .text(name)
            .tag("</p>");
    }
    let lists: [(Pick, &[Said]); 3] = [
        (|u| u.receipt_agreed, &consent.agreed),
        (|u| u.receipt_declined, &consent.declined),
        (|u| u.copy_released, &consent.released_to),
    ];
    for (heading, items) in lists {
        p.tag("<h4>").both(heading).tag("</h4><ul>");
        for item in items {
            p.tag("<li>").said(item).tag("</li>");
        }
        p.tag("</ul>");
    }
    match (&consent.text, consent.text_matches) {
        (Some(text), true) => {
            p.tag(&format!(
                "<div class=\"receipt-text\" lang=\"{}\">",
                consent.read_in.code()
            ))
            .text(text)
            .tag("</div>");
            if let Some(german) = &consent.text_de {
                p.tag("<h4 lang=\"de\">")
                    .text(ui(Lang::De).copy_text_de)
                    .tag("</h4><div class=\"receipt-text\" lang=\"de\">")
                    .text(german)
                    .tag("</div>");
            }
        }
        _ => {
            p.tag("<p class=\"problems\" data-testid=\"copy-text-unverified\">")
                .both(|u| u.copy_text_unverified)
                .tag("</p>");
        }
    }
    // The server draws the signature from the points alone (numbers): no text of anyone's.
    p.tag("<div class=\"receipt-signature\">")
        .tag(&consent.signature_svg)
        .tag("</div><p class=\"mono small\">")
        .both(|u| u.receipt_hash)
        .tag(": ")
        .text(&consent.binding)
        .tag("</p></section>");
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
        "referral_letter" => u.copy_read_letter,
        other => other,
    }
}
