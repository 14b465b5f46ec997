//! Referrals: a household sent to a service (the housing office, the school, a partner
//! organisation) under its consent, and what became of it. A referral is made on the phone
//! and travels as an operation; so does every move of its state. The consent rule is
//! [`crate::consent::release_for`]: that recipient released for that purpose with those
//! kinds of record, on the day the server receives it.
//!
//! Its state is the latest update by the hybrid logical clock, so that the same updates in
//! any order leave the same referral on every device.

use serde::{Deserialize, Serialize};

use crate::Date;
use crate::hlc::Hlc;

/// The longest text a worker writes into a referral (what is asked, an outcome, why it was
/// declined), in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// A referral as the worker makes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    /// UUIDv7, made on the phone.
    pub id: String,
    /// The service: a recipient's id in the consent text (`housing_office`, `school`, …).
    pub recipient: String,
    /// A purpose's id in the consent text.
    pub purpose: String,
    /// The kinds of record that go with it (ids of the consent text's records).
    pub records: Vec<String>,
    /// What is asked of the service.
    pub asked: String,
    /// When to ask what became of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<Date>,
}

/// Where a referral stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralState {
    Sent,
    AppointmentMade,
    Accepted,
    /// Done, with the outcome in a sentence.
    Done,
    /// Declined by the service or the family, with why.
    Declined,
}

impl ReferralState {
    pub const ALL: [ReferralState; 5] = [
        ReferralState::Sent,
        ReferralState::AppointmentMade,
        ReferralState::Accepted,
        ReferralState::Done,
        ReferralState::Declined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralState::Sent => "sent",
            ReferralState::AppointmentMade => "appointment_made",
            ReferralState::Accepted => "accepted",
            ReferralState::Done => "done",
            ReferralState::Declined => "declined",
        }
    }

    pub fn parse(text: &str) -> Option<ReferralState> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the referral is over: nothing to follow up any more.
    pub fn is_closed(self) -> bool {
        matches!(self, ReferralState::Done | ReferralState::Declined)
    }

    /// Whether a move to this state needs a sentence (the outcome, or why it was declined).
    pub fn needs_note(self) -> bool {
        self.is_closed()
    }
}

/// A move of a referral's state, with a note and the next follow-up (none: nothing to
/// follow up).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralUpdate {
    pub referral_id: String,
    pub state: ReferralState,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<Date>,
}

/// What is wrong with a referral or an update as written (the consent is checked apart).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReferralProblem {
    #[error("a referral names a service, a purpose and what is asked")]
    Incomplete,
    #[error("a referral sends at least one kind of record")]
    NoRecords,
    #[error("a text is longer than {MAX_TEXT_CHARS} characters")]
    TooLong,
    #[error("done and declined need a sentence: the outcome, or why")]
    NoteMissing,
    #[error("a referral starts as sent")]
    NotSent,
}

impl Referral {
    /// Whether it is complete and within bounds.
    pub fn problem(&self) -> Option<ReferralProblem> {
        let blank = |s: &str| s.trim().is_empty();
        if blank(&self.recipient) || blank(&self.purpose) || blank(&self.asked) {
            return Some(ReferralProblem::Incomplete);
        }
        if self.records.is_empty() || self.records.iter().any(|r| blank(r)) {
            return Some(ReferralProblem::NoRecords);
        }
        if self.asked.chars().count() > MAX_TEXT_CHARS {
            return Some(ReferralProblem::TooLong);
        }
        None
    }
}

impl ReferralUpdate {
    /// Whether it is complete and within bounds.
    pub fn problem(&self) -> Option<ReferralProblem> {
        if self.note.chars().count() > MAX_TEXT_CHARS {
            return Some(ReferralProblem::TooLong);
        }
        if self.state.needs_note() && self.note.trim().is_empty() {
            return Some(ReferralProblem::NoteMissing);
        }
        if self.state == ReferralState::Sent {
            return Some(ReferralProblem::NotSent);
        }
        None
    }
}

/// A referral with what became of it, as a device folds it from the operations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Followed {
    pub referral: Referral,
    /// The referral's own stamp, then each update's with what it set.
    pub made: Hlc,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub updates: Vec<(Hlc, ReferralUpdate)>,
}

impl Followed {
    pub fn new(referral: Referral, made: Hlc) -> Followed {
        Followed {
            referral,
            made,
            updates: Vec::new(),
        }
    }

    /// Adds an update (again: nothing changes).
    pub fn update(&mut self, hlc: Hlc, update: ReferralUpdate) {
        if !self.updates.iter().any(|(h, _)| *h == hlc) {
            self.updates.push((hlc, update));
            self.updates.sort_by(|a, b| a.0.cmp(&b.0));
        }
    }

    fn latest(&self) -> Option<&ReferralUpdate> {
        self.updates.last().map(|(_, u)| u)
    }

    /// Where it stands: the latest update's state, or sent.
    pub fn state(&self) -> ReferralState {
        self.latest().map_or(ReferralState::Sent, |u| u.state)
    }

    /// When to follow it up: the latest update's date (none once it is over), or the
    /// referral's own.
    pub fn follow_up(&self) -> Option<Date> {
        match self.latest() {
            Some(u) if u.state.is_closed() => None,
            Some(u) => u.follow_up,
            None => self.referral.follow_up,
        }
    }

    /// Whether it is to be followed up on or before `today`.
    pub fn due(&self, today: Date) -> bool {
        self.follow_up().is_some_and(|d| d <= today)
    }
}

/// `GET /api/v1/cases/{id}/referrals/{referral_id}/letter?lang=de`: the letter a worker hands
/// or sends to the service, in the service's language (German unless asked; a partner agency
/// in Budapest asks for Hungarian), carrying only the kinds of
/// record the household's consent releases to that service for that purpose, and the consent
/// it goes under. The app prints it; it never sends it anywhere itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralLetter {
    pub lang: crate::Lang,
    pub case_id: String,
    pub referral_id: String,
    /// The agency's name and address, where the server knows them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_address: Option<String>,
    /// The service and the purpose, as the consent text names them.
    pub service: String,
    pub purpose: String,
    pub asked: String,
    /// The worker who made the referral, and when the server received it.
    pub referred_by: String,
    pub referred_at_ms: i64,
    pub consent: LetterConsent,
    /// The released kinds of record, each with what the household's latest forms say of it.
    pub records: Vec<LetterRecord>,
    /// Who made this letter, and when (recorded in the audit trail).
    pub made_by: String,
    pub made_at_ms: i64,
}

/// The consent a letter goes under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterConsent {
    pub consent_id: String,
    /// When the family signed (the phone's clock).
    pub signed_at_ms: i64,
    /// The SHA-256 of the signed record, by which the service can ask the agency to show it.
    pub binding: String,
    pub until: crate::consent::Grant,
}

/// A kind of record in a letter: its name, and the answers of the fields it covers, form by
/// form (each form's latest submission).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterRecord {
    pub id: String,
    pub title: String,
    pub forms: Vec<LetterForm>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterForm {
    pub title: String,
    /// When the worker finished the form (the phone's clock).
    pub finalized_at_ms: i64,
    pub answers: Vec<LetterAnswer>,
}

/// An answer as the form shows it; a repeat group's entries are numbered from 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterAnswer {
    pub label: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<u32>,
}

/// Whether the field `name` of form `form_id`, inside the groups `groups` (outermost first),
/// is one of `fields` (`form/field` entries of a kind of record).
pub fn covers(fields: &[String], form_id: &str, groups: &[&str], name: &str) -> bool {
    fields.iter().any(|entry| {
        entry.split_once('/').is_some_and(|(form, field)| {
            form == form_id && (field == name || groups.contains(&field))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(wall_ms: u64, device: &str) -> Hlc {
        Hlc {
            wall_ms,
            counter: 0,
            device: device.into(),
        }
    }

    fn referral() -> Referral {
        Referral {
            id: "0192b3c4-0000-7000-8000-0000000000f1".into(),
            recipient: "housing_office".into(),
            purpose: "housing_search".into(),
            records: vec!["household".into(), "housing".into()],
            asked: "Wohnung für fünf Personen, Termin für Beratung".into(),
            follow_up: Some("2026-12-14".parse().unwrap()),
        }
    }

    fn update(state: ReferralState, note: &str, follow_up: Option<&str>) -> ReferralUpdate {
        ReferralUpdate {
            referral_id: referral().id,
            state,
            note: note.into(),
            follow_up: follow_up.map(|d| d.parse().unwrap()),
        }
    }

    #[test]
    fn a_referral_and_its_updates_are_checked() {
        assert_eq!(referral().problem(), None);
        let mut blank = referral();
        blank.asked = "  ".into();
        assert_eq!(blank.problem(), Some(ReferralProblem::Incomplete));
        let mut none = referral();
        none.records.clear();
        assert_eq!(none.problem(), Some(ReferralProblem::NoRecords));
        let mut long = referral();
        long.asked = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(long.problem(), Some(ReferralProblem::TooLong));
        let done = update(ReferralState::Done, " ", None);
        assert_eq!(done.problem(), Some(ReferralProblem::NoteMissing));
        let back = update(ReferralState::Sent, "", None);
        assert_eq!(back.problem(), Some(ReferralProblem::NotSent));
        assert_eq!(update(ReferralState::Accepted, "", None).problem(), None);
    }

    #[test]
    fn the_latest_update_wins_in_any_order_and_a_closed_referral_has_nothing_due() {
        let today = "2026-12-14".parse().unwrap();
        let updates = [
            (
                stamp(2, "a"),
                update(ReferralState::AppointmentMade, "", Some("2026-12-20")),
            ),
            (
                stamp(3, "b"),
                update(ReferralState::Accepted, "", Some("2026-12-10")),
            ),
            (
                stamp(4, "a"),
                update(ReferralState::Done, "Wohnung gefunden", None),
            ),
        ];
        let mut states = Vec::new();
        for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0]] {
            let mut f = Followed::new(referral(), stamp(1, "a"));
            assert_eq!(f.state(), ReferralState::Sent);
            assert!(f.due(today), "due on its own follow-up day");
            for i in order {
                let (hlc, u) = updates[i].clone();
                f.update(hlc.clone(), u.clone());
                f.update(hlc, u);
            }
            states.push((f.state(), f.follow_up(), f.updates.len()));
        }
        assert!(
            states.iter().all(|s| *s == (ReferralState::Done, None, 3)),
            "{states:?}"
        );
        let mut accepted = Followed::new(referral(), stamp(1, "a"));
        let (hlc, u) = updates[1].clone();
        accepted.update(hlc, u);
        assert!(accepted.due(today));
        assert_eq!(accepted.follow_up(), Some("2026-12-10".parse().unwrap()));
    }
}
