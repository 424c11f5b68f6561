//! The node's ordering, alone (no peer): what waits for the journal and
//! what a failed commit withholds; and the lost-database start.

use super::late::{LATE, STALE};
use super::*;
use crate::dhcp::RecvContext;
use crate::lease::journal::{EPOCH_KEY, Snapshot};
use crate::proto::Request;
use dhcproto::{Encodable, v4};
use std::net::Ipv4Addr;

pub(super) const CONFIG: &str = r#"
[server]
interfaces = ["eth0"]
lease_db = "/tmp/unused"
server_id = "10.0.0.1"
[[subnet]]
cidr = "10.0.0.0/24"
pools = ["10.0.0.100-10.0.0.103"]
lease_time = "1h"
"#;
pub(super) const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub(super) const NOW: Time = Time(1_000_000);

pub(super) fn node(created: bool) -> Node {
    let config = Arc::new(Config::parse(CONFIG, "t").unwrap());
    let mut snap = Snapshot {
        created,
        ..Snapshot::default()
    };
    snap.meta.insert(EPOCH_KEY.into(), "7".into());
    Node::start(config, snap, vec![SERVER], NOW)
}

pub(super) fn request(kind: v4::MessageType, mac: u8, opts: Vec<v4::DhcpOption>) -> Input {
    let mut m = v4::Message::new(
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &[2, 0, 0, 0, 0, mac],
    );
    m.opts_mut().insert(v4::DhcpOption::MessageType(kind));
    for o in opts {
        m.opts_mut().insert(o);
    }
    received(m)
}

/// `m` as the edge hands it over: broadcast on socket 3, no timestamp.
pub(super) fn received(m: v4::Message) -> Input {
    let ctx = RecvContext {
        ifindex: 1,
        local: SERVER,
        link: Some(SERVER),
        broadcast: true,
    };
    let req = Request::parse(&m.to_vec().unwrap()).unwrap();
    Input::Request(Box::new(Received {
        req,
        ctx,
        socket: 3,
        arrived: None,
    }))
}

pub(super) fn outputs(n: &mut Node) -> Vec<Output> {
    std::iter::from_fn(|| n.poll_output()).collect()
}

/// DISCOVER then SELECTING REQUEST; returns the ACK's journal batch number.
pub(super) fn ack_waiting(n: &mut Node) -> u64 {
    n.handle(NOW, request(v4::MessageType::Discover, 1, vec![]));
    let offered = outputs(n);
    assert!(
        matches!(offered.as_slice(), [Output::Reply { socket: 3, .. }]),
        "the OFFER leaves at once: {offered:?}"
    );
    let a = Ipv4Addr::new(10, 0, 0, 100);
    let opts = vec![
        v4::DhcpOption::ServerIdentifier(SERVER),
        v4::DhcpOption::RequestedIpAddress(a),
    ];
    n.handle(NOW, request(v4::MessageType::Request, 1, opts));
    match outputs(n).as_slice() {
        [Output::Journal(b)] if b.leases.iter().any(|l| l.addr == a) => b.id,
        other => panic!("the ACK must wait for its batch: {other:?}"),
    }
}

#[test]
fn an_ack_leaves_once_its_batch_is_durable() {
    let mut n = node(false);
    outputs(&mut n);
    let batch = ack_waiting(&mut n);
    n.handle(NOW, Input::Committed { upto: batch - 1 });
    assert!(
        outputs(&mut n).is_empty(),
        "an earlier batch releases nothing"
    );
    n.handle(NOW, Input::Committed { upto: batch });
    let out = outputs(&mut n);
    assert!(
        matches!(out.as_slice(), [Output::Reply { socket: 3, src: SERVER, reply }] if reply.bytes[242] == 5),
        "{out:?}"
    );
    assert_eq!(n.stats().acks, 1);
}

#[test]
fn a_failed_commit_withholds_its_ack_and_stops_the_node() {
    let mut n = node(false);
    outputs(&mut n);
    let batch = ack_waiting(&mut n);
    // a second client's ACK waits on a later batch
    n.handle(NOW, request(v4::MessageType::Discover, 2, vec![]));
    outputs(&mut n);
    let b = Ipv4Addr::new(10, 0, 0, 101);
    let opts = vec![
        v4::DhcpOption::ServerIdentifier(SERVER),
        v4::DhcpOption::RequestedIpAddress(b),
    ];
    n.handle(NOW, request(v4::MessageType::Request, 2, opts));
    assert!(matches!(outputs(&mut n).as_slice(), [Output::Journal(_)]));
    n.handle(NOW, Input::CommitFailed { upto: batch });
    let out = outputs(&mut n);
    assert!(
        matches!(out.as_slice(), [Output::Halt(why)] if why.contains("commit failed")),
        "nothing of a failed batch leaves, and the node stops: {out:?}"
    );
    assert_eq!(n.stats().commit_failures, 1);
    // a later success releases nothing (the second ACK was decided on
    // memory the journal may not hold), and requests go unanswered
    n.handle(NOW, Input::Committed { upto: batch + 1 });
    n.handle(NOW, request(v4::MessageType::Discover, 3, vec![]));
    assert!(outputs(&mut n).is_empty());
    // an operator still gets an answer
    n.handle(
        NOW,
        Input::Control {
            id: 9,
            command: Command::Status,
        },
    );
    let out = outputs(&mut n);
    assert!(
        matches!(out.as_slice(), [Output::Answer { id: 9, answer }] if answer["ok"] == false),
        "{out:?}"
    );
}

#[test]
fn a_lost_database_records_its_identity_and_wait_first() {
    let mut n = node(true);
    let out = outputs(&mut n);
    let [Output::Journal(b)] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert_eq!(b.id, 1);
    let keys: Vec<&str> = b.meta.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, [EPOCH_KEY, crate::lease::relearn::META_KEY]);
    assert!(n.store().relearning(NOW));
    // a new client gets nothing during the wait
    n.handle(NOW, request(v4::MessageType::Discover, 2, vec![]));
    assert!(outputs(&mut n).is_empty());
}

#[test]
fn figures_count_requests_leases_and_free_addresses_per_pool() {
    let mut n = node(false);
    outputs(&mut n);
    let batch = ack_waiting(&mut n);
    let f = n.figures(NOW);
    assert_eq!(f.parked_replies, 1, "the ACK waits for its commit");
    assert_eq!(f.stats.received_by_type["discover"], 1);
    assert_eq!(f.stats.received_by_type["request"], 1);
    n.handle(NOW, Input::Committed { upto: batch });
    let f = n.figures(NOW);
    assert_eq!(f.parked_replies, 0);
    assert!(f.peer.is_none());
    let [pool] = f.pools.as_slice() else {
        panic!("one pool: {:?}", f.pools)
    };
    assert_eq!(pool.range, "10.0.0.100-10.0.0.103");
    assert_eq!(pool.subnet, "10.0.0.0/24");
    let active = pool.leases[&(
        crate::lease::LeaseState::Active,
        crate::lease::Owner::Primary,
    )];
    assert_eq!(active, 1);
    assert_eq!(pool.free, [3, 0], "a standalone server owns every address");
    // a request the engine does not answer is counted under its reason
    let other = vec![v4::DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 0, 0, 9))];
    n.handle(NOW, request(v4::MessageType::Request, 2, other));
    let f = n.figures(NOW);
    assert_eq!(
        f.stats.ignored_by_reason.values().sum::<u64>(),
        1,
        "{:?}",
        f.stats.ignored_by_reason
    );
}

pub(super) fn reload(n: &mut Node, text: &str) -> serde_json::Value {
    let config = Arc::new(Config::parse(text, "t").unwrap());
    n.handle(NOW, Input::Reload { id: 9, config });
    match outputs(n).as_slice() {
        [Output::Answer { id: 9, answer }] => answer.clone(),
        other => panic!("one answer: {other:?}"),
    }
}

/// The OFFER's lease time (option 51) for client `mac`.
fn offered_time(n: &mut Node, mac: u8) -> u32 {
    n.handle(NOW, request(v4::MessageType::Discover, mac, vec![]));
    let out = outputs(n);
    let [Output::Reply { reply, .. }] = out.as_slice() else {
        panic!("an OFFER: {out:?}")
    };
    let m = <v4::Message as dhcproto::Decodable>::from_bytes(&reply.bytes).unwrap();
    match m.opts().get(v4::OptionCode::AddressLeaseTime) {
        Some(v4::DhcpOption::AddressLeaseTime(t)) => *t,
        other => panic!("no lease time: {other:?}"),
    }
}

#[test]
fn a_reload_applies_new_lease_times_and_keeps_the_leases() {
    let mut n = node(false);
    outputs(&mut n);
    let batch = ack_waiting(&mut n);
    n.handle(NOW, Input::Committed { upto: batch });
    outputs(&mut n);
    assert_eq!(offered_time(&mut n, 2), 3600);
    let answer = reload(
        &mut n,
        &CONFIG.replace("lease_time = \"1h\"", "lease_time = \"2h\""),
    );
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(
        offered_time(&mut n, 3),
        7200,
        "the new time applies at once"
    );
    assert_eq!(n.store().len(), 1, "the lease is kept");
    // refused whole, naming the key; the running config stays
    let answer = reload(
        &mut n,
        &CONFIG.replace("[server]\n", "[server]\nport = 6767\n"),
    );
    assert_eq!(answer["ok"], false);
    assert_eq!(answer["refused"][0]["key"], "server.port", "{answer}");
    // the pool range holding the active lease cannot go
    let shrunk = CONFIG.replace("10.0.0.100-10.0.0.103", "10.0.0.101-10.0.0.103");
    let answer = reload(&mut n, &shrunk);
    assert_eq!(answer["ok"], false, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("10.0.0.100-10.0.0.100"),
        "{answer}"
    );
    assert_eq!(
        offered_time(&mut n, 4),
        7200,
        "refused whole: the running (2h) config stands"
    );
}

/// A request that waited in the socket longer than `STALE_AFTER` (a
/// stalled or overloaded server) is dropped, counted; a fresh one is not.
#[test]
fn a_request_that_waited_too_long_is_not_answered() {
    let mut n = node(false);
    outputs(&mut n);
    let stamped = |at: Time| match request(v4::MessageType::Discover, 1, vec![]) {
        Input::Request(mut r) => {
            r.arrived = Some(at);
            Input::Request(r)
        }
        _ => unreachable!(),
    };
    n.handle(NOW, stamped(Time(NOW.0 - STALE_AFTER - 1)));
    assert!(outputs(&mut n).is_empty());
    assert_eq!(n.stats().ignored_by_reason.get(STALE), Some(&1));
    n.handle(NOW, stamped(Time(NOW.0 - STALE_AFTER)));
    let outs = outputs(&mut n);
    assert!(
        outs.iter().any(|o| matches!(o, Output::Reply { .. })),
        "{outs:?}"
    );
}

/// A DHCPACK whose commit took longer than `LATE_REPLY` (a stalled
/// server) is not sent: its client would count the lease from its latest
/// retransmission, past our record.
#[test]
fn an_ack_released_too_late_is_dropped() {
    let mut n = node(false);
    let batch = ack_waiting(&mut n);
    n.handle(NOW.plus(LATE_REPLY + 1), Input::Committed { upto: batch });
    let outs = outputs(&mut n);
    assert!(
        !outs.iter().any(|o| matches!(o, Output::Reply { .. })),
        "{outs:?}"
    );
    assert_eq!(n.stats().ignored_by_reason.get(LATE), Some(&1));
    // In time, it goes.
    let mut n = node(false);
    let batch = ack_waiting(&mut n);
    n.handle(NOW.plus(LATE_REPLY), Input::Committed { upto: batch });
    let outs = outputs(&mut n);
    assert!(
        outs.iter().any(|o| matches!(o, Output::Reply { .. })),
        "{outs:?}"
    );
}
