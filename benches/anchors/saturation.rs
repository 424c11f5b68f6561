//! Saturation and latency (issue 15): the highest offered rate a target
//! answers with under 1% of its exchanges unanswered, found by stepping up
//! [`LADDER`] (each step in a fresh lab, stopping at the first step over
//! 1%); then, at half that rate, the median and 99th percentile of
//! DISCOVER -> OFFER and REQUEST -> ACK, read from a capture of perfdhcp's
//! interface, since perfdhcp itself reports only averages and maxima.

use crate::capture::Capture;
use crate::reading::delays;
use crate::render::LAB;
use crate::targets::Target;
use crate::{Bed, perf};

/// The offered rates tried, new clients per second.
pub const LADDER: [u32; 8] = [500, 1000, 2000, 3000, 4000, 6000, 8000, 10_000];
/// Seconds per step (shortened to keep below the pool, as every run is).
pub const STEP_SECS: u64 = 10;
/// Most unanswered exchanges a rate may leave to count as served, percent.
const MAX_UNANSWERED: f64 = 1.0;

/// One target's saturation and latency figures.
pub struct Saturation {
    pub target: Target,
    /// The highest rate of the ladder with under 1% unanswered, and the
    /// DORA/s completed there; `None` if even the lowest step lost more.
    pub rate: Option<(u32, f64)>,
    /// At half that rate: DISCOVER -> OFFER and REQUEST -> ACK, median and
    /// 99th percentile, milliseconds.
    pub offer_ms: [f64; 2],
    pub ack_ms: [f64; 2],
}

/// Every target's saturation; the labs' files go to `keep`.
pub fn run_all(targets: &[Target], keep: &mut Vec<tempfile::TempDir>) -> Vec<Saturation> {
    targets
        .iter()
        .filter_map(|t| {
            measure(*t, keep)
                .map_err(|e| eprintln!("{} saturation: {e}", t.name()))
                .ok()
        })
        .collect()
}

/// Measures `t` as the module docs say; the labs' files are kept in `keep`
/// until the whole run ends (see `main::measure`). Errors: a server that
/// does not come up or exits.
pub fn measure(t: Target, keep: &mut Vec<tempfile::TempDir>) -> Result<Saturation, String> {
    let mut rate = None;
    for r in LADDER {
        // A step over 1% is tried once more: one fsync stall of this VM's
        // disk can leave a second's worth of exchanges unanswered.
        let Some(done) = (0..2).find_map(|_| step(t, r, keep).transpose()) else {
            break;
        };
        rate = Some((r, done?));
    }
    let mut x = Saturation {
        target: t,
        rate,
        offer_ms: [0.0; 2],
        ack_ms: [0.0; 2],
    };
    if let Some((r, _)) = rate {
        (x.offer_ms, x.ack_ms) = latency(t, r / 2, keep)?;
    }
    Ok(x)
}

/// One step of the ladder: the DORA/s completed at offered `rate` if
/// under 1% went unanswered, `None` if more did.
fn step(t: Target, rate: u32, keep: &mut Vec<tempfile::TempDir>) -> Result<Option<f64>, String> {
    let (s, dir) = crate::measure(t, rate, crate::period_for(rate, STEP_SECS))?;
    keep.push(dir);
    println!(
        "{:<14} ladder {:>6}/s: {:.0} DORA/s, {:.2}% unanswered",
        t.name(),
        rate,
        s.run.rate,
        s.run.drop_pct()
    );
    Ok((s.run.drop_pct() < MAX_UNANSWERED).then_some(s.run.rate))
}

/// One run at `rate` with perfdhcp's interface captured: the percentiles.
fn latency(
    t: Target,
    rate: u32,
    keep: &mut Vec<tempfile::TempDir>,
) -> Result<([f64; 2], [f64; 2]), String> {
    let mut bed = Bed::start(t, crate::render::POOL)?;
    let dir = bed.dir.path().to_path_buf();
    let secs = crate::period_for(rate, STEP_SECS);
    let cap = Capture::start(&mut bed.lab, &bed.perf_ns, "eth0", &dir, secs as u32 + 60);
    perf::perfdhcp(&bed.perf_ns, LAB.relay, t.perf_target(), rate, secs);
    let seen = cap.stop(&mut bed.lab);
    keep.push(bed.dir);
    Ok((delays(&seen, 1, 2), delays(&seen, 3, 5)))
}
