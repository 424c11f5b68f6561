//! One side of the pair as a sans-IO state machine. The server feeds it
//! events (link up or down, a message, a tick, local changes made durable,
//! the operator's partner-down) with the lease store and the time; it
//! updates the store and queues `Action`s: messages to send, records to
//! commit before an acknowledgement goes out, and links to close.

use super::PairPolicy;
use super::clock::{ClockOffset, OffsetBounds};
use super::message::{Connect, ConnectAck, Message, PROTOCOL_VERSION, WireState};
use super::state::State;
use crate::config::PoolId;
use crate::lease::{Lease, LeaseStore};
use crate::time::{Mono, Time};
use std::collections::{BTreeMap, HashMap, VecDeque};

pub use config::{ISC_EPOCH, PeerConfig, is_isc_epoch};
pub use persisted::Persisted;
pub use status::{EvidenceGauges, PeerGauges};
use std::net::Ipv4Addr;

/// Records per binding-update frame; well under the 64 KiB frame limit.
const BATCH: usize = 64;

/// Encoded octets per binding-update frame beyond which a batch closes
/// early (`Lease::wire_octets`): 64 records with every text field at its
/// longest would not fit the 64 KiB frame limit.
const BATCH_OCTETS: usize = 48 * 1024;
/// How long STARTUP waits for the partner before resuming on its own.
const STARTUP_WAIT: u64 = 5;
/// Longest interval between heartbeats to the journal, seconds
/// (`Persisted::alive_at`; a quarter of MCLT when that is shorter).
const ALIVE_EVERY: u64 = 60;
/// How often NORMAL checks whether free addresses need rebalancing.
const REBALANCE_EVERY: u64 = 5;

/// What the peer asks of its driver (`crate::node`), in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send this message on the current connection.
    Send(Message),
    /// Journal `leases` and `meta` together; once durable, send `then`, and
    /// if `replicate`, hand the leases back through `local_committed`.
    Commit {
        /// Records to store.
        leases: Vec<Lease>,
        /// Meta rows to store in the same batch (state, sequence marks).
        meta: Vec<(String, String)>,
        /// Messages (binding acknowledgements) that wait for the batch.
        then: Vec<Message>,
        /// The leases are local changes to replicate once durable.
        replicate: bool,
    },
    /// Once every commit asked for so far is durable, call
    /// [`Peer::announce`]: our state goes to the partner only behind every
    /// change made before it (a partner leaving RECOVER must have all our
    /// PARTNER-DOWN grants before it hears we are back to NORMAL). Carries
    /// the state entered and when, which is what goes out (a later state
    /// has its own announcement, behind its own commits).
    Announce {
        /// The state entered.
        state: State,
        /// When it was entered (local time, seconds).
        since: Time,
    },
    /// Close the link with this reason (logged by the edge).
    Close(String),
    /// The partner's runtime reservations arrived (checked): the node keeps
    /// each entry that supersedes its own (`config::runtime`).
    Reservations(Vec<crate::config::runtime::RuntimeEntry>),
}

#[derive(Clone, Debug)]
struct Link {
    last_rx: Time,
    last_keepalive: Time,
}

#[derive(Clone, Debug)]
struct Partner {
    name: String,
    state: State,
    /// The peer protocol version the pair speaks (`message::agree`).
    version: u16,
    epoch: u64,
    /// Its database holds every binding of the pair (`Connect::covers`).
    covers: bool,
    /// How many binding updates it takes unacknowledged, where its
    /// protocol says (`Connect::max_unacked`): an ISC dhcpd's.
    max_unacked: Option<usize>,
    /// Offset of the partner's clock from ours (partner − us).
    clock: ClockOffset,
}

/// A record in a binding-update batch awaiting its acknowledgement.
#[derive(Clone, Debug)]
struct Sent {
    addr: Ipv4Addr,
    seq: u64,
    pe: Time,
    client: Option<crate::proto::ClientKey>,
    /// The record ends its binding (expired or released).
    ended: bool,
}

#[derive(Clone, Debug)]
enum Out {
    Lease(Lease),
    Done,
    /// A state we entered (and when), sent once everything queued before
    /// it has been.
    State(State, Time),
}

#[derive(Clone, Debug, Default)]
struct Sync {
    /// We answered the partner's update request; live changes may flow.
    answered: bool,
    /// Our request was a full one (the partner's database is new to us).
    full: bool,
    got_done: bool,
    sent_done: bool,
    /// The partner's update request, held until every change made before
    /// it is durable.
    deferred: Option<Deferred>,
}

/// The failover peer state machine (draft-ietf-dhc-failover-12, DESIGN.md
/// section 3), sans-IO: fed link events, partner messages, ticks and local
/// commits with the time; asks for sends and commits through
/// [`poll_action`](Peer::poll_action); tells the DHCP engine what it may do
/// through [`policy`](Peer::policy).
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
    /// The partner knew an older database of ours, or we know we lost it.
    amnesia: bool,
    /// Our database vanished since `tandem init` (`lease::relearn`).
    lost: bool,
    last_contact: Option<Time>,
    /// This process has heard the partner's state (other than STARTUP) at
    /// least once. Until then the partner may have entered PARTNER-DOWN
    /// while we were down.
    heard: bool,
    /// `maintenance stop` was asked: leave SHUTDOWN once the partner is
    /// reached on a fresh connection (see `Peer::maintenance_stop`).
    leaving_shutdown: bool,
    /// PARTNER-DOWN was entered by this process (the operator's command or
    /// `auto_partner_down`), not resumed from the saved state: the partner's
    /// downness was judged after our own restart.
    declared: bool,
    out: VecDeque<Out>,
    /// Per batch in flight: address, sequence, potential expiry and client of each record sent.
    inflight: BTreeMap<u64, Vec<Sent>>,
    /// Control messages the partner may still send (see `CHATTER_BURST`),
    /// as of `chatter_at`.
    chatter: u32,
    chatter_at: Time,
    /// Since when we have waited for an acknowledgement with updates in
    /// flight (reset by each one that arrives).
    ack_wait_since: Option<Time>,
    /// Addresses whose binding the two peers dispute on this connection
    /// (`sync::Dispute`).
    disputes: HashMap<Ipv4Addr, sync::Dispute>,
    next_batch: u64,
    sync: Sync,
    actions: VecDeque<Action>,
    alarm: Option<String>,
    /// The partner's pair fingerprint as it last told us (CONNECT, then
    /// `PairConfig`), while connected (`pair_config`).
    partner_fingerprint: Option<String>,
    next_rebalance: Time,
    pool_request_until: HashMap<PoolId, Time>,
    /// The commits asked for and those reported durable, and the
    /// partner's records still being committed (`received`).
    commits: received::Commits,
    /// The node's runtime reservations, in frames, sent to the partner at
    /// connect (`Peer::set_reservations`).
    reservations: Vec<Vec<crate::config::runtime::RuntimeEntry>>,
    /// Client evidence that the silent partner is down (`evidence`).
    evidence: super::evidence::Evidence,
    /// What the witness last said of the partner (`witness`).
    witness: witness::WitnessView,
    /// The latest automatic partner-down, when and why (for `status`).
    decided: Option<(Time, String)>,
    /// The latest time any input carried (`Peer::wake`).
    last_event: Time,
    /// The monotonic time of the latest input, once there was one: stalls
    /// are measured on it, so a wall-clock step is not one.
    last_mono: Option<Mono>,
    /// Automatic partner-down decisions since this start.
    auto_decisions: u64,
    /// When this server was last known to run before this start (or
    /// before a stall): `Persisted::alive_at` as the journal had it.
    prior_alive: Option<Time>,
    /// PARTNER-DOWN declared without word from the partner, so long after
    /// `prior_alive` that the partner may have given our free addresses
    /// out in its own PARTNER-DOWN (`PairPolicy::own_at_risk`).
    own_at_risk: bool,
}

impl Peer {
    /// A peer starting in STARTUP at `now` (seconds) with the state saved in
    /// the journal (`p`) and this database's identity (`epoch`).
    pub fn new(cfg: PeerConfig, p: Persisted, epoch: u64, now: Time) -> Peer {
        let resume = p.state;
        let prior_alive = p.alive_at;
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
            lost: false,
            last_contact: None,
            heard: false,
            leaving_shutdown: false,
            declared: false,
            out: VecDeque::new(),
            inflight: BTreeMap::new(),
            ack_wait_since: None,
            disputes: HashMap::new(),
            chatter: 0,
            chatter_at: now,
            next_batch: 1,
            sync: Sync::default(),
            actions: VecDeque::new(),
            alarm: None,
            partner_fingerprint: None,
            next_rebalance: now,
            pool_request_until: HashMap::new(),
            reservations: Vec::new(),
            commits: Default::default(),
            evidence: Default::default(),
            witness: Default::default(),
            decided: None,
            last_event: now,
            last_mono: None,
            auto_decisions: 0,
            prior_alive,
            own_at_risk: false,
        }
    }

    /// This start found its database missing after `tandem init`: it must
    /// recover from the partner as after a wipe the partner noticed, and
    /// count every lease it may have granted (`lease::relearn`).
    pub fn set_lost_database(&mut self) {
        self.lost = true;
    }

    /// This server's failover state.
    pub fn state(&self) -> State {
        self.state
    }

    /// When this server entered its current state (local time, seconds).
    pub fn since(&self) -> Time {
        self.since
    }

    /// The partner's state as last heard, `None` while not connected.
    pub fn partner_state(&self) -> Option<State> {
        self.partner.as_ref().map(|p| p.state)
    }

    /// Since this start we have neither heard the partner's state nor
    /// judged it down: it may have been declared down itself while we were
    /// away, and be serving alone (seeds 982 and 21256616).
    pub(super) fn partner_unknown(&self) -> bool {
        !self.heard && !self.declared
    }

    /// Serving blind: renewals of known leases only, within MCLT of what
    /// the partner acknowledged (`PairPolicy::blind`).
    pub fn blind(&self) -> bool {
        self.policy().blind()
    }

    /// What the DHCP engine may do now: serve which clients, allocate from
    /// which addresses, grant how long (the MCLT cap).
    pub fn policy(&self) -> PairPolicy {
        PairPolicy {
            me: self.cfg.me(),
            state: self.state,
            split: self.cfg.split,
            load_balance_max_secs: self.cfg.load_balance_max_secs,
            mclt: self.cfg.mclt,
            partner_down_since: self.p.partner_down_since,
            guard: self.p.guard,
            partner_unknown: self.partner_unknown(),
            own_at_risk: self.own_at_risk && !self.heard,
        }
    }

    /// The commits before an [`Action::Announce`] are durable: queue the
    /// `state` it carried (entered at `since`) behind the records they
    /// released.
    pub fn announce(&mut self, now: Time, state: State, since: Time) {
        // On a link whose partner has not introduced itself yet, the
        // announcement waits in the queue: our CONNECT may have carried the
        // state from before this change.
        if self.link.is_some() {
            // Only the latest state is news; it goes behind every record
            // queued so far, as the one it replaces would have.
            self.out.retain(|o| !matches!(o, Out::State(..)));
            self.out.push_back(Out::State(state, since));
            self.pump(now);
        }
    }

    /// The next thing the driver must do, in order.
    /// Each [`Action::Commit`] polled must be reported durable, in order,
    /// with [`Peer::commit_durable`].
    pub fn poll_action(&mut self) -> Option<Action> {
        let a = self.actions.pop_front();
        if matches!(a, Some(Action::Commit { .. })) {
            self.commits.issued += 1;
        }
        a
    }

    /// The state that goes to the journal's meta table.
    pub fn persisted(&self) -> &Persisted {
        &self.p
    }

    fn send(&mut self, now: Time, m: Message) {
        if self.link.is_some() {
            self.witness.sent_to_partner(now);
            self.actions.push_back(Action::Send(m));
        }
    }

    /// The partner's clock offset as the times it sends are converted by.
    /// A dhcpd reports no bound on ours (ISC has no such keepalive field),
    /// so `high` would be our own lower bound, which frames delayed by a
    /// cut (TCP holds them) pull down: its potential expiries, taken at
    /// that offset, came out as late as the delay, and we granted past
    /// MCLT beyond what dhcpd stored (the simulator's isc family, seed
    /// 1017786 at 24 clients: a 13-s cut). ISC takes every time as sent
    /// (research/isc-failover-wire.md 2.4): beside it `high` is at least
    /// 0, so a potential expiry is never taken later than dhcpd stamped
    /// it; `low` moves down as far, so the middle, which transaction times
    /// are converted by and disputes compare, stays where it was (review:
    /// raised alone, dhcpd's renewals came out earlier than ours), and
    /// ends are taken later, on their safe side too.
    fn offset(&self) -> OffsetBounds {
        let Some(p) = self.partner.as_ref() else {
            return OffsetBounds::exact(0);
        };
        let mut b = p.clock.bounds();
        if self.cfg.isc_partner && b.high < 0 {
            b.low = b.low.saturating_add(b.high);
            b.high = 0;
        }
        b
    }

    fn connected(&self) -> bool {
        self.link.is_some() && self.partner.is_some()
    }
}

mod acks;
mod beside_isc;
mod config;
mod dispatch;
mod evidence;
mod link;
mod operator;
mod pair_config;
mod persisted;
mod pools;
mod received;
mod requests;
mod reservations;
use requests::{Deferred, UpdateRequest};
mod status;
mod sync;
mod transitions;
mod witness;

#[cfg(test)]
mod tests;
