//! Automatic partner-down on client evidence (`failover::evidence`):
//! silence alone is not enough, a dead partner's unanswered clients are;
//! counter-evidence, a returning link and a blind start are not; a stall
//! makes a server blind.

use super::*;
use crate::failover::evidence::Gate;
use crate::proto::ClientKey;

fn client(n: u32) -> ClientKey {
    ClientKey::new(
        None,
        &HwAddr::new(1, &[2, 9, 0, 0, (n >> 8) as u8, n as u8]),
    )
}

impl Duo {
    /// Clients `ids` retransmitting one request each at a (at 0, 4, 12 and
    /// 28 s) as a dead partner leaves them; a's gates for each round.
    pub(super) fn unanswered(&mut self, ids: std::ops::Range<u32>) -> Vec<Vec<Gate>> {
        let mut rounds = vec![];
        for wait in [0, 4, 8, 16] {
            self.advance(wait);
            let gates = ids.clone().map(|n| {
                let now = self.now;
                self.a.peer.observe_client(now, &client(n), n, false)
            });
            rounds.push(gates.collect());
        }
        rounds
    }

    pub(super) fn evidence(&self) -> serde_json::Value {
        self.a.peer.status(self.now, &self.a.store)["partner_down_evidence"].clone()
    }
}

/// Both peers up, then the link cut: a collects evidence.
pub(super) fn cut() -> Duo {
    let mut d = Duo::new();
    d.connect();
    d.disconnect();
    assert!(d.a.peer.collecting_evidence());
    d
}

#[test]
fn silence_alone_is_not_enough() {
    let mut d = cut();
    d.advance(300);
    assert_eq!(
        d.states(),
        (
            State::CommunicationsInterrupted,
            State::CommunicationsInterrupted
        )
    );
    let ev = d.evidence();
    assert_eq!(ev["collecting"], true, "{ev}");
    assert_eq!(ev["clients_counted"], 0);
    assert_eq!(ev["last_decision"], serde_json::Value::Null);
}

#[test]
fn a_dead_partners_clients_and_the_silence_declare_it_down() {
    let mut d = cut();
    let rounds = d.unanswered(0..10);
    assert!(rounds[..3].iter().flatten().all(|g| *g == Gate::Hold));
    assert!(rounds[3].iter().all(|g| *g == Gate::Counted));
    assert_eq!(d.evidence()["holds"], true);
    // The evidence holds after 28 s; the silence rule still wants 30.
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
    d.advance(2);
    assert_eq!(d.a.peer.state(), State::PartnerDown);
    assert_eq!(d.b.peer.state(), State::CommunicationsInterrupted);
    let why = d.evidence()["last_decision"]["reason"].clone();
    assert!(why.as_str().unwrap().contains("10 of its clients"), "{why}");
}

#[test]
fn counter_evidence_starts_the_count_over() {
    let mut d = cut();
    d.unanswered(0..9);
    assert_eq!(d.evidence()["clients_counted"], 9);
    d.a.peer.client_chose_other(d.now);
    d.unanswered(9..10);
    assert_eq!(d.evidence()["clients_counted"], 1);
    assert_eq!(d.evidence()["restarts"], 1);
    d.advance(60);
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
}

#[test]
fn a_returning_link_drops_what_was_collected() {
    let mut d = cut();
    d.unanswered(0..10);
    d.connect();
    assert_eq!(d.states(), (State::Normal, State::Normal));
    d.disconnect();
    assert_eq!(d.evidence()["clients_counted"], 0);
    d.advance(60);
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
}

#[test]
fn a_blind_server_never_declares_on_evidence() {
    let mut d = cut();
    // a restarts during the cut: blind until it hears b.
    d.restart_a();
    d.advance(6);
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
    assert!(d.a.peer.blind());
    assert!(!d.a.peer.collecting_evidence());
    let rounds = d.unanswered(0..20);
    assert!(
        rounds.iter().flatten().all(|g| *g == Gate::Answer),
        "nothing held"
    );
    d.advance(120);
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
}

#[test]
fn without_evidence_silence_alone_declares() {
    let mut d = cut();
    d.a.peer.cfg.evidence = None;
    assert!(!d.a.peer.collecting_evidence());
    d.advance(31);
    assert_eq!(d.a.peer.state(), State::PartnerDown);
    let why = d.evidence()["last_decision"]["reason"].clone();
    assert!(
        why.as_str().unwrap().contains("without client evidence"),
        "{why}"
    );
}

#[test]
fn a_stall_closes_the_link_and_makes_the_server_blind() {
    let mut d = Duo::new();
    d.connect();
    d.a.wake(d.now);
    d.a.wake(d.now.plus(5));
    assert_eq!(d.a.peer.state(), State::Normal, "a short pause is nothing");
    d.now = d.now.plus(16);
    d.a.wake(d.now);
    d.a.drain();
    assert!(
        d.a.closed.iter().any(|w| w.contains("stalled")),
        "{:?}",
        d.a.closed
    );
    assert_eq!(d.a.peer.state(), State::CommunicationsInterrupted);
    assert!(d.a.peer.blind());
    // Reaching the partner again ends it.
    d.b.peer.link_down(d.now);
    d.connect();
    assert_eq!(d.states(), (State::Normal, State::Normal));
    assert!(!d.a.peer.blind());
}

#[test]
fn a_stall_in_partner_down_leaves_it_blind() {
    let mut d = cut();
    d.a.peer.operator_partner_down(d.now).unwrap();
    assert!(!d.a.peer.blind());
    d.a.wake(d.now);
    d.a.wake(d.now.plus(60));
    assert_eq!(d.a.peer.state(), State::PartnerDown);
    assert!(
        d.a.peer.blind(),
        "the partner may have judged us down meanwhile"
    );
}

#[test]
fn a_shorter_stall_counts_in_a_silent_interruption() {
    let mut d = cut();
    d.a.wake(d.now);
    d.a.wake(d.now.plus(3));
    assert!(
        !d.a.peer.blind(),
        "3 s: too short for any partner to count one of ours"
    );
    d.a.wake(d.now.plus(7));
    assert!(
        d.a.peer.blind(),
        "4 s: a partner with secs = 5 could have counted a client of ours"
    );
    // The partner's settings decide, not ours: the same without our own
    // evidence or automatic partner-down.
    let mut d = cut();
    d.a.peer.cfg.evidence = None;
    d.a.peer.cfg.auto_partner_down = None;
    d.a.wake(d.now);
    d.a.wake(d.now.plus(4));
    assert!(d.a.peer.blind());
}

#[test]
fn a_stall_shows_on_either_clock() {
    // A stall while the wall clock stepped back by as much: the monotonic
    // clock shows it.
    let mut d = cut();
    d.a.peer.wake(d.now, Mono(100));
    d.a.peer.wake(d.now, Mono(160));
    assert!(d.a.peer.blind(), "a minute passed on the monotonic clock");
    // A VM paused with its monotonic clock, its wall clock stepped on
    // resume: the wall clock shows it.
    let mut d = cut();
    d.a.peer.wake(d.now, Mono(100));
    d.a.peer.wake(d.now.plus(60), Mono(101));
    assert!(d.a.peer.blind(), "a minute passed on the wall clock");
    // Neither: no stall.
    let mut d = cut();
    d.a.peer.wake(d.now, Mono(100));
    d.a.peer.wake(d.now.plus(2), Mono(102));
    assert!(!d.a.peer.blind());
}

/// a, down for `outage` seconds during the cut, restarts and is declared
/// partner-down by the operator; whether its own free addresses are
/// given at once.
fn declared_after_an_outage(outage: u64) -> (Duo, bool) {
    let mut d = cut();
    d.advance(1);
    let alive = d.a.persisted().alive_at;
    assert!(
        alive.is_some_and(|t| t.until(d.now) < 60),
        "alive, in the journal"
    );
    d.now = d.now.plus(outage);
    d.restart_a();
    d.b.peer.link_down(d.now);
    d.advance(6);
    d.a.peer.operator_partner_down(d.now).unwrap();
    let policy = d.a.peer.policy();
    assert!(!policy.blind());
    let own = policy.may_allocate(crate::lease::Owner::Primary, d.now);
    (d, own)
}

#[test]
fn declared_down_after_a_long_outage_our_own_addresses_wait_mclt() {
    let (mut d, own) = declared_after_an_outage(300);
    assert!(!own, "b may have given them out in its own PARTNER-DOWN");
    d.advance(100);
    let own =
        d.a.peer
            .policy()
            .may_allocate(crate::lease::Owner::Primary, d.now);
    assert!(own, "MCLT later they are ours again");
}

#[test]
fn declared_down_after_a_short_restart_our_own_addresses_are_ours() {
    let (_, own) = declared_after_an_outage(10);
    assert!(own, "b cannot have waited MCLT in PARTNER-DOWN since");
}

#[test]
fn declared_down_during_startup_after_a_long_outage_waits_too() {
    let mut d = cut();
    d.advance(1);
    d.now = d.now.plus(300);
    d.restart_a();
    d.b.peer.link_down(d.now);
    // Straight after the start, before STARTUP's wait is over.
    d.a.peer.operator_partner_down(d.now).unwrap();
    assert_eq!(d.a.peer.state(), State::PartnerDown);
    let policy = d.a.peer.policy();
    assert!(!policy.may_allocate(crate::lease::Owner::Primary, d.now));
    assert!(!policy.may_allocate(crate::lease::Owner::Secondary, d.now.plus(99)));
    assert_eq!(d.a.peer.persisted().partner_down_since, Some(d.now));
}

#[test]
fn a_link_lost_while_the_partner_was_in_partner_down_leaves_us_blind() {
    let mut d = cut();
    d.b.peer.operator_partner_down(d.now).unwrap();
    d.link_up();
    d.round();
    assert_eq!(d.a.peer.partner_state(), Some(State::PartnerDown));
    assert!(!d.a.peer.blind());
    // The link falls before the exchange is over: b may still be in
    // PARTNER-DOWN, giving out a's free addresses.
    d.a.session = None;
    d.b.session = None;
    d.a.peer.link_down(d.now);
    d.b.peer.link_down(d.now);
    assert!(d.a.peer.partner_unknown(), "state {}", d.a.peer.state());
    // Whichever way a leaves POTENTIAL-CONFLICT without b, it is blind.
    d.a.peer.state = State::CommunicationsInterrupted;
    assert!(d.a.peer.blind());
}
