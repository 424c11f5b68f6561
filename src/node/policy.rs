//! The engine's policy for this server: on its own, or one of a pair.

use crate::dhcp::{Policy, Standalone};
use crate::failover::PairPolicy;
use crate::lease::{Lease, Owner};
use crate::proto::ClientKey;
use crate::time::Time;

/// The policy the engine consults: this server alone, or as one of a pair
/// in its current failover state.
pub enum ServerPolicy {
    /// A server without a partner: owns every address, answers every client.
    Alone(Standalone),
    /// One of a failover pair, in the state it had when the policy was taken.
    Pair(PairPolicy),
}

impl Policy for ServerPolicy {
    fn me(&self) -> Owner {
        match self {
            ServerPolicy::Alone(p) => p.me(),
            ServerPolicy::Pair(p) => p.me(),
        }
    }
    fn responsive(&self) -> bool {
        match self {
            ServerPolicy::Alone(p) => p.responsive(),
            ServerPolicy::Pair(p) => p.responsive(),
        }
    }
    fn serves(&self, c: &ClientKey, secs: u16) -> bool {
        match self {
            ServerPolicy::Alone(p) => p.serves(c, secs),
            ServerPolicy::Pair(p) => p.serves(c, secs),
        }
    }
    fn may_allocate(&self, owner: Owner, now: Time) -> bool {
        match self {
            ServerPolicy::Alone(p) => p.may_allocate(owner, now),
            ServerPolicy::Pair(p) => p.may_allocate(owner, now),
        }
    }
    fn may_reuse(&self, l: &Lease, now: Time, synced: bool) -> bool {
        match self {
            ServerPolicy::Alone(p) => p.may_reuse(l, now, synced),
            ServerPolicy::Pair(p) => p.may_reuse(l, now, synced),
        }
    }
    fn lease_cap(&self, prev: Option<&Lease>, now: Time) -> Option<u64> {
        match self {
            ServerPolicy::Alone(p) => p.lease_cap(prev, now),
            ServerPolicy::Pair(p) => p.lease_cap(prev, now),
        }
    }
    fn potential_expiry(&self, now: Time, desired: u64, granted: u64) -> Time {
        match self {
            ServerPolicy::Alone(p) => p.potential_expiry(now, desired, granted),
            ServerPolicy::Pair(p) => p.potential_expiry(now, desired, granted),
        }
    }
}

impl ServerPolicy {
    /// The failover state the decision was made in, `None` alone.
    pub fn state(&self) -> Option<crate::failover::State> {
        match self {
            ServerPolicy::Alone(_) => None,
            ServerPolicy::Pair(p) => Some(p.state),
        }
    }
}
