//! The texts a family reads before signing: the information notice (GDPR Art. 13) and the
//! consent with its purposes and recipients. Versioned data files under `forms/consent/`, in
//! all six languages, German binding; a change of wording is a new version, and a signature
//! keeps pointing at the text it was given on ([`super::ShownText`]).
//!
//! The agency's name and contact details are placeholders (`{agency_name}`, …) filled from the
//! server's configuration, so the same texts serve Offenbach, Budapest and Slovakia. What the
//! family saw is the text [`ConsentText::render`]s for their language and agency: its SHA-256
//! goes into the consent.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Consent, Problem, ShownText, sha256_hex};
use crate::form::Labels;
use crate::lang::Lang;

/// The placeholders a text may use; each must be given by the agency's configuration.
pub const PLACEHOLDERS: [&str; 7] = [
    "agency_name",
    "agency_address",
    "dpo_contact",
    "statutory_basis",
    "retention",
    "supervisory_authority",
    "partner_name",
];

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentText {
    pub id: String,
    pub version: u32,
    /// The language whose wording is legally binding.
    pub binding_lang: Lang,
    pub title: Labels,
    pub sections: Vec<Section>,
    /// What the family may agree to, one checkbox each.
    #[serde(default)]
    pub purposes: Vec<Item>,
    /// Agencies the family may release from confidentiality.
    #[serde(default)]
    pub recipients: Vec<Item>,
    /// Kinds of records a release may cover.
    #[serde(default)]
    pub records: Vec<Item>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub heading: Labels,
    pub body: Labels,
}

/// A purpose (title and body), a recipient (name) or a kind of record (label).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    #[serde(alias = "name", alias = "label")]
    pub title: Labels,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Labels>,
    /// For a kind of record: the form fields it covers, as `form/field` (a group or repeat
    /// group covers every field inside it). A referral letter carries the answers of these
    /// fields only; a field no kind covers never leaves the agency.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// The details that are prose the family reads (how long records are kept, on what legal
/// basis): an agency gives them in every language, never as one text for all six.
pub const PROSE: [&str; 2] = ["statutory_basis", "retention"];

/// One of the agency's details: one text for every language (a proper name, an address, an
/// e-mail address) or a text per language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Detail {
    Same(String),
    PerLang(BTreeMap<Lang, String>),
}

impl Detail {
    /// The words in `lang` ("" where a language is missing: [`check_agency`] refuses that).
    pub fn get(&self, lang: Lang) -> &str {
        match self {
            Detail::Same(words) => words,
            Detail::PerLang(by_lang) => by_lang.get(&lang).map_or("", String::as_str),
        }
    }
}

impl From<&str> for Detail {
    fn from(words: &str) -> Self {
        Detail::Same(words.to_owned())
    }
}

/// The agency's own details, from the server's configuration: placeholder → value.
pub type Agency = BTreeMap<String, Detail>;

/// What is wrong with an agency's details.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AgencyProblem {
    #[error("no text for {0:?} (every one of {all} is needed)", all = PLACEHOLDERS.join(", "))]
    Missing(String),
    #[error("{0:?} is not a placeholder of the consent texts (they are {all})", all = PLACEHOLDERS.join(", "))]
    Unknown(String),
    #[error(
        "{0:?} is prose the family reads: give it in every language, as {{\"de\": \"…\", \"tr\": \"…\", \"bg\": \"…\", \"en\": \"…\", \"hu\": \"…\", \"sk\": \"…\"}}"
    )]
    OneTextForProse(String),
    #[error("{name:?} has no {lang} text")]
    MissingLang { name: String, lang: Lang },
}

/// Whether `agency` gives every placeholder a text in every language, prose ([`PROSE`]) per
/// language, and names no other placeholder.
pub fn check_agency(agency: &Agency) -> Result<(), AgencyProblem> {
    for name in PLACEHOLDERS {
        let detail = agency
            .get(name)
            .ok_or_else(|| AgencyProblem::Missing(name.to_owned()))?;
        match detail {
            Detail::Same(words) if words.trim().is_empty() => {
                return Err(AgencyProblem::Missing(name.to_owned()));
            }
            Detail::Same(_) if PROSE.contains(&name) => {
                return Err(AgencyProblem::OneTextForProse(name.to_owned()));
            }
            Detail::Same(_) => {}
            Detail::PerLang(_) => {
                if let Some(lang) = Lang::ALL
                    .into_iter()
                    .find(|l| detail.get(*l).trim().is_empty())
                {
                    return Err(AgencyProblem::MissingLang {
                        name: name.to_owned(),
                        lang,
                    });
                }
            }
        }
    }
    match agency.keys().find(|k| !PLACEHOLDERS.contains(&k.as_str())) {
        Some(unknown) => Err(AgencyProblem::Unknown(unknown.clone())),
        None => Ok(()),
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("not a consent text: {0}")]
    Json(String),
    #[error("{place} has no {lang} text")]
    MissingLang { place: String, lang: Lang },
    #[error("{place} uses the unknown placeholder {{{name}}}")]
    UnknownPlaceholder { place: String, name: String },
    #[error("the id {0:?} is used twice or is empty")]
    BadId(String),
    #[error("the agency's configuration gives no {0:?}")]
    AgencyMissing(String),
}

impl ConsentText {
    /// Reads and checks a text file: every piece in every language, known placeholders only,
    /// distinct ids.
    pub fn from_json(json: &str) -> Result<Self, TextError> {
        let text: ConsentText =
            serde_json::from_str(json).map_err(|e| TextError::Json(e.to_string()))?;
        let mut ids = BTreeSet::new();
        for item in text
            .purposes
            .iter()
            .chain(&text.recipients)
            .chain(&text.records)
        {
            if item.id.trim().is_empty() || !ids.insert(item.id.as_str()) {
                return Err(TextError::BadId(item.id.clone()));
            }
        }
        for (place, labels) in text.pieces() {
            for lang in Lang::ALL {
                let words = labels.get(lang);
                if words.trim().is_empty() {
                    return Err(TextError::MissingLang { place, lang });
                }
                if let Some(name) = placeholders(words).find(|n| !PLACEHOLDERS.contains(n)) {
                    return Err(TextError::UnknownPlaceholder {
                        place,
                        name: name.to_owned(),
                    });
                }
            }
        }
        Ok(text)
    }

    /// Every translated piece, with where it sits (for messages).
    fn pieces(&self) -> Vec<(String, &Labels)> {
        let mut out = vec![(format!("{} title", self.id), &self.title)];
        for (i, s) in self.sections.iter().enumerate() {
            out.push((format!("{} section {}", self.id, i + 1), &s.heading));
            out.push((format!("{} section {}", self.id, i + 1), &s.body));
        }
        for item in self
            .purposes
            .iter()
            .chain(&self.recipients)
            .chain(&self.records)
        {
            out.push((format!("{} {}", self.id, item.id), &item.title));
            if let Some(body) = &item.body {
                out.push((format!("{} {}", self.id, item.id), body));
            }
        }
        out
    }

    /// The whole text as the family reads it in `lang`, the agency's details filled in: title,
    /// sections, then the purposes, recipients and kinds of records, in the file's order,
    /// separated by blank lines. The screen shows exactly these words.
    pub fn render(&self, lang: Lang, agency: &Agency) -> Result<String, TextError> {
        let fill = |words: &str| fill(words, agency, lang);
        let mut parts = vec![fill(self.title.get(lang))?];
        for s in &self.sections {
            parts.push(format!(
                "{}\n{}",
                fill(s.heading.get(lang))?,
                fill(s.body.get(lang))?
            ));
        }
        for item in self
            .purposes
            .iter()
            .chain(&self.recipients)
            .chain(&self.records)
        {
            let mut part = fill(item.title.get(lang))?;
            if let Some(body) = &item.body {
                part = format!("{part}\n{}", fill(body.get(lang))?);
            }
            parts.push(part);
        }
        Ok(parts.join("\n\n"))
    }

    /// What a consent records of this text shown in `lang`: id, version, language and the
    /// SHA-256 of [`ConsentText::render`].
    pub fn shown(&self, lang: Lang, agency: &Agency) -> Result<ShownText, TextError> {
        Ok(ShownText {
            id: self.id.clone(),
            version: self.version,
            lang,
            sha256: sha256_hex(self.render(lang, agency)?.as_bytes()),
        })
    }
}

/// `words` (in `lang`) with the agency's details in `lang` in place of its placeholders: what
/// the screen shows of one piece of a text (see [`ConsentText::render`]).
pub fn fill(words: &str, agency: &Agency, lang: Lang) -> Result<String, TextError> {
    let mut out = words.to_owned();
    for name in placeholders(words) {
        let value = agency
            .get(name)
            .map(|d| d.get(lang))
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| TextError::AgencyMissing(name.to_owned()))?;
        out = out.replace(&format!("{{{name}}}"), value);
    }
    Ok(out)
}

/// Every version of the texts a server or a phone knows, by id and version.
#[derive(Clone, Debug, Default)]
pub struct Texts(BTreeMap<(String, u32), ConsentText>);

impl Texts {
    pub fn insert(&mut self, text: ConsentText) {
        self.0.insert((text.id.clone(), text.version), text);
    }

    pub fn get(&self, id: &str, version: u32) -> Option<&ConsentText> {
        self.0.get(&(id.to_owned(), version))
    }

    /// The newest version of a text.
    pub fn current(&self, id: &str) -> Option<&ConsentText> {
        self.0
            .range((id.to_owned(), 0)..=(id.to_owned(), u32::MAX))
            .next_back()
            .map(|(_, text)| text)
    }

    /// The newest version of each text.
    pub fn currents(&self) -> Vec<&ConsentText> {
        let ids: BTreeSet<&str> = self.0.keys().map(|(id, _)| id.as_str()).collect();
        ids.into_iter().filter_map(|id| self.current(id)).collect()
    }

    /// Whether `consent` was given on texts known here, as `agency` shows them (the SHA-256
    /// of each shown text is that of its rendering), and chose only what its text offers.
    pub fn check(&self, consent: &Consent, agency: &Agency) -> Result<(), Problem> {
        let mut text = None;
        for shown in [&consent.notice, &consent.text] {
            let known = self
                .get(&shown.id, shown.version)
                .ok_or_else(|| Problem::UnknownText {
                    id: shown.id.clone(),
                    version: shown.version,
                })?;
            let differs = || Problem::ShownTextDiffers {
                id: shown.id.clone(),
                version: shown.version,
                lang: shown.lang,
            };
            let again = known.shown(shown.lang, agency).map_err(|_| differs())?;
            if again.sha256 != shown.sha256 {
                return Err(differs());
            }
            text = Some(known);
        }
        let text = text.expect("two texts were checked");
        let offers = |items: &[Item], id: &str| items.iter().any(|i| i.id == id);
        let mut seen = BTreeSet::new();
        for purpose in &consent.purposes {
            if !offers(&text.purposes, purpose) || !seen.insert(purpose.as_str()) {
                return Err(Problem::UnknownChoice(purpose.clone()));
            }
        }
        let mut seen = BTreeSet::new();
        for release in &consent.releases {
            if !offers(&text.recipients, &release.recipient)
                || !seen.insert(release.recipient.as_str())
            {
                return Err(Problem::UnknownChoice(release.recipient.clone()));
            }
            if !offers(&text.purposes, &release.purpose) {
                return Err(Problem::UnknownChoice(release.purpose.clone()));
            }
            if let Some(r) = release.records.iter().find(|r| !offers(&text.records, r)) {
                return Err(Problem::UnknownChoice(r.clone()));
            }
        }
        Ok(())
    }
}

/// The `{name}`s in a text.
fn placeholders(words: &str) -> impl Iterator<Item = &str> {
    words
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const NOTICE: &str = include_str!("../../../forms/consent/notice.json");
    const CONSENT: &str = include_str!("../../../forms/consent/consent.json");

    pub(crate) fn offenbach() -> Agency {
        PLACEHOLDERS
            .iter()
            .map(|name| ((*name).to_owned(), Detail::Same(format!("Test {name}"))))
            .collect()
    }

    #[test]
    fn the_shipped_texts_load_and_render_in_every_language() {
        for json in [NOTICE, CONSENT] {
            let text = ConsentText::from_json(json).unwrap();
            assert_eq!(text.binding_lang, Lang::De);
            let mut hashes = BTreeSet::new();
            for lang in Lang::ALL {
                let shown = text.render(lang, &offenbach()).unwrap();
                assert!(!shown.contains('{'), "{lang}: {shown}");
                assert!(shown.contains("Test "), "the agency is named");
                hashes.insert(text.shown(lang, &offenbach()).unwrap().sha256);
            }
            assert_eq!(hashes.len(), 6, "each language is its own text");
        }
        let consent = ConsentText::from_json(CONSENT).unwrap();
        let ids: Vec<&str> = consent.purposes.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["school_contact", "housing_search", "photos"]);
        assert_eq!(consent.recipients.len(), 5);
    }

    #[test]
    fn what_was_shown_is_pinned_by_its_hash() {
        let text = ConsentText::from_json(CONSENT).unwrap();
        let bg = text.shown(Lang::Bg, &offenbach()).unwrap();
        assert_eq!(bg, text.shown(Lang::Bg, &offenbach()).unwrap());
        assert_eq!(
            (bg.id.as_str(), bg.version, bg.lang),
            ("consent", 1, Lang::Bg)
        );
        let mut budapest = offenbach();
        budapest.insert("agency_name".into(), "Test Budapest".into());
        assert_ne!(bg.sha256, text.shown(Lang::Bg, &budapest).unwrap().sha256);
    }

    #[test]
    fn a_broken_text_or_configuration_is_named() {
        let missing = CONSENT.replacen("\"hu\": \"Önkéntes\",", "", 1);
        assert_eq!(
            ConsentText::from_json(&missing).unwrap_err(),
            TextError::MissingLang {
                place: "consent section 1".into(),
                lang: Lang::Hu
            }
        );
        let unknown = CONSENT.replacen("{agency_name}", "{agency}", 1);
        assert!(matches!(
            ConsentText::from_json(&unknown).unwrap_err(),
            TextError::UnknownPlaceholder { name, .. } if name == "agency"
        ));
        let twice = CONSENT.replacen("\"id\": \"photos\"", "\"id\": \"school_contact\"", 1);
        assert_eq!(
            ConsentText::from_json(&twice).unwrap_err(),
            TextError::BadId("school_contact".into())
        );
        let text = ConsentText::from_json(NOTICE).unwrap();
        let mut agency = offenbach();
        agency.remove("dpo_contact");
        assert_eq!(
            text.render(Lang::De, &agency).unwrap_err(),
            TextError::AgencyMissing("dpo_contact".into())
        );
    }

    #[test]
    fn prose_details_are_shown_in_the_readers_language() {
        let notice = ConsentText::from_json(NOTICE).unwrap();
        let mut agency = offenbach();
        let retention = |lang: Lang| format!("retention in {lang}");
        agency.insert(
            "retention".into(),
            Detail::PerLang(Lang::ALL.into_iter().map(|l| (l, retention(l))).collect()),
        );
        for lang in Lang::ALL {
            let shown = notice.render(lang, &agency).unwrap();
            assert!(shown.contains(&retention(lang)), "{lang}: {shown}");
            for other in Lang::ALL.into_iter().filter(|o| *o != lang) {
                assert!(!shown.contains(&retention(other)), "{lang} shows {other}");
            }
        }
        // The same agency file in JSON: one text or one per language.
        let json = serde_json::to_string(&agency).unwrap();
        assert!(
            json.contains("\"agency_name\":\"Test agency_name\""),
            "{json}"
        );
        assert!(
            json.contains("\"retention\":{\"de\":\"retention in de\""),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Agency>(&json).unwrap(), agency);
    }

    #[test]
    fn an_agency_must_give_prose_in_every_language() {
        let per_lang = |words: &str| {
            Detail::PerLang(
                Lang::ALL
                    .into_iter()
                    .map(|l| (l, format!("{words} {l}")))
                    .collect(),
            )
        };
        let mut agency = offenbach();
        for name in PROSE {
            agency.insert(name.into(), per_lang(name));
        }
        assert_eq!(check_agency(&agency), Ok(()));

        // Prose as one text for all six: the Turkish notice would be German.
        let mut one = agency.clone();
        one.insert(
            "retention".into(),
            "5 Jahre nach Abschluss des Falls".into(),
        );
        assert_eq!(
            check_agency(&one),
            Err(AgencyProblem::OneTextForProse("retention".into()))
        );
        let mut gap = agency.clone();
        let Some(Detail::PerLang(by_lang)) = gap.get_mut("statutory_basis") else {
            unreachable!()
        };
        by_lang.insert(Lang::Tr, " ".into());
        assert_eq!(
            check_agency(&gap),
            Err(AgencyProblem::MissingLang {
                name: "statutory_basis".into(),
                lang: Lang::Tr
            })
        );
        let Some(Detail::PerLang(by_lang)) = gap.get_mut("statutory_basis") else {
            unreachable!()
        };
        by_lang.remove(&Lang::Tr);
        assert!(
            check_agency(&gap)
                .unwrap_err()
                .to_string()
                .contains("has no tr text")
        );

        // A name may be one text or six.
        let mut names = agency.clone();
        names.insert("partner_name".into(), per_lang("Partner"));
        assert_eq!(check_agency(&names), Ok(()));
        let mut missing = agency.clone();
        missing.remove("dpo_contact");
        assert_eq!(
            check_agency(&missing),
            Err(AgencyProblem::Missing("dpo_contact".into()))
        );
        let mut typo = agency;
        typo.insert("agency_nmae".into(), "Jobcenter".into());
        assert_eq!(
            check_agency(&typo),
            Err(AgencyProblem::Unknown("agency_nmae".into()))
        );
    }

    /// A consent as the phone makes it: on the shipped texts, shown in Bulgarian.
    pub(crate) fn signed(agency: &Agency) -> Consent {
        use crate::consent::*;
        let notice = ConsentText::from_json(NOTICE).unwrap();
        let text = ConsentText::from_json(CONSENT).unwrap();
        let device = "0192b3c4-0000-7000-8000-00000000d001";
        let stroke = (0..30)
            .map(|i| Point {
                x: 100 + i * 80,
                y: 500 + (i % 5) * 60,
                t_ms: u32::try_from(i).unwrap() * 16,
                pressure: None,
            })
            .collect();
        Consent {
            id: "0192b3c4-0000-7000-8000-0000000c0001".into(),
            case_id: "0192b3c4-0000-7000-8000-0000000ca5e1".into(),
            notice: notice.shown(Lang::Bg, agency).unwrap(),
            text: text.shown(Lang::Bg, agency).unwrap(),
            purposes: vec!["school_contact".into(), "housing_search".into()],
            releases: vec![Release {
                recipient: "housing_office".into(),
                records: vec!["household".into(), "housing".into()],
                purpose: "housing_search".into(),
                duration: Duration::Until("2027-06-30".parse().unwrap()),
            }],
            signer: Signer {
                name: "Fatme Testova".into(),
                role: SignerRole::Themselves,
            },
            signature: Signature {
                width: 3000,
                height: 1000,
                strokes: vec![stroke],
            },
            witness: "ayse.w".into(),
            witness_name: None,
            interpreter: None,
            identity_check: IdentityCheck::IdCard,
            signed_at_ms: 1_795_000_000_000,
            device: device.into(),
            hlc: crate::hlc::Hlc {
                wall_ms: 1_795_000_000_000,
                counter: 0,
                device: device.into(),
            },
            binding: String::new(),
        }
        .seal()
        .unwrap()
    }

    pub(crate) fn library() -> Texts {
        let mut texts = Texts::default();
        for json in [NOTICE, CONSENT] {
            texts.insert(ConsentText::from_json(json).unwrap());
        }
        texts
    }

    #[test]
    fn a_consent_is_checked_against_the_texts_as_the_agency_shows_them() {
        let texts = library();
        let agency = offenbach();
        let good = signed(&agency);
        assert_eq!(texts.check(&good, &agency), Ok(()));
        assert_eq!(texts.current("consent").unwrap().version, 1);
        assert_eq!(texts.currents().len(), 2);

        // Shown with another agency's details, or words changed on the phone.
        let mut budapest = agency.clone();
        budapest.insert("agency_name".into(), "Test Budapest".into());
        assert_eq!(
            texts.check(&signed(&budapest), &agency),
            Err(Problem::ShownTextDiffers {
                id: "notice".into(),
                version: 1,
                lang: Lang::Bg
            })
        );
        let mut reworded = good.clone();
        reworded.text.sha256 = sha256_hex(b"other words");
        assert!(matches!(
            texts.check(&reworded, &agency),
            Err(Problem::ShownTextDiffers { id, .. }) if id == "consent"
        ));
        let mut newer = good.clone();
        newer.text.version = 2;
        assert_eq!(
            texts.check(&newer, &agency),
            Err(Problem::UnknownText {
                id: "consent".into(),
                version: 2
            })
        );

        // Only what the text offers, each once.
        let mut c = good.clone();
        c.purposes.push("tell_the_neighbours".into());
        assert_eq!(
            texts.check(&c, &agency),
            Err(Problem::UnknownChoice("tell_the_neighbours".into()))
        );
        let mut c = good.clone();
        c.purposes.push("school_contact".into());
        assert!(texts.check(&c, &agency).is_err());
        let mut c = good.clone();
        c.releases[0].records.push("bank_account".into());
        assert!(texts.check(&c, &agency).is_err());
        let mut c = good.clone();
        c.releases[0].recipient = "newspaper".into();
        assert!(texts.check(&c, &agency).is_err());
        let mut c = good;
        let twice = c.releases[0].clone();
        c.releases.push(twice);
        assert!(texts.check(&c, &agency).is_err());
    }
}
