//! Two real `tandem` processes on loopback forming a pair, fed relayed traffic
//! the way a relay configured with both servers sends it: replication,
//! kill -9 and takeover within MCLT, restart and convergence, a wiped
//! database restored by full transfer, runtime reservations replicated, and
//! a peer with the wrong key refused.

mod common;
#[path = "failover/observe.rs"]
mod observe;
#[path = "failover/reload.rs"]
mod reload;
#[path = "failover/reservations.rs"]
mod reservations;

use common::*;
use dhcproto::v4;
use observe::{add_metrics, check_metrics, check_status_screen};
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const LINK: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 0);
const MCLT: u32 = 10;

struct Peer {
    cfg: PathBuf,
    dir: PathBuf,
}

fn write_config(
    dir: &Path,
    name: &str,
    role: &str,
    port: u16,
    listen: u16,
    peer: u16,
    key: &str,
) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("peer.key"), key).unwrap();
    private(&dir.join("peer.key"));
    let sid = if role == "primary" {
        "10.99.0.2"
    } else {
        "10.99.0.3"
    };
    let p = dir.join("tandem.toml");
    std::fs::write(
        &p,
        format!(
            r#"
[server]
name = "{name}"
interfaces = ["lo"]
lease_db = "{d}/leases.sqlite"
control_socket = "{d}/control.sock"
port = {port}
client_port = {port}
server_id = "{sid}"
client_rate_limit = 0

[failover]
role = "{role}"
listen = "127.0.0.1:{listen}"
peer = "127.0.0.1:{peer}"
secret_file = "{d}/peer.key"
mclt = "{MCLT}s"
split = 128
max_response_delay = "3s"
load_balance_max_secs = 5

[[subnet]]
cidr = "10.99.0.0/24"
pools = ["10.99.0.10-10.99.0.249"]
lease_time = "1h"
routers = ["10.99.0.1"]
"#,
            d = dir.display()
        ),
    )
    .unwrap();
    p
}

/// The relay: one socket per server (each server replies to its own port).
struct Net {
    a: Relay,
    b: Relay,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum To {
    A,
    B,
    Both,
}

impl Net {
    fn relays(&self, to: To) -> Vec<&Relay> {
        match to {
            To::A => vec![&self.a],
            To::B => vec![&self.b],
            To::Both => vec![&self.a, &self.b],
        }
    }

    fn send(&self, to: To, f: &dyn Fn(&Relay) -> v4::Message) {
        for r in self.relays(to) {
            r.send(&f(r));
        }
    }

    /// The first reply with `xid` from the servers in `to`.
    fn recv(&self, to: To, xid: u32, wait: Duration) -> Option<v4::Message> {
        let t0 = Instant::now();
        let mut buf = [0u8; 1500];
        while t0.elapsed() < wait {
            for r in self.relays(to) {
                if let Ok((n, _)) = r.sock.recv_from(&mut buf)
                    && let Ok(m) = <v4::Message as dhcproto::Decodable>::decode(
                        &mut dhcproto::Decoder::new(&buf[..n]),
                    )
                    && m.xid() == xid
                {
                    return Some(m);
                }
            }
        }
        None
    }

    fn exchange(
        &self,
        to: To,
        xid: u32,
        f: &dyn Fn(&Relay) -> v4::Message,
        tries: usize,
    ) -> Option<v4::Message> {
        for _ in 0..tries {
            self.send(to, f);
            if let Some(m) = self.recv(to, xid, Duration::from_millis(400)) {
                return Some(m);
            }
        }
        None
    }

    fn dora(&self, to: To, mac: [u8; 6], xid: u32) -> Option<v4::Message> {
        let offer = self.exchange(
            to,
            xid,
            &|r| r.msg(v4::MessageType::Discover, mac, xid, LINK),
            6,
        )?;
        let sid = match offer.opts().get(v4::OptionCode::ServerIdentifier) {
            Some(v4::DhcpOption::ServerIdentifier(s)) => *s,
            _ => return None,
        };
        let yi = offer.yiaddr();
        self.exchange(
            to,
            xid + 1,
            &|r| {
                let mut m = r.msg(v4::MessageType::Request, mac, xid + 1, LINK);
                m.opts_mut().insert(v4::DhcpOption::ServerIdentifier(sid));
                m.opts_mut().insert(v4::DhcpOption::RequestedIpAddress(yi));
                m
            },
            6,
        )
    }

    fn renew(
        &self,
        to: To,
        mac: [u8; 6],
        ciaddr: Ipv4Addr,
        xid: u32,
        tries: usize,
    ) -> Option<v4::Message> {
        self.exchange(
            to,
            xid,
            &|r| {
                let mut m = r.msg(v4::MessageType::Request, mac, xid, LINK);
                m.set_ciaddr(ciaddr);
                m
            },
            tries,
        )
    }
}

/// Mode 0600: the server refuses a key file group or others can read.
fn private(p: &Path) {
    std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
}

fn lease_time(m: &v4::Message) -> u32 {
    match m.opts().get(v4::OptionCode::AddressLeaseTime) {
        Some(v4::DhcpOption::AddressLeaseTime(t)) => *t,
        other => panic!("no lease time: {other:?}"),
    }
}

fn is_ack(m: &v4::Message) -> bool {
    m.opts().msg_type() == Some(v4::MessageType::Ack)
}

fn active(cfg: &Path) -> BTreeSet<(String, String)> {
    leases(cfg)
        .into_iter()
        .filter(|l| l["state"] == "active")
        .map(|l| {
            (
                l["address"].as_str().unwrap().to_string(),
                l["mac"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn wait_converged(a: &Path, b: &Path) -> BTreeSet<(String, String)> {
    let t0 = Instant::now();
    loop {
        let (x, y) = (active(a), active(b));
        if x == y {
            return x;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "databases did not converge:\nA-B {:?}\nB-A {:?}",
            x.difference(&y),
            y.difference(&x)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn pair_replicates_survives_kill_converges_and_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let (pa, pb, la, lb) = (free_port(), free_port(), free_port_tcp(), free_port_tcp());
    let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let a = Peer {
        cfg: write_config(&tmp.path().join("a"), "a", "primary", pa, la, lb, key),
        dir: tmp.path().join("a"),
    };
    let b = Peer {
        cfg: write_config(&tmp.path().join("b"), "b", "secondary", pb, lb, la, key),
        dir: tmp.path().join("b"),
    };
    let metrics = [add_metrics(&a.cfg), add_metrics(&b.cfg)];
    let mut sa = Server::start(&a.cfg, &a.dir.join("log"));
    let mut sb = Server::start(&b.cfg, &b.dir.join("log"));
    let net = Net {
        a: Relay::new(Ipv4Addr::new(127, 0, 0, 2), pa),
        b: Relay::new(Ipv4Addr::new(127, 0, 0, 3), pb),
    };
    for r in [&net.a, &net.b] {
        r.sock
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
    }
    wait_state(&a.cfg, "normal", Duration::from_secs(20), None);
    wait_state(&b.cfg, "normal", Duration::from_secs(5), None);
    // partner-down is refused while the partner is connected
    let pd = std::process::Command::new(BIN)
        .args(["partner-down", "-c"])
        .arg(&a.cfg)
        .output()
        .unwrap();
    assert!(
        !pd.status.success(),
        "partner-down must be refused while connected"
    );
    let st = common::status(&a.cfg).unwrap();
    for key in [
        "state",
        "partner_state",
        "last_contact",
        "clock_offset_ms",
        "clock_offset_range_s",
        "unacked_updates",
        "pools",
    ] {
        assert!(st.get(key).is_some(), "status --json has {key}: {st}");
    }
    assert_eq!(st["partner_state"], "normal");

    // --- replication: clients spread over both servers by the RFC 3074 hash
    let mut granted = Vec::new();
    for n in 0..24u32 {
        let ack = net
            .dora(To::Both, mac(n), 1000 + n * 10)
            .unwrap_or_else(|| {
                panic!(
                    "client {n}: no ACK\nA:\n{}\nB:\n{}",
                    sa.log_text(),
                    sb.log_text()
                )
            });
        assert!(is_ack(&ack));
        assert_eq!(
            lease_time(&ack),
            MCLT,
            "a new lease is capped at MCLT until the partner acknowledges more"
        );
        granted.push((
            n,
            ack.yiaddr(),
            ack.opts().get(v4::OptionCode::ServerIdentifier).cloned(),
        ));
    }
    let by_a = granted
        .iter()
        .filter(|g| {
            g.2 == Some(v4::DhcpOption::ServerIdentifier(Ipv4Addr::new(
                10, 99, 0, 2,
            )))
        })
        .count();
    assert!(
        by_a > 0 && by_a < granted.len(),
        "both servers took part in load balancing ({by_a} of {})",
        granted.len()
    );
    let replicated = wait_converged(&a.cfg, &b.cfg);
    assert_eq!(
        replicated.len(),
        granted.len(),
        "every lease is on both servers"
    );
    for port in metrics {
        check_metrics(port, granted.len());
    }
    check_status_screen(&a.cfg);
    reload::check_pair_reload(
        &a.cfg,
        &b.cfg,
        "10.99.0.10-10.99.0.249",
        "10.99.0.250-10.99.0.254",
    );
    reservations::check_pair_reservations(&a.cfg, &b.cfg, mac(900), &|m| {
        net.dora(To::Both, m, 7000)
    });
    // after the partner's ack, a renewal gets the full time
    let (n0, addr0, _) = granted[0];
    let ack = net.renew(To::Both, mac(n0), addr0, 5000, 5).unwrap();
    assert!(
        is_ack(&ack) && lease_time(&ack) == 3600,
        "full lease after ack: {}",
        lease_time(&ack)
    );

    // --- kill -9 the secondary: the primary renews its clients and serves new ones from its own pool
    let b_client = granted
        .iter()
        .find(|g| {
            g.2 == Some(v4::DhcpOption::ServerIdentifier(Ipv4Addr::new(
                10, 99, 0, 3,
            )))
        })
        .cloned()
        .unwrap();
    sb.kill9();
    let t_dead = Instant::now();
    let mut renewed = None;
    while t_dead.elapsed() < Duration::from_secs(15) {
        if let Some(m) = net.renew(To::A, mac(b_client.0), b_client.1, 6000, 1) {
            renewed = Some(m);
            break;
        }
    }
    let renewed = renewed.expect("the survivor renews the dead peer's client");
    println!(
        "METRIC takeover: dead peer's client renewed by the survivor {:?} after kill -9",
        t_dead.elapsed()
    );
    assert!(is_ack(&renewed));
    assert_eq!(renewed.yiaddr(), b_client.1);
    let st = common::status(&a.cfg).unwrap();
    assert_eq!(st["state"], "communications-interrupted");
    let new = net
        .dora(To::A, mac(500), 7000)
        .expect("new client served alone");
    assert!(
        lease_time(&new) <= MCLT,
        "capped by MCLT while the partner cannot acknowledge"
    );
    let owner = leases(&a.cfg)
        .into_iter()
        .find(|l| l["address"] == new.yiaddr().to_string())
        .unwrap()["owner"]
        .clone();
    assert_eq!(
        owner, "primary",
        "allocated from the survivor's own free addresses"
    );

    // --- restart the secondary: both converge; measure the longest service gap meanwhile
    let mut sb = Server::start(&b.cfg, &b.dir.join("log2"));
    let t_restart = Instant::now();
    let mut last_ok = Instant::now();
    let mut gap = Duration::ZERO;
    let mut k = 0;
    while common::status(&b.cfg).is_none_or(|s| s["state"] != "normal")
        || common::status(&a.cfg).is_none_or(|s| s["state"] != "normal")
    {
        assert!(
            t_restart.elapsed() < Duration::from_secs(20),
            "pair did not return to normal"
        );
        k += 1;
        if net.dora(To::Both, mac(1000 + k), 20_000 + k * 10).is_some() {
            gap = gap.max(last_ok.elapsed());
            last_ok = Instant::now();
        }
    }
    gap = gap.max(last_ok.elapsed());
    println!(
        "METRIC recovery: back to normal {:?} after restart; longest gap between served clients {gap:?}",
        t_restart.elapsed()
    );
    let both = wait_converged(&a.cfg, &b.cfg);
    assert!(
        both.iter().any(|(ad, _)| *ad == new.yiaddr().to_string()),
        "the restarted peer learned what the survivor did alone"
    );
    reservations::check_kept(&b.cfg);

    // --- wipe the secondary's database: a full transfer restores it
    sb.kill9();
    for f in ["leases.sqlite", "leases.sqlite-wal", "leases.sqlite-shm"] {
        let _ = std::fs::remove_file(b.dir.join(f));
    }
    let addresses = |cfg: &Path| -> BTreeSet<String> {
        leases(cfg)
            .into_iter()
            .map(|l| l["address"].as_str().unwrap().to_string())
            .collect()
    };
    let before = addresses(&a.cfg);
    let mut sb = Server::start_lost(&b.cfg, &b.dir.join("log3"));
    let t = wait_state(
        &b.cfg,
        "normal",
        Duration::from_secs(MCLT as u64 + 20),
        None,
    );
    println!("METRIC wiped peer back to normal after {t:?} (MCLT {MCLT} s)");
    assert!(
        t >= Duration::from_secs(MCLT as u64 - 1),
        "a peer that lost its database waits MCLT before serving"
    );
    wait_converged(&a.cfg, &b.cfg);
    assert!(
        before.is_subset(&addresses(&b.cfg)),
        "every binding (active or not) restored on the wiped peer"
    );
    reservations::check_kept(&b.cfg);
    // the restored peer renews a lease it only knows from the transfer
    let ack = net
        .renew(To::B, mac(n0), addr0, 8000, 5)
        .expect("restored peer answers");
    assert!(is_ack(&ack) && ack.yiaddr() == addr0);

    // --- a peer with the wrong key is refused
    sb.kill9();
    let bad = write_config(
        &tmp.path().join("bad"),
        "b",
        "secondary",
        pb,
        lb,
        la,
        "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100",
    );
    let _sbad = Server::start(&bad, &tmp.path().join("bad/log"));
    std::thread::sleep(Duration::from_secs(3));
    let st = common::status(&a.cfg).unwrap();
    assert_eq!(st["connected"], false, "{st}");
    assert_ne!(st["state"], "normal");
    let log = sa.log_text();
    assert!(
        log.contains("authentication failed"),
        "the refusal is logged"
    );

    // --- restart A while it cannot reach its partner: it serves blind (its
    // partner may have been declared down meanwhile): renewals within MCLT of
    // what the partner acknowledged, no new clients
    assert!(sa.stop(), "clean shutdown");
    let mut sa = Server::start(&a.cfg, &a.dir.join("log2"));
    wait_state(
        &a.cfg,
        "communications-interrupted",
        Duration::from_secs(20),
        None,
    );
    let st = common::status(&a.cfg).unwrap();
    assert!(
        st["serving"].as_str().unwrap().starts_with("renewals only"),
        "{st}"
    );
    let ack = net
        .renew(To::A, mac(n0), addr0, 9000, 5)
        .expect("a known lease is renewed blind");
    assert!(is_ack(&ack) && ack.yiaddr() == addr0);
    assert!(
        net.dora(To::A, mac(900), 9100).is_none(),
        "no new client while blind"
    );
    assert!(
        sa.log_text()
            .contains("resuming without word from the partner"),
        "the log says why"
    );

    // --- the operator declares the partner down
    let pd = std::process::Command::new(BIN)
        .args(["partner-down", "-c"])
        .arg(&a.cfg)
        .output()
        .unwrap();
    assert!(
        pd.status.success(),
        "{}",
        String::from_utf8_lossy(&pd.stderr)
    );
    let st = common::status(&a.cfg).unwrap();
    assert_eq!(st["state"], "partner-down");
    assert!(st["partner_down_since"].is_string(), "{st}");
    // Down about as long as MCLT, A cannot tell whether B, declared down
    // itself meanwhile, gave A's free addresses out: they wait MCLT too
    // (`PairPolicy::own_at_risk`).
    std::thread::sleep(Duration::from_secs(u64::from(MCLT) + 1));
    assert!(
        net.dora(To::A, mac(901), 9200).is_some(),
        "new clients served after partner-down"
    );
    assert!(sa.stop(), "clean shutdown");
}

#[test]
fn a_key_file_others_can_read_is_refused_by_serve_and_check_config() {
    let tmp = tempfile::tempdir().unwrap();
    let key = "00112233445566778899aabbccddeeff";
    let cfg = write_config(tmp.path(), "a", "primary", free_port(), 1, 2, key);
    let key_file = tmp.path().join("peer.key");
    std::fs::set_permissions(
        &key_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let fix = format!("chmod 600 {}", key_file.display());
    for cmd in ["check-config", "serve"] {
        let out = std::process::Command::new(BIN)
            .args([cmd, "-c"])
            .arg(&cfg)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{cmd} accepted a world-readable key");
        assert!(err.contains(&fix), "{cmd}: {err}");
    }
    assert!(
        !tmp.path().join("leases.sqlite").exists(),
        "serve refused before touching the database"
    );
}
