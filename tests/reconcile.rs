//! Property tests of conflict resolution over arbitrary pairs of records:
//! whatever each peer holds for an address, after they exchange versions
//! both hold the same record. Small value ranges make ties (equal
//! transaction times, one client on both sides) common.

use proptest::prelude::*;
use tandem::failover::reconcile::{Resolution, beats, resolve};
use tandem::lease::{Lease, LeaseState, Owner};
use tandem::proto::HwAddr;
use tandem::time::Time;

fn record() -> impl Strategy<Value = Lease> {
    (
        0i64..5,
        0i64..2,
        1u8..3,
        (0u64..6, 0u64..12, 0u64..12, 0u64..12, 0u64..3),
    )
        .prop_map(|(state, owner, mac, (cltt, expires, pe, ape, starts))| {
            let mut l = Lease::free(
                "10.0.0.5".parse().unwrap(),
                Owner::from_code(owner).unwrap(),
            );
            l.state = LeaseState::from_code(state).unwrap();
            l.hw = HwAddr::new(1, &[2, 0, 0, 0, 0, mac]);
            l.cltt = Time(cltt);
            l.expires = Time(expires);
            l.potential_expiry = Time(pe);
            l.acked_potential_expiry = Time(ape);
            l.starts = Time(starts);
            l.lease_time = expires as u32;
            l
        })
}

/// Applies `incoming` at a peer holding `local`; returns what it then holds
/// and whether it sends its version back.
fn apply(local: &Lease, incoming: &Lease, now: Time, sender_primary: bool) -> (Lease, bool) {
    match resolve(Some(local), incoming, now, sender_primary) {
        Resolution::Accept(l) => (l, false),
        Resolution::Reject { merged, .. } => (merged.unwrap_or_else(|| local.clone()), true),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn exactly_one_version_wins(a in record(), b in record(), now in 0u64..15, a_primary in any::<bool>()) {
        prop_assert_ne!(
            beats(&a, &b, Time(now), a_primary),
            beats(&b, &a, Time(now), !a_primary),
            "both or neither of two versions win"
        );
    }

    #[test]
    fn peers_converge_after_exchanging_versions(p in record(), s in record(), now in 0u64..15) {
        // Both send their version at once (as after a partition); a peer
        // that refuses a version sends its own back. Index 0 is the primary.
        let mut held = [p.clone(), s.clone()];
        let mut wire: std::collections::VecDeque<(usize, Lease)> = [(0, s), (1, p)].into();
        let mut delivered = 0;
        while let Some((to, version)) = wire.pop_front() {
            delivered += 1;
            prop_assert!(delivered <= 8, "peers keep refusing each other");
            let (next, refuse) = apply(&held[to], &version, Time(now), to == 1);
            held[to] = next;
            if refuse {
                wire.push_back((1 - to, held[to].clone()));
            }
        }
        prop_assert_eq!(&held[0], &held[1]);
    }
}
