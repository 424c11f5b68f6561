//! Runtime reservations on the link: sent at connect and after a change,
//! checked on arrival.

use super::*;
use crate::config::runtime::{ReservedClient, RuntimeEntry};

fn entry(last: u8) -> RuntimeEntry {
    RuntimeEntry {
        client: ReservedClient::Mac([2, 0, 0, 0, 0, last]),
        address: Some(Ipv4Addr::new(10, 0, 0, 200 + last)),
        hostname: None,
        changed: 1_000_000,
    }
}

#[test]
fn each_side_sends_its_set_at_connect_and_after_a_change() {
    let mut d = Duo::new();
    d.a.peer
        .set_reservations(d.now, vec![vec![entry(1)]], false);
    d.connect();
    assert_eq!(d.b.reservations, vec![vec![entry(1)]], "sent at connect");
    assert!(d.a.reservations.is_empty(), "an empty set is not sent");
    d.b.peer
        .set_reservations(d.now, vec![vec![entry(1)], vec![entry(2)]], true);
    d.settle();
    assert_eq!(
        d.a.reservations,
        vec![vec![entry(1)], vec![entry(2)]],
        "frame by frame"
    );
    d.a.peer
        .set_reservations(d.now, vec![vec![entry(3)]], false);
    d.settle();
    assert_eq!(d.b.reservations.len(), 1, "kept, not sent, when told so");
    let s = d.a.peer.status(d.now, &d.a.store);
    assert_eq!(s["runtime_reservations_replicated"], true, "{s}");
}

#[test]
fn a_malformed_set_closes_the_link() {
    let mut d = Duo::new();
    d.connect();
    let mut bad = entry(1);
    bad.client = ReservedClient::ClientId(vec![1]);
    let m = Message::Reservations { entries: vec![bad] };
    d.deliver(vec![m], vec![]);
    d.b.drain();
    assert!(
        d.b.closed.iter().any(|w| w.contains("client identifier")),
        "{:?}",
        d.b.closed
    );
    assert!(d.b.reservations.is_empty());
}

#[test]
fn changes_wait_for_a_connected_partner_that_speaks_protocol_7() {
    let mut d = Duo::new();
    let e = d.a.peer.reservations_may_change().unwrap_err();
    assert!(e.contains("not connected"), "{e}");
    d.connect();
    assert_eq!(d.a.peer.reservations_may_change(), Ok(()));
    d.a.peer.partner.as_mut().unwrap().version = 6;
    let e = d.a.peer.reservations_may_change().unwrap_err();
    assert!(e.contains("older than 7"), "{e}");
    // a protocol-6 partner never sends them: one that does is cut off
    d.deliver(
        vec![],
        vec![Message::Reservations {
            entries: vec![entry(1)],
        }],
    );
    d.a.drain();
    assert!(
        d.a.closed
            .iter()
            .any(|w| w.contains("older than protocol 7")),
        "{:?}",
        d.a.closed
    );
    assert!(d.a.reservations.is_empty());
}

/// Beside an ISC dhcpd (which keeps no runtime reservations) a runtime
/// reservation is refused even with the partner connected, and `status`
/// says they are not replicated: dhcpd would give the address to another
/// client (review of session 19: the synthesized CONNECT claims the
/// newest protocol).
#[test]
fn beside_an_isc_partner_runtime_reservations_are_refused() {
    let mut d = Duo::new();
    d.a.peer.cfg.isc_partner = true;
    d.connect();
    let e = d.a.peer.reservations_may_change().unwrap_err();
    assert!(e.contains("ISC dhcpd"), "{e}");
    let s = d.a.peer.status(d.now, &d.a.store);
    assert_eq!(s["runtime_reservations_replicated"], false, "{s}");
    d.a.peer.set_reservations(d.now, vec![vec![entry(1)]], true);
    d.settle();
    assert!(d.b.reservations.is_empty(), "nothing sent");
}
