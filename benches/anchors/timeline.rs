//! The failover timeline (issue 15): each pair (tandem, Kea HA, ISC dhcpd)
//! under steady perfdhcp load with a real dhclient on the link, one peer
//! failed by kill -9, by SIGSTOP (a hung host) or by cutting its link, for
//! [`OUTAGE`] seconds, then healed. Measured from the fault: when the
//! survivor leaves its balanced state, when it renews the failed peer's
//! client (dhclient's own record, against its first REBIND), from when on
//! every new client gets its ACK within 2 s (from a capture), and how long
//! after healing both peers are balanced again.

use crate::capture::{Capture, double_acks};
use crate::dhclient::Dhclient;
use crate::netns;
use crate::reading::{first_retransmission, served_from};
use crate::render::{LAB, POOL, Pool};
use crate::setup::field;
use crate::targets::Target;
use std::time::{Duration, Instant};

/// How long the failed peer stays failed, seconds.
pub const OUTAGE: f64 = 30.0;
/// New clients per second during the scenario.
pub const RATE: u32 = 100;
/// The pool, with a lease short enough that dhclient renews (T1 10 s) and
/// rebinds (T2 17.5 s) within the outage.
const SHORT: Pool = Pool { lease: 20, ..POOL };
/// dhclient, whose lease the failed peer renewed just before the fault,
/// sends its first REBIND (T2) this long after it, seconds: the earliest
/// the survivor can hear from it.
pub const REBIND: f64 = SHORT.lease as f64 * 7.0 / 8.0;
/// A new client counts as served when its ACK comes this soon after its
/// DISCOVER, seconds (issue 15: one client retransmission's worth less).
const SERVED_WITHIN: f64 = 2.0;

/// How a peer fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// kill -9; healed by starting it again on its files.
    Kill,
    /// SIGSTOP (a hung host); healed by SIGCONT.
    Stop,
    /// Its link down; healed by bringing it up.
    Cut,
}

impl Fault {
    pub const ALL: [Fault; 3] = [Fault::Kill, Fault::Stop, Fault::Cut];

    pub fn name(self) -> &'static str {
        match self {
            Fault::Kill => "kill -9",
            Fault::Stop => "SIGSTOP",
            Fault::Cut => "link cut",
        }
    }
}

/// One scenario's figures, seconds after the fault (`recover`: after the
/// heal); `None` where it did not happen within the scenario.
pub struct Timeline {
    pub target: Target,
    pub fault: Fault,
    /// The survivor left its balanced state.
    pub detect: Option<f64>,
    /// The survivor ACKed dhclient.
    pub renew: Option<f64>,
    /// From here to the heal, every new client's ACK came within 2 s.
    pub served: Option<f64>,
    /// A new dhclient started right after the fault in the failed peer's
    /// hash bucket, retransmitting about as RFC 2131 section 4.1 says
    /// (dhclient's `initial-interval 4`, which it randomises): when it got
    /// its first lease, and when its first retransmission was due.
    pub new_real: Option<(f64, Option<f64>)>,
    /// Both peers balanced again, after the heal.
    pub recover: Option<f64>,
    /// New clients started during the outage, and addresses ACKed to two
    /// clients over the whole scenario (the capture's count).
    pub new_clients: usize,
    pub doubles: usize,
}

/// The lab of one scenario and where it stands.
struct Scene {
    bed: crate::Bed,
    t: Target,
}

/// What the outage itself showed, seconds after the fault.
struct Outage {
    detect: Option<f64>,
    renew: Option<f64>,
    new_real: Option<(f64, Option<f64>)>,
}

/// The failover timeline of each pair among `targets`, each fault in turn.
pub fn run_all(targets: &[Target]) -> Vec<Timeline> {
    let mut out = Vec::new();
    let missing = crate::netns::unavailable(&["tshark", "dhclient"]);
    for t in targets.iter().copied().filter(|t| t.is_pair()) {
        if let Some(why) = &missing {
            eprintln!("{} timeline skipped: {why}", t.name());
            continue;
        }
        for f in Fault::ALL {
            match measure(t, f) {
                Ok(x) => {
                    let s = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1}"));
                    println!(
                        "{:<14} {:<9} detect {} renew {} (rebind {:.1}) new served {} new dhclient bound {} recover {} ({} new clients, {} double ACKs)",
                        t.name(),
                        f.name(),
                        s(x.detect),
                        s(x.renew),
                        REBIND,
                        s(x.served),
                        newcomer(x.new_real),
                        s(x.recover),
                        x.new_clients,
                        x.doubles
                    );
                    out.push(x);
                }
                Err(e) => eprintln!("{} {} timeline: {e}", t.name(), f.name()),
            }
        }
    }
    out
}

/// Runs `fault` against pair `t`. Errors: a server that does not come up, a
/// client that gets no first lease or renewal before the fault.
pub fn measure(t: Target, fault: Fault) -> Result<Timeline, String> {
    let mut s = Scene {
        bed: crate::Bed::start(t, SHORT)?,
        t,
    };
    let lab = &mut s.bed.lab;
    let perf_ns = s.bed.perf_ns.clone();
    let cli = lab.host("c", "eth0", None, None);
    let fresh: Vec<String> = (0..2)
        .map(|i| lab.host(&format!("n{i}"), "eth0", None, Some(&mac_in_bucket_of(i))))
        .collect();
    let dir = s.bed.dir.path().to_path_buf();
    let cap = Capture::start(lab, &perf_ns, "eth0", &dir, 400);
    let dh = Dhclient::new(&dir, "initial-interval 1;\nbackoff-cutoff 2;\n");
    dh.spawn(lab, &cli);
    wait("dhclient's first lease", 40.0, || dh.events("BOUND").pop())?;
    let perf_args = perfdhcp_args((OUTAGE as u64) * 4 + 40);
    let perf_args: Vec<&str> = perf_args.iter().map(String::as_str).collect();
    let perf_pid = s
        .bed
        .lab
        .spawn(&perf_ns, &perf_args, &dir.join("perfdhcp.log"));
    std::thread::sleep(Duration::from_secs(5));
    let v = after_renewal(&dh)?;
    let wall0 = epoch();
    let o = s.outage(v, fault, &dh, &fresh[v])?;
    let wall_heal = epoch();
    let healed = Instant::now();
    s.inject(v, fault, true)?;
    let recover = wait("both peers balanced again", 120.0, || {
        (0..2)
            .all(|i| s.state(i).as_deref() == Some(t.balanced()))
            .then(|| healed.elapsed().as_secs_f64())
    })
    .ok();
    std::thread::sleep(Duration::from_secs(3));
    s.bed.lab.signal(perf_pid, "INT");
    let seen = cap.stop(&mut s.bed.lab);
    let (served, new_clients) = served_from(&seen, wall0, wall_heal, SERVED_WITHIN);
    let doubles = double_acks(&seen);
    for d in doubles.iter().take(3) {
        println!("  {} {}: ACKed twice: {d}", t.name(), fault.name());
    }
    Ok(Timeline {
        target: t,
        fault,
        detect: o.detect,
        renew: o.renew,
        served,
        new_real: o.new_real,
        recover,
        new_clients,
        doubles: doubles.len(),
    })
}

/// Waits for dhclient's next renewal, so that every pair's client rebinds
/// T2 after the fault; returns the peer that renewed it, the one to fail.
fn after_renewal(dh: &Dhclient) -> Result<usize, String> {
    let renewed = dh.events("RENEW").len();
    let renewal = wait("dhclient to renew", 30.0, || {
        dh.events("RENEW").get(renewed).cloned()
    })?;
    LAB.server
        .iter()
        .position(|a| *a == field(&renewal, "sid"))
        .ok_or_else(|| "dhclient renewed by neither server".into())
}

impl Scene {
    /// Fails peer `v` for [`OUTAGE`] seconds and watches: the survivor
    /// noticing, renewing dhclient `dh`, and a new dhclient started in
    /// namespace `fresh` (in `v`'s hash bucket) getting its first lease.
    fn outage(
        &mut self,
        v: usize,
        fault: Fault,
        dh: &Dhclient,
        fresh: &str,
    ) -> Result<Outage, String> {
        let t0 = Instant::now();
        let since = || t0.elapsed().as_secs_f64();
        self.inject(v, fault, false)?;
        let d = self.bed.dir.path().join("new");
        std::fs::create_dir_all(&d).map_err(|e| e.to_string())?;
        let newcomer = Dhclient::new(&d, "initial-interval 4;\nbackoff-cutoff 16;\n");
        newcomer.spawn(&mut self.bed.lab, fresh);
        // When the new client got its first lease, noted while waiting.
        let mut bound_at = None;
        let mut note = || {
            if bound_at.is_none() && !newcomer.events("BOUND").is_empty() {
                bound_at = Some(since());
            }
        };
        let balanced = self.t.balanced();
        let detect = wait("the survivor to notice", 30.0, || {
            note();
            (self.state(1 - v).as_deref() != Some(balanced)).then(since)
        })
        .ok();
        let survivor = LAB.server[1 - v];
        let renew = wait("the survivor to renew dhclient", 45.0, || {
            note();
            ["RENEW", "REBIND"]
                .iter()
                .any(|r| dh.events(r).iter().any(|l| field(l, "sid") == survivor))
                .then(since)
        })
        .ok();
        note();
        std::thread::sleep(Duration::from_secs_f64((OUTAGE - since()).max(0.0)));
        let log = std::fs::read_to_string(&newcomer.log).unwrap_or_default();
        Ok(Outage {
            detect,
            renew,
            new_real: bound_at.map(|at| (at, first_retransmission(&log))),
        })
    }

    fn state(&self, i: usize) -> Option<String> {
        self.t.state(&self.bed.dir.path().join(format!("s{i}")))
    }

    /// Fails peer `v` (or, with `heal`, ends the failure).
    fn inject(&mut self, v: usize, fault: Fault, heal: bool) -> Result<(), String> {
        match (fault, heal) {
            (Fault::Kill, false) => {
                self.bed.lab.signal(self.bed.pids[v], "KILL");
            }
            (Fault::Kill, true) => {
                let b = &mut self.bed;
                b.pids[v] = self
                    .t
                    .restart(&mut b.lab, &b.servers[v], b.dir.path(), v, SHORT)?;
            }
            (Fault::Stop, _) => netns::kill(self.bed.pids[v], if heal { "CONT" } else { "STOP" }),
            (Fault::Cut, _) => {
                let state = if heal { "up" } else { "down" };
                netns::run(&[
                    "ip",
                    "-n",
                    &self.bed.servers[v],
                    "link",
                    "set",
                    "eth0",
                    state,
                ]);
            }
        }
        Ok(())
    }
}

/// perfdhcp as the relay, [`RATE`] new clients a second to both peers, for
/// `secs` at most (it is stopped once the scenario ends).
fn perfdhcp_args(secs: u64) -> Vec<String> {
    let (limit, rate, secs) = ((secs + 10).to_string(), RATE.to_string(), secs.to_string());
    [
        "timeout", &limit, "perfdhcp", "-4", "-R", "1000000", "-r", &rate, "-p", &secs, "-l",
        LAB.relay, "all",
    ]
    .map(String::from)
    .to_vec()
}

/// Polls `f` every 100 ms until it gives a value or `secs` pass.
fn wait<T>(what: &str, secs: f64, mut f: impl FnMut() -> Option<T>) -> Result<T, String> {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    loop {
        if let Some(v) = f() {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out after {secs} s waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The new client's figure as the tables show it: "4.8 (4)".
pub fn newcomer(x: Option<(f64, Option<f64>)>) -> String {
    match x {
        None => "-".into(),
        Some((t, Some(r))) => format!("{t:.1} ({r:.0})"),
        Some((t, None)) => format!("{t:.1}"),
    }
}

/// A MAC address whose RFC 3074 bucket belongs to peer `i` (0: the
/// primary) with the pairs' split of 128; every pair here balances on the
/// hardware address when a client sends no client identifier (dhclient
/// sends none by default).
fn mac_in_bucket_of(i: usize) -> String {
    (0u8..=255)
        .map(|last| [0x02, 0x5e, 0x00, 0x00, 0x10, last])
        .find(|m| tandem::failover::hash::primary_serves(m, 128) == (i == 0))
        .map(|m| {
            m.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        })
        .expect("a MAC in each bucket")
}

fn epoch() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
