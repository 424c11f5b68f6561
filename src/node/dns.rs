//! DNS work (issue 17): which bindings' records are due to be added or
//! removed, handed to the edge as [`Output::Dns`] jobs, and the records'
//! status updated from [`Input::DnsDone`](super::Input::DnsDone) (journaled
//! and replicated like any change, so the partner knows what is in DNS).
//!
//! Exactly one peer works on a binding: the one that registered the name
//! adds it (`DnsRecords::by_secondary`), the one that wrote the current
//! version (`update_seq` set: our own change) removes what is to go, and
//! either does both in PARTNER-DOWN, where the survivor finishes and
//! removes what its partner started. A
//! DHCPACK never waits for DNS; a failed job is tried again later, backing
//! off from [`RETRY_FIRST`] to [`RETRY_MAX`] seconds.

use super::{Node, Output};
use crate::ddns::{DnsJob, dhcid};
use crate::failover::State;
use crate::failover::message::STALE_VERSION;
use crate::lease::{DnsRecords, DnsStatus, Lease, LeaseState, StaleName};
use crate::time::Time;
use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;

/// Seconds before a failed job is tried again the first time.
pub const RETRY_FIRST: u64 = 10;
/// The longest wait between tries, seconds.
pub const RETRY_MAX: u64 = 600;

/// Jobs with the edge at once; beyond it, work waits for the next poll
/// (after a DNS outage, or when PARTNER-DOWN takes over the partner's
/// work, thousands may be due together).
pub const MAX_IN_FLIGHT: usize = 256;

/// A job handed to the edge.
struct InFlight {
    addr: Ipv4Addr,
    tag: u64,
    /// It removes rather than adds.
    remove: bool,
    /// It works on the binding's own records, not only stale names.
    own: bool,
    /// The stale names it removes first.
    stale: Vec<StaleName>,
}

/// The node's DNS bookkeeping.
#[derive(Default)]
pub(super) struct DnsWork {
    in_flight: HashMap<u64, InFlight>,
    busy: HashMap<Ipv4Addr, u64>,
    /// Addresses whose records changed: to look at.
    dirty: BTreeSet<Ipv4Addr>,
    /// Addresses with DNS records in journal batches not yet durable, by
    /// batch: no job runs for a change a crash could still undo (DNS
    /// would then name a binding no journal holds).
    waiting: std::collections::VecDeque<(u64, Vec<Ipv4Addr>)>,
    /// The latest batch not yet durable that holds each address's record:
    /// its job waits, whatever else marks the address.
    latest: HashMap<Ipv4Addr, u64>,
    /// Each address's entry in `due`, so that it has one.
    due_at: HashMap<Ipv4Addr, Time>,
    /// (when, address): an active binding's expiry with records in DNS, or
    /// a failed job's next try.
    due: BTreeSet<(Time, Ipv4Addr)>,
    /// Seconds to wait after the next failure, per address.
    backoff: HashMap<Ipv4Addr, u64>,
    last_id: u64,
    /// Every record was looked at once (the first poll after start).
    started: bool,
    /// The failover state at the last poll: a change may make work due
    /// (PARTNER-DOWN takes over the partner's; NORMAL lets removals of
    /// expired bindings go ahead).
    state: Option<State>,
}

impl DnsWork {
    /// The addresses of `leases` with DNS records (none allocates nothing).
    pub(super) fn with_records(leases: &[Lease]) -> Vec<Ipv4Addr> {
        leases
            .iter()
            .filter(|l| l.dns.is_some())
            .map(|l| l.addr)
            .collect()
    }

    /// Notes `addrs` (`with_records`) handed to the journal in `batch`:
    /// they are looked at once it is durable ([`DnsWork::durable`]).
    pub(super) fn touch(&mut self, batch: u64, addrs: Vec<Ipv4Addr>) {
        for a in &addrs {
            self.latest.insert(*a, batch);
        }
        if !addrs.is_empty() {
            self.waiting.push_back((batch, addrs));
        }
    }

    /// Journal batches up to `upto` are durable.
    pub(super) fn durable(&mut self, upto: u64) {
        while self.waiting.front().is_some_and(|(b, _)| *b <= upto) {
            let (_, addrs) = self.waiting.pop_front().expect("front exists");
            for a in addrs {
                if self.latest.get(&a).is_some_and(|b| *b <= upto) {
                    self.latest.remove(&a);
                }
                self.dirty.insert(a);
            }
        }
    }

    /// Jobs with the edge.
    pub(super) fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// `addr` is due at `t` (an expiry, a retry), replacing its earlier time.
    fn due(&mut self, t: Time, addr: Ipv4Addr) {
        if let Some(old) = self.due_at.insert(addr, t) {
            self.due.remove(&(old, addr));
        }
        self.due.insert((t, addr));
    }
}

impl Node {
    /// Looks at every record with DNS records (at start, and when this
    /// server takes over its partner's work in PARTNER-DOWN).
    fn dns_touch_all(&mut self) {
        let all: Vec<Ipv4Addr> = self
            .store
            .iter()
            .filter(|l| l.dns.is_some())
            .map(|l| l.addr)
            .collect();
        self.dns.dirty.extend(all);
    }

    /// Turns what is due at `now` into jobs.
    pub(super) fn dns_poll(&mut self, now: Time) {
        if self.config.ddns.is_none() {
            // Turned on again by a reload, every record is looked at anew.
            self.dns.dirty.clear();
            self.dns.started = false;
            return;
        }
        let state = self.state();
        if !self.dns.started || state != self.dns.state {
            self.dns.started = true;
            self.dns_touch_all();
        }
        self.dns.state = state;
        while let Some(&(t, addr)) = self.dns.due.first() {
            if t > now {
                break;
            }
            self.dns.due.pop_first();
            self.dns.due_at.remove(&addr);
            self.dns.dirty.insert(addr);
        }
        while self.dns.in_flight.len() < MAX_IN_FLIGHT {
            let Some(addr) = self.dns.dirty.pop_first() else {
                break;
            };
            let unsettled = self.dns.latest.contains_key(&addr);
            if !self.dns.busy.contains_key(&addr) && !unsettled {
                self.dns_look_at(now, addr);
            }
        }
    }

    /// The job `addr`'s records need now, if it is ours to do.
    fn dns_look_at(&mut self, now: Time, addr: Ipv4Addr) {
        let Some(l) = self.store.get(addr) else {
            return;
        };
        let Some(d) = &l.dns else { return };
        let active = l.state == LeaseState::Active && now < l.expires;
        let stale = d.has_pending_stale();
        if active && (d.status.may_be_in_dns() || stale) {
            let t = l.expires;
            self.dns.due(t, addr);
        }
        // (removal, of the binding's own records too)
        let (remove, own) = match (active, d.status) {
            (true, DnsStatus::Pending) => (false, true),
            // Beside records in place (or none of ours), only the stale
            // names go: never an add the partner's work may have overtaken.
            (true, _) if stale => (true, false),
            (false, s) if (s.may_be_in_dns() || stale) && self.may_remove(l) => {
                (true, s.may_be_in_dns())
            }
            _ => return,
        };
        let mine = if remove {
            self.dns_mine(l)
        } else {
            self.dns_registrant(l, d)
        };
        if !mine {
            return;
        }
        let job = self.dns_job(l, remove, own);
        self.dns.last_id += 1;
        let id = self.dns.last_id;
        let (tag, stale) = (d.tag, job.stale.clone());
        self.dns.busy.insert(addr, id);
        let f = InFlight {
            addr,
            tag,
            remove,
            own,
            stale,
        };
        self.dns.in_flight.insert(id, f);
        self.out.push_back(Output::Dns { id, job });
    }

    /// Whether this server does `l`'s DNS work: alone, or its own version,
    /// or any in PARTNER-DOWN.
    fn dns_mine(&self, l: &Lease) -> bool {
        self.peer
            .as_ref()
            .is_none_or(|p| l.update_seq != 0 || p.state() == State::PartnerDown)
    }

    /// Whether this server adds the records `d` of `l`: alone, or the
    /// server that registered them (`DnsRecords::by_secondary`), or any in
    /// PARTNER-DOWN. With a partner that has not spoken peer protocol 8,
    /// whose tags do not say who registered, the one that wrote the
    /// current version, as before.
    fn dns_registrant(&self, l: &Lease, d: &DnsRecords) -> bool {
        let secondary = self.config.is_secondary();
        self.peer.as_ref().is_none_or(|p| {
            let tagged = p.partner_version().is_some_and(|v| v >= STALE_VERSION);
            p.state() == State::PartnerDown || registers(tagged, d, secondary, l.update_seq != 0)
        })
    }

    /// Whether `l`'s ended binding may leave DNS now. One that ran out by
    /// time (still active, or expired by the timer) waits while the
    /// partner may be renewing it unseen (any state but NORMAL and
    /// PARTNER-DOWN: the link is down or the pair is catching up), so that
    /// a partition does not remove the name of a client the partner keeps
    /// serving; a release or a decline goes at once. A state change looks
    /// again (`dns_poll`).
    fn may_remove(&self, l: &Lease) -> bool {
        !matches!(l.state, LeaseState::Active | LeaseState::Expired)
            || self
                .state()
                .is_none_or(|s| matches!(s, State::Normal | State::PartnerDown))
    }

    /// The job on `l`'s records: their add or removal (`own`), after the
    /// stale names still due; without `own`, only the stale names go.
    fn dns_job(&self, l: &Lease, remove: bool, own: bool) -> DnsJob {
        let d = l.dns.as_ref().expect("a job is for records");
        let ttl = self
            .config
            .ddns
            .as_ref()
            .map_or(0, |c| c.ttl_for(l.lease_time));
        DnsJob {
            addr: l.addr,
            fqdn: d.fqdn.clone(),
            dhcid: dhcid::for_lease(l, &d.fqdn),
            ttl,
            forward: d.forward && own,
            reverse: d.reverse && own,
            stale: d.pending_stale().cloned().collect(),
            remove,
        }
    }

    /// The job `id` is over: `Ok` with where the records stand, or why it
    /// failed. The record's status moves on only if it still holds the
    /// registration the job was for.
    pub(super) fn dns_done(&mut self, now: Time, id: u64, result: Result<DnsStatus, String>) {
        let Some(job) = self.dns.in_flight.remove(&id) else {
            return;
        };
        self.dns.busy.remove(&job.addr);
        self.dns.dirty.insert(job.addr);
        let status = match result {
            Ok(s) => s,
            Err(why) => return self.dns_failed(now, job.addr, &why),
        };
        self.dns.backoff.remove(&job.addr);
        self.stats.dns_updates += 1;
        let Some(mut l) = self.store.get(job.addr).cloned() else {
            return;
        };
        if !record_result(now, &mut l, &job, status) {
            return;
        }
        let d = l.dns.as_ref().expect("a result is recorded on records");
        tracing::info!(addr = %l.addr, name = %d.fqdn, status = ?d.status, "DNS updated");
        let l = self.store.upsert(l);
        self.journal_local(now, vec![l], None);
    }

    fn dns_failed(&mut self, now: Time, addr: Ipv4Addr, why: &str) {
        self.stats.dns_failures += 1;
        let wait = self.dns.backoff.get(&addr).copied().unwrap_or(RETRY_FIRST);
        self.dns.backoff.insert(addr, (wait * 2).min(RETRY_MAX));
        self.dns.dirty.remove(&addr);
        self.dns.due(now.plus(wait), addr);
        tracing::warn!(%addr, retry_in = wait, "DNS update failed: {why}");
    }
}

/// Records on `l` the end of `job` with `status`: the stale names it
/// carried are gone (whichever registration lists them now); the status
/// of the registration it worked on moves on (`next_status`), and an add
/// of it that ran to its end is counted (`DnsRecords::adds`). An add that
/// ended after the records were removed or given up here (a merge with
/// the partner's end of the binding while it ran) is listed to remove.
/// Whether anything changed.
fn record_result(now: Time, l: &mut Lease, job: &InFlight, status: DnsStatus) -> bool {
    let active = l.state == LeaseState::Active && now < l.expires;
    let Some(cur) = l.dns.as_deref() else {
        return false;
    };
    let added = job.own && !job.remove && status == DnsStatus::Added && cur.tag == job.tag;
    let late = (added && !cur.status.may_be_in_dns()).then(|| DnsRecords {
        status: DnsStatus::Added,
        adds: cur.adds.saturating_add(1),
        ..cur.clone()
    });
    let late = late.and_then(|t| crate::ddns::left_by(l, &t));
    let d = l.dns.as_mut().expect("checked above");
    let removed = d.mark_removed(&job.stale);
    let next = next_status(d.status, status, job.remove && job.own, active);
    let moved = job.own && d.tag == job.tag && next.is_some();
    if let Some(s) = next.filter(|_| moved) {
        d.status = s;
    }
    if added {
        d.adds = d.adds.saturating_add(1);
    }
    late.into_iter().for_each(|s| d.add_stale(s));
    removed || moved || added
}

/// Whether the server (`secondary` or not) that holds `d` is the one that
/// registered it, by the tag (`tagged`: the partner spoke protocol 8) or
/// else by who wrote the current version (`ours`).
fn registers(tagged: bool, d: &DnsRecords, secondary: bool, ours: bool) -> bool {
    if tagged {
        d.by_secondary() == secondary
    } else {
        ours
    }
}

/// The status a registration moves to when a job on it ends with
/// `result`, if it moves: forward only, except that a binding which came
/// back (a renewal through the partner) while the job removed its records
/// (`removed_own`) is to be added again.
fn next_status(
    current: DnsStatus,
    result: DnsStatus,
    removed_own: bool,
    active: bool,
) -> Option<DnsStatus> {
    if removed_own && active {
        return Some(DnsStatus::Pending);
    }
    (result > current).then_some(result)
}

#[cfg(test)]
mod tests;
