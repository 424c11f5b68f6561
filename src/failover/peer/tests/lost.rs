//! A peer whose database vanished after `tandem init` (`lease::relearn`):
//! what a partner's copy may end, and what it may not.

use super::*;

/// A side that found its database gone after `tandem init`, as `serve` sets
/// it up: re-learning for `wait` seconds, and the peer told it lost it.
fn lost_side(config: &Config, primary: bool, epoch: u64, now: Time, wait: u64) -> Side {
    let mut s = side(
        config,
        primary,
        epoch,
        Persisted::default(),
        HashMap::new(),
        now,
    );
    s.store.set_relearn_until(Some(now.plus(wait)));
    s.peer.set_lost_database();
    s
}

#[test]
fn a_lost_database_stops_relearning_once_an_intact_partner_sent_everything() {
    let mut d = Duo::new();
    d.connect();
    d.a.grant("10.0.0.10", 1, d.now, 1000);
    d.settle();
    d.disconnect();
    // b lost its database; a knows nothing of it (no older epoch to compare)
    d.b = lost_side(&d.config, false, 99, d.now, 5000);
    d.connect();
    // a's full copy covers b but for what b granted unacknowledged before
    // the loss, which ran at most MCLT: the wait shrinks to MCLT
    let until = d.now.plus(100);
    assert_eq!(d.b.store.relearn_until(), Some(until));
    assert_eq!(
        d.b.meta.get(crate::lease::relearn::META_KEY),
        Some(&until.0.to_string())
    );
    assert_eq!(d.b.peer.state(), State::RecoverWait, "and b waits MCLT");
    d.advance(101);
    assert!(!d.b.store.relearning(d.now));
    assert_eq!(d.states(), (State::Normal, State::Normal));
}

/// The reviewer's case: a lost peer declared partner-down from STARTUP
/// skips RECOVER; the partner's full copy must still leave MCLT for the
/// leases the lost peer granted unacknowledged before its loss.
#[test]
fn a_lost_peer_in_partner_down_keeps_mclt_for_its_forgotten_grants() {
    let mut d = Duo::new();
    d.connect();
    d.disconnect();
    d.b = lost_side(&d.config, false, 99, d.now, 5000);
    d.advance(2);
    d.b.peer.operator_partner_down(d.now).unwrap();
    assert_eq!(d.b.peer.state(), State::PartnerDown);
    d.connect();
    assert!(d.b.store.relearning(d.now), "no new address within MCLT");
    assert_eq!(d.b.store.relearn_until(), Some(d.now.plus(100)));
}

#[test]
fn two_lost_databases_reach_normal_but_give_nothing_new_until_the_wait_ends() {
    let mut d = Duo::new();
    d.a = lost_side(&d.config, true, 77, d.now, 5000);
    d.b = lost_side(&d.config, false, 88, d.now, 5000);
    d.connect();
    d.advance(101);
    assert_eq!(d.states(), (State::Normal, State::Normal));
    for s in [&d.a, &d.b] {
        assert!(s.store.relearning(d.now), "neither copy covers the other");
    }
    // the engine gives nothing new, but re-learns a renewing client
    let config = std::sync::Arc::new(d.config.clone());
    let engine = crate::dhcp::Engine::new(config, vec![Ipv4Addr::new(10, 0, 0, 1)]);
    let policy = d.a.peer.policy();
    let client = |kind: dhcproto::v4::MessageType, n: u8, ciaddr: Ipv4Addr| {
        use dhcproto::Encodable;
        let mut m = dhcproto::v4::Message::new(
            ciaddr,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            &[2, 0, 0, 0, 0, n],
        );
        m.opts_mut()
            .insert(dhcproto::v4::DhcpOption::MessageType(kind));
        crate::proto::Request::parse(&m.to_vec().unwrap()).unwrap()
    };
    let discover = client(
        dhcproto::v4::MessageType::Discover,
        1,
        Ipv4Addr::UNSPECIFIED,
    );
    let ctx = crate::dhcp::RecvContext {
        ifindex: 1,
        local: Ipv4Addr::new(10, 0, 0, 1),
        link: Some(Ipv4Addr::new(10, 0, 0, 1)),
        broadcast: true,
    };
    let out = engine.handle(d.now, &mut d.a.store, &policy, &discover, &ctx);
    assert!(out.reply.is_none(), "{:?}", out.verdict);
    // 10.0.0.11 is in the primary's half of the pool
    let renew = client(
        dhcproto::v4::MessageType::Request,
        3,
        Ipv4Addr::new(10, 0, 0, 11),
    );
    let out = engine.handle(d.now, &mut d.a.store, &policy, &renew, &ctx);
    assert_eq!(
        out.verdict,
        crate::dhcp::Verdict::Ack(Ipv4Addr::new(10, 0, 0, 11))
    );
}

/// A partner back with a database new to us (it lost its own) may have
/// renewed our bindings without our acknowledgement before the loss, up to
/// MCLT past what we acknowledged: its acknowledgements cannot free those
/// addresses, so a binding changed before we met the new database waits
/// out the MCLT rule; one changed after does not (simulator seed
/// 36106232).
#[test]
fn a_partner_database_new_to_us_holds_earlier_bindings_for_mclt() {
    let mut d = Duo::new();
    d.connect();
    let mut l = d.a.grant("10.0.0.10", 1, d.now, 50);
    d.settle();
    d.disconnect();
    let first = d.a.peer.policy().guard;
    assert!(first.is_some(), "a first meeting holds what came before");
    d.advance(60);
    // the client declined it meanwhile; b, out of reach, re-granted it, then lost its disk
    l.state = LeaseState::Declined;
    (l.cltt, l.expires) = (d.now, d.now);
    let l = d.a.change(d.now, l);
    d.b = lost_side(&d.config, false, 99, d.now, 5000);
    d.advance(1);
    d.connect();
    let met = d.now;
    let guard = d.a.peer.policy().guard;
    assert_eq!(guard, Some((met, met)));
    assert_eq!(d.a.persisted().guard, guard, "persisted");
    let l = d.a.store.get(l.addr).unwrap().clone();
    assert!(d.a.store.is_synced(&l), "b acknowledged it");
    let policy = d.a.peer.policy();
    let at = crate::failover::mclt::reusable_at(&l, met, 100);
    assert!(!policy.may_reuse(&l, Time(at.0 - 1), true));
    assert!(policy.may_reuse(&l, at, true));
    // a second meeting with the same database adds nothing, even one
    // before its full copy arrived (a flapping link: as if the first
    // UPDDONE never came)
    d.disconnect();
    d.advance(5);
    d.connect();
    assert_eq!(d.a.peer.policy().guard, guard);
    d.disconnect();
    d.a.peer.p.partner_epoch = Some(22);
    d.advance(5);
    d.connect();
    assert_eq!(d.a.peer.policy().guard, guard, "widened once per database");
}
