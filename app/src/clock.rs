//! The phone's clock and new ids.

use cris_core::Date;

/// Milliseconds since 1970 by the phone's clock (which may be wrong: the server keeps its own
/// receipt time).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Today's date where the phone is (its time zone), for `today()` in forms.
pub fn today() -> Date {
    let now = js_sys::Date::new_0();
    Date::from_ymd(
        now.get_full_year() as i32,
        now.get_month() + 1,
        now.get_date(),
    )
    .unwrap_or(Date::from_days((now_ms() / 86_400_000.0) as i32))
}

/// A random UUID (version 4): `uuid()` in forms.
pub fn random_uuid() -> String {
    let mut random = [0u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut random);
    }
    cris_core::id::uuid_v4(random)
}

/// The moment forms are evaluated at on this phone: its date, its clock and time zone
/// (`now()`), random ids (`uuid()`) and the language month names are written in.
pub fn moment(today: Date, lang: cris_core::Lang) -> cris_core::expr::Moment {
    let offset_min = -(js_sys::Date::new_0().get_timezone_offset() as i32);
    cris_core::expr::Moment {
        today,
        now: Some((now_ms() as i64, offset_min)),
        uuid: Some(random_uuid),
        lang,
    }
}

/// A new UUIDv7, from the clock and the browser's cryptographic random numbers.
pub fn new_id() -> String {
    let mut random = [0u8; 10];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        // Fails only for arrays over 64 KiB.
        let _ = crypto.get_random_values_with_u8_array(&mut random);
    }
    cris_core::id::uuid_v7(now_ms() as u64, random)
}

/// A time of day as the phone shows it (`10:42`).
pub fn time_of_day(ms: f64) -> String {
    let at = js_sys::Date::new(&ms.into());
    format!("{:02}:{:02}", at.get_hours(), at.get_minutes())
}

/// A date and time as the phone shows it, the day as the screen's language writes it
/// (`26.11.2026 10:42` in German).
pub fn date_time(ms: f64) -> String {
    date_time_in(ms, screen_lang())
}

/// A date and time as `lang` writes it, where the phone is (`2026. 11. 26. 10:42` in
/// Hungarian): for screens in the family's language.
pub fn date_time_in(ms: f64, lang: cris_core::Lang) -> String {
    match day_at(ms) {
        Some(d) => format!("{} {}", d.written(lang), time_of_day(ms)),
        None => time_of_day(ms),
    }
}

/// The day where the phone is at the moment `ms`.
pub fn day_at(ms: f64) -> Option<Date> {
    let at = js_sys::Date::new(&ms.into());
    Date::from_ymd(at.get_full_year() as i32, at.get_month() + 1, at.get_date())
}

/// A day as the screen's language writes it (`26.11.2026` in German).
pub fn day(date: Date) -> String {
    date.written(screen_lang())
}

/// The language of the screen: reactive where read inside a view, the saved choice elsewhere.
fn screen_lang() -> cris_core::Lang {
    leptos::prelude::use_context::<crate::i18n::I18n>().map_or_else(crate::prefs::load_lang, |i| {
        use leptos::prelude::Get;
        i.lang.get()
    })
}
