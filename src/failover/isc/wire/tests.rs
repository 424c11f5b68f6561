//! The codec against frames a real ISC dhcpd 4.4.3-P1 pair sent
//! (`tests/fixtures/isc`), and against what ISC refuses.

use super::*;
use std::collections::HashMap;

use crate::failover::isc::golden_frames as golden;

#[test]
fn every_captured_frame_decodes_and_encodes_back_byte_for_byte() {
    let frames = golden();
    assert!(frames.len() >= 100, "{} frames", frames.len());
    let mut kinds = HashMap::new();
    for (who, bytes) in &frames {
        let f = Frame::decode(bytes).unwrap_or_else(|e| panic!("{who}: {e}: {bytes:02x?}"));
        assert_eq!(f.encode().as_deref(), Ok(&bytes[..]), "{who} {:?}", f.kind);
        *kinds.entry(f.kind).or_insert(0) += 1;
    }
    use MessageType::*;
    for k in [
        Connect, ConnectAck, State, BndUpd, BndAck, UpdReqAll, UpdDone, Contact,
    ] {
        assert!(kinds.contains_key(&k), "{k:?} captured: {kinds:?}");
    }
}

#[test]
fn the_primarys_connect_says_what_its_config_does() {
    let frames = golden();
    let (_, bytes) = frames
        .iter()
        .find(|(who, b)| who == "primary" && b[2] == MessageType::Connect.wire())
        .expect("a CONNECT");
    let f = Frame::decode(bytes).expect("decodes");
    assert_eq!(f.bytes(OptionCode::RELATIONSHIP_NAME), Some(&b"lab"[..]));
    assert_eq!(f.u32(OptionCode::MCLT), Some(30));
    assert_eq!(f.u32(OptionCode::RECEIVE_TIMER), Some(15));
    assert_eq!(f.u32(OptionCode::MAX_UNACKED_BNDUPD), Some(10));
    // split 128: buckets 0 to 127 are the primary's, LSB first.
    let hba = f.bytes(OptionCode::HASH_BUCKET_ASSIGNMENT).expect("an HBA");
    assert_eq!(hba.len(), 32);
    assert!(hba[..16].iter().all(|b| *b == 0xff) && hba[16..].iter().all(|b| *b == 0));
    assert_eq!(f.get(OptionCode::TLS_REQUEST), Some(&Value::U8(0)));
}

#[test]
fn a_captured_binding_update_and_a_rejection_read_as_isc_meant() {
    let frames: Vec<Frame> = golden()
        .iter()
        .map(|(_, b)| Frame::decode(b).expect("decodes"))
        .collect();
    let active = frames
        .iter()
        .find(|f| f.get(OptionCode::BINDING_STATUS) == Some(&Value::U8(2)))
        .expect("an ACTIVE binding update");
    let chaddr = active
        .bytes(OptionCode::CLIENT_HARDWARE_ADDRESS)
        .expect("chaddr");
    assert_eq!((chaddr.len(), chaddr[0]), (7, 1), "htype 1 and six octets");
    let ip = active.get(OptionCode::ASSIGNED_IP_ADDRESS);
    assert!(matches!(ip, Some(Value::Ip(a)) if a.octets()[..3] == [10, 171, 0]));
    let rejected = frames
        .iter()
        .find(|f| f.get(OptionCode::REJECT_REASON).is_some())
        .expect("a rejected update");
    assert_eq!(
        rejected.get(OptionCode::REJECT_REASON),
        Some(&Value::U8(16))
    );
    let text = rejected.bytes(OptionCode::MESSAGE).expect("ISC's message");
    assert!(String::from_utf8_lossy(text).contains("less critical"));
}

/// A CONTACT (12 octets) with `options` appended and its length fixed.
fn contact_with(kind: MessageType, options: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, kind.wire(), 12, 0, 0, 0, 1, 0, 0, 0, 7];
    b.extend_from_slice(options);
    let len = (b.len() as u16).to_be_bytes();
    b[..2].copy_from_slice(&len);
    b
}

#[test]
fn what_isc_refuses_is_refused() {
    let ip = [0, 2, 0, 4, 10, 0, 0, 1];
    let mut offset_8 = contact_with(MessageType::Contact, &[]);
    offset_8[3] = 8;
    assert_eq!(
        Frame::decode(&offset_8),
        Err(IscWireError::PayloadOffset(8))
    );
    let type_13 = contact_with(MessageType::Unknown(13), &[0, 30, 0, 0]);
    assert_eq!(Frame::decode(&type_13), Err(IscWireError::UnknownType(13)));
    let twice = contact_with(MessageType::BndUpd, &[ip, ip].concat());
    assert_eq!(Frame::decode(&twice), Err(IscWireError::Duplicate(2)));
    let flags_1 = contact_with(MessageType::BndUpd, &[0, 12, 0, 1, 0]);
    let size = IscWireError::Size {
        code: 12,
        len: 1,
        want: 2,
    };
    assert_eq!(Frame::decode(&flags_1), Err(size));
    let ddns = contact_with(MessageType::BndAck, &[0, 9, 0, 0]);
    assert_eq!(Frame::decode(&ddns), Err(IscWireError::Ddns));
    let cut = contact_with(MessageType::BndUpd, &[0, 2, 0, 4, 10]);
    assert_eq!(Frame::decode(&cut), Err(IscWireError::Truncated(2)));
    let mut long = contact_with(MessageType::Contact, &[]);
    long.push(0);
    let mismatch = IscWireError::LengthMismatch { said: 12, got: 13 };
    assert_eq!(Frame::decode(&long), Err(mismatch));
    assert_eq!(Frame::decode(&[0; 11]), Err(IscWireError::Length(11)));
    let mut tail = contact_with(MessageType::BndUpd, &[0, 2, 0]);
    assert_eq!(Frame::decode(&tail), Err(IscWireError::Truncated(2)));
    tail = contact_with(MessageType::BndUpd, &[0]);
    assert!(matches!(
        Frame::decode(&tail),
        Err(IscWireError::Truncated(_))
    ));
    tail = contact_with(MessageType::BndUpd, &[0, 2]);
    assert!(matches!(
        Frame::decode(&tail),
        Err(IscWireError::Truncated(2))
    ));
}

#[test]
fn the_size_limits_are_isc_s() {
    let pad = |n: usize| {
        [
            vec![0, 30],
            ((n - 4) as u16).to_be_bytes().to_vec(),
            vec![0; n - 4],
        ]
        .concat()
    };
    let at_limit = contact_with(MessageType::Contact, &pad(MAX_LEN - HEADER_LEN));
    assert_eq!(at_limit.len(), MAX_LEN);
    assert!(Frame::decode(&at_limit).is_ok());
    let over = contact_with(MessageType::Contact, &pad(MAX_LEN - HEADER_LEN + 1));
    assert_eq!(Frame::decode(&over), Err(IscWireError::Length(MAX_LEN + 1)));
    assert_eq!(frame_len(&[0x08]), Ok(None));
    assert_eq!(frame_len(&[0x08, 0x00]), Ok(Some(MAX_LEN)));
    assert_eq!(
        frame_len(&[0x08, 0x01]),
        Err(IscWireError::Length(MAX_LEN + 1))
    );
    assert_eq!(frame_len(&[0, 11]), Err(IscWireError::Length(11)));
}

/// ISC's `fto_allowed` (server/stables.c, ISC DHCP 4.4.3) as bit masks
/// of option codes per message type 0 to 12, and its fixed sizes.
#[test]
fn the_option_table_is_isc_s() {
    let bits = |codes: &[u16]| codes.iter().fold(0u64, |m, c| m | 1 << c);
    let upd = [2, 3, 4, 5, 9, 12, 13, 18, 25, 6, 8, 7];
    let allowed = [
        0,
        0,
        bits(&[1]),
        bits(&upd),
        bits(&[&upd[..], &[21, 16]].concat()),
        bits(&[22, 14, 19, 28, 20, 27, 15, 11]),
        bits(&[22, 14, 19, 28, 20, 26, 21, 16]),
        0,
        0,
        0,
        bits(&[24, 23, 25]),
        0,
        bits(&[21, 16]),
    ];
    let sizes: HashMap<u16, usize> = [
        (1, 4),
        (2, 4),
        (3, 1),
        (6, 4),
        (12, 2),
        (13, 4),
        (14, 4),
        (15, 4),
        (18, 4),
        (19, 4),
        (20, 1),
        (21, 1),
        (23, 1),
        (24, 1),
        (25, 4),
        (26, 1),
        (27, 1),
    ]
    .into();
    for (n, mask) in allowed.iter().enumerate() {
        let kind = MessageType::from_wire(n as u8);
        for code in 0..64u16 {
            let s = super::shape(OptionCode(code), kind);
            assert_eq!(
                s.is_some(),
                mask & (1 << code) != 0,
                "code {code} in {kind:?}"
            );
            if let Some(s) = s.filter(|_| code != 9) {
                assert_eq!(s.size(), sizes.get(&code).copied(), "code {code}");
            }
        }
    }
}

#[test]
fn what_isc_reads_or_skips_is_read_or_kept() {
    let flags = contact_with(MessageType::BndUpd, &[0, 12, 0, 2, 0x12, 0x34]);
    let f = Frame::decode(&flags).expect("IP-flags is two octets");
    assert_eq!(f.get(OptionCode::IP_FLAGS), Some(&Value::U16(0x1234)));
    // DDNS where ISC does not allow it is skipped, not refused.
    let ddns = contact_with(MessageType::Connect, &[0, 9, 0, 1, 7]);
    let f = Frame::decode(&ddns).expect("skipped in a CONNECT");
    assert_eq!(f.get(OptionCode::DDNS), Some(&Value::Bytes(vec![7])));
    assert_eq!(f.encode(), Ok(ddns));
    // Options ISC skips may repeat.
    let twice = contact_with(MessageType::State, &[0, 30, 0, 0, 0, 30, 0, 0]);
    assert_eq!(Frame::decode(&twice).map(|f| f.options.len()), Ok(2));
    // Unknown types: without options a keepalive to ISC; type 0 with any.
    let bare = contact_with(MessageType::Unknown(200), &[]);
    let f = Frame::decode(&bare).expect("ISC ignores it");
    assert_eq!(f.kind, MessageType::Unknown(200));
    assert_eq!(f.encode(), Err(IscWireError::UnknownType(200)));
    let zero = contact_with(MessageType::Unknown(0), &[0, 15, 0, 4, 0, 0, 0, 9]);
    let f = Frame::decode(&zero).expect("type 0 skips every option");
    assert_eq!(
        f.get(OptionCode::MCLT),
        Some(&Value::Bytes(vec![0, 0, 0, 9]))
    );
    for n in 1..=12 {
        assert_eq!(MessageType::from_wire(n).wire(), n);
    }
}

#[test]
fn an_option_isc_skips_is_kept_unread_and_sent_back_alike() {
    // An MCLT of 2 octets in a STATE, and an unknown code 30 (Infoblox's
    // hostname): ISC skips both without a size check.
    let bytes = contact_with(MessageType::State, &[0, 15, 0, 2, 1, 2, 0, 30, 0, 1, 9]);
    let f = Frame::decode(&bytes).expect("skipped, not refused");
    assert_eq!(f.get(OptionCode::MCLT), Some(&Value::Bytes(vec![1, 2])));
    assert_eq!(f.get(OptionCode(30)), Some(&Value::Bytes(vec![9])));
    assert_eq!(f.encode(), Ok(bytes));
}

#[test]
fn encoding_refuses_what_isc_would() {
    let mut f = Frame::new(MessageType::BndUpd, 1, 2);
    let ddns = IscOption {
        code: OptionCode::DDNS,
        value: Value::Bytes(vec![]),
    };
    f.options.push(ddns);
    assert_eq!(f.encode(), Err(IscWireError::Ddns));
    let mut f = Frame::new(MessageType::BndUpd, 1, 2);
    let ip = IscOption {
        code: OptionCode::ASSIGNED_IP_ADDRESS,
        value: Value::Ip(Ipv4Addr::new(10, 0, 0, 1)),
    };
    f.options = vec![ip.clone(), ip];
    assert_eq!(f.encode(), Err(IscWireError::Duplicate(2)));
    let mut f = Frame::new(MessageType::BndUpd, 1, 2);
    f.options.push(IscOption {
        code: OptionCode::IP_FLAGS,
        value: Value::U8(1),
    });
    assert_eq!(f.encode(), Err(IscWireError::Shape { code: 12 }));
    let mut f = Frame::new(MessageType::Disconnect, 1, 2);
    f.options.push(IscOption {
        code: OptionCode::MESSAGE,
        value: Value::Bytes(vec![b'x'; MAX_LEN]),
    });
    assert!(matches!(f.encode(), Err(IscWireError::Length(_))));
}
