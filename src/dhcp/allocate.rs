//! Choosing an address to offer (DESIGN.md section 2, RFC 2131 section
//! 4.3.1): the client's reservation; its current or most recent lease in the
//! subnet; the address it asked for if free and ours to give; its pending
//! offer; then the free address we own that was used least recently.

use super::engine::Engine;
use super::policy::Policy;
use crate::config::{Class, Subnet};
use crate::lease::{LeaseState, LeaseStore};
use crate::proto::{ClientKey, Request};
use crate::time::Time;
use std::net::Ipv4Addr;

impl Engine {
    /// The address to offer `key` on `link`'s link, that is in `link` or,
    /// in a shared network, in any of its subnets (RFC 2131 section 4.3.1's
    /// order): its reservation, else the binding it had, else the address
    /// it asks for, else our outstanding offer, else a free address of
    /// ours, from the first subnet with room. `None` while relearning (only
    /// known bindings then) or when the pools are exhausted. With the
    /// address, whether it is new to the client (the address it asked for,
    /// or a free one): only such an address is pinged first.
    pub(super) fn choose(
        &self,
        now: Time,
        store: &LeaseStore,
        p: &impl Policy,
        link: &Subnet,
        key: &ClientKey,
        req: &Request,
    ) -> Option<(Ipv4Addr, bool)> {
        let reserved = self
            .config
            .link_of(link)
            .find_map(|s| self.free_reservation(store, s, key, req));
        if let Some(a) = reserved {
            return Some((a, false));
        }
        let classes = self.classes(req, link);
        let on_link = |a: Ipv4Addr| self.config.on_link(link, a).is_some();
        let usable = |a: Ipv4Addr| {
            on_link(a)
                && !self.reserved_for_other(a, req)
                && self.admitted(store, a, &classes)
                && !store.offered_to_other(a, key)
        };
        let previous = store
            .client_leases(key)
            .filter(|l| {
                usable(l.addr)
                    && l.state != LeaseState::Declined
                    && Self::may_regrant(store, l, p, now)
            })
            .max_by_key(|l| (l.state == LeaseState::Active, l.last_used()));
        if let Some(l) = previous {
            return Some((l.addr, false));
        }
        if let Some(a) = req.requested_ip().filter(|a| usable(*a))
            && self.may_give(now, store, p, key, a, false)
        {
            // Its own outstanding offer (a retransmission naming it) was
            // pinged when it was made.
            return Some((a, store.offer_for(key) != Some(a)));
        }
        // An outstanding offer is not a binding: it comes after what the
        // client asked for (RFC 2131 section 4.3.1).
        if let Some(a) = store.offer_for(key).filter(|a| {
            on_link(*a)
                && self.admitted(store, *a, &classes)
                && self.offer_stands(now, store, p, key, *a)
        }) {
            return Some((a, false));
        }
        if store.relearning(now) {
            return None;
        }
        self.next_free(now, store, p, link, &classes)
            .map(|a| (a, true))
    }

    /// Whether a new address must be pinged before it is offered
    /// (`[server] ping_check`): one never leased always, one leased before
    /// once it has been free `after_free` seconds.
    pub(super) fn ping_first(&self, store: &LeaseStore, a: Ipv4Addr, now: Time) -> bool {
        let Some(ping) = self.config.server.ping else {
            return false;
        };
        store.get(a).is_none_or(|l| {
            matches!(
                l.state,
                LeaseState::Free | LeaseState::Expired | LeaseState::Released
            ) && now.0.saturating_sub(l.expires.0) >= ping.after_free
        })
    }

    /// Whether `a` lies in a pool that gives new addresses to a client of
    /// `classes` (`[[subnet.pool]]`'s `allow` and `deny`).
    pub(super) fn admitted(&self, store: &LeaseStore, a: Ipv4Addr, classes: &[&Class]) -> bool {
        store
            .pool_of(a)
            .is_some_and(|p| self.config.pool(p).admits(classes))
    }

    /// The client's reserved address, unless another client holds or is
    /// offered it (then it is allocated dynamically, with a warning).
    fn free_reservation(
        &self,
        store: &LeaseStore,
        subnet: &Subnet,
        key: &ClientKey,
        req: &Request,
    ) -> Option<Ipv4Addr> {
        let r = self.reservation(subnet, req)?;
        let taken = store
            .get(r.address)
            .is_some_and(|l| l.state == LeaseState::Active && l.client().as_ref() != Some(key))
            || store.offered_to_other(r.address, key);
        if taken {
            tracing::warn!(addr = %r.address, client = %key, "reserved address is held by another client; allocating dynamically");
            return None;
        }
        Some(r.address)
    }

    /// Whether a free address may go to `key`: nothing else claims it, its
    /// owner's addresses are ours to use now, and failover lets it be reused.
    /// `relearn` says the client already holds it (a RENEW or INIT-REBOOT we
    /// have no binding for); only such a grant is made while the store is
    /// re-learning after a lost database, when any other could collide with
    /// a lease the lost database held.
    pub(super) fn may_give(
        &self,
        now: Time,
        store: &LeaseStore,
        p: &impl Policy,
        key: &ClientKey,
        a: Ipv4Addr,
        relearn: bool,
    ) -> bool {
        (relearn || !store.relearning(now))
            && store.is_takeable_by(a, key)
            && p.may_allocate(store.owner_of(a), now)
            && store
                .get(a)
                .is_none_or(|l| p.may_reuse(l, now, store.is_synced(l)))
    }

    /// Whether the OFFER of `a` to `key` may still go out: it is on record
    /// (its hold has not lapsed), the failover state answers clients, and
    /// the ordinary rules would give `a` to `key` now (`offer_stands`). The
    /// node asks this of an OFFER that waited for its ping.
    pub fn offer_holds(
        &self,
        now: Time,
        store: &LeaseStore,
        p: &impl Policy,
        key: &ClientKey,
        a: Ipv4Addr,
    ) -> bool {
        store.offer_for(key) == Some(a)
            && p.responsive()
            && self.offer_stands(now, store, p, key, a)
    }

    /// Whether an offer we made still holds: an offer is only a promise, and
    /// the record under it may have changed since (the lease expired, the
    /// partner's update moved it, the failover state changed). It holds if
    /// the client could be given the address now by the ordinary rules.
    pub(super) fn offer_stands(
        &self,
        now: Time,
        store: &LeaseStore,
        p: &impl Policy,
        key: &ClientKey,
        a: Ipv4Addr,
    ) -> bool {
        match Self::own_record(store, key, a) {
            Some(l) if l.state != LeaseState::Declined => Self::may_regrant(store, l, p, now),
            Some(_) => false,
            None => self.may_give(now, store, p, key, a, false),
        }
    }

    /// A free address on `link`'s link, in a pool that admits `classes`:
    /// this server's own first, in the subnets' order, then (when the
    /// failover state allows) the partner's.
    fn next_free(
        &self,
        now: Time,
        store: &LeaseStore,
        p: &impl Policy,
        link: &Subnet,
        classes: &[&Class],
    ) -> Option<Ipv4Addr> {
        let me = p.me();
        let owners = [
            me,
            if me == crate::lease::Owner::Primary {
                crate::lease::Owner::Secondary
            } else {
                crate::lease::Owner::Primary
            },
        ];
        for owner in owners.into_iter().filter(|o| p.may_allocate(*o, now)) {
            let pools = self.config.link_of(link).flat_map(|s| &s.pools);
            for pool in pools.filter(|id| self.config.pool(**id).admits(classes)) {
                if let Some(a) = store.first_free(*pool, owner)
                    && store.get(a).is_none_or(|l| p.may_reuse(l, now, true))
                {
                    return Some(a);
                }
            }
        }
        // In PARTNER-DOWN, bindings the partner never confirmed ended become
        // usable once the MCLT rule says the partner cannot still hold them.
        store
            .limbo()
            .find(|l| {
                self.config.on_link(link, l.addr).is_some()
                    && self.admitted(store, l.addr, classes)
                    && p.may_reuse(l, now, false)
                    && !store.is_offered(l.addr)
            })
            .map(|l| l.addr)
    }
}
