//! Client evidence that a silent partner is down, not merely cut off from
//! us (DESIGN.md 3.2; after Kea HA's `max-unacked-clients` and
//! `max-ack-delay`).
//!
//! Silence on the peer link cannot tell a dead partner from a cut link. The
//! partner's clients can: a partner that is alive answers them, one that is
//! down leaves them retrying. So while the link is silent in
//! COMMUNICATIONS-INTERRUPTED, this server holds back the requests its
//! partner owes an answer to (DISCOVER, INIT-REBOOT and REBINDING from the
//! partner's hash bucket, as load balancing gives it in NORMAL, for an
//! active binding the partner knows: `node::evidence`) and
//! watches whether they come back. A request retransmitted (the same
//! `xid`, RFC 2131 section 4.1) `secs` seconds or more after we first saw
//! it was not answered by the partner: the client is counted, and answered
//! by us from then on. Retries are timed on our own clock, not by the
//! client's `secs` field, which a new exchange may already start high and
//! some clients send as 0 or byte-swapped. `clients` distinct clients
//! counted within `window` seconds make the evidence hold
//! (`Evidence::holds`), which `auto_partner_down` then requires besides
//! the silence. A client held back for `secs` is answered anyway, counted
//! or not: the partner's clients wait at most about `secs`.
//!
//! A client choosing another server's offer (SELECTING) is
//! counter-evidence: what was counted is dropped. Evidence is as good as
//! the clients on the wire: a client that reaches only this server (a
//! partition on the client side) looks like a dead partner, which only a
//! witness can tell apart.

use crate::lease::Owner;
use crate::proto::ClientKey;
use crate::time::Time;
use std::collections::HashMap;

/// Clients tracked at most in one collection: beyond it a new client is
/// answered at once and not counted (a flood of made-up clients cannot
/// grow memory, nor hold back real clients for long).
pub const MAX_TRACKED: usize = 4096;

/// Seconds a REBINDING client's binding must still run for its request to
/// be held: it retransmits no sooner than 60 s later (RFC 2131 section
/// 4.4.5), and must still hold its address then.
pub const REBIND_LEFT: u64 = 120;

/// The `[failover.partner_down_evidence]` thresholds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct EvidenceConfig {
    /// Distinct clients that must be seen unanswered (default 10).
    pub clients: u32,
    /// Seconds within which they must be counted (default 600).
    pub window: u64,
    /// Seconds a request must go unanswered to count (default 10).
    pub secs: u16,
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        EvidenceConfig {
            clients: 10,
            window: 600,
            secs: 10,
        }
    }
}

/// What to do with a request the partner owes an answer to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Drop it: the partner, if alive, answers it.
    Hold,
    /// Decide it as usual.
    Answer,
    /// Decide it as usual: its client has just been counted.
    Counted,
}

/// Whether `client` falls in the partner's RFC 3074 hash bucket under
/// `split` (buckets the primary serves), `me` being this server's role.
pub fn partners_client(client: &ClientKey, split: u16, me: Owner) -> bool {
    super::hash::primary_serves(client.hash_input(), split) != (me == Owner::Primary)
}

/// One client as seen in a collection.
#[derive(Clone, Debug)]
struct Seen {
    /// When it was first held back (local seconds).
    held_since: Time,
    /// Its latest sighting.
    last: Time,
    /// The exchange it is retrying: `xid`, first sighting, sightings.
    attempt: Option<(u32, Time, u32)>,
    /// When it counted as evidence, if it did.
    counted: Option<Time>,
}

impl Seen {
    /// A sighting of exchange `xid` at `now`: whether it is a
    /// retransmission seen `secs` or more after the exchange's first.
    fn unanswered(&mut self, now: Time, xid: u32, secs: u16) -> bool {
        self.last = now;
        let (first, sightings) = match self.attempt {
            Some((x, first, n)) if x == xid => (first, n + 1),
            _ => (now, 1),
        };
        self.attempt = Some((xid, first, sightings));
        sightings >= 2 && first.until(now) >= u64::from(secs)
    }
}

/// One collection of evidence, from the silence's start in
/// COMMUNICATIONS-INTERRUPTED to its end (the link back, the state left).
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    since: Option<Time>,
    seen: HashMap<ClientKey, Seen>,
    last_prune: Time,
    restarts: u64,
    last_counter: Option<Time>,
}

/// What the collection stands at, for `status` and the metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceStatus {
    /// The silence it watches began (local seconds); `None` when none.
    pub since: Option<Time>,
    /// Distinct clients counted within the window.
    pub counted: u32,
    /// Clients held back and not counted.
    pub waiting: u32,
    /// Times counter-evidence dropped what was counted.
    pub restarts: u64,
    /// The latest counter-evidence, if any.
    pub last_counter: Option<Time>,
}

impl Evidence {
    /// Starts a fresh collection at `now`.
    pub fn start(&mut self, now: Time) {
        *self = Evidence {
            since: Some(now),
            ..Evidence::default()
        };
    }

    /// Ends the collection (the link is back, or the state left).
    pub fn stop(&mut self) {
        *self = Evidence::default();
    }

    /// Whether a collection is running.
    pub fn collecting(&self) -> bool {
        self.since.is_some()
    }

    /// A request `owed` by the partner from `client`, exchange `xid`, seen
    /// at `now`: hold it back, or answer it (counted, or held for `secs`
    /// already). Not collecting, everything is answered.
    pub fn observe(
        &mut self,
        now: Time,
        cfg: &EvidenceConfig,
        client: &ClientKey,
        xid: u32,
    ) -> Gate {
        if self.since.is_none() {
            return Gate::Answer;
        }
        if !self.seen.contains_key(client) {
            self.prune(now, cfg);
            if self.seen.len() >= MAX_TRACKED {
                return Gate::Answer;
            }
        }
        let s = self.seen.entry(client.clone()).or_insert(Seen {
            held_since: now,
            last: now,
            attempt: None,
            counted: None,
        });
        if s.counted.is_some() {
            s.last = now;
            return Gate::Answer;
        }
        if s.unanswered(now, xid, cfg.secs) {
            tracing::debug!(%client, xid, "partner-down evidence: the partner did not answer a client");
            s.counted = Some(now);
            return Gate::Counted;
        }
        if s.held_since.until(now) >= u64::from(cfg.secs) {
            return Gate::Answer;
        }
        Gate::Hold
    }

    /// A client chose another server's offer at `now`: some server answers
    /// the partner's clients, so what was counted is dropped (clients
    /// already held keep their wait: they are not held again from zero).
    pub fn counter(&mut self, now: Time) {
        if self.since.is_some() {
            for s in self.seen.values_mut() {
                s.counted = None;
                s.attempt = None;
            }
            self.restarts += 1;
            self.last_counter = Some(now);
        }
    }

    /// Whether `cfg.clients` distinct clients were counted within the
    /// window ending at `now`.
    pub fn holds(&self, now: Time, cfg: &EvidenceConfig) -> bool {
        self.counted(now, cfg) >= cfg.clients
    }

    /// Where the collection stands at `now`.
    pub fn status(&self, now: Time, cfg: &EvidenceConfig) -> EvidenceStatus {
        let waiting = self.seen.values().filter(|s| s.counted.is_none()).count();
        EvidenceStatus {
            since: self.since,
            counted: self.counted(now, cfg),
            waiting: u32::try_from(waiting).unwrap_or(u32::MAX),
            restarts: self.restarts,
            last_counter: self.last_counter,
        }
    }

    fn counted(&self, now: Time, cfg: &EvidenceConfig) -> u32 {
        let fresh = |t: &Time| t.until(now) < cfg.window;
        let n = self
            .seen
            .values()
            .filter(|s| s.counted.is_some_and(|t| fresh(&t)));
        u32::try_from(n.count()).unwrap_or(u32::MAX)
    }

    /// With the map full, at most once a second: forgets clients last seen
    /// a window ago and no longer counted.
    fn prune(&mut self, now: Time, cfg: &EvidenceConfig) {
        if self.seen.len() < MAX_TRACKED || self.last_prune >= now {
            return;
        }
        self.last_prune = now;
        let fresh = |t: Time| t.until(now) < cfg.window;
        self.seen
            .retain(|_, s| fresh(s.last) || s.counted.is_some_and(fresh));
    }
}

#[cfg(test)]
mod tests;
