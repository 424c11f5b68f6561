//! Relayed clients for the pair lab, driven packet by packet: a relay
//! agent in its own namespace (giaddr 10.160.0.1, sending every request to
//! both peers as a relay with two helper addresses does), clients that
//! take a lease, and clients in INIT-REBOOT that retransmit one exchange
//! on RFC 2131's backoff until a server answers. What the issue-18 tests
//! need that perfdhcp cannot give: the same `xid` retransmitted.
#![allow(dead_code)]

use super::common::Relay;
use super::netns::{self, Lab};
use super::pair::ADDR;
use dhcproto::{Decodable, v4};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

/// The relay's address, on the clients' link 10.160.0.0/24.
pub const GIADDR: Ipv4Addr = Ipv4Addr::new(10, 160, 0, 1);
const LINK: Ipv4Addr = Ipv4Addr::new(10, 160, 0, 0);

/// The clients' subnet, appended to both peers' configurations: 40
/// addresses (about 20 owned by each peer) and leases long enough to
/// outlive a test.
pub const SUBNET: &str = r#"
[[subnet]]
cidr = "10.160.0.0/24"
pools = ["10.160.0.10-10.160.0.49"]
lease_time = "10m"
"#;

/// A client holding a lease: its MAC, its address and the peer (0 or 1)
/// that granted it, which is the peer its RFC 3074 hash bucket belongs to.
#[derive(Clone, Copy, Debug)]
pub struct Leased {
    pub mac: [u8; 6],
    pub addr: Ipv4Addr,
    pub server: usize,
}

/// How a retransmitting client's exchange ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Answer {
    /// The peer that answered (0 or 1).
    pub from: usize,
    /// Seconds after the first transmission.
    pub after: f64,
    pub ack: bool,
}

/// The relay host in `lab`, routed to and from the peers' link; call it
/// from `Pair::build`'s setup, which runs before the peers start. Returns
/// the relay's namespace.
pub fn add_relay_host(lab: &mut Lab) -> String {
    let ns = lab.host("r", "eth0", Some("10.160.0.1/24"), None);
    netns::route(&ns, &["192.168.77.0/24", "dev", "eth0"]);
    for peer in ["a", "b"] {
        let peer = format!("{}{peer}", lab.prefix);
        netns::route(&peer, &["10.160.0.0/24", "dev", "tdm-srv"]);
    }
    ns
}

/// The relay agent, bound to port 67 of [`GIADDR`] inside `ns`.
pub fn relay(ns: &str) -> Relay {
    let sock = netns::inside(ns, || {
        UdpSocket::bind(SocketAddrV4::new(GIADDR, 67)).expect("bind the relay's port 67")
    });
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    Relay {
        sock,
        addr: GIADDR,
        server: SocketAddrV4::new(ADDR[0].parse().unwrap(), 67),
    }
}

fn peer_addr(i: usize) -> Ipv4Addr {
    ADDR[i].parse().unwrap()
}

/// Sends `m` to the peers in `to`.
pub fn send(r: &Relay, to: &[usize], m: &v4::Message) {
    let bytes = dhcproto::Encodable::to_vec(m).unwrap();
    for i in to {
        // A peer that is gone may refuse (ICMP unreachable): not an error.
        let _ = r.sock.send_to(&bytes, SocketAddrV4::new(peer_addr(*i), 67));
    }
}

/// The next reply within `wait`, with the peer it came from.
pub fn recv(r: &Relay, wait: Duration) -> Option<(usize, v4::Message)> {
    let deadline = Instant::now() + wait;
    let mut buf = [0u8; 1500];
    while Instant::now() < deadline {
        let Ok((n, from)) = r.sock.recv_from(&mut buf) else {
            continue;
        };
        let Ok(m) = v4::Message::decode(&mut dhcproto::Decoder::new(&buf[..n])) else {
            continue;
        };
        let peer = (0..2).find(|i| from.ip() == std::net::IpAddr::V4(peer_addr(*i)));
        if let Some(p) = peer {
            return Some((p, m));
        }
    }
    None
}

/// Sends `m` to `to` until a reply with its xid comes, up to 5 times.
pub fn exchange(r: &Relay, to: &[usize], m: &v4::Message) -> Option<(usize, v4::Message)> {
    for _ in 0..5 {
        send(r, to, m);
        let deadline = Instant::now() + Duration::from_secs(1);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match recv(r, left) {
                Some((p, reply)) if reply.xid() == m.xid() => return Some((p, reply)),
                Some(_) => continue,
                None => break,
            }
        }
    }
    None
}

fn kind(m: &v4::Message) -> Option<v4::MessageType> {
    m.opts().msg_type()
}

/// Option 51 of `m`, seconds (0 when absent).
pub fn lease_time(m: &v4::Message) -> u32 {
    match m.opts().get(v4::OptionCode::AddressLeaseTime) {
        Some(v4::DhcpOption::AddressLeaseTime(t)) => *t,
        _ => 0,
    }
}

/// DISCOVER, REQUEST through both peers for `mac`; the ACK and the peer
/// that sent it, if the exchange completes.
pub fn dora(r: &Relay, mac: [u8; 6], xid: u32) -> Option<(usize, v4::Message)> {
    let (_, offer) = exchange(
        r,
        &[0, 1],
        &r.msg(v4::MessageType::Discover, mac, xid, LINK),
    )?;
    let sid = match offer.opts().get(v4::OptionCode::ServerIdentifier) {
        Some(v4::DhcpOption::ServerIdentifier(s)) => *s,
        _ => return None,
    };
    let mut req = r.msg(v4::MessageType::Request, mac, xid + 1, LINK);
    req.opts_mut().insert(v4::DhcpOption::ServerIdentifier(sid));
    req.opts_mut()
        .insert(v4::DhcpOption::RequestedIpAddress(offer.yiaddr()));
    let (p, ack) = exchange(r, &[0, 1], &req)?;
    (kind(&ack) == Some(v4::MessageType::Ack)).then_some((p, ack))
}

/// A lease for `mac`, renewed with the peer that granted it until the
/// lease runs its full 10 minutes: a pair's first grant runs only MCLT,
/// until the partner has acknowledged the binding.
pub fn take_lease(r: &Relay, mac: [u8; 6], xid: u32) -> Leased {
    let (server, ack) = dora(r, mac, xid).expect("a lease");
    let addr = ack.yiaddr();
    for n in 0..20u32 {
        let mut m = r.msg(v4::MessageType::Request, mac, xid + 2 + n, LINK);
        m.set_ciaddr(addr);
        let (_, renewed) = exchange(r, &[server], &m).expect("a renewal");
        assert_eq!(kind(&renewed), Some(v4::MessageType::Ack), "{renewed:?}");
        if lease_time(&renewed) >= 300 {
            return Leased { mac, addr, server };
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("{addr} never got its full lease from peer {server}");
}

/// Leases for new clients until at least `each` are held from each peer.
pub fn lease_clients(r: &Relay, each: usize) -> Vec<Leased> {
    let mut held: Vec<Leased> = Vec::new();
    for n in 0..40u32 {
        if (0..2).all(|s| held.iter().filter(|c| c.server == s).count() >= each) {
            return held;
        }
        let mac = super::common::mac(0x00a0_0000 + n);
        held.push(take_lease(r, mac, 0x1000_0000 + n * 0x100));
    }
    panic!("40 clients did not give {each} from each peer: {held:?}");
}

/// `clients` rebooting (RFC 2131 section 3.2): each sends an INIT-REBOOT
/// REQUEST for its address to both peers, retransmitting the same xid
/// at 0, 4, 12, 28 and 60 s (section 4.1's doubling backoff), until a
/// peer answers. Returns each client's answer, `None` if none came within
/// 62 s. Exchange `i` uses xid `xid + i`.
pub fn reboot(r: &Relay, clients: &[Leased], xid: u32) -> Vec<Option<Answer>> {
    let t0 = Instant::now();
    let mut answers: Vec<Option<Answer>> = vec![None; clients.len()];
    for at in [0.0, 4.0, 12.0, 28.0, 60.0] {
        collect(r, &mut answers, xid, t0, at);
        for (i, c) in clients.iter().enumerate() {
            if answers[i].is_none() {
                let mut m = r.msg(v4::MessageType::Request, c.mac, xid + i as u32, LINK);
                m.opts_mut()
                    .insert(v4::DhcpOption::RequestedIpAddress(c.addr));
                m.set_secs(at as u16);
                send(r, &[0, 1], &m);
            }
        }
    }
    collect(r, &mut answers, xid, t0, 62.0);
    answers
}

/// Takes replies into `answers` until `until` seconds after `t0` or until
/// every client is answered.
fn collect(r: &Relay, answers: &mut [Option<Answer>], xid: u32, t0: Instant, until: f64) {
    while answers.iter().any(Option::is_none) && t0.elapsed().as_secs_f64() < until {
        let Some((from, m)) = recv(r, Duration::from_millis(100)) else {
            continue;
        };
        let i = m.xid().wrapping_sub(xid) as usize;
        if let Some(slot) = answers.get_mut(i).filter(|a| a.is_none()) {
            *slot = Some(Answer {
                from,
                after: t0.elapsed().as_secs_f64(),
                ack: kind(&m) == Some(v4::MessageType::Ack),
            });
        }
    }
}
