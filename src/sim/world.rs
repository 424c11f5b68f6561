//! The simulated world: event queue, networks, faults and the checker.

use super::client::{Client, Event, Held, Target};
use super::node::{Disk, Host};
use super::rng::Rng;
use crate::config::Config;
use crate::failover::State;
use crate::failover::codec::{Hello, Session};
use crate::failover::message::Message;
use crate::lease::LeaseState;
use crate::node::{Grant, Input};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::sync::Arc;

mod checks;
mod clients;
mod evidence;
mod faults;
mod link;
mod options;
mod setup;
mod trace;
mod witness;

pub use options::{Family, Options, Reached, Summary, Violation};
pub(in crate::sim) use trace::describe;
use trace::short;

/// The simulated pair's MCLT, seconds.
pub(super) const MCLT: u64 = 60;
/// How long faults are injected, then how long the pair settles, seconds.
pub(super) const CHAOS: u64 = 1500;
pub(super) const SETTLE: u64 = 900;
/// Error allowed when comparing two servers' clocks: offsets are measured
/// from timestamps that travel with up to this much link delay.
pub(super) const CLOCK_SLACK: u64 = 3;

#[derive(Clone, Debug)]
enum Ev {
    ClientWake(usize),
    ToServer {
        node: usize,
        bytes: Vec<u8>,
    },
    ToClient {
        client: usize,
        bytes: Vec<u8>,
    },
    Frame {
        to: usize,
        link: u64,
        bytes: Vec<u8>,
    },
    Tick,
    Crash {
        node: usize,
        wipe: bool,
    },
    Restart {
        node: usize,
    },
    Partition {
        dir: Option<usize>,
        secs: u64,
    },
    /// The end of a partition (`dir` as it began).
    Heal {
        dir: Option<usize>,
    },
    PartnerDown {
        node: usize,
    },
    Jump {
        node: usize,
        secs: i64,
    },
    ClientFault(usize),
    /// The operator's `maintenance start` (`start`) or `stop` on `node`.
    Maintenance {
        node: usize,
        start: bool,
    },
    /// Node `node`'s disk fails every commit for `secs` seconds.
    DiskFail {
        node: usize,
        secs: u64,
    },
    /// Node `node` is stopped (SIGSTOP) for `secs` seconds.
    Freeze {
        node: usize,
        secs: u64,
    },
    /// Node `node` resumes (SIGCONT).
    Thaw {
        node: usize,
    },
    /// Node `node` dies for `secs` seconds while its clients reboot.
    Death {
        node: usize,
        secs: u64,
    },
    /// The clients of dead node `dead`'s hash bucket reboot.
    Reboots {
        dead: usize,
    },
    /// The witness family's traffic and cuts.
    Witness(witness::WitnessEv),
    EndChaos,
}

/// The peer link's TCP connection. Each end is open or closed on its own:
/// an end that closes while its frames are lost (a cut, a crash behind a
/// cut) leaves the other end open, half-open, until that end's own
/// timeout closes it or a frame it sends draws a reset.
struct Link {
    id: u64,
    /// `open[i]`: node i's end of the connection is open.
    open: [bool; 2],
    sessions: [Option<Session>; 2],
    /// `blocked[i]`: how many partitions under way lose frames from node
    /// i (each heals its own; they may overlap).
    blocked: [u32; 2],
    last: [u64; 2],
}

struct Faults {
    client_loss: f64,
    client_dup: f64,
    link_loss: f64,
    link_dup: f64,
    link_reorder: f64,
    disk_delay: u64,
}

struct World {
    seed: u64,
    opts: Options,
    rng: Rng,
    now: u64,
    step: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Ev>,
    configs: [Arc<Config>; 2],
    nodes: [Option<Host>; 2],
    disks: [Disk; 2],
    offsets: [i64; 2],
    link: Link,
    clients: Vec<Client>,
    /// Who holds each address by the clients' own view: (client, until).
    holders: super::holders::Holders,
    /// Per server, the latest potential expiry (global time) it ever
    /// committed for an address and which client it was for.
    acked: [HashMap<Ipv4Addr, (Option<crate::proto::ClientKey>, u64)>; 2],
    faults: Faults,
    chaos: bool,
    dangerous: bool,
    summary: Summary,
    trace: String,
    /// The failover state each server was last seen in, for the trace.
    traced_state: [Option<State>; 2],
    epochs: u64,
    /// A server lost its database in this run: DNS records it made that
    /// its partner had not yet heard of may be left behind unknown to both
    /// (as with any DHCP server that loses its lease file).
    wiped: bool,
    /// The DNS server of the ddns family.
    zone: std::rc::Rc<std::cell::RefCell<super::dns::Zone>>,
    /// A dead server stays down until then (global seconds; `Ev::Death`).
    dead_until: [u64; 2],
    /// The survivor of a death, watched for its partner-down.
    death_watch: Option<usize>,
    /// Since when a server in PARTNER-DOWN has had a partner that may
    /// allocate (`check_partner_down`), if it has.
    both_allocating: Option<u64>,
    /// The witness family's witness, and which servers are cut from it
    /// and from their clients.
    witness: Option<crate::failover::witness::Witness>,
    witness_cut: [u32; 2],
    /// Which servers hear no report from the witness, though their
    /// heartbeats reach it (a one-way cut).
    witness_deaf: [u32; 2],
    /// The longest the witness takes to answer, seconds (per seed).
    witness_delay: u64,
    /// A violation found where the caller could not return it (closing
    /// the link on behalf of both servers): the run stops with it.
    pending: Option<Violation>,
    client_cut: [u8; 2],
}

/// Runs one seed; `Err` is an invariant violation.
pub fn run(seed: u64, opts: &Options) -> Result<Summary, Violation> {
    if opts.family == Some(Family::Isc) {
        return super::isc::run(seed, opts);
    }
    let mut w = World::new(seed, opts.clone());
    w.schedule_faults();
    while let Some(((t, _), ev)) = w.queue.pop_first() {
        w.now = t;
        w.step += 1;
        if w.opts.trace {
            let _ = writeln!(w.trace, "[{:>6}] t={:>5} {}", w.step, t, short(&ev));
            w.flush_live();
        }
        let handled = w.handle(ev);
        w.flush_live();
        handled?;
        if let Some(v) = w.pending.take() {
            return Err(v);
        }
        if t >= CHAOS + SETTLE {
            break;
        }
    }
    w.final_check()?;
    w.summary.dns_records = {
        let z = w.zone.borrow();
        (z.added, z.removed)
    };
    w.summary.steps = w.step;
    w.summary.trace = std::mem::take(&mut w.trace);
    Ok(w.summary)
}

impl World {
    /// In live mode, prints what the trace holds so far.
    fn flush_live(&mut self) {
        if self.opts.live && !self.trace.is_empty() {
            print!("{}", self.trace);
            self.trace.clear();
        }
    }

    fn at(&mut self, t: u64, ev: Ev) {
        self.seq += 1;
        self.queue.insert((t.max(self.now), self.seq), ev);
    }

    fn violation(&self, message: String) -> Violation {
        Violation {
            seed: self.seed,
            step: self.step,
            time: self.now,
            message,
            dangerous: self.dangerous,
            trace: self.trace.clone(),
        }
    }

    fn node(&mut self, i: usize) -> Option<&mut Host> {
        self.nodes[i].as_mut().filter(|n| n.up)
    }

    fn handle(&mut self, ev: Ev) -> Result<(), Violation> {
        match ev {
            Ev::Tick => {
                for i in 0..2 {
                    let dd = self.faults.disk_delay;
                    let now = self.now;
                    if let Some(n) = self.node(i) {
                        n.input(now, dd, Input::Tick);
                        self.after_node(i)?;
                    }
                }
                self.try_connect();
                self.at(self.now + 1, Ev::Tick);
            }
            Ev::ClientWake(c) => {
                let retry = self.rng.range(2, 6);
                let out = self.clients[c].wake(self.now, retry);
                for (to, bytes) in out {
                    self.client_send(c, to, bytes);
                }
                let w = self.clients[c].wake;
                if w > self.now {
                    self.at(w, Ev::ClientWake(c));
                }
            }
            Ev::ToServer { node, bytes } => self.deliver(node, &bytes)?,
            Ev::ToClient { client, bytes } => self.client_receive(client, &bytes)?,
            Ev::Frame { to, link, bytes } => self.frame(to, link, &bytes)?,
            Ev::Crash { node, wipe } => self.crash(node, wipe),
            Ev::Restart { node } => {
                if self.nodes[node].is_none() && self.now >= self.dead_until[node] {
                    self.revive(node);
                    self.boot(node);
                    self.summary_note(format!("server {node} restarted"));
                }
            }
            Ev::Partition { dir, secs } => self.partition(dir, secs),
            Ev::Heal { dir } => self.heal(dir),
            Ev::PartnerDown { node } => self.partner_down(node),
            Ev::Jump { node, secs } => self.jump(node, secs),
            Ev::ClientFault(c) => self.client_fault(c),
            Ev::DiskFail { node, secs } => self.disk_fail(node, secs),
            Ev::Freeze { node, secs } => self.freeze(node, secs),
            Ev::Thaw { node } => self.thaw(node)?,
            Ev::Death { node, secs } => self.death(node, secs),
            Ev::Reboots { dead } => self.reboots(dead),
            Ev::Witness(e) => self.witness_event(e)?,
            Ev::Maintenance { node, start } => self.maintenance(node, start),
            Ev::EndChaos => self.end_chaos(),
        }
        Ok(())
    }

    fn partition(&mut self, dir: Option<usize>, secs: u64) {
        self.summary.partitions += 1;
        for d in Self::directions(dir) {
            self.link.blocked[d] += 1;
        }
        self.at(self.now + secs, Ev::Heal { dir });
    }

    fn heal(&mut self, dir: Option<usize>) {
        for d in Self::directions(dir) {
            self.link.blocked[d] = self.link.blocked[d].saturating_sub(1);
        }
    }

    /// The servers whose frames a partition in `dir` loses.
    fn directions(dir: Option<usize>) -> std::ops::RangeInclusive<usize> {
        dir.map_or(0..=1, |d| d..=d)
    }

    /// Whether frames from server `i` are lost.
    fn blocked(&self, i: usize) -> bool {
        self.link.blocked[i] > 0
    }

    /// A clock step moves every absolute time the server stored by `secs`:
    /// lease expiry (forward) or the MCLT bound (backward) can be off by
    /// that much. No design with absolute times survives it.
    fn jump(&mut self, node: usize, secs: i64) {
        self.dangerous = true;
        self.summary.dangerous_events += 1;
        self.offsets[node] += secs;
        if let Some(n) = self.nodes[node].as_mut() {
            n.offset += secs;
        }
    }

    /// Notes in the trace when server `i` changed failover state.
    fn trace_state(&mut self, i: usize) {
        let now = self.nodes[i].as_ref().and_then(|n| n.node.state());
        if self.opts.trace && now != self.traced_state[i] {
            let name = |s: Option<State>| s.map_or("alone", |s| s.as_str());
            let _ = writeln!(
                self.trace,
                "         server {i} state {} -> {}",
                name(self.traced_state[i]),
                name(now)
            );
        }
        self.traced_state[i] = now;
    }

    fn summary_note(&mut self, s: String) {
        if self.opts.trace {
            let _ = writeln!(self.trace, "         {s}");
        }
    }

    fn after_node(&mut self, i: usize) -> Result<(), Violation> {
        self.collect_acked(i);
        self.trace_state(i);
        self.check_partner_down(i)?;
        self.send_heartbeats(i);
        if let Some(n) = self.nodes[i].as_mut() {
            n.note_partner_down_debt();
            self.summary.answered_pings += std::mem::take(&mut n.answered_pings);
            for line in std::mem::take(&mut n.dns_log) {
                if self.opts.trace {
                    let _ = writeln!(self.trace, "         server {i} {line}");
                }
            }
        }
        if let Some(p) = self.nodes[i].as_mut().and_then(|n| n.undurable.pop()) {
            return Err(self.violation(format!("server {i}: {p}")));
        }

        self.send_replies(i);
        let Some(n) = self.nodes[i].as_mut() else {
            return Ok(());
        };
        let out = std::mem::take(&mut n.outbox);
        let close = n.close.take();
        for m in out {
            self.link_send(i, &m);
        }
        if let Some(why) = close {
            self.close_end(i, &why);
        }
        // What left before the failure is out; the process exits now.
        if let Some(why) = self.nodes[i].as_ref().and_then(|n| n.halted.clone()) {
            self.summary.halts += 1;
            self.summary_note(format!("server {i} halted: {why}"));
            self.crash(i, false);
        }
        Ok(())
    }
}
