use super::*;
use crate::lease::journal::SEQ_HIGH_KEY;
use crate::lease::{LeaseState, Owner};
use crate::proto::HwAddr;
use crate::time::Time;

fn lease(i: u8) -> Lease {
    let mut l = Lease::free(Ipv4Addr::new(10, 0, 0, i), Owner::Secondary);
    l.state = LeaseState::Active;
    l.client_id = Some(vec![1, 2, 3]);
    l.hw = HwAddr::new(1, &[2, 0, 0, 0, 0, i]);
    l.hostname = Some(format!("h{i}"));
    l.relay_info = Some(vec![1, 1, 9]);
    l.starts = Time(10);
    l.expires = Time(20);
    l.cltt = Time(11);
    l.lease_time = 10;
    l.potential_expiry = Time(30);
    l.acked_potential_expiry = Time(25);
    l.update_seq = u64::from(i) * 10;
    l
}

#[tokio::test]
async fn commits_in_order_and_reloads_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/leases.sqlite");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (mut j, loaded) = Journal::open(&path, true, tx).unwrap();
    assert!(loaded.leases.is_empty());
    assert!(loaded.created);
    let epoch = loaded.epoch();
    assert_ne!(epoch, 0);
    let (a, b) = (1, 2);
    j.submit(Batch {
        id: a,
        leases: vec![lease(1), lease(2)],
        meta: vec![(EPOCH_KEY.into(), epoch.to_string())],
    });
    j.submit(Batch {
        id: b,
        leases: vec![lease(3)],
        meta: vec![(SEQ_HIGH_KEY.into(), "30".into())],
    });
    let mut upto = 0;
    while upto < b {
        match rx.recv().await.unwrap() {
            CommitEvent::Committed { upto: u, .. } => upto = u,
            CommitEvent::Failed { error, .. } => panic!("{error}"),
        }
    }
    assert!(a < b);
    // read while the writer still has it open
    let live = read_all(&path).unwrap();
    assert_eq!(live.len(), 3);
    let mut changed = lease(2);
    changed.state = LeaseState::Released;
    changed.update_seq = 0;
    j.submit(Batch {
        id: 3,
        leases: vec![changed.clone()],
        meta: vec![("fo_state".into(), "normal".into())],
    });
    j.close();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let (_j, loaded) = Journal::open(&path, true, tx).unwrap();
    assert!(!loaded.created);
    assert_eq!(loaded.epoch(), epoch, "the epoch survives a restart");
    assert_eq!(
        loaded.meta.get("fo_state").map(String::as_str),
        Some("normal")
    );
    assert_eq!(
        loaded.seq_high(),
        30,
        "highest sequence ever written, even after its row changed"
    );
    assert_eq!(loaded.leases.len(), 3);
    assert_eq!(loaded.leases[0], lease(1));
    assert_eq!(loaded.leases[1], changed);
}

#[test]
fn corrupt_rows_are_reported_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.sqlite");
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let (mut j, _) = Journal::open(&path, false, tx).unwrap();
    j.submit(Batch {
        id: 1,
        leases: vec![lease(1)],
        meta: vec![],
    });
    j.close();
    let c = Connection::open(&path).unwrap();
    c.execute("UPDATE lease SET state = 99", []).unwrap();
    drop(c);
    let e = read_all(&path).unwrap_err();
    assert!(e.to_string().contains("10.0.0.1"), "{e}");
    assert!(e.to_string().contains("unknown state"), "{e}");
}

#[test]
fn an_identity_is_written_by_init_or_the_first_batch_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.sqlite");
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let (mut j, loaded) = Journal::open(&path, false, tx).unwrap();
    assert!(loaded.created && loaded.epoch() != 0);
    j.close();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let (mut j, again) = Journal::open(&path, false, tx).unwrap();
    assert!(again.created, "nothing was written: still without identity");
    j.close();
    assert!(initialise(&path).unwrap());
    assert!(
        !initialise(&path).unwrap(),
        "init never replaces an identity"
    );
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let (_j, after) = Journal::open(&path, false, tx).unwrap();
    assert!(!after.created);
}

#[tokio::test]
async fn the_database_and_its_wal_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leases.sqlite");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (mut j, _) = Journal::open(&path, true, tx).unwrap();
    j.submit(Batch {
        id: 1,
        leases: vec![lease(1)],
        meta: vec![],
    });
    assert!(matches!(
        rx.recv().await.unwrap(),
        CommitEvent::Committed { .. }
    ));
    let wal = dir.path().join("leases.sqlite-wal");
    assert_eq!(mode(&path), 0o640);
    assert_eq!(mode(&wal), 0o640, "the WAL takes the database's mode");
    j.close();
    // an older installation's world-readable files are made private
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let (j, loaded) = Journal::open(&path, true, tx).unwrap();
    assert_eq!(loaded.leases.len(), 1);
    assert_eq!(mode(&path), 0o640);
    drop(j);
}
