//! Time as the core sees it: whole seconds since the Unix epoch, handed in by
//! the caller. Nothing in the sans-IO core reads the system clock, which is what
//! lets tests and the simulator drive it with a virtual one.

use std::fmt;

/// Seconds since 1970-01-01T00:00:00Z. Lease times on the wire, in the
/// database and in the failover protocol are all whole seconds.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub u64);

impl Time {
    /// The epoch itself; in lease records it means "never" or "not set".
    pub const ZERO: Time = Time(0);

    /// `secs` seconds later, saturating at the end of time rather than wrapping.
    pub fn plus(self, secs: u64) -> Time {
        Time(self.0.saturating_add(secs))
    }

    /// Seconds from `self` until `later`, zero if `later` is not later.
    pub fn until(self, later: Time) -> u64 {
        later.0.saturating_sub(self.0)
    }

    /// The time as RFC 3339 UTC with whole seconds, e.g. "2024-05-01T12:00:00Z".
    pub fn rfc3339(self) -> String {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(self.0);
        humantime::format_rfc3339_seconds(t).to_string()
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

/// Seconds on a clock that never steps and keeps counting while the
/// machine or process is suspended (Linux `CLOCK_BOOTTIME`), from an
/// arbitrary origin. Only differences mean anything: how long really
/// passed between two inputs, whatever NTP or an operator did to the wall
/// clock meanwhile.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mono(pub u64);

impl Mono {
    /// Seconds from `earlier` to `self`, zero if `earlier` is not earlier.
    pub fn since(self, earlier: Mono) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// "Now" as the core receives it with every input: the wall clock, for
/// everything stored or sent, and the monotonic one, for how long passed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Now {
    /// Seconds since the Unix epoch.
    pub wall: Time,
    /// Seconds on the monotonic clock.
    pub mono: Mono,
}

/// A wall time alone, for callers whose clock never steps (tests): the
/// monotonic clock reads the same seconds.
impl From<Time> for Now {
    fn from(wall: Time) -> Now {
        Now {
            wall,
            mono: Mono(wall.0),
        }
    }
}

/// Where the edges get "now" from; the core only ever receives a `Time`
/// and, with each input, a [`Mono`].
pub trait Clock {
    /// The current time, in whole seconds since the Unix epoch.
    fn now(&self) -> Time;

    /// The current monotonic time (see [`Mono`]).
    fn mono(&self) -> Mono;
}

/// The wall clock, for the running server.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Time {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Time(d.as_secs())
    }

    /// `CLOCK_BOOTTIME`; should the kernel refuse it (it never does on
    /// Linux 2.6.39 or later), `CLOCK_MONOTONIC`, which stops while
    /// suspended.
    fn mono(&self) -> Mono {
        use nix::time::{ClockId, clock_gettime};
        let t = clock_gettime(ClockId::CLOCK_BOOTTIME)
            .or_else(|_| clock_gettime(ClockId::CLOCK_MONOTONIC))
            .map_or(0, |t| u64::try_from(t.tv_sec()).unwrap_or(0));
        Mono(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_and_saturates() {
        assert_eq!(Time(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Time(86_400 + 61).to_string(), "1970-01-02T00:01:01Z");
        assert_eq!(Time(u64::MAX).plus(5), Time(u64::MAX));
        assert_eq!(Time(10).until(Time(4)), 0);
        assert_eq!(Time(4).until(Time(10)), 6);
        assert_eq!(Mono(4).since(Mono(10)), 0);
        assert_eq!(Mono(10).since(Mono(4)), 6);
    }

    #[test]
    fn the_system_monotonic_clock_does_not_go_back() {
        let (a, b) = (SystemClock.mono(), SystemClock.mono());
        assert!(b >= a && a > Mono(0), "{a:?} then {b:?}");
    }
}
