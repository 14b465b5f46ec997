//! What a server needs to take consents: the texts a family reads (the information notice and
//! the consent, versioned data files under `forms/consent/`) and the agency's own details that
//! fill their placeholders (`serve --agency FILE`).
//!
//! Every version of a text is kept, the current one and the earlier ones (as extra files, e.g.
//! `consent.v1.json` beside a `consent.json` of version 2): a consent given on an earlier text
//! must stay verifiable for years. Everything is checked at start; a broken text or an agency
//! file that misses a detail stops the server with the file and the problem named.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cris_core::consent::text::{Agency, ConsentText, Detail, TextError, Texts, check_agency};
use cris_core::lang::Lang;

use crate::forms::Embedded;

/// Why the consent texts or the agency's details could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    #[error("cannot read the consent texts folder {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("consent text file {file}: {error}")]
    Invalid { file: String, error: TextError },
    #[error(
        "consent text file {file} holds version {version} of the text {id:?}: name the file {id}.json (the current version) or {id}.v{version}.json"
    )]
    Misnamed {
        file: String,
        id: String,
        version: u32,
    },
    #[error(
        "consent text file {file} holds version {version} of the text {id:?}, which {other} holds with other words: a changed text needs a new version number"
    )]
    Redefined {
        file: String,
        other: String,
        id: String,
        version: u32,
    },
    #[error("cannot read the agency file {path}: {source}")]
    AgencyRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("agency file {path}: {problem}")]
    Agency { path: String, problem: String },
    #[error("the agency's details: {0}")]
    Details(String),
}

/// What a consent is refused with, and the consent texts answered, when the server was
/// started without the agency's details.
pub const NO_AGENCY: &str =
    "this server has no agency details for the consent texts: start it with --agency FILE";

/// The consent texts a server knows (every version) and the agency's details, if it has them.
#[derive(Debug)]
pub struct ConsentConfig {
    texts: Texts,
    /// How many texts (versions) there are.
    count: usize,
    agency: Option<Agency>,
}

impl ConsentConfig {
    /// The texts built into the binary, and those of `forms_dir/consent` if there is such a
    /// folder; `agency` must give every detail each text needs.
    pub fn load(forms_dir: Option<&Path>, agency: Option<Agency>) -> Result<Self, ConsentError> {
        let mut files = embedded_files();
        if let Some(dir) = forms_dir {
            let dir = dir.join("consent");
            if dir.is_dir() {
                files.extend(files_of(&dir)?);
            }
        }
        Self::from_files(files, agency)
    }

    /// The texts built into the binary.
    pub fn embedded(agency: Option<Agency>) -> Result<Self, ConsentError> {
        Self::load(None, agency)
    }

    /// The texts built into the binary with the invented details of [`demo_agency`].
    pub fn demo() -> Self {
        Self::embedded(Some(demo_agency())).expect("the built-in texts fit the demo agency")
    }

    fn from_files(
        files: impl IntoIterator<Item = (String, String)>,
        agency: Option<Agency>,
    ) -> Result<Self, ConsentError> {
        let mut by_version: BTreeMap<(String, u32), (String, ConsentText, serde_json::Value)> =
            BTreeMap::new();
        for (file, json) in files {
            let text = ConsentText::from_json(&json).map_err(|error| ConsentError::Invalid {
                file: file.clone(),
                error,
            })?;
            let name = file.rsplit('/').next().unwrap_or(&file);
            let named = [
                format!("{}.json", text.id),
                format!("{}.v{}.json", text.id, text.version),
            ];
            if !named.iter().any(|n| n == name) {
                return Err(ConsentError::Misnamed {
                    file,
                    id: text.id,
                    version: text.version,
                });
            }
            let value = serde_json::to_value(&text).expect("a text serializes");
            let key = (text.id.clone(), text.version);
            match by_version.get(&key) {
                Some((other, _, held)) if *held != value => {
                    return Err(ConsentError::Redefined {
                        file,
                        other: other.clone(),
                        id: text.id,
                        version: text.version,
                    });
                }
                Some(_) => {}
                None => {
                    by_version.insert(key, (file, text, value));
                }
            }
        }
        if let Some(agency) = &agency {
            check_agency(agency).map_err(|p| ConsentError::Details(p.to_string()))?;
            for (file, text, _) in by_version.values() {
                for lang in Lang::ALL {
                    text.render(lang, agency).map_err(|error| {
                        ConsentError::Details(format!(
                            "the consent text file {file} cannot be shown in {lang}: {error}"
                        ))
                    })?;
                }
            }
        }
        let count = by_version.len();
        let mut texts = Texts::default();
        for (_, text, _) in by_version.into_values() {
            texts.insert(text);
        }
        Ok(ConsentConfig {
            texts,
            count,
            agency,
        })
    }

    /// Every version of every text.
    pub fn texts(&self) -> &Texts {
        &self.texts
    }

    /// How many texts (all versions) there are.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The agency's details; `None` when the server was started without them.
    pub fn agency(&self) -> Option<&Agency> {
        self.agency.as_ref()
    }
}

/// The consent texts built into the binary (`forms/consent/**/*.json`): (file, JSON).
fn embedded_files() -> Vec<(String, String)> {
    Embedded::iter()
        .filter(|name| name.starts_with("consent/") && name.ends_with(".json"))
        .filter_map(|name| {
            let file = Embedded::get(&name)?;
            Some((
                name.into_owned(),
                String::from_utf8_lossy(&file.data).into_owned(),
            ))
        })
        .collect()
}

/// Every `*.json` file of `dir`: (path, JSON).
fn files_of(dir: &Path) -> Result<Vec<(String, String)>, ConsentError> {
    let read_err = |source| ConsentError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let json = std::fs::read_to_string(&path).map_err(read_err)?;
            files.push((path.display().to_string(), json));
        }
    }
    files.sort();
    Ok(files)
}

/// Reads the agency's details: a JSON object giving every placeholder of
/// [`PLACEHOLDERS`](cris_core::consent::text::PLACEHOLDERS)
/// either one text (a name, an address) or an object with a text for each of the six
/// languages (required for prose,
/// [`PROSE`](cris_core::consent::text::PROSE)), and nothing else.
pub fn read_agency(path: &Path) -> Result<Agency, ConsentError> {
    read_agency_file(path).map(|(agency, _)| agency)
}

/// The agency's retention period, in the agency file beside the texts that name it: a
/// household whose case has been closed this many months is erased.
pub const RETENTION_MONTHS: &str = "retention_months";

/// The longest retention period the agency file may set (100 years).
const MAX_RETENTION_MONTHS: u64 = 1200;

/// The demo agency's retention period, as its texts say: five years.
pub const DEMO_RETENTION_MONTHS: u32 = 60;

/// Reads the agency file ([`read_agency`]) and the retention period it sets, if it sets one
/// ([`RETENTION_MONTHS`]: a whole number of months, 1 to 1200).
pub fn read_agency_file(path: &Path) -> Result<(Agency, Option<u32>), ConsentError> {
    let json = std::fs::read_to_string(path).map_err(|source| ConsentError::AgencyRead {
        path: path.to_owned(),
        source,
    })?;
    let problem = |problem: String| ConsentError::Agency {
        path: path.display().to_string(),
        problem,
    };
    let mut raw: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&json).map_err(|e| {
            problem(format!(
                "not a JSON object of placeholder names and texts: {e}"
            ))
        })?;
    let retention = match raw.remove(RETENTION_MONTHS) {
        None => None,
        Some(value) => match value.as_u64() {
            Some(months @ 1..=MAX_RETENTION_MONTHS) => Some(months as u32),
            _ => {
                return Err(problem(format!(
                    "{RETENTION_MONTHS:?} is {value}: it must be a whole number of months, 1 to {MAX_RETENTION_MONTHS}"
                )));
            }
        },
    };
    let mut agency = Agency::new();
    for (name, value) in raw {
        let detail = match value {
            serde_json::Value::String(words) => Detail::Same(words),
            serde_json::Value::Object(by_lang) => {
                let mut words = BTreeMap::new();
                for (code, text) in by_lang {
                    let lang = code.parse::<Lang>().map_err(|_| {
                        problem(format!(
                            "{name:?} gives a text for {code:?}, which is not one of the languages {}",
                            language_codes()
                        ))
                    })?;
                    let serde_json::Value::String(text) = text else {
                        return Err(problem(format!("{name:?} in {code}: not a text")));
                    };
                    words.insert(lang, text);
                }
                Detail::PerLang(words)
            }
            _ => {
                return Err(problem(format!(
                    "{name:?} is neither a text nor an object of texts by language ({})",
                    language_codes()
                )));
            }
        };
        agency.insert(name, detail);
    }
    check_agency(&agency).map_err(|p| problem(p.to_string()))?;
    Ok((agency, retention))
}

fn language_codes() -> String {
    Lang::ALL.map(Lang::code).join(", ")
}

/// Invented details of an invented agency, for trying the app (`serve --demo`): names one
/// text, prose in every language.
pub fn demo_agency() -> Agency {
    let per_lang = |words: [&str; 6]| {
        Detail::PerLang(
            Lang::ALL
                .into_iter()
                .zip(words)
                .map(|(lang, w)| (lang, w.to_owned()))
                .collect(),
        )
    };
    let mut agency = Agency::new();
    agency.insert("agency_name".into(), "Jobcenter Offenbach (Demo)".into());
    agency.insert(
        "agency_address".into(),
        "Beispielstraße 12, 63065 Offenbach am Main".into(),
    );
    agency.insert(
        "dpo_contact".into(),
        "datenschutz@jobcenter-demo.example.org".into(),
    );
    // In the order of Lang::ALL: de, tr, bg, en, hu, sk.
    agency.insert(
        "statutory_basis".into(),
        per_lang([
            "§§ 50, 67 ff. SGB X und § 35 SGB I",
            "Alman Sosyal Yasa Kitabı (SGB X md. 50, 67 vd., SGB I md. 35)",
            "чл. 50, 67 и сл. от Десета книга и чл. 35 от Първа книга на Германския социален кодекс (SGB X, SGB I)",
            "sections 50 and 67 et seq. of Book X and section 35 of Book I of the German Social Code (SGB X, SGB I)",
            "a német szociális törvénykönyv X. könyvének 50. és 67. és következő §-ai, valamint I. könyvének 35. §-a (SGB X, SGB I)",
            "§ 50, 67 a nasl. knihy X a § 35 knihy I nemeckého sociálneho zákonníka (SGB X, SGB I)",
        ]),
    );
    agency.insert(
        "retention".into(),
        per_lang([
            "Wir bewahren Ihre Daten bis 5 Jahre nach Abschluss Ihres Falls auf; danach werden sie gelöscht.",
            "Verilerinizi dosyanız kapandıktan sonra 5 yıl saklıyoruz; ardından silinirler.",
            "Съхраняваме данните ви 5 години след приключване на случая ви; след това те се изтриват.",
            "We keep your data for 5 years after your case is closed; then it is erased.",
            "Adatait az ügy lezárása után 5 évig őrizzük meg, ezt követően töröljük.",
            "Vaše údaje uchovávame 5 rokov po uzavretí vášho prípadu; potom sa vymažú.",
        ]),
    );
    agency.insert(
        "supervisory_authority".into(),
        per_lang([
            "Der Hessische Beauftragte für Datenschutz und Informationsfreiheit",
            "Hessen Eyaleti Veri Koruma ve Bilgi Edinme Özgürlüğü Sorumlusu (Der Hessische Beauftragte für Datenschutz und Informationsfreiheit)",
            "Уполномощеният по защита на данните и свобода на информацията на провинция Хесен (Der Hessische Beauftragte für Datenschutz und Informationsfreiheit)",
            "the Hessian Commissioner for Data Protection and Freedom of Information (Der Hessische Beauftragte für Datenschutz und Informationsfreiheit)",
            "Hessen tartomány adatvédelmi és információszabadság-biztosa (Der Hessische Beauftragte für Datenschutz und Informationsfreiheit)",
            "Hesenský splnomocnenec pre ochranu údajov a slobodu informácií (Der Hessische Beauftragte für Datenschutz und Informationsfreiheit)",
        ]),
    );
    agency.insert(
        "partner_name".into(),
        per_lang([
            "Beispiel e.V. (Schuldnerberatung)",
            "Beispiel e.V. (borç danışmanlığı)",
            "Beispiel e.V. (консултиране при задлъжнялост)",
            "Beispiel e.V. (debt counselling)",
            "Beispiel e.V. (adósságtanácsadás)",
            "Beispiel e.V. (dlhové poradenstvo)",
        ]),
    );
    agency
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(id: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/../forms/consent/{id}.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn the_built_in_texts_load_and_fit_the_demo_agency() {
        let config = ConsentConfig::demo();
        let ids: Vec<&str> = config
            .texts()
            .currents()
            .into_iter()
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(ids, ["consent", "notice"]);
        assert_eq!(config.len(), 2);
        assert_eq!(config.agency(), Some(&demo_agency()));
        assert!(ConsentConfig::embedded(None).unwrap().agency().is_none());
    }

    #[test]
    fn earlier_versions_are_kept_beside_the_current_one() {
        let forms = tempfile::tempdir().unwrap();
        let dir = forms.path().join("consent");
        std::fs::create_dir(&dir).unwrap();
        let v2 = shipped("consent").replacen("\"version\": 1", "\"version\": 2", 1);
        std::fs::write(dir.join("consent.json"), &v2).unwrap();
        std::fs::write(dir.join("consent.v1.json"), shipped("consent")).unwrap();
        let config = ConsentConfig::load(Some(forms.path()), Some(demo_agency())).unwrap();
        assert_eq!(config.len(), 3);
        assert_eq!(config.texts().current("consent").unwrap().version, 2);
        assert!(config.texts().get("consent", 1).is_some());

        // A folder of forms without texts: the built-in ones.
        let plain = tempfile::tempdir().unwrap();
        let config = ConsentConfig::load(Some(plain.path()), None).unwrap();
        assert_eq!(config.len(), 2);
    }

    #[test]
    fn a_broken_misnamed_or_changed_text_is_named() {
        let forms = tempfile::tempdir().unwrap();
        let dir = forms.path().join("consent");
        std::fs::create_dir(&dir).unwrap();
        let file = dir.join("consent.json");
        std::fs::write(
            &file,
            shipped("consent").replacen("\"id\": \"photos\"", "\"id\": \"\"", 1),
        )
        .unwrap();
        let err = ConsentConfig::load(Some(forms.path()), None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "consent text file {}: the id \"\" is used twice or is empty",
                file.display()
            )
        );

        std::fs::write(&file, shipped("notice")).unwrap();
        let err = ConsentConfig::load(Some(forms.path()), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("name the file notice.json (the current version) or notice.v1.json"),
            "{err}"
        );

        std::fs::write(
            &file,
            shipped("consent").replacen("Freiwillig", "Ganz freiwillig", 1),
        )
        .unwrap();
        let err = ConsentConfig::load(Some(forms.path()), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("a changed text needs a new version number"),
            "{err}"
        );
    }

    #[test]
    fn the_agency_file_must_give_every_detail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agency.json");
        let write = |agency: &Agency| {
            std::fs::write(&path, serde_json::to_string(agency).unwrap()).unwrap();
        };
        let err_of = |json: &str| {
            std::fs::write(&path, json).unwrap();
            read_agency(&path).unwrap_err().to_string()
        };
        let mut agency = demo_agency();
        write(&agency);
        assert_eq!(read_agency(&path).unwrap(), agency);
        assert_eq!(read_agency_file(&path).unwrap().1, None, "no retention set");

        // The retention period beside the texts that name it: whole months.
        let mut json: serde_json::Value = serde_json::to_value(demo_agency()).unwrap();
        json[RETENTION_MONTHS] = 60.into();
        std::fs::write(&path, json.to_string()).unwrap();
        assert_eq!(read_agency_file(&path).unwrap(), (demo_agency(), Some(60)));
        for wrong in [
            serde_json::json!(0),
            serde_json::json!(2.5),
            serde_json::json!("5 Jahre"),
            serde_json::json!(1201),
        ] {
            json[RETENTION_MONTHS] = wrong.clone();
            let err = err_of(&json.to_string());
            assert!(
                err.contains("a whole number of months, 1 to 1200"),
                "{wrong}: {err}"
            );
        }

        agency.remove("dpo_contact");
        write(&agency);
        let err = read_agency(&path).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("agency file {}: ", path.display())),
            "{err}"
        );
        assert!(err.contains("no text for \"dpo_contact\""), "{err}");

        agency.insert("dpo_contact".into(), " ".into());
        write(&agency);
        let err = read_agency(&path).unwrap_err().to_string();
        assert!(err.contains("no text for \"dpo_contact\""), "{err}");

        let mut typo = demo_agency();
        typo.insert("agency_nmae".into(), "Jobcenter".into());
        write(&typo);
        let err = read_agency(&path).unwrap_err().to_string();
        assert!(
            err.contains("\"agency_nmae\" is not a placeholder"),
            "{err}"
        );

        // Prose as one German text would reach a Turkish family in German.
        let mut german = demo_agency();
        german.insert(
            "retention".into(),
            "5 Jahre nach Abschluss des Falls".into(),
        );
        write(&german);
        let err = read_agency(&path).unwrap_err().to_string();
        assert!(
            err.contains("\"retention\" is prose the family reads: give it in every language"),
            "{err}"
        );
        let mut json: serde_json::Value = serde_json::to_value(demo_agency()).unwrap();
        json["statutory_basis"]
            .as_object_mut()
            .unwrap()
            .remove("bg");
        let err = err_of(&json.to_string());
        assert!(err.contains("\"statutory_basis\" has no bg text"), "{err}");
        json["statutory_basis"]["fr"] = "Code de la sécurité sociale".into();
        let err = err_of(&json.to_string());
        assert!(
            err.contains("\"statutory_basis\" gives a text for \"fr\", which is not one of the languages de, tr, bg, en, hu, sk"),
            "{err}"
        );
        let err = err_of(r#"{"agency_name": 12}"#);
        assert!(
            err.contains("\"agency_name\" is neither a text nor"),
            "{err}"
        );
        let err = err_of(r#"{"agency_name": {"de": 12}}"#);
        assert!(err.contains("\"agency_name\" in de: not a text"), "{err}");

        let err = err_of("[\"agency_name\"]");
        assert!(err.contains("not a JSON object"), "{err}");

        let err = read_agency(&dir.path().join("missing.json")).unwrap_err();
        assert!(matches!(err, ConsentError::AgencyRead { .. }));
    }
}
