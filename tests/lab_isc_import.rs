//! `tandem import-isc` on a lease file written by a real ISC dhcpd 4.4
//! failover pair (issue 16): two dhcpd peers on a bridge, perfdhcp relaying
//! a bounded load of distinct clients to both, then the primary's
//! dhcpd.leases imported into a new tandem database. Checked against the
//! file itself, read independently of tandem's parser: every address's last
//! block imported with its state, MAC and end time. The primary's
//! dhcpd.conf, translated, is a configuration tandem accepts with the same
//! pool and failover peer. Needs root, dhcpd and perfdhcp (CI has them);
//! elsewhere it says why and skips.

mod common;
#[path = "lab/isc.rs"]
mod isc;
#[path = "lab/netns.rs"]
mod netns;
#[path = "lab/setup.rs"]
mod setup;

use common::BIN;
use isc::{isc_state, last_blocks};
use netns::Lab;
use setup::{read, wait_for};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

const SERVER: [&str; 2] = ["192.168.77.1", "192.168.77.2"];

/// dhcpd.conf of peer `i`: failover "lab", the relayed network's pool.
fn dhcpd_conf(dir: &Path, i: usize) -> std::path::PathBuf {
    let (role, mclt) = if i == 0 {
        ("primary", "mclt 60;\n  split 128;\n")
    } else {
        ("secondary", "")
    };
    let text = format!(
        "authoritative;\nddns-update-style none;\nping-check false;\ndefault-lease-time 600;\nmax-lease-time 600;\n\
         failover peer \"lab\" {{\n  {role};\n  address {me};\n  port 647;\n  peer address {peer};\n  peer port 647;\n  \
         max-response-delay 4;\n  max-unacked-updates 10;\n  load balance max seconds 3;\n  {mclt}}}\n\
         subnet 192.168.77.0 netmask 255.255.255.0 {{ }}\n\
         subnet 10.128.0.0 netmask 255.240.0.0 {{\n  option routers 10.128.0.1;\n  pool {{\n    failover peer \"lab\";\n    \
         range 10.128.1.0 10.128.1.255;\n  }}\n}}\n",
        me = SERVER[i],
        peer = SERVER[1 - i],
    );
    let p = dir.join(format!("dhcpd{i}.conf"));
    std::fs::write(&p, text).unwrap();
    p
}

/// The tandem side: the same pool, as the primary of a pair.
fn tandem_conf(dir: &Path) -> std::path::PathBuf {
    let text = format!(
        "[server]\ninterfaces = [\"lo\"]\nlease_db = \"{d}/tandem.sqlite\"\ncontrol_socket = \"{d}/t.sock\"\n\n\
         [failover]\nrole = \"primary\"\nlisten = \"127.0.0.1:16470\"\npeer = \"127.0.0.1:16471\"\n\
         secret_file = \"{d}/k\"\nmclt = \"60s\"\nsplit = 128\n\n\
         [[subnet]]\ncidr = \"10.128.0.0/12\"\npools = [\"10.128.1.0-10.128.1.255\"]\n",
        d = dir.display()
    );
    let p = dir.join("tandem.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// `W YYYY/MM/DD HH:MM:SS` as tandem's RFC 3339 (`YYYY-MM-DDTHH:MM:SSZ`).
fn rfc3339(ends: &str) -> String {
    let parts: Vec<&str> = ends.split_whitespace().collect();
    format!("{}T{}Z", parts[1].replace('/', "-"), parts[2])
}

#[test]
fn a_real_isc_pairs_lease_file_is_imported_whole() {
    let test = "a_real_isc_pairs_lease_file_is_imported_whole";
    if let Some(why) = netns::unavailable(&["ip", "dhcpd", "perfdhcp"]) {
        eprintln!("SKIPPED {test}: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut lab = Lab::new("isci");
    let ns = [
        lab.host("a", "eth0", Some("192.168.77.1/24"), None),
        lab.host("b", "eth0", Some("192.168.77.2/24"), None),
    ];
    let perf = lab.host("p", "eth0", Some("10.128.0.1/12"), None);
    for n in &ns {
        netns::route(n, &["10.128.0.0/12", "dev", "eth0"]);
    }
    netns::route(&perf, &["192.168.77.0/24", "dev", "eth0"]);
    let mut logs = Vec::new();
    for (i, n) in ns.iter().enumerate() {
        let conf = dhcpd_conf(dir.path(), i);
        let (_, _, log) = isc::dhcpd(&mut lab, n, dir.path(), &format!("dhcpd{i}"), &conf);
        logs.push(log);
    }
    for log in &logs {
        wait_for("the ISC pair in normal", Duration::from_secs(90), || {
            isc_state(log).as_deref() == Some("normal")
        });
    }
    // 150 distinct clients, DORA each, at 30 a second
    let perf_log = dir.path().join("perfdhcp.log");
    let args = [
        "perfdhcp",
        "-4",
        "-r",
        "30",
        "-R",
        "150",
        "-n",
        "150",
        "-p",
        "12",
        "-l",
        "10.128.0.1",
        "all",
    ];
    lab.spawn(&perf, &args, &perf_log);
    wait_for("perfdhcp's report", Duration::from_secs(40), || {
        read(&perf_log).contains("Rate:")
    });
    std::thread::sleep(Duration::from_secs(2)); // the last binding updates
    let primary = dir.path().join("dhcpd0.leases");
    let text = read(&primary);
    let truth = last_blocks(&text);
    let active = truth.values().filter(|v| v.0 == "active").count();
    assert!(
        active >= 100,
        "the ISC pair leased {active} of 150 clients:\n{}",
        read(&perf_log)
    );

    check_translation(dir.path());
    let cfg = tandem_conf(dir.path());
    let out = std::process::Command::new(BIN)
        .args(["import-isc", "--leases"])
        .arg(&primary)
        .arg("-c")
        .arg(&cfg)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains(&format!("active     {active}")), "{stdout}");
    let imported = common::leases(&cfg);
    assert_eq!(
        imported.len(),
        truth.len(),
        "one record per address in the file"
    );
    let by_addr: HashMap<&str, &serde_json::Value> = imported
        .iter()
        .map(|l| (l["address"].as_str().unwrap(), l))
        .collect();
    for (addr, (state, mac, ends)) in &truth {
        let l = by_addr
            .get(addr.as_str())
            .unwrap_or_else(|| panic!("{addr} imported"));
        let want = match state.as_str() {
            "free" | "backup" => "free",
            s => s,
        };
        assert_eq!(l["state"], want, "{addr}: {l}");
        if state == "active" {
            assert_eq!(l["mac"], mac.as_str(), "{addr}");
            assert_eq!(l["expires"], rfc3339(ends).as_str(), "{addr}");
        }
        let owner = if state == "backup" {
            "secondary"
        } else {
            "primary"
        };
        if matches!(state.as_str(), "free" | "backup") {
            assert_eq!(
                l["owner"], owner,
                "{addr}: free is the primary's, backup the secondary's"
            );
        }
    }
}

/// The pair's real dhcpd.conf through `import-isc --dhcpd-conf`: tandem
/// accepts the result (with a key file of its own), pool and peer kept.
fn check_translation(dir: &Path) {
    let out = dir.join("translated.toml");
    let run = std::process::Command::new(BIN)
        .args(["import-isc", "--dhcpd-conf"])
        .arg(dir.join("dhcpd0.conf"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let key = dir.join("k");
    let made = std::process::Command::new(BIN)
        .arg("keygen")
        .arg("-o")
        .arg(&key)
        .status()
        .unwrap();
    assert!(made.success());
    let text = read(&out).replace("/etc/tandem/peer.key", &key.display().to_string());
    std::fs::write(&out, &text).unwrap();
    let check = std::process::Command::new(BIN)
        .args(["check-config", "-c"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&check.stderr)
    );
    for want in [
        "pools = [\"10.128.1.0-10.128.1.255\"]",
        "peer = \"192.168.77.2:647\"",
        "mclt = \"60s\"",
        "lease_time = \"600s\"",
    ] {
        assert!(text.contains(want), "{want} in:\n{text}");
    }
}
