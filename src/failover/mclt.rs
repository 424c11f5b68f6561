//! The maximum client lead time rule (DESIGN.md 3.2): no client may hold a
//! lease more than MCLT past what the partner has acknowledged (or, for a
//! lease the partner has not heard of, past the moment it was granted).

use crate::dhcp::REUSE_GRACE;
use crate::lease::Lease;
use crate::time::Time;

/// The longest lease that may be granted at `now` for a record whose
/// partner-acknowledged potential expiry is `acked`.
pub fn cap(now: Time, acked: Time, mclt: u64) -> u64 {
    acked.max(now).plus(mclt).0 - now.0
}

/// What to tell the partner this server may grant at the next renewal: the
/// desired time beyond this one, plus half the time granted now (when the
/// client renews at T1), so the next renewal can be given in full.
pub fn potential_expiry(now: Time, desired: u64, granted: u64) -> Time {
    now.plus(desired).plus(granted / 2)
}

/// In PARTNER-DOWN, when an address the partner might still consider its
/// client's may be given to someone else: MCLT after the latest of entering
/// PARTNER-DOWN, the lease's expiry, and every potential expiry known, and
/// the client's margin ([`REUSE_GRACE`]) after that, since the partner may
/// have granted right up to that bound.
pub fn reusable_at(lease: &Lease, partner_down_since: Time, mclt: u64) -> Time {
    partner_down_since
        .max(lease.expires)
        .max(lease.potential_expiry)
        .max(lease.acked_potential_expiry)
        .plus(mclt)
        .plus(REUSE_GRACE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::Owner;

    #[test]
    fn new_lease_is_capped_at_mclt_then_extended_after_ack() {
        let now = Time(1000);
        assert_eq!(cap(now, Time::ZERO, 3600), 3600);
        let pe = potential_expiry(now, 86_400, 3600);
        assert_eq!(pe, Time(1000 + 86_400 + 1800));
        // at T1 of the short lease, with the partner's ack of pe, the full day fits
        let t1 = Time(1000 + 1800);
        assert!(cap(t1, pe, 3600) >= 86_400);
        // an ack in the past does not shrink below MCLT
        assert_eq!(cap(Time(5000), Time(10), 60), 60);
    }

    #[test]
    fn reuse_waits_for_the_latest_bound() {
        let mut l = Lease::free("10.0.0.1".parse().unwrap(), Owner::Primary);
        l.expires = Time(500);
        l.potential_expiry = Time(900);
        assert_eq!(reusable_at(&l, Time(100), 60), Time(960 + REUSE_GRACE));
        assert_eq!(reusable_at(&l, Time(2000), 60), Time(2060 + REUSE_GRACE));
    }
}
