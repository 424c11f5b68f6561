//! DDNS at the grant: the name a client gets, the reply's option 81
//! (RFC 4702 section 4), and when a registration is kept or made again.

use super::*;
use crate::lease::DnsStatus;

const DDNS: &str = r#"
[ddns]
qualifying_suffix = "campus.test"
[[ddns.zone]]
name = "campus.test"
servers = ["10.0.0.53"]
"#;

fn ddns() -> T {
    let config = Arc::new(Config::parse(&format!("{CONFIG}{DDNS}"), "test").unwrap());
    let store = LeaseStore::new(&config, 256);
    T {
        engine: Engine::new(config, vec![SERVER]),
        store,
        now: Time(1_000_000),
    }
}

/// Option 81 data: flags, RCODE1, RCODE2, then `name` in wire format.
fn fqdn_option(flags: u8, name: &[&str]) -> v4::DhcpOption {
    let mut d = vec![flags, 0, 0];
    for l in name {
        d.push(l.len() as u8);
        d.extend_from_slice(l.as_bytes());
    }
    v4::DhcpOption::Unknown(v4::UnknownOption::new(81.into(), d))
}

/// The DORA of `mac` with `opt` in both messages; the ACK's outcome.
fn dora_with(t: &mut T, mac: [u8; 6], opt: v4::DhcpOption) -> Outcome {
    let o = t.send(&msg(v4::MessageType::Discover, mac, vec![opt.clone()]));
    let Verdict::Offer(a) = o.verdict else {
        panic!("{:?}", o.verdict)
    };
    let opts = vec![
        v4::DhcpOption::ServerIdentifier(SERVER),
        v4::DhcpOption::RequestedIpAddress(a),
        opt,
    ];
    t.send(&msg(v4::MessageType::Request, mac, opts))
}

fn option_81(o: &Outcome) -> Option<Vec<u8>> {
    let b = &o.reply.as_ref().unwrap().bytes;
    let mut i = 240;
    while b[i] != 255 {
        if b[i] == 81 {
            return Some(b[i + 2..i + 2 + b[i + 1] as usize].to_vec());
        }
        i += 2 + b[i + 1] as usize;
    }
    None
}

#[test]
fn option_81_is_answered_with_the_name_and_flags_used() {
    let mut t = ddns();
    let o = dora_with(&mut t, mac(1), fqdn_option(0x05, &["Lab PC"]));
    assert_eq!(
        option_81(&o).unwrap(),
        b"\x05\xff\xff\x06lab-pc\x06campus\x04test\x00".to_vec(),
        "S and E as asked, RCODEs 255, the qualified name in wire format"
    );
    let d = o.changes[0].dns.as_ref().unwrap();
    assert_eq!(
        (d.fqdn.as_str(), d.forward, d.reverse),
        ("lab-pc.campus.test", true, true)
    );
    assert_eq!(d.status, DnsStatus::Pending);

    let o = dora_with(&mut t, mac(2), fqdn_option(0x0c, &["quiet"]));
    assert_eq!(
        option_81(&o).unwrap()[0],
        0x0c,
        "N kept: no update by the server"
    );
    assert!(o.changes[0].dns.is_none(), "nothing to register");
}

#[test]
fn a_renewal_keeps_its_registration_and_a_new_name_registers_again() {
    let mut t = ddns();
    let host = |h: &str| v4::DhcpOption::Hostname(h.into());
    let o = dora_with(&mut t, mac(1), host("pc1"));
    assert!(
        option_81(&o).is_none(),
        "no option 81 for a client that sent none"
    );
    let a = o.changes[0].addr;
    let first = o.changes[0].dns.clone().unwrap();
    assert_eq!(first.fqdn, "pc1.campus.test");
    t.now = t.now.plus(60);
    let mut r = renew(mac(1), a);
    r.opts_mut().insert(host("pc1"));
    let o = t.send_ctx(&r, &unicast());
    assert_eq!(
        o.changes[0].dns.as_ref().unwrap().tag,
        first.tag,
        "kept on renewal"
    );
    let mut r = renew(mac(1), a);
    r.opts_mut().insert(host("pc2"));
    let o = t.send_ctx(&r, &unicast());
    let d = o.changes[0].dns.as_ref().unwrap();
    assert_eq!(d.fqdn, "pc2.campus.test");
    assert!(d.tag > first.tag);
    let stale = d.stale.first().expect("the old name goes first");
    assert_eq!(stale.fqdn, "pc1.campus.test");
    assert_eq!(stale.tag, first.tag, "named by the registration it was");
    // Renamed again before any job ran: both earlier names are due.
    let mut r = renew(mac(1), a);
    r.opts_mut().insert(host("pc3"));
    let o = t.send_ctx(&r, &unicast());
    let d = o.changes[0].dns.as_ref().unwrap();
    let due: Vec<_> = d.pending_stale().map(|s| s.fqdn.as_str()).collect();
    assert_eq!(due, ["pc1.campus.test", "pc2.campus.test"]);
}

/// Sets the status of the DNS records of `a`'s binding, as a finished job
/// would (an add also removed the stale name).
fn set_status(t: &mut T, a: Ipv4Addr, status: DnsStatus) {
    let mut l = t.store.get(a).unwrap().clone();
    let d = l.dns.as_mut().unwrap();
    d.status = status;
    if status == DnsStatus::Added {
        d.stale.iter_mut().for_each(|s| s.done = true);
    }
    t.store.put(l);
}

/// A client without a name on an address whose previous client's records
/// may still be in DNS (their removal at the release failed so far): its
/// binding has no name of its own, only the removal of the old records,
/// A, DHCID and PTR, with the old client's DHCID.
#[test]
fn a_nameless_client_on_a_named_address_removes_the_previous_records() {
    let mut t = ddns();
    let o = dora_with(&mut t, mac(1), v4::DhcpOption::Hostname("pc1".into()));
    let (a, first) = (o.changes[0].addr, o.changes[0].clone());
    set_status(&mut t, a, DnsStatus::Added);
    let mut rel = msg(
        v4::MessageType::Release,
        mac(1),
        vec![v4::DhcpOption::ServerIdentifier(SERVER)],
    );
    rel.set_ciaddr(a);
    assert_eq!(t.send(&rel).verdict, Verdict::Released(a));
    let o = dora_with(&mut t, mac(2), v4::DhcpOption::RequestedIpAddress(a));
    assert_eq!(o.verdict, Verdict::Ack(a));
    let d = o.changes[0]
        .dns
        .as_ref()
        .expect("the old records to remove");
    assert!(!d.forward && !d.reverse, "no name of its own");
    assert_eq!(d.status, DnsStatus::Pending);
    let stale = d.stale.first().unwrap();
    assert_eq!(stale.fqdn, "pc1.campus.test");
    assert!(stale.forward && stale.reverse);
    assert_eq!(
        stale.dhcid,
        crate::ddns::dhcid::for_lease(&first, "pc1.campus.test"),
        "the previous client's DHCID"
    );
    // once removed, the next nameless client has nothing to carry
    set_status(&mut t, a, DnsStatus::Added);
    let mut rel = rel.clone();
    rel.set_chaddr(&mac(2));
    assert_eq!(t.send(&rel).verdict, Verdict::Released(a));
    let o = dora_with(&mut t, mac(3), v4::DhcpOption::RequestedIpAddress(a));
    assert!(o.changes[0].dns.is_none(), "{:?}", o.changes[0].dns);
}

/// A client that takes its A record over (option 81 flag S clear after
/// set) keeps its name: nothing of ours is removed, since its own update
/// carries the same DHCID and a removal of "ours" could remove its record.
#[test]
fn a_client_taking_its_a_record_over_is_handed_it() {
    let mut t = ddns();
    let o = dora_with(&mut t, mac(1), fqdn_option(0x01, &["pc1"]));
    let a = o.changes[0].addr;
    assert!(o.changes[0].dns.as_ref().unwrap().forward);
    set_status(&mut t, a, DnsStatus::Added);
    t.now = t.now.plus(60);
    let mut r = renew(mac(1), a);
    r.opts_mut().insert(fqdn_option(0x00, &["pc1"]));
    let o = t.send_ctx(&r, &unicast());
    let d = o.changes[0].dns.as_ref().unwrap();
    assert!(!d.forward && d.reverse);
    assert_eq!(d.stale, vec![]);
    // a new name, though, takes the old one's records away
    let mut r = renew(mac(1), a);
    r.opts_mut().insert(fqdn_option(0x00, &["pc2"]));
    let o = t.send_ctx(&r, &unicast());
    let d = o.changes[0].dns.as_ref().unwrap();
    assert_eq!(
        d.stale.first().map(|s| s.fqdn.as_str()),
        Some("pc1.campus.test")
    );
}

/// A declined binding's records whose removal has not run (DNS down) stay
/// with the address when its probation ends and the record forgets the
/// client: as a stale name with that client's DHCID, which the freed
/// record could no longer give.
#[test]
fn a_declined_address_freed_keeps_its_removal_with_the_client_s_dhcid() {
    let mut t = ddns();
    let o = dora_with(&mut t, mac(1), v4::DhcpOption::Hostname("pc1".into()));
    let (a, first) = (o.changes[0].addr, o.changes[0].clone());
    set_status(&mut t, a, DnsStatus::Added);
    let decline = msg(
        v4::MessageType::Decline,
        mac(1),
        vec![
            v4::DhcpOption::ServerIdentifier(SERVER),
            v4::DhcpOption::RequestedIpAddress(a),
        ],
    );
    assert_eq!(t.send(&decline).verdict, Verdict::Declined(a));
    let d = t.store.get(a).unwrap().dns.clone().unwrap();
    assert_eq!(d.status, DnsStatus::Removed, "nothing of its own");
    let want = crate::ddns::dhcid::for_lease(&first, "pc1.campus.test");
    let due: Vec<_> = d.pending_stale().map(|s| s.dhcid.clone()).collect();
    assert_eq!(due, std::slice::from_ref(&want));
    t.now = t.now.plus(86_400 * 2);
    let freed = t.engine.tick(t.now, &mut t.store);
    let l = freed.iter().find(|l| l.addr == a).unwrap();
    assert_eq!(l.state, LeaseState::Free);
    let d = l.dns.as_ref().expect("the removal still due");
    assert_eq!(d.pending_stale().next().unwrap().dhcid, want);
}
