//! The words of an export that are not the forms' own, in each language. Yes, no and the
//! review statuses are the app's words, kept in `cris_core::words`.

use cris_core::api::ReviewStatus;
use cris_core::lang::Lang;

pub(super) struct Words {
    /// The headings of a form's table before its answers: household (its name), worker
    /// (login), worker (name), team, received, finalized (both followed by the time zone),
    /// form version, review status.
    pub lead: [&'static str; 8],
    /// The headings of the ids after the answers: submission id, case id (the household it
    /// was recorded on), household id (the one it is shown with: the household it was merged
    /// into), corrects, corrected by.
    pub ids: [&'static str; 5],
    /// The heading of an instance's number in a repeat group's table.
    pub instance: &'static str,
}

/// The places in [`Words::lead`] of the two times.
pub(super) const TIMES: [usize; 2] = [4, 5];

pub(super) fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::De => &Words {
            lead: [
                "Haushalt",
                "Fachkraft (Login)",
                "Fachkraft (Name)",
                "Team",
                "Eingegangen",
                "Abgeschlossen",
                "Formularversion",
                "Prüfstatus",
            ],
            ids: [
                "Formular-ID",
                "Fall-ID",
                "Haushalts-ID",
                "Korrigiert (Formular-ID)",
                "Korrigiert durch (Formular-ID)",
            ],
            instance: "Eintrag Nr.",
        },
        Lang::Tr => &Words {
            lead: [
                "Hane",
                "Vaka yöneticisi (kullanıcı adı)",
                "Vaka yöneticisi (adı soyadı)",
                "Ekip",
                "Geliş tarihi",
                "Tamamlanma",
                "Form sürümü",
                "İnceleme durumu",
            ],
            ids: [
                "Form kimliği",
                "Vaka kimliği",
                "Hane kimliği",
                "Düzelttiği form (kimlik)",
                "Düzelten form (kimlik)",
            ],
            instance: "Kayıt no.",
        },
        Lang::Bg => &Words {
            lead: [
                "Домакинство",
                "Служител (потребителско име)",
                "Служител (име)",
                "Екип",
                "Получен",
                "Приключен",
                "Версия на формуляра",
                "Статус на проверката",
            ],
            ids: [
                "ID на формуляра",
                "ID на случая",
                "ID на домакинството",
                "Коригира формуляр (ID)",
                "Коригиран с формуляр (ID)",
            ],
            instance: "Запис №",
        },
        Lang::En => &Words {
            lead: [
                "Household",
                "Worker (login)",
                "Worker (name)",
                "Team",
                "Received",
                "Finalized",
                "Form version",
                "Review status",
            ],
            ids: [
                "Submission ID",
                "Case ID",
                "Household ID",
                "Corrects (submission ID)",
                "Corrected by (submission ID)",
            ],
            instance: "Entry no.",
        },
        Lang::Hu => &Words {
            lead: [
                "Háztartás",
                "Munkatárs (felhasználónév)",
                "Munkatárs (név)",
                "Csapat",
                "Beérkezett",
                "Véglegesítve",
                "Űrlapverzió",
                "Ellenőrzés állapota",
            ],
            ids: [
                "Űrlapazonosító",
                "Ügyazonosító",
                "Háztartás-azonosító",
                "Javított űrlap (azonosító)",
                "Javító űrlap (azonosító)",
            ],
            instance: "Bejegyzés sorszáma",
        },
        Lang::Sk => &Words {
            lead: [
                "Domácnosť",
                "Pracovník (prihlasovacie meno)",
                "Pracovník (meno)",
                "Tím",
                "Prijaté",
                "Dokončené",
                "Verzia formulára",
                "Stav kontroly",
            ],
            ids: [
                "ID formulára",
                "ID prípadu",
                "ID domácnosti",
                "Opravuje formulár (ID)",
                "Opravené formulárom (ID)",
            ],
            instance: "Záznam č.",
        },
    }
}

/// A review status in words (one the code does not know, as stored).
pub(super) fn status_words(status: &str, lang: Lang) -> &str {
    match status.parse::<ReviewStatus>() {
        Ok(s) => s.word(lang),
        Err(_) => status,
    }
}
