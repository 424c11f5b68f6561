//! Replays the fuzz corpora and every crash reproducer through the same entry
//! points the fuzzers use, on stable, in every `cargo test`.
//! `cargo test --test fuzz_corpus -- --ignored write_seed_corpus` regenerates
//! the seed corpus from the client layouts below.

use dhcproto::{Encodable, v4};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

fn dir(kind: &str, target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target)
}

fn replay(target: &str, f: fn(&[u8])) -> usize {
    let mut n = 0;
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(dir(kind, target)) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            let data = std::fs::read(&p).unwrap();
            let r = std::panic::catch_unwind(|| f(&data));
            assert!(r.is_ok(), "{} panics", p.display());
            n += 1;
        }
    }
    n
}

#[test]
fn dhcp_corpus() {
    assert!(
        replay("dhcp_packet", tandem::fuzzing::dhcp_packet) >= 10,
        "seed corpus present"
    );
}

#[test]
fn peer_corpus() {
    assert!(
        replay("peer_frames", tandem::fuzzing::peer_frames) >= 5,
        "seed corpus present"
    );
}

#[test]
fn witness_corpus() {
    assert!(
        replay("witness_datagram", tandem::fuzzing::witness_datagram) >= 2,
        "seed corpus present"
    );
}

#[test]
fn isc_corpus() {
    assert!(
        replay("isc_frames", tandem::fuzzing::isc_frames) >= 10,
        "seed corpus present (frames a real ISC dhcpd pair sent)"
    );
}

#[test]
fn config_corpus() {
    assert!(
        replay("config_text", tandem::fuzzing::config_text) >= 3,
        "seed corpus present"
    );
}

fn packet(
    kind: v4::MessageType,
    mac: [u8; 6],
    opts: Vec<v4::DhcpOption>,
    giaddr: Ipv4Addr,
    ciaddr: Ipv4Addr,
) -> Vec<u8> {
    let mut m = v4::Message::new(
        ciaddr,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        giaddr,
        &mac,
    );
    m.set_xid(0x1020_3040);
    m.opts_mut().insert(v4::DhcpOption::MessageType(kind));
    for o in opts {
        m.opts_mut().insert(o);
    }
    m.to_vec().unwrap()
}

fn codes(c: &[u8]) -> v4::DhcpOption {
    v4::DhcpOption::ParameterRequestList(c.iter().map(|x| v4::OptionCode::from(*x)).collect())
}

#[test]
#[ignore = "writes the seed corpus; run by hand"]
fn write_seed_corpus() {
    let z = Ipv4Addr::UNSPECIFIED;
    let relay = Ipv4Addr::new(10, 1, 0, 1);
    let mac = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
    let cid = |m: [u8; 6]| v4::DhcpOption::ClientIdentifier([&[1u8][..], &m].concat());
    let dhcp: Vec<(&str, Vec<u8>)> = vec![
        // ISC dhclient: no client id, host name, long request list
        (
            "dhclient-discover",
            packet(
                v4::MessageType::Discover,
                mac,
                vec![
                    v4::DhcpOption::Hostname("pc".into()),
                    codes(&[1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42]),
                ],
                z,
                z,
            ),
        ),
        (
            "dhclient-request",
            packet(
                v4::MessageType::Request,
                mac,
                vec![
                    v4::DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 0, 0, 2)),
                    v4::DhcpOption::RequestedIpAddress(Ipv4Addr::new(10, 0, 0, 20)),
                    codes(&[1, 3, 6, 15]),
                ],
                z,
                z,
            ),
        ),
        // busybox udhcpc: client id, vendor class, max size
        (
            "udhcpc-discover",
            packet(
                v4::MessageType::Discover,
                mac,
                vec![
                    cid(mac),
                    v4::DhcpOption::ClassIdentifier(b"udhcp 1.35.0".to_vec()),
                    v4::DhcpOption::MaxMessageSize(576),
                    codes(&[1, 3, 6, 12, 15, 28, 42]),
                ],
                z,
                z,
            ),
        ),
        // Windows: client id, FQDN-ish host, MSFT vendor class
        (
            "windows-discover",
            packet(
                v4::MessageType::Discover,
                mac,
                vec![
                    cid(mac),
                    v4::DhcpOption::Hostname("DESKTOP-1".into()),
                    v4::DhcpOption::ClassIdentifier(b"MSFT 5.0".to_vec()),
                    codes(&[1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252]),
                ],
                z,
                z,
            ),
        ),
        // macOS / iOS: lease time request, max size, short list
        (
            "macos-request",
            packet(
                v4::MessageType::Request,
                mac,
                vec![
                    cid(mac),
                    v4::DhcpOption::RequestedIpAddress(Ipv4Addr::new(10, 0, 0, 30)),
                    v4::DhcpOption::AddressLeaseTime(7_776_000),
                    v4::DhcpOption::MaxMessageSize(1500),
                    codes(&[1, 121, 3, 6, 15, 119, 252]),
                ],
                z,
                z,
            ),
        ),
        // Android: vendor class and host name
        (
            "android-discover",
            packet(
                v4::MessageType::Discover,
                mac,
                vec![
                    cid(mac),
                    v4::DhcpOption::ClassIdentifier(b"android-dhcp-13".to_vec()),
                    v4::DhcpOption::Hostname("Pixel".into()),
                    codes(&[1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114]),
                ],
                z,
                z,
            ),
        ),
        // systemd-networkd renew (unicast, ciaddr)
        (
            "networkd-renew",
            packet(
                v4::MessageType::Request,
                mac,
                vec![cid(mac), codes(&[1, 3, 6, 12, 15, 42, 121])],
                z,
                Ipv4Addr::new(10, 0, 0, 10),
            ),
        ),
        (
            "release",
            packet(
                v4::MessageType::Release,
                mac,
                vec![v4::DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 0, 0, 2))],
                z,
                Ipv4Addr::new(10, 0, 0, 10),
            ),
        ),
        (
            "decline",
            packet(
                v4::MessageType::Decline,
                mac,
                vec![
                    v4::DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 0, 0, 2)),
                    v4::DhcpOption::RequestedIpAddress(Ipv4Addr::new(10, 0, 0, 10)),
                ],
                z,
                z,
            ),
        ),
        (
            "inform",
            packet(
                v4::MessageType::Inform,
                mac,
                vec![codes(&[1, 3, 6, 15])],
                z,
                Ipv4Addr::new(10, 0, 0, 77),
            ),
        ),
        (
            "init-reboot",
            packet(
                v4::MessageType::Request,
                mac,
                vec![v4::DhcpOption::RequestedIpAddress(Ipv4Addr::new(
                    10, 1, 0, 12,
                ))],
                relay,
                z,
            ),
        ),
    ];
    let mut dhcp = dhcp;
    // relayed with option 82 (circuit id, remote id, link selection), appended raw as relays do
    let mut relayed = packet(
        v4::MessageType::Discover,
        mac,
        vec![codes(&[1, 3, 6])],
        relay,
        z,
    );
    let end = relayed.iter().rposition(|b| *b == 255).unwrap();
    relayed.splice(
        end..end,
        [
            82u8, 20, 1, 6, b'e', b't', b'h', b'1', b'/', b'2', 2, 6, 0, 1, 2, 3, 4, 5, 5, 2, 10, 1,
        ],
    );
    dhcp.push(("relayed-option82", relayed));
    let d = dir("corpus", "dhcp_packet");
    std::fs::create_dir_all(&d).unwrap();
    for (name, bytes) in dhcp {
        std::fs::write(d.join(name), bytes).unwrap();
    }

    // Peer link: every message type, as bare frames with a 2-byte length prefix.
    let d = dir("corpus", "peer_frames");
    std::fs::create_dir_all(&d).unwrap();
    let msgs = tandem_messages();
    let mut all = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let b = postcard_to_vec(m);
        let mut framed = (b.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&b);
        std::fs::write(d.join(format!("message-{i:02}-{}", m.name())), &framed).unwrap();
        all.extend(framed);
    }
    std::fs::write(d.join("all-messages"), all).unwrap();

    // Witness: a heartbeat and a report sealed with the fuzz key.
    use tandem::failover::witness::{Heartbeat, Report, WitnessKey};
    let d = dir("corpus", "witness_datagram");
    std::fs::create_dir_all(&d).unwrap();
    let key = WitnessKey::derive(tandem::fuzzing::WITNESS_KEY);
    let h = Heartbeat {
        primary: true,
        nonce: [9; 16],
    };
    std::fs::write(d.join("heartbeat"), key.seal_heartbeat(&h)).unwrap();
    let r = Report {
        primary: false,
        nonce: [9; 16],
        partner_silent_ms: 42_000,
        partner_heard: true,
    };
    std::fs::write(d.join("report"), key.seal_report(&r)).unwrap();

    let d = dir("corpus", "config_text");
    std::fs::create_dir_all(&d).unwrap();
    for f in ["single.toml", "lab.toml", "pair-a.toml"] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config").join(f),
            d.join(f),
        )
        .unwrap();
    }
}

fn postcard_to_vec(m: &tandem::failover::message::Message) -> Vec<u8> {
    // The same encoding the codec seals, without the authentication wrapper.
    let h1 = tandem::failover::codec::Hello {
        version: 1,
        primary: true,
        nonce: [0; 32],
    };
    let h2 = tandem::failover::codec::Hello {
        version: 1,
        primary: false,
        nonce: [0; 32],
    };
    let mut s = tandem::failover::codec::Session::new(b"k", &h1, &h2).unwrap();
    let sealed = s.seal(m).unwrap();
    sealed[8..sealed.len() - 32].to_vec()
}

fn tandem_messages() -> Vec<tandem::failover::message::Message> {
    use tandem::failover::State;
    use tandem::failover::message::*;
    let lease = WireLease {
        addr: u32::from(Ipv4Addr::new(10, 0, 0, 20)),
        state: 1,
        owner: 1,
        client_id: Some(vec![1, 2, 0, 0, 0, 0, 9]),
        htype: 1,
        chaddr: vec![2, 0, 0, 0, 0, 9],
        hostname: Some("h".into()),
        relay_info: Some(vec![1, 2, b'a', b'b']),
        starts: 1_000_000,
        expires: 1_003_600,
        cltt: 1_000_000,
        lease_time: 3600,
        potential_expiry: 1_005_400,
        seq: 3,
        dns: None,
    };
    vec![
        Message::Connect(Connect {
            version: 1,
            name: "b".into(),
            primary: false,
            time: 1_000_000,
            fingerprint: "x".into(),
            epoch: 9,
            seen_epoch: Some(7),
            state: State::Normal.into(),
            mclt: 60,
            covers: false,
            max_unacked: None,
        }),
        Message::ConnectAck(ConnectAck {
            time: 1_000_000,
            floor: 0,
        }),
        Message::State {
            state: State::PartnerDown.into(),
            since: 1_000_000,
        },
        Message::Contact {
            time: 1_000_001,
            floor: None,
        },
        Message::BindingUpdate {
            batch: 1,
            time: 1_000_002,
            leases: vec![
                lease.clone(),
                WireLease {
                    state: 2,
                    ..lease.clone()
                },
                WireLease {
                    state: 0,
                    chaddr: vec![],
                    client_id: None,
                    ..lease.clone()
                },
            ],
        },
        Message::BindingAck {
            batch: 1,
            rejects: vec![Reject {
                addr: 1,
                reason: "r".into(),
            }],
        },
        Message::UpdateRequest { since: 0 },
        Message::UpdateRequestAll,
        Message::UpdateDone,
        Message::PoolRequest { pool: 0, wanted: 4 },
        Message::PoolResponse { pool: 0, given: 4 },
        Message::Disconnect {
            reason: "bye".into(),
        },
        Message::BindingUpdateDns {
            batch: 2,
            time: 1_000_003,
            leases: vec![lease.clone()],
            dns: vec![Some(Box::new((&dns_records()).into()))],
        },
        Message::Reservations {
            entries: vec![tandem::config::runtime::RuntimeEntry {
                client: tandem::config::runtime::ReservedClient::Mac([2, 0, 0, 0, 0, 7]),
                address: Some(std::net::Ipv4Addr::new(10, 0, 0, 5)),
                hostname: Some("printer".into()),
                changed: 1_000_004,
            }],
        },
        Message::BindingUpdateStale {
            batch: 3,
            time: 1_000_005,
            leases: vec![lease],
            dns: vec![Some(Box::new(dns_records()))],
        },
    ]
}

/// DNS records with two stale names, one removed.
fn dns_records() -> tandem::lease::DnsRecords {
    let stale = |label: &str, done| tandem::lease::StaleName {
        fqdn: format!("{label}.campus.example"),
        dhcid: vec![0, 1, 1, 9],
        forward: true,
        reverse: true,
        tag: 255_000_000,
        done,
        adds: 0,
    };
    tandem::lease::DnsRecords {
        fqdn: "h.campus.example".into(),
        forward: true,
        reverse: true,
        tag: 256_000_000,
        status: tandem::lease::DnsStatus::Pending,
        stale: vec![stale("old", false), stale("older", true)],
        adds: 1,
    }
}
