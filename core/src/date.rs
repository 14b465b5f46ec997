//! Calendar dates without time zones, as forms use them (`2026-11-26`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A day of the proleptic Gregorian calendar, stored as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days: i32,
}

/// A date that is not `YYYY-MM-DD` or not on the calendar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a date (expected YYYY-MM-DD): {0:?}")]
pub struct BadDate(pub String);

impl Date {
    /// The date `days` after 1970-01-01 (negative: before).
    pub const fn from_days(days: i32) -> Self {
        Date { days }
    }

    /// Days since 1970-01-01.
    pub const fn days(self) -> i32 {
        self.days
    }

    /// The date of a calendar day, if it exists (`2026-02-30` does not).
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Self> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        // Howard Hinnant's days_from_civil.
        let y = i64::from(year) - i64::from(month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        i32::try_from(days).ok().map(Date::from_days)
    }

    /// The Monday of its ISO week (weeks run from Monday to Sunday).
    pub const fn monday(self) -> Self {
        // 1970-01-01 was a Thursday, three days after a Monday.
        Date {
            days: self.days - (self.days + 3).rem_euclid(7),
        }
    }

    /// Year, month (1-12) and day (1-31).
    /// The same day `months` months later; the month's last day where it has no such day
    /// (31 January + 1 month: 28 or 29 February).
    pub fn plus_months(self, months: u32) -> Self {
        let (year, month, day) = self.ymd();
        let index = i64::from(year) * 12 + i64::from(month - 1) + i64::from(months);
        let (year, month) = (index.div_euclid(12) as i32, index.rem_euclid(12) as u32 + 1);
        let day = day.min(days_in_month(year, month));
        Self::from_ymd(year, month, day).expect("a day of the month")
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        let z = i64::from(self.days) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        (year, month, day)
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        _ => 28,
    }
}

impl FromStr for Date {
    type Err = BadDate;

    /// Parses `YYYY-MM-DD` (four-digit year, two-digit month and day).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadDate(s.to_owned());
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[range];
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        let (year, month, day) = (digits(0..4), digits(5..7), digits(8..10));
        match (year, month, day) {
            (Some(y), Some(m), Some(d)) => Date::from_ymd(y as i32, m, d).ok_or_else(bad),
            _ => Err(bad()),
        }
    }
}

impl Date {
    /// The day as people write it in `lang`: `06.12.2026` in German and Turkish,
    /// `06.12.2026 г.` in Bulgarian, `6 Dec 2026` in English, `2026. 12. 06.` in Hungarian,
    /// `6. 12. 2026` in Slovak. [`Display`](fmt::Display) stays ISO 8601, for data.
    pub fn written(self, lang: crate::Lang) -> String {
        use crate::Lang;
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let (y, m, d) = self.ymd();
        match lang {
            Lang::De | Lang::Tr => format!("{d:02}.{m:02}.{y:04}"),
            Lang::Bg => format!("{d:02}.{m:02}.{y:04} г."),
            Lang::En => format!("{d} {} {y:04}", MONTHS[(m as usize).saturating_sub(1) % 12]),
            Lang::Hu => format!("{y:04}. {m:02}. {d:02}."),
            Lang::Sk => format!("{d}. {m}. {y:04}"),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    /// Each language writes the day its own way; data keeps ISO 8601.
    #[test]
    fn a_day_is_written_as_each_language_writes_it() {
        use crate::Lang;
        let day = Date::from_ymd(2026, 12, 6).unwrap();
        let written: Vec<String> = Lang::ALL.into_iter().map(|l| day.written(l)).collect();
        let expected = |l: Lang| match l {
            Lang::De | Lang::Tr => "06.12.2026",
            Lang::Bg => "06.12.2026 г.",
            Lang::En => "6 Dec 2026",
            Lang::Hu => "2026. 12. 06.",
            Lang::Sk => "6. 12. 2026",
        };
        for (lang, text) in Lang::ALL.into_iter().zip(&written) {
            assert_eq!(text, expected(lang), "{lang}");
        }
        assert_eq!(
            Date::from_ymd(1979, 1, 31).unwrap().written(Lang::En),
            "31 Jan 1979"
        );
        assert_eq!(day.to_string(), "2026-12-06");
    }

    use super::*;

    #[test]
    fn known_days() {
        assert_eq!(Date::from_ymd(1970, 1, 1), Some(Date::from_days(0)));
        assert_eq!(Date::from_ymd(2000, 3, 1).unwrap().days(), 11_017);
        assert_eq!("1969-12-31".parse::<Date>().unwrap().days(), -1);
        assert_eq!(Date::from_days(20_000).to_string(), "2024-10-04");
    }

    #[test]
    fn weeks_start_on_monday() {
        let monday: Date = "2026-03-02".parse().unwrap();
        for offset in 0..7 {
            assert_eq!(Date::from_days(monday.days() + offset).monday(), monday);
        }
        assert_eq!(
            Date::from_days(monday.days() - 1).monday().to_string(),
            "2026-02-23"
        );
        assert_eq!(
            "1970-01-01".parse::<Date>().unwrap().monday().to_string(),
            "1969-12-29"
        );
    }

    #[test]
    fn round_trips_across_four_centuries() {
        for days in (-146_097..146_097).step_by(7) {
            let date = Date::from_days(days);
            let (y, m, d) = date.ymd();
            assert_eq!(Date::from_ymd(y, m, d), Some(date));
            assert_eq!(date.to_string().parse::<Date>(), Ok(date));
        }
    }

    #[test]
    fn rejects_what_is_not_a_day() {
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "26-01-01",
            "2026-01-01T00:00",
            "",
            "2026/01/01",
            "２０２６-01-01",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
        assert!("2024-02-29".parse::<Date>().is_ok());
        assert!("2000-02-29".parse::<Date>().is_ok());
        assert!("1900-02-29".parse::<Date>().is_err());
    }

    #[test]
    fn months_later_is_the_same_day_or_the_months_last() {
        let day = |y, m, d| Date::from_ymd(y, m, d).unwrap();
        assert_eq!(day(2026, 12, 7).plus_months(60), day(2031, 12, 7));
        assert_eq!(day(2027, 1, 31).plus_months(1), day(2027, 2, 28));
        assert_eq!(day(2028, 1, 31).plus_months(1), day(2028, 2, 29));
        assert_eq!(day(2026, 11, 30).plus_months(2), day(2027, 1, 30));
        assert_eq!(day(2026, 5, 1).plus_months(0), day(2026, 5, 1));
    }
}
