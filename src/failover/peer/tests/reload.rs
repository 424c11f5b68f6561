//! A reload that changes what the pair must agree on (pools, reservations)
//! sends the new fingerprint over the live link (protocol 5): both sides
//! report a mismatch until the other is reloaded alike, and the link and
//! NORMAL stay up throughout.

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
fn a_reload_of_one_peer_is_compared_live_and_clears_when_both_match() {
    let mut d = Duo::new();
    d.connect();
    d.a.peer.reconfigure(d.now, wider(true));
    d.settle();
    assert!(alarm(&d.b).contains("fingerprint"), "b: {}", alarm(&d.b));
    assert!(alarm(&d.a).contains("fingerprint"), "a: {}", alarm(&d.a));
    assert!(
        d.a.closed.is_empty() && d.b.closed.is_empty(),
        "the link stays"
    );
    assert_eq!(d.states(), (State::Normal, State::Normal));
    d.b.peer.reconfigure(d.now, wider(false));
    d.settle();
    assert_eq!((alarm(&d.a), alarm(&d.b)), (String::new(), String::new()));
    assert_eq!(d.states(), (State::Normal, State::Normal));
    // a reconnection with the matching configs pairs at once
    d.disconnect();
    d.connect();
    assert_eq!(d.states(), (State::Normal, State::Normal));
}

#[test]
fn a_reload_that_leaves_the_pair_config_alone_sends_nothing() {
    let mut d = Duo::new();
    d.connect();
    let same = d.a.peer.cfg.clone();
    d.a.peer.reconfigure(d.now, same);
    assert!(d.a.drain().is_empty(), "nothing to compare");
}

#[test]
fn a_mismatch_found_at_connection_is_refused_and_reported() {
    let mut d = Duo::new();
    d.connect();
    d.disconnect();
    d.a.peer.reconfigure(d.now, wider(true));
    d.connect();
    assert!(alarm(&d.b).contains("fingerprint"), "b: {}", alarm(&d.b));
    assert_ne!(d.states(), (State::Normal, State::Normal), "not paired");
}

/// What `a` answers to a POOLREQ for the first pool.
fn given(d: &mut Duo) -> u32 {
    d.a.drain();
    d.a.peer
        .on_pool_request(d.now, crate::config::PoolId(0), 5, &mut d.a.store);
    let sent = d.a.drain();
    let answer = sent.iter().find_map(|m| match m {
        Message::PoolResponse { given, .. } => Some(*given),
        _ => None,
    });
    answer.unwrap_or_else(|| panic!("a POOLRESP: {sent:?}"))
}

#[test]
fn no_free_addresses_move_while_the_pools_may_be_numbered_differently() {
    let mut d = Duo::new();
    d.connect();
    for (i, addr) in ["10.0.0.20", "10.0.0.21", "10.0.0.22", "10.0.0.23"]
        .iter()
        .enumerate()
    {
        d.b.grant(addr, 40 + i as u8, d.now, 500);
    }
    d.settle();
    // a reloaded; the partner's answer is not in yet
    d.a.peer.reconfigure(d.now, wider(true));
    assert_eq!(given(&mut d), 0, "pools not yet known to match");
    d.settle();
    assert_eq!(given(&mut d), 0, "the pools differ");
    d.b.peer.reconfigure(d.now, wider(false));
    d.settle();
    assert_eq!(given(&mut d), 2, "matched again: a gives its spare");
}

/// A partner one protocol behind (4) is sent nothing new: `status` says
/// the compare waits for the next connection, rebalancing pauses until
/// then, and a reconnection with matching configs clears it.
#[test]
fn a_partner_on_protocol_4_compares_at_the_next_connection() {
    let mut d = Duo::new();
    d.connect();
    d.a.peer.partner.as_mut().unwrap().version = 4;
    d.a.peer.reconfigure(d.now, wider(true));
    assert!(
        !d.a.drain()
            .iter()
            .any(|m| matches!(m, Message::PairConfig { .. })),
        "nothing a protocol-4 partner cannot decode"
    );
    assert!(alarm(&d.a).contains("protocol 4"), "{}", alarm(&d.a));
    assert!(!d.a.peer.pools_agreed());
    d.b.peer.reconfigure(d.now, wider(false));
    d.disconnect();
    assert_eq!(alarm(&d.a), "", "no link, no pair alarm");
    d.connect();
    assert!(d.a.peer.pools_agreed());
    assert_eq!(d.states(), (State::Normal, State::Normal));
}

/// A `PairConfig` on a link that agreed an older protocol is a fault of
/// the partner: the link closes, saying why.
#[test]
fn a_pair_config_on_an_older_protocol_closes_the_link() {
    let mut d = Duo::new();
    d.connect();
    d.a.peer.partner.as_mut().unwrap().version = 4;
    let m = Message::PairConfig {
        fingerprint: "00".into(),
        answer: false,
    };
    d.a.peer.receive(d.now, m, &mut d.a.store);
    d.a.drain();
    assert!(
        d.a.closed
            .iter()
            .any(|c| c.contains("pair-config on peer protocol 4")),
        "{:?}",
        d.a.closed
    );
}

/// A link that closes before the partner has introduced itself (an ISC
/// dhcpd refusing our CONNECT for a clock offset, a handshake that never
/// ends) is the status alarm until a partner connects; a link lost after
/// the partner connected is no alarm (the state says it).
#[test]
fn a_link_closed_before_the_partner_connected_is_the_alarm_until_one_does() {
    let mut d = Duo::new();
    d.a.peer.link_up(d.now, &d.a.store);
    d.a.peer
        .link_lost(d.now, "the ISC partner refused us: our clocks differ");
    assert!(alarm(&d.a).contains("clocks differ"), "{}", alarm(&d.a));
    d.a.drain();
    d.connect();
    assert_eq!(alarm(&d.a), "", "cleared by the partner's CONNECT");
    d.a.session = None;
    d.b.session = None;
    d.a.peer.link_lost(d.now, "reset by peer");
    assert_eq!(alarm(&d.a), "");
}
