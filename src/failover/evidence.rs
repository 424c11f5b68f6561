//! Client evidence that a silent partner is down, not merely cut off from
//! us (DESIGN.md 3.2; after Kea HA's `max-unacked-clients`, which reads the
//! RFC 2131 `secs` field the same way).
//!
//! Silence on the peer link cannot tell a dead partner from a cut link. The
//! partner's clients can: a partner that is alive answers them, one that is
//! down leaves them retrying. So while the link is silent in
//! COMMUNICATIONS-INTERRUPTED, this server holds back the requests its
//! partner owes an answer to ([`Owed`]: the partner's hash bucket, as load
//! balancing gives it in NORMAL) and watches whether their clients come
//! back. A client seen at least twice and asking for `secs` seconds or
//! longer (by its `secs` field, or by our own clock for clients that send
//! 0) was not answered by the partner: it is answered by us from then on
//! and counted. `clients` distinct clients counted within `window`
//! seconds make the evidence hold (`Evidence::holds`), which
//! `auto_partner_down` then requires besides the silence.
//!
//! A client choosing another server's offer (SELECTING) is
//! counter-evidence: the count starts over. Evidence is as good as the
//! clients on the wire: a client that reaches only this server (a
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

/// Seconds between two sightings of a client beyond which a DISCOVER or
/// INIT-REBOOT starts a new attempt rather than retrying the last one.
pub const RETRY_GAP: u64 = 120;

/// The `[failover.partner_down_evidence]` thresholds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct EvidenceConfig {
    /// Distinct clients that must be seen unanswered (default 10).
    pub clients: u32,
    /// Seconds within which they must be counted (default 600).
    pub window: u64,
    /// Seconds a client must have been asking to count (default 10).
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

/// A request a live partner that reaches the client would have answered at
/// once, which this server holds back while it collects evidence.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Owed {
    /// DISCOVER from a client of the partner's hash bucket, which the
    /// partner has an address for (a binding, a reservation, or free
    /// addresses of its own on the client's link).
    Discover,
    /// INIT-REBOOT of an active binding, from the partner's hash bucket.
    InitReboot,
    /// REBINDING (broadcast) of an active binding, from the partner's hash
    /// bucket.
    Rebinding,
}

/// What to do with a request the partner owes an answer to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Drop it: the partner, if alive, answers it.
    Hold,
    /// Decide it as usual.
    Answer,
}

/// Whether `client` falls in the partner's RFC 3074 hash bucket under
/// `split` (buckets the primary serves), `me` being this server's role.
pub fn partners_client(client: &ClientKey, split: u16, me: Owner) -> bool {
    super::hash::primary_serves(client.hash_input(), split) != (me == Owner::Primary)
}

/// The `secs` field as the client meant it: some clients send it little
/// endian, which shows as a multiple of 256 above 255 (Kea HA reads it so).
pub fn client_secs(raw: u16) -> u16 {
    if raw > 255 && raw & 0xff == 0 {
        raw.swap_bytes()
    } else {
        raw
    }
}

#[derive(Clone, Debug)]
struct Seen {
    first: Time,
    last: Time,
    sightings: u32,
    counted: Option<Time>,
    owed: Owed,
}

/// One collection of evidence, from entering a silent
/// COMMUNICATIONS-INTERRUPTED to leaving it (or to counter-evidence).
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    since: Option<Time>,
    seen: HashMap<ClientKey, Seen>,
    restarts: u64,
    last_counter: Option<Time>,
}

/// What the collection stands at, for `status` and the metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceStatus {
    /// Collecting since (local seconds); `None` when not collecting.
    pub since: Option<Time>,
    /// Distinct clients counted within the window.
    pub counted: u32,
    /// Clients held back and not yet counted.
    pub waiting: u32,
    /// Times counter-evidence started the count over in this collection.
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

    /// A request `owed` by the partner from `client`, whose `secs` field
    /// read `raw_secs`, seen at `now`: hold it back, or answer it (once it
    /// counts as evidence, and from then on). Not collecting, everything is
    /// answered.
    pub fn observe(
        &mut self,
        now: Time,
        cfg: &EvidenceConfig,
        client: &ClientKey,
        raw_secs: u16,
        owed: Owed,
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
            first: now,
            last: now,
            sightings: 0,
            counted: None,
            owed,
        });
        if s.counted.is_some() {
            s.last = now;
            return Gate::Answer;
        }
        // A DISCOVER or INIT-REBOOT after a long pause is a new attempt
        // (the retransmission backoff stops at 64 s, RFC 2131 section 4.1):
        // a client that restarts twice while its partner answers it each
        // time must not look like one that was never answered. REBINDING
        // retransmits at longer intervals, bounded by its binding's expiry,
        // beyond which it is no longer owed.
        if owed != Owed::Rebinding && s.last.until(now) > RETRY_GAP {
            s.first = now;
            s.sightings = 0;
        }
        s.sightings = s.sightings.saturating_add(1);
        s.last = now;
        s.owed = owed;
        let asking = u64::from(client_secs(raw_secs)).max(s.first.until(now));
        if s.sightings >= 2 && asking >= u64::from(cfg.secs) {
            tracing::debug!(%client, ?owed, asking, "partner-down evidence: a client of the partner was not answered");
            s.counted = Some(now);
            return Gate::Answer;
        }
        Gate::Hold
    }

    /// A client chose another server's offer at `now`: some server answers
    /// the partner's clients, so the count starts over.
    pub fn counter(&mut self, now: Time) {
        if self.since.is_some() {
            self.seen.clear();
            self.restarts += 1;
            self.last_counter = Some(now);
        }
    }

    /// Whether `cfg.clients` distinct clients were counted within the
    /// window ending at `now`.
    pub fn holds(&self, now: Time, cfg: &EvidenceConfig) -> bool {
        self.counted(now, cfg) >= cfg.clients
    }

    /// Distinct clients of the partner that sent DISCOVER in this
    /// collection, held or answered: each may have taken one of the
    /// partner's free addresses if it is alive.
    pub fn discovering(&self) -> usize {
        let d = self.seen.values();
        d.filter(|s| s.owed == Owed::Discover).count()
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

    /// Forgets clients last seen a window ago and no longer counted.
    fn prune(&mut self, now: Time, cfg: &EvidenceConfig) {
        if self.seen.len() < MAX_TRACKED {
            return;
        }
        let fresh = |t: Time| t.until(now) < cfg.window;
        self.seen
            .retain(|_, s| fresh(s.last) || s.counted.is_some_and(fresh));
    }
}

#[cfg(test)]
mod tests;
