//! State transitions (draft-ietf-dhc-failover-12 section 9) and what
//! entering a state records.

use super::*;

impl Peer {
    pub(super) fn persist(&mut self, now: Time) {
        // Blind, we may already be judged down: the heartbeat stays where
        // it was, so a restart or a declaration reckons from then.
        if !self.partner_unknown() {
            self.p.alive_at = self.p.alive_at.max(Some(now));
        }
        self.p.state = Some(self.state);
        self.p.state_since = self.since;
        self.actions.push_back(Action::Commit {
            leases: vec![],
            meta: self.p.to_meta(),
            then: vec![],
            replicate: false,
        });
    }

    pub(super) fn enter(&mut self, now: Time, s: State) {
        if s == self.state {
            return;
        }
        tracing::info!(from = %self.state, to = %s, "failover state change");
        self.on_entering(now, s);
        if self.state == State::Shutdown {
            self.leaving_shutdown = false;
        }
        self.state = s;
        self.since = now;
        self.restart_evidence(now);
        self.persist(now);
        self.announce_settled(now, s);
    }

    /// What entering `s` records (before the state itself changes).
    fn on_entering(&mut self, now: Time, s: State) {
        match s {
            State::CommunicationsInterrupted if !self.heard => {
                tracing::warn!(
                    "resuming without word from the partner: renewing known leases within MCLT of what it acknowledged, no new leases until it is reached or partner-down is declared"
                );
            }
            State::PartnerDown => {
                // Resumed from the saved state at start-up, it stays blind
                // until the partner is heard or judged down again.
                let resumed = self.state == State::Startup && !self.declared;
                self.declared |= !resumed;
                // Entered anew, the MCLT waits count from now: an episode
                // left for POTENTIAL-CONFLICT and re-entered must not find
                // them already over.
                if self.p.partner_down_since.is_none() || !resumed {
                    self.p.partner_down_since = Some(now);
                }
                if !self.declared && !self.heard {
                    tracing::warn!(
                        "resuming partner-down without word from the partner: renewing known leases within MCLT of what it acknowledged, no new leases until it is reached or partner-down is declared again"
                    );
                }
            }
            State::Recover => {
                let wait = if self.amnesia { self.cfg.mclt } else { 0 };
                // A restart part-way through recovery keeps the wait it owed.
                self.p.recover_until = self.p.recover_until.max(Some(now.plus(wait)));
                self.p.recover_since = Some(now);
            }
            State::Normal => {
                self.evidence.synced();
                // The latest episode's start is the stricter bound, and its
                // end covers every binding an earlier episode covered.
                if let Some(from) = self.p.partner_down_since.max(self.p.recover_since) {
                    self.widen_guard(from, now);
                }
                self.p.partner_down_since = None;
                self.p.recover_until = None;
                self.p.recover_since = None;
                self.next_rebalance = now.plus(1);
            }
            _ => {}
        }
    }

    /// Asks for `s` to be announced, in place of any announcement not yet
    /// polled.
    fn announce_settled(&mut self, now: Time, s: State) {
        // The partner hears the state we are in, not the path: a state left
        // in the same evaluation (POTENTIAL-CONFLICT straight to
        // CONFLICT-DONE, RECOVER-DONE straight to PARTNER-DOWN) would reach
        // it after we left it, and a partner acting on it answers with a
        // state of its own that we act on in turn (simulator seed 39061134:
        // NORMAL and POTENTIAL-CONFLICT echoed between the peers for good).
        self.actions
            .retain(|a| !matches!(a, Action::Announce { .. }));
        self.actions.push_back(Action::Announce {
            state: s,
            since: now,
        });
    }

    /// Widens the reuse guard (`Persisted::guard`): bindings last changed
    /// before `until` wait until MCLT past `from` and their own times
    /// (`mclt::reusable_at`). Each bound only grows, so a later reason never
    /// shortens an earlier one's wait.
    pub(super) fn widen_guard(&mut self, from: Time, until: Time) {
        self.p.guard = Some(match self.p.guard {
            Some((f, u)) => (f.max(from), u.max(until)),
            None => (from, until),
        });
    }

    pub(super) fn synced(&self) -> bool {
        self.sync.got_done && self.sync.sent_done && self.out.is_empty() && self.inflight.is_empty()
    }

    /// The saved state, as this start resumes it.
    pub(super) fn resumed(&self) -> State {
        match self.resume {
            None | Some(State::Startup) => State::Recover,
            // A restart ends maintenance: the partner, if it took over in
            // PARTNER-DOWN, sends us to RECOVER (`leave_startup`).
            Some(
                State::Normal
                | State::CommunicationsInterrupted
                | State::ConflictDone
                | State::Shutdown,
            ) => State::CommunicationsInterrupted,
            Some(State::RecoverWait | State::RecoverDone) => State::Recover,
            Some(State::PotentialConflict) => State::PotentialConflict,
            Some(s) => s,
        }
    }

    /// Applies state transitions until none is due. The table has no cycle;
    /// the bound only guards against a future edit adding one.
    pub(super) fn evaluate(&mut self, now: Time) {
        for _ in 0..State::ALL.len() {
            match self.next_state(now) {
                Some(s) if s != self.state => {
                    // From a silent COMMUNICATIONS-INTERRUPTED, only
                    // `auto_partner_down` leads there.
                    if (self.state, s) == (State::CommunicationsInterrupted, State::PartnerDown)
                        && self.partner.is_none()
                    {
                        self.record_decision(now);
                    }
                    self.enter(now, s)
                }
                _ => return,
            }
        }
        tracing::error!(state = %self.state, "failover state machine did not settle");
    }

    /// STARTUP's way out: with the partner heard, the saved state (or
    /// RECOVER after a lost database, or when the partner serves alone in
    /// PARTNER-DOWN); alone, the saved state once `STARTUP_WAIT` is over.
    fn leave_startup(&self, now: Time, partner: Option<State>) -> Option<State> {
        let r = self.resumed();
        match partner {
            Some(ps)
                if self.amnesia
                    || (ps == State::PartnerDown && r == State::CommunicationsInterrupted) =>
            {
                Some(State::Recover)
            }
            Some(_) => Some(r),
            None => (now.0 >= self.since.0 + STARTUP_WAIT).then_some(r),
        }
    }

    /// SHUTDOWN's way out once `maintenance stop` was asked, on a connection
    /// opened since: RECOVER from a partner that served alone in
    /// PARTNER-DOWN, else COMMUNICATIONS-INTERRUPTED, whose rules lead on
    /// (to NORMAL, or to PARTNER-DOWN beside a recovering partner). `None`
    /// to stay: not asked, not connected, or the partner still in STARTUP.
    fn leave_shutdown(&self, partner: Option<State>) -> Option<State> {
        match partner? {
            // `maintenance_stop` closed the link, so a connection now is a fresh one.
            _ if !self.leaving_shutdown => None,
            State::Startup => None,
            State::PartnerDown => Some(State::Recover),
            _ => Some(State::CommunicationsInterrupted),
        }
    }

    /// This server judges its partner down at `now` (the operator, or
    /// `auto_partner_down`). Without word from the partner since this
    /// start, the MCLT waits count from now, and our own free addresses
    /// wait too if we were away long enough for the partner to have given
    /// them out (`PairPolicy::own_at_risk`).
    pub(super) fn judge_down(&mut self, now: Time) {
        if !self.heard {
            self.own_at_risk = self.partner_may_hold_ours(now);
            self.p.partner_down_since = Some(now);
        }
        self.declared = true;
    }

    /// Whether the partner, declared down at `now` without word from it
    /// since this start, may have given our free addresses out: in its own
    /// PARTNER-DOWN, entered after we were last known to run
    /// (`prior_alive`), MCLT had time to pass (by its clock, up to
    /// `max_clock_offset` ahead). A short restart leaves our addresses ours.
    fn partner_may_hold_ours(&self, now: Time) -> bool {
        let slack = self.cfg.max_clock_offset;
        !self.heard
            && self
                .prior_alive
                .is_none_or(|t| now.0 + slack >= t.0 + self.cfg.mclt)
    }

    /// Since when the partner has been silent: since contact, or since
    /// this state began.
    pub(super) fn quiet_since(&self) -> Time {
        self.last_contact.unwrap_or(self.since).max(self.since)
    }

    /// Whether `auto_partner_down` is set, the partner has been silent for
    /// all of it, and the evidence it requires holds (`evidence_allows`),
    /// as does the witness's, if any (`witness_allows`).
    fn auto_partner_down_due(&self, now: Time) -> bool {
        self.cfg.auto_partner_down.is_some_and(|apd| {
            now.0 >= self.quiet_since().0 + apd
                && self.evidence_allows(now)
                && self.witness_allows(now)
        })
    }

    /// RECOVER-WAIT while the MCLT wait after recovery runs, then
    /// RECOVER-DONE (draft-ietf-dhc-failover-12, the RECOVER-WAIT state).
    fn after_recover(&self, now: Time) -> State {
        if self.p.recover_until.is_some_and(|t| now < t) {
            State::RecoverWait
        } else {
            State::RecoverDone
        }
    }

    /// The state the transition table leads to from where we and the
    /// partner (as last heard) stand at `now`; `None` to stay.
    pub(super) fn next_state(&self, now: Time) -> Option<State> {
        let connected = self.connected();
        let partner = self.partner.as_ref().map(|p| p.state);
        use State::*;
        match self.state {
            Startup => self.leave_startup(now, partner.filter(|_| connected)),
            Normal | CommunicationsInterrupted => self.leave_serving(now, partner, connected),
            PartnerDown => self.leave_partner_down(partner),
            PotentialConflict | ConflictDone => self.leave_conflict(partner),
            Recover | RecoverWait | RecoverDone => self.leave_recovery(now, partner),
            Shutdown => self.shutdown_exit(partner, connected),
        }
    }

    /// From NORMAL or COMMUNICATIONS-INTERRUPTED.
    fn leave_serving(&self, now: Time, partner: Option<State>, connected: bool) -> Option<State> {
        use State::*;
        match (self.state, partner) {
            (Normal, _) if !connected => Some(CommunicationsInterrupted),
            // A partner in CONFLICT-DONE is only waiting for us to reach
            // NORMAL, and one in POTENTIAL-CONFLICT for its exchange with us
            // to finish: it serves no one meanwhile, and what it granted
            // alone reaches us as updates on this connection. Following it
            // into POTENTIAL-CONFLICT (as the draft's table does) echoes: an
            // announcement that arrives after the partner left the state
            // sends us in, ours sends it back (simulator seed 39061134).
            (Normal, Some(PartnerDown)) => Some(PotentialConflict),
            (CommunicationsInterrupted, Some(PartnerDown | PotentialConflict | ConflictDone)) => {
                Some(PotentialConflict)
            }
            (_, Some(Recover | RecoverWait)) => Some(PartnerDown),
            (CommunicationsInterrupted, Some(Normal | CommunicationsInterrupted | RecoverDone)) => {
                Some(Normal)
            }
            (CommunicationsInterrupted, None) => {
                self.auto_partner_down_due(now).then_some(PartnerDown)
            }
            // The partner went into maintenance and serves no one: take
            // over its clients (with its consent: no waiting for silence).
            (_, Some(Shutdown)) => Some(PartnerDown),
            _ => None,
        }
    }

    /// From PARTNER-DOWN. Our NORMAL must reach the partner behind every
    /// grant we made in PARTNER-DOWN: those made on this connection are
    /// queued before it (`Action::Announce`); those made while apart go as
    /// the answer to the partner's update request, whose UPDDONE a tandem
    /// partner in RECOVER-DONE waits for before it serves
    /// (`leave_recovery`). A dhcpd serves on our NORMAL at once, so beside
    /// one we leave only once dhcpd has answered every record of that
    /// answer (`sync.sent_done`; a record it refused is offered again
    /// until its own version comes, `refusals`): a dhcpd that crashed in RECOVER-DONE and came
    /// back in it gave an address we had granted meanwhile to another
    /// client (simulator seed 12759, `--clients 24 --family isc`), and
    /// once dhcpd has acknowledged every grant of ours (`grants_untold`).
    fn leave_partner_down(&self, partner: Option<State>) -> Option<State> {
        use State::*;
        match partner? {
            RecoverDone
                if self.cfg.isc_partner && (!self.sync.sent_done || self.grants_untold()) =>
            {
                None
            }
            RecoverDone => Some(Normal),
            Normal | CommunicationsInterrupted | PartnerDown | PotentialConflict | ConflictDone => {
                Some(PotentialConflict)
            }
            _ => None,
        }
    }

    /// From POTENTIAL-CONFLICT or CONFLICT-DONE.
    fn leave_conflict(&self, partner: Option<State>) -> Option<State> {
        use State::*;
        match (self.state, partner) {
            // A partner that restarted into RECOVER holds nothing we lack and
            // serves no one: we are the only server, as from NORMAL (seed
            // 7095154: CONFLICT-DONE and RECOVER-DONE each waited for the
            // other). Its RECOVER-DONE then brings us both to NORMAL.
            (_, Some(Recover | RecoverWait)) => Some(PartnerDown),
            (PotentialConflict, Some(_)) if self.synced() => Some(ConflictDone),
            (ConflictDone, Some(ConflictDone | Normal | RecoverDone)) => Some(Normal),
            (ConflictDone, None) => Some(CommunicationsInterrupted),
            (ConflictDone, Some(Shutdown)) => Some(PartnerDown),
            _ => None,
        }
    }

    /// From RECOVER, RECOVER-WAIT or RECOVER-DONE.
    fn leave_recovery(&self, now: Time, partner: Option<State>) -> Option<State> {
        use State::*;
        match (self.state, partner) {
            (Recover, Some(_)) if self.synced() => Some(self.after_recover(now)),
            (RecoverWait, _) if self.p.recover_until.is_none_or(|t| now >= t) => Some(RecoverDone),
            // Only once this connection has brought everything the partner
            // holds (its UPDDONE follows its answer to our request).
            (RecoverDone, Some(Normal | RecoverDone)) if self.sync.got_done => Some(Normal),
            (RecoverDone, Some(Shutdown)) if self.sync.got_done => Some(PartnerDown),
            // A dhcpd that hears our RECOVER in POTENTIAL-CONFLICT or
            // RESOLUTION-INTERRUPTED goes to POTENTIAL-CONFLICT and, there,
            // acts on our CONFLICT-DONE (as its primary) or asks and moves
            // on (as its secondary), never on our RECOVER-DONE: we join it
            // in resolving, our MCLT wait done (failover.c
            // `dhcp_failover_peer_state_changed`; the simulator's isc
            // family, seed 1022414 at 16 clients, waited for good).
            (RecoverDone, Some(PotentialConflict | ConflictDone)) if self.cfg.isc_partner => {
                Some(PotentialConflict)
            }
            _ => None,
        }
    }

    /// From SHUTDOWN (maintenance).
    fn shutdown_exit(&self, partner: Option<State>, connected: bool) -> Option<State> {
        // Both were put into maintenance at once (each saw the other in
        // NORMAL): the secondary serves again rather than no one at all.
        if partner == Some(State::Shutdown) && connected && !self.cfg.primary {
            tracing::warn!("both peers were put into maintenance; the secondary keeps serving");
            return Some(State::CommunicationsInterrupted);
        }
        self.leave_shutdown(partner.filter(|_| connected))
    }
}
