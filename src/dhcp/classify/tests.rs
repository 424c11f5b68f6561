use super::*;
use crate::config::ClassRule;
use dhcproto::{Encodable, v4};
use std::net::Ipv4Addr;

/// A DISCOVER from `mac` carrying the raw options `opts` (code, data).
fn discover(mac: [u8; 6], opts: &[(u8, &[u8])]) -> Request {
    let mut m = v4::Message::new(
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &mac,
    );
    m.opts_mut()
        .insert(v4::DhcpOption::MessageType(v4::MessageType::Discover));
    for (c, d) in opts {
        m.opts_mut()
            .insert(v4::DhcpOption::Unknown(v4::UnknownOption::new(
                (*c).into(),
                d.to_vec(),
            )));
    }
    Request::parse(&m.to_vec().unwrap()).unwrap()
}

/// [`discover`] as a relay at 10.0.0.1 forwards it.
fn relayed(mac: [u8; 6], opts: &[(u8, &[u8])]) -> Request {
    let mut r = discover(mac, opts);
    r.giaddr = Ipv4Addr::new(10, 0, 0, 1);
    r
}

const MAC: [u8; 6] = [0x52, 0x54, 0, 1, 2, 3];

fn rule(f: impl FnOnce(&mut ClassRule)) -> ClassRule {
    let mut r = ClassRule::default();
    f(&mut r);
    r
}

#[test]
fn vendor_class_exact_and_prefix() {
    let pxe = discover(MAC, &[(60, b"PXEClient:Arch:00007:UNDI:003016")]);
    let exact = rule(|r| r.vendor_class = vec![b"PXEClient".to_vec()]);
    let prefix = rule(|r| r.vendor_class_prefix = vec![b"MSFT".to_vec(), b"PXEClient".to_vec()]);
    assert!(!matches(&exact, &pxe, false), "not exactly");
    assert!(matches(&prefix, &pxe, false), "one of the prefixes");
    assert!(
        !matches(&prefix, &discover(MAC, &[]), false),
        "no option 60"
    );
}

#[test]
fn user_class_whole_or_as_an_rfc_3004_instance() {
    let r = rule(|r| r.user_class = vec![b"iPXE".to_vec()]);
    assert!(matches(&r, &discover(MAC, &[(77, b"iPXE")]), false));
    assert!(matches(
        &r,
        &discover(MAC, &[(77, b"\x03abc\x04iPXE")]),
        false
    ));
    assert!(
        !matches(&r, &discover(MAC, &[(77, b"\x03abc\x09iPXE")]), false),
        "a length past the end"
    );
    assert!(!matches(&r, &discover(MAC, &[(77, b"iPXE2")]), false));
}

#[test]
fn architecture_from_option_93() {
    let uefi = rule(|r| r.arch = vec![7, 9]);
    assert!(matches(&uefi, &discover(MAC, &[(93, &[0, 7])]), false));
    assert!(
        matches(&uefi, &discover(MAC, &[(93, &[0, 0, 0, 9])]), false),
        "any listed type"
    );
    assert!(
        !matches(&uefi, &discover(MAC, &[(93, &[0, 0])]), false),
        "BIOS"
    );
    assert!(
        !matches(&uefi, &discover(MAC, &[(93, &[7])]), false),
        "a lone odd octet"
    );
    assert!(!matches(&uefi, &discover(MAC, &[]), false));
}

#[test]
fn mac_prefix_relay_ids_and_known() {
    let oui = rule(|r| r.mac_prefix = vec![vec![0x52, 0x54, 0]]);
    assert!(matches(&oui, &discover(MAC, &[]), false));
    assert!(!matches(&oui, &discover([2, 0, 0, 0, 0, 1], &[]), false));

    // Option 82: circuit id "down0", remote id 0x0102.
    let ri: &[u8] = b"\x01\x05down0\x02\x02\x01\x02";
    let circuit = rule(|r| r.circuit_id = vec![b"down0".to_vec()]);
    let remote = rule(|r| r.remote_id = vec![vec![1, 2]]);
    let req = relayed(MAC, &[(82, ri)]);
    assert!(matches(&circuit, &req, false) && matches(&remote, &req, false));
    let other = relayed(MAC, &[(82, b"\x01\x05down1")]);
    assert!(!matches(&circuit, &other, false));
    let truncated = relayed(MAC, &[(82, b"\x01\x09down0")]);
    assert!(!matches(&circuit, &truncated, false), "truncated");
    assert!(
        !matches(&circuit, &discover(MAC, &[(82, ri)]), false),
        "a client's own option 82, without a relay, is not trusted"
    );

    let known = rule(|r| r.known = Some(true));
    let unknown = rule(|r| r.known = Some(false));
    assert!(matches(&known, &req, true) && !matches(&known, &req, false));
    assert!(matches(&unknown, &req, false) && !matches(&unknown, &req, true));
}

#[test]
fn every_criterion_given_must_hold() {
    let r = rule(|r| {
        r.vendor_class_prefix = vec![b"PXEClient".to_vec()];
        r.arch = vec![7];
    });
    assert!(matches(
        &r,
        &discover(MAC, &[(60, b"PXEClient"), (93, &[0, 7])]),
        false
    ));
    assert!(!matches(
        &r,
        &discover(MAC, &[(60, b"PXEClient"), (93, &[0, 0])]),
        false
    ));
    assert!(!matches(&r, &discover(MAC, &[(93, &[0, 7])]), false));
}
