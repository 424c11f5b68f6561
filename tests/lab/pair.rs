//! The lab's tandem pair: two peers on a bridge (192.168.77.1 and .2,
//! each with its own database, config and log), perfdhcp relaying a
//! steady load to both through a relay address, and a host for a real
//! client; and the checks the pair's lab tests share, read from packet
//! captures and both databases.
#![allow(dead_code)]

use super::capture::{Capture, Seen, double_acks};
use super::common::{self, BIN};
use super::dhclient::Dhclient;
use super::netns::{self, Lab};
use super::setup::{read, wait_for};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub const ADDR: [&str; 2] = ["192.168.77.1", "192.168.77.2"];
pub const GIADDR: &str = "10.128.0.1";

/// Seconds since the Unix epoch, to compare with capture times.
pub fn epoch() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

pub struct Pair {
    pub lab: Lab,
    pub dir: tempfile::TempDir,
    pub ns: [String; 2],
    pub cfg: [PathBuf; 2],
    pub log: [PathBuf; 2],
    pub pid: [u32; 2],
    pub perf: String,
    pub cli: String,
    /// The tandem binary each peer runs (`serve`, `init`, `status`).
    pub bin: [PathBuf; 2],
}

fn write_config(dir: &Path, i: usize, failover: &str, extra: &str) -> PathBuf {
    let (role, me, peer) = if i == 0 {
        ("primary", ADDR[0], ADDR[1])
    } else {
        ("secondary", ADDR[1], ADDR[0])
    };
    let d = dir.join(role);
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("tandem.toml");
    let text = format!(
        r#"[server]
name = "lab-{role}"
interfaces = ["tdm-srv"]
lease_db = "{d}/leases.sqlite"
control_socket = "{d}/control.sock"
client_rate_limit = 0
global_rate_limit = 0

[failover]
role = "{role}"
listen = "{me}:647"
peer = "{peer}:647"
secret_file = "{key}"
mclt = "20s"
split = 128
max_response_delay = "4s"
load_balance_max_secs = 3
{failover}

[[subnet]]
cidr = "192.168.77.0/24"
pools = ["192.168.77.100-192.168.77.199"]
lease_time = "20s"
min_lease_time = "10s"
routers = ["192.168.77.1"]
dns_servers = ["192.168.77.1"]

[[subnet]]
cidr = "10.128.0.0/12"
pools = ["10.128.1.0-10.128.40.255"]
lease_time = "5m"
"#,
        d = d.display(),
        key = dir.join("peer.key").display()
    );
    std::fs::write(&p, text + extra).unwrap();
    p
}

impl Pair {
    /// Both peers on this build's `tandem`; `None` (having said why) where
    /// the lab cannot run.
    pub fn new(tag: &str, test: &str) -> Option<Pair> {
        Pair::with_binaries(tag, test, [BIN.into(), BIN.into()])
    }

    /// The pair with peer `i` running `bin[i]` (an older release, say).
    pub fn with_binaries(tag: &str, test: &str, bin: [PathBuf; 2]) -> Option<Pair> {
        Pair::build(tag, test, bin, &[], "", &mut |_, _| String::new())
    }

    /// The pair, with `setup` called on the lab and the test directory
    /// before the peers start; what it returns is appended to both
    /// configurations. `tools` are needed besides the pair's own;
    /// `failover` ends both `[failover]` sections (keys, then subtables).
    pub fn build(
        tag: &str,
        test: &str,
        bin: [PathBuf; 2],
        tools: &[&str],
        failover: &str,
        setup: &mut dyn FnMut(&mut Lab, &Path) -> String,
    ) -> Option<Pair> {
        let mut all = vec!["ip", "tshark", "perfdhcp", "dhclient"];
        all.extend_from_slice(tools);
        if let Some(why) = netns::unavailable(&all) {
            eprintln!("SKIPPED {test}: {why}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let key = std::process::Command::new(BIN)
            .arg("keygen")
            .arg("-o")
            .arg(dir.path().join("peer.key"))
            .status()
            .unwrap();
        assert!(key.success(), "tandem keygen -o");
        let mut lab = Lab::new(tag);
        let ns = [
            lab.host("a", "tdm-srv", Some("192.168.77.1/24"), None),
            lab.host("b", "tdm-srv", Some("192.168.77.2/24"), None),
        ];
        let perf = lab.host("p", "eth0", Some("10.128.0.1/12"), None);
        let cli = lab.host("c", "eth0", None, Some("02:00:00:77:02:01"));
        for n in &ns {
            netns::route(n, &["10.128.0.0/12", "dev", "tdm-srv"]);
        }
        netns::route(&perf, &["192.168.77.0/24", "dev", "eth0"]);
        let extra = setup(&mut lab, dir.path());
        let cfg = [
            write_config(dir.path(), 0, failover, &extra),
            write_config(dir.path(), 1, failover, &extra),
        ];
        let log = [dir.path().join("a.log"), dir.path().join("b.log")];
        let mut p = Pair {
            lab,
            dir,
            ns,
            cfg,
            log,
            pid: [0, 0],
            perf,
            cli,
            bin,
        };
        for i in 0..2 {
            let init = std::process::Command::new(&p.bin[i])
                .args(["init", "-c", p.cfg[i].to_str().unwrap()])
                .status()
                .unwrap();
            assert!(init.success(), "tandem init");
            p.serve(i);
        }
        p.wait_state(0, "normal", 30);
        p.wait_state(1, "normal", 30);
        Some(p)
    }

    /// `tandem serve` for peer `i`, its log appended; waits until it listens.
    pub fn serve(&mut self, i: usize) {
        let before = read(&self.log[i]).matches("listening").count();
        let cfg = self.cfg[i].to_str().unwrap().to_string();
        let bin = self.bin[i].to_str().unwrap().to_string();
        self.pid[i] = self.lab.spawn(
            &self.ns[i].clone(),
            &[&bin, "serve", "-c", &cfg, "--log", "tandem=info"],
            &self.log[i].clone(),
        );
        wait_for("tandem to listen", Duration::from_secs(10), || {
            read(&self.log[i]).matches("listening").count() > before
        });
    }

    pub fn wait_state(&self, i: usize, want: &str, secs: u64) {
        common::wait_state(
            &self.cfg[i],
            want,
            Duration::from_secs(secs),
            Some(&self.log[i]),
        );
    }

    /// Peer `i`'s database: address to (MAC, expiry) for every record
    /// that has held a client. New leases in a pair run MCLT (20 s here)
    /// until the partner acknowledges more, so most of them have expired
    /// by the time a test looks: what must agree is the record.
    pub fn bindings(&self, i: usize) -> HashMap<String, (String, String)> {
        common::leases(&self.cfg[i])
            .into_iter()
            .filter(|l| l["mac"].is_string())
            .map(|l| {
                let s = |k: &str| l[k].as_str().unwrap_or("").to_string();
                (s("address"), (s("mac"), s("expires")))
            })
            .collect()
    }

    /// perfdhcp relaying (giaddr 10.128.0.1) to both peers by broadcast:
    /// `rate` new clients a second out of 3,000, 10 renewals a second, for
    /// `secs` seconds. Returns its pid.
    pub fn perfdhcp(&mut self, rate: u32, secs: u32) -> u32 {
        let log = self.dir.path().join("perfdhcp.log");
        let (r, p) = (rate.to_string(), secs.to_string());
        let perf = self.perf.clone();
        self.lab.spawn(
            &perf,
            &[
                "perfdhcp", "-4", "-r", &r, "-R", "3000", "-p", &p, "-f", "10", "-l", GIADDR, "all",
            ],
            &log,
        )
    }

    /// Starts watching the pair's clients: captures on the relay's and the
    /// client's links (for up to 240 s) and a real dhclient, bound before
    /// this returns (its first BOUND event line comes back with them).
    pub fn watch(&mut self) -> ([Capture; 2], Dhclient, String) {
        let dir = self.dir.path().to_path_buf();
        let (perf, cli) = (self.perf.clone(), self.cli.clone());
        let caps = [
            Capture::start(&mut self.lab, &perf, "eth0", &dir, 240),
            Capture::start(&mut self.lab, &cli, "eth0", &dir, 240),
        ];
        // Short retransmissions, or its backoff skips T2 on a 20-second lease.
        let dh = Dhclient::new(&dir, "initial-interval 1;\nbackoff-cutoff 2;\n");
        dh.spawn(&mut self.lab, &cli);
        wait_for("dhclient to bind", Duration::from_secs(20), || {
            !dh.events("BOUND").is_empty()
        });
        let bound = dh.events("BOUND").remove(0);
        (caps, dh, bound)
    }
}

/// The failed peer sent nothing while down; clients new since the fault
/// got addresses once the survivor noticed it.
pub fn check_outage(seen: &[Seen], victim: &str, t_fault: f64, t_heal: f64, fault: &str) {
    let during: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.src == victim && s.time > t_fault + 0.5 && s.time < t_heal)
        .collect();
    assert!(
        during.is_empty(),
        "{fault}: the failed peer answered while down: {during:#?}"
    );
    let known: HashSet<&str> = seen
        .iter()
        .filter(|s| s.time < t_fault)
        .map(|s| s.chaddr.as_str())
        .collect();
    let new: HashSet<&str> = seen
        .iter()
        .filter(|s| s.kind == 1 && s.time > t_fault + 5.0 && s.time < t_heal - 5.0)
        .map(|s| s.chaddr.as_str())
        .filter(|c| !known.contains(c))
        .collect();
    let served: HashSet<&str> = seen
        .iter()
        .filter(|s| s.kind == 5 && s.time < t_heal && new.contains(s.chaddr.as_str()))
        .map(|s| s.chaddr.as_str())
        .collect();
    assert!(
        new.len() >= 50,
        "{fault}: too few new clients during the outage to judge: {}",
        new.len()
    );
    assert!(
        served.len() * 10 >= new.len() * 9,
        "{fault}: only {} of {} clients new during the outage got an address",
        served.len(),
        new.len()
    );
}

/// Both databases hold every address's latest ACK in the capture, bound
/// to the client it was ACKed to.
pub fn check_converged(p: &Pair, seen: &[Seen]) {
    let mut latest: HashMap<&str, &Seen> = HashMap::new();
    for s in seen.iter().filter(|s| s.kind == 5 && s.yiaddr != "0.0.0.0") {
        if latest
            .get(s.yiaddr.as_str())
            .is_none_or(|l| l.time < s.time)
        {
            latest.insert(&s.yiaddr, s);
        }
    }
    assert!(
        latest.len() > 100,
        "too few leases to judge: {}",
        latest.len()
    );
    let missing = |i: usize| -> Vec<String> {
        let db = p.bindings(i);
        latest
            .values()
            .filter(|s| db.get(&s.yiaddr).map(|b| b.0.as_str()) != Some(s.chaddr.as_str()))
            .map(|s| {
                format!(
                    "{} ACKed to {} at {}: {:?}",
                    s.yiaddr,
                    s.chaddr,
                    s.time,
                    db.get(&s.yiaddr)
                )
            })
            .collect()
    };
    for _ in 0..150 {
        if missing(0).is_empty() && missing(1).is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "databases lack ACKed leases: primary {:#?}\nsecondary {:#?}",
        missing(0),
        missing(1)
    );
}

/// What a planned change of a peer (maintenance, an upgrade) must leave
/// its clients: no address ACKed to two clients, dhclient still on `ip`,
/// and both databases holding every lease ACKed.
pub fn check_clients_kept(p: &Pair, seen: &[Seen], dh: &Dhclient, ip: &str) {
    let doubles = double_acks(seen);
    assert!(
        doubles.is_empty(),
        "addresses ACKed to two clients: {doubles:#?}"
    );
    dh.check_kept(ip);
    check_converged(p, seen);
}
