//! The string, number and date functions of XLSForm expressions, with the semantics of ODK's
//! JavaRosa where it documents them (0-based `substr` and `selected-at`, whole-string
//! `regex`), written against plain values so that they can be tested alone.

use crate::date::Date;
use crate::lang::Lang;

/// `substr(s, start, end)`: characters from `start` (0-based) to before `end`; a negative
/// index counts from the end, NaN counts as 0, both are held inside the string.
pub fn substr(s: &str, start: f64, end: Option<f64>) -> String {
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len() as i64;
    let index = |x: f64| -> i64 {
        let i = if x.is_nan() {
            0
        } else {
            x.trunc().clamp(-1e15, 1e15) as i64
        };
        let i = if i < 0 { len + i } else { i };
        i.clamp(0, len)
    };
    let (a, b) = (index(start), end.map_or(len, index));
    if a >= b {
        return String::new();
    }
    chars[a as usize..b as usize].iter().collect()
}

/// `substring-before(s, t)`: what comes before the first `t` (nothing when there is none).
pub fn substring_before(s: &str, t: &str) -> String {
    if t.is_empty() {
        return String::new();
    }
    s.find(t).map_or_else(String::new, |i| s[..i].to_owned())
}

/// `substring-after(s, t)`: what comes after the first `t` (nothing when there is none).
pub fn substring_after(s: &str, t: &str) -> String {
    s.find(t)
        .map_or_else(String::new, |i| s[i + t.len()..].to_owned())
}

/// `translate(s, from, to)`: each character of `from` in `s` becomes the one at the same
/// place in `to`, or goes when `to` is shorter; the first occurrence in `from` counts.
pub fn translate(s: &str, from: &str, to: &str) -> String {
    let from: Vec<char> = from.chars().collect();
    let to: Vec<char> = to.chars().collect();
    s.chars()
        .filter_map(|c| match from.iter().position(|f| *f == c) {
            Some(i) => to.get(i).copied(),
            None => Some(c),
        })
        .collect()
}

/// `normalize-space(s)`: XPath whitespace (space, tab, line breaks) trimmed, and each run of
/// it inside made one space.
pub fn normalize_space(s: &str) -> String {
    s.split([' ', '\t', '\n', '\r'])
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `selected-at(list, n)`: the `n`th (0-based) choice of a space-separated answer, or nothing.
pub fn selected_at(list: &str, n: f64) -> String {
    let n = if n.is_nan() { 0.0 } else { n.trunc() };
    if n < 0.0 {
        return String::new();
    }
    list.split(' ')
        .filter(|c| !c.is_empty())
        .nth(n as usize)
        .unwrap_or_default()
        .to_owned()
}

/// `pow(x, y)` as Java's `Math.pow`: anything to the power 0 is 1, otherwise NaN in gives NaN
/// (Rust's `powf(1, NaN)` would be 1).
pub fn pow(x: f64, y: f64) -> f64 {
    if y == 0.0 {
        1.0
    } else if x.is_nan() || y.is_nan() {
        f64::NAN
    } else {
        x.powf(y)
    }
}

/// `regex(s, pattern)`: whether the whole of `s` matches `pattern` (no flags), as JavaRosa's
/// `Pattern.matches`. A pattern that does not compile matches nothing.
pub fn regex(s: &str, pattern: &str) -> bool {
    regex_lite::Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|re| re.is_match(s))
}

/// A moment as a form writes it: a day, and the time of day in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime {
    pub date: Date,
    pub ms_of_day: u32,
}

const DAY_MS: i64 = 86_400_000;

impl DateTime {
    /// `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM[:SS[.fff]]` with an optional `Z` or `±HH:MM` (the
    /// clock time as written is kept; the offset only says where it was).
    pub fn parse(text: &str) -> Option<DateTime> {
        let text = text.trim();
        let (day, time) = match text.split_once('T') {
            Some((day, time)) => (day, Some(time)),
            None => (text, None),
        };
        let date: Date = day.parse().ok()?;
        let ms_of_day = match time {
            None => 0,
            Some(time) => clock_ms(time)?,
        };
        Some(DateTime { date, ms_of_day })
    }

    /// The moment `utc_ms` on a clock `offset_min` minutes ahead of UTC.
    pub fn at(utc_ms: i64, offset_min: i32) -> DateTime {
        let local = utc_ms + i64::from(offset_min) * 60_000;
        DateTime {
            date: Date::from_days(i32::try_from(local.div_euclid(DAY_MS)).unwrap_or_default()),
            ms_of_day: u32::try_from(local.rem_euclid(DAY_MS)).unwrap_or_default(),
        }
    }

    /// Days since 1970-01-01, with the time of day as a fraction.
    pub fn days(self) -> f64 {
        f64::from(self.date.days()) + f64::from(self.ms_of_day) / DAY_MS as f64
    }

    fn hms(self) -> (u32, u32, u32, u32) {
        let ms = self.ms_of_day;
        (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
    }
}

/// `HH:MM[:SS[.fff]]` and what follows it (`Z`, `±HH:MM`), as milliseconds of the day.
fn clock_ms(time: &str) -> Option<u32> {
    let end = time.find(['Z', '+', '-']).unwrap_or(time.len());
    let (clock, zone) = time.split_at(end);
    if !(zone.is_empty() || zone == "Z" || is_offset(zone)) {
        return None;
    }
    let mut parts = clock.split(':');
    let number = |p: Option<&str>, max: u32| -> Option<u32> {
        let p = p?;
        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
            .filter(|v| *v <= max)
    };
    let h = number(parts.next(), 23)?;
    let m = number(parts.next(), 59)?;
    let (s, ms) = match parts.next() {
        None => (0, 0),
        Some(sec) => {
            let (whole, fraction) = sec.split_once('.').unwrap_or((sec, ""));
            let s = number(Some(whole), 59)?;
            let digits: String = fraction.chars().take(3).collect();
            if !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let ms = format!("{digits:0<3}").parse::<u32>().ok()?;
            (s, ms)
        }
    };
    if parts.next().is_some() {
        return None;
    }
    Some(((h * 60 + m) * 60 + s) * 1000 + ms)
}

fn is_offset(zone: &str) -> bool {
    let b = zone.as_bytes();
    b.len() == 6
        && matches!(b[0], b'+' | b'-')
        && b[1..3].iter().all(u8::is_ascii_digit)
        && b[3] == b':'
        && b[4..6].iter().all(u8::is_ascii_digit)
}

/// `now()` as ODK writes a dateTime: `2026-12-07T09:30:00.000+01:00`.
pub fn now_text(utc_ms: i64, offset_min: i32) -> String {
    let at = DateTime::at(utc_ms, offset_min);
    let (h, m, s, ms) = at.hms();
    let sign = if offset_min < 0 { '-' } else { '+' };
    let off = offset_min.unsigned_abs();
    format!(
        "{}T{h:02}:{m:02}:{s:02}.{ms:03}{sign}{:02}:{:02}",
        at.date,
        off / 60,
        off % 60
    )
}

/// `format-date(d, format)` and `format-date-time`: `%Y` year, `%y` its last two digits, `%m`
/// month (2 digits), `%n` month, `%b` month's short name, `%d` day (2 digits), `%e` day, `%a`
/// weekday's short name, `%H`/`%h` hour (2 digits, or not), `%M` minute, `%S` second, `%3`
/// milliseconds, `%%` a percent sign; names in `lang`. Anything else is written as it stands.
pub fn format_date(at: DateTime, format: &str, lang: Lang) -> String {
    let (year, month, day) = at.date.ymd();
    let (h, min, s, ms) = at.hms();
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&format!("{year:04}")),
            Some('y') => out.push_str(&format!("{:02}", year.rem_euclid(100))),
            Some('m') => out.push_str(&format!("{month:02}")),
            Some('n') => out.push_str(&month.to_string()),
            Some('b') => out.push_str(MONTHS[lang_index(lang)][month as usize - 1]),
            Some('d') => out.push_str(&format!("{day:02}")),
            Some('e') => out.push_str(&day.to_string()),
            Some('a') => out.push_str(WEEKDAYS[lang_index(lang)][weekday(at.date)]),
            Some('H') => out.push_str(&format!("{h:02}")),
            Some('h') => out.push_str(&h.to_string()),
            Some('M') => out.push_str(&format!("{min:02}")),
            Some('S') => out.push_str(&format!("{s:02}")),
            Some('3') => out.push_str(&format!("{ms:03}")),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// Monday 0 … Sunday 6 (1970-01-01 was a Thursday).
fn weekday(date: Date) -> usize {
    (i64::from(date.days()) + 3).rem_euclid(7) as usize
}

fn lang_index(lang: Lang) -> usize {
    match lang {
        Lang::De => 0,
        Lang::En => 1,
        Lang::Tr => 2,
        Lang::Bg => 3,
        Lang::Hu => 4,
        Lang::Sk => 5,
    }
}

/// Short month names, as each language abbreviates them (German, English, Turkish,
/// Bulgarian, Hungarian, Slovak).
const MONTHS: [[&str; 12]; 6] = [
    [
        "Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.",
        "Dez.",
    ],
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ],
    [
        "Oca", "Şub", "Mar", "Nis", "May", "Haz", "Tem", "Ağu", "Eyl", "Eki", "Kas", "Ara",
    ],
    [
        "яну", "фев", "мар", "апр", "май", "юни", "юли", "авг", "сеп", "окт", "ное", "дек",
    ],
    [
        "jan.", "febr.", "márc.", "ápr.", "máj.", "jún.", "júl.", "aug.", "szept.", "okt.", "nov.",
        "dec.",
    ],
    [
        "jan", "feb", "mar", "apr", "máj", "jún", "júl", "aug", "sep", "okt", "nov", "dec",
    ],
];

/// Short weekday names, Monday first.
const WEEKDAYS: [[&str; 7]; 6] = [
    ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."],
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    ["Pzt", "Sal", "Çar", "Per", "Cum", "Cmt", "Paz"],
    ["пн", "вт", "ср", "чт", "пт", "сб", "нд"],
    ["H", "K", "Sze", "Cs", "P", "Szo", "V"],
    ["po", "ut", "st", "št", "pi", "so", "ne"],
];
