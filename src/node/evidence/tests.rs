//! The node holding back a silent partner's clients: which requests wait,
//! which are answered at once, and the partner-down the evidence leads to.

use super::*;
use crate::config::Config;
use crate::failover::State;
use crate::failover::message::{Connect, Message, PROTOCOL_VERSION, WireLease, WireState};
use crate::lease::journal::{EPOCH_KEY, Snapshot};
use crate::lease::{Lease, LeaseState, Owner};
use crate::node::{Input, Output};
use crate::proto::{ClientKey, HwAddr};
use dhcproto::v4;
use std::net::Ipv4Addr;
use std::sync::Arc;

use crate::node::tests::{SERVER, received};

fn config(pool: &str) -> Arc<Config> {
    let text = format!(
        r#"
[server]
interfaces = ["eth0"]
lease_db = "/tmp/unused"
server_id = "10.0.0.1"
[failover]
role = "primary"
listen = "127.0.0.1:1"
peer = "127.0.0.1:2"
secret_file = "/dev/null"
max_response_delay = "10s"
auto_partner_down = "30s"
[[subnet]]
cidr = "10.0.0.0/24"
pools = ["{pool}"]
lease_time = "1h"
"#
    );
    Arc::new(Config::parse(&text, "t").unwrap())
}

/// A primary that was in NORMAL with its partner (`connected` runs then),
/// whose link just went down: silent COMMUNICATIONS-INTERRUPTED,
/// collecting evidence. Returns it and the time.
fn cut_primary(pool: &str, connected: impl FnOnce(&mut Node, Time)) -> (Node, Time) {
    let config = config(pool);
    let mut snap = Snapshot::default();
    snap.meta.insert(EPOCH_KEY.into(), "7".into());
    snap.meta.insert("fo_state".into(), "normal".into());
    let mut now = Time(1_000_000);
    let mut n = Node::start(config.clone(), snap, vec![SERVER], now);
    n.handle(now, Input::PeerUp);
    let hello = Connect {
        version: PROTOCOL_VERSION,
        name: "b".into(),
        primary: false,
        time: now.0,
        fingerprint: config.fingerprint(),
        epoch: 8,
        seen_epoch: Some(7),
        state: WireState::from(State::Normal),
        mclt: 3600,
        covers: true,
        max_unacked: None,
    };
    n.handle(now, Input::PeerFrame(Message::Connect(hello)));
    assert_eq!(n.state(), Some(State::Normal));
    drain(&mut n);
    connected(&mut n, now);
    now = now.plus(1);
    n.handle(now, Input::PeerDown("cut".into()));
    assert_eq!(n.state(), Some(State::CommunicationsInterrupted));
    assert!(n.peer().unwrap().collecting_evidence());
    drain(&mut n);
    (n, now)
}

fn drain(n: &mut Node) -> Vec<Output> {
    std::iter::from_fn(|| n.poll_output()).collect()
}

/// Ticks once a second up to `until` (a gap would be a stall).
fn run_to(n: &mut Node, now: &mut Time, until: Time) {
    while *now < until {
        *now = now.plus(1);
        n.handle(*now, Input::Tick);
    }
    drain(n);
}

fn mac(n: u32) -> [u8; 6] {
    [2, 7, 0, (n >> 16) as u8, (n >> 8) as u8, n as u8]
}

/// MACs of clients in the secondary's hash bucket (split 128).
fn partners_macs(count: usize) -> Vec<[u8; 6]> {
    (0..)
        .map(mac)
        .filter(|m| {
            let key = ClientKey::new(None, &HwAddr::new(1, m));
            partners_client(&key, 128, Owner::Primary)
        })
        .take(count)
        .collect()
}

fn ours(count: usize) -> Vec<[u8; 6]> {
    (0..)
        .map(mac)
        .filter(|m| {
            !partners_client(
                &ClientKey::new(None, &HwAddr::new(1, m)),
                128,
                Owner::Primary,
            )
        })
        .take(count)
        .collect()
}

fn packet(kind: v4::MessageType, m: [u8; 6], xid: u32, opts: Vec<v4::DhcpOption>) -> Input {
    let z = Ipv4Addr::UNSPECIFIED;
    let mut msg = v4::Message::new(z, z, z, z, &m);
    msg.set_xid(xid);
    msg.opts_mut().insert(v4::DhcpOption::MessageType(kind));
    for o in opts {
        msg.opts_mut().insert(o);
    }
    received(msg)
}

fn answered(n: &mut Node, now: Time, input: Input) -> bool {
    n.handle(now, input);
    drain(n).iter().any(|o| matches!(o, Output::Reply { .. }))
}

fn discover(n: &mut Node, now: Time, m: [u8; 6], xid: u32) -> bool {
    answered(n, now, packet(v4::MessageType::Discover, m, xid, vec![]))
}

/// The partner's grants to `macs` (one address each from 10.0.0.`first`
/// up, `secs` long), received on the link before the cut and made durable.
fn partner_granted(n: &mut Node, now: Time, macs: &[[u8; 6]], secs: u64, first: u8) {
    let addr = |i: usize| Ipv4Addr::new(10, 0, 0, first + i as u8);
    let leases = macs.iter().enumerate().map(|(i, m)| {
        let addr = addr(i);
        let mut l = Lease::free(addr, Owner::Secondary);
        l.state = LeaseState::Active;
        l.hw = HwAddr::new(1, m);
        (l.starts, l.cltt, l.expires) = (now, now, now.plus(secs));
        l.lease_time = secs as u32;
        l.potential_expiry = now.plus(secs * 3 / 2);
        WireLease::from_lease(&l)
    });
    let update = Message::BindingUpdate {
        batch: 1,
        time: now.0,
        leases: leases.collect(),
    };
    n.handle(now, Input::PeerFrame(update));
    for o in drain(n) {
        if let Output::Journal(b) = o {
            n.handle(now, Input::Committed { upto: b.id });
        }
    }
    for (i, m) in macs.iter().enumerate() {
        let l = n.store().get(addr(i)).unwrap();
        assert_eq!(l.client(), Some(ClientKey::new(None, &HwAddr::new(1, m))));
    }
}

/// Each client of `macs` retransmits one DISCOVER at 0, 4, 12 and 28 s;
/// whether each round was answered.
fn retry(n: &mut Node, now: &mut Time, macs: &[[u8; 6]]) -> Vec<Vec<bool>> {
    let start = *now;
    let mut rounds = vec![];
    for at in [0, 4, 12, 28] {
        run_to(n, now, start.plus(at));
        let xid = |i: usize| 100 + i as u32;
        let round = macs
            .iter()
            .enumerate()
            .map(|(i, m)| discover(n, *now, *m, xid(i)));
        rounds.push(round.collect());
    }
    rounds
}

fn held(n: &Node) -> u64 {
    n.stats().ignored_by_reason.get(HELD).copied().unwrap_or(0)
}

const POOL: &str = "10.0.0.100-10.0.0.199";

#[test]
fn the_partners_bound_clients_wait_others_do_not() {
    let (mut n, mut now) = cut_primary(POOL, |n, now| {
        partner_granted(n, now, &partners_macs(1), 3600, 150)
    });
    assert!(discover(&mut n, now, ours(1)[0], 1), "our bucket: at once");
    let unbound = partners_macs(2)[1];
    assert!(
        discover(&mut n, now, unbound, 2),
        "no binding the partner knows: at once"
    );
    let rounds = retry(&mut n, &mut now, &partners_macs(1));
    assert_eq!(rounds, [[false], [false], [false], [true]]);
    assert_eq!(held(&n), 3);
}

#[test]
fn ten_unanswered_clients_and_the_silence_declare_the_partner_down() {
    let macs = partners_macs(10);
    let (mut n, mut now) = cut_primary(POOL, |n, now| partner_granted(n, now, &macs, 3600, 150));
    let start = now;
    retry(&mut n, &mut now, &macs);
    assert_eq!(n.state(), Some(State::CommunicationsInterrupted));
    run_to(&mut n, &mut now, start.plus(31));
    assert_eq!(n.state(), Some(State::PartnerDown));
}

#[test]
fn a_client_choosing_another_server_drops_the_count() {
    let macs = partners_macs(10);
    let (mut n, mut now) = cut_primary(POOL, |n, now| partner_granted(n, now, &macs, 3600, 150));
    let start = now;
    retry(&mut n, &mut now, &macs[..9]);
    let other = vec![
        v4::DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 0, 0, 2)),
        v4::DhcpOption::RequestedIpAddress(Ipv4Addr::new(10, 0, 0, 120)),
    ];
    n.handle(now, packet(v4::MessageType::Request, ours(1)[0], 5, other));
    retry(&mut n, &mut now, &macs[9..]);
    run_to(&mut n, &mut now, start.plus(60));
    assert_eq!(n.state(), Some(State::CommunicationsInterrupted));
    let st = n.peer().unwrap().status(now, n.store());
    assert_eq!(st["partner_down_evidence"]["clients_counted"], 1, "{st}");
}

#[test]
fn bindings_we_made_during_the_cut_are_not_evidence() {
    let (mut n, now) = cut_primary(POOL, |_, _| {});
    let m = partners_macs(1)[0];
    // Not the partner's to answer: we grant it at once ...
    assert!(discover(&mut n, now, m, 1));
    let a = Ipv4Addr::new(10, 0, 0, 100);
    let select = vec![
        v4::DhcpOption::ServerIdentifier(SERVER),
        v4::DhcpOption::RequestedIpAddress(a),
    ];
    n.handle(now, packet(v4::MessageType::Request, m, 1, select));
    for o in drain(&mut n) {
        if let Output::Journal(b) = o {
            n.handle(now, Input::Committed { upto: b.id });
        }
    }
    assert_eq!(n.store().get(a).unwrap().state, LeaseState::Active);
    // ... and the partner never heard of it: its INIT-REBOOT is ours too.
    let verify = vec![v4::DhcpOption::RequestedIpAddress(a)];
    n.handle(now, packet(v4::MessageType::Request, m, 2, verify));
    assert_eq!(held(&n), 0);
    let outs = drain(&mut n);
    let regrant =
        |o: &Output| matches!(o, Output::Journal(b) if b.leases.iter().any(|l| l.addr == a));
    assert!(outs.iter().any(regrant), "an ACK on its way: {outs:?}");
}

#[test]
fn a_rebinding_is_never_held() {
    let macs = partners_macs(1);
    let (mut n, now) = cut_primary(POOL, |n, now| partner_granted(n, now, &macs, 3600, 150));
    let z = Ipv4Addr::UNSPECIFIED;
    let mut msg = v4::Message::new(Ipv4Addr::new(10, 0, 0, 150), z, z, z, &macs[0]);
    msg.set_xid(7);
    msg.opts_mut()
        .insert(v4::DhcpOption::MessageType(v4::MessageType::Request));
    n.handle(now, received(msg));
    assert_eq!(held(&n), 0);
    let outs = drain(&mut n);
    let renewal = |o: &Output| matches!(o, Output::Journal(b) if b.leases.iter().any(|l| l.addr == Ipv4Addr::new(10, 0, 0, 150)));
    assert!(outs.iter().any(renewal), "renewed at once: {outs:?}");
}

#[test]
fn a_stalled_node_serves_blind_and_holds_nothing() {
    let macs = partners_macs(1);
    let (mut n, mut now) = cut_primary(POOL, |n, now| partner_granted(n, now, &macs, 3600, 150));
    now = now.plus(9);
    n.handle(now, Input::Tick);
    let p = n.peer().unwrap();
    assert!(p.policy().blind(), "9 s: the partner may have counted ours");
    assert!(!p.collecting_evidence());
    assert!(!discover(&mut n, now, ours(1)[0], 1), "blind: no new lease");
    discover(&mut n, now, macs[0], 2);
    assert_eq!(held(&n), 0, "nothing held back");
}
