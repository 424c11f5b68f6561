//! The sans-IO node (DESIGN.md 1, "One node, two drivers"): the DHCP
//! engine, the lease store, the optional failover peer and the ordering of
//! commits and replies, behind one interface in the quinn-proto shape:
//!
//! - [`Node::handle`] takes the time and an [`Input`] (a request, a peer
//!   frame or link event, a journal completion, a tick, a control command);
//! - [`Node::poll_output`] yields [`Output`]s in the order they must be
//!   carried out (journal batches, replies, peer frames, answers);
//! - [`Node::poll_timeout`] says when the next [`Input::Tick`] is due.
//!
//! The tokio server (`server`) and the simulator (`sim`) are its two
//! drivers: each carries outputs out with real or simulated sockets, disks
//! and clocks, so the simulator checks the code a campus runs. No rule of
//! durability or ordering lives outside this module.

mod boot;
mod commits;
mod control;
mod dns;
mod evidence;
mod io;
mod late;
mod metrics;
mod ping;
mod policy;
mod ratelimit;
mod reload;
mod reservations;
mod stats;

pub use control::Command;
pub use io::{Input, Output, Received};
pub use late::{LATE_REPLY, STALE_AFTER};
pub use metrics::{Figures, PoolFigures};
pub use policy::ServerPolicy;
pub use ratelimit::RateLimiter;
pub use reservations::ReservationCommand;
pub use stats::{PeerTraffic, Stats};

use crate::config::Config;
use crate::dhcp::{Engine, Standalone, Verdict};
use crate::failover::{Action, Peer, State};
use crate::lease::{Lease, LeaseStore};
use crate::time::{Now, Time};
use commits::{Commits, Waiting};
use std::collections::VecDeque;
use std::sync::Arc;

/// Replies waiting for their commit beyond which new requests are dropped
/// (counted as overloaded): a slow disk turns into client retries rather
/// than unbounded memory.
pub const MAX_PARKED: usize = 50_000;

/// Seconds between ticks (lease expiry, peer keepalives and timeouts).
const TICK: u64 = 1;

/// A DHCPACK the engine decided, as an auditor (the simulator's checker)
/// sees it: the binding it grants and at what local time.
#[derive(Clone, Debug)]
pub struct Grant {
    /// The binding granted, as journaled.
    pub lease: Lease,
    /// The granting server's time, seconds.
    pub local_now: Time,
}

/// One DHCP server's whole decision-making state; see the module docs.
pub struct Node {
    /// The configuration in force: the file's with the runtime
    /// reservations laid over it (`config::runtime`).
    config: Arc<Config>,
    /// The configuration as the file gave it (at start or the last reload).
    file_config: Arc<Config>,
    /// The runtime reservations (`tandem reservation`), kept in the journal.
    runtime: crate::config::runtime::RuntimeReservations,
    /// Runtime reservations the configuration leaves out, and why.
    shadowed: Vec<crate::config::runtime::Shadowed>,
    engine: Engine,
    store: LeaseStore,
    peer: Option<Peer>,
    commits: Commits,
    out: VecDeque<Output>,
    stats: Stats,
    limiter: RateLimiter,
    started: Time,
    next_tick: Time,
    /// Grants recorded for an auditor, when asked for (`record_grants`).
    grants: Option<Vec<Grant>>,
    /// Why this node stopped ([`Output::Halt`]), once it has.
    halted: Option<String>,
    /// OFFERs waiting for their ping (`ping`).
    pings: ping::Pings,
    /// DNS jobs due and with the edge (`dns`).
    dns: dns::DnsWork,
}

impl Node {
    /// Carries out one event at local time `now`: the wall clock (seconds
    /// since the epoch) and the monotonic one, which measures stalls (a
    /// bare `Time` stands for both, for callers whose clock never steps).
    /// Never fails: what cannot be done is logged and counted, and the
    /// outputs say what the edge must do.
    pub fn handle(&mut self, now: impl Into<Now>, input: Input) {
        let Now { wall: now, mono } = now.into();
        if let Some(why) = &self.halted {
            if let Input::Control { id, .. } | Input::Reload { id, .. } = input {
                let answer = serde_json::json!({"ok": false, "error": format!("stopping: {why}")});
                self.out.push_back(Output::Answer { id, answer });
            }
            return;
        }
        if let Some(p) = &mut self.peer {
            p.wake(now, mono);
        }
        match input {
            Input::Request(r) => self.request(now, *r),
            Input::PeerUp => {
                if let Some(p) = &mut self.peer {
                    p.link_up(now, &self.store);
                }
            }
            Input::PeerFrame(m) => {
                self.stats.peer_received.count(&m);
                if let Some(p) = &mut self.peer {
                    p.receive(now, m, &mut self.store);
                }
            }
            Input::PeerDown(why) => {
                if let Some(p) = &mut self.peer {
                    tracing::warn!(reason = %why, "peer link lost");
                    p.link_lost(now, &why);
                }
            }
            Input::Committed { upto } => self.committed(now, upto),
            Input::CommitFailed { upto } => self.commit_failed(upto),
            Input::Tick => self.tick(now),
            Input::PingDone { id, answered } => self.ping_done(now, id, answered),
            Input::DnsDone { id, result } => self.dns_done(now, id, result),
            Input::WitnessReport {
                asked,
                partner_silent_ms,
                partner_heard,
            } => {
                if let Some(p) = &mut self.peer {
                    p.witness_report(now, asked, partner_silent_ms, partner_heard);
                }
            }
            Input::Control { id, command } => {
                if let Some(answer) = self.control(now, id, command) {
                    self.out.push_back(Output::Answer { id, answer });
                }
            }
            Input::Reload { id, config } => {
                let answer = self.reload(now, config);
                self.out.push_back(Output::Answer { id, answer });
            }
        }
        self.carry_out_peer(now);
        self.dns_poll(now);
    }

    /// The next thing for the edge to do, in order.
    pub fn poll_output(&mut self) -> Option<Output> {
        let o = self.out.pop_front();
        if let Some(Output::PeerFrame(m)) = &o {
            self.stats.peer_sent.count(m);
        }
        o
    }

    /// When the next [`Input::Tick`] is due (local time, seconds).
    pub fn poll_timeout(&self) -> Option<Time> {
        Some(self.next_tick)
    }

    /// The configuration in force.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The lease store, read-only (status, the simulator's checks).
    pub fn store(&self) -> &LeaseStore {
        &self.store
    }

    /// The failover peer, if this server has a partner.
    pub fn peer(&self) -> Option<&Peer> {
        self.peer.as_ref()
    }

    /// This server's failover state, `None` when it has no partner.
    pub fn state(&self) -> Option<State> {
        self.peer.as_ref().map(Peer::state)
    }

    /// The counters; the edge adds what only it sees (malformed packets,
    /// send errors, commit latencies).
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The counters, for the edge to add to.
    pub fn stats_mut(&mut self) -> &mut Stats {
        &mut self.stats
    }

    /// Starts recording every grant for [`take_grants`](Self::take_grants).
    pub fn record_grants(&mut self) {
        self.grants.get_or_insert_with(Vec::new);
    }

    /// The grants recorded since the last call.
    pub fn take_grants(&mut self) -> Vec<Grant> {
        self.grants.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Journal batches handed out and not yet reported done (the edge slows
    /// its partner's frames when this grows).
    pub fn uncommitted_batches(&self) -> u64 {
        self.commits.pending()
    }

    fn policy(&self) -> ServerPolicy {
        match &self.peer {
            Some(p) => ServerPolicy::Pair(p.policy()),
            None => ServerPolicy::Alone(Standalone),
        }
    }

    fn request(&mut self, now: Time, r: Received) {
        self.stats.received += 1;
        *self
            .stats
            .received_by_type
            .entry(r.req.kind.as_str())
            .or_default() += 1;
        if self.commits.parked() >= MAX_PARKED {
            self.stats.overloaded += 1;
            return;
        }
        if self.stale(now, &r) {
            return;
        }
        if !self.limiter.allow(&r.req.client_key(), now.0) {
            self.stats.rate_limited += 1;
            return;
        }
        if r.req.kind == crate::proto::packet::MessageType::Discover
            && self.pings.pinging(&r.req.client_key())
        {
            tracing::debug!(client = %r.req.client_key(), "DISCOVER while its OFFER waits for a ping: dropped");
            return;
        }
        if !self.evidence_gate(now, &r) {
            return;
        }
        self.decide(now, r, 0);
    }

    /// Decides a request and carries out the outcome; `tries` addresses were
    /// already pinged and found in use for it.
    fn decide(&mut self, now: Time, r: Received, tries: u8) {
        let policy = self.policy();
        let out = self
            .engine
            .handle(now, &mut self.store, &policy, &r.req, &r.ctx);
        self.stats.count(&out.verdict);
        if let (Some(g), Verdict::Ack(_)) = (&mut self.grants, &out.verdict)
            && let Some(l) = out.changes.first()
        {
            g.push(Grant {
                lease: l.clone(),
                local_now: now,
            });
        }
        // A reply that grants what the changes record waits for them.
        let reply = out.reply.map(|reply| (reply, r.socket, r.ctx.local));
        let (waiting, at_once) = match reply {
            Some(x) if x.0.after_commit && !out.changes.is_empty() => (Some(x), None),
            x => (None, x),
        };
        if !out.changes.is_empty() {
            self.journal_local(now, out.changes, waiting);
        }
        if let Some((reply, socket, src)) = at_once {
            match reply.ping_first {
                Some(addr) => self.ping_first(reply, addr, r, tries),
                None => self.out.push_back(Output::Reply { reply, socket, src }),
            }
        }
    }

    /// Journals local lease changes; the reply (a DHCPACK) waits for them,
    /// and with a partner they are replicated once durable.
    fn journal_local(
        &mut self,
        now: Time,
        changes: Vec<Lease>,
        reply: Option<(crate::dhcp::Reply, usize, std::net::Ipv4Addr)>,
    ) {
        let replicate = if self.peer.is_some() {
            changes.clone()
        } else {
            Vec::new()
        };
        let noted = dns::DnsWork::with_records(&changes);
        let batch = self.commits.submit(&mut self.out, changes, Vec::new());
        self.dns.touch(batch, noted);
        if reply.is_some() || !replicate.is_empty() {
            self.commits.after(Waiting {
                batch,
                replies: reply.into_iter().collect(),
                decided: now,
                replicate,
                ..Waiting::default()
            });
        }
    }

    /// Batches up to `upto` are durable: release what waited on them, in
    /// order.
    fn committed(&mut self, now: Time, upto: u64) {
        self.dns.durable(upto);
        for w in self.commits.done(upto) {
            if !self.too_late(now, w.decided, w.replies.len()) {
                for (reply, socket, src) in w.replies {
                    self.out.push_back(Output::Reply { reply, socket, src });
                }
            }
            self.out.extend(w.frames.into_iter().map(Output::PeerFrame));
            for (id, answer) in w.answers {
                self.out.push_back(Output::Answer { id, answer });
            }
            if let Some(p) = &mut self.peer {
                // First: an answer that `local_committed` lets go may hold
                // the partner records this batch made durable.
                if w.peer_commit {
                    p.commit_durable(now, &self.store);
                }
                if !w.replicate.is_empty() {
                    p.local_committed(now, &w.replicate, &mut self.store);
                }
                if let Some((state, since)) = w.announce {
                    p.announce(now, state, since);
                }
                if w.send_reservations {
                    let frames = self.runtime.frames(reservations::FRAME_OCTETS);
                    p.set_reservations(now, frames, true);
                }
            }
        }
    }

    /// Batches up to `upto` failed: drop everything that waited on any
    /// batch (memory is now ahead of the journal, so no later decision can
    /// be trusted either), close the peer link and stop ([`Output::Halt`]).
    fn commit_failed(&mut self, upto: u64) {
        self.stats.commit_failures += 1;
        let why = format!("lease journal commit failed (batch {upto})");
        tracing::error!(
            "{why}: stopping without sending what waited on it; restart once the disk is writable, the journal holds every acknowledged lease"
        );
        self.commits.abandon();
        self.out.clear();
        if self.peer.is_some() {
            self.out.push_back(Output::PeerClose(why.clone()));
        }
        self.out.push_back(Output::Halt(why.clone()));
        self.halted = Some(why);
    }

    fn tick(&mut self, now: Time) {
        self.next_tick = now.plus(TICK);
        if self.store.relearn_until().is_some_and(|t| now >= t) {
            tracing::info!("re-learning period after the lost database is over: allocating again");
            self.end_relearning();
        }
        let changes = self.engine.tick(now, &mut self.store);
        if !changes.is_empty() {
            self.journal_local(now, changes, None);
        }
        if let Some(p) = &mut self.peer {
            p.tick(now, &mut self.store);
            if p.witness_heartbeat(now) {
                self.out.push_back(Output::WitnessHeartbeat);
            }
        }
    }

    /// Ends the wait after a lost database (by time or by the operator).
    fn end_relearning(&mut self) {
        self.store.set_relearn_until(None);
        self.commits.submit(
            &mut self.out,
            Vec::new(),
            vec![crate::lease::relearn::to_meta(None)],
        );
    }

    /// Turns everything the peer asked for into outputs and waiting work.
    fn carry_out_peer(&mut self, now: Time) {
        let Some(p) = &mut self.peer else { return };
        let mut reservations = vec![];
        while let Some(a) = p.poll_action() {
            match a {
                Action::Send(m) => self.out.push_back(Output::PeerFrame(m)),
                Action::Reservations(entries) => reservations.push(entries),
                Action::Close(why) => self.out.push_back(Output::PeerClose(why)),
                // An empty batch: it completes after every earlier one.
                Action::Announce { state, since } => {
                    let batch = self.commits.submit(&mut self.out, Vec::new(), Vec::new());
                    self.commits.after(Waiting {
                        batch,
                        announce: Some((state, since)),
                        ..Waiting::default()
                    });
                }
                Action::Commit {
                    leases,
                    meta,
                    then,
                    replicate,
                } => {
                    let replicate = if replicate {
                        leases.clone()
                    } else {
                        Vec::new()
                    };
                    let noted = dns::DnsWork::with_records(&leases);
                    let batch = self.commits.submit(&mut self.out, leases, meta);
                    self.dns.touch(batch, noted);
                    self.commits.after(Waiting {
                        batch,
                        frames: then,
                        replicate,
                        peer_commit: true,
                        ..Waiting::default()
                    });
                }
            }
        }
        for entries in reservations {
            self.partner_reservations(now, entries);
        }
    }
}

#[cfg(test)]
mod tests;
