//! Planned maintenance (`tandem maintenance`, the draft's SHUTDOWN): the
//! partner takes over in PARTNER-DOWN, and the server comes back through
//! RECOVER, whether by `maintenance stop` or by a restart, having learned
//! what the partner granted meanwhile.

use super::*;

#[test]
fn the_partner_takes_over_and_stop_recovers_what_it_granted() {
    let mut d = Duo::new();
    d.connect();
    d.a.peer.maintenance_start(d.now).unwrap();
    d.settle();
    assert_eq!(d.states(), (State::Shutdown, State::PartnerDown));
    assert_eq!(
        d.a.peer.policy().state.serving(),
        crate::failover::state::Serving::None
    );
    // the partner serves a's clients meanwhile
    let l = d.b.grant("10.0.0.11", 8, d.now, 500);
    d.advance(2);
    d.a.peer.maintenance_stop(d.now).unwrap();
    assert!(
        !d.a.closed.is_empty() || d.a.peer.partner_state().is_none(),
        "the link is reopened"
    );
    d.disconnect();
    assert_eq!(
        d.states().0,
        State::Shutdown,
        "no serving before the partner is reached"
    );
    d.connect();
    assert_eq!(d.states(), (State::Normal, State::Normal));
    assert_eq!(
        d.a.store.get(l.addr).and_then(Lease::client),
        l.client(),
        "learned what the partner granted in maintenance"
    );
}

#[test]
fn a_restart_in_maintenance_comes_back_through_recover() {
    let mut d = Duo::new();
    d.connect();
    d.a.peer.maintenance_start(d.now).unwrap();
    d.settle();
    let l = d.b.grant("10.0.0.12", 9, d.now, 500);
    d.disconnect();
    assert_eq!(d.a.persisted().state, Some(State::Shutdown));
    d.restart_a();
    d.connect();
    assert_eq!(d.states(), (State::Normal, State::Normal));
    assert_eq!(d.a.store.get(l.addr).and_then(Lease::client), l.client());
}

#[test]
fn maintenance_is_refused_when_the_partner_could_not_take_over() {
    let mut d = Duo::new();
    let e = d.a.peer.maintenance_start(d.now).unwrap_err();
    assert!(e.contains("not connected"), "{e}");
    d.connect();
    d.disconnect();
    d.advance(1);
    assert!(d.a.peer.maintenance_start(d.now).is_err(), "partner gone");
    assert!(
        d.a.peer
            .maintenance_stop(d.now)
            .unwrap_err()
            .contains("not in maintenance")
    );
    d.connect();
    d.b.peer.operator_partner_down(d.now).unwrap_err();
    assert_eq!(d.states(), (State::Normal, State::Normal));
    d.a.peer.maintenance_start(d.now).unwrap();
    d.settle();
    let e = d.b.peer.maintenance_start(d.now).unwrap_err();
    assert!(e.contains("both peers in normal"), "{e}");
}

#[test]
fn both_put_into_maintenance_at_once_leaves_the_secondary_serving() {
    let mut d = Duo::new();
    d.connect();
    d.a.peer.maintenance_start(d.now).unwrap();
    d.b.peer.maintenance_start(d.now).unwrap();
    d.settle();
    assert_eq!(d.states(), (State::Shutdown, State::PartnerDown));
}
