//! The simulated world: event queue, networks, faults and the checker.

use super::client::{Client, Event, Held, Target};
use super::node::{Disk, Grant, Node};
use super::rng::Rng;
use crate::config::Config;
use crate::dhcp::Reply;
use crate::failover::State;
use crate::failover::codec::{Hello, Session};
use crate::failover::message::Message;
use crate::lease::LeaseState;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::sync::Arc;

const MCLT: u64 = 60;
const CHAOS: u64 = 1500;
const SETTLE: u64 = 900;
/// Error allowed when comparing two servers' clocks: offsets are measured
/// from timestamps that travel with up to this much link delay.
const CLOCK_SLACK: u64 = 3;

#[derive(Clone, Debug)]
pub struct Options {
    pub clients: usize,
    /// Also inject the faults no failover design survives: partner-down while
    /// the partner is alive, and forward clock jumps.
    pub dangerous: bool,
    pub trace: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            clients: 10,
            dangerous: false,
            trace: false,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub steps: u64,
    pub acks: u64,
    pub naks: u64,
    pub crashes: u64,
    pub partitions: u64,
    pub dangerous_events: u64,
    pub trace: String,
}

#[derive(Clone, Debug)]
pub struct Violation {
    pub seed: u64,
    pub step: u64,
    pub time: u64,
    pub message: String,
    /// The schedule contained a fault the design cannot survive.
    pub dangerous: bool,
    pub trace: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seed {} step {} t={}s: {}{}",
            self.seed,
            self.step,
            self.time,
            self.message,
            if self.dangerous {
                " (dangerous schedule)"
            } else {
                ""
            }
        )
    }
}

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
    Heal,
    PartnerDown {
        node: usize,
    },
    Jump {
        node: usize,
        secs: i64,
    },
    ClientFault(usize),
    EndChaos,
}

struct Link {
    id: u64,
    up: bool,
    sessions: [Option<Session>; 2],
    /// `blocked[i]`: frames from node i are lost.
    blocked: [bool; 2],
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
    nodes: [Option<Node>; 2],
    disks: [Disk; 2],
    offsets: [i64; 2],
    link: Link,
    clients: Vec<Client>,
    /// Who holds each address by the clients' own view: (client, until).
    holders: HashMap<Ipv4Addr, (usize, u64)>,
    /// Per server, the latest potential expiry (global time) it ever
    /// committed for an address and which client it was for.
    acked: [HashMap<Ipv4Addr, (Option<crate::proto::ClientKey>, u64)>; 2],
    faults: Faults,
    chaos: bool,
    dangerous: bool,
    summary: Summary,
    trace: String,
    epochs: u64,
}

fn config(primary: bool) -> Arc<Config> {
    let (role, sid) = if primary {
        ("primary", "10.0.0.2")
    } else {
        ("secondary", "10.0.0.3")
    };
    let text = format!(
        r#"
[server]
name = "{role}"
interfaces = ["sim0"]
lease_db = "/nonexistent"
server_id = "{sid}"
decline_probation = "120s"
offer_hold = "20s"
[failover]
role = "{role}"
listen = "192.0.2.{l}:647"
peer = "192.0.2.{p}:647"
secret_file = "/nonexistent"
mclt = "{MCLT}s"
split = 128
max_response_delay = "15s"
load_balance_max_secs = 8
[[subnet]]
cidr = "10.0.0.0/24"
pools = ["10.0.0.10-10.0.0.25"]
lease_time = "300s"
min_lease_time = "30s"
max_lease_time = "600s"
authoritative = true
"#,
        l = if primary { 1 } else { 2 },
        p = if primary { 2 } else { 1 },
    );
    Arc::new(Config::parse(&text, "sim").expect("the simulator's config is valid"))
}

/// Runs one seed; `Err` is an invariant violation.
pub fn run(seed: u64, opts: &Options) -> Result<Summary, Violation> {
    let mut w = World::new(seed, opts.clone());
    w.schedule_faults();
    while let Some(((t, _), ev)) = w.queue.pop_first() {
        w.now = t;
        w.step += 1;
        if w.opts.trace {
            let _ = writeln!(w.trace, "[{:>6}] t={:>5} {:?}", w.step, t, short(&ev));
        }
        w.handle(ev)?;
        if t >= CHAOS + SETTLE {
            break;
        }
    }
    w.final_check()?;
    w.summary.steps = w.step;
    w.summary.trace = std::mem::take(&mut w.trace);
    Ok(w.summary)
}

fn short(ev: &Ev) -> String {
    match ev {
        Ev::ToServer { node, bytes } => {
            format!("client packet ({} bytes) -> server {node}", bytes.len())
        }
        Ev::ToClient { client, bytes } => {
            format!("server reply ({} bytes) -> client {client}", bytes.len())
        }
        Ev::Frame { to, link, bytes } => format!(
            "peer frame ({} bytes) -> server {to} on link {link}",
            bytes.len()
        ),
        other => format!("{other:?}"),
    }
}

impl World {
    fn new(seed: u64, opts: Options) -> World {
        let mut rng = Rng::new(seed);
        let configs = [config(true), config(false)];
        let offsets = [rng.range(0, 40) as i64 - 20, rng.range(0, 40) as i64 - 20];
        let disks = [
            Disk {
                epoch: 1,
                ..Disk::default()
            },
            Disk {
                epoch: 2,
                ..Disk::default()
            },
        ];
        let mut w = World {
            seed,
            rng,
            now: 0,
            step: 0,
            seq: 0,
            queue: BTreeMap::new(),
            nodes: [None, None],
            disks,
            offsets,
            link: Link {
                id: 0,
                up: false,
                sessions: [None, None],
                blocked: [false; 2],
                last: [0; 2],
            },
            clients: vec![],
            holders: HashMap::new(),
            acked: [HashMap::new(), HashMap::new()],
            faults: Faults {
                client_loss: 0.0,
                client_dup: 0.0,
                link_loss: 0.0,
                link_dup: 0.0,
                link_reorder: 0.0,
                disk_delay: 0,
            },
            chaos: true,
            dangerous: false,
            summary: Summary::default(),
            trace: String::new(),
            epochs: 2,
            configs,
            opts,
        };
        w.faults = Faults {
            client_loss: w.rng.range(0, 10) as f64 / 100.0,
            client_dup: w.rng.range(0, 5) as f64 / 100.0,
            link_loss: w.rng.range(0, 3) as f64 / 1000.0,
            link_dup: w.rng.range(0, 2) as f64 / 1000.0,
            link_reorder: w.rng.range(0, 2) as f64 / 1000.0,
            disk_delay: w.rng.range(0, 2),
        };
        for i in 0..2 {
            w.boot(i);
        }
        for c in 0..w.opts.clients {
            let start = w.rng.range(1, 60);
            w.clients.push(Client::new(c, start));
            w.at(start, Ev::ClientWake(c));
        }
        w.at(1, Ev::Tick);
        w
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

    fn boot(&mut self, i: usize) {
        let n = Node::boot(
            self.configs[i].clone(),
            self.disks[i].clone(),
            self.offsets[i],
            self.now,
        );
        self.nodes[i] = Some(n);
    }

    fn schedule_faults(&mut self) {
        let n = self.rng.range(2, 8);
        for _ in 0..n {
            let t = self.rng.range(60, CHAOS - 100);
            let ev = match self.rng.range(0, 9) {
                0 | 1 => Ev::Crash {
                    node: self.rng.range(0, 1) as usize,
                    wipe: self.rng.chance(0.4),
                },
                2 | 3 => Ev::Partition {
                    dir: None,
                    secs: self.rng.range(5, 400),
                },
                4 => Ev::Partition {
                    dir: Some(self.rng.range(0, 1) as usize),
                    secs: self.rng.range(5, 200),
                },
                5 => {
                    if self.opts.dangerous {
                        // The draft's operator error: the partner is only unreachable, not down.
                        self.at(
                            t.saturating_sub(1),
                            Ev::Partition {
                                dir: None,
                                secs: 600,
                            },
                        );
                    }
                    Ev::PartnerDown {
                        node: self.rng.range(0, 1) as usize,
                    }
                }
                6 | 7 if self.opts.dangerous => {
                    let secs = self.rng.range(1, 30) as i64;
                    Ev::Jump {
                        node: self.rng.range(0, 1) as usize,
                        secs: if self.rng.chance(0.5) { secs } else { -secs },
                    }
                }
                _ => Ev::ClientFault(self.rng.range(0, self.opts.clients as u64 - 1) as usize),
            };
            self.at(t, ev);
        }
        for _ in 0..self.rng.range(0, 12) {
            let t = self.rng.range(30, CHAOS);
            let c = self.rng.range(0, self.opts.clients as u64 - 1) as usize;
            self.at(t, Ev::ClientFault(c));
        }
        self.at(CHAOS, Ev::EndChaos);
    }

    fn node(&mut self, i: usize) -> Option<&mut Node> {
        self.nodes[i].as_mut().filter(|n| n.up)
    }

    fn handle(&mut self, ev: Ev) -> Result<(), Violation> {
        match ev {
            Ev::Tick => {
                for i in 0..2 {
                    let dd = self.faults.disk_delay;
                    let now = self.now;
                    if let Some(n) = self.node(i) {
                        n.tick(now, dd);
                        let replies = n.commit_due(now, dd);
                        self.after_node(i, replies)?;
                    }
                }
                self.try_connect();
                self.at(self.now + 1, Ev::Tick);
            }
            Ev::ClientWake(c) => {
                let retry = self.rng.range(2, 6);
                let out = self.clients[c].wake(self.now, retry);
                for (to, bytes) in out {
                    self.client_send(to, bytes);
                }
                let w = self.clients[c].wake;
                if w > self.now {
                    self.at(w, Ev::ClientWake(c));
                }
            }
            Ev::ToServer { node, bytes } => {
                let (now, dd) = (self.now, self.faults.disk_delay);
                let Some(n) = self.node(node) else {
                    return Ok(());
                };
                let (replies, grant) = n.packet(now, &bytes, dd);
                if let Some(g) = &grant {
                    let l = &g.lease;
                    let msg = format!(
                        "server {node} ({}) ACK {} to {:?} until {} pe {} ape {}",
                        self.nodes[node]
                            .as_ref()
                            .map_or("down".into(), |n| n.peer.state().to_string()),
                        l.addr,
                        l.client(),
                        l.expires.0,
                        l.potential_expiry.0,
                        l.acked_potential_expiry.0
                    );
                    self.summary_note(msg);
                }
                if let Some(g) = grant {
                    self.check_mclt(node, &g)?;
                }
                let more = self.nodes[node].as_mut().expect("up").commit_due(now, dd);
                let mut all = replies;
                all.extend(more);
                self.after_node(node, all)?;
            }
            Ev::ToClient { client, bytes } => self.client_receive(client, &bytes)?,
            Ev::Frame { to, link, bytes } => self.frame(to, link, &bytes)?,
            Ev::Crash { node, wipe } => self.crash(node, wipe),
            Ev::Restart { node } => {
                if self.nodes[node].is_none() {
                    self.boot(node);
                    self.summary_note(format!("server {node} restarted"));
                }
            }
            Ev::Partition { dir, secs } => {
                self.summary.partitions += 1;
                match dir {
                    None => self.link.blocked = [true, true],
                    Some(d) => self.link.blocked[d] = true,
                }
                self.at(self.now + secs, Ev::Heal);
            }
            Ev::Heal => self.link.blocked = [false, false],
            Ev::PartnerDown { node } => self.partner_down(node),
            Ev::Jump { node, secs } => {
                // A clock step moves every absolute time the server stored by
                // `secs`: lease expiry (forward) or the MCLT bound (backward)
                // can be off by that much. No design with absolute times survives it.
                self.dangerous = true;
                self.summary.dangerous_events += 1;
                self.offsets[node] += secs;
                if let Some(n) = self.nodes[node].as_mut() {
                    n.offset += secs;
                }
            }
            Ev::ClientFault(c) => self.client_fault(c),
            Ev::EndChaos => self.end_chaos(),
        }
        Ok(())
    }

    fn summary_note(&mut self, s: String) {
        if self.opts.trace {
            let _ = writeln!(self.trace, "         {s}");
        }
    }

    fn collect_acked(&mut self, i: usize) {
        let Some(n) = self.nodes[i].as_mut() else {
            return;
        };
        let committed: Vec<_> = n.committed_pe.drain(..).collect();
        for (addr, client, t) in committed {
            if self.opts.trace {
                let _ = writeln!(
                    self.trace,
                    "         server {i} committed {addr} for {client:?} potential expiry t={t}"
                );
            }
            let e = self.acked[i].entry(addr).or_insert((client.clone(), t));
            if e.0 != client || t >= e.1 {
                *e = (client, t);
            }
        }
    }

    fn crash(&mut self, node: usize, wipe: bool) {
        // Losing both databases loses leases no design can recover; a wipe
        // happens only while the partner is running (and holds a copy).
        let wipe = wipe && self.nodes[1 - node].is_some();
        self.collect_acked(node);
        let Some(n) = self.nodes[node].take() else {
            return;
        };
        self.summary.crashes += 1;
        // What was committed survives; the queue is lost with the process.
        self.disks[node] = if wipe {
            self.epochs += 1;
            Disk {
                epoch: self.epochs,
                ..Disk::default()
            }
        } else {
            n.disk
        };
        self.close_link("partner crashed");
        let back = self.now + self.rng.range(5, 200);
        self.summary_note(format!(
            "server {node} crashed (wipe: {wipe}); back at {back}"
        ));
        self.at(back, Ev::Restart { node });
    }

    fn partner_down(&mut self, node: usize) {
        let other = 1 - node;
        let partner_alive = self.nodes[other].is_some();
        if partner_alive && !self.opts.dangerous {
            return;
        }
        let now = self.now;
        let Some(n) = self.node(node) else { return };
        let local = n.local(now);
        if n.peer.operator_partner_down(local).is_ok() {
            if partner_alive {
                self.dangerous = true;
                self.summary.dangerous_events += 1;
            }
            self.summary_note(format!(
                "operator: server {node} partner-down (partner alive: {partner_alive})"
            ));
            let dd = self.faults.disk_delay;
            self.nodes[node].as_mut().expect("up").drain(now, dd);
        }
    }

    fn client_fault(&mut self, c: usize) {
        let now = self.now;
        let out = match self.rng.range(0, 4) {
            0 => self.clients[c].release(now),
            1 => self.clients[c].decline(now),
            2 => {
                self.clients[c].reboot(now);
                None
            }
            3 if self.chaos => {
                self.clients[c].phase = super::client::Phase::Gone;
                None
            }
            _ => None,
        };
        if let Some((to, bytes, held)) = out {
            self.release_hold(c, held);
            self.client_send(to, bytes);
        }
        let w = self.clients[c].wake.max(now);
        self.at(w, Ev::ClientWake(c));
    }

    fn release_hold(&mut self, c: usize, h: Held) {
        if self.holders.get(&h.addr).is_some_and(|(who, _)| *who == c) {
            self.holders.insert(h.addr, (c, self.now));
        }
    }

    fn end_chaos(&mut self) {
        self.chaos = false;
        self.link.blocked = [false, false];
        self.faults = Faults {
            client_loss: 0.0,
            client_dup: 0.0,
            link_loss: 0.0,
            link_dup: 0.0,
            link_reorder: 0.0,
            disk_delay: self.faults.disk_delay,
        };
        for i in 0..2 {
            if self.nodes[i].is_none() {
                self.boot(i);
            }
        }
        self.summary_note("chaos over: network healed, both servers running".into());
    }

    fn client_send(&mut self, to: Target, bytes: Vec<u8>) {
        let targets: Vec<usize> = match to {
            Target::Both => vec![0, 1],
            Target::Server(sid) => (0..2)
                .filter(|i| self.configs[*i].server.server_id == Some(sid))
                .collect(),
        };
        for node in targets {
            if self.rng.chance(self.faults.client_loss) {
                continue;
            }
            let copies = if self.rng.chance(self.faults.client_dup) {
                2
            } else {
                1
            };
            for _ in 0..copies {
                let d = self.rng.range(0, 2);
                self.at(
                    self.now + d,
                    Ev::ToServer {
                        node,
                        bytes: bytes.clone(),
                    },
                );
            }
        }
    }

    fn after_node(&mut self, i: usize, replies: Vec<Reply>) -> Result<(), Violation> {
        self.collect_acked(i);
        if let Some(p) = self.nodes[i].as_mut().and_then(|n| n.undurable.pop()) {
            return Err(self.violation(format!("server {i}: {p}")));
        }
        for r in replies {
            let Some(c) = self.client_of(&r.bytes) else {
                continue;
            };
            if self.rng.chance(self.faults.client_loss) {
                continue;
            }
            let d = self.rng.range(0, 2);
            self.at(
                self.now + d,
                Ev::ToClient {
                    client: c,
                    bytes: r.bytes.clone(),
                },
            );
        }
        let Some(n) = self.nodes[i].as_mut() else {
            return Ok(());
        };
        let out = std::mem::take(&mut n.outbox);
        let close = n.close.take();
        for m in out {
            self.link_send(i, &m);
        }
        if let Some(why) = close {
            self.close_link(&why);
        }
        Ok(())
    }

    fn client_of(&self, bytes: &[u8]) -> Option<usize> {
        let mac = bytes.get(28..34)?;
        self.clients.iter().position(|c| c.mac == mac)
    }

    fn client_receive(&mut self, c: usize, bytes: &[u8]) -> Result<(), Violation> {
        let before = self.clients[c].held;
        match self.clients[c].receive(self.now, bytes) {
            Event::Bound(h) => {
                self.summary.acks += 1;
                if let Some(b) = before.filter(|b| b.addr != h.addr) {
                    self.release_hold(c, b);
                }
                if let Some((other, until)) = self.holders.get(&h.addr).copied()
                    && other != c
                    && until > self.now
                {
                    return Err(self.violation(format!(
                            "address {} ACKed to client {c} while client {other} holds it until t={until}",
                            h.addr
                        )));
                }
                self.holders.insert(h.addr, (c, h.expiry()));
            }
            Event::Naked(lost) => {
                self.summary.naks += 1;
                if let Some(h) = lost {
                    self.release_hold(c, h);
                    if !self.chaos && self.now > CHAOS + 2 * MCLT && !self.dangerous {
                        return Err(self.violation(format!(
                            "client {c} was refused its lease {} after the network healed",
                            h.addr
                        )));
                    }
                }
            }
            Event::Nothing => {}
        }
        let w = self.clients[c].wake;
        self.at(w, Ev::ClientWake(c));
        Ok(())
    }

    /// Outside PARTNER-DOWN no lease runs past MCLT beyond what the partner
    /// has acknowledged (its disk) or beyond the grant time.
    fn check_mclt(&self, i: usize, g: &Grant) -> Result<(), Violation> {
        if g.partner_down {
            return Ok(());
        }
        let to_global = |t: u64, node: usize| (t as i64 - self.offsets[node]).max(0) as u64;
        let end = to_global(g.lease.expires.0, i);
        let now = to_global(g.local_now.0, i);
        let acked = self.acked[1 - i]
            .get(&g.lease.addr)
            .filter(|(c, _)| c.is_none() || *c == g.lease.client())
            .map_or(0, |(_, t)| *t);
        let bound = now.max(acked) + MCLT + CLOCK_SLACK;
        if end > bound && !self.dangerous {
            return Err(self.violation(format!(
                "server {i} granted {} until t={end}, beyond MCLT past the partner's acknowledgement (bound t={bound}; partner committed {:?})",
                g.lease.addr,
                self.acked[1 - i].get(&g.lease.addr)
            )));
        }
        Ok(())
    }

    fn try_connect(&mut self) {
        if self.link.up
            || self.link.blocked.iter().any(|b| *b)
            || self.nodes.iter().any(|n| n.is_none())
        {
            return;
        }
        let hp = Hello {
            version: 1,
            primary: true,
            nonce: self.rng.bytes32(),
        };
        let hs = Hello {
            version: 1,
            primary: false,
            nonce: self.rng.bytes32(),
        };
        self.link.id += 1;
        self.link.up = true;
        self.link.sessions = [
            Session::new(b"sim-key", &hp, &hs).ok(),
            Session::new(b"sim-key", &hs, &hp).ok(),
        ];
        self.link.last = [self.now; 2];
        self.summary_note(format!("peer link {} up", self.link.id));
        for i in 0..2 {
            let (now, dd) = (self.now, self.faults.disk_delay);
            let n = self.nodes[i].as_mut().expect("both up");
            let local = n.local(now);
            n.peer.link_up(local);
            n.drain(now, dd);
        }
        for i in 0..2 {
            let _ = self.after_node(i, vec![]);
        }
    }

    fn close_link(&mut self, why: &str) {
        if !self.link.up {
            return;
        }
        self.link.up = false;
        self.link.sessions = [None, None];
        self.summary_note(format!("peer link {} down: {why}", self.link.id));
        for i in 0..2 {
            let (now, dd) = (self.now, self.faults.disk_delay);
            if let Some(n) = self.nodes[i].as_mut() {
                let local = n.local(now);
                n.peer.link_down(local);
                n.drain(now, dd);
            }
        }
        for i in 0..2 {
            let _ = self.after_node(i, vec![]);
        }
    }

    fn link_send(&mut self, from: usize, m: &Message) {
        if !self.link.up {
            return;
        }
        let Some(s) = self.link.sessions[from].as_mut() else {
            return;
        };
        let Ok(bytes) = s.seal(m) else { return };
        if self.link.blocked[from] || self.rng.chance(self.faults.link_loss) {
            return;
        }
        let mut t = self.link.last[from].max(self.now + self.rng.range(0, 1));
        if self.rng.chance(self.faults.link_reorder) {
            t = self.now;
        }
        self.link.last[from] = t;
        let (to, link) = (1 - from, self.link.id);
        if self.rng.chance(self.faults.link_dup) {
            self.at(
                t,
                Ev::Frame {
                    to,
                    link,
                    bytes: bytes.clone(),
                },
            );
        }
        self.at(t, Ev::Frame { to, link, bytes });
    }

    fn frame(&mut self, to: usize, link: u64, bytes: &[u8]) -> Result<(), Violation> {
        if !self.link.up || link != self.link.id || self.nodes[to].as_ref().is_none_or(|n| !n.up) {
            return Ok(());
        }
        let msg = match self.link.sessions[to].as_mut().map(|s| s.open(bytes)) {
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                self.close_link(&format!("server {to} refused a frame: {e}"));
                return Ok(());
            }
            None => return Ok(()),
        };
        if self.opts.trace {
            if let Message::BindingUpdate { leases, .. } = &msg {
                for l in leases {
                    let _ = writeln!(
                        self.trace,
                        "         server {to} receives {} state {} pe {} seq {}",
                        Ipv4Addr::from(l.addr),
                        l.state,
                        l.potential_expiry,
                        l.seq
                    );
                }
            } else {
                let _ = writeln!(self.trace, "         server {to} receives {}", msg.name());
            }
        }
        let (now, dd) = (self.now, self.faults.disk_delay);
        let n = self.nodes[to].as_mut().expect("checked up");
        let local = n.local(now);
        n.peer.receive(local, msg, &mut n.store);
        n.drain(now, dd);
        let replies = n.commit_due(now, dd);
        self.after_node(to, replies)
    }

    /// After the network healed and both servers ran for the settle period:
    /// the same active bindings on both, both in NORMAL.
    fn final_check(&mut self) -> Result<(), Violation> {
        if self.dangerous {
            return Ok(());
        }
        let (a, b) = (
            self.nodes[0].as_ref().expect("up"),
            self.nodes[1].as_ref().expect("up"),
        );
        if a.peer.state() != State::Normal || b.peer.state() != State::Normal {
            return Err(self.violation(format!(
                "pair not in NORMAL after settling: {} / {}",
                a.peer.state(),
                b.peer.state()
            )));
        }
        let active = |n: &Node, other_offset: i64| -> BTreeMap<Ipv4Addr, String> {
            let now = n.local(self.now).0;
            n.store
                .iter()
                .filter(|l| {
                    l.state == LeaseState::Active
                        && l.expires.0 > now + CLOCK_SLACK + 2 + other_offset.unsigned_abs()
                })
                .map(|l| (l.addr, format!("{:?}", l.client())))
                .collect()
        };
        let slack = self.offsets[0] - self.offsets[1];
        let (x, y) = (active(a, slack), active(b, slack));
        for (addr, c) in &x {
            if let Some(d) = y.get(addr).filter(|d| *d != c) {
                return Err(self.violation(format!(
                    "{addr} bound to {c} on server 0 and to {d} on server 1"
                )));
            }
        }
        let mut missing = vec![];
        for (addr, c) in x
            .iter()
            .filter(|(a, _)| !y.contains_key(a))
            .chain(y.iter().filter(|(a, _)| !x.contains_key(a)))
        {
            missing.push(format!("{addr}={c}"));
        }
        // Bindings that expire within the clock slack may legitimately differ.
        if !missing.is_empty() {
            return Err(self.violation(format!("bindings on one server only: {missing:?}")));
        }
        Ok(())
    }
}
