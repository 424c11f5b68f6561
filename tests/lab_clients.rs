//! Real DHCP clients through a whole lease life against tandem (issue 15):
//! busybox udhcpc, dhcpcd, systemd-networkd, and ISC dhclient behind ISC
//! dhcrelay adding option 82. Each gets an address (DORA), renews at T1
//! (RENEWING, unicast), rebinds when its unicast to the server is dropped
//! (REBINDING, broadcast), reboots where the client keeps its lease
//! (INIT-REBOOT), and releases. What is asserted is what the client itself
//! ended up configured with (address, mask, router, DNS, lease time), what
//! tandem's database holds, and what tshark saw on the server's link.
//! Leases are 20 s, so T1 is 10 s and T2 17.5 s. Needs root (CI runs as
//! root); elsewhere it says why and skips.

#[path = "lab/capture.rs"]
mod capture;
mod common;
#[path = "lab/netns.rs"]
mod netns;
#[path = "lab/setup.rs"]
mod setup;

use capture::{Capture, Seen, acked};
use netns::Lab;
use setup::{lab_config_leases, read, start_tandem, wait_for};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SERVER: &str = "192.168.77.1";

/// A lab with tandem serving on the bridge, 20-second leases.
struct World {
    lab: Lab,
    srv: String,
    cfg: PathBuf,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl World {
    /// Returns `None` (after saying why) where the lab cannot run.
    fn new(tag: &str, test: &str, tools: &[&str]) -> Option<World> {
        let mut all = vec!["ip", "tshark", "nft", "unshare", "nsenter"];
        all.extend_from_slice(tools);
        if let Some(why) = netns::unavailable(&all) {
            eprintln!("SKIPPED {test}: {why}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let cfg = lab_config_leases(dir.path(), "20s");
        let mut lab = Lab::new(tag);
        let srv = lab.host("s", "tdm-srv", Some("192.168.77.1/24"), None);
        let log = dir.path().join("tandem.log");
        start_tandem(&mut lab, &srv, &cfg, &log);
        Some(World {
            lab,
            srv,
            cfg,
            log,
            dir,
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// An executable shell script `name` in the test folder.
    fn script(&self, name: &str, body: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\nexit 0\n")).unwrap();
        netns::run(&["chmod", "+x", p.to_str().unwrap()]);
        p
    }

    /// The database's record of `addr` (state, client id, hostname, lease
    /// time, relay info), as `tandem leases --json` shows it.
    fn lease(&self, addr: &str) -> serde_json::Value {
        common::leases(&self.cfg)
            .into_iter()
            .find(|l| l["address"] == addr)
            .unwrap_or_else(|| panic!("no record of {addr}; tandem log:\n{}", read(&self.log)))
    }

    fn wait_state(&self, addr: &str, state: &str) {
        wait_for(
            &format!("{addr} to be {state} in the database"),
            Duration::from_secs(10),
            || self.lease(addr)["state"] == state,
        );
    }

    /// Whether `ns` has `addr` on `ifname`.
    fn configured(&self, ns: &str, ifname: &str, addr: &str) -> bool {
        let out = self
            .lab
            .exec(ns, &["ip", "-4", "-o", "addr", "show", "dev", ifname]);
        String::from_utf8_lossy(&out.stdout).contains(&format!("inet {addr}/"))
    }
}

/// `key=value` out of a space-separated event line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .unwrap_or("")
}

fn lines_starting(path: &Path, word: &str) -> Vec<String> {
    read(path)
        .lines()
        .filter(|l| l.split_whitespace().next() == Some(word))
        .map(str::to_string)
        .collect()
}

fn signal(pid: u32, sig: &str) {
    netns::run(&["kill", &format!("-{sig}"), &pid.to_string()]);
}

/// Checks the capture for the states every client went through.
fn assert_seen(seen: &[Seen], addr: &str, client: &str, states: &[&str]) {
    for state in states {
        let ok = match *state {
            "renewing" => acked(seen, addr, |s| s.is_renewing(addr)),
            "rebinding" => acked(seen, addr, |s| s.is_rebinding(addr)),
            "init-reboot" => acked(seen, addr, |s| s.is_init_reboot(addr)),
            "release" => seen.iter().any(|s| s.kind == 7 && s.ciaddr == addr),
            other => panic!("unknown state {other}"),
        };
        assert!(
            ok,
            "{client}: no {state} exchange for {addr} on the server's link: {seen:#?}"
        );
    }
}

#[test]
fn lab_udhcpc_lease_life() {
    let Some(mut w) = World::new("u", "lab_udhcpc_lease_life", &["busybox"]) else {
        return;
    };
    let cli = w.lab.host("c", "eth0", None, Some("02:00:00:77:01:01"));
    let events = w.path("udhcpc.events");
    let script = w.script(
        "udhcpc.sh",
        &format!(
            "echo \"$1 ip=$ip mask=$mask router=$router dns=$dns lease=$lease serverid=$serverid domain=$domain\" >> {}\n\
             case \"$1\" in bound|renew) ip addr replace $ip/$mask dev $interface ;; deconfig) ip addr flush dev $interface ;; esac",
            events.display()
        ),
    );
    let cap = Capture::start(&mut w.lab, &w.srv, "tdm-srv", w.dir.path(), 150);
    let log = w.path("udhcpc.log");
    let pid = w.lab.spawn(
        &cli,
        &[
            "busybox",
            "udhcpc",
            "-i",
            "eth0",
            "-f",
            "-t",
            "5",
            "-T",
            "1",
            "-s",
            script.to_str().unwrap(),
            "-x",
            "hostname:udhcpc-host",
            "-O",
            "dns",
        ],
        &log,
    );
    wait_for("udhcpc to bind", Duration::from_secs(20), || {
        !lines_starting(&events, "bound").is_empty()
    });
    let bound = lines_starting(&events, "bound")[0].clone();
    let addr = field(&bound, "ip").to_string();
    assert!(
        addr.starts_with("192.168.77.1"),
        "an address from the pool: {bound}"
    );
    for (k, v) in [
        ("mask", "24"),
        ("router", SERVER),
        ("dns", SERVER),
        ("lease", "20"),
        ("serverid", SERVER),
        ("domain", "lab.example"),
    ] {
        assert_eq!(field(&bound, k), v, "udhcpc's {k}: {bound}");
    }
    assert!(w.configured(&cli, "eth0", &addr));
    let l = w.lease(&addr);
    assert_eq!(l["state"], "active");
    assert_eq!(
        l["client_id"], "01:02:00:00:77:01:01",
        "udhcpc sends 01 + MAC"
    );
    assert_eq!(l["hostname"], "udhcpc-host");

    wait_for("udhcpc to renew at T1", Duration::from_secs(20), || {
        !lines_starting(&events, "renew").is_empty()
    });
    w.lab.block_unicast_to(&cli, SERVER, true);
    let renewed = lines_starting(&events, "renew").len();
    wait_for(
        "udhcpc to rebind by broadcast",
        Duration::from_secs(25),
        || lines_starting(&events, "renew").len() > renewed,
    );
    w.lab.block_unicast_to(&cli, SERVER, false);
    let last = lines_starting(&events, "renew").pop().unwrap();
    assert_eq!(field(&last, "ip"), addr, "same address after the rebind");

    signal(pid, "USR2");
    w.wait_state(&addr, "released");
    assert!(
        !w.configured(&cli, "eth0", &addr),
        "udhcpc deconfigured on release"
    );
    // Back from the released state: a new DISCOVER gets the same address.
    signal(pid, "USR1");
    wait_for("udhcpc to bind again", Duration::from_secs(20), || {
        lines_starting(&events, "bound").len() > 1
    });
    assert_eq!(field(&lines_starting(&events, "bound")[1], "ip"), addr);
    w.wait_state(&addr, "active");
    let seen = cap.stop(&mut w.lab);
    assert_seen(
        &seen,
        &addr,
        "udhcpc",
        &["renewing", "rebinding", "release"],
    );
}
