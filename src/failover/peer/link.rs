//! The connection to the partner: coming up and going down, the CONNECT
//! introductions, the limits on what a partner may send, and the tick that
//! keeps the link alive (keepalives, the silence timeout).

use super::*;

/// Control messages (everything but binding updates and their acks) a
/// partner may send in a burst (plus four per pool, for rebalancing rounds),
/// and per second after it. A healthy partner sends a keepalive every few
/// seconds, a handful of others per state change, and a request or answer
/// per pool per rebalancing round; a flood is closed before it costs much.
const CHATTER_BURST: u32 = 200;
const CHATTER_PER_SEC: u32 = 20;

impl Peer {
    /// The transport is up and authenticated: introduce ourselves.
    pub fn link_up(&mut self, now: Time, store: &LeaseStore) {
        self.link = Some(Link {
            last_rx: now,
            last_keepalive: now,
        });
        self.partner = None;
        self.partner_fingerprint = None;
        self.out.clear();
        self.inflight.clear();
        self.ack_wait_since = None;
        self.disputes.clear();
        self.chatter = self.chatter_burst();
        self.chatter_at = now;
        self.sync = Sync::default();
        self.restart_evidence(now);
        let c = Connect {
            version: PROTOCOL_VERSION,
            name: self.cfg.name.clone(),
            primary: self.cfg.primary,
            time: now.0,
            fingerprint: self.cfg.fingerprint.clone(),
            epoch: self.epoch,
            seen_epoch: self.p.partner_epoch,
            // The current state, even when its commit is still pending: a
            // crash before it is durable brings us back in a resumed state
            // the partner must handle anyway (a restart never resumes
            // NORMAL), and each not-yet-durable state only makes the
            // partner more careful. Carrying the last durable state instead
            // let a partner pair with our stale COMMUNICATIONS-INTERRUPTED
            // and then meet our PARTNER-DOWN: simulator seed 22235258
            // (`--clients 24 --family partner-down-expiry`) echoed
            // POTENTIAL-CONFLICT between the peers forever.
            state: self.state.into(),
            mclt: self.cfg.mclt,
            covers: self.covers(now, store),
            max_unacked: None,
        };
        self.send(now, Message::Connect(c));
    }

    /// The transport went down for `why` (the link's words): as
    /// [`Peer::link_down`], and when the partner had not yet introduced
    /// itself, `why` becomes the status alarm until a partner connects:
    /// a partner that refuses to pair (an ISC dhcpd's CONNECTACK for a
    /// clock offset over 60 s, a wrong relationship name) or a handshake
    /// that never ends would otherwise show only as
    /// COMMUNICATIONS-INTERRUPTED.
    pub fn link_lost(&mut self, now: Time, why: &str) {
        if self.link.is_some() && self.partner.is_none() {
            self.alarm = Some(format!(
                "the peer link closed before the partner connected: {why}"
            ));
        }
        self.link_down(now);
    }

    /// The transport went down: the partner is unheard from now on.
    pub fn link_down(&mut self, now: Time) {
        let was_up = self.link.take().is_some();
        if was_up {
            tracing::warn!(state = %self.state, "peer link down");
        }
        // A partner last heard in PARTNER-DOWN may still be there, serving
        // our pool: nothing new until it is heard again (simulator seed
        // 52104363: the link fell in CONFLICT-DONE before the partner had
        // heard us, and COMMUNICATIONS-INTERRUPTED allocated beside it).
        if self
            .partner
            .as_ref()
            .is_some_and(|p| p.state == State::PartnerDown)
        {
            self.heard = false;
        }
        self.partner = None;
        self.partner_fingerprint = None;
        self.out.clear();
        self.inflight.clear();
        self.ack_wait_since = None;
        self.disputes.clear();
        self.sync = Sync::default();
        // A failed connection attempt is no news: the silence goes on.
        if was_up {
            self.restart_evidence(now);
        }
        self.evaluate(now);
    }

    pub(super) fn close(&mut self, now: Time, why: String) {
        tracing::warn!(reason = %why, "closing peer link");
        self.actions.push_back(Action::Close(why));
        self.link_down(now);
    }

    /// The burst allowance: a rebalancing round sends a request (and gets an
    /// answer) per pool, so large configurations get room for it.
    pub(super) fn chatter_burst(&self) -> u32 {
        let pools = u32::try_from(self.cfg.pools.len()).unwrap_or(u32::MAX);
        CHATTER_BURST.saturating_add(pools.saturating_mul(4))
    }

    /// Charges a control message against the partner's budget. A request
    /// for updates costs more: answering one walks the database.
    pub(super) fn may_chatter(&mut self, now: Time, msg: &Message) -> bool {
        let cost = match msg {
            Message::BindingUpdate { .. } => return true,
            Message::BindingAck { batch, .. } if self.inflight.contains_key(batch) => return true,
            Message::UpdateRequest { .. } | Message::UpdateRequestAll => 20,
            _ => 1,
        };
        let earned = now.0.saturating_sub(self.chatter_at.0);
        let per_sec = u64::from(CHATTER_PER_SEC) + self.cfg.pools.len() as u64 / 5;
        let earned = u32::try_from(earned.saturating_mul(per_sec)).unwrap_or(u32::MAX);
        self.chatter = self
            .chatter
            .saturating_add(earned)
            .min(self.chatter_burst());
        self.chatter_at = self.chatter_at.max(now);
        match self.chatter.checked_sub(cost) {
            Some(left) => {
                self.chatter = left;
                true
            }
            None => false,
        }
    }

    /// The partner introduced itself. A CONNECT we cannot pair with is
    /// refused (`check_connect`); otherwise we note the clock offset, learn
    /// whether we lost our database, answer with CONNECTACK and ask for the
    /// partner's updates (all of them if its database is new to us).
    pub(super) fn on_connect(&mut self, now: Time, mut c: Connect) {
        c.epoch = self.partner_database(c.epoch);
        let (state, version) = match self.check_connect(&c) {
            Ok(v) => v,
            Err(why) => return self.refuse(now, why),
        };
        let offset = crate::failover::clock::sample(now, c.time);
        self.alarm = (offset.unsigned_abs() > self.cfg.max_clock_offset)
            .then(|| format!("partner clock is {offset:+} s from ours; times on the wire are corrected, but fix NTP"));
        if let Some(a) = &self.alarm {
            tracing::warn!("{a}");
        }
        // We lost our database if we know it (it vanished since `tandem
        // init`) or the partner knew an older one of ours.
        self.amnesia = self.lost || c.seen_epoch.is_some_and(|e| e != self.epoch);
        tracing::info!(partner = %c.name, partner_state = %state, offset, amnesia = self.amnesia, "peer connected");
        // A partner still in STARTUP has not said where it stands: it may
        // resume PARTNER-DOWN, and serve our pool (simulator seed 21263175).
        self.heard |= state != State::Startup;
        self.partner_fingerprint = Some(c.fingerprint.clone());
        self.partner = Some(Partner {
            name: c.name,
            state,
            version,
            epoch: c.epoch,
            covers: c.covers,
            max_unacked: c.max_unacked.map(|n| n as usize),
            clock: ClockOffset::new(now, c.time),
        });
        let floor = self.partner.as_ref().map_or(0, |p| p.clock.get());
        self.send(now, Message::ConnectAck(ConnectAck { time: now.0, floor }));
        self.request_updates(now, c.epoch);
        self.send_reservations(now);
        // A state announcement queued before the partner introduced itself
        // goes now.
        self.pump(now);
        self.evaluate(now);
    }

    /// The identity of the partner's database its CONNECT names. An ISC
    /// dhcpd's has none: its session names [`ISC_EPOCH`] for "the one met
    /// last" (the first meeting makes that this constant), and a new
    /// identity when dhcpd shows it lost its database (`isc::session`).
    fn partner_database(&self, epoch: u64) -> u64 {
        // Only an ISC identity: one stored from a tandem partner (the
        // protocol switched back from tandem's) is another database.
        match self.p.partner_epoch {
            Some(last) if self.cfg.isc_partner && epoch == ISC_EPOCH && is_isc_epoch(last) => last,
            _ => epoch,
        }
    }

    /// The partner's state and the protocol version the pair speaks, if we
    /// can pair with it: a version both speak, the other role, the same pool
    /// configuration; else why not.
    fn check_connect(&self, c: &Connect) -> Result<(State, u16), String> {
        let version = crate::failover::message::agree(c.version)?;
        if c.primary == self.cfg.primary {
            return Err("both peers are configured with the same role".into());
        }
        if c.fingerprint != self.cfg.fingerprint {
            return Err("pool configuration differs between the peers (fingerprint mismatch); fix the configs so subnets, pools, reservations, classes, DDNS naming, split and mclt match".into());
        }
        let state = c
            .state
            .state()
            .ok_or_else(|| format!("unknown partner state {}", c.state.0))?;
        Ok((state, version))
    }

    /// Asks the partner for what we lack: the updates after the last one
    /// we received from its database `epoch`, or all of them (UPDREQALL)
    /// when that database is new to us.
    fn request_updates(&mut self, now: Time, epoch: u64) {
        let known = self.p.partner_epoch == Some(epoch);
        self.sync.full = !known;
        if !known {
            self.hold_lost_grants(now, epoch);
        }
        if known {
            let since = self.p.received_seq;
            self.send(now, Message::UpdateRequest { since });
        } else {
            self.p.received_seq = 0;
            self.send(now, Message::UpdateRequestAll);
        }
    }

    /// The partner's database is not the one we last synchronised with: it
    /// lost its own (or is a new installation). What it granted or extended
    /// without our acknowledgement (renewals in COMMUNICATIONS-INTERRUPTED,
    /// up to MCLT past what we acknowledged) went with it, so neither its
    /// acknowledgements nor its "every binding" can clear an address. Every
    /// binding changed before now waits out the MCLT rule, as after a
    /// PARTNER-DOWN episode (simulator seed 36106232: a declined address
    /// the partner had re-granted to its client went to another).
    ///
    /// Widened once per database: meeting it again before its full copy
    /// arrived (a flapping link) adds nothing, since what it forgot it
    /// forgot before the first meeting. Persisted with the next commit of
    /// the failover state (not here, which may be in STARTUP, whose saved
    /// state must stay the one resumed); a crash before that meets the
    /// database anew.
    fn hold_lost_grants(&mut self, now: Time, epoch: u64) {
        if self.p.guard_epoch == Some(epoch) {
            return;
        }
        if self.p.partner_epoch.is_some() {
            tracing::warn!(
                "the partner's lease database is new to us: addresses it may have renewed without our acknowledgement are held until MCLT past their potential expiry"
            );
        }
        self.widen_guard(now, now);
        self.p.guard_epoch = Some(epoch);
    }

    /// Whether our database holds every binding of the pair, so a partner
    /// that lost its own may rely on a full copy of it (`lease::relearn`):
    /// we are not re-learning ourselves, and we were serving, not catching
    /// up in RECOVER (whose copy lacks what the partner granted alone).
    pub(super) fn covers(&self, now: Time, store: &LeaseStore) -> bool {
        let state = if self.state == State::Startup {
            self.resumed()
        } else {
            self.state
        };
        !store.relearning(now)
            && !matches!(
                state,
                State::Startup | State::Recover | State::RecoverWait | State::RecoverDone
            )
    }

    pub(super) fn refuse(&mut self, now: Time, why: String) {
        tracing::error!("{why}");
        self.alarm = Some(why.clone());
        self.send(
            now,
            Message::Disconnect {
                reason: why.clone(),
            },
        );
        self.close(now, why);
    }

    /// The time of an input, before it is handled (call for every one):
    /// `now` on the wall clock, `mono` on the monotonic one. A gap of
    /// `stall_limit` seconds or more since the last input means this
    /// process was stopped or suspended (SIGSTOP, a paused VM) while time
    /// went on: the partner may have judged it down meanwhile and be
    /// serving its pool. It goes on as after a restart (DESIGN.md 3.2): the
    /// link is closed and it serves blind until it hears the partner. With
    /// a witness, so does a server that has lost both the partner and the
    /// witness (`fenced`).
    ///
    /// The gap is the longer of the two clocks': the monotonic one catches
    /// a stall that a backward step of the wall clock hides; the wall
    /// clock catches a paused VM whose monotonic clock was stopped with it
    /// (KVM restores kvmclock on resume), once NTP steps it. A forward step
    /// alone is then taken for a stall, the safe mistake.
    pub fn wake(&mut self, now: Time, mono: Mono) {
        let mono_gap = self.last_mono.map_or(0, |m| mono.since(m));
        let gap = mono_gap.max(self.last_event.until(now));
        self.last_mono = Some(self.last_mono.map_or(mono, |m| m.max(mono)));
        let before = self.last_event;
        self.last_event = self.last_event.max(now);
        if self.fenced(now) {
            tracing::warn!(
                "neither the partner nor the witness is reachable: the partner may judge this server down, so it serves renewals only until the partner is reached"
            );
            let last_heard = self.witness_last_reply().unwrap_or(now).min(now);
            let why = "neither the partner nor the witness heard for a while";
            self.go_blind(now, last_heard, why.into());
        }
        if gap < self.stall_limit() {
            return;
        }
        tracing::warn!(
            gap,
            "this process was stalled (stopped or suspended): the partner may have judged it down, so it serves as after a restart until the partner is reached"
        );
        self.go_blind(now, before, format!("this process was stalled for {gap} s"));
    }

    /// Serves blind from `now` as after a restart: the partner may have
    /// judged us down since `alive` (the journal's reckoning of
    /// `own_at_risk` starts there, or earlier if we were blind already),
    /// any open link is closed (`why`), and the evidence starts over.
    fn go_blind(&mut self, now: Time, alive: Time, why: String) {
        self.prior_alive = match self.prior_alive {
            Some(p) if self.partner_unknown() => Some(p.min(alive)),
            _ => Some(alive),
        };
        self.heard = false;
        self.declared = false;
        if self.link.is_some() {
            self.close(now, why);
        }
        self.restart_evidence(now);
        self.evaluate(now);
    }

    /// Seconds between keepalives: a third of `max_response_delay`, and
    /// with a witness at most 2 s, since the fence counts the partner
    /// unheard after `FENCE_SILENCE` (`peer::witness`).
    fn keepalive_every(&self) -> u64 {
        let third = (self.cfg.max_response_delay / 3).max(1);
        match self.cfg.witness {
            Some(_) => third.min(2),
            None => third,
        }
    }

    /// The shortest gap between inputs that is a stall, seconds: longer
    /// than `max_response_delay`, after which the partner closes the link;
    /// in a silent COMMUNICATIONS-INTERRUPTED, where the partner may be
    /// counting our clients, shorter than the least `secs` any partner
    /// can be configured with (`evidence::MIN_SECS`, one second less as
    /// ticks come a second apart). That holds whatever the two peers'
    /// evidence settings are, ours included: the partner's decides.
    fn stall_limit(&self) -> u64 {
        let close = self.cfg.max_response_delay + 1;
        if self.state != State::CommunicationsInterrupted || self.link.is_some() {
            return close;
        }
        close.min(u64::from(crate::failover::evidence::MIN_SECS) - 1)
    }

    /// Time passed (call at least once a second): keepalives, the silence
    /// timeout, STARTUP's wait, automatic partner-down and rebalancing.
    pub fn tick(&mut self, now: Time, store: &mut LeaseStore) {
        if let Some(l) = &self.link {
            if now.0.saturating_sub(l.last_rx.0) > self.cfg.max_response_delay {
                let why = format!("no message from the partner for {} s", now.0 - l.last_rx.0);
                return self.close(now, why);
            }
            // A partner that talks but never acknowledges would stall
            // replication for good: treat it as unreachable too.
            if let Some(t) = self.ack_wait_since
                && now.0.saturating_sub(t.0) > self.cfg.max_response_delay
            {
                let why = format!(
                    "no acknowledgement of binding updates for {} s",
                    now.0 - t.0
                );
                return self.close(now, why);
            }
            // A keepalive goes out on schedule even under a stream of
            // updates: it carries our clock bound, which the partner's
            // conversions rely on.
            if now.0.saturating_sub(l.last_keepalive.0) >= self.keepalive_every() {
                let floor = self.partner.as_ref().map(|p| p.clock.get());
                if let Some(l) = &mut self.link {
                    l.last_keepalive = now;
                }
                self.send(now, Message::Contact { time: now.0, floor });
            }
        }
        let every = (self.cfg.mclt / 4).clamp(1, ALIVE_EVERY);
        let due = self.p.alive_at.is_none_or(|t| now.0 >= t.0 + every);
        if due && !self.partner_unknown() {
            self.p.alive_at = Some(now);
            self.persist(now);
        }
        if self.state == State::Normal && now >= self.next_rebalance {
            self.next_rebalance = now.plus(REBALANCE_EVERY);
            self.rebalance(now, store);
        }
        self.evaluate(now);
    }
}
