//! The partner's acknowledgements of our binding updates: what each one
//! tells us it holds (the potential expiry it acknowledged for a client),
//! crossings of our version and its own, and its refusals.

use super::*;
use crate::failover::message::Reject;

impl Peer {
    /// The partner's acknowledgement of our `batch`, with the records it
    /// refused (`rejects`): what it now holds is recorded, refused records
    /// are offered again, and the queue moves on.
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
}
