//! Shared networks: several subnets on one link.

use super::*;

pub(super) const SHARED: &str = r#"
[server]
interfaces = ["eth0"]
lease_db = "/tmp/unused"

[[shared_network]]
name = "hall"
dns_servers = ["10.9.0.53"]
lease_time = "2h"
authoritative = true

[[subnet]]
cidr = "10.8.0.0/24"
shared_network = "hall"
pools = ["10.8.0.10-10.8.0.11"]
routers = ["10.8.0.1"]

[[subnet]]
cidr = "10.8.1.0/24"
shared_network = "hall"
pools = ["10.8.1.10-10.8.1.20"]
routers = ["10.8.1.1"]
dns_servers = ["10.8.1.53"]
lease_time = "30m"

[[subnet.reservation]]
mac = "02:00:00:00:00:77"
address = "10.8.1.77"

[[subnet]]
cidr = "10.7.0.0/24"
pools = ["10.7.0.10-10.7.0.20"]
"#;

/// The server's address on the hall, in its first subnet.
const HALL: Ipv4Addr = Ipv4Addr::new(10, 8, 0, 2);

pub(super) fn hall() -> T {
    let config = Arc::new(Config::parse(SHARED, "test").unwrap());
    let store = LeaseStore::new(&config, 256);
    T {
        engine: Engine::new(config, vec![HALL]),
        store,
        now: Time(1_000_000),
    }
}

fn on_hall() -> RecvContext {
    RecvContext {
        local: HALL,
        link: Some(HALL),
        ..ctx()
    }
}

impl T {
    fn dora_on(&mut self, mac: [u8; 6], c: &RecvContext) -> Outcome {
        let o = self.send_ctx(&msg(v4::MessageType::Discover, mac, vec![]), c);
        let Verdict::Offer(a) = o.verdict else {
            panic!("{:?}", o.verdict)
        };
        let req = msg(
            v4::MessageType::Request,
            mac,
            vec![
                v4::DhcpOption::ServerIdentifier(HALL),
                v4::DhcpOption::RequestedIpAddress(a),
            ],
        );
        let o = self.send_ctx(&req, c);
        assert_eq!(o.verdict, Verdict::Ack(a));
        o
    }
}

fn opt(o: &Outcome, code: v4::OptionCode) -> Option<v4::DhcpOption> {
    decode(o).opts().get(code).cloned()
}

#[test]
fn a_shared_network_fills_its_first_subnet_then_the_next_with_each_subnets_settings() {
    let mut t = hall();
    let first = t.dora_on(mac(1), &on_hall());
    assert_eq!(decode(&first).yiaddr(), ip("10.8.0.10"));
    assert_eq!(
        t.dora_on(mac(2), &on_hall()).verdict,
        Verdict::Ack(ip("10.8.0.11"))
    );
    let third = t.dora_on(mac(3), &on_hall());
    assert_eq!(
        third.verdict,
        Verdict::Ack(ip("10.8.1.10")),
        "the next subnet with room"
    );

    // The first subnet's own router, the network's DNS and lease time.
    let router = |o: &Outcome| opt(o, v4::OptionCode::Router);
    let dns = |o: &Outcome| opt(o, v4::OptionCode::DomainNameServer);
    let time = |o: &Outcome| opt(o, v4::OptionCode::AddressLeaseTime);
    assert_eq!(
        router(&first),
        Some(v4::DhcpOption::Router(vec![ip("10.8.0.1")]))
    );
    assert_eq!(
        dns(&first),
        Some(v4::DhcpOption::DomainNameServer(vec![ip("10.9.0.53")]))
    );
    assert_eq!(time(&first), Some(v4::DhcpOption::AddressLeaseTime(7200)));
    // The second subnet's own values win over the network's.
    assert_eq!(
        router(&third),
        Some(v4::DhcpOption::Router(vec![ip("10.8.1.1")]))
    );
    assert_eq!(
        dns(&third),
        Some(v4::DhcpOption::DomainNameServer(vec![ip("10.8.1.53")]))
    );
    assert_eq!(time(&third), Some(v4::DhcpOption::AddressLeaseTime(1800)));
    assert_eq!(
        opt(&third, v4::OptionCode::SubnetMask),
        Some(v4::DhcpOption::SubnetMask(ip("255.255.255.0")))
    );
}

#[test]
fn a_client_keeps_its_leases_subnet_on_renewal_and_reboot() {
    let mut t = hall();
    for m in 1..=3 {
        t.dora_on(mac(m), &on_hall());
    }
    let a = ip("10.8.1.10");
    t.now = t.now.plus(900);
    // Unicast RENEW from its address in the second subnet.
    let o = t.send_ctx(
        &renew(mac(3), a),
        &RecvContext {
            broadcast: false,
            ..on_hall()
        },
    );
    assert_eq!(o.verdict, Verdict::Ack(a));
    // Broadcast INIT-REBOOT heard on the hall (whose interface is in the first subnet).
    let reboot = msg(
        v4::MessageType::Request,
        mac(3),
        vec![v4::DhcpOption::RequestedIpAddress(a)],
    );
    assert_eq!(t.send_ctx(&reboot, &on_hall()).verdict, Verdict::Ack(a));
    // A new DISCOVER is offered the same address, not a free one of the first subnet.
    let o = t.send_ctx(&msg(v4::MessageType::Discover, mac(3), vec![]), &on_hall());
    assert_eq!(o.verdict, Verdict::Offer(a));
}

#[test]
fn an_address_off_the_link_is_naked_even_in_another_configured_subnet() {
    let mut t = hall();
    let reboot = msg(
        v4::MessageType::Request,
        mac(4),
        vec![v4::DhcpOption::RequestedIpAddress(ip("10.7.0.12"))],
    );
    let o = t.send_ctx(&reboot, &on_hall());
    // authoritative, inherited from the network
    assert_eq!(o.verdict, Verdict::Nak("address is not on your network"));
}

#[test]
fn a_reservation_in_any_subnet_of_the_link_is_found() {
    let mut t = hall();
    let o = t.dora_on(mac(0x77), &on_hall());
    assert_eq!(o.verdict, Verdict::Ack(ip("10.8.1.77")));
}

#[test]
fn a_relay_in_any_subnet_of_the_network_reaches_the_whole_network() {
    let mut t = hall();
    let mut d = msg(v4::MessageType::Discover, mac(5), vec![]);
    d.set_giaddr(ip("10.8.1.1"));
    let o = t.send_ctx(&d, &on_hall());
    assert_eq!(
        o.verdict,
        Verdict::Offer(ip("10.8.0.10")),
        "the network's first subnet"
    );
    // A relay on the subnet outside the network gets only its own subnet.
    d.set_giaddr(ip("10.7.0.1"));
    let o = t.send_ctx(&d, &on_hall());
    assert_eq!(o.verdict, Verdict::Offer(ip("10.7.0.10")));
}
