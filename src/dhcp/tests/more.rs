//! Engine tests, continued: release, decline, expiry, reservations, relays, INFORM, size limits.

use super::*;

#[test]
fn release_then_same_client_gets_it_back() {
    let mut t = t();
    let a = t.dora(mac(1));
    let mut rel = msg(
        v4::MessageType::Release,
        mac(1),
        vec![v4::DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 9, 9, 9))],
    );
    rel.set_ciaddr(a);
    // naming another server: that server's to act on
    assert!(matches!(t.send(&rel).verdict, Verdict::Ignored(_)));
    assert_eq!(t.store.get(a).unwrap().state, LeaseState::Active);
    rel.opts_mut()
        .insert(v4::DhcpOption::ServerIdentifier(SERVER));
    let o = t.send(&rel);
    assert_eq!(o.verdict, Verdict::Released(a));
    assert!(o.reply.is_none());
    assert_eq!(o.changes[0].state, LeaseState::Released);
    assert_eq!(t.store.get(a).unwrap().state, LeaseState::Released);
    // another client's release of it changes nothing
    let mut other = rel.clone();
    other.set_chaddr(&mac(2));
    assert!(matches!(t.send(&other).verdict, Verdict::Ignored(_)));
    assert_eq!(t.dora(mac(1)), a);
}

/// systemd-networkd 252 sends RELEASE without option 54 (seen in the lab);
/// ISC dhcpd and Kea release the binding all the same.
#[test]
fn release_without_server_identifier_is_taken() {
    let mut t = t();
    let a = t.dora(mac(1));
    let mut rel = msg(v4::MessageType::Release, mac(1), vec![]);
    rel.set_ciaddr(a);
    assert_eq!(t.send(&rel).verdict, Verdict::Released(a));
    assert_eq!(t.store.get(a).unwrap().state, LeaseState::Released);
}

#[test]
fn decline_quarantines_until_probation_ends() {
    let mut t = t();
    let a = t.dora(mac(1));
    let o = t.send(&msg(
        v4::MessageType::Decline,
        mac(1),
        vec![
            v4::DhcpOption::ServerIdentifier(SERVER),
            v4::DhcpOption::RequestedIpAddress(a),
        ],
    ));
    assert_eq!(o.verdict, Verdict::Declined(a));
    assert_eq!(t.store.get(a).unwrap().state, LeaseState::Declined);
    // the client gets a different address now
    let o = t.send(&msg(v4::MessageType::Discover, mac(1), vec![]));
    assert_ne!(o.verdict, Verdict::Offer(a));
    t.now = t.now.plus(3600);
    let changes = t.engine.tick(t.now, &mut t.store);
    assert!(
        changes
            .iter()
            .any(|l| l.addr == a && l.state == LeaseState::Free)
    );
    assert!(t.store.is_allocatable(a));
}

#[test]
fn expiry_and_least_recently_used_reuse() {
    let mut t = t();
    let a = t.dora(mac(1));
    t.now = t.now.plus(3601);
    let ch = t.engine.tick(t.now, &mut t.store);
    assert_eq!(ch.len(), 1);
    assert_eq!(ch[0].state, LeaseState::Expired);
    // the client may still count its lease for a few seconds (it counts
    // from the ACK's arrival): not yet to another client
    let l = t.store.get(a).unwrap().clone();
    assert!(!Standalone.may_reuse(&l, t.now, true));
    t.now = t.now.plus(crate::dhcp::REUSE_GRACE);
    assert!(Standalone.may_reuse(&l, t.now, true));
    // never-used addresses go first
    for n in 2..5 {
        assert_ne!(t.dora(mac(n)), a);
    }
    // then the expired one, to a different client
    assert_eq!(t.dora(mac(5)), a);
    // and the pool is exhausted
    let o = t.send(&msg(v4::MessageType::Discover, mac(6), vec![]));
    assert_eq!(o.verdict, Verdict::Ignored("no free address"));
    // the old client has no lease here any more
    assert!(matches!(
        t.send_ctx(&renew(mac(1), a), &unicast()).verdict,
        Verdict::Nak(_)
    ));
}

#[test]
fn reservation_is_given_to_its_client_only() {
    let mut t = t();
    let mut m = msg(v4::MessageType::Discover, [2, 0, 0, 0, 0, 0xaa], vec![]);
    let o = t.send(&m);
    assert_eq!(o.verdict, Verdict::Offer(ip("10.0.0.50")));
    assert_eq!(
        decode(&o).opts().get(v4::OptionCode::Hostname),
        Some(&v4::DhcpOption::Hostname("printer".into()))
    );
    m.set_chaddr(&mac(3));
    m.opts_mut()
        .insert(v4::DhcpOption::RequestedIpAddress(ip("10.0.0.50")));
    assert_ne!(t.send(&m).verdict, Verdict::Offer(ip("10.0.0.50")));
    let sel = msg(
        v4::MessageType::Request,
        mac(3),
        vec![
            v4::DhcpOption::ServerIdentifier(SERVER),
            v4::DhcpOption::RequestedIpAddress(ip("10.0.0.50")),
        ],
    );
    // never offered to it: a server that is not authoritative stays silent
    let o = t.send(&sel);
    assert!(o.reply.is_none(), "{:?}", o.verdict);
    assert!(o.changes.is_empty());
}

#[test]
fn requested_address_is_honoured_when_free() {
    let mut t = t();
    let o = t.send(&msg(
        v4::MessageType::Discover,
        mac(1),
        vec![v4::DhcpOption::RequestedIpAddress(ip("10.0.0.102"))],
    ));
    assert_eq!(o.verdict, Verdict::Offer(ip("10.0.0.102")));
    let o = t.send(&msg(
        v4::MessageType::Discover,
        mac(2),
        vec![v4::DhcpOption::RequestedIpAddress(ip("10.0.0.7"))],
    ));
    assert_eq!(
        o.verdict,
        Verdict::Offer(ip("10.0.0.100")),
        "outside the pool: ignored"
    );
}

#[test]
fn relayed_requests_echo_option_82_and_select_by_link() {
    let mut t = t();
    let mut m = msg(
        v4::MessageType::Discover,
        mac(1),
        vec![v4::DhcpOption::ClientIdentifier(vec![1, 2, 0, 0, 0, 0, 1])],
    );
    m.set_giaddr(ip("192.0.2.1"));
    let mut b = m.to_vec().unwrap();
    // option 82 with circuit id and link selection 10.1.0.0, inserted before END
    let end = b.iter().rposition(|x| *x == 255).unwrap();
    let ri = [82u8, 12, 1, 4, b'p', b'o', b'r', b't', 5, 4, 10, 1, 0, 0];
    b.splice(end..end, ri);
    let req = Request::parse(&b).unwrap();
    let o = t
        .engine
        .handle(t.now, &mut t.store, &Standalone, &req, &ctx());
    assert_eq!(o.verdict, Verdict::Offer(ip("10.1.0.10")));
    let r = o.reply.as_ref().unwrap();
    assert_eq!(
        r.route,
        ReplyRoute::Relay {
            giaddr: ip("192.0.2.1")
        }
    );
    let c = codes(&o);
    assert_eq!(&c[c.len() - 2..], &[61, 82]);
    let pos = r.bytes.windows(ri.len()).position(|w| w == ri);
    assert!(pos.is_some(), "option 82 echoed byte for byte");
    // giaddr alone selects the subnet too
    let mut m = msg(v4::MessageType::Discover, mac(2), vec![]);
    m.set_giaddr(ip("10.1.0.1"));
    assert_eq!(t.send(&m).verdict, Verdict::Offer(ip("10.1.0.11")));
    // a relay on a network no subnet serves: silence
    let mut m = msg(v4::MessageType::Discover, mac(3), vec![]);
    m.set_giaddr(ip("172.16.0.1"));
    assert!(t.send(&m).reply.is_none());
}

#[test]
fn relayed_nak_sets_broadcast_bit() {
    let mut t = t();
    let mut m = msg(
        v4::MessageType::Request,
        mac(1),
        vec![v4::DhcpOption::RequestedIpAddress(ip("10.0.0.5"))],
    );
    m.set_giaddr(ip("10.1.0.1"));
    let o = t.send(&m);
    assert!(matches!(o.verdict, Verdict::Nak(_)));
    assert!(decode(&o).flags().broadcast());
    assert_eq!(
        o.reply.as_ref().unwrap().route,
        ReplyRoute::Relay {
            giaddr: ip("10.1.0.1")
        }
    );
}

#[test]
fn inform_gets_options_without_a_lease() {
    let mut t = t();
    let mut m = msg(v4::MessageType::Inform, mac(1), vec![]);
    m.set_ciaddr(ip("10.0.0.77"));
    let o = t.send_ctx(&m, &unicast());
    assert_eq!(o.verdict, Verdict::Informed);
    assert!(o.changes.is_empty());
    assert_eq!(
        o.reply.as_ref().unwrap().route,
        ReplyRoute::Unicast {
            ciaddr: ip("10.0.0.77")
        }
    );
    let c = codes(&o);
    assert!(!c.contains(&51) && !c.contains(&58));
    assert!(c.contains(&3));
    assert_eq!(decode(&o).yiaddr(), Ipv4Addr::UNSPECIFIED);
}

#[test]
fn small_max_message_size_drops_options_not_echoes() {
    let mut t = t();
    let mut m = msg(
        v4::MessageType::Discover,
        mac(1),
        vec![v4::DhcpOption::ClientIdentifier(vec![0; 200])],
    );
    m.opts_mut().insert(v4::DhcpOption::ParameterRequestList(
        vec![v4::OptionCode::Router; 1],
    ));
    let o = t.send(&m);
    let c = codes(&o);
    assert!(c.contains(&61), "client id echoed even when space is short");
    assert!(o.reply.as_ref().unwrap().bytes.len() <= 548);
}

/// Standalone, but with the failover MCLT cap of 100 s
/// (`failover::mclt::cap`), as a peer in NORMAL applies it.
struct Capped;

impl Policy for Capped {
    fn me(&self) -> Owner {
        Owner::Primary
    }
    fn responsive(&self) -> bool {
        true
    }
    fn serves(&self, _: &crate::proto::ClientKey, _: u16) -> bool {
        true
    }
    fn may_allocate(&self, owner: Owner, now: Time) -> bool {
        Standalone.may_allocate(owner, now)
    }
    fn may_reuse(&self, lease: &crate::lease::Lease, now: Time, synced: bool) -> bool {
        Standalone.may_reuse(lease, now, synced)
    }
    fn lease_cap(&self, previous: Option<&crate::lease::Lease>, now: Time) -> Option<u64> {
        let acked = previous.map_or(Time::ZERO, |l| l.acked_potential_expiry);
        Some(crate::failover::mclt::cap(now, acked, 100))
    }
    fn potential_expiry(&self, now: Time, desired: u64, granted: u64) -> Time {
        crate::failover::mclt::potential_expiry(now, desired, granted)
    }
}

/// The lease time (option 51) of a reply.
fn lease_secs(o: &Outcome) -> u32 {
    match decode(o).opts().get(v4::OptionCode::AddressLeaseTime) {
        Some(v4::DhcpOption::AddressLeaseTime(t)) => *t,
        other => panic!("no lease time: {other:?}"),
    }
}

/// What the partner acknowledged for an address's earlier client lengthens
/// neither the ACK nor the OFFER to a new client: an OFFER promises what
/// the ACK will grant (RFC 2131 4.3.1: the lease time offered).
#[test]
fn an_offer_under_the_mclt_cap_promises_what_the_ack_grants() {
    let mut t = t();
    let send = |t: &mut T, m: &v4::Message| {
        let req = Request::parse(&m.to_vec().unwrap()).unwrap();
        t.engine.handle(t.now, &mut t.store, &Capped, &req, &ctx())
    };
    let a = t.dora(mac(1));
    let mut l = t.store.get(a).unwrap().clone();
    l.acked_potential_expiry = t.now.plus(5000);
    t.store.upsert(l);
    let mut renew = msg(v4::MessageType::Request, mac(1), vec![]);
    renew.set_ciaddr(a);
    assert_eq!(
        lease_secs(&send(&mut t, &renew)),
        3600,
        "its own ack counts"
    );
    let mut rel = msg(
        v4::MessageType::Release,
        mac(1),
        vec![v4::DhcpOption::ServerIdentifier(SERVER)],
    );
    rel.set_ciaddr(a);
    assert_eq!(send(&mut t, &rel).verdict, Verdict::Released(a));
    let want = vec![v4::DhcpOption::RequestedIpAddress(a)];
    let offer = send(&mut t, &msg(v4::MessageType::Discover, mac(2), want));
    assert_eq!(offer.verdict, Verdict::Offer(a));
    let req = msg(
        v4::MessageType::Request,
        mac(2),
        vec![
            v4::DhcpOption::ServerIdentifier(SERVER),
            v4::DhcpOption::RequestedIpAddress(a),
        ],
    );
    let ack = send(&mut t, &req);
    assert_eq!(ack.verdict, Verdict::Ack(a));
    assert_eq!((lease_secs(&offer), lease_secs(&ack)), (100, 100));
}
