use super::*;
use crate::failover::message::{
    OLDEST_PROTOCOL_VERSION, PROTOCOL_VERSION, Reject, WireLease, WireState,
};
use crate::failover::state::State;

fn pair(k1: &[u8], k2: &[u8]) -> (Session, Session) {
    let hp = Hello {
        version: PROTOCOL_VERSION,
        primary: true,
        nonce: [1; 32],
    };
    let hs = Hello {
        version: PROTOCOL_VERSION,
        primary: false,
        nonce: [2; 32],
    };
    let hp2 = Hello::decode(&hp.encode()).unwrap();
    let hs2 = Hello::decode(&hs.encode()).unwrap();
    (
        Session::new(k1, &hp, &hs2).unwrap(),
        Session::new(k2, &hs, &hp2).unwrap(),
    )
}

pub fn every_message() -> Vec<Message> {
    vec![
        Message::Connect(crate::failover::message::Connect {
            version: 1,
            name: "a".into(),
            primary: true,
            time: 5,
            fingerprint: "ff".into(),
            epoch: 9,
            seen_epoch: Some(8),
            state: WireState::from(State::Normal),
            mclt: 3600,
            covers: true,
            max_unacked: None,
        }),
        Message::ConnectAck(crate::failover::message::ConnectAck { time: 6, floor: -3 }),
        Message::State {
            state: State::PartnerDown.into(),
            since: 7,
        },
        Message::Contact {
            time: 8,
            floor: None,
        },
        Message::BindingUpdate {
            batch: 3,
            time: 9,
            leases: vec![wire_lease()],
        },
        Message::BindingAck {
            batch: 3,
            rejects: vec![Reject {
                addr: 1,
                reason: "x".into(),
            }],
        },
        Message::UpdateRequest { since: 10 },
        Message::UpdateRequestAll,
        Message::UpdateDone,
        Message::PoolRequest { pool: 0, wanted: 5 },
        Message::PoolResponse { pool: 0, given: 5 },
        Message::Disconnect {
            reason: "bye".into(),
        },
        Message::PairConfig {
            fingerprint: "ab".repeat(32),
            answer: true,
        },
        dns_update(),
        Message::Reservations {
            entries: vec![crate::config::runtime::RuntimeEntry {
                client: crate::config::runtime::ReservedClient::ClientId(vec![1, 2, 0, 0, 0, 0, 7]),
                address: Some(std::net::Ipv4Addr::new(10, 0, 0, 5)),
                hostname: Some("printer".into()),
                changed: 11,
            }],
        },
        stale_update(),
    ]
}

fn wire_lease() -> WireLease {
    WireLease {
        addr: 0x0a00_0001,
        state: 1,
        owner: 0,
        client_id: Some(vec![1, 2, 3]),
        htype: 1,
        chaddr: vec![2, 0, 0, 0, 0, 1],
        hostname: Some("h".into()),
        relay_info: None,
        starts: 1,
        expires: 2,
        cltt: 1,
        lease_time: 1,
        potential_expiry: 3,
        seq: 4,
        dns: None,
    }
}

/// DNS records with two stale names still due.
fn dns_records() -> crate::lease::DnsRecords {
    let stale = |label: &str| crate::lease::StaleName {
        fqdn: format!("{label}.campus.example"),
        dhcid: vec![0, 0, 1, 9],
        forward: true,
        reverse: true,
        tag: 70,
        done: false,
        adds: 0,
    };
    crate::lease::DnsRecords {
        fqdn: "pc1.campus.example".into(),
        forward: true,
        reverse: true,
        tag: 77,
        status: crate::lease::DnsStatus::Added,
        stale: vec![stale("old1"), stale("old2")],
        adds: 2,
    }
}

/// A protocol-6 binding update: one record with DNS records.
fn dns_update() -> Message {
    Message::BindingUpdateDns {
        batch: 4,
        time: 10,
        leases: vec![wire_lease()],
        dns: vec![Some(Box::new((&dns_records()).into()))],
    }
}

/// A protocol-8 binding update: one record with DNS records.
fn stale_update() -> Message {
    Message::BindingUpdateStale {
        batch: 4,
        time: 10,
        leases: vec![wire_lease()],
        dns: vec![Some(Box::new(dns_records()))],
    }
}

/// A binding update sent to a protocol-6 partner carries its records'
/// DNS side, and reads back as the binding update it stands for; to a
/// protocol-5 partner it stays as protocol 5 knows it.
#[test]
fn dns_records_travel_from_protocol_6_on() {
    let m = dns_update().normalized().unwrap();
    let Message::BindingUpdate { leases, .. } = &m else {
        panic!("normalized into a binding update: {m:?}")
    };
    assert_eq!(leases[0].dns.as_ref().unwrap().tag, 77);
    assert!(matches!(
        m.clone().for_version(5),
        Message::BindingUpdate { .. }
    ));
    assert_eq!(m.clone().for_version(6), dns_update());
    let whole = stale_update().normalized().unwrap();
    assert_eq!(whole.for_version(8), stale_update());
    let Message::BindingUpdateDns {
        leases,
        batch,
        time,
        ..
    } = dns_update()
    else {
        unreachable!()
    };
    let short = Message::BindingUpdateDns {
        batch,
        time,
        leases,
        dns: vec![],
    };
    assert!(
        short.normalized().is_err(),
        "a DNS list of another length is refused"
    );
}

/// Each message keeps its wire tag (postcard's variant index) across
/// versions: a new message is appended, never inserted, so that a partner
/// one protocol version behind still decodes every message it knows.
#[test]
fn wire_tags_stay_where_they_were() {
    let tags: Vec<u8> = every_message()
        .iter()
        .map(|m| postcard::to_allocvec(m).unwrap()[0])
        .collect();
    assert_eq!(tags, (0..16).collect::<Vec<u8>>());
}

/// `Connect::max_unacked` (an ISC dhcpd's window, set by the ISC session)
/// is not on tandem's wire: a CONNECT carrying one encodes to the same
/// bytes as one without, and reads back without it.
#[test]
fn a_connect_s_isc_window_stays_off_the_wire() {
    let Message::Connect(c) = &every_message()[0] else {
        panic!("the first message is a CONNECT")
    };
    let mut told = c.clone();
    told.max_unacked = Some(1);
    let (plain, with) = (Message::Connect(c.clone()), Message::Connect(told));
    let bytes = postcard::to_allocvec(&with).unwrap();
    assert_eq!(bytes, postcard::to_allocvec(&plain).unwrap());
    assert_eq!(postcard::from_bytes::<Message>(&bytes).unwrap(), plain);
}

#[test]
fn every_message_round_trips() {
    let (mut p, mut s) = pair(b"0123456789abcdef", b"0123456789abcdef");
    for m in every_message() {
        // The wire-only form reads back as the binding update it stands for.
        let want = m.clone().normalized().unwrap();
        let f = p.seal(&m).unwrap();
        assert_eq!(s.open(&f).unwrap(), want);
        let f = s.seal(&m).unwrap();
        assert_eq!(p.open(&f).unwrap(), want);
    }
}

/// A session at protocol 8 carries a binding update's DNS records whole;
/// at 6 and 7 with the first stale name due; where a side speaks only 5,
/// without them, in the form 5 decodes.
#[test]
fn dns_records_cross_a_session_from_protocol_6_on() {
    let m = stale_update().normalized().unwrap();
    let (mut p, mut s) = pair(b"0123456789abcdef", b"0123456789abcdef");
    let Message::BindingUpdate { leases, .. } = s.open(&p.seal(&m).unwrap()).unwrap() else {
        panic!("a binding update")
    };
    assert_eq!(leases[0].dns.as_deref(), Some(&dns_records()));
    let hello = |version, primary| Hello {
        version,
        primary,
        nonce: [3; 32],
    };
    // Protocol 7 carries the first stale name still due.
    let mut p7 = Session::new(b"k", &hello(8, true), &hello(7, false)).unwrap();
    let mut s7 = Session::new(b"k", &hello(7, false), &hello(8, true)).unwrap();
    let Message::BindingUpdate { leases, .. } = s7.open(&p7.seal(&m).unwrap()).unwrap() else {
        panic!("a binding update")
    };
    let d = leases[0].dns.as_deref().unwrap();
    assert_eq!((d.tag, d.stale.len()), (77, 1));
    assert_eq!(d.stale[0].fqdn, "old1.campus.example");
    let mut p5 = Session::new(b"k", &hello(6, true), &hello(5, false)).unwrap();
    let mut s5 = Session::new(b"k", &hello(5, false), &hello(6, true)).unwrap();
    let frame = p5.seal(&m).unwrap();
    let Message::BindingUpdate { leases, .. } = s5.open(&frame).unwrap() else {
        panic!("a binding update")
    };
    assert_eq!(leases[0].dns, None, "protocol 5 has no DNS records");
    let body = &frame[8..frame.len() - 32];
    assert_eq!(body[0], 4, "the tag protocol 5 knows as binding-update");
}

#[test]
fn wrong_key_is_refused() {
    let (mut p, mut s) = pair(b"0123456789abcdef", b"0123456789abcdeX");
    let f = p
        .seal(&Message::Contact {
            time: 1,
            floor: None,
        })
        .unwrap();
    assert_eq!(s.open(&f), Err(CodecError::BadTag));
}

#[test]
fn tampering_replay_reflection_and_reorder_are_refused() {
    let (mut p, mut s) = pair(b"0123456789abcdef", b"0123456789abcdef");
    let f1 = p
        .seal(&Message::Contact {
            time: 1,
            floor: None,
        })
        .unwrap();
    let f2 = p.seal(&Message::UpdateDone).unwrap();
    let mut bad = f1.clone();
    bad[9] ^= 1;
    assert_eq!(s.open(&bad), Err(CodecError::BadTag));
    assert_eq!(
        s.open(&f2),
        Err(CodecError::Sequence {
            expected: 1,
            got: 2
        })
    );
    assert!(s.open(&f1).is_ok());
    assert_eq!(
        s.open(&f1),
        Err(CodecError::Sequence {
            expected: 2,
            got: 1
        }),
        "replay"
    );
    // a frame sent back to its sender fails: the direction is in the tag
    let mine = p
        .seal(&Message::Contact {
            time: 1,
            floor: None,
        })
        .unwrap();
    assert_eq!(p.open(&mine), Err(CodecError::BadTag));
    assert!(matches!(s.open(&[0u8; 10]), Err(CodecError::TooShort(10))));
    assert!(matches!(
        s.open(&vec![0u8; MAX_FRAME + 1]),
        Err(CodecError::TooLarge(_))
    ));
}

#[test]
fn hello_checks() {
    let h = Hello {
        version: PROTOCOL_VERSION,
        primary: false,
        nonce: [7; 32],
    };
    assert_eq!(Hello::decode(&h.encode()), Ok(h));
    assert_eq!(Hello::decode(b"nonsense"), Err(CodecError::BadHello));
    // a newer partner speaks ours; an older one than we speak is refused by name
    let newer = Hello {
        version: PROTOCOL_VERSION + 1,
        ..h
    };
    assert_eq!(Hello::decode(&newer.encode()), Ok(newer));
    assert_eq!(
        crate::failover::message::agree(newer.version),
        Ok(PROTOCOL_VERSION)
    );
    let older = Hello {
        version: OLDEST_PROTOCOL_VERSION - 1,
        ..h
    };
    let e = Hello::decode(&older.encode()).unwrap_err();
    assert_eq!(e, CodecError::Version(OLDEST_PROTOCOL_VERSION - 1));
    let text = e.to_string();
    assert!(
        text.contains("upgrade the partner")
            && text.contains(&format!("up to {}", OLDEST_PROTOCOL_VERSION - 1)),
        "{text}"
    );
    assert!(matches!(
        Session::new(b"k", &h, &h),
        Err(CodecError::SameRole)
    ));
}

#[test]
fn key_files() {
    assert_eq!(
        parse_key("00112233445566778899aabbccddeeff\n")
            .unwrap()
            .len(),
        16
    );
    assert!(parse_key("0011").is_err());
    assert!(parse_key("not hex at all").is_err());
}
