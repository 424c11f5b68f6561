//! A live pair reloaded one peer at a time (issue 16): a pool added on one
//! side is compared over the live link, both report the mismatch while it
//! lasts, and neither the link nor NORMAL is dropped.

use crate::common::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// Adds the pool `range` to the config at `cfg` (whose one pool is
/// `pool`) and reloads its running server with `tandem reload`.
fn add_pool_and_reload(cfg: &Path, pool: &str, range: &str) {
    let text = std::fs::read_to_string(cfg).unwrap();
    let old = format!("pools = [\"{pool}\"]");
    assert!(text.contains(&old), "the test config has {old}");
    let new = format!("pools = [\"{pool}\", \"{range}\"]");
    std::fs::write(cfg, text.replace(&old, &new)).unwrap();
    tandem_ok(&["reload"], cfg);
}

/// Waits up to 10 s until `ok` holds for both peers' `status --json`.
fn wait_both(a: &Path, b: &Path, what: &str, ok: impl Fn(&serde_json::Value) -> bool) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        if [a, b].iter().all(|c| status(c).is_some_and(|s| ok(&s))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what}: {:?}\n{:?}", status(a), status(b));
}

/// Both peers stay paired in NORMAL.
fn paired(s: &serde_json::Value) -> bool {
    s["state"] == "normal" && s["connected"] == true
}

/// Reloads `a`, then `b`, each with the pool `range` added next to `pool`.
pub fn check_pair_reload(a: &Path, b: &Path, pool: &str, range: &str) {
    add_pool_and_reload(a, pool, range);
    wait_both(a, b, "both report the mismatch, still paired", |s| {
        paired(s)
            && s["alarm"]
                .as_str()
                .is_some_and(|t| t.contains("fingerprint"))
    });
    add_pool_and_reload(b, pool, range);
    wait_both(a, b, "the alarm clears once both match", |s| {
        paired(s) && s["alarm"].is_null()
    });
}
