//! Holding back the partner's clients while the peer collects evidence
//! that the partner is down (`failover::evidence`): the engine reads what
//! a request shows (`dhcp::Sighting`), this module decides whether the
//! partner owes it an answer, and the peer keeps the count.

use super::{Node, Received};
use crate::dhcp::{Sighting, Verdict};
use crate::failover::evidence::{Gate, partners_client};
use crate::proto::packet::MessageType;
use crate::time::Time;

/// The reason a held-back request is counted under (`ignored_by_reason`).
pub const HELD: &str = "held back while collecting partner-down evidence";

impl Node {
    /// Whether to decide `r` now; `false` when it is held back as a
    /// request the silent partner owes an answer to (counted as ignored
    /// under [`HELD`]).
    pub(super) fn evidence_gate(&mut self, now: Time, r: &Received) -> bool {
        if !self.owed(now, r) {
            return true;
        }
        let Some(peer) = &mut self.peer else {
            return true;
        };
        let discover = r.req.kind == MessageType::Discover;
        match peer.observe_client(now, &r.req.client_key(), r.req.xid, discover) {
            Gate::Answer | Gate::Counted => true,
            Gate::Hold => {
                self.stats.count(&Verdict::Ignored(HELD));
                false
            }
        }
    }

    /// Whether the partner owes `r` an answer, while evidence is collected:
    /// a DISCOVER or INIT-REBOOT from its hash bucket, from a client
    /// holding an active binding it knows (`Engine::sighting`); a DISCOVER
    /// only while the partner surely had a free address for it too
    /// (`Peer::partner_had_free`: the client may have released the binding
    /// to it meanwhile). A client choosing another server is reported as
    /// counter-evidence.
    fn owed(&mut self, now: Time, r: &Received) -> bool {
        let Some(peer) = self.peer.as_mut().filter(|p| p.collecting_evidence()) else {
            return false;
        };
        let policy = peer.policy();
        let theirs = partners_client(&r.req.client_key(), policy.split, policy.me);
        // Only a SELECTING REQUEST can say something of our own clients.
        let selecting = r.req.kind == MessageType::Request && r.req.server_id().is_some();
        if !(theirs || selecting) {
            return false;
        }
        match self.engine.sighting(now, &self.store, &r.req, &r.ctx) {
            Some(Sighting::ChoseOther) => {
                peer.client_chose_other(now);
                false
            }
            Some(Sighting::Discover { pools }) if theirs => {
                let partner = policy.me.other();
                let free = pools
                    .iter()
                    .map(|p| self.store.free_count(*p, partner))
                    .sum();
                peer.partner_had_free(free)
            }
            Some(Sighting::InitReboot) => theirs,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
