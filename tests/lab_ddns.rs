//! DDNS against a real BIND 9 (issue 17): clients that name themselves by
//! option 81 (busybox udhcpc -F) and by option 12 (-x hostname:) get A,
//! DHCID and PTR records, signed with TSIG, in a forward and a reverse
//! zone; the reply carries option 81; a RELEASE removes the records.
//! Needs root (CI runs as root); elsewhere it says why and skips.

#[path = "lab/bind.rs"]
mod bind;
mod common;
#[path = "lab/netns.rs"]
mod netns;
#[path = "lab/setup.rs"]
mod setup;

use netns::Lab;
use setup::{field, lines_starting, read, start_tandem, wait_for};
use std::time::Duration;

const CONFIG: &str = r#"
[server]
name = "ddns"
interfaces = ["tdm-srv"]
lease_db = "DIR/leases.sqlite"
control_socket = "DIR/control.sock"

[[subnet]]
cidr = "192.168.78.0/24"
pools = ["192.168.78.100-192.168.78.110"]
lease_time = "1h"
routers = ["192.168.78.1"]
"#;

/// Runs udhcpc in `ns` until bound, with `extra` arguments; what its script saw.
fn udhcpc(lab: &Lab, ns: &str, dir: &std::path::Path, tag: &str, extra: &[&str]) -> Vec<String> {
    let (s, events) = bind::client_script(dir, tag);
    let base = [
        "busybox", "udhcpc", "-i", "eth0", "-q", "-n", "-t", "5", "-T", "2",
    ];
    lab.exec(ns, &[&base[..], &["-s", &s], extra].concat());
    lines_starting(&events, "bound")
}

#[test]
fn lab_ddns_registers_and_removes_names_in_bind() {
    let tools: Vec<&str> = ["ip", "busybox", "unshare", "nsenter"]
        .into_iter()
        .chain(bind::TOOLS)
        .collect();
    if let Some(why) = netns::unavailable(&tools) {
        eprintln!("SKIPPED lab_ddns_registers_and_removes_names_in_bind: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut lab = Lab::new("n");
    let dns_ns = lab.host("d", "eth0", Some("192.168.78.53/24"), None);
    let zones = ["campus.test", "78.168.192.in-addr.arpa"];
    let bind = bind::start(&mut lab, &dns_ns, "192.168.78.53", d, zones);
    let cfg = d.join("ddns.toml");
    let text =
        CONFIG.replace("DIR", d.to_str().unwrap()) + &bind::ddns_config(&bind, zones[0], zones[1]);
    std::fs::write(&cfg, text).unwrap();
    let srv = lab.host("s", "tdm-srv", Some("192.168.78.1/24"), None);
    let log = d.join("tandem.log");
    start_tandem(&mut lab, &srv, &cfg, &log);

    // Option 81 (RFC 4702): the name as the client gives it, qualified.
    // This client stays (udhcpc as a daemon), to release later.
    let a = lab.host("a", "eth0", None, Some("02:00:00:7b:00:01"));
    let (s, events) = bind::client_script(d, "a");
    let args = [
        "busybox", "udhcpc", "-f", "-i", "eth0", "-F", "Laptop-1", "-s", &s,
    ];
    let pid = lab.spawn(&a, &args, &d.join("udhcpc-a.log"));
    wait_for("udhcpc -F to bind", Duration::from_secs(15), || {
        !lines_starting(&events, "bound").is_empty()
    });
    let bound = lines_starting(&events, "bound");
    let ip_a = field(&bound[0], "ip").to_string();
    bind.wait_record(&lab, "laptop-1.campus.test", "A", &ip_a, 10);
    let rev = |ip: &str| {
        let o: Vec<&str> = ip.split('.').rev().collect();
        format!("{}.in-addr.arpa", o.join("."))
    };
    bind.wait_record(&lab, &rev(&ip_a), "PTR", "laptop-1.campus.test.", 10);
    let dhcid = bind.dig(&lab, "laptop-1.campus.test", "DHCID");
    assert!(
        dhcid.starts_with("AAEB") || dhcid.starts_with("AAAB"),
        "a DHCID record: {dhcid:?}"
    );

    // Option 12 alone: the host name, qualified.
    let b = lab.host("b", "eth0", None, Some("02:00:00:7b:00:02"));
    let bound = udhcpc(&lab, &b, d, "b", &["-x", "hostname:printer_2"]);
    assert!(
        !bound.is_empty(),
        "udhcpc -x hostname did not bind\n{}",
        read(&log)
    );
    let ip_b = field(&bound[0], "ip").to_string();
    bind.wait_record(&lab, "printer-2.campus.test", "A", &ip_b, 10);
    bind.wait_record(&lab, &rev(&ip_b), "PTR", "printer-2.campus.test.", 10);

    // A RELEASE (udhcpc on SIGUSR2) takes the records away.
    netns::kill(pid, "USR2");
    bind.wait_record(&lab, "laptop-1.campus.test", "A", "", 10);
    bind.wait_record(&lab, &rev(&ip_a), "PTR", "", 10);
    assert_eq!(
        bind.dig(&lab, "laptop-1.campus.test", "DHCID"),
        "",
        "the DHCID goes too"
    );
    assert_eq!(
        bind.dig(&lab, "printer-2.campus.test", "A"),
        ip_b,
        "the other name stays"
    );

    let status = common::status(&cfg).expect("tandem status");
    assert!(status["ddns"]["updates"].as_u64() >= Some(3), "{status}");
    assert_eq!(status["ddns"]["failures"], 0, "{status}\n{}", read(&log));
}
