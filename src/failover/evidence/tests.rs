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

/// A client retransmitting one request (xid `n`) as RFC 2131 section 4.1
/// has it, 4 and 8 s apart; the gate for each try.
fn retries(e: &mut Evidence, cfg: &EvidenceConfig, n: u32, at: Time) -> Vec<Gate> {
    [0, 4, 12]
        .iter()
        .map(|dt| e.observe(at.plus(*dt), cfg, &client(n), n))
        .collect()
}

#[test]
fn answers_everything_when_not_collecting() {
    let mut e = Evidence::default();
    let cfg = EvidenceConfig::default();
    for t in 0..20 {
        assert_eq!(e.observe(Time(t), &cfg, &client(1), 1), Gate::Answer);
    }
    assert!(!e.holds(Time(20), &cfg));
}

#[test]
fn a_request_retransmitted_past_secs_counts_its_client() {
    let (mut e, cfg) = collecting();
    let gates = retries(&mut e, &cfg, 1, Time(1000));
    assert_eq!(gates, [Gate::Hold, Gate::Hold, Gate::Counted]);
    let st = e.status(Time(1012), &cfg);
    assert_eq!((st.counted, st.waiting), (1, 0));
    // From then on it is answered at once, and counted once.
    assert_eq!(e.observe(Time(1013), &cfg, &client(1), 9), Gate::Answer);
    assert_eq!(e.status(Time(1013), &cfg).counted, 1);
}

#[test]
fn separate_exchanges_never_count_however_far_apart() {
    let (mut e, cfg) = collecting();
    let c = client(2);
    // A partner that answers: each exchange is seen once, with a new xid.
    assert_eq!(e.observe(Time(1000), &cfg, &c, 1), Gate::Hold);
    assert_eq!(e.observe(Time(1005), &cfg, &c, 2), Gate::Hold);
    // Held for `secs` already: answered, not counted.
    assert_eq!(e.observe(Time(1030), &cfg, &c, 3), Gate::Answer);
    assert_eq!(e.observe(Time(1500), &cfg, &c, 4), Gate::Answer);
    assert_eq!(e.status(Time(1500), &cfg).counted, 0);
}

#[test]
fn a_retransmission_sooner_than_secs_does_not_count() {
    let (mut e, cfg) = collecting();
    let c = client(3);
    assert_eq!(e.observe(Time(1000), &cfg, &c, 7), Gate::Hold);
    assert_eq!(e.observe(Time(1009), &cfg, &c, 7), Gate::Hold);
    assert_eq!(e.observe(Time(1010), &cfg, &c, 7), Gate::Counted);
}

#[test]
fn evidence_holds_with_enough_clients_within_the_window() {
    let (mut e, cfg) = collecting();
    for n in 0..cfg.clients - 1 {
        retries(&mut e, &cfg, n, Time(1000 + u64::from(n)));
    }
    assert!(!e.holds(Time(1100), &cfg));
    retries(&mut e, &cfg, 99, Time(1100));
    assert!(e.holds(Time(1112), &cfg));
    // The first client was counted at 1012: a window later it no longer is.
    assert!(!e.holds(Time(1012 + cfg.window), &cfg));
}

#[test]
fn counter_evidence_drops_what_was_counted_not_the_waits() {
    let (mut e, cfg) = collecting();
    for n in 0..cfg.clients {
        retries(&mut e, &cfg, n, Time(1000));
    }
    assert!(e.holds(Time(1012), &cfg));
    e.observe(Time(1012), &cfg, &client(50), 50);
    e.counter(Time(1013));
    assert!(!e.holds(Time(1013), &cfg));
    let st = e.status(Time(1013), &cfg);
    assert_eq!((st.restarts, st.last_counter), (1, Some(Time(1013))));
    assert_eq!(st.since, Some(Time(1000)), "the collection goes on");
    // A client already held does not wait from zero again.
    assert_eq!(e.observe(Time(1022), &cfg, &client(50), 51), Gate::Answer);
    // Counting starts over, retransmission by retransmission.
    assert_eq!(e.observe(Time(1023), &cfg, &client(1), 1), Gate::Answer);
    assert_eq!(e.status(Time(1023), &cfg).counted, 0);
}

#[test]
fn tracking_is_bounded_and_frees_up_after_a_window() {
    let (mut e, cfg) = collecting();
    for n in 0..MAX_TRACKED as u32 {
        e.observe(Time(1000), &cfg, &client(n), n);
    }
    let late = client(70_000);
    assert_eq!(e.observe(Time(1001), &cfg, &late, 1), Gate::Answer);
    assert_eq!(e.status(Time(1001), &cfg).waiting, MAX_TRACKED as u32);
    let later = Time(1000 + cfg.window);
    assert_eq!(e.observe(later, &cfg, &late, 1), Gate::Hold);
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
    assert_eq!(e.status(Time(1012), &cfg).counted, 0);
    assert_eq!(e.observe(Time(1013), &cfg, &client(2), 2), Gate::Answer);
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
