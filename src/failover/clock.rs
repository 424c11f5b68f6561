//! The partner's clock offset, estimated from the timestamps its messages
//! carry.
//!
//! A message stamped at the partner's time `t` arrives here at our time
//! `t − offset + delay`, so each sample (`their − ours`) is the true offset
//! minus that message's delay: queueing behind a disk commit or a busy link
//! only ever makes a sample smaller. The largest recent sample is therefore
//! the best estimate, and the one that errs on the safe side for the MCLT
//! cap (a partner's potential expiry converted to our clock is never later
//! than it really is, beyond the least delay seen). Samples age out after
//! [`WINDOW`] seconds so a clock step on either side is followed within it.

use crate::time::Time;
use std::collections::VecDeque;

/// How long a sample counts, seconds.
pub const WINDOW: u64 = 60;
/// At most this many samples are kept (keepalives come every few seconds).
const MAX_SAMPLES: usize = 64;

#[derive(Clone, Debug, Default)]
pub struct ClockOffset {
    /// (our time when measured, partner − us in seconds)
    samples: VecDeque<(Time, i64)>,
    estimate: i64,
}

impl ClockOffset {
    pub fn new(now: Time, their: u64) -> ClockOffset {
        let mut c = ClockOffset::default();
        c.observe(now, their);
        c
    }

    /// Partner − us, seconds.
    pub fn get(&self) -> i64 {
        self.estimate
    }

    /// Adds a sample; returns the previous estimate if the estimate moved by
    /// more than a second (worth telling the operator).
    pub fn observe(&mut self, now: Time, their: u64) -> Option<i64> {
        let sample = their as i64 - now.0 as i64;
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
    fn our_clock_stepping_back_discards_samples_from_the_future() {
        let mut c = ClockOffset::new(Time(1000), 1020);
        c.observe(Time(500), 530);
        assert_eq!(c.get(), 30);
    }
}
