//! Bindings ISC refused on this connection, and what the peer offers of
//! them again. ISC never answers a refusal with its own version and would
//! refuse the same update again at once (research section 3.5), while the
//! peer offers a refused version again until the partner's arrives: the
//! two sent the same update back and forth thousands of times a second in
//! the lab (a lease tandem expired, which an ISC primary refuses from its
//! secondary until its own timer runs). So an offer of an address ISC
//! refused waits [`REOFFER_AFTER`] seconds, and is dropped if ISC's own
//! version arrives meanwhile (it would be stale: the peer judges ISC's).

use crate::failover::message::WireLease;
use crate::time::Time;
use std::collections::HashSet;
use std::net::Ipv4Addr;

/// Seconds an offer of a binding ISC refused waits before it goes again.
pub const REOFFER_AFTER: u64 = 5;

/// An offer held back: the peer's batch it belongs to, and the record.
#[derive(Clone, Debug)]
pub(super) struct Held {
    pub due: Time,
    pub batch: u64,
    pub lease: WireLease,
}

/// The refused addresses and the offers held back.
#[derive(Debug, Default)]
pub(super) struct Refusals {
    refused: HashSet<Ipv4Addr>,
    held: Vec<Held>,
}

impl Refusals {
    /// ISC answered our update of `addr`: refused, or taken.
    pub fn answered(&mut self, addr: Ipv4Addr, refused: bool) {
        if refused {
            self.refused.insert(addr);
        } else {
            self.refused.remove(&addr);
        }
    }

    /// Holds `lease` (of the peer's `batch`) back if ISC refused its
    /// address, or an offer of it is held already (a newer version must
    /// not overtake it: ISC would end on the older); returns whether it
    /// may go now. `wait`: seconds to hold.
    pub fn offer(&mut self, now: Time, wait: u64, batch: u64, lease: &WireLease) -> bool {
        let addr = Ipv4Addr::from(lease.addr);
        let behind = self.held.iter().any(|h| h.lease.addr == lease.addr);
        if !self.refused.contains(&addr) && !behind {
            return true;
        }
        let due = now.plus(wait);
        let lease = lease.clone();
        self.held.push(Held { due, batch, lease });
        false
    }

    /// The offers whose wait is over at `now`, to send, oldest first (an
    /// address's offers keep their order: each waits at least as long as
    /// the one before it).
    pub fn due(&mut self, now: Time) -> Vec<Held> {
        let (due, later) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|h| h.due <= now);
        self.held = later;
        due
    }

    /// ISC sent its own version of `addr`: the refusal is answered, and
    /// the offers held back for it are dropped (returned, so their batches
    /// can be answered).
    pub fn superseded(&mut self, addr: Ipv4Addr) -> Vec<Held> {
        self.refused.remove(&addr);
        let (dropped, kept) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|h| Ipv4Addr::from(h.lease.addr) == addr);
        self.held = kept;
        dropped
    }
}
