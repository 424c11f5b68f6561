//! Beside an ISC dhcpd, which guards less than a tandem partner: when
//! it takes few binding updates unacknowledged (its max-unacked-updates),
//! the peer keeps no more in flight than dhcpd takes, and a newer version
//! of an address replaces one still waiting (simulator seed 12700,
//! `--clients 24 --family isc`); and since dhcpd serves on our NORMAL at
//! once, PARTNER-DOWN ends only once dhcpd has our grants (seed 12759).

use super::*;
use crate::failover::message::WireLease;

/// Every binding update `m` sends, as (batch, [(address, potential expiry)]).
fn updates(m: &[Message]) -> Vec<(u64, Vec<(u32, u64)>)> {
    m.iter()
        .filter_map(|m| match m {
            Message::BindingUpdate { batch, leases, .. } => Some((
                *batch,
                leases
                    .iter()
                    .map(|l| (l.addr, l.potential_expiry))
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

/// A connected pair whose `a` is beside a partner taking `window` updates
/// unacknowledged (as an ISC session tells it), with its own configured
/// window larger.
fn beside_dhcpd(isc: bool, window: usize) -> Duo {
    let mut d = Duo::new();
    d.a.peer.cfg.isc_partner = isc;
    d.a.peer.cfg.max_unacked = 10;
    d.connect();
    if let Some(p) = d.a.peer.partner.as_mut() {
        p.max_unacked = Some(window);
    }
    d
}

fn ack(d: &mut Duo, batch: u64) -> Vec<Message> {
    let ack = Message::BindingAck {
        batch,
        rejects: vec![],
    };
    d.a.peer.receive(d.now, ack, &mut d.a.store);
    d.a.drain()
}

/// PARTNER-DOWN ends on the partner's RECOVER-DONE; beside dhcpd only
/// once our answer to its update request is acknowledged (a tandem
/// partner in RECOVER-DONE waits for that answer itself).
#[test]
fn beside_isc_partner_down_ends_once_dhcpd_has_our_grants() {
    for isc in [false, true] {
        let mut d = Duo::new();
        d.connect();
        d.a.peer.cfg.isc_partner = isc;
        d.a.peer.state = State::PartnerDown;
        if let Some(p) = d.a.peer.partner.as_mut() {
            p.state = State::RecoverDone;
        }
        d.a.peer.sync.sent_done = false;
        let early = d.a.peer.next_state(d.now);
        assert_eq!(early, (!isc).then_some(State::Normal), "beside ISC: {isc}");
        d.a.peer.sync.sent_done = true;
        assert_eq!(d.a.peer.next_state(d.now), Some(State::Normal));
    }
}

/// In RECOVER-DONE, a dhcpd in POTENTIAL-CONFLICT (or RESOLUTION-
/// INTERRUPTED, or past it in CONFLICT-DONE) never moves on our
/// RECOVER-DONE: beside it we join it in resolving; a tandem partner
/// there is left to its own rules (simulator seed 1022414, 16 clients).
#[test]
fn beside_isc_recover_done_joins_a_conflict() {
    for (isc, partner) in [
        (true, State::PotentialConflict),
        (true, State::ConflictDone),
        (false, State::PotentialConflict),
    ] {
        let mut d = Duo::new();
        d.connect();
        d.a.peer.cfg.isc_partner = isc;
        d.a.peer.state = State::RecoverDone;
        if let Some(p) = d.a.peer.partner.as_mut() {
            p.state = partner;
        }
        let next = d.a.peer.next_state(d.now);
        let want = isc.then_some(State::PotentialConflict);
        assert_eq!(next, want, "beside ISC: {isc}, partner {partner:?}");
    }
}

/// With dhcpd's window of one, one update is in flight; two renewals of
/// a binding queued behind it go as one, the newer; nothing follows.
#[test]
fn beside_isc_a_newer_version_replaces_an_unsent_one() {
    let mut d = beside_dhcpd(true, 1);
    d.a.grant("10.0.0.20", 1, d.now, 200);
    d.a.grant("10.0.0.21", 2, d.now, 200);
    let renewed = d.a.grant("10.0.0.21", 2, d.now.plus(5), 300);
    let first = updates(&d.a.drain());
    assert_eq!(first.len(), 1, "dhcpd's window of one: {first:?}");
    let second = updates(&ack(&mut d, first[0].0));
    let newest = (u32::from(renewed.addr), renewed.potential_expiry.0);
    assert_eq!(second.len(), 1, "{second:?}");
    assert_eq!(second[0].1, [newest], "only the newer version goes");
    assert!(
        updates(&ack(&mut d, second[0].0)).is_empty(),
        "nothing left"
    );
}

/// A tandem partner (no window told) gets every version, and the
/// configured window.
#[test]
fn beside_tandem_every_version_goes() {
    let mut d = beside_dhcpd(false, 1);
    if let Some(p) = d.a.peer.partner.as_mut() {
        p.max_unacked = None;
    }
    d.a.grant("10.0.0.20", 1, d.now, 200);
    d.a.grant("10.0.0.21", 2, d.now, 200);
    d.a.grant("10.0.0.21", 2, d.now.plus(5), 300);
    let first = updates(&d.a.drain());
    let second = updates(&ack(&mut d, first[0].0));
    assert_eq!(first.len() + second.len(), 2, "{first:?} {second:?}");
    let sent: usize = first.iter().chain(&second).map(|(_, l)| l.len()).sum();
    assert_eq!(sent, 3, "every version");
}

/// Versions queued before an update-done (the answer to the partner's
/// request) are sent before it, even when a newer one follows.
#[test]
fn beside_isc_the_answer_to_a_request_is_not_folded() {
    let mut d = beside_dhcpd(true, 1);
    d.a.grant("10.0.0.21", 2, d.now, 200);
    let older = d.a.grant("10.0.0.20", 1, d.now, 200);
    d.a.peer.out.push_back(Out::Done);
    let newer = d.a.grant("10.0.0.20", 1, d.now.plus(5), 300);
    let first = updates(&d.a.drain());
    assert_eq!(first.len(), 1, "dhcpd's window of one: {first:?}");
    let second = ack(&mut d, first[0].0);
    let (batch, records) = updates(&second).remove(0);
    assert_eq!(records, [(u32::from(older.addr), older.potential_expiry.0)]);
    let third = ack(&mut d, batch);
    let done = third.iter().position(|m| matches!(m, Message::UpdateDone));
    let last = updates(&third);
    assert_eq!(done, Some(0), "the update-done first: {third:?}");
    assert_eq!(last.len(), 1, "then the newer version: {third:?}");
    assert_eq!(
        last[0].1,
        [(u32::from(newer.addr), newer.potential_expiry.0)]
    );
}

/// An offer of an address dhcpd refused, which the ISC session holds back
/// for a while, takes no room in dhcpd's window: another address's update
/// still goes at once (review of session 23).
#[test]
fn beside_isc_a_refused_address_leaves_the_window_to_others() {
    let mut d = beside_dhcpd(true, 1);
    let refused = d.a.grant("10.0.0.20", 1, d.now, 200);
    let first = updates(&d.a.drain());
    let reject = Message::BindingAck {
        batch: first[0].0,
        rejects: vec![crate::failover::message::Reject {
            addr: u32::from(refused.addr),
            reason: "less critical".into(),
        }],
    };
    d.a.peer.receive(d.now, reject, &mut d.a.store);
    let again = updates(&d.a.drain());
    assert_eq!(
        again.len(),
        1,
        "the refused record offered again: {again:?}"
    );
    let other = d.a.grant("10.0.0.21", 2, d.now, 200);
    let next = updates(&d.a.drain());
    assert_eq!(next.len(), 1, "{next:?}");
    assert_eq!(next[0].1[0].0, u32::from(other.addr));
}

/// `a` beside dhcpd (or a tandem partner) with its own end of a binding
/// (granted, then `state` at `now`+100), and dhcpd's version of it in
/// `theirs_state`, 10 s older, arriving at `now`+101; with what `a` sent.
fn end_meets_end(
    isc: bool,
    state: LeaseState,
    theirs_state: LeaseState,
) -> (Duo, Lease, Vec<Message>) {
    let mut d = beside_dhcpd(isc, 10);
    let mut ended = d.a.grant("10.0.0.20", 1, d.now, 100);
    ended.state = state;
    ended.cltt = d.now.plus(100);
    let ours = d.a.change(d.now.plus(100), ended);
    let sent = d.a.drain();
    let mut theirs = ours.clone();
    theirs.state = theirs_state;
    theirs.cltt = d.now.plus(90);
    theirs.update_seq = 0;
    let update = Message::BindingUpdate {
        batch: 900,
        time: d.now.plus(101).0,
        leases: vec![WireLease::from_lease(&theirs)],
    };
    d.a.peer.receive(d.now.plus(101), update, &mut d.a.store);
    d.a.drain();
    (d, ours, sent)
}

/// Beside dhcpd, dhcpd's end of a binding that ends here too (expired or
/// released, in either mix, the same client) is taken as dhcpd's: ours,
/// raised by later times, is not sent back (it ended, at a dhcpd in
/// PARTNER-DOWN, the binding of a client dhcpd had given the address to
/// since: seed 1000632). A tandem partner gets ours back where the two
/// are the same binding, as before.
#[test]
fn beside_isc_an_end_dhcpd_holds_is_not_sent_back() {
    use LeaseState::{Expired, Released};
    for (ours, theirs) in [(Expired, Expired), (Released, Expired), (Expired, Released)] {
        let (d, mine, _) = end_meets_end(true, ours, theirs);
        let kept = d.a.store.get(mine.addr).unwrap();
        assert_eq!(kept.update_seq, 0, "{ours:?} over {theirs:?}: {kept:?}");
    }
    let (d, mine, _) = end_meets_end(false, Expired, Expired);
    let kept = d.a.store.get(mine.addr).unwrap();
    assert_eq!(kept.cltt, mine.cltt, "ours wins on times");
    assert!(kept.update_seq > 0, "beside tandem it stays ours: {kept:?}");
}

/// Ours was on its way when dhcpd's alike end came: dhcpd's
/// acknowledgement of ours is no crossing, and nothing is offered again.
#[test]
fn beside_isc_an_end_in_flight_meeting_dhcpd_s_is_not_offered_again() {
    let (mut d, _, sent) = end_meets_end(true, LeaseState::Expired, LeaseState::Expired);
    let batch = updates(&sent).last().expect("our end in flight").0;
    let again = updates(&ack(&mut d, batch));
    assert!(again.is_empty(), "offered again: {again:?}");
}

/// Beside dhcpd, which reports no bound on our offset, frames delayed by a
/// cut do not make its potential expiries later than it stamped them
/// (simulator seed 1017786, 24 clients); a tandem partner's report bounds
/// them instead.
#[test]
fn beside_isc_a_delayed_frame_never_makes_a_potential_expiry_later() {
    for isc in [false, true] {
        let mut d = Duo::new();
        d.connect();
        d.a.peer.cfg.isc_partner = isc;
        let now = d.now;
        if let Some(p) = d.a.peer.partner.as_mut() {
            // Every recent stamp 13 s old on arrival.
            p.clock = crate::failover::clock::ClockOffset::new(now, now.0 - 13);
        }
        let b = d.a.peer.offset();
        assert_eq!(b.high, if isc { 0 } else { -13 }, "beside ISC: {isc}");
        assert_eq!(b.low, if isc { -26 } else { -13 }, "ends taken later");
        assert_eq!(b.middle(), -13, "transaction times as before");
    }
}

/// The ends of the bindings `m` sends, as (address, end on the wire).
fn sent_ends(m: &[Message]) -> Vec<(u32, u64)> {
    m.iter()
        .filter_map(|m| match m {
            Message::BindingUpdate { leases, .. } => Some(leases),
            _ => None,
        })
        .flatten()
        .map(|l| (l.addr, l.expires))
        .collect()
}

/// dhcpd's update of an address, as `a` receives it at `now`.
fn from_dhcpd(d: &mut Duo, now: Time, theirs: &Lease) -> Vec<Message> {
    let update = Message::BindingUpdate {
        batch: 900,
        time: now.0,
        leases: vec![WireLease::from_lease(theirs)],
    };
    d.a.peer.receive(now, update, &mut d.a.store);
    d.a.drain()
}

/// dhcpd holds the potential expiry of its update as acknowledged only
/// when we take the update: a refused RELEASED of a binding still active
/// here raises nothing we may grant on (simulator seed 1043727, 24
/// clients). A tandem partner keeps its own version's commitment.
#[test]
fn beside_isc_a_refused_update_raises_no_acknowledgement() {
    for isc in [false, true] {
        let mut d = beside_dhcpd(isc, 10);
        let ours = d.a.grant("10.0.0.20", 1, d.now, 300);
        d.a.drain();
        let before = d.a.store.get(ours.addr).unwrap().acked_potential_expiry;
        let mut theirs = ours.clone();
        theirs.state = LeaseState::Released;
        theirs.cltt = Time(d.now.0 - 10);
        theirs.potential_expiry = d.now.plus(2000);
        theirs.update_seq = 0;
        let at = d.now.plus(1);
        let answer = from_dhcpd(&mut d, at, &theirs);
        let refused = answer
            .iter()
            .any(|m| matches!(m, Message::BindingAck { rejects, .. } if !rejects.is_empty()));
        assert!(refused, "beside ISC {isc}: {answer:?}");
        let kept = d.a.store.get(ours.addr).unwrap();
        assert_eq!(kept.state, LeaseState::Active);
        if isc {
            assert_eq!(kept.acked_potential_expiry, before, "{kept:?}");
        } else {
            assert!(kept.acked_potential_expiry > d.now.plus(1000), "{kept:?}");
        }
    }
}

/// dhcpd takes the times we send on its own clock: beside it, an end goes
/// out at its latest there, so a dhcpd whose clock runs ahead does not end
/// our client's binding early (simulator seed 1035816, 24 clients). A
/// tandem partner converts what it receives itself.
#[test]
fn beside_isc_an_end_goes_out_on_dhcpd_s_clock() {
    for isc in [false, true] {
        let mut d = beside_dhcpd(isc, 10);
        let now = d.now;
        if let Some(p) = d.a.peer.partner.as_mut() {
            p.clock = crate::failover::clock::ClockOffset::new(now, now.0 + 5);
        }
        let ours = d.a.grant("10.0.0.20", 1, now, 300);
        let ends = sent_ends(&d.a.drain());
        let want = ours.expires.0 + if isc { 5 } else { 0 };
        assert_eq!(ends, vec![(u32::from(ours.addr), want)], "beside ISC {isc}");
    }
}

/// dhcpd's renewal of our client, taken while our longer one still waits
/// to be sent, ends earlier than ours: beside dhcpd the binding as we
/// keep it (ours raised into dhcpd's) goes to dhcpd, or dhcpd ends it
/// while our client holds the address (simulator seed 1051225, 24
/// clients). A tandem partner gets nothing more.
#[test]
fn beside_isc_a_later_end_of_ours_reaches_dhcpd() {
    for isc in [false, true] {
        let mut d = beside_dhcpd(isc, 1);
        d.a.grant("10.0.0.21", 2, d.now, 300);
        let first = updates(&d.a.drain());
        let ours = d.a.grant("10.0.0.20", 1, d.now, 300);
        assert!(d.a.drain().is_empty(), "ours waits behind the window");
        let mut theirs = ours.clone();
        theirs.cltt = d.now.plus(1);
        theirs.expires = d.now.plus(200);
        theirs.potential_expiry = d.now.plus(400);
        theirs.update_seq = 0;
        let at = d.now.plus(1);
        from_dhcpd(&mut d, at, &theirs);
        let after = ack(&mut d, first[0].0);
        let ends = sent_ends(&after);
        let addr = u32::from(ours.addr);
        if isc {
            assert!(
                ends.iter().any(|&(a, e)| a == addr && e >= ours.expires.0),
                "{ends:?}"
            );
        } else {
            assert!(ends.iter().all(|&(a, _)| a != addr), "{ends:?}");
        }
    }
}

/// Beside dhcpd, PARTNER-DOWN ends on dhcpd's RECOVER-DONE only once
/// every grant of ours is acknowledged (simulator seed 1009255, 10
/// clients); a tandem partner's RECOVER-DONE waits for them itself.
#[test]
fn beside_isc_partner_down_ends_once_every_grant_is_acknowledged() {
    for isc in [false, true] {
        let mut d = beside_dhcpd(isc, 10);
        d.a.peer.state = State::PartnerDown;
        d.a.peer.sync.sent_done = true;
        if let Some(p) = d.a.peer.partner.as_mut() {
            p.state = State::RecoverDone;
        }
        d.a.grant("10.0.0.20", 1, d.now, 300);
        let sent = updates(&d.a.drain());
        let early = d.a.peer.next_state(d.now);
        assert_eq!(early, (!isc).then_some(State::Normal), "beside ISC: {isc}");
        // The acknowledgement is judged at once.
        ack(&mut d, sent[0].0);
        assert_eq!(d.a.peer.state, State::Normal, "beside ISC: {isc}");
    }
}
