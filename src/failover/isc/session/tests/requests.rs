//! The order of the update requests beside dhcpd: dhcpd's changes made
//! while apart reach the peer before the peer's reach dhcpd.

use super::*;

/// A tandem secondary whose peer is in COMMUNICATIONS-INTERRUPTED, after
/// the captured primary's CONNECT and a STATE of COMMUNICATIONS-
/// INTERRUPTED: the partner introduced, nothing learned yet.
fn interrupted() -> (IscSession, Time) {
    let connect = captured("primary").remove(0);
    let now = Time(u64::from(connect.time));
    let (mut s, _) = IscSession::open(cfg(false), now);
    s.send(now, peer_connect(now, State::CommunicationsInterrupted));
    s.receive(now, &connect);
    let out = messages(&s.receive(now, &state_frame(3, 0, now, 1)));
    assert!(matches!(&out[..], [Message::Connect(_)]), "{out:?}");
    (s, now)
}

/// What dhcpd changed while the two were apart reaches the peer before the
/// peer's changes reach dhcpd: a request for the peer's updates, ISC's or
/// made on its behalf, waits for dhcpd's UPDDONE to the peer's own request
/// (dhcpd judges a partner's update by state, not time: a release tandem
/// recorded during a cut ended a binding dhcpd had renewed; simulator
/// seeds 633 and 12916 of the isc family). An UPDREQALL waiting stands
/// for an UPDREQ.
#[test]
fn the_peer_s_updates_wait_for_dhcpd_s_answer_to_its_request() {
    let (mut s, now) = interrupted();
    let req = |m: IscMessage, xid| m.frame(now.0 as u32, xid);
    assert!(messages(&s.receive(now, &req(IscMessage::UpdReqAll, 2))).is_empty());
    assert!(messages(&s.receive(now, &req(IscMessage::UpdReq, 3))).is_empty());
    let upd = IscMessage::BndUpd(binding(70, status::ACTIVE)).frame(now.0 as u32, 4);
    assert!(
        matches!(
            &messages(&s.receive(now, &upd))[..],
            [Message::BindingUpdate { .. }]
        ),
        "dhcpd's own updates reach the peer meanwhile"
    );
    let xid = our_request(&mut s, now);
    let done = messages(&s.receive(now, &req(IscMessage::UpdDone, xid)));
    assert_eq!(done, vec![Message::UpdateDone, Message::UpdateRequestAll]);
    let again = messages(&s.receive(now, &req(IscMessage::UpdReq, 6)));
    assert_eq!(again, vec![Message::UpdateRequest { since: u64::MAX }]);
}

/// dhcpd keeps a pending UPDDONE across a disconnect and sends it, with
/// the old request's xid, when the lease it waited for is acknowledged on
/// a later connection (failover.c `send_update_done`): an UPDDONE that
/// answers no request of ours on this connection, before ours or with
/// another xid, is dropped, and the peer's updates still wait for dhcpd's
/// answer to ours.
#[test]
fn an_upddone_answering_no_request_of_ours_is_dropped() {
    let (mut s, now) = interrupted();
    let req = |m: IscMessage, xid| m.frame(now.0 as u32, xid);
    assert!(messages(&s.receive(now, &req(IscMessage::UpdReq, 2))).is_empty());
    let stale = messages(&s.receive(now, &req(IscMessage::UpdDone, 7)));
    assert!(stale.is_empty(), "before our request: {stale:?}");
    let xid = our_request(&mut s, now);
    let other = messages(&s.receive(now, &req(IscMessage::UpdDone, xid.wrapping_add(1))));
    assert!(other.is_empty(), "another xid: {other:?}");
    let done = messages(&s.receive(now, &req(IscMessage::UpdDone, xid)));
    let asked = Message::UpdateRequest { since: u64::MAX };
    assert_eq!(done, vec![Message::UpdateDone, asked]);
}

/// The peer's request takes an xid apart from an earlier connection's,
/// opened a second before or with the number before, so that the stale
/// UPDDONE above, which carries the earlier request's xid, never matches
/// (with ids from 0 each connection, the request's position, and so its
/// xid, repeated).
#[test]
fn each_connection_numbers_its_frames_apart() {
    let request_xid = |now: u64, connection: u64| {
        let mut c = cfg(true);
        c.connection = connection;
        let (mut s, first) = IscSession::open(c, Time(now));
        assert_eq!(frames_of(&first).len(), 1, "the primary's CONNECT");
        our_request(&mut s, Time(now))
    };
    let t = 1_764_800_000;
    let xid = request_xid(t, 3);
    assert_ne!(xid, 0);
    assert_ne!(xid, request_xid(t, 4), "the next connection, same second");
    assert_ne!(xid, request_xid(t + 1, 3), "a second later, same number");
    assert_ne!(xid, request_xid(t + 1, 4));
    assert_eq!(
        xid,
        request_xid(t, 3),
        "deterministic, as the simulator needs"
    );
}
