//! Client classes with real clients (issue 17): busybox udhcpc as a UEFI
//! PXE ROM (option 60 "PXEClient:Arch:00007", option 93 type 7), as iPXE
//! (option 77 "iPXE", option 93 type 7) and as a phone (option 60), and ISC
//! dhclient sending a vendor class. Asserted: the boot server and file each
//! client was given (BOOTP siaddr and file, and option 67), the phones'
//! own pool and DNS server, and the others kept out of that pool. Needs
//! root (CI runs as root); elsewhere it says why and skips.

mod common;
#[path = "lab/dhclient.rs"]
mod dhclient;
#[path = "lab/netns.rs"]
mod netns;
#[path = "lab/setup.rs"]
mod setup;

use dhclient::Dhclient;
use netns::Lab;
use setup::{field, lines_starting, read, start_tandem, wait_for};
use std::path::Path;
use std::time::Duration;

const CONFIG: &str = r#"
[server]
name = "classes"
interfaces = ["tdm-srv"]
lease_db = "DIR/leases.sqlite"
control_socket = "DIR/control.sock"

[[class]]
name = "ipxe"
user_class = ["iPXE"]
boot_file = "http://192.168.77.20/menu.ipxe"

[[class]]
name = "uefi"
arch = [7, 9]
next_server = "192.168.77.20"
boot_file = "ipxe.efi"

[[class]]
name = "phones"
vendor_class_prefix = ["Cisco"]
dns_servers = ["192.168.77.99"]

[[subnet]]
cidr = "192.168.77.0/24"
lease_time = "1h"
routers = ["192.168.77.1"]
dns_servers = ["192.168.77.1"]
next_server = "192.168.77.1"
boot_file = "pxelinux.0"

[[subnet.pool]]
range = "192.168.77.100-192.168.77.149"
deny = ["phones"]

[[subnet.pool]]
range = "192.168.77.200-192.168.77.209"
allow = ["phones"]
"#;

/// Runs udhcpc once (`-q`: it exits when bound) in a new host `name` with
/// `args` added, and returns the line its script logged.
fn udhcpc(lab: &mut Lab, dir: &Path, name: &str, mac: &str, args: &[&str]) -> String {
    let ns = lab.host(name, "eth0", None, Some(mac));
    let events = dir.join(format!("{name}.events"));
    let script = dir.join(format!("{name}.sh"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$1 ip=$ip siaddr=$siaddr boot_file=$boot_file bootfile=$bootfile dns=$dns\" >> {}\nexit 0\n",
            events.display()
        ),
    )
    .unwrap();
    netns::run(&["chmod", "+x", script.to_str().unwrap()]);
    let mut cmd = vec![
        "busybox", "udhcpc", "-i", "eth0", "-q", "-n", "-t", "5", "-T", "1",
    ];
    cmd.extend([
        "-s",
        script.to_str().unwrap(),
        "-O",
        "bootfile",
        "-O",
        "dns",
    ]);
    cmd.extend(args);
    let out = lab.exec(&ns, &cmd);
    let bound = lines_starting(&events, "bound");
    assert!(
        !bound.is_empty(),
        "{name}: udhcpc did not bind: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    bound[0].clone()
}

fn in_range(ip: &str, first: u8, last: u8) -> bool {
    ip.strip_prefix("192.168.77.")
        .and_then(|h| h.parse::<u8>().ok())
        .is_some_and(|h| (first..=last).contains(&h))
}

#[test]
fn lab_classes_pxe_ipxe_and_phones() {
    let tools = ["ip", "busybox", "dhclient", "unshare", "nsenter"];
    if let Some(why) = netns::unavailable(&tools) {
        eprintln!("SKIPPED lab_classes_pxe_ipxe_and_phones: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = d.join("classes.toml");
    std::fs::write(&cfg, CONFIG.replace("DIR", d.to_str().unwrap())).unwrap();
    let mut lab = Lab::new("k");
    let srv = lab.host("s", "tdm-srv", Some("192.168.77.1/24"), None);
    let log = d.join("tandem.log");
    start_tandem(&mut lab, &srv, &cfg, &log);

    let uefi = udhcpc(
        &mut lab,
        d,
        "c1",
        "02:00:00:79:00:01",
        &["-V", "PXEClient:Arch:00007:UNDI:003016", "-x", "0x5d:0007"],
    );
    for (k, v) in [
        ("siaddr", "192.168.77.20"),
        ("boot_file", "ipxe.efi"),
        ("bootfile", "ipxe.efi"),
        ("dns", "192.168.77.1"),
    ] {
        assert_eq!(field(&uefi, k), v, "UEFI PXE's {k}: {uefi}\n{}", read(&log));
    }
    assert!(in_range(field(&uefi, "ip"), 100, 149), "{uefi}");

    // iPXE is UEFI too: its own class comes first, so it is not sent ipxe.efi again.
    let ipxe = udhcpc(
        &mut lab,
        d,
        "c2",
        "02:00:00:79:00:02",
        &["-x", "0x4d:69505845", "-x", "0x5d:0007"],
    );
    assert_eq!(
        field(&ipxe, "boot_file"),
        "http://192.168.77.20/menu.ipxe",
        "{ipxe}"
    );
    assert_eq!(field(&ipxe, "siaddr"), "192.168.77.20", "{ipxe}");

    let plain = udhcpc(&mut lab, d, "c3", "02:00:00:79:00:03", &[]);
    assert_eq!(
        field(&plain, "boot_file"),
        "pxelinux.0",
        "the subnet's: {plain}"
    );
    assert_eq!(field(&plain, "siaddr"), "192.168.77.1", "{plain}");

    let phone = udhcpc(
        &mut lab,
        d,
        "c4",
        "02:00:00:79:00:04",
        &["-V", "Cisco Systems, Inc. IP Phone CP-7960"],
    );
    assert!(
        in_range(field(&phone, "ip"), 200, 209),
        "the phones' pool: {phone}"
    );
    assert_eq!(field(&phone, "dns"), "192.168.77.99", "{phone}");

    // ISC dhclient with a vendor class is a phone too.
    let ns = lab.host("c5", "eth0", None, Some("02:00:00:79:00:05"));
    let dh = Dhclient::new(
        d,
        "send vendor-class-identifier \"Cisco IP Phone 8841\";\nrequest subnet-mask, routers, domain-name-servers, dhcp-lease-time;\n",
    );
    dh.run(&lab, &ns, &["-1"], &read(&log));
    let bound = dh.events("BOUND").pop().unwrap_or_default();
    assert!(in_range(field(&bound, "ip"), 200, 209), "dhclient: {bound}");
    assert_eq!(field(&bound, "dns"), "192.168.77.99", "{bound}");

    wait_for(
        "five leases in the database",
        Duration::from_secs(5),
        || {
            common::leases(&cfg)
                .iter()
                .filter(|l| l["state"] == "active")
                .count()
                == 5
        },
    );
}
