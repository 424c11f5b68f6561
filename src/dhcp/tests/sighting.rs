//! `Engine::sighting`: what a request shows about the client's other
//! server, for the partner-down evidence.

use super::*;

fn selecting(m: [u8; 6], server: Ipv4Addr, a: Ipv4Addr) -> v4::Message {
    let opts = vec![
        v4::DhcpOption::ServerIdentifier(server),
        v4::DhcpOption::RequestedIpAddress(a),
    ];
    msg(v4::MessageType::Request, m, opts)
}

impl T {
    fn sighting(&self, m: &v4::Message, c: &RecvContext) -> Option<Sighting> {
        let req = Request::parse(&m.to_vec().unwrap()).unwrap();
        self.engine.sighting(self.now, &self.store, &req, c)
    }
}

#[test]
fn discover_counts_only_for_an_active_binding() {
    let mut t = t();
    let a = t.dora(mac(1));
    let discover = |m: [u8; 6]| msg(v4::MessageType::Discover, m, vec![]);
    let pools = vec![crate::config::PoolId(0)];
    assert_eq!(
        t.sighting(&discover(mac(1)), &ctx()),
        Some(Sighting::Discover { pools })
    );
    assert_eq!(t.sighting(&discover(mac(2)), &ctx()), None, "no binding");
    // A reservation is no binding: its address may be held by another.
    let reserved = [2, 0, 0, 0, 0, 0xaa];
    assert_eq!(t.sighting(&discover(reserved), &ctx()), None);
    // A binding that ran out no longer counts.
    t.now = t.store.get(a).unwrap().expires;
    assert_eq!(t.sighting(&discover(mac(1)), &ctx()), None);
}

#[test]
fn selecting_another_server_is_counter_evidence() {
    let t = t();
    let a = ip("10.0.0.100");
    let ours = t.sighting(&selecting(mac(1), SERVER, a), &ctx());
    assert_eq!(ours, None);
    let other = t.sighting(&selecting(mac(1), ip("10.0.0.3"), a), &ctx());
    assert_eq!(other, Some(Sighting::ChoseOther));
}

#[test]
fn init_reboot_counts_only_for_an_active_binding_of_the_client() {
    let mut t = t();
    let a = t.dora(mac(1));
    let verify = |m: [u8; 6], addr: Ipv4Addr| {
        msg(
            v4::MessageType::Request,
            m,
            vec![v4::DhcpOption::RequestedIpAddress(addr)],
        )
    };
    assert_eq!(
        t.sighting(&verify(mac(1), a), &ctx()),
        Some(Sighting::InitReboot)
    );
    assert_eq!(
        t.sighting(&verify(mac(2), a), &ctx()),
        None,
        "not its binding"
    );
    let other = ip("10.0.0.101");
    assert_eq!(t.sighting(&verify(mac(1), other), &ctx()), None);
}

#[test]
fn renewing_and_rebinding_say_nothing() {
    let mut t = t();
    let a = t.dora(mac(1));
    t.now = t.now.plus(3000);
    assert_eq!(t.sighting(&renew(mac(1), a), &ctx()), None);
    assert_eq!(t.sighting(&renew(mac(1), a), &unicast()), None);
}

#[test]
fn other_messages_and_unknown_links_say_nothing() {
    let mut t = t();
    t.dora(mac(1));
    let release = msg(v4::MessageType::Release, mac(1), vec![]);
    assert_eq!(t.sighting(&release, &ctx()), None);
    let elsewhere = RecvContext {
        link: None,
        ..unicast()
    };
    let discover = msg(v4::MessageType::Discover, mac(1), vec![]);
    assert_eq!(t.sighting(&discover, &elsewhere), None);
}
