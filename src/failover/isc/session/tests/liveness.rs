//! Where dhcpd's own rules would leave both servers waiting for each
//! other for good, the session says what dhcpd needs to move on (each
//! found by the simulator's isc family, which fails with it undone).

use super::*;

/// A tandem primary introduced to the captured dhcpd secondary, the peer
/// in `ours`, dhcpd's first STATE `isc` with `flags`: the session, its
/// clock and what that STATE brought.
fn introduced(ours: State, isc: u8, flags: u8) -> (IscSession, Time, Vec<SessionOutput>) {
    let (mut s, now) = primary(ours);
    let out = s.receive(now, &state_frame(isc, flags, now, 1));
    (s, now, out)
}

/// The server-state of each STATE frame in `out`.
fn states_told(out: &[SessionOutput]) -> Vec<u8> {
    frames_of(out)
        .iter()
        .filter(|f| f.kind == MessageType::State)
        .filter_map(|f| f.u8(OptionCode::SERVER_STATE))
        .collect()
}

fn ours(s: &mut IscSession, now: Time, st: State) -> Vec<SessionOutput> {
    s.send(
        now,
        Message::State {
            state: WireState::from(st),
            since: now.0,
        },
    )
}

/// A dhcpd in STARTUP that hears the state it saved for us goes to its own
/// saved state and reacts to nothing: our RECOVER-DONE, told to a dhcpd
/// restarted in COMMUNICATIONS-INTERRUPTED, is told again once it is out
/// of STARTUP (seed 1022896 at 10 clients).
#[test]
fn a_state_told_in_dhcpd_s_startup_is_told_again_after_it() {
    let (mut s, now, _) = introduced(State::Recover, 3, 1);
    assert_eq!(states_told(&ours(&mut s, now, State::RecoverDone)), vec![9]);
    let out = s.receive(now, &state_frame(3, 0, now, 2));
    assert_eq!(states_told(&out), vec![9], "told again");
    let out = s.receive(now, &state_frame(3, 0, now, 3));
    assert!(states_told(&out).is_empty(), "once");
}

/// Not to a dhcpd in RECOVER hearing our RECOVER: it asked for every
/// binding on entering, and would ask again.
#[test]
fn a_dhcpd_in_recover_is_not_told_our_recover_again() {
    let (mut s, now, out) = introduced(State::Recover, 6, 1);
    assert_eq!(states_told(&out), vec![6]);
    let out = s.receive(now, &state_frame(6, 0, now, 2));
    assert!(states_told(&out).is_empty(), "{out:?}");
}

/// A dhcpd introduced in RECOVER that leaves it for POTENTIAL-CONFLICT
/// without its UPDREQALL gets the request made on its behalf then: as
/// our secondary it waits for our CONFLICT-DONE, which waits for that
/// answer (seed 1022873 at 10 clients).
#[test]
fn a_dhcpd_leaving_recover_unasked_is_asked_for() {
    let asked = Message::UpdateRequest { since: u64::MAX };
    let (mut s, now, out) = introduced(State::PotentialConflict, 6, 0);
    assert!(!messages(&out).contains(&asked), "its UPDREQALL is to come");
    let xid = our_request(&mut s, now);
    let done = messages(&s.receive(now, &IscMessage::UpdDone.frame(now.0 as u32, xid)));
    assert!(!done.contains(&asked), "{done:?}");
    let told = messages(&s.receive(now, &state_frame(5, 0, now, 2)));
    assert!(told.contains(&asked), "{told:?}");
}

/// A dhcpd secondary asks for our updates on CONFLICT-DONE only after our
/// POTENTIAL-CONFLICT: when it last heard another state of ours, our
/// POTENTIAL-CONFLICT goes first (seed 1024890 at 16 clients).
#[test]
fn conflict_done_follows_our_potential_conflict() {
    let (mut s, now, _) = introduced(State::CommunicationsInterrupted, 5, 0);
    let out = ours(&mut s, now, State::ConflictDone);
    assert_eq!(states_told(&out), vec![5, 11]);
    let (mut s, now, _) = introduced(State::CommunicationsInterrupted, 5, 0);
    assert_eq!(
        states_told(&ours(&mut s, now, State::PotentialConflict)),
        vec![5]
    );
    let out = ours(&mut s, now, State::ConflictDone);
    assert_eq!(states_told(&out), vec![11], "heard already");
}
