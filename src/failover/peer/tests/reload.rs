//! A reload that changes what the pair must agree on (pools, reservations,
//! split, MCLT) reconnects, so that the partner compares the new
//! fingerprint at once; one that changes nothing of it keeps the link.

use super::*;

/// The peer settings of the test config with one more pool, as `primary`.
fn wider(primary: bool) -> PeerConfig {
    let text = CFG.replace(
        "pools = [\"10.0.0.10-10.0.0.29\"]",
        "pools = [\"10.0.0.10-10.0.0.29\", \"10.0.0.40-10.0.0.49\"]",
    );
    let mut cfg = PeerConfig::from_config(&Config::parse(&text, "t").unwrap()).unwrap();
    cfg.primary = primary;
    cfg.name = if primary { "a".into() } else { "b".into() };
    cfg
}

fn alarm(s: &Side) -> String {
    s.peer.status(s.now, &s.store)["alarm"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn a_reload_of_one_peer_is_compared_at_once_and_pairs_again_when_both_match() {
    let mut d = Duo::new();
    d.connect();
    assert_eq!(d.states(), (State::Normal, State::Normal));
    d.a.peer.reconfigure(d.now, wider(true));
    d.settle();
    assert_eq!(d.a.closed.len(), 1, "a reconnects: {:?}", d.a.closed);
    assert!(d.a.closed[0].contains("reload"), "{:?}", d.a.closed);
    d.disconnect();
    d.connect();
    assert!(alarm(&d.b).contains("fingerprint"), "{}", alarm(&d.b));
    assert_ne!(d.states(), (State::Normal, State::Normal), "not paired");
    // the partner reloaded alike: they pair again, and the alarm clears
    d.b.peer.reconfigure(d.now, wider(false));
    d.disconnect();
    d.connect();
    assert_eq!(d.states(), (State::Normal, State::Normal));
    assert_eq!(alarm(&d.b), "");
}

#[test]
fn a_reload_that_leaves_the_pair_config_alone_keeps_the_link() {
    let mut d = Duo::new();
    d.connect();
    d.a.peer.reconfigure(d.now, wider(true));
    d.disconnect();
    d.b.peer.reconfigure(d.now, wider(false));
    d.connect();
    let closed = d.a.closed.len();
    d.a.peer.reconfigure(d.now, wider(true));
    d.settle();
    assert_eq!(d.a.closed.len(), closed, "no reconnection");
    assert_eq!(d.states(), (State::Normal, State::Normal));
}
