//! DDNS in a pair, with a takeover (issue 17): a client named by option 81
//! gets its records from the peer that granted its lease, and the DNS
//! status reaches the partner in the binding update. That peer is killed
//! with SIGKILL (and the client silenced); the operator declares it down
//! on the survivor, which removes the dead peer's records when the lease
//! runs out. A real BIND 9 in a lab namespace. Needs root (CI runs as
//! root); elsewhere it says why and skips.

#[path = "lab/bind.rs"]
mod bind;
#[path = "lab/capture.rs"]
mod capture;
mod common;
#[path = "lab/dhclient.rs"]
mod dhclient;
#[path = "lab/netns.rs"]
mod netns;
#[path = "lab/pair.rs"]
mod pair;
#[path = "lab/setup.rs"]
mod setup;

use common::BIN;
use pair::Pair;
use setup::{field, lines_starting, read, wait_for};
use std::time::Duration;

const TEST: &str = "lab_ddns_pair_survivor_removes_the_dead_peers_records";
const ZONES: [&str; 2] = ["campus.test", "77.168.192.in-addr.arpa"];

#[test]
fn lab_ddns_pair_survivor_removes_the_dead_peers_records() {
    let mut dns = None;
    let mut setup = |lab: &mut netns::Lab, dir: &std::path::Path| {
        let ns = lab.host("d", "eth0", Some("192.168.77.53/24"), None);
        let b = bind::start(lab, &ns, "192.168.77.53", dir, ZONES);
        let extra = bind::ddns_config(&b, ZONES[0], ZONES[1]);
        dns = Some(b);
        extra
    };
    let tools = ["busybox", "named", "tsig-keygen", "dig"];
    let Some(mut p) = Pair::build("y", TEST, [BIN.into(), BIN.into()], &tools, "", &mut setup)
    else {
        return;
    };
    let bind = dns.expect("named started");
    let d = p.dir.path().to_path_buf();
    let (s, events) = bind::client_script(&d, "cli");
    let args = [
        "busybox", "udhcpc", "-f", "-i", "eth0", "-F", "lab-pc", "-s", &s,
    ];
    let cli = p.cli.clone();
    let client = p.lab.spawn(&cli, &args, &d.join("udhcpc.log"));
    wait_for("udhcpc to bind", Duration::from_secs(20), || {
        !lines_starting(&events, "bound").is_empty()
    });
    let ip = field(&lines_starting(&events, "bound")[0], "ip").to_string();
    bind.wait_record(&p.lab, "lab-pc.campus.test", "A", &ip, 10);
    let rev: Vec<&str> = ip.split('.').rev().collect();
    let rev = format!("{}.in-addr.arpa", rev.join("."));
    bind.wait_record(&p.lab, &rev, "PTR", "lab-pc.campus.test.", 10);

    // The peer that made the update, and its partner, which learns the
    // records' status with the binding.
    let updated = |i: usize| read(&p.log[i]).contains(&format!("DNS updated addr={ip}"));
    let maker = (0..2)
        .find(|i| updated(*i))
        .expect("a peer made the update");
    let survivor = 1 - maker;
    wait_for(
        "the partner to learn the DNS status",
        Duration::from_secs(10),
        || {
            common::leases(&p.cfg[survivor])
                .iter()
                .any(|l| l["address"] == ip.as_str() && l["dns"]["status"] == "added")
        },
    );

    p.lab.signal(client, "KILL");
    p.lab.signal(p.pid[maker], "KILL");
    p.wait_state(survivor, "communications-interrupted", 20);
    let pd = std::process::Command::new(BIN)
        .args(["partner-down", "-c"])
        .arg(&p.cfg[survivor])
        .output()
        .unwrap();
    assert!(
        pd.status.success(),
        "{}",
        String::from_utf8_lossy(&pd.stderr)
    );
    p.wait_state(survivor, "partner-down", 10);

    // The lease runs out (MCLT, 20 s, caps a pair's first grant): the
    // survivor removes what its dead partner added.
    bind.wait_record(&p.lab, "lab-pc.campus.test", "A", "", 60);
    bind.wait_record(&p.lab, &rev, "PTR", "", 10);
    assert!(
        read(&p.log[survivor]).contains("status=Removed"),
        "the survivor did the removal\n{}",
        read(&p.log[survivor])
    );
}
