//! What ISC sends, once the peer knows the partner, as what the peer is
//! told (see the parent module): its state, its BNDUPDs as batches of one,
//! its BNDACKs gathered into the peer's acknowledgements, its update
//! requests and the pool exchange.

use super::introduction::{isc_state, partner_state};
use super::*;

impl IscSession {
    /// An ISC message, once the peer knows the partner, as what the peer
    /// is told or what is answered here.
    pub(super) fn translate(
        &mut self,
        now: Time,
        m: IscMessage,
        xid: u32,
        time: u32,
    ) -> Vec<SessionOutput> {
        let to_peer = |m: Message| vec![SessionOutput::Message(m)];
        match m {
            IscMessage::State {
                state,
                flags,
                since,
            } => self.partner_state_message(now, state, flags, since.unwrap_or(time)),
            IscMessage::BndUpd(b) => self.binding_update(now, &b, xid, time),
            IscMessage::BndAck { addr, reject } => {
                let mut out = self.binding_ack(xid, addr, reject);
                out.extend(self.flush(now));
                out
            }
            IscMessage::UpdReq | IscMessage::UpdReqAll => {
                self.request_xid = xid;
                self.isc_asked = true;
                self.behalf_put_off = false;
                self.request_for_peer(if matches!(m, IscMessage::UpdReq) {
                    Message::UpdateRequest { since: u64::MAX }
                } else {
                    Message::UpdateRequestAll
                })
            }
            IscMessage::UpdDone => self.update_done(xid),
            IscMessage::PoolReq => self.pool_request(Some(xid)),
            IscMessage::PoolResp { transferred } => self.pool_response(transferred),
            IscMessage::Disconnect(r) => to_peer(Message::Disconnect {
                reason: describe(&r),
            }),
            IscMessage::Contact => to_peer(Message::Contact {
                time: u64::from(time),
                floor: None,
            }),
            IscMessage::Connect { .. } | IscMessage::ConnectAck { .. } => {
                vec![SessionOutput::Close(format!(
                    "{:?} on a connection already up",
                    m.kind()
                ))]
            }
        }
    }

    /// ISC's STATE (`number`, `flags`, entered at `since`) for the peer.
    fn partner_state_message(
        &mut self,
        now: Time,
        number: Option<u8>,
        flags: Option<u8>,
        since: u32,
    ) -> Vec<SessionOutput> {
        match partner_state(number, flags) {
            Ok(s) => {
                let mut out = vec![SessionOutput::Message(Message::State {
                    state: WireState::from(s),
                    since: u64::from(since),
                })];
                out.extend(self.partner_in(now, number, s));
                out
            }
            Err(why) => vec![SessionOutput::Close(why)],
        }
    }

    /// ISC's UPDDONE (transaction `xid`) for the peer; the first of the
    /// connection answers the peer's own request and releases the one held
    /// (`request_for_peer`). One that answers no request of ours on this
    /// connection (none sent yet, or another xid) is dropped, logged:
    /// dhcpd keeps its pending UPDDONE (`send_update_done`) across a
    /// disconnect and sends it, with the old request's xid, once the lease
    /// it waits for is acknowledged; taken, it would end learn-first, or
    /// the peer's RECOVER, before dhcpd's changes arrived. Each connection
    /// numbers its frames apart from the one before (`first_xid`), so the
    /// stale one's xid is not our request's, even where it comes after
    /// our request (a refusal the session itself sends before it, of a
    /// binding update it cannot read). dhcpd drops the old pointer once it
    /// takes our request (failover.c
    /// `dhcp_failover_process_update_request`).
    fn update_done(&mut self, xid: u32) -> Vec<SessionOutput> {
        if self.asked_xid != Some(xid) {
            tracing::warn!(
                xid,
                asked = ?self.asked_xid,
                "dropped an UPDDONE from the ISC partner that answers no update request of ours on this connection"
            );
            return vec![];
        }
        let mut out = vec![SessionOutput::Message(Message::UpdateDone)];
        if !self.learned {
            self.learned = true;
            out.extend(self.held_request.take().map(SessionOutput::Message));
        }
        out
    }

    /// A request for the peer's updates (ISC's UPDREQ or UPDREQALL, or
    /// the one made on its behalf): to the peer once dhcpd has answered
    /// the peer's own request of this connection, held until then (the
    /// later one, UPDREQALL above all, standing for both). dhcpd judges a
    /// partner's binding update by its state alone, not by time: a
    /// release or an expiry tandem recorded while the two were apart
    /// would end a binding dhcpd renewed meanwhile (its primary in NORMAL
    /// takes ACTIVE to RELEASED, its secondary anything over a pending
    /// update of its own), and the address would go to another client
    /// (the simulator's isc family, seeds 633 and 12916). Learning first,
    /// the peer resolves such a pair by time (`reconcile::resolve`) and
    /// never sends the stale version. dhcpd answers an update request in
    /// every state, so the wait ends.
    pub(super) fn request_for_peer(&mut self, m: Message) -> Vec<SessionOutput> {
        if self.learned {
            return vec![SessionOutput::Message(m)];
        }
        if !matches!(self.held_request, Some(Message::UpdateRequestAll)) {
            self.held_request = Some(m);
        }
        vec![]
    }

    /// ISC's BNDUPD as a batch of one; one tandem cannot read is refused
    /// here with ISC's reason.
    fn binding_update(
        &mut self,
        now: Time,
        b: &Binding,
        xid: u32,
        time: u32,
    ) -> Vec<SessionOutput> {
        match binding::to_wire(b) {
            Ok(w) => {
                let addr = Ipv4Addr::from(w.addr);
                self.owed.insert(xid, addr);
                let mut out = vec![SessionOutput::Message(Message::BindingUpdate {
                    batch: (self.cfg.connection << 32) | u64::from(xid),
                    time: u64::from(time),
                    leases: vec![w],
                })];
                // The peer judges ISC's version first; offers of ours held
                // back are stale now and answered as not taken.
                // So are those waiting for room in ISC's window: sent after
                // ISC's own version, ISC would take them as plain updates
                // (its own is acknowledged), and the two would differ.
                let mut stale: Vec<(u64, u32)> = self
                    .refusals
                    .superseded(addr)
                    .into_iter()
                    .map(|h| (h.batch, h.lease.addr))
                    .collect();
                stale.extend(self.unqueue(addr));
                for (batch, a) in stale {
                    let reason = "superseded by the ISC partner's version".to_string();
                    let reject = Reject { addr: a, reason };
                    out.extend(self.answer(batch, Some(reject)));
                }
                out
            }
            Err(e) => {
                let reason = match e {
                    binding::BindingError::Missing => reject::MISSING_BINDING_INFO,
                    _ => reject::MISC,
                };
                let ack = IscMessage::BndAck {
                    addr: b.addr,
                    reject: Some(rejection(reason, &e.to_string())),
                };
                vec![SessionOutput::Frame(self.link.reply(now, ack, xid))]
            }
        }
    }

    /// ISC's BNDACK of one of our BNDUPDs; the peer hears of the batch once
    /// every BNDUPD of it is answered.
    fn binding_ack(
        &mut self,
        xid: u32,
        addr: Option<Ipv4Addr>,
        refusal: Option<Rejection>,
    ) -> Vec<SessionOutput> {
        let Some((batch, ours)) = self.sent.remove(&xid) else {
            tracing::debug!(
                xid,
                ?addr,
                "BNDACK for no binding update of ours on this connection"
            );
            return vec![];
        };
        self.refusals.answered(ours, refusal.is_some());
        let reject = refusal.map(|r| Reject {
            addr: u32::from(ours),
            reason: describe(&r),
        });
        self.answer(batch, reject)
    }

    /// One record of our `batch` answered (with ISC's refusal, if any):
    /// the peer's acknowledgement once every record of it is.
    fn answer(&mut self, batch: u64, reject: Option<Reject>) -> Vec<SessionOutput> {
        let Some((left, rejects)) = self.batches.get_mut(&batch) else {
            return vec![];
        };
        rejects.extend(reject);
        *left = left.saturating_sub(1);
        if *left > 0 {
            return vec![];
        }
        let (_, rejects) = self.batches.remove(&batch).unwrap_or_default();
        vec![SessionOutput::Message(Message::BindingAck {
            batch,
            rejects,
        })]
    }

    /// ISC asks for free addresses, of no pool in particular: every pool
    /// is asked, and the answer waits for all of them.
    fn pool_request(&mut self, xid: Option<u32>) -> Vec<SessionOutput> {
        if self.pool_answer.is_some() || self.cfg.pools == 0 {
            return vec![];
        }
        self.pool_answer = Some(PoolAnswer {
            xid,
            pools_left: self.cfg.pools,
            given: 0,
        });
        (0..self.cfg.pools)
            .map(|pool| {
                SessionOutput::Message(Message::PoolRequest {
                    pool,
                    wanted: u32::MAX,
                })
            })
            .collect()
    }

    /// ISC's STATE said server-state `number` (`told`, our reading of the
    /// STATE, where the number is none of ISC's): ISC acts by that number
    /// (its saved state while it starts up; RESOLUTION-INTERRUPTED as
    /// POTENTIAL-CONFLICT). What that asks of us besides telling the peer.
    pub(super) fn partner_in(
        &mut self,
        now: Time,
        number: Option<u8>,
        told: State,
    ) -> Vec<SessionOutput> {
        let s = isc_state(number).unwrap_or(told);
        self.theirs = Some(s);
        self.theirs_interrupted = number == Some(state::RESOLUTION_INTERRUPTED);
        self.theirs_startup = told == State::Startup;
        if !self.theirs_startup && std::mem::take(&mut self.told_in_startup) {
            self.tell_again(s);
        }
        // dhcpd left RECOVER: a later RECOVER is a later loss, named anew
        // (the lab: a dhcpd wiped after its first recovery was given the
        // first one's identity back, and taken for the database met last).
        if s != State::Recover {
            self.recover_epoch = None;
        }
        let mut out = self.ask_put_off(s);
        out.extend(self.balance());
        out.extend(self.tell_held(now));
        out
    }

    /// dhcpd left RECOVER (to `theirs`) without the UPDREQALL its
    /// introduction promised: the request on its behalf put off then is
    /// made now. A dhcpd restarted in RECOVER that hears our
    /// POTENTIAL-CONFLICT first goes to POTENTIAL-CONFLICT and never asks
    /// (failover.c `dhcp_failover_peer_state_changed`); as its secondary
    /// it waits for our CONFLICT-DONE, which waits for our answer: both
    /// stayed in POTENTIAL-CONFLICT for good (the simulator's isc family,
    /// seed 1022873 at 10 clients).
    fn ask_put_off(&mut self, theirs: State) -> Vec<SessionOutput> {
        if !self.behalf_put_off || matches!(theirs, State::Recover | State::Startup) {
            return vec![];
        }
        self.behalf_put_off = false;
        self.request_for_peer(Message::UpdateRequest { since: u64::MAX })
    }

    /// Our state reached dhcpd in STARTUP, which has now left it (in
    /// `theirs`): it is told again. A dhcpd in STARTUP that hears the
    /// state it saved for us goes to its own saved state and does nothing
    /// else (failover.c `dhcp_failover_peer_state_changed`, the "same
    /// state" case); told again out of STARTUP, it reacts. Without this,
    /// our RECOVER-DONE to a dhcpd restarted in COMMUNICATIONS-INTERRUPTED
    /// left both waiting for good (the simulator's isc family, seed
    /// 1022896 at 10 clients; a dhcpd pair waits alike). Not to a dhcpd in
    /// RECOVER hearing RECOVER, PARTNER-DOWN or COMMUNICATIONS-INTERRUPTED:
    /// it would ask for every binding again, having asked on entering.
    fn tell_again(&mut self, theirs: State) {
        use State::*;
        let ours = self.ours.map(|(s, _)| s);
        let asks_again = theirs == Recover
            && matches!(
                ours,
                Some(Recover | PartnerDown | CommunicationsInterrupted)
            );
        if !asks_again {
            self.told = None;
        }
    }

    /// Both are in NORMAL: as the ISC secondary's primary, we give it its
    /// share of the free addresses at once, as an ISC primary does (its
    /// pool balancing runs on entering NORMAL). Left to the secondary, it
    /// would ask only at its next balancing run, a minute on, leaving its
    /// share of new clients unanswered until then (the lab).
    pub(super) fn balance(&mut self) -> Vec<SessionOutput> {
        let normal = |s: Option<State>| s == Some(State::Normal);
        let ours = self.ours.map(|(s, _)| s);
        if !self.cfg.link.primary || self.balanced || !normal(self.theirs) || !normal(ours) {
            return vec![];
        }
        self.balanced = true;
        self.pool_request(None)
    }

    /// ISC answered our POOLREQ: every pool the peer asked for is
    /// answered. ISC counts what it gave across all of them: the count
    /// goes with the first, so that the peer's log adds up.
    fn pool_response(&mut self, transferred: Option<u32>) -> Vec<SessionOutput> {
        let mut given = transferred.unwrap_or(0);
        std::mem::take(&mut self.pools_asked)
            .into_iter()
            .map(|pool| {
                let m = Message::PoolResponse { pool, given };
                given = 0;
                SessionOutput::Message(m)
            })
            .collect()
    }
}
