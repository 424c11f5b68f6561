//! The core stays free of I/O (DESIGN.md 1, "Sans-IO core"): no sockets,
//! files, threads, database or system clock under the modules that make
//! decisions. Those belong to the edges (`server`, `net`, `lease::sqlite`,
//! `control`, `cli`); the simulator can only check code that takes its
//! inputs from outside.

use std::path::{Path, PathBuf};

/// Where decisions are made.
const CORE: &[&str] = &[
    "src/dhcp",
    "src/failover",
    "src/lease/store.rs",
    "src/lease/store",
    "src/lease/journal.rs",
    "src/lease/model.rs",
    "src/lease/relearn.rs",
    "src/proto",
    "src/node",
];

/// What only an edge may use.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "socket2",
    "rusqlite",
    "std::fs",
    "std::thread",
    "std::process",
    "std::net::UdpSocket",
    "std::net::TcpStream",
    "std::net::TcpListener",
    "SystemTime",
    "Instant",
    "nix::",
    "libc::",
];

fn rust_files(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            rust_files(&e.unwrap().path(), out);
        }
    } else if p.extension().is_some_and(|e| e == "rs") {
        out.push(p.to_path_buf());
    }
}

#[test]
fn the_core_does_no_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for c in CORE {
        let p = root.join(c);
        assert!(p.exists(), "{c} is gone: update the list of core modules");
        rust_files(&p, &mut files);
    }
    assert!(files.len() > 20, "only {} core files found", files.len());
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in FORBIDDEN {
                if code.contains(word) {
                    found.push(format!("{}:{}: {word}", f.display(), n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "I/O in the sans-IO core:\n{}",
        found.join("\n")
    );
}
