//! Counters of what the server did, logged at shutdown and exported later as metrics.

use crate::dhcp::Verdict;

/// Counters since start, all monotonic; logged at shutdown, most of them also
/// shown by `tandem status`.
#[derive(Default, Debug, Clone)]
pub struct Stats {
    /// Parsed requests handed to the node.
    pub received: u64,
    /// Datagrams dropped by `Request::parse` (counted by the edge).
    pub malformed: u64,
    /// Datagrams larger than the receive buffer, dropped (counted by the edge).
    pub oversized: u64,
    /// Requests dropped by the per-client or global rate limit.
    pub rate_limited: u64,
    /// Requests dropped for overload: too many replies waiting for their commit
    /// (`MAX_PARKED`), or (added by the edge) a full receive queue.
    pub overloaded: u64,
    /// DHCPOFFERs decided.
    pub offers: u64,
    /// DHCPACKs decided (grants and renewals; INFORM answers are `informs`).
    pub acks: u64,
    /// DHCPNAKs decided.
    pub naks: u64,
    /// DHCPINFORMs answered.
    pub informs: u64,
    /// DHCPRELEASEs applied.
    pub releases: u64,
    /// DHCPDECLINEs applied (address quarantined).
    pub declines: u64,
    /// Requests the engine chose not to answer.
    pub ignored: u64,
    /// Replies the socket refused to send (counted by the edge).
    pub send_errors: u64,
    /// Journal transactions committed.
    pub commits: u64,
    /// Lease records written by those transactions.
    pub committed_leases: u64,
    /// Journal transactions that failed; their replies were withheld.
    pub commit_failures: u64,
}

impl Stats {
    /// Counts one engine decision under its verdict.
    pub fn count(&mut self, v: &Verdict) {
        match v {
            Verdict::Offer(_) => self.offers += 1,
            Verdict::Ack(_) => self.acks += 1,
            Verdict::Nak(_) => self.naks += 1,
            Verdict::Informed => self.informs += 1,
            Verdict::Released(_) => self.releases += 1,
            Verdict::Declined(_) => self.declines += 1,
            Verdict::Ignored(_) => self.ignored += 1,
        }
    }
}
