//! What the bench reads out of a capture or a client's log, free of I/O
//! (tested in `tests/bench_parsers.rs`).

use crate::capture::Seen;
use std::collections::HashMap;

/// From the capture: the first second after the fault (wall clock
/// `fault`) from which, until `heal`, every new client's ACK came within
/// `within` seconds of its DISCOVER (`None`: not before the heal), and
/// how many new clients the outage saw.
pub fn served_from(seen: &[Seen], fault: f64, heal: f64, within: f64) -> (Option<f64>, usize) {
    let mut acked: HashMap<&str, f64> = HashMap::new();
    for s in seen.iter().filter(|s| s.kind == 5) {
        acked.entry(s.chaddr.as_str()).or_insert(s.time);
    }
    // Per second since the fault: DISCOVERs, and those served in time.
    let mut bins: Vec<(usize, usize)> = vec![(0, 0); (heal - fault).ceil().max(0.0) as usize];
    let mut first_seen: HashMap<&str, f64> = HashMap::new();
    for s in seen.iter().filter(|s| s.kind == 1) {
        first_seen.entry(s.chaddr.as_str()).or_insert(s.time);
    }
    for (chaddr, t) in &first_seen {
        if *t < fault || *t >= heal - within {
            continue;
        }
        let bin = &mut bins[(*t - fault) as usize];
        bin.0 += 1;
        if acked.get(chaddr).is_some_and(|a| *a - *t <= within) {
            bin.1 += 1;
        }
    }
    let new_clients = bins.iter().map(|b| b.0).sum();
    let judged = bins.len().saturating_sub(within as usize);
    // A second with clients and fewer than 99% served in time is a bad one.
    let bad = |b: &(usize, usize)| b.0 > 0 && b.1 * 100 < b.0 * 99;
    let served = match bins[..judged].iter().rposition(bad) {
        None => Some(0.0),
        Some(i) if i + 1 < judged => Some((i + 1) as f64),
        Some(_) => None,
    };
    (served, new_clients)
}

/// Median and 99th percentile, milliseconds, of the time from each
/// client's first message of kind `ask` to its first of kind `answer`.
pub fn delays(seen: &[Seen], ask: u8, answer: u8) -> [f64; 2] {
    let mut asked: HashMap<&str, f64> = HashMap::new();
    let mut answered: HashMap<&str, f64> = HashMap::new();
    for s in seen {
        let first = if s.kind == ask {
            &mut asked
        } else if s.kind == answer {
            &mut answered
        } else {
            continue;
        };
        first.entry(s.chaddr.as_str()).or_insert(s.time);
    }
    let mut ms: Vec<f64> = asked
        .iter()
        .filter_map(|(c, t)| answered.get(c).map(|a| (a - t) * 1000.0))
        .filter(|d| *d >= 0.0)
        .collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        ms.get(((ms.len() as f64 * q) as usize).min(ms.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    [at(0.5), at(0.99)]
}

/// When dhclient planned its first retransmission, seconds after its first
/// DISCOVER, from its log (`DHCPDISCOVER on eth0 ... interval N`).
pub fn first_retransmission(log: &str) -> Option<f64> {
    log.lines()
        .find(|l| l.starts_with("DHCPDISCOVER"))?
        .rsplit_once("interval ")?
        .1
        .trim()
        .parse()
        .ok()
}
