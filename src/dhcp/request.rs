//! DHCPREQUEST in its four client states (RFC 2131 section 4.3.2), with the
//! pair-aware silences of DESIGN.md section 2.

use super::engine::{Engine, Outcome, RecvContext};
use super::policy::Policy;
use crate::config::Subnet;
use crate::lease::{LeaseState, LeaseStore};
use crate::proto::Request;
use crate::time::Time;
use std::net::Ipv4Addr;

impl Engine {
    pub(super) fn request(
        &self,
        now: Time,
        store: &mut LeaseStore,
        p: &impl Policy,
        req: &Request,
        ctx: &RecvContext,
    ) -> Outcome {
        match (
            req.server_id(),
            req.requested_ip(),
            req.ciaddr.is_unspecified(),
        ) {
            (Some(sid), _, _) => self.selecting(now, store, p, req, ctx, sid),
            (None, Some(addr), true) => self.init_reboot(now, store, p, req, ctx, addr),
            (None, _, false) => self.renewing(now, store, p, req, ctx),
            (None, None, true) => Outcome::ignore("request names no address"),
        }
    }

    fn selecting(
        &self,
        now: Time,
        store: &mut LeaseStore,
        p: &impl Policy,
        req: &Request,
        ctx: &RecvContext,
        sid: Ipv4Addr,
    ) -> Outcome {
        let key = req.client_key();
        if !self.is_ours(sid, ctx) {
            // The client took another server's offer: free ours at once.
            if let Some(a) = store.offer_for(&key) {
                store.drop_offer(a);
            }
            return Outcome::ignore("client chose another server");
        }
        let Some(addr) = req
            .requested_ip()
            .or((!req.ciaddr.is_unspecified()).then_some(req.ciaddr))
        else {
            return Outcome::ignore("request names no address");
        };
        let Some(subnet) = self.subnet(req, ctx) else {
            return Outcome::ignore("no subnet serves the client's link");
        };
        if !subnet.cidr.contains(addr) {
            return self.nak(req, ctx, Some(subnet), "address is not on your network");
        }
        if self.may_bind(now, store, p, subnet, req, addr) {
            self.ack(now, store, p, subnet, req, ctx, addr)
        } else {
            self.nak(req, ctx, Some(subnet), "address is not available")
        }
    }

    /// Whether `addr` may be bound to the client of a SELECTING request.
    fn may_bind(
        &self,
        now: Time,
        store: &LeaseStore,
        p: &impl Policy,
        subnet: &Subnet,
        req: &Request,
        addr: Ipv4Addr,
    ) -> bool {
        let key = req.client_key();
        if self.reserved_for_other(addr, subnet, req) || store.offered_to_other(addr, &key) {
            return false;
        }
        let held_by_other = store
            .get(addr)
            .is_some_and(|l| l.state == LeaseState::Active && l.client().as_ref() != Some(&key));
        if held_by_other
            || store
                .get(addr)
                .is_some_and(|l| l.state == LeaseState::Declined)
        {
            return false;
        }
        self.reservation(subnet, req)
            .is_some_and(|r| r.address == addr)
            || Self::own_record(store, &key, addr).is_some_and(|l| Self::may_regrant(l, p, now))
            || self.may_give(now, store, p, &key, addr)
    }

    fn init_reboot(
        &self,
        now: Time,
        store: &mut LeaseStore,
        p: &impl Policy,
        req: &Request,
        ctx: &RecvContext,
        addr: Ipv4Addr,
    ) -> Outcome {
        let Some(subnet) = self.subnet(req, ctx) else {
            return Outcome::ignore("no subnet serves the client's link");
        };
        let key = req.client_key();
        if !p.serves(&key, req.secs) {
            return Outcome::ignore("client belongs to the partner's share");
        }
        if !subnet.cidr.contains(addr) {
            return self.nak(req, ctx, Some(subnet), "address is not on your network");
        }
        if Self::own_record(store, &key, addr).is_some_and(|l| !Self::may_regrant(l, p, now)) {
            return Outcome::ignore("the client's ended lease is in the partner's pool");
        }
        if self
            .reservation(subnet, req)
            .is_some_and(|r| r.address == addr)
            || Self::own_record(store, &key, addr).is_some()
        {
            if self.reserved_for_other(addr, subnet, req) {
                return self.nak(
                    req,
                    ctx,
                    Some(subnet),
                    "address is reserved for another client",
                );
            }
            return self.ack(now, store, p, subnet, req, ctx, addr);
        }
        let known =
            store.client_leases(&key).next().is_some() || self.reservation(subnet, req).is_some();
        if known {
            return self.nak(req, ctx, Some(subnet), "address is not your lease");
        }
        let held_by_other = store
            .get(addr)
            .is_some_and(|l| l.client().is_some_and(|c| c != key) && l.state == LeaseState::Active);
        if held_by_other || subnet.authoritative {
            return self.nak(req, ctx, Some(subnet), "address is not your lease");
        }
        Outcome::ignore("init-reboot from a client with no record here")
    }

    fn renewing(
        &self,
        now: Time,
        store: &mut LeaseStore,
        p: &impl Policy,
        req: &Request,
        ctx: &RecvContext,
    ) -> Outcome {
        let addr = req.ciaddr;
        let Some(subnet) = self.subnet(req, ctx) else {
            return Outcome::ignore("no subnet serves the client's link");
        };
        if !subnet.cidr.contains(addr) {
            return self.nak(req, ctx, Some(subnet), "address is not on your network");
        }
        let key = req.client_key();
        if self.reserved_for_other(addr, subnet, req) {
            return self.nak(
                req,
                ctx,
                Some(subnet),
                "address is reserved for another client",
            );
        }
        if Self::own_record(store, &key, addr).is_some_and(|l| !Self::may_regrant(l, p, now)) {
            return Outcome::ignore("the client's ended lease is in the partner's pool");
        }
        if Self::own_record(store, &key, addr).is_some()
            || self
                .reservation(subnet, req)
                .is_some_and(|r| r.address == addr)
        {
            return self.ack(now, store, p, subnet, req, ctx, addr);
        }
        if store
            .get(addr)
            .is_some_and(|l| l.client().is_some() || l.state == LeaseState::Declined)
        {
            return self.nak(req, ctx, Some(subnet), "address belongs to another client");
        }
        if store.client_leases(&key).next().is_some() {
            return self.nak(req, ctx, Some(subnet), "you hold a different lease");
        }
        if store.pool_of(addr).is_none() {
            return if subnet.authoritative {
                self.nak(req, ctx, Some(subnet), "address is not in a pool")
            } else {
                Outcome::ignore("renewal of an address outside every pool")
            };
        }
        if store.offered_to_other(addr, &key) {
            return self.nak(req, ctx, Some(subnet), "address belongs to another client");
        }
        // No record of this client: re-learn the lease if the address is ours
        // to give (a lost database); stay silent if it is the partner's, whose
        // update may still be on its way.
        if self.may_give(now, store, p, &key, addr) {
            tracing::info!(%addr, client = %key, "re-learning a lease this server had no record of");
            return self.ack(now, store, p, subnet, req, ctx, addr);
        }
        Outcome::ignore("renewal of the partner's free address")
    }
}
