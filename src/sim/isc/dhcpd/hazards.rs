//! For the simulator's verdict only (ISC keeps no such marks): where the
//! model dhcpd's own rules let it give an address away, or drop its own
//! binding, while a client may still hold the address, the hazards a pair
//! of dhcpd meets too. The world shows a double grant they lead to as
//! dhcpd's, not tandem's fault.

use super::super::rules::IscLease;
use super::{Dhcpd, IscState};
use crate::failover::isc::binding::status::{
    ABANDONED, ACTIVE, BACKUP, EXPIRED, FREE, RELEASED, RESET,
};
use std::net::Ipv4Addr;

impl Dhcpd {
    /// Whether dhcpd's PARTNER-DOWN gives `l`'s address to `hw` at `now`
    /// while the partner may still have a client on it, and by which rule.
    /// The partner may have granted up to MCLT past the potential expiry
    /// dhcpd acknowledged (`atsfp`), or past the moment dhcpd went into
    /// PARTNER-DOWN (the partner fell silent before); dhcpd waits less:
    /// - an ended binding's address goes once `tsfp` passes
    ///   (`lease_mine_to_reallocate`), which is MCLT past `stos` (set on
    ///   entering PARTNER-DOWN for the bindings ended before, failover.c
    ///   1973-1986, and on ending for the others, mdb.c 1647-1662), not
    ///   past the potential expiry acknowledged;
    /// - the partner's free address goes MCLT past `stos`;
    /// - and `stos` predates dhcpd's own downtime when the move leaves
    ///   STARTUP (failover.c 1824-1828: the saved state's `stos` is kept),
    ///   as when the operator declares it right after a restart.
    pub(super) fn partner_down_hazard(
        &self,
        now: u32,
        l: &IscLease,
        hw: &[u8],
    ) -> Option<&'static str> {
        if self.state() != IscState::PartnerDown || l.chaddr == hw {
            return None;
        }
        let entered = self.partner_down_entered.unwrap_or(self.file.stos);
        let waited = |from: u32| now >= from.max(entered).saturating_add(self.file.mclt);
        let partners_free = if self.cfg.primary { BACKUP } else { FREE };
        match l.status {
            EXPIRED | RELEASED if !waited(l.atsfp) => Some(
                "dhcpd's PARTNER-DOWN reuses an ended binding's address before MCLT past the potential expiry it acknowledged or its entry",
            ),
            s if s == partners_free && !waited(l.tsfp) => Some(
                "dhcpd's PARTNER-DOWN out of STARTUP gives the partner's free address MCLT after the stos it saved, not MCLT after its entry",
            ),
            _ => None,
        }
    }

    /// dhcpd is about to replace its own binding `ours`, which the partner
    /// has not acknowledged (`tstp > atsfp`) and which runs on, with the
    /// partner's end of it (the 65-s slack, or a crossing it yields) or an
    /// older binding (its dueling check looks at the ack queue only): the
    /// address is dhcpd's own hazard until `ours` ends. One the partner
    /// acknowledged and still overwrites is tandem's fault, not marked; so
    /// is an end over a renewal dhcpd made before this connection and had
    /// to send on it: tandem learns what dhcpd has not acknowledged before
    /// it sends its own changes (`IscSession::request_for_peer`), so only
    /// one that crossed dhcpd's renewal on the wire is dhcpd's to bear, or
    /// one over a renewal dhcpd sent on an earlier connection that broke
    /// before its ack (`lost_with_earlier`): dhcpd keeps it on its ack queue,
    /// rescinded only when it leaves NORMAL, POTENTIAL-CONFLICT or
    /// PARTNER-DOWN (not on a disconnect in COMMUNICATIONS-INTERRUPTED),
    /// and its answer to an update request skips a lease on a queue
    /// (failover.c 1536-1567, 1800-1812, 5725-5731): tandem cannot learn
    /// it (sweep seed 1003521); a partner's update of the lease that it
    /// does not find less critical takes it off the ack queue, and a
    /// refusal then queues nothing (failover.c
    /// 5222-5232), so it stays untold (sweep seed 1025300); or one over a renewal still on its update
    /// queue (`unsent`) after its UPDDONE: dhcpd sends that UPDDONE on the
    /// ack of the last lease queued, and an ack of an earlier version of
    /// that lease, sent before it was queued again, counts (failover.c
    /// 5563-5566, 5651-5656), so the UPDDONE may go before what it
    /// promised (sweep seed 1015073). A partner's binding of the same
    /// client that ends sooner is the same hazard whatever its `cltt`: the
    /// client may have taken dhcpd's ACK last (the partner's answered an
    /// earlier request of its; sweep seed 1091411).
    pub(super) fn note_overwrite(
        &mut self,
        ours: &IscLease,
        status: u8,
        (cltt, ends, now): (u32, u32, u32),
        (lost_with_earlier, unsent, same_client): (bool, bool, bool),
    ) {
        if !ours.bound() || ours.ends <= now || ours.tstp <= ours.atsfp || !ours.granted_here {
            return;
        }
        let ended = matches!(status, EXPIRED | RELEASED | RESET | ABANDONED);
        let told_here = self.conn.as_ref().is_some_and(|c| ours.cltt < c.opened);
        if told_here && !lost_with_earlier && !unsent {
            return;
        }
        let why = if ended && told_here && unsent {
            "dhcpd's UPDDONE went before the renewal it had queued (an ack of an earlier version of the lease it waited for), and it took the partner's end over that renewal"
        } else if ended {
            "dhcpd takes the partner's end of a binding it renewed and has not yet told (its 65-s slack, or a crossing it yields)"
        } else if status == ACTIVE && ends < ours.ends && (cltt < ours.cltt || same_client) {
            "dhcpd takes the partner's older binding, or its shorter one of the same client, over its own newer one not yet told (its dueling check looks at the ack queue only)"
        } else {
            return;
        };
        self.hazards.insert(ours.addr, (ours.ends, why));
        self.dropped
            .push((ours.addr, ours.chaddr.clone(), ours.ends, why));
    }

    /// The world found that tandem had the binding dhcpd dropped at
    /// `addr` (`World::note_dropped`): dhcpd's next grant of the address
    /// is no hazard of its own.
    pub fn forget_hazard(&mut self, addr: Ipv4Addr) {
        self.hazards.remove(&addr);
    }
}
