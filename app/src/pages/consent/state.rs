//! The consent being taken, as one value: the screen the family is on and what they chose so
//! far. Every change is a method here, pure and tested without a browser; the flow keeps the
//! value in one signal, and on the phone after every change (a [`ConsentDraft`]). The
//! signature itself is drawn on the pad, which keeps its strokes in a signal of its own.

use std::collections::{BTreeMap, BTreeSet};

use cris_core::consent::text::ConsentText;
use cris_core::consent::{Duration, IdentityCheck, Release, Signature, SignerRole};
use cris_core::{Date, Lang};

use crate::storage::{ConsentDraft, ReleaseDraft};

/// The screens, in order.
pub const STEPS: usize = 4;
pub const NOTICE: usize = 0;
pub const PURPOSES: usize = 1;
pub const RELEASES: usize = 2;
pub const SIGN: usize = 3;

/// For how long a release is to hold, as chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    Once,
    Date,
    Withdrawn,
}

impl Until {
    pub fn code(self) -> &'static str {
        match self {
            Until::Once => "once",
            Until::Date => "until",
            Until::Withdrawn => "recurring",
        }
    }

    fn from_code(code: &str) -> Self {
        match code {
            "once" => Until::Once,
            "until" => Until::Date,
            _ => Until::Withdrawn,
        }
    }
}

/// A release as it is being chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseChoice {
    pub records: BTreeSet<String>,
    pub purpose: String,
    pub until: Until,
    /// The day typed for [`Until::Date`] (`YYYY-MM-DD`, as the date picker gives it).
    pub date: String,
}

impl Default for ReleaseChoice {
    fn default() -> Self {
        ReleaseChoice {
            records: BTreeSet::new(),
            purpose: String::new(),
            until: Until::Withdrawn,
            date: String::new(),
        }
    }
}

impl ReleaseChoice {
    /// Whether it can be signed on `today`: records, a purpose, and a day not past.
    fn complete(&self, today: Date) -> bool {
        !self.records.is_empty()
            && !self.purpose.is_empty()
            && (self.until != Until::Date || self.date.parse::<Date>().is_ok_and(|d| d >= today))
    }

    /// As the consent records it; `None` while a chosen day is not a day.
    fn release(&self, recipient: &str) -> Option<Release> {
        Some(Release {
            recipient: recipient.to_owned(),
            records: self.records.iter().cloned().collect(),
            purpose: self.purpose.clone(),
            duration: match self.until {
                Until::Once => Duration::Once,
                Until::Withdrawn => Duration::Recurring,
                Until::Date => Duration::Until(self.date.parse().ok()?),
            },
        })
    }
}

/// The consent being taken.
#[derive(Clone, Debug, PartialEq)]
pub struct Taking {
    pub case_id: String,
    /// The family's language.
    pub lang: Lang,
    pub step: usize,
    pub purposes: BTreeSet<String>,
    /// By recipient.
    pub releases: BTreeMap<String, ReleaseChoice>,
    pub signer: String,
    pub role: SignerRole,
    pub interpreter: String,
    pub identity: Option<IdentityCheck>,
}

/// Why the family cannot go on yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hold {
    /// A release lacks its records, its purpose, or a day not past.
    ReleaseIncomplete,
}

impl Taking {
    /// A consent not begun, for the household `case_id`, in `lang`.
    pub fn new(case_id: &str, lang: Lang) -> Self {
        Taking {
            case_id: case_id.to_owned(),
            lang,
            step: NOTICE,
            purposes: BTreeSet::new(),
            releases: BTreeMap::new(),
            signer: String::new(),
            role: SignerRole::Themselves,
            interpreter: String::new(),
            identity: None,
        }
    }

    /// Where the family left off, as the phone kept it.
    pub fn from_draft(d: &ConsentDraft) -> Self {
        Taking {
            case_id: d.case_id.clone(),
            lang: d.lang,
            step: d.step.min(STEPS - 1),
            purposes: d.purposes.iter().cloned().collect(),
            releases: d
                .releases
                .iter()
                .map(|r| {
                    let choice = ReleaseChoice {
                        records: r.records.iter().cloned().collect(),
                        purpose: r.purpose.clone(),
                        until: Until::from_code(&r.until),
                        date: r.date.clone(),
                    };
                    (r.recipient.clone(), choice)
                })
                .collect(),
            signer: d.signer.clone(),
            role: d.role,
            interpreter: d.interpreter.clone(),
            identity: d.identity,
        }
    }

    /// What the phone keeps of it, with the signature drawn so far.
    pub fn to_draft(&self, signature: Signature) -> ConsentDraft {
        ConsentDraft {
            case_id: self.case_id.clone(),
            lang: self.lang,
            step: self.step,
            purposes: self.purposes.iter().cloned().collect(),
            releases: self
                .releases
                .iter()
                .map(|(recipient, c)| ReleaseDraft {
                    recipient: recipient.clone(),
                    records: c.records.iter().cloned().collect(),
                    purpose: c.purpose.clone(),
                    until: c.until.code().to_owned(),
                    date: c.date.clone(),
                })
                .collect(),
            signature,
            signer: self.signer.clone(),
            role: self.role,
            interpreter: self.interpreter.clone(),
            identity: self.identity,
        }
    }

    /// Whether a kept draft had got anywhere: past the notice, or a purpose ticked.
    pub fn begun(&self) -> bool {
        self.step > NOTICE || !self.purposes.is_empty()
    }

    /// Everything chosen is dropped: the notice again, in the same language.
    pub fn discard(&mut self) {
        *self = Taking::new(&self.case_id, self.lang);
    }

    pub fn tick_purpose(&mut self, id: &str, on: bool) {
        if on {
            self.purposes.insert(id.to_owned());
        } else {
            self.purposes.remove(id);
        }
    }

    /// Releases `recipient` (with nothing chosen yet), or takes the release back.
    pub fn release(&mut self, recipient: &str, on: bool) {
        if on {
            self.releases.entry(recipient.to_owned()).or_default();
        } else {
            self.releases.remove(recipient);
        }
    }

    /// Changes the release of `recipient`, if it is released.
    pub fn edit_release(&mut self, recipient: &str, change: impl FnOnce(&mut ReleaseChoice)) {
        if let Some(choice) = self.releases.get_mut(recipient) {
            change(choice);
        }
    }

    pub fn tick_record(&mut self, recipient: &str, record: &str, on: bool) {
        self.edit_release(recipient, |c| {
            if on {
                c.records.insert(record.to_owned());
            } else {
                c.records.remove(record);
            }
        });
    }

    /// The next screen, unless what is chosen on this one is incomplete on `today`.
    pub fn next(&mut self, today: Date) -> Result<(), Hold> {
        if self.step == RELEASES && self.releases.values().any(|c| !c.complete(today)) {
            return Err(Hold::ReleaseIncomplete);
        }
        self.step = (self.step + 1).min(STEPS - 1);
        Ok(())
    }

    pub fn back(&mut self) {
        self.step = self.step.saturating_sub(1);
    }

    /// The purposes agreed to, in the text's order (not the order they were ticked in).
    pub fn agreed(&self, text: &ConsentText) -> Vec<String> {
        text.purposes
            .iter()
            .map(|p| p.id.clone())
            .filter(|p| self.purposes.contains(p))
            .collect()
    }

    /// The releases as the consent records them, in the text's order of recipients.
    pub fn releases_of(&self, text: &ConsentText) -> Vec<Release> {
        text.recipients
            .iter()
            .filter_map(|r| self.releases.get(&r.id)?.release(&r.id))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text() -> ConsentText {
        ConsentText::from_json(include_str!("../../../../forms/consent/consent.json")).unwrap()
    }

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn a_release_must_be_complete_to_go_on() {
        let today = day("2026-12-06");
        let mut t = Taking::new("case-1", Lang::Tr);
        t.next(today).unwrap();
        t.tick_purpose("housing_search", true);
        t.next(today).unwrap();
        assert_eq!(t.step, RELEASES);
        // Nothing released: on to the signature.
        let mut none = t.clone();
        assert_eq!(none.next(today), Ok(()));
        assert_eq!(none.step, SIGN);

        t.release("housing_office", true);
        assert_eq!(t.next(today), Err(Hold::ReleaseIncomplete));
        t.tick_record("housing_office", "housing", true);
        t.edit_release("housing_office", |c| c.purpose = "housing_search".into());
        t.edit_release("housing_office", |c| c.until = Until::Date);
        t.edit_release("housing_office", |c| c.date = "2026-12-05".into());
        assert_eq!(t.next(today), Err(Hold::ReleaseIncomplete), "a day past");
        t.edit_release("housing_office", |c| c.date = "kein Datum".into());
        assert_eq!(t.next(today), Err(Hold::ReleaseIncomplete), "not a day");
        t.edit_release("housing_office", |c| c.date = "2026-12-06".into());
        assert_eq!(t.next(today), Ok(()));
        assert_eq!(t.step, SIGN);
        assert_eq!(t.next(today), Ok(()), "the last screen stays");
        assert_eq!(t.step, SIGN);

        // Taken back, a release leaves nothing behind; editing it then changes nothing.
        t.release("housing_office", false);
        t.tick_record("housing_office", "health", true);
        assert!(t.releases.is_empty());
    }

    #[test]
    fn the_choices_come_out_in_the_texts_order() {
        let text = text();
        let mut t = Taking::new("case-1", Lang::Bg);
        t.tick_purpose("photos", true);
        t.tick_purpose("school_contact", true);
        t.tick_purpose("housing_search", true);
        t.tick_purpose("housing_search", false);
        assert_eq!(t.agreed(&text), ["school_contact", "photos"]);
        for recipient in ["school", "housing_office"] {
            t.release(recipient, true);
            t.tick_record(recipient, "household", true);
            t.edit_release(recipient, |c| c.purpose = "school_contact".into());
        }
        t.edit_release("school", |c| c.until = Until::Once);
        let releases = t.releases_of(&text);
        let order: Vec<&str> = releases.iter().map(|r| r.recipient.as_str()).collect();
        let in_text: Vec<&str> = text
            .recipients
            .iter()
            .map(|r| r.id.as_str())
            .filter(|id| order.contains(id))
            .collect();
        assert_eq!(order, in_text);
        let school = releases.iter().find(|r| r.recipient == "school").unwrap();
        assert_eq!(school.duration, Duration::Once);
        assert_eq!(school.records, ["household"]);
    }

    #[test]
    fn what_the_phone_keeps_comes_back_the_same_and_discarding_starts_over() {
        let mut t = Taking::new("case-1", Lang::Hu);
        t.next(day("2026-12-06")).unwrap();
        t.tick_purpose("photos", true);
        t.release("partner", true);
        t.edit_release("partner", |c| {
            c.until = Until::Date;
            c.date = "2027-01-31".into();
        });
        t.signer = "Ilona Próba".into();
        t.role = SignerRole::Parent;
        t.identity = Some(IdentityCheck::Passport);
        assert!(t.begun());
        let kept = t.to_draft(Signature::default());
        assert_eq!(Taking::from_draft(&kept), t);
        assert_eq!(kept.releases[0].until, "until");

        t.discard();
        assert_eq!(t, Taking::new("case-1", Lang::Hu));
        assert!(!t.begun());
        t.back();
        assert_eq!(t.step, NOTICE);
    }
}
