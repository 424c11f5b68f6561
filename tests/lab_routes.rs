//! Where replies go on a real link (issue 12, RFC 2131 section 4.1): a client
//! whose DISCOVER and SELECTING REQUEST carry a stale ciaddr (NetworkManager
//! after its lease ran out) must get the OFFER and the ACK at its MAC, not by
//! an IP unicast to ciaddr that the server's kernel would first have to ARP
//! for (the client cannot answer: it has no address). tshark in the client's
//! namespace sees what arrives. Needs root (CI runs as root); elsewhere it
//! says why and skips.

mod common;
#[path = "lab/netns.rs"]
mod netns;
#[path = "lab/setup.rs"]
mod setup;

use dhcproto::{Encodable, v4};
use netns::Lab;
use setup::{lab_config, read, start_tandem, wait_for};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::Path;
use std::time::Duration;

const MAC: [u8; 6] = [0x02, 0, 0, 0x77, 0, 0x42];
const STALE: Ipv4Addr = Ipv4Addr::new(192, 168, 77, 114);

/// A UDP socket on port 68 of `ifname` inside namespace `ns`, as a DHCP
/// client without an address has: made on a thread that entered the
/// namespace (a socket stays in the namespace it was made in).
fn client_socket(ns: &str, ifname: &str) -> UdpSocket {
    let ifname = ifname.to_string();
    netns::inside(ns, move || {
        let s = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::DGRAM,
            Some(socket2::Protocol::UDP),
        )
        .unwrap();
        s.set_broadcast(true).unwrap();
        s.bind_device(Some(ifname.as_bytes())).unwrap();
        s.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, 68)).into())
            .unwrap();
        UdpSocket::from(s)
    })
}

fn message(kind: v4::MessageType, xid: u32, sid: Option<Ipv4Addr>) -> Vec<u8> {
    let mut m = v4::Message::new(
        STALE,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &MAC,
    );
    m.set_xid(xid);
    m.opts_mut().insert(v4::DhcpOption::MessageType(kind));
    m.opts_mut()
        .insert(v4::DhcpOption::RequestedIpAddress(STALE));
    if let Some(s) = sid {
        m.opts_mut().insert(v4::DhcpOption::ServerIdentifier(s));
    }
    m.to_vec().unwrap()
}

/// The replies of type `kind` (2 offer, 5 ack) in the capture: "eth.dst ip.dst yiaddr".
fn replies(lab: &Lab, ns: &str, cap: &Path, kind: u8) -> Vec<String> {
    let out = lab.exec(
        ns,
        &[
            "tshark",
            "-r",
            cap.to_str().unwrap(),
            "-Y",
            &format!("dhcp.option.dhcp == {kind}"),
            "-T",
            "fields",
            "-e",
            "eth.dst",
            "-e",
            "ip.dst",
            "-e",
            "dhcp.ip.your",
        ],
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn lab_stale_ciaddr_replies_reach_the_clients_mac() {
    if let Some(why) = netns::unavailable(&["ip", "tshark"]) {
        eprintln!("SKIPPED lab_stale_ciaddr_replies_reach_the_clients_mac: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = lab_config(d);
    let mut lab = Lab::new("r");
    let srv = lab.host("s", "tdm-srv", Some("192.168.77.1/24"), None);
    let cli = lab.host("c", "eth0", None, Some("02:00:00:77:00:42"));
    start_tandem(&mut lab, &srv, &cfg, &d.join("tandem.log"));
    let log = d.join("tandem.log");
    let cap = d.join("client.pcap");
    let tlog = d.join("tshark.log");
    let tshark = lab.spawn(
        &cli,
        &[
            "tshark",
            "-i",
            "eth0",
            "-f",
            "udp port 68",
            "-w",
            cap.to_str().unwrap(),
            "-a",
            "duration:60",
            "-q",
        ],
        &tlog,
    );
    wait_for("tshark to capture", Duration::from_secs(15), || {
        read(&tlog).contains("Capturing on")
    });
    let sock = client_socket(&cli, "eth0");
    let server = SocketAddr::from((Ipv4Addr::BROADCAST, 67));
    for (kind, xid, sid) in [
        (v4::MessageType::Discover, 0x0101, None),
        (
            v4::MessageType::Request,
            0x0102,
            Some(Ipv4Addr::new(192, 168, 77, 1)),
        ),
    ] {
        for _ in 0..3 {
            sock.send_to(&message(kind, xid, sid), server).unwrap();
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    std::thread::sleep(Duration::from_millis(700));
    lab.signal(tshark, "INT");
    let want = format!("02:00:00:77:00:42 {STALE} {STALE}");
    let offers = replies(&lab, &cli, &cap, 2);
    let acks = replies(&lab, &cli, &cap, 5);
    assert!(
        offers.contains(&want),
        "the OFFER reached the client's MAC: {offers:?}\n{}",
        read(&log)
    );
    assert!(
        acks.contains(&want),
        "the ACK reached the client's MAC: {acks:?}\n{}",
        read(&log)
    );
}
