//! The collector on its own: holding, counting, the window, counter-evidence
//! and its bounds.

use super::*;

fn client(n: u32) -> ClientKey {
    let hw = crate::proto::HwAddr::new(1, &[2, 0, 0, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
    ClientKey::new(None, &hw)
}

fn collecting() -> (Evidence, EvidenceConfig) {
    let mut e = Evidence::default();
    e.start(Time(1000));
    (e, EvidenceConfig::default())
}

/// The retransmissions of one request as RFC 2131 section 4.1 spaces them
/// (4, 8, 16 s), seconds after the first.
pub(crate) const BACKOFF: [u64; 4] = [0, 4, 12, 28];

/// Client `n` retransmitting one request (xid `n`) from `at`; the gate for
/// each try.
fn retries(e: &mut Evidence, cfg: &EvidenceConfig, n: u32, at: Time) -> Vec<Gate> {
    BACKOFF
        .iter()
        .map(|dt| e.observe(at.plus(*dt), cfg, &client(n), n, true))
        .collect()
}

#[test]
fn answers_everything_when_not_collecting() {
    let mut e = Evidence::default();
    let cfg = EvidenceConfig::default();
    for t in 0..40 {
        assert_eq!(e.observe(Time(t), &cfg, &client(1), 1, true), Gate::Answer);
    }
    assert!(!e.holds(Time(40), &cfg));
    assert_eq!(e.discovered(), 0);
}

#[test]
fn a_request_unanswered_past_secs_and_once_more_counts_its_client() {
    let (mut e, cfg) = collecting();
    let gates = retries(&mut e, &cfg, 1, Time(1000));
    assert_eq!(gates, [Gate::Hold, Gate::Hold, Gate::Hold, Gate::Counted]);
    let st = e.status(Time(1028), &cfg);
    assert_eq!((st.counted, st.waiting), (1, 0));
    // From then on it is answered at once, and counted once.
    assert_eq!(
        e.observe(Time(1029), &cfg, &client(1), 9, true),
        Gate::Answer
    );
    assert_eq!(e.status(Time(1029), &cfg).counted, 1);
    assert_eq!(e.discovered(), 1);
}

#[test]
fn the_transmission_secs_late_must_itself_go_unanswered() {
    let (mut e, cfg) = collecting();
    let c = client(3);
    // Retransmitted 10 s after the first, then answered (by a partner
    // paused for less than `secs`): never seen again, never counted.
    assert_eq!(e.observe(Time(1000), &cfg, &c, 7, false), Gate::Hold);
    assert_eq!(e.observe(Time(1010), &cfg, &c, 7, false), Gate::Hold);
    assert_eq!(e.status(Time(1010), &cfg).counted, 0);
    // A retransmission 9 s after the first is not late: the next one
    // does not count either.
    let d = client(4);
    assert_eq!(e.observe(Time(1000), &cfg, &d, 8, false), Gate::Hold);
    assert_eq!(e.observe(Time(1009), &cfg, &d, 8, false), Gate::Hold);
    assert_eq!(e.observe(Time(1012), &cfg, &d, 8, false), Gate::Hold);
    assert_eq!(e.observe(Time(1013), &cfg, &d, 8, false), Gate::Counted);
}

#[test]
fn separate_exchanges_never_count_however_far_apart() {
    let (mut e, cfg) = collecting();
    let c = client(2);
    // A partner that answers: each exchange is seen once, with a new xid.
    for (i, t) in [1000, 1005, 1015, 1025].iter().enumerate() {
        assert_eq!(e.observe(Time(*t), &cfg, &c, i as u32, false), Gate::Hold);
    }
    // Held three times `secs` already: answered, not counted.
    assert_eq!(e.observe(Time(1030), &cfg, &c, 9, false), Gate::Answer);
    assert_eq!(e.observe(Time(1500), &cfg, &c, 10, false), Gate::Answer);
    assert_eq!(e.status(Time(1500), &cfg).counted, 0);
}

#[test]
fn one_xid_reused_far_apart_is_a_new_exchange_each_time() {
    let (mut e, cfg) = collecting();
    let c = client(5);
    // A client that always sends the same xid, answered each time.
    for k in 0..3 {
        let at = Time(1000 + k * (RETRY_GAP + 1));
        let gate = e.observe(at, &cfg, &c, 42, false);
        assert_ne!(gate, Gate::Counted, "sighting {k}");
    }
    assert_eq!(e.status(Time(1300), &cfg).counted, 0);
}

#[test]
fn evidence_holds_with_enough_clients_within_the_window() {
    let (mut e, cfg) = collecting();
    for n in 0..cfg.clients - 1 {
        retries(&mut e, &cfg, n, Time(1000 + u64::from(n)));
    }
    assert!(!e.holds(Time(1100), &cfg));
    retries(&mut e, &cfg, 99, Time(1100));
    assert!(e.holds(Time(1128), &cfg));
    // The first client was counted at 1028: a window later it no longer is.
    assert!(!e.holds(Time(1028 + cfg.window), &cfg));
}

#[test]
fn counter_evidence_drops_what_was_counted_not_the_waits() {
    let (mut e, cfg) = collecting();
    for n in 0..cfg.clients {
        retries(&mut e, &cfg, n, Time(1000));
    }
    assert!(e.holds(Time(1028), &cfg));
    e.observe(Time(1000), &cfg, &client(50), 50, true);
    e.counter(Time(1029));
    assert!(!e.holds(Time(1029), &cfg));
    let st = e.status(Time(1029), &cfg);
    assert_eq!((st.restarts, st.last_counter), (1, Some(Time(1029))));
    assert_eq!(st.since, Some(Time(1000)), "the collection goes on");
    // A client already held does not wait from zero again.
    assert_eq!(
        e.observe(Time(1031), &cfg, &client(50), 51, true),
        Gate::Answer
    );
    // Counting starts over, retransmission by retransmission.
    assert_eq!(
        e.observe(Time(1032), &cfg, &client(1), 1, true),
        Gate::Answer
    );
    assert_eq!(e.status(Time(1032), &cfg).counted, 0);
    assert_eq!(e.discovered(), cfg.clients + 1, "kept through it");
}

#[test]
fn discover_clients_are_remembered_until_the_pair_is_back_in_normal() {
    let (mut e, cfg) = collecting();
    e.observe(Time(1000), &cfg, &client(1), 1, true);
    e.observe(Time(1000), &cfg, &client(2), 2, false);
    e.stop();
    e.start(Time(1100));
    assert_eq!(e.discovered(), 1, "a new collection keeps it");
    e.observe(Time(1101), &cfg, &client(1), 3, true);
    assert_eq!(e.discovered(), 2, "seen again: counted again, to be safe");
    e.synced();
    assert_eq!(e.discovered(), 0);
}

#[test]
fn tracking_is_bounded_and_frees_up_after_a_window() {
    let (mut e, cfg) = collecting();
    for n in 0..MAX_TRACKED as u32 {
        e.observe(Time(1000), &cfg, &client(n), n, false);
    }
    let late = client(70_000);
    assert_eq!(e.observe(Time(1001), &cfg, &late, 1, false), Gate::Answer);
    assert_eq!(e.status(Time(1001), &cfg).waiting, MAX_TRACKED as u32);
    let later = Time(1000 + cfg.window);
    assert_eq!(e.observe(later, &cfg, &late, 1, false), Gate::Hold);
    assert_eq!(
        e.status(later, &cfg).waiting,
        1,
        "the others were forgotten"
    );
}

#[test]
fn stopping_forgets_the_collection() {
    let (mut e, cfg) = collecting();
    retries(&mut e, &cfg, 1, Time(1000));
    e.stop();
    assert!(!e.collecting());
    assert_eq!(e.status(Time(1028), &cfg).counted, 0);
    assert_eq!(
        e.observe(Time(1029), &cfg, &client(2), 2, true),
        Gate::Answer
    );
}

#[test]
fn each_client_is_owed_by_exactly_one_side() {
    for n in 0..512 {
        let c = client(n);
        let p = partners_client(&c, 128, Owner::Primary);
        let s = partners_client(&c, 128, Owner::Secondary);
        assert_ne!(p, s, "client {n}");
        assert!(!partners_client(&c, 256, Owner::Primary));
        assert!(partners_client(&c, 256, Owner::Secondary));
    }
}
