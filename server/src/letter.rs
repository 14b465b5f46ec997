//! The referral letter (see [`cris_core::referral::ReferralLetter`]): what the household's
//! latest forms say under the kinds of record a referral sends, and nothing else, in the
//! language of the service (German unless asked otherwise).
//! Which fields a kind of record covers is the consent text's (`fields` of its `records`).
//! Everything here is read: the caller checks the consent and records that the letter was made.

use std::collections::HashMap;

use cris_core::Lang;
use cris_core::consent::Released;
use cris_core::consent::text::ConsentText;
use cris_core::record::{Change, Submission};
use cris_core::referral::{
    LetterAnswer, LetterConsent, LetterForm, LetterRecord, Referral, ReferralLetter, covers,
};

use crate::copy::{Reading, Words, answers_of, item};
use crate::store::{LoggedOp, User};

/// The referral `referral`, received as `referred`, released by `released` (a consent of
/// `history`): its letter in `lang`, made by `by` at `now_ms`.
#[allow(clippy::too_many_arguments)]
pub fn make(
    lang: Lang,
    referral: &Referral,
    referred: &LoggedOp,
    released: Released,
    history: &[LoggedOp],
    words: &Words<'_>,
    by: &User,
    now_ms: i64,
) -> ReferralLetter {
    // The kinds of record as the text the family signed defines them (the current text when
    // this server no longer has that version).
    let signed = history.iter().find_map(|l| match &l.op.change {
        Change::Consent { consent } if consent.id == released.consent_id => {
            words.texts.get(&consent.text.id, consent.text.version)
        }
        _ => None,
    });
    let current = words.texts.current("consent");
    let text: Option<&ConsentText> = signed.or(current);
    let named = |of: fn(&ConsentText) -> &[cris_core::consent::text::Item], id: &str| {
        let items = text.map_or(&[][..], of);
        item(items, id, words.agency, lang).get(lang).to_owned()
    };
    // Each form's latest submission, as the caseload reads them: a correction in the place
    // of what it corrects (a correction of last month's visit does not make it the latest).
    let submissions: Vec<Submission> = history
        .iter()
        .filter_map(|l| match &l.op.change {
            Change::Submit { submission, .. } => Some(submission.clone()),
            _ => None,
        })
        .collect();
    let mut latest: Vec<&Submission> = Vec::new();
    for submission in cris_core::caseload::in_effect(&submissions) {
        match latest.iter_mut().find(|s| s.form_id == submission.form_id) {
            Some(held) => *held = submission,
            None => latest.push(submission),
        }
    }
    let records = referral
        .records
        .iter()
        .map(|kind| {
            let fields = text
                .and_then(|t| t.records.iter().find(|r| r.id == *kind))
                .map_or(&[][..], |r| &r.fields[..]);
            LetterRecord {
                id: kind.clone(),
                title: named(|t| &t.records, kind),
                forms: latest
                    .iter()
                    .filter_map(|s| letter_form(s, fields, words, lang))
                    .collect(),
            }
        })
        .collect();
    let agency = |key: &str| {
        words
            .agency
            .and_then(|a| a.get(key))
            .map(|d| d.get(lang).to_owned())
    };
    ReferralLetter {
        lang,
        case_id: referred.op.case_id.clone(),
        referral_id: referral.id.clone(),
        agency: agency("agency_name"),
        agency_address: agency("agency_address"),
        service: named(|t| &t.recipients, &referral.recipient),
        purpose: named(|t| &t.purposes, &referral.purpose),
        asked: referral.asked.clone(),
        referred_by: referred.display_name.clone(),
        referred_at_ms: referred.received_ms,
        consent: LetterConsent {
            consent_id: released.consent_id,
            signed_at_ms: released.signed_at_ms,
            binding: released.binding,
            until: released.until,
        },
        records,
        made_by: by.display_name.clone(),
        made_at_ms: now_ms,
    }
}

/// The answers of `submission` in the fields `fields` covers, or nothing when there are none.
fn letter_form(
    submission: &Submission,
    fields: &[String],
    words: &Words<'_>,
    lang: Lang,
) -> Option<LetterForm> {
    let def = (words.form)(&submission.form_id, submission.form_version)?;
    let form_id = submission.form_id.as_str();
    let keep = |groups: &[&str], name: &str| covers(fields, form_id, groups, name);
    let mut answers = Vec::new();
    answers_of(
        &def.fields,
        &submission.answers,
        &Reading {
            def: &def,
            lang,
            keep: &keep,
        },
        &mut Vec::new(),
        None,
        &mut answers,
    );
    if answers.is_empty() {
        return None;
    }
    let said = |said: &cris_core::copy::Said| said.get(lang).to_owned();
    Some(LetterForm {
        title: def.title.get(lang).to_owned(),
        finalized_at_ms: submission.finalized_at_ms as i64,
        answers: answers
            .iter()
            .map(|a| LetterAnswer {
                label: said(&a.label),
                value: said(&a.value),
                group: a.group.as_ref().map(said),
                entry: a.entry,
            })
            .collect(),
    })
}

/// Fields named by the kinds of record of `text` that no form of `forms` has: a mistake in the
/// consent text, which would leave answers out of every letter without a word.
pub fn unknown_fields(
    text: &ConsentText,
    forms: &[std::sync::Arc<cris_core::form::FormDef>],
) -> Vec<String> {
    let known: HashMap<&str, Vec<&str>> = forms
        .iter()
        .map(|f| {
            let names = f.walk().into_iter().map(|(field, _)| field.name.as_str());
            (f.id.as_str(), names.collect())
        })
        .collect();
    text.records
        .iter()
        .flat_map(|r| &r.fields)
        .filter(|entry| {
            !entry.split_once('/').is_some_and(|(form, field)| {
                known.get(form).is_some_and(|names| names.contains(&field))
            })
        })
        .cloned()
        .collect()
}
