//! Words the app shows and the exports write alike: yes and no, and the review statuses. One
//! copy, so that a funder's report says what the supervisor read on the review page.
//!
//! `const fn`s, so that the app's tables of strings (`app/src/i18n`) take them as they are.

use crate::api::ReviewStatus;
use crate::lang::Lang;

/// "Yes", as a yes/no field's answer reads.
pub const fn yes(lang: Lang) -> &'static str {
    match lang {
        Lang::De => "Ja",
        Lang::Tr => "Evet",
        Lang::Bg => "Да",
        Lang::En => "Yes",
        Lang::Hu => "Igen",
        Lang::Sk => "Áno",
    }
}

/// "No", as a yes/no field's answer reads.
pub const fn no(lang: Lang) -> &'static str {
    match lang {
        Lang::De => "Nein",
        Lang::Tr => "Hayır",
        Lang::Bg => "Не",
        Lang::En => "No",
        Lang::Hu => "Nem",
        Lang::Sk => "Nie",
    }
}

impl ReviewStatus {
    /// The status in words.
    pub const fn word(self, lang: Lang) -> &'static str {
        use ReviewStatus::{Approved, ChangesRequested, Corrected, New, Resubmitted};
        match (lang, self) {
            (Lang::De, New) => "Neu",
            (Lang::De, Approved) => "Freigegeben",
            (Lang::De, ChangesRequested) => "Änderungen angefordert",
            (Lang::De, Corrected) => "Korrigiert",
            (Lang::De, Resubmitted) => "Erneut eingereicht",
            (Lang::Tr, New) => "Yeni",
            (Lang::Tr, Approved) => "Onaylandı",
            (Lang::Tr, ChangesRequested) => "Değişiklik istendi",
            (Lang::Tr, Corrected) => "Düzeltildi",
            (Lang::Tr, Resubmitted) => "Yeniden gönderildi",
            (Lang::Bg, New) => "Нов",
            (Lang::Bg, Approved) => "Одобрен",
            (Lang::Bg, ChangesRequested) => "Поискани промени",
            (Lang::Bg, Corrected) => "Коригиран",
            (Lang::Bg, Resubmitted) => "Подаден отново",
            (Lang::En, New) => "New",
            (Lang::En, Approved) => "Approved",
            (Lang::En, ChangesRequested) => "Changes requested",
            (Lang::En, Corrected) => "Corrected",
            (Lang::En, Resubmitted) => "Resubmitted",
            (Lang::Hu, New) => "Új",
            (Lang::Hu, Approved) => "Jóváhagyva",
            (Lang::Hu, ChangesRequested) => "Módosítás kérve",
            (Lang::Hu, Corrected) => "Javítva",
            (Lang::Hu, Resubmitted) => "Újra beküldve",
            (Lang::Sk, New) => "Nové",
            (Lang::Sk, Approved) => "Schválené",
            (Lang::Sk, ChangesRequested) => "Vyžiadané zmeny",
            (Lang::Sk, Corrected) => "Opravené",
            (Lang::Sk, Resubmitted) => "Znova odoslané",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_tells_every_word_apart() {
        for lang in Lang::ALL {
            assert_ne!(yes(lang), no(lang), "{lang}");
            let mut words: Vec<&str> = ReviewStatus::ALL.iter().map(|s| s.word(lang)).collect();
            words.sort_unstable();
            words.dedup();
            assert_eq!(words.len(), ReviewStatus::ALL.len(), "{lang}");
        }
    }
}
