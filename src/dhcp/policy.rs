//! What the failover state lets the engine do. The engine asks; `failover`
//! answers. A server without a partner is allowed everything.

use crate::lease::{Lease, LeaseState, Owner};
use crate::proto::ClientKey;
use crate::time::Time;

/// Seconds an ended binding's address waits past its end before another
/// client may get it. An ACK carries the lease's length, not its end, and a
/// client counts that length from when the ACK reached it (ISC dhclient,
/// `client/dhclient.c` `dhcpack`) or from its last retransmitted REQUEST:
/// up to a commit wait and the network's delay later than the moment the
/// server decided. Without a margin, a lease that ended on time at the
/// server (or at the MCLT bound its partner relies on) can still be in use
/// at the client when the address goes to another (simulator seeds
/// 21266797 and 21254538).
pub const REUSE_GRACE: u64 = 10;

/// Whether the binding `lease` records is over at its client too by `now`:
/// one that ran out waits [`REUSE_GRACE`] seconds past its end; one the
/// client released or declined is over at once (no client holds it).
pub fn ended_for_client(lease: &Lease, now: Time) -> bool {
    let grace = match lease.state {
        LeaseState::Released | LeaseState::Declined => 0,
        _ => REUSE_GRACE,
    };
    lease.expires.plus(grace) <= now
}

/// The failover rules as the engine sees them, implemented by `failover`
/// (and by `Standalone` for a server without a partner). All times are
/// `Time` values from the injected clock; durations are seconds.
pub trait Policy {
    /// This server's role; the owner of the free addresses it allocates from.
    fn me(&self) -> Owner;
    /// Whether to answer clients at all (not while recovering or in conflict).
    fn responsive(&self) -> bool;
    /// Whether to answer a client starting a new exchange (DISCOVER, SELECTING,
    /// INIT-REBOOT): load balancing sends each client to one peer.
    fn serves(&self, client: &ClientKey, secs: u16) -> bool;
    /// Whether free addresses owned by `owner` may be allocated now.
    fn may_allocate(&self, owner: Owner, now: Time) -> bool;
    /// Whether the address of `lease` (free, expired or released) may go to a
    /// different client now; `synced` says the partner knows its current state.
    fn may_reuse(&self, lease: &Lease, now: Time, synced: bool) -> bool;
    /// The longest lease that may be granted now for `addr` (the MCLT rule),
    /// given the previous record if any; `None` means no cap.
    fn lease_cap(&self, previous: Option<&Lease>, now: Time) -> Option<u64>;
    /// The expiry to tell the partner this server may grant later.
    fn potential_expiry(&self, now: Time, desired: u64, granted: u64) -> Time;
}

/// A server on its own: owns every address, answers every client.
#[derive(Copy, Clone, Debug, Default)]
pub struct Standalone;

impl Policy for Standalone {
    fn me(&self) -> Owner {
        Owner::Primary
    }
    fn responsive(&self) -> bool {
        true
    }
    fn serves(&self, _: &ClientKey, _: u16) -> bool {
        true
    }
    fn may_allocate(&self, owner: Owner, _: Time) -> bool {
        owner == Owner::Primary
    }
    fn may_reuse(&self, lease: &Lease, now: Time, _: bool) -> bool {
        lease.state == crate::lease::LeaseState::Free || ended_for_client(lease, now)
    }
    fn lease_cap(&self, _: Option<&Lease>, _: Time) -> Option<u64> {
        None
    }
    fn potential_expiry(&self, now: Time, _: u64, granted: u64) -> Time {
        now.plus(granted)
    }
}
