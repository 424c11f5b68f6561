//! One perfdhcp run (Kea's load generator, Debian `kea-admin`) and what it
//! reports, and the CPU time a server process has used.

use std::path::Path;

/// What perfdhcp reported for one run.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Completed 4-way exchanges (DORA) per second.
    pub rate: f64,
    /// DISCOVERs and REQUESTs sent.
    pub sent: [u64; 2],
    /// Of those, unanswered (DISCOVER-OFFER, REQUEST-ACK).
    pub drops: [u64; 2],
    /// Average and maximum delay, milliseconds (DISCOVER-OFFER, REQUEST-ACK).
    pub avg_ms: [f64; 2],
    pub max_ms: [f64; 2],
    /// Addresses perfdhcp saw given to more than one client.
    pub non_unique: u64,
}

impl Run {
    /// Share of the exchanges started that did not complete, percent.
    pub fn drop_pct(&self) -> f64 {
        let sent = self.sent[0].max(1) as f64;
        let done = (self.sent[1] - self.drops[1].min(self.sent[1])) as f64;
        100.0 * (1.0 - done / sent)
    }
}

/// perfdhcp from namespace `ns` as a relay at `relay`, `rate` new clients
/// per second (out of a million distinct ones) for `secs` seconds, to
/// `target` (an address, or `all` for the broadcast both servers of a pair
/// hear). Bounded by `timeout`.
pub fn perfdhcp(ns: &str, relay: &str, target: &str, rate: u32, secs: u64) -> Run {
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", ns, "timeout", &(secs + 30).to_string()])
        .args(["perfdhcp", "-4", "-R", "1000000"])
        .args(["-r", &rate.to_string(), "-p", &secs.to_string()])
        .args(["-l", relay, target])
        .output()
        .expect("run perfdhcp");
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// Reads perfdhcp's final statistics.
pub fn parse(text: &str) -> Run {
    let num = |line: &str| -> f64 {
        line.split_whitespace()
            .find_map(|w| w.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let mut run = Run::default();
    let mut section = None;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with("***Statistics for: DISCOVER-OFFER") {
            section = Some(0);
        } else if l.starts_with("***Statistics for: REQUEST-ACK") {
            section = Some(1);
        } else if let Some(r) = l.strip_prefix("Rate:") {
            run.rate = num(r);
        }
        let Some(i) = section else { continue };
        if let Some(v) = l.strip_prefix("sent packets:") {
            run.sent[i] = num(v) as u64;
        } else if let Some(v) = l.strip_prefix("drops:") {
            run.drops[i] = num(v) as u64;
        } else if let Some(v) = l.strip_prefix("avg delay:") {
            run.avg_ms[i] = num(v);
        } else if let Some(v) = l.strip_prefix("max delay:") {
            run.max_ms[i] = num(v);
        } else if let Some(v) = l.strip_prefix("non unique addresses:") {
            run.non_unique += num(v) as u64;
        }
    }
    run
}

/// CPU seconds (user + system) process `pid` has used so far; 0 once gone.
pub fn cpu_secs(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat"))
    else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    (ticks(11) + ticks(12)) / clock_ticks()
}

/// Resident memory of `pid`, MiB.
pub fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Whether process `pid` still runs.
pub fn alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Kernel clock ticks per second (`_SC_CLK_TCK`), the unit of utime/stime.
fn clock_ticks() -> f64 {
    // SAFETY: sysconf reads a constant of the running system; no memory is shared.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_perfdhcps_statistics() {
        let text = "Rate: 812.5 4-way exchanges/second, expected rate: 1000\n\
            ***Statistics for: DISCOVER-OFFER***\nsent packets: 1000\nreceived packets: 990\n\
            drops: 10\nnon unique addresses: 0\navg delay: 0.5 ms\nmax delay: 3.25 ms\n\
            ***Statistics for: REQUEST-ACK***\nsent packets: 990\nreceived packets: 980\n\
            drops: 10\nnon unique addresses: 2\navg delay: 1.5 ms\nmax delay: 9 ms\n";
        let r = super::parse(text);
        assert_eq!(r.rate, 812.5);
        assert_eq!(r.sent, [1000, 990]);
        assert_eq!(r.drops, [10, 10]);
        assert_eq!(r.avg_ms, [0.5, 1.5]);
        assert_eq!(r.max_ms, [3.25, 9.0]);
        assert_eq!(r.non_unique, 2);
        assert!((r.drop_pct() - 2.0).abs() < 1e-9);
    }
}
