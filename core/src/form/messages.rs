//! The form engine's own messages (a constraint's message comes from the form), in the six
//! languages.

use super::ProblemKind;
use crate::lang::Lang;

/// The message for a problem the engine finds by itself.
pub fn engine_message(kind: &ProblemKind, lang: Lang) -> String {
    use Lang::{Bg, De, En, Hu, Sk, Tr};
    use ProblemKind as K;
    let text = match (kind, lang) {
        (K::Required, De) => "Bitte ausfüllen.",
        (K::Required, Tr) => "Lütfen doldurun.",
        (K::Required, Bg) => "Моля, попълнете.",
        (K::Required, En) => "Please fill this in.",
        (K::Required, Hu) => "Kérjük, töltse ki.",
        (K::Required, Sk) => "Vyplňte, prosím.",

        (K::NoEntry, De) => "Bitte mindestens einen Eintrag hinzufügen.",
        (K::NoEntry, Tr) => "Lütfen en az bir kayıt ekleyin.",
        (K::NoEntry, Bg) => "Моля, добавете поне един запис.",
        (K::NoEntry, En) => "Please add at least one entry.",
        (K::NoEntry, Hu) => "Kérjük, adjon hozzá legalább egy bejegyzést.",
        (K::NoEntry, Sk) => "Pridajte aspoň jeden záznam.",

        (K::NotAWholeNumber, De) => "Bitte eine ganze Zahl eingeben.",
        (K::NotAWholeNumber, Tr) => "Lütfen bir tam sayı girin.",
        (K::NotAWholeNumber, Bg) => "Моля, въведете цяло число.",
        (K::NotAWholeNumber, En) => "Please enter a whole number.",
        (K::NotAWholeNumber, Hu) => "Kérjük, egész számot adjon meg.",
        (K::NotAWholeNumber, Sk) => "Zadajte celé číslo.",

        (K::NotANumber, De) => "Bitte eine Zahl eingeben.",
        (K::NotANumber, Tr) => "Lütfen bir sayı girin.",
        (K::NotANumber, Bg) => "Моля, въведете число.",
        (K::NotANumber, En) => "Please enter a number.",
        (K::NotANumber, Hu) => "Kérjük, számot adjon meg.",
        (K::NotANumber, Sk) => "Zadajte číslo.",

        (K::NotADate, De) => "Bitte ein Datum eingeben (JJJJ-MM-TT).",
        (K::NotADate, Tr) => "Lütfen bir tarih girin (YYYY-AA-GG).",
        (K::NotADate, Bg) => "Моля, въведете дата (ГГГГ-ММ-ДД).",
        (K::NotADate, En) => "Please enter a date (YYYY-MM-DD).",
        (K::NotADate, Hu) => "Kérjük, dátumot adjon meg (ÉÉÉÉ-HH-NN).",
        (K::NotADate, Sk) => "Zadajte dátum (RRRR-MM-DD).",

        (K::NotATime, De) => "Bitte eine Uhrzeit eingeben (HH:MM).",
        (K::NotATime, Tr) => "Lütfen bir saat girin (SS:DD).",
        (K::NotATime, Bg) => "Моля, въведете час (ЧЧ:ММ).",
        (K::NotATime, En) => "Please enter a time (HH:MM).",
        (K::NotATime, Hu) => "Kérjük, időpontot adjon meg (ÓÓ:PP).",
        (K::NotATime, Sk) => "Zadajte čas (HH:MM).",

        (K::NotAChoice, De) => "Bitte eine der angebotenen Antworten wählen.",
        (K::NotAChoice, Tr) => "Lütfen sunulan cevaplardan birini seçin.",
        (K::NotAChoice, Bg) => "Моля, изберете един от предложените отговори.",
        (K::NotAChoice, En) => "Please choose one of the answers offered.",
        (K::NotAChoice, Hu) => "Kérjük, válasszon a felkínált válaszok közül.",
        (K::NotAChoice, Sk) => "Vyberte jednu z ponúknutých odpovedí.",

        (K::NotAPhoneNumber, De) => "Bitte eine Telefonnummer eingeben, z. B. +49 69 1234567.",
        (K::NotAPhoneNumber, Tr) => "Lütfen bir telefon numarası girin, örneğin +49 69 1234567.",
        (K::NotAPhoneNumber, Bg) => "Моля, въведете телефонен номер, напр. +49 69 1234567.",
        (K::NotAPhoneNumber, En) => "Please enter a phone number, e.g. +49 69 1234567.",
        (K::NotAPhoneNumber, Hu) => "Kérjük, adjon meg egy telefonszámot, pl. +49 69 1234567.",
        (K::NotAPhoneNumber, Sk) => "Zadajte telefónne číslo, napr. +49 69 1234567.",

        (K::Constraint, De) => "Diese Antwort ist nicht zulässig.",
        (K::Constraint, Tr) => "Bu cevap geçerli değil.",
        (K::Constraint, Bg) => "Този отговор не е допустим.",
        (K::Constraint, En) => "This answer is not allowed.",
        (K::Constraint, Hu) => "Ez a válasz nem megengedett.",
        (K::Constraint, Sk) => "Táto odpoveď nie je prípustná.",

        (K::UnknownField, De) => "Dieses Feld gehört nicht zum Formular.",
        (K::UnknownField, Tr) => "Bu alan forma ait değil.",
        (K::UnknownField, Bg) => "Това поле не е част от формуляра.",
        (K::UnknownField, En) => "This field is not part of the form.",
        (K::UnknownField, Hu) => "Ez a mező nem része az űrlapnak.",
        (K::UnknownField, Sk) => "Toto pole nie je súčasťou formulára.",

        (K::WrongShape, De) => {
            "Diese Antwort hat die falsche Form (Liste statt Text oder umgekehrt)."
        }
        (K::WrongShape, Tr) => "Bu cevabın biçimi yanlış (metin yerine liste ya da tersi).",
        (K::WrongShape, Bg) => "Този отговор е в грешна форма (списък вместо текст или обратно).",
        (K::WrongShape, En) => {
            "This answer has the wrong shape (a list instead of text, or the other way round)."
        }
        (K::WrongShape, Hu) => "A válasz formája hibás (lista szöveg helyett vagy fordítva).",
        (K::WrongShape, Sk) => "Odpoveď má nesprávny tvar (zoznam namiesto textu alebo naopak).",
    };
    text.to_owned()
}
