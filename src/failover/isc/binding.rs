//! One ISC binding (a BNDUPD's fields, [`Binding`]) as tandem's lease
//! record on the wire ([`WireLease`]), and back. ISC keeps who may
//! allocate a free address in its binding-status: FREE is the primary's,
//! BACKUP the secondary's (research section 3.1); tandem keeps it in the
//! lease's `owner`. A bound address's owner (whose free address it
//! becomes again) is not on ISC's wire, so the caller supplies it.
//!
//! Times: ISC's are 32-bit absolute seconds, 0 for "not set" and
//! 0x7fffffff (`MAX_TIME`) for "never"; tandem's 0 means both. An active
//! binding's "never" becomes `MAX_TIME`, anything else's 0 stays 0, and
//! times past `MAX_TIME` are clamped to it (ISC's 2038 limit).

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

/// `b` as tandem's record; `owner` is whose free address a bound one
/// becomes (ISC does not say). The record is the partner's change
/// (`seq` 0) with no host name, relay information or DNS records, none
/// of which ISC replicates. Errors: [`BindingError`].
pub fn to_wire(b: &Binding, owner: Owner) -> Result<WireLease, BindingError> {
    let (Some(addr), Some(st)) = (b.addr, b.status) else {
        return Err(BindingError::Missing);
    };
    let (state, owner) = match st {
        status::FREE | status::RESET => (LeaseState::Free, Owner::Primary),
        status::BACKUP => (LeaseState::Free, Owner::Secondary),
        status::ACTIVE => (LeaseState::Active, owner),
        status::EXPIRED => (LeaseState::Expired, owner),
        status::RELEASED => (LeaseState::Released, owner),
        status::ABANDONED => (LeaseState::Declined, owner),
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
        cltt: from_isc(b.cltt),
        lease_time: u32::try_from(expires.saturating_sub(starts)).unwrap_or(u32::MAX),
        potential_expiry: from_isc(b.potential_expiry),
        seq: 0,
        dns: None,
    })
}

/// Tandem's record `l` as the BNDUPD fields ISC would send for it: the
/// hardware address and last transaction time only when known, the
/// three times always (research section 3.2). A record whose state or
/// owner number is unknown reads as FREE, the primary's.
pub fn from_wire(l: &WireLease) -> Binding {
    let state = LeaseState::from_code(i64::from(l.state)).unwrap_or(LeaseState::Free);
    let owner = Owner::from_code(i64::from(l.owner)).unwrap_or(Owner::Primary);
    let active = state == LeaseState::Active;
    let status = match (state, owner) {
        (LeaseState::Free, Owner::Primary) => status::FREE,
        (LeaseState::Free, Owner::Secondary) => status::BACKUP,
        (LeaseState::Active, _) => status::ACTIVE,
        (LeaseState::Expired, _) => status::EXPIRED,
        (LeaseState::Released, _) => status::RELEASED,
        (LeaseState::Declined, _) => status::ABANDONED,
    };
    let chaddr = (!l.chaddr.is_empty()).then(|| [&[l.htype][..], &l.chaddr].concat());
    Binding {
        addr: Some(std::net::Ipv4Addr::from(l.addr)),
        status: Some(status),
        client_id: l.client_id.clone(),
        chaddr,
        ends: Some(to_isc(l.expires, active)),
        potential_expiry: Some(to_isc(l.potential_expiry, active)),
        start_time_of_state: Some(to_isc(l.starts, false)),
        cltt: (l.cltt != 0).then(|| to_isc(l.cltt, false)),
        ip_flags: None,
    }
}

/// An ISC time as tandem's: `MAX_TIME` and 0 are 0.
fn from_isc(t: Option<u32>) -> u64 {
    match t {
        Some(MAX_TIME) | None => 0,
        Some(t) => u64::from(t),
    }
}

/// A tandem time as ISC's: 0 is `MAX_TIME` where it means "never" (a
/// bound binding's ends), else 0; later times are clamped.
fn to_isc(t: u64, never: bool) -> u32 {
    match t {
        0 if never => MAX_TIME,
        t => u32::try_from(t).unwrap_or(MAX_TIME).min(MAX_TIME),
    }
}

#[cfg(test)]
mod tests;
