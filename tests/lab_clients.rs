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
#[path = "lab/dhclient.rs"]
mod dhclient;
#[path = "lab/netns.rs"]
mod netns;
#[path = "lab/setup.rs"]
mod setup;

use capture::{Capture, Seen, acked};
use dhclient::Dhclient;
use netns::Lab;
use setup::{field, lab_config_leases, lines_starting, read, start_tandem, wait_for};
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

    netns::kill(pid, "USR2");
    w.wait_state(&addr, "released");
    assert!(
        !w.configured(&cli, "eth0", &addr),
        "udhcpc deconfigured on release"
    );
    // Back from the released state: a new DISCOVER gets the same address.
    netns::kill(pid, "USR1");
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

/// dhcpcd with its state folders (/run/dhcpcd, /var/lib/dhcpcd) bound to
/// the test's own in a private mount namespace; returns its pid, which
/// `nsenter` uses to reach its control socket.
fn start_dhcpcd(w: &mut World, ns: &str, conf: &Path, script: &Path, log: &Path) -> u32 {
    let (run, db) = (w.path("dhcpcd-run"), w.path("dhcpcd-db"));
    std::fs::create_dir_all(&run).unwrap();
    std::fs::create_dir_all(&db).unwrap();
    let sh = format!(
        "mkdir -p /run/dhcpcd /var/lib/dhcpcd && mount --bind {} /run/dhcpcd && mount --bind {} /var/lib/dhcpcd && \
         exec dhcpcd -4 -B -d -f {} -c {} -t 20 eth0",
        run.display(),
        db.display(),
        conf.display(),
        script.display()
    );
    w.lab.spawn(ns, &["unshare", "-m", "sh", "-c", &sh], log)
}

/// `dhcpcd -4 ARG eth0` talking to the running daemon `pid`.
fn dhcpcd_ctl(pid: u32, arg: &str) {
    netns::run(&[
        "nsenter",
        "-t",
        &pid.to_string(),
        "-m",
        "-n",
        "dhcpcd",
        "-4",
        arg,
        "eth0",
    ]);
}

#[test]
fn lab_dhcpcd_lease_life() {
    let Some(mut w) = World::new("k", "lab_dhcpcd_lease_life", &["dhcpcd"]) else {
        return;
    };
    let cli = w.lab.host("c", "eth0", None, Some("02:00:00:77:01:02"));
    let events = w.path("dhcpcd.events");
    let script = w.script(
        "dhcpcd.sh",
        &format!(
            "echo \"$reason ip=$new_ip_address mask=$new_subnet_mask router=$new_routers dns=$new_domain_name_servers lease=$new_dhcp_lease_time sid=$new_dhcp_server_identifier\" >> {}",
            events.display()
        ),
    );
    let conf = w.path("dhcpcd.conf");
    std::fs::write(
        &conf,
        "duid\noption domain_name_servers, domain_name, routers, subnet_mask\nrequire dhcp_server_identifier\nhostname dhcpcd-host\n",
    )
    .unwrap();
    let cap = Capture::start(&mut w.lab, &w.srv, "tdm-srv", w.dir.path(), 150);
    let log = w.path("dhcpcd.log");
    let pid = start_dhcpcd(&mut w, &cli, &conf, &script, &log);
    let bound = |n: usize| {
        wait_for("dhcpcd to bind", Duration::from_secs(30), || {
            lines_starting(&events, "BOUND").len() >= n
        });
        lines_starting(&events, "BOUND")[n - 1].clone()
    };
    let first = bound(1);
    let addr = field(&first, "ip").to_string();
    assert!(
        addr.starts_with("192.168.77.1"),
        "an address from the pool: {first}"
    );
    for (k, v) in [
        ("mask", "255.255.255.0"),
        ("router", SERVER),
        ("dns", SERVER),
        ("lease", "20"),
        ("sid", SERVER),
    ] {
        assert_eq!(field(&first, k), v, "dhcpcd's {k}: {first}");
    }
    assert!(
        w.configured(&cli, "eth0", &addr),
        "dhcpcd configured {addr}"
    );
    let l = w.lease(&addr);
    assert_eq!(l["state"], "active");
    let id = l["client_id"].as_str().unwrap_or_default();
    assert!(
        id.starts_with("ff:"),
        "an RFC 4361 client id (IAID + DUID): {id}"
    );
    assert_eq!(l["hostname"], "dhcpcd-host");

    let renews = || lines_starting(&events, "RENEW").len();
    dhcpcd_ctl(pid, "-N");
    wait_for("dhcpcd to renew", Duration::from_secs(10), || renews() >= 1);
    let n = renews();
    dhcpcd_ctl(pid, "-n");
    wait_for("dhcpcd to rebind", Duration::from_secs(10), || renews() > n);

    // A reboot with the lease kept on disk: INIT-REBOOT, same address.
    w.lab.signal(pid, "TERM");
    netns::run(&["ip", "-n", &cli, "addr", "flush", "dev", "eth0"]);
    let pid = start_dhcpcd(&mut w, &cli, &conf, &script, &log);
    assert_eq!(
        field(&bound(2), "ip"),
        addr,
        "the same address after the reboot"
    );
    assert!(w.configured(&cli, "eth0", &addr));

    dhcpcd_ctl(pid, "-k");
    w.wait_state(&addr, "released");
    let seen = cap.stop(&mut w.lab);
    assert_seen(
        &seen,
        &addr,
        "dhcpcd",
        &["renewing", "rebinding", "init-reboot", "release"],
    );
}

/// systemd-networkd in a private mount namespace, with the read-only /sys
/// that makes it run without udev (`../shared/research/real-clients.md`);
/// returns its pid.
fn start_networkd(w: &mut World, ns: &str, log: &Path) -> u32 {
    let conf = w.path("networkd");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(
        conf.join("10-eth0.network"),
        "[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n\n[DHCPv4]\nClientIdentifier=mac\nSendHostname=yes\nHostname=networkd-host\n",
    )
    .unwrap();
    let sh = format!(
        "mount -o remount,bind,ro /sys && mount -t tmpfs none /run/systemd && \
         mkdir -p /run/systemd/netif/links /run/systemd/netif/leases && \
         chown -R systemd-network: /run/systemd/netif && mount --bind {} /etc/systemd/network && \
         SYSTEMD_LOG_LEVEL=debug SYSTEMD_LOG_TARGET=console exec /lib/systemd/systemd-networkd",
        conf.display()
    );
    w.lab.spawn(ns, &["unshare", "-m", "sh", "-c", &sh], log)
}

/// networkd's own lease file, `KEY=value` lines.
fn networkd_lease(pid: u32) -> String {
    let out = netns::run(&[
        "nsenter",
        "-t",
        &pid.to_string(),
        "-m",
        "sh",
        "-c",
        "cat /run/systemd/netif/leases/*",
    ]);
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn lab_systemd_networkd_lease_life() {
    let Some(mut w) = World::new(
        "n",
        "lab_systemd_networkd_lease_life",
        &["/lib/systemd/systemd-networkd"],
    ) else {
        return;
    };
    let cli = w.lab.host("c", "eth0", None, Some("02:00:00:77:01:03"));
    let cap = Capture::start(&mut w.lab, &w.srv, "tdm-srv", w.dir.path(), 150);
    let log = w.path("networkd.log");
    let pid = start_networkd(&mut w, &cli, &log);
    let acks = || read(&log).matches("DHCPv4 client: ACK").count();
    wait_for("networkd to bind", Duration::from_secs(20), || acks() >= 1);
    wait_for(
        "networkd to write its lease",
        Duration::from_secs(10),
        || networkd_lease(pid).contains("ADDRESS="),
    );
    let lease = networkd_lease(pid);
    let get = |k: &str| {
        lease
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or("")
            .to_string()
    };
    let addr = get("ADDRESS");
    assert!(
        addr.starts_with("192.168.77.1"),
        "an address from the pool:\n{lease}"
    );
    for (k, v) in [
        ("NETMASK", "255.255.255.0"),
        ("ROUTER", SERVER),
        ("DNS", SERVER),
        ("SERVER_ADDRESS", SERVER),
        ("LIFETIME", "20"),
        ("T1", "10"),
        ("T2", "17"),
        ("DOMAINNAME", "lab.example"),
        ("CLIENTID", "01020000770103"),
    ] {
        assert_eq!(get(k), v, "networkd's {k}:\n{lease}");
    }
    assert!(w.configured(&cli, "eth0", &addr));
    let l = w.lease(&addr);
    assert_eq!(l["state"], "active");
    assert_eq!(l["hostname"], "networkd-host");

    wait_for("networkd to renew at T1", Duration::from_secs(20), || {
        read(&log).contains("REQUEST (renewing)") && acks() >= 2
    });
    w.lab.block_unicast_to(&cli, SERVER, true);
    let n = acks();
    wait_for("networkd to rebind at T2", Duration::from_secs(30), || {
        read(&log).contains("REQUEST (rebinding)") && acks() > n
    });
    w.lab.block_unicast_to(&cli, SERVER, false);
    assert!(
        w.configured(&cli, "eth0", &addr),
        "still {addr} after the rebind"
    );

    // networkd 252 releases on stop, and its RELEASE has no option 54.
    w.lab.signal(pid, "TERM");
    w.wait_state(&addr, "released");
    let seen = cap.stop(&mut w.lab);
    // networkd 252 keeps no lease across restarts, so it has no INIT-REBOOT.
    assert_seen(
        &seen,
        &addr,
        "networkd",
        &["renewing", "rebinding", "release"],
    );
}

/// A client network 192.168.80.0/20 behind a relay host on the bridge
/// (192.168.77.2) that forwards IP and runs ISC dhcrelay adding option 82
/// (`-a`) and dropping replies that do not echo it (`-D`, RFC 3046).
/// Returns the client's namespace.
fn relayed_network(w: &mut World) -> String {
    let relay = w.lab.host("r", "up0", Some("192.168.77.2/24"), None);
    let cli = w.lab.namespace("c");
    w.lab.veth(&relay, "down0", &cli, "eth0");
    for cmd in [
        vec![
            "ip",
            "-n",
            &relay,
            "addr",
            "add",
            "192.168.80.1/20",
            "dev",
            "down0",
        ],
        vec![
            "ip",
            "-n",
            &cli,
            "link",
            "set",
            "eth0",
            "address",
            "02:00:00:80:01:04",
        ],
        vec![
            "ip",
            "-n",
            &w.srv,
            "route",
            "add",
            "192.168.80.0/20",
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
    let log = w.path("dhcrelay.log");
    w.lab.spawn(
        &relay,
        &[
            "dhcrelay", "-4", "-d", "-a", "-D", "-id", "down0", "-iu", "up0", SERVER,
        ],
        &log,
    );
    wait_for("dhcrelay to listen", Duration::from_secs(10), || {
        read(&log).contains("Sending on   Socket/fallback")
    });
    cli
}

#[test]
fn lab_dhclient_behind_dhcrelay_with_option_82() {
    let Some(mut w) = World::new(
        "r",
        "lab_dhclient_behind_dhcrelay_with_option_82",
        &["dhclient", "dhcrelay"],
    ) else {
        return;
    };
    let cli = relayed_network(&mut w);
    // Short retransmissions, or its backoff skips T2 on a 20-second lease.
    let dh = Dhclient::new(
        w.dir.path(),
        "initial-interval 1;\nbackoff-cutoff 2;\nrequest subnet-mask, routers, domain-name-servers, domain-name, dhcp-lease-time;\n",
    );
    let cap = Capture::start(&mut w.lab, &w.srv, "tdm-srv", w.dir.path(), 150);
    let pid = dh.spawn(&mut w.lab, &cli);
    let count = |reason: &str| dh.events(reason).len();
    wait_for("dhclient to bind", Duration::from_secs(20), || {
        count("BOUND") == 1
    });
    let bound = dh.events("BOUND").pop().unwrap();
    let addr = field(&bound, "ip").to_string();
    assert!(
        addr.starts_with("192.168.8"),
        "an address of the relayed network: {bound}"
    );
    for (k, v) in [
        ("mask", "255.255.240.0"),
        ("router", "192.168.80.1"),
        ("dns", SERVER),
        ("lease", "20"),
    ] {
        assert_eq!(field(&bound, k), v, "dhclient's {k}: {bound}");
    }
    assert!(w.configured(&cli, "eth0", &addr));
    let l = w.lease(&addr);
    assert_eq!(l["state"], "active");
    let relay_info = l["relay_info"].as_str().unwrap_or_default();
    // Sub-option 1 (circuit id), 5 octets: "down0", as dhcrelay -a adds it.
    assert!(
        relay_info.starts_with("01:05:64:6f:77:6e:30"),
        "option 82 kept with the lease: {relay_info:?}"
    );

    wait_for("dhclient to renew at T1", Duration::from_secs(20), || {
        count("RENEW") >= 1
    });
    // dhclient 4.4 stays in RENEWING past T2 and only turns to broadcast
    // (REBINDING in RFC 2131 terms; its script still says RENEW): the
    // capture below tells the two apart.
    w.lab.block_unicast_to(&cli, SERVER, true);
    let renewed = count("RENEW");
    wait_for(
        "dhclient to rebind through the relay",
        Duration::from_secs(30),
        || count("RENEW") > renewed,
    );
    w.lab.block_unicast_to(&cli, SERVER, false);
    let rebind = dh.events("RENEW").pop().unwrap();
    assert_eq!(field(&rebind, "ip"), addr);

    // Stop without releasing, start again: INIT-REBOOT from the lease file.
    w.lab.signal(pid, "TERM");
    dh.spawn(&mut w.lab, &cli);
    wait_for("dhclient to reboot", Duration::from_secs(20), || {
        count("REBOOT") == 1
    });
    let reboot = dh.events("REBOOT").pop().unwrap();
    assert_eq!(
        field(&reboot, "ip"),
        addr,
        "the same address after the reboot"
    );

    dh.run(&w.lab, &cli, &["-r"], &read(&w.log));
    w.wait_state(&addr, "released");
    let seen = cap.stop(&mut w.lab);
    assert_seen(
        &seen,
        &addr,
        "dhclient",
        &["renewing", "rebinding", "init-reboot", "release"],
    );
}
