//! The witness (`failover::witness`) in the automatic partner-down: a
//! witness that still hears the partner, or that does not answer, forbids
//! it whatever the clients show; one that has stopped hearing the partner
//! lets the evidence decide, even for a blind server.

use super::evidence::cut;
use super::*;

fn witness() -> Option<std::net::SocketAddr> {
    Some("192.0.2.9:647".parse().unwrap())
}

impl Duo {
    /// The witness tells a, at once, that it has not heard b for `silent` s.
    fn witness_says(&mut self, silent: u64) {
        let now = self.now;
        self.a.peer.witness_report(now, now, silent * 1000, true);
        self.settle();
    }

    fn witness_status(&self) -> serde_json::Value {
        self.a.peer.status(self.now, &self.a.store)["witness"].clone()
    }
}

/// Cut, with a witness on a; b's clients retry unanswered until the
/// evidence holds (28 s), and 2 s more so the silence rule is met too.
fn evidence_held() -> Duo {
    let mut d = cut();
    d.a.peer.cfg.witness = witness();
    d.unanswered(0..10);
    d.advance(2);
    assert_eq!(d.evidence()["holds"], true);
    d
}

#[test]
fn a_witness_that_still_hears_the_partner_forbids_partner_down() {
    let mut d = evidence_held();
    for _ in 0..30 {
        d.witness_says(1);
        d.advance(1);
    }
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
    let w = d.witness_status();
    assert_eq!(w["reachable"], true, "{w}");
    assert_eq!(w["allows_partner_down"], false, "{w}");
    // b stops reaching the witness: silent there for max_response_delay.
    for silent in 1..10 {
        d.advance(1);
        d.witness_says(silent);
        assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
    }
    d.advance(1);
    d.witness_says(10);
    assert_eq!(d.a.peer.state(), State::PartnerDown);
    let why = d.evidence()["last_decision"]["reason"].clone();
    assert!(why.as_str().unwrap().contains("witness"), "{why}");
}

#[test]
fn a_witness_that_does_not_answer_forbids_it() {
    let mut d = evidence_held();
    d.advance(120);
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
    let w = d.witness_status();
    assert_eq!(w["reachable"], false, "{w}");
    assert_eq!(w["partner_silent_s"], serde_json::Value::Null, "{w}");
    // A report that took too long says nothing either.
    let now = d.now;
    d.a.peer.witness_report(now, Time(now.0 - 6), 600_000, true);
    d.settle();
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
    d.witness_says(600);
    assert_eq!(d.a.peer.state(), State::PartnerDown, "{}", d.evidence());
    // A fresh report goes stale: 6 s later it says nothing.
    let mut d = evidence_held();
    d.a.peer.cfg.auto_partner_down = Some(60);
    d.witness_says(600);
    d.advance(6);
    assert!(!d.witness_status()["reachable"].as_bool().unwrap());
    d.advance(30);
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
}

#[test]
fn the_witness_does_not_decide_without_the_clients() {
    let mut d = cut();
    d.a.peer.cfg.witness = witness();
    for _ in 0..60 {
        d.witness_says(600);
        d.advance(1);
    }
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
}

#[test]
fn a_blind_server_with_a_witness_declares_on_evidence() {
    let mut d = cut();
    let pa = d.a.persisted();
    d.a = side(&d.config, true, d.epochs.0, pa, d.a.disk.clone(), d.now);
    d.a.peer.cfg.witness = witness();
    d.advance(6);
    assert!(d.a.peer.blind());
    assert!(d.a.peer.collecting_evidence());
    d.unanswered(0..10);
    d.advance(2);
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
    d.witness_says(600);
    assert_eq!(d.a.peer.state(), State::PartnerDown);
}

#[test]
fn heartbeats_go_once_a_second_and_only_with_a_witness() {
    let mut d = cut();
    let now = d.now;
    assert!(!d.a.peer.witness_heartbeat(now));
    assert_eq!(d.witness_status(), serde_json::Value::Null);
    d.a.peer.cfg.witness = witness();
    assert!(d.a.peer.witness_heartbeat(now));
    assert!(!d.a.peer.witness_heartbeat(now));
    assert!(d.a.peer.witness_heartbeat(now.plus(1)));
    // A clock stepped back does not silence them.
    assert!(d.a.peer.witness_heartbeat(Time(now.0 - 100)));
    assert_eq!(d.witness_status()["address"], "192.0.2.9:647");
}
