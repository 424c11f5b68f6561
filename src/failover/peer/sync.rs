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
        if (r.dns != rec.dns && !self.cfg.isc_partner) || self.outlasts(&r, rec) {
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
                let merged = merged.map(|m| self.refused_commitment(m, store.get(rec.addr)));
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
            wire.push(self.wire_for_partner(&cur));
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
