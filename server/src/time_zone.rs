//! The agency's time zone: the clock in which exports show the times the server and the phones
//! recorded (kept as UTC milliseconds everywhere else).
//!
//! No time zone database: the zones of the partner agencies, each with its standard offset and
//! the European Union's summer time (since 1996 the same everywhere in the EU: an hour ahead
//! from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October).
//! Times before 1996 are shown with today's rule. A zone not in the list is refused when the
//! server starts.

use std::fmt;
use std::str::FromStr;

use cris_core::Date;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// A time zone the server knows: its IANA name, its offset from UTC outside summer time, and
/// whether it keeps the EU's summer time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeZone {
    name: &'static str,
    standard_ms: i64,
    summer_time: bool,
}

/// Every zone the server knows, by name.
const ZONES: &[TimeZone] = &[
    TimeZone::eu("Europe/Berlin", 1),
    TimeZone::eu("Europe/Budapest", 1),
    TimeZone::eu("Europe/Bratislava", 1),
    TimeZone::eu("Europe/Vienna", 1),
    TimeZone::eu("Europe/Prague", 1),
    TimeZone::eu("Europe/Sofia", 2),
    TimeZone::UTC,
];

impl TimeZone {
    /// The default: the agencies of the pilot are in Germany.
    pub const BERLIN: TimeZone = TimeZone::eu("Europe/Berlin", 1);
    pub const UTC: TimeZone = TimeZone {
        name: "UTC",
        standard_ms: 0,
        summer_time: false,
    };

    const fn eu(name: &'static str, standard_hours: i64) -> TimeZone {
        TimeZone {
            name,
            standard_ms: standard_hours * HOUR_MS,
            summer_time: true,
        }
    }

    /// Its IANA name (`Europe/Berlin`), as the export's headings say it.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// The names of the zones the server knows.
    pub fn known() -> impl Iterator<Item = &'static str> {
        ZONES.iter().map(|z| z.name)
    }

    /// How far its clocks are ahead of UTC at the moment `utc_ms`.
    pub fn offset_ms(self, utc_ms: i64) -> i64 {
        if self.summer_time && in_eu_summer_time(utc_ms) {
            self.standard_ms + HOUR_MS
        } else {
            self.standard_ms
        }
    }

    /// The moment `utc_ms` as its clocks showed it.
    pub fn local(self, utc_ms: i64) -> LocalTime {
        LocalTime(utc_ms + self.offset_ms(utc_ms))
    }

    /// The moment its clocks showed midnight beginning `day` (UTC milliseconds). Summer time
    /// begins and ends in the night, never at midnight.
    pub fn day_starts_ms(self, day: Date) -> i64 {
        let midnight = i64::from(day.days()) * DAY_MS;
        midnight - self.offset_ms(midnight - self.standard_ms)
    }

    /// The day its clocks show at the moment `utc_ms`.
    pub fn day_of(self, utc_ms: i64) -> Date {
        self.local(utc_ms).date()
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone::BERLIN
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// A time zone the server does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {given:?}: the server knows {}", TimeZone::known().collect::<Vec<_>>().join(", "))]
pub struct UnknownTimeZone {
    pub given: String,
}

impl FromStr for TimeZone {
    type Err = UnknownTimeZone;

    /// An IANA name as the server knows it (`Europe/Berlin`; `UTC` also as `Etc/UTC`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        let name = if name == "Etc/UTC" { "UTC" } else { name };
        ZONES
            .iter()
            .find(|z| z.name == name)
            .copied()
            .ok_or_else(|| UnknownTimeZone {
                given: s.to_owned(),
            })
    }
}

/// Whether the EU's summer time is in force at `utc_ms`.
fn in_eu_summer_time(utc_ms: i64) -> bool {
    let days = i32::try_from(utc_ms.div_euclid(DAY_MS)).unwrap_or_default();
    let (year, _, _) = Date::from_days(days).ymd();
    let switch = |month: u32| {
        let last = Date::from_ymd(year, month, 31).map_or(0, Date::days);
        i64::from(last_sunday_up_to(last)) * DAY_MS + HOUR_MS
    };
    (switch(3)..switch(10)).contains(&utc_ms)
}

/// The days since 1970 of the last Sunday on or before the day `days`.
fn last_sunday_up_to(days: i32) -> i32 {
    // 1970-01-01 was a Thursday: Sundays are the days with (days + 4) % 7 == 0.
    days - (days + 4).rem_euclid(7)
}

/// A moment as a zone's clocks showed it: milliseconds since 1970-01-01 00:00 on those clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalTime(pub i64);

impl LocalTime {
    /// Its calendar day.
    pub fn date(self) -> Date {
        Date::from_days(i32::try_from(self.0.div_euclid(DAY_MS)).unwrap_or_default())
    }

    /// Hours, minutes and seconds into its day.
    pub fn hms(self) -> (u32, u32, u32) {
        let seconds = u32::try_from(self.0.rem_euclid(DAY_MS) / 1000).unwrap_or_default();
        (seconds / 3600, seconds / 60 % 60, seconds % 60)
    }
}

/// `2026-12-06 14:05`: to the minute, as a report reads it.
impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (hour, minute, _) = self.hms();
        write!(f, "{} {hour:02}:{minute:02}", self.date())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Milliseconds of a UTC date and time.
    fn utc(date: &str, hour: i64, minute: i64) -> i64 {
        let day: Date = date.parse().unwrap();
        i64::from(day.days()) * DAY_MS + hour * HOUR_MS + minute * 60_000
    }

    #[test]
    fn summer_time_starts_and_ends_at_one_in_the_morning_utc_on_the_last_sundays() {
        let berlin = TimeZone::BERLIN;
        // 2026: 29 March and 25 October; 2027: 28 March and 31 October (a 31st itself).
        for (date, before, after) in [
            ("2026-03-29", 1, 2),
            ("2026-10-25", 2, 1),
            ("2027-03-28", 1, 2),
            ("2027-10-31", 2, 1),
        ] {
            let switch = utc(date, 1, 0);
            assert_eq!(berlin.offset_ms(switch - 1), before * HOUR_MS, "{date}");
            assert_eq!(berlin.offset_ms(switch), after * HOUR_MS, "{date}");
        }
        assert_eq!(
            berlin.local(utc("2026-07-15", 10, 20)).to_string(),
            "2026-07-15 12:20"
        );
        assert_eq!(
            berlin.local(utc("2026-12-06", 13, 5)).to_string(),
            "2026-12-06 14:05"
        );
        // Past midnight on the local clock: the next day.
        assert_eq!(
            berlin.local(utc("2026-12-31", 23, 30)).to_string(),
            "2027-01-01 00:30"
        );
        let sofia: TimeZone = "Europe/Sofia".parse().unwrap();
        assert_eq!(
            sofia.local(utc("2026-07-15", 10, 20)).to_string(),
            "2026-07-15 13:20"
        );
        assert_eq!(
            TimeZone::UTC.local(utc("2026-07-15", 10, 20)).hms(),
            (10, 20, 0)
        );
        assert_eq!(LocalTime(-1).to_string(), "1969-12-31 23:59");
    }

    #[test]
    fn a_day_begins_at_local_midnight() {
        let berlin = TimeZone::BERLIN;
        let day = |s: &str| s.parse::<Date>().unwrap();
        // Winter: midnight in Berlin is 23:00 UTC the day before; summer: 22:00.
        assert_eq!(
            berlin.day_starts_ms(day("2026-12-06")),
            utc("2026-12-05", 23, 0)
        );
        assert_eq!(
            berlin.day_starts_ms(day("2026-07-01")),
            utc("2026-06-30", 22, 0)
        );
        // The days summer time begins and ends.
        assert_eq!(
            berlin.day_starts_ms(day("2026-03-29")),
            utc("2026-03-28", 23, 0)
        );
        assert_eq!(
            berlin.day_starts_ms(day("2026-03-30")),
            utc("2026-03-29", 22, 0)
        );
        assert_eq!(
            berlin.day_starts_ms(day("2026-10-25")),
            utc("2026-10-24", 22, 0)
        );
        assert_eq!(
            berlin.day_starts_ms(day("2026-10-26")),
            utc("2026-10-25", 23, 0)
        );
        assert_eq!(
            TimeZone::UTC.day_starts_ms(day("2026-12-06")),
            utc("2026-12-06", 0, 0)
        );
        assert_eq!(berlin.day_of(utc("2026-12-05", 23, 30)), day("2026-12-06"));
        assert_eq!(berlin.day_of(utc("2026-12-05", 22, 59)), day("2026-12-05"));
    }

    #[test]
    fn the_partners_zones_are_known_and_others_refused() {
        for name in [
            "Europe/Berlin",
            "Europe/Budapest",
            "Europe/Bratislava",
            "UTC",
        ] {
            let zone: TimeZone = name.parse().unwrap();
            assert_eq!(zone.name(), name);
        }
        assert_eq!("Etc/UTC".parse::<TimeZone>(), Ok(TimeZone::UTC));
        let budapest: TimeZone = "Europe/Budapest".parse().unwrap();
        let winter = utc("2026-01-10", 12, 0);
        assert_eq!(
            budapest.offset_ms(winter),
            TimeZone::BERLIN.offset_ms(winter)
        );
        let err = "Europe/Paris".parse::<TimeZone>().unwrap_err().to_string();
        assert!(
            err.starts_with("unknown time zone \"Europe/Paris\": the server knows Europe/Berlin,"),
            "{err}"
        );
        assert_eq!(TimeZone::default(), TimeZone::BERLIN);
    }
}
