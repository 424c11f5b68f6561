//! What the peer sends, as ISC frames (see the parent module): its state,
//! its batches as one BNDUPD per binding (an address ISC refused waits,
//! `refusals`), its acknowledgements of ISC's BNDUPDs, update requests
//! and the pool exchange.

use super::*;

impl IscSession {
    /// A message from the peer at `now`, as frames for ISC (or nothing, for
    /// what ISC has no form of).
    pub fn send(&mut self, now: Time, m: Message) -> Vec<SessionOutput> {
        match m {
            Message::Connect(c) => {
                self.fingerprint = c.fingerprint;
                let mut out = self.set_ours(now, c.state, now.0);
                out.extend(self.introduce_waiting(now));
                out
            }
            // ISC has no pair-config exchange: the peer's own fingerprint
            // is the partner's (see `introduce`), so it is agreed.
            Message::PairConfig {
                fingerprint,
                answer: false,
            } => {
                self.fingerprint = fingerprint.clone();
                let agreed = Message::PairConfig {
                    fingerprint,
                    answer: true,
                };
                vec![SessionOutput::Message(agreed)]
            }
            Message::State { state, since } => self.set_ours(now, state, since),
            Message::BindingUpdate { batch, leases, .. }
            | Message::BindingUpdateDns { batch, leases, .. }
            | Message::BindingUpdateStale { batch, leases, .. } => {
                self.send_batch(now, batch, &leases)
            }
            Message::BindingAck { batch, rejects } => self.send_ack(now, batch, &rejects),
            Message::UpdateRequest { .. } => self.update_request(now, IscMessage::UpdReq),
            Message::UpdateRequestAll => self.update_request(now, IscMessage::UpdReqAll),
            // The answer to a request ISC made, or to the one made on its
            // behalf at connect (`inbound`), which ISC did not ask for: an
            // UPDDONE it did not ask for ends its RECOVER with a partial
            // copy, or sends its secondary to NORMAL mid-conflict.
            Message::UpdateDone if !self.isc_asked => vec![],
            Message::UpdateDone => {
                self.isc_asked = false;
                let frame = self.link.reply(now, IscMessage::UpdDone, self.request_xid);
                let mut out = vec![SessionOutput::Frame(frame)];
                out.extend(self.after_update_done(now));
                out
            }
            Message::PoolRequest { pool, .. } => self.ask_pool(now, pool),
            Message::PoolResponse { given, .. } => self.answer_pool(now, given),
            Message::Disconnect { reason } => {
                let bye = IscMessage::Disconnect(rejection(reject::MISC, &reason));
                self.frame(now, bye)
            }
            Message::ConnectAck(_)
            | Message::Contact { .. }
            | Message::PairConfig { .. }
            | Message::Reservations { .. } => vec![],
        }
    }

    fn frame(&mut self, now: Time, m: IscMessage) -> Vec<SessionOutput> {
        vec![SessionOutput::Frame(self.link.send(now, m))]
    }

    /// The peer's own UPDREQ or UPDREQALL, whose xid dhcpd's UPDDONE
    /// answering it carries (`inbound`'s `update_done`).
    fn update_request(&mut self, now: Time, m: IscMessage) -> Vec<SessionOutput> {
        let frame = self.link.send(now, m);
        self.asked_xid = Some(frame.xid);
        vec![SessionOutput::Frame(frame)]
    }

    /// The peer's state changed (or its CONNECT told it): ISC hears it once
    /// the connection is up, and never STARTUP.
    fn set_ours(&mut self, now: Time, s: WireState, since: u64) -> Vec<SessionOutput> {
        let Some(s) = s.state() else { return vec![] };
        self.ours = Some((s, since));
        self.told = None;
        let mut out = self.tell_held(now);
        out.extend(self.balance());
        out
    }

    /// Our state, once the connection is up, unless ISC must not hear it
    /// now (`deliverable`); then it goes when ISC's state allows.
    pub(super) fn tell_held(&mut self, now: Time) -> Vec<SessionOutput> {
        let Some((s, since)) = self.ours else {
            return vec![];
        };
        // Nothing before ISC's first STATE of the connection (it always
        // sends one at once): ISC keeps CONFLICT-DONE across a reconnect,
        // and a state sent blind could be one it exits on.
        if !self.link.is_up() || self.theirs.is_none() {
            return vec![];
        }
        let Some(say) = self.deliverable(s) else {
            self.report_held(s);
            return vec![];
        };
        // What ISC heard, not what we are: a state told in another's
        // place (RECOVER-DONE as NORMAL) goes once ISC's state calls for
        // it, even if ours has not changed since.
        if self.told == Some(say) {
            return vec![];
        }
        self.held = None;
        let mut out = self.conflict_first(now, say, since);
        self.told = Some(say);
        self.said = Some(say);
        self.told_in_startup = self.theirs_startup;
        out.extend(self.state_frame(now, say, since).map(SessionOutput::Frame));
        out
    }

    /// Our POTENTIAL-CONFLICT, ahead of our CONFLICT-DONE (`say`) when
    /// dhcpd last heard another state of ours: a dhcpd secondary asks for
    /// our updates on CONFLICT-DONE only when our previous state was
    /// POTENTIAL-CONFLICT, and otherwise logs "unexpected move" and waits
    /// (failover.c `dhcp_failover_peer_state_changed`). The peer passes
    /// through POTENTIAL-CONFLICT at once when it has nothing left to
    /// learn, and dhcpd heard our COMMUNICATIONS-INTERRUPTED then our
    /// CONFLICT-DONE: both waited for good (the simulator's isc family,
    /// seed 1024890 at 16 clients). Not again after a CONFLICT-DONE told
    /// on this connection, which had ours ahead of it (review: told again
    /// out of dhcpd's STARTUP, it would have asked a second time).
    fn conflict_first(&mut self, now: Time, say: State, since: u64) -> Vec<SessionOutput> {
        use State::*;
        if say != ConflictDone
            || matches!(self.said, Some(PotentialConflict | ConflictDone))
            || self.deliverable(PotentialConflict) != Some(PotentialConflict)
        {
            return vec![];
        }
        self.state_frame(now, PotentialConflict, since)
            .map(SessionOutput::Frame)
            .into_iter()
            .collect()
    }

    /// ISC moves on our UPDDONE before it says so (failover.c,
    /// `dhcp_failover_process_update_done`): a primary in
    /// POTENTIAL-CONFLICT enters CONFLICT-DONE at once. The guard must
    /// judge what follows by that, not by ISC's last STATE: our
    /// RECOVER-WAIT or RECOVER-DONE right behind the UPDDONE would reach a
    /// dhcpd in CONFLICT-DONE, which exits on it (review of session 20).
    fn after_update_done(&mut self, now: Time) -> Vec<SessionOutput> {
        let isc_primary = !self.cfg.link.primary;
        if isc_primary && self.theirs == Some(State::PotentialConflict) && !self.theirs_interrupted
        {
            self.theirs = Some(State::ConflictDone);
            return self.tell_held(now);
        }
        vec![]
    }

    /// Logs once per (our state, ISC's state) that ours is held back: a
    /// warning, since only the other side's next move releases it.
    fn report_held(&mut self, s: State) {
        let Some(theirs) = self.theirs else { return };
        if self.held != Some((s, theirs)) {
            self.held = Some((s, theirs));
            tracing::warn!(state = %s, partner = %theirs, "not telling the ISC partner our state: dhcpd would shut down or exit on it; it goes once dhcpd's state allows");
        }
    }

    /// What ISC may hear of our state `s` now, `None` while it would shut
    /// down or exit on it (research section 3.6; ISC's
    /// `dhcp_failover_peer_state_changed`, by the state it acts on):
    /// - a secondary in CONFLICT-DONE is illegal to ISC, which shuts down
    ///   (its secondary goes from POTENTIAL-CONFLICT straight to NORMAL,
    ///   which the peer does too when ISC reaches CONFLICT-DONE or NORMAL);
    /// - ISC in CONFLICT-DONE exits (`log_fatal`) on any state but NORMAL,
    ///   SHUTDOWN and POTENTIAL-CONFLICT. Our RECOVER-DONE (a full copy
    ///   and MCLT waited: NORMAL once the partner agrees) is told as the
    ///   NORMAL that ends ISC's CONFLICT-DONE; held, a re-installed tandem
    ///   and a dhcpd in CONFLICT-DONE would wait for each other for ever
    ///   (review of session 19);
    /// - ISC in NORMAL shuts down on POTENTIAL-CONFLICT or CONFLICT-DONE,
    ///   and in POTENTIAL-CONFLICT (not RESOLUTION-INTERRUPTED) on NORMAL.
    fn deliverable(&self, s: State) -> Option<State> {
        use State::*;
        if !self.cfg.link.primary && s == ConflictDone {
            return None;
        }
        match (self.theirs, s) {
            (Some(ConflictDone), Normal | Shutdown | PotentialConflict) => Some(s),
            (Some(ConflictDone), RecoverDone) => Some(Normal),
            (Some(ConflictDone), _) => None,
            (Some(Normal), PotentialConflict | ConflictDone) => None,
            (Some(PotentialConflict), Normal) if !self.theirs_interrupted => None,
            _ => Some(s),
        }
    }

    pub(super) fn state_frame(&mut self, now: Time, s: State, since: u64) -> Option<Frame> {
        let number = state::to_isc(s)?;
        let m = IscMessage::State {
            state: Some(number),
            flags: Some(0),
            since: Some(u32::try_from(since).unwrap_or(binding::MAX_TIME)),
        };
        Some(self.link.send(now, m))
    }

    /// A batch of ours as one BNDUPD per record.
    fn send_batch(&mut self, now: Time, batch: u64, leases: &[WireLease]) -> Vec<SessionOutput> {
        if leases.is_empty() {
            let ack = Message::BindingAck {
                batch,
                rejects: vec![],
            };
            return vec![SessionOutput::Message(ack)];
        }
        self.batches.insert(batch, (leases.len(), Vec::new()));
        let wait = REOFFER_AFTER
            .min(u64::from(self.cfg.link.max_response_delay) / 3)
            .max(1);
        let go: Vec<WireLease> = leases
            .iter()
            .filter(|w| self.refusals.offer(now, wait, batch, w))
            .cloned()
            .collect();
        go.into_iter()
            .filter_map(|w| self.dispatch(now, batch, w))
            .map(SessionOutput::Frame)
            .collect()
    }

    /// One record of our `batch` as a BNDUPD now, or queued while ISC has
    /// as many of ours unacknowledged as it takes (its CONNECT's or
    /// CONNECTACK's max-unacked-updates; draft section 7.1.1: a sender
    /// never exceeds it).
    pub(super) fn dispatch(&mut self, now: Time, batch: u64, w: WireLease) -> Option<Frame> {
        if self.sent.len() < self.window() && self.queued.is_empty() {
            return Some(self.offer(now, batch, &w));
        }
        self.queued.push_back((batch, w));
        None
    }

    /// What was queued, as far as ISC's window now allows.
    pub(super) fn flush(&mut self, now: Time) -> Vec<SessionOutput> {
        let mut out = Vec::new();
        while self.sent.len() < self.window() {
            let Some((batch, w)) = self.queued.pop_front() else {
                break;
            };
            out.push(SessionOutput::Frame(self.offer(now, batch, &w)));
        }
        out
    }

    /// Takes our records of `addr` out of the window's queue: (batch,
    /// address) of each.
    pub(super) fn unqueue(&mut self, addr: Ipv4Addr) -> Vec<(u64, u32)> {
        let a = u32::from(addr);
        let (gone, kept) = std::mem::take(&mut self.queued)
            .into_iter()
            .partition(|(_, w)| w.addr == a);
        self.queued = kept;
        gone.into_iter()
            .map(|(b, w): (u64, WireLease)| (b, w.addr))
            .collect()
    }

    /// How many of our BNDUPDs ISC takes unacknowledged (at least one).
    fn window(&self) -> usize {
        let theirs = self.partner.as_ref().and_then(|(h, _)| h.max_unacked);
        theirs.unwrap_or(self.cfg.link.max_unacked).max(1) as usize
    }

    /// One record of our `batch` as a BNDUPD, awaiting ISC's BNDACK. An
    /// expiry or a release ends no later than now: a stored end can be
    /// later, dhcpd's own taken back at its latest on our clock (the
    /// offset's range), and would reach dhcpd as an expiry before its end
    /// (the simulator's isc family, seeds 1033732 and 1072378 at 24
    /// clients, 1041560 at 16, 1137281 at 10).
    fn offer(&mut self, now: Time, batch: u64, w: &WireLease) -> Frame {
        let mut b = binding::from_wire(w);
        if matches!(
            b.status,
            Some(binding::status::EXPIRED | binding::status::RELEASED)
        ) {
            let now = binding::to_isc(now.0);
            b.ends = b.ends.map(|e| e.min(now));
        }
        let frame = self.link.send(now, IscMessage::BndUpd(b));
        self.sent.insert(frame.xid, (batch, Ipv4Addr::from(w.addr)));
        frame
    }

    /// The peer's acknowledgement of ISC's BNDUPD (a batch of one).
    fn send_ack(&mut self, now: Time, batch: u64, rejects: &[Reject]) -> Vec<SessionOutput> {
        // The high half names the connection (`SessionConfig::connection`).
        if batch >> 32 != self.cfg.connection & 0xffff_ffff {
            return vec![];
        }
        let xid = batch as u32;
        let Some(addr) = self.owed.remove(&xid) else {
            return vec![];
        };
        let refusal = rejects
            .iter()
            .find(|r| r.addr == u32::from(addr))
            .map(|r| rejection(reject_reason(&r.reason), &r.reason));
        let ack = IscMessage::BndAck {
            addr: Some(addr),
            reject: refusal,
        };
        vec![SessionOutput::Frame(self.link.reply(now, ack, xid))]
    }

    /// The peer asks for free addresses of `pool`: one POOLREQ for all
    /// the pools it asks about until ISC answers.
    fn ask_pool(&mut self, now: Time, pool: u32) -> Vec<SessionOutput> {
        let first = self.pools_asked.is_empty();
        if !self.pools_asked.contains(&pool) {
            self.pools_asked.push(pool);
        }
        if first {
            self.frame(now, IscMessage::PoolReq)
        } else {
            vec![]
        }
    }

    /// One pool answered ISC's POOLREQ; the POOLRESP goes with the last.
    fn answer_pool(&mut self, now: Time, given: u32) -> Vec<SessionOutput> {
        let Some(a) = &mut self.pool_answer else {
            return vec![];
        };
        a.given = a.given.saturating_add(given);
        a.pools_left = a.pools_left.saturating_sub(1);
        if a.pools_left > 0 {
            return vec![];
        }
        let (xid, transferred) = (a.xid, a.given);
        self.pool_answer = None;
        let Some(xid) = xid else {
            return vec![];
        };
        let resp = IscMessage::PoolResp {
            transferred: Some(transferred),
        };
        vec![SessionOutput::Frame(self.link.reply(now, resp, xid))]
    }
}
