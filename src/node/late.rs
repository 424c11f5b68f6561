//! Answers that would come too late: a request that waited in the socket
//! (a stalled or overloaded server) and a DHCPACK whose commit took long.
//! Either, taken or sent that late, could contradict what the client or
//! the partner did since; the client retransmits instead.

use super::{Node, Received};
use crate::dhcp::Verdict;
use crate::time::Time;

/// Seconds a request may wait in the socket before it is not answered: its
/// client retransmits after about 4 s (RFC 2131 section 4.1) or has moved
/// on, and a RELEASE or DECLINE taken that late, stamped with the time it
/// is taken, could undo what the client did since (a lease it got from the
/// partner meanwhile: simulator seed 88 of the evidence family, a server
/// resumed after SIGSTOP).
pub const STALE_AFTER: u64 = 2;

/// Why a request that waited too long is dropped (`ignored_by_reason`).
pub(super) const STALE: &str = "waited too long in the socket";

/// Seconds after its decision beyond which a DHCPACK that waited for its
/// commit is not sent: half the grace an ended binding waits before reuse
/// (`REUSE_GRACE`). A client counts its lease from its latest
/// retransmission, so a later ACK would have it hold the address past our
/// record (simulator seed 1158 of the evidence family, a server resumed
/// after SIGSTOP with a commit under way).
pub const LATE_REPLY: u64 = crate::dhcp::REUSE_GRACE / 2;

/// Why such a DHCPACK is dropped (`ignored_by_reason`).
pub(super) const LATE: &str = "reply later than its lease allows";

impl Node {
    /// Whether `r` waited in the socket longer than [`STALE_AFTER`] by
    /// `now` (counted as ignored when it did).
    pub(super) fn stale(&mut self, now: Time, r: &Received) -> bool {
        let stale = r.arrived.is_some_and(|t| t.until(now) > STALE_AFTER);
        if stale {
            self.stats.count(&Verdict::Ignored(STALE));
        }
        stale
    }

    /// Whether `replies` DHCPACKs decided at `decided` come too late at
    /// `now` ([`LATE_REPLY`]): counted as ignored and logged at warn, since
    /// it means commits as slow as a stall.
    pub(super) fn too_late(&mut self, now: Time, decided: Time, replies: usize) -> bool {
        let waited = decided.until(now);
        if waited <= LATE_REPLY || replies == 0 {
            return false;
        }
        tracing::warn!(
            waited,
            replies,
            "DHCPACKs dropped: their lease commit took longer than the client allows (a stalled process or a slow disk)"
        );
        for _ in 0..replies {
            self.stats.count(&Verdict::Ignored(LATE));
        }
        true
    }
}
