//! The relay agent's sub-options that steer a server: link selection
//! (RFC 3527) and server identifier override (RFC 5107), with a shared
//! network.

use super::shared::hall;
use super::*;

/// Option 82 with link selection `link` and server identifier override `sid`.
fn relay_info(link: Option<Ipv4Addr>, sid: Option<Ipv4Addr>) -> v4::DhcpOption {
    let mut data = vec![1, 2, b'p', b'1'];
    for (sub, a) in [(5u8, link), (11u8, sid)] {
        if let Some(a) = a {
            data.extend([sub, 4]);
            data.extend(a.octets());
        }
    }
    v4::DhcpOption::Unknown(v4::UnknownOption::new(
        v4::OptionCode::RelayAgentInformation,
        data,
    ))
}

fn relayed(
    kind: v4::MessageType,
    m: [u8; 6],
    giaddr: &str,
    ri: v4::DhcpOption,
    opts: Vec<v4::DhcpOption>,
) -> v4::Message {
    let mut msg = msg(kind, m, opts);
    msg.set_giaddr(ip(giaddr));
    msg.opts_mut().insert(ri);
    msg
}

fn sid(o: &Outcome) -> Option<v4::DhcpOption> {
    decode(o)
        .opts()
        .get(v4::OptionCode::ServerIdentifier)
        .cloned()
}

#[test]
fn a_relays_server_identifier_override_is_our_identifier_for_that_client() {
    let mut t = hall();
    let relay = ip("10.8.1.1");
    let ri = || relay_info(None, Some(relay));
    let d = relayed(v4::MessageType::Discover, mac(1), "10.8.1.1", ri(), vec![]);
    let offer = t.send(&d);
    assert_eq!(offer.verdict, Verdict::Offer(ip("10.8.0.10")));
    assert_eq!(sid(&offer), Some(v4::DhcpOption::ServerIdentifier(relay)));

    let select = |a: &str| {
        relayed(
            v4::MessageType::Request,
            mac(1),
            "10.8.1.1",
            ri(),
            vec![
                v4::DhcpOption::ServerIdentifier(relay),
                v4::DhcpOption::RequestedIpAddress(ip(a)),
            ],
        )
    };
    // Another server behind the same relay (a failover partner) has the
    // same identifier: an offer this server did not make is not answered,
    // not NAKed, although the network is authoritative.
    assert!(matches!(
        t.send(&select("10.8.0.11")).verdict,
        Verdict::Ignored(_)
    ));
    let ack = t.send(&select("10.8.0.10"));
    assert_eq!(ack.verdict, Verdict::Ack(ip("10.8.0.10")));
    assert_eq!(sid(&ack), Some(v4::DhcpOption::ServerIdentifier(relay)));

    // The client's RELEASE names the relay: it is ours.
    let mut rel = relayed(
        v4::MessageType::Release,
        mac(1),
        "10.8.1.1",
        ri(),
        vec![v4::DhcpOption::ServerIdentifier(relay)],
    );
    rel.set_ciaddr(ip("10.8.0.10"));
    assert_eq!(t.send(&rel).verdict, Verdict::Released(ip("10.8.0.10")));
}

#[test]
fn link_selection_names_the_shared_network_whatever_the_giaddr() {
    let mut t = hall();
    // A relay on a transit network tandem does not serve, naming the hall's
    // second subnet as the client's link: the hall's first subnet with room.
    let d = relayed(
        v4::MessageType::Discover,
        mac(2),
        "192.0.2.7",
        relay_info(Some(ip("10.8.1.0")), None),
        vec![],
    );
    assert_eq!(t.send(&d).verdict, Verdict::Offer(ip("10.8.0.10")));
}
