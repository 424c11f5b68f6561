//! Typed messages against what a real ISC dhcpd 4.4.3-P1 pair sent.

use super::*;

fn golden() -> Vec<Frame> {
    let frames = crate::failover::isc::golden_frames().into_iter();
    frames
        .map(|(_, b)| Frame::decode(&b).expect("golden frames decode"))
        .collect()
}

#[test]
fn every_captured_message_is_written_back_as_isc_wrote_it() {
    for f in golden() {
        let m = IscMessage::read(&f).expect("a known type");
        assert_eq!(m.kind(), f.kind);
        assert_eq!(m.frame(f.time, f.xid), f, "{m:?}");
    }
}

#[test]
fn captured_messages_read_as_what_they_carry() {
    let frames = golden();
    let read = |k: MessageType| {
        frames
            .iter()
            .filter(move |f| f.kind == k)
            .filter_map(IscMessage::read)
    };
    let connect = read(MessageType::Connect).next().expect("a CONNECT");
    let IscMessage::Connect {
        hello, mclt, hba, ..
    } = connect
    else {
        unreachable!()
    };
    assert_eq!(hello.name.as_deref(), Some(&b"lab"[..]));
    assert_eq!(
        (hello.receive_timer, hello.max_unacked, mclt),
        (Some(15), Some(10), Some(30))
    );
    assert_eq!(hba.map(|h| h.len()), Some(32));
    let states: Vec<Option<u8>> = read(MessageType::State)
        .map(|m| match m {
            IscMessage::State { state, .. } => state,
            _ => None,
        })
        .collect();
    for s in [2, 4, 6, 9, 254] {
        assert!(states.contains(&Some(s)), "state {s} captured: {states:?}");
    }
    let active = read(MessageType::BndUpd).find_map(|m| match m {
        IscMessage::BndUpd(b) if b.status == Some(2) => Some(b),
        _ => None,
    });
    let b = active.expect("an ACTIVE binding");
    assert!(b.ends.is_some() && b.potential_expiry.is_some() && b.cltt.is_some());
    assert_eq!(b.chaddr.map(|c| c[0]), Some(1), "htype first");
}

#[test]
fn a_binding_update_built_here_encodes_and_reads_back() {
    let b = Binding {
        addr: Some(Ipv4Addr::new(10, 0, 0, 5)),
        status: Some(2),
        client_id: Some(vec![1, 2, 3, 4, 5, 6, 7]),
        chaddr: Some(vec![1, 2, 3, 4, 5, 6, 7]),
        ends: Some(2_000_000_000),
        potential_expiry: Some(2_000_000_500),
        start_time_of_state: Some(1_999_999_000),
        cltt: Some(1_999_999_000),
        ip_flags: Some(2),
    };
    let m = IscMessage::BndUpd(b);
    let bytes = m.frame(1_999_999_001, 42).encode().expect("encodes");
    let f = Frame::decode(&bytes).expect("decodes");
    assert_eq!((f.time, f.xid), (1_999_999_001, 42));
    assert_eq!(IscMessage::read(&f), Some(m));
    let codes: Vec<u16> = f.options.iter().map(|o| o.code.0).collect();
    assert_eq!(codes, [2, 3, 4, 5, 13, 18, 25, 6, 12], "ISC's order");
}

#[test]
fn a_rejected_ack_and_a_disconnect_carry_their_reason() {
    let reject = Rejection {
        reason: Some(16),
        message: Some(b"incoming update is less critical than outgoing update".to_vec()),
    };
    let ack = IscMessage::BndAck {
        addr: Some(Ipv4Addr::new(10, 171, 0, 100)),
        reject: Some(reject.clone()),
    };
    let f = ack.frame(1, 2);
    let codes: Vec<u16> = f.options.iter().map(|o| o.code.0).collect();
    assert_eq!(codes, [2, 21, 16]);
    assert_eq!(IscMessage::read(&f), Some(ack));
    let d = IscMessage::Disconnect(reject);
    assert_eq!(IscMessage::read(&d.frame(1, 2)), Some(d));
    let unknown = Frame::new(MessageType::Unknown(99), 1, 2);
    assert_eq!(IscMessage::read(&unknown), None);
}
