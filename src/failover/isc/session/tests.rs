//! The captured ISC primary's frames as the peer sees them, tandem's
//! batches as ISC's one-binding updates, and what has no form on the
//! other side.

use super::*;
use crate::failover::isc::binding::status;
use crate::failover::isc::{OptionCode, golden_frames};

/// The batch number the peer is given for ISC's BNDUPD `xid` on the
/// tests' connection ([`cfg`]).
pub(super) fn isc_batch(xid: u32) -> u64 {
    (3 << 32) | u64::from(xid)
}

fn cfg(primary: bool) -> SessionConfig {
    SessionConfig {
        link: crate::failover::isc::link::tests::cfg(primary),
        pools: 2,
        // Not 0: a batch number that lost its connection half would be
        // taken for another connection's and answer nothing.
        connection: 3,
        recover_epoch: None,
    }
}

/// The peer's own CONNECT at `now`, in `state`, with the fingerprint
/// "ours": what the server's peer sends first on every link.
pub(super) fn peer_connect(now: Time, state: State) -> Message {
    Message::Connect(Connect {
        version: PROTOCOL_VERSION,
        name: "tandem".into(),
        primary: false,
        time: now.0,
        fingerprint: "ours".into(),
        epoch: 7,
        seen_epoch: None,
        state: WireState::from(state),
        mclt: 30,
        covers: false,
        max_unacked: None,
    })
}

/// The frames the captured pair's `role` sent, in order.
fn captured(role: &str) -> Vec<Frame> {
    golden_frames()
        .into_iter()
        .filter(|(r, _)| r == role)
        .map(|(_, b)| Frame::decode(&b).expect("decodes"))
        .collect()
}

fn messages(out: &[SessionOutput]) -> Vec<Message> {
    out.iter()
        .filter_map(|o| match o {
            SessionOutput::Message(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn frames_of(out: &[SessionOutput]) -> Vec<Frame> {
    out.iter()
        .filter_map(|o| match o {
            SessionOutput::Frame(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

fn closed(out: &[SessionOutput]) -> bool {
    out.iter().any(|o| matches!(o, SessionOutput::Close(_)))
}

fn state_frame(state: u8, flags: u8, now: Time, xid: u32) -> Frame {
    IscMessage::State {
        state: Some(state),
        flags: Some(flags),
        since: Some(now.0 as u32),
    }
    .frame(now.0 as u32, xid)
}

/// The peer's own update request through `s` (the peer asks on
/// connecting): dhcpd's UPDDONE answers its transaction id.
fn our_request(s: &mut IscSession, now: Time) -> u32 {
    let sent = frames_of(&s.send(now, Message::UpdateRequest { since: 0 }));
    assert_eq!(sent.len(), 1, "{sent:?}");
    sent[0].xid
}

/// A tandem primary whose peer is in `ours`, after the captured dhcpd
/// secondary's CONNECTACK (no STATE yet): the session and its clock.
fn primary(ours: State) -> (IscSession, Time) {
    let ack = captured("secondary")
        .into_iter()
        .find(|f| f.kind == MessageType::ConnectAck)
        .unwrap();
    let now = Time(u64::from(ack.time));
    let (mut s, first) = IscSession::open(cfg(true), now);
    assert_eq!(frames_of(&first)[0].kind, MessageType::Connect);
    s.send(now, peer_connect(now, ours));
    s.receive(now, &ack);
    (s, now)
}

/// A tandem secondary whose peer is in `ours`, after the captured
/// primary's CONNECT and a STATE of NORMAL: the session and its clock.
fn up(ours: State) -> (IscSession, Time) {
    let connect = captured("primary").remove(0);
    let now = Time(u64::from(connect.time));
    let (mut s, first) = IscSession::open(cfg(false), now);
    assert!(first.is_empty());
    s.send(now, peer_connect(now, ours));
    let out = s.receive(now, &connect);
    assert!(!closed(&out), "{out:?}");
    let out = s.receive(now, &state_frame(2, 0, now, 1));
    assert!(
        matches!(&messages(&out)[..], [Message::Connect(_)]),
        "the partner; our updates are asked for on its behalf once dhcpd has answered ours: {out:?}"
    );
    let xid = our_request(&mut s, now);
    let out = s.receive(now, &IscMessage::UpdDone.frame(now.0 as u32, xid));
    let asked = Message::UpdateRequest { since: u64::MAX };
    assert_eq!(messages(&out), vec![Message::UpdateDone, asked]);
    (s, now)
}

fn binding(last: u8, st: u8) -> Binding {
    Binding {
        addr: Some(Ipv4Addr::new(10, 171, 0, last)),
        status: Some(st),
        chaddr: Some(vec![1, 2, 0, 0, 0, 0, last]),
        ends: Some(2_000_000_000),
        potential_expiry: Some(2_000_000_100),
        start_time_of_state: Some(1_999_999_000),
        cltt: Some(1_999_999_000),
        ..Binding::default()
    }
}

#[test]
fn a_batch_goes_as_one_bndupd_per_binding_and_is_acknowledged_once() {
    let (mut s, now) = up(State::Normal);
    let leases: Vec<WireLease> = (20..23)
        .map(|i| binding::to_wire(&binding(i, status::ACTIVE)).unwrap())
        .collect();
    let out = s.send(
        now,
        Message::BindingUpdate {
            batch: 7,
            time: now.0,
            leases,
        },
    );
    let sent = frames_of(&out);
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|f| f.kind == MessageType::BndUpd));
    let xids: Vec<u32> = sent.iter().map(|f| f.xid).collect();
    assert!(xids[0] != xids[1] && xids[1] != xids[2] && !xids.contains(&0));
    let ack = |i: usize, refusal: Option<Rejection>| {
        let addr = sent[i].ip(OptionCode::ASSIGNED_IP_ADDRESS);
        IscMessage::BndAck {
            addr,
            reject: refusal,
        }
        .frame(now.0 as u32, xids[i])
    };
    assert!(messages(&s.receive(now, &ack(2, None))).is_empty());
    let refused = Some(rejection(16, "less critical binding info"));
    assert!(messages(&s.receive(now, &ack(0, refused))).is_empty());
    let told = messages(&s.receive(now, &ack(1, None)));
    let [Message::BindingAck { batch: 7, rejects }] = &told[..] else {
        panic!("{told:?}")
    };
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].addr, u32::from(Ipv4Addr::new(10, 171, 0, 20)));
    assert!(rejects[0].reason.contains("16"), "{:?}", rejects[0]);
    assert!(
        messages(&s.receive(now, &ack(1, None))).is_empty(),
        "answered once"
    );
}

#[test]
fn isc_s_bndupd_is_a_batch_of_one_answered_by_a_minimal_bndack() {
    let (mut s, now) = up(State::Normal);
    let upd = IscMessage::BndUpd(binding(30, status::ACTIVE)).frame(now.0 as u32, 41);
    let told = messages(&s.receive(now, &upd));
    let [Message::BindingUpdate { batch, leases, .. }] = &told[..] else {
        panic!("{told:?}")
    };
    assert_eq!(*batch, isc_batch(41), "the connection's, with ISC's xid");
    assert_eq!(leases[0].addr, u32::from(Ipv4Addr::new(10, 171, 0, 30)));
    let out = s.send(
        now,
        Message::BindingAck {
            batch: isc_batch(41),
            rejects: vec![],
        },
    );
    let [ack] = &frames_of(&out)[..] else {
        panic!("{out:?}")
    };
    assert_eq!((ack.kind, ack.xid), (MessageType::BndAck, 41));
    let codes: Vec<u16> = ack.options.iter().map(|o| o.code.0).collect();
    assert_eq!(codes, vec![OptionCode::ASSIGNED_IP_ADDRESS.0], "minimal");
    // A refusal carries ISC's reason for a dueling update.
    let upd = IscMessage::BndUpd(binding(31, status::ACTIVE)).frame(now.0 as u32, 42);
    s.receive(now, &upd);
    let reject = Reject {
        addr: u32::from(Ipv4Addr::new(10, 171, 0, 31)),
        reason: "address was declined after that grant".into(),
    };
    let out = s.send(
        now,
        Message::BindingAck {
            batch: isc_batch(42),
            rejects: vec![reject],
        },
    );
    let [ack] = &frames_of(&out)[..] else {
        panic!("{out:?}")
    };
    assert_eq!(
        ack.u8(OptionCode::REJECT_REASON),
        Some(reject::LESS_CRITICAL)
    );
    assert!(
        s.send(
            now,
            Message::BindingAck {
                batch: isc_batch(42),
                rejects: vec![]
            }
        )
        .is_empty(),
        "once"
    );
}

#[test]
fn a_binding_tandem_cannot_read_is_refused_with_isc_s_reason() {
    let (mut s, now) = up(State::Normal);
    let mut b = binding(32, status::ACTIVE);
    b.status = None;
    let out = s.receive(now, &IscMessage::BndUpd(b).frame(now.0 as u32, 43));
    assert!(messages(&out).is_empty());
    let [ack] = &frames_of(&out)[..] else {
        panic!("{out:?}")
    };
    assert_eq!((ack.kind, ack.xid), (MessageType::BndAck, 43));
    assert_eq!(
        ack.u8(OptionCode::REJECT_REASON),
        Some(reject::MISSING_BINDING_INFO)
    );
}

#[test]
fn what_isc_sends_before_its_state_waits_for_it() {
    let connect = captured("primary").remove(0);
    let now = Time(u64::from(connect.time));
    let (mut s, _) = IscSession::open(cfg(false), now);
    s.receive(now, &connect);
    let early = IscMessage::UpdReqAll.frame(now.0 as u32, 5);
    assert!(messages(&s.receive(now, &early)).is_empty());
    // ISC in RECOVER (with the STARTUP flag), before the peer's own
    // CONNECT: the partner's waits for the fingerprint it carries.
    let state = state_frame(6, 1, now, 6);
    assert!(messages(&s.receive(now, &state)).is_empty(), "waits");
    // Its UPDREQALL came, so nothing is asked on its behalf; it goes to
    // the peer once dhcpd has answered the peer's own request.
    let told = messages(&s.send(now, peer_connect(now, State::Startup)));
    let [Message::Connect(c)] = &told[..] else {
        panic!("{told:?}")
    };
    let xid = our_request(&mut s, now);
    let done = messages(&s.receive(now, &IscMessage::UpdDone.frame(now.0 as u32, xid)));
    assert_eq!(done, vec![Message::UpdateDone, Message::UpdateRequestAll]);
    assert_eq!(c.state.state(), Some(State::Startup), "the STARTUP flag");
    assert!(!c.covers);
    assert_eq!(c.fingerprint, "ours", "the peer's");
    // PAUSED (7) is no state of tandem's: the connection closes.
    assert!(closed(&s.receive(now, &state_frame(7, 0, now, 9))));
}

#[test]
fn a_primary_splitting_otherwise_or_with_another_mclt_is_refused() {
    let connect = captured("primary").remove(0);
    let now = Time(u64::from(connect.time));
    let refused = |change: fn(&mut SessionConfig)| {
        let mut c = cfg(false);
        change(&mut c);
        let (mut s, _) = IscSession::open(c, now);
        let out = s.receive(now, &connect);
        assert!(closed(&out));
        let bye = frames_of(&out).pop().unwrap();
        assert_eq!(bye.kind, MessageType::Disconnect);
        bye.u8(OptionCode::REJECT_REASON)
    };
    assert_eq!(refused(|c| c.link.split = 100), Some(reject::HBA_CONFLICT));
    assert_eq!(refused(|c| c.link.mclt = 3600), Some(reject::INVALID_MCLT));
}

#[test]
fn updates_requested_end_with_the_request_s_transaction_id() {
    let (mut s, now) = up(State::Normal);
    let told = messages(&s.receive(now, &IscMessage::UpdReq.frame(now.0 as u32, 77)));
    assert_eq!(told, vec![Message::UpdateRequest { since: u64::MAX }]);
    let [done] = &frames_of(&s.send(now, Message::UpdateDone))[..] else {
        panic!()
    };
    assert_eq!((done.kind, done.xid), (MessageType::UpdDone, 77));
}

#[test]
fn isc_s_pool_request_asks_every_pool_and_is_answered_once() {
    let (mut s, now) = up(State::Normal);
    let told = messages(&s.receive(now, &IscMessage::PoolReq.frame(now.0 as u32, 90)));
    assert_eq!(
        told,
        vec![
            Message::PoolRequest {
                pool: 0,
                wanted: u32::MAX
            },
            Message::PoolRequest {
                pool: 1,
                wanted: u32::MAX
            },
        ]
    );
    assert!(
        s.send(now, Message::PoolResponse { pool: 0, given: 3 })
            .is_empty()
    );
    let [resp] = &frames_of(&s.send(now, Message::PoolResponse { pool: 1, given: 4 }))[..] else {
        panic!()
    };
    assert_eq!((resp.kind, resp.xid), (MessageType::PoolResp, 90));
    assert_eq!(resp.u32(OptionCode::ADDRESSES_TRANSFERRED), Some(7));
    // The peer's own requests go as one POOLREQ, answered for each pool.
    let asked = [
        s.send(now, Message::PoolRequest { pool: 0, wanted: 5 }),
        s.send(now, Message::PoolRequest { pool: 1, wanted: 5 }),
    ];
    assert_eq!(frames_of(&asked.concat()).len(), 1);
    let resp = IscMessage::PoolResp {
        transferred: Some(2),
    }
    .frame(now.0 as u32, 91);
    assert_eq!(
        messages(&s.receive(now, &resp)),
        vec![
            Message::PoolResponse { pool: 0, given: 2 },
            Message::PoolResponse { pool: 1, given: 0 },
        ],
        "ISC's one count, once"
    );
}

#[test]
fn startup_is_never_sent_and_what_isc_lacks_stays_here() {
    let (mut s, now) = up(State::Normal);
    let startup = Message::State {
        state: WireState::from(State::Startup),
        since: now.0,
    };
    assert!(s.send(now, startup).is_empty());
    let out = s.send(
        now,
        Message::State {
            state: WireState::from(State::PartnerDown),
            since: now.0,
        },
    );
    let [f] = &frames_of(&out)[..] else {
        panic!("{out:?}")
    };
    assert_eq!(f.u8(OptionCode::SERVER_STATE), Some(4));
    for m in [
        Message::Contact {
            time: now.0,
            floor: None,
        },
        Message::Reservations { entries: vec![] },
    ] {
        assert!(s.send(now, m).is_empty());
    }
    // A reload's pair-config exchange is answered here: ISC has none, and
    // the partner's CONNECT carries the peer's own fingerprint.
    let asked = Message::PairConfig {
        fingerprint: "reloaded".into(),
        answer: false,
    };
    let told = messages(&s.send(now, asked));
    assert_eq!(
        told,
        vec![Message::PairConfig {
            fingerprint: "reloaded".into(),
            answer: true
        }]
    );
}

#[test]
fn the_peer_s_refusals_map_to_isc_s_reasons() {
    // The peer's words (`peer::tests::acks`
    // `unreadable_and_foreign_records_are_refused_in_the_shared_words`).
    use crate::failover::message::{REJECT_INVALID_RECORD, REJECT_NO_SUBNET};
    assert_eq!(
        reject_reason(&format!("{REJECT_INVALID_RECORD}: unknown binding state 9")),
        reject::MISSING_BINDING_INFO
    );
    assert_eq!(reject_reason(REJECT_NO_SUBNET), reject::ILLEGAL_ADDRESS);
    assert_eq!(
        reject_reason("a later transaction is recorded here"),
        reject::LESS_CRITICAL
    );
}

mod captured;
mod ends;
mod fuzzed;
mod in_step;
mod liveness;
mod requests;
