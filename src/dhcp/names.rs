//! The DNS side of a grant (`ddns`): which name the client gets, what the
//! reply's option 81 says, and the binding's DNS records. The records are
//! kept across renewals of the same name (no update on renew); a new
//! name, or a new client on the address, starts a new registration, and
//! the previous one's forward records are marked stale for removal.

use super::engine::Engine;
use super::request::RequestState;
use crate::config::Subnet;
use crate::ddns::{self, Registration};
use crate::lease::{DnsRecords, DnsStatus, Lease, LeaseState, StaleName};
use crate::proto::{Request, code};
use crate::time::Time;

impl Engine {
    /// What DDNS decides for `req` on `subnet`; `None` when DDNS is off
    /// there or the client has no usable name.
    pub(super) fn registration(&self, subnet: &Subnet, req: &Request) -> Option<Registration> {
        let cfg = self.config.ddns.as_ref()?;
        let reserved = self
            .reservation(subnet, req)
            .and_then(|r| r.hostname.as_deref());
        ddns::decide(
            cfg,
            subnet,
            req.option(code::CLIENT_FQDN),
            req.hostname().as_deref(),
            reserved,
        )
    }

    /// The DNS records of a binding granted to `req` at `now`, `prev` being
    /// the address's record before (any client; `same` when it is this
    /// client's). A renewal of a binding still active keeps its
    /// registration (no update on renew) for one lease time; any other
    /// grant, or a renewal after that, registers again: DNS may have
    /// changed meanwhile (the partner may have removed the records in a
    /// partition, on a DECLINE or RELEASE it heard, and then lost its disk;
    /// an operator may have edited the zone), and adding is idempotent
    /// under the DHCID rule. So a name in DNS is right again within a
    /// lease time of any such drift, at one update per client per lease
    /// time.
    pub(super) fn dns_records(
        &self,
        now: Time,
        subnet: &Subnet,
        req: &Request,
        prev: Option<&Lease>,
        same: bool,
    ) -> Option<Box<DnsRecords>> {
        let before = prev.and_then(|l| l.dns.as_deref());
        let mine = before.filter(|_| same);
        let Some(reg) = self
            .registration(subnet, req)
            .filter(|r| r.forward || r.reverse)
        else {
            // No name now: the client's own records stay until the binding ends.
            return mine.cloned().map(Box::new);
        };
        let renewal = matches!(
            RequestState::of(req),
            Some(RequestState::Renewing { .. } | RequestState::InitReboot { .. })
        );
        let live = prev.is_some_and(|l| {
            let registered = Time(mine.map_or(0, |d| d.tag >> 8));
            l.state == LeaseState::Active
                && now < l.expires
                && now < registered.plus(u64::from(l.lease_time))
        });
        let unchanged = |d: &&DnsRecords| {
            d.fqdn == reg.fqdn
                && (d.forward, d.reverse) == (reg.forward, reg.reverse)
                && d.status != DnsStatus::Removed
        };
        if let Some(d) = mine.filter(unchanged).filter(|_| renewal && live) {
            return Some(Box::new(d.clone()));
        }
        let stale = prev.zip(before).and_then(|(l, d)| {
            let in_dns = d.status.may_be_in_dns() && d.forward;
            (in_dns && !(same && d.fqdn == reg.fqdn)).then(|| StaleName {
                dhcid: ddns::dhcid::for_lease(l, &d.fqdn),
                fqdn: d.fqdn.clone(),
            })
        });
        Some(Box::new(DnsRecords {
            fqdn: reg.fqdn,
            forward: reg.forward,
            reverse: reg.reverse,
            tag: (now.0 << 8).max(before.map_or(0, |d| d.tag.saturating_add(1))),
            status: DnsStatus::Pending,
            stale: stale.or_else(|| before.and_then(|d| d.stale.clone())),
        }))
    }
}
