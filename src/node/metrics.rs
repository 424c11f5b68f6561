//! What the node knows at one moment, as plain figures for the metrics
//! exporter (`server::metrics`, DESIGN.md section 4): the counters, leases
//! by state and owner per pool, free addresses by owner per pool, and the
//! failover gauges. Reading it changes nothing.

use super::{Node, Stats};
use crate::config::PoolId;
use crate::failover::PeerGauges;
use crate::lease::{LeaseState, Owner};
use crate::time::Time;
use std::collections::BTreeMap;

/// One pool's figures.
#[derive(Clone, Debug)]
pub struct PoolFigures {
    /// The pool's addresses, `first-last`, as configured.
    pub range: String,
    /// The subnet the pool lies in, as a CIDR.
    pub subnet: String,
    /// Addresses free to allocate, by owner (`[primary, secondary]`; a
    /// server without a partner owns them all as primary).
    pub free: [usize; 2],
    /// Lease records in the pool by state and owner.
    pub leases: BTreeMap<(LeaseState, Owner), usize>,
}

/// The node's figures at one moment; see the module docs.
#[derive(Clone, Debug)]
pub struct Figures {
    /// The counters since start.
    pub stats: Stats,
    /// Per pool, in configuration order.
    pub pools: Vec<PoolFigures>,
    /// Lease records outside every pool (reservations), by state.
    pub outside_pools: BTreeMap<LeaseState, usize>,
    /// The failover gauges; `None` without a partner.
    pub peer: Option<PeerGauges>,
    /// Replies waiting for their journal commit.
    pub parked_replies: usize,
    /// Journal batches handed out and not yet reported durable.
    pub uncommitted_batches: u64,
}

impl Node {
    /// The figures at local time `now` (seconds). Costs one pass over the
    /// lease store (a scrape every few seconds, not per packet).
    pub fn figures(&self, now: Time) -> Figures {
        let mut pools: Vec<PoolFigures> = self
            .config
            .pools
            .iter()
            .map(|p| PoolFigures {
                range: format!("{}-{}", p.range.first, p.range.last),
                subnet: self.config.subnets[p.subnet.0 as usize].cidr.to_string(),
                free: [Owner::Primary, Owner::Secondary].map(|o| self.store.free_count(p.id, o)),
                leases: BTreeMap::new(),
            })
            .collect();
        let mut outside_pools = BTreeMap::new();
        for l in self.store.iter() {
            match self.store.pool_of(l.addr) {
                Some(PoolId(i)) => {
                    *pools[i as usize]
                        .leases
                        .entry((l.state, l.owner))
                        .or_default() += 1;
                }
                None => *outside_pools.entry(l.state).or_default() += 1,
            }
        }
        Figures {
            stats: self.stats.clone(),
            pools,
            outside_pools,
            peer: self.peer.as_ref().map(|p| p.gauges(now, &self.store)),
            parked_replies: self.commits.parked(),
            uncommitted_batches: self.commits.pending(),
        }
    }
}
