//! The DNS records a binding has, or is to have (RFC 4703): part of the
//! lease record, journaled with it and replicated with it, so that the peer
//! taking over knows what its partner registered and can finish or remove
//! it (issue 17, DESIGN.md 2).
//!
//! One registration (a name given to one binding) moves only forward:
//! pending, then added or in conflict, then removed. Two versions of the
//! same registration (equal `tag` and name) merge to the further status,
//! whichever version wins otherwise, so that a peer's report of its DNS
//! work is never undone by an older copy (`DnsRecords::merge`).

use serde::{Deserialize, Serialize};

mod v6;
pub use v6::{DnsRecordsV6, StaleNameV6};

/// Where the records of one registration stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DnsStatus {
    /// To be added; an update may have been sent (a removal is then safe:
    /// it is conditional on our DHCID).
    Pending,
    /// Added: the DNS server answered the update with NOERROR.
    Added,
    /// Not added: the name belongs to another client (RFC 4703 section
    /// 5.3.2, a DHCID that is not ours); nothing of ours is in DNS.
    Conflict,
    /// Removed after the binding ended.
    Removed,
}

impl DnsStatus {
    /// Whether records of ours may be in DNS (a removal is due once the
    /// binding ends).
    pub fn may_be_in_dns(self) -> bool {
        matches!(self, DnsStatus::Pending | DnsStatus::Added)
    }
}

/// Records an earlier registration of the address may have left in DNS,
/// to remove: its forward records (A and DHCID, while the DHCID is still
/// the one given) and its PTR for the address, unless an add of the
/// address's own PTR replaces it. A registration lists those of the
/// registrations it replaced, and those of the versions it beat when two
/// peers' records merged (`failover::reconcile`), so that a name one peer
/// added while the other gave the address away is removed all the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleName {
    /// The name, fully qualified, lowercase, without the trailing dot.
    pub fqdn: String,
    /// The DHCID RDATA it was registered with (RFC 4701 section 3), octets.
    pub dhcid: Vec<u8>,
    /// The server kept its A and DHCID records.
    #[serde(default = "kept_forward")]
    pub forward: bool,
    /// The server kept the address's PTR record naming it.
    #[serde(default)]
    pub reverse: bool,
    /// The tag of the registration that added the records
    /// (`DnsRecords::tag`; 0 in records written before it was kept):
    /// with the name and DHCID, what tells one entry from another.
    #[serde(default)]
    pub tag: u64,
    /// The removal ran to its end. The entry stays with its registration
    /// so that a copy of the same registration that still lists it as due
    /// does not bring it back when the two merge.
    #[serde(default)]
    pub done: bool,
    /// The registration's `adds` when the records were listed: an add of
    /// the same registration that ran later (a retry on the peer that
    /// registered it, after the other removed it) makes another entry.
    #[serde(default)]
    pub adds: u32,
}

impl StaleName {
    /// Whether `a` and `b` stand for the same records (the same add).
    pub fn same(a: &StaleName, b: &StaleName) -> bool {
        a.tag == b.tag && a.fqdn == b.fqdn && a.dhcid == b.dhcid && a.adds == b.adds
    }
}

/// Stale names recorded before `forward` and `reverse` were: forward only.
fn kept_forward() -> bool {
    true
}

/// The most stale names one registration lists; beyond it, removed ones
/// give way first, then the oldest (a bound for the journal and the peer
/// frame; one per partition-and-merge or rename since the last add ran).
pub const MAX_STALE: usize = 8;

/// The DNS side of a binding: the name and which records the server keeps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecords {
    /// The name, fully qualified, lowercase, without the trailing dot.
    pub fqdn: String,
    /// The server keeps the A and DHCID records (RFC 4702 flag S, or our
    /// override); otherwise the client keeps its own A record.
    pub forward: bool,
    /// The server keeps the PTR record.
    pub reverse: bool,
    /// Identifies the registration across versions of the record: set by
    /// the peer that registers the name, copied verbatim (never clock
    /// shifted), and above the address's previous registration. Its bits
    /// above the lowest 8 are the registering server's time (seconds),
    /// which dates the registration (`dhcp::names`); its lowest bit is
    /// set when the pair's secondary registered it: that server runs the
    /// add (`by_secondary`).
    pub tag: u64,
    /// Where the records stand.
    pub status: DnsStatus,
    /// Other names' records to remove (by the next job on the address,
    /// before its own add), at most [`MAX_STALE`].
    pub stale: Vec<StaleName>,
    /// How many adds of this registration ran to their end (`Added`): the
    /// merge tells an add that may have come after a removal by it
    /// (`failover::reconcile`).
    #[serde(default)]
    pub adds: u32,
}

impl DnsRecords {
    /// Whether `a` and `b` describe the same registration.
    pub fn same_registration(a: &DnsRecords, b: &DnsRecords) -> bool {
        a.tag == b.tag && a.fqdn == b.fqdn
    }

    /// Whether a pair's secondary registered the name (the tag's lowest
    /// bit). Only the registering server runs the add, unless its partner
    /// is down: a partner holding a copy (merged with its own, and sent
    /// back as its change) could otherwise add the name after the
    /// registering server renamed the client or ended the binding.
    pub fn by_secondary(&self) -> bool {
        self.tag & 1 == 1
    }

    /// The stale names whose removal is still due.
    pub fn pending_stale(&self) -> impl Iterator<Item = &StaleName> {
        self.stale.iter().filter(|s| !s.done)
    }

    /// Whether a stale name's removal is still due.
    pub fn has_pending_stale(&self) -> bool {
        self.pending_stale().next().is_some()
    }

    /// Lists `s` unless an entry for the same records is listed (that
    /// one's `done` stands), within [`MAX_STALE`].
    pub fn add_stale(&mut self, s: StaleName) {
        if self.stale.iter().any(|x| StaleName::same(x, &s)) {
            return;
        }
        self.stale.push(s);
        while self.stale.len() > MAX_STALE {
            // A removed entry first, else the oldest registration's.
            let i = (0..self.stale.len())
                .min_by_key(|&i| (!self.stale[i].done, self.stale[i].tag, i))
                .expect("the list is not empty");
            self.stale.remove(i);
        }
    }

    /// Marks the entries for the same records as `removed` done; whether
    /// any was still due.
    pub fn mark_removed(&mut self, removed: &[StaleName]) -> bool {
        let mut changed = false;
        for s in self.stale.iter_mut().filter(|s| !s.done) {
            if removed.iter().any(|r| StaleName::same(r, s)) {
                s.done = true;
                changed = true;
            }
        }
        changed
    }

    /// The DNS side of a merged record: `winner`'s, except that of two
    /// versions of one registration the further status stands and their
    /// stale names are united, a removal done on either side staying done.
    /// Symmetric in the sense the reconciliation needs: both peers compute
    /// the same result. What the loser of another registration may have
    /// left in DNS is added by the caller (`failover::reconcile`), which
    /// has the leases the DHCIDs come from.
    /// A binding still active whose records a peer removed (a renewal
    /// racing the removal at its expiry) keeps `Removed`: DNS no longer
    /// has them, and its next renewal registers the name again
    /// (`dhcp::names`). Undoing the removal here instead raced the other
    /// peer's view of the same end (simulator seed 37009883).
    pub fn merge(
        winner: Option<&DnsRecords>,
        loser: Option<&DnsRecords>,
    ) -> Option<Box<DnsRecords>> {
        let mut m = Box::new(winner?.clone());
        if let Some(l) = loser.filter(|l| DnsRecords::same_registration(&m, l)) {
            m.status = m.status.max(l.status);
            m.adds = m.adds.max(l.adds);
            for s in &l.stale {
                if s.done {
                    m.mark_removed(std::slice::from_ref(s));
                }
                m.add_stale(s.clone());
            }
        }
        Some(m)
    }
}

/// Records of `fqdn` kept by the server (A, DHCID and PTR), without stale
/// names, for tests.
#[cfg(test)]
pub(crate) fn registered(fqdn: &str, tag: u64, status: DnsStatus) -> DnsRecords {
    DnsRecords {
        fqdn: fqdn.into(),
        forward: true,
        reverse: true,
        tag,
        status,
        stale: Vec::new(),
        adds: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(tag: u64, status: DnsStatus) -> DnsRecords {
        registered("pc1.campus.example", tag, status)
    }

    #[test]
    fn one_registration_merges_to_its_further_status_either_way() {
        let (p, a) = (rec(7, DnsStatus::Pending), rec(7, DnsStatus::Added));
        assert_eq!(
            DnsRecords::merge(Some(&p), Some(&a)),
            Some(Box::new(a.clone()))
        );
        assert_eq!(DnsRecords::merge(Some(&a), Some(&p)), Some(Box::new(a)));
    }

    #[test]
    fn another_registration_does_not_carry_over() {
        let (new, old) = (rec(9, DnsStatus::Pending), rec(7, DnsStatus::Removed));
        assert_eq!(
            DnsRecords::merge(Some(&new), Some(&old)),
            Some(Box::new(new))
        );
        assert_eq!(DnsRecords::merge(None, Some(&old)), None);
    }
}
