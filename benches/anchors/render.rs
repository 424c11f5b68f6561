//! The anchors' configuration files: the templates in `configs/` (Kea 2.2
//! and ISC dhcpd 4.4.3, single and pair) with their `@NAME@` placeholders
//! filled, and tandem's own TOML for the same lab.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Addresses and sizes shared by every server in the lab: one bridge, one
/// subnet, the servers and perfdhcp (the relay, `giaddr`) all in it.
pub struct Lab {
    /// The servers' own addresses on the bridge.
    pub server: [&'static str; 2],
    /// perfdhcp's address: it relays, so this is every request's giaddr.
    pub relay: &'static str,
    /// The subnet and its prefix length.
    pub prefix: u8,
    pub subnet: &'static str,
    pub subnet_addr: &'static str,
    pub subnet_mask: &'static str,
}

/// A pool of the lab's subnet: first and last address, its size, and the
/// lease time its addresses are granted for (seconds).
#[derive(Clone, Copy, Debug)]
pub struct Pool {
    pub start: &'static str,
    pub end: &'static str,
    pub size: u64,
    pub lease: u64,
}

/// The pool of the side-by-side runs: 65,280 addresses. ISC dhcpd 4.4's
/// cost per packet grows with the pool (at 131,000 addresses it spends
/// three times the CPU per lease it does at 65,000; at 262,000 it manages
/// about 40 DISCOVERs/s on this machine), so the comparison uses a pool
/// all three serve well; runs stay below it (`main::period_for`).
pub const POOL: Pool = Pool {
    start: "10.128.1.0",
    end: "10.128.255.250",
    size: 65_280,
    lease: 3600,
};

/// The scaling runs' pool: the whole /14 less the servers' own range,
/// 261,880 addresses.
pub const BIG_POOL: Pool = Pool {
    start: "10.128.1.0",
    end: "10.131.255.250",
    size: 261_880,
    lease: 3600,
};

/// One /14 for everything.
pub const LAB: Lab = Lab {
    server: ["10.128.0.1", "10.128.0.2"],
    relay: "10.128.0.10",
    prefix: 14,
    subnet: "10.128.0.0/14",
    subnet_addr: "10.128.0.0",
    subnet_mask: "255.252.0.0",
};

/// `addr` with the lab's prefix length, as `ip addr add` takes it.
pub fn cidr(addr: &str) -> String {
    format!("{addr}/{}", LAB.prefix)
}

/// The placeholders every template shares; `i` is the server (0 or 1).
fn common(dir: &Path, i: usize, pool: Pool) -> HashMap<&'static str, String> {
    let v = pool.lease;
    let mut m: HashMap<&'static str, String> = HashMap::new();
    for (k, val) in [
        ("IFACE", "eth0".to_string()),
        ("RUN", dir.display().to_string()),
        ("VALID", v.to_string()),
        ("T1", (v / 2).to_string()),
        ("T2", (v * 7 / 8).to_string()),
        ("SUBNET", LAB.subnet.into()),
        ("SUBNET_ADDR", LAB.subnet_addr.into()),
        ("SUBNET_MASK", LAB.subnet_mask.into()),
        ("POOL_START", pool.start.into()),
        ("POOL_END", pool.end.into()),
        ("SRV1_IP", LAB.server[0].into()),
        ("SRV2_IP", LAB.server[1].into()),
        ("THIS_NAME", format!("server{}", i + 1)),
        ("KEA_HOOKS", "/usr/lib/x86_64-linux-gnu/kea/hooks".into()),
        ("KEA_MT", "true".into()),
        ("KEA_THREADS", "2".into()),
        ("KEA_LOG", "WARN".into()),
        ("HA_MODE", "load-balancing".into()),
        ("PEER2_ROLE", "secondary".into()),
        ("HA_PORT", "8001".into()),
        ("HA_HEARTBEAT_MS", "1000".into()),
        ("HA_MAX_RESPONSE_MS", "4000".into()),
        ("HA_MAX_ACK_MS", "2000".into()),
        // Partner-down as soon as the partner stops answering: perfdhcp's
        // clients never retry with a rising `secs`, the evidence a
        // positive setting waits for, so Kea would never take over under
        // the timeline's load (and the throughput runs never fail over).
        ("HA_MAX_UNACKED", "0".into()),
        ("FO_PORT", "647".into()),
        ("FO_MCLT_S", "60".into()),
        ("FO_MAX_RESPONSE_S", "4".into()),
        ("FO_AUTO_PARTNER_DOWN_S", "0".into()),
        ("DHCPD_PING_CHECK", "false".into()),
    ] {
        m.insert(k, val);
    }
    m
}

/// Renders template `name` from `configs/` for server `i` with `pool` into
/// `dir`; returns the written path. Panics on a placeholder left unfilled.
pub fn anchor(name: &str, dir: &Path, i: usize, pool: Pool) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/anchors/configs");
    let mut text = std::fs::read_to_string(src.join(name)).unwrap();
    for (k, v) in common(dir, i, pool) {
        text = text.replace(&format!("@{k}@"), &v);
    }
    if let Some(at) = text.find('@').filter(|at| text[at + 1..].contains('@')) {
        let rest: String = text[at..].chars().take(40).collect();
        panic!("{name}: unfilled placeholder near {rest:?}");
    }
    let out = dir.join(name);
    std::fs::write(&out, text).unwrap();
    out
}

/// Tandem's config for server `i` of a pair (`pair`) or alone, with SQLite
/// `synchronous` FULL or NORMAL and `pool`; `key` is the pair's secret file.
pub fn tandem(dir: &Path, i: usize, pair: bool, full: bool, key: &Path, pool: Pool) -> PathBuf {
    let role = if i == 0 { "primary" } else { "secondary" };
    let failover = if pair {
        format!(
            "\n[failover]\nrole = \"{role}\"\nlisten = \"{}:647\"\npeer = \"{}:647\"\nsecret_file = \"{}\"\nmclt = \"60s\"\nsplit = 128\nmax_response_delay = \"4s\"\nload_balance_max_secs = 3\n",
            LAB.server[i],
            LAB.server[1 - i],
            key.display()
        )
    } else {
        String::new()
    };
    let text = format!(
        r#"[server]
name = "bench-{role}"
interfaces = ["eth0"]
lease_db = "{d}/leases.sqlite"
control_socket = "{d}/control.sock"
sync = "{sync}"
client_rate_limit = 0
global_rate_limit = 0
{failover}
[[subnet]]
cidr = "{subnet}"
pools = ["{start}-{end}"]
lease_time = "{valid}s"
routers = ["{router}"]
"#,
        d = dir.display(),
        sync = if full { "full" } else { "normal" },
        subnet = LAB.subnet,
        start = pool.start,
        end = pool.end,
        valid = pool.lease,
        router = LAB.server[0],
    );
    let p = dir.join("tandem.toml");
    std::fs::write(&p, text).unwrap();
    p
}
