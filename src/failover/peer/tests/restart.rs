//! What a new connection or a restart must not take on trust: an update
//! whose verdict was lost with the connection, and a partner still in
//! STARTUP (simulator seeds 21207067 and 21263175), and an update request
//! that arrives while a change is still being committed (seed 21139914).

use super::*;

/// Whether `msgs` carry our update numbered `seq`.
fn carries(msgs: &[Message], seq: u64) -> bool {
    msgs.iter().any(|m| {
        matches!(m, Message::BindingUpdate { leases, .. } if leases.iter().any(|w| w.seq == seq))
    })
}

#[test]
fn an_update_whose_verdict_was_lost_is_sent_again() {
    let mut d = Duo::new();
    d.connect();
    d.advance(2);
    assert_eq!(d.states(), (State::Normal, State::Normal));
    let l = d.a.grant("10.0.0.10", 1, d.now, 600);
    // b receives the update and judges it; its acknowledgement is lost
    // with the connection.
    let from_a = d.a.drain();
    assert!(carries(&from_a, l.update_seq));
    d.deliver(from_a, vec![]);
    let _lost = d.b.drain();
    d.disconnect();
    d.link_up();
    let resent = carries(&d.exchange(), l.update_seq);
    assert!(
        resent,
        "b said it received the update, but a has no verdict on it: it goes again"
    );
    assert!(d.a.store.acked_seq() >= l.update_seq, "and is acknowledged");
}

#[test]
fn a_partner_heard_in_startup_leaves_a_restarted_server_blind() {
    let mut d = Duo::new();
    d.connect();
    d.advance(2);
    let (pa, pb) = (d.a.persisted(), d.b.persisted());
    // Both restart; a hears b's CONNECT, sent while b is still in STARTUP.
    d.a = side(&d.config, true, d.epochs.0, pa, d.a.disk.clone(), d.now);
    d.b = side(&d.config, false, d.epochs.1, pb, d.b.disk.clone(), d.now);
    d.link_up();
    let from_b = d.b.drain();
    d.deliver(vec![], from_b);
    let from_a = d.a.drain();
    assert!(
        d.a.peer.partner_unknown(),
        "a partner in STARTUP has not said whether it resumes PARTNER-DOWN"
    );
    d.deliver(from_a, vec![]);
    d.settle();
    assert!(!d.a.peer.partner_unknown(), "its next state does");
}

/// Whether `msgs` carry UPDDONE, and where.
fn done_at(msgs: &[Message]) -> Option<usize> {
    msgs.iter().position(|m| matches!(m, Message::UpdateDone))
}

#[test]
fn an_update_request_waits_for_every_earlier_change_to_be_durable() {
    for all in [false, true] {
        let mut d = Duo::new();
        d.connect();
        d.advance(2);
        // a changes a binding; its journal batch is still being written.
        let addr: Ipv4Addr = "10.0.0.12".parse().unwrap();
        let mut l = Lease::free(addr, d.a.store.owner_of(addr));
        l.state = LeaseState::Active;
        l.hw = HwAddr::new(1, &[2, 0, 0, 0, 0, 7]);
        l.starts = d.now;
        l.cltt = d.now;
        l.expires = d.now.plus(300);
        l.potential_expiry = d.now.plus(600);
        let l = d.a.store.upsert(l);
        assert!(!d.a.store.all_durable());
        let req = if all {
            Message::UpdateRequestAll
        } else {
            Message::UpdateRequest { since: 0 }
        };
        d.a.peer.receive(d.now, req, &mut d.a.store);
        let early = d.a.drain();
        assert_eq!(
            done_at(&early),
            None,
            "UPDDONE before {} is on disk would tell b it holds a's whole database",
            l.addr
        );
        d.a.disk.insert(l.addr, l.clone());
        d.a.peer
            .local_committed(d.now, std::slice::from_ref(&l), &mut d.a.store);
        let answer = d.exchange();
        let done = done_at(&answer).expect("the held request is answered once durable");
        assert!(
            carries(&answer[..done], l.update_seq),
            "the answer holds the change that was being committed (all={all})"
        );
    }
}

/// Beside an ISC dhcpd, whose database has no identity: its session's
/// [`ISC_EPOCH`] stands for the database met last, so a reconnection asks
/// only for what is new; a new identity (dhcpd in RECOVER: it lost its
/// lease file) is a database new to us, asked for in full; and so is
/// dhcpd's first meeting after a tandem partner's database (the protocol
/// switched), which ISC_EPOCH must not be taken for.
#[test]
fn an_isc_partner_s_constant_identity_is_the_database_met_last() {
    let mut d = Duo::new();
    d.a.peer.cfg.isc_partner = true;
    d.connect(); // b's own (tandem) database, stored as the partner's
    let full = |sent: &[Message]| sent.iter().any(|m| matches!(m, Message::UpdateRequestAll));
    let sent = meet_as(&mut d, ISC_EPOCH);
    assert!(full(&sent), "after a tandem partner's database: {sent:?}");
    let sent = meet_as(&mut d, ISC_EPOCH);
    assert!(!full(&sent), "the database met last: {sent:?}");
    assert!(
        sent.iter()
            .any(|m| matches!(m, Message::UpdateRequest { .. }))
    );
    let minted = ISC_EPOCH ^ (0x77 << 16);
    let sent = meet_as(&mut d, minted);
    assert!(full(&sent), "a database new to us: {sent:?}");
    let sent = meet_as(&mut d, ISC_EPOCH);
    assert!(!full(&sent), "the minted one, met last: {sent:?}");
}

/// A new connection on which b's CONNECT reaches a naming database
/// `epoch`, carried through to b's UPDDONE: what a sent on meeting it.
fn meet_as(d: &mut Duo, epoch: u64) -> Vec<Message> {
    d.disconnect();
    d.link_up();
    let a_first = d.a.drain();
    let Some(Message::Connect(mut c)) = d.b.drain().into_iter().next() else {
        panic!("b's CONNECT")
    };
    c.epoch = epoch;
    d.a.peer.receive(d.now, Message::Connect(c), &mut d.a.store);
    let sent = d.a.drain();
    d.deliver([a_first, sent.clone()].concat(), vec![]);
    d.settle();
    sent
}
