//! What the peer does differently beside an ISC dhcpd (issue 19), which
//! guards less than a tandem partner: it takes one binding per update and
//! as few as one unacknowledged (max-unacked-updates), and takes a
//! partner's end of a binding over its own newer one not yet told (the
//! 65-s slack of its transition check, or a crossing it yields). So what
//! waits for dhcpd's window is folded to the newest version of each
//! address, and an end dhcpd already holds is never sent back to it.

use super::*;
use crate::failover::message::WireLease;
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

    /// Whether, beside dhcpd, a binding we granted is still on its way to
    /// dhcpd or unacknowledged. Leaving PARTNER-DOWN for NORMAL waits for
    /// them: dhcpd serves on our NORMAL at once, and our grants made while
    /// it answered our update request went behind the NORMAL (the session
    /// holds an address dhcpd refused for a while, `refusals`); dhcpd, the
    /// primary and back from an empty lease file, gave one to another
    /// client (simulator seed 1009255, `--clients 10 --family isc`).
    pub(super) fn grants_untold(&self) -> bool {
        use crate::lease::LeaseState::Active;
        let queued = self
            .out
            .iter()
            .any(|o| matches!(o, Out::Lease(l) if l.state == Active));
        let unacked = self
            .inflight
            .values()
            .flatten()
            .any(|s| !s.ended && s.client.is_some());
        self.cfg.isc_partner && (queued || unacked)
    }

    /// Whether `r`, dhcpd's binding `rec` as we take it (raised by ours of
    /// the same client, `reconcile`), ends later than dhcpd's: our later
    /// grant, whose unsent versions `take_partners` drops, must still
    /// reach dhcpd, or dhcpd ends the binding at its own earlier end while
    /// our client holds the address (simulator seed 1051225, `--clients
    /// 24 --family isc`: our 300-s renewal never left, dhcpd's 236-s one
    /// arriving just after it; dhcpd, the primary, gave the address away
    /// at its end). A tandem partner takes ours as it crosses and raises
    /// its own alike; a potential expiry of ours that it has not heard of
    /// bounds nothing of its (`mclt::cap`).
    pub(super) fn outlasts(&self, r: &Lease, rec: &Lease) -> bool {
        use crate::lease::LeaseState::Active;
        self.cfg.isc_partner && r.state == Active && rec.state == Active && r.expires > rec.expires
    }

    /// `l` as the partner is sent it. A tandem partner converts the times
    /// it receives by its view of our clock (`WireLease::to_lease`); dhcpd
    /// takes every time as sent, on its own clock (research
    /// isc-failover-wire.md 2.4), and ends the binding there. So beside
    /// dhcpd the end goes out later by how far dhcpd's clock runs ahead as
    /// we measure it (the offset's top, at least 0 beside dhcpd,
    /// `Peer::offset`; delays and whole-second stamps keep it at or below
    /// the true offset, so a second or so may remain): a dhcpd whose clock
    /// ran 2 s ahead of ours ended our client's binding 2 s early and gave
    /// the address to another client (simulator seed 1035816, `--clients
    /// 24 --family isc`). An end we send for a binding that has ended is
    /// then brought back to now (`IscSession::offer`).
    pub(super) fn wire_for_partner(&self, l: &Lease) -> WireLease {
        let mut w = WireLease::from_lease(l);
        let ahead = self.offset().high.max(0).unsigned_abs();
        if self.cfg.isc_partner && w.expires != 0 {
            w.expires = w.expires.saturating_add(ahead);
        }
        w
    }

    /// `kept`, ours raised by the times of dhcpd's record that we refuse
    /// (`reconcile`'s `merged`), acknowledged no further than our `local`
    /// was. dhcpd holds the potential expiry of its update as acknowledged
    /// (its `tsfp`, which bounds how long it waits in PARTNER-DOWN before
    /// giving the address away) only on our acknowledgement that takes the
    /// update (failover.c `dhcp_failover_process_bind_ack`: a refusal goes
    /// to `unqueue`, 5560, past the `tsfp` updates at 5598 and 5632).
    /// Raised from dhcpd's refused RELEASED, our renewal ran 150 s past
    /// what dhcpd held acknowledged, and tandem crashed before ours went
    /// back (simulator seed 1043727, `--clients 24 --family isc`). A tandem
    /// partner keeps its own version's potential expiry whichever version
    /// the pair stores (`combine`, `mclt::reusable_at`).
    pub(super) fn refused_commitment(&self, mut kept: Lease, local: Option<&Lease>) -> Lease {
        if let Some(l) = local.filter(|_| self.cfg.isc_partner) {
            kept.acked_potential_expiry = kept.acked_potential_expiry.min(l.acked_potential_expiry);
        }
        kept
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
