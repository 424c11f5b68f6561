//! Shared networks on a real link (issue 17): two subnets on the server's
//! own segment, and two behind an ISC dhcrelay whose giaddr lies in the
//! first. The first subnet of each has no room (one pool address, or none),
//! so real dhclients get addresses from the second, with its router and
//! mask, and keep them when they renew at T1. What is asserted is what each
//! client configured and what tandem's database holds. Needs root (CI runs
//! as root); elsewhere it says why and skips.

mod common;
#[path = "lab/dhclient.rs"]
mod dhclient;
#[path = "lab/netns.rs"]
mod netns;
#[path = "lab/setup.rs"]
mod setup;

use dhclient::Dhclient;
use netns::Lab;
use setup::{field, read, start_tandem, wait_for};
use std::path::Path;
use std::time::Duration;

const CONFIG: &str = r#"
[server]
name = "shared"
interfaces = ["tdm-srv"]
lease_db = "DIR/leases.sqlite"
control_socket = "DIR/control.sock"

[[shared_network]]
name = "hall"
dns_servers = ["192.168.77.1"]
lease_time = "20s"
authoritative = true

[[subnet]]
cidr = "192.168.77.0/24"
shared_network = "hall"
pools = ["192.168.77.100-192.168.77.100"]
routers = ["192.168.77.1"]

[[subnet]]
cidr = "192.168.78.0/24"
shared_network = "hall"
pools = ["192.168.78.100-192.168.78.120"]
routers = ["192.168.78.1"]

[[shared_network]]
name = "annex"
dns_servers = ["192.168.77.1"]
lease_time = "20s"

# The relay's giaddr lies here; reservations only, no pool.
[[subnet]]
cidr = "192.168.90.0/24"
shared_network = "annex"
routers = ["192.168.90.1"]

[[subnet]]
cidr = "192.168.91.0/25"
shared_network = "annex"
pools = ["192.168.91.100-192.168.91.120"]
routers = ["192.168.91.1"]
"#;

const DHCLIENT: &str = "initial-interval 1;\nbackoff-cutoff 2;\nrequest subnet-mask, routers, domain-name-servers, domain-name, dhcp-lease-time;\n";

/// A relay host on the bridge (192.168.77.2) with both annex subnets on its
/// downstream link, forwarding IP and running dhcrelay. Returns the
/// client's namespace behind it.
fn annex(lab: &mut Lab, srv: &str, dir: &Path) -> String {
    let relay = lab.host("r", "up0", Some("192.168.77.2/24"), None);
    let cli = lab.namespace("c3");
    lab.veth(&relay, "down0", &cli, "eth0");
    for cmd in [
        vec![
            "ip",
            "-n",
            &relay,
            "addr",
            "add",
            "192.168.90.1/24",
            "dev",
            "down0",
        ],
        vec![
            "ip",
            "-n",
            &relay,
            "addr",
            "add",
            "192.168.91.1/25",
            "dev",
            "down0",
        ],
        vec![
            "ip",
            "-n",
            srv,
            "route",
            "add",
            "192.168.90.0/23",
            "via",
            "192.168.77.2",
        ],
        vec![
            "ip",
            "netns",
            "exec",
            &relay,
            "sysctl",
            "-qw",
            "net.ipv4.ip_forward=1",
        ],
    ] {
        netns::run(&cmd);
    }
    let log = dir.join("dhcrelay.log");
    lab.spawn(
        &relay,
        &[
            "dhcrelay",
            "-4",
            "-d",
            "-id",
            "down0",
            "-iu",
            "up0",
            "192.168.77.1",
        ],
        &log,
    );
    wait_for("dhcrelay to listen", Duration::from_secs(10), || {
        read(&log).contains("Sending on   Socket/fallback")
    });
    cli
}

/// dhclient in `ns`, its files in `dir/name`.
fn client(lab: &mut Lab, ns: &str, dir: &Path, name: &str) -> Dhclient {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    let dh = Dhclient::new(&d, DHCLIENT);
    dh.spawn(lab, ns);
    dh
}

fn bound(dh: &Dhclient, who: &str) -> String {
    wait_for(&format!("{who} to bind"), Duration::from_secs(20), || {
        !dh.events("BOUND").is_empty()
    });
    dh.events("BOUND").pop().unwrap()
}

fn check(line: &str, ip: &str, router: &str, mask: &str) {
    for (k, v) in [
        ("ip", ip),
        ("router", router),
        ("mask", mask),
        ("dns", "192.168.77.1"),
        ("lease", "20"),
    ] {
        assert_eq!(field(line, k), v, "dhclient's {k}: {line}");
    }
}

#[test]
fn lab_shared_networks_direct_and_relayed() {
    let tools = ["ip", "dhclient", "dhcrelay", "unshare", "nsenter"];
    if let Some(why) = netns::unavailable(&tools) {
        eprintln!("SKIPPED lab_shared_networks_direct_and_relayed: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("shared.toml");
    let text = CONFIG.replace("DIR", dir.path().to_str().unwrap());
    std::fs::write(&cfg, text).unwrap();
    let mut lab = Lab::new("h");
    let srv = lab.host("s", "tdm-srv", Some("192.168.77.1/24"), None);
    netns::run(&[
        "ip",
        "-n",
        &srv,
        "addr",
        "add",
        "192.168.78.1/24",
        "dev",
        "tdm-srv",
    ]);
    let log = dir.path().join("tandem.log");
    start_tandem(&mut lab, &srv, &cfg, &log);
    let c1 = lab.host("c1", "eth0", None, Some("02:00:00:78:00:01"));
    let c2 = lab.host("c2", "eth0", None, Some("02:00:00:78:00:02"));
    let c3 = annex(&mut lab, &srv, dir.path());

    // The hall's first subnet has one address: the first client takes it,
    // the second is given one of the second subnet, with its router.
    let d1 = client(&mut lab, &c1, dir.path(), "c1");
    check(
        &bound(&d1, "c1"),
        "192.168.77.100",
        "192.168.77.1",
        "255.255.255.0",
    );
    let d2 = client(&mut lab, &c2, dir.path(), "c2");
    check(
        &bound(&d2, "c2"),
        "192.168.78.100",
        "192.168.78.1",
        "255.255.255.0",
    );
    // Behind the relay (giaddr 192.168.90.1, a subnet without a pool).
    let d3 = client(&mut lab, &c3, dir.path(), "c3");
    check(
        &bound(&d3, "c3"),
        "192.168.91.100",
        "192.168.91.1",
        "255.255.255.128",
    );

    // Each renews at T1 (unicast from its address) and keeps it.
    for (dh, who, ip) in [
        (&d1, "c1", "192.168.77.100"),
        (&d2, "c2", "192.168.78.100"),
        (&d3, "c3", "192.168.91.100"),
    ] {
        wait_for(&format!("{who} to renew"), Duration::from_secs(25), || {
            !dh.events("RENEW").is_empty()
        });
        assert_eq!(
            field(&dh.events("RENEW")[0], "ip"),
            ip,
            "{who}\n{}",
            read(&log)
        );
        dh.check_kept(ip);
    }
    let leases = common::leases(&cfg);
    for ip in ["192.168.77.100", "192.168.78.100", "192.168.91.100"] {
        let l = leases.iter().find(|l| l["address"] == ip);
        assert_eq!(
            l.map(|l| l["state"].clone()),
            Some("active".into()),
            "{ip} in the database: {leases:?}"
        );
    }
    assert_eq!(leases.len(), 3, "one lease per client: {leases:?}");
}
