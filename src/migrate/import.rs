//! ISC lease blocks (`isc_leases`) as tandem lease records, for the
//! configuration they will be served under. The binding states map as
//! dhcpd's failover defines them: `free` is a free address the primary owns,
//! `backup` one the secondary owns, `active`, `expired` and `released` keep
//! their meaning, `abandoned` (an address found in use) becomes a declined
//! address in probation until its `ends`. An active, expired or released
//! lease keeps the owner its `rewind binding state` names, else the pool
//! split's. `tstp` and `tsfp` become the potential expiry and what the
//! partner acknowledged (never above what was sent).
//!
//! Ownership only means something when both sides are pairs: into a tandem
//! without a partner every record is the primary's (the only owner such a
//! server allocates from), and from an ISC server that ran alone (no
//! `backup` state anywhere) free addresses get no record, so the tandem
//! pair's split decides who owns them.

use super::isc_leases::{IscLease, LeaseFile, Skipped};
use crate::config::Config;
use crate::lease::{Lease, LeaseState, LeaseStore, Owner};
use crate::proto::HwAddr;
use crate::time::Time;
use std::collections::BTreeMap;

/// The records to write and what the operator must hear about.
#[derive(Clone, Debug, Default)]
pub struct Imported {
    /// One record per address, in address order.
    pub leases: Vec<Lease>,
    /// Imported records by their ISC binding state.
    pub by_state: BTreeMap<String, usize>,
    /// Leases and statements not imported, with line and reason (the
    /// parser's skips first).
    pub skipped: Vec<Skipped>,
    /// `free` addresses of an ISC server that ran alone: no record is
    /// written, so the pool split decides their owner.
    pub free_unrecorded: usize,
}

/// Turns `file` into records for `config`. Never fails: a lease tandem
/// cannot hold is skipped with its reason.
pub fn to_tandem(file: LeaseFile, config: &Config) -> Imported {
    let owners = LeaseStore::new(config, config.split());
    let isc_pair = file
        .leases
        .iter()
        .any(|l| l.binding == "backup" || l.rewind.as_deref() == Some("backup"));
    let mut out = Imported {
        skipped: file.skipped,
        ..Imported::default()
    };
    for l in file.leases {
        if l.binding == "free" && !isc_pair && config.subnet_containing(l.addr).is_some() {
            out.free_unrecorded += 1;
            continue;
        }
        match record(&l, config, &owners, isc_pair) {
            Ok(mut r) => {
                if config.failover.is_none() {
                    r.owner = Owner::Primary;
                }
                *out.by_state.entry(l.binding.clone()).or_default() += 1;
                out.leases.push(r);
            }
            Err(why) => out.skipped.push(Skipped {
                line: l.line,
                what: format!("lease {} ({})", l.addr, l.binding),
                why,
            }),
        }
    }
    out.skipped.sort_by_key(|s| s.line);
    out
}

/// One lease block as a record, or why it cannot be one.
fn record(
    l: &IscLease,
    config: &Config,
    owners: &LeaseStore,
    isc_pair: bool,
) -> Result<Lease, String> {
    if config.subnet_containing(l.addr).is_none() {
        return Err("outside every [[subnet]] of the tandem configuration".into());
    }
    if l.ends_never {
        return Err("an infinite (BOOTP) lease: give the client a reservation instead".into());
    }
    let (state, owner) = match l.binding.as_str() {
        "free" => (LeaseState::Free, Owner::Primary),
        "backup" => (LeaseState::Free, Owner::Secondary),
        "active" => (LeaseState::Active, bound_owner(l, owners, isc_pair)),
        "expired" => (LeaseState::Expired, bound_owner(l, owners, isc_pair)),
        "released" => (LeaseState::Released, bound_owner(l, owners, isc_pair)),
        "abandoned" => (LeaseState::Declined, bound_owner(l, owners, isc_pair)),
        other => return Err(format!("binding state {other} has no tandem equivalent")),
    };
    let mut r = Lease::free(l.addr, owner);
    r.state = state;
    if state == LeaseState::Free {
        return Ok(r);
    }
    r.hw = hardware(l)?;
    r.client_id = l.uid.clone();
    if state == LeaseState::Active && r.client_id.is_none() && r.hw.bytes().is_empty() {
        return Err("an active lease without hardware address or uid".into());
    }
    r.hostname = l.hostname.clone();
    let t = |v: Option<u64>| Time(v.unwrap_or(0));
    r.starts = t(l.starts);
    r.expires = t(l.ends);
    r.cltt = t(l.cltt.or(l.starts));
    let granted = r.expires.0.saturating_sub(r.starts.0);
    r.lease_time = u32::try_from(granted).unwrap_or(u32::MAX);
    r.potential_expiry = r.expires.max(t(l.tstp));
    r.acked_potential_expiry = t(l.tsfp).min(r.potential_expiry);
    Ok(r)
}

/// The owner of a bound address once it is free again: the rewind state
/// of an ISC pair's lease, else the tandem pool split's.
fn bound_owner(l: &IscLease, owners: &LeaseStore, isc_pair: bool) -> Owner {
    match l.rewind.as_deref() {
        Some("free") if isc_pair => Owner::Primary,
        Some("backup") => Owner::Secondary,
        _ => owners.initial_owner(l.addr),
    }
}

/// The `hardware` statement as htype and chaddr (RFC 1700 type numbers).
fn hardware(l: &IscLease) -> Result<HwAddr, String> {
    let Some((kind, octets)) = &l.hardware else {
        return Ok(HwAddr::default());
    };
    let htype = match kind.as_str() {
        "ethernet" => 1,
        "token-ring" => 6,
        "fddi" => 8,
        "infiniband" => 32,
        other => return Err(format!("hardware type {other} is not one tandem knows")),
    };
    if octets.len() > 16 {
        return Err(format!(
            "a {}-octet hardware address does not fit chaddr",
            octets.len()
        ));
    }
    Ok(HwAddr::new(htype, octets))
}

#[cfg(test)]
mod tests;
