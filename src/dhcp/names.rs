//! The DNS side of a grant (`ddns`): which name the client gets, what the
//! reply's option 81 says, and the binding's DNS records. The records are
//! kept across renewals of the same name (no update on renew); a new
//! name, or a new client on the address, starts a new registration, and
//! the previous one's records (A and DHCID, PTR) are marked stale for
//! removal; a new client without a name gets a record that only removes
//! them.

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
            // No name now: the client's own records stay until the binding
            // ends (a record with no name of its own, once its removal is
            // done, is dropped); another client's are removed.
            if same {
                let live = |d: &&DnsRecords| d.forward || d.reverse || d.has_pending_stale();
                return mine.filter(live).cloned().map(Box::new);
            }
            return removal_only(now, prev?, before?, self.config.is_secondary());
        };
        if let Some(d) = mine.filter(|d| kept_on_renewal(now, req, prev, d, &reg)) {
            return Some(Box::new(d.clone()));
        }
        // Records of the same name for the same client carry over, also to
        // a client that now keeps its own A record (flag S clear): its own
        // update carries the same DHCID (RFC 4701), so removing "ours"
        // could remove its A record.
        let carried = |d: &DnsRecords| same && d.fqdn == reg.fqdn;
        let left = prev
            .zip(before)
            .filter(|(_, d)| !carried(d))
            .and_then(|(l, d)| ddns::left_by(l, d));
        let mut d = DnsRecords {
            fqdn: reg.fqdn,
            forward: reg.forward,
            reverse: reg.reverse,
            tag: next_tag(now, before, self.config.is_secondary()),
            status: DnsStatus::Pending,
            stale: still_due(before),
            adds: 0,
        };
        left.into_iter().for_each(|s| d.add_stale(s));
        Some(Box::new(d))
    }
}

/// Whether the client's registration `d` on its binding `prev` stands for
/// this grant of `reg` (no update on renew): a renewal (RENEWING or
/// INIT-REBOOT) of a live binding, the same name and flags, not removed,
/// registered less than one lease time ago.
fn kept_on_renewal(
    now: Time,
    req: &Request,
    prev: Option<&Lease>,
    d: &DnsRecords,
    reg: &Registration,
) -> bool {
    let renewal = matches!(
        RequestState::of(req),
        Some(RequestState::Renewing { .. } | RequestState::InitReboot { .. })
    );
    let live = prev.is_some_and(|l| {
        let registered = Time(d.tag >> 8);
        l.state == LeaseState::Active
            && now < l.expires
            && now < registered.plus(u64::from(l.lease_time))
    });
    renewal
        && live
        && d.fqdn == reg.fqdn
        && (d.forward, d.reverse) == (reg.forward, reg.reverse)
        && d.status != DnsStatus::Removed
}

/// A registration's tag: this server's time, above the address's previous
/// registration's, its lowest bit set when this server is a pair's
/// secondary (`DnsRecords::tag`, `DnsRecords::by_secondary`).
fn next_tag(now: Time, before: Option<&DnsRecords>, secondary: bool) -> u64 {
    let t = (now.0 << 8).max(before.map_or(0, |d| d.tag.saturating_add(2)));
    (t & !1) | u64::from(secondary)
}

/// The stale names of `before` whose removal is still due: a new
/// registration takes them over (removed ones stay behind with theirs).
fn still_due(before: Option<&DnsRecords>) -> Vec<StaleName> {
    before.map_or_else(Vec::new, |d| d.pending_stale().cloned().collect())
}

/// The DNS side of a grant without a name to a client other than the one
/// whose records `d` (of binding `prev`) are: nothing of its own (neither
/// forward nor reverse), only the removal of what may be left of the
/// previous client's, or of a name before it (`secondary`: as in
/// `next_tag`). `None` when nothing is.
fn removal_only(
    now: Time,
    prev: &Lease,
    d: &DnsRecords,
    secondary: bool,
) -> Option<Box<DnsRecords>> {
    let mut r = DnsRecords {
        fqdn: d.fqdn.clone(),
        forward: false,
        reverse: false,
        tag: next_tag(now, Some(d), secondary),
        status: DnsStatus::Pending,
        stale: still_due(Some(d)),
        adds: 0,
    };
    ddns::left_by(prev, d)
        .into_iter()
        .for_each(|s| r.add_stale(s));
    r.has_pending_stale().then(|| Box::new(r))
}
