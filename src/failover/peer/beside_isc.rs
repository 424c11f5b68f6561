//! What the peer does differently beside an ISC dhcpd (issue 19), which
//! guards less than a tandem partner: it takes one binding per update and
//! as few as one unacknowledged (max-unacked-updates), and takes a
//! partner's end of a binding over its own newer one not yet told (the
//! 65-s slack of its transition check, or a crossing it yields). So what
//! waits for dhcpd's window is folded to the newest version of each
//! address, and an end dhcpd already holds is never sent back to it.

use super::*;
use crate::failover::reconcile::Resolution;
use crate::lease::LeaseState::{Expired, Released};

/// Whether `l` ends its binding in a way dhcpd makes FREE alike (failover.c
/// `dhcp_failover_process_bind_update`: EXPIRED and RELEASED both).
pub(super) fn ends(state: crate::lease::LeaseState) -> bool {
    matches!(state, Expired | Released)
}

impl Peer {
    /// Takes out of the queue the unsent versions of addresses `changes`
    /// has newer ones of: sent one by one in dhcpd's window, every version
    /// of a busy address kept dhcpd's copy further behind, until its
    /// timers expired bindings we had renewed (simulator seed 12700,
    /// `--clients 24 --family isc`, max-unacked-updates 1). Only versions
    /// queued after the last update-done or state are replaced: what
    /// precedes one (the answer to a request, or what goes before a state)
    /// is sent first. A tandem partner takes [`BATCH`] records per update
    /// and its queue drains in a few round trips; it gets every version.
    pub(super) fn fold_unsent(&mut self, changes: &[Lease]) {
        if changes.is_empty() {
            return;
        }
        let from = self
            .out
            .iter()
            .rposition(|o| !matches!(o, Out::Lease(_)))
            .map_or(0, |i| i + 1);
        let tail = self.out.split_off(from);
        let newer = |q: &Lease| {
            changes
                .iter()
                .any(|l| l.addr == q.addr && l.update_seq > q.update_seq)
        };
        self.out.extend(
            tail.into_iter()
                .filter(|o| !matches!(o, Out::Lease(q) if newer(q))),
        );
    }

    /// How many batches in flight take room in the partner's window: beside
    /// dhcpd, not an offer of an address it refused, which the ISC session
    /// holds back for up to `REOFFER_AFTER` seconds (`refusals`) outside
    /// dhcpd's window: counted, one address dhcpd keeps refusing would stop
    /// every other update each time it is offered again (review of session
    /// 23, with dhcpd's max-unacked-updates 1).
    pub(super) fn taking_room(&self) -> usize {
        if !self.cfg.isc_partner {
            return self.inflight.len();
        }
        let refused = |s: &Sent| {
            self.disputes
                .get(&s.addr)
                .is_some_and(|d| d.refused_by_partner)
        };
        self.inflight
            .values()
            .filter(|sent| !sent.iter().all(refused))
            .count()
    }

    /// `resolution` of dhcpd's record `rec` against our `local`, except
    /// where, beside dhcpd, both end one binding (expired or released, in
    /// either mix: dhcpd makes both FREE) for the same client and owner:
    /// then what we store (ours raised by dhcpd's times, or dhcpd's) is
    /// dhcpd's, not ours to send. dhcpd holds the end, and no client of
    /// either holds the address. Sent back, our end reached a dhcpd in
    /// PARTNER-DOWN that had given the address to another client since
    /// telling us, and its transition check (the 65-s slack) ended that
    /// client's binding (simulator seed 1000632, `--clients 24 --family
    /// isc`). A tandem partner resolves such a pair as the same binding.
    pub(super) fn ends_alike(
        &self,
        local: Option<&Lease>,
        rec: &Lease,
        resolution: Resolution,
    ) -> Resolution {
        let Some(l) = local.filter(|l| self.cfg.isc_partner && same_end(l, rec)) else {
            return resolution;
        };
        let mut r = match resolution {
            Resolution::Accept(r) => r,
            Resolution::Reject { merged, .. } => merged.unwrap_or_else(|| l.clone()),
        };
        r.update_seq = 0;
        Resolution::Accept(r)
    }

    /// Whether, beside dhcpd, our stored record `held` (dhcpd's, taken
    /// while ours, `s`, was on its way) and ours end the binding alike:
    /// dhcpd's acknowledgement of ours is then no crossing to settle by
    /// offering ours again (`acknowledged`), which would send an end back
    /// to dhcpd (`ends_alike`; review of session 23).
    pub(super) fn holds_our_end(&self, held: &Lease, s: &Sent) -> bool {
        self.cfg.isc_partner && ends(held.state) && s.ended && held.client() == s.client
    }
}

/// Whether `a` and `b` end one binding alike, as dhcpd sees it.
fn same_end(a: &Lease, b: &Lease) -> bool {
    ends(a.state) && ends(b.state) && a.owner == b.owner && a.client() == b.client()
}
