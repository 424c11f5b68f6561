//! Numbering local changes for the partner: each change gets the next
//! sequence number; the store knows which are on disk (only those may be
//! sent) and which the partner has acknowledged (only those let an ended
//! lease be reused, draft-ietf-dhc-failover-12 section 5.2.4).

use super::*;

impl LeaseStore {
    /// Turns on change numbering for a partner: the next local change gets
    /// `next_seq`, and every change up to `acked_seq` is known to the partner.
    pub fn replicate(&mut self, next_seq: u64, acked_seq: u64) {
        let addrs: Vec<Ipv4Addr> = self.leases.keys().copied().collect();
        for a in &addrs {
            self.unindex(*a);
        }
        self.replicating = true;
        self.next_seq = next_seq.max(1);
        self.durable_seq = self.next_seq - 1;
        self.acked_seq = acked_seq;
        for a in addrs {
            self.index(a);
        }
    }

    /// Beside an ISC dhcpd partner: from now on an address whose binding
    /// ends by a local change (expiry, release, decline) goes to the
    /// primary. dhcpd turns EXPIRED, RELEASED and ABANDONED into FREE, the
    /// primary's, when it takes or has acknowledged them
    /// (`server/failover.c` 5442-5458, 5590-5627); a secondary that kept
    /// such an address as its own would give it to a client while the
    /// primary gives it to another (the simulator's isc family, seed 22).
    /// Records already in the table that ended as the secondary's (a
    /// database kept from before this setting) go to the primary now, in
    /// memory: dhcpd holds them FREE.
    pub fn return_freed_to_primary(&mut self) {
        self.freed_to_primary = true;
        let kept: Vec<Ipv4Addr> = self
            .leases
            .values()
            .filter(|l| ended(l.state) && l.owner != Owner::Primary)
            .map(|l| l.addr)
            .collect();
        for a in kept {
            self.unindex(a);
            if let Some(l) = self.leases.get_mut(&a) {
                l.owner = Owner::Primary;
            }
            self.index(a);
        }
    }

    /// The sequence number the next local change will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Whether every local change made so far is on disk: an answer to the
    /// partner's update request holds only durable versions, so one given
    /// while a change is still being committed would leave that record out.
    pub fn all_durable(&self) -> bool {
        self.durable_seq + 1 >= self.next_seq
    }

    /// Highest local sequence number the partner has acknowledged (0 without a partner).
    pub fn acked_seq(&self) -> u64 {
        self.acked_seq
    }

    /// Local changes the partner has not acknowledged.
    pub fn unacked(&self) -> usize {
        self.pending.len()
    }

    /// Local changes up to `seq` are on disk.
    pub fn mark_durable(&mut self, seq: u64) {
        self.durable_seq = self.durable_seq.max(seq);
    }

    /// Whether the record's current version is on disk (only those may be
    /// sent to the partner: it treats what it receives as committed).
    pub fn is_durable(&self, l: &Lease) -> bool {
        l.update_seq <= self.durable_seq
    }

    /// Durable records of local changes numbered above `since`, oldest first.
    /// Newer, still uncommitted changes follow once their commit completes.
    pub fn changes_since(&self, since: u64) -> Vec<Lease> {
        let mut v: Vec<Lease> = self
            .leases
            .values()
            .filter(|l| l.update_seq > since && l.update_seq <= self.durable_seq)
            .cloned()
            .collect();
        v.sort_by_key(|l| l.update_seq);
        v
    }

    /// The partner has committed every local change up to `seq`.
    pub fn ack_upto(&mut self, seq: u64) {
        if seq <= self.acked_seq {
            return;
        }
        let seq = seq.min(self.next_seq.saturating_sub(1));
        let addrs: Vec<Ipv4Addr> = self.pending.range(..=seq).map(|(_, a)| *a).collect();
        for a in &addrs {
            self.unindex(*a);
        }
        self.acked_seq = seq;
        for a in addrs {
            self.index(a);
        }
    }

    /// Whether the partner knows this record's current version.
    pub fn is_synced(&self, l: &Lease) -> bool {
        !self.replicating || l.update_seq == 0 || l.update_seq <= self.acked_seq
    }
}
