//! Starting a node from what its journal held: the lease store, the saved
//! failover state and sequence marks, and the lost-database rule
//! (`lease::relearn`).

use super::{Commits, Node, RateLimiter, Stats};
use crate::config::Config;
use crate::config::runtime::{self, RuntimeReservations};
use crate::dhcp::Engine;
use crate::failover::{Peer, PeerConfig, Persisted};
use crate::lease::journal::{EPOCH_KEY, Snapshot};
use crate::lease::{LeaseStore, relearn};
use crate::time::Time;
use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::sync::Arc;

impl Node {
    /// A node for `config` at local time `now` (seconds), holding what the
    /// journal held (`snap`). `server_ids` are this host's addresses (a
    /// request naming another server's identifier is not for us). A journal
    /// that was `created` is a lost database: its identity and the end of
    /// the re-learning wait go out in the first batch.
    pub fn start(
        config: Arc<Config>,
        snap: Snapshot,
        server_ids: Vec<Ipv4Addr>,
        now: Time,
    ) -> Node {
        let file_config = config;
        let runtime = runtime_of(&snap);
        let (config, shadowed) = file_config.with_runtime(&runtime);
        let config = Arc::new(config);
        for s in &shadowed {
            tracing::warn!(client = %s.entry.client, address = ?s.entry.address, why = %s.why, "runtime reservation not applied");
        }
        let mut store = LeaseStore::new(&config, config.split());
        for l in &snap.leases {
            store.put(l.clone());
        }
        tracing::info!(leases = snap.leases.len(), "lease database loaded");
        let peer = peer_of(&config, &snap, &mut store, now).map(|mut p| {
            p.set_reservations(
                now,
                runtime.frames(super::reservations::FRAME_OCTETS),
                false,
            );
            p
        });
        let mut node = Node {
            engine: Engine::new(config.clone(), server_ids),
            limiter: RateLimiter::new(
                config.server.client_rate_limit,
                config.server.global_rate_limit,
            ),
            config,
            file_config,
            runtime,
            shadowed,
            store,
            peer,
            commits: Commits::new(snap.seq_high()),
            out: VecDeque::new(),
            stats: Stats::default(),
            started: now,
            next_tick: now,
            grants: None,
            halted: None,
            pings: Default::default(),
            dns: Default::default(),
        };
        node.start_relearning(&snap, now);
        node
    }

    /// A database this open created was lost, since `tandem init` creates
    /// it for a new installation; one whose wait is still running resumes it.
    fn start_relearning(&mut self, snap: &Snapshot, now: Time) {
        let until = if snap.created {
            let until = now.plus(relearn::wait(&self.config));
            tracing::warn!(
                db = %self.config.server.lease_db.display(),
                %until,
                "the lease database did not exist: treating it as lost, not as a new installation \
                 (a new installation runs `tandem init` first). Clients' leases are re-learned as they \
                 renew; no new address is given until {until} (the longest lease time{}), unless \
                 `tandem end-relearn` ends the wait",
                if self.peer.is_some() { " plus MCLT, or MCLT after the partner has sent its bindings" } else { "" }
            );
            let epoch = snap.meta.get(EPOCH_KEY).cloned().unwrap_or_default();
            let meta = vec![(EPOCH_KEY.into(), epoch), relearn::to_meta(Some(until))];
            self.commits.submit(&mut self.out, Vec::new(), meta);
            Some(until)
        } else {
            let t = relearn::from_meta(&snap.meta).filter(|t| *t > now);
            if let Some(t) = t {
                tracing::warn!(until = %t, "still re-learning leases after a lost database: no new address until then");
            }
            t
        };
        self.store.set_relearn_until(until);
    }
}

/// The runtime reservations the journal keeps (`config::runtime`). An
/// unreadable value is logged and none are applied; a partner sends its
/// copy back when the pair connects.
fn runtime_of(snap: &Snapshot) -> RuntimeReservations {
    let Some(v) = snap.meta.get(runtime::META_KEY) else {
        return RuntimeReservations::default();
    };
    RuntimeReservations::from_json(v).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the runtime reservations kept in the lease database are unreadable; starting without them");
        RuntimeReservations::default()
    })
}

/// The failover peer of `config`, if it has a partner, resuming what the
/// journal (`snap`) saved; `store` learns which changes the partner holds.
fn peer_of(config: &Config, snap: &Snapshot, store: &mut LeaseStore, now: Time) -> Option<Peer> {
    let cfg = PeerConfig::from_config(config)?;
    let persisted = Persisted::from_meta(&snap.meta);
    store.replicate(snap.seq_high() + 1, persisted.acked_seq);
    if cfg.isc_partner {
        store.return_freed_to_primary();
    }
    tracing::info!(primary = cfg.primary, saved_state = ?persisted.state, epoch = snap.epoch(), "failover configured");
    let mut peer = Peer::new(cfg, persisted, snap.epoch(), now);
    if snap.created {
        peer.set_lost_database();
    }
    Some(peer)
}
