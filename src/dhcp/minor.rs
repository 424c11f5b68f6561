//! The messages that grant nothing new: DHCPINFORM (options only), DHCPRELEASE
//! and DHCPDECLINE (lease changes, no reply).

use super::engine::Engine;
use super::outcome::{Outcome, RecvContext, Reply, Verdict};
use super::route;
use crate::lease::{Lease, LeaseState, LeaseStore};
use crate::proto::reply::{ReplyKind, reply_limit};
use crate::proto::{HwAddr, ReplyBuilder, Request};
use crate::time::Time;

impl Engine {
    pub(super) fn inform(&self, req: &Request, ctx: &RecvContext) -> Outcome {
        let subnet = self
            .config
            .subnet_containing(req.ciaddr)
            .or_else(|| self.subnet(req, ctx));
        let Some(subnet) = subnet else {
            return Outcome::ignore("no subnet serves the client's link");
        };
        let Some(route) = route::for_inform(req) else {
            return Outcome::ignore("inform without ciaddr from a directly attached client");
        };
        let mut rb = ReplyBuilder::new(req, ReplyKind::Ack, reply_limit(req));
        rb.set_ciaddr(req.ciaddr);
        if req.is_relayed() && req.ciaddr.is_unspecified() {
            // The relay can reach a client without an address only by
            // broadcast, and only if told to (RFC 1542 section 5.4).
            rb.set_broadcast_flag();
        }
        let asm = self.assembly(req, ctx, subnet, None);
        asm.write_fixed(&mut rb);
        asm.write(&mut rb);
        let reply = Reply {
            bytes: rb.finish(),
            route,
            after_commit: false,
            ping_first: None,
        };
        Outcome {
            reply: Some(reply),
            changes: Vec::new(),
            verdict: Verdict::Informed,
        }
    }

    /// DHCPRELEASE: the client's active binding on `ciaddr` ends now.
    /// RFC 2131 table 5 makes option 54 a MUST, but systemd-networkd (252)
    /// sends RELEASE without it, and ISC dhcpd and Kea take such a release;
    /// so only a release that names another server is ignored (it is that
    /// server's to act on). The client key must match the binding either way.
    pub(super) fn release(
        &self,
        now: Time,
        store: &mut LeaseStore,
        req: &Request,
        ctx: &RecvContext,
    ) -> Outcome {
        if req
            .server_id()
            .is_some_and(|id| !self.is_ours(id, req, ctx))
        {
            return Outcome::ignore("release names another server");
        }
        let addr = req.ciaddr;
        let key = req.client_key();
        let Some(mut l) = store
            .get(addr)
            .filter(|l| l.state == LeaseState::Active && l.client() == Some(key.clone()))
            .cloned()
        else {
            return Outcome::ignore("release of an address the client does not hold");
        };
        l.state = LeaseState::Released;
        l.expires = now;
        l.cltt = now;
        let l = store.upsert(l);
        Outcome {
            reply: None,
            changes: vec![l],
            verdict: Verdict::Released(addr),
        }
    }

    pub(super) fn decline(
        &self,
        now: Time,
        store: &mut LeaseStore,
        req: &Request,
        ctx: &RecvContext,
    ) -> Outcome {
        if req
            .server_id()
            .is_some_and(|id| !self.is_ours(id, req, ctx))
        {
            return Outcome::ignore("decline names another server");
        }
        let Some(addr) = req.requested_ip() else {
            return Outcome::ignore("decline without an address");
        };
        let key = req.client_key();
        let bound = store
            .get(addr)
            .is_some_and(|l| l.client() == Some(key.clone()));
        let offered = store.offer_for(&key) == Some(addr)
            && store
                .get(addr)
                .is_none_or(|l| l.state != LeaseState::Active);
        if !bound && !offered {
            return Outcome::ignore("decline of an address the client was not given");
        }
        let l = self.quarantine(now, store, addr, Some(req));
        tracing::warn!(%addr, client = %key, "address declined: in use by an unknown host; quarantined until {}", l.expires);
        Outcome {
            reply: None,
            changes: vec![l],
            verdict: Verdict::Declined(addr),
        }
    }

    /// Takes `addr` out of use for `decline_probation` (a DHCPDECLINE from
    /// `by`, or a ping answered before an offer): a declined record, to be
    /// journaled and replicated like any lease change, and its offer
    /// dropped. Returns the record.
    pub fn quarantine(
        &self,
        now: Time,
        store: &mut LeaseStore,
        addr: std::net::Ipv4Addr,
        by: Option<&Request>,
    ) -> Lease {
        store.drop_offer(addr);
        let owner = store.owner_of(addr);
        let mut l = store
            .get(addr)
            .cloned()
            .unwrap_or_else(|| Lease::free(addr, owner));
        // The records of the binding it ends, named by its client's DHCID,
        // which the record is about to lose (`ddns::orphaned`).
        l.dns = l.dns.as_deref().and_then(|d| crate::ddns::orphaned(&l, d));
        l.state = LeaseState::Declined;
        // The client that declined it, or (a ping answered) no client: the
        // squatter is none of ours.
        l.hw = by.map_or_else(HwAddr::default, |req| req.hw);
        l.client_id = by.and_then(|req| req.client_id().map(<[u8]>::to_vec));
        l.hostname = None;
        l.cltt = now;
        l.expires = now.plus(self.config.server.decline_probation);
        store.upsert(l)
    }
}
