//! A pair of one ISC dhcpd 4.4 and one tandem over ISC's failover protocol
//! in the lab (issue 19): their configs, their lease databases read each
//! its own way (`tandem leases`; dhcpd's lease file line by line), and
//! perfdhcp's relayed clients.
#![allow(dead_code)]

use super::common;
use super::isc::{self, isc_state, last_blocks};
use super::netns::{self, Lab};
use super::setup::{field, read, serve, start_tandem, wait_for};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const ISC: &str = "192.168.79.1";
pub const TANDEM: &str = "192.168.79.2";
pub const POOL: (&str, &str) = ("10.128.2.0", "10.128.2.63");
/// How many addresses [`POOL`] holds.
pub const POOL_SIZE: usize = 64;
/// The MAC base of the clients before a fault, and of those that come
/// while one side is down.
pub const CLIENTS: [&str; 2] = ["00:0c:01:00:00:00", "00:0c:02:00:00:00"];
/// The pair's MCLT, seconds: tandem, meeting a database new to it, holds
/// back new grants this long (`Peer::hold_lost_grants`).
pub const MCLT: u64 = 20;

/// dhcpd.conf: the primary (with the MCLT and split), or the secondary.
pub fn dhcpd_conf(dir: &Path, primary: bool) -> PathBuf {
    let role = if primary {
        format!("primary;\n  mclt {MCLT};\n  split 128;")
    } else {
        "secondary;".to_string()
    };
    let text = format!(
        "authoritative;\nddns-update-style none;\nping-check false;\ndefault-lease-time 600;\nmax-lease-time 600;\n\
         omapi-port 7911;\n\
         failover peer \"lab\" {{\n  {role}\n  address {ISC};\n  port 647;\n  peer address {TANDEM};\n  peer port 647;\n  \
         max-response-delay 15;\n  max-unacked-updates 10;\n  load balance max seconds 3;\n}}\n\
         subnet 192.168.79.0 netmask 255.255.255.0 {{ }}\n\
         subnet 10.128.0.0 netmask 255.240.0.0 {{\n  option routers 10.128.0.1;\n  pool {{\n    failover peer \"lab\";\n    \
         range {} {};\n  }}\n}}\n",
        POOL.0, POOL.1
    );
    let p = dir.join("dhcpd.conf");
    std::fs::write(&p, text).unwrap();
    p
}

pub fn tandem_conf(dir: &Path, role: &str) -> PathBuf {
    let text = format!(
        "[server]\ninterfaces = [\"eth0\"]\nlease_db = \"{d}/tandem.sqlite\"\ncontrol_socket = \"{d}/t.sock\"\n\n\
         [failover]\nrole = \"{role}\"\nlisten = \"{TANDEM}\"\npeer = \"{ISC}\"\nprotocol = \"isc-draft12\"\n\
         relationship = \"lab\"\nmclt = \"{MCLT}s\"\nsplit = 128\nmax_response_delay = \"15s\"\n\n\
         [[subnet]]\ncidr = \"10.128.0.0/12\"\npools = [\"{}-{}\"]\nlease_time = \"600s\"\nrouters = [\"10.128.0.1\"]\n",
        POOL.0,
        POOL.1,
        d = dir.display()
    );
    let p = dir.join("tandem.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// tandem's active leases: address to MAC.
pub fn tandem_active(cfg: &Path) -> HashMap<String, String> {
    common::leases(cfg)
        .iter()
        .filter(|l| l["state"] == "active")
        .map(|l| {
            let mac = l["mac"].as_str().unwrap_or_default().to_string();
            (l["address"].as_str().unwrap().to_string(), mac)
        })
        .collect()
}

/// dhcpd's active leases, from its lease file: address to MAC.
pub fn isc_active(leases: &Path) -> HashMap<String, String> {
    last_blocks(&read(leases))
        .into_iter()
        .filter(|(_, b)| b.0 == "active")
        .map(|(a, b)| (a, b.1))
        .collect()
}

/// A state in words both sides share: "ended" for a binding that is
/// over, whatever its path (dhcpd turns an expired or released lease free,
/// or backup, once its partner knows, without telling it; tandem keeps
/// "expired", reusable once the partner knows).
pub fn common_word(state: &str) -> String {
    match state {
        "free" | "backup" | "expired" | "released" => "ended".into(),
        "abandoned" => "declined".into(),
        s => s.into(),
    }
}

/// tandem's state of every address.
pub fn states(cfg: &Path) -> HashMap<String, String> {
    common::leases(cfg)
        .iter()
        .map(|l| {
            let addr = l["address"].as_str().unwrap().to_string();
            (addr, common_word(l["state"].as_str().unwrap()))
        })
        .collect()
}

/// dhcpd's, from its lease file.
pub fn isc_states(leases: &Path) -> HashMap<String, String> {
    last_blocks(&read(leases))
        .into_iter()
        .map(|(a, b)| (a, common_word(&b.0)))
        .collect()
}

/// One round of 20 relayed clients, the same MACs each round for one
/// `mac` base (perfdhcp's `-b mac=`), until perfdhcp reports (the log is
/// appended to, round after round).
pub fn perfdhcp_round(lab: &mut Lab, ns: &str, log: &Path, mac: &str) {
    perfdhcp_round_with(lab, ns, log, mac, &[]);
}

/// [`perfdhcp_round`] with `extra` arguments (renewals, releases).
pub fn perfdhcp_round_with(lab: &mut Lab, ns: &str, log: &Path, mac: &str, extra: &[&str]) {
    perfdhcp_clients(lab, ns, log, mac, 20, extra);
}

/// [`perfdhcp_round_with`] of `clients` clients.
pub fn perfdhcp_clients(
    lab: &mut Lab,
    ns: &str,
    log: &Path,
    mac: &str,
    clients: usize,
    extra: &[&str],
) {
    let before = read(log).matches("Rate:").count();
    let base = format!("mac={mac}");
    let clients = clients.to_string();
    let mut args = vec![
        "perfdhcp",
        "-4",
        "-b",
        &base,
        "-r",
        "10",
        "-R",
        &clients,
        "-n",
        &clients,
        "-p",
        "6",
        "-l",
        "10.128.0.1",
    ];
    args.extend_from_slice(extra);
    args.push("all");
    let pid = lab.spawn(ns, &args, log);
    wait_for("perfdhcp's report", Duration::from_secs(20), || {
        read(log).matches("Rate:").count() > before
    });
    lab.signal(pid, "TERM");
}

/// The lab of one run: dhcpd in one namespace, tandem in another, a
/// relay for perfdhcp in a third, both servers started and in NORMAL.
pub struct Pair {
    pub lab: Lab,
    pub dir: tempfile::TempDir,
    /// dhcpd's namespace, tandem's, and perfdhcp's.
    pub isc_ns: String,
    pub tandem_ns: String,
    pub perf_ns: String,
    /// tandem's config, log and pid.
    pub cfg: PathBuf,
    pub log: PathBuf,
    pub tandem_pid: u32,
    /// dhcpd's config, log, lease file and pid.
    pub isc_conf: PathBuf,
    pub isc_log: PathBuf,
    pub isc_leases: PathBuf,
    pub isc_pid: u32,
}

/// Starts the pair with tandem in `role` and both sides' silence timeout
/// `mrd` seconds, in namespaces named after `tag` (at most 4 letters,
/// one per test), and waits until both are in NORMAL.
pub fn start_pair(tag: &str, role: &str, mrd: u64) -> Pair {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut lab = Lab::new(tag);
    let a = lab.host("a", "eth0", Some(&format!("{ISC}/24")), None);
    let b = lab.host("b", "eth0", Some(&format!("{TANDEM}/24")), None);
    let perf = lab.host("p", "eth0", Some("10.128.0.1/12"), None);
    for n in [&a, &b] {
        netns::route(n, &["10.128.0.0/12", "dev", "eth0"]);
    }
    netns::route(&perf, &["192.168.79.0/24", "dev", "eth0"]);
    let conf = dhcpd_conf(d, role == "secondary");
    let text = read(&conf).replace(
        "max-response-delay 15;",
        &format!("max-response-delay {mrd};"),
    );
    std::fs::write(&conf, text).unwrap();
    let (isc_pid, isc_leases, isc_log) = isc::dhcpd(&mut lab, &a, d, "dhcpd", &conf);
    let cfg = tandem_conf(d, role);
    let text = read(&cfg).replace(
        "max_response_delay = \"15s\"",
        &format!("max_response_delay = \"{mrd}s\""),
    );
    std::fs::write(&cfg, text).unwrap();
    let log = d.join("tandem.log");
    let tandem_pid = start_tandem(&mut lab, &b, &cfg, &log);
    both_normal(&cfg, &log, &isc_log, 60);
    Pair {
        lab,
        dir,
        isc_ns: a,
        tandem_ns: b,
        perf_ns: perf,
        cfg,
        log,
        tandem_pid,
        isc_conf: conf,
        isc_log,
        isc_leases,
        isc_pid,
    }
}

impl Pair {
    /// dhcpd started again on the lease file it left.
    pub fn restart_isc(&mut self) {
        let d = self.dir.path();
        let (pid, _, _) = isc::dhcpd_again(&mut self.lab, &self.isc_ns, d, "dhcpd", &self.isc_conf);
        self.isc_pid = pid;
    }

    /// tandem started again on the database it left.
    pub fn restart_tandem(&mut self) {
        let (ns, cfg, log) = (&self.tandem_ns, &self.cfg, &self.log);
        self.tandem_pid = serve(&mut self.lab, ns, cfg, log);
    }

    /// Waits until both are in NORMAL, for `secs` seconds.
    pub fn wait_normal(&self, secs: u64) {
        both_normal(&self.cfg, &self.log, &self.isc_log, secs);
    }

    /// Every (address, MAC) either side acknowledged to a client, from
    /// dhcpd's log ("DHCPACK on A to M") and tandem's decisions
    /// (`client=hw:M verdict=Ack(A)`, or `client=id:01:M`).
    pub fn acked(&self) -> Vec<(String, String, &'static str)> {
        let mut out = Vec::new();
        for l in read(&self.isc_log).lines() {
            let w: Vec<&str> = l.split_whitespace().collect();
            if let Some(i) = w.iter().position(|x| *x == "DHCPACK")
                && w.get(i + 1) == Some(&"on")
                && w.get(i + 3) == Some(&"to")
                && let Some(mac) = w.get(i + 4)
            {
                out.push((w[i + 2].to_string(), mac.to_string(), "dhcpd"));
            }
        }
        for l in read(&self.log).lines() {
            let verdict = field(l, "verdict");
            let Some(addr) = verdict
                .strip_prefix("Ack(")
                .and_then(|v| v.strip_suffix(')'))
            else {
                continue;
            };
            let client = field(l, "client");
            // perfdhcp sends its MAC as client id (type 1) too.
            let mac = client.strip_prefix("hw:").or(client.strip_prefix("id:01:"));
            if let Some(mac) = mac {
                out.push((addr.to_string(), mac.to_string(), "tandem"));
            }
        }
        out
    }

    /// No address was acknowledged to two clients, by either side; every
    /// acknowledged lease is active with its client on both sides, or
    /// ended on both, dhcpd's record still naming its client with an end
    /// in the past (a lease granted while the partner is away runs only
    /// MCLT, and may end before the pair is back together); and the two
    /// sides' active leases are the same. Within `secs` seconds: the last
    /// updates may be in flight.
    pub fn check_every_ack_on_both(&self, secs: u64) {
        let acked = self.acked();
        assert!(!acked.is_empty(), "no client was acknowledged");
        let mut holder: HashMap<&str, (&str, &str)> = HashMap::new();
        for (a, m, who) in &acked {
            let was = holder.insert(a, (m, who));
            assert!(
                was.is_none_or(|(m0, _)| m0 == m),
                "{a} acknowledged to {m} by {who} and to {was:?}"
            );
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let (ours, theirs) = (tandem_active(&self.cfg), isc_active(&self.isc_leases));
            let blocks = last_blocks(&read(&self.isc_leases));
            let now = utc_now();
            let ended = |a: &str, m: &str| {
                blocks.get(a).is_some_and(|(st, mac, ends)| {
                    st != "active" && mac == m && ends_before(ends, &now)
                })
            };
            let missing: Vec<_> = holder
                .iter()
                .filter(|(a, (m, _))| {
                    let (o, t) = (ours.get(**a), theirs.get(**a));
                    let on_both = o.map(String::as_str) == Some(*m) && o == t;
                    !(on_both || o.is_none() && ended(a, m))
                })
                .map(|(a, (m, who))| (a, m, who, ours.get(*a), theirs.get(*a)))
                .collect();
            if missing.is_empty() && ours == theirs {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "(address, client, acknowledged by, tandem's, dhcpd's) not on both: {missing:?}\nactive in tandem: {ours:?}\nin dhcpd: {theirs:?}\ntandem's leases: {:?}\ndhcpd's: {:?}\n{}",
                common::leases(&self.cfg),
                last_blocks(&read(&self.isc_leases)),
                read(&self.log)
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Rounds of perfdhcp's clients (MAC base `mac`) until each side has
    /// granted some and tandem holds dhcpd's too. tandem grants only once
    /// MCLT has passed since it met the new database; until then (and
    /// after) ISC's share is served by ISC.
    pub fn lease_from_both(&mut self, mac: &str) {
        let perf_log = self.dir.path().join("perfdhcp.log");
        let deadline = std::time::Instant::now() + Duration::from_secs(MCLT * 4);
        loop {
            perfdhcp_round(&mut self.lab, &self.perf_ns, &perf_log, mac);
            let held = tandem_active(&self.cfg).len();
            let granted_here = read(&self.log).matches("verdict=Ack(10.128.2.").count();
            if granted_here > 0 && held > granted_here {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no lease from each side: tandem granted {granted_here} and holds {held}\n{}\n{}",
                read(&perf_log),
                read(&self.log)
            );
        }
    }

    /// Cuts (`on`) or heals the failover link: tandem's namespace drops
    /// every TCP segment to and from dhcpd's address (DHCP, over UDP from
    /// the relay, still flows to both).
    pub fn cut_link(&self, on: bool) {
        let chain = |hook: &str| format!("{{ type filter hook {hook} priority 0 ; }}");
        let (out_chain, in_chain) = (chain("output"), chain("input"));
        let out_rule = format!("ip daddr {ISC} meta l4proto tcp drop");
        let in_rule = format!("ip saddr {ISC} meta l4proto tcp drop");
        let t = "isccut";
        let cmds: Vec<Vec<&str>> = if on {
            vec![
                vec!["nft", "add", "table", "ip", t],
                vec!["nft", "add", "chain", "ip", t, "out", &out_chain],
                vec!["nft", "add", "chain", "ip", t, "in", &in_chain],
                vec!["nft", "add", "rule", "ip", t, "out", &out_rule],
                vec!["nft", "add", "rule", "ip", t, "in", &in_rule],
            ]
        } else {
            vec![vec!["nft", "delete", "table", "ip", t]]
        };
        for c in cmds {
            let out = self.lab.exec(&self.tandem_ns, &c);
            assert!(
                out.status.success(),
                "{c:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// The time now as dhcpd's lease file writes it (UTC, "YYYY/MM/DD
/// HH:MM:SS"), from `date`.
fn utc_now() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y/%m/%d %H:%M:%S"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Whether a lease file's `ends` ("4 2026/12/03 07:08:33": weekday, date,
/// time, UTC) is before `now` (as [`utc_now`] gives it); "never" is not.
fn ends_before(ends: &str, now: &str) -> bool {
    ends.split_once(' ')
        .is_some_and(|(_, at)| at.len() == now.len() && at < now)
}

/// Waits up to `secs` seconds until dhcpd's log and tandem's status both
/// say NORMAL; on a timeout, fails with both logs.
fn both_normal(cfg: &Path, log: &Path, isc_log: &Path, secs: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if isc_state(isc_log).as_deref() == Some("normal")
            && common::status(cfg).is_some_and(|s| s["state"] == "normal")
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "not both in normal after {secs} s\n--- dhcpd:\n{}\n--- tandem:\n{}",
        read(isc_log),
        read(log)
    );
}
