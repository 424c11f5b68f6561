//! The isc family's world: a real tandem node (`sim::node::Host`) whose
//! peer link runs the real ISC session (`failover::isc::session`), as
//! `net::isc_link` drives it, against the dhcpd model over a simulated TCP
//! connection; simulated clients of both; and a seeded schedule of faults
//! (link cuts, crashes and restarts of either, with or without its
//! database, the operator's partner-down on the survivor of a death,
//! client misbehaviour) on a virtual clock. Invariants: no address ACKed
//! to a client while another holds it; no grant past MCLT beyond what the
//! partner stored; dhcpd never shuts down or exits on what tandem told it;
//! after the faults end and the pair settles, both in NORMAL with the
//! same bindings.

use super::dhcpd::{Dhcpd, DhcpdConfig, IscState, LeaseFile};
use crate::config::Config;
use crate::failover::isc::session::IscSession;
use crate::proto::identity::ClientKey;
use crate::sim::client::{Client, Event, Held, Target};
use crate::sim::node::{Disk, Host};
use crate::sim::rng::Rng;
use crate::sim::{Options, Summary, Violation};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::sync::Arc;

mod checks;
mod faults;
mod link;
mod setup;

pub(super) use crate::sim::world::{CHAOS, CLOCK_SLACK, MCLT, SETTLE};
/// tandem is node 0, dhcpd node 1.
const TANDEM: usize = 0;
const DHCPD: usize = 1;

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
        conn: u64,
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
    Cut {
        secs: u64,
    },
    Heal,
    PartnerDown {
        node: usize,
    },
    ClientFault(usize),
    EndChaos,
}

/// The TCP connection between the two.
#[derive(Default)]
struct Conn {
    id: u64,
    /// Each end open.
    open: [bool; 2],
    /// Cuts under way: frames wait (TCP retransmits) until the last heals.
    cut: u32,
    /// Frames held by a cut, in order: (to, bytes).
    held: Vec<(usize, Vec<u8>)>,
    /// The latest delivery time per direction (TCP keeps order).
    last: [u64; 2],
}

struct World {
    seed: u64,
    opts: Options,
    rng: Rng,
    now: u64,
    step: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Ev>,
    tandem_cfg: Arc<Config>,
    tandem: Option<Host>,
    disk: Disk,
    epochs: u64,
    session: Option<IscSession>,
    /// The identity tandem's link keeps for a dhcpd in RECOVER.
    recover_epoch: Option<u64>,
    dhcpd_cfg: DhcpdConfig,
    dhcpd: Option<Dhcpd>,
    lease_file: Option<LeaseFile>,
    /// Each server's clock minus the global clock, seconds.
    offsets: [i64; 2],
    conn: Conn,
    clients: Vec<Client>,
    holders: crate::sim::holders::Holders,
    /// What tells dhcpd's own hazards from tandem's faults.
    marks: Marks,
    /// dhcpd restarted while tandem was in PARTNER-DOWN and has not
    /// reached it since: it serves in its saved state (ISC has no rule
    /// against it, unlike tandem's blind restart), so its grants are its
    /// own hazard.
    dhcpd_blind: bool,
    /// tandem is down, and was in PARTNER-DOWN when it fell: a dhcpd
    /// restarted meanwhile is blind alike (it cannot learn what tandem
    /// gave in PARTNER-DOWN; sweep seed 1064535).
    tandem_fell_in_partner_down: bool,
    /// Per server, the latest potential expiry (global) it stored for an
    /// address, and for which client (hardware address).
    acked: [HashMap<Ipv4Addr, (Option<ClientKey>, u64)>; 2],
    client_loss: f64,
    disk_delay: u64,
    chaos: bool,
    /// A server was down since a given time (for the operator's
    /// partner-down on the other).
    down_since: [Option<u64>; 2],
    summary: Summary,
    trace: String,
    traced: [String; 2],
    pending: Option<Violation>,
}

/// Runs one seed of the isc family; `Err` is an invariant violation.
pub fn run(seed: u64, opts: &Options) -> Result<Summary, Violation> {
    let mut w = World::new(seed, opts.clone());
    w.schedule_faults();
    while let Some(((t, _), ev)) = w.queue.pop_first() {
        w.now = t;
        w.step += 1;
        if w.opts.trace {
            let _ = writeln!(w.trace, "[{:>6}] t={:>5} {}", w.step, t, short(&ev));
        }
        w.handle(ev)?;
        if let Some(v) = w.pending.take() {
            return Err(v);
        }
        w.flush_live();
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
    use crate::sim::world::describe;
    match ev {
        Ev::ToServer { node, bytes } => format!("{} -> server {node}", describe(bytes)),
        Ev::ToClient { client, bytes } => format!("{} -> client {client}", describe(bytes)),
        Ev::Frame { to, conn, bytes } => {
            use crate::failover::isc::IscMessage;
            let kind = match crate::failover::isc::Frame::decode(bytes) {
                Ok(f) => match IscMessage::read(&f) {
                    Some(IscMessage::State { state, flags, .. }) => {
                        format!("State {state:?} flags {flags:?}")
                    }
                    Some(IscMessage::BndUpd(b)) => {
                        format!("BndUpd {:?} status {:?}", b.addr, b.status)
                    }
                    _ => format!("{:?}", f.kind),
                },
                Err(_) => "?".into(),
            };
            format!("{kind} -> server {to} on connection {conn}")
        }
        other => format!("{other:?}"),
    }
}

impl World {
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

    fn note(&mut self, s: String) {
        if self.opts.trace {
            let _ = writeln!(self.trace, "         {s}");
        }
    }

    fn violation(&self, message: String) -> Violation {
        Violation {
            seed: self.seed,
            step: self.step,
            time: self.now,
            message,
            dangerous: false,
            trace: self.trace.clone(),
        }
    }

    /// dhcpd's clock at global time `g`.
    fn dhcpd_time(&self, g: u64) -> u32 {
        (g as i64 + self.offsets[DHCPD]).max(0) as u32
    }

    fn handle(&mut self, ev: Ev) -> Result<(), Violation> {
        match ev {
            Ev::Tick => self.tick()?,
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
            Ev::ToServer { node, bytes } => self.deliver(node, &bytes)?,
            Ev::ToClient { client, bytes } => self.client_receive(client, &bytes)?,
            Ev::Frame { to, conn, bytes } => self.frame(to, conn, bytes)?,
            Ev::Crash { node, wipe } => self.crash(node, wipe)?,
            Ev::Restart { node } => self.restart(node)?,
            Ev::Cut { secs } => {
                self.summary.partitions += 1;
                self.conn.cut += 1;
                self.at(self.now + secs, Ev::Heal);
            }
            Ev::Heal => self.heal()?,
            Ev::PartnerDown { node } => self.partner_down(node)?,
            Ev::ClientFault(c) => self.client_fault(c),
            Ev::EndChaos => self.end_chaos()?,
        }
        Ok(())
    }

    /// Every second: both servers' timers, the session's, and a new
    /// connection when both run and nothing is cut.
    fn tick(&mut self) -> Result<(), Violation> {
        let (now, dd) = (self.now, self.disk_delay);
        if let Some(h) = self.tandem.as_mut() {
            h.input(now, dd, crate::node::Input::Tick);
        }
        self.after_tandem()?;
        if let Some(s) = self.session.as_mut() {
            let local = self
                .tandem
                .as_ref()
                .map_or(crate::time::Time(0), |h| h.local(now));
            let out = s.tick(local);
            self.session_outputs(out)?;
        }
        let t = self.dhcpd_time(now);
        if let Some(d) = self.dhcpd.as_mut() {
            d.tick(t);
        }
        self.after_dhcpd()?;
        self.try_connect()?;
        self.at(self.now + 1, Ev::Tick);
        Ok(())
    }

    /// Notes a server's state change in the trace.
    fn trace_states(&mut self) {
        if !self.opts.trace {
            return;
        }
        let t = self
            .tandem
            .as_ref()
            .and_then(|h| h.node.state())
            .map_or("down".to_string(), |s| s.to_string());
        let d = self.dhcpd.as_ref().map_or("down".to_string(), |d| {
            format!(
                "{:?}{}",
                d.state(),
                if d.starting() { " (startup)" } else { "" }
            )
        });
        for (i, s) in [(TANDEM, t), (DHCPD, d)] {
            if self.traced[i] != s {
                let _ = writeln!(
                    self.trace,
                    "         server {i} state {} -> {s}",
                    self.traced[i]
                );
                self.traced[i] = s;
            }
        }
    }

    fn release_hold(&mut self, c: usize, h: Held) {
        self.holders.release(c, h, self.now);
    }

    fn client_receive(&mut self, c: usize, bytes: &[u8]) -> Result<(), Violation> {
        let before = self.clients[c].held;
        match self.clients[c].receive(self.now, bytes) {
            Event::Bound(h) => {
                self.summary.acks += 1;
                if let Err((other, until)) = self.holders.bind(c, h, before, self.now) {
                    let mut v = self.violation(format!(
                        "address {} ACKed to client {c} while client {other} holds it until t={until}",
                        h.addr
                    ));
                    // dhcpd's own rules, as two dhcpd would: shown, as a
                    // dangerous schedule's failure is, not counted.
                    let marks = [
                        self.marks.hazardous.get(&h.addr),
                        self.marks.victims.get(&h.addr),
                    ];
                    if let Some(&(_, _, why)) = marks
                        .into_iter()
                        .flatten()
                        .find(|(g, u, _)| *u > self.now && (*g == c || *g == other))
                    {
                        v.dangerous = true;
                        v.message = format!("dhcpd's own hazard ({why}): {}", v.message);
                    }
                    return Err(v);
                }
            }
            Event::Naked(lost) => {
                self.summary.naks += 1;
                if let Some(h) = lost {
                    self.release_hold(c, h);
                }
            }
            Event::Nothing => {}
        }
        let w = self.clients[c].wake;
        self.at(w, Ev::ClientWake(c));
        Ok(())
    }

    fn client_send(&mut self, to: Target, bytes: Vec<u8>) {
        let sids = [
            self.tandem_cfg.server.server_id,
            Some(self.dhcpd_cfg.server_id),
        ];
        for node in [TANDEM, DHCPD] {
            let reach = match to {
                Target::Both => true,
                Target::Server(sid) => sids[node] == Some(sid),
            };
            if reach && !self.rng.chance(self.client_loss) {
                let d = self.rng.range(0, 2);
                let bytes = bytes.clone();
                self.at(self.now + d, Ev::ToServer { node, bytes });
            }
        }
    }

    fn reply_to_client(&mut self, bytes: Vec<u8>) {
        let Some(mac) = bytes.get(28..34) else { return };
        let Some(c) = self.clients.iter().position(|c| c.mac == mac) else {
            return;
        };
        if !self.rng.chance(self.client_loss) {
            let d = self.rng.range(0, 2);
            self.at(self.now + d, Ev::ToClient { client: c, bytes });
        }
    }

    /// A client's datagram reaches server `node`.
    fn deliver(&mut self, node: usize, bytes: &[u8]) -> Result<(), Violation> {
        if node == TANDEM {
            let (now, dd) = (self.now, self.disk_delay);
            let Some(h) = self.tandem.as_mut() else {
                return Ok(());
            };
            if let Some(g) = h.packet(now, bytes, dd) {
                self.check_tandem_grant(&g)?;
            }
            return self.after_tandem();
        }
        let t = self.dhcpd_time(self.now);
        let Some(d) = self.dhcpd.as_mut() else {
            return Ok(());
        };
        let reply = d.dhcp(t, bytes);
        let hazards = std::mem::take(&mut d.hazard_grants);
        if let Some(reply) = reply {
            self.check_dhcpd_grant(&reply)?;
            self.note_hazard_grant(&reply, &hazards);
            self.reply_to_client(reply);
        }
        self.after_dhcpd()
    }
}

/// What the world keeps to tell dhcpd's own hazards (shown, not counted)
/// from tandem's faults (`world::checks`).
#[derive(Default)]
pub(super) struct Marks {
    /// Addresses dhcpd gave away under one of its own hazards
    /// (`Dhcpd::hazard_grants`): to which client, until when (global: the
    /// grant's end), and which hazard.
    pub(super) hazardous: HashMap<Ipv4Addr, (usize, u64, &'static str)>,
    /// Clients whose binding dhcpd dropped under one of its own rules
    /// (`note_dropped`): address to (client, until, rule). Kept apart
    /// from `hazardous`, whose marks dhcpd's renewals carry on.
    pub(super) victims: HashMap<Ipv4Addr, (usize, u64, &'static str)>,
    /// Per address, the client of the last active binding tandem
    /// committed and the latest end it committed for that client.
    pub(super) tandem_ends: HashMap<Ipv4Addr, (Option<ClientKey>, u64, u64)>,
    /// When tandem last sent dhcpd an end (expired, released) of an
    /// address: what it knew then is what `note_dropped` judges.
    pub(super) end_sent: HashMap<Ipv4Addr, u64>,
}
