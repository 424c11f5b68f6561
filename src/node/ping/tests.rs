use super::super::tests::{CONFIG, NOW, SERVER, outputs, request};
use super::*;
use crate::config::Config;
use crate::lease::LeaseState;
use crate::lease::journal::{EPOCH_KEY, Snapshot};
use crate::node::Input;
use dhcproto::v4;
use std::sync::Arc;

fn pinging_node() -> Node {
    let text = CONFIG.replace(
        "server_id = \"10.0.0.1\"",
        "server_id = \"10.0.0.1\"\nping_check = true\nping_timeout = \"300ms\"",
    );
    let config = Arc::new(Config::parse(&text, "t").unwrap());
    let mut snap = Snapshot::default();
    snap.meta.insert(EPOCH_KEY.into(), "7".into());
    Node::start(config, snap, vec![SERVER], NOW)
}

/// The ping asked for by `outs`: its number and address.
fn ping_of(outs: &[Output]) -> (u64, Ipv4Addr) {
    match outs {
        [
            Output::Ping {
                id,
                addr,
                timeout_ms: 300,
            },
        ] => (*id, *addr),
        other => panic!("expected a ping and nothing else: {other:?}"),
    }
}

fn discover(n: &mut Node, mac: u8) -> Vec<Output> {
    n.handle(NOW, request(v4::MessageType::Discover, mac, vec![]));
    outputs(n)
}

#[test]
fn an_offer_waits_for_its_ping_and_goes_out_on_silence() {
    let mut n = pinging_node();
    let (id, addr) = ping_of(&discover(&mut n, 1));
    assert_eq!(addr, Ipv4Addr::new(10, 0, 0, 100));
    assert!(
        discover(&mut n, 1).is_empty(),
        "a retransmission waits for the same ping"
    );
    n.handle(
        NOW,
        Input::PingDone {
            id,
            answered: false,
        },
    );
    assert!(matches!(
        outputs(&mut n).as_slice(),
        [Output::Reply { socket: 3, .. }]
    ));
    assert_eq!(n.stats().pings_silent, 1);
    // An unknown ping's result changes nothing.
    n.handle(
        NOW,
        Input::PingDone {
            id: 99,
            answered: true,
        },
    );
    assert!(outputs(&mut n).is_empty());
}

#[test]
fn an_answered_ping_quarantines_the_address_and_the_next_is_tried() {
    let mut n = pinging_node();
    let (id, first) = ping_of(&discover(&mut n, 1));
    n.handle(NOW, Input::PingDone { id, answered: true });
    let outs = outputs(&mut n);
    let journaled = outs.iter().any(|o| {
        matches!(o, Output::Journal(b) if b.leases.iter().any(|l| l.addr == first && l.state == LeaseState::Declined))
    });
    assert!(
        journaled,
        "the answered address is quarantined and journaled: {outs:?}"
    );
    assert_eq!(
        n.store().get(first).map(|l| l.state),
        Some(LeaseState::Declined)
    );
    let (id2, second) = ping_of(&outs[1..]);
    assert_eq!(second, Ipv4Addr::new(10, 0, 0, 101));
    n.handle(
        NOW,
        Input::PingDone {
            id: id2,
            answered: false,
        },
    );
    assert!(matches!(outputs(&mut n).as_slice(), [Output::Reply { .. }]));
    assert_eq!(n.stats().pings_answered, 1);
}

#[test]
fn a_discover_is_left_after_three_addresses_in_use() {
    let mut n = pinging_node();
    let mut outs = discover(&mut n, 1);
    for _ in 0..MAX_PINGS {
        let ping = outs.iter().find_map(|o| match o {
            Output::Ping { id, .. } => Some(*id),
            _ => None,
        });
        n.handle(
            NOW,
            Input::PingDone {
                id: ping.expect("a ping"),
                answered: true,
            },
        );
        outs = outputs(&mut n);
    }
    assert!(
        outs.iter().all(|o| matches!(o, Output::Journal(_))),
        "no more pings, no OFFER: the client retransmits: {outs:?}"
    );
}

#[test]
fn a_known_clients_address_is_not_pinged() {
    let mut n = pinging_node();
    let (id, addr) = ping_of(&discover(&mut n, 1));
    n.handle(
        NOW,
        Input::PingDone {
            id,
            answered: false,
        },
    );
    outputs(&mut n);
    let opts = vec![
        v4::DhcpOption::ServerIdentifier(SERVER),
        v4::DhcpOption::RequestedIpAddress(addr),
    ];
    n.handle(NOW, request(v4::MessageType::Request, 1, opts));
    let outs = outputs(&mut n);
    assert!(
        outs.iter().all(|o| !matches!(o, Output::Ping { .. })),
        "{outs:?}"
    );
    // Its next DISCOVER is offered its own address without a ping.
    let outs = discover(&mut n, 1);
    assert!(
        matches!(outs.as_slice(), [Output::Reply { .. }]),
        "{outs:?}"
    );
}
