//! Which version of a binding wins when the partner's update meets ours
//! (DESIGN.md 3.2, after draft-ietf-dhc-failover-12 section 7.1.3). The rules
//! are symmetric: both peers pick the same winner, so when one rejects an
//! update and sends its own version back, the other accepts it and both
//! databases converge.

use crate::lease::{Lease, LeaseState};
use crate::time::Time;

/// How far ahead of our clock the partner's expiry of a binding is accepted.
pub const EXPIRY_GRACE: u64 = 10;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Store this record (the incoming one, merged with ours where both describe one client).
    Accept(Lease),
    /// Keep ours; the partner must be sent our version so it converges.
    Reject(&'static str),
}

fn same_client(a: &Lease, b: &Lease) -> bool {
    a.client().is_some() && a.client() == b.client()
}

/// Resolves `incoming` (from the partner, who is the primary if
/// `sender_primary`) against our `local` record at `now`.
pub fn resolve(
    local: Option<&Lease>,
    incoming: &Lease,
    now: Time,
    sender_primary: bool,
) -> Resolution {
    let Some(l) = local else {
        return Resolution::Accept(incoming.clone());
    };
    use LeaseState::*;
    match (l.state, incoming.state) {
        (Active, Active) if same_client(l, incoming) => Resolution::Accept(merge(l, incoming)),
        (Active, Active) => {
            let incoming_wins =
                incoming.cltt > l.cltt || (incoming.cltt == l.cltt && sender_primary);
            if incoming_wins {
                Resolution::Accept(incoming.clone())
            } else {
                Resolution::Reject("address is bound to another client by a later transaction")
            }
        }
        (Active, Free) => {
            Resolution::Reject("an active binding is never overwritten by a free one")
        }
        // The partner's timer may fire a moment before ours (clock offsets are
        // measured to a second or two). Agree that the binding expired, but
        // keep our later expiry time: no one gets the address before it.
        (Active, Expired)
            if same_client(l, incoming)
                && incoming.cltt >= l.cltt
                && l.expires <= now.plus(EXPIRY_GRACE) =>
        {
            let mut m = incoming.clone();
            m.expires = m.expires.max(l.expires);
            m.potential_expiry = m.potential_expiry.max(l.potential_expiry);
            m.acked_potential_expiry = m.acked_potential_expiry.max(l.acked_potential_expiry);
            Resolution::Accept(m)
        }
        (Active, Released) if same_client(l, incoming) && incoming.cltt >= l.cltt => {
            Resolution::Accept(incoming.clone())
        }
        // A decline carries no client (the address is in use by someone
        // unknown); it and a grant are ordered by time alone, the same way
        // on both sides: the decline wins ties.
        (Active, Declined) if incoming.cltt >= l.cltt => Resolution::Accept(incoming.clone()),
        (Active, _) => Resolution::Reject("the binding is still active here"),
        (Declined, Active) if l.cltt >= incoming.cltt => {
            Resolution::Reject("address was declined after that grant")
        }
        (_, Active | Free) => Resolution::Accept(incoming.clone()),
        _ if incoming.cltt >= l.cltt => Resolution::Accept(incoming.clone()),
        _ => Resolution::Reject("a later transaction is recorded here"),
    }
}

/// Two views of one client's binding: keep the longest commitment either
/// server made, so no server frees the address while the client may hold it.
fn merge(l: &Lease, inc: &Lease) -> Lease {
    let mut m = inc.clone();
    if l.expires > inc.expires {
        m.expires = l.expires;
        m.lease_time = l.lease_time;
    }
    m.cltt = l.cltt.max(inc.cltt);
    m.starts = if l.starts == Time::ZERO {
        inc.starts
    } else {
        l.starts.min(inc.starts)
    };
    m.potential_expiry = l.potential_expiry.max(inc.potential_expiry);
    m.acked_potential_expiry = l.acked_potential_expiry.max(inc.acked_potential_expiry);
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::Owner;
    use crate::proto::HwAddr;

    fn lease(state: LeaseState, mac: u8, cltt: u64, expires: u64) -> Lease {
        let mut l = Lease::free("10.0.0.5".parse().unwrap(), Owner::Primary);
        l.state = state;
        l.hw = HwAddr::new(1, &[2, 0, 0, 0, 0, mac]);
        l.cltt = Time(cltt);
        l.expires = Time(expires);
        l
    }

    fn accepted(r: Resolution) -> Lease {
        match r {
            Resolution::Accept(l) => l,
            Resolution::Reject(why) => panic!("rejected: {why}"),
        }
    }

    #[test]
    fn new_records_are_accepted() {
        let inc = lease(LeaseState::Active, 1, 10, 100);
        assert_eq!(accepted(resolve(None, &inc, Time(10), false)), inc);
    }

    #[test]
    fn two_clients_later_transaction_wins_tie_to_primary() {
        let a = lease(LeaseState::Active, 1, 10, 100);
        let b = lease(LeaseState::Active, 2, 11, 100);
        // b is later: accepted over a, and a is refused over b, whichever side sees it
        assert_eq!(accepted(resolve(Some(&a), &b, Time(12), false)), b);
        assert!(matches!(
            resolve(Some(&b), &a, Time(12), true),
            Resolution::Reject(_)
        ));
        let c = lease(LeaseState::Active, 3, 10, 100);
        // a tie goes to the primary's record on both sides
        assert_eq!(accepted(resolve(Some(&a), &c, Time(12), true)), c);
        assert!(matches!(
            resolve(Some(&c), &a, Time(12), false),
            Resolution::Reject(_)
        ));
    }

    #[test]
    fn same_client_merges_to_the_longest_commitment() {
        let mut mine = lease(LeaseState::Active, 1, 10, 500);
        mine.potential_expiry = Time(900);
        let theirs = lease(LeaseState::Active, 1, 20, 300);
        let m = accepted(resolve(Some(&mine), &theirs, Time(25), false));
        assert_eq!(
            (m.expires, m.cltt, m.potential_expiry),
            (Time(500), Time(20), Time(900))
        );
    }

    #[test]
    fn active_is_never_overwritten_by_free() {
        let a = lease(LeaseState::Active, 1, 10, 100);
        let f = Lease::free(a.addr, Owner::Secondary);
        assert!(matches!(
            resolve(Some(&a), &f, Time(500), false),
            Resolution::Reject(_)
        ));
        // but a free record replaces a free one (an ownership transfer)
        let g = Lease::free(a.addr, Owner::Primary);
        assert_eq!(
            accepted(resolve(Some(&g), &f, Time(500), false)).owner,
            Owner::Secondary
        );
    }

    #[test]
    fn expiry_and_release_need_the_same_client_and_time() {
        let a = lease(LeaseState::Active, 1, 10, 100);
        let exp = lease(LeaseState::Expired, 1, 10, 100);
        assert!(
            matches!(
                resolve(Some(&a), &exp, Time(50), false),
                Resolution::Reject(_)
            ),
            "not yet expired here"
        );
        assert_eq!(
            accepted(resolve(Some(&a), &exp, Time(100), false)).state,
            LeaseState::Expired
        );
        let rel = lease(LeaseState::Released, 1, 20, 20);
        assert_eq!(
            accepted(resolve(Some(&a), &rel, Time(20), false)).state,
            LeaseState::Released
        );
        let stale = lease(LeaseState::Released, 1, 5, 5);
        assert!(
            matches!(
                resolve(Some(&a), &stale, Time(20), false),
                Resolution::Reject(_)
            ),
            "a renewal after the release wins"
        );
        let other = lease(LeaseState::Released, 2, 30, 30);
        assert!(matches!(
            resolve(Some(&a), &other, Time(30), false),
            Resolution::Reject(_)
        ));
        // a new grant over an expired record is accepted
        let e = lease(LeaseState::Expired, 1, 10, 100);
        let b = lease(LeaseState::Active, 2, 200, 300);
        assert_eq!(accepted(resolve(Some(&e), &b, Time(200), false)), b);
    }
}
