//! One side of the pair as a sans-IO state machine. The server feeds it
//! events (link up or down, a message, a tick, local changes made durable,
//! the operator's partner-down) with the lease store and the time; it
//! updates the store and queues `Action`s: messages to send, records to
//! commit before an acknowledgement goes out, and links to close.

use super::PairPolicy;
use super::message::{
    Connect, ConnectAck, Message, PROTOCOL_VERSION, Reject, WireLease, WireState,
};
use super::reconcile::{Resolution, resolve};
use super::state::State;
use crate::config::PoolId;
use crate::lease::{Lease, LeaseStore, Owner};
use crate::time::Time;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::Ipv4Addr;

/// Records per binding-update frame; well under the 64 KiB frame limit.
const BATCH: usize = 64;
/// How long STARTUP waits for the partner before resuming on its own.
const STARTUP_WAIT: u64 = 5;
/// How often NORMAL checks whether free addresses need rebalancing.
const REBALANCE_EVERY: u64 = 5;

#[derive(Clone, Debug)]
pub struct PeerConfig {
    pub name: String,
    pub primary: bool,
    pub mclt: u64,
    pub max_response_delay: u64,
    pub auto_partner_down: Option<u64>,
    pub max_unacked: usize,
    pub max_clock_offset: u64,
    pub fingerprint: String,
    pub split: u16,
    pub load_balance_max_secs: u16,
    pub pools: Vec<PoolId>,
    /// Networks served: a record for an address outside them is refused.
    pub subnets: Vec<crate::config::Cidr>,
}

impl PeerConfig {
    /// The peer settings of a validated config with a `[failover]` section.
    pub fn from_config(c: &crate::config::Config) -> Option<PeerConfig> {
        let f = c.failover.as_ref()?;
        Some(PeerConfig {
            name: c.server.name.clone(),
            primary: f.role == crate::config::Role::Primary,
            mclt: f.mclt,
            max_response_delay: f.max_response_delay,
            auto_partner_down: f.auto_partner_down,
            max_unacked: f.max_unacked_updates,
            max_clock_offset: f.max_clock_offset,
            fingerprint: c.fingerprint(),
            split: f.split,
            load_balance_max_secs: f.load_balance_max_secs,
            pools: c.pools.iter().map(|p| p.id).collect(),
            subnets: c.subnets.iter().map(|s| s.cidr).collect(),
        })
    }

    pub fn me(&self) -> Owner {
        if self.primary {
            Owner::Primary
        } else {
            Owner::Secondary
        }
    }

    fn partner(&self) -> Owner {
        if self.primary {
            Owner::Secondary
        } else {
            Owner::Primary
        }
    }
}

/// What a peer keeps across restarts, in the database's meta table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Persisted {
    pub state: Option<State>,
    pub state_since: Time,
    /// The partner database we are in step with (its epoch).
    pub partner_epoch: Option<u64>,
    /// Highest partner sequence number committed here.
    pub received_seq: u64,
    /// Highest local sequence number the partner has acknowledged.
    pub acked_seq: u64,
    pub partner_down_since: Option<Time>,
    pub recover_until: Option<Time>,
    /// The last PARTNER-DOWN episode (entered, left): bindings last changed
    /// before it ended keep the MCLT reuse rule, because acknowledgements
    /// from a partner that lost its database prove nothing.
    pub guard: Option<(Time, Time)>,
}

impl Persisted {
    pub fn to_meta(&self) -> Vec<(String, String)> {
        let opt = |v: Option<u64>| v.map_or_else(String::new, |x| x.to_string());
        vec![
            (
                "fo_state".into(),
                self.state.map_or("", |s| s.as_str()).into(),
            ),
            ("fo_state_since".into(), self.state_since.0.to_string()),
            ("fo_partner_epoch".into(), opt(self.partner_epoch)),
            ("fo_received_seq".into(), self.received_seq.to_string()),
            ("fo_acked_seq".into(), self.acked_seq.to_string()),
            (
                "fo_partner_down_since".into(),
                opt(self.partner_down_since.map(|t| t.0)),
            ),
            (
                "fo_recover_until".into(),
                opt(self.recover_until.map(|t| t.0)),
            ),
            ("fo_guard_from".into(), opt(self.guard.map(|g| g.0.0))),
            ("fo_guard_until".into(), opt(self.guard.map(|g| g.1.0))),
        ]
    }

    pub fn from_meta(m: &HashMap<String, String>) -> Persisted {
        let num = |k: &str| m.get(k).and_then(|v| v.parse::<u64>().ok());
        Persisted {
            state: m.get("fo_state").and_then(|s| State::parse(s)),
            state_since: Time(num("fo_state_since").unwrap_or(0)),
            partner_epoch: num("fo_partner_epoch"),
            received_seq: num("fo_received_seq").unwrap_or(0),
            acked_seq: num("fo_acked_seq").unwrap_or(0),
            partner_down_since: num("fo_partner_down_since").map(Time),
            recover_until: num("fo_recover_until").map(Time),
            guard: num("fo_guard_from")
                .zip(num("fo_guard_until"))
                .map(|(a, b)| (Time(a), Time(b))),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Send(Message),
    /// Journal `leases` and `meta` together; once durable, send `then`, and
    /// if `replicate`, hand the leases back through `local_committed`.
    Commit {
        leases: Vec<Lease>,
        meta: Vec<(String, String)>,
        then: Vec<Message>,
        replicate: bool,
    },
    /// Close the link with this reason (logged by the edge).
    Close(String),
}

#[derive(Clone, Debug)]
struct Link {
    last_rx: Time,
    last_tx: Time,
}

#[derive(Clone, Debug)]
struct Partner {
    name: String,
    state: State,
    epoch: u64,
    /// Offset of the partner's clock from ours, seconds (partner − us).
    offset: i64,
}

/// A record in a binding-update batch awaiting its acknowledgement.
#[derive(Clone, Debug)]
struct Sent {
    addr: Ipv4Addr,
    seq: u64,
    pe: Time,
    client: Option<crate::proto::ClientKey>,
}

#[derive(Clone, Debug)]
enum Out {
    Lease(Lease),
    Done,
}

#[derive(Clone, Debug, Default)]
struct Sync {
    /// We answered the partner's update request; live changes may flow.
    answered: bool,
    /// Our request was a full one (the partner's database is new to us).
    full: bool,
    got_done: bool,
    sent_done: bool,
}

pub struct Peer {
    cfg: PeerConfig,
    epoch: u64,
    state: State,
    since: Time,
    p: Persisted,
    /// The state saved before this start, resolved when STARTUP ends.
    resume: Option<State>,
    link: Option<Link>,
    partner: Option<Partner>,
    /// The partner knew an older database of ours: we lost ours.
    amnesia: bool,
    last_contact: Option<Time>,
    out: VecDeque<Out>,
    /// Per batch in flight: address, sequence, potential expiry and client of each record sent.
    inflight: BTreeMap<u64, Vec<Sent>>,
    next_batch: u64,
    sync: Sync,
    actions: VecDeque<Action>,
    alarm: Option<String>,
    next_rebalance: Time,
    pool_request_until: HashMap<PoolId, Time>,
}

impl Peer {
    pub fn new(cfg: PeerConfig, p: Persisted, epoch: u64, now: Time) -> Peer {
        let resume = p.state;
        Peer {
            cfg,
            epoch,
            state: State::Startup,
            since: now,
            p,
            resume,
            link: None,
            partner: None,
            amnesia: false,
            last_contact: None,
            out: VecDeque::new(),
            inflight: BTreeMap::new(),
            next_batch: 1,
            sync: Sync::default(),
            actions: VecDeque::new(),
            alarm: None,
            next_rebalance: now,
            pool_request_until: HashMap::new(),
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn partner_state(&self) -> Option<State> {
        self.partner.as_ref().map(|p| p.state)
    }

    pub fn policy(&self) -> PairPolicy {
        PairPolicy {
            me: self.cfg.me(),
            state: self.state,
            split: self.cfg.split,
            load_balance_max_secs: self.cfg.load_balance_max_secs,
            mclt: self.cfg.mclt,
            partner_down_since: self.p.partner_down_since,
            guard: self.p.guard,
        }
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    pub fn persisted(&self) -> &Persisted {
        &self.p
    }

    fn send(&mut self, now: Time, m: Message) {
        if let Some(l) = &mut self.link {
            l.last_tx = now;
            self.actions.push_back(Action::Send(m));
        }
    }

    fn offset(&self) -> i64 {
        self.partner.as_ref().map_or(0, |p| p.offset)
    }

    fn connected(&self) -> bool {
        self.link.is_some() && self.partner.is_some()
    }

    /// The transport is up and authenticated: introduce ourselves.
    pub fn link_up(&mut self, now: Time) {
        self.link = Some(Link {
            last_rx: now,
            last_tx: now,
        });
        self.partner = None;
        self.out.clear();
        self.inflight.clear();
        self.sync = Sync::default();
        let c = Connect {
            version: PROTOCOL_VERSION,
            name: self.cfg.name.clone(),
            primary: self.cfg.primary,
            time: now.0,
            fingerprint: self.cfg.fingerprint.clone(),
            epoch: self.epoch,
            seen_epoch: self.p.partner_epoch,
            state: self.state.into(),
            mclt: self.cfg.mclt,
        };
        self.send(now, Message::Connect(c));
    }

    pub fn link_down(&mut self, now: Time) {
        if self.link.take().is_some() {
            tracing::warn!(state = %self.state, "peer link down");
        }
        self.partner = None;
        self.out.clear();
        self.inflight.clear();
        self.sync = Sync::default();
        self.evaluate(now);
    }

    fn close(&mut self, now: Time, why: String) {
        tracing::warn!(reason = %why, "closing peer link");
        self.actions.push_back(Action::Close(why));
        self.link_down(now);
    }

    /// Local changes are durable: replicate them.
    pub fn local_committed(&mut self, now: Time, leases: &[Lease], store: &mut LeaseStore) {
        if let Some(top) = leases.iter().map(|l| l.update_seq).max() {
            store.mark_durable(top);
        }
        if self.connected() && self.sync.answered {
            self.out.extend(
                leases
                    .iter()
                    .filter(|l| l.update_seq > 0)
                    .cloned()
                    .map(Out::Lease),
            );
            self.pump(now, store);
        }
    }

    pub fn operator_partner_down(&mut self, now: Time) -> Result<(), String> {
        if self.connected() {
            return Err(
                "the partner is connected; partner-down is only for a partner that is down".into(),
            );
        }
        match self.state {
            State::PartnerDown => Ok(()),
            State::Recover | State::RecoverWait => {
                Err("this server is recovering its database; it cannot serve alone until the partner helps it".into())
            }
            _ => {
                tracing::warn!(from = %self.state, "operator declared the partner down");
                self.enter(now, State::PartnerDown);
                Ok(())
            }
        }
    }

    pub fn receive(&mut self, now: Time, msg: Message, store: &mut LeaseStore) {
        let Some(link) = &mut self.link else { return };
        link.last_rx = now;
        self.last_contact = Some(now);
        if self.partner.is_none()
            && !matches!(msg, Message::Connect(_) | Message::Disconnect { .. })
        {
            return self.close(now, format!("{} before connect", msg.name()));
        }
        match msg {
            Message::Connect(c) => self.on_connect(now, c),
            Message::ConnectAck(ConnectAck { time }) => {
                tracing::debug!(partner_time = time, "connect acknowledged");
            }
            Message::State { state, .. } => match state.state() {
                Some(s) => {
                    if let Some(p) = &mut self.partner {
                        if p.state != s {
                            tracing::info!(partner = %s, "partner state");
                        }
                        p.state = s;
                    }
                    self.evaluate(now);
                }
                None => self.close(now, format!("unknown partner state {}", state.0)),
            },
            Message::Contact { time } => self.observe_clock(now, time),
            Message::BindingUpdate {
                batch,
                time,
                leases,
            } => {
                self.observe_clock(now, time);
                self.on_update(now, batch, leases, store)
            }
            Message::BindingAck { batch, rejects } => self.on_ack(now, batch, rejects, store),
            Message::UpdateRequest { since } => {
                let changes = store.changes_since(since);
                tracing::info!(since, records = changes.len(), "partner asked for updates");
                self.answer(now, changes, store);
            }
            Message::UpdateRequestAll => {
                let mut all: Vec<Lease> = store
                    .iter()
                    .filter(|l| store.is_durable(l))
                    .cloned()
                    .collect();
                all.sort_by_key(|l| (l.update_seq, l.addr));
                tracing::info!(records = all.len(), "partner asked for every binding");
                self.answer(now, all, store);
            }
            Message::UpdateDone => {
                self.sync.got_done = true;
                if self.sync.full {
                    self.p.partner_epoch = self.partner.as_ref().map(|p| p.epoch);
                }
                tracing::info!(full = self.sync.full, "partner finished sending updates");
                self.persist(now);
                self.evaluate(now);
            }
            Message::PoolRequest { pool, wanted } => {
                self.on_pool_request(now, PoolId(pool), wanted, store)
            }
            Message::PoolResponse { pool, given } => {
                tracing::info!(pool, given, "partner gave free addresses");
                self.pool_request_until.remove(&PoolId(pool));
            }
            Message::Disconnect { reason } => {
                self.close(now, format!("partner disconnected: {reason}"))
            }
        }
    }

    fn on_connect(&mut self, now: Time, c: Connect) {
        if c.version != PROTOCOL_VERSION {
            return self.refuse(
                now,
                format!(
                    "partner speaks protocol {}, we speak {PROTOCOL_VERSION}",
                    c.version
                ),
            );
        }
        if c.primary == self.cfg.primary {
            return self.refuse(now, "both peers are configured with the same role".into());
        }
        if c.fingerprint != self.cfg.fingerprint {
            return self.refuse(now, "pool configuration differs between the peers (fingerprint mismatch); fix the configs so subnets, pools, reservations, split and mclt match".into());
        }
        let Some(state) = c.state.state() else {
            return self.refuse(now, format!("unknown partner state {}", c.state.0));
        };
        let offset = c.time as i64 - now.0 as i64;
        self.alarm = (offset.unsigned_abs() > self.cfg.max_clock_offset)
            .then(|| format!("partner clock is {offset:+} s from ours; times on the wire are corrected, but fix NTP"));
        if let Some(a) = &self.alarm {
            tracing::warn!("{a}");
        }
        self.amnesia = c.seen_epoch.is_some_and(|e| e != self.epoch);
        tracing::info!(partner = %c.name, partner_state = %state, offset, amnesia = self.amnesia, "peer connected");
        self.partner = Some(Partner {
            name: c.name,
            state,
            epoch: c.epoch,
            offset,
        });
        self.send(now, Message::ConnectAck(ConnectAck { time: now.0 }));
        let known = self.p.partner_epoch == Some(c.epoch);
        self.sync.full = !known;
        if known {
            self.send(
                now,
                Message::UpdateRequest {
                    since: self.p.received_seq,
                },
            );
        } else {
            self.p.received_seq = 0;
            self.send(now, Message::UpdateRequestAll);
        }
        self.evaluate(now);
    }

    /// Re-measures the partner's clock offset from a timestamped message, so
    /// a clock step after connect does not skew the lease times we convert.
    fn observe_clock(&mut self, now: Time, their: u64) {
        let Some(p) = &mut self.partner else { return };
        let offset = their as i64 - now.0 as i64;
        if (offset - p.offset).abs() > 1 {
            tracing::warn!(old = p.offset, new = offset, "partner clock offset changed");
            p.offset = offset;
            self.alarm = (offset.unsigned_abs() > self.cfg.max_clock_offset)
                .then(|| format!("partner clock is {offset:+} s from ours; times on the wire are corrected, but fix NTP"));
        }
    }

    fn refuse(&mut self, now: Time, why: String) {
        tracing::error!("{why}");
        self.alarm = Some(why.clone());
        self.send(
            now,
            Message::Disconnect {
                reason: why.clone(),
            },
        );
        self.close(now, why);
    }

    fn answer(&mut self, now: Time, records: Vec<Lease>, store: &mut LeaseStore) {
        self.out.clear();
        self.out.extend(records.into_iter().map(Out::Lease));
        self.out.push_back(Out::Done);
        self.sync.answered = true;
        self.pump(now, store);
    }

    fn on_update(&mut self, now: Time, batch: u64, leases: Vec<WireLease>, store: &mut LeaseStore) {
        let offset = self.offset();
        let sender_primary = !self.cfg.primary;
        let mut accepted = Vec::new();
        let mut rejects = Vec::new();
        let mut resend = Vec::new();
        for w in leases {
            let rec = match w.to_lease(offset) {
                Ok(r) => r,
                Err(e) => {
                    rejects.push(Reject {
                        addr: w.addr,
                        reason: format!("invalid record: {e}"),
                    });
                    continue;
                }
            };
            if !self.cfg.subnets.iter().any(|c| c.contains(rec.addr)) {
                rejects.push(Reject {
                    addr: w.addr,
                    reason: "address is in no subnet here".into(),
                });
                continue;
            }
            self.p.received_seq = self.p.received_seq.max(w.seq);
            match resolve(store.get(rec.addr), &rec, now, sender_primary) {
                Resolution::Accept(r) => {
                    store.put(r.clone());
                    accepted.push(r);
                }
                Resolution::Reject(why) => {
                    tracing::info!(addr = %rec.addr, reason = why, "partner's update refused; sending ours back");
                    rejects.push(Reject {
                        addr: w.addr,
                        reason: why.into(),
                    });
                    if let Some(l) = store.get(rec.addr) {
                        resend.push(l.clone());
                    }
                }
            }
        }
        let meta = self.p.to_meta();
        self.actions.push_back(Action::Commit {
            leases: accepted,
            meta,
            then: vec![Message::BindingAck { batch, rejects }],
            replicate: false,
        });
        if self.sync.answered {
            self.out.extend(resend.into_iter().map(Out::Lease));
        }
        self.pump(now, store);
    }

    fn on_ack(&mut self, now: Time, batch: u64, rejects: Vec<Reject>, store: &mut LeaseStore) {
        let Some(sent) = self.inflight.remove(&batch) else {
            // An acknowledgement committed while an earlier connection was
            // up and sent on this one: harmless, and its updates are resent.
            tracing::debug!(
                batch,
                "acknowledgement of a batch from an earlier connection"
            );
            return;
        };
        let mut changed = Vec::new();
        let mut top = 0;
        for Sent {
            addr,
            seq,
            pe,
            client,
        } in sent
        {
            top = top.max(seq);
            if rejects.iter().any(|r| r.addr == u32::from(addr)) {
                continue;
            }
            // The partner acknowledged that binding; if the address has since
            // passed to another client, its acknowledgement says nothing here.
            if store.get(addr).is_some_and(|l| l.client() == client)
                && let Some(l) = store.set_acked_potential_expiry(addr, pe)
            {
                changed.push(l);
            }
        }
        // A refused record is not known to the partner: renumber it so it
        // stays unacknowledged (not reusable) until the partner's winning
        // version arrives and replaces it, and is offered again meanwhile.
        let mut disputed = Vec::new();
        for r in &rejects {
            let addr = Ipv4Addr::from(r.addr);
            tracing::info!(%addr, reason = %r.reason, "partner refused our update");
            if let Some(l) = store.get(addr).filter(|l| l.update_seq > 0).cloned() {
                disputed.push(store.upsert(l));
            }
        }
        if self
            .inflight
            .keys()
            .next()
            .is_none_or(|first| *first > batch)
            && top > 0
        {
            store.ack_upto(top);
            self.p.acked_seq = store.acked_seq();
        }
        if !changed.is_empty() || top > 0 {
            self.actions.push_back(Action::Commit {
                leases: changed,
                meta: self.p.to_meta(),
                then: vec![],
                replicate: false,
            });
        }
        if !disputed.is_empty() {
            self.actions.push_back(Action::Commit {
                leases: disputed,
                meta: vec![],
                then: vec![],
                replicate: true,
            });
        }
        self.pump(now, store);
        self.evaluate(now);
    }

    fn on_pool_request(&mut self, now: Time, pool: PoolId, wanted: u32, store: &mut LeaseStore) {
        let me = self.cfg.me();
        let to = self.cfg.partner();
        let mut given = 0u32;
        if self.state == State::Normal {
            let mine = store.free_count(pool, me) as u64;
            let theirs = store.free_count(pool, to) as u64;
            let my_share = if self.cfg.primary {
                u64::from(self.cfg.split)
            } else {
                256 - u64::from(self.cfg.split)
            };
            let target = (mine + theirs) * my_share / 256;
            let spare = mine.saturating_sub(target).min(u64::from(wanted)).min(1024);
            let addrs: Vec<Ipv4Addr> = store
                .free_addrs(pool, me)
                .filter(|a| {
                    store
                        .get(*a)
                        .is_none_or(|l| l.state == crate::lease::LeaseState::Free)
                })
                .take(spare as usize)
                .collect();
            let mut moved = Vec::new();
            for a in addrs {
                moved.push(store.upsert(Lease::free(a, to)));
            }
            given = moved.len() as u32;
            if given > 0 {
                tracing::info!(pool = pool.0, given, "giving free addresses to the partner");
                self.actions.push_back(Action::Commit {
                    leases: moved,
                    meta: vec![],
                    then: vec![],
                    replicate: true,
                });
            }
        }
        self.send(
            now,
            Message::PoolResponse {
                pool: pool.0,
                given,
            },
        );
    }

    /// Sends queued records while the partner's acknowledgements keep up.
    fn pump(&mut self, now: Time, _store: &mut LeaseStore) {
        if !self.connected() {
            return;
        }
        while self.inflight.len() < self.cfg.max_unacked.div_ceil(BATCH).max(1) {
            match self.out.front() {
                None => break,
                Some(Out::Done) => {
                    if !self.inflight.is_empty() {
                        break;
                    }
                    self.out.pop_front();
                    self.sync.sent_done = true;
                    self.send(now, Message::UpdateDone);
                    self.evaluate(now);
                    continue;
                }
                Some(Out::Lease(_)) => {}
            }
            let mut wire = Vec::new();
            let mut sent = Vec::new();
            while wire.len() < BATCH {
                let Some(Out::Lease(l)) = self.out.front() else {
                    break;
                };
                // The version queued is one that is on disk; a newer one in
                // memory may not be yet, and follows when it is.
                let cur = l.clone();
                self.out.pop_front();
                sent.push(Sent {
                    addr: cur.addr,
                    seq: cur.update_seq,
                    pe: cur.potential_expiry,
                    client: cur.client(),
                });
                wire.push(WireLease::from_lease(&cur));
            }
            let batch = self.next_batch;
            self.next_batch += 1;
            self.inflight.insert(batch, sent);
            self.send(
                now,
                Message::BindingUpdate {
                    batch,
                    time: now.0,
                    leases: wire,
                },
            );
        }
    }

    pub fn tick(&mut self, now: Time, store: &mut LeaseStore) {
        if let Some(l) = &self.link {
            if now.0.saturating_sub(l.last_rx.0) > self.cfg.max_response_delay {
                let why = format!("no message from the partner for {} s", now.0 - l.last_rx.0);
                return self.close(now, why);
            }
            if now.0.saturating_sub(l.last_tx.0) >= (self.cfg.max_response_delay / 3).max(1) {
                self.send(now, Message::Contact { time: now.0 });
            }
        }
        if self.state == State::Normal && now >= self.next_rebalance {
            self.next_rebalance = now.plus(REBALANCE_EVERY);
            self.rebalance(now, store);
        }
        self.evaluate(now);
    }

    fn rebalance(&mut self, now: Time, store: &LeaseStore) {
        let me = self.cfg.me();
        let share = if self.cfg.primary {
            u64::from(self.cfg.split)
        } else {
            256 - u64::from(self.cfg.split)
        };
        for pool in self.cfg.pools.clone() {
            if self.pool_request_until.get(&pool).is_some_and(|t| now < *t) {
                continue;
            }
            let mine = store.free_count(pool, me) as u64;
            let theirs = store.free_count(pool, self.cfg.partner()) as u64;
            let target = (mine + theirs) * share / 256;
            if target > mine && target - mine > ((mine + theirs) / 32).max(2) {
                let wanted = (target - mine).min(u64::from(u32::MAX)) as u32;
                tracing::info!(
                    pool = pool.0,
                    mine,
                    theirs,
                    wanted,
                    "asking the partner for free addresses"
                );
                self.pool_request_until.insert(pool, now.plus(30));
                self.send(
                    now,
                    Message::PoolRequest {
                        pool: pool.0,
                        wanted,
                    },
                );
            }
        }
    }

    fn persist(&mut self, _now: Time) {
        self.p.state = Some(self.state);
        self.p.state_since = self.since;
        self.actions.push_back(Action::Commit {
            leases: vec![],
            meta: self.p.to_meta(),
            then: vec![],
            replicate: false,
        });
    }

    fn enter(&mut self, now: Time, s: State) {
        if s == self.state {
            return;
        }
        tracing::info!(from = %self.state, to = %s, "failover state change");
        match s {
            State::PartnerDown if self.p.partner_down_since.is_none() => {
                self.p.partner_down_since = Some(now)
            }
            State::Recover => {
                let wait = if self.amnesia { self.cfg.mclt } else { 0 };
                self.p.recover_until = Some(now.plus(wait));
            }
            State::Normal => {
                if let Some(pd) = self.p.partner_down_since {
                    self.p.guard = Some((pd, now));
                }
                self.p.partner_down_since = None;
                self.p.recover_until = None;
                self.next_rebalance = now.plus(1);
            }
            _ => {}
        }
        self.state = s;
        self.since = now;
        self.persist(now);
        self.send(
            now,
            Message::State {
                state: WireState::from(s),
                since: now.0,
            },
        );
    }

    fn synced(&self) -> bool {
        self.sync.got_done && self.sync.sent_done && self.out.is_empty() && self.inflight.is_empty()
    }

    /// The saved state, as this start resumes it.
    fn resumed(&self) -> State {
        match self.resume {
            None | Some(State::Startup) => State::Recover,
            Some(State::Normal | State::CommunicationsInterrupted | State::ConflictDone) => {
                State::CommunicationsInterrupted
            }
            Some(State::RecoverWait | State::RecoverDone) => State::Recover,
            Some(State::PotentialConflict) => State::PotentialConflict,
            Some(s) => s,
        }
    }

    /// Applies state transitions until none is due. The table has no cycle;
    /// the bound only guards against a future edit adding one.
    fn evaluate(&mut self, now: Time) {
        for _ in 0..State::ALL.len() {
            match self.next_state(now) {
                Some(s) if s != self.state => self.enter(now, s),
                _ => return,
            }
        }
        tracing::error!(state = %self.state, "failover state machine did not settle");
    }

    fn next_state(&self, now: Time) -> Option<State> {
        let connected = self.connected();
        let partner = self.partner.as_ref().map(|p| p.state);
        use State::*;

        match (self.state, partner) {
            (Startup, Some(ps)) if connected => {
                let r = self.resumed();
                if self.amnesia || (ps == PartnerDown && matches!(r, CommunicationsInterrupted)) {
                    Some(Recover)
                } else {
                    Some(r)
                }
            }
            (Startup, _) if now.0 >= self.since.0 + STARTUP_WAIT => Some(self.resumed()),
            (Startup, _) => None,
            (Normal, _) if !connected => Some(CommunicationsInterrupted),
            // A partner in CONFLICT-DONE is only waiting for us to reach NORMAL.
            (Normal, Some(PartnerDown | PotentialConflict)) => Some(PotentialConflict),
            (CommunicationsInterrupted, Some(PartnerDown | PotentialConflict | ConflictDone)) => {
                Some(PotentialConflict)
            }
            (Normal | CommunicationsInterrupted, Some(Recover | RecoverWait)) => Some(PartnerDown),
            (CommunicationsInterrupted, Some(Normal | CommunicationsInterrupted | RecoverDone)) => {
                Some(Normal)
            }
            (CommunicationsInterrupted, None) => self.cfg.auto_partner_down.and_then(|apd| {
                let quiet_since = self.last_contact.unwrap_or(self.since).max(self.since);
                (now.0 >= quiet_since.0 + apd).then_some(PartnerDown)
            }),
            (PartnerDown, Some(RecoverDone)) => Some(Normal),
            (
                PartnerDown,
                Some(
                    Normal
                    | CommunicationsInterrupted
                    | PartnerDown
                    | PotentialConflict
                    | ConflictDone,
                ),
            ) => Some(PotentialConflict),
            (PotentialConflict, Some(_)) if self.synced() => Some(ConflictDone),
            (ConflictDone, Some(ConflictDone | Normal)) => Some(Normal),
            (ConflictDone, None) => Some(CommunicationsInterrupted),
            (Recover, Some(_)) if self.synced() => {
                Some(if self.p.recover_until.is_some_and(|t| now < t) {
                    RecoverWait
                } else {
                    RecoverDone
                })
            }
            (RecoverWait, _) if self.p.recover_until.is_none_or(|t| now >= t) => Some(RecoverDone),
            (RecoverDone, Some(Normal | RecoverDone)) => Some(Normal),
            _ => None,
        }
    }

    /// The status fields of DESIGN.md section 4 (`status --json`).
    pub fn status(&self, now: Time, store: &LeaseStore) -> serde_json::Value {
        let pools: Vec<_> = self
            .cfg
            .pools
            .iter()
            .map(|p| {
                serde_json::json!({
                    "pool": p.0,
                    "free_primary": store.free_count(*p, Owner::Primary),
                    "free_secondary": store.free_count(*p, Owner::Secondary),
                })
            })
            .collect();
        serde_json::json!({
            "role": if self.cfg.primary { "primary" } else { "secondary" },
            "state": self.state.as_str(),
            "time_in_state": now.0.saturating_sub(self.since.0),
            "partner_state": self.partner.as_ref().map(|p| p.state.as_str()),
            "partner_name": self.partner.as_ref().map(|p| p.name.clone()),
            "connected": self.connected(),
            "last_contact": self.last_contact.map(|t| t.rfc3339()),
            "clock_offset_ms": self.partner.as_ref().map(|p| p.offset * 1000),
            "unacked_updates": store.unacked(),
            "partner_down_since": self.p.partner_down_since.map(|t| t.rfc3339()),
            "alarm": self.alarm,
            "pools": pools,
        })
    }
}

#[cfg(test)]
mod tests;
