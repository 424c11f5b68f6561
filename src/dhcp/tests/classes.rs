//! Client classes: per-class options and boot files, and pools that allow
//! or deny classes.

use super::*;

const CLASSES: &str = r#"
[server]
interfaces = ["eth0"]
lease_db = "/tmp/unused"

[[class]]
name = "ipxe"
user_class = ["iPXE"]
boot_file = "http://boot.example/menu.ipxe"

[[class]]
name = "uefi"
arch = [7, 9]
next_server = "10.0.0.21"
boot_file = "ipxe.efi"

[[class]]
name = "phones"
vendor_class_prefix = ["Cisco"]
dns_servers = ["10.0.0.99"]

[[subnet]]
cidr = "10.0.0.0/24"
dns_servers = ["10.0.0.53"]
next_server = "10.0.0.20"
boot_file = "pxelinux.0"

[[subnet.pool]]
range = "10.0.0.100-10.0.0.110"
deny = ["phones"]

[[subnet.pool]]
range = "10.0.0.200-10.0.0.201"
allow = ["phones"]
"#;

fn campus() -> T {
    let config = Arc::new(Config::parse(CLASSES, "test").unwrap());
    let store = LeaseStore::new(&config, 256);
    T {
        engine: Engine::new(config, vec![SERVER]),
        store,
        now: Time(1_000_000),
    }
}

/// A DISCOVER from `mac` with raw options (code, data) and a parameter
/// request list asking for DNS servers and the boot file name.
fn discover(mac: [u8; 6], raw: &[(u8, &[u8])]) -> v4::Message {
    let mut m = msg(v4::MessageType::Discover, mac, vec![]);
    m.opts_mut()
        .insert(v4::DhcpOption::ParameterRequestList(vec![
            v4::OptionCode::DomainNameServer,
            v4::OptionCode::BootfileName,
        ]));
    for (c, d) in raw {
        m.opts_mut()
            .insert(v4::DhcpOption::Unknown(v4::UnknownOption::new(
                (*c).into(),
                d.to_vec(),
            )));
    }
    m
}

/// siaddr, the BOOTP file field and option 67 of an offer.
fn boot(o: &Outcome) -> (Ipv4Addr, String, Option<v4::DhcpOption>) {
    let m = decode(o);
    let file = m
        .fname_str()
        .and_then(Result::ok)
        .unwrap_or_default()
        .trim_end_matches('\0')
        .to_string();
    let opt67 = m.opts().get(v4::OptionCode::BootfileName).cloned();
    (m.siaddr(), file, opt67)
}

#[test]
fn the_boot_file_follows_the_client_architecture_and_ipxe() {
    let mut t = campus();
    let uefi = t.send(&discover(
        mac(1),
        &[(60, b"PXEClient:Arch:00007"), (93, &[0, 7])],
    ));
    let (siaddr, file, opt67) = boot(&uefi);
    assert_eq!((siaddr, file.as_str()), (ip("10.0.0.21"), "ipxe.efi"));
    assert_eq!(
        opt67,
        Some(v4::DhcpOption::BootfileName(b"ipxe.efi".to_vec()))
    );

    // iPXE (also UEFI x64) matches both classes: the first that sets a
    // field wins, so it is not sent ipxe.efi again.
    let ipxe = t.send(&discover(mac(2), &[(77, b"iPXE"), (93, &[0, 7])]));
    let (siaddr, file, _) = boot(&ipxe);
    assert_eq!(
        (siaddr, file.as_str()),
        (ip("10.0.0.21"), "http://boot.example/menu.ipxe")
    );

    let bios = t.send(&discover(
        mac(3),
        &[(60, b"PXEClient:Arch:00000"), (93, &[0, 0])],
    ));
    let (siaddr, file, _) = boot(&bios);
    assert_eq!(
        (siaddr, file.as_str()),
        (ip("10.0.0.20"), "pxelinux.0"),
        "the subnet's"
    );
}

#[test]
fn class_options_come_before_the_subnets() {
    let mut t = campus();
    let dns = |o: &Outcome| {
        decode(o)
            .opts()
            .get(v4::OptionCode::DomainNameServer)
            .cloned()
    };
    let phone = t.send(&discover(mac(1), &[(60, b"Cisco Systems, Inc. IP Phone")]));
    let pc = t.send(&discover(mac(2), &[]));
    assert_eq!(
        dns(&phone),
        Some(v4::DhcpOption::DomainNameServer(vec![ip("10.0.0.99")]))
    );
    assert_eq!(
        dns(&pc),
        Some(v4::DhcpOption::DomainNameServer(vec![ip("10.0.0.53")]))
    );
}

#[test]
fn pools_admit_only_the_classes_they_allow_and_not_those_they_deny() {
    let mut t = campus();
    let phone = |n: u8| discover(mac(n), &[(60, b"Cisco 7960")]);
    assert_eq!(t.send(&phone(1)).verdict, Verdict::Offer(ip("10.0.0.200")));
    assert_eq!(t.send(&phone(2)).verdict, Verdict::Offer(ip("10.0.0.201")));
    assert!(
        matches!(t.send(&phone(3)).verdict, Verdict::Ignored(_)),
        "the phones' pool is full and the other denies phones"
    );
    let mut pc = discover(mac(4), &[]);
    pc.opts_mut()
        .insert(v4::DhcpOption::RequestedIpAddress(ip("10.0.0.200")));
    assert_eq!(
        t.send(&pc).verdict,
        Verdict::Offer(ip("10.0.0.100")),
        "a requested address in a pool the client may not use is not given"
    );
    // SELECTING an address of the phones' pool that was never offered to it.
    let mut t = campus();
    let select = msg(
        v4::MessageType::Request,
        mac(5),
        vec![
            v4::DhcpOption::ServerIdentifier(SERVER),
            v4::DhcpOption::RequestedIpAddress(ip("10.0.0.200")),
        ],
    );
    assert!(!matches!(t.send(&select).verdict, Verdict::Ack(_)));
}

#[test]
fn a_renewal_cannot_claim_an_address_in_a_pool_its_class_may_not_use() {
    let mut t = campus();
    // A PC the server has no record of renews an address of the phones'
    // pool: it is not re-learnt (it would be, were it a phone).
    let pc = renew(mac(6), ip("10.0.0.201"));
    assert!(matches!(
        t.send_ctx(&pc, &unicast()).verdict,
        Verdict::Ignored(_)
    ));
    let mut phone = renew(mac(7), ip("10.0.0.201"));
    phone
        .opts_mut()
        .insert(v4::DhcpOption::ClassIdentifier(b"Cisco 7960".to_vec()));
    assert_eq!(
        t.send_ctx(&phone, &unicast()).verdict,
        Verdict::Ack(ip("10.0.0.201"))
    );
}
