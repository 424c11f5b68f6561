//! Keeping tandem and dhcpd in step: updates dhcpd refused, the
//! primary's balancing, the states dhcpd survives in a conflict, and
//! acknowledgements from an earlier connection.

use super::*;

/// The lab's loop: ISC refuses an update and never sends its own version
/// back, the peer offers its own again at once. The offer waits
/// `REOFFER_AFTER` seconds, or is dropped (answered as not taken) when
/// ISC's version of the address arrives first.
#[test]
fn an_offer_isc_refused_waits_or_gives_way_to_isc_s_version() {
    let (mut s, now) = up(State::Normal);
    let w = binding::to_wire(&binding(40, status::EXPIRED)).unwrap();
    let out = s.send(
        now,
        Message::BindingUpdate {
            batch: 1,
            time: now.0,
            leases: vec![w.clone()],
        },
    );
    let [upd] = &frames_of(&out)[..] else {
        panic!("{out:?}")
    };
    let refusal = rejection(2, "invalid state transition: active to expired");
    let ack = IscMessage::BndAck {
        addr: upd.ip(OptionCode::ASSIGNED_IP_ADDRESS),
        reject: Some(refusal),
    };
    let told = messages(&s.receive(now, &ack.frame(now.0 as u32, upd.xid)));
    assert!(matches!(&told[..], [Message::BindingAck { batch: 1, rejects }] if rejects.len() == 1));
    // Offered again at once: held back.
    let again = |s: &mut IscSession, batch| {
        s.send(
            now,
            Message::BindingUpdate {
                batch,
                time: now.0,
                leases: vec![w.clone()],
            },
        )
    };
    assert!(again(&mut s, 2).is_empty(), "held back");
    assert!(
        frames_of(&s.tick(now.plus(1)))
            .iter()
            .all(|f| f.kind != MessageType::BndUpd)
    );
    let late = frames_of(&s.tick(now.plus(REOFFER_AFTER)));
    assert_eq!(
        late.iter()
            .filter(|f| f.kind == MessageType::BndUpd)
            .count(),
        1,
        "sent once its wait is over"
    );
    // Refused again, offered again, and ISC's own version arrives first.
    let ack = IscMessage::BndAck {
        addr: late[0].ip(OptionCode::ASSIGNED_IP_ADDRESS),
        reject: Some(rejection(2, "no")),
    };
    s.receive(now, &ack.frame(now.0 as u32, late[0].xid));
    assert!(again(&mut s, 3).is_empty());
    let theirs = IscMessage::BndUpd(binding(40, status::BACKUP)).frame(now.0 as u32, 60);
    let told = messages(&s.receive(now, &theirs));
    let [
        Message::BindingUpdate { batch: theirs, .. },
        Message::BindingAck { batch: 3, rejects },
    ] = &told[..]
    else {
        panic!("{told:?}")
    };
    assert_eq!(*theirs, isc_batch(60));
    assert_eq!(
        rejects[0].addr, w.addr,
        "the stale offer is answered as not taken"
    );
    let after = frames_of(&s.tick(now.plus(3 * REOFFER_AFTER)));
    assert!(
        after.iter().all(|f| f.kind != MessageType::BndUpd),
        "and never sent"
    );
}

/// As the primary, the ISC secondary's first NORMAL has every pool give
/// it its share, as an ISC primary's balancing does; no POOLRESP goes out
/// for a request ISC never made.
#[test]
fn as_primary_the_secondary_gets_its_share_on_normal() {
    let (mut s, now) = primary(State::Normal);
    let told = messages(&s.receive(now, &state_frame(2, 0, now, 1)));
    let asked = told
        .iter()
        .filter(|m| {
            matches!(
                m,
                Message::PoolRequest {
                    wanted: u32::MAX,
                    ..
                }
            )
        })
        .count();
    assert!(matches!(told[0], Message::Connect(_)));
    assert_eq!(asked, 2, "every pool: {told:?}");
    for pool in 0..2 {
        assert!(
            s.send(now, Message::PoolResponse { pool, given: 4 })
                .is_empty()
        );
    }
    let again = messages(&s.receive(now, &state_frame(2, 0, now, 2)));
    assert!(
        again
            .iter()
            .all(|m| !matches!(m, Message::PoolRequest { .. })),
        "once"
    );
}

/// ISC's conflict resolution is one-way (research section 3.6): as the
/// secondary, our CONFLICT-DONE is never sent (ISC shuts down on it), and
/// while ISC is in CONFLICT-DONE only NORMAL, SHUTDOWN or
/// POTENTIAL-CONFLICT is (ISC exits on any other); a state held back goes
/// once ISC's allows it. RESOLUTION-INTERRUPTED reads as
/// POTENTIAL-CONFLICT, not as a state to close on.
#[test]
fn isc_hears_only_the_states_it_survives() {
    let (mut s, now) = up(State::PotentialConflict);
    let state = |s: State| Message::State {
        state: WireState::from(s),
        since: now.0,
    };
    assert!(
        frames_of(&s.send(now, state(State::ConflictDone))).is_empty(),
        "never as the secondary"
    );
    let told = messages(&s.receive(now, &state_frame(11, 0, now, 7)));
    assert!(matches!(&told[..], [Message::State { .. }]), "{told:?}");
    assert!(
        frames_of(&s.send(now, state(State::CommunicationsInterrupted))).is_empty(),
        "ISC would exit"
    );
    let out = frames_of(&s.send(now, state(State::Normal)));
    assert_eq!(out[0].u8(OptionCode::SERVER_STATE), Some(2));
    let ri = messages(&s.receive(now, &state_frame(10, 0, now, 8)));
    let [Message::State { state, .. }] = &ri[..] else {
        panic!("{ri:?}")
    };
    assert_eq!(state.state(), Some(State::PotentialConflict));
}

/// As the primary, ISC's POTENTIAL-CONFLICT has the peer send its updates
/// on ISC's behalf (an ISC secondary never asks a primary still in
/// POTENTIAL-CONFLICT for them, and the peer leaves it only once sent).
#[test]
fn as_primary_a_conflict_has_the_peer_offer_its_updates() {
    let (mut s, now) = primary(State::PotentialConflict);
    let asks = |told: &[Message]| {
        told.iter()
            .filter(|m| **m == Message::UpdateRequest { since: u64::MAX })
            .count()
    };
    let told = messages(&s.receive(now, &state_frame(5, 0, now, 1)));
    assert_eq!(asks(&told), 0, "not before dhcpd answers ours: {told:?}");
    let xid = our_request(&mut s, now);
    let told = messages(&s.receive(now, &IscMessage::UpdDone.frame(now.0 as u32, xid)));
    assert_eq!(asks(&told), 1, "{told:?}");
    let again = messages(&s.receive(now, &state_frame(5, 0, now, 3)));
    assert!(
        !again.contains(&Message::UpdateRequest { since: u64::MAX }),
        "once"
    );
}

/// An acknowledgement the peer made on an earlier connection never answers
/// a BNDUPD of this one with the same transaction id.
#[test]
fn an_acknowledgement_from_an_earlier_connection_answers_nothing() {
    let (mut s, now) = up(State::Normal);
    let upd = IscMessage::BndUpd(binding(50, status::ACTIVE)).frame(now.0 as u32, 9);
    let told = messages(&s.receive(now, &upd));
    let [Message::BindingUpdate { batch, .. }] = &told[..] else {
        panic!("{told:?}")
    };
    assert_eq!(*batch, isc_batch(9));
    let ack = |batch| Message::BindingAck {
        batch,
        rejects: vec![],
    };
    // The same xid on connections 0 and 2.
    for stale in [9, (2u64 << 32) | 9] {
        assert!(s.send(now, ack(stale)).is_empty(), "{stale:#x}");
    }
    assert_eq!(frames_of(&s.send(now, ack(*batch))).len(), 1);
}

/// A newer offer of an address never overtakes one held back for it:
/// ISC would end on the older version.
#[test]
fn a_newer_offer_never_overtakes_a_held_one() {
    let mut r = refusals::Refusals::default();
    let addr = Ipv4Addr::new(10, 171, 0, 60);
    let w = |st| binding::to_wire(&binding(60, st)).unwrap();
    let now = Time(1000);
    r.answered(addr, true);
    assert!(!r.offer(now, 5, 1, &w(status::ACTIVE)));
    r.answered(addr, false); // ISC took another update of it meanwhile
    assert!(
        !r.offer(now.plus(1), 5, 2, &w(status::RELEASED)),
        "behind the held one"
    );
    assert!(r.due(now.plus(5)).iter().map(|h| h.batch).eq([1]));
    assert!(r.due(now.plus(6)).iter().map(|h| h.batch).eq([2]));
}

/// ISC starting up sends its saved state with the STARTUP flag and acts on
/// it: a saved CONFLICT-DONE keeps the guard on. And an UPDDONE answering
/// only the request made on ISC's behalf stays here.
#[test]
fn isc_s_saved_state_guards_and_an_unasked_upddone_stays_here() {
    let (mut s, now) = up(State::PotentialConflict);
    assert!(
        frames_of(&s.send(now, Message::UpdateDone)).is_empty(),
        "ISC did not ask"
    );
    s.receive(now, &state_frame(11, 1, now, 7));
    let down = Message::State {
        state: WireState::from(State::PartnerDown),
        since: now.0,
    };
    assert!(frames_of(&s.send(now, down)).is_empty(), "dhcpd would exit");
    s.receive(now, &IscMessage::UpdReq.frame(now.0 as u32, 8));
    assert_eq!(
        frames_of(&s.send(now, Message::UpdateDone)).len(),
        1,
        "ISC asked"
    );
}

/// dhcpd's database identity for the peer: "the one met last" while
/// dhcpd is not in RECOVER; a new one when its first STATE is RECOVER
/// (saved or not), kept by the next connection's session while dhcpd
/// stays there, and dropped once it leaves.
#[test]
fn a_dhcpd_in_recover_is_a_database_named_anew_once_per_loss() {
    // ISC's numbers for NORMAL, RECOVER and RECOVER-DONE.
    let (normal, recover, recover_done) = (2, 6, 9);
    let epoch_of = |s: &mut IscSession, now: Time, state: u8, flags: u8| {
        let told = messages(&s.receive(now, &state_frame(state, flags, now, 1)));
        match told.first() {
            Some(Message::Connect(c)) => c.epoch,
            other => panic!("{other:?}"),
        }
    };
    let fresh = |carried: Option<u64>| {
        let mut c = cfg(false);
        c.recover_epoch = carried;
        let connect = captured("primary").remove(0);
        let now = Time(u64::from(connect.time));
        let (mut s, _) = IscSession::open(c, now);
        s.send(now, peer_connect(now, State::Normal));
        s.receive(now, &connect);
        (s, now)
    };
    let (mut s, now) = fresh(None);
    assert_eq!(epoch_of(&mut s, now, normal, 0), ISC_EPOCH);
    assert_eq!(s.recover_epoch(), None);
    let (mut s, now) = fresh(None);
    let lost = epoch_of(&mut s, now, recover, 1);
    assert_ne!(lost, ISC_EPOCH, "saved RECOVER under the STARTUP flag");
    let (mut s, now) = fresh(Some(lost));
    assert_eq!(epoch_of(&mut s, now, recover, 0), lost, "the same loss");
    let (mut s, now) = fresh(Some(lost));
    assert_eq!(epoch_of(&mut s, now, recover_done, 0), ISC_EPOCH);
    assert_eq!(s.recover_epoch(), None, "recovered");
}

/// The rest of dhcpd's reactions: in NORMAL it shuts down on our
/// POTENTIAL-CONFLICT or CONFLICT-DONE, in POTENTIAL-CONFLICT on our
/// NORMAL (not in RESOLUTION-INTERRUPTED, which takes any state); in
/// CONFLICT-DONE our RECOVER-DONE is told as the NORMAL that ends it, and
/// RECOVER waits.
#[test]
fn dhcpd_never_hears_what_shuts_it_down_and_recovery_ends_its_conflict() {
    let (mut s, now) = up(State::Normal);
    let ours = |s: &mut IscSession, st: State| {
        let m = Message::State {
            state: WireState::from(st),
            since: now.0,
        };
        frames_of(&s.send(now, m))
            .first()
            .and_then(|f| f.u8(OptionCode::SERVER_STATE))
    };
    let isc = |s: &mut IscSession, n: u8| {
        frames_of(&s.receive(now, &state_frame(n, 0, now, 9)))
            .first()
            .and_then(|f| f.u8(OptionCode::SERVER_STATE))
    };
    // dhcpd in NORMAL (from `up`).
    assert_eq!(ours(&mut s, State::PotentialConflict), None);
    // In POTENTIAL-CONFLICT it takes ours; then not our NORMAL.
    assert_eq!(isc(&mut s, 5), Some(5));
    assert_eq!(ours(&mut s, State::Normal), None);
    // RESOLUTION-INTERRUPTED takes it.
    assert_eq!(isc(&mut s, 10), Some(2));
    // CONFLICT-DONE: RECOVER waits, RECOVER-DONE goes as NORMAL.
    assert_eq!(isc(&mut s, 11), None);
    assert_eq!(ours(&mut s, State::Recover), None);
    assert_eq!(ours(&mut s, State::RecoverWait), None);
    assert_eq!(ours(&mut s, State::RecoverDone), Some(2));
}

/// No more of our BNDUPDs in flight than dhcpd takes unacknowledged (its
/// CONNECT's max-unacked-updates, 10 in the captured pair): the rest wait,
/// in order, and go as BNDACKs make room; the peer's acknowledgement of
/// the batch comes once every record is answered.
#[test]
fn no_more_in_flight_than_dhcpd_takes() {
    let (mut s, now) = up(State::Normal);
    let leases: Vec<WireLease> = (20..34)
        .map(|i| binding::to_wire(&binding(i, status::ACTIVE)).unwrap())
        .collect();
    let batch = Message::BindingUpdate {
        batch: 8,
        time: now.0,
        leases,
    };
    let mut flying = frames_of(&s.send(now, batch));
    assert_eq!(flying.len(), 10, "dhcpd's max-unacked-updates");
    let mut answered = 0;
    let mut told = vec![];
    while let Some(f) = flying.pop() {
        let ack = IscMessage::BndAck {
            addr: f.ip(OptionCode::ASSIGNED_IP_ADDRESS),
            reject: None,
        }
        .frame(now.0 as u32, f.xid);
        let out = s.receive(now, &ack);
        answered += 1;
        flying.extend(frames_of(&out));
        told.extend(messages(&out));
        assert!(flying.len() <= 10);
    }
    assert_eq!(answered, 14, "every record went");
    assert!(
        matches!(&told[..], [Message::BindingAck { batch: 8, rejects }] if rejects.is_empty()),
        "{told:?}"
    );
}

/// dhcpd, the primary in POTENTIAL-CONFLICT, enters CONFLICT-DONE on our
/// UPDDONE before it says so: what we tell right behind it is judged by
/// that (our RECOVER-WAIT waits, our RECOVER-DONE goes as NORMAL). And a
/// RECOVER-DONE told while dhcpd was still in POTENTIAL-CONFLICT is told
/// again, as NORMAL, when dhcpd's CONFLICT-DONE arrives.
#[test]
fn the_guard_judges_by_what_our_upddone_makes_of_dhcpd() {
    let ours = |s: &mut IscSession, now: Time, st: State| {
        let m = Message::State {
            state: WireState::from(st),
            since: now.0,
        };
        frames_of(&s.send(now, m))
            .iter()
            .find(|f| f.kind == MessageType::State)
            .and_then(|f| f.u8(OptionCode::SERVER_STATE))
    };
    let isc = |s: &mut IscSession, now: Time, n: u8| {
        frames_of(&s.receive(now, &state_frame(n, 0, now, 9)))
            .first()
            .and_then(|f| f.u8(OptionCode::SERVER_STATE))
    };
    // Our UPDDONE answering dhcpd's UPDREQ, then our recovery.
    let (mut s, now) = up(State::Recover);
    isc(&mut s, now, 5);
    s.receive(now, &IscMessage::UpdReq.frame(now.0 as u32, 77));
    let done = frames_of(&s.send(now, Message::UpdateDone));
    assert_eq!(done[0].kind, MessageType::UpdDone);
    assert_eq!(
        ours(&mut s, now, State::RecoverWait),
        None,
        "dhcpd would exit"
    );
    assert_eq!(ours(&mut s, now, State::RecoverDone), Some(2));
    // RECOVER-DONE told before dhcpd reached CONFLICT-DONE.
    let (mut s, now) = up(State::Recover);
    isc(&mut s, now, 5);
    assert_eq!(ours(&mut s, now, State::RecoverDone), Some(9));
    assert_eq!(isc(&mut s, now, 11), Some(2), "told again, as NORMAL");
}

/// Once dhcpd leaves RECOVER on a connection, the identity minted for it
/// is dropped: its next RECOVER (its lease file lost again) is named anew.
#[test]
fn a_dhcpd_that_left_recover_is_named_anew_on_its_next_loss() {
    let connect = captured("primary").remove(0);
    let now = Time(u64::from(connect.time));
    let (mut s, _) = IscSession::open(cfg(false), now);
    s.send(now, peer_connect(now, State::Recover));
    s.receive(now, &connect);
    s.receive(now, &state_frame(6, 0, now, 1));
    assert!(s.recover_epoch().is_some(), "in RECOVER");
    s.receive(now, &state_frame(9, 0, now, 2));
    assert_eq!(s.recover_epoch(), None, "left it");
}
