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

/// A name whose records an earlier registration of the address may have
/// left, to remove before the new name is added: its forward records (A
/// and DHCID, while the DHCID is still the one given) and its PTR for the
/// address, unless the new registration replaces that PTR.
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
}

/// Stale names recorded before `forward` and `reverse` were: forward only.
fn kept_forward() -> bool {
    true
}

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
    /// which dates the registration (`dhcp::names`).
    pub tag: u64,
    /// Where the records stand.
    pub status: DnsStatus,
    /// Records of the address's previous name to remove first (by the
    /// add, or by the removal if the binding ends before the add ran).
    /// One slot: a previous registration's own pending stale name gives
    /// way to that registration's name.
    pub stale: Option<StaleName>,
}

impl DnsRecords {
    /// Whether `a` and `b` describe the same registration.
    pub fn same_registration(a: &DnsRecords, b: &DnsRecords) -> bool {
        a.tag == b.tag && a.fqdn == b.fqdn
    }

    /// The DNS side of a merged record: `winner`'s, except that of two
    /// versions of one registration the further status stands (and a stale
    /// name one of them removed stays removed). Symmetric in the sense the
    /// reconciliation needs: both peers compute the same result.
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
            if l.stale.is_none() {
                m.stale = None;
            }
        }
        Some(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(tag: u64, status: DnsStatus) -> DnsRecords {
        DnsRecords {
            fqdn: "pc1.campus.example".into(),
            forward: true,
            reverse: true,
            tag,
            status,
            stale: None,
        }
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
