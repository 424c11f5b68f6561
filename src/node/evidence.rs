//! Holding back the partner's clients while the peer collects evidence
//! that the partner is down (`failover::evidence`): the engine reads what
//! a request shows (`dhcp::Sighting`), this module weighs it against the
//! pool split and the partner's free addresses, and the peer keeps the
//! count.

use super::{Node, Received};
use crate::dhcp::{Sighting, Verdict};
use crate::failover::evidence::{Gate, Owed, RETRY_GAP, partners_client};
use crate::time::Time;

/// The reason a held-back request is counted under (`ignored_by_reason`).
pub const HELD: &str = "held back while collecting partner-down evidence";

impl Node {
    /// Whether to decide `r` now; `false` when it is held back as a
    /// request the silent partner owes an answer to (counted as ignored
    /// under [`HELD`]).
    pub(super) fn evidence_gate(&mut self, now: Time, r: &Received) -> bool {
        let Some(owed) = self.owed(now, r) else {
            return true;
        };
        let Some(peer) = &mut self.peer else {
            return true;
        };
        match peer.observe_client(now, &r.req.client_key(), r.req.secs, owed) {
            Gate::Answer => true,
            Gate::Hold => {
                self.stats.count(&Verdict::Ignored(HELD));
                false
            }
        }
    }

    /// What the partner owes `r`'s client, if collecting and it owes
    /// anything: a DISCOVER, INIT-REBOOT or REBINDING from its hash bucket
    /// that it would answer if alive. A DISCOVER counts only while the
    /// partner's free addresses on the link outnumber the DISCOVER clients
    /// seen so far (a live partner may have run out), a REBINDING only
    /// while its binding runs long enough to wait for a retransmission.
    /// A client choosing another server is reported as counter-evidence.
    fn owed(&mut self, now: Time, r: &Received) -> Option<Owed> {
        let peer = self.peer.as_mut()?;
        if !peer.collecting_evidence() {
            return None;
        }
        let sighting = self.engine.sighting(now, &self.store, &r.req, &r.ctx)?;
        if sighting == Sighting::ChoseOther {
            peer.client_chose_other(now);
            return None;
        }
        let policy = peer.policy();
        if !partners_client(&r.req.client_key(), policy.split, policy.me) {
            return None;
        }
        match sighting {
            Sighting::Discover { pools, bound } => {
                let partner = peer.partner_role();
                let free: usize = pools
                    .iter()
                    .map(|p| self.store.free_count(*p, partner))
                    .sum();
                (bound || free > peer.evidence_discovering()).then_some(Owed::Discover)
            }
            Sighting::InitReboot => Some(Owed::InitReboot),
            Sighting::Rebinding { left } => (left > RETRY_GAP).then_some(Owed::Rebinding),
            Sighting::ChoseOther => None,
        }
    }
}

#[cfg(test)]
mod tests;
