//! How each server scales with the lease count (issue 15): on the /14
//! pool ([`BIG_POOL`]), start empty, fill it with as many leases as the
//! server grants in a bounded run at the load generator's ceiling, restart
//! on that database, and measure the start-up time, memory and the packet
//! path (latency and CPU per lease at a moderate rate) on the full table.

use crate::netns::Lab;
use crate::perf::{self, Run};
use crate::render::{BIG_POOL, LAB, cidr};
use crate::targets::Target;
use std::time::Instant;

/// Seconds of the fill run, and its offered rate: at most 90 % of the pool.
pub const FILL_SECS: u64 = 23;
const FILL_RATE: u32 = 10_000;
/// The moderate rate the full table is measured at, for this long.
pub const PROBE_RATE: u32 = 1200;
const PROBE_SECS: u64 = 10;

/// One target's scaling figures.
pub struct Scale {
    pub target: Target,
    /// Start-up to serving, seconds: empty database, then after the fill.
    pub start_empty: f64,
    pub start_full: f64,
    /// Leases granted by the fill run, and its rate (DORA/s).
    pub leases: u64,
    pub fill_rate: f64,
    /// Resident memory, MiB: empty after start, and after the restart.
    pub rss_empty: f64,
    pub rss_full: f64,
    /// The moderate-rate run on the full table, and the CPU it cost.
    pub probe: Run,
    pub probe_cpu: f64,
}

impl Scale {
    /// Server CPU milliseconds per 1,000 leases of the probe run.
    pub fn probe_cpu_ms_per_1000(&self) -> f64 {
        let acks = self.probe.sent[1].saturating_sub(self.probe.drops[1]);
        self.probe_cpu * 1_000_000.0 / acks.max(1) as f64
    }
}

/// Measures `t` (a single server) as the module docs say.
pub fn measure(t: Target) -> Result<Scale, String> {
    let mut lab = Lab::new("z");
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let ns = vec![lab.host("s0", "eth0", Some(&cidr(LAB.server[0])), None)];
    let perf_ns = lab.host("p", "eth0", Some(&cidr(LAB.relay)), None);
    let timed_start = |lab: &mut Lab| -> Result<(Vec<u32>, f64), String> {
        let at = Instant::now();
        let pids = t.start(lab, &ns, dir.path(), BIG_POOL)?;
        Ok((pids, at.elapsed().as_secs_f64()))
    };
    let (pids, start_empty) = timed_start(&mut lab)?;
    let rss_empty = perf::rss_mib(pids[0]);
    let fill = perf::perfdhcp(&perf_ns, LAB.relay, t.perf_target(), FILL_RATE, FILL_SECS);
    t.stop(&mut lab, &pids, dir.path());
    let (pids, start_full) = timed_start(&mut lab)?;
    let rss_full = perf::rss_mib(pids[0]);
    let before = perf::cpu_secs(pids[0]);
    let probe = perf::perfdhcp(&perf_ns, LAB.relay, t.perf_target(), PROBE_RATE, PROBE_SECS);
    let probe_cpu = perf::cpu_secs(pids[0]) - before;
    Ok(Scale {
        target: t,
        start_empty,
        start_full,
        leases: fill.sent[1].saturating_sub(fill.drops[1]),
        fill_rate: fill.rate,
        rss_empty,
        rss_full,
        probe,
        probe_cpu,
    })
}
