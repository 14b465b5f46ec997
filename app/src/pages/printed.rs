//! Pages made to be printed (the family's copy, a referral letter, the family's plan): one
//! HTML string built in one pass, every text escaped, costs the phone's download a fraction
//! of a view of components (these pages are read, never edited).

use cris_core::Lang;
use cris_core::copy::Said;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::clock::date_time_in;
use crate::i18n::{Ui, ui, use_i18n};

/// The language a printed page is asked for in its address (`?lang=tr`), if any.
pub fn asked_lang() -> Memo<Option<Lang>> {
    let query = leptos_router::hooks::use_query_map();
    Memo::new(move |_| {
        query
            .read()
            .get("lang")
            .and_then(|code| code.parse::<Lang>().ok())
    })
}

/// The choice of a printed page's language (not printed itself): `shown` is the page's
/// language now, `path` its address, to which the choice adds `?lang=`.
pub fn lang_choice(
    testid: &'static str,
    label: Pick,
    shown: impl Fn() -> Option<Lang> + Copy + Send + Sync + 'static,
    path: impl Fn() -> String + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let options = Lang::ALL
        .into_iter()
        .map(|l| {
            view! { <option value=l.code() selected=move || shown() == Some(l)>{l.native_name()}</option> }
        })
        .collect_view();
    let choose = move |ev| {
        let code = event_target_value(&ev);
        navigate(&format!("{}?lang={code}", path()), Default::default());
    };
    view! {
        <label>
            {i18n.t(label)} " "
            <select data-testid=testid on:change=choose>{options}</select>
        </label>
    }
}

/// The button that opens the browser's print dialog (where "save as PDF" is).
pub fn print_button(testid: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let print = |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    view! {
        <button type="button" class="btn btn-primary" data-testid=testid on:click=print>
            {i18n.t(|u| u.receipt_print)}
        </button>
    }
}

/// A string of the app, by its name.
pub type Pick = fn(&'static Ui) -> &'static str;

/// A page as HTML, every text escaped, in one language with German under it (once when it
/// is German).
pub struct Page {
    lang: Lang,
    /// Whether German stands under the page's language.
    german_too: bool,
    pub out: String,
}

/// `text` with `&`, `<`, `>`, `"` and `'` written as entities: safe between tags and in
/// quoted attributes.
pub fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

impl Page {
    pub fn new(lang: Lang) -> Page {
        Page {
            lang,
            german_too: true,
            out: String::new(),
        }
    }

    /// A page in `lang` alone (a letter to a service).
    pub fn only(lang: Lang) -> Page {
        Page {
            german_too: false,
            ..Page::new(lang)
        }
    }

    /// Markup written as it is: only the page's own tags and attribute names.
    pub fn tag(&mut self, markup: &str) -> &mut Self {
        self.out.push_str(markup);
        self
    }

    pub fn text(&mut self, text: &str) -> &mut Self {
        escape(text, &mut self.out);
        self
    }

    /// An element with a `data-` attribute whose value is the record's (escaped).
    pub fn open_with(&mut self, tag: &str, testid: &str, attr: &str, value: &str) -> &mut Self {
        self.out
            .push_str(&format!("<{tag} data-testid=\"{testid}\" {attr}=\""));
        escape(value, &mut self.out);
        self.out.push_str("\">");
        self
    }

    /// Words in the family's language and, under them, in German (once when it is German).
    pub fn two(&mut self, words: impl Fn(Lang) -> String) -> &mut Self {
        let lang = self.lang;
        self.out
            .push_str(&format!("<span lang=\"{}\">", lang.code()));
        escape(&words(lang), &mut self.out);
        self.out.push_str("</span>");
        if self.german_too && lang != Lang::De {
            self.out.push_str("<span class=\"de\" lang=\"de\">");
            escape(&words(Lang::De), &mut self.out);
            self.out.push_str("</span>");
        }
        self
    }

    pub fn both(&mut self, pick: Pick) -> &mut Self {
        self.two(|l| pick(ui(l)).to_owned())
    }

    pub fn said(&mut self, said: &Said) -> &mut Self {
        self.two(|l| said.get(l).to_owned())
    }

    /// A section's heading, and "None." when it has nothing.
    pub fn section(&mut self, pick: Pick, empty: bool) -> &mut Self {
        self.tag("<h2>").both(pick).tag("</h2>");
        if empty {
            self.tag("<p class=\"small\">")
                .both(|u| u.copy_none)
                .tag("</p>");
        }
        self
    }
}

pub fn when(ms: i64, l: Lang) -> String {
    date_time_in(ms as f64, l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_anyone_typed_is_text_never_markup() {
        let mut out = String::new();
        escape("<img src=x onerror=\"alert('x')\"> & more", &mut out);
        assert_eq!(
            out,
            "&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt; &amp; more"
        );
        let mut p = Page::new(Lang::Tr);
        p.open_with("tr", "copy-answer", "data-field", "a\" onclick=\"x");
        assert_eq!(
            p.out,
            "<tr data-testid=\"copy-answer\" data-field=\"a&quot; onclick=&quot;x\">"
        );
    }
}
