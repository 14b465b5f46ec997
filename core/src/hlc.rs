//! Hybrid logical clocks: a stamp for every change that orders history even when phone
//! clocks are wrong. A stamp is (wall time in ms, counter, device); a clock never goes back,
//! and it moves past every stamp it has seen, so a change made after seeing another always
//! sorts after it.
//!
//! Stamps travel and are stored as text that sorts like the stamps themselves:
//! `0001790000000000.00000003.<device>`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Hlc {
    /// Milliseconds since 1970, as the device's clock (or a later stamp) had it.
    pub wall_ms: u64,
    /// Orders stamps of the same millisecond.
    pub counter: u32,
    /// The device that made the stamp: makes every stamp unique.
    pub device: String,
}

/// The wall time is 16 digits wide: enough until the year 316,000.
const WALL_DIGITS: usize = 16;
const COUNTER_DIGITS: usize = 8;

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:0w$}.{:0c$}.{}",
            self.wall_ms,
            self.counter,
            self.device,
            w = WALL_DIGITS,
            c = COUNTER_DIGITS
        )
    }
}

/// Text that is not a stamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a clock stamp (expected WALL.COUNTER.DEVICE): {0:?}")]
pub struct BadHlc(pub String);

impl FromStr for Hlc {
    type Err = BadHlc;
    fn from_str(text: &str) -> Result<Self, BadHlc> {
        let bad = || BadHlc(text.chars().take(80).collect());
        let mut parts = text.splitn(3, '.');
        let (Some(wall), Some(counter), Some(device)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(wall, WALL_DIGITS) || !digits(counter, COUNTER_DIGITS) || device.is_empty() {
            return Err(bad());
        }
        Ok(Hlc {
            wall_ms: wall.parse().map_err(|_| bad())?,
            counter: counter.parse().map_err(|_| bad())?,
            device: device.to_owned(),
        })
    }
}

impl From<Hlc> for String {
    fn from(hlc: Hlc) -> String {
        hlc.to_string()
    }
}

impl TryFrom<String> for Hlc {
    type Error = BadHlc;
    fn try_from(text: String) -> Result<Self, BadHlc> {
        text.parse()
    }
}

/// A device's clock: hands out stamps that only grow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    last: Hlc,
}

impl Clock {
    pub fn new(device: &str) -> Self {
        Clock {
            last: Hlc {
                wall_ms: 0,
                counter: 0,
                device: device.to_owned(),
            },
        }
    }

    /// The last stamp handed out or seen.
    pub fn last(&self) -> &Hlc {
        &self.last
    }

    /// A stamp for a change made now (`wall_ms`: the device's clock).
    pub fn stamp(&mut self, wall_ms: u64) -> Hlc {
        if wall_ms > self.last.wall_ms {
            self.last.wall_ms = wall_ms;
            self.last.counter = 0;
        } else {
            self.last.counter += 1;
        }
        self.last.clone()
    }

    /// Moves past a stamp received from elsewhere, so that what this device does next sorts
    /// after it.
    pub fn observe(&mut self, seen: &Hlc, wall_ms: u64) {
        let wall = wall_ms.max(self.last.wall_ms).max(seen.wall_ms);
        let counter = if wall == self.last.wall_ms && wall == seen.wall_ms {
            self.last.counter.max(seen.counter)
        } else if wall == self.last.wall_ms {
            self.last.counter
        } else if wall == seen.wall_ms {
            seen.counter
        } else {
            0
        };
        if (wall, counter) > (self.last.wall_ms, self.last.counter) {
            self.last.wall_ms = wall;
            self.last.counter = counter;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hlc(wall_ms: u64, counter: u32, device: &str) -> Hlc {
        Hlc {
            wall_ms,
            counter,
            device: device.into(),
        }
    }

    #[test]
    fn text_round_trips_and_sorts_like_the_stamps() {
        let a = hlc(1_790_000_000_000, 3, "0192b3c4-0000-7000-8000-00000000d001");
        assert_eq!(
            a.to_string(),
            "0001790000000000.00000003.0192b3c4-0000-7000-8000-00000000d001"
        );
        assert_eq!(a.to_string().parse::<Hlc>().unwrap(), a);
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
        for bad in [
            "",
            "1.2.d",
            "0001790000000000.00000003.",
            "x001790000000000.00000003.d",
        ] {
            assert!(bad.parse::<Hlc>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_clock_never_goes_back_even_when_the_wall_clock_does() {
        let mut clock = Clock::new("d");
        let first = clock.stamp(1000);
        let second = clock.stamp(900); // the phone's clock was set back
        let third = clock.stamp(1000);
        assert!(first < second && second < third, "{first} {second} {third}");
    }

    #[test]
    fn after_seeing_a_stamp_the_next_one_sorts_after_it() {
        // A phone a year behind sees a change stamped by a phone with the right time.
        let mut behind = Clock::new("slow");
        let seen = hlc(1_790_000_000_000, 5, "right");
        behind.observe(&seen, 1_758_000_000_000);
        let next = behind.stamp(1_758_000_000_001);
        assert!(next > seen, "{next} {seen}");
    }

    proptest! {
        #[test]
        fn stamps_sort_as_their_text(a in 0u64..10_000_000_000_000, b in 0u32..1000, c in 0u64..10_000_000_000_000, d in 0u32..1000) {
            let x = hlc(a, b, "dev-a");
            let y = hlc(c, d, "dev-a");
            prop_assert_eq!(x.cmp(&y), x.to_string().cmp(&y.to_string()));
        }

        #[test]
        fn a_clock_is_strictly_increasing(walls in proptest::collection::vec(0u64..5_000, 1..50), seen in proptest::collection::vec((0u64..5_000, 0u32..5), 0..10)) {
            let mut clock = Clock::new("p");
            let mut last: Option<Hlc> = None;
            for (i, wall) in walls.iter().enumerate() {
                if let Some((w, c)) = seen.get(i) {
                    let other = hlc(*w, *c, "q");
                    clock.observe(&other, *wall);
                    let next = clock.stamp(*wall);
                    prop_assert!(next > other);
                    last = Some(next);
                    continue;
                }
                let next = clock.stamp(*wall);
                if let Some(prev) = &last {
                    prop_assert!(next > *prev);
                }
                last = Some(next);
            }
        }
    }
}
