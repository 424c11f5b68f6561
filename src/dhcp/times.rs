//! How long a lease lasts and when the client renews.

use crate::config::Subnet;
use crate::lease::{Lease, LeaseState, LeaseStore};
use crate::proto::ClientKey;
use crate::proto::Request;
use std::net::Ipv4Addr;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// What the client would get without the failover cap.
    pub desired: u64,
    pub lease: u32,
    pub t1: u32,
    pub t2: u32,
}

/// The client's requested time within the subnet's bounds, else the default,
/// then cut to `cap` (the failover MCLT rule). A cap of 0 gives a lease of 0:
/// there is nothing this server may grant, and the caller stays silent.
pub fn grant(subnet: &Subnet, req: &Request, cap: Option<u64>) -> Grant {
    let b = subnet.lease;
    let want = req
        .requested_lease_time()
        .map_or(b.default, u64::from)
        .clamp(b.min, b.max);
    let lease = cap
        .map_or(want, |c| want.min(c))
        .min(u64::from(u32::MAX - 1));
    // Configured T1/T2 apply when they fit inside this grant; otherwise the
    // RFC 2131 defaults of 0.5 and 0.875 keep them meaningful.
    let (t1, t2) = match (b.t1, b.t2) {
        (Some(t1), Some(t2)) if t2 < lease => (t1, t2),
        (Some(t1), None) if t1 < lease => (t1, (lease * 7 / 8).max(t1 + 1).min(lease)),
        (None, Some(t2)) if t2 < lease => ((lease / 2).min(t2), t2),
        _ => (lease / 2, lease * 7 / 8),
    };
    Grant {
        desired: want,
        lease: lease as u32,
        t1: t1 as u32,
        t2: t2 as u32,
    }
}

/// The record whose partner-acknowledged potential expiry may lengthen a
/// grant of `addr` to `key` under the failover MCLT cap: the client's own
/// active binding only. What the partner acknowledged for an earlier
/// client says nothing about this one, nor for an ended binding (the
/// partner, told it ended, may reuse the address). Offers and ACKs both
/// use it, so an OFFER promises what the ACK will grant.
pub(super) fn own_binding<'a>(
    store: &'a LeaseStore,
    addr: Ipv4Addr,
    key: &ClientKey,
) -> Option<&'a Lease> {
    store
        .get(addr)
        .filter(|l| l.state == LeaseState::Active && l.client().as_ref() == Some(key))
}
