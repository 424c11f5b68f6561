//! A model of ISC dhcpd 4.4.3 as a failover partner, for the simulator's
//! isc family: its failover states and its reactions to the partner's
//! (`dhcp_failover_set_state`, `dhcp_failover_peer_state_changed`,
//! the "disconnect" transition), its lease table and binding-update
//! queues (`updates`), its side of the connection (`link`) and its
//! answers to clients (`serve`), each read from `server/failover.c` and
//! `server/dhcp.c` and summarised in `../shared/research/
//! isc-failover-wire.md`. What makes dhcpd exit or shut down is recorded
//! as a fault of its partner (`Dhcpd::faults`), which the world reports
//! as a violation. Simplified: one pool, no load balancing of DISCOVERs
//! (dhcpd 4.4's default), no MAC affinity, no reserved or BOOTP leases.

use super::rules::{IscLease, Standing};
use crate::failover::isc::Frame;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::Ipv4Addr;

mod hazards;
mod link;
mod reactions;
mod serve;
mod updates;

/// dhcpd's failover states, with the numbers it sends (ISC's
/// `enum failover_state`; RECOVER-WAIT is its 254).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IscState {
    /// NORMAL (2): both serve, each from its own free addresses.
    Normal,
    /// COMMUNICATIONS-INTERRUPTED (3): serving alone, within MCLT.
    CommunicationsInterrupted,
    /// PARTNER-DOWN (4): the partner's addresses too, after MCLT.
    PartnerDown,
    /// POTENTIAL-CONFLICT (5): resolving, not serving.
    PotentialConflict,
    /// RECOVER (6): relearning everything from the partner.
    Recover,
    /// SHUTDOWN (8).
    Shutdown,
    /// RECOVER-DONE (9): waiting for the partner to go to NORMAL.
    RecoverDone,
    /// RESOLUTION-INTERRUPTED (10): a conflict's resolution cut.
    ResolutionInterrupted,
    /// CONFLICT-DONE (11): the primary, resolved, waiting for the secondary.
    ConflictDone,
    /// RECOVER-WAIT (254): MCLT after RECOVER before serving.
    RecoverWait,
}

impl IscState {
    /// The number on the wire.
    pub fn wire(self) -> u8 {
        use IscState::*;
        match self {
            Normal => 2,
            CommunicationsInterrupted => 3,
            PartnerDown => 4,
            PotentialConflict => 5,
            Recover => 6,
            Shutdown => 8,
            RecoverDone => 9,
            ResolutionInterrupted => 10,
            ConflictDone => 11,
            RecoverWait => 254,
        }
    }

    /// A received number; `None` for one dhcpd does not know (it then
    /// shuts down) or the partner's STARTUP (1), PAUSED (7) or unknown (0),
    /// which it takes without a transition here.
    pub fn from_wire(n: u8) -> Option<IscState> {
        use IscState::*;
        Some(match n {
            2 => Normal,
            3 => CommunicationsInterrupted,
            4 => PartnerDown,
            5 => PotentialConflict,
            6 => Recover,
            8 => Shutdown,
            9 => RecoverDone,
            10 => ResolutionInterrupted,
            11 => ConflictDone,
            254 => RecoverWait,
            _ => return None,
        })
    }
}

/// dhcpd.conf, as far as the model reads it.
#[derive(Clone, Debug)]
pub struct DhcpdConfig {
    /// `primary;` (else `secondary;`).
    pub primary: bool,
    /// The relationship name.
    pub name: Vec<u8>,
    /// `mclt`, seconds (the primary's, which a secondary adopts).
    pub mclt: u32,
    /// The lease time a client gets outside failover's bound, seconds.
    pub lease_time: u32,
    /// `max-unacked-updates`: the window told to the partner.
    pub max_unacked: u32,
    /// `max-response-delay`, seconds.
    pub max_response_delay: u32,
    /// Its server identifier (option 54).
    pub server_id: Ipv4Addr,
    /// The failover pool's addresses.
    pub pool: Vec<Ipv4Addr>,
}

/// What dhcpd's lease file keeps across a restart: the leases and the
/// failover state record (`write_failover_state`).
#[derive(Clone, Debug)]
pub struct LeaseFile {
    /// Every address of the pool.
    pub leases: BTreeMap<Ipv4Addr, IscLease>,
    /// Its state (in STARTUP: the one saved).
    pub state: IscState,
    /// When it entered it, its clock.
    pub stos: u32,
    /// The partner's state, as last heard.
    pub partner: Option<IscState>,
    /// The MCLT in force, seconds.
    pub mclt: u32,
}

/// One running dhcpd.
pub struct Dhcpd {
    /// Its configuration.
    pub cfg: DhcpdConfig,
    /// Its lease file, always current (dhcpd commits before it answers).
    pub file: LeaseFile,
    /// In STARTUP since then, with the saved state in `file.state`.
    startup_since: Option<u32>,
    /// The connection, if one is open.
    conn: Option<link::Conn>,
    /// Leases to send, oldest first (`update_queue`).
    update_queue: VecDeque<Ipv4Addr>,
    /// Leases sent and not yet acknowledged, with the transaction id.
    ack_queue: HashMap<Ipv4Addr, u32>,
    /// The transaction id each lease was last sent with (`last_xid`): kept
    /// when a state change puts the ack queue back on the update queue,
    /// so that the acknowledgement still counts.
    last_xid: HashMap<Ipv4Addr, u32>,
    /// Partner's updates taken and not yet acknowledged: (xid, address).
    toack: Vec<(u32, Ipv4Addr)>,
    /// When the acks are flushed if not before (2 s after the last).
    toack_due: Option<u32>,
    /// The lease whose acknowledgement is followed by our UPDDONE.
    send_update_done: Option<Ipv4Addr>,
    /// The transaction id of the partner's last UPDREQ or UPDREQALL, which
    /// our UPDDONE answers.
    updxid: u32,
    /// RECOVER-WAIT ends then.
    recover_done_at: Option<u32>,
    /// The next pool balance in NORMAL.
    balance_at: u32,
    /// Offers made: chaddr to (address, until).
    offers: HashMap<Vec<u8>, (Ipv4Addr, u32)>,
    /// Frames to send, in order.
    pub out: Vec<Frame>,
    /// Close the connection, and why.
    pub close: Option<String>,
    /// What its partner made it do that it should not have (shut down,
    /// exit): the world's violations.
    pub faults: Vec<String>,
    /// Lines for the trace.
    pub log: Vec<String>,
    /// Addresses dhcpd's own rules let it give away while a client may
    /// still hold them, until when (its clock) and which rule: taken with
    /// the partner's end of a binding that runs on here, or a PARTNER-DOWN
    /// that cut the potential expiry it acknowledged (`hazard_grants`).
    hazards: HashMap<Ipv4Addr, (u32, &'static str)>,
    /// Grants dhcpd made of such an address: (address, rule).
    pub hazard_grants: Vec<(Ipv4Addr, &'static str)>,
    /// Bindings of its own dhcpd dropped under such a rule, whose client
    /// may still hold the address whoever gives it next: (address,
    /// chaddr with its hardware type, the binding's end on dhcpd's clock,
    /// rule).
    pub dropped: Vec<(Ipv4Addr, Vec<u8>, u32, &'static str)>,
    /// Connections opened since boot, and the one each address's last
    /// update went out on (an update lost with an earlier connection is
    /// one tandem may never have had).
    connections: u64,
    sent_on: HashMap<Ipv4Addr, u64>,
    /// The connection dhcpd last sent an UPDDONE on, and what its update
    /// queue held then.
    done_sent: u64,
    queued_at_done: std::collections::HashSet<Ipv4Addr>,
    /// For the classification only: when dhcpd last moved into
    /// PARTNER-DOWN (its clock). `stos` is not that time when the move
    /// left STARTUP: the saved state's `stos` is kept (failover.c
    /// 1824-1828), from before dhcpd's own downtime.
    pub(super) partner_down_entered: Option<u32>,
}

impl Dhcpd {
    /// Starts at `now` on `file`, or on no lease file: every address
    /// FREE, in RECOVER (C 1197-1201). With a file it spends up to 15 s
    /// in STARTUP, saying its saved state with the STARTUP flag.
    pub fn boot(cfg: DhcpdConfig, file: Option<LeaseFile>, now: u32) -> Dhcpd {
        let (file, startup_since) = match file {
            Some(f) => (f, Some(now)),
            None => (
                LeaseFile {
                    leases: cfg.pool.iter().map(|a| (*a, IscLease::new(*a))).collect(),
                    state: IscState::Recover,
                    stos: now,
                    partner: None,
                    mclt: cfg.mclt,
                },
                None,
            ),
        };
        Dhcpd {
            cfg,
            file,
            startup_since,
            conn: None,
            update_queue: VecDeque::new(),
            ack_queue: HashMap::new(),
            last_xid: HashMap::new(),
            toack: vec![],
            toack_due: None,
            send_update_done: None,
            updxid: 0,
            recover_done_at: None,
            balance_at: now,
            offers: HashMap::new(),
            out: vec![],
            close: None,
            faults: vec![],
            log: vec![],
            hazards: HashMap::new(),
            hazard_grants: vec![],
            dropped: vec![],
            connections: 0,
            sent_on: HashMap::new(),
            done_sent: 0,
            queued_at_done: Default::default(),
            partner_down_entered: None,
        }
    }

    /// The state dhcpd acts on (the saved one while in STARTUP).
    pub fn state(&self) -> IscState {
        self.file.state
    }

    /// Whether it is in STARTUP.
    pub fn starting(&self) -> bool {
        self.startup_since.is_some()
    }

    /// The standing `lease_mine_to_reallocate` judges by at `now`.
    fn standing(&self, now: u32) -> Standing {
        Standing {
            primary: self.cfg.primary,
            partner_down_since: (self.state() == IscState::PartnerDown).then_some(self.file.stos),
            mclt: self.file.mclt,
            now,
        }
    }

    /// `dhcp_failover_set_state`: records `to`, says it to the partner and
    /// does what entering it asks.
    fn set_state(&mut self, now: u32, to: IscState) {
        use IscState::*;
        if matches!(self.state(), Normal | PotentialConflict | PartnerDown) {
            self.rescind();
        }
        // Leaving STARTUP keeps the saved state's time (failover.c 1826).
        if to != RecoverWait && !self.starting() {
            self.file.stos = now;
        }
        self.log
            .push(format!("dhcpd moves from {:?} to {to:?}", self.state()));
        self.file.state = to;
        self.startup_since = None;
        self.send_state(now);
        match to {
            Normal => {
                self.pool_balance(now);
                self.generate_update_queue(false);
                self.send_updates(now);
            }
            PotentialConflict if self.cfg.primary || self.file.partner == Some(ConflictDone) => {
                self.send_message(now, crate::failover::isc::IscMessage::UpdReq);
            }
            RecoverWait => self.recover_wait(now),
            Recover if self.link_up() => {
                self.send_message(now, crate::failover::isc::IscMessage::UpdReqAll);
            }
            PartnerDown => {
                self.partner_down_entered = Some(now);
                // Every ended binding may go MCLT from now (failover.c
                // 1990-2003), even one whose acknowledged potential expiry
                // (`atsfp`, left as it was) is later (`serve`).
                let at = self.file.stos + self.file.mclt;
                for l in self.file.leases.values_mut() {
                    if matches!(l.status, 3 | 4 | 6) {
                        l.tsfp = at;
                    }
                }
            }
            Shutdown => self.faults.push("dhcpd shut down".into()),
            _ => {}
        }
    }

    fn recover_wait(&mut self, now: u32) {
        let at = self.file.stos + self.file.mclt;
        if at > now {
            self.recover_done_at = Some(at);
        } else {
            self.set_state(now, IscState::RecoverDone);
        }
    }

    /// The "disconnect" transition (failover.c 1536-1590): the link is
    /// gone.
    pub fn disconnected(&mut self, now: u32, why: &str) {
        use IscState::*;
        if self.conn.take().is_none() {
            return;
        }
        self.log.push(format!("dhcpd: peer disconnected: {why}"));
        self.toack.clear();
        self.toack_due = None;
        match self.state() {
            ConflictDone => self.rescind(),
            PotentialConflict => self.set_state(now, ResolutionInterrupted),
            Normal => self.set_state(now, CommunicationsInterrupted),
            _ => {}
        }
        if self.startup_since.is_some() {
            self.startup_since = None;
        }
    }

    /// The operator's partner-down (omshell `local-state = 4`).
    pub fn partner_down(&mut self, now: u32) {
        if self.state() != IscState::PartnerDown {
            self.set_state(now, IscState::PartnerDown);
        }
    }

    /// Time passed: link timers, acks due, RECOVER-WAIT's end, STARTUP's
    /// end, expiries and the pool balance.
    pub fn tick(&mut self, now: u32) {
        self.link_tick(now);
        if self.toack_due.is_some_and(|t| t <= now) {
            self.send_acks(now);
        }
        if self.recover_done_at.is_some_and(|t| t <= now) {
            self.recover_done_at = None;
            if self.state() == IscState::RecoverWait {
                self.set_state(now, IscState::RecoverDone);
            }
        }
        if self.startup_since.is_some_and(|t| t + 15 <= now) {
            self.startup_since = None;
            let saved = self.state();
            self.log.push("dhcpd: startup timed out".into());
            // The disconnect transition from the saved state.
            match saved {
                IscState::Normal => self.set_state(now, IscState::CommunicationsInterrupted),
                IscState::PotentialConflict => self.set_state(now, IscState::ResolutionInterrupted),
                s => self.set_state(now, s),
            }
        }
        self.expire(now);
        if self.state() == IscState::Normal && now >= self.balance_at {
            self.pool_balance(now);
        }
    }
}
