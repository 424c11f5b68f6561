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

/// A client retrying DISCOVER as RFC 2131 section 4.1 has it (4, 8 s
/// apart), its `secs` rising; the gate for each try.
fn retries(e: &mut Evidence, cfg: &EvidenceConfig, c: &ClientKey, at: Time) -> Vec<Gate> {
    [(0, 0), (4, 4), (12, 12)]
        .iter()
        .map(|&(dt, secs)| e.observe(at.plus(dt), cfg, c, secs, Owed::Discover))
        .collect()
}

#[test]
fn answers_everything_when_not_collecting() {
    let mut e = Evidence::default();
    let cfg = EvidenceConfig::default();
    for t in 0..5 {
        let g = e.observe(Time(t), &cfg, &client(1), 30, Owed::Discover);
        assert_eq!(g, Gate::Answer);
    }
    assert!(!e.holds(Time(5), &cfg));
}

#[test]
fn a_client_retrying_past_secs_is_answered_and_counted() {
    let (mut e, cfg) = collecting();
    let gates = retries(&mut e, &cfg, &client(1), Time(1000));
    assert_eq!(gates, [Gate::Hold, Gate::Hold, Gate::Answer]);
    let st = e.status(Time(1012), &cfg);
    assert_eq!((st.counted, st.waiting), (1, 0));
    // From then on it is answered at once.
    let g = e.observe(Time(1013), &cfg, &client(1), 0, Owed::Discover);
    assert_eq!(g, Gate::Answer);
}

#[test]
fn clients_sending_zero_secs_are_timed_on_our_clock() {
    let (mut e, cfg) = collecting();
    let c = client(2);
    assert_eq!(
        e.observe(Time(1000), &cfg, &c, 0, Owed::InitReboot),
        Gate::Hold
    );
    assert_eq!(
        e.observe(Time(1009), &cfg, &c, 0, Owed::InitReboot),
        Gate::Hold
    );
    assert_eq!(
        e.observe(Time(1010), &cfg, &c, 0, Owed::Discover),
        Gate::Answer
    );
}

#[test]
fn one_sighting_is_never_enough_whatever_its_secs() {
    let (mut e, cfg) = collecting();
    let c = client(3);
    assert_eq!(
        e.observe(Time(1000), &cfg, &c, 900, Owed::Discover),
        Gate::Hold
    );
    assert_eq!(e.status(Time(1000), &cfg).counted, 0);
    assert_eq!(
        e.observe(Time(1001), &cfg, &c, 901, Owed::Discover),
        Gate::Answer
    );
}

#[test]
fn byte_swapped_secs_are_read_as_meant() {
    assert_eq!(client_secs(0x0a00), 10);
    assert_eq!(client_secs(0x0a01), 0x0a01);
    assert_eq!(client_secs(200), 200);
    let (mut e, cfg) = collecting();
    let c = client(4);
    // 0x0300 swapped is 3 s: not enough, although 768 would be.
    e.observe(Time(1000), &cfg, &c, 0x0100, Owed::Discover);
    assert_eq!(
        e.observe(Time(1001), &cfg, &c, 0x0300, Owed::Discover),
        Gate::Hold
    );
}

#[test]
fn a_new_attempt_after_a_long_pause_starts_over() {
    let (mut e, cfg) = collecting();
    let c = client(5);
    // A partner that answers: one DISCOVER per attempt, attempts far apart.
    for k in 0..5 {
        let at = Time(1000 + k * (RETRY_GAP + 1));
        assert_eq!(e.observe(at, &cfg, &c, 0, Owed::Discover), Gate::Hold);
    }
    assert_eq!(e.status(Time(2000), &cfg).counted, 0);
}

#[test]
fn rebinding_retransmissions_far_apart_still_count() {
    let (mut e, cfg) = collecting();
    let c = client(6);
    assert_eq!(
        e.observe(Time(1000), &cfg, &c, 0, Owed::Rebinding),
        Gate::Hold
    );
    assert_eq!(
        e.observe(Time(1450), &cfg, &c, 0, Owed::Rebinding),
        Gate::Answer
    );
    assert_eq!(e.status(Time(1450), &cfg).counted, 1);
}

#[test]
fn evidence_holds_with_enough_clients_within_the_window() {
    let (mut e, cfg) = collecting();
    for n in 0..cfg.clients - 1 {
        retries(&mut e, &cfg, &client(n), Time(1000 + u64::from(n)));
    }
    assert!(!e.holds(Time(1100), &cfg));
    retries(&mut e, &cfg, &client(99), Time(1100));
    assert!(e.holds(Time(1112), &cfg));
    // The first client was counted at 1012: a window later it no longer is.
    assert!(!e.holds(Time(1012 + cfg.window), &cfg));
}

#[test]
fn counter_evidence_starts_the_count_over() {
    let (mut e, cfg) = collecting();
    for n in 0..cfg.clients {
        retries(&mut e, &cfg, &client(n), Time(1000));
    }
    assert!(e.holds(Time(1012), &cfg));
    e.counter(Time(1013));
    assert!(!e.holds(Time(1013), &cfg));
    let st = e.status(Time(1013), &cfg);
    assert_eq!((st.restarts, st.last_counter), (1, Some(Time(1013))));
    assert_eq!(st.since, Some(Time(1000)), "the collection goes on");
}

#[test]
fn tracking_is_bounded_and_frees_up_after_a_window() {
    let (mut e, cfg) = collecting();
    for n in 0..MAX_TRACKED as u32 {
        e.observe(Time(1000), &cfg, &client(n), 0, Owed::Discover);
    }
    let late = client(70_000);
    assert_eq!(
        e.observe(Time(1001), &cfg, &late, 0, Owed::Discover),
        Gate::Answer
    );
    assert_eq!(e.discovering(), MAX_TRACKED);
    let later = Time(1000 + cfg.window);
    assert_eq!(e.observe(later, &cfg, &late, 0, Owed::Discover), Gate::Hold);
    assert_eq!(e.discovering(), 1);
}

#[test]
fn stopping_forgets_the_collection() {
    let (mut e, cfg) = collecting();
    retries(&mut e, &cfg, &client(1), Time(1000));
    e.stop();
    assert!(!e.collecting());
    assert_eq!(e.status(Time(1012), &cfg).counted, 0);
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
