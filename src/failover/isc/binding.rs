//! One ISC binding (a BNDUPD's fields, [`Binding`]) as tandem's lease
//! record on the wire ([`WireLease`]), and back. ISC keeps who may
//! allocate a free address in its binding-status: FREE is the primary's,
//! BACKUP the secondary's (research section 3.1); tandem keeps it in the
//! lease's `owner`. Every address but a BACKUP one falls back to the
//! primary when freed (ISC turns EXPIRED, RELEASED and RESET into FREE,
//! and reuses ABANDONED as FREE: `server/failover.c`), so a bound
//! address's owner is the primary.
//!
//! Times are taken as they are: 32-bit absolute seconds, 0 for "not set"
//! in both. ISC's "never", 0x7fffffff ([`MAX_TIME`]), is a real time to
//! tandem (January 2038), as it is to ISC; tandem's later times are
//! clamped to it.

use super::Binding;
use crate::failover::message::WireLease;
use crate::lease::{LeaseState, Owner};

/// ISC's binding-status numbers (draft-ietf-dhc-failover-12 section 12.3).
pub mod status {
    /// Available, the primary's.
    pub const FREE: u8 = 1;
    /// Bound to a client.
    pub const ACTIVE: u8 = 2;
    /// Ran out; becomes FREE once the partner knows.
    pub const EXPIRED: u8 = 3;
    /// Given back by the client; as EXPIRED.
    pub const RELEASED: u8 = 4;
    /// Declined or found in use (tandem's Declined).
    pub const ABANDONED: u8 = 5;
    /// Reset by an operator; as EXPIRED.
    pub const RESET: u8 = 6;
    /// Available, the secondary's.
    pub const BACKUP: u8 = 7;
}

/// ISC's "never": the largest time it stores.
pub const MAX_TIME: u32 = 0x7fff_ffff;

/// Why an ISC binding has no tandem form (ISC rejects these too, with
/// reject reason 3 or 6: research section 3.3).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    /// No assigned-IP-address or binding-status.
    #[error("a binding update without an address or a binding status")]
    Missing,
    /// A binding-status outside 1 to 7.
    #[error("unknown binding status {0}")]
    Status(u8),
    /// A hardware address of more than 17 octets (type and 16).
    #[error("a client hardware address of {0} octets")]
    Chaddr(usize),
}

/// `b` as tandem's record: the partner's change (`seq` 0) with no host
/// name, relay information or DNS records, none of which ISC replicates,
/// and the lease time its start and end imply. Errors: [`BindingError`].
pub fn to_wire(b: &Binding) -> Result<WireLease, BindingError> {
    let (Some(addr), Some(st)) = (b.addr, b.status) else {
        return Err(BindingError::Missing);
    };
    let (state, owner) = match st {
        status::FREE | status::RESET => (LeaseState::Free, Owner::Primary),
        status::BACKUP => (LeaseState::Free, Owner::Secondary),
        status::ACTIVE => (LeaseState::Active, Owner::Primary),
        status::EXPIRED => (LeaseState::Expired, Owner::Primary),
        status::RELEASED => (LeaseState::Released, Owner::Primary),
        status::ABANDONED => (LeaseState::Declined, Owner::Primary),
        other => return Err(BindingError::Status(other)),
    };
    let hw = b.chaddr.clone().unwrap_or_default();
    if hw.len() > 17 {
        return Err(BindingError::Chaddr(hw.len()));
    }
    let (starts, expires) = (from_isc(b.start_time_of_state), from_isc(b.ends));
    Ok(WireLease {
        addr: u32::from(addr),
        state: state.code() as u8,
        owner: owner.index() as u8,
        client_id: b.client_id.clone(),
        htype: hw.first().copied().unwrap_or(0),
        chaddr: hw.get(1..).unwrap_or_default().to_vec(),
        hostname: None,
        relay_info: None,
        starts,
        expires,
        cltt: from_isc(transaction_time(b, st)),
        lease_time: u32::try_from(expires.saturating_sub(starts)).unwrap_or(u32::MAX),
        potential_expiry: from_isc(b.potential_expiry),
        seq: 0,
        dns: None,
    })
}

/// Tandem's record `l` as the BNDUPD fields ISC would send for it
/// (research section 3.2): the three times always, the last transaction
/// time when known, the client (hardware type and chaddr, which ISC
/// requires of ACTIVE, EXPIRED and RELEASED and sends for a free address
/// that remembers one, and the client identifier), and no client for
/// ABANDONED, which ISC refuses with one. A record whose state or owner number is unknown reads
/// as FREE, the primary's.
pub fn from_wire(l: &WireLease) -> Binding {
    let state = LeaseState::from_code(i64::from(l.state)).unwrap_or(LeaseState::Free);
    let owner = Owner::from_code(i64::from(l.owner)).unwrap_or(Owner::Primary);
    let status = match (state, owner) {
        (LeaseState::Free, Owner::Primary) => status::FREE,
        (LeaseState::Free, Owner::Secondary) => status::BACKUP,
        (LeaseState::Active, _) => status::ACTIVE,
        (LeaseState::Expired, _) => status::EXPIRED,
        (LeaseState::Released, _) => status::RELEASED,
        (LeaseState::Declined, _) => status::ABANDONED,
    };
    // ISC sends the client of a bound address always (at least the
    // hardware type), of a free one when it remembers one, and of an
    // ABANDONED one never.
    let bound = matches!(
        state,
        LeaseState::Active | LeaseState::Expired | LeaseState::Released
    );
    let abandoned = state == LeaseState::Declined;
    let hw = (bound || !l.chaddr.is_empty()) && !abandoned;
    Binding {
        addr: Some(std::net::Ipv4Addr::from(l.addr)),
        status: Some(status),
        client_id: l.client_id.clone().filter(|_| !abandoned),
        chaddr: hw.then(|| [&[l.htype][..], &l.chaddr].concat()),
        ends: Some(to_isc(l.expires)),
        potential_expiry: Some(to_isc(l.potential_expiry)),
        start_time_of_state: Some(to_isc(l.starts)),
        cltt: (l.cltt != 0).then(|| to_isc(l.cltt)),
        ip_flags: None,
    }
}

/// When the binding last changed, for tandem's "the later transaction
/// wins" (`failover::reconcile`). For an ACTIVE binding, the client's last
/// transaction time. For any other, the later of that and when the binding
/// entered its state (start-time-of-state): ISC changes those states by
/// itself (its timer expires a lease, its balancing moves a free one
/// between FREE and BACKUP) and keeps the last transaction time it had, if
/// any: the client's last grant from ISC, older than a renewal tandem
/// made, or none at all for a lease only tandem granted. Read by its last
/// transaction time, ISC's expiry of a lease tandem had granted looked
/// older than the grant and was refused, and the two kept sending their
/// versions to each other (the lab: thousands of updates a second).
fn transaction_time(b: &Binding, status: u8) -> Option<u32> {
    if status == status::ACTIVE {
        return b.cltt;
    }
    b.cltt.max(b.start_time_of_state)
}

/// An ISC time as tandem's; absent is 0, "not set".
fn from_isc(t: Option<u32>) -> u64 {
    t.map_or(0, u64::from)
}

/// A tandem time as ISC's, clamped at [`MAX_TIME`].
pub(crate) fn to_isc(t: u64) -> u32 {
    u32::try_from(t).unwrap_or(MAX_TIME).min(MAX_TIME)
}

#[cfg(test)]
mod tests;
