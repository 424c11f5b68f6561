//! The ping check on a real link (issue 17): a host squats on the first
//! pool address without a lease; with `ping_check` on, a real client
//! (busybox udhcpc) is offered the next address, the squatter's address is
//! quarantined in the database, and `tandem status` counts one answered and
//! one silent ping. Needs root (CI runs as root); elsewhere it says why and skips.

mod common;
#[path = "lab/netns.rs"]
mod netns;
#[path = "lab/setup.rs"]
mod setup;

use netns::Lab;
use setup::{field, lines_starting, read, start_tandem};

const CONFIG: &str = r#"
[server]
name = "ping"
interfaces = ["tdm-srv"]
lease_db = "DIR/leases.sqlite"
control_socket = "DIR/control.sock"
ping_check = true
ping_timeout = "300ms"

[[subnet]]
cidr = "192.168.77.0/24"
pools = ["192.168.77.100-192.168.77.110"]
lease_time = "1h"
routers = ["192.168.77.1"]
"#;

#[test]
fn lab_ping_check_skips_an_address_in_use() {
    let tools = ["ip", "busybox", "unshare", "nsenter"];
    if let Some(why) = netns::unavailable(&tools) {
        eprintln!("SKIPPED lab_ping_check_skips_an_address_in_use: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = d.join("ping.toml");
    let text = CONFIG.replace("DIR", d.to_str().unwrap());
    std::fs::write(&cfg, text).unwrap();
    let mut lab = Lab::new("p");
    let srv = lab.host("s", "tdm-srv", Some("192.168.77.1/24"), None);
    let log = d.join("tandem.log");
    start_tandem(&mut lab, &srv, &cfg, &log);
    // The squatter: a host configured by hand with the first pool address.
    lab.host("q", "eth0", Some("192.168.77.100/24"), None);

    let cli = lab.host("c", "eth0", None, Some("02:00:00:7a:00:01"));
    let events = d.join("udhcpc.events");
    let script = d.join("udhcpc.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$1 ip=$ip\" >> {}\nexit 0\n",
            events.display()
        ),
    )
    .unwrap();
    netns::run(&["chmod", "+x", script.to_str().unwrap()]);
    let args = [
        "busybox", "udhcpc", "-i", "eth0", "-q", "-n", "-t", "5", "-T", "2",
    ];
    let out = lab.exec(
        &cli,
        &[&args[..], &["-s", script.to_str().unwrap()]].concat(),
    );
    let bound = lines_starting(&events, "bound");
    assert!(
        !bound.is_empty(),
        "udhcpc did not bind: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        read(&log)
    );
    assert_eq!(
        field(&bound[0], "ip"),
        "192.168.77.101",
        "the squatter's address is skipped"
    );

    let leases = common::leases(&cfg);
    let state = |a: &str| {
        leases
            .iter()
            .find(|l| l["address"] == a)
            .map(|l| l["state"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(
        state("192.168.77.100").as_deref(),
        Some("declined"),
        "{leases:?}"
    );
    assert_eq!(
        state("192.168.77.101").as_deref(),
        Some("active"),
        "{leases:?}"
    );
    let status = common::status(&cfg).expect("tandem status");
    assert_eq!(status["stats"]["pings_answered"], 1, "{status}");
    assert_eq!(status["stats"]["pings_silent"], 1, "{status}");
}
