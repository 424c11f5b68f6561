//! The durability audit of a simulated server (DESIGN.md 1,
//! "Durability"): every DHCPACK, binding update, acknowledgement and state
//! announcement that leaves must rest on what is already on disk; what
//! does not is recorded in `Host::undurable` for the world to report.

use super::*;

impl Host {
    /// A failover state may be announced only once every change made before
    /// it is durable: the batches up to the (empty) one the announcement
    /// waits on, or, without one, every batch handed out so far.
    pub(super) fn note_state_change(&mut self, outs: &[Output]) {
        let state = self.node.peer().map(|p| (p.state(), p.since()));
        if state == self.seen_state {
            return;
        }
        self.seen_state = state;
        let Some((state, since)) = state else { return };
        let batches = || {
            outs.iter().filter_map(|o| match o {
                Output::Journal(b) => Some(b),
                _ => None,
            })
        };
        let announce = batches().find(|b| b.leases.is_empty() && b.meta.is_empty());
        let needs = announce
            .map(|b| b.id)
            .or_else(|| batches().map(|b| b.id).max())
            .unwrap_or(self.last_batch);
        self.state_needs.insert((state.into(), since.0), needs);
    }

    /// Every ACK leaves only once the lease it grants is on disk.
    pub(super) fn check_durable(&mut self, r: &Reply) {
        if r.bytes.get(242) != Some(&5) || !r.after_commit {
            return;
        }
        let yi = Ipv4Addr::new(r.bytes[16], r.bytes[17], r.bytes[18], r.bytes[19]);
        // On disk now, or in the group just committed (a later batch of the
        // same group may have changed it again).
        if self
            .landed
            .iter()
            .any(|(a, hw)| *a == yi && hw[..] == r.bytes[28..34])
        {
            return;
        }
        match self.disk.leases.get(&yi) {
            Some(l) if l.state == LeaseState::Active && l.hw.bytes() == &r.bytes[28..34] => {}
            other => self.undurable.push(format!(
                "ACK for {yi} left before it was on disk: {other:?}"
            )),
        }
    }

    /// Our updates leave only once on disk, and an acknowledgement only once
    /// what it acknowledges is (DESIGN.md 1, "Durability").
    pub(super) fn check_frame(&mut self, m: &Message) {
        match m {
            Message::BindingUpdate { leases, .. } => {
                for w in leases.iter().filter(|w| w.seq > 0) {
                    let a = Ipv4Addr::from(w.addr);
                    if !self.seqs_on_disk.contains(&(a, w.seq)) {
                        self.undurable.push(format!(
                            "update {a} seq {} sent before it was on disk",
                            w.seq
                        ));
                    }
                }
            }
            Message::State { state, since } => {
                let needs = self
                    .state_needs
                    .get(&(*state, *since))
                    .copied()
                    .unwrap_or(0);
                if self.durable < needs {
                    self.undurable.push(format!(
                        "state {state:?} announced before batch {needs} was on disk (only {} is)",
                        self.durable
                    ));
                }
            }
            Message::BindingAck { batch, rejects } => {
                let Some((addrs, at)) = self.received.remove(batch) else {
                    return;
                };
                for a in addrs {
                    let refused = rejects.iter().any(|r| r.addr == u32::from(a));
                    if !refused && self.written.get(&a).is_none_or(|w| *w <= at) {
                        self.undurable.push(format!(
                            "acknowledged the partner's {a} (batch {batch}) before it was on disk"
                        ));
                    }
                }
            }
            _ => {}
        }
    }
}
