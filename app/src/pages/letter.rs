//! The referral letter (`/cases/:id/referrals/:referral/letter?lang=de`): what the service a
//! household was referred to receives, made by the server from the household's records under
//! the consent in force, in the service's language, to print or save as PDF. The app never
//! sends it anywhere; the server records every letter made, and makes none once the family
//! has taken the release back.

use cris_core::Lang;
use cris_core::api::ErrorCode;
use cris_core::consent::Grant;
use cris_core::referral::ReferralLetter;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::case_id;
use super::printed::{Page, lang_choice, print_button, when};
use crate::i18n::{I18n, ui, use_i18n};
use crate::sync::{Failure, api, use_sync};

#[component]
pub fn ReferralLetterPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let id = case_id();
    let params = use_params_map();
    let referral = Memo::new(move |_| params.read().get("referral").unwrap_or_default());
    // German unless the service reads another language (a partner agency abroad).
    let asked = super::printed::asked_lang();
    let lang = Memo::new(move |_| asked.get().unwrap_or(Lang::De));
    let letter = LocalResource::new(move || {
        let (id, referral, lang) = (id.get(), referral.get(), lang.get());
        let token = sync
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.token.clone()));
        async move {
            match token {
                Some(token) => api::referral_letter(&token, &id, &referral, lang).await,
                None => Err(Failure::Unauthorized),
            }
        }
    });
    view! {
        <section class="page letter">
            <div class="no-print actions">
                {lang_choice("letter-lang", |u| u.letter_lang, move || Some(lang.get()), move || {
                    format!("/cases/{}/referrals/{}/letter", id.get_untracked(), referral.get_untracked())
                })}
                {print_button("letter-print")}
                <p class="hint">{i18n.t(|u| u.letter_recorded)}</p>
            </div>
            {move || match letter.get() {
                None => view! { <p class="notice">{i18n.t(|u| u.letter_loading)}</p> }.into_any(),
                Some(Err(failure)) => view! {
                    <p class="notice" role="alert" data-testid="letter-failed">
                        {failure_text(i18n, &failure)}
                    </p>
                }
                .into_any(),
                Some(Ok(letter)) => {
                    let lang = letter.lang;
                    view! {
                        <article class="referral-letter" lang=lang.code() data-testid="letter"
                            inner_html=letter_html(&letter)></article>
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

fn failure_text(i18n: I18n, failure: &Failure) -> String {
    match failure {
        Failure::Offline => i18n.t(|u| u.letter_offline)().to_owned(),
        Failure::Refused(ErrorCode::NoConsent) => i18n.t(|u| u.letter_not_released)().to_owned(),
        other => crate::refusal::failure(i18n.lang.get(), other),
    }
}

/// The letter as HTML, in its language alone.
fn letter_html(letter: &ReferralLetter) -> String {
    let l = letter.lang;
    let u = ui(l);
    let mut p = Page::only(l);
    let agency = letter.agency.as_deref().unwrap_or("");
    let address = letter.agency_address.as_deref().unwrap_or("");
    p.tag("<p class=\"letter-from\">")
        .text(agency)
        .tag("<br>")
        .text(address)
        .tag("</p><p class=\"letter-to\" data-testid=\"letter-to\">")
        .text(&u.letter_to.replace("{service}", &letter.service))
        .tag("</p><p class=\"letter-date\">")
        .text(
            &crate::clock::day_at(letter.made_at_ms as f64)
                .map_or_else(String::new, |d| d.written(l)),
        )
        .tag("</p><h1>")
        .text(&u.letter_subject.replace("{purpose}", &letter.purpose))
        .tag("</h1><h2>")
        .text(u.letter_asked)
        .tag("</h2><p class=\"letter-asked\">")
        .text(&letter.asked)
        .tag("</p>");
    let until = match letter.consent.until {
        Grant::Open => u.letter_until_open.to_owned(),
        Grant::Until(date) => u.letter_until_date.replace("{date}", &date.written(l)),
        Grant::Once => u.letter_until_once.to_owned(),
    };
    p.tag("<h2>")
        .text(u.letter_consent)
        .tag("</h2><p>")
        .text(
            &u.letter_consent_body
                .replace("{date}", &when(letter.consent.signed_at_ms, l)),
        )
        .tag(" ")
        .text(&until)
        .tag("</p><p class=\"small\">")
        .text(u.letter_checksum)
        .tag(" <code data-testid=\"letter-checksum\">")
        .text(&letter.consent.binding)
        .tag("</code></p><h2>")
        .text(u.letter_records)
        .tag("</h2>");
    for record in &letter.records {
        p.open_with("section", "letter-record", "data-record", &record.id)
            .tag("<h3>")
            .text(&record.title)
            .tag("</h3>");
        if record.forms.is_empty() {
            p.tag("<p class=\"small\">")
                .text(u.letter_nothing)
                .tag("</p>");
        }
        for form in &record.forms {
            p.tag("<p class=\"small\">")
                .text(
                    &u.letter_from_form
                        .replace("{form}", &form.title)
                        .replace("{date}", &when(form.finalized_at_ms, l)),
                )
                .tag("</p><table class=\"copy-answers\"><tbody>");
            for a in &form.answers {
                p.tag("<tr data-testid=\"letter-answer\"><th scope=\"row\">");
                if let (Some(group), Some(n)) = (&a.group, a.entry) {
                    p.tag("<span class=\"small\">")
                        .text(&format!("{group} {n}: "))
                        .tag("</span>");
                }
                p.text(&a.label)
                    .tag("</th><td>")
                    .text(&a.value)
                    .tag("</td></tr>");
            }
            p.tag("</tbody></table>");
        }
        p.tag("</section>");
    }
    p.tag("<h2>")
        .text(u.letter_contact)
        .tag("</h2><p data-testid=\"letter-contact\">")
        .text(&letter.referred_by)
        .tag("<br>")
        .text(agency)
        .tag("<br>")
        .text(address)
        .tag("</p><p class=\"small\">")
        .text(
            &u.letter_made
                .replace("{name}", &letter.referred_by)
                .replace("{date}", &when(letter.referred_at_ms, l))
                .replace("{maker}", &letter.made_by)
                .replace("{time}", &when(letter.made_at_ms, l)),
        )
        .tag("</p><p class=\"small\">")
        .text(u.letter_only_purpose)
        .tag("</p>");
    p.out
}
