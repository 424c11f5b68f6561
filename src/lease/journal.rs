//! The journal's contract, free of I/O: what a node writes ([`Batch`]) and
//! what it finds at start ([`Snapshot`]). `lease::sqlite` keeps it on disk
//! for the server; the simulator keeps it in memory, with the same rules.

use super::model::Lease;
use std::collections::HashMap;

/// Meta-table key of the highest local update sequence number ever written
/// (a record's own number is lost when the partner's version replaces it).
pub const SEQ_HIGH_KEY: &str = "seq_high";
/// Meta-table key of the database's identity, written once at creation.
pub const EPOCH_KEY: &str = "epoch";

/// One numbered batch of changes. A journal makes batches durable in
/// number order and reports the highest one done; a batch is written whole
/// or not at all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// 1, 2, 3, ... as the node hands them out.
    pub id: u64,
    /// Records to store, replacing those at the same addresses.
    pub leases: Vec<Lease>,
    /// Key/value rows to store in the same transaction (failover state,
    /// sequence marks, the re-learning wait).
    pub meta: Vec<(String, String)>,
}

/// What a journal held when the server started.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Every lease record stored, one per address.
    pub leases: Vec<Lease>,
    /// The meta table: failover state, sequence marks, the database identity.
    pub meta: HashMap<String, String>,
    /// True when there was no database (no file, or one without tandem's
    /// identity in it): there is no history. After `tandem init` that means
    /// the database was lost (see `lease::relearn`).
    pub created: bool,
}

impl Snapshot {
    /// This database's identity; a new one means a wiped disk to the partner.
    pub fn epoch(&self) -> u64 {
        self.meta_u64(EPOCH_KEY)
    }

    /// A numeric meta value, 0 when absent or not a number.
    pub fn meta_u64(&self, key: &str) -> u64 {
        self.meta.get(key).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// The highest local sequence number ever used: numbering resumes above
    /// it, so the partner never mistakes a new change for one it has.
    pub fn seq_high(&self) -> u64 {
        let from_rows = self.leases.iter().map(|l| l.update_seq).max().unwrap_or(0);
        self.meta_u64(SEQ_HIGH_KEY).max(from_rows)
    }
}
