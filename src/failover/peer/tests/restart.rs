//! What a new connection or a restart must not take on trust: an update
//! whose verdict was lost with the connection, and a partner still in
//! STARTUP (simulator seeds 21207067 and 21263175).

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
    let mut resent = false;
    for _ in 0..100 {
        d.a.now = d.now;
        d.b.now = d.now;
        let from_a = d.a.drain();
        let from_b = d.b.drain();
        resent |= carries(&from_a, l.update_seq);
        if from_a.is_empty() && from_b.is_empty() {
            break;
        }
        d.deliver(from_a, from_b);
    }
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
