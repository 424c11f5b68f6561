use super::*;
use crate::lease::Owner;
use crate::lease::model::Lease;
use std::net::Ipv4Addr;

fn batch(id: u64, leases: usize) -> Batch {
    Batch {
        id,
        leases: vec![Lease::free(Ipv4Addr::new(10, 0, 0, 1), Owner::Primary); leases],
        meta: Vec::new(),
    }
}

fn ids(batches: &[Batch]) -> Vec<u64> {
    batches.iter().map(|b| b.id).collect()
}

#[test]
fn an_idle_writer_commits_the_first_batch_with_everything_queued_behind_it() {
    let (tx, rx) = mpsc::channel();
    for id in 1..=3 {
        tx.send(batch(id, 1)).unwrap();
    }
    let mut pace = Pace::Idle;
    let t = next_transaction(&rx, &mut pace).expect("a transaction");
    assert_eq!(ids(&t), [1, 2, 3]);
    assert_eq!(
        pace,
        Pace::Busy,
        "work was found: the next transaction waits out the window"
    );
}

#[test]
fn a_busy_writer_takes_what_queued_during_its_window() {
    let (tx, rx) = mpsc::channel();
    tx.send(batch(7, 1)).unwrap();
    tx.send(batch(8, 2)).unwrap();
    let mut pace = Pace::Busy;
    let t = next_transaction(&rx, &mut pace).expect("a transaction");
    assert_eq!(ids(&t), [7, 8]);
    assert_eq!(pace, Pace::Busy);
}

#[test]
fn a_window_that_gathers_nothing_makes_the_writer_wait_for_work_not_commit_nothing() {
    let (tx, rx) = mpsc::channel();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(COMMIT_WINDOW * 10);
        tx.send(batch(4, 1)).unwrap();
    });
    let mut pace = Pace::Busy;
    let t = next_transaction(&rx, &mut pace).expect("a transaction");
    assert_eq!(ids(&t), [4], "never an empty transaction");
    assert_eq!(pace, Pace::Busy);
    sender.join().unwrap();
    assert!(
        next_transaction(&rx, &mut pace).is_none(),
        "closed and drained"
    );
}

#[test]
fn a_closed_channel_is_drained_before_the_writer_stops() {
    let (tx, rx) = mpsc::channel();
    tx.send(batch(1, 1)).unwrap();
    tx.send(batch(2, 1)).unwrap();
    drop(tx);
    for mut pace in [Pace::Busy, Pace::Idle] {
        let (tx2, rx2) = mpsc::channel();
        tx2.send(batch(9, 1)).unwrap();
        drop(tx2);
        assert_eq!(ids(&next_transaction(&rx2, &mut pace).unwrap()), [9]);
        assert!(next_transaction(&rx2, &mut pace).is_none());
    }
    let mut pace = Pace::Busy;
    assert_eq!(ids(&next_transaction(&rx, &mut pace).unwrap()), [1, 2]);
    assert!(next_transaction(&rx, &mut pace).is_none());
}

#[test]
fn one_transaction_stops_taking_batches_past_its_lease_bound() {
    let (tx, rx) = mpsc::channel();
    let half = MAX_BATCH_LEASES / 2 + 1;
    for id in 1..=3 {
        tx.send(batch(id, half)).unwrap();
    }
    let mut pace = Pace::Idle;
    assert_eq!(ids(&next_transaction(&rx, &mut pace).unwrap()), [1, 2]);
    assert_eq!(pace, Pace::Backlog, "the next transaction starts at once");
    assert_eq!(ids(&next_transaction(&rx, &mut pace).unwrap()), [3]);
    assert_eq!(pace, Pace::Busy);
}
