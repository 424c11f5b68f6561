//! Binding updates: applying the partner's records, acknowledgements, and
//! pumping queued records within the window.

use super::*;
use crate::failover::message::{REJECT_INVALID_RECORD, REJECT_NO_SUBNET, Reject, WireLease};
use crate::failover::reconcile::{Resolution, close_call_takes, resolve, yield_to};

/// One address's dispute on this connection: each peer keeps its own
/// version of a close call, judging with its own view of the other's clock
/// (`reconcile::close_call_takes` ends it).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Dispute {
    /// How often we refused the partner's version.
    refusals: u32,
    /// The partner refused ours: it has judged our version and kept its own.
    pub(super) refused_by_partner: bool,
}

impl Dispute {
    /// Whether both peers have judged the other's version and kept their
    /// own. A second version from the partner alone does not say so: one
    /// offered again on our refusal was sent before the partner had seen
    /// ours, and it may be about to take ours; giving way to it then swaps
    /// the two databases (simulator seed 57772934: an active binding and a
    /// decline of it).
    fn both_kept(&self) -> bool {
        self.refusals >= 1 && self.refused_by_partner
    }
}

/// What one binding-update batch from the partner came to.
#[derive(Default)]
struct Verdicts {
    /// Records taken, to store; acknowledged once durable.
    accepted: Vec<Lease>,
    /// Records refused, with the reason, in the acknowledgement.
    rejects: Vec<Reject>,
    /// Our versions of refused records, to send back once durable.
    resend: Vec<Lease>,
}

impl Peer {
    /// Local changes are durable: replicate them.
    pub fn local_committed(&mut self, now: Time, leases: &[Lease], store: &mut LeaseStore) {
        if let Some(top) = leases.iter().map(|l| l.update_seq).max() {
            store.mark_durable(top);
        }
        if self.answer_deferred(now, store) {
            return;
        }
        if self.connected() && self.sync.answered {
            // A version the partner's own has replaced here since it was
            // queued for commit is not offered: the partner would take it
            // as ours still, and two peers would settle on different
            // versions (simulator seed 21203840).
            let current = |l: &Lease| store.get(l.addr).is_none_or(|c| c.update_seq != 0);
            let changes: Vec<Lease> = leases
                .iter()
                .filter(|l| l.update_seq > 0 && current(l))
                .cloned()
                .collect();
            self.queue_changes(changes);
            self.pump(now);
        }
    }

    /// Queues our durable `changes` for the partner (beside dhcpd, a newer
    /// version replaces an unsent one: `fold_unsent`).
    fn queue_changes(&mut self, changes: Vec<Lease>) {
        if self.cfg.isc_partner {
            self.fold_unsent(&changes);
        }
        self.out.extend(changes.into_iter().map(Out::Lease));
    }

    /// The partner's version `r` replaces ours: the dispute over it is
    /// over, and versions of ours still queued for it are superseded and
    /// stay unsent (the partner would take them for ours still: seed
    /// 21203840). Stored now, acknowledged once durable.
    ///
    /// When ours knew more of the binding's DNS records than the partner's
    /// version (`DnsRecords::merge` kept our further status), the merged
    /// record also goes back as a change of ours: the version that carried
    /// it here is superseded and would never reach the partner.
    fn take_partners(&mut self, r: Lease, rec: &Lease, store: &mut LeaseStore, v: &mut Verdicts) {
        self.disputes.remove(&r.addr);
        self.out
            .retain(|o| !matches!(o, Out::Lease(l) if l.addr == r.addr));
        store.put(r.clone());
        // dhcpd carries no DNS records: ours back would only resend the
        // binding it has (`beside_isc`).
        if r.dns != rec.dns && !self.cfg.isc_partner {
            v.resend.push(store.upsert(r.clone()));
        }
        v.accepted.push(r);
    }

    /// Re-measures the partner's clock offset from a timestamped message, so
    /// a clock step after connect does not skew the lease times we convert.
    pub(super) fn observe_clock(&mut self, now: Time, their: u64) {
        self.partner_sent(their);
        let Some(p) = &mut self.partner else { return };
        if let Some(old) = p.clock.observe(now, their) {
            let offset = p.clock.get();
            tracing::warn!(old, new = offset, "partner clock offset changed");
            self.alarm = (offset.unsigned_abs() > self.cfg.max_clock_offset)
                .then(|| format!("partner clock is {offset:+} s from ours; times on the wire are corrected, but fix NTP"));
        }
    }

    pub(super) fn on_update(
        &mut self,
        now: Time,
        batch: u64,
        leases: Vec<WireLease>,
        store: &mut LeaseStore,
    ) {
        let mut verdicts = Verdicts::default();
        for w in leases {
            self.judge(now, &w, store, &mut verdicts);
        }
        let meta = self.p.to_meta();
        let addrs = verdicts.accepted.iter().map(|l| l.addr).collect();
        self.actions.push_back(Action::Commit {
            leases: verdicts.accepted,
            meta,
            then: vec![Message::BindingAck {
                batch,
                rejects: verdicts.rejects,
            }],
            replicate: false,
        });
        self.receiving(addrs);
        if !verdicts.resend.is_empty() {
            self.actions.push_back(Action::Commit {
                leases: verdicts.resend,
                meta: vec![],
                then: vec![],
                replicate: true,
            });
        }
        self.pump(now);
    }

    /// Takes or refuses one of the partner's records (DESIGN.md 3.2,
    /// `reconcile`), adding it to `v`.
    fn judge(&mut self, now: Time, w: &WireLease, store: &mut LeaseStore, v: &mut Verdicts) {
        let reject = |reason: String| Reject {
            addr: w.addr,
            reason,
        };
        let rec = match w.to_lease(self.offset()) {
            Ok(r) => r,
            Err(e) => {
                return v
                    .rejects
                    .push(reject(format!("{REJECT_INVALID_RECORD}: {e}")));
            }
        };
        if !self.cfg.subnets.iter().any(|c| c.contains(rec.addr)) {
            return v.rejects.push(reject(REJECT_NO_SUBNET.into()));
        }
        self.p.received_seq = self.p.received_seq.max(w.seq);
        let sender_primary = !self.cfg.primary;
        let resolution = resolve(store.get(rec.addr), &rec, now, sender_primary);
        match self.ends_alike(store.get(rec.addr), &rec, resolution) {
            Resolution::Accept(r) => self.take_partners(self.unconfirmed(r), &rec, store, v),
            // A close call both peers have refused on this connection:
            // each may be judging with its own view of the other's clock
            // and keep its own version, forever. Both end it the same way
            // (`close_call_takes`): the side whose version loses gives way.
            Resolution::Reject { close: true, .. }
                if self.disputes.get(&rec.addr).is_some_and(Dispute::both_kept)
                    && store
                        .get(rec.addr)
                        .is_some_and(|l| close_call_takes(l, &rec, sender_primary)) =>
            {
                let local = store.get(rec.addr).expect("a refusal has a local record");
                let r = self.unconfirmed(yield_to(local, &rec));
                tracing::info!(addr = %rec.addr, state = ?r.state, "close call both peers refused: taking the partner's version");
                self.take_partners(r, &rec, store, v);
            }
            Resolution::Reject { why, merged, .. } => {
                self.disputes.entry(rec.addr).or_default().refusals += 1;
                tracing::info!(addr = %rec.addr, reason = why, "partner's update refused; sending ours back");
                v.rejects.push(reject(why.into()));
                v.resend.extend(Self::keep_ours(&rec, merged, store));
            }
        }
    }

    /// `r`, the partner's version we are taking, acknowledged for nothing
    /// while a version of ours that binds another client (or none) is on
    /// its way to the partner. The partner may take ours over the one it
    /// sent (the two crossed, or a close call it judged with its own
    /// clock), dropping the commitment `r` carries; we would learn of it
    /// only from its acknowledgement of ours, and could renew `r`'s client
    /// past the MCLT bound meanwhile. Where ours binds the same client, the
    /// partner keeps the larger potential expiry whichever it takes
    /// (`reconcile`).
    fn unconfirmed(&self, mut r: Lease) -> Lease {
        let ours_in_flight = self
            .inflight
            .values()
            .flatten()
            .any(|s| s.addr == r.addr && s.client != r.client());
        if ours_in_flight {
            r.acked_potential_expiry = Time::ZERO;
        }
        r
    }

    /// We refused the partner's version `rec` of an address: ours (or
    /// `merged`, ours with the partner's newer times folded in and its
    /// acknowledgement cut to what `rec` commits it to, see `reconcile`)
    /// goes back as a local change, so it is sent only once durable (the
    /// partner takes what it receives as committed here) and tracked until
    /// acknowledged.
    fn keep_ours(rec: &Lease, merged: Option<Lease>, store: &mut LeaseStore) -> Option<Lease> {
        let keep = merged.or_else(|| store.get(rec.addr).cloned())?;
        Some(store.upsert(keep))
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
        let top = sent.iter().map(|s| s.seq).max().unwrap_or(0);
        let mut changed = Vec::new();
        let mut again = Vec::new();
        for s in sent {
            if !rejects.iter().any(|r| r.addr == u32::from(s.addr)) {
                self.acknowledged(s, store, &mut changed, &mut again);
            }
        }
        again.extend(self.refused(&rejects, store));
        self.commit_acknowledgements(batch, top, changed, again, store);
        self.pump(now);
        self.evaluate(now);
    }

    /// Queues what an acknowledgement of `batch` changed: the records whose
    /// acknowledged potential expiry moved (`changed`) with the sequence
    /// marks, acknowledged up to `top` once no earlier batch is still in
    /// flight; and the records offered again (`again`: the partner refused
    /// them, or the two peers' versions crossed), replicated.
    fn commit_acknowledgements(
        &mut self,
        batch: u64,
        top: u64,
        changed: Vec<Lease>,
        again: Vec<Lease>,
        store: &mut LeaseStore,
    ) {
        let earliest = self
            .inflight
            .keys()
            .next()
            .is_none_or(|first| *first > batch);
        if earliest && top > 0 {
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
        if !again.is_empty() {
            self.actions.push_back(Action::Commit {
                leases: again,
                meta: vec![],
                then: vec![],
                replicate: true,
            });
        }
    }

    /// The partner took the version we sent (`s`). Records the potential
    /// expiry it acknowledged for that client in `changed`; when the two
    /// peers' versions crossed, the primary's is offered again (`crossed`),
    /// and beside an ISC dhcpd ours whatever our role: dhcpd drops its own
    /// version when it takes ours and never offers it again
    /// (`failover.c` `dhcp_failover_process_bind_update`), so the two
    /// would keep each other's (`tests/isc_crossing.rs`).
    fn acknowledged(
        &mut self,
        s: Sent,
        store: &mut LeaseStore,
        changed: &mut Vec<Lease>,
        crossed: &mut Vec<Lease>,
    ) {
        // The partner took our version, but we hold one of its own that
        // reached us before this acknowledgement: the two crossed and
        // each side took the other's (a close call judged with two
        // clocks). Any version the partner made after taking ours would
        // come after this acknowledgement. The primary offers what it
        // holds again, so the dispute rules settle it (the secondary
        // waits, or both would swap again).
        if s.seq > 0
            && let Some(mut l) = store.get(s.addr).filter(|l| l.update_seq == 0).cloned()
        {
            // The partner now holds the version we sent: an
            // acknowledgement that came with its own version stands no
            // further than that (not at all if it binds another client).
            let held = if l.client() == s.client {
                l.acked_potential_expiry.min(s.pe)
            } else {
                Time::ZERO
            };
            let lowered = held != l.acked_potential_expiry;
            if lowered {
                l.acked_potential_expiry = held;
                store.put(l.clone());
            }
            if self.holds_our_end(&l, &s) {
                if lowered {
                    changed.push(l);
                }
            } else if self.cfg.primary || self.cfg.isc_partner {
                tracing::info!(addr = %s.addr, "our update and the partner's crossed; offering what we hold again");
                crossed.push(store.upsert(l));
            } else if lowered {
                changed.push(l);
            }
            return;
        }
        // The partner took our version: any dispute over it is over.
        self.disputes.remove(&s.addr);
        // The partner acknowledged that binding; if the address has since
        // passed to another client, its acknowledgement says nothing here.
        if store.get(s.addr).is_some_and(|l| l.client() == s.client)
            && let Some(l) = store.set_acked_potential_expiry(s.addr, s.pe)
        {
            changed.push(l);
        }
    }

    /// A refused record is not known to the partner: renumber it so it
    /// stays unacknowledged (not reusable) until the partner's winning
    /// version arrives and replaces it, and is offered again meanwhile.
    /// The partner has judged ours and kept its own: one side of a
    /// dispute (`Dispute::both_kept`).
    fn refused(&mut self, rejects: &[Reject], store: &mut LeaseStore) -> Vec<Lease> {
        let mut disputed = Vec::new();
        for r in rejects {
            let addr = Ipv4Addr::from(r.addr);
            tracing::info!(%addr, reason = %r.reason, "partner refused our update");
            // Until the partner's version arrives, what it holds for our
            // client is unknown: grant as if nothing were acknowledged.
            if let Some(mut l) = store.get(addr).filter(|l| l.update_seq > 0).cloned() {
                self.disputes.entry(addr).or_default().refused_by_partner = true;
                l.acked_potential_expiry = Time::ZERO;
                disputed.push(store.upsert(l));
            }
        }
        disputed
    }

    /// Sends queued records while the partner's acknowledgements keep up.
    pub(super) fn pump(&mut self, now: Time) {
        if !self.connected() {
            return;
        }
        let window = self.window();
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
                Some(Out::Lease(_)) if self.taking_room() >= window => break,
                Some(Out::Lease(_)) => {}
            }
            self.send_batch(now);
        }
    }

    /// How many binding updates may await the partner's acknowledgement:
    /// the configured `max_unacked` records, as batches, and no more than
    /// an ISC partner takes (its max-unacked-updates, `Partner`): what
    /// waits then waits here, where a newer version replaces an unsent one
    /// (`queue_changes`), not in the ISC session's queue.
    fn window(&self) -> usize {
        let theirs = self.partner.as_ref().and_then(|p| p.max_unacked);
        let records = theirs.map_or(self.cfg.max_unacked, |t| t.min(self.cfg.max_unacked));
        records.div_ceil(self.batch_records()).max(1)
    }

    /// How many records one binding update carries: [`BATCH`], or one for
    /// an ISC dhcpd, which takes one per BNDUPD and acknowledges each, so
    /// that `max_unacked` counts its BNDUPDs in flight (draft section
    /// 7.1.1) and each BNDACK is progress against the acknowledgement
    /// timeout (a batch of 64 answered 10 at a time outlasted it).
    fn batch_records(&self) -> usize {
        if self.cfg.isc_partner { 1 } else { BATCH }
    }

    /// Sends up to [`Peer::batch_records`] queued records as one binding
    /// update, tracked until the partner acknowledges it.
    fn send_batch(&mut self, now: Time) {
        let mut wire = Vec::new();
        let mut sent = Vec::new();
        let mut octets = 0;
        while wire.len() < self.batch_records() {
            let Some(Out::Lease(l)) = self.out.front() else {
                break;
            };
            octets += l.wire_octets();
            if octets > BATCH_OCTETS && !wire.is_empty() {
                break;
            }
            // The version queued is one that is on disk; a newer one in
            // memory may not be yet, and follows when it is.
            let cur = l.clone();
            self.out.pop_front();
            sent.push(Sent {
                addr: cur.addr,
                seq: cur.update_seq,
                pe: cur.potential_expiry,
                client: cur.client(),
                ended: beside_isc::ends(cur.state),
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
