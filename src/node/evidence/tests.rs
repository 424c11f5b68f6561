//! The node holding back a silent partner's clients: which requests wait,
//! which are answered at once, and the partner-down the evidence leads to.

use super::*;
use crate::config::Config;
use crate::failover::State;
use crate::failover::message::{Connect, Message, PROTOCOL_VERSION, WireState};
use crate::lease::Owner;
use crate::lease::journal::{EPOCH_KEY, Snapshot};
use crate::node::{Input, Output};
use crate::proto::{ClientKey, HwAddr, Request};
use dhcproto::{Encodable, v4};
use std::net::Ipv4Addr;
use std::sync::Arc;

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

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

/// A primary that was in NORMAL with its partner, whose link just went
/// down: silent COMMUNICATIONS-INTERRUPTED, collecting evidence. Returns
/// it and the time.
fn cut_primary(pool: &str) -> (Node, Time) {
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
    };
    n.handle(now, Input::PeerFrame(Message::Connect(hello)));
    assert_eq!(n.state(), Some(State::Normal));
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

fn packet(kind: v4::MessageType, m: [u8; 6], secs: u16, opts: Vec<v4::DhcpOption>) -> Input {
    let z = Ipv4Addr::UNSPECIFIED;
    let mut msg = v4::Message::new(z, z, z, z, &m);
    msg.set_secs(secs);
    msg.opts_mut().insert(v4::DhcpOption::MessageType(kind));
    for o in opts {
        msg.opts_mut().insert(o);
    }
    let ctx = crate::dhcp::RecvContext {
        ifindex: 1,
        local: SERVER,
        link: Some(SERVER),
        broadcast: true,
    };
    let req = Request::parse(&msg.to_vec().unwrap()).unwrap();
    Input::Request(Box::new(Received {
        req,
        ctx,
        socket: 3,
    }))
}

fn discover(n: &mut Node, now: Time, m: [u8; 6], secs: u16) -> bool {
    n.handle(now, packet(v4::MessageType::Discover, m, secs, vec![]));
    drain(n).iter().any(|o| matches!(o, Output::Reply { .. }))
}

/// Each client of `macs` retries DISCOVER at 0, 4 and 12 s; whether each
/// round was answered.
fn retry(n: &mut Node, now: &mut Time, macs: &[[u8; 6]]) -> Vec<Vec<bool>> {
    let start = *now;
    let mut rounds = vec![];
    for (at, secs) in [(0, 0), (4, 4), (12, 12)] {
        run_to(n, now, start.plus(at));
        rounds.push(macs.iter().map(|m| discover(n, *now, *m, secs)).collect());
    }
    rounds
}

fn held(n: &Node) -> u64 {
    n.stats().ignored_by_reason.get(HELD).copied().unwrap_or(0)
}

#[test]
fn the_partners_new_clients_wait_ours_do_not() {
    let (mut n, mut now) = cut_primary("10.0.0.100-10.0.0.199");
    let theirs = partners_macs(1);
    assert!(discover(&mut n, now, ours(1)[0], 0), "our bucket: at once");
    let rounds = retry(&mut n, &mut now, &theirs);
    assert_eq!(rounds, [[false], [false], [true]]);
    assert_eq!(held(&n), 2);
}

#[test]
fn ten_unanswered_clients_and_the_silence_declare_the_partner_down() {
    let (mut n, mut now) = cut_primary("10.0.0.100-10.0.0.199");
    let start = now;
    retry(&mut n, &mut now, &partners_macs(10));
    assert_eq!(n.state(), Some(State::CommunicationsInterrupted));
    run_to(&mut n, &mut now, start.plus(31));
    assert_eq!(n.state(), Some(State::PartnerDown));
}

#[test]
fn a_client_choosing_another_server_starts_the_count_over() {
    let (mut n, mut now) = cut_primary("10.0.0.100-10.0.0.199");
    let start = now;
    let macs = partners_macs(10);
    retry(&mut n, &mut now, &macs[..9]);
    let other = vec![
        v4::DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 0, 0, 2)),
        v4::DhcpOption::RequestedIpAddress(Ipv4Addr::new(10, 0, 0, 150)),
    ];
    n.handle(now, packet(v4::MessageType::Request, macs[0], 0, other));
    retry(&mut n, &mut now, &macs[9..]);
    run_to(&mut n, &mut now, start.plus(60));
    assert_eq!(n.state(), Some(State::CommunicationsInterrupted));
    let st = n.peer().unwrap().status(now, n.store());
    assert_eq!(st["partner_down_evidence"]["clients_counted"], 1, "{st}");
}

#[test]
fn a_partner_that_may_have_run_out_owes_no_discover() {
    // Four addresses: the partner owns two, so a third DISCOVER client of
    // its bucket may simply have found it empty.
    let (mut n, now) = cut_primary("10.0.0.100-10.0.0.103");
    let macs = partners_macs(3);
    assert!(!discover(&mut n, now, macs[0], 0));
    assert!(!discover(&mut n, now, macs[1], 0));
    assert!(discover(&mut n, now, macs[2], 0), "not held");
    assert_eq!(n.peer().unwrap().evidence_discovering(), 2);
}

#[test]
fn a_stalled_node_serves_blind_and_holds_nothing() {
    let (mut n, mut now) = cut_primary("10.0.0.100-10.0.0.199");
    now = now.plus(60);
    n.handle(now, Input::Tick);
    let p = n.peer().unwrap();
    assert!(p.policy().blind());
    assert!(!p.collecting_evidence());
    assert!(
        !discover(&mut n, now, partners_macs(1)[0], 0),
        "blind: no offer"
    );
    assert_eq!(held(&n), 0, "and not held either");
}
