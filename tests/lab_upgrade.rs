//! A rolling upgrade under load (issue 16): the lab pair with one peer on
//! the previous release of the peer protocol (version 3, the last build
//! before protocol 4, built from this repository's history) and the other
//! on this build, perfdhcp relaying a steady load and a real dhclient on
//! the link. The old peer's database was written by the old build. The old
//! peer is then stopped and started again on this build, on the same
//! database. Checked: the mixed pair agrees on protocol 3 and reaches
//! NORMAL; after the upgrade both speak this build's newest and are back
//! in NORMAL; no address was ACKed to two clients; dhclient kept its
//! address; both databases hold every lease ACKed. Needs root and the repository's
//! history (a full clone); elsewhere it says why and skips.

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

use capture::Seen;
use common::BIN;
use pair::{Pair, check_clients_kept, epoch};
use setup::field;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The last commit that speaks peer protocol 3 (with version agreement,
/// `message::agree`); the next one introduced protocol 4 (SHUTDOWN).
const PREVIOUS: &str = "ada15d07c68871b98f609e9115be32fe91d2d73b";

/// The protocol version of the previous release.
const OLD_PROTOCOL: u64 = 3;
/// This build's.
const NEW_PROTOCOL: u64 = tandem::failover::message::PROTOCOL_VERSION as u64;

/// Runs `cmd`; its stderr as the error if it fails or cannot start.
fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// The previous release's `tandem`, built once from this repository's
/// history into `target/previous-release-COMMIT` (kept for later runs); why not,
/// when the history or the build is not at hand.
fn previous_release() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join(format!("target/previous-release-{}", &PREVIOUS[..12]));
    let bin = dir.join("target/debug/tandem");
    if bin.exists() {
        return Ok(bin);
    }
    let commit = format!("{PREVIOUS}^{{commit}}");
    run(Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["cat-file", "-e", &commit]))
    .map_err(|e| format!("commit {PREVIOUS} is not in this clone (a shallow clone?): {e}"))?;
    let src = dir.join("src");
    let _ = std::fs::remove_dir_all(&src);
    std::fs::create_dir_all(&src).map_err(|e| e.to_string())?;
    let archive = dir.join("src.tar");
    run(Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["archive", "-o"])
        .arg(&archive)
        .arg(PREVIOUS))?;
    run(Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&src))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(cargo)
        .args(["build", "--locked", "--bin", "tandem", "--manifest-path"])
        .arg(src.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(dir.join("target")))?;
    Ok(bin)
}

/// The protocol version peer `i` reports having agreed with its partner.
fn protocol(p: &Pair, i: usize) -> Option<u64> {
    common::status(&p.cfg[i]).and_then(|s| s["protocol"].as_u64())
}

#[test]
fn lab_pair_rolling_upgrade_from_the_previous_protocol_under_load() {
    let test = "lab_pair_rolling_upgrade_from_the_previous_protocol_under_load";
    if let Some(why) = netns::unavailable(&["ip", "tshark", "perfdhcp", "dhclient"]) {
        eprintln!("SKIPPED {test}: {why}");
        return;
    }
    let old = match previous_release() {
        Ok(b) => b,
        Err(why) => {
            eprintln!("SKIPPED {test}: the previous release cannot be built here: {why}");
            return;
        }
    };
    let Some(mut p) = Pair::with_binaries("up", test, [old, BIN.into()]) else {
        return;
    };
    assert_eq!(
        protocol(&p, 1),
        Some(OLD_PROTOCOL),
        "the mixed pair speaks 3"
    );
    let (caps, dh, bound) = p.watch();
    let dhclient_ip = field(&bound, "ip").to_string();
    let perf_pid = p.perfdhcp(30, 60);
    std::thread::sleep(Duration::from_secs(10));

    // The upgrade: a clean stop of the old build, this build on its database.
    let t_stop = epoch();
    let stopped = p.lab.signal(p.pid[0], "TERM");
    assert!(
        stopped.is_some_and(|s| s.success()),
        "old build stops cleanly"
    );
    p.bin[0] = BIN.into();
    p.serve(0);
    p.wait_state(0, "normal", 60);
    p.wait_state(1, "normal", 30);
    eprintln!(
        "TIMELINE upgrade: both in NORMAL {:.1} s after the old build stopped",
        epoch() - t_stop
    );
    assert_eq!(protocol(&p, 0), Some(NEW_PROTOCOL));
    assert_eq!(protocol(&p, 1), Some(NEW_PROTOCOL));
    // Leases keep flowing on the upgraded pair, past dhclient's renewal.
    std::thread::sleep(Duration::from_secs(15));
    p.lab.signal(perf_pid, "INT");
    let seen: Vec<Seen> = caps.into_iter().flat_map(|c| c.stop(&mut p.lab)).collect();
    let after = seen
        .iter()
        .filter(|s| s.kind == 5 && s.time > t_stop)
        .count();
    assert!(
        after > 100,
        "too few ACKs after the upgrade to judge: {after}"
    );
    check_clients_kept(&p, &seen, &dh, &dhclient_ip);
}
