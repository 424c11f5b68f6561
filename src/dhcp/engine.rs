//! The engine: dispatch by message type, DISCOVER/INFORM/RELEASE/DECLINE, and
//! the timer that expires leases. REQUEST has its own module.

use super::outcome::{Outcome, RecvContext, Verdict};
use super::policy::Policy;
use super::select::subnet_for;
use super::times::{self, Grant};
use crate::config::{Config, Reservation, Subnet, SubnetId};
use crate::lease::{Lease, LeaseState, LeaseStore};
use crate::proto::packet::MessageType;
use crate::proto::reply::ReplyKind;
use crate::proto::{ClientKey, Request};
use crate::time::Time;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// The sans-IO DHCP server: takes a decoded request, the time, the lease
/// store and the failover policy, and returns an `Outcome`. It holds only
/// the config and indexes of its reservations; all lease state is in the store.
pub struct Engine {
    pub(super) config: Arc<Config>,
    /// Our addresses, any of which a client may name as server identifier.
    our_ids: Vec<Ipv4Addr>,
    by_mac: HashMap<(SubnetId, [u8; 6]), usize>,
    by_client_id: HashMap<(SubnetId, Vec<u8>), usize>,
    reserved_for: HashMap<Ipv4Addr, (SubnetId, usize)>,
}

impl Engine {
    /// `our_ids` are the local addresses clients may know this server by.
    pub fn new(config: Arc<Config>, our_ids: Vec<Ipv4Addr>) -> Engine {
        let mut our_ids = our_ids;
        our_ids.extend(config.server.server_id);
        let mut e = Engine {
            config: config.clone(),
            our_ids,
            by_mac: HashMap::new(),
            by_client_id: HashMap::new(),
            reserved_for: HashMap::new(),
        };
        e.reconfigure(config);
        e
    }

    /// Takes a reloaded configuration (`config::reload` has checked that
    /// the server identity is unchanged): its subnets, options, lease times
    /// and reservations apply to the next request.
    pub fn reconfigure(&mut self, config: Arc<Config>) {
        self.by_mac.clear();
        self.by_client_id.clear();
        self.reserved_for.clear();
        for s in &config.subnets {
            for (i, r) in s.reservations.iter().enumerate() {
                if let Some(m) = r.mac {
                    self.by_mac.insert((s.id, m), i);
                }
                if let Some(c) = &r.client_id {
                    self.by_client_id.insert((s.id, c.clone()), i);
                }
                self.reserved_for.insert(r.address, (s.id, i));
            }
        }
        self.config = config;
    }

    /// The configuration the engine was built with.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// Decides one request received as `ctx` describes: the reply (if any)
    /// and the lease records to journal, which the engine has already applied
    /// to `store`. Ignores everything while `policy` is not responsive.
    pub fn handle(
        &self,
        now: Time,
        store: &mut LeaseStore,
        policy: &impl Policy,
        req: &Request,
        ctx: &RecvContext,
    ) -> Outcome {
        if !policy.responsive() {
            return Outcome::ignore("failover state serves no clients");
        }
        let out = match req.kind {
            MessageType::Discover => self.discover(now, store, policy, req, ctx),
            MessageType::Request => self.request(now, store, policy, req, ctx),
            MessageType::Release => self.release(now, store, req, ctx),
            MessageType::Decline => self.decline(now, store, req, ctx),
            MessageType::Inform => self.inform(req, ctx),
        };
        tracing::debug!(kind = ?req.kind, xid = format_args!("{:#010x}", req.xid), client = %req.client_key(), verdict = ?out.verdict, "decision");
        out
    }

    /// Moves leases whose time is up: active → expired, declined → free.
    pub fn tick(&self, now: Time, store: &mut LeaseStore) -> Vec<Lease> {
        store.expire_offers(now);
        let mut changes = Vec::new();
        for addr in store.due(now) {
            let Some(mut l) = store.get(addr).cloned() else {
                continue;
            };
            match l.state {
                LeaseState::Active => l.state = LeaseState::Expired,
                LeaseState::Declined => {
                    // Free again, but keep the times: a failover partner in
                    // PARTNER-DOWN must still wait out what was promised for it;
                    // and DNS records whose removal has not run yet (a DNS
                    // server down for the whole probation).
                    let dns = l.dns.as_deref().and_then(|d| crate::ddns::orphaned(&l, d));
                    l = Lease {
                        expires: l.expires,
                        potential_expiry: l.potential_expiry,
                        acked_potential_expiry: l.acked_potential_expiry,
                        cltt: l.cltt,
                        dns,
                        ..Lease::free(addr, l.owner)
                    };
                }
                _ => continue,
            }
            tracing::debug!(%addr, state = l.state.as_str(), "lease timer");
            let l = store.upsert(l);
            changes.push(l);
        }
        changes
    }

    /// The server identifier (option 54) for replies to `req`: the relay's
    /// override when it sends one (RFC 5107 section 4: the client then
    /// sends its renewals to the relay), else the configured one, else the
    /// address the request reached.
    pub(super) fn server_id(&self, req: &Request, ctx: &RecvContext) -> Ipv4Addr {
        req.server_id_override()
            .or(self.config.server.server_id)
            .unwrap_or(ctx.local)
    }

    /// Whether a client naming `id` as server identifier means this server:
    /// one of its own addresses, or the override `req`'s relay set.
    pub(super) fn is_ours(&self, id: Ipv4Addr, req: &Request, ctx: &RecvContext) -> bool {
        self.is_own_address(id, ctx) || req.server_id_override() == Some(id)
    }

    /// Whether `id` is one of this server's own identifiers.
    pub(super) fn is_own_address(&self, id: Ipv4Addr, ctx: &RecvContext) -> bool {
        Some(id) == self.config.server.server_id || id == ctx.local || self.our_ids.contains(&id)
    }

    pub(super) fn subnet(&self, req: &Request, ctx: &RecvContext) -> Option<&Subnet> {
        subnet_for(&self.config, req, ctx)
    }

    /// The reservation for this client in `subnet`, by client id then MAC.
    pub(super) fn reservation<'s>(
        &self,
        subnet: &'s Subnet,
        req: &Request,
    ) -> Option<&'s Reservation> {
        let by_id = req
            .client_id()
            .and_then(|id| self.by_client_id.get(&(subnet.id, id.to_vec())));
        let by_mac = || {
            req.hw
                .ethernet()
                .and_then(|m| self.by_mac.get(&(subnet.id, m)))
        };
        by_id.or_else(by_mac).map(|i| &subnet.reservations[*i])
    }

    /// Whether `addr` is reserved for some client other than the one `req`
    /// is from (in whichever subnet holds the reservation).
    pub(super) fn reserved_for_other(&self, addr: Ipv4Addr, req: &Request) -> bool {
        self.reserved_for.get(&addr).is_some_and(|(sid, _)| {
            self.reservation(self.config.subnet(*sid), req)
                .is_none_or(|r| r.address != addr)
        })
    }

    fn discover(
        &self,
        now: Time,
        store: &mut LeaseStore,
        p: &impl Policy,
        req: &Request,
        ctx: &RecvContext,
    ) -> Outcome {
        let Some(link) = self.subnet(req, ctx) else {
            return Outcome::ignore("no subnet serves the client's link");
        };
        let key = req.client_key();
        if !p.serves(&key, req.secs) {
            return Outcome::ignore("client belongs to the partner's share");
        }
        let Some((addr, new)) = self.choose(now, store, p, link, &key, req) else {
            tracing::warn!(subnet = %link.cidr, client = %key, "no free address to offer: pool exhausted");
            return Outcome::ignore("no free address");
        };
        // A shared network's subnets each have their own lease times and options.
        let subnet = self.config.on_link(link, addr).unwrap_or(link);
        // Offered as the ACK will grant it (`times::own_binding`).
        let grant = times::grant(
            subnet,
            req,
            p.lease_cap(times::own_binding(store, addr, &key), now),
        );
        if grant.lease == 0 {
            return Outcome::ignore("failover leaves no lease time to grant");
        }
        store.hold_offer(addr, key, now.plus(self.config.server.offer_hold));
        let mut reply = self.grant_reply(req, ctx, subnet, ReplyKind::Offer, addr, grant, false);
        reply.ping_first = (new && self.ping_first(store, addr, now)).then_some(addr);
        Outcome {
            reply: Some(reply),
            changes: Vec::new(),
            verdict: Verdict::Offer(addr),
        }
    }

    /// Binds `addr` to the requesting client and returns the ACK outcome.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn ack(
        &self,
        now: Time,
        store: &mut LeaseStore,
        p: &impl Policy,
        subnet: &Subnet,
        req: &Request,
        ctx: &RecvContext,
        addr: Ipv4Addr,
    ) -> Outcome {
        let prev = store.get(addr).cloned();
        let key = req.client_key();
        let grant = times::grant(
            subnet,
            req,
            p.lease_cap(times::own_binding(store, addr, &key), now),
        );
        if grant.lease == 0 {
            return Outcome::ignore("failover leaves no lease time to grant");
        }
        let lease = self.binding(now, store, p, subnet, req, addr, prev.as_ref(), &grant);
        // ciaddr is the client's own configured address only when it is
        // renewing or rebinding; a client answering our offer with the
        // offered address in ciaddr (not option 50) does not have it yet.
        let bound = matches!(
            super::request::RequestState::of(req),
            Some(super::request::RequestState::Renewing { .. })
        ) && store.offer_for(&key) != Some(addr);
        store.drop_offer(addr);
        // The grant comes first in the changes (callers read it there).
        let mut changes = vec![store.upsert(lease)];
        changes.extend(self.end_other_bindings(now, store, subnet, &key, addr));
        let reply = self.grant_reply(req, ctx, subnet, ReplyKind::Ack, addr, grant, bound);
        Outcome {
            reply: Some(reply),
            changes,
            verdict: Verdict::Ack(addr),
        }
    }

    /// The binding that grants `addr` to the requesting client from `now`
    /// for `grant.lease` seconds. `prev` is what the store holds for the
    /// address; when it is this client's, it keeps the partner's
    /// acknowledgement of its potential expiry (what the partner
    /// acknowledged for an earlier client says nothing about this one).
    #[allow(clippy::too_many_arguments)]
    fn binding(
        &self,
        now: Time,
        store: &LeaseStore,
        p: &impl Policy,
        subnet: &Subnet,
        req: &Request,
        addr: Ipv4Addr,
        prev: Option<&Lease>,
        grant: &Grant,
    ) -> Lease {
        let key = req.client_key();
        let same_client = prev.filter(|l| l.client().as_ref() == Some(&key));
        let bound = same_client.filter(|l| l.state == LeaseState::Active);
        let hostname = self
            .reservation(subnet, req)
            .and_then(|r| r.hostname.clone())
            .or_else(|| req.hostname())
            .or_else(|| prev.and_then(|l| l.hostname.clone()));
        // A re-grant never moves the binding's end earlier than an ACK the
        // client already holds: a client that is BOUND ignores a late answer
        // to its retransmission (simulator seed 10316476), so the shorter
        // time may never reach it.
        let held = bound.map_or((Time::ZERO, Time::ZERO), |l| {
            (l.expires, l.potential_expiry)
        });
        let mut l = Lease {
            addr,
            state: LeaseState::Active,
            owner: prev.map_or_else(|| store.owner_of(addr), |l| l.owner),
            client_id: req.client_id().map(<[u8]>::to_vec),
            hw: req.hw,
            hostname,
            relay_info: req.relay_info().map(<[u8]>::to_vec),
            starts: now,
            expires: now.plus(u64::from(grant.lease)).max(held.0),
            cltt: now,
            lease_time: grant.lease,
            potential_expiry: p
                .potential_expiry(now, grant.desired, u64::from(grant.lease))
                .max(held.1),
            acked_potential_expiry: bound.map_or(Time::ZERO, |l| l.acked_potential_expiry),
            update_seq: 0,
            dns: None,
        };
        l.dns = self.dns_records(now, subnet, req, prev, same_client.is_some());
        crate::ddns::spared(l)
    }

    /// One client, one lease on a link: binding `addr` ends any other
    /// binding the client holds on `subnet`'s link (a new reservation, a
    /// pool that moved, another subnet of its shared network). Returns the
    /// ended records to journal.
    fn end_other_bindings(
        &self,
        now: Time,
        store: &mut LeaseStore,
        subnet: &Subnet,
        key: &ClientKey,
        addr: Ipv4Addr,
    ) -> Vec<Lease> {
        let mut ended = Vec::new();
        while let Some(other) = self.other_active(store, subnet, key, addr) {
            let Some(l) = store.get(other).cloned() else {
                break;
            };
            ended.extend(self.end_lease(now, store, &l));
        }
        ended
    }

    /// Ends the client's binding `l` now (state expired), returning the
    /// record to journal; `None` if it was not active.
    pub(super) fn end_lease(&self, now: Time, store: &mut LeaseStore, l: &Lease) -> Option<Lease> {
        if l.state != LeaseState::Active {
            return None;
        }
        tracing::info!(addr = %l.addr, client = %l.client().map(|c| c.to_string()).unwrap_or_default(), "ending a lease: the client is moved to another address");
        let ended = Lease {
            state: LeaseState::Expired,
            expires: now,
            cltt: now,
            update_seq: 0,
            ..l.clone()
        };
        Some(store.upsert(ended))
    }

    /// The client's record at `addr`, if that address is still bound to it.
    pub(super) fn own_record<'s>(
        store: &'s LeaseStore,
        key: &ClientKey,
        addr: Ipv4Addr,
    ) -> Option<&'s Lease> {
        store.get(addr).filter(|l| l.client().as_ref() == Some(key))
    }

    /// Whether the client's record may be granted again here: a lease that
    /// is still active is renewed by whoever hears the client; one that has
    /// ended (expired, released) is an allocation like any other, so it must
    /// come from a pool this server may allocate from now, and wait as any
    /// reuse waits: once the end was known, the partner may have given the
    /// address to someone else where we could not see it (simulator seed
    /// 21256604).
    pub(super) fn may_regrant(store: &LeaseStore, l: &Lease, p: &impl Policy, now: Time) -> bool {
        l.state == LeaseState::Active
            || (p.may_allocate(l.owner, now) && p.may_reuse(l, now, store.is_synced(l)))
    }
}
