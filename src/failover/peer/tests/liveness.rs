//! The state table's liveness: every pair of connected states reaches
//! NORMAL (issue 13, seed 7095154).

use super::*;

/// Two peers in states `sa`/`sb` on a link that came up, each having heard
/// the other and exchanged every update; with `wait`, each still owes
/// RECOVER's MCLT wait (100 s); with `leaving`, a side in SHUTDOWN was
/// told `maintenance stop` before this connection.
fn connected_pair(
    config: &Config,
    (sa, sb): (State, State),
    now: Time,
    wait: bool,
    leaving: bool,
) -> [Peer; 2] {
    let mut p = [
        side(config, true, 1, Persisted::default(), HashMap::new(), now).peer,
        side(config, false, 2, Persisted::default(), HashMap::new(), now).peer,
    ];
    for (peer, (me, other)) in p.iter_mut().zip([(sa, sb), (sb, sa)]) {
        peer.state = me;
        peer.heard = true;
        peer.leaving_shutdown = leaving;
        peer.p.recover_until = wait.then(|| now.plus(100));
        peer.link = Some(Link {
            last_rx: now,
            last_keepalive: now,
        });
        peer.partner = Some(Partner {
            name: "x".into(),
            state: other,
            version: crate::failover::message::PROTOCOL_VERSION,
            epoch: 9,
            covers: true,
            clock: ClockOffset::new(now, now.0),
        });
        peer.sync = Sync {
            answered: true,
            full: false,
            got_done: true,
            sent_done: true,
            deferred: None,
        };
    }
    p
}

/// Lets both peers take their transitions, each announcing its new state to
/// the other, 30 s apart, until nothing moves; `alternate` has one peer
/// move per round (announcements crossing in either order), else both at once.
fn settle_states(p: &mut [Peer; 2], mut now: Time, alternate: bool) -> (State, State) {
    for round in 0..40 {
        let movers: &[usize] = match (alternate, round % 2) {
            (false, _) => &[0, 1],
            (true, 0) => &[0],
            (true, _) => &[1],
        };
        let next: Vec<(usize, Option<State>)> =
            movers.iter().map(|&i| (i, p[i].next_state(now))).collect();
        for (i, s) in next {
            if let Some(s) = s {
                p[i].state = s;
            }
        }
        let (a, b) = (p[0].state, p[1].state);
        for (peer, other) in p.iter_mut().zip([b, a]) {
            if let Some(x) = &mut peer.partner {
                x.state = other;
            }
        }
        now = now.plus(30);
    }
    (p[0].state, p[1].state)
}

/// Liveness of the state table (issue 13, seed 7095154): whatever pair of
/// states two peers are in when a connection comes up, with the updates
/// exchanged, and whatever order their announcements cross in or timer
/// (RECOVER's MCLT wait) they still owe, both reach NORMAL without outside
/// help. STARTUP resolves before a partner's state is judged; it is left out.
/// A server in maintenance (SHUTDOWN) stays there until `maintenance stop`,
/// and its partner then serves everyone in PARTNER-DOWN (when both are, the
/// secondary leaves); after the stop, they too reach NORMAL.
#[test]
fn every_pair_of_connected_states_reaches_normal() {
    let config = Config::parse(CFG, "t").unwrap();
    let now = Time(1_000_000);
    let states: Vec<State> = State::ALL
        .into_iter()
        .filter(|s| *s != State::Startup)
        .collect();
    let mut stuck = vec![];
    for &sa in &states {
        for &sb in &states {
            let modes = [(false, false), (true, false), (false, true), (true, true)];
            for ((wait, alternate), leaving) in
                modes.into_iter().flat_map(|m| [(m, false), (m, true)])
            {
                let mut p = connected_pair(&config, (sa, sb), now, wait, leaving);
                let end = settle_states(&mut p, now, alternate);
                let want = match (sa, sb) {
                    _ if leaving => (State::Normal, State::Normal),
                    (State::Shutdown, _) => (State::Shutdown, State::PartnerDown),
                    (_, State::Shutdown) => (State::PartnerDown, State::Shutdown),
                    _ => (State::Normal, State::Normal),
                };
                if end != want {
                    stuck.push(format!(
                        "{sa}/{sb} (wait {wait}, alternate {alternate}, leaving {leaving}) -> {}/{}",
                        end.0, end.1
                    ));
                }
            }
        }
    }
    assert!(
        stuck.is_empty(),
        "pairs that never reach NORMAL: {stuck:#?}"
    );
}
