//! The languages CRIS Field speaks: the UI, the forms and the consent texts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A language of the UI and of the forms.
///
/// German is first: it is the working language of the jobcenter and the binding language of
/// consent texts. The codes are ISO 639-1 and also serve as BCP 47 tags (`<html lang>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    De,
    Tr,
    Bg,
    En,
    Hu,
    Sk,
}

impl Lang {
    /// Every supported language, in the order the language switcher lists them.
    pub const ALL: [Lang; 6] = [Lang::De, Lang::Tr, Lang::Bg, Lang::En, Lang::Hu, Lang::Sk];

    /// The language used when nothing else is known.
    pub const DEFAULT: Lang = Lang::De;

    /// ISO 639-1 code, lowercase.
    pub const fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::Tr => "tr",
            Lang::Bg => "bg",
            Lang::En => "en",
            Lang::Hu => "hu",
            Lang::Sk => "sk",
        }
    }

    /// The language's name in itself, so that a person can find their own language
    /// whatever language the screen is in.
    pub const fn native_name(self) -> &'static str {
        match self {
            Lang::De => "Deutsch",
            Lang::Tr => "Türkçe",
            Lang::Bg => "Български",
            Lang::En => "English",
            Lang::Hu => "Magyar",
            Lang::Sk => "Slovenčina",
        }
    }

    /// Picks the best supported language from a browser's preference list
    /// (`navigator.languages`, e.g. `["tr-TR", "de"]`). `None` if none is supported.
    pub fn negotiate<'a>(preferred: impl IntoIterator<Item = &'a str>) -> Option<Lang> {
        preferred.into_iter().find_map(|tag| {
            let primary = tag.split(['-', '_']).next().unwrap_or_default();
            primary.parse().ok()
        })
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A language code that CRIS Field does not speak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported language code {0:?}: expected one of de, tr, bg, en, hu, sk")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;

    /// Parses an ISO 639-1 code, ignoring case and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim().to_ascii_lowercase();
        Lang::ALL
            .into_iter()
            .find(|lang| lang.code() == code)
            .ok_or_else(|| UnknownLang(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for lang in Lang::ALL {
            assert_eq!(lang.code().parse::<Lang>(), Ok(lang));
            assert_eq!(lang.to_string(), lang.code());
        }
    }

    #[test]
    fn parsing_ignores_case_and_whitespace() {
        assert_eq!(" TR ".parse::<Lang>(), Ok(Lang::Tr));
        assert_eq!("Bg".parse::<Lang>(), Ok(Lang::Bg));
    }

    #[test]
    fn unknown_codes_are_rejected_with_the_input_named() {
        let err = "fr".parse::<Lang>().unwrap_err();
        assert_eq!(err, UnknownLang("fr".into()));
        assert!(err.to_string().contains("\"fr\""));
        assert!("".parse::<Lang>().is_err());
        assert!("deu".parse::<Lang>().is_err());
    }

    #[test]
    fn negotiation_takes_the_first_supported_preference() {
        assert_eq!(Lang::negotiate(["fr-FR", "tr-TR", "de"]), Some(Lang::Tr));
        assert_eq!(Lang::negotiate(["sk_SK"]), Some(Lang::Sk));
        assert_eq!(Lang::negotiate(["fr", "it"]), None);
        assert_eq!(Lang::negotiate([]), None);
    }

    #[test]
    fn serialises_as_the_code() {
        assert_eq!(serde_json::to_string(&Lang::Hu).unwrap(), "\"hu\"");
        assert_eq!(serde_json::from_str::<Lang>("\"sk\"").unwrap(), Lang::Sk);
        assert!(serde_json::from_str::<Lang>("\"SK\"").is_err());
    }

    #[test]
    fn native_names_are_distinct() {
        let mut names: Vec<_> = Lang::ALL.iter().map(|l| l.native_name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Lang::ALL.len());
    }
}
