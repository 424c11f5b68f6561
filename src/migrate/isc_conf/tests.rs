//! A campus dhcpd.conf translated: what maps, what is reported, and that
//! tandem accepts the result.

use super::*;
use crate::config::Config;

const CONF: &str = r#"# campus dhcpd.conf
authoritative;
ddns-update-style none;
default-lease-time 3600;
max-lease-time 7200;
option domain-name "campus.example";
option domain-name-servers 10.0.0.53, 10.0.1.53;
log-facility local7;

failover peer "campus" {
  primary;
  address 10.0.0.1;
  port 647;
  peer address 10.0.0.2;
  peer port 647;
  max-response-delay 30;
  max-unacked-updates 10;
  load balance max seconds 3;
  mclt 1800;
  split 128;
}

class "phones" { match if substring(option vendor-class-identifier, 0, 4) = "Cisc"; }

subnet 10.20.0.0 netmask 255.255.0.0 {
  option routers 10.20.0.1;
  option ntp-servers 10.0.0.123;
  option interface-mtu 1500;
  option netbios-node-type 8;
  option subnet-mask 255.255.0.0;
  next-server 10.0.0.20;
  filename "pxelinux.0";
  pool {
    failover peer "campus";
    deny dynamic bootp clients;
    range 10.20.1.0 10.20.255.254;
  }
}

shared-network building-7 {
  subnet 10.40.0.0 netmask 255.255.252.0 {
    default-lease-time 14400;
    range 10.40.0.20 10.40.3.250;
    option routers 10.40.0.1;
    option domain-search "labs.campus.example", "campus.example";
  }
  subnet 10.41.0.0 netmask 255.255.255.0 { range 10.41.0.20 10.41.0.250; option routers 10.41.0.1; }
}

group {
  option domain-name "printers.campus.example";
  host printer-1 {
    hardware ethernet 52:54:0:12:34:56;
    fixed-address 10.20.0.10;
    option host-name "printer-1";
  }
}
host far-away { hardware ethernet 52:54:00:aa:bb:cc; fixed-address 192.0.2.9; }
class "uefi" {
  match if option pxe-system-type = 00:07;
  filename "ipxe.efi";
  next-server 10.0.0.20;
  option domain-name-servers 10.0.0.54;
}
class "ipxe" { match if exists user-class and option user-class = "iPXE"; filename "menu.ipxe"; }
class "odd" { match if binary-to-ascii(16, 8, ":", substring(hardware, 0, 2)) = "1:0"; }
subnet 10.60.0.0 netmask 255.255.255.0 {
  pool { allow members of "phones"; range 10.60.0.10 10.60.0.99; }
  pool { deny unknown-clients; range 10.60.0.100 10.60.0.199; }
}
"#;

fn translated() -> Translation {
    translate(CONF, "/etc/tandem").unwrap()
}

#[test]
fn tandem_accepts_the_translation_and_it_keeps_the_campus() {
    let t = translated();
    let c = Config::parse(&t.toml, "translated.toml").unwrap_or_else(|e| panic!("{e}\n{}", t.toml));
    assert_eq!((t.subnets, t.reservations), (4, 1));
    let f = c.failover.as_ref().unwrap();
    assert_eq!((f.mclt, f.split, f.max_response_delay), (1800, 128, 30));
    assert_eq!(f.peer.to_string(), "10.0.0.2:647");
    let s = &c.subnets[0];
    assert_eq!(s.cidr.to_string(), "10.20.0.0/16");
    assert_eq!(c.pools[0].range.first.to_string(), "10.20.1.0");
    assert_eq!(
        (s.lease.default, s.lease.max),
        (3600, 7200),
        "inherited from the global scope"
    );
    assert_eq!(s.reservations.len(), 1);
    assert_eq!(s.reservations[0].address.to_string(), "10.20.0.10");
    assert_eq!(
        s.reservations[0].mac,
        Some([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
        "leading zeros restored"
    );
    assert_eq!(s.reservations[0].hostname.as_deref(), Some("printer-1"));
    assert_eq!(
        c.subnets[1].lease.default, 14400,
        "the subnet's own time wins"
    );
    assert_eq!(c.subnets[1].lease.max, 14400, "max raised to the default");
    assert_eq!(c.shared_networks.len(), 1);
    assert_eq!(c.shared_networks[0].name, "building-7");
    assert_eq!(
        c.shared_networks[0].subnets,
        [c.subnets[1].id, c.subnets[2].id],
        "both subnets of the shared-network share its link"
    );
    assert_eq!(c.subnets[0].shared_network, None);
    assert_eq!(
        c.subnets[2].lease.default, 3600,
        "inherited from the global scope"
    );
    assert!(
        t.toml
            .contains("dns_servers = [\"10.0.0.53\", \"10.0.1.53\"]"),
        "{}",
        t.toml
    );
    assert!(
        t.toml
            .contains("domain_search = [\"labs.campus.example\", \"campus.example\"]")
    );
    assert!(
        t.toml.contains("code = 46\ntype = \"u8\"\nvalue = 8"),
        "{}",
        t.toml
    );
    assert!(t.toml.contains("boot_file = \"pxelinux.0\""));
}

#[test]
fn what_tandem_lacks_is_listed_with_its_line() {
    let t = translated();
    let at = |line: usize| {
        t.untranslated
            .iter()
            .find(|s| s.line == line)
            .unwrap_or_else(|| panic!("nothing reported at line {line}: {:#?}", t.untranslated))
    };
    assert!(at(8).why.contains("journald"), "log-facility");
    assert!(at(17).why.contains("update window"), "max-unacked-updates");
    assert!(
        t.untranslated.iter().all(|s| s.line != 23),
        "class phones is translated"
    );
    assert!(
        at(66).why.contains("does not translate"),
        "class odd's match"
    );
    assert!(at(30).why.contains("own mask"), "subnet-mask");
    assert!(at(35).what.starts_with("deny"));
    assert!(
        t.untranslated
            .iter()
            .any(|s| s.what == "max-lease-time" && s.why.contains("raised")),
        "{:#?}",
        t.untranslated
    );
    assert!(at(58).why.contains("no subnet"), "far-away: {:?}", at(58));
    assert!(t.untranslated.windows(2).all(|w| w[0].line <= w[1].line));
}

#[test]
fn a_broken_file_is_an_error_with_its_line() {
    let e = translate(
        "subnet 10.0.0.0 netmask 255.0.0.0 {\n  range 10.0.0.1 10.0.0.9;\n",
        "/etc/tandem",
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("line 1:"), "{e}");
}

#[test]
fn host_and_group_settings_are_reported_and_boot_fields_written_once() {
    let conf = r#"subnet 10.0.0.0 netmask 255.255.255.0 {
  range 10.0.0.10 10.0.0.20;
  filename "a.0";
  option bootfile-name "b.0";
  server-name "s1";
  option tftp-server-name "s2";
}
group {
  option routers 10.0.0.254;
  host pxe1 { hardware ethernet 52:54:00:00:00:01; fixed-address 10.0.0.5; filename "special.0"; }
}
host broken { hardware ethernet 52:54:zz; fixed-address 10.0.0.6; }
"#;
    let t = translate(conf, "/etc/tandem").unwrap();
    let c = Config::parse(&t.toml, "t").unwrap_or_else(|e| panic!("{e}\n{}", t.toml));
    assert_eq!(t.toml.matches("boot_file").count(), 1, "{}", t.toml);
    assert!(t.toml.contains("boot_file = \"b.0\"") && t.toml.contains("server_hostname = \"s2\""));
    assert_eq!(
        c.subnets[0].reservations.len(),
        1,
        "the broken host is not emitted"
    );
    assert_eq!(t.reservations, 1);
    let lines: Vec<usize> = t.untranslated.iter().map(|s| s.line).collect();
    assert!(
        lines.contains(&9),
        "the group's routers: {:#?}",
        t.untranslated
    );
    assert!(
        lines.contains(&10),
        "the host's own filename: {:#?}",
        t.untranslated
    );
    assert!(
        t.untranslated
            .iter()
            .any(|s| s.line == 12 && s.why.contains("not a MAC"))
    );
}

#[test]
fn classes_and_pool_rules_are_translated() {
    let t = translated();
    let c = Config::parse(&t.toml, "translated.toml").unwrap_or_else(|e| panic!("{e}\n{}", t.toml));
    let class = |n: &str| {
        c.classes
            .iter()
            .find(|c| c.name == n)
            .unwrap_or_else(|| panic!("no class {n}:\n{}", t.toml))
    };
    assert_eq!(class("phones").rule.vendor_class_prefix, [b"Cisc".to_vec()]);
    let uefi = class("uefi");
    assert_eq!(uefi.rule.arch, [7]);
    assert_eq!(uefi.boot_file.as_deref(), Some("ipxe.efi"));
    assert_eq!(
        uefi.next_server.map(|a| a.to_string()).as_deref(),
        Some("10.0.0.20")
    );
    assert_eq!(uefi.options[0].data, [10, 0, 0, 54]);
    assert_eq!(class("ipxe").rule.user_class, [b"iPXE".to_vec()]);
    assert_eq!(class("unknown-clients").rule.known, Some(false));
    assert!(c.classes.iter().all(|c| c.name != "odd"), "not guessed at");
    let pools: Vec<_> = c
        .pools
        .iter()
        .filter(|p| p.range.first.octets()[1] == 60)
        .collect();
    assert_eq!(pools.len(), 2);
    assert_eq!(pools[0].allow, [class("phones").id]);
    assert_eq!(pools[1].deny, [class("unknown-clients").id]);
}

#[test]
fn ping_check_is_on_as_in_dhcpd_unless_turned_off() {
    let t = translated();
    let c = Config::parse(&t.toml, "t").unwrap();
    let ping = c.server.ping.expect("dhcpd pings by default");
    assert_eq!((ping.timeout_ms, ping.after_free), (1000, 0));
    let off = translate(
        "ping-check false;\nsubnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.10 10.0.0.20; }\n",
        "/etc/tandem",
    )
    .unwrap();
    let c = Config::parse(&off.toml, "t").unwrap_or_else(|e| panic!("{e}\n{}", off.toml));
    assert_eq!(c.server.ping, None);
    let slow = translate(
        "ping-timeout 2;\nsubnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.10 10.0.0.20; }\n",
        "/etc/tandem",
    )
    .unwrap();
    let c = Config::parse(&slow.toml, "t").unwrap();
    assert_eq!(c.server.ping.map(|p| p.timeout_ms), Some(2000));
}

#[test]
fn a_pool_whose_class_was_not_translated_is_left_out_not_opened() {
    let conf = r#"class "odd" { match if exists vendor-class-identifier and option user-class = "x"; }
subnet 10.0.0.0 netmask 255.255.255.0 {
  range 10.0.0.10 10.0.0.20;
  pool { allow members of "odd"; range 10.0.0.100 10.0.0.199; }
}
"#;
    let t = translate(conf, "/etc/tandem").unwrap();
    let c = Config::parse(&t.toml, "t").unwrap_or_else(|e| panic!("{e}\n{}", t.toml));
    assert!(
        c.classes.is_empty(),
        "an exists of another option is a second condition"
    );
    assert_eq!(c.pools.len(), 1, "only the open range: {}", t.toml);
    assert!(
        t.untranslated
            .iter()
            .any(|s| s.line == 4 && s.why.contains("\"odd\"")),
        "{:#?}",
        t.untranslated
    );
}

mod ddns;
