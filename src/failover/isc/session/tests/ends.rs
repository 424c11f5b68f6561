//! Our ends as dhcpd hears them.

use super::*;

/// An expiry or a release goes with an end no later than now, whatever
/// end we stored (dhcpd's, taken back at its latest on our clock, can be
/// later: simulator seeds 1033732 and 1072378 at 24 clients); an active
/// binding's end goes as stored.
#[test]
fn an_ended_binding_ends_no_later_than_now() {
    let (mut s, now) = up(State::Normal);
    let leases: Vec<WireLease> = [
        (30, status::EXPIRED),
        (31, status::RELEASED),
        (32, status::ACTIVE),
    ]
    .into_iter()
    .map(|(i, st)| binding::to_wire(&binding(i, st)).unwrap())
    .collect();
    let update = Message::BindingUpdate {
        batch: 9,
        time: now.0,
        leases,
    };
    let sent = frames_of(&s.send(now, update));
    let ends: Vec<Option<u32>> = sent
        .iter()
        .map(|f| f.u32(OptionCode::LEASE_EXPIRATION_TIME))
        .collect();
    let now = now.0 as u32;
    assert_eq!(ends, vec![Some(now), Some(now), Some(2_000_000_000)]);
}
