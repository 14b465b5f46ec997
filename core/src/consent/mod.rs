//! Consents (DESIGN.md: record model): what a family agreed to, bound by one hash to the exact
//! text they were shown, their signature and the circumstances of signing, so that years later
//! the agency can show what was agreed and that nothing was changed since.
//!
//! A consent is never changed. A withdrawal (complete, of some purposes, or of some
//! recipients) is a record of its own. What a household has agreed to *now* is derived from all
//! of them by [`state`].
//!
//! The hash covers the record's JSON as serde writes it (fields in declaration order, no maps
//! with free order, integers only), so the phone and the server compute the same bytes.

pub mod text;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::date::Date;
use crate::hlc::Hlc;
use crate::lang::Lang;

/// A text as it was shown: which one, in which version and language, and the SHA-256 of the
/// exact words on the screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownText {
    pub id: String,
    pub version: u32,
    pub lang: Lang,
    /// Lower-case hex.
    pub sha256: String,
}

/// The SHA-256 of a text, as [`ShownText::sha256`] keeps it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// The most points a signature may have: minutes of drawing at 60 points a second.
pub const MAX_POINTS: usize = 20_000;
/// The longest name, note or id a consent or withdrawal may carry, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;

/// One sampled point of a stroke, in tenths of a CSS pixel of the pad, with the time since
/// the stroke began and the pen's pressure (0 to 1000) where the device reports one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    pub x: i32,
    pub y: i32,
    pub t_ms: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pressure: Option<u16>,
}

/// A handwritten signature: strokes as drawn on a pad of `width` × `height` (tenths of a
/// CSS pixel).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub width: u32,
    pub height: u32,
    pub strokes: Vec<Vec<Point>>,
}

impl Signature {
    /// Why this is not a signature one could recognise again: nothing drawn, or a dot or a
    /// tick (its strokes span less than a twentieth of the pad's width and a tenth of its
    /// height).
    pub fn problem(&self) -> Option<Problem> {
        let points: Vec<&Point> = self.strokes.iter().flatten().collect();
        if points.is_empty() {
            return Some(Problem::SignatureEmpty);
        }
        if points.len() > MAX_POINTS || self.width == 0 || self.height == 0 {
            return Some(Problem::SignatureTooLarge);
        }
        let span = |f: fn(&Point) -> i32| {
            let (lo, hi) = points.iter().fold((i32::MAX, i32::MIN), |(lo, hi), p| {
                (lo.min(f(p)), hi.max(f(p)))
            });
            i64::from(hi) - i64::from(lo)
        };
        let wide = span(|p| p.x) * 20 >= i64::from(self.width);
        let tall = span(|p| p.y) * 10 >= i64::from(self.height);
        if !(wide || tall) || points.len() < 3 {
            return Some(Problem::SignatureTooSmall);
        }
        None
    }

    /// The signature as an SVG image (for the receipt and for people checking it later).
    pub fn to_svg(&self) -> String {
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" \
             fill=\"none\" stroke=\"#000\" stroke-width=\"20\" stroke-linecap=\"round\" \
             stroke-linejoin=\"round\">",
            self.width, self.height
        );
        for stroke in &self.strokes {
            let mut d = String::new();
            for (i, p) in stroke.iter().enumerate() {
                d.push_str(&format!(
                    "{}{} {}",
                    if i == 0 { "M" } else { " L" },
                    p.x,
                    p.y
                ));
            }
            if stroke.len() == 1 {
                // A single point still shows as a dot.
                d.push_str(" l0 0");
            }
            svg.push_str(&format!("<path d=\"{d}\"/>"));
        }
        svg.push_str("</svg>");
        svg
    }
}

/// Whom the signer signed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignerRole {
    Themselves,
    Parent,
    Guardian,
}

/// How the worker made sure who signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityCheck {
    IdCard,
    Passport,
    ResidencePermit,
    /// Known to the worker from earlier meetings with a checked document.
    KnownToWorker,
}

/// For how long a release from confidentiality holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "until")]
pub enum Duration {
    /// For one transfer.
    Once,
    /// Until the end of this day.
    Until(Date),
    /// Until withdrawn.
    Recurring,
}

/// A release from confidentiality towards one recipient agency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// The recipient's id in the consent text (`housing_office`, `school`, …).
    pub recipient: String,
    /// Which records may be passed on (ids of the text's record kinds).
    pub records: Vec<String>,
    pub purpose: String,
    pub duration: Duration,
}

/// Who signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    pub name: String,
    pub role: SignerRole,
}

/// A signed consent. Never changed once sealed: see [`Withdrawal`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// UUIDv7, made on the phone.
    pub id: String,
    pub case_id: String,
    /// The information notice shown before (GDPR Art. 13): not a consent, but recorded.
    pub notice: ShownText,
    /// The consent text the family read.
    pub text: ShownText,
    /// The purposes ticked (ids from the text); the others were declined.
    pub purposes: Vec<String>,
    pub releases: Vec<Release>,
    pub signer: Signer,
    pub signature: Signature,
    /// The worker who witnessed it (login).
    pub witness: String,
    /// The witness as the family's copy names them (the account's name), where the phone
    /// knew it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness_name: Option<String>,
    /// The interpreter who helped, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    pub identity_check: IdentityCheck,
    /// The phone's clock when it was signed.
    pub signed_at_ms: i64,
    pub device: String,
    pub hlc: Hlc,
    /// SHA-256 of everything above (see [`Sealed::binding_of`]).
    pub binding: String,
}

/// What is wrong with a consent or a withdrawal.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("nothing was signed")]
    SignatureEmpty,
    #[error("the signature is only a dot or a tick")]
    SignatureTooSmall,
    #[error("the signature has more than {MAX_POINTS} points or a pad without size")]
    SignatureTooLarge,
    #[error("a name, note or id is longer than {MAX_TEXT_CHARS} characters")]
    TooLong,
    #[error("the signer's name is missing")]
    SignerMissing,
    #[error("the witness is missing")]
    WitnessMissing,
    #[error("a text is named without the SHA-256 of what was shown")]
    TextHashMissing,
    #[error("the release for {0:?} names no records or no purpose")]
    ReleaseIncomplete(String),
    #[error("it does not match its hash: it was changed after it was signed")]
    Tampered,
    #[error("a withdrawal must name what it withdraws")]
    WithdrawsNothing,
    #[error("version {version} of the text {id:?} is not known here")]
    UnknownText { id: String, version: u32 },
    #[error(
        "the {lang} text {id:?} version {version} shown is not the one this agency shows: its SHA-256 differs"
    )]
    ShownTextDiffers {
        id: String,
        version: u32,
        lang: Lang,
    },
    #[error("{0:?} is not a purpose, recipient or kind of record of the text, or is named twice")]
    UnknownChoice(String),
}

/// A record bound by a hash over its own JSON: a [`Consent`] or a [`Withdrawal`].
pub trait Sealed: Serialize + Clone + Sized {
    /// The hash it carries.
    fn binding(&self) -> &str;
    fn binding_mut(&mut self) -> &mut String;
    /// Whether everything a valid record needs is there.
    fn complete(&self) -> Result<(), Problem>;

    /// The hash binding all of it together: SHA-256 of its JSON with an empty `binding`.
    /// Structs serialize their fields in declaration order whatever serde_json's features (a
    /// `serde_json::Value` would sort keys or not depending on them), so phone and server
    /// hash the same bytes.
    fn binding_of(&self) -> String {
        let mut unbound = self.clone();
        unbound.binding_mut().clear();
        sha256_hex(&serde_json::to_vec(&unbound).expect("a record serializes"))
    }

    /// Checks it is complete, then computes its binding: ready to be kept and sent.
    fn seal(mut self) -> Result<Self, Problem> {
        self.complete()?;
        *self.binding_mut() = self.binding_of();
        Ok(self)
    }

    /// Whether it is complete and unchanged since it was sealed.
    fn verify(&self) -> Result<(), Problem> {
        self.complete()?;
        if self.binding() != self.binding_of() {
            return Err(Problem::Tampered);
        }
        Ok(())
    }
}

impl Sealed for Consent {
    fn binding(&self) -> &str {
        &self.binding
    }

    fn binding_mut(&mut self) -> &mut String {
        &mut self.binding
    }

    fn complete(&self) -> Result<(), Problem> {
        let words = [
            &self.signer.name,
            &self.witness,
            &self.notice.id,
            &self.text.id,
        ]
        .into_iter()
        .chain(&self.witness_name)
        .chain(&self.interpreter)
        .chain(&self.purposes)
        .chain(
            self.releases
                .iter()
                .flat_map(|r| r.records.iter().chain([&r.recipient, &r.purpose])),
        );
        if words
            .into_iter()
            .any(|w| w.chars().count() > MAX_TEXT_CHARS)
        {
            return Err(Problem::TooLong);
        }
        if self.signer.name.trim().is_empty() {
            return Err(Problem::SignerMissing);
        }
        if self.witness.trim().is_empty() {
            return Err(Problem::WitnessMissing);
        }
        for shown in [&self.notice, &self.text] {
            let hex = shown.sha256.len() == 64
                && shown
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !hex {
                return Err(Problem::TextHashMissing);
            }
        }
        if let Some(r) = self
            .releases
            .iter()
            .find(|r| r.records.is_empty() || r.purpose.trim().is_empty())
        {
            return Err(Problem::ReleaseIncomplete(r.recipient.clone()));
        }
        match self.signature.problem() {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }
}

/// What a withdrawal takes back from one consent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "ids")]
pub enum Scope {
    /// Every purpose and every release of the consent.
    All,
    Purposes(Vec<String>),
    Recipients(Vec<String>),
}

/// How a withdrawal was given: signed by the family, or attested by the worker (by phone, in a
/// letter) with a note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Given {
    Signed {
        signer: Signer,
        signature: Signature,
    },
    Attested {
        note: String,
    },
}

/// A withdrawal: a record of its own, the consent stays as it was signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    pub id: String,
    pub case_id: String,
    pub consent_id: String,
    pub scope: Scope,
    pub given: Given,
    /// The worker who took it (login).
    pub witness: String,
    /// The witness as the family's copy names them (the account's name), where the phone
    /// knew it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness_name: Option<String>,
    /// The language the family read the withdrawal in, where the phone asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<Lang>,
    pub at_ms: i64,
    pub device: String,
    pub hlc: Hlc,
    pub binding: String,
}

impl Sealed for Withdrawal {
    fn binding(&self) -> &str {
        &self.binding
    }

    fn binding_mut(&mut self) -> &mut String {
        &mut self.binding
    }

    fn complete(&self) -> Result<(), Problem> {
        let ids = match &self.scope {
            Scope::All => &[][..],
            Scope::Purposes(ids) | Scope::Recipients(ids) => ids,
        };
        let named = match &self.given {
            Given::Signed { signer, .. } => &signer.name,
            Given::Attested { note } => note,
        };
        if ids
            .iter()
            .chain([&self.witness, named])
            .chain(&self.witness_name)
            .any(|w| w.chars().count() > MAX_TEXT_CHARS)
        {
            return Err(Problem::TooLong);
        }
        let empty = match &self.scope {
            Scope::All => false,
            Scope::Purposes(ids) | Scope::Recipients(ids) => ids.is_empty(),
        };
        if empty {
            return Err(Problem::WithdrawsNothing);
        }
        if self.witness.trim().is_empty() {
            return Err(Problem::WitnessMissing);
        }
        match &self.given {
            Given::Signed { signer, signature } => {
                if signer.name.trim().is_empty() {
                    return Err(Problem::SignerMissing);
                }
                signature.problem().map_or(Ok(()), Err)
            }
            Given::Attested { note } if note.trim().is_empty() => Err(Problem::SignerMissing),
            Given::Attested { .. } => Ok(()),
        }
    }
}

/// A consent or a withdrawal, as the phone keeps them side by side (`record` tells which).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    Consent(Box<Consent>),
    Withdrawal(Box<Withdrawal>),
}

impl Record {
    pub fn id(&self) -> &str {
        match self {
            Record::Consent(c) => &c.id,
            Record::Withdrawal(w) => &w.id,
        }
    }

    pub fn case_id(&self) -> &str {
        match self {
            Record::Consent(c) => &c.case_id,
            Record::Withdrawal(w) => &w.case_id,
        }
    }

    /// The consents and the withdrawals among `records`.
    pub fn split(records: &[Record]) -> (Vec<Consent>, Vec<Withdrawal>) {
        let (mut consents, mut withdrawals) = (Vec::new(), Vec::new());
        for record in records {
            match record {
                Record::Consent(c) => consents.push((**c).clone()),
                Record::Withdrawal(w) => withdrawals.push((**w).clone()),
            }
        }
        (consents, withdrawals)
    }
}

/// Until when something agreed holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "until")]
pub enum Grant {
    /// Until withdrawn.
    Open,
    /// Until the end of this day.
    Until(Date),
    /// For one transfer.
    Once,
}

impl Grant {
    /// The longer-lasting of two grants of the same thing.
    fn max(self, other: Grant) -> Grant {
        match (self, other) {
            (Grant::Open, _) | (_, Grant::Open) => Grant::Open,
            (Grant::Until(a), Grant::Until(b)) => Grant::Until(a.max(b)),
            (Grant::Until(d), Grant::Once) | (Grant::Once, Grant::Until(d)) => Grant::Until(d),
            (Grant::Once, Grant::Once) => Grant::Once,
        }
    }
}

/// What a household has agreed to on a given day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentState {
    /// Purposes agreed and not withdrawn.
    pub purposes: BTreeMap<String, Grant>,
    /// Recipients released from confidentiality, not withdrawn and not expired, with the
    /// purposes of their releases.
    pub recipients: BTreeMap<String, (Grant, Vec<String>)>,
}

impl ConsentState {
    /// Whether case data may go to `recipient` for `purpose`.
    pub fn may_share(&self, recipient: &str, purpose: &str) -> bool {
        self.recipients
            .get(recipient)
            .is_some_and(|(_, purposes)| purposes.iter().any(|p| p == purpose))
    }
}

/// What `consents` and `withdrawals` (of one household, any order) grant on `today`. Records
/// that do not verify grant nothing and withdraw nothing.
pub fn state(consents: &[Consent], withdrawals: &[Withdrawal], today: Date) -> ConsentState {
    let mut out = ConsentState::default();
    for consent in consents.iter().filter(|c| c.verify().is_ok()) {
        let taken_back: Vec<&Scope> = withdrawals
            .iter()
            .filter(|w| w.consent_id == consent.id && w.verify().is_ok())
            .map(|w| &w.scope)
            .collect();
        let withdrawn = |purpose: Option<&str>, recipient: Option<&str>| {
            taken_back.iter().any(|scope| match scope {
                Scope::All => true,
                Scope::Purposes(ids) => purpose.is_some_and(|p| ids.iter().any(|i| i == p)),
                Scope::Recipients(ids) => recipient.is_some_and(|r| ids.iter().any(|i| i == r)),
            })
        };
        for purpose in &consent.purposes {
            if !withdrawn(Some(purpose), None) {
                let grant = out
                    .purposes
                    .get(purpose)
                    .map_or(Grant::Open, |g| g.max(Grant::Open));
                out.purposes.insert(purpose.clone(), grant);
            }
        }
        for release in &consent.releases {
            let grant = match release.duration {
                Duration::Once => Grant::Once,
                Duration::Recurring => Grant::Open,
                Duration::Until(end) if end >= today => Grant::Until(end),
                Duration::Until(_) => continue,
            };
            // Taking back a purpose takes back the releases made for it, too.
            if withdrawn(Some(&release.purpose), Some(&release.recipient)) {
                continue;
            }
            let entry = out
                .recipients
                .entry(release.recipient.clone())
                .or_insert((grant, Vec::new()));
            entry.0 = entry.0.max(grant);
            if !entry.1.contains(&release.purpose) {
                entry.1.push(release.purpose.clone());
            }
        }
    }
    out
}

/// The consent that lets records go to a recipient for a purpose (see [`release_for`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Released {
    pub consent_id: String,
    /// The phone's clock when it was signed, and its check sum: what a referral letter cites.
    pub signed_at_ms: i64,
    pub binding: String,
    pub until: Grant,
}

/// Why no consent of a household lets records go to a recipient for a purpose: the nearest
/// miss, which says what the family would have to agree to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum NotReleased {
    /// No consent of the household releases the recipient at all.
    #[error("the household has not released this recipient from confidentiality")]
    Recipient,
    /// It did, and took it back.
    #[error("the household has withdrawn its release of this recipient")]
    Withdrawn,
    /// The release ran out at the end of this day.
    #[error("the release of this recipient ran out on {until}")]
    Expired { until: Date },
    /// The recipient is released for these other purposes only.
    #[error("the recipient is released for other purposes only: {}", released.join(", "))]
    Purpose { released: Vec<String> },
    /// Released for the purpose, but not with these kinds of record.
    #[error("these records are not released to the recipient: {}", missing.join(", "))]
    Records { missing: Vec<String> },
}

/// The consent of `consents` (less `withdrawals`; records that do not verify count for
/// nothing) that releases `recipient` for `purpose` with every kind of record of `records`
/// on `today`: the most recently signed such consent, or the nearest miss.
pub fn release_for(
    consents: &[Consent],
    withdrawals: &[Withdrawal],
    today: Date,
    recipient: &str,
    purpose: &str,
    records: &[String],
) -> Result<Released, NotReleased> {
    let mut verified: Vec<&Consent> = consents.iter().filter(|c| c.verify().is_ok()).collect();
    verified.sort_by_key(|c| std::cmp::Reverse(c.signed_at_ms));
    let (mut withdrawn, mut expired) = (false, None::<Date>);
    let mut other_purposes: Vec<String> = Vec::new();
    let mut fewest_missing: Option<Vec<String>> = None;
    for consent in verified {
        let taken_back = |release: &Release| {
            withdrawals
                .iter()
                .filter(|w| w.consent_id == consent.id && w.verify().is_ok())
                .any(|w| match &w.scope {
                    Scope::All => true,
                    Scope::Purposes(ids) => ids.contains(&release.purpose),
                    Scope::Recipients(ids) => ids.iter().any(|i| i == recipient),
                })
        };
        for release in consent.releases.iter().filter(|r| r.recipient == recipient) {
            if taken_back(release) {
                withdrawn = true;
                continue;
            }
            let until = match release.duration {
                Duration::Until(end) if end < today => {
                    expired = Some(expired.map_or(end, |e| e.max(end)));
                    continue;
                }
                Duration::Until(end) => Grant::Until(end),
                Duration::Once => Grant::Once,
                Duration::Recurring => Grant::Open,
            };
            if release.purpose != purpose {
                if !other_purposes.contains(&release.purpose) {
                    other_purposes.push(release.purpose.clone());
                }
                continue;
            }
            let missing: Vec<String> = records
                .iter()
                .filter(|r| !release.records.contains(r))
                .cloned()
                .collect();
            if missing.is_empty() {
                return Ok(Released {
                    consent_id: consent.id.clone(),
                    signed_at_ms: consent.signed_at_ms,
                    binding: consent.binding.clone(),
                    until,
                });
            }
            if fewest_missing
                .as_ref()
                .is_none_or(|m| missing.len() < m.len())
            {
                fewest_missing = Some(missing);
            }
        }
    }
    Err(match (fewest_missing, other_purposes.is_empty(), expired) {
        (Some(missing), _, _) => NotReleased::Records { missing },
        (None, false, _) => NotReleased::Purpose {
            released: other_purposes,
        },
        (None, true, Some(until)) => NotReleased::Expired { until },
        (None, true, None) if withdrawn => NotReleased::Withdrawn,
        (None, true, None) => NotReleased::Recipient,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVICE: &str = "0192b3c4-0000-7000-8000-00000000d001";

    fn shown(id: &str, text: &str) -> ShownText {
        ShownText {
            id: id.into(),
            version: 1,
            lang: Lang::Bg,
            sha256: sha256_hex(text.as_bytes()),
        }
    }

    /// A signature as a finger draws one: a wavy line across most of the pad.
    fn signature() -> Signature {
        let stroke = (0..40)
            .map(|i| Point {
                x: 200 + i * 60,
                y: 600 + ((i % 7) - 3) * 40,
                t_ms: u32::try_from(i).unwrap() * 16,
                pressure: Some(500),
            })
            .collect();
        Signature {
            width: 3200,
            height: 1200,
            strokes: vec![stroke],
        }
    }

    fn release(recipient: &str, duration: Duration) -> Release {
        Release {
            recipient: recipient.into(),
            records: vec!["housing".into()],
            purpose: "find_housing".into(),
            duration,
        }
    }

    fn consent(id: &str) -> Consent {
        Consent {
            id: id.into(),
            case_id: "case-1".into(),
            notice: shown("notice", "Информация за защита на данните"),
            text: shown("consent", "Съгласие"),
            purposes: vec!["school_contact".into(), "photos".into()],
            releases: vec![
                release(
                    "housing_office",
                    Duration::Until("2027-06-30".parse().unwrap()),
                ),
                release("school", Duration::Recurring),
            ],
            signer: Signer {
                name: "Fatme Testova".into(),
                role: SignerRole::Themselves,
            },
            signature: signature(),
            witness: "ayse.w".into(),
            witness_name: None,
            interpreter: Some("Emel Dolmetsch".into()),
            identity_check: IdentityCheck::IdCard,
            signed_at_ms: 1_795_000_000_000,
            device: DEVICE.into(),
            hlc: Hlc {
                wall_ms: 1_795_000_000_000,
                counter: 0,
                device: DEVICE.into(),
            },
            binding: String::new(),
        }
        .seal()
        .unwrap()
    }

    fn withdrawal(consent_id: &str, scope: Scope) -> Withdrawal {
        Withdrawal {
            id: format!("w-{consent_id}"),
            case_id: "case-1".into(),
            consent_id: consent_id.into(),
            scope,
            given: Given::Attested {
                note: "Am Telefon widerrufen".into(),
            },
            witness: "ayse.w".into(),
            witness_name: None,
            lang: None,
            at_ms: 1_796_000_000_000,
            device: DEVICE.into(),
            hlc: Hlc {
                wall_ms: 1_796_000_000_000,
                counter: 0,
                device: DEVICE.into(),
            },
            binding: String::new(),
        }
        .seal()
        .unwrap()
    }

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    /// The referral rule: the recipient released for that purpose, those kinds of record, on
    /// that day, not withdrawn; otherwise the nearest miss.
    #[test]
    fn a_referral_goes_only_where_a_consent_in_force_releases_it() {
        let housing = |kinds: &[&str]| kinds.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>();
        let c = consent("c1");
        let check =
            |withdrawals: &[Withdrawal], today: &str, to: &str, purpose: &str, kinds: &[&str]| {
                release_for(
                    std::slice::from_ref(&c),
                    withdrawals,
                    day(today),
                    to,
                    purpose,
                    &housing(kinds),
                )
            };
        // Released: that recipient, that purpose, those records, within the period.
        let released = check(
            &[],
            "2027-06-30",
            "housing_office",
            "find_housing",
            &["housing"],
        )
        .unwrap();
        assert_eq!(released.consent_id, "c1");
        assert_eq!(released.binding, c.binding);
        assert_eq!(released.until, Grant::Until(day("2027-06-30")));
        // Not released at all.
        assert_eq!(
            check(
                &[],
                "2027-01-01",
                "health_office",
                "find_housing",
                &["housing"]
            ),
            Err(NotReleased::Recipient)
        );
        // Ran out.
        assert_eq!(
            check(
                &[],
                "2027-07-01",
                "housing_office",
                "find_housing",
                &["housing"]
            ),
            Err(NotReleased::Expired {
                until: day("2027-06-30")
            })
        );
        // Withdrawn: the recipient, the purpose, or everything.
        for scope in [
            Scope::Recipients(vec!["housing_office".into()]),
            Scope::Purposes(vec!["find_housing".into()]),
            Scope::All,
        ] {
            let w = withdrawal("c1", scope.clone());
            assert_eq!(
                check(
                    &[w],
                    "2027-01-01",
                    "housing_office",
                    "find_housing",
                    &["housing"]
                ),
                Err(NotReleased::Withdrawn),
                "{scope:?}"
            );
        }
        // A withdrawal of another recipient takes nothing from this one.
        let other = withdrawal("c1", Scope::Recipients(vec!["school".into()]));
        assert!(
            check(
                &[other],
                "2027-01-01",
                "housing_office",
                "find_housing",
                &["housing"]
            )
            .is_ok()
        );
        // Another purpose.
        assert_eq!(
            check(
                &[],
                "2027-01-01",
                "housing_office",
                "school_contact",
                &["housing"]
            ),
            Err(NotReleased::Purpose {
                released: vec!["find_housing".into()]
            })
        );
        // Records not released.
        assert_eq!(
            check(
                &[],
                "2027-01-01",
                "housing_office",
                "find_housing",
                &["housing", "health"]
            ),
            Err(NotReleased::Records {
                missing: vec!["health".into()]
            })
        );
        // A consent changed after it was sealed releases nothing.
        let mut forged = consent("c2");
        forged.releases[0].records.push("health".into());
        let forged_check = release_for(
            &[forged],
            &[],
            day("2027-01-01"),
            "housing_office",
            "find_housing",
            &housing(&["health"]),
        );
        assert_eq!(forged_check, Err(NotReleased::Recipient));
    }

    #[test]
    fn a_sealed_consent_verifies_and_survives_a_round_trip() {
        let c = consent("c1");
        assert_eq!(c.binding.len(), 64);
        assert_eq!(c.verify(), Ok(()));
        let text = serde_json::to_string(&c).unwrap();
        let back: Consent = serde_json::from_str(&text).unwrap();
        assert_eq!(back.verify(), Ok(()));
        assert_eq!(back.binding_of(), c.binding);
    }

    /// Signatures must verify for years: the bytes hashed may never change. A change of the
    /// record's shape that breaks this needs a new record version, not a new hash.
    #[test]
    fn the_binding_is_pinned() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            consent("c1").binding,
            "ab08a3dadfc97f75e869c56d49978a980fdd88e0eff8d072098e3d042296dc29"
        );
    }

    /// The witness's name and the withdrawal's language came later: records without them
    /// keep their hash (see the pinned binding above), records with them are bound to them.
    #[test]
    fn the_witness_name_and_the_language_are_bound_when_given() {
        let mut named = consent("c1");
        named.witness_name = Some("Ayşe Testkaya".into());
        let named = named.seal().unwrap();
        assert_ne!(named.binding, consent("c1").binding);
        assert_eq!(named.verify(), Ok(()));
        let mut renamed = named.clone();
        renamed.witness_name = Some("Someone Else".into());
        assert_eq!(renamed.verify(), Err(Problem::Tampered));
        assert!(
            !serde_json::to_string(&consent("c1"))
                .unwrap()
                .contains("witness_name")
        );

        let mut w = withdrawal("c1", Scope::All);
        w.lang = Some(Lang::Tr);
        w.witness_name = Some("Ayşe Testkaya".into());
        let w = w.seal().unwrap();
        assert_eq!(w.verify(), Ok(()));
        let mut german = w.clone();
        german.lang = Some(Lang::De);
        assert_eq!(german.verify(), Err(Problem::Tampered));
        let mut long = w;
        long.witness_name = Some("x".repeat(MAX_TEXT_CHARS + 1));
        assert_eq!(long.seal(), Err(Problem::TooLong));
    }

    #[test]
    fn any_change_after_signing_is_found() {
        let c = consent("c1");
        let changes: Vec<fn(&mut Consent)> = vec![
            |c| c.purposes.push("health_office".into()),
            |c| c.text.sha256 = sha256_hex(b"another text"),
            |c| c.text.lang = Lang::De,
            |c| c.text.version = 2,
            |c| c.signer.name = "Someone Else".into(),
            |c| c.signature.strokes[0][3].x += 1,
            |c| c.releases[0].duration = Duration::Recurring,
            |c| c.interpreter = None,
            |c| c.signed_at_ms += 1,
            |c| c.case_id = "case-2".into(),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut forged = c.clone();
            change(&mut forged);
            assert_eq!(forged.verify(), Err(Problem::Tampered), "change {i}");
        }
    }

    #[test]
    fn an_incomplete_consent_is_not_sealed() {
        let mut c = consent("c1");
        c.signer.name = "  ".into();
        assert_eq!(c.clone().seal(), Err(Problem::SignerMissing));
        let mut c = consent("c1");
        c.signature.strokes.clear();
        assert_eq!(c.seal(), Err(Problem::SignatureEmpty));
        let mut c = consent("c1");
        let dot = Point {
            x: 1600,
            y: 600,
            t_ms: 0,
            pressure: None,
        };
        c.signature.strokes = vec![vec![
            dot,
            Point { x: 1605, ..dot },
            Point { x: 1610, ..dot },
        ]];
        assert_eq!(c.seal(), Err(Problem::SignatureTooSmall));
        let mut c = consent("c1");
        c.text.sha256 = "unknown".into();
        assert_eq!(c.seal(), Err(Problem::TextHashMissing));
        let mut c = consent("c1");
        c.releases[0].records.clear();
        assert_eq!(
            c.seal(),
            Err(Problem::ReleaseIncomplete("housing_office".into()))
        );
    }

    #[test]
    fn the_signature_renders_as_svg() {
        let svg = signature().to_svg();
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 3200 1200\"")
        );
        assert!(svg.contains("<path d=\"M200 480 L260 520"), "{svg}");
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn state_follows_consents_withdrawals_and_expiry() {
        let c = consent("c1");
        let today = day("2027-01-15");
        let s = state(std::slice::from_ref(&c), &[], today);
        assert_eq!(
            s.purposes.keys().collect::<Vec<_>>(),
            ["photos", "school_contact"]
        );
        assert!(s.may_share("housing_office", "find_housing"));
        assert!(!s.may_share("housing_office", "school_contact"));
        assert!(!s.may_share("health_office", "find_housing"));
        assert_eq!(
            s.recipients["housing_office"].0,
            Grant::Until(day("2027-06-30"))
        );

        // Valid through its last day, not after.
        assert!(
            state(std::slice::from_ref(&c), &[], day("2027-06-30"))
                .may_share("housing_office", "find_housing")
        );
        assert!(
            !state(std::slice::from_ref(&c), &[], day("2027-07-01"))
                .may_share("housing_office", "find_housing")
        );

        // One purpose withdrawn: the other stays, and so do the releases.
        let photos = withdrawal("c1", Scope::Purposes(vec!["photos".into()]));
        let s = state(
            std::slice::from_ref(&c),
            std::slice::from_ref(&photos),
            today,
        );
        assert_eq!(s.purposes.keys().collect::<Vec<_>>(), ["school_contact"]);
        assert!(s.may_share("school", "find_housing"));

        // The purpose a release was made for, withdrawn: the release goes with it.
        let housing = withdrawal("c1", Scope::Purposes(vec!["find_housing".into()]));
        let s = state(
            std::slice::from_ref(&c),
            std::slice::from_ref(&housing),
            today,
        );
        assert!(!s.may_share("housing_office", "find_housing"));
        assert!(s.recipients.is_empty());
        assert_eq!(s.purposes.len(), 2, "the purposes ticked stay");

        // One recipient withdrawn.
        let school = withdrawal("c1", Scope::Recipients(vec!["school".into()]));
        let s = state(std::slice::from_ref(&c), &[photos.clone(), school], today);
        assert!(!s.may_share("school", "find_housing"));
        assert!(s.may_share("housing_office", "find_housing"));

        // Everything withdrawn; a later consent grants again.
        let all = withdrawal("c1", Scope::All);
        let s = state(std::slice::from_ref(&c), std::slice::from_ref(&all), today);
        assert_eq!(s, ConsentState::default());
        let again = consent("c2");
        let s = state(&[c.clone(), again], &[all], today);
        assert!(s.may_share("school", "find_housing"));

        // A forged withdrawal withdraws nothing; a forged consent grants nothing.
        let mut bad = withdrawal("c1", Scope::All);
        bad.witness = "someone".into();
        assert_eq!(bad.verify(), Err(Problem::Tampered));
        assert!(state(std::slice::from_ref(&c), &[bad], today).may_share("school", "find_housing"));
        let mut tampered = c.clone();
        tampered.purposes.push("health_office".into());
        assert_eq!(state(&[tampered], &[], today), ConsentState::default());
    }

    #[test]
    fn a_withdrawal_must_say_what_and_be_given() {
        let empty = withdrawal("c1", Scope::All);
        let mut w = empty.clone();
        w.scope = Scope::Purposes(vec![]);
        assert_eq!(w.seal(), Err(Problem::WithdrawsNothing));
        let mut w = empty.clone();
        w.given = Given::Attested { note: " ".into() };
        assert_eq!(w.seal(), Err(Problem::SignerMissing));
        let mut w = empty;
        w.given = Given::Signed {
            signer: Signer {
                name: "Fatme Testova".into(),
                role: SignerRole::Themselves,
            },
            signature: Signature::default(),
        };
        assert_eq!(w.seal(), Err(Problem::SignatureEmpty));
    }
}
