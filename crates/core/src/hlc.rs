//! A hybrid logical clock: stamps that follow wall time but never go backwards.
//!
//! Every edit is stamped; when two devices change the same field, the later stamp wins (DESIGN
//! §5). Wall clocks jump (NTP corrections, a user fixing the date), so a stamp is the pair
//! (milliseconds, counter): the milliseconds follow the wall clock while it moves forward, and
//! the counter orders events within one millisecond or while the wall clock lags behind the last
//! stamp. The device id ends the stamp so two devices never produce equal stamps.
//!
//! A [`Stamp`] renders as fixed-width text (`0001733000000000-00000-<device uuid>`), so stamps
//! compare the same as strings (in SQLite, on the server) as they do as values.
//!
//! [`Clock`] is pure: the caller passes the wall time in and persists [`Clock::last`] (the store
//! keeps it in `sync_meta` in the same transaction as the edit it stamped).

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use uuid::Uuid;

/// A remote stamp further ahead of our wall clock than this is refused by [`Clock::observe`], so
/// one device with a broken clock cannot drag every other clock into the future.
pub const MAX_DRIFT_MS: u64 = 60 * 60 * 1000;

/// Largest millisecond value a stamp can hold: its text form has 16 digits.
const MILLIS_MAX: u64 = 9_999_999_999_999_999;

/// Failures of the clock.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The text is not a stamp this module wrote.
    #[error("malformed clock stamp {0:?}: expected <16 digits>-<5 digits>-<uuid>")]
    Malformed(String),
    /// A remote stamp is too far ahead of the local wall clock to be trusted.
    #[error("clock stamp {remote_ms} ms is more than {MAX_DRIFT_MS} ms ahead of this device's clock ({wall_ms} ms)")]
    TooFarAhead {
        /// The remote stamp's milliseconds.
        remote_ms: u64,
        /// The local wall clock.
        wall_ms: u64,
    },
}

/// One instant of the hybrid logical clock. Ordered by milliseconds, then counter, then device:
/// the same order as its text form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// Milliseconds since the Unix epoch: the wall clock, or ahead of it after a jump back.
    pub millis: u64,
    /// Orders stamps that share `millis`.
    pub counter: u16,
    /// The device that made the stamp.
    pub device: Uuid,
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:016}-{:05}-{}",
            self.millis,
            self.counter,
            self.device.hyphenated()
        )
    }
}

impl FromStr for Stamp {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || Error::Malformed(text.to_owned());
        let digits = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
        let mut parts = text.splitn(3, '-');
        let (Some(millis), Some(counter), Some(device)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        if !digits(millis, 16) || !digits(counter, 5) || device.len() != 36 {
            return Err(malformed());
        }
        let stamp = Stamp {
            millis: millis.parse().map_err(|_| malformed())?,
            counter: counter.parse().map_err(|_| malformed())?,
            device: Uuid::try_parse(device).map_err(|_| malformed())?,
        };
        // Only the canonical form: anything else would not sort like the stamp it stands for.
        if stamp.to_string() != text {
            return Err(malformed());
        }
        Ok(stamp)
    }
}

/// The clock of one device: remembers the last stamp it gave out or observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    last: Stamp,
}

impl Clock {
    /// A clock that has never ticked.
    pub const fn new(device: Uuid) -> Self {
        Clock {
            last: Stamp {
                millis: 0,
                counter: 0,
                device,
            },
        }
    }

    /// A clock continuing after `last` (as persisted), stamping as `device`.
    pub const fn resume(last: Stamp, device: Uuid) -> Self {
        Clock {
            last: Stamp {
                millis: last.millis,
                counter: last.counter,
                device,
            },
        }
    }

    /// The last stamp given out or observed, to persist.
    pub const fn last(&self) -> Stamp {
        self.last
    }

    /// A new stamp for a local event, later than every stamp before it, whatever the wall clock
    /// did since.
    pub fn now(&mut self, wall_ms: u64) -> Stamp {
        let wall_ms = wall_ms.min(MILLIS_MAX);
        if wall_ms > self.last.millis {
            self.last.millis = wall_ms;
            self.last.counter = 0;
        } else {
            self.bump();
        }
        self.last
    }

    /// Takes in a stamp from another device (on pull) so every later local stamp sorts after it.
    /// Refuses stamps more than [`MAX_DRIFT_MS`] ahead of `wall_ms`, leaving the clock unchanged.
    pub fn observe(&mut self, remote: &Stamp, wall_ms: u64) -> Result<Stamp, Error> {
        if remote.millis > wall_ms.saturating_add(MAX_DRIFT_MS) {
            return Err(Error::TooFarAhead {
                remote_ms: remote.millis,
                wall_ms,
            });
        }
        let wall_ms = wall_ms.min(MILLIS_MAX);
        let millis = wall_ms.max(self.last.millis).max(remote.millis);
        if millis == wall_ms && millis > self.last.millis && millis > remote.millis {
            self.last.millis = millis;
            self.last.counter = 0;
        } else {
            let counter = match (millis == self.last.millis, millis == remote.millis) {
                (true, true) => self.last.counter.max(remote.counter),
                (true, false) => self.last.counter,
                (false, _) => remote.counter,
            };
            self.last.millis = millis;
            self.last.counter = counter;
            self.bump();
        }
        Ok(self.last)
    }

    /// One logical step: the counter, or the next millisecond when the counter is full.
    fn bump(&mut self) {
        match self.last.counter.checked_add(1) {
            Some(counter) => self.last.counter = counter,
            None => {
                self.last.millis = (self.last.millis + 1).min(MILLIS_MAX);
                self.last.counter = 0;
            }
        }
    }
}

/// This machine's wall clock in milliseconds since the Unix epoch (0 if it is set before 1970).
pub fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(MILLIS_MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn stamps_follow_the_wall_clock_when_it_moves_forward() {
        let mut clock = Clock::new(device(1));
        let a = clock.now(1_000);
        let b = clock.now(2_000);
        assert_eq!(
            (a.millis, a.counter),
            (1_000, 0),
            "a fresh clock takes the wall time"
        );
        assert_eq!(
            (b.millis, b.counter),
            (2_000, 0),
            "a later wall time resets the counter"
        );
    }

    #[test]
    fn stamps_keep_increasing_when_the_wall_clock_stalls_or_goes_back() {
        let mut clock = Clock::new(device(1));
        let first = clock.now(5_000);
        let same_ms = clock.now(5_000);
        let went_back = clock.now(1_000);
        assert!(
            first < same_ms,
            "two events in one millisecond must be ordered"
        );
        assert!(
            same_ms < went_back,
            "a clock going back must not make stamps go back"
        );
        assert_eq!(
            went_back.millis, 5_000,
            "after a jump back the stamp stays at the last millisecond"
        );
        let recovered = clock.now(6_000);
        assert_eq!(
            (recovered.millis, recovered.counter),
            (6_000, 0),
            "once the wall clock passes the last stamp, stamps follow it again"
        );
    }

    #[test]
    fn a_full_counter_moves_to_the_next_millisecond() {
        let mut clock = Clock::resume(
            Stamp {
                millis: 10,
                counter: u16::MAX,
                device: device(1),
            },
            device(1),
        );
        let next = clock.now(10);
        assert!(
            next > clock_last(10, u16::MAX),
            "overflow must still advance"
        );
        assert_eq!(
            (next.millis, next.counter),
            (11, 0),
            "overflow carries into millis"
        );
    }

    fn clock_last(millis: u64, counter: u16) -> Stamp {
        Stamp {
            millis,
            counter,
            device: device(1),
        }
    }

    #[test]
    fn text_form_sorts_like_the_stamps() -> Result<(), Error> {
        let stamps = [
            Stamp {
                millis: 9,
                counter: 65_535,
                device: device(9),
            },
            Stamp {
                millis: 10,
                counter: 0,
                device: device(1),
            },
            Stamp {
                millis: 10,
                counter: 2,
                device: device(1),
            },
            Stamp {
                millis: 10,
                counter: 10,
                device: device(1),
            },
            Stamp {
                millis: 10,
                counter: 10,
                device: device(2),
            },
            Stamp {
                millis: 1_733_000_000_000,
                counter: 1,
                device: Uuid::now_v7(),
            },
        ];
        for pair in stamps.windows(2) {
            assert!(pair[0] < pair[1], "fixture must be sorted");
            assert!(
                pair[0].to_string() < pair[1].to_string(),
                "text order must equal stamp order: {} vs {}",
                pair[0],
                pair[1]
            );
        }
        for stamp in stamps {
            assert_eq!(
                stamp.to_string().parse::<Stamp>()?,
                stamp,
                "stamps round-trip through text"
            );
        }
        Ok(())
    }

    #[test]
    fn malformed_text_is_refused() {
        let good = Stamp {
            millis: 1,
            counter: 2,
            device: device(0xabcdef),
        }
        .to_string();
        let upper = good.to_uppercase();
        let bad = [
            "",
            "garbage",
            "1-2-3",
            &good[1..],
            &upper,
            "000000000000000x-00000-00000000-0000-0000-0000-000000000003",
            "0000000000000001-99999-00000000-0000-0000-0000-000000000003",
        ];
        for text in bad {
            assert!(
                text.parse::<Stamp>().is_err(),
                "only the canonical text form parses: {text:?}"
            );
        }
    }

    #[test]
    fn observing_a_later_remote_stamp_moves_the_clock_past_it() -> Result<(), Error> {
        let mut clock = Clock::new(device(1));
        clock.now(1_000);
        let remote = Stamp {
            millis: 2_000,
            counter: 7,
            device: device(2),
        };
        let observed = clock.observe(&remote, 1_500)?;
        assert!(
            observed > remote,
            "after observing, our clock is past the remote stamp"
        );
        assert_eq!(
            observed.device,
            device(1),
            "our stamps carry our own device id"
        );
        let next = clock.now(1_600);
        assert!(
            next > remote,
            "every later local stamp sorts after what we observed"
        );
        Ok(())
    }

    #[test]
    fn observing_an_older_remote_stamp_still_ticks() -> Result<(), Error> {
        let mut clock = Clock::new(device(1));
        let before = clock.now(5_000);
        let observed = clock.observe(&clock_last(1_000, 3), 4_000)?;
        assert!(observed > before, "observe never moves the clock back");
        let fresh = clock.observe(&clock_last(1_000, 3), 9_000)?;
        assert_eq!(
            (fresh.millis, fresh.counter),
            (9_000, 0),
            "a wall clock ahead of both stamps wins"
        );
        Ok(())
    }

    #[test]
    fn observing_equal_millis_takes_the_larger_counter() -> Result<(), Error> {
        let mut clock = Clock::resume(clock_last(3_000, 4), device(1));
        let remote = Stamp {
            millis: 3_000,
            counter: 9,
            device: device(2),
        };
        let observed = clock.observe(&remote, 2_000)?;
        assert_eq!(
            (observed.millis, observed.counter),
            (3_000, 10),
            "max(counter) + 1"
        );
        Ok(())
    }

    #[test]
    fn a_stamp_far_in_the_future_is_refused_and_changes_nothing() {
        let mut clock = Clock::new(device(1));
        let before = clock.now(1_000);
        let remote = Stamp {
            millis: 1_000 + MAX_DRIFT_MS + 1,
            counter: 0,
            device: device(2),
        };
        assert_eq!(
            clock.observe(&remote, 1_000),
            Err(Error::TooFarAhead {
                remote_ms: remote.millis,
                wall_ms: 1_000
            }),
            "a remote clock hours ahead must not drag ours along"
        );
        assert_eq!(
            clock.last(),
            before,
            "a refused stamp leaves the clock unchanged"
        );
    }

    #[test]
    fn resume_continues_after_the_persisted_stamp() -> Result<(), Error> {
        let mut clock = Clock::new(device(1));
        clock.now(10_000);
        let persisted: Stamp = clock.last().to_string().parse()?;
        let mut resumed = Clock::resume(persisted, device(1));
        assert!(
            resumed.now(9_000) > persisted,
            "a reopened store must not reuse stamps even if the wall clock went back"
        );
        Ok(())
    }

    #[test]
    fn wall_clock_is_after_2020() {
        assert!(
            wall_ms() > 1_577_836_800_000,
            "the wall clock reads milliseconds since 1970"
        );
    }
}
