//! Real `tandem` processes on loopback, fed relayed traffic (no root needed):
//! DORA, renew, release, restart with SIGTERM and with SIGKILL.

mod common;

use common::*;
use dhcproto::v4;
use std::net::Ipv4Addr;
use std::time::Duration;

const LINK: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 0);

fn config(dir: &std::path::Path, port: u16) -> std::path::PathBuf {
    let p = dir.join("tandem.toml");
    std::fs::write(
        &p,
        format!(
            r#"
[server]
name = "loopback"
interfaces = ["lo"]
lease_db = "{db}"
control_socket = "{ctl}"
port = {port}
client_port = {port}
client_rate_limit = 0

[[subnet]]
cidr = "10.99.0.0/24"
pools = ["10.99.0.10-10.99.0.250"]
lease_time = "1h"
routers = ["10.99.0.1"]
dns_servers = ["10.99.0.53"]
"#,
            db = dir.join("leases.sqlite").display(),
            ctl = dir.join("control.sock").display(),
        ),
    )
    .unwrap();
    p
}

fn addr_of(ack: &v4::Message) -> Ipv4Addr {
    assert_eq!(ack.opts().msg_type(), Some(v4::MessageType::Ack), "{ack:?}");
    ack.yiaddr()
}

#[test]
fn relayed_dora_renew_release_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = config(dir.path(), port);
    let mut server = Server::start(&cfg, &dir.path().join("tandem.log"));
    let relay = Relay::new(Ipv4Addr::new(127, 0, 0, 2), port);

    // 40 clients, each a full relayed DORA
    let mut granted = Vec::new();
    for n in 0..40u32 {
        let ack = relay
            .dora(mac(n), n * 10, LINK)
            .unwrap_or_else(|| panic!("no ACK for client {n}; log:\n{}", server.log_text()));
        let a = addr_of(&ack);
        assert!((Ipv4Addr::new(10, 99, 0, 10)..=Ipv4Addr::new(10, 99, 0, 250)).contains(&a));
        assert_eq!(ack.giaddr(), relay.addr);
        assert!(
            matches!(
                ack.opts().get(v4::OptionCode::RelayAgentInformation),
                Some(v4::DhcpOption::RelayAgentInformation(_))
            ),
            "option 82 echoed"
        );
        assert_eq!(
            ack.opts().get(v4::OptionCode::Router),
            Some(&v4::DhcpOption::Router(vec![Ipv4Addr::new(10, 99, 0, 1)]))
        );
        assert_eq!(
            ack.opts().get(v4::OptionCode::AddressLeaseTime),
            Some(&v4::DhcpOption::AddressLeaseTime(3600))
        );
        granted.push(a);
    }
    let mut unique = granted.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), granted.len(), "no address given twice");

    // Renew (relayed, ciaddr set) keeps the address
    let mut renew = relay.msg(v4::MessageType::Request, mac(3), 9_000, LINK);
    renew.set_ciaddr(granted[3]);
    assert_eq!(addr_of(&relay.exchange(&renew, 5).unwrap()), granted[3]);

    // Release of client 5
    let mut rel = relay.msg(v4::MessageType::Release, mac(5), 9_100, LINK);
    rel.set_ciaddr(granted[5]);
    rel.opts_mut()
        .insert(v4::DhcpOption::ServerIdentifier(Ipv4Addr::LOCALHOST));
    relay.send(&rel);
    std::thread::sleep(Duration::from_millis(300));

    // leases --json works while the server runs
    let l = leases(&cfg);
    assert_eq!(l.len(), 40);
    let state_of = |l: &[serde_json::Value], a: Ipv4Addr| {
        l.iter()
            .find(|x| x["address"] == a.to_string())
            .map(|x| x["state"].as_str().unwrap().to_string())
    };
    assert_eq!(state_of(&l, granted[5]).as_deref(), Some("released"));
    assert_eq!(state_of(&l, granted[0]).as_deref(), Some("active"));
    assert_eq!(l[0]["lease_time"], 3600);
    assert_eq!(l[0]["owner"], "primary");

    // A clean stop, then a restart: leases reload, a client renews its address
    assert!(server.stop(), "SIGTERM exits cleanly");
    let mut server = Server::start(&cfg, &dir.path().join("tandem2.log"));
    let mut renew = relay.msg(v4::MessageType::Request, mac(7), 9_200, LINK);
    renew.set_ciaddr(granted[7]);
    assert_eq!(addr_of(&relay.exchange(&renew, 10).unwrap()), granted[7]);
    // another client's renewal of client 7's address is refused
    let mut steal = relay.msg(v4::MessageType::Request, mac(999), 9_300, LINK);
    steal.set_ciaddr(granted[7]);
    assert_eq!(
        relay.exchange(&steal, 5).unwrap().opts().msg_type(),
        Some(v4::MessageType::Nak)
    );

    // kill -9 right after ACKs: every ACKed lease is in the database afterwards
    let mut acked = Vec::new();
    for n in 100..130u32 {
        acked.push(addr_of(&relay.dora(mac(n), n * 10, LINK).unwrap()));
    }
    server.kill9();
    let l = leases(&cfg);
    for a in &acked {
        assert_eq!(
            state_of(&l, *a).as_deref(),
            Some("active"),
            "ACKed lease {a} survived kill -9"
        );
    }
    let mut server = Server::start(&cfg, &dir.path().join("tandem3.log"));
    // the same client gets the same address back after the crash
    let ack = relay.dora(mac(100), 50_000, LINK).unwrap();
    assert_eq!(addr_of(&ack), acked[0]);
    assert!(server.stop());
}

/// A full disk (a 1 MiB tmpfs, filled up behind the server's back): the
/// commit fails, the server sends no ACK for what it could not record and
/// stops with a failure, and once there is room again it restarts with
/// every lease it had acknowledged. Needs root (mount).
#[test]
fn a_full_disk_stops_the_server_and_loses_no_acked_lease() {
    let dir = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tandem-test"])
        .arg(dir.path())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("SKIP a_full_disk_stops_the_server: cannot mount a tmpfs (not root?)");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
    let _unmount = Unmount(dir.path().into());
    let port = free_port();
    let cfg = config(dir.path(), port);
    let log = std::env::temp_dir().join(format!("tandem-full-disk-{port}.log"));
    let mut server = Server::start(&cfg, &log);
    let relay = Relay::new(Ipv4Addr::new(127, 0, 0, 4), port);
    let mut acked = Vec::new();
    for n in 0..5u32 {
        let ack = relay.dora(mac(n), n + 1, LINK);
        acked.push(addr_of(
            &ack.unwrap_or_else(|| panic!("{}", server.log_text())),
        ));
    }
    // fill the file system to the last block
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=4k"])
        .arg(format!("of={}", dir.path().join("filler").display()))
        .stderr(std::process::Stdio::null())
        .status();
    let mut refused = 0;
    for n in 100..300u32 {
        match relay.dora(mac(n), n, LINK) {
            Some(ack) => acked.push(addr_of(&ack)),
            None => refused += 1,
        }
        if server.child.as_mut().unwrap().try_wait().unwrap().is_some() {
            break;
        }
    }
    let status = server.wait_exit(Duration::from_secs(10));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        status.is_some_and(|s| !s.success()),
        "the server stops with a failure ({status:?}); log:\n{text}"
    );
    assert!(
        refused > 0,
        "a request whose lease could not be recorded got no ACK"
    );
    assert!(text.contains("lease journal commit failed"), "{text}");
    // room again: every ACKed lease is there
    std::fs::remove_file(dir.path().join("filler")).unwrap();
    let mut server = Server::start(&cfg, &log);
    let l = leases(&cfg);
    for a in &acked {
        assert!(
            l.iter()
                .any(|x| x["address"] == a.to_string() && x["state"] == "active"),
            "ACKed lease {a} is in the database after the failure"
        );
    }
    assert!(
        relay.dora(mac(400), 400, LINK).is_some(),
        "and it serves again"
    );
    assert!(server.stop());
    let _ = std::fs::remove_file(&log);
}

#[test]
fn malformed_packets_are_dropped_and_service_continues() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = config(dir.path(), port);
    let mut server = Server::start(&cfg, &dir.path().join("tandem.log"));
    let relay = Relay::new(Ipv4Addr::new(127, 0, 0, 3), port);
    assert!(
        relay.dora(mac(1), 1, LINK).is_some(),
        "server up; log:\n{}",
        server.log_text()
    );
    let good = relay.msg(v4::MessageType::Discover, mac(2), 77, LINK);
    let bytes = dhcproto::Encodable::to_vec(&good).unwrap();
    let mut hlen17 = bytes.clone();
    hlen17[2] = 17;
    let junk: Vec<Vec<u8>> = vec![
        vec![],
        vec![1; 10],
        bytes[..239].to_vec(),
        hlen17,
        vec![0xff; 1400],
        {
            let mut t = bytes[..240].to_vec();
            t.extend_from_slice(&[53, 1, 1, 61, 200, 1]);
            t
        },
    ];
    for j in &junk {
        relay.sock.send_to(j, relay.server).unwrap();
    }
    let ack = relay.dora(mac(3), 300, LINK);
    assert!(ack.is_some(), "server still answers after garbage");
    assert!(server.stop(), "and shuts down cleanly");
    let log = std::fs::read_to_string(dir.path().join("tandem.log")).unwrap();
    assert!(
        log.contains("malformed: 6") || log.contains("dropped malformed packet"),
        "malformed packets counted:\n{log}"
    );
}

#[test]
fn check_config_exits_nonzero_on_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(&p, "[server]\ninterfaces = [\"lo\"]\nlease_db = \"x\"\n[[subnet]]\ncidr = \"10.0.0.0/24\"\nlease_time = \"soon\"\n").unwrap();
    let out = std::process::Command::new(BIN)
        .args(["check-config", "-c"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 6") && err.contains("lease_time"),
        "{err}"
    );
    let good = std::process::Command::new(BIN)
        .args(["check-config", "-c", "config/single.toml"])
        .output()
        .unwrap();
    assert!(good.status.success());
}

/// `tandem status --json`, once the server answers (up to 10 s).
fn status_json(cfg: &std::path::Path) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (ok, out) = tandem("status", cfg, &["--json"]);
        if ok {
            return serde_json::from_str(&out).unwrap();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "server never answered status"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `tandem <cmd> -c cfg [extra]`: exit success and stdout.
fn tandem(cmd: &str, cfg: &std::path::Path, extra: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(BIN)
        .arg(cmd)
        .arg("-c")
        .arg(cfg)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_lost_database_relearns_renewals_and_gives_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = config(dir.path(), port);
    let (ok, out) = tandem("init", &cfg, &[]);
    assert!(ok && out.contains("initialised"), "{out}");
    let (ok, out) = tandem("init", &cfg, &[]);
    assert!(ok && out.contains("already initialised"), "{out}");
    let mut server = Server::start(&cfg, &dir.path().join("tandem.log"));
    let relay = Relay::new(Ipv4Addr::new(127, 0, 0, 4), port);
    let held: Vec<Ipv4Addr> = (0..3u32)
        .map(|n| addr_of(&relay.dora(mac(n), n * 10, LINK).unwrap()))
        .collect();
    // the disk is replaced: the database is gone, the clients keep their leases
    server.kill9();
    for f in ["leases.sqlite", "leases.sqlite-wal", "leases.sqlite-shm"] {
        let _ = std::fs::remove_file(dir.path().join(f));
    }
    let log = dir.path().join("tandem2.log");
    let mut server = Server::start_lost(&cfg, &log);
    let v = status_json(&cfg);
    assert!(server.log_text().contains("treating it as lost"));
    assert!(v["relearn_until"].is_string(), "{v}");
    assert!(v["serving"].as_str().unwrap().contains("renewals only"));
    // a new client gets nothing: the address could be a held one
    let d = relay.msg(v4::MessageType::Discover, mac(50), 500, LINK);
    assert!(
        relay.exchange(&d, 3).is_none(),
        "no offer while re-learning"
    );
    // a renewing client and a rebooting one are re-learned at once
    let mut renew = relay.msg(v4::MessageType::Request, mac(0), 600, LINK);
    renew.set_ciaddr(held[0]);
    assert_eq!(addr_of(&relay.exchange(&renew, 5).unwrap()), held[0]);
    let mut reboot = relay.msg(v4::MessageType::Request, mac(1), 700, LINK);
    reboot
        .opts_mut()
        .insert(v4::DhcpOption::RequestedIpAddress(held[1]));
    assert_eq!(addr_of(&relay.exchange(&reboot, 5).unwrap()), held[1]);
    // a client claiming a re-learned address is refused
    let mut steal = relay.msg(v4::MessageType::Request, mac(51), 800, LINK);
    steal.set_ciaddr(held[0]);
    assert_eq!(
        relay.exchange(&steal, 5).unwrap().opts().msg_type(),
        Some(v4::MessageType::Nak)
    );
    // the wait survives a restart
    assert!(server.stop());
    let mut server = Server::start(&cfg, &dir.path().join("tandem3.log"));
    let v = status_json(&cfg);
    assert!(v["relearn_until"].is_string(), "{v}");
    // the operator ends it; new clients are served, around what was re-learned
    let (ok, out) = tandem("end-relearn", &cfg, &[]);
    assert!(ok && out.contains("new addresses again"), "{out}");
    let a = addr_of(&relay.dora(mac(52), 900, LINK).unwrap());
    assert!(!held[..2].contains(&a), "{a} was re-learned");
    let v = status_json(&cfg);
    assert!(v["relearn_until"].is_null(), "{v}");
    assert!(server.stop());
}

#[test]
fn a_relayed_inform_without_ciaddr_is_answered_with_the_broadcast_bit() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = config(dir.path(), port);
    let mut server = Server::start(&cfg, &dir.path().join("tandem.log"));
    let relay = Relay::new(Ipv4Addr::new(127, 0, 0, 5), port);
    let inform = relay.msg(v4::MessageType::Inform, mac(1), 4_000, LINK);
    let ack = relay
        .exchange(&inform, 10)
        .expect("the relay gets the answer");
    assert_eq!(ack.opts().msg_type(), Some(v4::MessageType::Ack));
    assert!(
        ack.flags().broadcast(),
        "RFC 1542 5.4: the relay must broadcast it"
    );
    assert_eq!(ack.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert!(server.stop());
}

#[test]
fn json_logs_are_one_object_per_line_with_a_line_per_lease_decision() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = config(dir.path(), port);
    let log = dir.path().join("log");
    let args = ["--log-format", "json", "--log", "tandem=debug"];
    let mut server = Server::start_with(&cfg, &log, &args, &[]);
    let relay = Relay::new(Ipv4Addr::new(127, 0, 0, 2), port);
    let ack = relay.dora([2, 0, 0, 0, 0, 7], 77, LINK).expect("an ACK");
    let addr = addr_of(&ack);
    assert!(server.stop(), "clean stop");
    let text = std::fs::read_to_string(&log).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        events
            .iter()
            .all(|e| e["level"].is_string() && e["timestamp"].is_string())
    );
    let decided = events
        .iter()
        .any(|e| e["level"] == "DEBUG" && e["fields"].to_string().contains(&addr.to_string()));
    assert!(
        decided,
        "a debug line names the leased address {addr}:\n{text}"
    );
}

fn lease_secs(ack: &v4::Message) -> u32 {
    match ack.opts().get(v4::OptionCode::AddressLeaseTime) {
        Some(v4::DhcpOption::AddressLeaseTime(t)) => *t,
        other => panic!("no lease time: {other:?}"),
    }
}

#[test]
fn sighup_and_reload_apply_times_reservations_and_pools_and_refuse_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = config(dir.path(), port);
    let mut server = Server::start(&cfg, &dir.path().join("log"));
    let relay = Relay::new(Ipv4Addr::new(127, 0, 0, 2), port);
    let first = relay.dora(mac(1), 100, LINK).expect("an ACK");
    assert_eq!(lease_secs(&first), 3600);

    // SIGHUP: a longer lease time, a reservation and an added pool
    let text = std::fs::read_to_string(&cfg).unwrap();
    let changed = text
        .replace("lease_time = \"1h\"", "lease_time = \"2h\"")
        .replace(
            "pools = [\"10.99.0.10-10.99.0.250\"]",
            "pools = [\"10.99.0.10-10.99.0.250\", \"10.99.0.251-10.99.0.253\"]",
        )
        + "[[subnet.reservation]]\nmac = \"02:42:00:00:00:02\"\naddress = \"10.99.0.9\"\n";
    std::fs::write(&cfg, &changed).unwrap();
    let hup = unsafe_free_kill(server.pid(), "HUP");
    assert!(hup, "kill -HUP");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !server.log_text().contains("configuration reloaded") {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let reserved = relay.dora(mac(2), 200, LINK).expect("an ACK");
    assert_eq!(
        addr_of(&reserved),
        Ipv4Addr::new(10, 99, 0, 9),
        "the new reservation"
    );
    assert_eq!(lease_secs(&reserved), 7200, "the new lease time");

    // tandem reload: a changed port is refused by key, the old config runs on
    let moved = changed.replace(
        &format!("port = {port}\n"),
        &format!("port = {}\n", port + 1),
    );
    std::fs::write(&cfg, &moved).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["reload", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("server.port: changes only with a restart"),
        "{err}"
    );
    // a broken file on SIGHUP is refused with its line; service continues
    std::fs::write(
        &cfg,
        changed.replace("lease_time = \"2h\"", "lease_time = 2h"),
    )
    .unwrap();
    assert!(unsafe_free_kill(server.pid(), "HUP"));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !server
        .log_text()
        .contains("reload refused, the running configuration stays")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let third = relay.dora(mac(3), 300, LINK).expect("still serving");
    assert_eq!(lease_secs(&third), 7200, "the running configuration stands");
    std::fs::write(&cfg, &changed).unwrap();
    let (ok, out) = tandem("reload", &cfg, &[]);
    assert!(
        ok && out.contains("reloaded: 1 subnets, 2 pools, 1 reservations"),
        "{out}"
    );
    let held: Vec<_> = leases(&cfg).iter().map(|l| l["address"].clone()).collect();
    assert_eq!(
        held.len(),
        3,
        "every lease kept through the reloads: {held:?}"
    );
    assert!(server.stop());
}

/// `kill -SIG pid` through the kill(1) command (the tests forbid unsafe code).
fn unsafe_free_kill(pid: i32, sig: &str) -> bool {
    std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .is_ok_and(|s| s.success())
}
