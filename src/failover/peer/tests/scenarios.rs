//! A pair's life: reaching NORMAL, replication and the MCLT bound, losing
//! the link, restarts and wipes, conflicts, and rebalancing.

use super::*;
use crate::lease::Owner;

#[test]
fn fresh_pair_reaches_normal() {
    let mut d = Duo::new();
    d.connect();
    assert_eq!(d.states(), (State::Normal, State::Normal));
    assert!(d.a.closed.is_empty() && d.b.closed.is_empty());
}

#[test]
fn fresh_peer_alone_waits_in_recover() {
    let mut d = Duo::new();
    d.advance(10);
    assert_eq!(d.states(), (State::Recover, State::Recover));
    assert!(!d.a.peer.policy().responsive());
}

#[test]
fn updates_replicate_and_acks_raise_the_mclt_bound() {
    let mut d = Duo::new();
    d.connect();
    let now = d.now;
    let l = d.a.grant("10.0.0.10", 1, now, 100);
    d.settle();
    let b = d.b.store.get(l.addr).unwrap();
    assert_eq!((b.state, b.client()), (LeaseState::Active, l.client()));
    assert_eq!(b.update_seq, 0, "the partner's change");
    assert_eq!(
        b.acked_potential_expiry, l.potential_expiry,
        "the sender committed to its potential expiry"
    );
    assert_eq!(
        d.a.store.get(l.addr).unwrap().acked_potential_expiry,
        l.potential_expiry,
        "ack recorded"
    );
    assert_eq!(d.a.store.unacked(), 0);
    assert_eq!(
        d.a.disk.get(&l.addr).unwrap().acked_potential_expiry,
        l.potential_expiry,
        "and journaled"
    );
    let cap = d.a.peer.policy().lease_cap(d.a.store.get(l.addr), now);
    assert_eq!(cap, Some(200 + 100), "acked potential expiry + MCLT");
}

#[test]
fn losing_the_link_interrupts_then_auto_partner_down() {
    let mut d = Duo::new();
    // Silence alone (`tests/evidence.rs` has the default, with evidence).
    d.a.peer.cfg.evidence = None;
    d.connect();
    d.disconnect();
    assert_eq!(
        d.states(),
        (
            State::CommunicationsInterrupted,
            State::CommunicationsInterrupted
        )
    );
    assert!(d.a.peer.policy().responsive());
    d.advance(31);
    assert_eq!(d.a.peer.state(), State::PartnerDown);
    assert!(d.a.peer.persisted().partner_down_since.is_some());
}

#[test]
fn silence_on_an_open_link_closes_it() {
    let mut d = Duo::new();
    d.connect();
    // b stops processing: take b's session away so a's messages vanish
    d.b.session = None;
    for _ in 0..12 {
        d.now = d.now.plus(1);
        d.a.peer.tick(d.now, &mut d.a.store);
        d.a.drain();
    }
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
}

#[test]
fn fingerprint_mismatch_keeps_the_pair_apart() {
    let mut d = Duo::new();
    d.b.peer.cfg.fingerprint = "different".into();
    d.connect();
    assert!(!d.a.closed.is_empty() || !d.b.closed.is_empty());
    assert_ne!(d.a.peer.state(), State::Normal);
    let st = d.a.peer.status(d.now, &d.a.store);
    assert!(
        st["alarm"].as_str().unwrap().contains("fingerprint"),
        "{st}"
    );
}

#[test]
fn restart_after_partner_down_recovers_then_normal() {
    let mut d = Duo::new();
    d.connect();
    d.b.grant("10.0.0.25", 7, d.now, 500);
    d.settle();
    // b dies; a is told the partner is down and serves alone
    d.disconnect();
    d.a.peer.operator_partner_down(d.now).unwrap();
    d.advance(2);
    let l = d.a.grant("10.0.0.11", 8, d.now, 500);
    d.advance(2);
    // b restarts with its disk intact
    let pb = d.b.persisted();
    assert_eq!(
        pb.state,
        Some(State::CommunicationsInterrupted),
        "b saw the link drop before it died"
    );
    d.b = side(&d.config, false, d.epochs.1, pb, d.b.disk.clone(), d.now);
    d.connect();
    assert_eq!(d.states(), (State::Normal, State::Normal));
    assert_eq!(Duo::active(&d.a), Duo::active(&d.b));
    assert_eq!(
        d.b.store.get(l.addr).unwrap().client(),
        l.client(),
        "learned what a did alone"
    );
}

#[test]
fn wiped_peer_gets_everything_and_waits_mclt() {
    let mut d = Duo::new();
    d.connect();
    for (i, a) in ["10.0.0.10", "10.0.0.11", "10.0.0.12"].iter().enumerate() {
        d.a.grant(a, i as u8, d.now, 1000);
    }
    d.b.grant("10.0.0.25", 9, d.now, 1000);
    d.settle();
    d.disconnect();
    // b loses its disk: new epoch, nothing persisted
    d.b = side(
        &d.config,
        false,
        99,
        Persisted::default(),
        HashMap::new(),
        d.now,
    );
    d.connect();
    assert_eq!(
        d.a.peer.state(),
        State::PartnerDown,
        "a serves alone while b recovers"
    );
    assert_eq!(d.b.peer.state(), State::RecoverWait);
    assert!(!d.b.peer.policy().responsive());
    assert_eq!(
        Duo::active(&d.a),
        Duo::active(&d.b),
        "full transfer restored every binding"
    );
    d.advance(101);
    assert_eq!(d.states(), (State::Normal, State::Normal));
}

#[test]
fn both_partner_down_conflict_resolves_to_one_winner() {
    let mut d = Duo::new();
    d.connect();
    d.disconnect();
    d.a.peer.operator_partner_down(d.now).unwrap();
    d.b.peer.operator_partner_down(d.now).unwrap();
    // the dangerous case: both hand out the same address to different clients
    d.a.grant("10.0.0.15", 1, d.now, 500);
    d.advance(1);
    d.b.grant("10.0.0.15", 2, d.now, 500);
    d.connect();
    assert_eq!(d.states(), (State::Normal, State::Normal));
    let (la, lb) = (
        d.a.store.get("10.0.0.15".parse().unwrap()).unwrap(),
        d.b.store.get("10.0.0.15".parse().unwrap()).unwrap(),
    );
    assert_eq!(la.client(), lb.client(), "both agree");
    assert_eq!(la.hw.bytes()[5], 2, "the later transaction wins");
}

#[test]
fn free_addresses_flow_to_the_peer_that_needs_them() {
    let mut d = Duo::new();
    d.connect();
    let me = Owner::Primary;
    let pool = PoolId(0);
    let before = d.a.store.free_count(pool, me);
    let addrs: Vec<Ipv4Addr> = d.a.store.free_addrs(pool, me).collect();
    for (i, a) in addrs.iter().enumerate() {
        d.a.grant(&a.to_string(), 100 + i as u8, d.now, 10_000);
    }
    d.settle();
    assert_eq!(d.a.store.free_count(pool, me), 0);
    d.advance(REBALANCE_EVERY + 1);
    let after = d.a.store.free_count(pool, me);
    assert!(after > 0 && before > 0, "a received addresses: {after}");
    let b_free = d.b.store.free_count(pool, Owner::Secondary);
    assert_eq!(
        d.b.store.free_count(pool, Owner::Primary),
        after,
        "both agree who owns what"
    );
    assert_eq!(d.a.store.free_count(pool, Owner::Secondary), b_free);
}
