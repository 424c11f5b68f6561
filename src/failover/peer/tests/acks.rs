//! What a partner has acknowledged for a client (the MCLT bound of the next
//! grant) must be what its disk holds for that client, at every step of a
//! dispute: an acknowledgement that came with a version binding someone
//! else, or nobody, does not stand.

use super::*;
use crate::failover::message::WireLease;

const ADDR: &str = "10.0.0.10";

impl Side {
    /// The client renews with this side: same binding, later times, and the
    /// acknowledgement it had (as the engine keeps it for the same client).
    fn renew(&mut self, now: Time, secs: u64) {
        let mut l = self.store.get(ADDR.parse().unwrap()).unwrap().clone();
        l.cltt = now;
        l.expires = now.plus(secs);
        l.potential_expiry = now.plus(secs * 2);
        self.change(now, l);
    }

    /// The client declines the address with this side.
    fn decline(&mut self, now: Time) {
        let mut l = self.store.get(ADDR.parse().unwrap()).unwrap().clone();
        l.state = LeaseState::Declined;
        l.cltt = now;
        l.expires = now.plus(1000);
        l.acked_potential_expiry = Time::ZERO;
        self.change(now, l);
    }
}

/// `mine`'s acknowledged potential expiry is covered by what `partner` has
/// committed for the same client, once that is a version both agreed on
/// (its own change that `mine` has not acknowledged yet is still to be
/// settled between them, and the partner reuses nothing unacknowledged).
fn covered(mine: &Side, partner: &Side) -> Result<(), String> {
    let addr: Ipv4Addr = ADDR.parse().unwrap();
    let l = mine.store.get(addr).unwrap();
    if l.acked_potential_expiry == Time::ZERO {
        return Ok(());
    }
    match partner.disk.get(&addr) {
        Some(p) if p.client() == l.client() && p.potential_expiry >= l.acked_potential_expiry => {
            Ok(())
        }
        Some(p) if p.update_seq > partner.store.acked_seq() => Ok(()),
        p => Err(format!(
            "acknowledged {:?} for {:?}, partner's disk holds {:?}",
            l.acked_potential_expiry,
            l.client(),
            p.map(|p| (p.state, p.client(), p.potential_expiry))
        )),
    }
}

fn exchange_checking(d: &mut Duo) {
    for _ in 0..1000 {
        let more = d.round();
        covered(&d.a, &d.b).unwrap();
        covered(&d.b, &d.a).unwrap();
        if !more {
            return;
        }
    }
    panic!("peers never went quiet");
}

/// Both acknowledged the binding; apart, one side records the client's
/// decline and the other a renewal of it; they meet again.
fn decline_meets_renewal(decline_first: bool) -> Duo {
    let mut d = Duo::new();
    d.connect();
    d.a.grant(ADDR, 1, d.now, 200);
    d.settle();
    assert!(
        d.a.store
            .get(ADDR.parse().unwrap())
            .unwrap()
            .acked_potential_expiry
            > Time::ZERO
    );
    d.disconnect();
    d.advance(5);
    if decline_first {
        d.b.decline(d.now);
        d.advance(5);
        d.a.renew(d.now, 200);
    } else {
        d.a.renew(d.now, 200);
        d.advance(5);
        d.b.decline(d.now);
    }
    d.link_up();
    exchange_checking(&mut d);
    d
}

#[test]
fn a_refused_version_for_nobody_withdraws_the_acknowledgement() {
    // the renewal is later: a refuses b's decline and sends its binding back
    let d = decline_meets_renewal(true);
    let (la, lb) = (
        d.a.store.get(ADDR.parse().unwrap()).unwrap(),
        d.b.store.get(ADDR.parse().unwrap()).unwrap(),
    );
    assert_eq!(
        (la.state, lb.state),
        (LeaseState::Active, LeaseState::Active)
    );
    assert!(la.acked_potential_expiry >= la.potential_expiry.min(lb.potential_expiry));
}

#[test]
fn an_accepted_decline_ends_the_acknowledgement() {
    let d = decline_meets_renewal(false);
    let (la, lb) = (
        d.a.store.get(ADDR.parse().unwrap()).unwrap(),
        d.b.store.get(ADDR.parse().unwrap()).unwrap(),
    );
    assert_eq!(
        (la.state, lb.state),
        (LeaseState::Declined, LeaseState::Declined)
    );
    assert_eq!(la.client(), None);
}

/// Two versions cross on the wire and each side takes the other's (each
/// judging a close call with its own view of the other's clock, which this
/// test stands in for by handing `a` a version `b` never held): `a` sends
/// the client's decline while taking a grant to another client; `b` takes
/// the decline. `a` takes the grant acknowledged for nothing, as its own
/// decline is on its way: `b` may take that (and does) and drop the grant
/// before `a` hears of it.
#[test]
fn crossed_versions_keep_no_stale_acknowledgement() {
    let mut d = Duo::new();
    d.connect();
    d.a.grant(ADDR, 1, d.now, 200);
    d.settle();
    d.advance(5);
    d.a.decline(d.now);
    let from_a = d.a.drain();
    let mut other = d.b.store.get(ADDR.parse().unwrap()).unwrap().clone();
    other.hw = HwAddr::new(1, &[2, 0, 0, 0, 0, 2]);
    other.cltt = d.now.plus(1);
    other.potential_expiry = d.now.plus(400);
    d.a.peer.receive(
        d.now,
        Message::BindingUpdate {
            batch: 900,
            time: d.now.0,
            leases: vec![WireLease::from_lease(&other)],
        },
        &mut d.a.store,
    );
    let taken = d.a.store.get(ADDR.parse().unwrap()).unwrap();
    assert_eq!(
        taken.client(),
        other.client(),
        "a took the partner's version"
    );
    assert_eq!(
        taken.acked_potential_expiry,
        Time::ZERO,
        "a's decline is in flight: b may yet take it"
    );
    d.a.drain(); // its acknowledgement of a batch b never sent
    for m in from_a {
        d.b.peer.receive(d.now, m, &mut d.b.store);
    }
    for m in d.b.drain() {
        d.a.peer.receive(d.now, m, &mut d.a.store);
    }
    assert_eq!(
        d.b.store.get(ADDR.parse().unwrap()).unwrap().state,
        LeaseState::Declined
    );
    covered(&d.a, &d.b).unwrap();
    exchange_checking(&mut d);
    let (la, lb) = (
        d.a.store.get(ADDR.parse().unwrap()).unwrap(),
        d.b.store.get(ADDR.parse().unwrap()).unwrap(),
    );
    assert_eq!(la.client(), lb.client(), "they converge");
}

/// Simulator seed 57772934: a renewal (at `a`) and the client's decline
/// (at `b`, 3 s later) cross. `b` refuses the renewal and sends its decline
/// back; `a`, refused before any decline reaches it, offers its renewal
/// again. That offer was made before `a` had seen `b`'s version: `b` must
/// not take it for the second round of a close-call dispute and give way
/// while `a` takes the decline (the two databases swapped, and `b` renewed
/// the client on an acknowledgement `a` no longer held).
#[test]
fn a_version_offered_again_on_a_refusal_is_no_second_round() {
    let mut d = Duo::new();
    d.connect();
    d.a.grant(ADDR, 1, d.now, 200);
    d.settle();
    d.advance(5);
    d.a.renew(d.now, 200);
    let renewal = d.a.drain();
    d.now = d.now.plus(3);
    (d.a.now, d.b.now) = (d.now, d.now);
    d.b.decline(d.now);
    let decline = d.b.drain();
    d.deliver(renewal, vec![]);
    let (acks, rest): (Vec<_>, Vec<_>) =
        d.b.drain()
            .into_iter()
            .partition(|m| matches!(m, Message::BindingAck { .. }));
    assert!(
        matches!(&acks[..], [Message::BindingAck { rejects, .. }] if rejects.len() == 1),
        "b refuses the renewal: {acks:?}"
    );
    d.deliver(vec![], acks);
    let again = d.a.drain();
    assert!(
        again
            .iter()
            .any(|m| matches!(m, Message::BindingUpdate { .. })),
        "a offers its renewal again: {again:?}"
    );
    d.deliver(again, decline.into_iter().chain(rest).collect());
    let addr: Ipv4Addr = ADDR.parse().unwrap();
    assert_eq!(
        d.b.store.get(addr).unwrap().state,
        LeaseState::Declined,
        "b keeps its decline: a offered the renewal before seeing it"
    );
    covered(&d.b, &d.a).unwrap();
    exchange_checking(&mut d);
    let states = (
        d.a.store.get(addr).unwrap().state,
        d.b.store.get(addr).unwrap().state,
    );
    assert_eq!(states, (LeaseState::Declined, LeaseState::Declined));
}

/// A renewal still being committed when the partner's later DECLINE
/// replaces it here is not offered once durable: the partner would take it
/// for this side's version still, and the two would settle on different
/// ones (simulator seed 21203840).
#[test]
fn a_version_the_partners_replaced_is_not_offered() {
    let mut d = Duo::new();
    d.connect();
    d.advance(2);
    d.a.grant(ADDR, 1, d.now, 600);
    d.settle();
    // a renews; its journal batch is still being written.
    let addr: Ipv4Addr = ADDR.parse().unwrap();
    let mut l = d.a.store.get(addr).unwrap().clone();
    l.cltt = d.now;
    l.expires = d.now.plus(600);
    let renewal = d.a.store.upsert(l);
    // The client declines with b a second later; a takes b's version.
    d.now = d.now.plus(1);
    d.b.now = d.now;
    d.b.decline(d.now);
    let from_b = d.b.drain();
    d.deliver(vec![], from_b);
    assert_eq!(d.a.store.get(addr).unwrap().state, LeaseState::Declined);
    // Now the renewal is on disk.
    d.a.disk.insert(addr, renewal.clone());
    d.a.peer
        .local_committed(d.now, std::slice::from_ref(&renewal), &mut d.a.store);
    let sent = d.exchange();
    assert!(
        !sent
            .iter()
            .any(|m| matches!(m, Message::BindingUpdate { leases, .. }
            if leases.iter().any(|w| w.seq == renewal.update_seq))),
        "the superseded renewal went to the partner"
    );
    let (sa, sb) = (
        d.a.store.get(addr).unwrap().state,
        d.b.store.get(addr).unwrap().state,
    );
    assert_eq!((sa, sb), (LeaseState::Declined, LeaseState::Declined));
}

/// Addresses in the binding updates among `actions`.
fn sent_addrs(actions: &[Action]) -> Vec<Ipv4Addr> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(Message::BindingUpdate { leases, .. }) => Some(leases),
            _ => None,
        })
        .flatten()
        .map(|w| Ipv4Addr::from(w.addr))
        .collect()
}

/// Simulator seed 39573323: a peer answering UPDREQALL while the partner's
/// record it just took was still being committed sent it back, and the
/// partner took the echo as our commitment and renewed its client up to
/// it. The answer now waits until the records taken before the request are
/// durable, and holds them then.
#[test]
fn an_answer_to_updreqall_waits_for_partner_records_still_being_committed() {
    let mut d = Duo::new();
    d.connect();
    let ip: Ipv4Addr = "10.0.0.12".parse().unwrap();
    d.a.grant("10.0.0.12", 1, d.now, 300);
    let from_a = d.a.drain();
    d.deliver(from_a, vec![]);
    let held: Vec<Action> = std::iter::from_fn(|| d.b.peer.poll_action()).collect();
    assert!(
        held.iter().any(
            |x| matches!(x, Action::Commit { leases, .. } if leases.iter().any(|l| l.addr == ip))
        ),
        "b stores a's record: {held:?}"
    );
    d.b.peer
        .receive(d.now, Message::UpdateRequestAll, &mut d.b.store);
    let early: Vec<Action> = std::iter::from_fn(|| d.b.peer.poll_action()).collect();
    assert!(
        !early
            .iter()
            .any(|x| matches!(x, Action::Send(Message::UpdateDone)))
            && !sent_addrs(&early).contains(&ip),
        "no answer before the record is durable here: {early:?}"
    );
    for a in &held {
        if matches!(a, Action::Commit { .. }) {
            d.b.peer.commit_durable(d.now, &d.b.store);
        }
    }
    let answer: Vec<Action> = std::iter::from_fn(|| d.b.peer.poll_action()).collect();
    assert!(
        sent_addrs(&answer).contains(&ip),
        "durable now, and in the answer: {answer:?}"
    );
}

/// A record the receiver cannot read, or for an address in none of its
/// subnets, is refused with a reason that begins with the shared words an
/// ISC translator maps to ISC's reject codes (`isc::session`).
#[test]
fn unreadable_and_foreign_records_are_refused_in_the_shared_words() {
    let mut d = Duo::new();
    d.connect();
    let mut foreign = d.a.grant(ADDR, 1, d.now, 200);
    foreign.addr = "192.0.2.77".parse().unwrap();
    let mut unreadable = WireLease::from_lease(&d.a.grant("10.0.0.21", 2, d.now, 200));
    unreadable.state = 200;
    d.a.drain();
    d.b.drain();
    d.b.peer.receive(
        d.now,
        Message::BindingUpdate {
            batch: 901,
            time: d.now.0,
            leases: vec![WireLease::from_lease(&foreign), unreadable],
        },
        &mut d.b.store,
    );
    let answer = d.b.drain();
    let Some(Message::BindingAck { rejects, .. }) = answer
        .iter()
        .find(|m| matches!(m, Message::BindingAck { batch: 901, .. }))
    else {
        panic!("{answer:?}")
    };
    use crate::failover::message::{REJECT_INVALID_RECORD, REJECT_NO_SUBNET};
    assert!(
        rejects[0].reason.starts_with(REJECT_NO_SUBNET),
        "{rejects:?}"
    );
    assert!(
        rejects[1].reason.starts_with(REJECT_INVALID_RECORD),
        "{rejects:?}"
    );
}

/// Beside an ISC dhcpd a binding update carries one record, so that
/// `max_unacked` counts dhcpd's BNDUPDs in flight and each BNDACK is
/// progress; with a tandem partner `max_unacked` rounds up to batches.
#[test]
fn beside_an_isc_partner_each_update_carries_one_record() {
    let per_update = |isc: bool| {
        let mut d = Duo::new();
        d.a.peer.cfg.isc_partner = isc;
        d.a.peer.cfg.max_unacked = 2;
        d.connect();
        for (i, addr) in ["10.0.0.20", "10.0.0.21", "10.0.0.22"].iter().enumerate() {
            d.a.grant(addr, i as u8 + 1, d.now, 200);
        }
        d.a.drain()
            .iter()
            .filter_map(|m| match m {
                Message::BindingUpdate { leases, .. } => Some(leases.len()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(per_update(true), [1, 1], "two in flight, the third waits");
    assert_eq!(
        per_update(false),
        [1],
        "one batch in flight, the rest wait to share the next"
    );
}

/// A secondary's version and the partner's cross, and each side takes the
/// other's. Beside tandem the primary offers its own again; beside an ISC
/// dhcpd, which dropped its version on taking ours and never offers it
/// again, the secondary offers the one it took (`tests/isc_crossing.rs`).
#[test]
fn beside_isc_a_secondary_offers_again_what_it_took_in_a_crossing() {
    for isc in [false, true] {
        let mut d = Duo::new();
        d.connect();
        d.b.peer.cfg.isc_partner = isc;
        d.b.grant(ADDR, 1, d.now, 200);
        let batch =
            d.b.drain()
                .iter()
                .find_map(|m| match m {
                    Message::BindingUpdate { batch, .. } => Some(*batch),
                    _ => None,
                })
                .expect("b's update");
        let mut theirs = d.b.store.get(ADDR.parse().unwrap()).unwrap().clone();
        theirs.hw = HwAddr::new(1, &[2, 0, 0, 0, 0, 2]);
        theirs.cltt = d.now.plus(1);
        let update = Message::BindingUpdate {
            batch: 900,
            time: d.now.0,
            leases: vec![WireLease::from_lease(&theirs)],
        };
        d.b.peer.receive(d.now, update, &mut d.b.store);
        d.b.drain();
        let ack = Message::BindingAck {
            batch,
            rejects: vec![],
        };
        d.b.peer.receive(d.now, ack, &mut d.b.store);
        let offered = d.b.drain().iter().any(|m| {
            matches!(m, Message::BindingUpdate { leases, .. }
                if leases.iter().any(|l| l.chaddr == [2, 0, 0, 0, 0, 2]))
        });
        assert_eq!(offered, isc, "beside ISC: {isc}");
    }
}
