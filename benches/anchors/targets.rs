//! The servers compared: tandem (alone with SQLite `synchronous` FULL or
//! NORMAL, and as a pair), Kea 2.2 (alone multi-threaded, and a
//! load-balancing HA pair) and ISC dhcpd 4.4.3 (alone, and a failover
//! pair), each started in the lab's server namespaces and waited for until
//! it serves.

use crate::netns::Lab;
use crate::render::{self, LAB, Pool};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One server set to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// tandem alone; `full`: SQLite `synchronous=FULL` (an fsync per commit).
    Tandem { full: bool },
    /// A tandem failover pair (FULL).
    TandemPair,
    /// Kea alone, multi-threaded (2 threads), memfile.
    Kea,
    /// A Kea HA load-balancing pair, multi-threaded.
    KeaHa,
    /// ISC dhcpd alone.
    Isc,
    /// An ISC dhcpd failover pair (split 128, load balancing).
    IscPair,
}

/// Every target, in the order the tables list them.
pub const ALL: [Target; 7] = [
    Target::Tandem { full: true },
    Target::Tandem { full: false },
    Target::TandemPair,
    Target::Kea,
    Target::KeaHa,
    Target::Isc,
    Target::IscPair,
];

impl Target {
    /// The short name used on the command line and in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Target::Tandem { full: true } => "tandem",
            Target::Tandem { full: false } => "tandem-normal",
            Target::TandemPair => "tandem-pair",
            Target::Kea => "kea",
            Target::KeaHa => "kea-ha",
            Target::Isc => "isc",
            Target::IscPair => "isc-pair",
        }
    }

    /// What a lease survives with this target, for the tables.
    pub fn durability(self) -> &'static str {
        match self {
            Target::Tandem { full: true } | Target::TandemPair => "fsync before ACK",
            Target::Tandem { full: false } => "WAL, no fsync (OS crash may lose the last leases)",
            Target::Kea | Target::KeaHa => "write(), never fsync (memfile)",
            Target::Isc | Target::IscPair => "fsync before ACK (lease file)",
        }
    }

    pub fn is_pair(self) -> bool {
        matches!(self, Target::TandemPair | Target::KeaHa | Target::IscPair)
    }

    /// Starts the target's servers in `ns` (one or two namespaces) with
    /// their files under `dir` (kept from an earlier start: a restart) and
    /// `pool`, and waits until they serve; returns their PIDs. Errors: a
    /// server that exits or does not come up within 90 s.
    pub fn start(
        self,
        lab: &mut Lab,
        ns: &[String],
        dir: &Path,
        pool: Pool,
    ) -> Result<Vec<u32>, String> {
        let n = if self.is_pair() { 2 } else { 1 };
        let key = dir.join("peer.key");
        if self == Target::TandemPair && !key.exists() {
            let made = std::process::Command::new(crate::TANDEM)
                .arg("keygen")
                .arg("-o")
                .arg(&key)
                .status()
                .map_err(|e| e.to_string())?;
            if !made.success() {
                return Err(format!("tandem keygen -o {} failed", key.display()));
            }
        }
        let mut pids = Vec::new();
        for (i, ns) in ns.iter().enumerate().take(n) {
            let d = dir.join(format!("s{i}"));
            std::fs::create_dir_all(&d).map_err(|e| e.to_string())?;
            pids.push(self.spawn(lab, ns, &d, i, &key, pool)?);
        }
        let dirs: Vec<_> = (0..n).map(|i| dir.join(format!("s{i}"))).collect();
        self.wait_ready(&dirs, &pids)?;
        Ok(pids)
    }

    fn spawn(
        self,
        lab: &mut Lab,
        ns: &str,
        d: &Path,
        i: usize,
        key: &Path,
        pool: Pool,
    ) -> Result<u32, String> {
        let args = match self {
            Target::Tandem { .. } | Target::TandemPair => {
                let full = self != Target::Tandem { full: false };
                tandem_command(render::tandem(d, i, self.is_pair(), full, key, pool))?
            }
            Target::Kea => kea_command_line(d, render::anchor("kea-single.json", d, i, pool)),
            Target::KeaHa => kea_command_line(d, render::anchor("kea-ha.json", d, i, pool)),
            Target::Isc => isc_command(d, render::anchor("dhcpd-single.conf", d, i, pool))?,
            Target::IscPair => {
                let name = if i == 0 {
                    "dhcpd-failover-primary.conf"
                } else {
                    "dhcpd-failover-secondary.conf"
                };
                isc_command(d, render::anchor(name, d, i, pool))?
            }
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Ok(lab.spawn(ns, &args, &d.join("server.log")))
    }

    /// Waits until every server serves (a pair: in its normal,
    /// load-balancing state): tandem and ISC dhcpd by their log, Kea by
    /// asking its control socket.
    fn wait_ready(self, dirs: &[PathBuf], pids: &[u32]) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(90);
        while !dirs.iter().all(|d| self.ready(d)) {
            if let Some(p) = pids.iter().find(|p| !crate::perf::alive(**p)) {
                return Err(format!(
                    "{} server {p} exited; see {}",
                    self.name(),
                    dirs[0].display()
                ));
            }
            if Instant::now() > deadline {
                let tail: Vec<String> = dirs
                    .iter()
                    .map(|d| std::fs::read_to_string(d.join("server.log")).unwrap_or_default())
                    .map(|t| t.lines().rev().take(5).collect::<Vec<_>>().join("\n"))
                    .collect();
                return Err(format!(
                    "{} not ready after 90 s:\n{}",
                    self.name(),
                    tail.join("\n--\n")
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Stops the servers started as `pids` with SIGTERM (each waited for),
    /// and sets their logs aside so that a restart's readiness is read
    /// from a fresh one.
    pub fn stop(self, lab: &mut Lab, pids: &[u32], dir: &Path) {
        for p in pids {
            lab.signal(*p, "TERM");
        }
        for i in 0..pids.len() {
            set_log_aside(&dir.join(format!("s{i}")));
        }
    }

    /// Whether the server with its files in `d` serves.
    fn ready(self, d: &Path) -> bool {
        match self {
            Target::Tandem { .. } => read_log(d).contains("listening"),
            Target::Isc => read_log(d).contains("Server starting service"),
            Target::Kea => kea_command(d, "status-get").is_some_and(|r| r["result"] == 0),
            _ => self.state(d).as_deref() == Some(self.balanced()),
        }
    }

    /// The failover (HA) state of the pair's server with its files in `d`:
    /// tandem and ISC dhcpd by their latest own state change in the log,
    /// Kea by asking its control socket. `None` before the first, or from
    /// a server that does not answer.
    pub fn state(self, d: &Path) -> Option<String> {
        match self {
            Target::TandemPair => read_log(d)
                .lines()
                .rev()
                .find(|l| l.contains("failover state change"))
                .and_then(|l| l.split_whitespace().find_map(|w| w.strip_prefix("to=")))
                .map(str::to_string),
            Target::IscPair => read_log(d)
                .lines()
                .rev()
                .find(|l| l.contains("I move from"))
                .and_then(|l| l.rsplit(" to ").next())
                .map(|s| s.trim().to_string()),
            Target::KeaHa => kea_command(d, "ha-heartbeat")
                .and_then(|r| r["arguments"]["state"].as_str().map(str::to_string)),
            _ => None,
        }
    }

    /// The state of a pair's server serving its share in balance.
    pub fn balanced(self) -> &'static str {
        match self {
            Target::KeaHa => "load-balancing",
            _ => "normal",
        }
    }

    /// Starts server `i` of the pair again (its files kept in `dir`), in
    /// namespace `ns`, without waiting for it: the heal after a kill -9.
    pub fn restart(
        self,
        lab: &mut Lab,
        ns: &str,
        dir: &Path,
        i: usize,
        pool: Pool,
    ) -> Result<u32, String> {
        let d = dir.join(format!("s{i}"));
        set_log_aside(&d);
        self.spawn(lab, ns, &d, i, &dir.join("peer.key"), pool)
    }

    /// Where perfdhcp sends: the server, or (for a pair) the broadcast that
    /// reaches both, as a relay with two helper addresses does.
    pub fn perf_target(self) -> &'static str {
        if self.is_pair() { "all" } else { LAB.server[0] }
    }
}

fn read_log(d: &Path) -> String {
    std::fs::read_to_string(d.join("server.log")).unwrap_or_default()
}

/// Renames the server log in `d` (numbered, so that none overwrites
/// another), so that a restart's readiness and state are read from a fresh
/// one.
fn set_log_aside(d: &Path) {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = d.join("server.log");
    let _ = std::fs::rename(&log, log.with_extension(format!("log.{n}")));
}

/// Sends `command` to the Kea control socket in `d`; its JSON answer.
fn kea_command(d: &Path, command: &str) -> Option<serde_json::Value> {
    let mut s = std::os::unix::net::UnixStream::connect(d.join("kea4.sock")).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(format!("{{\"command\": \"{command}\"}}").as_bytes())
        .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// `tandem init` (a no-op on an existing database), then the command line
/// of `tandem serve` on `cfg`.
fn tandem_command(cfg: PathBuf) -> Result<Vec<String>, String> {
    let cfg = cfg.display().to_string();
    let init = std::process::Command::new(crate::TANDEM)
        .args(["init", "-c", &cfg])
        .output()
        .map_err(|e| e.to_string())?;
    if !init.status.success() {
        return Err(String::from_utf8_lossy(&init.stderr).into());
    }
    Ok([crate::TANDEM, "serve", "-c", &cfg, "--log", "info"]
        .map(String::from)
        .to_vec())
}

/// Kea on `cfg`, keeping its PID and lock files in `d`.
fn kea_command_line(d: &Path, cfg: PathBuf) -> Vec<String> {
    vec![
        "env".into(),
        format!("KEA_PIDFILE_DIR={}", d.display()),
        format!("KEA_LOCKFILE_DIR={}", d.display()),
        "kea-dhcp4".into(),
        "-c".into(),
        cfg.display().to_string(),
    ]
}

/// ISC dhcpd in the foreground on `cfg`, its lease file (created empty the
/// first time) and PID file in `d`.
fn isc_command(d: &Path, cfg: PathBuf) -> Result<Vec<String>, String> {
    let leases = d.join("dhcpd.leases");
    if !leases.exists() {
        std::fs::write(&leases, "").map_err(|e| e.to_string())?;
    }
    let s = |p: &Path| p.display().to_string();
    Ok(vec![
        "dhcpd".into(),
        "-4".into(),
        "-f".into(),
        "-d".into(),
        "-cf".into(),
        s(&cfg),
        "-lf".into(),
        s(&leases),
        "-pf".into(),
        s(&d.join("dhcpd.pid")),
        "eth0".into(),
    ])
}
