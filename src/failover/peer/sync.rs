//! Binding updates: answering update requests, applying the partner's
//! records, acknowledgements, and pumping queued records within the window.

use super::*;
use crate::failover::message::{Reject, WireLease};
use crate::failover::reconcile::{Resolution, resolve, yield_to};

impl Peer {
    /// Local changes are durable: replicate them.
    pub fn local_committed(&mut self, now: Time, leases: &[Lease], store: &mut LeaseStore) {
        if let Some(top) = leases.iter().map(|l| l.update_seq).max() {
            store.mark_durable(top);
        }
        if self.connected() && self.sync.answered {
            self.out.extend(
                leases
                    .iter()
                    .filter(|l| l.update_seq > 0)
                    .cloned()
                    .map(Out::Lease),
            );
            self.pump(now);
        }
    }

    /// Re-measures the partner's clock offset from a timestamped message, so
    /// a clock step after connect does not skew the lease times we convert.
    pub(super) fn observe_clock(&mut self, now: Time, their: u64) {
        let Some(p) = &mut self.partner else { return };
        if let Some(old) = p.clock.observe(now, their) {
            let offset = p.clock.get();
            tracing::warn!(old, new = offset, "partner clock offset changed");
            self.alarm = (offset.unsigned_abs() > self.cfg.max_clock_offset)
                .then(|| format!("partner clock is {offset:+} s from ours; times on the wire are corrected, but fix NTP"));
        }
    }

    pub(super) fn answer(&mut self, now: Time, records: Vec<Lease>) {
        // The answer holds every record queued so far; a pending state
        // announcement still follows them.
        let announcements: Vec<Out> = self
            .out
            .drain(..)
            .filter(|o| matches!(o, Out::State(..)))
            .collect();
        self.out.extend(records.into_iter().map(Out::Lease));
        self.out.push_back(Out::Done);
        self.out.extend(announcements);
        self.sync.answered = true;
        self.pump(now);
    }

    pub(super) fn on_update(
        &mut self,
        now: Time,
        batch: u64,
        leases: Vec<WireLease>,
        store: &mut LeaseStore,
    ) {
        let offset = self.offset();
        let sender_primary = !self.cfg.primary;
        let mut accepted = Vec::new();
        let mut rejects = Vec::new();
        let mut resend = Vec::new();
        for w in leases {
            let rec = match w.to_lease(offset) {
                Ok(r) => r,
                Err(e) => {
                    rejects.push(Reject {
                        addr: w.addr,
                        reason: format!("invalid record: {e}"),
                    });
                    continue;
                }
            };
            if !self.cfg.subnets.iter().any(|c| c.contains(rec.addr)) {
                rejects.push(Reject {
                    addr: w.addr,
                    reason: "address is in no subnet here".into(),
                });
                continue;
            }
            self.p.received_seq = self.p.received_seq.max(w.seq);
            match resolve(store.get(rec.addr), &rec, now, sender_primary) {
                Resolution::Accept(r) => {
                    self.disputes.remove(&rec.addr);
                    store.put(r.clone());
                    accepted.push(r);
                }
                // A close call refused twice on this connection: each peer
                // may be judging with its own view of the other's clock and
                // keep its own version, forever. The secondary gives way.
                Resolution::Reject { close: true, .. }
                    if sender_primary && self.disputes.get(&rec.addr).is_some_and(|n| *n >= 1) =>
                {
                    let local = store.get(rec.addr).expect("a refusal has a local record");
                    let r = yield_to(local, &rec);
                    tracing::info!(addr = %rec.addr, "close call disputed twice: taking the primary's version");
                    self.disputes.remove(&rec.addr);
                    store.put(r.clone());
                    accepted.push(r);
                }
                Resolution::Reject { why, merged, .. } => {
                    *self.disputes.entry(rec.addr).or_insert(0) += 1;
                    tracing::info!(addr = %rec.addr, reason = why, "partner's update refused; sending ours back");
                    rejects.push(Reject {
                        addr: w.addr,
                        reason: why.into(),
                    });
                    // Ours goes back as a local change, so it is sent only
                    // once durable (the partner takes what it receives as
                    // committed here) and tracked until acknowledged.
                    if let Some(mut keep) = merged.or_else(|| store.get(rec.addr).cloned()) {
                        // The partner holds its own version until ours
                        // arrives: nothing it acknowledged for our client
                        // stands if that version binds someone else.
                        if keep.client() != rec.client() {
                            keep.acked_potential_expiry = Time::ZERO;
                        }
                        resend.push(store.upsert(keep));
                    }
                }
            }
        }
        let meta = self.p.to_meta();
        self.actions.push_back(Action::Commit {
            leases: accepted,
            meta,
            then: vec![Message::BindingAck { batch, rejects }],
            replicate: false,
        });
        if !resend.is_empty() {
            self.actions.push_back(Action::Commit {
                leases: resend,
                meta: vec![],
                then: vec![],
                replicate: true,
            });
        }
        self.pump(now);
    }

    pub(super) fn on_ack(
        &mut self,
        now: Time,
        batch: u64,
        rejects: Vec<Reject>,
        store: &mut LeaseStore,
    ) {
        let acked = self.inflight.remove(&batch);
        if acked.is_some() {
            self.ack_wait_since = (!self.inflight.is_empty()).then_some(now);
        }
        let Some(sent) = acked else {
            // An acknowledgement committed while an earlier connection was
            // up and sent on this one: harmless, and its updates are resent.
            tracing::debug!(
                batch,
                "acknowledgement of a batch from an earlier connection"
            );
            return;
        };
        let mut changed = Vec::new();
        let mut crossed = Vec::new();
        let mut top = 0;
        for Sent {
            addr,
            seq,
            pe,
            client,
        } in sent
        {
            top = top.max(seq);
            if rejects.iter().any(|r| r.addr == u32::from(addr)) {
                continue;
            }
            // The partner took our version, but we hold one of its own that
            // reached us before this acknowledgement: the two crossed and
            // each side took the other's (a close call judged with two
            // clocks). Any version the partner made after taking ours would
            // come after this acknowledgement. The primary offers what it
            // holds again, so the dispute rules settle it (the secondary
            // waits, or both would swap again).
            if seq > 0
                && let Some(mut l) = store.get(addr).filter(|l| l.update_seq == 0).cloned()
            {
                // The partner now holds the version we sent: an
                // acknowledgement that came with its own version (for
                // another client, or none) no longer stands.
                let stale = l.client() != client;
                if stale {
                    l.acked_potential_expiry = Time::ZERO;
                    store.put(l.clone());
                }
                if self.cfg.primary {
                    tracing::info!(%addr, "our update and the partner's crossed; offering ours again");
                    crossed.push(store.upsert(l));
                } else if stale {
                    changed.push(l);
                }
                continue;
            }
            // The partner acknowledged that binding; if the address has since
            // passed to another client, its acknowledgement says nothing here.
            if store.get(addr).is_some_and(|l| l.client() == client)
                && let Some(l) = store.set_acked_potential_expiry(addr, pe)
            {
                changed.push(l);
            }
        }
        // A refused record is not known to the partner: renumber it so it
        // stays unacknowledged (not reusable) until the partner's winning
        // version arrives and replaces it, and is offered again meanwhile.
        let mut disputed = crossed;
        for r in &rejects {
            let addr = Ipv4Addr::from(r.addr);
            tracing::info!(%addr, reason = %r.reason, "partner refused our update");
            // Until the partner's version arrives, what it holds for our
            // client is unknown: grant as if nothing were acknowledged.
            if let Some(mut l) = store.get(addr).filter(|l| l.update_seq > 0).cloned() {
                l.acked_potential_expiry = Time::ZERO;
                disputed.push(store.upsert(l));
            }
        }
        if self
            .inflight
            .keys()
            .next()
            .is_none_or(|first| *first > batch)
            && top > 0
        {
            store.ack_upto(top);
            self.p.acked_seq = store.acked_seq();
        }
        if !changed.is_empty() || top > 0 {
            self.actions.push_back(Action::Commit {
                leases: changed,
                meta: self.p.to_meta(),
                then: vec![],
                replicate: false,
            });
        }
        if !disputed.is_empty() {
            self.actions.push_back(Action::Commit {
                leases: disputed,
                meta: vec![],
                then: vec![],
                replicate: true,
            });
        }
        self.pump(now);
        self.evaluate(now);
    }

    /// Sends queued records while the partner's acknowledgements keep up.
    pub(super) fn pump(&mut self, now: Time) {
        if !self.connected() {
            return;
        }
        let window = self.cfg.max_unacked.div_ceil(BATCH).max(1);
        loop {
            match self.out.front() {
                None => break,
                Some(&Out::State(state, since)) => {
                    self.out.pop_front();
                    self.send(
                        now,
                        Message::State {
                            state: WireState::from(state),
                            since: since.0,
                        },
                    );
                    continue;
                }
                Some(Out::Done) => {
                    if !self.inflight.is_empty() {
                        break;
                    }
                    self.out.pop_front();
                    self.sync.sent_done = true;
                    self.send(now, Message::UpdateDone);
                    self.evaluate(now);
                    continue;
                }
                Some(Out::Lease(_)) if self.inflight.len() >= window => break,
                Some(Out::Lease(_)) => {}
            }
            let mut wire = Vec::new();
            let mut sent = Vec::new();
            while wire.len() < BATCH {
                let Some(Out::Lease(l)) = self.out.front() else {
                    break;
                };
                // The version queued is one that is on disk; a newer one in
                // memory may not be yet, and follows when it is.
                let cur = l.clone();
                self.out.pop_front();
                sent.push(Sent {
                    addr: cur.addr,
                    seq: cur.update_seq,
                    pe: cur.potential_expiry,
                    client: cur.client(),
                });
                wire.push(WireLease::from_lease(&cur));
            }
            let batch = self.next_batch;
            self.next_batch += 1;
            self.inflight.insert(batch, sent);
            self.ack_wait_since.get_or_insert(now);
            self.send(
                now,
                Message::BindingUpdate {
                    batch,
                    time: now.0,
                    leases: wire,
                },
            );
        }
    }
}
