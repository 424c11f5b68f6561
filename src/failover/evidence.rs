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
//! it, and then retransmitted once more, was not answered by the partner
//! over all that time: the client is counted, and answered by us from then
//! on. (The transmission `secs` late is itself shown unanswered, so a
//! partner that was only paused must have been paused `secs` or more, which
//! it notices: `Peer::wake`.) Retries are timed on our own clock, not by
//! the client's `secs` field, which a new exchange may already start high
//! and some clients send as 0 or byte-swapped. `clients` distinct clients
//! counted within `window` seconds make the evidence hold
//! (`Evidence::holds`), which `auto_partner_down` then requires besides
//! the silence. A client held back for three times `secs` is answered
//! anyway, counted or not: that is the longest the partner's clients wait.
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

/// Seconds between two sightings of one exchange beyond which it is taken
/// for a new one (the retransmission backoff stops at 64 s, RFC 2131
/// section 4.1): a client that reuses its `xid`, answered each time by its
/// partner, must not look like one that never was.
pub const RETRY_GAP: u64 = 70;

/// The least `secs` a configuration may set: a partner, whatever its
/// configuration, counts none of our clients unanswered for less, so a
/// stall shorter than this cannot have been taken for a death.
pub const MIN_SECS: u16 = 5;

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

/// One exchange of a client, as seen: its `xid`, first sighting, and
/// whether a retransmission came `secs` or more after it.
#[derive(Clone, Copy, Debug)]
struct Attempt {
    xid: u32,
    first: Time,
    late: bool,
}

/// One client as seen in a collection.
#[derive(Clone, Debug)]
struct Seen {
    /// When it was first held back (local seconds).
    held_since: Time,
    /// Its latest sighting.
    last: Time,
    /// The exchange it is retrying.
    attempt: Option<Attempt>,
    /// When it counted as evidence, if it did.
    counted: Option<Time>,
}

impl Seen {
    /// A sighting of exchange `xid` at `now`: whether it follows a
    /// retransmission seen `secs` or more after the exchange's first (so
    /// that one went unanswered too).
    fn unanswered(&mut self, now: Time, xid: u32, secs: u16) -> bool {
        let same = self
            .attempt
            .filter(|a| a.xid == xid && self.last.until(now) <= RETRY_GAP);
        self.last = now;
        let Some(mut a) = same else {
            self.attempt = Some(Attempt {
                xid,
                first: now,
                late: false,
            });
            return false;
        };
        if a.late {
            return true;
        }
        a.late = a.first.until(now) >= u64::from(secs);
        self.attempt = Some(a);
        false
    }
}

/// One collection of evidence, from the silence's start in
/// COMMUNICATIONS-INTERRUPTED to its end (the link back, the state left).
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    since: Option<Time>,
    seen: HashMap<ClientKey, Seen>,
    /// DISCOVER clients of the partner first seen since the pair was last
    /// in NORMAL (counted again when seen again after counter-evidence or
    /// in a new collection): each may have taken one of its free addresses.
    discovered: u32,
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
            discovered: self.discovered,
            ..Evidence::default()
        };
    }

    /// Ends the collection (the link is back, or the state left).
    pub fn stop(&mut self) {
        *self = Evidence {
            discovered: self.discovered,
            ..Evidence::default()
        };
    }

    /// The pair is back in NORMAL: what the partner allocated is known.
    pub fn synced(&mut self) {
        self.discovered = 0;
    }

    /// DISCOVER clients of the partner seen since the pair was last in
    /// NORMAL.
    pub fn discovered(&self) -> u32 {
        self.discovered
    }

    /// Whether a collection is running.
    pub fn collecting(&self) -> bool {
        self.since.is_some()
    }

    /// A request the partner owes an answer to, from `client`, exchange
    /// `xid` (a DISCOVER if `discover`), seen at `now`: hold it back, or
    /// answer it (counted, or held three times `secs` already). Not
    /// collecting, everything is answered.
    pub fn observe(
        &mut self,
        now: Time,
        cfg: &EvidenceConfig,
        client: &ClientKey,
        xid: u32,
        discover: bool,
    ) -> Gate {
        if self.since.is_none() {
            return Gate::Answer;
        }
        if !self.seen.contains_key(client) {
            self.prune(now, cfg);
            if self.seen.len() >= MAX_TRACKED {
                return Gate::Answer;
            }
            self.discovered = self.discovered.saturating_add(u32::from(discover));
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
        if s.held_since.until(now) >= 3 * u64::from(cfg.secs) {
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
