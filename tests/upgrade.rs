//! Upgrades (issue 16): a lease database written by the previous schema
//! (`tests/fixtures/leases-schema-v1.sql`) opens, lists and serves with
//! this tandem, its leases kept; a database from a newer tandem is refused
//! by version, untouched.

mod common;

use common::*;
use std::net::Ipv4Addr;
use std::process::Command;

const LINK: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 0);

fn config(dir: &std::path::Path, port: u16) -> std::path::PathBuf {
    let p = dir.join("tandem.toml");
    let text = format!(
        "[server]\ninterfaces = [\"lo\"]\nlease_db = \"{d}/leases.sqlite\"\ncontrol_socket = \"{d}/c.sock\"\n\
         port = {port}\nclient_port = {port}\nclient_rate_limit = 0\n\n\
         [[subnet]]\ncidr = \"10.99.0.0/24\"\npools = [\"10.99.0.10-10.99.0.20\"]\nlease_time = \"1h\"\n",
        d = dir.display()
    );
    std::fs::write(&p, text).unwrap();
    p
}

fn fixture_db(dir: &std::path::Path) -> std::path::PathBuf {
    let sql = include_str!("fixtures/leases-schema-v1.sql");
    let db = dir.join("leases.sqlite");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(sql)
        .unwrap();
    db
}

#[test]
fn a_schema_1_database_opens_lists_and_serves_with_its_leases() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = config(dir.path(), port);
    fixture_db(dir.path());
    let held = leases(&cfg);
    assert_eq!(held.len(), 2);
    let kept = held.iter().find(|l| l["address"] == "10.99.0.12").unwrap();
    assert_eq!(
        (kept["state"].as_str(), kept["mac"].as_str()),
        (Some("active"), Some("02:42:00:00:00:07"))
    );
    let mut server = Server::start_lost(&cfg, &dir.path().join("log"));
    let relay = Relay::new(Ipv4Addr::new(127, 0, 0, 2), port);
    let ack = relay.dora([2, 0x42, 0, 0, 0, 7], 5, LINK).expect("an ACK");
    assert_eq!(
        ack.yiaddr(),
        Ipv4Addr::new(10, 99, 0, 12),
        "the client keeps its lease"
    );
    assert!(server.stop());
    assert!(
        !server.log_text().contains("lost"),
        "not taken for a lost database: {}",
        server.log_text()
    );
    assert_eq!(leases(&cfg).len(), 2);
}

#[test]
fn a_database_from_a_newer_tandem_is_refused_by_version_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), free_port());
    let db = fixture_db(dir.path());
    rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let before = std::fs::read(&db).unwrap();
    let out = Command::new(BIN)
        .args(["serve", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("schema version 99, newer than this tandem") && err.contains("upgrade tandem"),
        "{err}"
    );
    assert!(
        std::fs::read(&db).unwrap() == before,
        "the database was changed"
    );
}

/// A schema-2 database (DNS records with at most one stale name, in the
/// older JSON form) lists with its stale name due, and the server moves it
/// to schema 3 when it opens it.
#[test]
fn a_schema_2_database_keeps_its_dns_records_and_moves_to_schema_3() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = config(dir.path(), port);
    let db = fixture_db(dir.path());
    let old = r#"{"fqdn":"pc7.campus.example","forward":true,"reverse":true,"tag":512,"status":"Added","stale":{"fqdn":"old.campus.example","dhcid":[0,1,1,9]}}"#;
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("ALTER TABLE lease ADD COLUMN dns TEXT; PRAGMA user_version = 2;")
        .unwrap();
    let changed = c
        .execute(
            "UPDATE lease SET dns = ?1 WHERE address = ?2",
            rusqlite::params![old, u32::from(Ipv4Addr::new(10, 99, 0, 12))],
        )
        .unwrap();
    assert_eq!(changed, 1, "the fixture holds 10.99.0.12");
    drop(c);
    let held = leases(&cfg);
    let kept = held.iter().find(|l| l["address"] == "10.99.0.12").unwrap();
    assert_eq!(kept["dns"]["status"], "added", "{kept}");
    assert_eq!(kept["dns"]["stale"][0]["fqdn"], "old.campus.example");
    assert_eq!(kept["dns"]["stale"][0]["done"], false);
    let mut server = Server::start_lost(&cfg, &dir.path().join("log"));
    let relay = Relay::new(Ipv4Addr::new(127, 0, 0, 2), port);
    let ack = relay.dora([2, 0x42, 0, 0, 0, 7], 5, LINK).expect("an ACK");
    assert_eq!(ack.yiaddr(), Ipv4Addr::new(10, 99, 0, 12));
    assert!(server.stop(), "{}", server.log_text());
    let version: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 3);
    assert_eq!(leases(&cfg).len(), 2, "every lease kept");
}
