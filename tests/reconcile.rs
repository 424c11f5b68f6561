//! Property tests of conflict resolution over arbitrary pairs of records:
//! whatever each peer holds for an address, after they exchange versions
//! both hold the same record. Small value ranges make ties (equal
//! transaction times, one client on both sides) common.

use proptest::prelude::*;
use tandem::failover::reconcile::{Resolution, beats, close_call_takes, resolve, yield_to};
use tandem::lease::{Lease, LeaseState, Owner};
use tandem::proto::HwAddr;
use tandem::time::Time;

const T0: u64 = 1_000_000;

fn record() -> impl Strategy<Value = Lease> {
    (
        0i64..5,
        (0i64..2, 0u64..3),
        1u8..3,
        (0u64..6, 0u64..12, 0u64..12, 0u64..12, 0u64..3),
    )
        .prop_map(
            |(state, (owner, tag), mac, (cltt, expires, pe, ape, starts))| {
                // Real clocks read far from zero (0 means "unset"): times are
                // around T0, with 0 kept as a value of its own.
                let at = |t: u64| if t == 0 { 0 } else { T0 + t };
                let (cltt, expires, pe, ape, starts) =
                    (T0 + cltt, at(expires), at(pe), at(ape), at(starts));
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
                // A DNS registration (tag 1 or 2) or none: two versions of one
                // binding at one time may differ only in it.
                l.dns = (tag > 0).then(|| {
                    Box::new(tandem::lease::DnsRecords {
                        fqdn: "pc.example".into(),
                        forward: true,
                        reverse: true,
                        tag,
                        status: tandem::lease::DnsStatus::Pending,
                        stale: Vec::new(),
                        adds: 0,
                    })
                });
                l
            },
        )
}

/// A version as the receiver decodes it: the sender has committed to its
/// own potential expiry (`failover::message`).
fn on_the_wire(l: &Lease) -> Lease {
    Lease {
        acked_potential_expiry: l.potential_expiry,
        ..l.clone()
    }
}

/// The record both peers share once settled: all but the acknowledged
/// potential expiry, which is each one's view of the other.
fn shared(l: &Lease) -> Lease {
    Lease {
        acked_potential_expiry: Time::ZERO,
        ..l.clone()
    }
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
    fn exactly_one_version_wins(a in record(), b in record(), now in T0..T0 + 15, a_primary in any::<bool>()) {
        prop_assert_ne!(
            beats(&a, &b, Time(now), a_primary),
            beats(&b, &a, Time(now), !a_primary),
            "both or neither of two versions win"
        );
    }

    #[test]
    fn peers_converge_after_exchanging_versions(p in record(), s in record(), now in T0..T0 + 15) {
        // Both send their version at once (as after a partition); a peer
        // that refuses a version sends its own back. Index 0 is the primary.
        let mut held = [p.clone(), s.clone()];
        let mut wire: std::collections::VecDeque<(usize, Lease)> = [(0, s), (1, p)].into();
        let mut delivered = 0;
        while let Some((to, version)) = wire.pop_front() {
            delivered += 1;
            prop_assert!(delivered <= 8, "peers keep refusing each other");
            let (next, refuse) = apply(&held[to], &on_the_wire(&version), Time(now), to == 1);
            held[to] = next;
            if refuse {
                wire.push_back((1 - to, held[to].clone()));
            }
        }
        // Each peer's acknowledged potential expiry is its view of the
        // other's commitment, not part of the shared record; it may not
        // exceed what the other holds (the MCLT rule rests on it).
        for i in 0..2 {
            prop_assert!(held[i].acked_potential_expiry <= held[1 - i].potential_expiry);
        }
        prop_assert_eq!(shared(&held[0]), shared(&held[1]));
    }

    #[test]
    fn peers_with_skewed_views_of_each_others_clock_still_settle(
        p in record(),
        s in record(),
        now in T0..T0 + 15,
        skew in (-4i64..=4, -4i64..=4),
        late in 0u64..5,
    ) {
        // Each peer converts the other's times with its own (slightly wrong)
        // offset estimate and reads its own clock, so they may decide a close
        // call differently. The model follows the peer (`sync.rs`): a refusal
        // sends our version back, and a refused sender offers its own again;
        // a primary whose version was taken while it took the partner's (the
        // two crossed) offers the one it holds; on a close call it has refused
        // before and the partner has refused its own (both have judged the
        // other's version: `Dispute::both_kept`), the side whose version
        // `close_call_takes` passes over gives way. A taken version ends the
        // dispute on both sides.
        enum Wire {
            Update(Lease),
            Ack { taken: bool },
        }
        let mut held = [p.clone(), s.clone()];
        let mut theirs = [false; 2];
        let mut refusals = [0u32; 2];
        let mut refused_by_partner = [false; 2];
        let mut wire: std::collections::VecDeque<(usize, Wire)> =
            [(0, Wire::Update(s)), (1, Wire::Update(p))].into();
        let mut delivered = 0;
        let mut log = Vec::new();
        while let Some((to, msg)) = wire.pop_front() {
            delivered += 1;
            prop_assert!(delivered <= 60, "peers keep disputing: {:#?}", &log[..20]);
            match &msg {
                Wire::Update(v) => log.push(format!("to {to}: {:?} {} | holds {:?} {} theirs {}", v.state, v.cltt.0, held[to].state, held[to].cltt.0, theirs[to])),
                Wire::Ack { taken } => log.push(format!("to {to}: ack taken={taken} | holds {:?} theirs {}", held[to].state, theirs[to])),
            }
            match msg {
                Wire::Update(version) => {
                    let version = on_the_wire(&version.shifted(if to == 0 { skew.0 } else { skew.1 }));
                    let clock = Time(now + if to == 1 { late } else { 0 });
                    let taken = match resolve(Some(&held[to]), &version, clock, to == 1) {
                        Resolution::Accept(l) => Some(l),
                        Resolution::Reject { close: true, .. }
                            if refusals[to] >= 1
                                && refused_by_partner[to]
                                && close_call_takes(&held[to], &version, to == 1) =>
                        {
                            Some(yield_to(&held[to], &version))
                        }
                        Resolution::Reject { merged, .. } => {
                            refusals[to] += 1;
                            if let Some(m) = merged {
                                held[to] = m;
                            }
                            theirs[to] = false;
                            wire.push_back((1 - to, Wire::Update(held[to].clone())));
                            None
                        }
                    };
                    if let Some(l) = &taken {
                        held[to] = l.clone();
                        theirs[to] = true;
                        (refusals[to], refused_by_partner[to]) = (0, false);
                    }
                    wire.push_back((1 - to, Wire::Ack { taken: taken.is_some() }));
                }
                // Our version was taken, but we hold the partner's: crossed;
                // the primary offers what it holds.
                Wire::Ack { taken: true } if theirs[to] && to == 0 => {
                    theirs[to] = false;
                    wire.push_back((1 - to, Wire::Update(held[to].clone())));
                }
                // Refused while we still hold our own: offered again.
                Wire::Ack { taken: false } if !theirs[to] => {
                    refused_by_partner[to] = true;
                    wire.push_back((1 - to, Wire::Update(held[to].clone())));
                }
                // Ours taken, and we hold it: the dispute is over.
                Wire::Ack { taken: true } if !theirs[to] => {
                    (refusals[to], refused_by_partner[to]) = (0, false);
                }
                Wire::Ack { .. } => {}
            }
        }
        let view = |l: &Lease| (l.state, l.client(), l.owner);
        prop_assert_eq!(view(&held[0]), view(&held[1]));
    }
}
