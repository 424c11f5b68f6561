//! tandem beside Kea and ISC dhcpd, in one run on one machine (issue 15):
//! perfdhcp full DORA, relayed, against each server set in a throwaway
//! namespace lab, at a moderate rate (server CPU per 1,000 leases,
//! latency) and at the load generator's ceiling (saturation), rounds
//! alternating the targets so that drift hits all alike; then how the
//! single servers scale on a /14 (`scale`) and the pairs' failover
//! timeline (`timeline`). Medians go to `BENCHMARKS.md` with the machine,
//! versions, command and date.
//!
//! Run as root: `scripts/bench.sh` (or `cargo bench --bench anchors --
//! [--rates 1200,10000] [--period 10] [--rounds 3] [--only tandem,kea]
//! [--no-scale] [--no-timeline] [--out BENCHMARKS.md]`). Needs `kea-admin`
//! (perfdhcp), `kea-dhcp4-server` and `isc-dhcp-server` (and `tshark` and
//! `dhclient` for the timeline); a target whose server is not installed is
//! skipped with a note.

#[path = "../../tests/lab/capture.rs"]
mod capture;
#[path = "../../tests/lab/dhclient.rs"]
mod dhclient;
#[path = "../../tests/lab/netns.rs"]
mod netns;
mod perf;
mod reading;
mod render;
mod report;
mod saturation;
mod scale;
#[path = "../../tests/lab/setup.rs"]
mod setup;
mod targets;
mod timeline;

/// What the lab helpers shared with the tests (`tests/lab/`) expect.
mod common {
    pub const BIN: &str = super::TANDEM;
}

use perf::Run;
use render::LAB;
use std::path::PathBuf;
use targets::{ALL, Target};

/// The tandem binary this bench was built with.
pub const TANDEM: &str = env!("CARGO_BIN_EXE_tandem");

/// What the command line asked for.
struct Args {
    rates: Vec<u32>,
    period: u64,
    rounds: usize,
    only: Vec<Target>,
    out: PathBuf,
    /// Also (or, with `--rates ''`, only) the scaling runs on the /14.
    scale: bool,
    /// Also the failover timeline of the pairs.
    timeline: bool,
    /// Also each target's saturation and latency at half of it.
    saturation: bool,
}

fn args() -> Args {
    let mut a = Args {
        rates: vec![1200, 10_000],
        period: 10,
        rounds: 3,
        only: ALL.to_vec(),
        out: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md"),
        scale: true,
        timeline: true,
        saturation: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--rates" => {
                a.rates = value()
                    .split(',')
                    .filter(|r| !r.is_empty())
                    .map(|r| r.parse().unwrap_or_else(|_| usage(r)))
                    .collect()
            }
            "--no-scale" => a.scale = false,
            "--no-timeline" => a.timeline = false,
            "--no-saturation" => a.saturation = false,
            "--period" => a.period = value().parse().unwrap_or_else(|_| usage("--period")),
            "--rounds" => a.rounds = value().parse().unwrap_or_else(|_| usage("--rounds")),
            "--only" => {
                let names = value();
                a.only = names
                    .split(',')
                    .map(|n| {
                        ALL.into_iter()
                            .find(|t| t.name() == n)
                            .unwrap_or_else(|| usage(n))
                    })
                    .collect();
            }
            "--out" => a.out = value().into(),
            "--bench" => {}
            other => usage(other),
        }
    }
    a
}

fn usage(bad: &str) -> ! {
    let names: Vec<&str> = ALL.iter().map(|t| t.name()).collect();
    eprintln!(
        "anchors: bad argument {bad:?}\nusage: cargo bench --bench anchors -- [--rates R,R] [--period SECS] [--rounds N] [--only {}] [--no-saturation] [--no-scale] [--no-timeline] [--out FILE]",
        names.join(",")
    );
    std::process::exit(2)
}

/// One measurement: a target at a rate in a round.
pub struct Sample {
    pub target: Target,
    pub rate: u32,
    pub run: Run,
    /// CPU seconds all the target's server processes used during the run.
    pub cpu: f64,
    /// Resident memory of the servers at the end of the run, MiB.
    pub rss: f64,
}

impl Sample {
    /// Leases granted during the run (ACKs perfdhcp received).
    pub fn leases(&self) -> u64 {
        self.run.sent[1].saturating_sub(self.run.drops[1])
    }

    /// Server CPU milliseconds per 1,000 leases granted.
    pub fn cpu_ms_per_1000(&self) -> f64 {
        self.cpu * 1_000_000.0 / self.leases().max(1) as f64
    }
}

/// A fresh lab with `t` serving in it: the lab, the servers' files, their
/// namespaces and PIDs, and the load generator's namespace.
pub struct Bed {
    pub lab: netns::Lab,
    pub dir: tempfile::TempDir,
    pub servers: Vec<String>,
    pub pids: Vec<u32>,
    pub perf_ns: String,
}

impl Bed {
    /// Starts `t` on `pool`. Errors: a server that does not come up.
    pub fn start(t: Target, pool: render::Pool) -> Result<Bed, String> {
        let mut lab = netns::Lab::new("b");
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let servers: Vec<String> = (0..if t.is_pair() { 2 } else { 1 })
            .map(|i| {
                lab.host(
                    &format!("s{i}"),
                    "eth0",
                    Some(&render::cidr(LAB.server[i])),
                    None,
                )
            })
            .collect();
        let perf_ns = lab.host("p", "eth0", Some(&render::cidr(LAB.relay)), None);
        let pids = t.start(&mut lab, &servers, dir.path(), pool)?;
        // Write out everything dirty first: with ext4's ordered data mode a
        // server's first fsync would otherwise wait for whatever else the
        // machine wrote (a build, the previous run), and every exchange
        // behind it would count as unanswered.
        let _ = std::process::Command::new("sync").status();
        Ok(Bed {
            lab,
            dir,
            servers,
            pids,
            perf_ns,
        })
    }
}

/// Starts `t` in a fresh lab, loads it for `secs` at `rate`, measures.
/// The server's files are returned, to be removed only after the whole
/// run: on this machine's ext4 (mounted with `discard`) freeing blocks
/// makes a later fsync wait, which would charge one run for another's
/// clean-up.
pub fn measure(t: Target, rate: u32, secs: u64) -> Result<(Sample, tempfile::TempDir), String> {
    let Bed {
        lab,
        dir,
        perf_ns,
        pids,
        ..
    } = Bed::start(t, render::POOL)?;
    let before: f64 = pids.iter().map(|p| perf::cpu_secs(*p)).sum();
    let run = perf::perfdhcp(&perf_ns, LAB.relay, t.perf_target(), rate, secs);
    let cpu = pids.iter().map(|p| perf::cpu_secs(*p)).sum::<f64>() - before;
    let rss = pids.iter().map(|p| perf::rss_mib(*p)).sum();
    if pids.iter().any(|p| !perf::alive(*p)) {
        return Err(format!("{} exited during the run", t.name()));
    }
    drop(lab);
    let sample = Sample {
        target: t,
        rate,
        run,
        cpu,
        rss,
    };
    Ok((sample, dir))
}

/// New clients a run may bring: below the pool ([`render::POOL`]), so that
/// no run measures an exhausted pool.
pub const MAX_CLIENTS_PER_RUN: u64 = 60_000;

/// The run length at `rate`: `period` seconds, shortened so that a run
/// stays under [`MAX_CLIENTS_PER_RUN`] new clients.
pub fn period_for(rate: u32, period: u64) -> u64 {
    period
        .min(MAX_CLIENTS_PER_RUN / u64::from(rate.max(1)))
        .max(1)
}

/// Why `t` cannot run on this machine, if it cannot.
fn missing(t: Target) -> Option<String> {
    let tool = match t {
        Target::Kea | Target::KeaHa => "kea-dhcp4",
        Target::Isc | Target::IscPair => "dhcpd",
        _ => "perfdhcp",
    };
    netns::unavailable(&["ip", "perfdhcp", tool])
}

/// The scaling runs, for the single servers among `targets`.
fn scaling(targets: &[Target]) -> Vec<scale::Scale> {
    let mut out = Vec::new();
    for t in targets.iter().copied().filter(|t| !t.is_pair()) {
        match scale::measure(t) {
            Ok(s) => {
                println!(
                    "{:<14} scale: {} leases at {:.0}/s; start {:.2} s empty, {:.2} s full; RSS {:.0} -> {:.0} MiB; ACK avg {:.2} ms, {:.0} ms CPU/1k at {}/s",
                    t.name(),
                    s.leases,
                    s.fill_rate,
                    s.start_empty,
                    s.start_full,
                    s.rss_empty,
                    s.rss_full,
                    s.probe.avg_ms[1],
                    s.probe_cpu_ms_per_1000(),
                    scale::PROBE_RATE
                );
                out.push(s);
            }
            Err(e) => eprintln!("{} scaling: {e}", t.name()),
        }
    }
    out
}

/// The targets of `only` whose servers are installed, and a note for each
/// one that is not.
fn available(only: &[Target]) -> (Vec<Target>, Vec<String>) {
    let mut skipped = Vec::new();
    let targets = only
        .iter()
        .copied()
        .filter(|t| match missing(*t) {
            Some(why) => {
                eprintln!("skipping {}: {why}", t.name());
                skipped.push(format!("{}: {why}", t.name()));
                false
            }
            None => true,
        })
        .collect();
    (targets, skipped)
}

/// Every target at every rate, `rounds` times, alternating the order each
/// round so that drift does not favour one.
fn side_by_side(a: &Args, targets: &[Target]) -> (Vec<Sample>, Vec<tempfile::TempDir>) {
    println!(
        "{:<14} {:>6} {:>10} {:>7} {:>9} {:>9} {:>8}",
        "target", "rate", "DORA/s", "drop%", "ACK avg ms", "cpu ms/1k", "rss MiB"
    );
    let mut samples = Vec::new();
    let mut dirs = Vec::new();
    for round in 0..a.rounds {
        for &rate in &a.rates {
            let mut order = targets.to_vec();
            if round % 2 == 1 {
                order.reverse();
            }
            for t in order {
                match measure(t, rate, period_for(rate, a.period)) {
                    Ok((s, dir)) => {
                        dirs.push(dir);
                        println!(
                            "{:<14} {:>6} {:>10.0} {:>7.2} {:>9.2} {:>9.0} {:>8.1}",
                            t.name(),
                            rate,
                            s.run.rate,
                            s.run.drop_pct(),
                            s.run.avg_ms[1],
                            s.cpu_ms_per_1000(),
                            s.rss
                        );
                        samples.push(s);
                    }
                    Err(e) => eprintln!("{} at {rate}/s: {e}", t.name()),
                }
            }
        }
    }
    (samples, dirs)
}

fn main() {
    let a = args();
    let (targets, skipped) = available(&a.only);
    let (samples, mut dirs) = side_by_side(&a, &targets);
    let saturations = if a.saturation {
        saturation::run_all(&targets, &mut dirs)
    } else {
        Vec::new()
    };
    let scales = if a.scale {
        scaling(&targets)
    } else {
        Vec::new()
    };
    let timelines = if a.timeline {
        timeline::run_all(&targets)
    } else {
        Vec::new()
    };
    let cmd: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let run = report::Run {
        samples: &samples,
        scales: &scales,
        timelines: &timelines,
        saturations: &saturations,
        skipped: &skipped,
        cmd: &cmd.join(" "),
        period: a.period,
        rounds: a.rounds,
    };
    report::write(&a.out, &run);
    println!("wrote {}", a.out.display());
    drop(dirs);
}
