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

/// Where the edges get "now" from; the core only ever receives a `Time`.
pub trait Clock {
    /// The current time, in whole seconds since the Unix epoch.
    fn now(&self) -> Time;
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
    }
}
