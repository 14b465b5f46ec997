//! What a consent agrees to, in plain words of the family's language: every purpose, agreed
//! or not, and every recipient, released (which records, for what, until when) or not. The
//! signature screen, the family's copy and what its share sheet passes on say the same words,
//! so nobody reads a recipient's name as a release that was never given.

use cris_core::Lang;
use cris_core::consent::{Duration, Release};
use leptos::prelude::*;

use super::Setup;
use crate::i18n::{Ui, ui};

/// For how long a release holds, as the family reads it.
pub fn until_words(duration: Duration, lang: Lang) -> String {
    let u: &Ui = ui(lang);
    match duration {
        Duration::Once => u.receipt_once.to_owned(),
        Duration::Recurring => u.receipt_recurring.to_owned(),
        Duration::Until(d) => u.receipt_until_date.replace("{date}", &d.written(lang)),
    }
}

/// One purpose or one recipient: agreed (released) or not, in words.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub id: String,
    pub yes: bool,
    pub head: String,
    /// The purpose's explanation, or what a release covers (records, purpose, until when).
    pub details: Vec<String>,
}

/// The purposes and the recipients of a consent, each with whether it was agreed. `every`
/// says that `setup`'s consent text is the version that was signed: then every purpose and
/// recipient it offers is listed, agreed or not. Otherwise (a newer version on the phone, or
/// no texts at all) only what was agreed is listed, named as the phone's texts name it (by id
/// without texts): a recipient the signed version never offered must not read as declined.
pub fn choices(
    setup: Option<&Setup>,
    every: bool,
    lang: Lang,
    agreed: &[String],
    releases: &[Release],
) -> (Vec<Choice>, Vec<Choice>) {
    let u = ui(lang);
    let title = |id: &str| setup.map_or_else(|| id.to_owned(), |s| s.item_title(id, lang));
    let signed = setup.filter(|_| every);
    let purpose_ids: Vec<String> = signed.map_or_else(
        || agreed.to_vec(),
        |s| s.consent.purposes.iter().map(|p| p.id.clone()).collect(),
    );
    let purposes = purpose_ids
        .into_iter()
        .map(|id| {
            let yes = agreed.contains(&id);
            let body = signed.and_then(|s| {
                let purpose = s.consent.purposes.iter().find(|p| p.id == id)?;
                Some(s.fill(purpose.body.as_ref()?, lang))
            });
            let answer = if yes {
                u.receipt_agreed
            } else {
                u.receipt_declined
            };
            Choice {
                head: format!("{answer}: {}", title(&id)),
                details: body.into_iter().collect(),
                id,
                yes,
            }
        })
        .collect();
    let recipient_ids: Vec<String> = signed.map_or_else(
        || releases.iter().map(|r| r.recipient.clone()).collect(),
        |s| s.consent.recipients.iter().map(|r| r.id.clone()).collect(),
    );
    let kinds: Vec<String> = signed
        .map(|s| s.consent.records.iter().map(|k| k.id.clone()).collect())
        .unwrap_or_default();
    let recipients = recipient_ids
        .into_iter()
        .map(|id| match releases.iter().find(|r| r.recipient == id) {
            Some(r) => {
                let names = |ids: &mut dyn Iterator<Item = &String>| {
                    ids.map(|k| title(k)).collect::<Vec<_>>().join(", ")
                };
                let withheld = names(&mut kinds.iter().filter(|k| !r.records.contains(k)));
                let mut details = vec![
                    u.receipt_release_records
                        .replace("{records}", &names(&mut r.records.iter())),
                ];
                if !withheld.is_empty() {
                    details.push(u.receipt_release_withheld.replace("{records}", &withheld));
                }
                details.push(
                    u.receipt_release_purpose
                        .replace("{purpose}", &title(&r.purpose)),
                );
                details.push(
                    u.receipt_release_until
                        .replace("{until}", &until_words(r.duration, lang)),
                );
                Choice {
                    head: u.receipt_release_yes.replace("{recipient}", &title(&id)),
                    details,
                    id,
                    yes: true,
                }
            }
            None => Choice {
                head: u.receipt_release_no.replace("{recipient}", &title(&id)),
                details: Vec::new(),
                id,
                yes: false,
            },
        })
        .collect();
    (purposes, recipients)
}

/// The choices as plain text, one line each (details indented): what the share sheet passes on.
pub fn choices_text(lang: Lang, purposes: &[Choice], recipients: &[Choice]) -> String {
    let u = ui(lang);
    let mut out = String::new();
    for (heading, list) in [
        (u.consent_purposes_title, purposes),
        (u.consent_releases_title, recipients),
    ] {
        out.push_str(heading);
        out.push('\n');
        for c in list {
            out.push_str(&format!("- {}\n", c.head));
            for d in &c.details {
                out.push_str(&format!("  {d}\n"));
            }
        }
        out.push('\n');
    }
    out.trim_end().to_owned()
}

/// The choices as the family reads them on the screen and on paper.
pub fn choices_view(lang: Lang, purposes: Vec<Choice>, recipients: Vec<Choice>) -> impl IntoView {
    let u = ui(lang);
    let purposes = purposes
        .into_iter()
        .map(|c| {
            view! {
                <li data-agreed=c.id data-yes=c.yes.to_string() class:declined=!c.yes>
                    <strong>{c.head}</strong>
                    {c.details.into_iter().map(|d| view! { <span class="consent-words">{d}</span> }).collect_view()}
                </li>
            }
        })
        .collect_view();
    let recipients = recipients
        .into_iter()
        .map(|c| {
            let details = (!c.details.is_empty()).then(|| {
                view! { <ul>{c.details.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}</ul> }
            });
            view! {
                <li data-released=c.id data-yes=c.yes.to_string() class:declined=!c.yes>
                    <strong>{c.head}</strong>
                    {details}
                </li>
            }
        })
        .collect_view();
    view! {
        <h2>{u.consent_purposes_title}</h2>
        <ul class="choices" data-testid="receipt-purposes">{purposes}</ul>
        <h2>{u.consent_releases_title}</h2>
        <ul class="choices" data-testid="receipt-releases">{recipients}</ul>
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cris_core::consent::text::{ConsentText, Detail, PLACEHOLDERS};

    use super::*;

    fn setup() -> Setup {
        let text = |json| Arc::new(ConsentText::from_json(json).unwrap());
        Setup {
            agency: PLACEHOLDERS
                .iter()
                .map(|p| ((*p).to_owned(), Detail::Same(format!("Test {p}"))))
                .collect(),
            notice: text(include_str!("../../../../forms/consent/notice.json")),
            consent: text(include_str!("../../../../forms/consent/consent.json")),
        }
    }

    fn housing() -> Release {
        Release {
            recipient: "housing_office".into(),
            records: vec!["housing".into()],
            purpose: "housing_search".into(),
            duration: Duration::Until("2030-06-30".parse().unwrap()),
        }
    }

    #[test]
    fn the_signed_text_lists_every_recipient_released_or_not() {
        let setup = setup();
        let agreed = ["housing_search".to_owned()];
        let (purposes, recipients) = choices(Some(&setup), true, Lang::Tr, &agreed, &[housing()]);
        assert_eq!(purposes.len(), setup.consent.purposes.len());
        assert_eq!(recipients.len(), setup.consent.recipients.len());
        let yes: Vec<&str> = recipients
            .iter()
            .filter(|c| c.yes)
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(yes, ["housing_office"]);
        let office = recipients.iter().find(|c| c.yes).unwrap();
        assert!(
            office.details.iter().any(|d| d.contains("30.06.2030")),
            "{office:?}"
        );
        assert!(
            recipients
                .iter()
                .filter(|c| !c.yes)
                .all(|c| c.details.is_empty() && c.head.contains("izin verilmedi")),
            "{recipients:?}"
        );
    }

    /// A copy of a consent signed on another version than the phone holds lists only what was
    /// agreed: the phone's version may offer recipients the family was never asked about.
    #[test]
    fn another_version_lists_only_what_was_agreed() {
        let setup = setup();
        let agreed = ["housing_search".to_owned()];
        let (purposes, recipients) = choices(Some(&setup), false, Lang::Tr, &agreed, &[housing()]);
        assert_eq!(purposes.len(), 1);
        assert!(purposes[0].yes);
        assert_eq!(recipients.len(), 1);
        assert!(recipients[0].yes);
        assert!(
            !recipients[0]
                .details
                .iter()
                .any(|d| d.starts_with("Şu kayıtlar verilmez")),
            "no records said withheld that the signed version may not have had"
        );
        let (_, without_texts) = choices(None, true, Lang::Tr, &agreed, &[housing()]);
        assert_eq!(without_texts.len(), 1);
    }
}
