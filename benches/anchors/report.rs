//! `BENCHMARKS.md`: the medians of a run, with the machine, versions,
//! command and date. The measured part sits between two markers, so that
//! what is written around it by hand (the reading of the figures)
//! survives a re-run.

use crate::Sample;
use crate::saturation::{self, Saturation};
use crate::scale::{PROBE_RATE, Scale};
use crate::targets::{ALL, Target};
use crate::timeline::{self, Timeline};
use std::fmt::Write;
use std::path::Path;
use std::process::Command;

const BEGIN: &str =
    "<!-- bench:begin (written by `scripts/bench.sh`; edit outside the markers) -->";
const END: &str = "<!-- bench:end -->";

/// One bench run's results and how it was asked for.
pub struct Run<'a> {
    pub samples: &'a [Sample],
    pub scales: &'a [Scale],
    pub timelines: &'a [Timeline],
    pub saturations: &'a [Saturation],
    pub skipped: &'a [String],
    /// The arguments given to `scripts/bench.sh`.
    pub cmd: &'a str,
    pub period: u64,
    pub rounds: usize,
}

/// Writes (or updates the measured part of) the report at `path`.
pub fn write(path: &Path, run: &Run) {
    let body = measured(run);
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let text = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => format!("{}{body}{}", &old[..b], &old[e + END.len()..]),
        _ => format!("# Benchmarks\n\n{body}\n"),
    };
    std::fs::write(path, text).expect("write the report");
}

fn measured(run: &Run) -> String {
    let Run {
        samples,
        skipped,
        cmd,
        period,
        rounds,
        ..
    } = *run;
    let mut s = String::new();
    let _ = writeln!(s, "{BEGIN}\n");
    let _ = writeln!(
        s,
        "Measured {} on {}.\n",
        sh("date -u '+%Y-%m-%d %H:%M UTC'"),
        machine()
    );
    let _ = writeln!(s, "Versions: {}.\n", versions());
    let _ = writeln!(
        s,
        "Command: `scripts/bench.sh {cmd}` ({period} s per run, {rounds} rounds alternating the order; medians). perfdhcp full DORA as a relay (giaddr {}), a million distinct clients, a pool of {} addresses (no run brings more than {} new clients); pairs get every request by broadcast, as from a relay with two helper addresses. CPU is the servers' own (user + system, both servers of a pair), per 1,000 leases ACKed. perfdhcp shares the 2 cores, so rates near 10,000/s are its ceiling, not the server's.\n",
        crate::render::LAB.relay,
        crate::render::POOL.size,
        crate::MAX_CLIENTS_PER_RUN
    );
    let mut rates: Vec<u32> = samples.iter().map(|x| x.rate).collect();
    rates.sort_unstable();
    rates.dedup();
    for rate in rates {
        table(&mut s, samples, rate);
    }
    saturation_table(&mut s, run.saturations);
    scale_table(&mut s, run.scales);
    timeline_table(&mut s, run.timelines);
    for k in skipped {
        let _ = writeln!(s, "- not measured: {k}");
    }
    let _ = writeln!(s, "\n{END}");
    s
}

fn table(s: &mut String, samples: &[Sample], rate: u32) {
    let _ = writeln!(s, "### Offered {rate} new clients/s\n");
    let _ = writeln!(
        s,
        "| server | durability | DORA/s | unanswered % | OFFER avg ms | ACK avg ms | ACK max ms | CPU ms per 1,000 leases | vs tandem CPU | RSS MiB | addresses given twice |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
    let base = median(
        samples,
        Target::Tandem { full: true },
        rate,
        Sample::cpu_ms_per_1000,
    );
    for t in ALL {
        let of: Vec<&Sample> = samples
            .iter()
            .filter(|x| x.target == t && x.rate == rate)
            .collect();
        if of.is_empty() {
            continue;
        }
        let m = |f: fn(&Sample) -> f64| median(samples, t, rate, f);
        let cpu = m(Sample::cpu_ms_per_1000);
        let ratio = base.map_or("".into(), |b| format!("{:.2}", cpu.unwrap_or(0.0) / b));
        let _ = writeln!(
            s,
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} | {:.0} | {ratio} | {:.0} | {} |",
            t.name(),
            t.durability(),
            m(|x| x.run.rate).unwrap_or(0.0),
            m(|x| x.run.drop_pct()).unwrap_or(0.0),
            m(|x| x.run.avg_ms[0]).unwrap_or(0.0),
            m(|x| x.run.avg_ms[1]).unwrap_or(0.0),
            m(|x| x.run.max_ms[1]).unwrap_or(0.0),
            cpu.unwrap_or(0.0),
            m(|x| x.rss).unwrap_or(0.0),
            of.iter().map(|x| x.run.non_unique).sum::<u64>(),
        );
    }
    let _ = writeln!(s);
}

fn scale_table(s: &mut String, scales: &[Scale]) {
    if scales.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "### Scaling: a pool of {} addresses\n\nEach server starts empty, is filled by a {}-second run offered 10,000 new clients/s, restarts on that database, and then serves {PROBE_RATE} new clients/s for 10 s (about a quarter of them already hold a lease: perfdhcp draws its clients at random from a million).\n",
        crate::render::BIG_POOL.size,
        crate::scale::FILL_SECS
    );
    let _ = writeln!(
        s,
        "| server | leases after the fill | fill DORA/s | start empty s | start with the leases s | RSS empty MiB | RSS with the leases MiB | ACK avg ms at {PROBE_RATE}/s | CPU ms per 1,000 leases at {PROBE_RATE}/s |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    for x in scales {
        let _ = writeln!(
            s,
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.0} | {:.2} | {:.0} |",
            x.target.name(),
            x.leases,
            x.fill_rate,
            x.start_empty,
            x.start_full,
            x.rss_empty,
            x.rss_full,
            x.probe.avg_ms[1],
            x.probe_cpu_ms_per_1000()
        );
    }
    let _ = writeln!(s);
}

fn saturation_table(s: &mut String, sats: &[Saturation]) {
    if sats.is_empty() {
        return;
    }
    let ladder: Vec<String> = saturation::LADDER.iter().map(u32::to_string).collect();
    let _ = writeln!(
        s,
        "### Saturation, and latency at half of it\n\nThe highest offered rate of the ladder {} (new clients/s, {} s each, a fresh lab each) with under 1% of exchanges unanswered; then a run at half that rate with perfdhcp's interface captured, for the median and 99th percentile of each client's DISCOVER -> OFFER and REQUEST -> ACK (the capture shares the cores too). 10,000/s is the load generator's own ceiling here.\n",
        ladder.join(", "),
        saturation::STEP_SECS
    );
    let _ = writeln!(
        s,
        "| server | durability | saturation (offered/s) | DORA/s there | vs tandem | OFFER p50 ms | OFFER p99 ms | ACK p50 ms | ACK p99 ms |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    let base = sats
        .iter()
        .find(|x| x.target == Target::Tandem { full: true })
        .and_then(|x| x.rate);
    for x in sats {
        let (rate, done) = x
            .rate
            .map_or(("under the ladder".into(), "-".into()), |(r, d)| {
                (r.to_string(), format!("{d:.0}"))
            });
        let ratio = base.zip(x.rate).map_or("".into(), |((b, _), (r, _))| {
            format!("{:.2}", f64::from(r) / f64::from(b))
        });
        // No rate held: there was no half-rate run to take latencies from.
        let ms = |v: f64| match x.rate {
            Some(_) => format!("{v:.2}"),
            None => "-".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {rate} | {done} | {ratio} | {} | {} | {} | {} |",
            x.target.name(),
            x.target.durability(),
            ms(x.offer_ms[0]),
            ms(x.offer_ms[1]),
            ms(x.ack_ms[0]),
            ms(x.ack_ms[1])
        );
    }
    let _ = writeln!(s);
}

fn timeline_table(s: &mut String, timelines: &[Timeline]) {
    if timelines.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "### Failover timeline\n\nEach pair under {} new clients/s (perfdhcp, both peers hear every request) with a real dhclient on the link (lease 20 s, T1 10 s, T2 {rebind} s). Right after the peer that granted dhclient's lease renews it, that peer fails for {:.0} s: kill -9 (then started again on its files), SIGSTOP (then SIGCONT) or its link cut (then restored). Seconds after the fault: the survivor leaves its balanced state; it ACKs dhclient (whose first REBIND, the earliest it can be heard, comes {rebind} s after the fault); from then on every new client's ACK comes within 2 s of its DISCOVER (from a capture; 0: never otherwise); a new dhclient started at the fault in the failed peer's hash bucket (`initial-interval 4`, near RFC 2131's 4 s; dhclient randomises it) holds a lease (in brackets: when its first retransmission was due). Then seconds after the heal until both peers are balanced again. '-': not within the scenario. All pairs with the same timers: a peer is declared unreachable after 4 s of silence, no automatic partner-down for tandem and ISC (Kea HA: `max-unacked-clients` 0, since perfdhcp's `secs` never rises).\n",
        timeline::RATE,
        timeline::OUTAGE,
        rebind = timeline::REBIND
    );
    let _ = writeln!(
        s,
        "| pair | fault | survivor notices | dhclient renewed by the survivor | every new client served within 2 s from | new dhclient in the failed peer's bucket bound (its first retransmission due) | balanced again after the heal | new clients in the outage | addresses ACKed to two clients |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    let f = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1}"));
    for x in timelines {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            x.target.name(),
            x.fault.name(),
            f(x.detect),
            f(x.renew),
            f(x.served),
            timeline::newcomer(x.new_real),
            f(x.recover),
            x.new_clients,
            x.doubles
        );
    }
    let _ = writeln!(s);
}

/// The median of `f` over `t`'s samples at `rate`.
fn median(samples: &[Sample], t: Target, rate: u32, f: fn(&Sample) -> f64) -> Option<f64> {
    let mut v: Vec<f64> = samples
        .iter()
        .filter(|x| x.target == t && x.rate == rate)
        .map(f)
        .collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

fn sh(cmd: &str) -> String {
    Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| {
            let mut t = String::from_utf8_lossy(&o.stdout).to_string();
            t.push_str(&String::from_utf8_lossy(&o.stderr));
            t.trim().to_string()
        })
        .unwrap_or_default()
}

fn machine() -> String {
    format!(
        "{} ({} cores, {} GiB, Linux {})",
        sh("sed -n 's/^model name\\s*: //p' /proc/cpuinfo | head -1"),
        sh("nproc"),
        sh("awk '/MemTotal/ { printf \"%d\", $2 / 1048576 + 0.5 }' /proc/meminfo"),
        sh("uname -r")
    )
}

fn versions() -> String {
    format!(
        "tandem {} ({}), Kea {}, {}, perfdhcp {}",
        env!("CARGO_PKG_VERSION"),
        sh(
            "git -C \"$CARGO_MANIFEST_DIR\" rev-parse --short HEAD 2>/dev/null || git rev-parse --short HEAD"
        ),
        sh("kea-dhcp4 -V 2>/dev/null | head -1"),
        sh("dhcpd --version 2>&1 | head -1"),
        sh("perfdhcp -v 2>&1 | head -1")
    )
}
