//! Where replies go (RFC 2131 section 4.1, Table 5): a stale ciaddr is no
//! route, INFORM without ciaddr, an offer taken up through ciaddr.

use super::*;

#[test]
fn stale_ciaddr_in_discover_and_selecting_is_not_a_route() {
    let mut t = tc("");
    // NetworkManager after its lease ran out: ciaddr = option 50 = .114.
    let mut d = msg(
        v4::MessageType::Discover,
        mac(1),
        vec![v4::DhcpOption::RequestedIpAddress(c(114))],
    );
    d.set_ciaddr(c(114));
    let o = t.send_ctx(&d, &direct(true));
    assert_eq!(o.verdict, Verdict::Offer(c(114)));
    let r = o.reply.as_ref().unwrap();
    assert_eq!(
        r.route,
        ReplyRoute::HwUnicast {
            yiaddr: c(114),
            hw: hw(mac(1))
        }
    );
    assert_eq!(decode(&o).ciaddr(), Ipv4Addr::UNSPECIFIED, "Table 3: 0");
    // SELECTING with the same stale ciaddr
    let mut s = req(
        mac(1),
        vec![
            v4::DhcpOption::ServerIdentifier(SID),
            v4::DhcpOption::RequestedIpAddress(c(114)),
        ],
    );
    s.set_ciaddr(c(114));
    let o = t.send_ctx(&s, &direct(true));
    assert_eq!(o.verdict, Verdict::Ack(c(114)));
    assert_eq!(
        o.reply.as_ref().unwrap().route,
        ReplyRoute::HwUnicast {
            yiaddr: c(114),
            hw: hw(mac(1))
        }
    );
    // INIT-REBOOT carrying it too
    let mut ir = req(mac(1), vec![v4::DhcpOption::RequestedIpAddress(c(114))]);
    ir.set_ciaddr(c(114));
    let o = t.send_ctx(&ir, &direct(true));
    assert_eq!(o.verdict, Verdict::Ack(c(114)));
    assert!(matches!(
        o.reply.as_ref().unwrap().route,
        ReplyRoute::HwUnicast { .. }
    ));
    // ... and the broadcast flag still means broadcast
    s.set_flags(v4::Flags::default().set_broadcast());
    let o = t.send_ctx(&s, &direct(true));
    assert_eq!(o.reply.as_ref().unwrap().route, ReplyRoute::Broadcast);
    // a real RENEW goes to ciaddr and echoes it
    let mut rn = req(mac(1), vec![]);
    rn.set_ciaddr(c(114));
    let o = t.send_ctx(&rn, &direct(false));
    assert_eq!(o.verdict, Verdict::Ack(c(114)));
    assert_eq!(
        o.reply.as_ref().unwrap().route,
        ReplyRoute::Unicast { ciaddr: c(114) }
    );
    assert_eq!(decode(&o).ciaddr(), c(114));
}

#[test]
fn inform_without_ciaddr() {
    let mut t = tc("");
    // relayed: to the relay with the broadcast bit, so it can deliver it
    let mut i = msg(v4::MessageType::Inform, mac(1), vec![]);
    i.set_giaddr(c(1));
    let o = t.send_ctx(&i, &direct(false));
    assert_eq!(o.verdict, Verdict::Informed);
    assert_eq!(
        o.reply.as_ref().unwrap().route,
        ReplyRoute::Relay { giaddr: c(1) }
    );
    assert!(decode(&o).flags().broadcast());
    // directly attached: nowhere to answer; dropped
    let i = msg(v4::MessageType::Inform, mac(1), vec![]);
    let o = t.send_ctx(&i, &direct(true));
    assert!(o.reply.is_none());
    assert!(matches!(o.verdict, Verdict::Ignored(_)));
    // with ciaddr: to it, flag untouched
    let mut i = msg(v4::MessageType::Inform, mac(1), vec![]);
    i.set_ciaddr(c(20));
    let o = t.send_ctx(&i, &direct(false));
    assert_eq!(
        o.reply.as_ref().unwrap().route,
        ReplyRoute::Unicast { ciaddr: c(20) }
    );
    assert!(!decode(&o).flags().broadcast());
}

#[test]
fn an_offer_taken_up_through_ciaddr_is_answered_by_chaddr() {
    let mut t = tc("");
    let d = msg(v4::MessageType::Discover, mac(1), vec![]);
    let Verdict::Offer(a) = t.send_ctx(&d, &direct(true)).verdict else {
        panic!()
    };
    // option 54 and the offered address in ciaddr, no option 50
    let mut r = req(mac(1), vec![v4::DhcpOption::ServerIdentifier(SID)]);
    r.set_ciaddr(a);
    let o = t.send_ctx(&r, &direct(true));
    assert_eq!(o.verdict, Verdict::Ack(a));
    assert_eq!(
        o.reply.as_ref().unwrap().route,
        ReplyRoute::HwUnicast {
            yiaddr: a,
            hw: hw(mac(1))
        }
    );
}
