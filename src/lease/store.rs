//! The authoritative lease table in memory, with the indexes the packet path
//! needs: by address, by client, by expiry, and the free addresses of each
//! pool and owner in reuse order. SQLite is only the journal behind it.
//!
//! With a partner, the store also numbers every local change (the sequence
//! the binding-update protocol replicates) and knows which changes the partner
//! has acknowledged. An expired or released lease whose latest local change is
//! not yet acknowledged sits in "limbo": not free for another client, because
//! the partner may still have renewed it (draft-ietf-dhc-failover-12 §5.2.4).

use super::model::{Lease, LeaseState, Owner};
use crate::config::{Config, PoolId};
use crate::proto::ClientKey;
use crate::time::Time;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::Ipv4Addr;

/// An address set aside for a client between OFFER and REQUEST. Not journaled:
/// an offer is a promise the client may not take up.
#[derive(Clone, Debug)]
struct Offer {
    client: ClientKey,
    until: Time,
}

#[derive(Clone, Copy, Debug)]
struct PoolSpan {
    first: u32,
    last: u32,
    id: PoolId,
}

/// The in-memory lease table and its indexes, the one the engine and the peer
/// work on; SQLite only journals its changes. Holds a record per touched address
/// (an untouched pool address is free, owned as the split says) and the
/// outstanding offers.
pub struct LeaseStore {
    leases: HashMap<Ipv4Addr, Lease>,
    by_client: HashMap<ClientKey, Vec<Ipv4Addr>>,
    /// Active leases by expiry and declined ones by end of probation.
    timers: BTreeSet<(Time, Ipv4Addr)>,
    /// Per pool and owner: allocatable addresses keyed by `Lease::last_used`.
    free: Vec<[BTreeSet<(Time, Ipv4Addr)>; 2]>,
    /// Reusable records whose local change the partner has not acknowledged.
    limbo: BTreeSet<(Time, Ipv4Addr)>,
    spans: Vec<PoolSpan>,
    reserved: HashSet<Ipv4Addr>,
    offers: HashMap<Ipv4Addr, Offer>,
    offer_by_client: HashMap<ClientKey, Ipv4Addr>,
    offer_timers: BTreeSet<(Time, Ipv4Addr)>,
    /// Parts of 256 of each pool that start out owned by the primary.
    split: u16,
    /// Whether local changes are numbered for a partner.
    replicating: bool,
    /// Beside an ISC dhcpd partner: an address whose binding ends here
    /// (expired, released, declined) goes to the primary, as ISC's
    /// EXPIRED, RELEASED and ABANDONED become FREE, the primary's
    /// (`return_freed_to_primary`).
    freed_to_primary: bool,
    next_seq: u64,
    acked_seq: u64,
    /// Highest local sequence number known to be on disk.
    durable_seq: u64,
    /// Local changes the partner has not acknowledged, by sequence number.
    pending: BTreeMap<u64, Ipv4Addr>,
    /// The database was lost: until then this table may lack leases that
    /// clients still hold, so only re-learning grants are made (DESIGN.md
    /// section 2, "a lost database is not a new installation").
    relearn_until: Option<Time>,
}

impl LeaseStore {
    /// An empty table for `config`'s pools; `split` of 256 parts of every pool
    /// start out owned by the primary (256 for a server without a partner).
    pub fn new(config: &Config, split: u16) -> LeaseStore {
        let spans = spans_of(config);
        let reserved = reserved_of(config);
        let mut store = LeaseStore {
            leases: HashMap::new(),
            by_client: HashMap::new(),
            timers: BTreeSet::new(),
            free: (0..config.pools.len())
                .map(|_| [BTreeSet::new(), BTreeSet::new()])
                .collect(),
            limbo: BTreeSet::new(),
            spans,
            reserved,
            offers: HashMap::new(),
            offer_by_client: HashMap::new(),
            offer_timers: BTreeSet::new(),
            split: split.min(256),
            replicating: false,
            freed_to_primary: false,
            next_seq: 1,
            acked_seq: 0,
            durable_seq: 0,
            pending: BTreeMap::new(),
            relearn_until: None,
        };
        for span in store.spans.clone() {
            for a in span.first..=span.last {
                store.index(Ipv4Addr::from(a));
            }
        }
        store
    }

    fn span_of(&self, addr: Ipv4Addr) -> Option<&PoolSpan> {
        let a = u32::from(addr);
        let i = self.spans.partition_point(|s| s.first <= a);
        let s = self.spans.get(i.checked_sub(1)?)?;
        (a <= s.last).then_some(s)
    }

    /// The pool containing `addr`, if any.
    pub fn pool_of(&self, addr: Ipv4Addr) -> Option<PoolId> {
        self.span_of(addr).map(|s| s.id)
    }

    /// Who owns `addr` while no record says otherwise: the first `split`/256 of
    /// each pool belong to the primary, the rest to the secondary.
    pub fn initial_owner(&self, addr: Ipv4Addr) -> Owner {
        let Some(s) = self.span_of(addr) else {
            return Owner::Primary;
        };
        let len = u64::from(s.last - s.first) + 1;
        let primary_part = len * u64::from(self.split) / 256;
        if u64::from(u32::from(addr) - s.first) < primary_part {
            Owner::Primary
        } else {
            Owner::Secondary
        }
    }

    /// The record of `addr`, if it has one.
    pub fn get(&self, addr: Ipv4Addr) -> Option<&Lease> {
        self.leases.get(&addr)
    }

    /// The owner of `addr` now: its record's, else the initial split.
    pub fn owner_of(&self, addr: Ipv4Addr) -> Owner {
        self.leases
            .get(&addr)
            .map_or_else(|| self.initial_owner(addr), |l| l.owner)
    }

    /// Addresses whose current record is bound to `client`.
    pub fn client_leases(&self, client: &ClientKey) -> impl Iterator<Item = &Lease> {
        self.by_client
            .get(client)
            .into_iter()
            .flatten()
            .filter_map(|a| self.leases.get(a))
    }

    /// Every record, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Lease> {
        self.leases.values()
    }

    /// Number of records (addresses ever touched), not of pool addresses.
    pub fn len(&self) -> usize {
        self.leases.len()
    }

    /// Whether no address has a record.
    pub fn is_empty(&self) -> bool {
        self.leases.is_empty()
    }

    /// Records a change this server made; with a partner it gets the next
    /// sequence number. Returns the record as stored (to journal and send).
    pub fn upsert(&mut self, mut lease: Lease) -> Lease {
        if self.freed_to_primary && ended(lease.state) {
            lease.owner = Owner::Primary;
        }
        if self.replicating {
            lease.update_seq = self.next_seq;
            self.next_seq += 1;
        }
        self.put(lease.clone());
        lease
    }

    /// Stores a record exactly as given: loaded from disk, or accepted from
    /// the partner (whose records carry `update_seq` 0).
    pub fn put(&mut self, lease: Lease) {
        let addr = lease.addr;
        self.unindex(addr);
        self.leases.insert(addr, lease);
        self.index(addr);
    }

    /// Sets the partner-acknowledged potential expiry of a record without it
    /// counting as a new change.
    pub fn set_acked_potential_expiry(&mut self, addr: Ipv4Addr, t: Time) -> Option<Lease> {
        let mut l = self.leases.get(&addr)?.clone();
        if l.acked_potential_expiry >= t {
            return None;
        }
        l.acked_potential_expiry = t;
        self.put(l.clone());
        Some(l)
    }

    /// Marks the table as possibly incomplete until `until` (a lost
    /// database), or complete again with `None`.
    pub fn set_relearn_until(&mut self, until: Option<Time>) {
        self.relearn_until = until;
    }

    /// When the re-learning period after a lost database ends, if it runs.
    pub fn relearn_until(&self) -> Option<Time> {
        self.relearn_until
    }

    /// Whether the table may still lack leases clients hold at `now`: only
    /// a client's own claim (RENEW, REBIND, INIT-REBOOT) may be granted.
    pub fn relearning(&self, now: Time) -> bool {
        self.relearn_until.is_some_and(|t| now < t)
    }

    /// Whether `addr` could be given to a new client right now (any owner).
    pub fn is_allocatable(&self, addr: Ipv4Addr) -> bool {
        self.free_entry(addr).is_some()
    }

    /// Whether `addr` could go to `client` as far as the store knows: in a
    /// pool, not reserved, not promised to someone else, and not bound. Whose
    /// it is and whether its history allows reuse are the policy's questions.
    pub fn is_takeable_by(&self, addr: Ipv4Addr, client: &ClientKey) -> bool {
        self.pool_of(addr).is_some()
            && !self.reserved.contains(&addr)
            && !self.offered_to_other(addr, client)
            && self.leases.get(&addr).is_none_or(|l| l.state.is_reusable())
    }

    /// The next address to hand out from `pool` among those `owner` owns.
    pub fn first_free(&self, pool: PoolId, owner: Owner) -> Option<Ipv4Addr> {
        self.free.get(pool.0 as usize)?[owner.index()]
            .first()
            .map(|(_, a)| *a)
    }

    /// How many addresses of `pool` owned by `owner` are allocatable now: free, expired
    /// or released, acknowledged by the partner, not reserved and not on offer.
    pub fn free_count(&self, pool: PoolId, owner: Owner) -> usize {
        self.free
            .get(pool.0 as usize)
            .map_or(0, |f| f[owner.index()].len())
    }

    /// Free addresses of `pool` owned by `owner`, in reuse order.
    pub fn free_addrs(&self, pool: PoolId, owner: Owner) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.free
            .get(pool.0 as usize)
            .into_iter()
            .flat_map(move |f| f[owner.index()].iter().map(|(_, a)| *a))
    }

    /// Reusable records waiting for the partner's acknowledgement, oldest first.
    pub fn limbo(&self) -> impl Iterator<Item = &Lease> {
        self.limbo.iter().filter_map(|(_, a)| self.leases.get(a))
    }

    /// Records whose timer (expiry or end of probation) is due at `now`.
    pub fn due(&self, now: Time) -> Vec<Ipv4Addr> {
        self.timers
            .range(..=(now, Ipv4Addr::BROADCAST))
            .map(|(_, a)| *a)
            .collect()
    }

    /// When the next lease or offer timer fires.
    pub fn next_timer(&self) -> Option<Time> {
        let a = self.timers.first().map(|(t, _)| *t);
        let b = self.offer_timers.first().map(|(t, _)| *t);
        a.into_iter().chain(b).min()
    }

    /// Where `addr` belongs among the free addresses, if it is free to allocate.
    fn free_entry(&self, addr: Ipv4Addr) -> Option<(PoolId, Owner, Time)> {
        let pool = self.pool_of(addr)?;
        if self.reserved.contains(&addr) || self.offers.contains_key(&addr) {
            return None;
        }
        match self.leases.get(&addr) {
            None => Some((pool, self.initial_owner(addr), Time::ZERO)),
            Some(l) if l.state.is_reusable() && self.is_synced(l) => {
                Some((pool, l.owner, l.last_used()))
            }
            Some(_) => None,
        }
    }

    fn in_limbo(&self, l: &Lease) -> bool {
        l.state.is_reusable() && !self.is_synced(l) && self.pool_of(l.addr).is_some()
    }

    fn index_free(&mut self, addr: Ipv4Addr) {
        if let Some((pool, owner, t)) = self.free_entry(addr) {
            self.free[pool.0 as usize][owner.index()].insert((t, addr));
        }
    }

    fn unindex_free(&mut self, addr: Ipv4Addr) {
        if let Some((pool, owner, t)) = self.free_entry(addr) {
            self.free[pool.0 as usize][owner.index()].remove(&(t, addr));
        }
    }

    fn index(&mut self, addr: Ipv4Addr) {
        self.index_free(addr);
        let Some(l) = self.leases.get(&addr) else {
            return;
        };
        let (client, timer, limbo) = (
            l.client(),
            matches!(l.state, LeaseState::Active | LeaseState::Declined),
            self.in_limbo(l),
        );
        let (expires, last_used, seq) = (l.expires, l.last_used(), l.update_seq);
        if let Some(c) = client {
            let v = self.by_client.entry(c).or_default();
            if !v.contains(&addr) {
                v.push(addr);
            }
        }
        if timer {
            self.timers.insert((expires, addr));
        }
        if limbo {
            self.limbo.insert((last_used, addr));
        }
        if self.replicating && seq > self.acked_seq {
            self.pending.insert(seq, addr);
        }
    }

    fn unindex(&mut self, addr: Ipv4Addr) {
        self.unindex_free(addr);
        let Some(l) = self.leases.get(&addr) else {
            return;
        };
        let (client, expires, last_used, seq) =
            (l.client(), l.expires, l.last_used(), l.update_seq);
        if let Some(c) = client
            && let Some(v) = self.by_client.get_mut(&c)
        {
            v.retain(|a| *a != addr);
            if v.is_empty() {
                self.by_client.remove(&c);
            }
        }
        self.timers.remove(&(expires, addr));
        self.limbo.remove(&(last_used, addr));
        self.pending.remove(&seq);
    }
}

/// The pools of `config` in address order.
fn spans_of(config: &Config) -> Vec<PoolSpan> {
    let mut spans: Vec<PoolSpan> = config
        .pools
        .iter()
        .map(|p| PoolSpan {
            first: u32::from(p.range.first),
            last: u32::from(p.range.last),
            id: p.id,
        })
        .collect();
    spans.sort_by_key(|s| s.first);
    spans
}

/// Every reserved address of `config`, and those held for runtime
/// reservations it does not apply.
fn reserved_of(config: &Config) -> HashSet<Ipv4Addr> {
    config
        .subnets
        .iter()
        .flat_map(|s| s.reservations.iter().map(|r| r.address))
        .chain(config.held.iter().copied())
        .collect()
}

/// Whether a record of `state` is a binding that ended (expired, released,
/// declined).
pub(super) fn ended(state: LeaseState) -> bool {
    matches!(
        state,
        LeaseState::Expired | LeaseState::Released | LeaseState::Declined
    )
}

mod offers;
mod reconfigure;
mod sequence;

#[cfg(test)]
mod tests;
