//! Runtime reservations on a live pair (issue 17): added on one peer with
//! `tandem reservation add`, replicated to the other, served by whichever
//! answers, refused inside a dynamic pool, removed from the other peer, and
//! kept across a restart and a lost database (`check_kept`).

use crate::common::*;
use dhcproto::v4;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// `tandem reservation ARGS -c CFG`: (success, stdout + stderr).
fn reservation(args: &[&str], cfg: &Path) -> (bool, String) {
    let out = Command::new(BIN)
        .arg("reservation")
        .args(args)
        .arg("-c")
        .arg(cfg)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The addresses `reservation list --json` shows on `cfg`.
fn listed(cfg: &Path) -> Vec<String> {
    let (ok, text) = reservation(&["list", "--json"], cfg);
    assert!(ok, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["address"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Waits up to 10 s until `cfg`'s server lists exactly `want`.
pub fn wait_listed(cfg: &Path, want: &[&str]) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        if listed(cfg) == want {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{} lists {:?}, not {want:?}", cfg.display(), listed(cfg));
}

/// Adds a reservation on `a` for the client with `client_mac`, checks `b`
/// learns it and a DORA (`dora`, to both servers) gets it, that an address
/// in the pool is refused, and that removing it on `b` removes it on `a`.
/// Leaves one reservation, of 10.99.0.6, on both (`check_kept`).
pub fn check_pair_reservations(
    a: &Path,
    b: &Path,
    client_mac: [u8; 6],
    dora: &dyn Fn([u8; 6]) -> Option<v4::Message>,
) {
    let m = client_mac
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    let (ok, text) = reservation(&["add", "--mac", &m, "--address", "10.99.0.5"], a);
    assert!(ok, "{text}");
    assert!(text.contains("reserved 10.99.0.5"), "{text}");
    wait_listed(b, &["10.99.0.5"]);
    let ack = dora(client_mac).expect("an ACK for the reserved client");
    assert_eq!(ack.yiaddr(), std::net::Ipv4Addr::new(10, 99, 0, 5));
    let (ok, text) = reservation(
        &[
            "add",
            "--mac",
            "02:99:00:00:00:01",
            "--address",
            "10.99.0.20",
        ],
        b,
    );
    assert!(!ok && text.contains("dynamic pool"), "{text}");
    let (ok, text) = reservation(
        &[
            "add",
            "--mac",
            "02:99:00:00:00:02",
            "--address",
            "10.99.0.6",
        ],
        b,
    );
    assert!(ok, "{text}");
    wait_listed(a, &["10.99.0.5", "10.99.0.6"]);
    let (ok, text) = reservation(&["del", "--mac", &m], b);
    assert!(ok, "{text}");
    wait_listed(a, &["10.99.0.6"]);
}

/// The reservation `check_pair_reservations` left is listed on `cfg`'s
/// server (after its restart: from its database; after a lost database:
/// from its partner).
pub fn check_kept(cfg: &Path) {
    wait_listed(cfg, &["10.99.0.6"]);
}
