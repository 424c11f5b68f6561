//! Cases from independent conformance suites and field reports (issue 12),
//! on the issue's own layout: 192.0.2.0/24, pool .100-.199, server .1.

use super::*;

const CONF: &str = r#"
[server]
interfaces = ["eth0"]
lease_db = "/tmp/unused"

[[subnet]]
cidr = "192.0.2.0/24"
pools = ["192.0.2.100-192.0.2.199"]
lease_time = "1h"
routers = ["192.0.2.1"]
dns_servers = ["192.0.2.53"]
domain_name = "example.org"
"#;

const SID: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

fn c(i: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, i)
}

fn tc(extra: &str) -> T {
    let config = Arc::new(Config::parse(&format!("{CONF}{extra}"), "test").unwrap());
    let store = LeaseStore::new(&config, 256);
    T {
        engine: Engine::new(config, vec![SID]),
        store,
        now: Time(1_000_000),
    }
}

fn direct(broadcast: bool) -> RecvContext {
    RecvContext {
        ifindex: 2,
        local: SID,
        link: Some(SID),
        broadcast,
    }
}

fn req(m: [u8; 6], opts: Vec<v4::DhcpOption>) -> v4::Message {
    msg(v4::MessageType::Request, m, opts)
}

impl T {
    /// DISCOVER asking for `want`, then SELECTING whatever was offered.
    fn lease(&mut self, m: [u8; 6], want: Ipv4Addr) -> Ipv4Addr {
        let d = msg(
            v4::MessageType::Discover,
            m,
            vec![v4::DhcpOption::RequestedIpAddress(want)],
        );
        let Verdict::Offer(a) = self.send_ctx(&d, &direct(true)).verdict else {
            panic!("no offer")
        };
        let r = req(
            m,
            vec![
                v4::DhcpOption::ServerIdentifier(SID),
                v4::DhcpOption::RequestedIpAddress(a),
            ],
        );
        assert_eq!(self.send_ctx(&r, &direct(true)).verdict, Verdict::Ack(a));
        a
    }

    fn active_of(&self, m: [u8; 6]) -> Vec<Ipv4Addr> {
        let mut v: Vec<Ipv4Addr> = self
            .store
            .iter()
            .filter(|l| l.state == LeaseState::Active && l.hw.ethernet() == Some(m))
            .map(|l| l.addr)
            .collect();
        v.sort();
        v
    }
}

fn hw(m: [u8; 6]) -> crate::proto::HwAddr {
    crate::proto::HwAddr::new(1, &m)
}

#[test]
fn a_request_for_a_second_address_is_naked() {
    let mut t = tc("");
    assert_eq!(t.lease(mac(1), c(102)), c(102));
    // option 54 = ours, ciaddr .108, no option 50: a renewal of .108
    let mut r = req(mac(1), vec![v4::DhcpOption::ServerIdentifier(SID)]);
    r.set_ciaddr(c(108));
    let o = t.send_ctx(&r, &direct(false));
    assert!(matches!(o.verdict, Verdict::Nak(_)), "{:?}", o.verdict);
    assert!(o.changes.is_empty());
    // the same without option 54, and as INIT-REBOOT, and as SELECTING
    let mut r = req(mac(1), vec![]);
    r.set_ciaddr(c(108));
    assert!(matches!(
        t.send_ctx(&r, &direct(false)).verdict,
        Verdict::Nak(_)
    ));
    let ir = req(mac(1), vec![v4::DhcpOption::RequestedIpAddress(c(108))]);
    assert!(matches!(
        t.send_ctx(&ir, &direct(true)).verdict,
        Verdict::Nak(_)
    ));
    let sel = req(
        mac(1),
        vec![
            v4::DhcpOption::ServerIdentifier(SID),
            v4::DhcpOption::RequestedIpAddress(c(108)),
        ],
    );
    assert!(t.send_ctx(&sel, &direct(true)).reply.is_none());
    assert_eq!(t.active_of(mac(1)), vec![c(102)]);
}

#[test]
fn an_address_no_longer_in_a_pool_moves_the_client() {
    let mut t = tc("");
    assert_eq!(t.lease(mac(1), c(130)), c(130));
    assert_eq!(t.lease(mac(2), c(131)), c(131));
    // the pool shrinks to .150-.199; the server restarts with its leases
    let config = Arc::new(
        Config::parse(
            &CONF.replace("192.0.2.100-192.0.2.199", "192.0.2.150-192.0.2.199"),
            "t",
        )
        .unwrap(),
    );
    let mut store = LeaseStore::new(&config, 256);
    for l in t.store.iter() {
        store.put(l.clone());
    }
    t.store = store;
    t.engine = Engine::new(config, vec![SID]);
    // INIT-REBOOT for .130: NAK, and the lease ends
    let ir = req(mac(1), vec![v4::DhcpOption::RequestedIpAddress(c(130))]);
    let o = t.send_ctx(&ir, &direct(true));
    assert!(matches!(o.verdict, Verdict::Nak(_)), "{:?}", o.verdict);
    assert_eq!(o.changes.len(), 1);
    assert_eq!(o.changes[0].state, LeaseState::Expired);
    assert!(t.active_of(mac(1)).is_empty());
    // RENEW for it: NAK too
    let mut rn = req(mac(2), vec![]);
    rn.set_ciaddr(c(131));
    let o = t.send_ctx(&rn, &direct(false));
    assert!(matches!(o.verdict, Verdict::Nak(_)), "{:?}", o.verdict);
    // the client moves to a pool address and holds only that
    let a = t.lease(mac(1), c(130));
    assert!(a >= c(150));
    assert_eq!(t.active_of(mac(1)), vec![a]);
}

#[test]
fn a_new_binding_ends_the_clients_other_lease_in_the_subnet() {
    let mut t = tc(r#"
[[subnet.reservation]]
mac = "02:00:00:00:00:01"
address = "192.0.2.10"
"#);
    // the reservation is offered; the client still holds a dynamic lease
    // taken before the reservation existed
    let d = msg(v4::MessageType::Discover, mac(1), vec![]);
    assert_eq!(t.send_ctx(&d, &direct(true)).verdict, Verdict::Offer(c(10)));
    let mut l = crate::lease::Lease::free(c(120), crate::lease::Owner::Primary);
    l.state = LeaseState::Active;
    l.hw = hw(mac(1));
    l.expires = t.now.plus(3600);
    t.store.put(l);
    let sel = req(
        mac(1),
        vec![
            v4::DhcpOption::ServerIdentifier(SID),
            v4::DhcpOption::RequestedIpAddress(c(10)),
        ],
    );
    let o = t.send_ctx(&sel, &direct(true));
    assert_eq!(o.verdict, Verdict::Ack(c(10)));
    assert_eq!(o.changes.len(), 2, "the old lease ends in the same batch");
    assert_eq!(o.changes[0].addr, c(10), "the grant comes first");
    assert_eq!(
        (o.changes[1].addr, o.changes[1].state),
        (c(120), LeaseState::Expired)
    );
    assert_eq!(t.active_of(mac(1)), vec![c(10)]);
}

#[test]
fn a_released_or_expired_lease_of_another_client_is_relearned() {
    let mut t = tc("");
    assert_eq!(t.lease(mac(1), c(101)), c(101));
    let rel = msg(
        v4::MessageType::Release,
        mac(1),
        vec![v4::DhcpOption::ServerIdentifier(SID)],
    );
    let mut rel = rel;
    rel.set_ciaddr(c(101));
    assert_eq!(
        t.send_ctx(&rel, &direct(false)).verdict,
        Verdict::Released(c(101))
    );
    let mut rn = req(mac(2), vec![]);
    rn.set_ciaddr(c(101));
    assert_eq!(
        t.send_ctx(&rn, &direct(false)).verdict,
        Verdict::Ack(c(101))
    );
    // expired: the same
    assert_eq!(t.lease(mac(3), c(105)), c(105));
    t.now = t.now.plus(4000);
    t.engine.tick(t.now, &mut t.store);
    let mut rn = req(mac(4), vec![]);
    rn.set_ciaddr(c(105));
    assert_eq!(
        t.send_ctx(&rn, &direct(false)).verdict,
        Verdict::Ack(c(105))
    );
    // an active lease of another client still holds its address
    let mut rn = req(mac(5), vec![]);
    rn.set_ciaddr(c(105));
    assert!(matches!(
        t.send_ctx(&rn, &direct(false)).verdict,
        Verdict::Nak(_)
    ));
}

#[test]
fn a_requested_free_address_comes_before_an_outstanding_offer() {
    let mut t = tc("");
    let d = |want: Ipv4Addr| {
        msg(
            v4::MessageType::Discover,
            mac(1),
            vec![v4::DhcpOption::RequestedIpAddress(want)],
        )
    };
    assert_eq!(
        t.send_ctx(&d(c(119)), &direct(true)).verdict,
        Verdict::Offer(c(119))
    );
    assert_eq!(
        t.send_ctx(&d(c(150)), &direct(true)).verdict,
        Verdict::Offer(c(150))
    );
    assert!(!t.store.is_offered(c(119)), "the old offer is dropped");
    // without option 50 the outstanding offer stands
    let plain = msg(v4::MessageType::Discover, mac(1), vec![]);
    assert_eq!(
        t.send_ctx(&plain, &direct(true)).verdict,
        Verdict::Offer(c(150))
    );
}

#[test]
fn without_a_parameter_request_list_every_configured_option_is_sent() {
    let mut t = tc("");
    let mut d = msg(v4::MessageType::Discover, mac(1), vec![]);
    d.opts_mut().remove(v4::OptionCode::ParameterRequestList);
    let o = t.send_ctx(&d, &direct(true));
    assert_eq!(codes(&o), vec![53, 54, 51, 58, 59, 1, 3, 6, 15]);
    // with a list: only what it asks for, in its order
    let mut d = msg(v4::MessageType::Discover, mac(1), vec![]);
    d.opts_mut()
        .insert(v4::DhcpOption::ParameterRequestList(vec![
            v4::OptionCode::DomainName,
            v4::OptionCode::SubnetMask,
        ]));
    let o = t.send_ctx(&d, &direct(true));
    assert_eq!(codes(&o), vec![53, 54, 51, 58, 59, 1, 15]);
}

#[test]
fn a_server_that_is_not_authoritative_does_not_nak_what_it_does_not_know() {
    for authoritative in [false, true] {
        let mut t = tc(&format!("authoritative = {authoritative}\n"));
        assert_eq!(t.lease(mac(1), c(110)), c(110));
        // SELECTING .200: in the subnet, outside every pool, never offered
        let sel = req(
            mac(9),
            vec![
                v4::DhcpOption::ServerIdentifier(SID),
                v4::DhcpOption::RequestedIpAddress(c(200)),
            ],
        );
        let o = t.send_ctx(&sel, &direct(true));
        assert_eq!(o.reply.is_some(), authoritative, "{:?}", o.verdict);
        // INIT-REBOOT from a stranger for an address another client holds
        let ir = req(mac(9), vec![v4::DhcpOption::RequestedIpAddress(c(110))]);
        let o = t.send_ctx(&ir, &direct(true));
        assert_eq!(o.reply.is_some(), authoritative, "{:?}", o.verdict);
        if authoritative {
            assert!(matches!(o.verdict, Verdict::Nak(_)));
        }
        // wrong network: NAK either way
        let ir = req(
            mac(9),
            vec![v4::DhcpOption::RequestedIpAddress(ip("198.51.100.7"))],
        );
        assert!(matches!(
            t.send_ctx(&ir, &direct(true)).verdict,
            Verdict::Nak(_)
        ));
    }
}

#[test]
fn a_reservation_does_not_take_an_address_another_client_holds() {
    let mut t = tc(r#"
[[subnet.reservation]]
mac = "02:00:00:00:00:01"
address = "192.0.2.120"
"#);
    // client 2 holds .120 from before the reservation existed
    let mut l = crate::lease::Lease::free(c(120), crate::lease::Owner::Primary);
    l.state = LeaseState::Active;
    l.hw = hw(mac(2));
    l.expires = t.now.plus(3600);
    t.store.put(l);
    let ir = req(mac(1), vec![v4::DhcpOption::RequestedIpAddress(c(120))]);
    let o = t.send_ctx(&ir, &direct(true));
    assert!(matches!(o.verdict, Verdict::Nak(_)), "{:?}", o.verdict);
    let mut rn = req(mac(1), vec![]);
    rn.set_ciaddr(c(120));
    let o = t.send_ctx(&rn, &direct(false));
    assert!(matches!(o.verdict, Verdict::Nak(_)), "{:?}", o.verdict);
    assert_eq!(t.active_of(mac(2)), vec![c(120)]);
}

#[test]
fn a_known_clients_renewal_outside_every_pool_is_naked_even_when_not_authoritative() {
    let mut t = tc("");
    assert_eq!(t.lease(mac(1), c(110)), c(110));
    let mut rn = req(mac(1), vec![]);
    rn.set_ciaddr(c(200));
    assert!(matches!(
        t.send_ctx(&rn, &direct(false)).verdict,
        Verdict::Nak(_)
    ));
    // a stranger's: silence
    let mut rn = req(mac(9), vec![]);
    rn.set_ciaddr(c(201));
    assert!(t.send_ctx(&rn, &direct(false)).reply.is_none());
}

/// Simulator seed 10316476: a BOUND client ignores a late ACK to its
/// retransmitted REQUEST, so a re-grant must not end the binding earlier
/// than what the client already holds.
#[test]
fn a_re_grant_never_shortens_what_the_client_holds() {
    let mut t = tc("min_lease_time = \"1m\"\n");
    let a = t.lease(mac(1), c(130));
    let held = t.store.get(a).unwrap().expires;
    assert_eq!(held, t.now.plus(3600));
    t.now = t.now.plus(5);
    let short = req(
        mac(1),
        vec![
            v4::DhcpOption::ServerIdentifier(SID),
            v4::DhcpOption::RequestedIpAddress(a),
            v4::DhcpOption::AddressLeaseTime(600),
        ],
    );
    let o = t.send_ctx(&short, &direct(true));
    assert_eq!(o.verdict, Verdict::Ack(a));
    assert_eq!(
        decode(&o).opts().get(v4::OptionCode::AddressLeaseTime),
        Some(&v4::DhcpOption::AddressLeaseTime(600)),
        "the reply states what is granted now"
    );
    assert_eq!(o.changes[0].expires, held, "the binding keeps its end");
}

mod routes;
