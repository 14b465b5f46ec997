//! The family's copy (GDPR Art. 15 and 20): everything the agency holds about one household,
//! as `GET /api/v1/cases/{id}/copy` answers it. Every text a person reads is given in the
//! family's language and in German ([`Said`]), so the same document prints for the family
//! and files for the agency, and its JSON is the machine-readable copy of Art. 20.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::ReviewDecision;
use crate::lang::Lang;
use crate::record::CloseReason;

/// A text in the family's language and in German (one entry when they are the same).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Said(pub BTreeMap<Lang, String>);

impl Said {
    /// `words(lang)` for the family's language and for German.
    pub fn of(family: Lang, words: impl Fn(Lang) -> String) -> Said {
        let mut said = BTreeMap::new();
        said.insert(Lang::De, words(Lang::De));
        said.insert(family, words(family));
        Said(said)
    }

    /// The same words in every language (a name, a number, a free text).
    pub fn same(family: Lang, words: &str) -> Said {
        Said::of(family, |_| words.to_owned())
    }

    /// The words in `lang` ("" when it is neither of the two).
    pub fn get(&self, lang: Lang) -> &str {
        self.0.get(&lang).map_or("", String::as_str)
    }
}

/// `GET /api/v1/cases/{id}/copy`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyCopy {
    pub case_id: String,
    /// The household's name as the records give it now.
    pub household: String,
    /// The family's language; German is always beside it.
    pub lang: Lang,
    /// The agency that holds the data (its name), where the server knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// The server's clock when the copy was made, and who made it (account name).
    pub made_at_ms: i64,
    pub made_by: String,
    /// Households found to be this family and merged into it: their records are here too.
    #[serde(default)]
    pub merged: Vec<String>,
    /// Every form filled for the household, oldest received first, corrections included.
    pub forms: Vec<CopiedForm>,
    pub consents: Vec<CopiedConsent>,
    pub withdrawals: Vec<CopiedWithdrawal>,
    /// What supervisors decided about the forms.
    pub reviews: Vec<CopiedReview>,
    /// Closings, reopenings, merges and corrections of the household's details.
    pub events: Vec<CopiedEvent>,
    /// Referrals to other services, with what became of them.
    #[serde(default)]
    pub referrals: Vec<CopiedReferral>,
    /// Exports for reporting that held its data.
    pub exports: Vec<CopiedExport>,
    /// Who read its records, from the audit trail (made copies included).
    pub reads: Vec<CopiedRead>,
}

/// One filled form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CopiedForm {
    pub submission_id: String,
    pub form_id: String,
    pub form_version: u32,
    pub title: Said,
    /// The worker who filled it (account name).
    pub by: String,
    /// The phone's clock when it was finished, and the server's when it arrived.
    pub finalized_at_ms: i64,
    pub received_at_ms: i64,
    /// The form it corrects, and the worker's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction_reason: Option<String>,
    /// A later form that corrects this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_by: Option<String>,
    pub answers: Vec<CopiedAnswer>,
}

/// One answer, in the order of the form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CopiedAnswer {
    /// The field's name in the form definition.
    pub field: String,
    pub label: Said,
    /// The answer as the form shows it: a choice by its label, yes and no in words.
    pub value: Said,
    /// The repeat group it belongs to, and the entry's number (from 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Said>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<u32>,
}

/// A signed consent, with the words the family read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CopiedConsent {
    pub consent_id: String,
    pub title: Said,
    pub text_id: String,
    pub text_version: u32,
    /// The language the family read it in.
    pub read_in: Lang,
    /// The whole text as it was shown, in that language, and in German when it was another;
    /// absent when the server no longer has that version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_de: Option<String>,
    /// Whether those words are exactly the ones signed (their SHA-256 is the one recorded).
    pub text_matches: bool,
    /// The purposes agreed to, and those declined.
    pub agreed: Vec<Said>,
    pub declined: Vec<Said>,
    /// Agencies released from confidentiality.
    pub released_to: Vec<Said>,
    pub signer: String,
    pub witness: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    pub signed_at_ms: i64,
    /// The signature as drawn, an SVG picture.
    pub signature_svg: String,
    /// The SHA-256 that binds all of it.
    pub binding: String,
}

/// A withdrawal of a consent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CopiedWithdrawal {
    pub withdrawal_id: String,
    pub consent_id: String,
    /// Everything the consent allowed, or only these purposes and releases.
    pub everything: bool,
    pub purposes: Vec<Said>,
    pub released_to: Vec<Said>,
    pub witness: String,
    pub at_ms: i64,
}

/// A supervisor's decision on a form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CopiedReview {
    pub submission_id: String,
    pub decision: ReviewDecision,
    pub comment: String,
    pub by: String,
    pub at_ms: i64,
}

/// Something done to the household's case as a whole.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CaseEvent {
    Closed {
        reason: CloseReason,
    },
    Reopened,
    /// This household (`case_id`) was found to be the same family as `into`.
    Merged {
        case_id: String,
        into: String,
    },
    Unmerged {
        case_id: String,
    },
    /// Found to be another family than `other`, however alike.
    Distinct {
        other: String,
    },
    /// Someone chose between two values written at once (the details' names).
    Resolved {
        fields: Vec<Said>,
    },
}

/// A [`CaseEvent`], by whom and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CopiedEvent {
    pub event: CaseEvent,
    pub by: String,
    pub at_ms: i64,
}

/// A referral to a service, with every move of its state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CopiedReferral {
    pub referral_id: String,
    pub service: Said,
    pub purpose: Said,
    /// The kinds of record that went with it.
    pub records: Vec<Said>,
    pub asked: String,
    pub by: String,
    pub at_ms: i64,
    pub updates: Vec<CopiedReferralUpdate>,
}

/// A move of a referral's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CopiedReferralUpdate {
    pub state: crate::referral::ReferralState,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    pub by: String,
    pub at_ms: i64,
}

/// An export that held the household's data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CopiedExport {
    pub export_id: String,
    pub by: String,
    pub at_ms: i64,
    /// `xlsx` or `csv`.
    pub format: String,
    /// Whether it held the fields marked sensitive (health).
    pub sensitive: bool,
}

/// One read of the household's records, from the audit trail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CopiedRead {
    pub at_ms: i64,
    /// The account (its name, or its login when it is gone).
    pub by: String,
    /// What was read: `read_history`, `read_submission`, `read_consents`, `read_may_share`,
    /// `family_copy`.
    pub what: String,
}
