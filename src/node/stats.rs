//! Counters of what the server did, logged at shutdown and exported later as metrics.

use crate::dhcp::Verdict;

#[derive(Default, Debug, Clone)]
pub struct Stats {
    pub received: u64,
    pub malformed: u64,
    pub oversized: u64,
    pub rate_limited: u64,
    pub overloaded: u64,
    pub offers: u64,
    pub acks: u64,
    pub naks: u64,
    pub informs: u64,
    pub releases: u64,
    pub declines: u64,
    pub ignored: u64,
    pub send_errors: u64,
    pub commits: u64,
    pub committed_leases: u64,
    pub commit_failures: u64,
}

impl Stats {
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
