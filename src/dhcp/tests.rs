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
fn selecting_an_address_held_by_another_is_naked() {
    let mut t = t();
    let a = t.dora(mac(1));
    let o = t.send(&msg(
        v4::MessageType::Request,
        mac(2),
        vec![
            v4::DhcpOption::ServerIdentifier(SERVER),
            v4::DhcpOption::RequestedIpAddress(a),
        ],
    ));
    assert!(matches!(o.verdict, Verdict::Nak(_)));
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
    // unknown client asking for someone else's address: NAK
    assert!(matches!(
        t.send(&ir(mac(9), &a.to_string())).verdict,
        Verdict::Nak(_)
    ));
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

#[test]
fn release_then_same_client_gets_it_back() {
    let mut t = t();
    let a = t.dora(mac(1));
    let mut rel = msg(v4::MessageType::Release, mac(1), vec![]);
    rel.set_ciaddr(a);
    // without our server id: ignored
    assert!(matches!(t.send(&rel).verdict, Verdict::Ignored(_)));
    rel.opts_mut()
        .insert(v4::DhcpOption::ServerIdentifier(SERVER));
    let o = t.send(&rel);
    assert_eq!(o.verdict, Verdict::Released(a));
    assert!(o.reply.is_none());
    assert_eq!(o.changes[0].state, LeaseState::Released);
    assert_eq!(t.store.get(a).unwrap().state, LeaseState::Released);
    // another client's release of it changes nothing
    let mut other = rel.clone();
    other.set_chaddr(&mac(2));
    assert!(matches!(t.send(&other).verdict, Verdict::Ignored(_)));
    assert_eq!(t.dora(mac(1)), a);
}

#[test]
fn decline_quarantines_until_probation_ends() {
    let mut t = t();
    let a = t.dora(mac(1));
    let o = t.send(&msg(
        v4::MessageType::Decline,
        mac(1),
        vec![
            v4::DhcpOption::ServerIdentifier(SERVER),
            v4::DhcpOption::RequestedIpAddress(a),
        ],
    ));
    assert_eq!(o.verdict, Verdict::Declined(a));
    assert_eq!(t.store.get(a).unwrap().state, LeaseState::Declined);
    // the client gets a different address now
    let o = t.send(&msg(v4::MessageType::Discover, mac(1), vec![]));
    assert_ne!(o.verdict, Verdict::Offer(a));
    t.now = t.now.plus(3600);
    let changes = t.engine.tick(t.now, &mut t.store);
    assert!(
        changes
            .iter()
            .any(|l| l.addr == a && l.state == LeaseState::Free)
    );
    assert!(t.store.is_allocatable(a));
}

#[test]
fn expiry_and_least_recently_used_reuse() {
    let mut t = t();
    let a = t.dora(mac(1));
    t.now = t.now.plus(3601);
    let ch = t.engine.tick(t.now, &mut t.store);
    assert_eq!(ch.len(), 1);
    assert_eq!(ch[0].state, LeaseState::Expired);
    // never-used addresses go first
    for n in 2..5 {
        assert_ne!(t.dora(mac(n)), a);
    }
    // then the expired one, to a different client
    assert_eq!(t.dora(mac(5)), a);
    // and the pool is exhausted
    let o = t.send(&msg(v4::MessageType::Discover, mac(6), vec![]));
    assert_eq!(o.verdict, Verdict::Ignored("no free address"));
    // the old client has no lease here any more
    assert!(matches!(
        t.send_ctx(&renew(mac(1), a), &unicast()).verdict,
        Verdict::Nak(_)
    ));
}

#[test]
fn reservation_is_given_to_its_client_only() {
    let mut t = t();
    let mut m = msg(v4::MessageType::Discover, [2, 0, 0, 0, 0, 0xaa], vec![]);
    let o = t.send(&m);
    assert_eq!(o.verdict, Verdict::Offer(ip("10.0.0.50")));
    assert_eq!(
        decode(&o).opts().get(v4::OptionCode::Hostname),
        Some(&v4::DhcpOption::Hostname("printer".into()))
    );
    m.set_chaddr(&mac(3));
    m.opts_mut()
        .insert(v4::DhcpOption::RequestedIpAddress(ip("10.0.0.50")));
    assert_ne!(t.send(&m).verdict, Verdict::Offer(ip("10.0.0.50")));
    let sel = msg(
        v4::MessageType::Request,
        mac(3),
        vec![
            v4::DhcpOption::ServerIdentifier(SERVER),
            v4::DhcpOption::RequestedIpAddress(ip("10.0.0.50")),
        ],
    );
    assert!(matches!(t.send(&sel).verdict, Verdict::Nak(_)));
}

#[test]
fn requested_address_is_honoured_when_free() {
    let mut t = t();
    let o = t.send(&msg(
        v4::MessageType::Discover,
        mac(1),
        vec![v4::DhcpOption::RequestedIpAddress(ip("10.0.0.102"))],
    ));
    assert_eq!(o.verdict, Verdict::Offer(ip("10.0.0.102")));
    let o = t.send(&msg(
        v4::MessageType::Discover,
        mac(2),
        vec![v4::DhcpOption::RequestedIpAddress(ip("10.0.0.7"))],
    ));
    assert_eq!(
        o.verdict,
        Verdict::Offer(ip("10.0.0.100")),
        "outside the pool: ignored"
    );
}

#[test]
fn relayed_requests_echo_option_82_and_select_by_link() {
    let mut t = t();
    let mut m = msg(
        v4::MessageType::Discover,
        mac(1),
        vec![v4::DhcpOption::ClientIdentifier(vec![1, 2, 0, 0, 0, 0, 1])],
    );
    m.set_giaddr(ip("192.0.2.1"));
    let mut b = m.to_vec().unwrap();
    // option 82 with circuit id and link selection 10.1.0.0, inserted before END
    let end = b.iter().rposition(|x| *x == 255).unwrap();
    let ri = [82u8, 12, 1, 4, b'p', b'o', b'r', b't', 5, 4, 10, 1, 0, 0];
    b.splice(end..end, ri);
    let req = Request::parse(&b).unwrap();
    let o = t
        .engine
        .handle(t.now, &mut t.store, &Standalone, &req, &ctx());
    assert_eq!(o.verdict, Verdict::Offer(ip("10.1.0.10")));
    let r = o.reply.as_ref().unwrap();
    assert_eq!(
        r.route,
        ReplyRoute::Relay {
            giaddr: ip("192.0.2.1")
        }
    );
    let c = codes(&o);
    assert_eq!(&c[c.len() - 2..], &[61, 82]);
    let pos = r.bytes.windows(ri.len()).position(|w| w == ri);
    assert!(pos.is_some(), "option 82 echoed byte for byte");
    // giaddr alone selects the subnet too
    let mut m = msg(v4::MessageType::Discover, mac(2), vec![]);
    m.set_giaddr(ip("10.1.0.1"));
    assert_eq!(t.send(&m).verdict, Verdict::Offer(ip("10.1.0.11")));
    // a relay on a network no subnet serves: silence
    let mut m = msg(v4::MessageType::Discover, mac(3), vec![]);
    m.set_giaddr(ip("172.16.0.1"));
    assert!(t.send(&m).reply.is_none());
}

#[test]
fn relayed_nak_sets_broadcast_bit() {
    let mut t = t();
    let mut m = msg(
        v4::MessageType::Request,
        mac(1),
        vec![v4::DhcpOption::RequestedIpAddress(ip("10.0.0.5"))],
    );
    m.set_giaddr(ip("10.1.0.1"));
    let o = t.send(&m);
    assert!(matches!(o.verdict, Verdict::Nak(_)));
    assert!(decode(&o).flags().broadcast());
    assert_eq!(
        o.reply.as_ref().unwrap().route,
        ReplyRoute::Relay {
            giaddr: ip("10.1.0.1")
        }
    );
}

#[test]
fn inform_gets_options_without_a_lease() {
    let mut t = t();
    let mut m = msg(v4::MessageType::Inform, mac(1), vec![]);
    m.set_ciaddr(ip("10.0.0.77"));
    let o = t.send_ctx(&m, &unicast());
    assert_eq!(o.verdict, Verdict::Informed);
    assert!(o.changes.is_empty());
    assert_eq!(
        o.reply.as_ref().unwrap().route,
        ReplyRoute::Unicast {
            ciaddr: ip("10.0.0.77")
        }
    );
    let c = codes(&o);
    assert!(!c.contains(&51) && !c.contains(&58));
    assert!(c.contains(&3));
    assert_eq!(decode(&o).yiaddr(), Ipv4Addr::UNSPECIFIED);
}

#[test]
fn small_max_message_size_drops_options_not_echoes() {
    let mut t = t();
    let mut m = msg(
        v4::MessageType::Discover,
        mac(1),
        vec![v4::DhcpOption::ClientIdentifier(vec![0; 200])],
    );
    m.opts_mut().insert(v4::DhcpOption::ParameterRequestList(
        vec![v4::OptionCode::Router; 1],
    ));
    let o = t.send(&m);
    let c = codes(&o);
    assert!(c.contains(&61), "client id echoed even when space is short");
    assert!(o.reply.as_ref().unwrap().bytes.len() <= 548);
}
