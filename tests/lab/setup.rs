//! What every lab test does around its namespaces: the lab config in a
//! temporary folder, `tandem init` and `serve` in the server's namespace,
//! and waiting for a condition with a deadline.
#![allow(dead_code)]

use super::common::BIN;
use super::netns::Lab;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `config/lab.toml` rewritten to keep its files in `dir`.
pub fn lab_config(dir: &Path) -> PathBuf {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/lab.toml"))
            .unwrap();
    let db = dir.join("leases.sqlite");
    let text = text.replace("/tmp/tandem-lab/", &format!("{}/", dir.display()));
    assert!(
        text.contains(db.to_str().unwrap()),
        "lab.toml's lease_db line changed; update this test"
    );
    let p = dir.join("lab.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// [`lab_config`] with every 1-hour lease made `lease`, so that a real
/// client renews (T1) and rebinds (T2) within a test.
pub fn lab_config_leases(dir: &Path, lease: &str) -> PathBuf {
    let p = lab_config(dir);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(
        text.contains("lease_time = \"1h\""),
        "lab.toml's lease times changed; update this test"
    );
    std::fs::write(
        &p,
        text.replace("lease_time = \"1h\"", &format!("lease_time = \"{lease}\"")),
    )
    .unwrap();
    p
}

pub fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for {what}");
}

/// `key=value` out of a space-separated event line ("" when absent).
pub fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .unwrap_or("")
}

/// The lines of the file at `path` whose first word is `word`.
pub fn lines_starting(path: &Path, word: &str) -> Vec<String> {
    read(path)
        .lines()
        .filter(|l| l.split_whitespace().next() == Some(word))
        .map(str::to_string)
        .collect()
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// `tandem init` (once: a no-op later), then [`serve`].
pub fn start_tandem(lab: &mut Lab, ns: &str, cfg: &Path, log: &Path) -> u32 {
    let init = std::process::Command::new(BIN)
        .args(["init", "-c", cfg.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(init.success(), "tandem init");
    serve(lab, ns, cfg, log)
}

/// `tandem serve` in `ns`, logging to `log`; returns its pid once the log
/// says it listens (once more than before, on a restart that appends to
/// the same log).
pub fn serve(lab: &mut Lab, ns: &str, cfg: &Path, log: &Path) -> u32 {
    let before = read(log).matches("listening").count();
    let pid = lab.spawn(
        ns,
        &[
            BIN,
            "serve",
            "-c",
            cfg.to_str().unwrap(),
            "--log",
            "tandem=debug",
        ],
        log,
    );
    wait_for("tandem to listen", Duration::from_secs(10), || {
        read(log).matches("listening").count() > before
    });
    pid
}
