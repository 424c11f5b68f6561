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
            max_unacked: None,
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

/// A pair as the state-announcement model sees it: each server's state and
/// its view of the partner's, whether `maintenance stop` was asked, whether
/// the partner's answer to its update request is complete (`got`, UPDDONE
/// in), whether RECOVER's MCLT wait still runs (`wait`), and the
/// announcements on the wire towards each (oldest first).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Model {
    state: [State; 2],
    view: [State; 2],
    leaving: [bool; 2],
    got: [bool; 2],
    wait: [bool; 2],
    wire: [Vec<State>; 2],
}

/// The longest run of announcements the model lets pile up on one wire;
/// more is reported as a state table that never quietens.
const WIRE_LIMIT: usize = 6;

/// Server `i` of `m` evaluates its transitions, with its update exchange
/// done (`synced`) or a batch still unacknowledged. Returns the model after
/// it, with what it announced put on the wire towards its partner.
fn evaluated(config: &Config, m: &Model, i: usize, synced: bool) -> Model {
    let now = Time(1_000_000);
    let pair = (m.state[i], m.view[i]);
    let pair = if i == 0 { pair } else { (pair.1, pair.0) };
    let mut peers = connected_pair(config, pair, now, m.wait[i], m.leaving[i]);
    let peer = &mut peers[i];
    peer.sync.got_done = m.got[i];
    if !synced {
        peer.inflight.insert(0, vec![]);
    }
    peer.evaluate(now);
    let mut next = m.clone();
    next.state[i] = peer.state;
    next.leaving[i] = peer.leaving_shutdown;
    next.wait[i] = peer.p.recover_until.is_some_and(|t| t > now);
    while let Some(a) = peer.poll_action() {
        if let Action::Announce { state, .. } = a {
            next.wire[1 - i].push(state);
        }
    }
    next
}

/// Every model one event leads to: an announcement arriving (with the
/// receiver's exchange done or not, as traffic has it); an announcement
/// replaced before it was sent (`Peer::announce` keeps only the latest);
/// the partner's UPDDONE arriving; RECOVER's wait running out; or a tick
/// once the exchange is done.
fn successors(config: &Config, m: &Model) -> Vec<Model> {
    let mut out = vec![];
    for i in 0..2 {
        if let Some((&head, rest)) = m.wire[i].split_first() {
            let mut heard = m.clone();
            heard.view[i] = head;
            heard.wire[i] = rest.to_vec();
            out.extend([true, false].map(|s| evaluated(config, &heard, i, s)));
            if !rest.is_empty() {
                let mut replaced = m.clone();
                replaced.wire[i] = rest.to_vec();
                out.push(replaced);
            }
        }
        for (flag, after) in [(!m.got[i], true), (m.wait[i], false)] {
            if flag {
                let mut n = m.clone();
                if after {
                    n.got[i] = true;
                } else {
                    n.wait[i] = false;
                }
                out.push(evaluated(config, &n, i, true));
            }
        }
        out.push(evaluated(config, m, i, true));
    }
    out.retain(|n| n != m);
    out
}

/// Liveness when announcements lag (simulator seed 39061134): each server
/// acts on the partner's state as last announced, which the partner may
/// have left since, and announcements arrive in order (or are replaced by a
/// later one before they are sent) in any interleaving with the other
/// side's, with UPDDONE and the end of RECOVER's wait at any point. From every connected pair of
/// states, every run of events must end (no cycle: no state announced back
/// and forth for good) and end where `every_pair_of_connected_states_reaches_normal`
/// says. An exhaustive search of the model, not a sample.
#[test]
fn lagging_announcements_never_echo_for_good() {
    let config = Config::parse(CFG, "t").unwrap();
    let mut failures = vec![];
    for sa in State::ALL.into_iter().filter(|s| *s != State::Startup) {
        for sb in State::ALL.into_iter().filter(|s| *s != State::Startup) {
            for (leaving, got, wait) in flags() {
                let start = Model {
                    state: [sa, sb],
                    view: [sb, sa],
                    leaving: [leaving; 2],
                    got: [got; 2],
                    wait: [wait; 2],
                    wire: [vec![], vec![]],
                };
                if let Err(why) = explore(&config, start) {
                    failures.push(format!(
                        "{sa}/{sb} (leaving {leaving}, got {got}, wait {wait}): {why}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Every combination of the start's flags: leaving, got, wait.
fn flags() -> impl Iterator<Item = (bool, bool, bool)> {
    (0..8).map(|b| (b & 1 != 0, b & 2 != 0, b & 4 != 0))
}

/// Depth-first search of every model reachable from `start`: a cycle, a
/// wire longer than `WIRE_LIMIT` or a quiet end other than NORMAL/NORMAL
/// (or one peer in maintenance with the other in PARTNER-DOWN) is an error.
fn explore(config: &Config, start: Model) -> Result<(), String> {
    use std::collections::HashMap;
    // false: on the current path; true: finished.
    let mut seen: HashMap<Model, bool> = HashMap::new();
    let mut stack: Vec<(Model, Vec<Model>)> = vec![];
    let first = successors(config, &start);
    seen.insert(start.clone(), false);
    stack.push((start, first));
    while let Some((m, next)) = stack.last_mut() {
        let Some(n) = next.pop() else {
            let m = m.clone();
            if successors(config, &m).is_empty() {
                quiet_end(&m)?;
            }
            seen.insert(m, true);
            stack.pop();
            continue;
        };
        if n.wire.iter().any(|w| w.len() > WIRE_LIMIT) {
            return Err(format!("announcements pile up: {n:?}"));
        }
        match seen.get(&n) {
            Some(false) => return Err(format!("cycle through {n:?}")),
            Some(true) => {}
            None => {
                let s = successors(config, &n);
                seen.insert(n.clone(), false);
                stack.push((n, s));
            }
        }
    }
    Ok(())
}

/// A model with nothing left to happen must be a pair at rest.
fn quiet_end(m: &Model) -> Result<(), String> {
    if !m.wire.iter().all(Vec::is_empty) {
        return Ok(());
    }
    let ok = matches!(
        (m.state, m.leaving),
        ([State::Normal, State::Normal], _)
            | ([State::Shutdown, State::PartnerDown], [false, _])
            | ([State::PartnerDown, State::Shutdown], [_, false])
    );
    if ok {
        Ok(())
    } else {
        Err(format!("rests in {m:?}"))
    }
}
