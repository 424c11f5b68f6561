//! The partner's clock offset, estimated from the timestamps its messages
//! carry.
//!
//! A message stamped at the partner's time `t` arrives here at our time
//! `t − offset + delay`, so each sample (`their − ours`) is the true offset
//! minus that message's delay: queueing behind a disk commit or a busy link
//! only ever makes a sample smaller. The largest recent sample is therefore
//! the best estimate, and a lower bound. The partner does the same from
//! our stamps and reports its bound in each keepalive; negated, that is an
//! upper bound on ours. Between the two lies the true offset (to a second
//! of rounding), however long messages queue in either direction, and each
//! time a partner sends is converted on its safe side of that range
//! (`WireLease::to_lease`): expiries at their latest, the potential expiry
//! the MCLT cap rests on at its earliest. Samples age out after [`WINDOW`]
//! seconds, so a clock step on either side is followed within it; a step
//! is still a fault no design with absolute times survives (DESIGN.md 3.2,
//! docs/SIMULATION.md).

use crate::time::Time;
use std::collections::VecDeque;

/// How long a sample counts, seconds.
pub const WINDOW: u64 = 60;
/// At most this many samples are kept (keepalives come every few seconds).
const MAX_SAMPLES: usize = 64;

/// The running estimate of the partner's clock offset (partner − us, seconds),
/// from the stamps on its messages and the bound it reports in its keepalives.
#[derive(Clone, Debug, Default)]
pub struct ClockOffset {
    /// (our time when measured, partner − us in seconds)
    samples: VecDeque<(Time, i64)>,
    estimate: i64,
    /// The partner's own lower bound on (us − partner), as it last
    /// reported it: negated, an upper bound on ours.
    reported: Option<i64>,
}

/// What is known of the partner's offset (partner − us): it lies between
/// `low` (our largest recent sample; a delay only lowers a sample) and
/// `high` (the negation of the partner's largest sample of us). Without a
/// report from the partner yet, both are our estimate.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct OffsetBounds {
    /// Lowest possible offset (partner − us), seconds.
    pub low: i64,
    /// Highest possible offset (partner − us), seconds; never below `low`.
    pub high: i64,
}

impl OffsetBounds {
    /// Bounds that pin the offset to exactly `offset` (e.g. 0 when no partner is connected).
    pub fn exact(offset: i64) -> OffsetBounds {
        OffsetBounds {
            low: offset,
            high: offset,
        }
    }

    /// The middle of the range: both peers compute the mirror image of
    /// each other's, so times they compare agree.
    pub fn middle(&self) -> i64 {
        self.low + (self.high - self.low) / 2
    }
}

/// Beyond this many seconds either way a partner's stamp is nonsense; it is
/// clamped so no arithmetic on offsets can overflow.
const MAX_OFFSET: i64 = 1 << 40;

/// One sample, `their − now`, clamped to a sane range.
pub fn sample(now: Time, their: u64) -> i64 {
    (i128::from(their) - i128::from(now.0)).clamp(-i128::from(MAX_OFFSET), i128::from(MAX_OFFSET))
        as i64
}

impl ClockOffset {
    /// Starts the estimate from one stamp: `their` is the partner's clock at sending,
    /// `now` ours at arrival.
    pub fn new(now: Time, their: u64) -> ClockOffset {
        let mut c = ClockOffset::default();
        c.observe(now, their);
        c
    }

    /// Partner − us, seconds: the lower bound.
    pub fn get(&self) -> i64 {
        self.estimate
    }

    /// The range the true offset lies in: our estimate as `low`, the partner's
    /// negated report (when it is higher) as `high`.
    pub fn bounds(&self) -> OffsetBounds {
        let high = self
            .reported
            .map_or(self.estimate, |r| r.saturating_neg().max(self.estimate));
        OffsetBounds {
            low: self.estimate,
            high,
        }
    }

    /// The partner's lower bound on (us − partner), from its keepalive.
    pub fn report(&mut self, floor: i64) {
        self.reported = Some(floor.clamp(-MAX_OFFSET, MAX_OFFSET));
    }

    /// Adds a sample; returns the previous estimate if the estimate moved by
    /// more than a second (worth telling the operator).
    pub fn observe(&mut self, now: Time, their: u64) -> Option<i64> {
        let sample = sample(now, their);
        // Our own clock may have stepped back: drop samples from "the future".
        self.samples
            .retain(|(t, _)| *t <= now && now.0 - t.0 <= WINDOW);
        if self.samples.len() == MAX_SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back((now, sample));
        let old = self.estimate;
        self.estimate = self.samples.iter().map(|(_, s)| *s).max().unwrap_or(sample);
        ((self.estimate - old).abs() > 1 && self.samples.len() > 1).then_some(old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delayed_messages_do_not_pull_the_estimate_down() {
        // True offset +20; the first sample was delayed 10 s.
        let mut c = ClockOffset::new(Time(100), 110);
        assert_eq!(c.get(), 10);
        assert_eq!(
            c.observe(Time(105), 125),
            Some(10),
            "a prompt sample raises it"
        );
        assert_eq!(c.get(), 20);
        assert_eq!(
            c.observe(Time(110), 125),
            None,
            "a 5 s late sample is ignored"
        );
        assert_eq!(c.get(), 20);
    }

    #[test]
    fn a_clock_step_back_is_followed_within_the_window() {
        let mut c = ClockOffset::new(Time(100), 120);
        // The partner's clock steps back by 15 s.
        c.observe(Time(110), 115);
        assert_eq!(c.get(), 20, "still inside the window");
        assert_eq!(
            c.observe(Time(100 + WINDOW + 1), 100 + WINDOW + 6),
            Some(20)
        );
        assert_eq!(c.get(), 5);
    }

    #[test]
    fn the_partners_report_bounds_the_offset_from_above() {
        // True offset +20; our samples were delayed 3 s, theirs 2 s.
        let mut c = ClockOffset::new(Time(100), 117);
        assert_eq!(c.bounds(), OffsetBounds::exact(17));
        // The partner saw us at -20 - 2 = -22 at best.
        c.report(-22);
        assert_eq!(c.bounds(), OffsetBounds { low: 17, high: 22 });
        assert_eq!(c.bounds().middle(), 19);
        // A report that contradicts our samples (a clock step) cannot
        // make the range empty.
        c.report(0);
        assert_eq!(c.bounds(), OffsetBounds::exact(17));
    }

    #[test]
    fn nonsense_stamps_are_clamped() {
        let mut c = ClockOffset::new(Time(5), u64::MAX);
        assert_eq!(c.get(), MAX_OFFSET);
        c.observe(Time(u64::MAX), 0);
        assert_eq!(sample(Time(u64::MAX), 0), -MAX_OFFSET);
    }

    #[test]
    fn our_clock_stepping_back_discards_samples_from_the_future() {
        let mut c = ClockOffset::new(Time(1000), 1020);
        c.observe(Time(500), 530);
        assert_eq!(c.get(), 30);
    }
}
