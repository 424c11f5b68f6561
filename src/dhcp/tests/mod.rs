//! Engine tests: each drives the engine as a pure value and decodes its
//! replies with dhcproto, an independent codec.

use super::*;
use crate::config::Config;
use crate::lease::{LeaseState, LeaseStore, Owner};
use crate::proto::Request;
use crate::time::Time;
use dhcproto::{Decodable, Encodable, v4};
use std::net::Ipv4Addr;
use std::sync::Arc;

const CONFIG: &str = r#"
[server]
interfaces = ["eth0"]
lease_db = "/tmp/unused"
decline_probation = "1h"

[[subnet]]
cidr = "10.0.0.0/24"
pools = ["10.0.0.100-10.0.0.103"]
lease_time = "1h"
min_lease_time = "10m"
max_lease_time = "2h"
routers = ["10.0.0.1"]
dns_servers = ["10.0.0.53"]
domain_name = "example.org"
next_server = "10.0.0.20"
boot_file = "pxelinux.0"

[[subnet.option]]
code = 150
type = "ipv4"
value = "10.0.0.5"
always_send = true

[[subnet.reservation]]
mac = "02:00:00:00:00:aa"
address = "10.0.0.50"
hostname = "printer"

[[subnet]]
cidr = "10.1.0.0/24"
pools = ["10.1.0.10-10.1.0.20"]
authoritative = true
"#;

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

struct T {
    engine: Engine,
    store: LeaseStore,
    now: Time,
}

fn ctx() -> RecvContext {
    RecvContext {
        ifindex: 2,
        local: SERVER,
        link: Some(SERVER),
        broadcast: true,
    }
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn mac(n: u8) -> [u8; 6] {
    [2, 0, 0, 0, 0, n]
}

fn t() -> T {
    let config = Arc::new(Config::parse(CONFIG, "test").unwrap());
    let store = LeaseStore::new(&config, 256);
    T {
        engine: Engine::new(config, vec![SERVER]),
        store,
        now: Time(1_000_000),
    }
}

fn msg(kind: v4::MessageType, mac: [u8; 6], opts: Vec<v4::DhcpOption>) -> v4::Message {
    let mut m = v4::Message::new(
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &mac,
    );
    m.set_xid(42);
    m.opts_mut().insert(v4::DhcpOption::MessageType(kind));
    m.opts_mut()
        .insert(v4::DhcpOption::ParameterRequestList(vec![
            v4::OptionCode::DomainNameServer,
            v4::OptionCode::Router,
            v4::OptionCode::SubnetMask,
            v4::OptionCode::Hostname,
            v4::OptionCode::DomainName,
        ]));
    for o in opts {
        m.opts_mut().insert(o);
    }
    m
}

impl T {
    fn send(&mut self, m: &v4::Message) -> Outcome {
        self.send_ctx(m, &ctx())
    }

    fn send_ctx(&mut self, m: &v4::Message, c: &RecvContext) -> Outcome {
        let req = Request::parse(&m.to_vec().unwrap()).unwrap();
        self.engine
            .handle(self.now, &mut self.store, &Standalone, &req, c)
    }

    fn dora(&mut self, mac: [u8; 6]) -> Ipv4Addr {
        let o = self.send(&msg(v4::MessageType::Discover, mac, vec![]));
        let Verdict::Offer(a) = o.verdict else {
            panic!("{:?}", o.verdict)
        };
        let o = self.send(&msg(
            v4::MessageType::Request,
            mac,
            vec![
                v4::DhcpOption::ServerIdentifier(SERVER),
                v4::DhcpOption::RequestedIpAddress(a),
            ],
        ));
        assert_eq!(o.verdict, Verdict::Ack(a));
        a
    }
}

fn decode(o: &Outcome) -> v4::Message {
    v4::Message::decode(&mut dhcproto::Decoder::new(
        &o.reply.as_ref().unwrap().bytes,
    ))
    .unwrap()
}

/// Option codes in wire order.
fn codes(o: &Outcome) -> Vec<u8> {
    let b = &o.reply.as_ref().unwrap().bytes;
    let mut i = 240;
    let mut out = Vec::new();
    while b[i] != 255 {
        out.push(b[i]);
        i += 2 + b[i + 1] as usize;
    }
    out
}

#[test]
fn dora_offers_then_acks_after_commit() {
    let mut t = t();
    let o = t.send(&msg(v4::MessageType::Discover, mac(1), vec![]));
    assert_eq!(o.verdict, Verdict::Offer(ip("10.0.0.100")));
    assert!(o.changes.is_empty(), "an offer is not journaled");
    let r = o.reply.as_ref().unwrap();
    assert!(!r.after_commit);
    assert_eq!(
        r.route,
        ReplyRoute::HwUnicast {
            yiaddr: ip("10.0.0.100"),
            hw: crate::proto::HwAddr::new(1, &mac(1))
        }
    );
    let m = decode(&o);
    assert_eq!(m.opts().msg_type(), Some(v4::MessageType::Offer));
    assert_eq!(m.yiaddr(), ip("10.0.0.100"));
    assert_eq!(m.siaddr(), ip("10.0.0.20"));
    assert_eq!(
        m.fname_str()
            .unwrap()
            .unwrap()
            .trim_end_matches(char::from(0)),
        "pxelinux.0"
    );
    // 53, 54, times, mask first, then the client's order (6, 3, 15), then always_send 150
    assert_eq!(codes(&o), vec![53, 54, 51, 58, 59, 1, 6, 3, 15, 150]);
    assert!(r.bytes.len() >= 300);

    // a second client is not offered the same address
    let o2 = t.send(&msg(v4::MessageType::Discover, mac(2), vec![]));
    assert_eq!(o2.verdict, Verdict::Offer(ip("10.0.0.101")));

    let o = t.send(&msg(
        v4::MessageType::Request,
        mac(1),
        vec![
            v4::DhcpOption::ServerIdentifier(SERVER),
            v4::DhcpOption::RequestedIpAddress(ip("10.0.0.100")),
        ],
    ));
    assert_eq!(o.verdict, Verdict::Ack(ip("10.0.0.100")));
    assert!(o.reply.as_ref().unwrap().after_commit);
    assert_eq!(o.changes.len(), 1);
    let l = &o.changes[0];
    assert_eq!(
        (l.state, l.expires, l.lease_time),
        (LeaseState::Active, t.now.plus(3600), 3600)
    );
    let m = decode(&o);
    assert_eq!(
        m.opts().get(v4::OptionCode::AddressLeaseTime),
        Some(&v4::DhcpOption::AddressLeaseTime(3600))
    );
    assert_eq!(
        m.opts().get(v4::OptionCode::Renewal),
        Some(&v4::DhcpOption::Renewal(1800))
    );
    assert_eq!(
        m.opts().get(v4::OptionCode::Rebinding),
        Some(&v4::DhcpOption::Rebinding(3150))
    );
}

#[test]
fn broadcast_flag_and_requested_lease_time() {
    let mut t = t();
    let mut m = msg(
        v4::MessageType::Discover,
        mac(1),
        vec![v4::DhcpOption::AddressLeaseTime(100_000)],
    );
    m.set_flags(v4::Flags::default().set_broadcast());
    let o = t.send(&m);
    assert_eq!(o.reply.as_ref().unwrap().route, ReplyRoute::Broadcast);
    assert_eq!(
        decode(&o).opts().get(v4::OptionCode::AddressLeaseTime),
        Some(&v4::DhcpOption::AddressLeaseTime(7200)),
        "capped at max"
    );
    let o = t.send(&msg(
        v4::MessageType::Discover,
        mac(2),
        vec![v4::DhcpOption::AddressLeaseTime(1)],
    ));
    assert_eq!(
        decode(&o).opts().get(v4::OptionCode::AddressLeaseTime),
        Some(&v4::DhcpOption::AddressLeaseTime(600)),
        "raised to min"
    );
}

#[test]
fn request_for_another_server_is_silent_and_frees_the_offer() {
    let mut t = t();
    t.send(&msg(v4::MessageType::Discover, mac(1), vec![]));
    let o = t.send(&msg(
        v4::MessageType::Request,
        mac(1),
        vec![
            v4::DhcpOption::ServerIdentifier(ip("10.0.0.3")),
            v4::DhcpOption::RequestedIpAddress(ip("10.0.0.100")),
        ],
    ));
    assert!(o.reply.is_none());
    assert!(t.store.is_allocatable(ip("10.0.0.100")));
}

#[test]
fn selecting_an_address_held_by_another_is_naked_when_authoritative() {
    let mut t = t();
    let a = t.dora(mac(1));
    let sel = |m: [u8; 6], a: Ipv4Addr| {
        msg(
            v4::MessageType::Request,
            m,
            vec![
                v4::DhcpOption::ServerIdentifier(SERVER),
                v4::DhcpOption::RequestedIpAddress(a),
            ],
        )
    };
    // not authoritative, never offered to this client: silence (DESIGN.md 2)
    let o = t.send(&sel(mac(2), a));
    assert!(o.reply.is_none(), "{:?}", o.verdict);
    // authoritative (10.1.0.0/24, directly attached here): NAK, broadcast,
    // options 53, 54, 56 only
    let auth = RecvContext {
        link: Some(ip("10.1.0.1")),
        ..ctx()
    };
    let o = t.send_ctx(&msg(v4::MessageType::Discover, mac(1), vec![]), &auth);
    let Verdict::Offer(b) = o.verdict else {
        panic!("{:?}", o.verdict)
    };
    assert_eq!(t.send_ctx(&sel(mac(1), b), &auth).verdict, Verdict::Ack(b));
    let o = t.send_ctx(&sel(mac(2), b), &auth);
    assert!(matches!(o.verdict, Verdict::Nak(_)), "{:?}", o.verdict);
    assert_eq!(o.reply.as_ref().unwrap().route, ReplyRoute::Broadcast);
    assert_eq!(codes(&o), vec![53, 54, 56]);
}

#[test]
fn init_reboot_rules() {
    let mut t = t();
    let a = t.dora(mac(1));
    let ir = |m: [u8; 6], a: &str| {
        msg(
            v4::MessageType::Request,
            m,
            vec![v4::DhcpOption::RequestedIpAddress(ip(a))],
        )
    };
    // its own lease: ACK
    assert_eq!(t.send(&ir(mac(1), &a.to_string())).verdict, Verdict::Ack(a));
    // a known client asking for another address: NAK
    assert!(matches!(
        t.send(&ir(mac(1), "10.0.0.101")).verdict,
        Verdict::Nak(_)
    ));
    // wrong network: NAK
    assert!(matches!(
        t.send(&ir(mac(1), "192.168.1.5")).verdict,
        Verdict::Nak(_)
    ));
    // unknown client, non-authoritative subnet: silence
    let o = t.send(&ir(mac(9), "10.0.0.101"));
    assert!(o.reply.is_none(), "{:?}", o.verdict);
    // unknown client asking for someone else's address: silence when not
    // authoritative (RFC 2131 section 4.3.2: no record of the client)
    let o = t.send(&ir(mac(9), &a.to_string()));
    assert!(o.reply.is_none(), "{:?}", o.verdict);
    // unknown client on an authoritative subnet: NAK
    let mut m = ir(mac(9), "10.1.0.15");
    m.set_giaddr(ip("10.1.0.1"));
    assert!(matches!(t.send(&m).verdict, Verdict::Nak(_)));
}

fn renew(m: [u8; 6], ciaddr: Ipv4Addr) -> v4::Message {
    let mut r = msg(v4::MessageType::Request, m, vec![]);
    r.set_ciaddr(ciaddr);
    r
}

fn unicast() -> RecvContext {
    RecvContext {
        broadcast: false,
        ..ctx()
    }
}

#[test]
fn renewing_rules() {
    let mut t = t();
    let a = t.dora(mac(1));
    t.now = t.now.plus(1800);
    let o = t.send_ctx(&renew(mac(1), a), &unicast());
    assert_eq!(o.verdict, Verdict::Ack(a));
    assert_eq!(
        o.reply.as_ref().unwrap().route,
        ReplyRoute::Unicast { ciaddr: a }
    );
    assert_eq!(decode(&o).ciaddr(), a);
    assert_eq!(
        o.changes[0].expires,
        t.now.plus(3600),
        "every grant states the full time"
    );
    // another client's address: NAK
    assert!(matches!(
        t.send_ctx(&renew(mac(2), a), &unicast()).verdict,
        Verdict::Nak(_)
    ));
    // a client holding a different lease: NAK
    assert!(matches!(
        t.send_ctx(&renew(mac(1), ip("10.0.0.102")), &unicast())
            .verdict,
        Verdict::Nak(_)
    ));
    // an unknown client renewing one of our free addresses: re-learned
    let o = t.send_ctx(&renew(mac(3), ip("10.0.0.103")), &unicast());
    assert_eq!(o.verdict, Verdict::Ack(ip("10.0.0.103")));
    // a rebinding broadcast from the wrong link: NAK
    assert!(matches!(
        t.send(&renew(mac(4), ip("10.1.0.12"))).verdict,
        Verdict::Nak(_)
    ));
}

#[test]
fn renewal_of_partners_free_address_is_silent() {
    let config = Arc::new(Config::parse(CONFIG, "test").unwrap());
    let mut store = LeaseStore::new(&config, 128);
    let engine = Engine::new(config, vec![SERVER]);
    assert_eq!(store.owner_of(ip("10.0.0.103")), Owner::Secondary);
    let req = Request::parse(&renew(mac(3), ip("10.0.0.103")).to_vec().unwrap()).unwrap();
    let o = engine.handle(Time(1), &mut store, &Standalone, &req, &unicast());
    assert!(o.reply.is_none(), "{:?}", o.verdict);
    let req = Request::parse(&renew(mac(3), ip("10.0.0.100")).to_vec().unwrap()).unwrap();
    assert_eq!(
        engine
            .handle(Time(1), &mut store, &Standalone, &req, &unicast())
            .verdict,
        Verdict::Ack(ip("10.0.0.100"))
    );
}

mod classes;
mod conformance;
mod more;
mod names;
mod relay_options;
mod shared;
mod sighting;
