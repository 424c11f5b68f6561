//! The handshake against the captured ISC pair's own CONNECT and
//! CONNECTACK, ISC's refusals, and the timers.

use super::*;
use crate::failover::isc::{MessageType, OptionCode};

fn captured(kind: MessageType) -> Frame {
    crate::failover::isc::golden_frames()
        .into_iter()
        .map(|(_, b)| Frame::decode(&b).expect("decodes"))
        .find(|f| f.kind == kind)
        .expect("captured")
}

/// The captured pair's relationship, as this side of it.
pub(crate) fn cfg(primary: bool) -> LinkConfig {
    LinkConfig {
        primary,
        name: b"lab".to_vec(),
        max_response_delay: 15,
        max_unacked: 10,
        mclt: 30,
        split: 128,
    }
}

fn codes(f: &Frame) -> Vec<u16> {
    f.options.iter().map(|o| o.code.0).collect()
}

#[test]
fn as_secondary_it_answers_isc_s_connect_as_isc_did() {
    let connect = captured(MessageType::Connect);
    let now = Time(u64::from(connect.time));
    let (mut link, first) = IscLink::open(cfg(false), now);
    assert!(first.is_empty(), "the secondary waits for CONNECT");
    let (out, ev) = link.receive(now, &connect);
    let Some(LinkEvent::Up { partner, mclt, hba }) = ev else {
        panic!("{ev:?}")
    };
    let split = hba.as_deref().and_then(hba::to_split);
    assert_eq!((mclt, split), (Some(30), Some(128)));
    assert_eq!(partner.receive_timer, Some(15));
    let isc_ack = captured(MessageType::ConnectAck);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].kind, out[0].xid),
        (MessageType::ConnectAck, connect.xid)
    );
    assert_eq!(
        codes(&out[0]),
        codes(&isc_ack),
        "ISC's options, in ISC's order"
    );
    assert!(link.is_up());
}

#[test]
fn as_primary_it_connects_as_isc_does_and_takes_isc_s_ack() {
    let isc_connect = captured(MessageType::Connect);
    let isc_ack = captured(MessageType::ConnectAck);
    let now = Time(u64::from(isc_connect.time));
    let (mut link, first) = IscLink::open(cfg(true), now);
    assert_eq!(codes(&first[0]), codes(&isc_connect));
    for code in [
        OptionCode::RELATIONSHIP_NAME,
        OptionCode::MCLT,
        OptionCode::HASH_BUCKET_ASSIGNMENT,
    ] {
        assert_eq!(first[0].get(code), isc_connect.get(code), "{code:?}");
    }
    let (out, ev) = link.receive(now, &isc_ack);
    assert!(out.is_empty());
    assert!(
        matches!(ev, Some(LinkEvent::Up { mclt: None, .. })),
        "{ev:?}"
    );
}

/// The captured CONNECT with `change` made, answered by a secondary at
/// `now`: the reject reason it sends and whether it closes.
fn refused(change: impl Fn(&mut Frame), late: u64) -> Option<u8> {
    let mut connect = captured(MessageType::Connect);
    change(&mut connect);
    let now = Time(u64::from(connect.time) + late);
    let (mut link, _) = IscLink::open(cfg(false), now);
    let (out, ev) = link.receive(now, &connect);
    assert!(matches!(ev, Some(LinkEvent::Close(_))), "{ev:?}");
    assert!(!link.is_up());
    match IscMessage::read(&out[0]) {
        Some(IscMessage::ConnectAck {
            reject: Some(r), ..
        }) => r.reason,
        other => panic!("{other:?}"),
    }
}

#[test]
fn it_refuses_what_isc_refuses_with_isc_s_reasons() {
    let drop = |code: OptionCode| move |f: &mut Frame| f.options.retain(|o| o.code != code);
    let rename = |f: &mut Frame| {
        let o = f
            .options
            .iter_mut()
            .find(|o| o.code == OptionCode::RELATIONSHIP_NAME);
        o.expect("a name").value = super::super::Value::Bytes(b"other".to_vec());
    };
    assert_eq!(refused(rename, 0), Some(reject::INVALID_PARTNER));
    assert_eq!(
        refused(drop(OptionCode::RELATIONSHIP_NAME), 0),
        Some(reject::INVALID_PARTNER)
    );
    assert_eq!(refused(|_| {}, MAX_OFFSET + 1), Some(reject::TIME_MISMATCH));
    assert_eq!(
        refused(drop(OptionCode::MCLT), 0),
        Some(reject::INVALID_MCLT)
    );
    assert_eq!(
        refused(drop(OptionCode::HASH_BUCKET_ASSIGNMENT), 0),
        Some(reject::HBA_CONFLICT)
    );
    // Both missing: ISC names the assignment first.
    let neither = |f: &mut Frame| {
        let gone = [OptionCode::MCLT, OptionCode::HASH_BUCKET_ASSIGNMENT];
        f.options.retain(|o| !gone.contains(&o.code))
    };
    assert_eq!(refused(neither, 0), Some(reject::HBA_CONFLICT));
    // 60 s apart is still accepted.
    let connect = captured(MessageType::Connect);
    let now = Time(u64::from(connect.time) + MAX_OFFSET);
    let (mut link, _) = IscLink::open(cfg(false), now);
    assert!(matches!(
        link.receive(now, &connect).1,
        Some(LinkEvent::Up { .. })
    ));
}

#[test]
fn keepalives_silence_and_startup_follow_isc_s_timers() {
    let t0 = Time(1_700_000_000);
    let (mut link, _) = IscLink::open(cfg(false), t0);
    assert_eq!(link.tick(t0.plus(STARTUP_SECS - 1)).1, None);
    assert!(matches!(
        link.tick(t0.plus(STARTUP_SECS)).1,
        Some(LinkEvent::Close(_))
    ));

    let (mut link, _) = IscLink::open(cfg(false), t0);
    let mut connect = captured(MessageType::Connect);
    connect.time = t0.0 as u32;
    assert!(link.receive(t0, &connect).1.is_some());
    // The partner's receive-timer is 15 s: a CONTACT every 5 s we are quiet.
    assert!(link.tick(t0.plus(4)).0.is_empty());
    let (out, _) = link.tick(t0.plus(5));
    assert_eq!(
        out.iter().map(|f| f.kind).collect::<Vec<_>>(),
        [MessageType::Contact]
    );
    assert!(link.tick(t0.plus(6)).0.is_empty(), "just sent");
    let later = link.tick(t0.plus(10)).0;
    assert_ne!(later[0].xid, 0, "only the first message has xid 0");
    // A message resets the silence; 16 s of none closes.
    let state = IscMessage::State {
        state: Some(2),
        flags: Some(0),
        since: Some(0),
    };
    let ev = link.receive(t0.plus(10), &state.frame(0, 9)).1;
    assert_eq!(ev, Some(LinkEvent::Message(state, 9)));
    assert_eq!(link.tick(t0.plus(25)).1, None, "15 s is not yet too long");
    assert!(matches!(
        link.tick(t0.plus(26)).1,
        Some(LinkEvent::Close(_))
    ));
}

#[test]
fn nothing_but_the_handshake_before_it() {
    let t0 = Time(1_700_000_000);
    let (mut link, _) = IscLink::open(cfg(false), t0);
    let upd = IscMessage::UpdReqAll.frame(t0.0 as u32, 1);
    assert!(matches!(
        link.receive(t0, &upd).1,
        Some(LinkEvent::Close(_))
    ));
    let (mut link, _) = IscLink::open(cfg(false), t0);
    let contact = IscMessage::Contact.frame(t0.0 as u32, 1);
    assert_eq!(
        link.receive(t0, &contact),
        (vec![], None),
        "a keepalive is harmless"
    );
}

/// A clock offset over ISC's limit is told in words an operator can act
/// on, whichever side refuses: the offset and NTP when we refuse dhcpd's
/// CONNECT; what reason 4 means when dhcpd refuses ours.
#[test]
fn a_clock_offset_refusal_says_the_offset_and_the_remedy() {
    let connect = captured(MessageType::Connect);
    let now = Time(u64::from(connect.time) + 75);
    let (mut link, _) = IscLink::open(cfg(false), now);
    let Some(LinkEvent::Close(why)) = link.receive(now, &connect).1 else {
        panic!("not refused");
    };
    assert!(why.contains("-75 s") && why.contains("NTP"), "{why}");

    let now = Time(1_700_000_000);
    let (mut link, _) = IscLink::open(cfg(true), now);
    let refusal = IscMessage::ConnectAck {
        hello: Hello {
            name: Some(b"lab".to_vec()),
            ..Hello::default()
        },
        tls_reply: None,
        reject: Some(Rejection {
            reason: Some(reject::TIME_MISMATCH),
            message: Some(b"time offset too large".to_vec()),
        }),
    };
    let frame = refusal.frame(now.0 as u32, 0);
    let Some(LinkEvent::Close(why)) = link.receive(now, &frame).1 else {
        panic!("not closed");
    };
    assert!(
        why.contains("more than 60 s")
            && why.contains("NTP")
            && why.contains("time offset too large"),
        "{why}"
    );
}

/// The max-unacked-bndupd a frame of ours tells dhcpd.
fn window_told(f: &Frame) -> Option<u32> {
    match IscMessage::read(f)? {
        IscMessage::Connect { hello, .. } | IscMessage::ConnectAck { hello, .. } => {
            hello.max_unacked
        }
        _ => None,
    }
}

/// dhcpd acknowledges once half the window we tell it waits (or after
/// 2 s): we tell it the window it gives us (at most our own), or
/// `UNKNOWN_WINDOW` in a CONNECT sent before we know it.
#[test]
fn the_window_told_makes_dhcpd_acknowledge_each_full_window() {
    let connect = captured(MessageType::Connect);
    let now = Time(u64::from(connect.time));
    assert_eq!(
        window_told(&connect),
        Some(10),
        "the captured dhcpd's window"
    );
    for (ours, told) in [(256, 10), (8, 8), (1, 1), (0, 1)] {
        let (mut link, _) = IscLink::open(
            LinkConfig {
                max_unacked: ours,
                ..cfg(false)
            },
            now,
        );
        let (out, _) = link.receive(now, &connect);
        assert_eq!(window_told(&out[0]), Some(told), "ours {ours}");
    }
    let (_, first) = IscLink::open(
        LinkConfig {
            max_unacked: 256,
            ..cfg(true)
        },
        now,
    );
    assert_eq!(window_told(&first[0]), Some(UNKNOWN_WINDOW));
}

/// As the primary, a dhcpd whose own window is under half the one our
/// CONNECT told it acknowledges on its timer: the link says so, with the
/// remedy (none where the two agree, or where we told it its own).
#[test]
fn a_window_dhcpd_acknowledges_on_its_timer_is_reported() {
    let hello = |m: u32| Hello {
        max_unacked: Some(m),
        ..Hello::default()
    };
    let link = |ours: u32| {
        IscLink::open(
            LinkConfig {
                max_unacked: ours,
                ..cfg(true)
            },
            Time(1_000),
        )
        .0
    };
    let why = link(256).slow_acks(&hello(4)).expect("4 under half of 10");
    assert!(
        why.contains("max_unacked_updates = 4") && why.contains("2-s timer"),
        "{why}"
    );
    assert_eq!(link(256).slow_acks(&hello(5)), None, "half of 10 waits");
    assert_eq!(link(1).slow_acks(&hello(1)), None, "told its own");
    assert_eq!(
        link(7).slow_acks(&hello(3)),
        None,
        "3 is half of 7, rounded down"
    );
    assert!(link(7).slow_acks(&hello(2)).is_some(), "2 is under 3");
}
