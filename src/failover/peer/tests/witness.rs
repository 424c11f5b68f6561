//! The witness (`failover::witness`) in the automatic partner-down: a
//! witness that still hears the partner, or that does not answer, forbids
//! it whatever the clients show; one that has long stopped hearing the
//! partner lets the evidence decide, even for a blind server; and a server
//! that loses both its partner and the witness fences itself (blind).

use super::evidence::cut;
use super::*;
use crate::failover::peer::witness::FENCE_SILENCE;

fn witness() -> Option<std::net::SocketAddr> {
    Some("192.0.2.9:647".parse().unwrap())
}

impl Duo {
    /// The witness tells a, at once, that it has not heard b for `silent` s.
    fn witness_says(&mut self, silent: u64) {
        self.witness_tells(silent, true);
    }

    fn witness_tells(&mut self, silent: u64, heard: bool) {
        let now = self.now;
        self.a.peer.witness_report(now, now, silent * 1000, heard);
        self.settle();
    }

    /// One second, as the node drives a: the input's time first, then the
    /// tick (b only ticks).
    fn second(&mut self) {
        self.a.wake(self.now.plus(1));
        self.advance(1);
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
    // b stops reaching the witness: silent there for WITNESS_SILENCE
    // (longer than max_response_delay here).
    for silent in 1..20 {
        d.advance(1);
        d.witness_says(silent);
        assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
    }
    d.advance(1);
    d.witness_says(20);
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
    d.restart_a();
    d.a.peer.cfg.witness = witness();
    d.advance(6);
    assert!(d.a.peer.blind());
    assert!(d.a.peer.collecting_evidence());
    d.unanswered(0..10);
    d.advance(2);
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
    // A witness that never heard b since it started: b may not use it.
    d.witness_tells(600, false);
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
    d.witness_says(600);
    assert_eq!(d.a.peer.state(), State::PartnerDown);
}

#[test]
fn a_server_without_its_partner_and_the_witness_fences_itself() {
    let mut d = cut();
    d.a.peer.cfg.witness = witness();
    d.witness_says(0);
    for _ in 0..5 {
        d.second();
        assert!(!d.a.peer.blind());
    }
    d.second();
    assert!(d.a.peer.blind(), "no report for 6 s: b may judge a down");
    let serving = d.a.peer.status(d.now, &d.a.store)["serving"].clone();
    assert!(serving.as_str().unwrap().contains("witness"), "{serving}");
    // Hearing the witness again does not end it; reaching b does.
    d.witness_says(0);
    d.second();
    assert!(d.a.peer.blind());
    d.b.peer.link_down(d.now);
    d.connect();
    assert!(!d.a.peer.blind());
    // With the partner connected, the witness does not matter.
    for _ in 0..10 {
        d.second();
    }
    assert!(!d.a.peer.blind());
}

#[test]
fn a_partner_down_server_fences_itself_too() {
    let mut d = cut();
    d.a.peer.cfg.witness = witness();
    d.a.peer.operator_partner_down(d.now).unwrap();
    d.witness_says(600);
    assert!(!d.a.peer.blind());
    for _ in 0..6 {
        d.second();
    }
    assert_eq!(d.a.peer.state(), State::PartnerDown);
    assert!(d.a.peer.blind());
}

#[test]
fn reports_overtaken_or_from_a_stepped_clock_are_judged_safely() {
    let mut d = evidence_held();
    let now = d.now;
    d.a.peer.witness_report(now, now, 1_000, true);
    // An older heartbeat's report, overtaken on the way, is ignored.
    d.a.peer.witness_report(now, Time(now.0 - 2), 600_000, true);
    d.settle();
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
    assert_eq!(d.witness_status()["partner_silent_s"], 1);
    // The clock steps back 100 s: the old report does not stay fresh.
    let back = Time(now.0 - 100);
    assert!(!d.a.peer.witness_reachable(back));
    d.a.peer.witness_report(back, back, 600_000, true);
    assert_eq!(d.witness_status()["partner_silent_s"], 600);
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

#[test]
fn a_half_open_link_does_not_delay_the_fence() {
    let mut d = Duo::new();
    d.connect();
    d.a.peer.cfg.witness = witness();
    d.witness_says(0);
    // The link dies without a word: nothing more arrives either way, and
    // a does not close it for 30 s (its max_response_delay).
    d.a.peer.cfg.max_response_delay = 30;
    d.a.session = None;
    d.b.session = None;
    // b's newest keepalive went at most 3 s (a third of its 10 s) before,
    // and is unheard once FENCE_SILENCE old.
    for _ in 0..FENCE_SILENCE - 4 {
        d.second();
        assert!(!d.a.peer.blind());
    }
    for _ in 0..5 {
        d.second();
    }
    assert!(d.a.peer.blind(), "no report, no word for FENCE_SILENCE");
    assert!(
        d.a.closed.iter().any(|w| w.contains("witness")),
        "{:?}",
        d.a.closed
    );
}

#[test]
fn a_slow_link_with_a_slow_witness_does_not_fence() {
    // Keepalives every 2 s, each 6 s on the way, and no witness report in
    // time: the newest keepalive is up to 8 s old when the fence looks.
    let mut d = Duo::new();
    d.connect();
    d.a.peer.cfg.witness = witness();
    d.a.peer.cfg.max_response_delay = 30;
    d.a.session = None;
    d.b.session = None;
    // (Until a closes the silent link at 30 s.)
    for i in 0..29 {
        if i % 2 == 0 {
            d.a.peer.partner_sent(d.now.0 - 6);
        }
        d.second();
        assert!(!d.a.peer.blind(), "fenced after {i} s");
    }
}

#[test]
fn no_judgement_while_we_may_still_be_feeding_the_partner() {
    // A one-way link: our frames may still reach b, which then hears us
    // and does not fence; we judge only 20 s after our last frame.
    let mut d = evidence_held();
    let now = d.now;
    d.a.peer.witness.sent_to_partner(now);
    for _ in 0..19 {
        d.witness_says(600);
        assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
        d.advance(1);
    }
    d.advance(1);
    d.witness_says(600);
    assert_eq!(d.a.peer.state(), State::PartnerDown);
}

#[test]
fn a_stall_while_blind_keeps_the_earliest_time_we_may_have_been_judged() {
    let mut d = cut();
    let before = d.now;
    d.a.wake(before);
    d.a.wake(before.plus(30));
    assert!(d.a.peer.blind());
    assert_eq!(d.a.peer.prior_alive, Some(before));
    // Blind, the heartbeat to the journal stays put, and a later stall
    // does not move the reckoning forward.
    d.advance(600);
    assert_eq!(
        d.a.peer.p.alive_at.map(|t| t.0 <= before.0 + 30),
        Some(true)
    );
    let later = d.now;
    d.a.wake(later.plus(30));
    assert_eq!(d.a.peer.prior_alive, Some(before));
}
