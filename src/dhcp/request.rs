//! DHCPREQUEST in its four client states (RFC 2131 section 4.3.2), with the
//! NAK rules and pair-aware silences of DESIGN.md section 2.

use super::engine::Engine;
use super::outcome::{Outcome, RecvContext};
use super::policy::Policy;
use crate::config::Subnet;
use crate::lease::{LeaseState, LeaseStore};
use crate::proto::{ClientKey, Request};
use crate::time::Time;
use std::net::Ipv4Addr;

/// The client state a DHCPREQUEST comes from, read from RFC 2131 Table 5.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum RequestState {
    /// Option 54 and option 50: the answer to an offer. ciaddr MUST be 0 and
    /// is ignored if a client sets it anyway.
    Selecting { server: Ipv4Addr, addr: Ipv4Addr },
    /// Option 50 without option 54: a client verifying its lease. ciaddr
    /// MUST be 0; option 50 decides, as in ISC dhcpd and Kea.
    InitReboot { addr: Ipv4Addr },
    /// ciaddr set and no option 50: RENEWING (unicast) or REBINDING
    /// (broadcast). Some clients name their server here too; `server` keeps it.
    Renewing {
        ciaddr: Ipv4Addr,
        server: Option<Ipv4Addr>,
    },
}

impl RequestState {
    /// The state of `req`, or `None` when it names no address at all.
    pub(super) fn of(req: &Request) -> Option<RequestState> {
        let ciaddr = (!req.ciaddr.is_unspecified()).then_some(req.ciaddr);
        Some(match (req.server_id(), req.requested_ip(), ciaddr) {
            (Some(server), Some(addr), _) => RequestState::Selecting { server, addr },
            (None, Some(addr), _) => RequestState::InitReboot { addr },
            (server, _, Some(ciaddr)) => RequestState::Renewing { ciaddr, server },
            (_, None, None) => return None,
        })
    }
}

impl Engine {
    pub(super) fn request(
        &self,
        now: Time,
        store: &mut LeaseStore,
        p: &impl Policy,
        req: &Request,
        ctx: &RecvContext,
    ) -> Outcome {
        match RequestState::of(req) {
            Some(RequestState::Selecting { server, addr }) => {
                self.selecting(now, store, p, req, ctx, server, addr)
            }
            Some(RequestState::InitReboot { addr }) => {
                self.init_reboot(now, store, p, req, ctx, addr)
            }
            Some(RequestState::Renewing { server, .. })
                if server.is_some_and(|s| !self.is_ours(s, req, ctx)) =>
            {
                Outcome::ignore("renewal names another server")
            }
            Some(RequestState::Renewing { ciaddr, .. }) => {
                self.renewing(now, store, p, req, ctx, ciaddr)
            }
            None => Outcome::ignore("request names no address"),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn selecting(
        &self,
        now: Time,
        store: &mut LeaseStore,
        p: &impl Policy,
        req: &Request,
        ctx: &RecvContext,
        sid: Ipv4Addr,
        addr: Ipv4Addr,
    ) -> Outcome {
        let key = req.client_key();
        if !self.is_ours(sid, req, ctx) {
            // The client took another server's offer: free ours at once.
            if let Some(a) = store.offer_for(&key) {
                store.drop_offer(a);
            }
            return Outcome::ignore("client chose another server");
        }
        // Behind a relay's override every server has the relay's identifier
        // (RFC 5107): only the one that made the offer may answer, or the
        // failover partner that did not would NAK its partner's offer.
        if !self.is_own_address(sid, ctx) && store.offer_for(&key) != Some(addr) {
            return Outcome::ignore(
                "selecting, through a relay's override, an offer this server did not make",
            );
        }
        let Some(link) = self.subnet(req, ctx) else {
            return Outcome::ignore("no subnet serves the client's link");
        };
        let Some(subnet) = self.config.on_link(link, addr) else {
            return self.nak(req, ctx, Some(link), "address is not on your network");
        };
        if self.may_bind(now, store, p, subnet, req, addr) {
            return self.ack(now, store, p, subnet, req, ctx, addr);
        }
        // A server that is not authoritative does not NAK what it does not
        // know: an address it never offered this client (a client it has no
        // record of was offered nothing).
        if !subnet.authoritative && store.offer_for(&key) != Some(addr) {
            return Outcome::ignore("selecting an address this server never offered the client");
        }
        self.nak(req, ctx, Some(subnet), "address is not available")
    }

    /// Whether this server has any record of the client: a lease (in any
    /// state that remembers it), an offer, or a reservation on `subnet`'s link.
    fn knows(&self, store: &LeaseStore, subnet: &Subnet, req: &Request) -> bool {
        let key = req.client_key();
        store.client_leases(&key).next().is_some()
            || store.offer_for(&key).is_some()
            || self
                .config
                .link_of(subnet)
                .any(|s| self.reservation(s, req).is_some())
    }

    /// Whether a binding (or a decline's quarantine) holds `addr`: only
    /// those do; a released or expired lease leaves it free to re-learn.
    fn held(store: &LeaseStore, addr: Ipv4Addr) -> bool {
        store
            .get(addr)
            .is_some_and(|l| matches!(l.state, LeaseState::Active | LeaseState::Declined))
    }

    /// The client's active lease on `subnet`'s link (in any subnet of its
    /// shared network) on an address other than `addr`.
    pub(super) fn other_active(
        &self,
        store: &LeaseStore,
        subnet: &Subnet,
        key: &ClientKey,
        addr: Ipv4Addr,
    ) -> Option<Ipv4Addr> {
        store
            .client_leases(key)
            .find(|l| {
                l.addr != addr
                    && l.state == LeaseState::Active
                    && self.config.on_link(subnet, l.addr).is_some()
            })
            .map(|l| l.addr)
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
        if self.reserved_for_other(addr, req) || store.offered_to_other(addr, &key) {
            return false;
        }
        let reserved = self
            .reservation(subnet, req)
            .is_some_and(|r| r.address == addr);
        if reserved {
            return !Self::held(store, addr) || Self::own_record(store, &key, addr).is_some();
        }
        // A client holding another lease here keeps it unless we offered
        // it this one (the offer then replaces the old lease).
        if self.other_active(store, subnet, &key, addr).is_some()
            && store.offer_for(&key) != Some(addr)
        {
            return false;
        }
        match Self::own_record(store, &key, addr) {
            Some(l) if l.state == LeaseState::Declined => false,
            Some(l) => store.pool_of(addr).is_some() && Self::may_regrant(store, l, p, now),
            None => {
                self.admitted(store, addr, &self.classes(req, subnet))
                    && self.may_give(now, store, p, &key, addr, false)
            }
        }
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
        let Some(link) = self.subnet(req, ctx) else {
            return Outcome::ignore("no subnet serves the client's link");
        };
        let key = req.client_key();
        if !p.serves(&key, req.secs) {
            return Outcome::ignore("client belongs to the partner's share");
        }
        let Some(subnet) = self.config.on_link(link, addr) else {
            return self.nak(req, ctx, Some(link), "address is not on your network");
        };
        if let Some(out) = self.verify_own(now, store, p, subnet, req, ctx, addr) {
            return out;
        }
        if self.knows(store, subnet, req) {
            return self.nak(req, ctx, Some(subnet), "address is not your lease");
        }
        // A server that lost its database learns the lease back from the
        // client that holds it (only its own free addresses: the partner's
        // update may be on its way).
        if store.relearning(now)
            && self.admitted(store, addr, &self.classes(req, subnet))
            && self.may_give(now, store, p, &key, addr, true)
        {
            tracing::info!(%addr, client = %key, "re-learning a lease after a lost database");
            return self.ack(now, store, p, subnet, req, ctx, addr);
        }
        if subnet.authoritative {
            return self.nak(req, ctx, Some(subnet), "address is not your lease");
        }
        Outcome::ignore("init-reboot from a client with no record here")
    }

    /// INIT-REBOOT, RENEWING and REBINDING of the client's own lease or
    /// reservation at `addr`: the ACK, the NAK, or a silence; `None` when
    /// `addr` is neither, so the caller's rules for strangers apply.
    #[allow(clippy::too_many_arguments)]
    fn verify_own(
        &self,
        now: Time,
        store: &mut LeaseStore,
        p: &impl Policy,
        subnet: &Subnet,
        req: &Request,
        ctx: &RecvContext,
        addr: Ipv4Addr,
    ) -> Option<Outcome> {
        let key = req.client_key();
        let reserved = self
            .reservation(subnet, req)
            .is_some_and(|r| r.address == addr);
        // Whether the client's own record is there, and may be granted again.
        let own = Self::own_record(store, &key, addr).map(|l| Self::may_regrant(store, l, p, now));
        if !reserved && own.is_none() {
            return None;
        }
        if self.reserved_for_other(addr, req) {
            let why = "address is reserved for another client";
            return Some(self.nak(req, ctx, Some(subnet), why));
        }
        // A reservation made while another client held the address waits
        // for that lease to end (as `choose` and `may_bind` do).
        if own.is_none() && Self::held(store, addr) {
            let why = "address belongs to another client";
            return Some(self.nak(req, ctx, Some(subnet), why));
        }
        if !reserved && store.pool_of(addr).is_none() {
            // The pool no longer covers it (a config change): move the
            // client on, so it never holds two leases here.
            let ended = Self::own_record(store, &key, addr)
                .cloned()
                .and_then(|l| self.end_lease(now, store, &l));
            let mut out = self.nak(req, ctx, Some(subnet), "address is no longer in a pool");
            out.changes.extend(ended);
            return Some(out);
        }
        if own == Some(false) {
            return Some(Outcome::ignore(
                "the client's ended lease is in the partner's pool",
            ));
        }
        Some(self.ack(now, store, p, subnet, req, ctx, addr))
    }

    #[allow(clippy::too_many_arguments)]
    fn renewing(
        &self,
        now: Time,
        store: &mut LeaseStore,
        p: &impl Policy,
        req: &Request,
        ctx: &RecvContext,
        addr: Ipv4Addr,
    ) -> Outcome {
        let Some(link) = self.subnet(req, ctx) else {
            return Outcome::ignore("no subnet serves the client's link");
        };
        let Some(subnet) = self.config.on_link(link, addr) else {
            return self.nak(req, ctx, Some(link), "address is not on your network");
        };
        if let Some(out) = self.verify_own(now, store, p, subnet, req, ctx, addr) {
            return out;
        }
        let key = req.client_key();
        if self.reserved_for_other(addr, req) {
            let why = "address is reserved for another client";
            return self.nak(req, ctx, Some(subnet), why);
        }
        // Only a binding holds an address: a released or expired lease of
        // another client does not (it is re-learned below, as ISC and Kea do).
        if Self::held(store, addr) || store.offered_to_other(addr, &key) {
            return self.nak(req, ctx, Some(subnet), "address belongs to another client");
        }
        if self.other_active(store, subnet, &key, addr).is_some() {
            return self.nak(req, ctx, Some(subnet), "you hold a different lease");
        }
        if store.pool_of(addr).is_none() {
            return if subnet.authoritative || self.knows(store, subnet, req) {
                self.nak(req, ctx, Some(subnet), "address is not in a pool")
            } else {
                Outcome::ignore("renewal of an address outside every pool")
            };
        }
        if let Some(out) = self.refuse_pool(store, subnet, req, ctx, addr) {
            return out;
        }
        // No binding of this client: re-learn the lease if the address is
        // ours to give (a lost database, or a lease whose holder left); stay
        // silent if it is the partner's, whose update may still be on its way.
        if self.may_give(now, store, p, &key, addr, true) {
            tracing::info!(%addr, client = %key, "re-learning a lease this server had no binding for");
            return self.ack(now, store, p, subnet, req, ctx, addr);
        }
        Outcome::ignore("renewal of an address not ours to give now")
    }

    /// A renewal of an address in a pool that does not admit the client's
    /// classes: no lease it may hold, whatever it claims (NAK when this
    /// server is authoritative or knows the client, else silence).
    fn refuse_pool(
        &self,
        store: &LeaseStore,
        subnet: &Subnet,
        req: &Request,
        ctx: &RecvContext,
        addr: Ipv4Addr,
    ) -> Option<Outcome> {
        if self.admitted(store, addr, &self.classes(req, subnet)) {
            return None;
        }
        let why = "address is in a pool your class may not use";
        Some(if subnet.authoritative || self.knows(store, subnet, req) {
            self.nak(req, ctx, Some(subnet), why)
        } else {
            Outcome::ignore("renewal of an address in a pool the client's class may not use")
        })
    }
}
