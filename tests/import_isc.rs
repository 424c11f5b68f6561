//! `tandem import-isc` end to end (no root): an ISC lease file into a new
//! database, reported by state; the imported client keeps its address when
//! it asks again and no new client gets it; a second import and a malformed
//! file write nothing.

mod common;

use common::*;
use std::net::Ipv4Addr;
use std::process::Command;

const LINK: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 0);

fn config(dir: &std::path::Path, port: u16) -> std::path::PathBuf {
    let p = dir.join("tandem.toml");
    let text = format!(
        "[server]\nname = \"migrated\"\ninterfaces = [\"lo\"]\nlease_db = \"{d}/leases.sqlite\"\n\
         control_socket = \"{d}/control.sock\"\nport = {port}\nclient_port = {port}\nclient_rate_limit = 0\n\n\
         [[subnet]]\ncidr = \"10.99.0.0/24\"\npools = [\"10.99.0.10-10.99.0.20\"]\nlease_time = \"1h\"\n",
        d = dir.display()
    );
    std::fs::write(&p, text).unwrap();
    p
}

/// A lease file as dhcpd writes it, with times around now.
fn lease_file(dir: &std::path::Path) -> std::path::PathBuf {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (starts, ends) = (now - 600, now + 3000);
    let text = format!(
        "authoring-byte-order little-endian;\n\
         lease 10.99.0.12 {{\n  starts epoch {starts};\n  ends epoch {ends};\n  cltt epoch {starts};\n  \
         binding state active;\n  next binding state free;\n  hardware ethernet 02:42:00:00:00:07;\n  \
         client-hostname \"kept\";\n}}\n\
         lease 10.99.0.13 {{\n  starts epoch {starts};\n  ends epoch {starts};\n  binding state expired;\n  \
         hardware ethernet 02:42:00:00:00:08;\n}}\n\
         lease 10.99.0.14 {{\n  binding state free;\n}}\n\
         lease 10.50.0.1 {{\n  binding state free;\n}}\n"
    );
    let p = dir.join("dhcpd.leases");
    std::fs::write(&p, text).unwrap();
    p
}

fn import(cfg: &std::path::Path, leases: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(["import-isc", "--leases"])
        .arg(leases)
        .arg("-c")
        .arg(cfg)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_isc_lease_file_is_imported_whole_and_served() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = config(dir.path(), port);
    let file = lease_file(dir.path());
    let (ok, out, err) = import(&cfg, &file);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("4 lease blocks, 2 addresses to import")
            && out.contains("1 free addresses of a server without failover"),
        "{out}"
    );
    assert!(
        out.contains("active     1") && out.contains("expired    1"),
        "{out}"
    );
    assert!(err.contains(":1: skipped `authoring-byte-order"), "{err}");
    assert!(
        err.contains("skipped `lease 10.50.0.1 (free)`: outside every"),
        "{err}"
    );
    let held = leases(&cfg);
    let kept = held
        .iter()
        .find(|l| l["address"] == "10.99.0.12")
        .expect("imported");
    assert_eq!(kept["state"], "active");
    assert_eq!(kept["mac"], "02:42:00:00:00:07");
    assert_eq!(kept["hostname"], "kept");

    let (ok, _, err) = import(&cfg, &file);
    assert!(
        !ok && err.contains("already holds 2 lease records"),
        "{err}"
    );

    let mut server = Server::start_lost(&cfg, &dir.path().join("log"));
    let relay = Relay::new(Ipv4Addr::new(127, 0, 0, 2), port);
    let again = relay.dora([2, 0x42, 0, 0, 0, 7], 10, LINK).expect("an ACK");
    assert_eq!(
        again.yiaddr(),
        Ipv4Addr::new(10, 99, 0, 12),
        "the imported client keeps its address"
    );
    for n in 20..28u8 {
        let ack = relay
            .dora([2, 0x42, 0, 0, 1, n], 100 + u32::from(n), LINK)
            .expect("an ACK");
        assert_ne!(
            ack.yiaddr(),
            Ipv4Addr::new(10, 99, 0, 12),
            "held by the imported client"
        );
    }
    assert!(server.stop());
}

#[test]
fn a_malformed_lease_file_writes_nothing_and_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), free_port());
    let file = dir.path().join("dhcpd.leases");
    std::fs::write(&file, "lease 10.99.0.12 {\n  binding state free;\n}\nlease 10.99.0.13 {\n  starts 3 2026/02/30 10:00:00;\n  binding state active;\n}\n").unwrap();
    let (ok, _, err) = import(&cfg, &file);
    assert!(!ok && err.contains("line 5:"), "{err}");
    assert!(
        !dir.path().join("leases.sqlite").exists(),
        "nothing written"
    );
}
