//! Checks across subnets: overlapping subnets and pools, the total pool
//! size, and reservations that clash within a subnet.

use super::Checker;
use super::raw::RawConfig;
use crate::config::values::Range;
use crate::config::*;
use toml::Spanned;

/// Above this many pool addresses in total the free-address indexes would
/// take hundreds of megabytes; a campus needs far fewer.
const MAX_POOL_ADDRESSES: u64 = 1 << 22;

pub(super) fn cross_checks(c: &mut Checker, raw: &RawConfig, subnets: &[Subnet], pools: &[Pool]) {
    overlapping_subnets(c, raw);
    overlapping_pools(c, raw);
    let total: u64 = pools.iter().map(|p| p.range.len()).sum();
    if total > MAX_POOL_ADDRESSES {
        c.at_line(
            1,
            "subnet.pools",
            format!("{total} pool addresses in all; tandem supports up to {MAX_POOL_ADDRESSES}"),
        );
    }
    for (i, s) in subnets.iter().enumerate() {
        duplicate_reservations(c, raw, i, s);
        same_client_on_one_link(c, raw, subnets, i);
    }
}

/// Each reservation of subnet `i` for a client (MAC or client identifier)
/// already reserved in an earlier subnet of the same shared network: on one
/// link a client can hold one of them only.
fn same_client_on_one_link(c: &mut Checker, raw: &RawConfig, subnets: &[Subnet], i: usize) {
    let s = &subnets[i];
    let Some(net) = s.shared_network else { return };
    let earlier: Vec<&Reservation> = subnets[..i]
        .iter()
        .filter(|o| o.shared_network == Some(net))
        .flat_map(|o| &o.reservations)
        .collect();
    for (k, r) in s.reservations.iter().enumerate() {
        let clash = earlier.iter().find(|o| {
            (r.mac.is_some() && o.mac == r.mac)
                || (r.client_id.is_some() && o.client_id == r.client_id)
        });
        if let Some(o) = clash {
            c.at(
                &raw.subnet[i].get_ref().reservation[k],
                format!("subnet[{i}].reservation"),
                format!(
                    "the same client has a reservation at {} on this shared network",
                    o.address
                ),
            );
        }
    }
}

/// Each subnet that contains, or lies in, an earlier one.
fn overlapping_subnets(c: &mut Checker, raw: &RawConfig) {
    for (i, a) in raw.subnet.iter().enumerate() {
        for b in &raw.subnet[..i] {
            let (x, y) = (*a.get_ref().cidr.get_ref(), *b.get_ref().cidr.get_ref());
            if x.contains(y.network) || y.contains(x.network) {
                c.at(
                    &a.get_ref().cidr,
                    format!("subnet[{i}].cidr"),
                    format!("{x} overlaps {y}"),
                );
            }
        }
    }
}

/// Each pool that shares an address with an earlier one, in any subnet.
fn overlapping_pools(c: &mut Checker, raw: &RawConfig) {
    let ranges: Vec<(Range, &Spanned<Range>, usize)> = raw
        .subnet
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            let s = s.get_ref();
            let ruled = s.pool.iter().map(|p| &p.get_ref().range);
            s.pools
                .iter()
                .chain(ruled)
                .map(move |p| (*p.get_ref(), p, i))
        })
        .collect();
    for (k, (r, span, i)) in ranges.iter().enumerate() {
        if let Some((o, _, _)) = ranges[..k].iter().find(|(o, _, _)| o.overlaps(*r)) {
            c.at(
                span,
                format!("subnet[{i}].pools"),
                format!(
                    "{}-{} overlaps pool {}-{}",
                    r.first, r.last, o.first, o.last
                ),
            );
        }
    }
}

/// Each reservation of subnet `i` with the address, MAC or client
/// identifier of an earlier one.
fn duplicate_reservations(c: &mut Checker, raw: &RawConfig, i: usize, s: &Subnet) {
    let rs = &raw.subnet[i].get_ref().reservation;
    for (k, r) in s.reservations.iter().enumerate() {
        let clash = s.reservations[..k].iter().find(|o| {
            o.address == r.address
                || (r.mac.is_some() && o.mac == r.mac)
                || (r.client_id.is_some() && o.client_id == r.client_id)
        });
        if let Some(o) = clash {
            c.at(
                &rs[k],
                format!("subnet[{i}].reservation"),
                format!(
                    "duplicates the reservation of {} (same address, mac or client_id)",
                    o.address
                ),
            );
        }
    }
}
