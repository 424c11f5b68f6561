//! A partner that floods control messages or never acknowledges.

use super::*;

fn keepalive(now: Time) -> Message {
    Message::Contact {
        time: now.0,
        floor: None,
    }
}

#[test]
fn a_partner_flooding_control_messages_is_cut_off() {
    let mut d = Duo::new();
    d.connect();
    // A keepalive every second for a long while is fine...
    for _ in 0..300 {
        d.now = d.now.plus(1);
        d.a.peer.receive(d.now, keepalive(d.now), &mut d.a.store);
    }
    d.a.drain();
    assert!(d.a.closed.is_empty(), "{:?}", d.a.closed);
    // ...a thousand in one second is not.
    for _ in 0..1000 {
        d.a.peer.receive(d.now, keepalive(d.now), &mut d.a.store);
    }
    d.a.drain();
    assert!(
        d.a.closed.iter().any(|c| c.contains("flooding")),
        "{:?}",
        d.a.closed
    );
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
}

#[test]
fn a_partner_that_talks_but_never_acknowledges_is_dropped() {
    let mut d = Duo::new();
    d.connect();
    let now = d.now;
    d.a.grant("10.0.0.10", 1, now, 100);
    // b keeps its keepalives coming but a's update never reaches it.
    d.a.drain();
    for _ in 0..12 {
        d.now = d.now.plus(1);
        d.a.peer.tick(d.now, &mut d.a.store);
        d.a.peer.receive(d.now, keepalive(d.now), &mut d.a.store);
        d.a.drain();
    }
    assert!(
        d.a.closed.iter().any(|c| c.contains("no acknowledgement")),
        "{:?}",
        d.a.closed
    );
}
