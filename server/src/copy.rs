//! The family's copy (GDPR Art. 15 and 20): everything the store holds about one household and
//! those merged into it, put together for a supervisor or admin to hand over (see
//! [`cris_core::copy`]). Forms come with their labels and answers as the form showed them,
//! consents with the very words the family read (checked against the SHA-256 they signed),
//! then review decisions, what was done to the case, exports that held it, and who read it.
//! Everything here is read: the caller records that the copy was made.

use std::collections::HashMap;
use std::sync::Arc;

use cris_core::Lang;
use cris_core::api::ReviewEvent;
use cris_core::consent::text::{Agency, ConsentText, Item, Texts, fill};
use cris_core::consent::{Consent, Scope, Withdrawal};
use cris_core::copy::{
    CaseEvent, CopiedAnswer, CopiedConsent, CopiedEvent, CopiedExport, CopiedForm, CopiedRead,
    CopiedReferral, CopiedReferralUpdate, CopiedReview, CopiedWithdrawal, FamilyCopy, Said,
};
use cris_core::form::{Answers, Field, FieldType, FormDef};
use cris_core::record::{Change, Submission};

use crate::store::audit::AuditEntry;
use crate::store::{LoggedOp, User};

/// What the copy is made of, as read from the store.
pub struct Held<'a> {
    pub case_id: &'a str,
    pub household: String,
    pub history: Vec<LoggedOp>,
    pub reviews: Vec<ReviewEvent>,
    pub exports: Vec<cris_core::api::ExportEntry>,
    /// The audit trail's entries of the household and of those merged into it.
    pub reads: Vec<AuditEntry>,
    /// Every account, for the names of those who read.
    pub users: Vec<User>,
}

/// Where the copy finds the words of forms and consents.
pub struct Words<'a> {
    /// A form's definition in the version a submission was filled in.
    pub form: &'a dyn Fn(&str, u32) -> Option<Arc<FormDef>>,
    pub texts: &'a Texts,
    pub agency: Option<&'a Agency>,
}

/// The households merged into `case_id` now, by the merges and their undoing in `history`.
pub fn merged_into(case_id: &str, history: &[LoggedOp]) -> Vec<String> {
    let mut merged: Vec<String> = Vec::new();
    for logged in history {
        match &logged.op.change {
            Change::Merge { into } if into == case_id && !merged.contains(&logged.op.case_id) => {
                merged.push(logged.op.case_id.clone());
            }
            Change::Unmerge { .. } => merged.retain(|m| *m != logged.op.case_id),
            _ => {}
        }
    }
    merged
}

/// The language of the household's latest consent: the one the family read in.
pub fn family_lang(history: &[LoggedOp]) -> Option<Lang> {
    history.iter().rev().find_map(|l| match &l.op.change {
        Change::Consent { consent } => Some(consent.text.lang),
        _ => None,
    })
}

/// The copy of `held` in `lang` and German, made by `by` at `now_ms`.
pub fn make(held: Held<'_>, words: &Words<'_>, lang: Lang, by: &User, now_ms: i64) -> FamilyCopy {
    let mut forms = Vec::new();
    let mut consents = Vec::new();
    let mut withdrawals = Vec::new();
    let mut events = Vec::new();
    let merged = merged_into(held.case_id, &held.history);
    let mut referrals: Vec<CopiedReferral> = Vec::new();
    // The services, purposes and records of referrals, as the current consent text names them.
    let text = words.texts.current("consent");
    let named = |of: fn(&ConsentText) -> &[Item], id: &str| {
        let list: &[Item] = text.map_or(&[], of);
        item(list, id, words.agency, lang)
    };
    let signed: HashMap<&str, &Consent> = held
        .history
        .iter()
        .filter_map(|l| match &l.op.change {
            Change::Consent { consent } => Some((consent.id.as_str(), &**consent)),
            _ => None,
        })
        .collect();
    for logged in &held.history {
        let by = logged.display_name.clone();
        let at_ms = logged.received_ms;
        let event = |event| CopiedEvent {
            event,
            by: by.clone(),
            at_ms,
        };
        match &logged.op.change {
            Change::Submit { submission, .. } => {
                forms.push(form(submission, logged, words, lang));
            }
            Change::Consent { consent } => consents.push(consent_of(consent, words, lang)),
            Change::Withdraw { withdrawal } => {
                let text = signed
                    .get(withdrawal.consent_id.as_str())
                    .and_then(|c| words.texts.get(&c.text.id, c.text.version));
                withdrawals.push(withdrawal_of(withdrawal, text, words.agency, lang));
            }
            Change::Resolve { properties } => {
                let fields = properties.keys().map(|p| Said::same(lang, p)).collect();
                events.push(event(CaseEvent::Resolved { fields }));
            }
            Change::Merge { into } => {
                events.push(event(CaseEvent::Merged {
                    case_id: logged.op.case_id.clone(),
                    into: into.clone(),
                }));
            }
            Change::Unmerge { .. } => events.push(event(CaseEvent::Unmerged {
                case_id: logged.op.case_id.clone(),
            })),
            Change::Distinct { other } => events.push(event(CaseEvent::Distinct {
                other: other.clone(),
            })),
            Change::Close { reason } => events.push(event(CaseEvent::Closed { reason: *reason })),
            Change::Reopen { .. } => events.push(event(CaseEvent::Reopened)),
            Change::Refer { referral } => referrals.push(CopiedReferral {
                referral_id: referral.id.clone(),
                service: named(|t| &t.recipients, &referral.recipient),
                purpose: named(|t| &t.purposes, &referral.purpose),
                records: referral
                    .records
                    .iter()
                    .map(|r| named(|t| &t.records, r))
                    .collect(),
                asked: referral.asked.clone(),
                by: by.clone(),
                at_ms,
                updates: Vec::new(),
            }),
            Change::UpdateReferral { update } => {
                let moved = referrals
                    .iter_mut()
                    .find(|r| r.referral_id == update.referral_id);
                if let Some(r) = moved {
                    r.updates.push(CopiedReferralUpdate {
                        state: update.state,
                        note: update.note.clone(),
                        by: by.clone(),
                        at_ms,
                    });
                }
            }
            Change::Erase {} => {}
        }
    }
    // Which form corrects which: a form's later correction is named on it.
    let corrections: HashMap<String, String> = forms
        .iter()
        .filter_map(|f| Some((f.corrects.clone()?, f.submission_id.clone())))
        .collect();
    for form in &mut forms {
        form.corrected_by = corrections.get(&form.submission_id).cloned();
    }
    let names: HashMap<&str, &str> = held
        .users
        .iter()
        .map(|u| (u.login.as_str(), u.display_name.as_str()))
        .collect();
    let name = |login: &str| names.get(login).copied().unwrap_or(login).to_owned();
    FamilyCopy {
        case_id: held.case_id.to_owned(),
        household: held.household,
        lang,
        agency: words
            .agency
            .and_then(|a| a.get("agency_name"))
            .map(|n| n.get(lang).to_owned()),
        made_at_ms: now_ms,
        made_by: by.display_name.clone(),
        merged,
        forms,
        consents,
        withdrawals,
        reviews: held
            .reviews
            .into_iter()
            .map(|r| CopiedReview {
                submission_id: r.submission_id,
                decision: r.decision,
                comment: r.comment,
                by: r.reviewer_name,
                at_ms: r.at_ms,
            })
            .collect(),
        events,
        referrals,
        exports: held
            .exports
            .into_iter()
            .map(|e| CopiedExport {
                export_id: e.id,
                by: e.display_name,
                at_ms: e.at_ms,
                format: e.format.as_str().to_owned(),
                sensitive: e.filter.sensitive,
            })
            .collect(),
        reads: held
            .reads
            .into_iter()
            .map(|r| CopiedRead {
                at_ms: r.at_ms,
                by: r.login.as_deref().map(name).unwrap_or_default(),
                what: r.action,
            })
            .collect(),
    }
}

fn form(submission: &Submission, logged: &LoggedOp, words: &Words<'_>, lang: Lang) -> CopiedForm {
    let def = (words.form)(&submission.form_id, submission.form_version);
    let mut answers = Vec::new();
    match &def {
        Some(def) => answers_of(
            &def.fields,
            &submission.answers,
            &Reading {
                def,
                lang,
                keep: &|_, _| true,
            },
            &mut Vec::new(),
            None,
            &mut answers,
        ),
        // A version no server knows any more: the answers as they were stored.
        None => {
            for (name, answer) in &submission.answers.0 {
                if let cris_core::form::Answer::Text(text) = answer {
                    answers.push(CopiedAnswer {
                        field: name.clone(),
                        label: Said::same(lang, name),
                        value: Said::same(lang, text),
                        group: None,
                        entry: None,
                    });
                }
            }
        }
    }
    CopiedForm {
        submission_id: submission.id.clone(),
        form_id: submission.form_id.clone(),
        form_version: submission.form_version,
        title: match &def {
            Some(def) => Said::of(lang, |l| def.title.get(l).to_owned()),
            None => Said::same(lang, &submission.form_id),
        },
        by: logged.display_name.clone(),
        finalized_at_ms: submission.finalized_at_ms as i64,
        received_at_ms: logged.received_ms,
        corrects: submission
            .corrects
            .as_ref()
            .map(|c| c.submission_id.clone()),
        correction_reason: submission.corrects.as_ref().map(|c| c.reason.clone()),
        corrected_by: None,
        answers,
    }
}

/// How answers are read: in which form and language, and which fields go in (by the names
/// of the groups they are in, outermost first, and their own).
pub struct Reading<'a> {
    pub def: &'a FormDef,
    pub lang: Lang,
    pub keep: &'a dyn Fn(&[&str], &str) -> bool,
}

/// The answers of `fields` in their order that `reading` keeps; a repeat group's entry by
/// entry. `groups` holds the names of the groups around `fields`.
pub fn answers_of<'f>(
    fields: &'f [Field],
    answers: &Answers,
    reading: &Reading<'_>,
    groups: &mut Vec<&'f str>,
    group: Option<(&Said, u32)>,
    out: &mut Vec<CopiedAnswer>,
) {
    let (def, lang) = (reading.def, reading.lang);
    for field in fields {
        if field.kind == FieldType::Repeat {
            let label = Said::of(lang, |l| field.label.get(l).to_owned());
            groups.push(&field.name);
            for (n, entry) in answers.instances(&field.name).iter().enumerate() {
                let n = u32::try_from(n + 1).unwrap_or(u32::MAX);
                answers_of(
                    &field.fields,
                    entry,
                    reading,
                    groups,
                    Some((&label, n)),
                    out,
                );
            }
            groups.pop();
        } else if field.kind.holds_value() {
            let value = answers.text(&field.name);
            if value.is_empty() || !(reading.keep)(groups, &field.name) {
                continue;
            }
            out.push(CopiedAnswer {
                field: field.name.clone(),
                label: Said::of(lang, |l| field.label.get(l).to_owned()),
                value: Said::of(lang, |l| shown(field, def, value, l)),
                group: group.map(|(label, _)| label.clone()),
                entry: group.map(|(_, n)| n),
            });
        } else {
            groups.push(&field.name);
            answers_of(&field.fields, answers, reading, groups, group, out);
            groups.pop();
        }
    }
}

/// An answer as the form shows it in `lang`: choices by their labels, yes and no in words.
fn shown(field: &Field, def: &FormDef, value: &str, lang: Lang) -> String {
    let choices = field
        .choices
        .as_ref()
        .and_then(|list| def.choices.get(list));
    let label = |v: &str| {
        choices
            .and_then(|list| list.iter().find(|c| c.value == v))
            .map_or_else(|| v.to_owned(), |c| c.label.get(lang).to_owned())
    };
    match field.kind {
        FieldType::SelectOne => label(value),
        FieldType::SelectMultiple => value
            .split_whitespace()
            .map(label)
            .collect::<Vec<_>>()
            .join(", "),
        FieldType::YesNo => match value {
            "yes" => cris_core::words::yes(lang).to_owned(),
            "no" => cris_core::words::no(lang).to_owned(),
            other => other.to_owned(),
        },
        _ => value.to_owned(),
    }
}

/// An item of a consent text (a purpose, a recipient) by its id, its title in both languages.
pub fn item(items: &[Item], id: &str, agency: Option<&Agency>, lang: Lang) -> Said {
    match items.iter().find(|i| i.id == id) {
        Some(item) => Said::of(lang, |l| {
            let words = item.title.get(l);
            agency
                .and_then(|a| fill(words, a, l).ok())
                .unwrap_or_else(|| words.to_owned())
        }),
        None => Said::same(lang, id),
    }
}

fn consent_of(consent: &Consent, words: &Words<'_>, lang: Lang) -> CopiedConsent {
    let text = words.texts.get(&consent.text.id, consent.text.version);
    let rendered = |l: Lang| {
        let (text, agency) = (text?, words.agency?);
        text.render(l, agency).ok()
    };
    let read_in = consent.text.lang;
    let shown = rendered(read_in);
    let text_matches = shown
        .as_deref()
        .is_some_and(|t| cris_core::consent::sha256_hex(t.as_bytes()) == consent.text.sha256);
    let purposes: &[Item] = text.map_or(&[], |t| &t.purposes);
    let (agreed, declined) = purposes
        .iter()
        .partition::<Vec<&Item>, _>(|p| consent.purposes.contains(&p.id));
    let said = |items: Vec<&Item>| {
        items
            .into_iter()
            .map(|p| item(purposes, &p.id, words.agency, lang))
            .collect()
    };
    CopiedConsent {
        consent_id: consent.id.clone(),
        title: match text {
            Some(t) => Said::of(lang, |l| t.title.get(l).to_owned()),
            None => Said::same(lang, &consent.text.id),
        },
        text_id: consent.text.id.clone(),
        text_version: consent.text.version,
        read_in,
        text: shown,
        text_de: (read_in != Lang::De).then(|| rendered(Lang::De)).flatten(),
        text_matches,
        agreed: said(agreed),
        declined: said(declined),
        released_to: consent
            .releases
            .iter()
            .map(|r| {
                let recipients: &[Item] = text.map_or(&[], |t| &t.recipients);
                item(recipients, &r.recipient, words.agency, lang)
            })
            .collect(),
        signer: consent.signer.name.clone(),
        witness: consent
            .witness_name
            .clone()
            .unwrap_or_else(|| consent.witness.clone()),
        interpreter: consent.interpreter.clone(),
        signed_at_ms: consent.signed_at_ms,
        signature_svg: consent.signature.to_svg(),
        binding: consent.binding.clone(),
    }
}

fn withdrawal_of(
    withdrawal: &Withdrawal,
    text: Option<&ConsentText>,
    agency: Option<&Agency>,
    lang: Lang,
) -> CopiedWithdrawal {
    let items = |ids: &[String], of: fn(&ConsentText) -> &[Item]| -> Vec<Said> {
        let list: &[Item] = text.map_or(&[], of);
        ids.iter().map(|id| item(list, id, agency, lang)).collect()
    };
    let (purposes, released_to) = match &withdrawal.scope {
        Scope::All => (Vec::new(), Vec::new()),
        Scope::Purposes(ids) => (items(ids, |t| &t.purposes), Vec::new()),
        Scope::Recipients(ids) => (Vec::new(), items(ids, |t| &t.recipients)),
    };
    CopiedWithdrawal {
        withdrawal_id: withdrawal.id.clone(),
        consent_id: withdrawal.consent_id.clone(),
        everything: withdrawal.scope == Scope::All,
        purposes,
        released_to,
        witness: withdrawal
            .witness_name
            .clone()
            .unwrap_or_else(|| withdrawal.witness.clone()),
        at_ms: withdrawal.at_ms,
    }
}
