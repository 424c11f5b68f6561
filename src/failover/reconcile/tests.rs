//! The conflict rules, case by case; `tests/reconcile.rs` checks them as
//! properties (one winner, convergence, skewed clocks).

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
        Resolution::Reject { why, .. } => panic!("rejected: {why}"),
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
        Resolution::Reject { .. }
    ));
    let c = lease(LeaseState::Active, 3, 10, 100);
    // a tie goes to the primary's record on both sides
    assert_eq!(accepted(resolve(Some(&a), &c, Time(12), true)), c);
    assert!(matches!(
        resolve(Some(&c), &a, Time(12), false),
        Resolution::Reject { .. }
    ));
}

#[test]
fn a_close_call_ends_on_the_active_binding_else_the_primarys() {
    let declined = lease(LeaseState::Declined, 1, 100, 100);
    let active = lease(LeaseState::Active, 1, 106, 400);
    // the same answer on both sides, whichever is the primary
    for primary_declined in [true, false] {
        assert!(close_call_takes(&declined, &active, !primary_declined));
        assert!(!close_call_takes(&active, &declined, primary_declined));
    }
    let other = lease(LeaseState::Active, 2, 104, 400);
    assert!(close_call_takes(&active, &other, true));
    assert!(!close_call_takes(&other, &active, false));
    let free = Lease::free(active.addr, Owner::Secondary);
    assert!(close_call_takes(&declined, &free, true));
    assert!(!close_call_takes(&free, &declined, false));
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
fn an_acknowledgement_of_an_ended_binding_does_not_carry_over() {
    // We hold the client's released binding, acknowledged by the
    // partner until 1445; the partner then granted the same client a
    // new, shorter binding (potential expiry 1365).
    let mut released = lease(LeaseState::Released, 4, 1005, 1005);
    released.potential_expiry = Time(1445);
    released.acked_potential_expiry = Time(1445);
    let mut granted = lease(LeaseState::Active, 4, 1035, 1095);
    granted.potential_expiry = Time(1365);
    granted.acked_potential_expiry = Time(1365);
    let m = accepted(resolve(Some(&released), &granted, Time(1036), true));
    assert_eq!(m.potential_expiry, Time(1445), "our own commitment stays");
    assert_eq!(
        m.acked_potential_expiry,
        Time(1365),
        "the partner's is its new one"
    );
    // The same when ours is the later view of that binding.
    let mut later = lease(LeaseState::Active, 4, 1040, 1340);
    later.potential_expiry = Time(1500);
    later.acked_potential_expiry = Time(1445);
    let m = accepted(resolve(Some(&later), &granted, Time(1041), true));
    assert_eq!((m.cltt, m.potential_expiry), (Time(1040), Time(1500)));
    assert_eq!(m.acked_potential_expiry, Time(1365));
    // Ours kept against a version binding another client: the partner
    // is committed to nothing for ours until it takes it.
    let mut other = lease(LeaseState::Active, 9, 1000, 1100);
    other.potential_expiry = Time(1400);
    other.acked_potential_expiry = Time(1400);
    match resolve(Some(&later), &other, Time(1041), false) {
        Resolution::Reject {
            merged: Some(m), ..
        } => assert_eq!(m.acked_potential_expiry, Time::ZERO),
        r => panic!("ours (the later grant) should be kept: {r:?}"),
    }
}

#[test]
fn active_is_never_overwritten_by_free() {
    let a = lease(LeaseState::Active, 1, 10, 100);
    let f = Lease::free(a.addr, Owner::Secondary);
    assert!(matches!(
        resolve(Some(&a), &f, Time(500), false),
        Resolution::Reject { .. }
    ));
    // but a later free record replaces a free one (an ownership
    // transfer is timed by the giver), whichever side gives
    let mut g = Lease::free(a.addr, Owner::Primary);
    g.cltt = Time(400);
    assert_eq!(
        accepted(resolve(Some(&f), &g, Time(500), false)).owner,
        Owner::Primary,
        "the secondary gave its address to the primary"
    );
    let mut h = f.clone();
    h.cltt = Time(450);
    assert_eq!(
        accepted(resolve(Some(&g), &h, Time(500), true)).owner,
        Owner::Secondary,
        "and the primary gave it back"
    );
}

#[test]
fn expiry_and_release_need_the_same_client_and_time() {
    let a = lease(LeaseState::Active, 1, 10, 100);
    let exp = lease(LeaseState::Expired, 1, 10, 100);
    assert!(
        matches!(
            resolve(Some(&a), &exp, Time(50), false),
            Resolution::Reject { .. }
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
            Resolution::Reject { .. }
        ),
        "a renewal after the release wins"
    );
    let other = lease(LeaseState::Released, 2, 30, 30);
    assert!(matches!(
        resolve(Some(&a), &other, Time(30), false),
        Resolution::Reject { .. }
    ));
    // a new grant over an expired record is accepted
    let e = lease(LeaseState::Expired, 1, 10, 100);
    let b = lease(LeaseState::Active, 2, 200, 300);
    assert_eq!(accepted(resolve(Some(&e), &b, Time(200), false)), b);
}

/// Between two versions that bind no one, at equal times, the one further
/// along its life wins whichever side is the primary: a declined address
/// whose probation ended is free, a release comes after an expiry.
#[test]
fn unbound_versions_at_equal_times_follow_the_life_order() {
    let declined = lease(LeaseState::Declined, 1, 100, 100);
    let free = lease(LeaseState::Free, 1, 100, 0);
    let expired = lease(LeaseState::Expired, 1, 100, 100);
    let released = lease(LeaseState::Released, 1, 100, 100);
    for primary in [true, false] {
        assert!(beats(&free, &declined, Time(200), primary));
        assert!(!beats(&declined, &free, Time(200), primary));
        assert!(beats(&released, &expired, Time(200), primary));
        assert!(beats(&expired, &free, Time(200), primary));
    }
}

/// A dispute decided by a minute is no close call: only one within
/// `CLOSE_CALL` seconds, where the two sides' views of each other's clock
/// may differ, is.
#[test]
fn a_dispute_decided_by_a_minute_is_no_close_call() {
    let ours = lease(LeaseState::Active, 1, 200, 900);
    let far = lease(LeaseState::Active, 2, 140, 900);
    let near = lease(LeaseState::Active, 2, 195, 900);
    for (theirs, close) in [(&far, false), (&near, true)] {
        match resolve(Some(&ours), theirs, Time(210), true) {
            Resolution::Reject { close: c, .. } => assert_eq!(c, close, "{theirs:?}"),
            r => panic!("ours is later: {r:?}"),
        }
    }
}

/// The merged binding starts at the earlier of the two starts (what
/// `tandem leases` shows), and an equal expiry keeps the winner's length.
#[test]
fn same_client_merge_keeps_the_earliest_start() {
    let mut mine = lease(LeaseState::Active, 1, 10, 500);
    mine.starts = Time(5);
    mine.lease_time = 495;
    let mut theirs = lease(LeaseState::Active, 1, 20, 500);
    theirs.starts = Time(15);
    theirs.lease_time = 485;
    let m = accepted(resolve(Some(&mine), &theirs, Time(25), false));
    assert_eq!((m.starts, m.lease_time), (Time(5), 485));
    // the other way round: the winner's own start is the earlier
    theirs.starts = Time(3);
    let m = accepted(resolve(Some(&mine), &theirs, Time(25), false));
    assert_eq!(m.starts, Time(3));
    // no start recorded on the winner: the loser's
    theirs.starts = Time::ZERO;
    let m = accepted(resolve(Some(&mine), &theirs, Time(25), false));
    assert_eq!(m.starts, Time(5));
}

/// A release that wins over the active binding of the same client keeps
/// its own end: the address is free at once, not at the binding's expiry.
#[test]
fn a_release_merged_with_the_binding_keeps_its_own_end() {
    let active = lease(LeaseState::Active, 1, 10, 500);
    let released = lease(LeaseState::Released, 1, 20, 20);
    let m = accepted(resolve(Some(&active), &released, Time(25), false));
    assert_eq!(
        (m.state, m.expires, m.cltt),
        (LeaseState::Released, Time(20), Time(20))
    );
}

/// Each refusal names its rule (the partner logs it with the address).
#[test]
fn every_refusal_says_which_rule_kept_ours() {
    let active = lease(LeaseState::Active, 1, 100, 500);
    let cases = [
        (
            Lease::free(active.addr, Owner::Secondary),
            "never overwritten by a free one",
        ),
        (
            lease(LeaseState::Active, 2, 90, 500),
            "bound to another client",
        ),
        (lease(LeaseState::Released, 1, 90, 90), "still active here"),
    ];
    for (theirs, rule) in cases {
        match resolve(Some(&active), &theirs, Time(150), true) {
            Resolution::Reject { why, .. } => assert!(why.contains(rule), "{why}"),
            r => panic!("ours stands: {r:?}"),
        }
    }
    let declined = lease(LeaseState::Declined, 1, 120, 120);
    let granted = lease(LeaseState::Active, 2, 110, 500);
    match resolve(Some(&declined), &granted, Time(150), true) {
        Resolution::Reject { why, .. } => assert!(why.contains("declined after"), "{why}"),
        r => panic!("the decline stands: {r:?}"),
    }
}

/// Two versions of one binding made at the same time: the later DNS
/// registration wins on both sides, whichever is the primary's, where the
/// tie-break by role kept the first (simulator seed 37043140).
#[test]
fn at_equal_times_the_later_registration_wins_on_both_sides() {
    use crate::lease::{DnsRecords, DnsStatus};
    let reg = |tag| {
        Some(Box::new(DnsRecords {
            fqdn: "pc.example".into(),
            forward: true,
            reverse: true,
            tag,
            status: DnsStatus::Pending,
            stale: Vec::new(),
            adds: 0,
        }))
    };
    let mut first = lease(LeaseState::Active, 1, 10, 100);
    first.dns = reg(40);
    let mut second = first.clone();
    second.dns = reg(41);
    for sender_primary in [true, false] {
        let took = accepted(resolve(Some(&first), &second, Time(10), sender_primary));
        assert_eq!(took.dns.map(|d| d.tag), Some(41));
        let kept = accepted(resolve(Some(&second), &first, Time(10), !sender_primary));
        assert_eq!(kept.dns.map(|d| d.tag), Some(41));
    }
    // a later transaction wins as before, whatever its tag
    let mut later = first.clone();
    later.cltt = Time(11);
    let took = accepted(resolve(Some(&second), &later, Time(11), false));
    assert_eq!(took.dns.map(|d| d.tag), Some(40));
}
