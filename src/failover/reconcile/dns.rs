//! The DNS side of a merged record. Two versions of one registration
//! merge in `DnsRecords::merge`; when the versions hold different
//! registrations, the winner also takes over the removal of what the
//! loser's may have put in DNS: the loser's own name and the stale names
//! it still had to remove. Without that, a name one peer added in a
//! partition (or just before a crash, or re-added from its journal on
//! restart) while the other gave the address to another client, or saw
//! the binding end, stayed in DNS with no binding to remove it
//! (simulator seeds 37066585, 37076344, 42504757).

use crate::ddns;
use crate::lease::{DnsRecords, DnsStatus, Lease, StaleName};

/// The DNS records of the record merged from `winner` and `loser`, two
/// versions of one address. Both peers compute the same result (it
/// depends on the two versions only), so the merged record converges.
/// The winner's own live records are never listed as stale
/// (`ddns::spare_own`).
pub(super) fn merged(winner: &Lease, loser: &Lease) -> Option<Box<DnsRecords>> {
    let mut m = united(winner, loser)?;
    ddns::spare_own(winner, &mut m);
    Some(m)
}

fn united(winner: &Lease, loser: &Lease) -> Option<Box<DnsRecords>> {
    let w = winner.dns.as_deref();
    let Some(l) = loser
        .dns
        .as_deref()
        .filter(|l| w.is_none_or(|w| !DnsRecords::same_registration(w, l)))
    else {
        return one_registration(winner, loser);
    };
    let left: Vec<StaleName> = l
        .pending_stale()
        .cloned()
        .chain(ddns::left_by(loser, l))
        .collect();
    let mut m = match w {
        Some(w) => w.clone(),
        None if left.is_empty() => return None,
        None => removal_only(l),
    };
    left.into_iter().for_each(|s| m.add_stale(s));
    Some(Box::new(m))
}

/// Two versions of one registration (`DnsRecords::merge`). When one
/// says its records are gone (removed, or never added: another client's
/// name) and the other counts an add it did not know of, that add may have
/// run after the removal (the registering peer retrying in a partition
/// while the other saw the binding end): its records are listed to remove.
fn one_registration(winner: &Lease, loser: &Lease) -> Option<Box<DnsRecords>> {
    let mut m = DnsRecords::merge(winner.dns.as_deref(), loser.dns.as_deref())?;
    let Some(l) = loser.dns.as_deref() else {
        return Some(m);
    };
    let w = winner.dns.as_deref().expect("merge kept the winner's");
    let (gone, other, of) = if w.status >= l.status {
        (w, l, loser)
    } else {
        (l, w, winner)
    };
    let late =
        !gone.status.may_be_in_dns() && other.status == DnsStatus::Added && other.adds > gone.adds;
    if let Some(s) = ddns::left_by(of, other).filter(|_| late) {
        m.add_stale(s);
    }
    Some(m)
}

/// Records for a winner without any of its own: nothing to add (so who
/// registered it does not matter), only stale names to remove. Its tag is
/// just above `l`'s, below any registration a server makes after `l`
/// (`dhcp::names::next_tag` steps by 2).
fn removal_only(l: &DnsRecords) -> DnsRecords {
    DnsRecords {
        fqdn: l.fqdn.clone(),
        forward: false,
        reverse: false,
        tag: l.tag.saturating_add(1),
        status: DnsStatus::Removed,
        stale: Vec::new(),
        adds: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::dns::registered as reg;
    use crate::lease::{LeaseState, Owner};
    use crate::proto::HwAddr;
    use crate::time::Time;

    fn bound(client: u8, dns: Option<DnsRecords>) -> Lease {
        let mut l = Lease::free("10.0.0.16".parse().unwrap(), Owner::Primary);
        l.state = LeaseState::Active;
        l.hw = HwAddr::new(1, &[2, 0, 0, 0, 0, client]);
        l.cltt = Time(100);
        l.expires = Time(400);
        l.dns = dns.map(Box::new);
        l
    }

    /// Seed 37066585's merge: the partner's binding for another client
    /// beats ours, whose name is in DNS; the winner removes it.
    #[test]
    fn the_losing_registration_s_name_is_removed_by_the_winner() {
        let ours = bound(9, Some(reg("host9.sim.example", 40, DnsStatus::Added)));
        let theirs = bound(15, Some(reg("host15.sim.example", 50, DnsStatus::Added)));
        let m = merged(&theirs, &ours).unwrap();
        assert_eq!((m.tag, m.status), (50, DnsStatus::Added));
        let s: Vec<_> = m.pending_stale().collect();
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].fqdn.as_str(), s[0].tag), ("host9.sim.example", 40));
        assert_eq!(
            s[0].dhcid,
            ddns::dhcid::for_lease(&ours, "host9.sim.example")
        );
        assert!(s[0].forward && s[0].reverse);
    }

    /// Seed 42504757's merge: a release whose removal ran beats a version
    /// of the same client whose other registration re-added the name.
    #[test]
    fn a_removed_winner_still_removes_the_loser_s_registration_of_its_name() {
        let mut released = bound(5, Some(reg("host5.sim.example", 61, DnsStatus::Removed)));
        released.state = LeaseState::Released;
        let readded = bound(5, Some(reg("host5.sim.example", 60, DnsStatus::Added)));
        let m = merged(&released, &readded).unwrap();
        assert_eq!(m.status, DnsStatus::Removed);
        assert_eq!(m.pending_stale().count(), 1);
    }

    #[test]
    fn the_winner_s_own_live_records_are_not_listed_as_stale() {
        let a = bound(5, Some(reg("host5.sim.example", 61, DnsStatus::Added)));
        let b = bound(5, Some(reg("host5.sim.example", 60, DnsStatus::Added)));
        let m = merged(&a, &b).unwrap();
        assert_eq!(m.pending_stale().count(), 0, "{m:?}");
        // Kept differently (no PTR on the winner): only the loser's PTR goes,
        // never the forward records the winner (or its client) holds.
        let mut a2 = a.clone();
        a2.dns.as_mut().unwrap().reverse = false;
        let m = merged(&a2, &b).unwrap();
        let due: Vec<_> = m.pending_stale().map(|s| (s.forward, s.reverse)).collect();
        assert_eq!(due, [(false, true)]);
    }

    #[test]
    fn a_winner_without_records_gets_a_removal_of_the_loser_s() {
        let free = Lease::free("10.0.0.16".parse().unwrap(), Owner::Primary);
        let mut loser = bound(5, Some(reg("host5.sim.example", 60, DnsStatus::Added)));
        loser.dns.as_mut().unwrap().stale = vec![StaleName {
            fqdn: "older.sim.example".into(),
            dhcid: vec![1],
            forward: true,
            reverse: false,
            tag: 20,
            done: false,
            adds: 0,
        }];
        let m = merged(&free, &loser).unwrap();
        assert!(!m.forward && !m.reverse);
        assert_eq!(m.status, DnsStatus::Removed);
        assert_eq!(m.pending_stale().count(), 2);
        loser.dns.as_mut().unwrap().status = DnsStatus::Removed;
        loser.dns.as_mut().unwrap().stale.clear();
        assert_eq!(merged(&free, &loser), None);
    }

    /// The registering peer's add ran (a retry in a partition) after the
    /// other, which saw the release, removed the records: the add it did
    /// not know of is listed for removal.
    #[test]
    fn an_add_the_removal_did_not_know_of_is_removed_too() {
        let mut released = bound(5, Some(reg("host5.sim.example", 60, DnsStatus::Removed)));
        released.state = LeaseState::Released;
        let mut added = reg("host5.sim.example", 60, DnsStatus::Added);
        added.adds = 1;
        let active = bound(5, Some(added));
        for (w, l) in [(&released, &active), (&active, &released)] {
            let m = merged(w, l).unwrap();
            assert_eq!(m.status, DnsStatus::Removed);
            let due: Vec<_> = m.pending_stale().map(|s| (s.tag, s.adds)).collect();
            assert_eq!(due, [(60, 1)]);
        }
        // An add the removal covered (both count it) is not.
        released.dns.as_mut().unwrap().adds = 1;
        assert_eq!(merged(&released, &active).unwrap().stale, vec![]);
    }

    #[test]
    fn one_registration_unites_its_stale_names_and_a_removal_stays_done() {
        let s = |fqdn: &str, done| StaleName {
            fqdn: fqdn.into(),
            dhcid: vec![1],
            forward: true,
            reverse: false,
            tag: 20,
            done,
            adds: 0,
        };
        let mut a = reg("host5.sim.example", 60, DnsStatus::Added);
        let mut b = a.clone();
        a.stale = vec![s("x.sim.example", true)];
        b.stale = vec![s("x.sim.example", false), s("y.sim.example", false)];
        for (w, l) in [(&a, &b), (&b, &a)] {
            let m = DnsRecords::merge(Some(w), Some(l)).unwrap();
            let due: Vec<_> = m.pending_stale().map(|s| s.fqdn.as_str()).collect();
            assert_eq!(due, ["y.sim.example"]);
            assert_eq!(m.stale.len(), 2);
        }
    }
}
