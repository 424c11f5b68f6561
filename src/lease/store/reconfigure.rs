//! Taking a reloaded configuration (`config::reload`): new pool extents and
//! reservations, every record kept.

use super::{LeaseStore, reserved_of, spans_of};
use crate::config::Config;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

impl LeaseStore {
    /// Re-derives the pools, the reserved addresses and the free-address and
    /// limbo indexes from `config`, keeping every record, offer, timer and
    /// sequence number. A newly reserved address leaves the free lists; a
    /// pool address no longer reserved, or in an added pool, joins them
    /// (owned as the split says while it has no record). One pass over the
    /// pools' addresses and the records.
    pub fn reconfigure(&mut self, config: &Config) {
        self.spans = spans_of(config);
        self.reserved = reserved_of(config);
        self.free = (0..config.pools.len())
            .map(|_| [BTreeSet::new(), BTreeSet::new()])
            .collect();
        for span in self.spans.clone() {
            for a in span.first..=span.last {
                self.index_free(Ipv4Addr::from(a));
            }
        }
        let limbo: BTreeSet<_> = self
            .leases
            .values()
            .filter(|l| self.in_limbo(l))
            .map(|l| (l.last_used(), l.addr))
            .collect();
        self.limbo = limbo;
    }
}
